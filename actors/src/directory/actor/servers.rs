//! The servers a directory actor may connect to: its fixed `urls`, the ones DNS names
//! (`domain`), or both (discovered first).

use std::sync::Arc;

use crate::directory::discovery::{DiscoveryError, Freshness, Locator, Target};
use crate::directory::settings::DirectorySettings;
use crate::ldap::codes::LdapFailure;

#[derive(Clone)]
pub(super) struct Servers {
    fixed: Vec<Arc<Target>>,
    /// `None`: no discovery configured; `Err`: configured, but the resolver could not be
    /// set up (the system's DNS configuration unreadable), reported on every connect.
    locator: Option<Result<Arc<Locator>, DiscoveryError>>,
}

impl Servers {
    pub fn new(settings: &DirectorySettings) -> Servers {
        let fixed = settings.urls.iter().map(|u| Arc::new(Target::fixed(u.clone()))).collect();
        let locator = settings.discovery.as_ref().map(|d| Locator::new(d.clone(), settings.kind).map(Arc::new));
        Servers { fixed, locator }
    }

    pub fn discovers(&self) -> bool {
        self.locator.is_some()
    }

    /// Every server, best first: the discovered ones (RFC 2782 order), then the fixed
    /// ones. When DNS fails, the fixed ones alone; with none, DNS's error.
    pub async fn list(&self, fresh: Freshness) -> Result<Vec<Arc<Target>>, LdapFailure> {
        let found = match &self.locator {
            None => return Ok(self.fixed.clone()),
            Some(Err(e)) => Err(e.clone()),
            Some(Ok(locator)) => locator.targets(fresh).await.map(|a| a.targets.clone()),
        };
        match found {
            Ok(mut list) => {
                list.extend(self.fixed.iter().filter(|f| !list.iter().any(|t| t.same(f))).cloned().collect::<Vec<_>>());
                Ok(list)
            }
            Err(e) if self.fixed.is_empty() => Err(LdapFailure::Connect(e.to_string())),
            Err(e) => {
                tracing::warn!(error = %e, "DNS discovery failed: trying the configured urls");
                Ok(self.fixed.clone())
            }
        }
    }
}

/// `list` with `current` (the server the pool is on) first: a connect stays where the
/// pool is until that server fails; returning to a better one is the fail-back's call.
pub(super) fn current_first(mut list: Vec<Arc<Target>>, current: Option<&Target>) -> Vec<Arc<Target>> {
    if let Some(i) = current.and_then(|c| list.iter().position(|t| t.same(c))) {
        let t = list.remove(i);
        list.insert(0, t);
    }
    list
}
