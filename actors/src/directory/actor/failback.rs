//! The actor's side of fail-back: on each health tick, while the pool runs on a server
//! that is not the best-ranked one DNS names, the better ones are probed (connect, TLS,
//! root DSE read; no bind); [`Failback`](crate::directory::discovery::Failback) decides
//! when one has answered long enough to move the pool back to it.

use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;

use super::DirectoryActor;
use crate::directory::connect::{answers, open, Endpoint};
use crate::directory::discovery::failback::Decision;
use crate::directory::discovery::{Freshness, Target};

impl DirectoryActor {
    pub(super) fn check_failback(&mut self, ctx: &mut Context<Self>) {
        if self.retired || self.failback_probing || !self.servers.discovers() {
            return;
        }
        let Some(current) = self.pool.preferred.clone() else { return };
        self.failback_probing = true;
        let servers = self.servers.clone();
        let settings = self.settings.clone();
        let tls = self.tls.clone();
        async move {
            // also how an answer whose TTL ran out is asked again while all is well
            let list = servers.list(Freshness::Cached).await.ok()?;
            for t in list.iter().filter(|t| t.rank < current.rank) {
                let ep = Endpoint {
                    url: &t.url,
                    addrs: &t.addrs,
                    tls: tls.clone(),
                    plain: settings.plain_urls,
                    connect_timeout: settings.connect_timeout,
                };
                if let Ok(mut ldap) = open(&ep).await {
                    let ok = answers(&mut ldap, settings.connect_timeout).await;
                    let _ = ldap.unbind().await;
                    if ok {
                        return Some(t.clone());
                    }
                }
            }
            None
        }
        .into_actor(self)
        .map(|better: Option<Arc<Target>>, act, ctx| {
            act.failback_probing = false;
            if let Decision::Return(url) = act.failback.observe(better.as_deref(), Instant::now()) {
                if let Some(target) = better.filter(|t| t.url == url) {
                    tracing::info!(directory = %act.settings.name, server = %target.url, why = %target.why,
                        "fail-back: a better-ranked directory server answered long enough; new connections go to it");
                    act.pool.move_to(target);
                    act.spares.clear();
                    act.health(ctx);
                }
            }
        })
        .spawn(ctx);
    }
}
