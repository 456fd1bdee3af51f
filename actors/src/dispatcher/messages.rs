//! Messages of the dispatcher and of its executors.

use actix::Message;
use serde_json::Value;

use crate::errors::JobError;

/// New jobs may be runnable: look now.
#[derive(Message)]
#[rtype(result = "()")]
pub struct JobsArrived;

#[derive(Message)]
#[rtype(result = "()")]
pub struct CancelRunning {
    pub id: String,
}

/// Stop starting jobs; the reply comes when no job runs any more.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Drain;

#[derive(Message)]
#[rtype(result = "()")]
pub struct RunFinished {
    pub id: String,
    pub outcome: Result<Value, JobError>,
}

/// How many jobs run now (for the UI and tests).
#[derive(Message)]
#[rtype(result = "usize")]
pub struct RunningCount;

/// The directories jobs run against from now on (a reload of the configuration): jobs
/// already running keep the directory actor they started with and finish on it; a job
/// that names a directory no longer configured fails `unknown_directory`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ReplaceDirectories {
    pub directories: std::collections::BTreeMap<String, actix::Addr<crate::directory::DirectoryActor>>,
}
