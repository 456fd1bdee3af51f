//! The status board: each actor publishes its own state into a `watch` channel it owns;
//! the heartbeat, the UI and `/healthz` read snapshots and never wait on a busy mailbox.

use std::sync::Arc;
use tokio::sync::watch;

use crate::protocol::wire::{ComponentReport, DirectoryReport, QueueFigures};
use crate::queue::{ImportReport, ImportRun};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentState {
    Starting,
    Running,
    Restarting,
    Stopped,
    /// Running, but its last operation failed (e.g. the audit journal could not be
    /// written): the connector is `degraded` until one succeeds.
    Failing,
    /// The queue cannot write to its storage path (disk full, I/O error, read-only):
    /// nothing is taken or acknowledged until a write succeeds; `detail` says why.
    StorageUnavailable,
}

impl ComponentState {
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentState::Starting => "starting",
            ComponentState::Running => "running",
            ComponentState::Restarting => "restarting",
            ComponentState::Stopped => "stopped",
            ComponentState::Failing => "failing",
            ComponentState::StorageUnavailable => "storage_unavailable",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ComponentStatus {
    pub name: String,
    pub state: ComponentState,
    pub restarts: u64,
    pub detail: Option<String>,
}

/// The write end an actor keeps for itself.
#[derive(Debug)]
pub struct ComponentPublisher {
    tx: watch::Sender<ComponentStatus>,
    /// When its recent restarts happened (for the restart budget, `system.rs`).
    recent: std::sync::Mutex<std::collections::VecDeque<std::time::Instant>>,
    escalation: Escalation,
}

/// The one channel through which a component past its restart budget tells the
/// lifecycle owner, which drains and exits so that systemd starts a fresh process.
#[derive(Debug, Clone)]
pub struct Escalation(Arc<watch::Sender<Option<String>>>);

impl Default for Escalation {
    fn default() -> Self {
        Escalation(Arc::new(watch::channel(None).0))
    }
}

impl ComponentPublisher {
    pub fn set(&self, state: ComponentState, detail: Option<String>) {
        self.tx.send_modify(|s| {
            s.state = state;
            s.detail = detail;
        });
    }

    /// Counts a restart; returns the new count.
    pub fn restarted(&self, detail: String) -> u64 {
        let mut n = 0;
        self.tx.send_modify(|s| {
            s.restarts += 1;
            s.state = ComponentState::Restarting;
            s.detail = Some(detail);
            n = s.restarts;
        });
        n
    }

    pub fn restarts(&self) -> u64 {
        self.tx.borrow().restarts
    }

    /// Restarts counted within the last `window`, this one included (call after
    /// [`ComponentPublisher::restarted`]).
    pub fn restarts_within(&self, window: std::time::Duration) -> usize {
        let now = std::time::Instant::now();
        match self.recent.lock() {
            Ok(mut recent) => {
                recent.push_back(now);
                while recent.front().is_some_and(|t| now.duration_since(*t) > window) {
                    recent.pop_front();
                }
                recent.len()
            }
            Err(_) => 0,
        }
    }

    /// Tells the lifecycle owner this component cannot go on (`why` in plain words).
    pub fn escalate(&self, why: String) {
        self.escalation.0.send_replace(Some(why));
    }
}

/// Read ends of everything published. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct StatusBoard {
    components: Arc<std::sync::Mutex<Vec<watch::Receiver<ComponentStatus>>>>,
    escalation: Escalation,
    queue: Option<watch::Receiver<QueueFigures>>,
    /// Shared by every clone: a reload replaces a directory's entry for all readers.
    directories: Arc<std::sync::Mutex<Vec<watch::Receiver<DirectoryReport>>>>,
    /// Running imports, published by the queue actor at each batch (`queue/progress.rs`).
    imports: Option<watch::Receiver<Vec<ImportRun>>>,
}

