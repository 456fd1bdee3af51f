//! What a new configuration changes, against the one running: the parts a reload applies
//! in place, and the keys that only a restart takes.

use crate::config::{DirectorySettings, Settings};

/// The directories' changes, by name.
#[derive(Debug, Default, PartialEq)]
pub struct DirectoryChanges {
    /// New, or with any setting changed (URLs, bind, base, TLS, pool, policy, …): a fresh
    /// directory actor (pool) takes the new jobs.
    pub replaced: Vec<DirectorySettings>,
    /// Gone from the file: queued jobs naming them fail `unknown_directory`.
    pub removed: Vec<String>,
}

/// Compares the directories of `old` and `new`.
pub fn directories(old: &Settings, new: &Settings) -> DirectoryChanges {
    let mut out = DirectoryChanges::default();
    for d in &new.directories {
        if old.directories.iter().find(|o| o.name == d.name) != Some(d) {
            out.replaced.push(d.clone());
        }
    }
    for o in &old.directories {
        if !new.directories.iter().any(|d| d.name == o.name) {
            out.removed.push(o.name.clone());
        }
    }
    out
}

/// The config keys that differ but take effect only at the next start (the running
/// values stay): the storage path (the queue holds it open), the portal link (its
/// session, token and client are built once), the UI's address, the job slots, the log
/// files' place and shape.
pub fn restart_only(old: &Settings, new: &Settings) -> Vec<&'static str> {
    let (o, n) = (&old.link, &new.link);
    let checks: [(&'static str, bool); 15] = [
        ("storage.path", old.queue.path != new.queue.path),
        ("server (protocol, host, port)", o.base_url != n.base_url),
        ("server.token", o.token != n.token),
        ("server.ca_file", o.extra_ca_pem != n.extra_ca_pem),
        ("server.proxy", o.proxy != n.proxy),
        (
            "server.connect_timeout, server.request_timeout",
            (o.connect_timeout, o.request_timeout) != (n.connect_timeout, n.request_timeout),
        ),
        ("connector.name", o.name != n.name),
        ("connector.max_concurrency", old.dispatcher.max_concurrency != new.dispatcher.max_concurrency),
        ("connector.drain_grace", old.drain_grace != new.drain_grace),
        ("connector.retention", old.queue.retention != new.queue.retention),
        ("connector.max_attempts", old.queue.max_attempts != new.queue.max_attempts),
        ("connector.shed_logins_after", old.queue.shed_logins_after != new.queue.shed_logins_after),
        ("ui.listen", old.ui_listen != new.ui_listen),
        ("logging.dir", old.logging.dir != new.logging.dir),
        (
            "logging (max_file_size_mb, upload_max_size_mb, retention, json)",
            (old.logging.max_file_bytes, old.logging.upload_max_bytes, old.logging.retention, old.logging.format)
                != (
                    new.logging.max_file_bytes,
                    new.logging.upload_max_bytes,
                    new.logging.retention,
                    new.logging.format,
                ),
        ),
    ];
    checks.into_iter().filter(|(_, changed)| *changed).map(|(key, _)| key).collect()
}
