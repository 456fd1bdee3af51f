#!/usr/bin/env bash
# Benchmarks (README "Benchmarks"): criterion benches and the end-to-end harness, each
# against its baseline in the same run. Optional argument: a workload name (e.g. link).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --profile bench-jobs --workspace --features test-jobs
# The memory figures (issue #17) are the shipped program's: the static musl release build
# the .deb and the RPM pack (packaging/linux/build-rpm.sh builds the same), when its
# target is installed (scripts/test.sh installs it); else the bench-jobs build's.
if rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl; then
  cargo build --release --target x86_64-unknown-linux-musl --bin integration-connector
  export IC_BENCH_SHIPPED_BIN=$PWD/target/x86_64-unknown-linux-musl/release/integration-connector
else
  echo "bench.sh: no x86_64-unknown-linux-musl target: memory figures of the bench-jobs build (rustup target add x86_64-unknown-linux-musl)" >&2
fi
# --workspace as in the build above: the same features for every crate, so the benches
# do not build the workspace a second time.
cargo bench --profile bench-jobs --workspace --features test-jobs --bench queue
cargo bench --profile bench-jobs --workspace --features test-jobs --bench e2e -- "$@"
