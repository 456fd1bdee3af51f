//! The integration connector's composition root: config, CLI, wiring and lifecycle.
//! The work itself is in the `connector-actors` crate.

pub mod config;
