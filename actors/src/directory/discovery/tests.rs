use std::time::{Duration, Instant};

use super::failback::{Decision, Failback};
use super::order::{rfc2782, Srv};
use super::{Rank, Target};

fn srv(priority: u16, weight: u16, name: &'static str) -> Srv<&'static str> {
    Srv { priority, weight, item: name }
}

fn names(v: &[Srv<&'static str>]) -> Vec<&'static str> {
    v.iter().map(|r| r.item).collect()
}

#[test]
fn lower_priority_first_whatever_the_weights() {
    let records = vec![srv(20, 1000, "c"), srv(10, 1, "b"), srv(0, 0, "a")];
    let out = rfc2782(records, &mut |sum| sum - 1);
    assert_eq!(names(&out), ["a", "b", "c"]);
}

#[test]
fn the_random_number_picks_by_running_sum_of_weights() {
    // priority 0: x (weight 10), y (weight 30): running sums 10, 40
    let records = || vec![srv(0, 10, "x"), srv(0, 30, "y")];
    // 0..10 picks x first
    assert_eq!(names(&rfc2782(records(), &mut |_| 0)), ["x", "y"]);
    assert_eq!(names(&rfc2782(records(), &mut |_| 9)), ["x", "y"]);
    // 10..40 picks y first; then x is the only one left
    assert_eq!(names(&rfc2782(records(), &mut |_| 10)), ["y", "x"]);
    assert_eq!(names(&rfc2782(records(), &mut |_| 39)), ["y", "x"]);
}

#[test]
fn weight_zero_comes_after_the_weighted_ones_of_its_priority() {
    let records = || vec![srv(0, 0, "zero"), srv(0, 50, "heavy"), srv(1, 0, "next")];
    assert_eq!(names(&rfc2782(records(), &mut |_| 0)), ["heavy", "zero", "next"]);
    assert_eq!(names(&rfc2782(records(), &mut |sum| sum - 1)), ["heavy", "zero", "next"]);
    // all weight 0: in the order given, and no draw at all
    let zeros = vec![srv(0, 0, "p"), srv(0, 0, "q")];
    assert_eq!(names(&rfc2782(zeros, &mut |_| unreachable!("no draw when every weight is 0"))), ["p", "q"]);
}

#[test]
fn weights_share_first_place_in_proportion() {
    // 1:3 weights: over many draws the heavy one comes first about 3 times in 4
    let mut heavy_first = 0;
    for _ in 0..4000 {
        let out = super::order::rfc2782_random(vec![srv(0, 1, "light"), srv(0, 3, "heavy")]);
        if out[0].item == "heavy" {
            heavy_first += 1;
        }
    }
    assert!((2700..3300).contains(&heavy_first), "heavy first {heavy_first} of 4000, expected ~3000");
}

#[test]
fn every_record_comes_out_once() {
    let records = vec![srv(1, 5, "a"), srv(0, 5, "b"), srv(1, 0, "c"), srv(0, 7, "d"), srv(2, 1, "e")];
    let mut out = names(&rfc2782(records, &mut |sum| sum / 2));
    assert_eq!(out.len(), 5);
    assert_eq!(&out[..2].iter().copied().collect::<std::collections::BTreeSet<_>>(), &["b", "d"].into());
    out.sort();
    assert_eq!(out, ["a", "b", "c", "d", "e"]);
}

fn target(url: &str, priority: u16) -> Target {
    Target {
        url: url::Url::parse(url).unwrap(),
        addrs: Vec::new(),
        rank: Rank { tier: 1, priority },
        why: String::new(),
    }
}

#[test]
fn failback_waits_until_the_better_server_answered_long_enough() {
    let t0 = Instant::now();
    let dc1 = target("ldap://dc1.example.test:389", 0);
    let mut f = Failback::new(Duration::from_secs(30));
    assert_eq!(f.observe(Some(&dc1), t0), Decision::Stay);
    assert_eq!(f.observe(Some(&dc1), t0 + Duration::from_secs(29)), Decision::Stay);
    assert_eq!(f.observe(Some(&dc1), t0 + Duration::from_secs(30)), Decision::Return(dc1.url.clone()));
}

#[test]
fn failback_starts_over_when_the_better_server_misses_a_probe() {
    let t0 = Instant::now();
    let dc1 = target("ldap://dc1.example.test:389", 0);
    let mut f = Failback::new(Duration::from_secs(30));
    f.observe(Some(&dc1), t0);
    assert_eq!(f.observe(None, t0 + Duration::from_secs(20)), Decision::Stay);
    assert_eq!(f.observe(Some(&dc1), t0 + Duration::from_secs(31)), Decision::Stay, "the wait starts again at 31 s");
    assert_eq!(f.observe(Some(&dc1), t0 + Duration::from_secs(60)), Decision::Stay);
    assert_eq!(f.observe(Some(&dc1), t0 + Duration::from_secs(61)), Decision::Return(dc1.url.clone()));
}

#[test]
fn a_site_server_ranks_above_every_domain_wide_one() {
    let site = Rank { tier: 0, priority: 50 };
    let domain = Rank { tier: 1, priority: 0 };
    assert!(site < domain);
    assert!(Rank { tier: 1, priority: 0 } < Rank { tier: 1, priority: 10 });
}
