//! The Integration Connector List: every connector that registered, what its last
//! heartbeat said, whether the admin archived it, and the commands queued for it.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use rand::Rng;
use serde_json::Value;

use crate::error::ApiError;
use crate::model::{Command, HeartbeatRequest, RegisterRequest};

/// What the last heartbeat of a connector said, and when it came.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    pub at: SystemTime,
    pub seen: Instant,
    pub status: String,
    pub uptime_s: Option<u64>,
    pub queue: Value,
    pub components: Value,
    pub directories: Value,
    /// The connector's offset to this server's clock, when it reported one.
    pub clock_offset_s: Option<i64>,
}

/// A command queued for one connector, repeated in each heartbeat answer until done.
#[derive(Debug, Clone)]
pub struct CommandEntry {
    pub command: Command,
    /// When a heartbeat answer first carried it (a log stream's duration runs from here).
    pub first_sent: Option<Instant>,
    pub done: bool,
}

/// One row of the Integration Connector List.
#[derive(Debug)]
pub struct Connector {
    pub id: String,
    pub name: String,
    pub hostname: String,
    pub os: String,
    pub arch: String,
    pub version: String,
    pub capabilities: Vec<String>,
    pub max_concurrency: Option<u64>,
    pub directories: Value,
    pub archived: bool,
    pub heartbeat: Option<Heartbeat>,
    pub commands: Vec<CommandEntry>,
}

impl Connector {
    /// Online while heartbeats arrive within twice the interval (§2.2).
    pub fn online(&self, interval_s: u64, now: Instant) -> bool {
        self.heartbeat
            .as_ref()
            .is_some_and(|hb| now.saturating_duration_since(hb.seen) <= Duration::from_secs(interval_s * 2))
    }

    /// Note a heartbeat; the version it reports replaces the registered one.
    pub fn record_heartbeat(&mut self, req: HeartbeatRequest, now: Instant) {
        if let Some(version) = req.version.filter(|v| !v.is_empty()) {
            self.version = version;
        }
        self.heartbeat = Some(Heartbeat {
            at: SystemTime::now(),
            seen: now,
            status: req.status,
            uptime_s: req.uptime_s,
            queue: req.queue,
            components: req.components,
            directories: req.directories,
            clock_offset_s: req.clock_offset_s,
        });
    }
}

/// All connectors, in registration order.
#[derive(Debug, Default)]
pub struct Connectors {
    map: HashMap<String, Connector>,
    order: Vec<String>,
}

impl Connectors {
    /// Register a connector: a new id when none is given, else the given id is kept (a
    /// row is made for an id this simulator has not seen, e.g. after its restart).
    pub fn register(&mut self, req: RegisterRequest) -> Result<String, ApiError> {
        let id = match req.connector_id.filter(|id| !id.is_empty()) {
            Some(id) => id,
            None => self.new_id(),
        };
        if let Some(existing) = self.map.get_mut(&id) {
            if existing.archived {
                return Err(ApiError::Forbidden(format!("connector {id} is archived")));
            }
            existing.name = req.name;
            existing.hostname = req.hostname;
            existing.os = req.os;
            existing.arch = req.arch;
            existing.version = req.version;
            existing.capabilities = req.capabilities;
            existing.max_concurrency = req.max_concurrency;
            existing.directories = req.directories;
            return Ok(id);
        }
        self.order.push(id.clone());
        self.map.insert(
            id.clone(),
            Connector {
                id: id.clone(),
                name: req.name,
                hostname: req.hostname,
                os: req.os,
                arch: req.arch,
                version: req.version,
                capabilities: req.capabilities,
                max_concurrency: req.max_concurrency,
                directories: req.directories,
                archived: false,
                heartbeat: None,
                commands: Vec::new(),
            },
        );
        Ok(id)
    }

    fn new_id(&self) -> String {
        let mut rng = rand::thread_rng();
        loop {
            let id = format!("{:016x}{:016x}", rng.gen::<u64>(), rng.gen::<u64>());
            if !self.map.contains_key(&id) {
                return id;
            }
        }
    }

    pub fn get(&self, id: &str) -> Option<&Connector> {
        self.map.get(id)
    }

    /// The connector `id`, or 404 for the admin.
    pub fn find_mut(&mut self, id: &str) -> Result<&mut Connector, ApiError> {
        self.map.get_mut(id).ok_or_else(|| ApiError::NotFound(format!("connector {id} not found")))
    }

    /// Every connector in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &Connector> {
        self.order.iter().filter_map(|id| self.map.get(id))
    }
}
