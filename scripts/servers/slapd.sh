#!/usr/bin/env bash
# A private OpenLDAP slapd on loopback for tests, demos and benchmarks.
# See the "## slapd" section of scripts/servers/README.md.
#
#   slapd.sh install                              apt-get slapd ldap-utils openssl python3
#   slapd.sh start DIR [--users N] [--seed S] [--seed-only]
#   slapd.sh stop DIR                             SIGTERM, SIGKILL after 10 s; idempotent
#   slapd.sh status DIR                           exit 0 when running
#   slapd.sh client-cert DIR                      add the certificate-bound service account
#                                                 to a running slapd initialized before it
#
# `start` initializes DIR once (free loopback ports, CA + server cert, cn=config,
# base entries, service account, fixture users and N generated users loaded offline
# with `slapadd -q`), then starts slapd in the background and writes DIR/slapd.env.
# On an initialized DIR it only starts slapd again, on the same ports, with the same
# data. --seed-only initializes DIR (and writes slapd.env) without starting slapd.
# Only 127.0.0.1 is ever listened on or contacted (and [::1] with SLAPD_LISTEN_IPV6=1,
# which a test sets only inside a network namespace it made).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SLAPD_BIN=${SLAPD_BIN:-/usr/sbin/slapd}
BASE_DN=dc=example,dc=com
PEOPLE_DN=ou=people,$BASE_DN
GROUPS_DN=ou=groups,$BASE_DN
ADMIN_DN=cn=admin,$BASE_DN
SERVICE_DN=cn=connector,ou=system,$BASE_DN
# The service account bound by a TLS client certificate (SASL EXTERNAL): slapd maps the
# certificate's subject to it with olcAuthzRegexp (issue #20).
CERT_SERVICE_DN=cn=connector-cert,ou=system,$BASE_DN
CLIENT_SUBJECT="/O=Example/OU=services/CN=connector-cert"
CLIENT_AUTHC_DN=cn=connector-cert,ou=services,o=example
POLICY_DN=cn=default,ou=policies,$BASE_DN
MUSTCHANGE_POLICY_DN=cn=mustchange,ou=policies,$BASE_DN
SERVICE_POLICY_DN=cn=service,ou=policies,$BASE_DN
BIG_GROUP_DN=cn=all-staff,$GROUPS_DN
PWD_MAX_AGE=315360000     # 10 years: fresh passwords never expire during a test
GEN_USER_PW=Gen-Passw0rd  # password of every generated user (one {SSHA} salt each)

