//! Whole-process tests: the real connector binary against the real portal simulator
//! over real HTTP and HTTPS, on ephemeral ports, a temp dir per test.

mod harness;

#[path = "e2e/ad.rs"]
mod ad;
#[path = "e2e/ad_lifecycle.rs"]
mod ad_lifecycle;
#[path = "e2e/ad_ops.rs"]
mod ad_ops;
#[path = "e2e/ad_safety.rs"]
mod ad_safety;
#[path = "e2e/cli.rs"]
mod cli;
#[path = "e2e/crash.rs"]
mod crash;
#[path = "e2e/credentials.rs"]
mod credentials;
#[path = "e2e/deltas.rs"]
mod deltas;
#[path = "e2e/discovery.rs"]
mod discovery;
#[path = "e2e/forest.rs"]
mod forest;
#[path = "e2e/group_import.rs"]
mod group_import;
#[cfg(feature = "kerberos")]
#[path = "e2e/keytab.rs"]
mod keytab;
#[path = "e2e/ldap.rs"]
mod ldap;
#[path = "e2e/link.rs"]
mod link;
#[path = "e2e/login.rs"]
mod login;
#[path = "e2e/operator.rs"]
mod operator;
#[path = "e2e/ops.rs"]
mod ops;
#[path = "e2e/referral_hops.rs"]
mod referral_hops;
#[path = "e2e/referrals.rs"]
mod referrals;
#[path = "e2e/reload.rs"]
mod reload;
#[path = "e2e/review18.rs"]
mod review18;
#[path = "e2e/shedding.rs"]
mod shedding;
