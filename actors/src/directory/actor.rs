//! The directory actor of one configured directory (see `mod.rs`).

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures_util::future::{BoxFuture, FutureExt, Shared};
use ldap3::Ldap;
use rustls::ClientConfig;
use tokio::sync::watch;

use super::codes::LdapFailure;
use super::connect::{open, open_bound, Endpoint};
use super::messages::{BindConnection, Checkout, CheckoutWrites, ReturnUserConnection, TakeUserConnection};
use super::pool::{InUse, Pool};
use super::settings::DirectorySettings;
use crate::errors::{ErrorCode, JobError};
use crate::protocol::wire::DirectoryReport;
use crate::status::{ComponentPublisher, ComponentState};

const HEALTH_EVERY: Duration = Duration::from_secs(10);
/// Bind connections opened ahead of need per directory, and the most kept (returned
/// ones included: a burst of logins leaves that many behind).
const SPARES: usize = 4;
const SPARES_MAX: usize = 32;
const SPARES_QUIET: Duration = Duration::from_secs(60);

/// A connect-and-bind that several checkouts may wait for.
type Opening = Shared<BoxFuture<'static, Result<(usize, Ldap), LdapFailure>>>;

/// A connection lent to a job, and what the job needs to open user connections.
pub struct Lease {
    pub ldap: Ldap,
    pub settings: Arc<DirectorySettings>,
    pub tls: Arc<ClientConfig>,
    pub url_index: usize,
    pub _in_use: InUse,
}

impl Lease {
    pub fn endpoint(&self) -> Endpoint<'_> {
        let url =
            self.settings.urls.get(self.url_index).or(self.settings.urls.first()).unwrap_or(&self.settings.urls[0]);
        Endpoint {
            url,
            tls: self.tls.clone(),
            plain: self.settings.plain_urls,
            connect_timeout: self.settings.connect_timeout,
        }
    }

    /// A connection of the job's own, bound as the service account: a long stream (an
    /// import) on it never delays the pooled connections' logins and writes.
    pub async fn dedicated(&self) -> Result<Ldap, LdapFailure> {
        let s = &self.settings;
        open_bound(&self.endpoint(), &s.bind_dn, s.bind_password.expose(), s.operation_timeout).await
    }
}

pub struct DirectoryActor {
    settings: Arc<DirectorySettings>,
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
    last_miss: Option<std::time::Instant>,
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
        });
        (
            DirectoryActor {
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
                last_miss: None,
            },
            rx,
        )
    }

    fn publish(&mut self) {
        let size = self.pool.size() as u64;
        let in_use = self.pool.in_use() as u64;
        let reachable = size > 0 || self.pool.last_error.is_none();
        let url = self.settings.urls.get(self.pool.preferred_url).map(|u| u.to_string());
        let last_error = self.pool.last_error.clone();
        self.report.send_if_modified(|r| {
            let next = DirectoryReport {
                name: r.name.clone(),
                reachable,
                pool_size: size,
                in_use,
                url: url.clone(),
                last_error: last_error.clone(),
            };
            let changed = *r != next;
            *r = next;
            changed
        });
        let state = if reachable { ComponentState::Running } else { ComponentState::Restarting };
        self.status.set(state, self.pool.last_error.clone());
    }

    /// Connects and binds, trying each URL from the preferred one on.
    fn connect(&self) -> impl std::future::Future<Output = Result<(usize, Ldap), LdapFailure>> {
        let settings = self.settings.clone();
        let tls = self.tls.clone();
        let first = self.pool.preferred_url;
        async move {
            let n = settings.urls.len();
            let mut last = LdapFailure::Connect("no URL configured".into());
            for i in 0..n {
                let idx = (first + i) % n;
                let ep = Endpoint {
                    url: &settings.urls[idx],
                    tls: tls.clone(),
                    plain: settings.plain_urls,
                    connect_timeout: settings.connect_timeout,
                };
                let pw = settings.bind_password.expose();
                match open_bound(&ep, &settings.bind_dn, pw, settings.operation_timeout).await {
                    Ok(ldap) => return Ok((idx, ldap)),
                    // A wrong service password is the same on every URL.
                    Err(e) if e.rc() == Some(49) => return Err(e),
                    Err(e) => last = e,
                }
                tracing::warn!(directory = %settings.name, url = %settings.urls[idx], error = %last, "directory URL failed");
            }
            Err(last)
        }
    }

    fn health(&mut self, ctx: &mut Context<Self>) {
        self.pool.prune();
        self.probe(ctx);
        if self.pool.wants_more(self.settings.pool_min, self.settings.pool_max) && self.opening.is_none() {
            let (number, opening) = self.open();
            opening
                .into_actor(self)
                .map(move |res, act, _| {
                    act.opened(number, &res);
                    act.publish();
                })
                .spawn(ctx);
        }
        self.publish();
    }

    /// Reads the root DSE on every pooled connection: one that does not answer within the
    /// operation timeout (a DC that hangs, a firewall that dropped the flow without a
    /// reset) leaves the pool, since the AD jobs all write over the oldest connection and
    /// the OS would take many minutes to notice. The reads also keep a DC or firewall
    /// from closing idle connections.
    fn probe(&mut self, ctx: &mut Context<Self>) {
        let timeout = self.settings.operation_timeout.min(HEALTH_EVERY);
        for (number, mut ldap) in self.pool.probes() {
            async move {
                let read = ldap.with_timeout(timeout).search("", ldap3::Scope::Base, "(objectClass=*)", vec!["1.1"]);
                matches!(read.await, Ok(ldap3::SearchResult(_, ref r)) if r.rc == 0)
            }
            .into_actor(self)
            .map(move |answered, act, _| {
                if !answered && act.pool.remove(number) {
                    tracing::warn!(directory = %act.settings.name, "a pooled connection did not answer its health probe: dropped");
                    act.publish();
                }
            })
            .spawn(ctx);
        }
    }

    /// The connect in flight, or a new one.
    fn open(&mut self) -> (u64, Opening) {
        if let Some((number, opening)) = &self.opening {
            return (*number, opening.clone());
        }
        self.openings += 1;
        let opening = self.connect().boxed().shared();
        self.opening = Some((self.openings, opening.clone()));
        (self.openings, opening)
    }

    /// Every waiter of connect `number` calls this; the first one to run files it.
    fn opened(&mut self, number: u64, res: &Result<(usize, Ldap), LdapFailure>) {
        if self.opening.as_ref().is_none_or(|(n, _)| *n != number) {
            return;
        }
        self.opening = None;
        match res {
            Ok((idx, ldap)) => self.pool.add(*idx, ldap.clone()),
            Err(e) => self.pool.last_error = Some(e.to_string()),
        }
    }
}

