//! The log shipper actor (see `mod.rs`): only the actix impls.

use std::collections::HashSet;
use std::time::Duration;

use actix::prelude::*;
use reqwest::Method;
use serde_json::json;
use tokio::sync::{broadcast, watch};

use super::bundle::BundleInfo;
use super::line::LogLine;
use super::settings::LogShipSettings;
use super::stream;
use super::upload::{upload, UploadAsk};
use crate::link::{CommandDone, LinkState, LogCommand, PortalClient, RequestBody};
use crate::protocol::wire::Command;
use crate::status::{ComponentPublisher, ComponentState};

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
        LogShipper { settings, client, link, done, tap, busy: HashSet::new(), status }
    }

    fn finish(&mut self, id: String) {
        self.busy.remove(&id);
        self.done.do_send(CommandDone { id });
    }
}

impl Actor for LogShipper {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        self.status.set(ComponentState::Running, None);
    }
}

impl Supervised for LogShipper {
    fn restarting(&mut self, _: &mut Context<Self>) {
        let n = self.status.restarted("restarted after a failure".into());
        tracing::warn!(restarts = n, "log shipper restarting");
        self.busy.clear();
    }
}

impl Handler<LogCommand> for LogShipper {
    type Result = ();

    fn handle(&mut self, msg: LogCommand, ctx: &mut Context<Self>) {
        let id = msg.command.id().to_owned();
        let Some(connector_id) = self.link.borrow().connector_id.clone() else {
            tracing::warn!(command = %id, "log command before registration; ignored");
            return;
        };
        if !self.busy.insert(id.clone()) {
            return;
        }
        let client = self.client.clone();
        match msg.command {
            Command::UploadLogs { request_id, since, until, .. } => {
                tracing::info!(command = %id, request_id, ?since, ?until, "log upload requested");
                let info = BundleInfo {
                    connector_id: Some(connector_id.clone()),
                    host: self.settings.host.clone(),
                    since,
                    until,
                    audit_journal: self.settings.audit_journal.clone(),
                };
                let ask =
                    UploadAsk { request_id: request_id.clone(), connector_id, dir: self.settings.dir.clone(), info };
                async move { upload(&client, ask).await }
                    .into_actor(self)
                    .map(move |res, act, _| {
                        match res {
                            Ok(r) => tracing::info!(
                                request_id,
                                files = r.files,
                                bytes = r.bytes,
                                left_out = r.left_out.len(),
                                "log upload delivered"
                            ),
                            Err(e) => tracing::error!(request_id, error = %e, "log upload given up"),
                        }
                        act.finish(id);
                    })
                    .spawn(ctx);
            }
            Command::StreamLogs { request_id, duration_s, level, .. } => {
                tracing::info!(command = %id, request_id, duration_s, level, "log stream requested");
                let rx = self.tap.subscribe();
                let path = format!("/log-streams/{request_id}");
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
                        act.finish(id);
                    })
                    .spawn(ctx);
            }
            Command::CancelJob { .. } | Command::Unknown { .. } => {
                self.busy.remove(&id);
            }
        }
    }
}
