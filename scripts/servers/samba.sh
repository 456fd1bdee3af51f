#!/usr/bin/env bash
# Private Samba AD domain controller on loopback for tests and benchmarks (Debian 12, Samba 4.17).
#
#   samba.sh install                               apt-get the packages (skips what is installed)
#   samba.sh start DIR [--users N] [--model single|prefork] [--ip 127.0.0.X] [--dns-kdc]
#                                                  provision once into DIR, start samba, create the
#                                                  test data once; writes DIR/samba.env. Idempotent.
#                                                  --ip: the loopback address it serves (default
#                                                  127.0.0.1; SAMBA_IP); --dns-kdc: Samba's internal
#                                                  DNS on <ip>:53 and its KDC on <ip>:88 too
#                                                  (SAMBA_DNS_KDC=1). Either changed re-provisions.
#   samba.sh dns DIR add|delete NAME TYPE DATA     a record in the example.test zone (--dns-kdc)
#   samba.sh stop DIR                              SIGTERM, SIGKILL after 15 s. Idempotent.
#   samba.sh status DIR                            exit 0 running, 3 stopped
#   samba.sh check DIR                             searches, ranged Big Group, fixture bind
#                                                  diagnostics, lockout, manifest vs directory,
#                                                  the delegated account's rights on OU=Team #2
#   samba.sh expire-password DIR SAM [DAYS]        pwdLastSet of SAM set DAYS (default 3) back,
#                                                  so a PSO with a maximum age expires it (532)
#   samba.sh account DIR set USER PW KEYTAB        USER in OU=Service created, or its password
#                                                  set (its key version rises), then its keys
#                                                  exported to KEYTAB (0600) (--dns-kdc)
#   samba.sh account DIR delete USER               USER deleted
#
# Realm EXAMPLE.TEST, domain EXAMPLE, host dc1; LDAP on <ip>:389, LDAPS on <ip>:636 (fixed
# ports: AD clients expect them; <ip> is 127.0.0.1 unless --ip says another loopback address,
# so a second DC can run beside the first). Only the LDAP service runs (`server services =
# ldap`, the global catalog on 3268/3269 with it) unless --dns-kdc adds `dns kdc`: then the
# domain's DNS zone (SRV records of dc1, `samba-tool dns add` for more) answers on <ip>:53
# and the KDC on <ip>:88; DIR/krb5.conf points Kerberos clients at it.
# Network isolation: samba, samba-tool and the LDAP client tools of this script run in a
# private mount namespace whose /etc/resolv.conf says `nameserver <ip>` and whose
# /etc/hosts maps dc1.example.test and this host's name to <ip>, so every name lookup
# stays on loopback. The network namespace is the host's: clients reach <ip>:389/636.
# Env: SAMBA_MAX_RUNTIME (s, default 14400: samba exits by itself after it), SAMBA_DEBUG (0..10)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")
REALM=EXAMPLE.TEST
DOMAIN=EXAMPLE
HOST=dc1
FQDN=dc1.example.test
BASE_DN='DC=example,DC=test'
ADMIN_DN="CN=Administrator,CN=Users,$BASE_DN"
ADMIN_PW='Adm1n-Passw0rd'
SERVICE_DN="CN=svc-connector,OU=Service,$BASE_DN"
SERVICE_PW='Svc-Passw0rd1'
READONLY_DN="CN=svc-readonly,OU=Service,$BASE_DN"
READONLY_PW='Ro-Passw0rd1'
# Least-privilege service account: rights on OU=Team #2 only (samba-tool dsacl, see
# delegate()), not in any admin group. The OU as a person writes it; Samba returns
# 'OU=Team \#2,...'.
DELEGATED_DN="CN=svc-delegated,OU=Service,$BASE_DN"
DELEGATED_PW='Del-Passw0rd1'
TEAM_OU_DN="OU=Team #2,$BASE_DN"
# The version of the test data this script creates. Bump it whenever samba_users.py or
# cmd_populate changes what is created: start re-provisions a DIR holding another version
# (a developer's old .test-area and CI's fresh one both end with the same data).
# 1: (no .fixture_version file) Staff, Service, Fixtures. 2: OU=Team #2, svc-delegated.
FIXTURE_VERSION=2
FIXTURE_PW='Fixture-Pw1'
STAFF_DN="OU=Staff,$BASE_DN"
FIXTURES_DN="OU=Fixtures,$BASE_DN"
BIG_GROUP_DN="CN=Big Group,$STAFF_DN"
# names the test certificate covers besides dc1: SRV targets of discovery tests (a TCP proxy
# to this DC answers for them on another loopback address)
EXTRA_NAMES=(dc2.example.test dc3.example.test example.test)
PACKAGES="samba samba-ad-dc samba-ad-provision winbind ldb-tools krb5-user ldap-utils openssl python3 iproute2"
MAX_RUNTIME=${SAMBA_MAX_RUNTIME:-14400}

