//! A mock Meta WhatsApp Cloud API (placeholder: being written).
