//! Campaign files, from bytes on disk to validated rows.
//!
//! ```text
//! spooled file ─► sniff (magic bytes) ─► unwrap ZIP/GZ/TAR (limits on bytes actually read)
//!              ─► reader (CSV | XLS | XLSX | JSON) ─► Record stream (row number, columns, values)
//!              ─► row model (Chat-Tonic columns | Jelou param→column mapping) ─► CampaignRow
//!              ─► Validator (phone E.164, template, parameters, media, buttons, duplicates, opt-outs)
//!              ─► NewMessage | Rejection
//! ```
//!
//! Everything here is blocking I/O and CPU: callers run it on a blocking thread (`spawn_blocking`).

pub mod archive;
pub mod error;
pub mod limits;
pub mod model;
pub mod phone;
pub mod pipeline;
pub mod readers;
mod recipients;
pub mod record;
pub mod sniff;
pub mod source;
pub mod validate;
pub mod xlsx_writer;

pub use error::FileError;
pub use limits::Limits;
pub use record::{ReadItem, Record};
