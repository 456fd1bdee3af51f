//! The simulator's whole state, behind one mutex in [`Sim`]: settings the admin may
//! change, jobs, connectors, log requests, violations and faults. Methods here are the
//! rules that span several of those; each is a plain function of the state and `now`.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime};

use tokio::sync::Notify;

use crate::connectors::{CommandEntry, Connectors};
use crate::error::ApiError;
use crate::faults::Faults;
use crate::jobs::{CancelOutcome, Jobs};
use crate::logs::Logs;
use crate::model::{server_time, RegisterResponse};
use crate::model::{Command, HeartbeatRequest, HeartbeatResponse, RegisterRequest};
use crate::violations::{ViolationKind, Violations};

/// Settings fixed at start-up or changed by the admin.
#[derive(Debug, Clone)]
pub struct Config {
    /// The accepted `Authorization: Basic <token>` token (`POST /admin/token` replaces it).
    pub token: String,
    /// Lease of a job whose spec names none.
    pub lease_s: u64,
    pub heartbeat_interval_s: u64,
    pub poll_timeout_s: u64,
    /// Largest JSON body of the connector API (records batches included).
    pub max_body_bytes: usize,
    /// Largest log upload.
    pub max_upload_bytes: usize,
    /// Most records one batch may carry (413 past it; `POST /admin/limits` lowers it to
    /// make the connector split batches).
    pub max_records: usize,
    /// Seconds added to this simulator's clock in everything it tells the connector
    /// (`server_time`, the `created_at` of jobs whose spec has none): a negative skew is a
    /// server behind the connector, as if the connector's clock ran fast.
    pub clock_skew_s: i64,
}

impl Config {
    /// This simulator's now, skewed by [`Config::clock_skew_s`].
    pub fn server_now(&self) -> SystemTime {
        let skew = std::time::Duration::from_secs(self.clock_skew_s.unsigned_abs());
        let now = SystemTime::now();
        if self.clock_skew_s < 0 {
            now.checked_sub(skew).unwrap_or(now)
        } else {
            now.checked_add(skew).unwrap_or(now)
        }
    }
}

/// Who a connector request must come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Only the token (`/register`).
    Token,
    /// The token and a known, not archived `X-Connector-Id`.
    Connector,
    /// The token and a known `X-Connector-Id`, archived or not (`/heartbeat` records it
    /// before answering 403).
    AnyConnector,
}

/// Everything the simulator knows.
#[derive(Debug)]
pub struct State {
    pub config: Config,
    pub jobs: Jobs,
    pub connectors: Connectors,
    pub logs: Logs,
    pub violations: Violations,
    pub faults: Faults,
    /// Connector API requests seen, faulted and refused ones included.
    pub requests: u64,
    /// Of those, `GET /jobs` polls.
    pub polls: u64,
    /// The `max` of the most recent polls (at most [`ASKED_KEPT`], oldest first): how
    /// many jobs a connector asks for at a time.
    pub asked: std::collections::VecDeque<usize>,
    /// Counter behind the `c-<n>`, `lr-<n>` and `ls-<n>` ids.
    issued: u64,
}

/// The shared simulator: the state and the bell that wakes long polls when jobs arrive.
#[derive(Debug)]
pub struct Sim {
    state: Mutex<State>,
    /// Rung (`notify_waiters`) when jobs are enqueued or leases run out.
    pub jobs_ready: Notify,
    /// Rung when a job's first result is stored: wakes the admin's `?wait_done` views.
    pub results_ready: Notify,
}

impl Sim {
    pub fn new(state: State) -> Self {
        Sim { state: Mutex::new(state), jobs_ready: Notify::new(), results_ready: Notify::new() }
    }

    /// The state; a panic elsewhere while holding it does not poison it for good.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How many polls' `max` [`State::asked`] keeps.
pub const ASKED_KEPT: usize = 1000;

impl State {
    /// Counts one poll that asked for `max` jobs.
    pub fn record_poll(&mut self, max: usize) {
        self.polls += 1;
        if self.asked.len() == ASKED_KEPT {
            self.asked.pop_front();
        }
        self.asked.push_back(max);
    }

    pub fn new(config: Config, logs: Logs) -> Self {
        State {
            config,
            jobs: Jobs::default(),
            connectors: Connectors::default(),
            logs,
            violations: Violations::default(),
            faults: Faults::default(),
            requests: 0,
            polls: 0,
            asked: std::collections::VecDeque::new(),
            issued: 0,
        }
    }

    /// A fresh id with `prefix`, e.g. `c-7`.
    pub fn next_id(&mut self, prefix: &str) -> String {
        self.issued += 1;
        format!("{prefix}-{}", self.issued)
    }

