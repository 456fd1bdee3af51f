//! The log shipper actor (see `mod.rs`): only the actix impls.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use actix::prelude::*;
use reqwest::Method;
use serde_json::json;
use tokio::sync::{broadcast, watch};

use super::bundle::BundleInfo;
use super::line::LogLine;
use super::messages::{CommandDone, CommandOutcome, LogCommand};
use super::settings::LogShipSettings;
use super::stream;
use super::upload::{remove_stale_bundles, upload, UploadAsk};
use crate::link::{LinkState, PortalClient, RequestBody};
use crate::protocol::wire::Command;
use crate::status::{ComponentPublisher, ComponentState};

/// Live log streams at once; a further `stream_logs` is refused (each holds a
/// subscription to every log line).
const MAX_STREAMS: usize = 2;
/// Uploads that may wait behind the one in progress; each costs only its command.
const MAX_WAITING_UPLOADS: usize = 8;

pub struct LogShipper {
    settings: LogShipSettings,
    client: PortalClient,
    /// The session's published state: the connector id for `X-Connector-Id`.
    link: watch::Receiver<LinkState>,
    /// Told when a command is finished.
    done: Recipient<CommandDone>,
    /// The process's log lines (already redacted); each stream subscribes.
    tap: broadcast::Sender<LogLine>,
    /// Command ids in progress.
    busy: HashSet<String>,
    /// The one upload in progress: a bundle is built and sent one at a time, so memory
    /// and scratch space stay bounded whatever the portal asks.
    uploading: Option<String>,
    /// Uploads asked while one was in progress, oldest first (at most
    /// [`MAX_WAITING_UPLOADS`]): the session passes a command on once, so they wait here.
    waiting: VecDeque<Command>,
    /// Streams in progress (at most [`MAX_STREAMS`]).
    streams: usize,
    status: ComponentPublisher,
}

impl LogShipper {
    pub fn new(
        settings: LogShipSettings,
        client: PortalClient,
        link: watch::Receiver<LinkState>,
        done: Recipient<CommandDone>,
        tap: broadcast::Sender<LogLine>,
        status: ComponentPublisher,
    ) -> Self {
        LogShipper {
            settings,
            client,
            link,
            done,
            tap,
            busy: HashSet::new(),
            uploading: None,
            waiting: VecDeque::new(),
            streams: 0,
            status,
        }
    }

    fn finish(&mut self, id: String, outcome: CommandOutcome) {
        self.busy.remove(&id);
        if self.uploading.as_deref() == Some(&id) {
            self.uploading = None;
        }
        self.done.do_send(CommandDone { id, outcome });
    }
}

impl Actor for LogShipper {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        remove_stale_bundles(&self.settings.scratch);
        self.status.set(ComponentState::Running, None);
        self.next_upload(ctx);
    }
}

impl Supervised for LogShipper {
    fn restarting(&mut self, ctx: &mut Context<Self>) {
        self.busy.clear();
        self.uploading = None;
        self.streams = 0;
        crate::system::on_restart(self, ctx, "log_shipper", &self.status);
    }
}

impl Handler<LogCommand> for LogShipper {
    type Result = ();

    fn handle(&mut self, msg: LogCommand, ctx: &mut Context<Self>) {
        let id = msg.command.id();
        if self.busy.contains(id) || self.waiting.iter().any(|w| w.id() == id) {
            return;
        }
        match &msg.command {
            Command::UploadLogs { .. } if self.uploading.is_some() => {
                if self.waiting.len() < MAX_WAITING_UPLOADS {
                    tracing::info!(command = %id, "log upload waits for the one in progress");
                    self.waiting.push_back(msg.command);
                } else {
                    tracing::warn!(command = %id, waiting = MAX_WAITING_UPLOADS, "many log uploads asked at once: this one is taken when the portal repeats it");
                    self.done.do_send(CommandDone { id: id.to_owned(), outcome: CommandOutcome::NotTaken });
                }
            }
            Command::StreamLogs { .. } if self.streams >= MAX_STREAMS => {
                tracing::warn!(command = %id, streams = MAX_STREAMS, "too many live log streams at once: this one starts when the portal repeats it after one ended");
                self.done.do_send(CommandDone { id: id.to_owned(), outcome: CommandOutcome::NotTaken });
            }
            _ => self.start(msg.command, ctx),
        }
    }
}

