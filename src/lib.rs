//! The integration connector's composition root: CLI, config, wiring, lifecycle.
//! The work itself is in the `connector-actors` crate.

pub mod app;
pub mod audit_cmd;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod config_cmd;
pub mod exit;
pub mod keytab_refusals;
pub mod lifecycle;
pub mod logging;
pub mod logs_cmd;
pub mod notify;
pub mod platform;
pub mod queue_cmd;
pub mod reload;
pub mod reload_cmd;
pub mod service;
pub mod ui;