die() { echo "samba.sh: $*" >&2; exit 1; }
log() { echo "samba.sh: $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
usage() { sed -n '2,24p' "$SELF" | sed 's/^# \{0,1\}//'; exit 2; }

setdir() {
  [ -n "${1:-}" ] || usage
  D=$(realpath -m "$1")
  DC=$D/dc; CONF=$D/dc/etc/smb.conf; TLS=$D/tls; NS=$D/ns; PIDFILE=$D/samba.pid; ENVF=$D/samba.env
  # the address and services DIR was provisioned with (start's options may change them)
  IP=$(cat "$D/ip" 2>/dev/null || echo "${SAMBA_IP:-127.0.0.1}")
  SERVICES=$(cat "$D/services" 2>/dev/null || echo ldap)
  seturls
  export LDAPTLS_CACERT=$TLS/ca.crt LDAPTLS_REQCERT=demand
}

seturls() { LDAP_URL=ldap://$IP:389; LDAPS_URL=ldaps://$IP:636; }

# run a command inside the private mount namespace (loopback-only resolv.conf and hosts)
inns() {
  unshare -m sh -c 'mount --bind "$0/resolv.conf" /etc/resolv.conf && mount --bind "$0/hosts" /etc/hosts && exec "$@"' \
    "$NS" "$@"
}

# pid of our samba if it runs, else empty
running_pid() {
  local pid
  [ -s "$PIDFILE" ] || return 0
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qE '^(samba|unshare|setsid|sh)[: ]'; then
    echo "$pid"
  fi
}

port_busy() { (exec 3<>"/dev/tcp/$IP/$1") 2>/dev/null; }

# ------------------------------------------------------------------ install
cmd_install() {
  local missing=() p
  for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then log "all packages installed: $PACKAGES"; return 0; fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ------------------------------------------------------------------ provision
make_tls() {
  mkdir -p "$TLS"
  (
    cd "$TLS"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=integration-connector samba test CA" \
      -keyout ca.key -out ca.crt \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$FQDN" -keyout server.key -out server.csr 2>/dev/null
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" \
      "subjectAltName=DNS:$FQDN,$(printf "DNS:%s," "${EXTRA_NAMES[@]}")DNS:localhost,IP:$IP" > server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile server.ext -out server.crt 2>/dev/null
    chmod 600 ca.key server.key      # samba refuses a key file that others can read
    chmod 644 ca.crt server.crt
  )
}

provision() {
  local t0; t0=$(now)
  local backend=NONE iface=lo
  rm -rf "$DC" "$TLS" "$D/ldif" "$D/.populated" "$D/.fixture_version" "$D/team.env" "$D/delegation" "$D/ip" "$D/services"
  mkdir -p "$DC"
  make_tls
  [ "$SERVICES" = ldap ] || backend=SAMBA_INTERNAL
  # `lo` binds 127.0.0.1 only; another loopback address is named with lo's /8 mask
  [ "$IP" = 127.0.0.1 ] || iface=$IP/8
  log "provisioning $REALM into $DC on $IP, services: $SERVICES (log: $D/provision.log)"
  inns samba-tool domain provision --targetdir="$DC" \
    --realm="$REALM" --domain="$DOMAIN" --server-role=dc --dns-backend="$backend" --use-rfc2307 \
    --backend-store=mdb --adminpass="$ADMIN_PW" --host-name="$HOST" --host-ip="$IP" \
    --option="interfaces = $iface" --option="bind interfaces only = yes" \
    --option="server services = $SERVICES" --option="dns forwarder = " \
    --option="tls enabled = yes" --option="tls keyfile = $TLS/server.key" \
    --option="tls certfile = $TLS/server.crt" --option="tls cafile = $TLS/ca.crt" \
    --option="log file = $DC/log.%m" --option="max log size = 10000" \
    > "$D/provision.log" 2>&1 || { tail -30 "$D/provision.log" >&2; die "provision failed"; }
  # not written by provision even when given with --option: add to [global] ourselves.
  # strong auth = no: simple bind allowed on plain 389 too; nosync: no fsync (test data only!)
  # Run-time files in DIR, not /run/samba: a second DC beside the first must not find the
  # first one's pid file or sockets.
  sed -i -e '/^\[global\]/a\	ldap server require strong auth = no' \
         -e '/^\[global\]/a\	ldb:nosync = true' \
         -e "/^\[global\]/a\\	pid directory = $DC/run" \
         -e "/^\[global\]/a\\	ncalrpc dir = $DC/run/ncalrpc" \
         -e "/^\[global\]/a\\	winbindd socket directory = $DC/run/winbindd" \
         -e "/^\[global\]/a\\	ntp signd socket directory = $DC/run/ntp_signd" "$CONF"
  mkdir -p "$DC/run"
  # test password policy (the default one makes short passwords fail with 0000052D and a
  # self-change right after an admin reset fail with "password is too young")
  inns samba-tool domain passwordsettings set -s "$CONF" --complexity=off --history-length=0 \
    --min-pwd-age=0 --max-pwd-age=0 --min-pwd-length=1 \
    --account-lockout-threshold=3 --account-lockout-duration=30 --reset-account-lockout-after=30 \
    >> "$D/provision.log" 2>&1 || { tail -30 "$D/provision.log" >&2; die "passwordsettings failed"; }
  echo "$IP" > "$D/ip"
  echo "$SERVICES" > "$D/services"
  write_krb5_conf
  touch "$D/.provisioned"
  T_PROVISION=$(since "$t0")
  echo "provision_s=$T_PROVISION" >> "$D/timings.txt"
  log "provisioned in ${T_PROVISION}s"
}

# Kerberos clients of this DC (kinit, GSSAPI binds): KRB5_CONFIG=DIR/krb5.conf
write_krb5_conf() {
  printf '[libdefaults]\n\tdefault_realm = %s\n\tdns_lookup_realm = false\n\tdns_lookup_kdc = false\n\trdns = false\n[realms]\n\t%s = {\n\t\tkdc = %s:88\n\t}\n[domain_realm]\n\t.example.test = %s\n\texample.test = %s\n' \
    "$REALM" "$REALM" "$IP" "$REALM" "$REALM" > "$D/krb5.conf"
}

# ------------------------------------------------------------------ start
start_samba() {
  local model=$1 pid i t0
  t0=$(now)
  # -F keeps samba in the foreground so $! is samba itself (setsid, unshare and sh exec into
  # it); setsid gives it its own session and process group, so a Ctrl-C or a kill of the
  # caller's group does not take it down, and stop can clean up the group.
  setsid unshare -m sh -c 'mount --bind "$0/resolv.conf" /etc/resolv.conf && mount --bind "$0/hosts" /etc/hosts && exec "$@"' \
    "$NS" samba -s "$CONF" -F -M "$model" --debug-stdout -d "${SAMBA_DEBUG:-1}" \
    --maximum-runtime="$MAX_RUNTIME" >> "$D/samba.log" 2>&1 < /dev/null 9>&- &
  pid=$!
  echo "$pid" > "$PIDFILE"
  echo "$model" > "$D/model"
  for i in $(seq 1 600); do
    # Samba has no WhoAmI extended operation (ldapwhoami: "Protocol error (2)"): bind and read the rootDSE
    if ldapsearch -x -H "$LDAPS_URL" -D "$ADMIN_DN" -w "$ADMIN_PW" -b '' -s base 1.1 >/dev/null 2>&1; then
      T_START=$(since "$t0")
      log "samba pid $pid (-M $model) answers on $LDAPS_URL after ${T_START}s"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"; tail -30 "$D/samba.log" >&2; die "samba exited during start (log: $D/samba.log)"
    fi
    sleep 0.1
  done
  tail -30 "$D/samba.log" >&2
  stop_pid "$pid"
  die "samba did not answer on $LDAPS_URL within 60 s"
}

write_env() {
  local pid=$1 model=$2 users big tmp
  users=$(cat "$D/.populated")
  big=$(cat "$D/big_group_members" 2>/dev/null || echo 0)
  tmp=$ENVF.tmp
  {
    echo "# written by scripts/servers/samba.sh start; bash-sourceable, every value in single quotes"
    q() { printf "%s='%s'\n" "$1" "$2"; }
    q AD_URL "$LDAP_URL"
    q AD_IP "$IP"
    q AD_SERVICES "$SERVICES"
    # the DC's DNS server (host:port) and Kerberos config; empty without --dns-kdc
    if [ "$SERVICES" = ldap ]; then q AD_DNS_SERVER ""; q AD_KRB5_CONF ""
    else q AD_DNS_SERVER "$IP:53"; q AD_KRB5_CONF "$D/krb5.conf"; fi
    if [ "$SERVICES" = ldap ]; then q AD_SERVICE_KEYTAB ""; q AD_SERVICE_PRINCIPAL ""
    else q AD_SERVICE_KEYTAB "$D/svc-connector.keytab"; q AD_SERVICE_PRINCIPAL "svc-connector@$REALM"; fi
    q AD_GC_URL "ldap://$IP:3268"
    q AD_GC_LDAPS_URL "ldaps://$IP:3269"
    q AD_LDAPS_URL "$LDAPS_URL"
    q AD_CA "$TLS/ca.crt"
    q AD_REALM "$REALM"
    q AD_DOMAIN "$DOMAIN"
    q AD_HOST "$FQDN"
    q AD_BASE_DN "$BASE_DN"
    q AD_STAFF_DN "$STAFF_DN"
    q AD_SERVICE_OU_DN "OU=Service,$BASE_DN"
    q AD_FIXTURES_DN "$FIXTURES_DN"
    q AD_ADMIN_DN "$ADMIN_DN"
    q AD_ADMIN_UPN "Administrator@example.test"
    q AD_ADMIN_PW "$ADMIN_PW"
    q AD_SERVICE_DN "$SERVICE_DN"
    q AD_SERVICE_UPN "svc-connector@example.test"
    q AD_SERVICE_PW "$SERVICE_PW"
    q AD_READONLY_DN "$READONLY_DN"
    q AD_READONLY_UPN "svc-readonly@example.test"
    q AD_READONLY_PW "$READONLY_PW"
    q AD_DELEGATED_DN "$DELEGATED_DN"
    q AD_DELEGATED_UPN "svc-delegated@example.test"
    q AD_DELEGATED_PW "$DELEGATED_PW"
    q AD_DELEGATION "$(sed -n 1p "$D/delegation" 2>/dev/null)"
    q AD_DELEGATED_SDDL "$(sed -n 2p "$D/delegation" 2>/dev/null)"
    q AD_PID "$pid"
    q AD_USERS "$users"
    q AD_MODEL "$model"
    q AD_USER_OK fx-ok
    q AD_USER_DISABLED fx-disabled
    q AD_USER_MUST_CHANGE fx-mustchange
    q AD_USER_EXPIRED fx-expired
    q AD_USER_LOCKOUT fx-lockout
    q AD_USER_DONT_EXPIRE fx-noexpire
    q AD_FIXTURE_PW "$FIXTURE_PW"
    q AD_UPN_SUFFIX "example.test"
    q AD_BIG_GROUP_DN "$BIG_GROUP_DN"
    q AD_BIG_GROUP_MEMBERS "$big"
    q AD_MANIFEST "$D/samba-manifest.jsonl"
    q AD_CONF "$CONF"
    q AD_LOG "$D/samba.log"
    q AD_DIR "$D"
    q AD_FIXTURE_VERSION "$(cat "$D/.fixture_version")"
    # OU=Team #2 and its fixtures, named by samba_users.py (KEY='value' lines)
    cat "$D/team.env"
  } > "$tmp"
  mv "$tmp" "$ENVF"
}

cmd_start() {
  setdir "${1:-}"; shift
  local users="" model=single pid started=0 want_ip=${SAMBA_IP:-127.0.0.1} want_services=ldap
  [ "${SAMBA_DNS_KDC:-0}" = 1 ] && want_services="ldap dns kdc rpc"
  while [ $# -gt 0 ]; do
    case $1 in
      --users) users=${2:?}; shift 2 ;;
      --model) model=${2:?}; shift 2 ;;
      --ip) want_ip=${2:?}; shift 2 ;;
      --dns-kdc) want_services="ldap dns kdc rpc"; shift ;;
      *) usage ;;
    esac
  done
  [[ $model =~ ^(single|prefork)$ ]] || die "--model must be single or prefork"
  [[ $want_ip =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--ip must be a loopback address 127.x.y.z, not '$want_ip'"
  [ -z "$users" ] || [[ $users =~ ^[0-9]+$ ]] || die "--users must be a number"
  command -v samba >/dev/null && command -v samba-tool >/dev/null && command -v ldapadd >/dev/null \
    || die "samba or ldap-utils missing: run '$SELF install' first"
  mkdir -p "$D" "$NS"
  exec 9> "$D/.lock"
  flock -w 300 9 || die "another samba.sh holds $D/.lock"

  pid=$(running_pid)
  local have why=""
  have=$(cat "$D/.fixture_version" 2>/dev/null || echo 1)
  [ "$have" = "$FIXTURE_VERSION" ] || why="test data version $have, this script creates version $FIXTURE_VERSION"
  [ "$IP" = "$want_ip" ] || why="address $IP, asked for $want_ip"
  [ "$SERVICES" = "$want_services" ] || why="services '$SERVICES', asked for '$want_services'"
  IP=$want_ip SERVICES=$want_services
  seturls
  printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$IP" > "$NS/resolv.conf"
  printf '127.0.0.1 localhost %s\n%s %s %s\n::1 localhost ip6-localhost\n' \
    "$(hostname)" "$IP" "$FQDN" "$HOST" > "$NS/hosts"
  if [ -f "$D/.provisioned" ] && [ -n "$why" ]; then
    log "$D holds $why: re-provisioning"
    [ -n "$users" ] || users=$(cat "$D/.populated" 2>/dev/null || true)
    if [ -n "$pid" ]; then stop_pid "$pid"; pid=""; fi
    rm -f "$D/.provisioned" "$D/.populated"
  fi
  if [ -n "$pid" ]; then
    log "samba already running for $D (pid $pid)"
    model=$(cat "$D/model" 2>/dev/null || echo "$model")
  else
    rm -f "$PIDFILE"
    if port_busy 389 || port_busy 636 || { [ "$SERVICES" != ldap ] && { port_busy 53 || port_busy 88; }; }; then
      ss -ltnp '( sport = :389 or sport = :636 or sport = :53 or sport = :88 )' >&2 2>/dev/null || true
      die "port 389, 636, 53 or 88 on $IP is already in use (another samba.sh DIR? Debian's slapd?): stop it first, or use --ip"
    fi
    [ -f "$D/.provisioned" ] || provision
    start_samba "$model"
    pid=$(cat "$PIDFILE"); started=1
  fi

  if [ ! -f "$D/.populated" ] || [ ! -f "$D/.fixture_version" ]; then
    if ! "$SELF" __populate "$D" "${users:-2000}"; then
      [ "$started" = 1 ] && stop_pid "$pid"
      die "creating the test data failed (see $D/populate.log); samba stopped"
    fi
  elif [ -n "$users" ] && [ "$users" != "$(cat "$D/.populated")" ]; then
    log "WARNING: $D already holds $(cat "$D/.populated") generated users; --users $users ignored (rm -rf $D to regenerate)"
  fi
  [ "$SERVICES" = ldap ] || kerberos_service
  write_env "$pid" "$model"
  log "ready: source $ENVF"
}

# With the KDC (--dns-kdc): the SPNs a Windows DC registers for its LDAP service
# (ldap/<fqdn>, ldap/<host>; provision does not, and a SASL GSSAPI bind asks the KDC for
# ldap/<fqdn>), the DC's A record, and svc-connector's keys in DIR/svc-connector.keytab (0600) for the
# connector's keytab binds (issue #20). Idempotent; run at every start.
kerberos_service() {
  local spn account
  account="$(printf '%s' "$HOST" | tr '[:lower:]' '[:upper:]')\$"
  for spn in "ldap/$FQDN" "ldap/$HOST"; do
    inns samba-tool spn list "$account" -s "$CONF" 2>/dev/null |
      awk -v s="$spn" '{ gsub(/^[ \t]+|[ \t]+$/, "") } tolower($0) == tolower(s) { f = 1 } END { exit !f }' && continue
    inns samba-tool spn add "$spn" "$account" -s "$CONF" >> "$D/populate.log" 2>&1 \
      || die "samba-tool spn add $spn failed (see $D/populate.log)"
  done
  # The DC's own A records, its name's and the domain's (AD's referrals name the domain):
  # provision leaves both out on 127.0.0.1 (measured: NXDOMAIN for dc1.example.test, no
  # address for example.test).
  local name out
  for name in "$HOST" @; do
    out=$(inns samba-tool dns add "$IP" example.test "$name" A "$IP" -U "Administrator%$ADMIN_PW" -s "$CONF" 2>&1) \
      || grep -qi "already exist" <<< "$out" || die "adding the A record $name -> $IP failed: $out"
  done
  rm -f "$D/svc-connector.keytab"
  inns samba-tool domain exportkeytab "$D/svc-connector.keytab" --principal="svc-connector@$REALM" -s "$CONF" \
    >> "$D/populate.log" 2>&1 || die "exporting the keytab of svc-connector failed (see $D/populate.log)"
  chmod 600 "$D/svc-connector.keytab"
}

# ------------------------------------------------------------------ populate (runs inside the namespace)
adm_add() { # $1 ldif file: ldapadd -c, tolerate only "Already exists" (a rerun after a partial populate)
  local f=$1 rej=${1%.ldif}.rejects rc=0
  rm -f "$rej"
  [ -s "$f" ] || return 0
  ldapadd -c -x -H "$LDAPS_URL" -D "$ADMIN_DN" -w "$ADMIN_PW" -f "$f" -S "$rej" >> "$D/populate.log" 2>&1 || rc=$?
  if [ -s "$rej" ] && grep '^# Error: ' "$rej" | grep -vqE 'Already exists \(68\)|Type or value exists \(20\)'; then
    grep -m5 '^# Error: ' "$rej" >&2
    echo "samba.sh: adding $f failed (rejected entries in $rej)" >&2
    return 1
  fi
  [ "$rc" = 0 ] || [ -s "$rej" ] || { echo "samba.sh: ldapadd $f exited $rc" >&2; return 1; }
  [ -s "$rej" ] || rm -f "$rej"
}

cmd_populate() { # re-executed inside the namespace by start
  setdir "$1"
  local n=$2 t0 t1 f out
  if [ -z "${SAMBA_SH_IN_NS:-}" ]; then
    SAMBA_SH_IN_NS=1 inns "$SELF" __populate "$D" "$n"
    return
  fi
  t0=$(now)
  out=$(python3 "$HERE/samba_users.py" generate "$D" --users "$n" --base "$BASE_DN" \
    --fixture-pw "$FIXTURE_PW" --service-pw "$SERVICE_PW" --readonly-pw "$READONLY_PW" \
    --delegated-pw "$DELEGATED_PW")
  echo "$out" | sed -n 's/.*big_group_members=\([0-9]*\).*/\1/p' > "$D/big_group_members"
  log "creating test data over LDAPS: $n users (log: $D/populate.log)"
  adm_add "$D/ldif/10-base.ldif"
  t1=$(now)
  adm_add "$D/ldif/20-users.ldif"
  T_USERS=$(since "$t1")
  adm_add "$D/ldif/25-fill.ldif"
  t1=$(now)
  adm_add "$D/ldif/30-groups.ldif"
  T_GROUPS=$(since "$t1")
  adm_add "$D/ldif/40-team.ldif"
  adm_add "$D/ldif/45-team-links.ldif"
  team_setup
  echo "$n" > "$D/.populated"
  echo "$FIXTURE_VERSION" > "$D/.fixture_version"
  printf 'users=%s users_s=%s groups_s=%s populate_total_s=%s\n' "$n" "$T_USERS" "$T_GROUPS" "$(since "$t0")" >> "$D/timings.txt"
  log "created $n users in ${T_USERS}s, groups (Big Group: $(cat "$D/big_group_members") members) in ${T_GROUPS}s, OU=Team #2 delegated ($(sed -n 1p "$D/delegation")), total $(since "$t0")s"
}

# ------------------------------------------------------------------ OU=Team #2 (runs inside the namespace)
# The objectSid of an entry as S-1-5-..., read as Administrator.
sid_of() {
  ldapsearch -LLL -o ldif-wrap=no -x -H "$LDAPS_URL" -D "$ADMIN_DN" -w "$ADMIN_PW" -b "$1" -s base \
    '(objectClass=*)' objectSid | sed -n 's/^objectSid:: //p' | python3 -c '
import base64, struct, sys
b = base64.b64decode(sys.stdin.read().strip())
print("S-%d-%d-%s" % (b[0], int.from_bytes(b[2:8], "big"), "-".join(str(x) for x in struct.unpack("<%dI" % b[1], b[8:]))))'
}

# As svc-delegated: create a disabled user in the OU, set its password, enable it, add it to
# a group made for the probe, then delete both. Exit 0 when every step was allowed.
delegation_probe() {
  local u="CN=samba-sh probe $$,$TEAM_OU_DN" g="CN=samba-sh probe group $$,$TEAM_OU_DN" pw
  pw=$(printf '"%s"' 'Probe-Pw-1' | iconv -f UTF-8 -t UTF-16LE | base64 -w0)
  probe_ldif "$u" "$g" "$pw" "probe-$$" | ldapmodify -x -H "$LDAPS_URL" -D "$DELEGATED_DN" -w "$DELEGATED_PW" >> "$D/populate.log" 2>&1
}

# The probe's LDIF ($1 user DN, $2 group DN, $3 base64 unicodePwd, $4 sAMAccountName):
# a disabled user, its password and enabled, a group, the user added to it, both deleted.
probe_ldif() {
  cat <<EOF
dn: $1
changetype: add
objectClass: user
sAMAccountName: $4
userAccountControl: 514

dn: $1
changetype: modify
replace: unicodePwd
unicodePwd:: $3
-
replace: userAccountControl
userAccountControl: 512
-

dn: $2
changetype: add
objectClass: group
sAMAccountName: $4-group

dn: $2
changetype: modify
add: member
member: $1
-

dn: $2
changetype: delete

dn: $1
changetype: delete
EOF
}

# Delegates OU=Team #2 to svc-delegated. First what customers grant (the Delegation of
# Control wizard's tasks): create/delete user and group objects in the OU and below it,
# read/write the properties of users and groups, Reset Password on users, write member of
# groups. Full control of the OU (GA) only if the narrow grant cannot create, set a password,
# enable and add to a group. DIR/delegation: line 1 "narrow" or "full-control", line 2 the SDDL.
delegate() {
  local sid user=bf967aba-0de6-11d0-a285-00aa003049e2 group=bf967a9c-0de6-11d0-a285-00aa003049e2
  local reset=00299570-246d-11d0-a768-00aa006e0529 member=bf9679c0-0de6-11d0-a285-00aa003049e2
  local narrow full kind sddl
  sid=$(sid_of "$DELEGATED_DN")
  [[ $sid == S-1-5-21-* ]] || die "no objectSid for $DELEGATED_DN"
  narrow="(OA;CI;CCDC;$user;;$sid)(OA;CI;CCDC;$group;;$sid)(OA;CIIO;RPWP;;$user;$sid)(OA;CIIO;RPWP;;$group;$sid)"
  narrow+="(OA;CIIO;CR;$reset;$user;$sid)(OA;CIIO;WP;$member;$group;$sid)"
  full="(A;CI;GA;;;$sid)"
  for kind in narrow full-control; do
    sddl=$narrow
    [ "$kind" = narrow ] || sddl=$full
    samba-tool dsacl set -s "$CONF" -H "$DC/private/sam.ldb" --objectdn="$TEAM_OU_DN" --sddl="$sddl" \
      >> "$D/populate.log" 2>&1 || die "samba-tool dsacl set failed (see $D/populate.log)"
    if delegation_probe; then
      printf '%s\n%s\n' "$kind" "$sddl" > "$D/delegation"
      log "OU=Team #2 delegated to svc-delegated ($kind): $sddl"
      return 0
    fi
    log "the $kind grant does not let svc-delegated create, set a password, enable and add to a group"
  done
  die "svc-delegated cannot manage users in $TEAM_OU_DN even with full control (see $D/populate.log)"
}

team_setup() {
  # shellcheck disable=SC1091
  . "$D/team.env"
  local rid
  # The primary group: AD wants the user to be a member first (45-team-links) and then drops
  # that member link; the membership is then only in primaryGroupID (and tokenGroups).
  rid=$(sid_of "$AD_TIER0_GROUP_DN"); rid=${rid##*-}
  [[ $rid =~ ^[0-9]+$ ]] || die "no RID for $AD_TIER0_GROUP_DN"
  ldapmodify -x -H "$LDAPS_URL" -D "$ADMIN_DN" -w "$ADMIN_PW" >> "$D/populate.log" 2>&1 <<EOF \
    || die "setting primaryGroupID of $AD_TIER0_PRIMARY_MEMBER_DN failed"
dn: $AD_TIER0_PRIMARY_MEMBER_DN
changetype: modify
replace: primaryGroupID
primaryGroupID: $rid
-
EOF
  delegate
  expire_password "$AD_TEAM_PW_EXPIRED" 3 >> "$D/populate.log"
}

# pwdLastSet of the account named SAM set DAYS days back. Through LDAP, AD allows only 0 and
# -1, so this writes the domain partition's mdb file directly (no ldb modules: no checks, no
# replication metadata; fine for a single test DC, and the running samba sees it at once).
expire_password() {
  local sam=$1 days=${2:-3} part dnline when
  part="$DC/private/sam.ldb.d/${BASE_DN^^}.ldb"
  [ -f "$part" ] || die "no domain partition at $part"
  [[ $sam =~ ^[A-Za-z0-9._-]+$ ]] || die "expire-password: '$sam' is not a plain sAMAccountName"
  [[ $days =~ ^[0-9]+$ ]] || die "expire-password: DAYS must be a number"
  dnline=$(ldbsearch -H "mdb://$part" "(sAMAccountName=$sam)" dn | grep -m1 '^dn::\? ') \
    || die "expire-password: no account $sam"
  when=$(python3 -c "import time; print(int((time.time() - $days * 86400 + 11644473600) * 10**7))")
  printf '%s\nchangetype: modify\nreplace: pwdLastSet\npwdLastSet: %s\n' "$dnline" "$when" \
    | ldbmodify -H "mdb://$part" >/dev/null || die "expire-password: writing pwdLastSet of $sam failed"
  echo "pwdLastSet of $sam set $days days back ($when)"
}

cmd_expire_password() {
  setdir "${1:-}"
  [ -n "${2:-}" ] || usage
  expire_password "$2" "${3:-3}"
}

# ------------------------------------------------------------------ dns
# A record of the example.test zone added or deleted through the DC's RPC (needs --dns-kdc),
# e.g. `dns DIR add _ldap._tcp.dc._msdcs.t1 SRV 'dc2.example.test 389 0 100'`, `dns DIR add
# dc2 A 127.0.0.3`. Records made this way have TTL 900 (clients must not cache them that
# long in tests: see the discovery tests' TTL override).
cmd_dns() {
  setdir "${1:-}"
  local op=${2:-} name=${3:-} type=${4:-} data=${5:-}
  [[ $op =~ ^(add|delete)$ ]] && [ -n "$name" ] && [ -n "$type" ] && [ -n "$data" ] || usage
  [ "$SERVICES" != ldap ] || die "$D runs without DNS (start it with --dns-kdc)"
  [ -n "$(running_pid)" ] || die "not running ($D)"
  inns samba-tool dns "$op" "$IP" example.test "$name" "$type" "$data" \
    -U "Administrator%$ADMIN_PW" -s "$CONF" >/dev/null
}

# ------------------------------------------------------------------ account
# An account of a test's own with a keytab (e.g. one whose password changes under a running
# connector: the keytab it holds falls behind the account's key version).
cmd_account() {
  setdir "${1:-}"
  local op=${2:-} user=${3:-} pw=${4:-} kt=${5:-}
  [ "$SERVICES" != ldap ] || die "$D runs without a KDC (start it with --dns-kdc)"
  [ -n "$(running_pid)" ] || die "not running ($D)"
  case "$op" in
    set)
      [ -n "$user" ] && [ -n "$pw" ] && [ -n "$kt" ] || usage
      if inns samba-tool user show "$user" -s "$CONF" >/dev/null 2>&1; then
        inns samba-tool user setpassword "$user" --newpassword="$pw" -s "$CONF" >/dev/null
      else
        inns samba-tool user create "$user" "$pw" --userou=OU=Service -s "$CONF" >/dev/null
      fi
      rm -f "$kt"
      inns samba-tool domain exportkeytab "$kt" --principal="$user@$REALM" -s "$CONF" >/dev/null
      chmod 600 "$kt" ;;
    delete)
      [ -n "$user" ] || usage
      inns samba-tool user delete "$user" -s "$CONF" >/dev/null ;;
    *) usage ;;
  esac
}

