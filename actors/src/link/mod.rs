//! The server link: everything that talks to the portal (PROTOCOL.md).
//!
//! Three actors share one immutable [`PortalClient`] and the session's published
//! [`LinkState`]: the [`Session`] (register, heartbeat, commands), the [`Poller`]
//! (long poll, store, ack) and the [`Courier`] (outbox to server).

mod client;
pub mod clock;
mod courier;
pub mod errors;
mod intake;
mod messages;
mod poller;
mod session;
mod settings;
mod state;

pub use client::{ClientBuildError, PortalClient, RequestBody};
pub use courier::Courier;
pub use errors::LinkError;
pub use intake::encode_segment;
pub use messages::*;
pub use poller::{Poller, PollerParts};
pub use session::{Session, SessionParts};
pub use settings::LinkSettings;
pub use state::{channel, Connection, LinkState};
