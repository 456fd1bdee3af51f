//! `integration-connector logs bundle`: the same ZIP an `upload_logs` command sends
//! (log files overlapping the range, plus `manifest.json`), written to a file offline.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use connector_actors::logship::bundle::{self, BundleInfo};
use connector_actors::queue::DurableQueue;
use connector_actors::time::parse_rfc3339;

use crate::cli::LogsAction;
use crate::config::Settings;
use crate::exit;

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
    let made = bundle::list(&settings.logging.dir).and_then(|files| {
        let (keep, left) = bundle::select(files, range.0, range.1);
        bundle::build(&info, &keep, &left).map(|zip| (zip, keep.len()))
    });
    let (zip, files) = match made {
        Ok(v) => v,
        Err(e) => {
            eprintln!("cannot make the log bundle: {e}");
            return exit::FAILURE;
        }
    };
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&output)
        .and_then(|mut f| f.write_all(&zip));
    match written {
        Ok(()) => {
            println!(
                "{}: {files} log file(s) from {}, {} bytes",
                output.display(),
                settings.logging.dir.display(),
                zip.len()
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("cannot write {}: {e}", output.display());
            exit::FAILURE
        }
    }
}
