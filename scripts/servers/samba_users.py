#!/usr/bin/env python3
"""Test data for the private Samba AD DC started by samba.sh (Python stdlib only).

  samba_users.py generate OUTDIR --users N --base DN --fixture-pw PW --service-pw PW --readonly-pw PW
                 --delegated-pw PW
      writes OUTDIR/ldif/{10-base,20-users,25-fill,30-groups,40-team,45-team-links}.ldif (for
      `ldapadd -c`, in that order), OUTDIR/samba-manifest.jsonl (one JSON object per entry
      written) and OUTDIR/team.env (the names of the OU=Team #2 fixtures, KEY='value' lines).
      Deterministic: the same N gives the same data.
  samba_users.py verify MANIFEST DUMP.ldif
      compares the entries of the manifest with an `ldapsearch -LLL -o ldif-wrap=no` dump
      (DNs compared parsed, attribute names case-insensitive, values as sets); exit 1 on a
      difference.

Manifest line: {"type": "user"|"group"|"contact"|"fixture"|"service"|"team", "dn": ..., "sAMAccountName": ...,
  "attrs": {name: [str, ...]}, "binary": {name: [base64, ...]}, "memberOf": [dn, ...],
  "password": str|null}. "attrs" holds exactly the values written (plus "member" for groups);
  "dn" is the DN as written (RFC 4514 escaped). AD may return DNs escaped differently
  (e.g. \\2C): compare parsed DNs.
"""
import base64
import json
import os
import random
import re
import struct
import sys
import unicodedata
import zlib

GIVEN = ["José", "Zoë", "Łukasz", "Søren", "Ana", "Émile", "Björn", "Chloé", "Dmitrij", "Mårten",
         "Noël", "Renée", "Ingrid", "Kai", "Mei", "Ömer", "Aleksandra", "François", "Jürgen", "Siân",
         "Li", "Ольга", "Ελένη", "Anders", "Priya", "Tomás", "Zuzana", "Hiroshi", "Fatma", "Oskar"]
SURNAME = ["Müller", "Dvořák", "O'Brien", "Ødegaard", "Núñez", "Çelik", "García", "Smith",
           "Kowalski", "Nguyễn", "Håkansson", "Schröder", "Ivanović", "王", "Петров",
           "Papadopoulos", "Jensen", "Da Silva", "Le Guen", "Yılmaz", "Öztürk", "Brown"]
DEPTS = ["Engineering", "Sales", "Finance", "Forschung & Entwicklung", "Support", "Marketing"]
TITLES = ["Engineer", "Senior Engineer", "Manager", "Analyst", "Consultant", "Directeur général",
          "Ingénieure", "Sachbearbeiterin"]
# CNs that need RFC 4514 escapes; {g} {s} given/surname, {n} a unique number
SPECIAL_CN = [
    "{s}, {g} {n}",             # comma (the common "Last, First" style)
    "{g} + {s} {n}",            # plus
    '{g} "The Boss" {s} {n}',   # double quotes
    "{g} {s} \\ Backslash {n}",  # backslash
    "#{g} {s} {n}",             # leading '#'
    " {g} {s} {n}",             # leading space
    "{g} {s}; <Ops> {n}",       # semicolon, angle brackets
    '{g} ,+"\\;<> {s} {n}',     # all at once
]
BIG_MIN = 1600     # Big Group has at least this many members (AD ranges member at 1,500)
BIG_MAX = 3200     # ... and at most this many of the staff users (3 ranges)
DONT_EXPIRE = 0x10000


def esc(v):
    """RFC 4514 escape of an attribute value for a DN string."""
    out = []
    for ch in v:
        if ch in ',+"\\<>;=':
            out.append("\\" + ch)
        elif ch == "\0":
            out.append("\\00")
        else:
            out.append(ch)
    s = "".join(out)
    if s.startswith(" ") or s.startswith("#"):
        s = "\\" + s
    if s.endswith(" ") and not s.endswith("\\ "):
        s = s[:-1] + "\\ "
    return s


