//! Rolling log files under the storage path: a new file at start, when the current one
//! reaches `max_file_bytes`, and at midnight UTC; files older than `retention` are
//! deleted. Named after their start time (see `connector_actors::logship::bundle`), so
//! the log shipper can pick files by time range. Directory 0700, files 0600.

use connector_actors::platform::OpenOptionsExt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use connector_actors::logship::bundle;
use connector_actors::time::now_ms;

const DAY_MS: u64 = 86_400_000;

/// The format of the rolling log files (`logging.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Text lines, in `*.log` files (`logging.json = false`, the default).
    Text,
    /// JSON lines, in `*.jsonl` files (`logging.json = true`).
    Json,
}

impl From<bool> for LogFormat {
    /// The value of `logging.json`.
    fn from(json: bool) -> LogFormat {
        if json {
            LogFormat::Json
        } else {
            LogFormat::Text
        }
    }
}

/// How the files are written, from `[logging]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSettings {
    pub dir: PathBuf,
    pub max_file_bytes: u64,
    pub retention: Duration,
    pub format: LogFormat,
    /// The most uncompressed content one `upload_logs` bundle carries, bytes
    /// (`logging.upload_max_size_mb`, default 100 MiB).
    pub upload_max_bytes: u64,
    /// `logging.level`: the log filter (`info`, `debug`, `warn,connector_actors=debug`,
    /// tracing-subscriber's EnvFilter syntax); it takes the place of `IC_LOG`/`RUST_LOG`
    /// when set, and a reload (SIGHUP) changes it in place.
    pub level: Option<String>,
}

impl LogSettings {
    pub fn defaults(storage: &Path) -> LogSettings {
        LogSettings {
            dir: storage.join("logs"),
            max_file_bytes: 10 << 20,
            retention: Duration::from_secs(14 * 86_400),
            format: LogFormat::Text,
            upload_max_bytes: 100 << 20,
            level: None,
        }
    }

    pub fn extension(&self) -> &'static str {
        match self.format {
            LogFormat::Json => "jsonl",
            LogFormat::Text => "log",
        }
    }
}

pub struct RollingFile {
    settings: LogSettings,
    file: Option<File>,
    start_ms: u64,
    written: u64,
}

impl RollingFile {
    pub fn open(settings: LogSettings) -> std::io::Result<RollingFile> {
        std::fs::create_dir_all(&settings.dir)?;
        crate::platform::perms::protect(&settings.dir, crate::platform::perms::Kind::Folder)?;
        let mut r = RollingFile { settings, file: None, start_ms: 0, written: 0 };
        r.rotate()?;
        Ok(r)
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let now = now_ms();
        let base = bundle::file_name(now, self.settings.extension());
        let mut path = self.settings.dir.join(&base);
        let mut n = 1;
        while path.exists() {
            let stem = base.trim_end_matches(&format!(".{}", self.settings.extension()));
            path = self.settings.dir.join(format!("{stem}-{n}.{}", self.settings.extension()));
            n += 1;
        }
        let file = OpenOptions::new().create(true).append(true).mode(0o600).open(&path)?;
        self.file = Some(file);
        self.start_ms = now;
        self.written = 0;
        self.prune();
        Ok(())
    }

    /// Deletes our files last written before the retention period.
    fn prune(&self) {
        let Ok(files) = bundle::list(&self.settings.dir) else { return };
        let cutoff = now_ms().saturating_sub(self.settings.retention.as_millis() as u64);
        for f in files.iter().filter(|f| f.end_ms < cutoff) {
            let _ = std::fs::remove_file(&f.path);
        }
    }

    pub fn write_line(&mut self, line: &[u8]) {
        let now = now_ms();
        let full = self.written > 0 && self.written + line.len() as u64 > self.settings.max_file_bytes;
        if full || now / DAY_MS != self.start_ms / DAY_MS || self.file.is_none() {
            if let Err(e) = self.rotate() {
                eprintln!("cannot open a new log file in {}: {e}", self.settings.dir.display());
            }
        }
        if let Some(f) = self.file.as_mut() {
            if f.write_all(line).is_ok() {
                self.written += line.len() as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_full_file_rolls_over_and_files_past_retention_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let settings = LogSettings { max_file_bytes: 100, ..LogSettings::defaults(dir.path()) };
        std::fs::create_dir_all(&settings.dir).unwrap();
        let old = settings.dir.join(bundle::file_name(now_ms() - 30 * DAY_MS, "log"));
        std::fs::write(&old, "old\n").unwrap();
        let f = File::options().write(true).open(&old).unwrap();
        f.set_modified(connector_actors::time::from_unix_ms(now_ms() - 29 * DAY_MS)).unwrap();
        let mut r = RollingFile::open(settings.clone()).unwrap();
        assert!(!old.exists(), "a file past the 14-day retention is deleted");
        for n in 0..10 {
            r.write_line(format!("line {n} of forty bytes, more or less..\n").as_bytes());
        }
        let files = bundle::list(&settings.dir).unwrap();
        assert!(files.len() >= 4, "{files:?}");
        assert!(files.iter().all(|f| f.bytes <= 100));
        let mode = std::fs::metadata(&files[0].path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text: String = files.iter().map(|f| std::fs::read_to_string(&f.path).unwrap()).collect();
        assert_eq!(text.lines().count(), 10);
    }
}
