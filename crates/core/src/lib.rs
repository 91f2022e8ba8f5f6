//! Pregon's domain model. No I/O: everything here is plain data and pure functions, so every other crate can
//! rely on it and every rule in it is unit-tested.

pub mod account;
pub mod address;
pub mod campaign;
pub mod error;
pub mod ids;
pub mod message;
pub mod rejection;
pub mod shorthand;
pub mod status;
pub mod template;
pub mod window;

pub use account::{AccountSettings, ProviderKind};
pub use error::ErrorCode;
pub use ids::{AccountId, AppId, CampaignId, MessageId, TemplateId};
pub use rejection::RejectionCode;
pub use status::{CampaignStatus, MessageStatus, TransitionError};
