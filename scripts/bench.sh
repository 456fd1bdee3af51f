#!/usr/bin/env bash
# Benchmarks (README "Benchmarks"): criterion benches and the end-to-end harness, each
# against its baseline in the same run. Optional argument: a workload name (e.g. link).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --profile bench-jobs --workspace --features test-jobs
# --workspace as in the build above: the same features for every crate, so the benches
# do not build the workspace a second time.
cargo bench --profile bench-jobs --workspace --features test-jobs --bench queue
cargo bench --profile bench-jobs --workspace --features test-jobs --bench e2e -- "$@"
