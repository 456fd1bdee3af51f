//! What the AD jobs of one directory learn from it and keep: its attribute schema (read
//! once, again when a job names an attribute it does not know), its protected principals
//! (resolved at the first AD job, again after `policy.protected_refresh`), and the
//! `invocationId` of each DC by `dsServiceName` (a create's proof that it met the same
//! DC database again).
//!
//! Shared by the jobs of a directory behind async mutexes: the first job that needs a
//! figure reads it and the others wait for that read rather than starting their own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::protected::Protected;
use super::schema::Schema;

/// One directory's knowledge.
#[derive(Default)]
pub struct Knowledge {
    pub(super) schema: tokio::sync::Mutex<Option<Arc<Schema>>>,
    pub(super) protected: tokio::sync::Mutex<Option<(Instant, Arc<Protected>)>>,
    pub(super) invocation_ids: Mutex<HashMap<String, String>>,
}

/// Every directory's knowledge, by directory name (cheap to clone: one `Arc`).
#[derive(Clone, Default)]
pub struct KnowledgeCache(Arc<Mutex<HashMap<String, Arc<Knowledge>>>>);

impl KnowledgeCache {
    pub fn for_directory(&self, name: &str) -> Arc<Knowledge> {
        let mut map = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry(name.to_owned()).or_default().clone()
    }
}
