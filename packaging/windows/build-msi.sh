#!/usr/bin/env bash
# Builds target/windows/integration-connector-<version>-x64.msi: the release binary
# cross-built for x86_64-pc-windows-gnu (mingw-w64), stripped, packed by wixl (msitools)
# from packaging/windows/integration-connector.wxs. Prints the MSI's path.
# Needs: rustup target add x86_64-pc-windows-gnu; apt-get install mingw-w64 wixl msitools.
set -euo pipefail
cd "$(dirname "$0")/../.."

die() { echo "build-msi.sh: $*" >&2; exit 1; }
command -v wixl >/dev/null || die "wixl is missing: apt-get install wixl"
command -v msibuild >/dev/null || die "msibuild is missing: apt-get install msitools"
command -v x86_64-w64-mingw32-gcc >/dev/null || die "the mingw-w64 linker is missing: apt-get install mingw-w64"
rustup target list --installed 2>/dev/null | grep -qx x86_64-pc-windows-gnu ||
  die "the Rust target is missing: rustup target add x86_64-pc-windows-gnu"

version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "workspace version \"$version\" is not x.y.z (an MSI needs one)"

cargo build --release --target x86_64-pc-windows-gnu --bin integration-connector >&2
exe=${CARGO_TARGET_DIR:-target}/x86_64-pc-windows-gnu/release/integration-connector.exe
stage=target/windows/stage
mkdir -p "$stage"
x86_64-w64-mingw32-strip -o "$stage/integration-connector.exe" "$exe"
msi=target/windows/integration-connector-$version-x64.msi
wixl -a x64 -D Version="$version" -D Exe="$stage/integration-connector.exe" \
  -D Readme=packaging/windows/README.md -D Example=config/connector.example.toml \
  -o "$msi" packaging/windows/integration-connector.wxs >&2
# wixl drops HideTarget: 3090 (exe from a file, deferred, as SYSTEM) + 0x2000, so the
# command line holding TOKEN is not written to an MSI log either.
msibuild "$msi" -q "UPDATE CustomAction SET Type = 11282 WHERE Action = 'Configure'"
echo "$msi"
