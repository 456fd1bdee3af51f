//! The command line, parsed with clap and validated once into [`Settings`]; every
//! problem is reported, not just the first.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// A ServiceOps portal simulator: the server side of PROTOCOL.md, for tests and benches.
#[derive(Debug, Parser)]
#[command(name = "portal-sim", version, about)]
pub struct Cli {
    /// Address to listen on; port 0 picks a free one. Loopback only unless allowed.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The accepted `Authorization: Basic <token>` token.
    #[arg(long)]
    token: String,
    /// Where `url`, `ca.pem`, log uploads and log streams are written.
    #[arg(long)]
    data_dir: PathBuf,
    /// Serve HTTPS with a freshly generated CA (written to `<data dir>/ca.pem`).
    #[arg(long)]
    tls: bool,
    /// Lease of a job whose spec names none.
    #[arg(long, default_value_t = 60)]
    lease_s: u64,
    #[arg(long, default_value_t = 30)]
    heartbeat_interval_s: u64,
    #[arg(long, default_value_t = 25)]
    poll_timeout_s: u64,
    /// Largest JSON body of the connector API (413 past it).
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Largest log upload (413 past it).
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    max_upload_bytes: usize,
    /// Allow a listen address outside loopback.
    #[arg(long)]
    allow_non_loopback: bool,
    /// HTTP worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Seconds added to the clock this simulator tells connectors (`server_time`, the
    /// `created_at` of jobs whose spec has none); `-30` is a server 30 s behind the
    /// connector, as if the connector's clock ran 30 s fast.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    clock_skew_s: i64,
}

/// Largest `--clock-skew-s` (a day): more is not a skewed clock but a broken one.
const MAX_SKEW_S: u64 = 86_400;

/// Whether the server speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Http,
    Https,
}

/// The validated settings the server starts with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub token: String,
    pub data_dir: PathBuf,
    pub transport: Transport,
    pub lease_s: u64,
    pub heartbeat_interval_s: u64,
    pub poll_timeout_s: u64,
    pub max_body_bytes: usize,
    pub max_upload_bytes: usize,
    pub workers: usize,
    pub clock_skew_s: i64,
}

impl Cli {
    /// Check everything; on failure return every problem found.
    pub fn validate(self) -> Result<Settings, Vec<String>> {
        let mut errors = Vec::new();
        if !self.listen.ip().is_loopback() && !self.allow_non_loopback {
            errors.push(format!(
                "--listen {}: not a loopback address (pass --allow-non-loopback to allow it)",
                self.listen
            ));
        }
        if self.token.trim().is_empty() {
            errors.push("--token: must not be empty".to_owned());
        }
        for (name, value) in [
            ("--lease-s", self.lease_s),
            ("--heartbeat-interval-s", self.heartbeat_interval_s),
            ("--workers", self.workers as u64),
        ] {
            if value == 0 {
                errors.push(format!("{name}: must be at least 1"));
            }
        }
        if self.max_body_bytes == 0 || self.max_upload_bytes == 0 {
            errors.push("--max-body-bytes / --max-upload-bytes: must be at least 1".to_owned());
        }
        if self.clock_skew_s.unsigned_abs() > MAX_SKEW_S {
            errors.push(format!("--clock-skew-s {}: at most {MAX_SKEW_S} either way", self.clock_skew_s));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Settings {
            listen: self.listen,
            token: self.token,
            data_dir: self.data_dir,
            transport: if self.tls { Transport::Https } else { Transport::Http },
            lease_s: self.lease_s,
            heartbeat_interval_s: self.heartbeat_interval_s,
            poll_timeout_s: self.poll_timeout_s,
            max_body_bytes: self.max_body_bytes,
            max_upload_bytes: self.max_upload_bytes,
            workers: self.workers,
            clock_skew_s: self.clock_skew_s,
        })
    }
}
