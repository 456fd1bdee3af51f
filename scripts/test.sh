#!/usr/bin/env bash
# The project's one test command (README "Test"): on a fresh Debian 12 machine it
# installs what the tests need (apt), starts the directory servers once (a private
# OpenLDAP slapd and a Samba AD DC, loopback only), builds everything once, runs every
# test, and stops the servers it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
AREA=${IC_TEST_AREA:-$ROOT/.test-area}
SLAPD_USERS=${IC_TEST_SLAPD_USERS:-50000}
SAMBA_USERS=${IC_TEST_SAMBA_USERS:-2000}

need_apt=()
# chromium: the status page is tested in headless Chromium (tests/e2e/ops.rs).
# systemd (systemd-analyze, systemd-sysusers), shellcheck, strace, lintian, python3 (the
# fake systemctl) and musl-tools (the static .deb build): tests/packaging.rs.
# iproute2: the fault suite brings up loopback in a network namespace of its own.
# wine64 … rpmlint: the MSI built and tested under Wine, and the RPM (tests/windows.rs, tests/rpm.rs).
# libkrb5-dev libclang-dev krb5-user: the `kerberos` feature (keytab binds; libgssapi-sys
# runs bindgen on MIT's headers) and its tests (tests/e2e/keytab.rs); dpkg-dev:
# dpkg-shlibdeps, which computes the kerberos .deb's Depends (tests/packaging.rs).
for pkg in ca-certificates procps curl chromium systemd shellcheck strace lintian python3 musl-tools iproute2 \
  wine64 wine mingw-w64 msitools wixl rpm rpmlint libkrb5-dev libclang-dev krb5-user dpkg-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
# The .deb (tests/packaging.rs): cargo-deb and the musl target for a static binary.
rustup target list --installed | grep -qx x86_64-unknown-linux-musl || rustup target add x86_64-unknown-linux-musl
rustup target list --installed | grep -qx x86_64-pc-windows-gnu || rustup target add x86_64-pc-windows-gnu
cargo deb --version >/dev/null 2>&1 || cargo install cargo-deb --locked
bash scripts/servers/slapd.sh install
bash scripts/servers/samba.sh install

mkdir -p "$AREA"
stop_servers() {
  bash scripts/servers/slapd.sh stop "$AREA/slapd" >/dev/null 2>&1 || true
  bash scripts/servers/samba.sh stop "$AREA/samba" >/dev/null 2>&1 || true
}
trap stop_servers EXIT

echo "== starting slapd ($SLAPD_USERS users) and Samba AD ($SAMBA_USERS users) [${SECONDS}s into the run]"
# A server left from an older run with another size is rebuilt.
if [ -f "$AREA/slapd/slapd.env" ] && ! grep -q "^SLAPD_USERS=$SLAPD_USERS$" "$AREA/slapd/slapd.env"; then
  bash scripts/servers/slapd.sh stop "$AREA/slapd" || true
  rm -rf "$AREA/slapd"
fi
bash scripts/servers/slapd.sh start "$AREA/slapd" --users "$SLAPD_USERS" &
slapd_pid=$!
# --dns-kdc: the DC's own DNS (SRV discovery tests) and KDC (keytab binds), on 127.0.0.1:53/88
bash scripts/servers/samba.sh start "$AREA/samba" --users "$SAMBA_USERS" --dns-kdc &
samba_pid=$!

echo "== build (one build for every test binary) [${SECONDS}s into the run]"
cargo build --workspace --all-targets --features test-jobs,kerberos --locked

echo "== the RPM (the release build it packs; tests/rpm.rs installs it) [${SECONDS}s into the run]"
bash packaging/linux/build-rpm.sh
echo "== the MSI (the Windows release build it packs; tests/windows.rs installs it under Wine) [${SECONDS}s into the run]"
bash packaging/windows/build-msi.sh

wait "$slapd_pid" || { echo "slapd did not start"; exit 1; }
wait "$samba_pid" || { echo "Samba AD did not start"; exit 1; }
export IC_TEST_SLAPD_ENV=$AREA/slapd/slapd.env
export IC_TEST_SAMBA_ENV=$AREA/samba/samba.env

echo "== tests [${SECONDS}s into the run]"
cargo test --workspace --features test-jobs,kerberos --locked -- --test-threads="${TEST_THREADS:-4}"
echo "== the AD tests again, the DC found through its own DNS (domain, no urls: issue #20) [${SECONDS}s into the run]"
# Every test whose directory comes from the harness's samba_*directory (which takes
# `domain` and `dns_servers` with IC_TEST_AD_DISCOVERY=1): whole modules, and these by
# name from modules that test slapd too. A name that no longer exists fails the run.
by_name=(
  credentials::check_reads_the_ad_service_password_expiry_the_dc_computes
  credentials::an_ad_service_password_ten_days_from_expiry_warns_in_check_heartbeat_and_ui
  deltas::item1_an_account_that_cannot_see_deletions_fails_the_delta_and_check_warns
  deltas::item1_3_exactly_the_users_deleted_under_the_base_arrive
  deltas::item4_more_deletions_than_a_dc_page_all_arrive
  deltas::item7_members_gained_or_lost_are_sent_again_with_their_member_of
  deltas::item2_a_user_moved_out_of_the_base_arrives_as_moved_out
  deltas::review_filters_on_secrets_unknown_objects_and_unusable_tokens_are_refused
  deltas::review_a_user_who_stops_matching_the_filter_leaves_the_scope
  group_import::an_ad_group_record_has_its_scope_kind_sid_and_every_member
  group_import::an_ad_group_delta_sends_the_changed_group_whole_the_deleted_and_the_moved_out
  login::samba_groups_through_token_groups_and_the_primary_group_as_the_delegated_account
  login::a_spray_of_100_wrong_passwords_leaves_ad_bad_pwd_count_below_its_threshold
  login::user_records_carry_expiry_never_set_and_must_change_on_samba
  ops::check_resolves_the_protected_groups_of_an_ad_directory
  reload::a_reload_changes_the_scope_policy_in_place
  review18::a_concurrent_spray_under_several_spellings_and_ordering_keys_never_locks_the_ad_account
  review18::a_group_base_dn_that_does_not_exist_fails_the_login_naming_the_key
  review18::a_spray_after_a_typo_elsewhere_does_not_lock_the_ad_account
  review18::a_spray_paced_slower_than_the_shield_window_does_not_lock_the_ad_account
  review18::no_password_of_the_new_paths_reaches_disk_a_log_or_a_result
  review18::the_local_complexity_check_never_refuses_a_password_the_dc_accepts
)
# --workspace as above: the same features for every crate, so nothing is built again.
listed=$(cargo test --workspace --features test-jobs,kerberos --locked --test e2e -- --list --exact "${by_name[@]}" 2>/dev/null | grep -c ': test$' || true)
if [ "$listed" != ${#by_name[@]} ]; then
  echo "scripts/test.sh names ${#by_name[@]} AD tests for the discovery run; the e2e binary has $listed of them"
  exit 1
fi
IC_TEST_AD_DISCOVERY=1 cargo test --workspace --features test-jobs,kerberos --locked --test e2e -- \
  ad:: ad_ops:: ad_safety:: ad_lifecycle:: "${by_name[@]}" --test-threads="${TEST_THREADS:-4}"
if [ -f target/ui-screenshot.png ]; then
  echo "== the status page as headless Chromium saw it: target/ui-screenshot.png"
fi
echo "== done [${SECONDS}s into the run]"
