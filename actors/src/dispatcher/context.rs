//! What a running job holds of the dispatcher's world.

use actix::Addr;

use crate::queue::QueueActor;

/// What a job can reach while it runs: its journal (through the queue).
#[derive(Clone)]
pub struct JobContext {
    pub queue: Addr<QueueActor>,
    pub job_id: String,
    pub attempts: u32,
    /// Set by the job before its first directory write; checked before stopping it.
    pub no_return: super::PointOfNoReturn,
}
