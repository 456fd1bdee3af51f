//! The session actor: registration and heartbeats (PROTOCOL.md §2.1, §2.2).
//!
//! - **Owns** the link state (published on a `watch` channel), the connector id (kept in
//!   the queue's store), the ids of commands already handled.
//! - **Receives** [`LinkProblem`] (401, 403) from the poller and the courier, [`StartDraining`] from the lifecycle owner, [`CommandDone`] from command owners.
//! - **Sends** `cancel_job` to the queue and the dispatcher, log commands to the log
//!   shipper's [`LogCommand`] recipient when one is wired.
//! - **Failure policy**: 401 → `unauthorized`, register again with backoff up to 5 min;
//!   403 → `disabled`, heartbeat every 5 min; transient errors → `unreachable`, retry
//!   with backoff (max 60 s). It never gives up.
//! - **On shutdown**: heartbeats say `draining` until the process exits.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use actix::prelude::*;
use reqwest::Method;
use serde_json::Value;
use tokio::sync::watch;

use super::client::{PortalClient, RequestBody};
use super::clock::{self, ClockReading, Stopwatch};
use super::errors::{backoff, wait_before_retry, LinkError, Recovery};
use super::messages::*;
use super::settings::LinkSettings;
use super::state::{Connection, LinkState};
use crate::dispatcher::CancelRunning;
use crate::logship::LogCommand;
use crate::protocol::bounds;
use crate::protocol::wire::{
    Command, HeartbeatRequest, HeartbeatResponse, RegisterRequest, RegisterResponse, PROTOCOL_VERSION,
};
use crate::queue::{CancelJob, CancelOutcome, GetConnectorId, QueueActor, SetConnectorId};
use crate::status::{ComponentPublisher, ComponentState, StatusBoard};
use crate::time::now_ms;

const DISABLED_HEARTBEAT: Duration = Duration::from_secs(300);
const MAX_REGISTER_BACKOFF: Duration = Duration::from_secs(300);
/// Remembered handled command ids; older ones are forgotten.
const COMMAND_MEMORY: usize = 1024;

/// The session's two calls to the portal: which one runs next, or which one failed (and
/// is tried again, unless the failure asks for a new registration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    /// `POST /register` (PROTOCOL.md §2.1).
    Register,
    /// `POST /heartbeat` (PROTOCOL.md §2.2).
    Heartbeat,
}

pub struct Session {
    settings: LinkSettings,
    client: PortalClient,
    queue: Addr<QueueActor>,
    dispatcher: Recipient<CancelRunning>,
    logs: Option<Recipient<LogCommand>>,
    board: StatusBoard,
    state: watch::Sender<LinkState>,
    status: ComponentPublisher,
    capabilities: Vec<String>,
    started: Instant,
    draining: bool,
    failures: u32,
    handled: (HashSet<String>, VecDeque<String>),
    pending: Option<SpawnHandle>,
}

pub struct SessionParts {
    pub settings: LinkSettings,
    pub client: PortalClient,
    pub queue: Addr<QueueActor>,
    pub dispatcher: Recipient<CancelRunning>,
    pub logs: Option<Recipient<LogCommand>>,
    pub board: StatusBoard,
    pub state: watch::Sender<LinkState>,
    pub status: ComponentPublisher,
    pub capabilities: Vec<String>,
}

impl Session {
    pub fn new(p: SessionParts) -> Self {
        Session {
            settings: p.settings,
            client: p.client,
            queue: p.queue,
            dispatcher: p.dispatcher,
            logs: p.logs,
            board: p.board,
            state: p.state,
            status: p.status,
            capabilities: p.capabilities,
            started: Instant::now(),
            draining: false,
            failures: 0,
            handled: (HashSet::new(), VecDeque::new()),
            pending: None,
        }
    }

    fn publish(&self, connection: Connection, reason: Option<String>) {
        let previous = self.state.borrow().connection;
        if previous != connection {
            match (&reason, connection) {
                (Some(r), _) => {
                    tracing::warn!(state = connection.as_str(), reason = %r, "server link state changed")
                }
                (None, _) => {
                    tracing::info!(state = connection.as_str(), "server link state changed")
                }
            }
        }
        self.state.send_modify(|s| {
            s.connection = connection;
            s.reason = reason;
        });
    }

    fn schedule(&mut self, ctx: &mut Context<Self>, after: Duration, call: Call) {
        if let Some(h) = self.pending.take() {
            ctx.cancel_future(h);
        }
        self.pending = Some(ctx.run_later(after, move |act, ctx| {
            act.pending = None;
            match call {
                Call::Register => act.register(ctx),
                Call::Heartbeat => act.heartbeat(ctx),
            }
        }));
    }