impl DirectoryActor {
    fn refill(&mut self, ctx: &mut Context<Self>) {
        self.spares.retain_mut(|c| c.usable());
        if self.last_miss.is_some_and(|t| t.elapsed() > SPARES_QUIET) {
            self.spares_wanted = (self.spares_wanted - 1).max(SPARES);
            self.last_miss = Some(std::time::Instant::now());
        }
        if self.refilling || self.spares.len() >= self.spares_wanted || self.pool.last_error.is_some() {
            return;
        }
        self.refilling = true;
        let settings = self.settings.clone();
        let tls = self.tls.clone();
        let url = self.pool.preferred_url;
        async move {
            let url = settings.urls.get(url).or(settings.urls.first())?;
            let ep = Endpoint { url, tls, plain: settings.plain_urls, connect_timeout: settings.connect_timeout };
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
            self.spares.push(msg.0);
        }
    }
}

impl Actor for DirectoryActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.health(ctx);
        ctx.run_interval(HEALTH_EVERY, |act, ctx| {
            act.health(ctx);
            act.refill(ctx);
        });
    }
}

impl Supervised for DirectoryActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        let n = self.status.restarted("restarted after a failure".into());
        tracing::warn!(directory = %self.settings.name, restarts = n, "directory actor restarting");
        self.pool.clear();
        self.opening = None;
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

impl DirectoryActor {
    fn lease(&self, (ldap, url_index, in_use): (Ldap, usize, InUse)) -> Lease {
        Lease { ldap, settings: self.settings.clone(), tls: self.tls.clone(), url_index, _in_use: in_use }
    }

    /// A lease on a connection opened now (or by the connect already in flight), or on
    /// one still there when the open fails.
    fn open_lease(&mut self) -> ResponseActFuture<Self, Result<Lease, JobError>> {
        let name = self.settings.name.clone();
        let (number, opening) = self.open();
        Box::pin(opening.into_actor(self).map(move |res, act, _| {
            act.opened(number, &res);
            let out = match res {
                Ok((idx, ldap)) => {
                    let guard = act.pool.guard();
                    Ok(act.lease((ldap, idx, guard)))
                }
                Err(e) => match act.pool.checkout() {
                    Some(taken) => Ok(act.lease(taken)),
                    None => {
                        let mut err = e.to_job_error(&format!("directory `{name}`"));
                        if e.rc() == Some(49) {
                            err = JobError::new(
                                ErrorCode::InvalidCredentials,
                                format!("directory `{name}`: the connector's service account was refused (bind_dn / bind_password)"),
                            );
                        }
                        Err(err)
                    }
                },
            };
            act.publish();
            out
        }))
    }
}

#[cfg(test)]
mod tests;
