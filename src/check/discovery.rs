//! `check` of a directory's servers: the fixed `urls`, and with `domain` what DNS
//! answered (each SRV query, its records), in the order the pool tries them.

use std::sync::Arc;

use connector_actors::directory::discovery::{Freshness, Locator, Target};
use connector_actors::directory::DirectorySettings;

use super::{Check, Report};

/// The servers to check, best first; with discovery, a `directory.NAME.discovery` line
/// saying what each SRV query answered (or why it failed, and what to do).
pub async fn servers(d: &DirectorySettings, r: &mut Report) -> Vec<Arc<Target>> {
    let name = format!("directory.{}.discovery", d.name);
    let mut list: Vec<Arc<Target>> = Vec::new();
    if let Some(settings) = &d.discovery {
        let via = if settings.dns_servers.is_empty() {
            "the system's DNS servers".to_owned()
        } else {
            settings.dns_servers.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
        };
        match Locator::new(settings.clone(), d.kind) {
            Err(e) => r.add(Check::fail(&name, e.to_string(), format!("set directories.{}.dns_servers", d.name))),
            Ok(locator) => match locator.targets(Freshness::Requery).await {
                Ok(answer) => {
                    let said: Vec<String> = answer
                        .queries
                        .iter()
                        .map(|q| match &q.outcome {
                            Ok(records) => format!("{} -> {}", q.name, records.join(", ")),
                            Err(e) => format!("{} -> {e}", q.name),
                        })
                        .collect();
                    let order: Vec<String> = answer.targets.iter().map(|t| t.url.to_string()).collect();
                    r.add(Check::ok(&name, format!("asked {via}: {}; order tried: {}", said.join("; "), order.join(" "))));
                    list.extend(answer.targets.iter().cloned());
                }
                Err(e) => r.add(Check::fail(
                    &name,
                    format!("asked {via}: {e}"),
                    format!(
                        "check directories.{}.domain (and site), that the DNS servers hold the domain's SRV records, and dns_servers",
                        d.name
                    ),
                )),
            },
        }
    }
    for u in &d.urls {
        if !list.iter().any(|t| &t.url == u) {
            list.push(Arc::new(Target::fixed(u.clone())));
        }
    }
    list
}
