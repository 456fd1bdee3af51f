#!/usr/bin/env bash
# Benchmarks (README "Benchmarks"): criterion benches and the end-to-end harness, each
# against its baseline in the same run. Optional argument: a workload name (e.g. link).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --profile bench-jobs --workspace --features test-jobs
cargo bench --profile bench-jobs --features test-jobs --bench queue
cargo bench --profile bench-jobs --features test-jobs --bench e2e -- "$@"
