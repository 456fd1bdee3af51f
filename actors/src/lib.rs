//! The integration connector's working parts: the durable job queue, the server link,
//! the dispatcher that runs jobs, and the typed errors they exchange.
//!
//! This crate knows nothing of files other than its storage path, environment
//! variables, signals, the CLI or HTTP serving: `src/` of the root package wires it.
//! Handlers never panic on input: `unwrap`/`expect`/`panic!` are denied outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod ad;
pub mod audit;
pub mod directory;
pub mod dispatcher;
pub mod errors;
pub mod link;
pub mod logship;
pub mod metrics;
pub mod platform;
pub mod protocol;
pub mod queue;
pub mod secret;
pub mod status;
pub mod system;
pub mod time;
