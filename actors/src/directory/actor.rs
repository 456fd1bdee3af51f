//! The directory actor of one configured directory (see `mod.rs`).

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use rustls::ClientConfig;
use tokio::sync::watch;

use super::connect::{open, Endpoint};
use super::discovery::Failback;
use super::lease::Lease;
use super::messages::{BindConnection, Checkout, CheckoutWrites, Retire, ReturnUserConnection, TakeUserConnection};
use super::pool::Pool;
use super::settings::DirectorySettings;
use crate::errors::JobError;
use crate::protocol::wire::DirectoryReport;
use crate::status::{ComponentPublisher, ComponentState};
use connections::Opening;
use servers::Servers;

const HEALTH_EVERY: Duration = Duration::from_secs(10);
/// Bind connections opened ahead of need per directory, and the most kept (returned
/// ones included: a burst of logins leaves that many behind).
const SPARES: usize = 4;
const SPARES_MAX: usize = 32;
const SPARES_QUIET: Duration = Duration::from_secs(60);

pub struct DirectoryActor {
    settings: Arc<DirectorySettings>,
    /// Where its servers come from: `urls`, DNS, or both.
    servers: Servers,
    /// When to return to a better-ranked server after a failover (discovery only).
    failback: Failback,
    failback_probing: bool,
    tls: Arc<ClientConfig>,
    pool: Pool,
    report: watch::Sender<DirectoryReport>,
    status: ComponentPublisher,
    /// The connect in flight, with its number: every checkout that arrives while it runs
    /// waits for it, so a burst of jobs after the directory came back (the pool empty)
    /// opens one connection, not one each.
    opening: Option<(u64, Opening)>,
    openings: u64,
    /// TLS connections that carry only user binds (see [`BindConnection`]).
    spares: Vec<BindConnection>,
    refilling: bool,
    /// How many bind connections to keep ready: one more each time a login finds none
    /// (a burst of logins teaches the size of its bursts), one less per quiet minute.
    spares_wanted: usize,
    /// The last health probe's round trip, ms (published for the status page's chart).
    rtt_ms: Option<f64>,
    last_miss: Option<std::time::Instant>,
    /// Shared by this directory's logins (lockout shield, group cache); kept across
    /// restarts of the actor, which keep the actor value.
    memory: Arc<crate::ldap::auth::LoginMemory>,
    /// The health probe's timer, cancelled by [`Retire`] so that the actor stops once
    /// nothing holds its address.
    health_timer: Option<SpawnHandle>,
    retired: bool,
    /// The service password's expiry as last read, and when (see `credentials.rs`).
    held: crate::directory::bind::held::Held,
    credentials_read: Option<std::time::Instant>,
    /// The warnings last published, to log each new one once.
    warned: Vec<crate::directory::bind::expiry::Credential>,
}

impl DirectoryActor {
    pub fn new(
        settings: DirectorySettings,
        tls: Arc<ClientConfig>,
        status: ComponentPublisher,
    ) -> (Self, watch::Receiver<DirectoryReport>) {
        let (report, rx) = watch::channel(DirectoryReport {
            name: settings.name.clone(),
            reachable: false,
            pool_size: 0,
            in_use: 0,
            url: None,
            last_error: None,
            rtt_ms: None,
            credential_warnings: Vec::new(),
        });
        let memory = Arc::new(crate::ldap::auth::LoginMemory::new(&settings.login));
        let failback_after = settings.discovery.as_ref().map_or(Duration::from_secs(60), |d| d.failback_after);
        (
            DirectoryActor {
                memory,
                servers: Servers::new(&settings),
                failback: Failback::new(failback_after),
                failback_probing: false,
                settings: Arc::new(settings),
                tls,
                pool: Pool::default(),
                report,
                status,
                opening: None,
                openings: 0,
                spares: Vec::new(),
                refilling: false,
                spares_wanted: SPARES,
                rtt_ms: None,
                last_miss: None,
                health_timer: None,
                retired: false,
                held: crate::directory::bind::held::Held::UNKNOWN,
                credentials_read: None,
                warned: Vec::new(),
            },
            rx,
        )
    }

    /// Shares `memory` (the process's memory of this directory's logins, see
    /// [`crate::ldap::auth::LoginMemories`]) instead of a fresh one.
    pub fn with_login_memory(mut self, memory: Arc<crate::ldap::auth::LoginMemory>) -> Self {
        self.memory = memory;
        self
    }

