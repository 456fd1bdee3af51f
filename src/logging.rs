//! Logging to stderr (journald-friendly). `IC_LOG` (or `RUST_LOG`) sets the filter.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = std::env::var("IC_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "info".to_owned());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