def parse_dn(dn):
    """RFC 4514 DN -> tuple of RDNs, each a sorted tuple of (type lower, value). Handles
    \\c and \\XX escapes (UTF-8 byte sequences) and '+' multi-valued RDNs."""
    rdns, avas, i, n = [], [], 0, len(dn)
    while i < n:
        # attribute type
        j = dn.index("=", i)
        typ = dn[i:j].strip().lower()
        i = j + 1
        buf = bytearray()
        while i < n and dn[i] == " " and not buf:   # unescaped leading spaces are not part of the value
            i += 1
        trail = 0
        while i < n and dn[i] not in ",+":
            c = dn[i]
            if c == "\\":
                nxt = dn[i + 1]
                if re.match(r"[0-9A-Fa-f]{2}", dn[i + 1:i + 3] or ""):
                    buf.append(int(dn[i + 1:i + 3], 16))
                    i += 3
                else:
                    buf += nxt.encode()
                    i += 2
                trail = 0
                continue
            buf += c.encode()
            trail = trail + 1 if c == " " else 0
            i += 1
        if trail:
            del buf[-trail:]
        avas.append((typ, buf.decode("utf-8")))
        if i < n and dn[i] == "+":
            i += 1
            continue
        rdns.append(tuple(sorted(avas)))
        avas = []
        if i < n:   # ','
            i += 1
            while i < n and dn[i] == " ":
                i += 1
    if avas:
        rdns.append(tuple(sorted(avas)))
    return tuple(rdns)


def norm_dn(dn):
    return tuple(tuple((t, v.lower()) for t, v in rdn) for rdn in parse_dn(dn))


def b64(s):
    return base64.b64encode(s.encode("utf-8") if isinstance(s, str) else s).decode()


def unicode_pwd(pw):
    return base64.b64encode(('"%s"' % pw).encode("utf-16-le")).decode()


def ldif_line(name, value):
    """one LDIF attribute line; base64 when LDIF requires it (RFC 2849 SAFE-STRING)."""
    if isinstance(value, bytes):
        return "%s:: %s" % (name, base64.b64encode(value).decode())
    if (value == "" or not value.isascii() or value[0] in " :<" or value[-1] == " "
            or any(c in value for c in "\r\n\0")):
        return "%s:: %s" % (name, b64(value))
    return "%s: %s" % (name, value)


def png(seed):
    """a tiny valid 8x8 RGB PNG (binary with NUL and high bytes)"""
    rnd = random.Random(seed)
    raw = b"".join(b"\0" + bytes(rnd.randrange(256) for _ in range(24)) for _ in range(8))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def slug(s):
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", s)


class Out:
    def __init__(self, outdir):
        os.makedirs(os.path.join(outdir, "ldif"), exist_ok=True)
        self.outdir = outdir
        self.files = {}
        self.manifest = open(os.path.join(outdir, "samba-manifest.jsonl.tmp"), "w", encoding="utf-8")

    def f(self, name):
        if name not in self.files:
            self.files[name] = open(os.path.join(self.outdir, "ldif", name + ".ldif"), "w", encoding="utf-8")
        return self.files[name]

    def add(self, fname, typ, dn, attrs, binary=None, password=None, member_of=None, uac=None,
            extra=None, manifest=True):
        """attrs: {name: [str]} written as given; binary: {name: [bytes]}; extra: lines not in the manifest"""
        lines = [ldif_line("dn", dn)]
        for k, vs in attrs.items():
            lines += [ldif_line(k, v) for v in vs]
        for k, vs in (binary or {}).items():
            lines += [ldif_line(k, v) for v in vs]
        if password is not None:
            lines.append("unicodePwd:: " + unicode_pwd(password))
        for k, vs in (extra or {}).items():
            lines += [ldif_line(k, v) for v in vs]
        self.f(fname).write("\n".join(lines) + "\n\n")
        if manifest:
            rec = {"type": typ, "dn": dn, "sAMAccountName": (attrs.get("sAMAccountName") or [None])[0],
                   "attrs": {k: v for k, v in attrs.items() if k != "objectClass"},
                   "objectClass": attrs.get("objectClass", []),
                   "binary": {k: [base64.b64encode(v).decode() for v in vs] for k, vs in (binary or {}).items()},
                   "memberOf": member_of or [], "password": password}
            self.manifest.write(json.dumps(rec, ensure_ascii=False) + "\n")

    def modify(self, fname, dn, op, attr, values):
        lines = [ldif_line("dn", dn), "changetype: modify", "%s: %s" % (op, attr)]
        lines += [ldif_line(attr, v) for v in values]
        self.f(fname).write("\n".join(lines) + "\n-\n\n")

    def close(self):
        for f in self.files.values():
            f.close()
        self.manifest.close()
        os.replace(os.path.join(self.outdir, "samba-manifest.jsonl.tmp"),
                   os.path.join(self.outdir, "samba-manifest.jsonl"))


