#!/usr/bin/env bash
# The README's demo command: installs slapd (apt) if needed, builds, and runs the local
# demo: slapd with 10,000 generated users, the portal simulator, the connector, a full
# import and 300 logins, then a summary. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/servers/slapd.sh install
# The release build, as the README's benchmarks measure it (a debug build is ~10x slower
# and would show a newcomer the wrong figures). Built once, then reused.
# CARGO_TARGET_DIR, when set, is where cargo puts the build (not ./target).
out="${CARGO_TARGET_DIR:-target}/release"
if [ ! -x "$out/examples/demo" ] || [ ! -x "$out/integration-connector" ]; then
  echo "== first release build: a few minutes (about 5-10 on a 2-core machine); later runs reuse it"
else
  echo "== release build: up to date in seconds, or a few minutes when the sources changed"
fi
cargo build --release --workspace --bins --examples
exec "$out/examples/demo"
