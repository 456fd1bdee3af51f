use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::directory::settings::{DirectoryKind, PlainUrlSecurity, ScopePolicy};
use crate::secret::Secret;
use crate::status::StatusBoard;

/// A directory that takes TCP connections and never answers (a hung DC); counts them.
fn hung_directory() -> (url::Url, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = url::Url::parse(&format!("ldap://{}", listener.local_addr().unwrap())).unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (url, accepted)
}

fn settings(url: url::Url) -> DirectorySettings {
    DirectorySettings {
        name: "hung".into(),
        kind: DirectoryKind::Ldap,
        urls: vec![url],
        discovery: None,
        bind_dn: "cn=svc".into(),
        bind: crate::directory::ServiceBind::Password(Secret::new("pw")),
        base_dn: "dc=x".into(),
        ca_pem: None,
        user_filter: "(uid={username})".into(),
        plain_urls: PlainUrlSecurity::None,
        pool_min: 1,
        pool_max: 4,
        connect_timeout: Duration::from_secs(1),
        operation_timeout: Duration::from_millis(700),
        policy: ScopePolicy::defaults(&crate::ldap::dn::Dn::root()),
        withhold_attributes: Vec::new(),
        login: crate::directory::LoginSettings::default(),
        forest: Default::default(),
    }
}

#[actix_rt::test]
async fn checkouts_arriving_while_a_connect_hangs_wait_for_it_instead_of_opening_their_own() {
    let (url, accepted) = hung_directory();
    let tls = super::super::tls::client_config(None).unwrap();
    let (actor, _report) = DirectoryActor::new(settings(url), tls, StatusBoard::default().component("pool"));
    let addr = actor.start();
    let (any, writes) = (
        futures_util::future::join_all((0..12).map(|_| addr.send(Checkout))),
        futures_util::future::join_all((0..12).map(|_| addr.send(CheckoutWrites))),
    );
    let (any, writes) = futures_util::join!(any, writes);
    for outcome in any.into_iter().chain(writes) {
        let err = outcome.unwrap().err().expect("a hung directory lends no connection");
        assert!(err.retryable && err.message.contains("did not answer in time"), "{err:?}");
    }
    // The start-up health check's connect and the 24 checkouts: one connection.
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}
