//! `integration-connector logs bundle`: the same ZIP an `upload_logs` command sends
//! (log files overlapping the range, plus `manifest.json`), written to a file offline.

use clap::Subcommand;
use connector_actors::platform::OpenOptionsExt;

use connector_actors::logship::bundle::{self, BundleInfo};
use connector_actors::queue::DurableQueue;
use connector_actors::time::parse_rfc3339;

use crate::config::Settings;
use crate::exit;

#[derive(Subcommand)]
pub enum LogsAction {
    /// Write the log bundle (ZIP with manifest.json) to a file; works while the service runs.
    Bundle {
        /// The ZIP file to write.
        #[arg(long, short)]
        output: std::path::PathBuf,
        /// Only files overlapping this time and later (RFC 3339, e.g. 2026-11-27T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Only files overlapping this time and earlier (RFC 3339).
        #[arg(long)]
        until: Option<String>,
    },
}

pub fn run(settings: &Settings, action: LogsAction) -> u8 {
    let LogsAction::Bundle { output, since, until } = action;
    let mut range = (None, None);
    for (name, value, slot) in [("--since", &since, &mut range.0), ("--until", &until, &mut range.1)] {
        if let Some(v) = value {
            match parse_rfc3339(v) {
                Some(ms) => *slot = Some(ms),
                None => {
                    eprintln!("{name} {v}: expected an RFC 3339 time such as 2026-11-27T00:00:00Z");
                    return exit::USAGE;
                }
            }
        }
    }
    // The connector id, when the storage is free (a running service holds it: then none).
    let connector_id = DurableQueue::open(settings.queue.clone()).ok().and_then(|q| q.connector_id().ok().flatten());
    let audit_journal = Some(settings.queue.path.join(connector_actors::audit::FILE_NAME));
    let info = BundleInfo { connector_id, host: settings.link.hostname.clone(), since, until, audit_journal };
    let mut out = match std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&output) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot write {}: {e}", output.display());
            return exit::FAILURE;
        }
    };
    let journal_bytes = info.audit_journal.as_ref().and_then(|p| std::fs::metadata(p).ok()).map_or(0, |m| m.len());
    let made = bundle::list(&settings.logging.dir).and_then(|files| {
        let (keep, mut left) = bundle::select(files, range.0, range.1);
        let (keep, journal, cut) = bundle::fit(keep, journal_bytes, settings.logging.upload_max_bytes);
        left.extend(cut);
        bundle::build(&info, &keep, journal, &left, &mut out)
    });
    match made {
        Ok(built) => {
            println!(
                "{}: {} log file(s) from {}, {} bytes{}",
                output.display(),
                built.files,
                settings.logging.dir.display(),
                built.bytes,
                if built.left_out.is_empty() {
                    String::new()
                } else {
                    format!("; {} left out (see manifest.json)", built.left_out.len())
                }
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("cannot make the log bundle: {e}");
            exit::FAILURE
        }
    }
}
