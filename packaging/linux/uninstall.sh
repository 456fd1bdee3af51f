#!/usr/bin/env bash
# Removes the ServiceOps Integration Connector: the documented steps. Run as root.
#   1. stop the service (running jobs drain first) and disable it;
#   2. remove /opt/flotomate/integration-connector and the config;
#   3. remove the unit (and its drop-in), then the service user.
# --keep-data keeps the storage path (queue, connector id, sealing key) and the user that
# owns it, so a later install.sh picks up where this one stopped.
# Running it again when nothing is left is not an error.
set -euo pipefail

readonly PREFIX=/opt/flotomate/integration-connector
readonly BIN_NAME=integration-connector
readonly CONF_DIR=/etc/integration-connector
readonly CONFIG=$CONF_DIR/connector.toml
readonly DEFAULT_STORAGE=$PREFIX/data
readonly SERVICE_USER=integration-connector
readonly UNIT=integration-connector.service
readonly ETC_UNITS=/etc/systemd/system
readonly DROPIN_DIR=$ETC_UNITS/$UNIT.d

usage() {
  cat <<EOF
Usage: sudo $0 [--keep-data] [--yes] [--root DIR]

Stops and removes the ServiceOps Integration Connector: the service, $PREFIX,
$CONF_DIR, the unit and the user $SERVICE_USER.
  --keep-data   keep the storage path (jobs, connector id, sealing key) and its user
  --yes, -y     do not ask for confirmation
  --root DIR    remove an installation made with install.sh --root DIR
  --package     used by the .deb's prerm: the package's own files are left to dpkg
Environment: IC_KEEP_DATA=1 is --keep-data (for dpkg -r); IC_SYSTEMCTL names another systemctl.
EOF
}

say() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
warn() { printf 'uninstall.sh: warning: %s\n' "$*" >&2; }
die() {
  printf 'uninstall.sh: %s\n' "$*" >&2
  exit 1
}

keep_data=0 yes=0 root='' package=0 keep_storage=0
[ "${IC_KEEP_DATA:-0}" = 0 ] || keep_data=1
while [ $# -gt 0 ]; do
  case $1 in
    --keep-data) keep_data=1 ;;
    --yes | -y) yes=1 ;;
    --package) package=1 yes=1 ;;
    --root)
      [ -n "${2-}" ] || die "--root needs a directory"
      root=$2
      shift
      ;;
    --root=*) root=${1#*=} ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

if [ "$(id -u)" -ne 0 ]; then
  printf '%s\n' "Permission denied: the Integration Connector must be uninstalled by root." \
    "Run it as root or with sudo: sudo $0" >&2
  exit 1
fi

if [ -n "$root" ]; then
  [ -d "$root" ] || die "--root $root is not a directory"
  root=$(cd "$root" && pwd)
  [ "$root" != / ] || root=''
fi
at() { printf '%s%s' "$root" "$1"; }

SYSTEMCTL=${IC_SYSTEMCTL:-systemctl}
manager_live() { [ -z "$root" ] && { [ -n "${IC_SYSTEMCTL:-}" ] || [ -d /run/systemd/system ]; }; }
sctl() {
  if [ -n "$root" ]; then "$SYSTEMCTL" --root="$root" "$@"; else "$SYSTEMCTL" "$@"; fi
}

# Either package: the static one or the kerberos (glibc) one that replaces it.
if [ "$package" = 0 ] && [ -z "$root" ]; then
  for deb in integration-connector integration-connector-kerberos; do
    dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q 'ok installed' || continue
    die "the .deb package is installed: remove it with  sudo dpkg -r $deb  (IC_KEEP_DATA=1 keeps the storage path)"
  done
fi

# The storage path as the installed binary resolves the config (no shell reads TOML: a
# literal string or a comment fools any pattern). When it cannot be read, the storage
# path is left in place rather than guessed.
storage=$DEFAULT_STORAGE storage_known=1
if [ -f "$(at "$CONFIG")" ]; then
  bin=$(at "$PREFIX/$BIN_NAME") config=$(at "$CONFIG") tmpdir=''
  if [ -n "$root" ]; then
    tmpdir=$(mktemp -d)
    "$bin" config --config "$config" rebase --root "$root" --output "$tmpdir/connector.toml" 2>/dev/null || true
    config=$tmpdir/connector.toml
  fi
  if [ -x "$bin" ] && storage=$("$bin" config --config "$config" get storage.path); then
    [ -z "$root" ] || storage=${storage#"$root"}
  else
    storage_known=0 storage="(unknown)"
    warn "cannot read storage.path from $CONFIG with $PREFIX/$BIN_NAME: the storage path is left in place (remove it by hand)"
  fi
  [ -z "$tmpdir" ] || rm -rf "$tmpdir"
fi
[ "$storage_known" = 1 ] || keep_storage=1

user_exists() {
  if [ -n "$root" ]; then grep -q "^$SERVICE_USER:" "$(at /etc/passwd)" 2>/dev/null; else getent passwd "$SERVICE_USER" >/dev/null; fi
}

if ! [ -e "$(at "$PREFIX")" ] && ! [ -e "$(at "$CONF_DIR")" ] && ! [ -e "$(at "$ETC_UNITS/$UNIT")" ] &&
  ! [ -e "$(at "$DROPIN_DIR")" ] && ! user_exists &&
  { [ "$keep_data" = 1 ] || [ "$keep_storage" = 1 ] || ! [ -e "$(at "$storage")" ]; }; then
  say "Nothing to remove: the Integration Connector is not installed$([ -z "$root" ] || printf ' in %s' "$root")."
  exit 0
fi

if [ "$yes" = 0 ] && [ -t 0 ]; then
  what="the Integration Connector ($PREFIX, $CONFIG, the unit, the user $SERVICE_USER)"
  if [ "$keep_data" = 0 ] && [ "$keep_storage" = 0 ]; then
    what="$what and its storage path $storage (unsent results, connector id)"
  fi
  read -r -p "Remove $what? [y/N] " answer
  case $answer in [yY] | [yY][eE][sS]) ;; *) die "nothing removed" ;; esac
