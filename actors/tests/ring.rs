//! The middle ring: the actors tested through their messages, between the unit tests of
//! each module and the whole-process tests of the root package. Our own actors that a
//! test leaves out are stood in for by probes (`ring/probe.rs`); the portal is always
//! the real simulator over HTTP on 127.0.0.1 (`ring/sim.rs`), never a mock. Tests
//! without HTTP run on tokio's paused clock.
//!
//! Needs the simulator binary: `cargo build --workspace --features test-jobs`.

#[path = "ring/dispatcher.rs"]
#[cfg(feature = "test-jobs")]
mod dispatcher;
#[path = "ring/link.rs"]
mod link;
#[path = "ring/parts.rs"]
mod parts;
#[path = "ring/poller.rs"]
mod poller;
#[path = "ring/probe.rs"]
mod probe;
#[path = "ring/sim.rs"]
mod sim;
