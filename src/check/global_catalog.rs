//! `directory.NAME.global_catalog`: in GC mode, that a Global Catalog server answers the
//! service account's bind and a forest-wide search, and how many domains it holds.

use connector_actors::directory::{tls, DirectorySettings};
use connector_actors::ldap::auth::forest::gc_connect;
use ldap3::Scope;

use super::{Check, Report};

pub async fn check(d: &DirectorySettings, r: &mut Report) {
    let Some(gc) = &d.forest.global_catalog else { return };
    let name = format!("directory.{}.global_catalog", d.name);
    let Ok(config) = tls::client_config(d.ca_pem.as_deref()) else { return }; // reported as directory.NAME.tls
    let (target, mut ldap) = match gc_connect(d, &config, gc).await {
        Ok(c) => c,
        Err(e) => {
            let fix = format!("check directories.{}.gc_urls (or the _gc._tcp SRV records of domain), that port 3268 is reachable and speaks StartTLS", d.name);
            r.add(Check::fail(name, e.message, fix));
            return;
        }
    };
    // Every domain of the forest has its head object in the GC ([MS-ADTS] 3.1.1.1.8); the
    // DNS application partitions' heads are domainDNS too, but have no SID.
    let res = ldap
        .with_timeout(d.operation_timeout)
        .search("", Scope::Subtree, "(&(objectClass=domainDNS)(objectSid=*))", vec!["1.1"])
        .await;
    let _ = ldap.unbind().await;
    match res {
        Ok(res) if res.1.rc == 0 => {
            let domains = res.0.iter().filter(|e| !e.is_ref()).count();
            r.add(Check::ok(
                name,
                format!("{}: bound as {}, a forest-wide search sees {domains} domain(s)", target.url, d.bind_dn),
            ));
        }
        Ok(res) => r.add(Check::fail(
            name,
            format!("{}: forest-wide search: result code {}: {}", target.url, res.1.rc, res.1.text),
            "grant the service account read access to the Global Catalog",
        )),
        Err(e) => r.add(Check::fail(
            name,
            format!("{}: forest-wide search: {e}", target.url),
            "check that the server is a Global Catalog (port 3268)",
        )),
    }
}