log() { printf 'slapd.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# ---------------------------------------------------------------- install
cmd_install() {
  local pkgs=() p
  for p in slapd ldap-utils openssl python3; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed' || pkgs+=("$p")
  done
  if [ ${#pkgs[@]} -eq 0 ]; then log "already installed: slapd ldap-utils openssl python3"; return 0; fi
  [ "$(id -u)" = 0 ] || die "install needs root (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  # Do not let the package create or start Debian's own instance (it would take port 389):
  # no default database, and a policy-rc.d forbidding service starts during the install.
  echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
  local own_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  local rc=0
  {
    apt-get -o DPkg::Lock::Timeout=300 update -qq &&
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${pkgs[@]}"
  } || rc=$?
  [ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || die "apt-get failed ($rc)"
  log "installed: ${pkgs[*]}"
}

# ---------------------------------------------------------------- helpers
need_tools() {
  local t
  for t in "$SLAPD_BIN" slapadd slappasswd ldapwhoami openssl python3 flock; do
    command -v "$t" >/dev/null 2>&1 || die "$t not found: run '$0 install' first"
  done
}

abs_dir() { # absolute path of $1 (need not exist)
  case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$PWD" "$1" ;; esac | sed 's,/\+$,,; s,/\./,/,g'
}

# pid of the slapd serving DIR, if it runs (checks the process really is ours)
running_pid() {
  local dir=$1 f pid
  for f in "$dir/slapd.pid" "$dir/slapd.pid.launcher"; do
    [ -s "$f" ] || continue
    pid=$(cat "$f")
    case "$pid" in ''|*[!0-9]*) continue ;; esac
    if kill -0 "$pid" 2>/dev/null && [ -r "/proc/$pid/cmdline" ] &&
       tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "-F $dir/slapd.d "; then
      echo "$pid"; return 0
    fi
  done
  return 1
}

free_ports() { # two distinct free TCP ports on 127.0.0.1 (bound to port 0, then released)
  python3 - <<'EOF'
import socket
socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

randpw() { python3 -c 'import secrets,string; a=string.ascii_letters+string.digits; print("".join(secrets.choice(a) for _ in range(20)))'; }

port_busy() { # is something listening on 127.0.0.1:$1 ?
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
EOF
}

# ---------------------------------------------------------------- init
write_config() { # $1=DIR ; uses PORT vars and password hashes
  local dir=$1 t=$1/tls s
  {
  cat <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $dir/slapd.pid
olcArgsFile: $dir/slapd.args
olcTLSCACertificateFile: $t/ca.crt
olcTLSCertificateFile: $t/server.crt
olcTLSCertificateKeyFile: $t/server.key
$(client_cert_global)
olcLogLevel: none
olcToolThreads: 2

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: ppolicy
olcModuleLoad: sssvlv

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

EOF
  for s in core cosine nis inetorgperson; do grep -v '^#' "/etc/ldap/schema/$s.ldif"; echo; done
  cat <<EOF
dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: size.soft=1000 size.hard=unlimited size.prtotal=unlimited

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by dn.exact=$ADMIN_DN manage by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $BASE_DN
olcRootDN: $ADMIN_DN
olcRootPW: $ADMIN_HASH
olcDbDirectory: $dir/data
olcDbMaxSize: 137438953472
olcDbNoSync: TRUE
olcDbIndex: objectClass eq
olcDbIndex: cn eq,sub
olcDbIndex: uid,mail,sn,givenName,employeeNumber eq
olcDbIndex: member,manager,owner eq
olcDbIndex: entryUUID,entryCSN eq
olcDbIndex: pwdAccountLockedTime eq
olcSizeLimit: size.soft=1000 size.hard=unlimited size.prtotal=unlimited
olcLimits: dn.exact="$SERVICE_DN" size=unlimited time=unlimited
olcLimits: dn.exact="$CERT_SERVICE_DN" size=unlimited time=unlimited
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by dn.exact="$SERVICE_DN" write by * none
olcAccess: {1}to * by dn.exact="$SERVICE_DN" write by dn.exact="$CERT_SERVICE_DN" read by self read by users read by * none

dn: olcOverlay={0}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {0}ppolicy
olcPPolicyDefault: $POLICY_DN
olcPPolicyHashCleartext: TRUE
olcPPolicyUseLockout: TRUE

dn: olcOverlay={1}sssvlv,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSssVlvConfig
olcOverlay: {1}sssvlv
olcSssVlvMax: 32
olcSssVlvMaxKeys: 5
EOF
  } > "$dir/config.ldif"
}

policy() { # $1=cn $2=pwdMaxAge $3=pwdLockout $4=pwdMustChange
  cat <<EOF
dn: cn=$1,ou=policies,$BASE_DN
objectClass: top
objectClass: device
objectClass: pwdPolicy
cn: $1
pwdAttribute: userPassword
pwdMaxAge: $2
pwdGraceAuthNLimit: 0
pwdExpireWarning: 0
pwdLockout: $3
pwdMaxFailure: 3
pwdLockoutDuration: 0
pwdFailureCountInterval: 0
pwdMustChange: $4
pwdAllowUserChange: TRUE
pwdInHistory: 0
pwdCheckQuality: 0
pwdMinLength: 0
pwdMinAge: 0

EOF
}

write_base() { # $1=DIR
  local ou
  {
    cat <<EOF
dn: $BASE_DN
objectClass: top
objectClass: dcObject
objectClass: organization
o: Example
dc: example

EOF
    for ou in people groups system policies bulk; do
      printf 'dn: ou=%s,%s\nobjectClass: top\nobjectClass: organizationalUnit\nou: %s\n\n' "$ou" "$BASE_DN" "$ou"
    done
    policy default "$PWD_MAX_AGE" TRUE FALSE
    policy mustchange "$PWD_MAX_AGE" TRUE TRUE
    policy service 0 FALSE FALSE
    cat <<EOF
dn: $SERVICE_DN
objectClass: top
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: connector
description: service account of the integration connector (never locked out)
userPassword: $SERVICE_HASH
pwdPolicySubentry: $SERVICE_POLICY_DN

EOF
    cert_service_entry
  } > "$1/base.ldif"
}

make_tls() { # $1=DIR/tls
  local t=$1
  mkdir -p "$t"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=connector test CA" \
    -keyout "$t/ca.key" -out "$t/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" > "$t/server.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial \
    -days 3650 -extfile "$t/server.ext" -out "$t/server.crt" 2>/dev/null
  chmod 600 "$t"/*.key
  make_client_cert "$t"
}

make_client_cert() { # $1=DIR/tls: the service account's client certificate (same CA), 10 years
  local t=$1
  [ -s "$t/client.crt" ] && [ -s "$t/client.key" ] && return 0
  openssl req -newkey rsa:2048 -nodes -subj "$CLIENT_SUBJECT" \
    -keyout "$t/client.key" -out "$t/client.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=clientAuth" > "$t/client.ext"
  openssl x509 -req -in "$t/client.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial \
    -days 3650 -extfile "$t/client.ext" -out "$t/client.crt" 2>/dev/null
  chmod 600 "$t/client.key"
}

# cn=config lines of the certificate mapping: ask for a client certificate (allow: a
# client without one still connects) and map its subject to the service entry.
client_cert_global() {
  printf 'olcTLSVerifyClient: allow\nolcAuthzRegexp: {0}"^%s$" "%s"\n' "$CLIENT_AUTHC_DN" "$CERT_SERVICE_DN"
}

cert_service_entry() {
  cat <<EOF
dn: $CERT_SERVICE_DN
objectClass: top
objectClass: organizationalRole
cn: connector-cert
description: service account of the integration connector bound by its TLS client certificate (SASL EXTERNAL)

EOF
}

write_env() { # $1=DIR $2=pid (may be empty)
  local dir=$1 tmp=$1/slapd.env.tmp
  cat > "$tmp" <<EOF
SLAPD_DIR=$dir
SLAPD_URL=ldap://127.0.0.1:$PORT
SLAPD_LDAPS_URL=ldaps://127.0.0.1:$TLS_PORT
SLAPD_PORT=$PORT
SLAPD_LDAPS_PORT=$TLS_PORT
SLAPD_CA=$dir/tls/ca.crt
SLAPD_BASE_DN=$BASE_DN
SLAPD_PEOPLE_DN=$PEOPLE_DN
SLAPD_GROUPS_DN=$GROUPS_DN
SLAPD_ADMIN_DN=$ADMIN_DN
SLAPD_ADMIN_PW=$ADMIN_PW
SLAPD_SERVICE_DN=$SERVICE_DN
SLAPD_SERVICE_PW=$SERVICE_PW
SLAPD_POLICY_DN=$POLICY_DN
SLAPD_PID=$2
SLAPD_LOG=$dir/slapd.log
SLAPD_USERS=$USERS
SLAPD_SEED=$SEED
SLAPD_GEN_USER_PW=$GEN_USER_PW
SLAPD_MANIFEST=$dir/manifest.jsonl
SLAPD_USER_OK=fixture-ok
SLAPD_USER_OK_PW=$FIXTURE_PW
SLAPD_USER_LOCKED=fixture-locked
SLAPD_USER_EXPIRED=fixture-expired
SLAPD_USER_MUST_CHANGE=fixture-mustchange
SLAPD_USER_LOCKOUT=fixture-lockout
SLAPD_FIXTURE_PW=$FIXTURE_PW
SLAPD_BIG_GROUP_DN=$BIG_GROUP_DN
SLAPD_CERT_SERVICE_DN=$CERT_SERVICE_DN
SLAPD_CLIENT_CERT=$dir/tls/client.crt
SLAPD_CLIENT_KEY=$dir/tls/client.key
EOF
  chmod 600 "$tmp"
  mv -f "$tmp" "$dir/slapd.env"
}

initialize() { # $1=DIR ; sets PORT TLS_PORT ADMIN_PW SERVICE_PW FIXTURE_PW
  local dir=$1 t0=$SECONDS
  # leftovers of an interrupted initialization (only our own files)
  rm -rf "$dir/slapd.d" "$dir/data" "$dir/tls" "$dir/config.ldif" "$dir/base.ldif" \
    "$dir/manifest.jsonl" "$dir/slapd.env" "$dir/slapd.pid" "$dir/slapd.pid.launcher" "$dir/slapd.args"
  mkdir -p "$dir/slapd.d" "$dir/data"
  read -r PORT TLS_PORT < <(free_ports)
  ADMIN_PW=$(randpw); SERVICE_PW=$(randpw); FIXTURE_PW=$(randpw)
  ADMIN_HASH=$(slappasswd -s "$ADMIN_PW"); SERVICE_HASH=$(slappasswd -s "$SERVICE_PW")
  make_tls "$dir/tls"
  write_config "$dir"
  slapadd -n0 -F "$dir/slapd.d" -l "$dir/config.ldif" >/dev/null
  write_base "$dir"
  slapadd -q -n1 -F "$dir/slapd.d" -l "$dir/base.ldif"
  # generated users, fillers, fixtures and groups: streamed straight into slapadd
  python3 "$HERE/gen_users.py" --count "$USERS" --seed "$SEED" --base-dn "$BASE_DN" \
    --people-ou ou=people --groups-ou ou=groups --filler-ou ou=bulk \
    --ldif - --manifest "$dir/manifest.jsonl" --user-password "$GEN_USER_PW" \
    --fixture-password "$FIXTURE_PW" --mustchange-policy-dn "$MUSTCHANGE_POLICY_DN" \
    | slapadd -q -n1 -F "$dir/slapd.d"
  write_env "$dir" ""
  touch "$dir/.initialized" "$dir/.client-cert"
  log "initialized $dir: $USERS users in $((SECONDS - t0)) s"
}

launch() { # $1=DIR ; starts slapd, waits until it answers; echoes pid
  local dir=$1 pid i
  rm -f "$dir/slapd.pid" "$dir/slapd.pid.launcher"
  # -d keeps slapd in the foreground (no fork), so $! is slapd itself. Every inherited
  # descriptor but 0-2 is closed for it: it must not hold DIR's lock (fd 9) nor a
  # caller's pipe while it runs.
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}; [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
    done
    listen="ldap://127.0.0.1:$PORT/ ldaps://127.0.0.1:$TLS_PORT/"
    # [::1] too, for the IPv6 literal URL test, which sets this only inside a network
    # namespace of its own (tests/faults/directory.rs).
    [ "${SLAPD_LISTEN_IPV6:-0}" = 1 ] && listen="$listen ldap://[::1]:$PORT/ ldaps://[::1]:$TLS_PORT/"
    exec "$SLAPD_BIN" -d 0 -F "$dir/slapd.d" -h "$listen"
  ) >> "$dir/slapd.log" 2>&1 < /dev/null &
  pid=$!
  echo "$pid" > "$dir/slapd.pid.launcher"
  for i in $(seq 1 300); do
    if ldapwhoami -x -H "ldap://127.0.0.1:$PORT" >/dev/null 2>&1 &&
       LDAPTLS_CACERT=$dir/tls/ca.crt ldapwhoami -x -H "ldaps://127.0.0.1:$TLS_PORT" >/dev/null 2>&1; then
      echo "$pid"; return 0
    fi
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 1; }
    sleep 0.1
  done
  log "slapd did not answer within 30 s"; kill -KILL "$pid" 2>/dev/null || true
  return 1
}

# The certificate mapping of a DIR initialized before it existed, applied to its running
# slapd through cn=config (additive: no restart, nothing else changes; its ACLs already
# let every bound identity read, so the mapped account reads as `by users read` allows).
add_client_cert() { # $1=DIR ; needs PORT ADMIN_PW and a running slapd
  local dir=$1 url=ldap://127.0.0.1:$PORT
  make_client_cert "$dir/tls"
  local admin=(-x -H "$url" -D "$ADMIN_DN" -w "$ADMIN_PW")
  if ! ldapsearch "${admin[@]}" -LLL -b cn=config -s base olcAuthzRegexp | grep -q connector-cert; then
    ldapmodify "${admin[@]}" >/dev/null <<EOF
dn: cn=config
changetype: modify
replace: olcTLSVerifyClient
olcTLSVerifyClient: allow
-
add: olcAuthzRegexp
olcAuthzRegexp: "^$CLIENT_AUTHC_DN\$" "$CERT_SERVICE_DN"

dn: olcDatabase={1}mdb,cn=config
changetype: modify
add: olcLimits
olcLimits: dn.exact="$CERT_SERVICE_DN" size=unlimited time=unlimited
EOF
  fi
  local rc=0
  cert_service_entry | ldapadd "${admin[@]}" >/dev/null 2>&1 || rc=$?
  [ $rc = 0 ] || [ $rc = 68 ] || die "adding $CERT_SERVICE_DN failed (ldapadd $rc)"
  touch "$dir/.client-cert"
  log "certificate-bound service account $CERT_SERVICE_DN ready ($dir/tls/client.crt)"
}

# ---------------------------------------------------------------- commands
cmd_start() {
  [ $# -ge 1 ] || usage
  local dir; dir=$(abs_dir "$1"); shift
  case "$dir" in *[[:space:]]*) die "DIR must not contain whitespace (slapd.env is unquoted)" ;; esac
  USERS=0; SEED=42; local seed_only="" users_given=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --users) [ $# -ge 2 ] || usage; USERS=$2; users_given=1; shift 2 ;;
      --users=*) USERS=${1#*=}; users_given=1; shift ;;
      --seed) [ $# -ge 2 ] || usage; SEED=$2; shift 2 ;;
      --seed-only) seed_only=1; shift ;;
      *) usage ;;
    esac
  done
  case "$USERS" in ''|*[!0-9]*) die "--users needs a number" ;; esac
  case "$SEED" in ''|*[!0-9]*) die "--seed needs a number" ;; esac
  need_tools
  mkdir -p "$dir"; chmod 700 "$dir"
  exec 9> "$dir/.lock"
  flock 9

  local pid
  if pid=$(running_pid "$dir"); then
    log "already running: pid $pid ($dir/slapd.env)"; return 0
  fi
  if [ -f "$dir/.initialized" ] && [ -f "$dir/slapd.env" ]; then
    # shellcheck disable=SC1091
    . "$dir/slapd.env"
    PORT=$SLAPD_PORT TLS_PORT=$SLAPD_LDAPS_PORT ADMIN_PW=$SLAPD_ADMIN_PW
    SERVICE_PW=$SLAPD_SERVICE_PW FIXTURE_PW=$SLAPD_FIXTURE_PW SEED=$SLAPD_SEED
    [ -z "$users_given" ] || [ "$USERS" = "$SLAPD_USERS" ] ||
      log "note: $dir is already initialized with $SLAPD_USERS users; --users $USERS ignored"
    USERS=$SLAPD_USERS
    [ -z "$seed_only" ] || { log "$dir is initialized (not started: --seed-only)"; return 0; }
    local p
    for p in "$PORT" "$TLS_PORT"; do
      ! port_busy "$p" || die "port $p on 127.0.0.1 is taken by another process; $dir needs it"
    done
    pid=$(launch "$dir") || { tail -20 "$dir/slapd.log" >&2; die "slapd failed to start"; }
    [ -f "$dir/.client-cert" ] || add_client_cert "$dir"
  else
    initialize "$dir"
    [ -z "$seed_only" ] || { log "$dir is initialized (not started: --seed-only)"; return 0; }
    # a port picked at initialization may have been taken meanwhile: pick others
    local attempt
    for attempt in 1 2 3; do
      if pid=$(launch "$dir"); then break; fi
      grep -q "Address already in use" "$dir/slapd.log" 2>/dev/null && [ "$attempt" -lt 3 ] ||
        { tail -20 "$dir/slapd.log" >&2; die "slapd failed to start"; }
      log "port taken, picking others"; : > "$dir/slapd.log"
      read -r PORT TLS_PORT < <(free_ports)
    done
  fi
  write_env "$dir" "$pid"
  log "slapd running: pid $pid ldap://127.0.0.1:$PORT ldaps://127.0.0.1:$TLS_PORT env $dir/slapd.env"
}

cmd_client_cert() {
  [ $# -eq 1 ] || usage
  local dir; dir=$(abs_dir "$1")
  need_tools
  exec 9> "$dir/.lock"
  flock 9
  running_pid "$dir" >/dev/null || die "slapd of $dir is not running: start it (start adds the account itself)"
  # shellcheck disable=SC1091
  . "$dir/slapd.env"
  PORT=$SLAPD_PORT TLS_PORT=$SLAPD_LDAPS_PORT ADMIN_PW=$SLAPD_ADMIN_PW SERVICE_PW=$SLAPD_SERVICE_PW
  FIXTURE_PW=$SLAPD_FIXTURE_PW SEED=$SLAPD_SEED USERS=$SLAPD_USERS
  add_client_cert "$dir"
  write_env "$dir" "$(running_pid "$dir")"
}

cmd_stop() {
  [ $# -eq 1 ] || usage
  local dir pid i; dir=$(abs_dir "$1")
  [ -d "$dir" ] || { log "$dir does not exist: nothing to stop"; return 0; }
  if ! pid=$(running_pid "$dir"); then
    rm -f "$dir/slapd.pid" "$dir/slapd.pid.launcher"; log "not running ($dir)"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored SIGTERM for 10 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$dir/slapd.pid" "$dir/slapd.pid.launcher"
  log "stopped pid $pid ($dir)"
}

cmd_status() {
  [ $# -eq 1 ] || usage
  local dir pid; dir=$(abs_dir "$1")
  if pid=$(running_pid "$dir"); then
    echo "running pid $pid ($(grep -E '^SLAPD_(URL|LDAPS_URL)=' "$dir/slapd.env" 2>/dev/null | cut -d= -f2 | tr '\n' ' '))"
    return 0
  fi
  echo "not running ($dir)"; return 1
}

[ $# -ge 1 ] || usage
cmd=$1; shift
case "$cmd" in
  install) cmd_install "$@" ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  status) cmd_status "$@" ;;
  client-cert) cmd_client_cert "$@" ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