impl StatusBoard {
    /// Registers a component; the returned publisher is its only write end.
    pub fn component(&self, name: &str) -> ComponentPublisher {
        let (tx, rx) = watch::channel(ComponentStatus {
            name: name.to_owned(),
            state: ComponentState::Starting,
            restarts: 0,
            detail: None,
        });
        if let Ok(mut list) = self.components.lock() {
            list.push(rx);
        }
        ComponentPublisher { tx, recent: Default::default(), escalation: self.escalation.clone() }
    }

    /// Changes to `Some(why)` once a component escalated (see [`ComponentPublisher::escalate`]).
    pub fn escalations(&self) -> watch::Receiver<Option<String>> {
        self.escalation.0.subscribe()
    }

    pub fn with_queue(mut self, rx: watch::Receiver<QueueFigures>) -> Self {
        self.queue = Some(rx);
        self
    }

    pub fn with_imports(mut self, rx: watch::Receiver<Vec<ImportRun>>) -> Self {
        self.imports = Some(rx);
        self
    }

    /// Running imports' progress now (rates read at this moment), by job id.
    pub fn imports(&self) -> Vec<ImportReport> {
        let now = std::time::Instant::now();
        let mut out: Vec<ImportReport> =
            self.imports.as_ref().map(|rx| rx.borrow().iter().map(|r| r.report(now)).collect()).unwrap_or_default();
        out.sort_by(|a, b| a.job_id.cmp(&b.job_id));
        out
    }

    pub fn with_directory(self, rx: watch::Receiver<DirectoryReport>) -> Self {
        if let Ok(mut list) = self.directories.lock() {
            list.push(rx);
        }
        self
    }

    /// A reload replaced or removed directory `name`: its figures and its pool component
    /// (`ldap_pool:{name}`) leave the board (a successor registers its own).
    pub fn forget_directory(&self, name: &str) {
        if let Ok(mut list) = self.directories.lock() {
            list.retain(|rx| rx.borrow().name != name);
        }
        let component = format!("ldap_pool:{name}");
        if let Ok(mut list) = self.components.lock() {
            list.retain(|rx| rx.borrow().name != component);
        }
    }

    pub fn directories(&self) -> Vec<DirectoryReport> {
        match self.directories.lock() {
            Ok(list) => list.iter().map(|rx| rx.borrow().clone()).collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn components(&self) -> Vec<ComponentStatus> {
        match self.components.lock() {
            Ok(list) => list.iter().map(|rx| rx.borrow().clone()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The heartbeat's components (PROTOCOL.md §2.2), then one `import:{job id}` per
    /// running import: state `running`, its progress in words as `detail` and as figures
    /// in the extra field `progress`.
    pub fn component_reports(&self) -> Vec<ComponentReport> {
        let mut out: Vec<ComponentReport> = self
            .components()
            .into_iter()
            .map(|c| ComponentReport {
                name: c.name,
                state: c.state.as_str().to_owned(),
                restarts: c.restarts,
                detail: c.detail,
                progress: None,
            })
            .collect();
        let now = std::time::Instant::now();
        let runs = self.imports.as_ref().map(|rx| rx.borrow().clone()).unwrap_or_default();
        out.extend(runs.iter().map(|r| ComponentReport {
            name: format!("import:{}", r.job_id),
            state: "running".into(),
            restarts: 0,
            detail: Some(r.describe(now)),
            progress: Some(r.report(now)),
        }));
        out
    }

    pub fn queue(&self) -> QueueFigures {
        self.queue.as_ref().map(|rx| rx.borrow().clone()).unwrap_or_default()
    }

    /// Why the storage is unavailable (the component's detail), while it is.
    pub fn storage_problem(&self) -> Option<String> {
        self.components()
            .into_iter()
            .find(|c| c.state == ComponentState::StorageUnavailable)
            .map(|c| c.detail.unwrap_or_else(|| "storage_unavailable".into()))
    }

    /// Any component not running (restarting, stopped, failing, storage unavailable)
    /// makes the connector `degraded`.
    pub fn degraded(&self) -> bool {
        self.components().iter().any(|c| c.state != ComponentState::Running)
            || self.directories().iter().any(|d| !d.reachable)
    }
}
