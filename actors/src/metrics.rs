//! Operational figures for `/metrics` and the UI's "last jobs": counters and histograms
//! in one shared registry. Each figure has one writer: the dispatcher writes the job
//! figures and the recent-jobs ring, the portal client the HTTP errors. Readers (the UI)
//! take a snapshot under a short lock and never wait on an actor's mailbox.
//!
//! A job summary never holds payload values other than the directory and the name of
//! the target object (a whitelist): no password, token or other secret can reach it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::errors::JobError;

pub mod history;

pub use history::{History, Minute, Sample};

/// Upper bounds (seconds) of the job duration histogram buckets.
pub const DURATION_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 300.0];
/// Jobs kept for the UI's "last jobs".
pub const RECENT_JOBS: usize = 50;

/// One finished job as the UI shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JobSummary {
    pub id: String,
    pub job_type: String,
    /// Directory and target object, e.g. `corp: alice`; never a secret.
    pub target: String,
    /// `succeeded` or `failed`.
    pub outcome: &'static str,
    pub duration_ms: u64,
    pub error_code: Option<&'static str>,
    pub finished_ms: u64,
}

/// A histogram with fixed buckets (counts are per bucket, not cumulative).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    pub buckets: [u64; DURATION_BUCKETS.len()],
    pub count: u64,
    pub sum_s: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = DURATION_BUCKETS.iter().position(|b| seconds <= *b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum_s += seconds;
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// (job type, outcome) → count.
    jobs: BTreeMap<(String, &'static str), u64>,
    durations: BTreeMap<String, Histogram>,
    recent: VecDeque<JobSummary>,
    /// Kind of failure talking to the portal → count.
    http_errors: BTreeMap<String, u64>,
    /// The last hour, per minute.
    history: History,
}

/// Cheap to clone; every clone is the same registry.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    inner: Arc<Mutex<Inner>>,
}

/// A copy of every figure at one moment.
#[derive(Debug, Clone, Default)]
pub struct MetricsSnapshot {
    pub jobs: BTreeMap<(String, &'static str), u64>,
    pub durations: BTreeMap<String, Histogram>,
    /// Newest first.
    pub recent: Vec<JobSummary>,
    pub http_errors: BTreeMap<String, u64>,
}

impl Metrics {
    /// Called by the dispatcher once per finished run.
    pub fn job_finished(&self, started: &JobStarted, outcome: &Result<Value, JobError>, took: Duration) {
        let (label, code, ended) = match outcome {
            Ok(_) => ("succeeded", None, history::Outcome::Succeeded),
            Err(e) => ("failed", Some(e.code.as_str()), history::Outcome::Failed),
        };
        let summary = JobSummary {
            id: started.id.clone(),
            job_type: started.job_type.clone(),
            target: started.target.clone(),
            outcome: label,
            duration_ms: took.as_millis() as u64,
            error_code: code,
            finished_ms: crate::time::now_ms(),
        };
        if let Ok(mut m) = self.inner.lock() {
            *m.jobs.entry((started.job_type.clone(), label)).or_default() += 1;
            m.durations.entry(started.job_type.clone()).or_default().observe(took.as_secs_f64());
            let login = (crate::protocol::JobType::parse(&started.job_type)
                == Some(crate::protocol::JobType::Authenticate))
            .then_some(took.as_secs_f64() * 1000.0);
            m.history.job(summary.finished_ms, ended, login);
            m.recent.push_front(summary);
            m.recent.truncate(RECENT_JOBS);
        }
    }

    /// Files a sample of the queue and directories in the history (the UI's sampler).
    pub fn sample(&self, sample: &Sample) {
        if let Ok(mut m) = self.inner.lock() {
            m.history.sample(crate::time::now_ms(), sample);
        }
    }

    /// The last hour, oldest minute first.
    pub fn history(&self) -> Vec<Minute> {
        match self.inner.lock() {
            Ok(mut m) => m.history.minutes(crate::time::now_ms()),
            Err(_) => Vec::new(),
        }
    }

    /// Called by the portal client for each failed request (`kind` is a short class).
    pub fn http_error(&self, kind: &str) {
        if let Ok(mut m) = self.inner.lock() {
            *m.http_errors.entry(kind.to_owned()).or_default() += 1;
            m.history.link_error(crate::time::now_ms());
        }
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        match self.inner.lock() {
            Ok(m) => MetricsSnapshot {
                jobs: m.jobs.clone(),
                durations: m.durations.clone(),
                recent: m.recent.iter().cloned().collect(),
                http_errors: m.http_errors.clone(),
            },
            Err(_) => MetricsSnapshot::default(),
        }
    }
}

/// What the dispatcher remembers of a job it started.
#[derive(Debug, Clone)]
pub struct JobStarted {
    pub id: String,
    pub job_type: String,
    pub target: String,
}

/// Payload keys that name the target object; nothing else is ever read.
const NAME_KEYS: [&str; 8] =
    ["username", "sam_account_name", "user_principal_name", "dn", "guid", "name", "cn", "base_dn"];

fn name_in(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => NAME_KEYS.iter().find_map(|k| o.get(*k).and_then(Value::as_str)).map(str::to_owned),
        _ => None,
    }
}

impl JobStarted {
    pub fn new(id: &str, job_type: &str, payload: &Map<String, Value>) -> JobStarted {
        let directory = payload.get("directory").and_then(Value::as_str);
        let object =
            ["user", "username", "sam_account_name", "base_dn"].iter().find_map(|k| payload.get(*k).and_then(name_in));
        let group = payload.get("group").and_then(name_in);
        let mut target = match (directory, object) {
            (Some(d), Some(o)) => format!("{d}: {o}"),
            (Some(d), None) => d.to_owned(),
            (None, Some(o)) => o,
            (None, None) => String::new(),
        };
        if let Some(g) = group {
            target.push_str(&format!(" → {g}"));
        }
        let target: String = target.chars().take(200).collect();
        JobStarted { id: id.to_owned(), job_type: job_type.to_owned(), target }
    }
}

#[cfg(test)]
mod tests;
