//! The directory actor's service-account connections: opening them (one connect at a
//! time, shared by every checkout that waits for it), probing them, lending them.

use actix::prelude::*;
use futures_util::future::{BoxFuture, FutureExt, Shared};
use ldap3::Ldap;

use std::sync::Arc;

use rustls::ClientConfig;

use super::servers::current_first;
use super::{DirectoryActor, Lease, HEALTH_EVERY};
use crate::directory::bind::open_service;
use crate::directory::connect::Endpoint;
use crate::directory::discovery::{Freshness, Target};
use crate::directory::pool::InUse;
use crate::directory::settings::DirectorySettings;
use crate::errors::{ErrorCode, JobError};
use crate::ldap::codes::LdapFailure;

/// A connect-and-bind that several checkouts may wait for.
pub(super) type Opening = Shared<BoxFuture<'static, Result<(Arc<Target>, Ldap), LdapFailure>>>;

impl DirectoryActor {
    /// Connects and binds, trying each server from the one the pool is on; when every
    /// one fails and the servers come from DNS, asks DNS again (a DC replaced) and tries
    /// the servers it did not try yet.
    fn connect(&self) -> impl std::future::Future<Output = Result<(Arc<Target>, Ldap), LdapFailure>> {
        let settings = self.settings.clone();
        let tls = self.tls.clone();
        let current = self.pool.preferred.clone();
        let servers = self.servers.clone();
        async move {
            let list = current_first(servers.list(Freshness::Cached).await?, current.as_deref());
            let mut tried = Vec::new();
            match try_each(&settings, &tls, list, &mut tried).await {
                Err(e) if !e.is_invalid_credentials() && servers.discovers() => {
                    let fresh: Vec<_> = match servers.list(Freshness::Requery).await {
                        Ok(l) => l.into_iter().filter(|t| !tried.iter().any(|u: &Arc<Target>| u.same(t))).collect(),
                        Err(_) => Vec::new(),
                    };
                    if fresh.is_empty() {
                        return Err(e);
                    }
                    try_each(&settings, &tls, fresh, &mut tried).await
                }
                other => other,
            }
        }
    }

    pub(super) fn health(&mut self, ctx: &mut Context<Self>) {
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
                let started = std::time::Instant::now();
                let answered = super::super::connect::answers(&mut ldap, timeout).await;
                (answered, started.elapsed())
            }
            .into_actor(self)
            .map(move |(answered, took), act, _| {
                if answered {
                    act.rtt_ms = Some(took.as_secs_f64() * 1000.0);
                } else if act.pool.remove(number) {
                    tracing::warn!(directory = %act.settings.name, "a pooled connection did not answer its health probe: dropped");
                }
                act.publish();
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
    fn opened(&mut self, number: u64, res: &Result<(Arc<Target>, Ldap), LdapFailure>) {
        if self.opening.as_ref().is_none_or(|(n, _)| *n != number) {
            return;
        }
        self.opening = None;
        match res {
            Ok((target, ldap)) => self.pool.add(target.clone(), ldap.clone()),
            Err(e) => self.pool.last_error = Some(e.to_string()),
        }
    }

    pub(super) fn lease(&self, (ldap, target, in_use): (Ldap, Arc<Target>, InUse)) -> Lease {
        Lease {
            ldap,
            settings: self.settings.clone(),
            tls: self.tls.clone(),
            target,
            memory: self.memory.clone(),
            _in_use: in_use,
        }
    }

    /// A lease on a connection opened now (or by the connect already in flight), or on
    /// one still there when the open fails.
    pub(super) fn open_lease(&mut self) -> ResponseActFuture<Self, Result<Lease, JobError>> {
        let name = self.settings.name.clone();
        let (number, opening) = self.open();
        Box::pin(opening.into_actor(self).map(move |res, act, _| {
            act.opened(number, &res);
            let out = match res {
                Ok((target, ldap)) => {
                    let guard = act.pool.guard();
                    Ok(act.lease((ldap, target, guard)))
                }
                Err(e) => match act.pool.checkout() {
                    Some(taken) => Ok(act.lease(taken)),
                    None => {
                        let mut err = e.to_job_error(&format!("directory `{name}`"));
                        if e.is_invalid_credentials() {
                            err = JobError::new(
                                ErrorCode::InvalidCredentials,
                                format!(
                                    "directory `{name}`: the connector's service account was refused ({})",
                                    act.settings.bind.keys()
                                ),
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

/// Connects and binds to each server in turn; the first that binds wins. A wrong service
/// password is the same on every server: it ends the round.
async fn try_each(
    settings: &DirectorySettings,
    tls: &Arc<ClientConfig>,
    list: Vec<Arc<Target>>,
    tried: &mut Vec<Arc<Target>>,
) -> Result<(Arc<Target>, Ldap), LdapFailure> {
    let mut last = LdapFailure::Connect("no directory server configured or found".into());
    for target in list {
        tried.push(target.clone());
        let ep = Endpoint {
            url: &target.url,
            addrs: &target.addrs,
            tls: tls.clone(),
            plain: settings.plain_urls,
            connect_timeout: settings.connect_timeout,
        };
        match open_service(&ep, settings).await {
            Ok(ldap) => return Ok((target, ldap)),
            Err(e) if e.is_invalid_credentials() => return Err(e),
            Err(e) => last = e,
        }
        tracing::warn!(directory = %settings.name, url = %target.url, error = %last, "directory server failed");
    }
    Err(last)
}
