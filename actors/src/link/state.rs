//! The link's published state: written only by the session actor, read by the poller,
//! the courier, the UI and heartbeats through a `watch` channel.

use tokio::sync::watch;

use super::clock::ClockReading;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Not registered yet.
    Connecting,
    /// Registered; heartbeats get through.
    Online,
    /// 401: the token is missing, wrong or revoked.
    Unauthorized,
    /// 403: archived or deleted in the portal.
    Disabled,
    /// The server cannot be reached (DNS, TCP, TLS, 5xx).
    Unreachable,
}

impl Connection {
    pub fn as_str(self) -> &'static str {
        match self {
            Connection::Connecting => "connecting",
            Connection::Online => "online",
            Connection::Unauthorized => "unauthorized",
            Connection::Disabled => "disabled",
            Connection::Unreachable => "unreachable",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LinkState {
    pub connection: Connection,
    pub connector_id: Option<String>,
    /// Plain words on why the link is not online.
    pub reason: Option<String>,
    pub last_heartbeat_ms: Option<u64>,
    pub heartbeat_interval_s: u64,
    pub poll_timeout_s: u64,
    /// Server clock minus local clock (ms), from the last answer that told
    /// (`link/clock.rs`); `None` until one did. Job times are moved by it on arrival.
    pub clock_offset_ms: Option<i64>,
    /// How far `clock_offset_ms` may be off, ms (half the round trip of its measurement
    /// plus the resolution of the server's timestamp; `link/clock.rs`); `None` with it.
    pub clock_uncertainty_ms: Option<u64>,
}

impl Default for LinkState {
    fn default() -> Self {
        LinkState {
            connection: Connection::Connecting,
            connector_id: None,
            reason: None,
            last_heartbeat_ms: None,
            heartbeat_interval_s: 30,
            poll_timeout_s: 25,
            clock_offset_ms: None,
            clock_uncertainty_ms: None,
        }
    }
}

impl LinkState {
    /// The last clock measurement, when there was one.
    pub fn clock(&self) -> Option<ClockReading> {
        let offset_ms = self.clock_offset_ms?;
        Some(ClockReading { offset_ms, uncertainty_ms: self.clock_uncertainty_ms.unwrap_or(u64::MAX) })
    }

    /// The connector id when jobs may flow (online, registered).
    pub fn ready_id(&self) -> Option<&str> {
        match self.connection {
            Connection::Online => self.connector_id.as_deref(),
            _ => None,
        }
    }
}

pub fn channel() -> (watch::Sender<LinkState>, watch::Receiver<LinkState>) {
    watch::channel(LinkState::default())
}