impl LogShipper {
    fn start(&mut self, command: Command, ctx: &mut Context<Self>) {
        let id = command.id().to_owned();
        let Some(connector_id) = self.link.borrow().connector_id.clone() else {
            tracing::warn!(command = %id, "log command before registration; ignored");
            return;
        };
        self.busy.insert(id.clone());
        let client = self.client.clone();
        match command {
            Command::UploadLogs { request_id, since, until, .. } => {
                tracing::info!(command = %id, request_id, ?since, ?until, "log upload requested");
                let info = BundleInfo {
                    connector_id: Some(connector_id.clone()),
                    host: self.settings.host.clone(),
                    since,
                    until,
                    audit_journal: self.settings.audit_journal.clone(),
                };
                let ask = UploadAsk {
                    request_id: request_id.clone(),
                    connector_id,
                    dir: self.settings.dir.clone(),
                    info,
                    scratch: self.settings.scratch.clone(),
                    max_bytes: self.settings.upload_max_bytes,
                };
                self.uploading = Some(id.clone());
                async move { upload(&client, ask).await }
                    .into_actor(self)
                    .map(move |res, act, ctx| {
                        let outcome = match res {
                            Ok(r) => {
                                tracing::info!(
                                    request_id,
                                    files = r.files,
                                    bytes = r.bytes,
                                    left_out = r.left_out.len(),
                                    "log upload delivered"
                                );
                                CommandOutcome::Done
                            }
                            Err(e) if e.worth_retrying() => {
                                tracing::error!(request_id, error = %e, "log upload failed; tried again when the portal repeats the command");
                                CommandOutcome::NotTaken
                            }
                            Err(e) => {
                                tracing::error!(request_id, error = %e, "log upload given up");
                                CommandOutcome::Done
                            }
                        };
                        act.finish(id, outcome);
                        act.next_upload(ctx);
                    })
                    .spawn(ctx);
            }
            Command::StreamLogs { request_id, duration_s, level, .. } => {
                tracing::info!(command = %id, request_id, duration_s, level, "log stream requested");
                let rx = self.tap.subscribe();
                self.streams += 1;
                let path = format!("/log-streams/{}", crate::link::encode_segment(&request_id));
                let post = move |lines: Vec<LogLine>| {
                    let (client, path, cid) = (client.clone(), path.clone(), connector_id.clone());
                    async move {
                        let body = RequestBody::Json(json!({ "lines": lines }));
                        client.call(Method::POST, &path, Some(&cid), Some(body), None).await.map(|_| ())
                    }
                };
                let duration = Duration::from_secs(duration_s.min(24 * 3600));
                async move { stream::run(rx, &level, duration, post).await }
                    .into_actor(self)
                    .map(move |report, act, _| {
                        tracing::info!(request_id, requests = report.requests, lines = report.lines, dropped = report.dropped, stopped = ?report.stopped, "log stream ended");
                        act.streams = act.streams.saturating_sub(1);
                        act.finish(id, CommandOutcome::Done);
                    })
                    .spawn(ctx);
            }
            Command::CancelJob { .. } | Command::Unknown { .. } => {
                self.busy.remove(&id);
            }
        }
    }

    /// Starts the oldest waiting upload, if none is in progress.
    fn next_upload(&mut self, ctx: &mut Context<Self>) {
        if self.uploading.is_none() {
            if let Some(next) = self.waiting.pop_front() {
                self.start(next, ctx);
            }
        }
    }
}
