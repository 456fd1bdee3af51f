//! The audit actor (see `mod.rs`).

use crate::platform::OpenOptionsExt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

use actix::prelude::*;
use tokio::sync::oneshot;

use super::chain::{line, AuditError, FILE_NAME};
use super::messages::AppendAudit;
use super::tail::recover;
use crate::status::{ComponentPublisher, ComponentState};
use crate::time::now_ms;

pub struct AuditActor {
    path: PathBuf,
    file: Option<File>,
    last_hash: String,
    /// What opening found (a torn tail moved aside), shown with the `running` state.
    notice: Option<String>,
    /// Why the journal could not be opened at start, until it is.
    problem: Option<String>,
    /// `failing` after a line could not be written, `running` after one was.
    status: Option<ComponentPublisher>,
    /// Lines chained but not yet written (group commit: one write and one sync for every
    /// line that arrived while the actor was busy).
    group: Group,
    /// Group writes made (each one `fdatasync`), for the tests.
    writes: u64,
}

/// Lines appended since the last write, and who waits for each.
#[derive(Default)]
struct Group {
    text: String,
    waiters: Vec<oneshot::Sender<Result<(), AuditError>>>,
    /// The chain's head before the group's first line: put back when its write fails.
    base: String,
}

impl AuditActor {
    /// Opens the journal in `dir`, checking the chain so far; a torn tail is moved
    /// aside ([`recover`]) and said in a warning and the component's detail.
    ///
    /// A journal that cannot be opened or whose chain is broken (a whole line edited,
    /// removed, or cut short in the middle) does not stop the connector: logins and
    /// imports need no journal. The component says `failing` with the problem, and every
    /// AD write is refused (its intent cannot be journaled) until the journal opens again,
    /// which is tried before each write: an administrator keeps the broken file as
    /// evidence and moves it aside (`audit verify` names the line).
    pub fn open(dir: &std::path::Path) -> AuditActor {
        let mut actor = AuditActor {
            path: dir.join(FILE_NAME),
            file: None,
            last_hash: String::new(),
            notice: None,
            problem: None,
            status: None,
            group: Group::default(),
            writes: 0,
        };
        if let Err(e) = actor.reopen() {
            tracing::error!(error = %e, "the audit journal cannot be used: AD writes are refused until it can (logins and imports go on)");
            actor.problem = Some(e.to_string());
        }
        actor
    }

    /// Publishes the journal's health as component `audit`.
    pub fn with_status(mut self, status: ComponentPublisher) -> Self {
        self.status = Some(status);
        self.publish(self.problem.clone());
        self
    }

    fn publish(&self, failure: Option<String>) {
        if let Some(s) = &self.status {
            match failure {
                None => s.set(ComponentState::Running, self.notice.clone()),
                Some(e) => s.set(
                    ComponentState::Failing,
                    Some(format!("{e}: AD writes are refused until a line can be written")),
                ),
            }
        }
    }

    /// Re-reads the chain (moving a torn tail aside) and opens the journal for appends.
    fn reopen(&mut self) -> Result<(), AuditError> {
        let recovered = recover(&self.path, now_ms())?;
        if let Some(notice) = recovered.notice() {
            tracing::warn!(journal = %self.path.display(), "audit journal: {notice}");
            self.notice = Some(notice);
        }
        self.last_hash = recovered.verified.last_hash;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(|source| AuditError::Io { path: self.path.display().to_string(), source })?;
        self.file = Some(file);
        Ok(())
    }
}

impl Actor for AuditActor {
    type Context = Context<Self>;
}

impl Supervised for AuditActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // Lines not written are answered with an error (their writes were never sent).
        self.group = Group::default();
        self.file = None;
        if let Err(e) = self.reopen() {
            tracing::error!(error = %e, "audit journal cannot be reopened");
        }
    }
}

impl Handler<AppendAudit> for AuditActor {
    type Result = ResponseFuture<Result<(), AuditError>>;

    /// Chains the line after the last one and joins it to the group the next
    /// [`WriteGroup`] writes; answered once that write is synced.
    fn handle(&mut self, msg: AppendAudit, ctx: &mut Context<Self>) -> Self::Result {
        if self.group.waiters.is_empty() {
            if let Err(e) = self.ready() {
                self.failed(&e);
                return Box::pin(async move { Err(e) });
            }
            self.group.base = self.last_hash.clone();
            // After the messages already in the mailbox: their lines join this write.
            ctx.notify(WriteGroup);
        }
        // The chain's head moves now, for the next line of the group; a failed write
        // puts it back (`write_group`), and no one is answered before the sync.
        let (text, hash) = line(&self.last_hash, msg.entry);
        self.group.text.push_str(&text);
        self.last_hash = hash;
        let (tx, rx) = oneshot::channel();
        self.group.waiters.push(tx);
        let path = self.path.display().to_string();
        Box::pin(async move {
            rx.await.unwrap_or_else(|_| {
                Err(AuditError::Io {
                    path,
                    source: std::io::Error::other("the audit actor restarted before the line was written"),
                })
            })
        })
    }
}

/// Writes the lines appended since the last write, with one sync.
#[derive(Message)]
#[rtype(result = "()")]
struct WriteGroup;

impl Handler<WriteGroup> for AuditActor {
    type Result = ();

    fn handle(&mut self, _: WriteGroup, _: &mut Context<Self>) {
        let group = std::mem::take(&mut self.group);
        match self.write_group(&group.text) {
            Ok(()) => {
                self.publish(None);
                for w in group.waiters {
                    let _ = w.send(Ok(()));
                }
            }
            Err(e) => {
                self.last_hash = group.base;
                self.failed(&e);
                for w in group.waiters {
                    let source = match &e {
                        AuditError::Io { source, .. } => std::io::Error::new(source.kind(), source.to_string()),
                        other => std::io::Error::other(other.to_string()),
                    };
                    let _ = w.send(Err(AuditError::Io { path: self.path.display().to_string(), source }));
                }
            }
        }
    }
}

impl AuditActor {
    /// The journal open for appends (reopened, and its chain re-read, after a failure).
    fn ready(&mut self) -> Result<(), AuditError> {
        if self.file.is_none() {
            self.reopen()?;
            self.problem = None;
        }
        Ok(())
    }

    fn failed(&self, e: &AuditError) {
        self.publish(Some(e.to_string()));
        tracing::error!(error = %e, "cannot write the audit journal");
    }

    fn write_group(&mut self, text: &str) -> Result<(), AuditError> {
        let io = |source| AuditError::Io { path: self.path.display().to_string(), source };
        let file = self.file.as_mut().ok_or_else(|| io(std::io::Error::other("journal not open")))?;
        let before = file.metadata().map_err(io)?.len();
        self.writes += 1;
        let written = file.write_all(text.as_bytes()).and_then(|()| file.sync_data());
        if let Err(e) = written {
            // Lines cut short (ENOSPC, EIO) would break the chain under the next one:
            // cut them off now; if even that fails, the reopen before the next append
            // moves the torn tail aside.
            let _ = file.set_len(before);
            self.file = None;
            return Err(io(e));
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "actor/tests.rs"]
mod tests;
