#!/usr/bin/env bash
# Installs the ServiceOps Integration Connector as a systemd service, or upgrades it in
# place. Run as root; `install.sh --help` lists every option.
#
# Fresh install: asks (or takes as options, for unattended installs) protocol, server,
# port, storage path and token; creates the system user; writes
# /etc/integration-connector/connector.toml (0600, owned by that user); validates it with
# `integration-connector check` run as that user; then installs, enables and starts the
# unit. Nothing is enabled when the check fails, and the config is taken back so that
# running the script again asks again.
#
# Run again (the config exists): an upgrade in place. The service is stopped (running
# jobs drain), the binary replaced, config, storage and queue kept, the check run with the
# new binary, and the service started again. A new binary that fails the check is rolled
# back and the old one started again.
#
# The token never appears on a command line: it comes from a prompt that does not echo,
# a file (--token-file FILE, `-` for standard input) or IC_SERVER_TOKEN, and is written
# with shell built-ins only.
set -euo pipefail

readonly PREFIX=/opt/flotomate/integration-connector
readonly BIN_NAME=integration-connector
readonly CONF_DIR=/etc/integration-connector
readonly CONFIG=$CONF_DIR/connector.toml
readonly CA_DEST=$CONF_DIR/portal-ca.pem
readonly DEFAULT_STORAGE=$PREFIX/data
readonly SERVICE_USER=integration-connector
readonly UNIT=integration-connector.service
readonly ETC_UNITS=/etc/systemd/system
readonly PKG_UNITS=/lib/systemd/system
readonly DROPIN=$ETC_UNITS/$UNIT.d/10-storage.conf
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE

usage() {
  cat <<EOF
Usage: sudo $0 [options]

Installs the ServiceOps Integration Connector (or, when it is installed already,
upgrades it in place keeping its config, storage and queue).

The seed's questions (asked when missing and standard input is a terminal):
  --protocol http|https   how to reach the portal (default: https)
  --server HOST|URL       the portal: a host name (servicedesk.example.com) or a URL
                          (https://servicedesk.example.com:8443)
  --port N                default: 443 for https, 80 for http
  --storage-path DIR      jobs, connector id and sealing key (default: $DEFAULT_STORAGE)
  --token-file FILE       file holding the Credential Profile's Basic Authorization
                          token; \`-\` reads it from standard input. Or set IC_SERVER_TOKEN.
Other options:
  --ca-file FILE          an extra CA (PEM) for the portal's certificate
  --ui-listen ADDR        the local status page address (default: 127.0.0.1:8086)
  --binary FILE           the binary to install (default: the one beside this script)
  --unattended, -y        never ask: a missing answer is an error
  --no-start              install and enable, but do not start
  --root DIR              install into DIR (a scratch root or an image): files only,
                          the unit is enabled there, nothing is started
  --package               used by the .deb's postinst: binary and unit are in place
  --stop                  only stop the service, draining it (the .deb's prerm on upgrade)
  -h, --help              this text
Environment, for unattended installs and the .deb: IC_PROTOCOL, IC_SERVER, IC_PORT,
IC_STORAGE_PATH, IC_TOKEN_FILE, IC_SERVER_TOKEN, IC_CA_FILE, IC_UI_LISTEN.
IC_SYSTEMCTL names another systemctl (tests use a fake one).
EOF
}

say() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

# === options ===
protocol=${IC_PROTOCOL:-} server=${IC_SERVER:-} port=${IC_PORT:-} storage=${IC_STORAGE_PATH:-}
token_file=${IC_TOKEN_FILE:-} ca_file=${IC_CA_FILE:-} ui_listen=${IC_UI_LISTEN:-}
binary='' root='' unattended=0 package=0 start=1 stop_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --*=*) opt=${1%%=*} val=${1#*=} inline=1 ;;
    *) opt=$1 val=${2-} inline=0 ;;
  esac
  used=1
  value() {
    [ -n "$val" ] || die "$opt needs a value (see --help)"
    used=$((2 - inline))
  }
  flag() { [ "$inline" = 0 ] || die "$opt takes no value"; }
  case $opt in
    --protocol) value && protocol=$val ;;
    --server | --server-url) value && server=$val ;;
    --port) value && port=$val ;;
    --storage-path) value && storage=$val ;;
    --token-file) value && token_file=$val ;;
    --ca-file) value && ca_file=$val ;;
    --ui-listen) value && ui_listen=$val ;;
    --binary) value && binary=$val ;;
    --root) value && root=$val ;;
    --unattended | -y | --yes) flag && unattended=1 ;;
    --no-start) flag && start=0 ;;
    --stop) flag && stop_only=1 ;;
    --package) flag && package=1 unattended=1 ;;
    -h | --help) usage && exit 0 ;;
    --token) die "--token would show the token to every user (ps): use --token-file FILE, --token-file - (standard input) or IC_SERVER_TOKEN" ;;
    *) die "unknown option $opt (see --help)" ;;
  esac
  shift "$used"
done

if [ "$(id -u)" -ne 0 ]; then
  printf '%s\n' "Permission denied: the Integration Connector must be installed by root." \
    "Run it as root or with sudo: sudo $0" >&2
  exit 1
fi

if [ -n "$root" ]; then
  mkdir -p "$root"
  root=$(cd "$root" && pwd)
  [ "$root" != / ] || root=''
fi
# A path as seen from here: the target path under the scratch root, if any.
at() { printf '%s%s' "$root" "$1"; }

# Installed by the .deb and run by hand from its own directory: the package's files stay.
if [ "$package" = 0 ] && [ "$HERE" = "$(at "$PREFIX")" ] && [ -f "$(at "$PKG_UNITS/$UNIT")" ]; then
  package=1
fi

# === the service manager ===
SYSTEMCTL=${IC_SYSTEMCTL:-systemctl}
# Whether a service manager runs that can start and stop units (not in a scratch root).
manager_live() { [ -z "$root" ] && { [ -n "${IC_SYSTEMCTL:-}" ] || [ -d /run/systemd/system ]; }; }
sctl() {
  if [ -n "$root" ]; then "$SYSTEMCTL" --root="$root" "$@"; else "$SYSTEMCTL" "$@"; fi
}

# Runs a command as the service user (in a scratch root, as root: that user is not real).
as_service_user() {
  if [ -n "$root" ]; then
    (cd / && env -u IC_SERVER_TOKEN "$@")
  else
    # With the unit's Environment= (drop-ins included, e.g. KRB5_CONFIG for keytab binds):
    # the check must see what the service will, or an upgrade fails a check the service
    # passes. One word per assignment: a value with a space is not supported there.
    local unit_env=()
    if manager_live && { [ -f "$ETC_UNITS/$UNIT" ] || [ -f "$PKG_UNITS/$UNIT" ]; }; then
      read -r -a unit_env <<<"$(sctl show -p Environment --value "$UNIT" 2>/dev/null || true)"
    fi
    (cd / && setpriv --reuid="$SERVICE_USER" --regid="$SERVICE_USER" --init-groups -- \
      env -u IC_SERVER_TOKEN "${unit_env[@]}" "$@")
  fi
}

# === validation of the answers ===
no_controls() { case $2 in *[[:cntrl:]]*) die "$1 contains a control character" ;; esac; }

# TOML basic-string escaping for the values written into the config.
toml_str() {
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}

# Splits a server given as a URL into protocol, host and port.
parse_server() {
  local s=$server scheme='' rest
  case $s in
    *://*)
      scheme=${s%%://*}
      scheme=${scheme,,}
      s=${s#*://}
      ;;
  esac
  s=${s%%/*}
  if [ -n "$scheme" ]; then
    case $scheme in http | https) ;; *) die "server URL: unknown scheme \"$scheme\" (http or https)" ;; esac
    if [ -n "$protocol" ] && [ "${protocol,,}" != "$scheme" ]; then
      die "--protocol $protocol contradicts the server URL's $scheme://"
    fi
    protocol=$scheme
  fi
  case $s in
    \[*\]:*) rest=${s##*\]:} s=${s%:"$rest"} ;;
    \[*\]) rest='' ;;
    *:*) rest=${s##*:} s=${s%:*} ;;
    *) rest='' ;;
  esac
  if [ -n "$rest" ]; then
    if [ -n "$port" ] && [ "$port" != "$rest" ]; then die "--port $port contradicts the server URL's port $rest"; fi
    port=$rest
  fi
  server=$s
}

validate_answers() {
  protocol=${protocol,,}
  case $protocol in http | https) ;; *) die "protocol must be http or https, not \"$protocol\"" ;; esac
  [[ $server =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ || $server =~ ^\[[0-9A-Fa-f:.]+\]$ ]] ||
    die "server \"$server\" is not a host name (e.g. servicedesk.example.com)"
  if [ -z "$port" ]; then
    if [ "$protocol" = https ]; then port=443; else port=80; fi
  fi
  if ! [[ $port =~ ^[0-9]{1,5}$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    die "port must be 1-65535, not \"$port\""
  fi
  port=$((10#$port))
  no_controls "storage path" "$storage"
  case $storage in /*) ;; *) die "storage path must be absolute, not \"$storage\"" ;; esac
  storage=${storage%/}
  case $storage in
    '' | /bin* | /boot* | /dev* | /etc | /etc/* | /lib* | /proc* | /run | /sbin* | /sys* | /usr | /usr/* | /var | /opt | /tmp | /home | /root)
      die "storage path \"${storage:-/}\" is a system directory: choose a directory of its own" ;;
  esac
  case $storage in *\"* | *\\*) die "storage path must not contain quotes or backslashes" ;; esac
  if [ -n "$ca_file" ]; then [ -r "$ca_file" ] || die "--ca-file $ca_file cannot be read"; fi
  if [ -n "$ui_listen" ]; then [[ $ui_listen =~ ^[][0-9A-Za-z.:]+$ ]] || die "--ui-listen: expected an address such as 127.0.0.1:8086"; fi
}

load_token() { # from --token-file (or standard input) or IC_SERVER_TOKEN
  token=${IC_SERVER_TOKEN:-}
  if [ "$token_file" = - ]; then
    IFS= read -r token || [ -n "$token" ] || die "no token on standard input"
  elif [ -n "$token_file" ]; then
    [ -r "$token_file" ] || die "token file $token_file cannot be read"
    IFS= read -r token <"$token_file" || [ -n "$token" ] || die "token file $token_file is empty"
  fi
}

check_token() {
  token=${token#"${token%%[![:space:]]*}"}
  token=${token%"${token##*[![:space:]]}"}
  case $token in
    *[[:space:][:cntrl:]\"\\]*) die "the token must not contain spaces, quotes or backslashes: copy it exactly as the portal shows it" ;;
  esac
}

interactive() { [ "$unattended" = 0 ] && [ -t 0 ]; }

ask() { # ask VAR PROMPT DEFAULT: keeps VAR when set, else prompts (or takes the default)
  local var=$1 prompt=$2 default=${3-} answer
  [ -z "${!var}" ] || return 0
  if interactive; then
    if [ -n "$default" ]; then read -r -p "$prompt [$default]: " answer; else read -r -p "$prompt: " answer; fi
    printf -v "$var" '%s' "${answer:-$default}"
  else
    printf -v "$var" '%s' "$default"
  fi
}

gather_answers() {
  if interactive; then say "ServiceOps Integration Connector: installation (Ctrl-C to stop)"; fi
  [ -z "$server" ] || parse_server
  ask protocol "Protocol (http/https)" https
  if [ -z "$server" ]; then
    ask server "Server URL (the ServiceOps portal, e.g. servicedesk.example.com)"
    parse_server
  fi
  local default_port=443
  [ "${protocol,,}" = http ] && default_port=80
  ask port "Port" "$default_port"
  ask storage "Storage Path" "$DEFAULT_STORAGE"
  load_token
  if [ -z "$token" ] && interactive; then
    IFS= read -r -s -p "Token (the Credential Profile's Basic Authorization token; not shown): " token
    echo
  fi
  check_token
  local missing=()
  [ -n "$server" ] || missing+=("--server HOST")
  [ -n "$token" ] || missing+=("--token-file FILE (or IC_SERVER_TOKEN)")
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$package" = 1 ] && return 1
    die "missing: ${missing[*]} (unattended installs give every answer as an option; see --help)"
  fi
  validate_answers
}

# === files ===
render_config() { # render_config STORAGE CA_PATH > file (built-ins only: the token is in it)
  printf '%s\n' "# ServiceOps Integration Connector, written by install.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)." \
    "# Re-running install.sh (an upgrade) keeps this file. Every key is described in" \
    "# $PREFIX/connector.example.toml. It holds the token: keep it 0600." \
    "" "[connector]" \
    "# Running jobs get this long to finish on stop; the unit's TimeoutStopSec (45s) is" \
    "# this plus 15s, and the service extends it when this is longer." \
    "drain_grace = \"30s\"" "" "[server]" \
    "protocol = \"$protocol\"" "host = $(toml_str "$server")" "port = $port" "token = $(toml_str "$token")"
  [ -z "$2" ] || printf 'ca_file = %s\n' "$(toml_str "$2")"
  printf '\n[storage]\npath = %s\n' "$(toml_str "$1")"
  [ -z "$ui_listen" ] || printf '\n[ui]\nlisten = %s\n' "$(toml_str "$ui_listen")"
}

# A value of the installed config as the binary resolves it (defaults included): no
# shell reads TOML, where a literal string, an escape or a comment fools any pattern.
# config_value BINARY KEY; in a scratch root, from a copy whose paths lie under it.
config_value() {
  local config tmpdir='' value rc=0
  config=$(at "$CONFIG")
  if [ -n "$root" ]; then
    tmpdir=$(mktemp -d)
    "$bin" config --config "$config" rebase --root "$root" --output "$tmpdir/connector.toml" || rc=$?
    config=$tmpdir/connector.toml
  fi
  [ "$rc" != 0 ] || value=$("$1" config --config "$config" get "$2") || rc=$?
  [ -z "$tmpdir" ] || rm -rf "$tmpdir"
  [ "$rc" = 0 ] || return "$rc"
  [ -z "$root" ] || value=${value#"$root"}
  printf '%s' "$value"
}

# The storage path of the installed config: read by the new binary, else by the
# installed one (the new one may not understand an old config; an old one may lack
# `config get`). Stops the upgrade before any change when neither can read it.
config_storage() {
  local old=$1 errors
  errors=$(mktemp)
  if config_value "$bin" storage.path 2>"$errors"; then rm -f "$errors"; return 0; fi
  if [ -x "$old" ] && config_value "$old" storage.path 2>/dev/null; then rm -f "$errors"; return 0; fi
  sed 's/^/    /' "$errors" >&2
  rm -f "$errors"
  die "cannot read storage.path from $CONFIG (above): fix the config, then run install.sh again; nothing was changed"
}

create_user() {
  if [ -n "$root" ]; then
    mkdir -p "$root/etc"
    if ! grep -q "^$SERVICE_USER:" "$root/etc/passwd" 2>/dev/null; then
      systemd-sysusers --root="$root" --inline \
        "u $SERVICE_USER - \"ServiceOps Integration Connector\" /nonexistent /usr/sbin/nologin" >/dev/null
    fi
  elif ! getent passwd "$SERVICE_USER" >/dev/null; then
    step "creating the system user $SERVICE_USER"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin --comment "ServiceOps Integration Connector" "$SERVICE_USER"
  fi
}

# The service user's uid:gid in the target root's /etc/passwd (chown by number works in
# a scratch root too).
service_ids() {
  local ids
  ids=$(awk -F: -v u="$SERVICE_USER" '$1 == u { print $3 ":" $4 }' "$(at /etc/passwd)")
  [ -n "$ids" ] || die "user $SERVICE_USER is missing from $(at /etc/passwd)"
  printf '%s' "$ids"
}

own() { # own [-R] PATH...
  local ids
  ids=$(service_ids)
  if [ "$1" = -R ]; then
    shift
    chown -R "$ids" "$@"
  else
    chown "$ids" "$@"
  fi
}

install_storage() { # the storage path: 0700, owned by the service user; existing data kept
  local dir
  dir=$(at "$1")
  if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && [ ! -e "$dir/connector.key" ] && [ ! -e "$dir/queue.sled" ]; then
    die "storage path $1 exists, is not empty and is not an Integration Connector storage path: choose another"
  fi
  mkdir -p "$dir"
  own -R "$dir"
  chmod 0700 "$dir"
}

install_program() { # binary, scripts, docs and unit (not the package's own files)
  mkdir -p "$(at "$PREFIX")"
  chmod 0755 "$(at "$PREFIX")"
  if [ "$package" = 0 ]; then
    local dest
    dest=$(at "$PREFIX/$BIN_NAME")
    if ! [ "$bin" -ef "$dest" ]; then
      [ ! -e "$dest" ] || cp -p "$dest" "$dest.previous"
      install -m 0755 -o root -g root "$bin" "$dest.new"
      mv -f "$dest.new" "$dest"
    fi
    local f src
    for f in install.sh uninstall.sh README.md connector.example.toml; do
      src=$HERE/$f
      # Run from the source tree, the example config is in config/.
      [ -f "$src" ] || [ "$f" != connector.example.toml ] || src=$HERE/../../config/$f
      if [ -f "$src" ] && ! [ "$src" -ef "$(at "$PREFIX/$f")" ]; then
        install -m "$(case $f in *.sh) echo 0755 ;; *) echo 0644 ;; esac)" "$src" "$(at "$PREFIX/$f")"
      fi
    done
    [ -f "$HERE/$UNIT" ] || die "$UNIT is not beside this script ($HERE)"
    mkdir -p "$(at "$ETC_UNITS")"
    install -m 0644 "$HERE/$UNIT" "$(at "$ETC_UNITS/$UNIT")"
  fi
  # Only the storage path is writable (ProtectSystem=strict): another path needs a drop-in.
  # Quoted (a space would split it in two) and with % doubled (a systemd specifier).
  if [ "$storage" = "$DEFAULT_STORAGE" ]; then
    rm -f "$(at "$DROPIN")"
    rmdir "$(at "$(dirname "$DROPIN")")" 2>/dev/null || true
  else
    mkdir -p "$(at "$(dirname "$DROPIN")")"
    printf '%s\n' "# Written by install.sh: the storage path is the one writable path." "[Service]" \
      "ReadWritePaths=" "ReadWritePaths=\"${storage//%/%%}\"" >"$(at "$DROPIN")"
  fi
}

write_config() {
  mkdir -p "$(at "$CONF_DIR")"
  chown "0:$(service_ids | cut -d: -f2)" "$(at "$CONF_DIR")"
  chmod 0750 "$(at "$CONF_DIR")"
  local ca=''
  if [ -n "$ca_file" ]; then
    install -m 0644 -o root -g root "$ca_file" "$(at "$CA_DEST")"
    ca=$CA_DEST
  fi
  local tmp
  tmp=$(umask 077 && mktemp "$(at "$CONF_DIR")/.connector.toml.XXXXXX")
  render_config "$storage" "$ca" >"$tmp"
  own "$tmp"
  chmod 0600 "$tmp"
  mv -f "$tmp" "$(at "$CONFIG")"
}

# `integration-connector check` as the service user; in a scratch root against a copy of
# the config whose paths point into that root.
# An upgrade passes --upgrade: only config, storage and lock failures fail it, so an
# unreachable directory or portal (the service's to retry) does not leave it stopped.
run_check() { # run_check BINARY [CHECK-ARGS…]
  local bin=$1 config rc=0 out='' tmpdir=''
  shift
  config=$(at "$CONFIG")
  if [ -n "$root" ]; then
    # The installed config with its paths (storage, CA file, …) moved under the scratch root.
    tmpdir=$(mktemp -d)
    "$bin" config --config "$config" rebase --root "$root" --output "$tmpdir/connector.toml" || rc=$?
    config=$tmpdir/connector.toml
  fi
  step "checking the settings: $BIN_NAME check"
  [ "$rc" != 0 ] || out=$(as_service_user "$bin" check --config "$config" "$@" 2>&1) || rc=$?
  [ -z "$tmpdir" ] || rm -rf "$tmpdir"
  printf '%s\n' "$out" | sed 's/^/    /'
  [ -z "$root" ] || own -R "$(at "$storage")"
  return "$rc"
}

start_service() {
  if [ -n "$root" ]; then
    sctl enable "$UNIT" >/dev/null 2>&1 || die "systemctl --root=$root enable $UNIT failed"
    return 0
  fi
  if ! manager_live; then
    sctl enable "$UNIT" >/dev/null 2>&1 || true
    warn "systemd is not running on this machine: the service is enabled but not started."
    return 0
  fi
  sctl daemon-reload
  sctl enable "$UNIT" >/dev/null 2>&1 || die "systemctl enable $UNIT failed"
  if [ "$start" = 1 ]; then
    step "starting $UNIT"
    sctl start "$UNIT" || die "$UNIT did not start: see journalctl -u ${UNIT%.service} -n 50"
  fi
}

stop_service() { # drains: systemctl stop returns once the process has exited
  if manager_live && sctl is-active --quiet "$UNIT"; then
    step "stopping $UNIT (running jobs finish first, up to the drain grace)"
    sctl stop "$UNIT"
  fi
}

# === main ===
if [ "$stop_only" = 1 ]; then
  stop_service
  exit 0
fi
if [ "$package" = 1 ]; then bin=$(at "$PREFIX/$BIN_NAME"); else bin=${binary:-$HERE/$BIN_NAME}; fi
if ! [ -f "$bin" ] || ! [ -x "$bin" ]; then
  die "no binary at $bin: give --binary FILE (built with: cargo build --release)"
fi
version=$("$bin" --version 2>/dev/null) || die "$bin does not run here (wrong architecture?)"

if [ -f "$(at "$CONFIG")" ]; then
  # === upgrade in place ===
  old=$(at "$PREFIX/$BIN_NAME")
  storage=$(config_storage "$old")
  if [ -n "$server$port$token_file$ca_file$ui_listen" ] || [ -n "${IC_SERVER_TOKEN:-}" ]; then
    warn "$CONFIG exists: it is kept as it is and the settings given are ignored (edit it, or uninstall first)"
  fi
  old_version=$([ -x "$old" ] && "$old" --version 2>/dev/null || echo "none")
  step "upgrading in place: $old_version -> $version (config, storage and queue are kept)"
  create_user
  stop_service
  if [ -x "$old" ] && [ -z "$root" ]; then
    rc=0
    jobs=$(as_service_user "$old" queue --config "$CONFIG" list 2>&1) || rc=$?
    [ "$rc" != 69 ] || die "the connector still runs (its storage is locked): stop it first, then run install.sh again"
    [ "$rc" != 0 ] || say "    the queue is kept: $(printf '%s\n' "$jobs" | tail -n 1)"
  fi
  install_program
  install_storage "$storage"
  [ -z "$root" ] || own "$(at "$CONFIG")"
  if ! run_check "$(at "$PREFIX/$BIN_NAME")" --upgrade; then
    prev=$(at "$PREFIX/$BIN_NAME.previous")
    if [ "$package" = 0 ] && [ -f "$prev" ]; then
      mv -f "$prev" "$(at "$PREFIX/$BIN_NAME")"
      warn "the new binary failed the check: the previous one ($old_version) is back"
      start_service
    fi
    die "upgrade failed at the check above; nothing else was changed"
  fi
  rm -f "$(at "$PREFIX/$BIN_NAME.previous")"
  start_service
  say "Upgraded to $version; config $CONFIG and storage $storage kept."
else
  # === fresh install ===
  if ! gather_answers; then
    create_user
    say "Installed $version, not configured yet: run"
    say "    sudo $PREFIX/install.sh"
    say "to answer the installer's questions (or reinstall with IC_SERVER and IC_TOKEN_FILE set)."
    exit 0
  fi
  step "installing $version"
  create_user
  install_program
  install_storage "$storage"
  write_config
  if ! run_check "$(at "$PREFIX/$BIN_NAME")"; then
    rm -f "$(at "$CONFIG")"
    die "the settings did not pass the check above: nothing was enabled or started. Fix the cause and run install.sh again."
  fi
  rm -f "$(at "$PREFIX/$BIN_NAME.previous")"
  start_service
  say "Installed $version:"
  say "    binary   $PREFIX/$BIN_NAME"
  say "    config   $CONFIG (0600, owner $SERVICE_USER)"
  say "    storage  $storage"
fi
if [ -z "$root" ] && manager_live; then
  say "Status: systemctl status ${UNIT%.service}    Logs: journalctl -u ${UNIT%.service}"
fi