    /// Check the token and, unless `identity` is `Token`, the connector id. Returns the
    /// connector id. Missing or wrong tokens and missing ids count as violations.
    pub fn authorize(
        &mut self,
        authorization: Option<&str>,
        connector_id: Option<&str>,
        identity: Identity,
    ) -> Result<Option<String>, ApiError> {
        let token = authorization.and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then(|| token.trim())
        });
        match token {
            None => {
                self.violations.record(
                    ViolationKind::MissingToken,
                    None,
                    "request without Authorization: Basic".to_owned(),
                );
                return Err(ApiError::Unauthorized("missing token".to_owned()));
            }
            Some(token) if token != self.config.token => {
                self.violations.record(
                    ViolationKind::WrongToken,
                    None,
                    format!("request with a wrong token (from {})", connector_id.unwrap_or("-")),
                );
                return Err(ApiError::Unauthorized("wrong or revoked token".to_owned()));
            }
            Some(_) => {}
        }
        if identity == Identity::Token {
            return Ok(connector_id.map(str::to_owned));
        }
        let Some(id) = connector_id else {
            self.violations.record(
                ViolationKind::MissingConnectorId,
                None,
                "request without X-Connector-Id".to_owned(),
            );
            return Err(ApiError::BadRequest("missing X-Connector-Id".to_owned()));
        };
        let connector = self
            .connectors
            .get(id)
            .ok_or_else(|| ApiError::Unauthorized(format!("unknown connector {id}; register again")))?;
        if connector.archived && identity == Identity::Connector {
            return Err(ApiError::Forbidden(format!("connector {id} is archived")));
        }
        Ok(Some(id.to_owned()))
    }

    /// `POST /register` (§2.1).
    pub fn register(&mut self, req: RegisterRequest) -> Result<RegisterResponse, ApiError> {
        let connector_id = self.connectors.register(req)?;
        Ok(RegisterResponse {
            connector_id,
            heartbeat_interval_s: self.config.heartbeat_interval_s,
            poll_timeout_s: self.config.poll_timeout_s,
            server_time: server_time(self.config.server_now()),
        })
    }

    /// `POST /heartbeat` (§2.2): record it, then answer the commands not yet done (403
    /// for an archived connector, after recording).
    pub fn heartbeat(
        &mut self,
        connector_id: &str,
        req: HeartbeatRequest,
        now: Instant,
    ) -> Result<HeartbeatResponse, ApiError> {
        let connector = self.connectors.find_mut(connector_id)?;
        connector.record_heartbeat(req, now);
        if connector.archived {
            return Err(ApiError::Forbidden(format!("connector {connector_id} is archived")));
        }
        let mut commands = Vec::new();
        for entry in connector.commands.iter_mut().filter(|e| !e.done) {
            entry.done = match &entry.command {
                Command::UploadLogs { request_id, .. } => self.logs.upload_received(request_id),
                Command::StreamLogs { duration_s, .. } => {
                    entry.first_sent.is_some_and(|t| now.saturating_duration_since(t).as_secs() >= *duration_s)
                }
                Command::CancelJob { job_id, .. } => self.jobs.cancel_settled(job_id, now),
            };
            if !entry.done {
                entry.first_sent.get_or_insert(now);
                commands.push(entry.command.clone());
            }
        }
        Ok(HeartbeatResponse { commands, server_time: server_time(self.config.server_now()) })
    }

    /// Queue a command for a connector; `make` gets the new command id.
    pub fn push_command(
        &mut self,
        connector_id: &str,
        make: impl FnOnce(String) -> Command,
    ) -> Result<String, ApiError> {
        let id = self.next_id("c");
        let connector = self.connectors.find_mut(connector_id)?;
        connector.commands.push(CommandEntry { command: make(id.clone()), first_sent: None, done: false });
        Ok(id)
    }

    /// Admin cancel: see [`Jobs::cancel`]; returns the `cancel_job` command id if one was
    /// queued (none twice for the same job and connector).
    pub fn cancel_job(&mut self, job_id: &str) -> Result<(CancelOutcome, Option<String>), ApiError> {
        let outcome = self.jobs.cancel(job_id)?;
        let Some(holder) = outcome.notify.clone() else {
            return Ok((outcome, None));
        };
        let pending = self.connectors.get(&holder).and_then(|c| {
            c.commands.iter().find_map(|e| match &e.command {
                Command::CancelJob { id, job_id: j } if j == job_id && !e.done => Some(id.clone()),
                _ => None,
            })
        });
        if let Some(existing) = pending {
            return Ok((outcome, Some(existing)));
        }
        let job_id = job_id.to_owned();
        let command = self.push_command(&holder, |id| Command::CancelJob { id, job_id })?;
        Ok((outcome, Some(command)))
    }
}

#[cfg(test)]
mod tests;
