#!/usr/bin/env bash
# The README's demo command: installs slapd (apt) if needed, builds, and runs the local
# demo: slapd with 10,000 generated users, the portal simulator, the connector, a full
# import and 300 logins, then a summary. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/servers/slapd.sh install
cargo build --workspace --features test-jobs --bins --examples
exec ./target/debug/examples/demo
