//! Settings of the durable queue, validated by the config layer.

use std::path::PathBuf;
use std::time::Duration;

use super::scheduler::LaneCaps;

#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// Directory holding the sled database and the sealing key.
    pub path: PathBuf,
    /// How many jobs run at once, and how many of those each lane may take.
    pub caps: LaneCaps,
    /// Local executions of one job before it is declared dead (crashes included).
    pub max_attempts: u32,
    /// How long finished jobs stay visible before compaction removes them.
    pub retention: Duration,
    /// sled page cache; its default (1 GiB) is far more than a connector needs.
    pub cache_bytes: u64,
    /// A login that has waited longer than this when its turn to run comes is answered
    /// `timeout` instead (`shedding.rs`; `[connector] shed_logins_after`). `None`: never.
    pub shed_logins_after: Option<Duration>,
}

impl QueueSettings {
    pub fn new(path: PathBuf) -> Self {
        QueueSettings {
            path,
            caps: LaneCaps::for_concurrency(16),
            max_attempts: 5,
            retention: Duration::from_secs(7 * 24 * 3600),
            cache_bytes: 16 * 1024 * 1024,
            shed_logins_after: None,
        }
    }
}
