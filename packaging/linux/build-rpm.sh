#!/usr/bin/env bash
# Builds target/rpm/integration-connector-<version>-1.x86_64.rpm from the static musl
# release binary (stripped), with packaging/linux/rpm/integration-connector.spec: the
# .deb's files, unit and install logic. Prints the RPM's path.
# Needs: rustup target add x86_64-unknown-linux-musl; apt-get install musl-tools rpm.
set -euo pipefail
cd "$(dirname "$0")/../.."

die() { echo "build-rpm.sh: $*" >&2; exit 1; }
command -v rpmbuild >/dev/null || die "rpmbuild is missing: apt-get install rpm"
rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl ||
  die "the Rust target is missing: rustup target add x86_64-unknown-linux-musl"
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)

cargo build --release --target x86_64-unknown-linux-musl --bin integration-connector >&2
stage=target/rpm/stage
mkdir -p "$stage"
strip -o "$stage/integration-connector" "${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-musl/release/integration-connector"
rpmbuild -bb --quiet \
  --define "_topdir $PWD/target/rpm/build" --define "_rpmdir $PWD/target/rpm" \
  --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
  --define "_unitdir /usr/lib/systemd/system" \
  --define "version $version" --define "bin $PWD/$stage/integration-connector" --define "src $PWD" \
  packaging/linux/rpm/integration-connector.spec >&2
echo "target/rpm/integration-connector-$version-1.x86_64.rpm"
