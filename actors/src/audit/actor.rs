//! The audit actor (see `mod.rs`).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use actix::prelude::*;

use super::chain::{append, verify, AuditEntry, AuditError, FILE_NAME};
use crate::status::{ComponentPublisher, ComponentState};

#[derive(Message)]
#[rtype(result = "Result<(), AuditError>")]
pub struct AppendAudit {
    pub entry: AuditEntry,
}

pub struct AuditActor {
    path: PathBuf,
    file: Option<File>,
    last_hash: String,
    /// `failing` after a line could not be written, `running` after one was.
    status: Option<ComponentPublisher>,
}

impl AuditActor {
    /// Opens the journal in `dir`, checking the chain so far.
    pub fn open(dir: &std::path::Path) -> Result<AuditActor, AuditError> {
        let path = dir.join(FILE_NAME);
        let (_, last_hash) = verify(&path)?;
        let mut actor = AuditActor { path, file: None, last_hash, status: None };
        actor.reopen()?;
        Ok(actor)
    }

    /// Publishes the journal's health as component `audit`.
    pub fn with_status(mut self, status: ComponentPublisher) -> Self {
        status.set(ComponentState::Running, None);
        self.status = Some(status);
        self
    }

    fn publish(&self, failure: Option<String>) {
        if let Some(s) = &self.status {
            match failure {
                None => s.set(ComponentState::Running, None),
                Some(e) => s.set(
                    ComponentState::Failing,
                    Some(format!("{e}: AD writes are refused until a line can be written")),
                ),
            }
        }
    }

    fn reopen(&mut self) -> Result<(), AuditError> {
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
        match verify(&self.path) {
            Ok((_, hash)) => self.last_hash = hash,
            Err(e) => tracing::error!(error = %e, "audit journal chain is broken"),
        }
        let _ = self.reopen();
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
        }
        let io = |source| AuditError::Io { path: self.path.display().to_string(), source };
        let file = self.file.as_mut().ok_or_else(|| io(std::io::Error::other("journal not open")))?;
        match append(file, &self.last_hash, entry) {
            Ok(hash) => {
                self.last_hash = hash;
                Ok(())
            }
            Err(e) => {
                self.file = None;
                Err(io(e))
            }
        }
    }
}