# ------------------------------------------------------------------ stop / status
stop_pid() {
  local pid=$1 pgid i
  kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; return 0; }
  pgid=$(ps -o pgid= -p "$pid" | tr -d ' ')
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "samba $pid ignored SIGTERM for 15 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # leftovers of our own process group only (setsid made samba its leader)
  if [ "$pgid" = "$pid" ]; then
    sleep 0.3
    for i in $(ps -eo pid=,pgid= | awk -v g="$pgid" '$2==g{print $1}'); do kill -KILL "$i" 2>/dev/null || true; done
  fi
  rm -f "$PIDFILE"
  log "stopped samba pid $pid"
}

cmd_stop() {
  setdir "${1:-}"
  local pid; pid=$(running_pid)
  if [ -z "$pid" ]; then rm -f "$PIDFILE"; log "not running ($D)"; return 0; fi
  stop_pid "$pid"
}

cmd_status() {
  setdir "${1:-}"
  local pid; pid=$(running_pid)
  if [ -z "$pid" ]; then echo "stopped ($D)"; return 3; fi
  echo "running pid=$pid model=$(cat "$D/model" 2>/dev/null) users=$(cat "$D/.populated" 2>/dev/null || echo none) fixtures=v$(cat "$D/.fixture_version" 2>/dev/null || echo 1) env=$ENVF"
}