fi

# 1. Stop (drain) and disable.
if manager_live; then
  if sctl is-active --quiet "$UNIT"; then
    step "stopping $UNIT (running jobs finish first)"
    sctl stop "$UNIT"
  fi
elif [ -z "$root" ] && [ -x "$PREFIX/$BIN_NAME" ] && [ -f "$CONFIG" ] && user_exists; then
  # No service manager: make sure no instance runs by hand on this storage.
  rc=0
  (cd / && setpriv --reuid="$SERVICE_USER" --regid="$SERVICE_USER" --init-groups -- \
    "$PREFIX/$BIN_NAME" queue --config "$CONFIG" list >/dev/null 2>&1) || rc=$?
  [ "$rc" != 69 ] || die "the connector still runs (its storage is locked): stop it first"
fi
if [ -e "$(at "$ETC_UNITS/$UNIT")" ] || [ -e "$(at /lib/systemd/system/$UNIT)" ]; then
  sctl disable "$UNIT" >/dev/null 2>&1 || warn "systemctl disable $UNIT failed"
fi

# 2. Storage (only a directory that is an Integration Connector storage path), config, program.
keep_top=''
if [ "$keep_data" = 1 ]; then
  say "Keeping the storage path $storage and the user $SERVICE_USER (--keep-data)."
  case $storage in "$PREFIX"/*)
    keep_top=${storage#"$PREFIX"/}
    keep_top=${keep_top%%/*}
    ;;
  esac
elif [ "$keep_storage" = 1 ]; then
  # Where it is is unknown: the default one (under $PREFIX) is kept too.
  keep_top=${DEFAULT_STORAGE#"$PREFIX"/}
elif [ -d "$(at "$storage")" ]; then
  dir=$(at "$storage")
  if [ -e "$dir/connector.key" ] || [ -e "$dir/queue.sled" ] || [ -z "$(ls -A "$dir")" ]; then
    step "removing the storage path $storage"
    rm -rf -- "$dir"
  else
    warn "$storage does not look like an Integration Connector storage path: left in place"
  fi
fi
step "removing $CONF_DIR"
rm -rf -- "$(at "$CONF_DIR")"
if [ -d "$(at "$PREFIX")" ]; then
  step "removing $PREFIX"
  if [ "$package" = 1 ]; then
    # The package's files are dpkg's: remove only what install.sh made beside them.
    rm -f -- "$(at "$PREFIX/$BIN_NAME.previous")"
  else
    keep=()
    [ -z "$keep_top" ] || keep=(! -name "$keep_top")
    find "$(at "$PREFIX")" -mindepth 1 -maxdepth 1 "${keep[@]}" -exec rm -rf -- {} +
    rmdir -- "$(at "$PREFIX")" 2>/dev/null || true
  fi
fi
rmdir -- "$(at /opt/flotomate)" 2>/dev/null || true

# 3. Unit, drop-in, user.
[ "$package" = 1 ] || rm -f -- "$(at "$ETC_UNITS/$UNIT")"
rm -rf -- "$(at "$DROPIN_DIR")"
! manager_live || sctl daemon-reload
if [ "$keep_data" = 0 ] && [ "$keep_storage" = 0 ] && user_exists; then
  step "removing the user $SERVICE_USER"
  if [ -n "$root" ]; then
    for f in passwd group shadow gshadow; do
      [ -f "$(at "/etc/$f")" ] || continue
      grep -v "^$SERVICE_USER:" "$(at "/etc/$f")" >"$(at "/etc/$f.ic-tmp")" || true
      chmod --reference="$(at "/etc/$f")" "$(at "/etc/$f.ic-tmp")"
      mv -f "$(at "/etc/$f.ic-tmp")" "$(at "/etc/$f")"
    done
  else
    userdel "$SERVICE_USER"
    ! getent group "$SERVICE_USER" >/dev/null || groupdel "$SERVICE_USER"
  fi
fi
say "The Integration Connector is uninstalled$([ "$keep_data" = 0 ] || printf ' (storage path %s kept)' "$storage")."
