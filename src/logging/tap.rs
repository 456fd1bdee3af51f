//! The tap: every event as a redacted [`LogLine`], broadcast to the log streams and the
//! UI's live tail, and the last lines kept for a page that just opened.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use connector_actors::logship::LogLine;
use connector_actors::time::{now_ms, rfc3339};
use serde_json::{Map, Value};
use tokio::sync::broadcast;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use super::redact::Secrets;

/// Lines kept for a page that opens the tail.
pub const RECENT: usize = 200;

#[derive(Clone)]
pub struct Tap {
    pub tx: broadcast::Sender<LogLine>,
    pub recent: Arc<Mutex<VecDeque<LogLine>>>,
    pub secrets: Arc<Secrets>,
}

impl Tap {
    pub fn recent(&self) -> Vec<LogLine> {
        self.recent.lock().map(|r| r.iter().cloned().collect()).unwrap_or_default()
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    fields: Map<String, Value>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields.insert(field.name().to_owned(), Value::String(value.to_owned()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.insert(field.name().to_owned(), Value::String(text));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().to_owned(), Value::from(value));
    }
}

impl<S: Subscriber> Layer<S> for Tap {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let secrets = &self.secrets;
        let mut fields = Map::new();
        for (k, v) in f.fields {
            // The key decides too: `password = "x"` is masked whatever x is.
            let text = match &v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if super::redact::is_secret_key(&k) {
                fields.insert(k, Value::String(super::redact::MASK.to_owned()));
                continue;
            }
            let masked = secrets.redact(&format!("{k}={text}"));
            let value = match masked.strip_prefix(&format!("{k}=")) {
                Some(rest) if rest == text => v,
                Some(rest) => Value::String(rest.to_owned()),
                None => Value::String(super::redact::MASK.to_owned()),
            };
            fields.insert(k, value);
        }
        let meta = event.metadata();
        let line = LogLine {
            ts: rfc3339(now_ms()),
            level: meta.level().as_str().to_owned(),
            target: meta.target().to_owned(),
            message: secrets.redact(&f.message),
            fields,
        };
        if let Ok(mut r) = self.recent.lock() {
            if r.len() >= RECENT {
                r.pop_front();
            }
            r.push_back(line.clone());
        }
        let _ = self.tx.send(line);
    }
}
