#!/usr/bin/env bash
# The project's one test command (README "Test"): installs what the tests need on a
# fresh Debian 12 machine, builds everything once, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# Packages the tests use: ca-certificates (system roots for reqwest), procps (ps), curl.
for pkg in ca-certificates procps curl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

echo "== build (one build for every test binary)"
cargo build --workspace --all-targets --features test-jobs --locked

echo "== tests"
cargo test --workspace --features test-jobs --locked -- --test-threads="${TEST_THREADS:-4}"
