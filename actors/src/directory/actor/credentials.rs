//! The directory actor's watch on the service account's credentials: the certificate's
//! expiry is known from the settings; an AD password's is read hourly over a pooled
//! connection, and a keytab account's key version every minute (handed to
//! `keytab/stale.rs`, which stops offering a stale keytab to the KDC). Those within 14 days go into the directory's report, which the heartbeat
//! and the UI show (issue #20).

use std::time::{Duration, Instant};

use actix::prelude::*;

use super::DirectoryActor;
use crate::directory::bind::expiry::Expiry;
use crate::directory::bind::{held, keytab, ServiceBind};

/// How often the password expiry is read again (a DC's policy can change it any time;
/// once an hour is far inside the 14 days of warning).
const READ_EVERY: Duration = Duration::from_secs(3600);
/// For a keytab bind, how often the account's key version is read: a password reset
/// makes the keytab stale at once, and it must be known before the library offers the
/// old key to the KDC (each refusal counts toward the account's lockout: `keytab/stale.rs`).
const KEYTAB_READ_EVERY: Duration = Duration::from_secs(60);

impl DirectoryActor {
    /// Reads the password expiry when it is due and a pooled connection is there.
    pub(super) fn read_credentials(&mut self, ctx: &mut Context<Self>) {
        let every = if matches!(self.settings.bind, ServiceBind::Keytab(_)) { KEYTAB_READ_EVERY } else { READ_EVERY };
        if self.credentials_read.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        let Some((_, ldap)) = self.pool.probes().into_iter().next() else { return };
        self.credentials_read = Some(Instant::now());
        let settings = self.settings.clone();
        async move { held::read(&ldap, &settings, settings.operation_timeout).await }
            .into_actor(self)
            .map(|res, act, _| {
                match res {
                    Ok(h) => {
                        if let (ServiceBind::Keytab(k), Some(v)) = (&act.settings.bind, h.key_version) {
                            keytab::stale::account_version_read(k, v);
                        }
                        act.held = h;
                    }
                    // Read again at the next health tick.
                    Err(e) => {
                        act.credentials_read = None;
                        tracing::debug!(directory = %act.settings.name, error = %e, "cannot read the password expiry");
                    }
                }
                act.publish();
            })
            .spawn(ctx);
    }

    /// The credentials that expire within 14 days (or have expired), as of now.
    pub(super) fn credential_warnings(&self) -> Vec<Expiry> {
        let now = crate::time::now_ms() as i64 / 1000;
        held::all(&self.settings, &self.held, now).into_iter().filter(Expiry::warns).collect()
    }
}