# ---------------------------------------------------------------- OU=Team #2 (the delegated rig)
TEAM_OU = "Team #2"   # written as a person writes it; Samba answers "OU=Team \#2,..."
# Names that need RFC 4514 escapes, one of each kind, for every object class: (tag, template);
# {k} is the class ("OU", "User", "Group", "Contact"), so each object's name is unique.
ESCAPED_NAMES = [
    ("comma", "{k} Smith, John #1"),        # comma, '#' inside
    ("hash", "#{k} Hash First"),            # leading '#'
    ("plus", "{k} Plus + Sign"),
    ("quote", '{k} "Quoted" Name'),
    ("backslash", "{k} Back\\slash"),
    ("angle", "{k} <Angle> Brackets"),
    ("semicolon", "{k}; Semicolon"),
    ("equals", "{k} a=b Equals"),
    ("lead", " {k} Leading Space"),         # leading space
    ("trail", "{k} Trailing Space "),       # trailing space
    ("utf8", "{k} Élodie Straße 日本"),      # non-ASCII UTF-8
]
GROUP_GLOBAL_SECURITY = "-2147483646"
GROUP_DOMAIN_LOCAL_SECURITY = "-2147483644"
# 1 day and 1 s, in 100 ns units: Samba treats a maximum password age under one day as
# "never expires", so the expired-password fixture gets this PSO and a pwdLastSet three
# days back (samba.sh expire-password).
PSO_MAX_AGE_EXPIRED = "-864010000000"


