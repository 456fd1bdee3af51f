#!/usr/bin/env bash
# The README's demo command: builds and runs the local demo. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --workspace --features test-jobs --examples
exec ./target/debug/examples/demo