    fn register(&mut self, ctx: &mut Context<Self>) {
        let client = self.client.clone();
        let queue = self.queue.clone();
        let s = &self.settings;
        let mut body = RegisterRequest {
            connector_id: None,
            name: s.name.clone(),
            hostname: s.hostname.clone(),
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            protocol_version: PROTOCOL_VERSION,
            capabilities: self.capabilities.clone(),
            directories: s.directories.clone(),
            max_concurrency: s.max_concurrency,
        };
        let work = async move {
            body.connector_id = queue.send(GetConnectorId).await.ok().and_then(Result::ok).flatten();
            let json = serde_json::to_value(&body).unwrap_or(Value::Null);
            let watch = Stopwatch::start();
            let answer = client.call(Method::POST, "/register", None, Some(RequestBody::Json(json)), None).await?;
            let reg: RegisterResponse = answer.json()?;
            let offset = watch.reading(reg.server_time.as_deref(), answer.date_ms);
            if body.connector_id.as_deref() != Some(reg.connector_id.as_str()) {
                queue
                    .send(SetConnectorId { id: reg.connector_id.clone() })
                    .await
                    .map_err(|e| LinkError::BadResponse(format!("cannot store the connector id: {e}")))?
                    .map_err(|e| LinkError::BadResponse(format!("cannot store the connector id: {e}")))?;
            }
            Ok::<_, LinkError>((reg, offset))
        };
        work.into_actor(self)
            .map(|outcome, act, ctx| match outcome {
                Ok((reg, offset)) => {
                    let heartbeat_s = bounds::HEARTBEAT_INTERVAL_S.clamp(reg.heartbeat_interval_s);
                    let poll_s = bounds::POLL_TIMEOUT_S.clamp(reg.poll_timeout_s);
                    if (heartbeat_s, poll_s) != (reg.heartbeat_interval_s, reg.poll_timeout_s) {
                        tracing::warn!(
                            heartbeat_interval_s = reg.heartbeat_interval_s,
                            poll_timeout_s = reg.poll_timeout_s,
                            heartbeat_s,
                            poll_s,
                            "the server's intervals are out of range; using the nearest sane ones"
                        );
                    }
                    tracing::info!(connector_id = %reg.connector_id, heartbeat_s, "registered with the portal");
                    act.failures = 0;
                    act.clock(offset);
                    act.state.send_modify(|s| {
                        s.connector_id = Some(reg.connector_id.clone());
                        s.heartbeat_interval_s = heartbeat_s;
                        s.poll_timeout_s = poll_s;
                    });
                    act.publish(Connection::Online, None);
                    act.status.set(ComponentState::Running, None);
                    act.heartbeat(ctx);
                }
                Err(e) => act.failed(ctx, e, Call::Register),
            })
            .spawn(ctx);
    }

    fn failed(&mut self, ctx: &mut Context<Self>, e: LinkError, failed: Call) {
        self.failures = self.failures.saturating_add(1);
        match e.recovery() {
            Recovery::Reauthenticate => {
                self.publish(Connection::Unauthorized, Some(e.to_string()));
                let wait = backoff(self.failures, MAX_REGISTER_BACKOFF).max(Duration::from_millis(500));
                self.schedule(ctx, wait, Call::Register);
            }
            Recovery::Disabled => {
                self.publish(Connection::Disabled, Some(e.to_string()));
                self.schedule(ctx, DISABLED_HEARTBEAT, failed);
            }
            Recovery::Transient | Recovery::GiveUp => {
                self.publish(Connection::Unreachable, Some(e.to_string()));
                self.schedule(ctx, wait_before_retry(&e, self.failures), failed);
            }
        }
    }

    fn heartbeat(&mut self, ctx: &mut Context<Self>) {
        let state = self.state.borrow().clone();
        let Some(id) = state.connector_id.clone() else {
            return self.register(ctx);
        };
        let status = if self.draining {
            "draining"
        } else if self.board.degraded() {
            "degraded"
        } else {
            "online"
        };
        let body = HeartbeatRequest {
            status,
            uptime_s: self.started.elapsed().as_secs(),
            version: env!("CARGO_PKG_VERSION").into(),
            queue: self.board.queue(),
            components: self.board.component_reports(),
            directories: self.board.directories(),
            clock_offset_s: state.clock_offset_ms.map(clock::offset_s),
        };
        let client = self.client.clone();
        let json = serde_json::to_value(&body).unwrap_or(Value::Null);
        let interval = Duration::from_secs(state.heartbeat_interval_s);
        async move {
            let watch = Stopwatch::start();
            let answer =
                client.call(Method::POST, "/heartbeat", Some(&id), Some(RequestBody::Json(json)), None).await?;
            let resp = answer.json::<HeartbeatResponse>()?;
            let offset = watch.reading(resp.server_time.as_deref(), answer.date_ms);
            Ok::<_, LinkError>((resp, offset))
        }
        .into_actor(self)
        .map(move |outcome, act, ctx| match outcome {
            Ok((resp, offset)) => {
                act.failures = 0;
                act.clock(offset);
                act.state.send_modify(|s| s.last_heartbeat_ms = Some(now_ms()));
                if act.state.borrow().connection != Connection::Online {
                    act.publish(Connection::Online, None);
                }
                let (now, later) = bounds::commands_to_read(&resp.commands);
                if later > 0 {
                    tracing::warn!(
                        later,
                        "heartbeat answer with too many commands; reading the first ones (the rest repeat)"
                    );
                }
                for raw in now {
                    act.command(raw);
                }
                act.schedule(ctx, interval, Call::Heartbeat);
            }
            Err(LinkError::Unauthorized) => act.failed(ctx, LinkError::Unauthorized, Call::Register),
            Err(e) => act.failed(ctx, e, Call::Heartbeat),
        })
        .spawn(ctx);
    }