def team(o, base, realm, fpw):
    """OU=Team #2 and what lies in it: the fixtures of the delegated-account tests. Returns
    the (KEY, value) pairs of team.env. Memberships that must not be in the manifest (the
    primary-group member, whose member link AD drops once primaryGroupID points at the
    group) go to 45-team-links, with the links into groups outside the OU."""
    ou = "OU=%s,%s" % (esc(TEAM_OU), base)
    person = ["top", "person", "organizationalPerson", "user"]
    env = [("AD_TEAM_OU_DN", ou), ("AD_TEAM_OU_DN_ESCAPED", "OU=Team \\#2,%s" % base)]
    o.add("40-team", "ou", ou, {"objectClass": ["top", "organizationalUnit"],
                                "description": ["delegated to svc-delegated; names that need escaping"]},
          manifest=False)

    def user(key, sam, cn, parent=ou, uac=512, member_of=None, attrs=None, extra=None, password=fpw):
        dn = "CN=%s,%s" % (esc(cn), parent)
        a = {"objectClass": person, "sAMAccountName": [sam], "userPrincipalName": ["%s@%s" % (sam, realm)],
             "displayName": [cn.strip()], "userAccountControl": [str(uac)]}
        a.update(attrs or {})
        o.add("40-team", "team", dn, a, password=password, member_of=member_of, extra=extra)
        env.extend([(key, sam), (key + "_DN", dn)])
        return dn

    def group(key, sam, cn, members, member_of=None, parent=ou, gtype=GROUP_GLOBAL_SECURITY):
        dn = "CN=%s,%s" % (esc(cn), parent)
        a = {"objectClass": ["top", "group"], "sAMAccountName": [sam], "groupType": [gtype],
             "description": ["test group %s" % cn.strip()]}
        if members:
            a["member"] = members
        o.add("40-team", "team", dn, a, member_of=member_of)
        env.extend([(key + "_DN", dn), (key + "_SAM", sam)])
        return dn

    rnd_cn, tier0_cn, nested_cn = "R&D, Lab #1", "Tier 0 Admins", "Helpdesk, Tier-0 nested"
    rnd = "CN=%s,%s" % (esc(rnd_cn), ou)
    tier0 = "CN=%s,%s" % (esc(tier0_cn), ou)
    nested = "CN=%s,%s" % (esc(nested_cn), ou)
    domain_admins = "CN=Domain Admins,CN=Users,%s" % base
    # users the tests may read but never change
    user("AD_TEAM_USER", "team-user", "Team User")
    rnd_member = user("AD_RND_MEMBER", "rnd-member", "Member, R&D Lab #1", member_of=[rnd])
    t0_direct = user("AD_TIER0_DIRECT_MEMBER", "t0-direct", "Direct, Tier-0 Member", member_of=[tier0])
    t0_nested = user("AD_TIER0_NESTED_MEMBER", "t0-nested", "Nested, Tier-0 Member", member_of=[nested])
    t0_primary = user("AD_TIER0_PRIMARY_MEMBER", "t0-primary", "Primary, Tier-0 Member")
    da = user("AD_TEAM_DOMAIN_ADMIN", "team-da", "Team Domain Admin", member_of=[domain_admins])
    user("AD_TEAM_NOEXPIRE", "team-noexpire", "Team No-Expire", uac=512 | DONT_EXPIRE)
    user("AD_TEAM_MUST_CHANGE", "team-mustchange", "Team Must-Change", extra={"pwdLastSet": ["0"]})
    expired = user("AD_TEAM_PW_EXPIRED", "team-pwexpired", "Team Password-Expired")
    # the groups, members first (an add names only entries that exist)
    group("AD_TIER0_NESTED_GROUP", "helpdesk-t0", nested_cn, [t0_nested], member_of=[tier0])
    group("AD_TIER0_GROUP", "Tier0Admins", tier0_cn, [nested, t0_direct])
    group("AD_RND_GROUP", "rnd-lab-1", rnd_cn, [rnd_member])
    env.extend([("AD_TIER0_GROUP_CN", tier0_cn), ("AD_RND_GROUP_CN", rnd_cn),
                ("AD_DOMAIN_ADMINS_DN", domain_admins)])
    o.modify("45-team-links", tier0, "add", "member", [t0_primary])   # then primaryGroupID (samba.sh)
    o.modify("45-team-links", domain_admins, "add", "member", [da])
    # DnsAdmins: a provision with a DNS backend makes it (no fixed RID: found by name);
    # --dns-backend=NONE does not, so it is made here as that provision would.
    dnsadmins = "CN=DnsAdmins,CN=Users,%s" % base
    o.add("40-team", "group", dnsadmins, {"objectClass": ["top", "group"], "sAMAccountName": ["DnsAdmins"],
                                          "groupType": [GROUP_DOMAIN_LOCAL_SECURITY],
                                          "description": ["DNS Administrators Group"]}, manifest=False)
    env.append(("AD_DNSADMINS_DN", dnsadmins))
    pso = "CN=Team Expired PSO,CN=Password Settings Container,CN=System,%s" % base
    o.add("45-team-links", "pso", pso, {
        "objectClass": ["msDS-PasswordSettings"], "msDS-PasswordSettingsPrecedence": ["10"],
        "msDS-PasswordReversibleEncryptionEnabled": ["FALSE"], "msDS-PasswordHistoryLength": ["0"],
        "msDS-PasswordComplexityEnabled": ["FALSE"], "msDS-MinimumPasswordLength": ["1"],
        "msDS-MinimumPasswordAge": ["0"], "msDS-MaximumPasswordAge": [PSO_MAX_AGE_EXPIRED],
        "msDS-LockoutThreshold": ["0"], "msDS-LockoutObservationWindow": ["-18000000000"],
        "msDS-LockoutDuration": ["-18000000000"], "msDS-PSOAppliesTo": [expired]}, manifest=False)
    env.append(("AD_PSO_EXPIRED_DN", pso))

    # every escape in every object class: OU=<name>, and in it a user, a group and a contact
    for tag, template in ESCAPED_NAMES:
        key = "AD_ESC_" + tag.upper()
        sub = "OU=%s,%s" % (esc(template.format(k="OU")), ou)
        o.add("40-team", "ou", sub, {"objectClass": ["top", "organizationalUnit"], "description": [tag]},
              manifest=False)
        env.append((key + "_OU_DN", sub))
        grp = "CN=%s,%s" % (esc(template.format(k="Group")), sub)
        u = user(key + "_USER", "esc-%s" % tag, template.format(k="User"), parent=sub, member_of=[grp])
        contact = "CN=%s,%s" % (esc(template.format(k="Contact")), sub)
        o.add("40-team", "contact", contact, {"objectClass": ["top", "person", "organizationalPerson", "contact"],
                                              "displayName": [template.format(k="Contact").strip()]},
              member_of=[grp])
        env.append((key + "_CONTACT_DN", contact))
        group(key + "_GROUP", "escg-%s" % tag, template.format(k="Group"), [u, contact], parent=sub)
    return env