    fn publish(&mut self) {
        let size = self.pool.size() as u64;
        let in_use = self.pool.in_use() as u64;
        let reachable = size > 0 || self.pool.last_error.is_none();
        let url = self.pool.preferred.as_ref().map(|t| t.url.to_string());
        let last_error = self.pool.last_error.clone();
        let credential_warnings = self.credential_warnings();
        for w in &credential_warnings {
            if !self.warned.contains(&w.credential) {
                tracing::warn!(directory = %self.settings.name, "{}: renew it before then, or logins and imports fail", w.sentence());
            }
        }
        self.warned = credential_warnings.iter().map(|w| w.credential).collect();
        self.report.send_if_modified(|r| {
            let next = DirectoryReport {
                name: r.name.clone(),
                reachable,
                pool_size: size,
                in_use,
                url: url.clone(),
                last_error: last_error.clone(),
                rtt_ms: self.rtt_ms,
                credential_warnings: credential_warnings.clone(),
            };
            let changed = *r != next;
            *r = next;
            changed
        });
        let state = if reachable { ComponentState::Running } else { ComponentState::Restarting };
        self.status.set(state, self.pool.last_error.clone());
    }
}

impl DirectoryActor {
    fn refill(&mut self, ctx: &mut Context<Self>) {
        self.spares.retain_mut(|c| c.usable());
        if self.last_miss.is_some_and(|t| t.elapsed() > SPARES_QUIET) {
            self.spares_wanted = (self.spares_wanted - 1).max(SPARES);
            self.last_miss = Some(std::time::Instant::now());
        }
        if self.retired || self.refilling || self.spares.len() >= self.spares_wanted || self.pool.last_error.is_some() {
            return;
        }
        self.refilling = true;
        let settings = self.settings.clone();
        let tls = self.tls.clone();
        let target = self.pool.preferred.clone();
        async move {
            let target = target?;
            let ep = Endpoint {
                url: &target.url,
                addrs: &target.addrs,
                tls,
                plain: settings.plain_urls,
                connect_timeout: settings.connect_timeout,
            };
            open(&ep).await.ok()
        }
        .into_actor(self)
        .map(|conn, act, ctx| {
            act.refilling = false;
            if let Some(ldap) = conn {
                act.spares.push(BindConnection::new(ldap));
                act.refill(ctx);
            }
        })
        .spawn(ctx);
    }
}

impl Handler<TakeUserConnection> for DirectoryActor {
    type Result = Option<BindConnection>;

    fn handle(&mut self, _: TakeUserConnection, ctx: &mut Context<Self>) -> Option<BindConnection> {
        self.spares.retain_mut(|c| c.usable());
        let conn = self.spares.pop();
        if conn.is_none() {
            self.spares_wanted = (self.spares_wanted + 1).min(SPARES_MAX);
            self.last_miss = Some(std::time::Instant::now());
        }
        self.refill(ctx);
        conn
    }
}

impl Handler<ReturnUserConnection> for DirectoryActor {
    type Result = ();

    fn handle(&mut self, mut msg: ReturnUserConnection, _: &mut Context<Self>) {
        if msg.0.usable() && self.spares.len() < SPARES_MAX {
            msg.0.used();
            self.spares.push(msg.0);
        }
    }
}

impl Actor for DirectoryActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.health(ctx);
        self.health_timer = Some(ctx.run_interval(HEALTH_EVERY, |act, ctx| {
            act.health(ctx);
            act.refill(ctx);
            act.check_failback(ctx);
            act.read_credentials(ctx);
        }));
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        if self.retired {
            tracing::info!(directory = %self.settings.name, "the directory's connections of the previous configuration are closed");
        }
    }
}

impl Handler<Retire> for DirectoryActor {
    type Result = ();

    fn handle(&mut self, _: Retire, ctx: &mut Context<Self>) {
        self.retired = true;
        if let Some(timer) = self.health_timer.take() {
            ctx.cancel_future(timer);
        }
        self.spares.clear();
    }
}

impl Supervised for DirectoryActor {
    fn restarting(&mut self, ctx: &mut Context<Self>) {
        self.pool.clear();
        self.opening = None;
        crate::system::on_restart(self, ctx, "directory", &self.status);
    }
}

impl Handler<Checkout> for DirectoryActor {
    type Result = ResponseActFuture<Self, Result<Lease, JobError>>;

    fn handle(&mut self, _: Checkout, _: &mut Context<Self>) -> Self::Result {
        let wants_more = self.pool.wants_more(self.settings.pool_min, self.settings.pool_max);
        if !wants_more {
            if let Some(taken) = self.pool.checkout() {
                return Box::pin(actix::fut::ready(Ok(self.lease(taken))));
            }
        }
        self.open_lease()
    }
}

impl Handler<CheckoutWrites> for DirectoryActor {
    type Result = ResponseActFuture<Self, Result<Lease, JobError>>;

    fn handle(&mut self, _: CheckoutWrites, _: &mut Context<Self>) -> Self::Result {
        match self.pool.first() {
            Some(taken) => Box::pin(actix::fut::ready(Ok(self.lease(taken)))),
            None => self.open_lease(),
        }
    }
}

mod connections;
mod credentials;
mod failback;
mod servers;
#[cfg(test)]
mod tests;
