//! Logging: tracing to stderr (journald-friendly: plain text, no colours) and, once the
//! config is read, to rolling files under the storage path (text or JSON lines). Every
//! line goes through [`redact`] first, on every output, and to the [`tap`] that feeds
//! the log streams and the UI's live tail. `IC_LOG` (or `RUST_LOG`) sets the filter.
//!
//! One global hub, installed once by [`init`]; [`attach_files`] and [`add_secret`] are
//! called after the config is loaded.

mod files;
pub mod redact;
mod tap;

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::broadcast;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

pub use files::{LogFormat, LogSettings, RollingFile};
pub use redact::Secrets;
pub use tap::Tap;

/// Lines buffered for streams and the UI tail before a slow reader misses some.
const TAP_CAPACITY: usize = 4096;

struct Hub {
    secrets: Arc<Secrets>,
    file: Arc<Mutex<Option<(RollingFile, LogFormat)>>>,
    tap: Tap,
}

static HUB: OnceLock<Hub> = OnceLock::new();

fn hub() -> &'static Hub {
    HUB.get_or_init(|| {
        let secrets = Arc::new(Secrets::default());
        let (tx, _) = broadcast::channel(TAP_CAPACITY);
        Hub {
            secrets: secrets.clone(),
            file: Arc::default(),
            tap: Tap { tx, recent: Arc::new(Mutex::new(VecDeque::new())), secrets },
        }
    })
}

/// Where a formatted line goes.
#[derive(Clone, Copy, PartialEq)]
enum Sink {
    Stderr,
    /// The rolling file, when it is in this format.
    File(LogFormat),
}

/// A `MakeWriter` whose writers buffer one event, then redact and write it on drop.
#[derive(Clone, Copy)]
struct Redacting(Sink);

struct LineWriter {
    sink: Sink,
    buf: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let h = hub();
        let line = h.secrets.redact(&String::from_utf8_lossy(&self.buf));
        match self.sink {
            Sink::Stderr => {
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }
            Sink::File(format) => {
                if let Ok(mut slot) = h.file.lock() {
                    if let Some((file, written)) = slot.as_mut() {
                        if *written == format {
                            file.write_line(line.as_bytes());
                        }
                    }
                }
            }
        }
    }
}

impl<'a> MakeWriter<'a> for Redacting {
    type Writer = LineWriter;
    fn make_writer(&'a self) -> LineWriter {
        LineWriter { sink: self.0, buf: Vec::with_capacity(256) }
    }
}

/// The text lines' fields as the default formatter writes them (`message` bare, the rest
/// `name=value`), except that a secret-sounding field is masked whole, on the structured
/// value: an unquoted value (`password=correct horse`) has no end a later textual pass
/// could find. (JSON lines quote every value, so the line redaction finds its end.)
fn masked_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + 'static {
    use tracing_subscriber::field::MakeExt;
    tracing_subscriber::fmt::format::debug_fn(|w, field, value| match field.name() {
        "message" => write!(w, "{value:?}"),
        name if redact::is_secret_key(name) => write!(w, "{name}={}", redact::MASK),
        name => write!(w, "{name}={value:?}"),
    })
    .delimited(" ")
}

/// The filter's reload handle, so `logging.level` changes it in place ([`set_level`]).
static FILTER: OnceLock<tracing_subscriber::reload::Handle<EnvFilter, tracing_subscriber::Registry>> = OnceLock::new();