def generate(a):
    base, n = a["base"], int(a["users"])
    realm = ".".join(p.split("=", 1)[1] for p in base.split(",")).lower()
    staff, service, fixtures, fill = ("OU=%s,%s" % (o, base) for o in ("Staff", "Service", "Fixtures", "Fill"))
    o = Out(a["outdir"])
    rnd = random.Random(4242)
    person = ["top", "person", "organizationalPerson", "user"]

    # ---- 10-base: OUs, service accounts, fixtures
    for ou, desc in (("Staff", "generated test users"), ("Service", "service accounts"),
                     ("Fixtures", "accounts in special states for bind tests")):
        o.add("10-base", "ou", "OU=%s,%s" % (ou, base),
              {"objectClass": ["top", "organizationalUnit"], "description": [desc]}, manifest=False)

    def account(typ, ou, sam, cn, pw, uac, extra_attrs=None, extra=None):
        attrs = {"objectClass": person, "sAMAccountName": [sam], "userPrincipalName": ["%s@%s" % (sam, realm)],
                 "displayName": [cn], "userAccountControl": [str(uac)]}
        attrs.update(extra_attrs or {})
        dn = "CN=%s,%s" % (esc(cn), ou)
        o.add("10-base", typ, dn, attrs, password=pw, extra=extra)
        return dn

    svc = account("service", service, "svc-connector", "svc-connector", a["service_pw"], 512,
                  {"description": ["connector service account (Domain Admins for now)"]})
    # rights on OU=Team #2 only, granted by samba.sh (samba-tool dsacl) once it exists
    account("service", service, "svc-delegated", "svc-delegated", a["delegated_pw"], 512,
            {"description": ["delegated service account: rights on OU=Team #2 only, not an admin"]})
    account("service", service, "svc-readonly", "svc-readonly", a["readonly_pw"], 512,
            {"description": ["ordinary user, read-only service account"]})
    fpw = a["fixture_pw"]
    account("fixture", fixtures, "fx-ok", "fx-ok", fpw, 512, {"givenName": ["Fix"], "sn": ["Ok"]})
    account("fixture", fixtures, "fx-disabled", "fx-disabled", fpw, 514)
    account("fixture", fixtures, "fx-mustchange", "fx-mustchange", fpw, 512, extra={"pwdLastSet": ["0"]})
    # 2000-01-01T00:00:00Z in 100 ns since 1601
    account("fixture", fixtures, "fx-expired", "fx-expired", fpw, 512, {"accountExpires": ["125911584000000000"]})
    account("fixture", fixtures, "fx-lockout", "fx-lockout", fpw, 512)
    account("fixture", fixtures, "fx-noexpire", "fx-noexpire", fpw, 512 | DONT_EXPIRE)
    o.modify("10-base", "CN=Domain Admins,CN=Users,%s" % base, "add", "member", [svc])

    # ---- 20-users: N users in OU=Staff
    users, groups_of = [], {}
    for i in range(1, n + 1):
        sam = "u%05d" % i
        g, s = rnd.choice(GIVEN), rnd.choice(SURNAME)
        num = "%05d" % i
        if i % 50 == 0:
            cn = SPECIAL_CN[(i // 50) % len(SPECIAL_CN)].format(g=g, s=s, n=num)
        elif i % 10 == 0:
            cn = "%s, %s %s" % (s, g, num)
        else:
            cn = "%s %s %s" % (g, s, num)
        dn = "CN=%s,%s" % (esc(cn), staff)
        dept = DEPTS[i % len(DEPTS)]
        mailname = "%s.%s" % (slug(g) or "user", slug(s) or "x")
        attrs = {
            "objectClass": person,
            "sAMAccountName": [sam],
            "userPrincipalName": ["%s@%s" % (sam, realm)],
            "givenName": [g], "sn": [s], "displayName": ["%s %s" % (g, s)],
            "mail": ["%s.%d@%s" % (mailname, i, realm)],
            "title": [rnd.choice(TITLES)], "department": [dept], "company": ["Example Corp"],
            "employeeID": [str(100000 + i)],
            "telephoneNumber": ["+1 555 01%05d" % i],
            "uidNumber": [str(10000 + i)], "gidNumber": ["10000"],
            "loginShell": ["/bin/bash"], "unixHomeDirectory": ["/home/" + sam],
        }
        k = rnd.randrange(4)
        if k:
            attrs["otherTelephone"] = ["+1 555 02%05d%d" % (i, j) for j in range(k)]
        if i % 3 == 0:
            attrs["otherMailbox"] = ["%s.alt%d@other.example" % (sam, j) for j in range(1 + i % 2)]
            attrs["proxyAddresses"] = ["SMTP:%s" % attrs["mail"][0], "smtp:%s@%s" % (sam, realm)]
        if i % 7 == 0:
            attrs["description"] = ["Ünïcödé – beschreibung №%d 🚀" % i]
        if i > 20:
            attrs["manager"] = [users[(i % 20)][0]]
        binary = {"thumbnailPhoto": [png(i)]} if i % 100 == 1 else None
        password = fpw if i % 250 == 0 else None
        disabled = i % 10 == 3
        # without a password AD needs PASSWD_NOTREQD (0x20) to keep the account enabled
        uac = (512 if password else 544) | (2 if disabled else 0)
        attrs["userAccountControl"] = [str(uac)]
        users.append((dn, sam, attrs, binary, password, dept))
        groups_of[dn] = []

    # ---- groups (30-groups) and fill contacts (40-fill)
    gtype_global_sec, gtype_universal_dist = "-2147483646", "8"
    groups = []   # (dn, sam, cn, gtype, members)
    for d in DEPTS:
        cn = "Dept " + d
        members = [u[0] for u in users if u[5] == d]
        groups.append(("CN=%s,%s" % (esc(cn), staff), "dept-" + slug(d), cn, gtype_global_sec, members))
    groups.append(("CN=%s,%s" % (esc("All Departments"), staff), "all-departments", "All Departments",
                   gtype_global_sec, [g[0] for g in groups]))
    special = [u[0] for u in users if int(u[1][1:]) % 50 == 0][:40]
    # "R&D, Lab #1" / rnd-lab-1 itself lives in OU=Team #2 (team() below): a name must
    # name one group, or a protected_groups entry by CN would be ambiguous.
    groups.append(("CN=%s,%s" % (esc("R&D, Lab #0"), staff), "rnd-lab-0", "R&D, Lab #0", gtype_global_sec, special))
    groups.append(("CN=Newsletter,%s" % staff, "newsletter", "Newsletter", gtype_universal_dist,
                   [u[0] for u in users if int(u[1][1:]) % 5 == 0]))
    groups.append(("CN=Empty Group,%s" % staff, "empty-group", "Empty Group", gtype_global_sec, []))
    big = [u[0] for u in users[:BIG_MAX]]
    if len(big) < BIG_MIN:
        o.add("25-fill", "ou", fill, {"objectClass": ["top", "organizationalUnit"],
                                      "description": ["contacts that fill Big Group up to %d members" % BIG_MIN]},
              manifest=False)
        for j in range(1, BIG_MIN - len(big) + 1):
            cdn = "CN=Filler Contact %05d,%s" % (j, fill)
            o.add("25-fill", "contact", cdn, {"objectClass": ["top", "person", "organizationalPerson", "contact"],
                                              "displayName": ["Filler Contact %05d" % j]},
                  member_of=["CN=Big Group,%s" % staff])
            big.append(cdn)
    big_dn = "CN=Big Group,%s" % staff
    groups.append((big_dn, "big-group", "Big Group", gtype_global_sec, big))
    for gdn, _, _, _, members in groups:
        for m in members:
            if m in groups_of:
                groups_of[m].append(gdn)

    for dn, sam, attrs, binary, password, _ in users:
        o.add("20-users", "user", dn, attrs, binary=binary, password=password, member_of=groups_of[dn])
    member_of_groups = {}
    for gdn, _, _, _, members in groups:
        for m in members:
            member_of_groups.setdefault(m, []).append(gdn)
    for gdn, sam, cn, gtype, members in groups:
        attrs = {"objectClass": ["top", "group"], "sAMAccountName": [sam], "groupType": [gtype],
                 "description": ["test group %s" % cn]}
        if members:
            attrs["member"] = members
        o.add("30-groups", "group", gdn, attrs, member_of=member_of_groups.get(gdn, []))
    env = team(o, base, realm, fpw)
    o.close()
    with open(os.path.join(a["outdir"], "team.env.tmp"), "w", encoding="utf-8") as f:
        for k, v in env:
            assert "'" not in v and "\n" not in v, (k, v)
            f.write("%s='%s'\n" % (k, v))
    os.replace(os.path.join(a["outdir"], "team.env.tmp"), os.path.join(a["outdir"], "team.env"))
    print("big_group_dn=%s big_group_members=%d users=%d" % (big_dn, len(big), n))


# ---------------------------------------------------------------- verify
def parse_ldif(path):
    entries, cur = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if cur:
                    entries.append(cur)
                cur = None
                continue
            if line.startswith("#") or line.startswith(" "):
                continue
            m = re.match(r"^([^:]+)(::?) ?(.*)$", line)
            name, sep, val = m.group(1), m.group(2), m.group(3)
            raw = base64.b64decode(val) if sep == "::" else val.encode()
            if name == "dn":
                cur = {"dn": raw.decode("utf-8"), "attrs": {}}
                continue
            if cur is None:
                continue
            cur["attrs"].setdefault(name.lower(), []).append(raw)
    if cur:
        entries.append(cur)
    return entries


DN_ATTRS = {"member", "manager", "memberof"}


def verify(manifest, dump):
    got = {norm_dn(e["dn"]): e for e in parse_ldif(dump)}
    bad = checked = 0
    with open(manifest, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            key = norm_dn(rec["dn"])
            e = got.get(key)
            checked += 1
            if e is None:
                bad += 1
                print("MISSING %s" % rec["dn"])
                continue
            want = dict((k.lower(), [v.encode("utf-8") for v in vs]) for k, vs in rec["attrs"].items())
            for k, vs in rec["binary"].items():
                want[k.lower()] = [base64.b64decode(v) for v in vs]
            if rec["memberOf"]:
                want["memberof"] = [v.encode() for v in rec["memberOf"]]
            for k, vs in want.items():
                if k in ("member",) and any(a.startswith("member;range=") for a in e["attrs"]):
                    continue   # ranged: checked separately by samba.sh check
                have = e["attrs"].get(k, [])
                if k in DN_ATTRS:
                    a, b = {norm_dn(v.decode()) for v in vs}, {norm_dn(v.decode()) for v in have}
                elif k == "useraccountcontrol":
                    # AD adds flags on its own; the ones written must be there
                    a, b = int(vs[0]), int(have[0]) if have else None
                    if b is not None and a & b == a:
                        continue
                    a, b = {a}, {b}
                else:
                    a, b = set(vs), set(have)
                if a != b:
                    bad += 1
                    print("DIFF %s %s: wrote %r got %r" % (rec["dn"], k, sorted(a)[:3], sorted(b)[:3]))
    print("verify: %d entries checked, %d differences" % (checked, bad))
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "generate":
        a = {"outdir": argv[2], "users": "2000", "base": "DC=example,DC=test", "fixture_pw": "Fixture-Pw1",
             "service_pw": "Svc-Passw0rd1", "readonly_pw": "Ro-Passw0rd1", "delegated_pw": "Del-Passw0rd1"}
        it = iter(argv[3:])
        for k in it:
            a[k.lstrip("-").replace("-", "_")] = next(it)
        generate(a)
        return 0
    if len(argv) == 4 and argv[1] == "verify":
        return verify(argv[2], argv[3])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
