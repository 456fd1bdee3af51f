//! Feeds the history's sampled figures: every few seconds, the queue's depth per lane and
//! the directories' reachability and round trip, read from the published status board.

use std::time::Duration;

use connector_actors::metrics::{Metrics, Sample};
use connector_actors::status::StatusBoard;

/// Often enough that a minute's worst is seen; cheap (a few watch reads).
const EVERY: Duration = Duration::from_secs(5);

/// Starts the sampler on the current actix System; it ends with it.
pub fn start_sampler(board: StatusBoard, metrics: Metrics) {
    actix::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            metrics.sample(&sample(&board));
        }
    });
}

fn sample(board: &StatusBoard) -> Sample {
    let q = board.queue();
    let dirs = board.directories();
    Sample {
        queue: [0, 1, 2].map(|i| q.by_lane[i].waiting + q.by_lane[i].running),
        directories: dirs.len() as u64,
        directories_reachable: dirs.iter().filter(|d| d.reachable).count() as u64,
        directory_rtt_ms: dirs.iter().filter_map(|d| d.rtt_ms).reduce(f64::max),
    }
}