/// The filter without `logging.level`: `IC_LOG`, else `RUST_LOG`, else `info`.
fn env_filter() -> String {
    std::env::var("IC_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "info".to_owned())
}

/// Sets the log filter to `level` (`logging.level`, already validated), or back to the
/// environment's when `None`. Errors name what the filter syntax refused.
pub fn set_level(level: Option<&str>) -> Result<(), String> {
    let text = level.map_or_else(env_filter, str::to_owned);
    let filter = EnvFilter::try_new(&text).map_err(|e| format!("log filter {text:?}: {e}"))?;
    match FILTER.get() {
        Some(handle) => handle.reload(filter).map_err(|e| format!("log filter {text:?}: {e}")),
        None => Err("logging is not initialised".to_owned()),
    }
}

/// Installs the global subscriber (stderr now, files once attached). Idempotent.
pub fn init() {
    let filter = env_filter();
    let h = hub();
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_target(false)
        .fmt_fields(masked_fields())
        .with_writer(Redacting(Sink::Stderr));
    let text = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .fmt_fields(masked_fields())
        .with_writer(Redacting(Sink::File(LogFormat::Text)));
    let json = tracing_subscriber::fmt::layer().json().with_writer(Redacting(Sink::File(LogFormat::Json)));
    let (filter, handle) = tracing_subscriber::reload::Layer::new(EnvFilter::new(filter));
    let _ = FILTER.set(handle);
    let _ =
        tracing_subscriber::registry().with(filter).with(stderr).with(text).with(json).with(h.tap.clone()).try_init();
}

/// Starts writing the rolling files of `settings`.
pub fn attach_files(settings: &LogSettings) -> std::io::Result<()> {
    let file = RollingFile::open(settings.clone())?;
    if let Ok(mut slot) = hub().file.lock() {
        *slot = Some((file, settings.format));
    }
    Ok(())
}

/// Registers a secret value: it is masked in every line from now on.
pub fn add_secret(value: &str) {
    hub().secrets.add(value);
}

/// What holds secrets to mask (the config: server token, bind passwords, UI admin
/// token, proxy password), so that this module needs nothing of the config's shape.
pub trait HoldsSecrets {
    /// Every secret value, in each form it may be written in a line.
    fn secrets(&self) -> Vec<String>;
}

/// Registers every secret of `holder`: each is masked in every line from now on.
pub fn protect(holder: &impl HoldsSecrets) {
    for s in holder.secrets() {
        add_secret(&s);
    }
}

/// The redacted line feed (streams, UI tail).
pub fn tap() -> Tap {
    hub().tap.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A secret logged by mistake, in a message or a field, never reaches a file or the tap.
    #[test]
    fn a_secret_logged_by_mistake_is_masked_in_files_and_the_tap() {
        let dir = tempfile::tempdir().unwrap();
        init();
        add_secret("tok-3f9a8b7c");
        let settings = LogSettings { format: LogFormat::Json, ..LogSettings::defaults(dir.path()) };
        attach_files(&settings).unwrap();
        let mut rx = tap().tx.subscribe();
        tracing::warn!(password = "hunter2-x", user = "alice", "sending tok-3f9a8b7c by mistake");
        tracing::error!("payload was {}", r#"{"new_password":"S3cret!"}"#);
        // Other tests of this binary log through the same global subscriber: find ours.
        let line = std::iter::from_fn(|| rx.try_recv().ok())
            .find(|l| l.message.contains("by mistake"))
            .expect("the warning reached the tap");
        assert_eq!(line.fields["password"], redact::MASK);
        assert_eq!(line.fields["user"], "alice");
        assert!(!line.message.contains("tok-3f9a8b7c"));
        let file = std::fs::read_dir(&settings.dir).unwrap().next().unwrap().unwrap().path();
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains("alice") && text.contains(redact::MASK), "{text}");
        for secret in ["hunter2-x", "tok-3f9a8b7c", "S3cret!"] {
            assert!(!text.contains(secret), "{text}");
        }
    }

    /// Review of issue #14: a secret-keyed value that holds a space is masked only up to
    /// the space, in the tap (UI tail, `stream_logs`) and in plain-text files, where a
    /// field given with `%` is written unquoted (`password=correct horse-battery`): the
    /// rest of the password is shown. In the tap the field's value is known whole, so it
    /// can be masked whole.
    #[test]
    fn a_secret_field_with_a_space_is_masked_whole() {
        struct SharedBuf(std::sync::Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for SharedBuf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                if let Ok(mut v) = self.0.lock() {
                    v.extend_from_slice(b);
                }
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        init();
        let mut rx = tap().tx.subscribe();
        let pw = "correct horse-battery";
        tracing::warn!(password = %pw, "review: a login payload logged in error");
        let line = std::iter::from_fn(|| rx.try_recv().ok())
            .find(|l| l.message.contains("review: a login payload logged in error"))
            .expect("the warning reached the tap");
        assert_eq!(line.fields["password"], redact::MASK, "tap field: {:?}", line.fields["password"]);
        // The text lines (stderr, files) format the structured field masked.
        let buf = std::sync::Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .fmt_fields(masked_fields())
            .with_writer(move || -> Box<dyn std::io::Write> { Box::new(SharedBuf(sink.clone())) });
        let local = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(local, || tracing::warn!(password = %pw, user = "alice", "logged in error"));
        let text = String::from_utf8_lossy(&buf.lock().map(|b| b.clone()).unwrap_or_default()).into_owned();
        assert!(text.contains("logged in error") && text.contains("user=\"alice\""), "{text}");
        assert!(!text.contains("horse") && text.contains(redact::MASK), "plain-text line: {text}");
    }
}