    /// Publishes a measured clock offset; logs when it crosses the warning line.
    fn clock(&mut self, reading: Option<ClockReading>) {
        let Some(ClockReading { offset_ms: offset, uncertainty_ms }) = reading else { return };
        let before = self.state.borrow().clock_offset_ms;
        let large = clock::offset_is_large(offset);
        if large && !before.is_some_and(clock::offset_is_large) {
            tracing::warn!(clock_offset_s = clock::offset_s(offset), "{}", clock::describe(offset));
        } else if !large && before.is_some_and(clock::offset_is_large) {
            tracing::info!(
                clock_offset_s = clock::offset_s(offset),
                "the clocks of this machine and the portal agree again"
            );
        }
        self.state.send_modify(|s| {
            s.clock_offset_ms = Some(offset);
            s.clock_uncertainty_ms = Some(uncertainty_ms);
        });
    }

    fn remember(&mut self, id: &str) -> bool {
        if !self.handled.0.insert(id.to_owned()) {
            return false;
        }
        self.handled.1.push_back(id.to_owned());
        if self.handled.1.len() > COMMAND_MEMORY {
            if let Some(old) = self.handled.1.pop_front() {
                self.handled.0.remove(&old);
            }
        }
        true
    }

    fn command(&mut self, raw: &Value) {
        let Some(cmd) = Command::parse(raw) else {
            tracing::warn!("heartbeat response carried a command without an id; ignored");
            return;
        };
        if !self.remember(cmd.id()) {
            return;
        }
        match cmd {
            Command::CancelJob { job_id, .. } => {
                let (queue, dispatcher) = (self.queue.clone(), self.dispatcher.clone());
                actix::spawn(async move {
                    match queue.send(CancelJob { id: job_id.clone() }).await {
                        Ok(Ok(CancelOutcome::Running)) => dispatcher.do_send(CancelRunning { id: job_id }),
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::error!(job_id, error = %e, "cannot cancel job"),
                        Err(e) => tracing::error!(job_id, error = %e, "queue unreachable"),
                    }
                });
            }
            Command::UploadLogs { .. } | Command::StreamLogs { .. } => match &self.logs {
                Some(logs) => logs.do_send(LogCommand { command: cmd }),
                None => tracing::warn!(command = cmd.id(), "log commands are not available in this version"),
            },
            Command::Unknown { id, kind } => {
                tracing::warn!(command = id, kind, "unknown command type; ignored")
            }
        }
    }
}

impl Actor for Session {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.register(ctx);
    }
}

impl Supervised for Session {
    fn restarting(&mut self, ctx: &mut Context<Self>) {
        self.pending = None;
        crate::system::on_restart(self, ctx, "session", &self.status);
    }
}

impl Handler<LinkProblem> for Session {
    type Result = ();
    fn handle(&mut self, msg: LinkProblem, ctx: &mut Context<Self>) {
        if self.state.borrow().connection != Connection::Online {
            return;
        }
        match msg.kind {
            ProblemKind::TokenRejected => self.failed(ctx, LinkError::Unauthorized, Call::Register),
            ProblemKind::Disabled { detail } => self.failed(ctx, LinkError::Disabled(detail), Call::Heartbeat),
        }
    }
}

impl Handler<StartDraining> for Session {
    type Result = ();
    fn handle(&mut self, _: StartDraining, ctx: &mut Context<Self>) {
        self.draining = true;
        if self.state.borrow().connection == Connection::Online {
            self.heartbeat(ctx);
        }
    }
}

impl Handler<CommandDone> for Session {
    type Result = ();
    fn handle(&mut self, msg: CommandDone, _: &mut Context<Self>) {
        match msg.outcome {
            CommandOutcome::Done => tracing::debug!(command = msg.id, "command finished"),
            CommandOutcome::NotTaken => {
                tracing::debug!(command = msg.id, "command not taken now; taken again when the portal repeats it");
                self.handled.0.remove(&msg.id);
                self.handled.1.retain(|h| *h != msg.id);
            }
        }
    }
}
