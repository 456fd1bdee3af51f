//! The audit actor (see `mod.rs`).

use crate::platform::OpenOptionsExt;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use actix::prelude::*;

use super::chain::{append, AuditEntry, AuditError, FILE_NAME};
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
        self.file = None;
        if let Err(e) = self.reopen() {
            tracing::error!(error = %e, "audit journal cannot be reopened");
        }
    }
}

impl Handler<AppendAudit> for AuditActor {
    type Result = Result<(), AuditError>;

    fn handle(&mut self, msg: AppendAudit, _: &mut Context<Self>) -> Self::Result {
        let res = self.append(msg.entry);
        self.publish(res.as_ref().err().map(ToString::to_string));
        if let Err(e) = &res {
            tracing::error!(error = %e, "cannot write the audit journal");
        }
        res
    }
}

impl AuditActor {
    fn append(&mut self, entry: AuditEntry) -> Result<(), AuditError> {
        if self.file.is_none() {
            self.reopen()?;
            self.problem = None;
        }
        let io = |source| AuditError::Io { path: self.path.display().to_string(), source };
        let file = self.file.as_mut().ok_or_else(|| io(std::io::Error::other("journal not open")))?;
        let before = file.metadata().map_err(io)?.len();
        match append(file, &self.last_hash, entry) {
            Ok(hash) => {
                self.last_hash = hash;
                Ok(())
            }
            Err(e) => {
                // A line cut short (ENOSPC, EIO) would break the chain under the next
                // one: cut it off now; if even that fails, the reopen before the next
                // append moves the torn tail aside.
                let _ = file.set_len(before);
                self.file = None;
                Err(io(e))
            }
        }
    }
}