# ------------------------------------------------------------------ check
cmd_check() {
  setdir "${1:-}"
  if [ -z "${SAMBA_SH_IN_NS:-}" ]; then
    [ -n "$(running_pid)" ] || die "not running ($D)"
    SAMBA_SH_IN_NS=1 inns "$SELF" __check "$D"
    return
  fi
  # shellcheck disable=SC1090
  . "$ENVF"
  local ok=0 bad=0 n out
  pass() { ok=$((ok+1)); echo "  ok   $*"; }
  fail() { bad=$((bad+1)); echo "  FAIL $*"; }
  expect_bind() { # $1 bind name, $2 password, $3 expected: ok | data code
    local out
    if out=$(ldapsearch -x -H "$AD_LDAPS_URL" -D "$1" -w "$2" -b '' -s base 1.1 2>&1); then
      [ "$3" = ok ] && pass "bind $1 -> ok" || fail "bind $1 -> ok, expected data $3"
    else
      out=$(echo "$out" | tr '\n' ' ')
      if [ "$3" != ok ] && [[ $out == *"data $3,"* ]]; then pass "bind $1 -> data $3"
      else fail "bind $1 -> $out (expected $3)"; fi
    fi
  }
  echo "check $D"
  expect_bind "$AD_SERVICE_DN" "$AD_SERVICE_PW" ok
  expect_bind "$AD_READONLY_UPN" "$AD_READONLY_PW" ok
  for who in "$AD_SERVICE_DN|$AD_SERVICE_PW" "$AD_READONLY_DN|$AD_READONLY_PW"; do
    n=$(ldapsearch -LLL -x -H "$AD_LDAPS_URL" -D "${who%%|*}" -w "${who#*|}" -E pr=500/noprompt \
        -b "$AD_STAFF_DN" '(&(objectCategory=person)(objectClass=user))' 1.1 | grep -c '^dn:' || true)
    [ "$n" = "$AD_USERS" ] && pass "paged search (pr=500) as ${who%%,*}: $n users" \
      || fail "paged search as ${who%%,*}: $n users, expected $AD_USERS"
  done
  # Samba 4.17 ranges a multi-valued attribute only when the client asks for a range:
  # plain `member` (or `member;range=0-*`) returns every value, where Windows AD would answer
  # `member;range=0-1499`. Both are checked and printed.
  big() { ldapsearch -LLL -o ldif-wrap=no -x -H "$AD_LDAPS_URL" -D "$AD_SERVICE_DN" -w "$AD_SERVICE_PW" \
            -b "$AD_BIG_GROUP_DN" -s base '(objectClass=*)' "$1" | sed -n 's/^\(member[^:]*\):.*/\1/p' | uniq -c | tr -s ' '; }
  out=$(big member)
  [ "$out" = " $AD_BIG_GROUP_MEMBERS member" ] && pass "Big Group, asked for member: all $AD_BIG_GROUP_MEMBERS values unranged (Samba; Windows AD ranges)" \
    || fail "Big Group, asked for member: $out"
  out=$(big 'member;range=0-1499')
  [ "$out" = " 1500 member;range=0-1499" ] && pass "Big Group, asked for member;range=0-1499: 1500 values as member;range=0-1499" \
    || fail "Big Group, asked for member;range=0-1499: $out"
  out=$(big 'member;range=1500-*')
  [ "$out" = " $((AD_BIG_GROUP_MEMBERS - 1500)) member;range=1500-*" ] && pass "Big Group, asked for member;range=1500-*: $out" \
    || fail "Big Group, asked for member;range=1500-*: $out (expected $((AD_BIG_GROUP_MEMBERS - 1500)))"
  expect_bind "$AD_USER_OK@$AD_UPN_SUFFIX" "$AD_FIXTURE_PW" ok
  expect_bind "$AD_USER_DONT_EXPIRE@$AD_UPN_SUFFIX" "$AD_FIXTURE_PW" ok
  expect_bind "$AD_USER_OK@$AD_UPN_SUFFIX" wrong-password 52e
  expect_bind "nobody@$AD_UPN_SUFFIX" wrong-password 52e
  expect_bind "$AD_USER_DISABLED@$AD_UPN_SUFFIX" "$AD_FIXTURE_PW" 533
  expect_bind "$AD_USER_MUST_CHANGE@$AD_UPN_SUFFIX" "$AD_FIXTURE_PW" 773
  expect_bind "$AD_USER_EXPIRED@$AD_UPN_SUFFIX" "$AD_FIXTURE_PW" 701
  local L=$AD_USER_LOCKOUT@$AD_UPN_SUFFIX lout
  expect_bind "$L" "$AD_FIXTURE_PW" ok
  for i in 1 2 3; do
    lout=$(ldapsearch -x -H "$AD_LDAPS_URL" -D "$L" -w "bad$i" -b '' -s base 1.1 2>&1 | grep -o 'data [0-9a-f]*' || true)
    echo "       bad bind $i of $L -> $lout"
  done
  expect_bind "$L" "$AD_FIXTURE_PW" 775
  ldapmodify -x -H "$AD_LDAPS_URL" -D "$AD_ADMIN_DN" -w "$AD_ADMIN_PW" >/dev/null <<EOF
dn: CN=$AD_USER_LOCKOUT,$AD_FIXTURES_DN
changetype: modify
replace: lockoutTime
lockoutTime: 0
EOF
  expect_bind "$L" "$AD_FIXTURE_PW" ok   # unlocked again (lockoutTime: 0)
  n=$(ldapsearch -LLL -o ldif-wrap=no -x -H "$AD_LDAPS_URL" -D "$AD_SERVICE_DN" -w "$AD_SERVICE_PW" \
        -b "CN=$AD_USER_DONT_EXPIRE,$AD_FIXTURES_DN" -s base '(objectClass=*)' userAccountControl | sed -n 's/^userAccountControl: //p')
  [ "$n" = 66048 ] && pass "$AD_USER_DONT_EXPIRE userAccountControl 66048" || fail "$AD_USER_DONT_EXPIRE userAccountControl $n"
  # ---- OU=Team #2: the delegated account, its rights, the fixtures of the delegated tests
  local T=$AD_TEAM_OU_DN
  expect_bind "$AD_DELEGATED_DN" "$AD_DELEGATED_PW" ok
  expect_bind "$AD_TEAM_USER@$AD_UPN_SUFFIX" "$AD_FIXTURE_PW" ok
  expect_bind "$AD_TEAM_NOEXPIRE@$AD_UPN_SUFFIX" "$AD_FIXTURE_PW" ok
  expect_bind "$AD_TEAM_MUST_CHANGE@$AD_UPN_SUFFIX" "$AD_FIXTURE_PW" 773
  expect_bind "$AD_TEAM_PW_EXPIRED@$AD_UPN_SUFFIX" "$AD_FIXTURE_PW" 532
  as_delegated() { # $1 what, $2 expected rc (0 or 50); LDIF on stdin
    local what=$1 want=$2 out rc=0
    out=$(ldapmodify -x -H "$AD_LDAPS_URL" -D "$AD_DELEGATED_DN" -w "$AD_DELEGATED_PW" 2>&1) || rc=$?
    if [ "$rc" = "$want" ]; then pass "svc-delegated: $what -> rc $rc"
    else fail "svc-delegated: $what -> rc $rc, expected $want: $(echo "$out" | tr '\n' ' ')"; fi
  }
  as_delegated "description of $AD_USER_OK (OU=Fixtures)" 50 <<EOF
dn: CN=$AD_USER_OK,$AD_FIXTURES_DN
changetype: modify
replace: description
description: written by svc-delegated
-
EOF
  as_delegated "add itself to Domain Admins" 50 <<EOF
dn: $AD_DOMAIN_ADMINS_DN
changetype: modify
add: member
member: $AD_DELEGATED_DN
-
EOF
  as_delegated "create a user in OU=Staff" 50 <<EOF
dn: CN=samba-sh check $$,$AD_STAFF_DN
changetype: add
objectClass: user
sAMAccountName: check-$$
EOF
  local u="CN=samba-sh check\\, $$ #2,$T" g="CN=samba-sh check group $$,$T" pw
  pw=$(printf '"%s"' 'Check-Pw-1' | iconv -f UTF-8 -t UTF-16LE | base64 -w0)
  as_delegated "create a user in $T, set its password, enable it, add it to a new group, delete both" 0 \
    < <(probe_ldif "$u" "$g" "$pw" "check-$$")
  echo "       delegation: $AD_DELEGATION $AD_DELEGATED_SDDL"
  adm_read() { ldapsearch -LLL -o ldif-wrap=no -x -H "$AD_LDAPS_URL" -D "$AD_ADMIN_DN" -w "$AD_ADMIN_PW" "$@"; }
  out=$(adm_read -b "$T" -s base '(objectClass=*)' 1.1 | sed -n 's/^dn: //p')
  [ "$out" = "$AD_TEAM_OU_DN_ESCAPED" ] && pass "'$T' comes back as '$out'" || fail "'$T' comes back as '$out'"
  out=$(adm_read -b "$AD_RND_GROUP_DN" -s base '(objectClass=*)' member | sed -n 's/^member: //p')
  [ -n "$out" ] && echo "       $AD_RND_GROUP_DN has member $out (as Samba spells it)"
  # (the e2e tests' own OU=ic-<tag>-<pid> come and go below it)
  out=$(adm_read -b "$T" -s one '(&(objectClass=organizationalUnit)(!(ou=ic-*)))' 1.1 | grep -c '^dn' || true)
  [ "$out" = 11 ] && pass "$out OUs with escaped names in $T" || fail "$out OUs with escaped names in $T, expected 11"
  local rid pg
  rid=$(sid_of "$AD_TIER0_GROUP_DN"); rid=${rid##*-}
  pg=$(adm_read -b "$AD_TIER0_PRIMARY_MEMBER_DN" -s base '(objectClass=*)' primaryGroupID | sed -n 's/^primaryGroupID: //p')
  [ "$pg" = "$rid" ] && pass "$AD_TIER0_PRIMARY_MEMBER: primaryGroupID $pg = RID of $AD_TIER0_GROUP_SAM" \
    || fail "$AD_TIER0_PRIMARY_MEMBER: primaryGroupID $pg, RID of $AD_TIER0_GROUP_SAM is $rid"
  out=$(adm_read -b "$T" "(memberOf:1.2.840.113556.1.4.1941:=$AD_TIER0_GROUP_DN)" sAMAccountName \
        | sed -n 's/^sAMAccountName: //p' | sort | tr '\n' ' ')
  [ "$out" = "$(printf '%s\n' "$AD_TIER0_DIRECT_MEMBER" "$AD_TIER0_NESTED_GROUP_SAM" "$AD_TIER0_NESTED_MEMBER" | sort | tr '\n' ' ')" ] \
    && pass "in-chain members of $AD_TIER0_GROUP_SAM: $out(the primary-group member is not among them)" \
    || fail "in-chain members of $AD_TIER0_GROUP_SAM: $out"
  out=$(adm_read -b "$AD_TEAM_DOMAIN_ADMIN_DN" -s base '(objectClass=*)' memberOf | sed -n 's/^memberOf: //p')
  [ "$out" = "$AD_DOMAIN_ADMINS_DN" ] && pass "$AD_TEAM_DOMAIN_ADMIN is in Domain Admins" || fail "$AD_TEAM_DOMAIN_ADMIN memberOf: $out"
  out=$(adm_read -b "$AD_TEAM_NOEXPIRE_DN" -s base '(objectClass=*)' userAccountControl | sed -n 's/^userAccountControl: //p')
  [ "$out" = 66048 ] && pass "$AD_TEAM_NOEXPIRE userAccountControl 66048" || fail "$AD_TEAM_NOEXPIRE userAccountControl $out"
  # everything written (manifest) is what the directory returns
  local dump=$D/check-dump.ldif
  : > "$dump"
  for b in "$AD_STAFF_DN" "OU=Service,$AD_BASE_DN" "$AD_FIXTURES_DN" "OU=Fill,$AD_BASE_DN" "$AD_TEAM_OU_DN"; do
    ldapsearch -LLL -o ldif-wrap=no -x -H "$AD_LDAPS_URL" -D "$AD_SERVICE_DN" -w "$AD_SERVICE_PW" \
      -E pr=500/noprompt -b "$b" '(|(objectClass=user)(objectClass=group)(objectClass=contact))' '*' memberOf \
      >> "$dump" 2>/dev/null || true
  done
  if out=$(python3 "$HERE/samba_users.py" verify "$AD_MANIFEST" "$dump"); then pass "$(echo "$out" | tail -1)"
  else echo "$out" | head -20; fail "manifest differs from the directory"; fi
  rm -f "$dump"
  echo "samba check: $ok ok, $bad failed"
  [ "$bad" = 0 ]
}

case ${1:-} in
  install) cmd_install ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  check) shift; cmd_check "$@" ;;
  expire-password) shift; cmd_expire_password "$@" ;;
  dns) shift; cmd_dns "$@" ;;
  account) shift; cmd_account "$@" ;;
  __populate) shift; cmd_populate "$@" ;;
  __check) shift; cmd_check "$@" ;;
  *) usage ;;
esac
