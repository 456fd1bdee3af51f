#!/usr/bin/env python3
"""Streams realistic, nasty LDAP test users and groups as LDIF (for slapadd) plus a
JSON-lines manifest of exactly what was written.  Python 3 standard library only.

    gen_users.py --count N --base-dn dc=example,dc=com --people-ou ou=people \
        --groups-ou ou=groups --ldif OUT.ldif --manifest OUT.jsonl \
        [--seed S] [--big-group-members 1600] [--filler-ou ou=bulk] \
        [--user-password PW] [--fixture-password PW [--mustchange-policy-dn DN]]

Output is deterministic for a given seed, and user i does not depend on --count (only
group layout does).  Memory use is constant in --count: every user's DN is a pure
function of (seed, index), so managers and group members are recomputed, not stored.

Users (objectClass inetOrgPerson/organizationalPerson/person): uid, cn, sn, givenName,
displayName (some with emoji, some in Unicode NFD), mail (multi-valued for some),
telephoneNumber (1-3 values), title, employeeNumber, manager (an earlier user),
description (some multi-line or starting with ':' / '<'), jpegPhoto (~5%: a few hundred
random bytes framed as JPEG), userPassword ({SSHA} of --user-password, per-user salt).
About 15% of users are named by `cn=` with values that need RFC 4514 escaping
(, + " \\ < > ; = leading '#', leading and trailing spaces, non-ASCII); users 1..12
cover every such variant when --count >= 13; the rest are named by `uid=`.

Groups (groupOfNames, under the groups OU): every user is in a team (25 members), a
project (~100, nasty names), a role (~500) and a site (~1,000) group; `cn=all-staff`
has exactly --big-group-members members: the first generated users, padded with
minimal "filler" users under --filler-ou when --count is smaller.  The filler OU and
the people/groups OUs themselves are NOT written (create them before loading).

--fixture-password adds five fixture users under the people OU (uid fixture-ok,
fixture-locked, fixture-expired, fixture-mustchange, fixture-lockout) whose password is
that value, with the password-policy state described in scripts/servers/README.md.

Manifest: one JSON object per entry, in LDIF order:
  {"dn": DN as written, "attributes": {name: [utf-8 values]}, "binary": {name: [base64]}}
userPassword is left out.  Fixture lines also carry "fixture" (its role) and
"operational" (the ppolicy attributes written); filler lines carry "filler": true.
"""

import argparse
import base64
import hashlib
import json
import math
import random
import sys
import time

MASK64 = (1 << 64) - 1


def mix64(x):
    """splitmix64 finalizer: a cheap, well-distributed hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


# (name as displayed, ASCII form used in uid/mail)
GIVEN = [
    ("José", "jose"), ("Zoë", "zoe"), ("François", "francois"), ("Søren", "soren"),
    ("Łukasz", "lukasz"), ("Björk", "bjork"), ("Ana María", "anamaria"),
    ("Mary-Jane", "maryjane"), ("John", "john"), ("Ingrid", "ingrid"), ("Ævar", "aevar"),
    ("Zoe\u0308", "zoe"),  # NFD: 'e' + COMBINING DIAERESIS, must survive byte-for-byte
    ("太郎", "taro"), ("花子", "hanako"), ("伟", "wei"), ("芳", "fang"), ("민준", "minjun"),
    ("Дмитрий", "dmitriy"), ("Αλέξανδρος", "alexandros"), ("محمد", "mohammed"),
    ("נועה", "noa"), ("Nguyệt", "nguyet"), ("İsmail", "ismail"), ("Siobhán", "siobhan"),
    ("Chloé", "chloe"), ("Jürgen", "jurgen"), ("James", "james"), ("Maria", "maria"),
    ("Fatima", "fatima"), ("Olivia", "olivia"), ("Liam", "liam"), ("Emma", "emma"),
    ("Noah", "noah"), ("Aarav", "aarav"), ("Priya", "priya"), ("D'Arcy", "darcy"),
]
FAMILY = [
    ("Müller", "muller"), ("García Márquez", "garciamarquez"), ("O'Connor", "oconnor"),
    ("van der Berg", "vanderberg"), ("Smith-Jones", "smithjones"), ("山田", "yamada"),
    ("佐藤", "sato"), ("王", "wang"), ("李", "li"), ("김", "kim"), ("Nguyễn", "nguyen"),
    ("Иванов", "ivanov"), ("Παπαδόπουλος", "papadopoulos"), ("Øster", "oster"),
    ("Straße", "strasse"), ("Ødegård", "odegard"), ("Dvořák", "dvorak"), ("Łęcki", "lecki"),
    ("Al-Farsi", "alfarsi"), ("כהן", "cohen"), ("Smith", "smith"), ("Johnson", "johnson"),
    ("Brown", "brown"), ("Williams", "williams"), ("Dubois", "dubois"), ("Rossi", "rossi"),
    ("Silva", "silva"), ("Kowalski", "kowalski"), ("Patel", "patel"),
    ("D'Angelo", "dangelo"), ("Ng", "ng"), ("Öztürk", "ozturk"),
]
EMOJI = ["🎸", "🚀", "☕", "🌍", "👩\u200d💻", "🏳️\u200d🌈", "😀", "🦄", "🇫🇷"]
TITLES = [
    "Engineer", "Senior Engineer", "Ingénieur principal", "Directeur général",
    "Chef de projet", "Sales Manager", "Développeuse", "Head of R&D, EMEA",
    "VP, Sales & Marketing", "Technicien(ne)", "部長", "エンジニア", "Менеджер", "Intern",
    "CEO", "Staff Engineer II",
]
CITIES = ["Zürich", "São Paulo", "東京", "Kraków", "Montréal", "Reykjavík", "Berlin",
          "Austin", "Lagos", "Mumbai"]
PROJECTS = ["R&D, Europe", "Sales+Marketing", "Ünïcödé", "研究開発", "#hashtag",
            "Q&A <internal>", 'The "Big" One', "C:\\Temp", "; drop table", "Platform",
            " Spaced", "Ops=Dev"]
DESCRIPTIONS = [
    "Line one\nline two",          # LF: must be base64
    ": starts with a colon",       # leading ':'
    "<not a url>",                 # leading '<'
    "Tab\tinside",
    "Ends with a space ",
    "Plain description",
    "Remarque : éèà",
]
N_VARIANTS = 12


def nasty_cn(variant, first, last, i):
    """A cn needing RFC 4514 escaping when used as an RDN value."""
    if variant == 0:
        return f"{last}, {first} {i}"
    if variant == 1:
        return f"{first}+{last} {i}"
    if variant == 2:
        return f'{first} "The Boss" {last} {i}'
    if variant == 3:
        return f"{last}\\{first} {i}"
    if variant == 4:
        return f"<{first} {last}> {i}"
    if variant == 5:
        return f"{first};{last} {i}"
    if variant == 6:
        return f"#{first} {last} {i}"
    if variant == 7:
        return f" {first} {last} {i}"
    if variant == 8:
        return f"{first} {last} {i} "
    if variant == 9:
        return f'#{last}, "{first}"; a+b <c> \\ {i} '
    if variant == 10:
        return f"{first}={last} {i}"
    return f"  {last},  {first}  {i}"  # two leading spaces, doubled inner spaces


def rdn_escape(v):
    """RFC 4514 section 2.4 escaping of an attribute value."""
    out = []
    for c in v:
        if c in '"+,;<>\\':
            out.append("\\" + c)
        elif c == "\0":
            out.append("\\00")
        else:
            out.append(c)
    if v and v[0] in " #":
        out[0] = "\\" + v[0]
    if v.endswith(" ") and (len(v) > 1 or v[0] != " "):
        out[-1] = "\\ "
    return "".join(out)


def ldif_safe(s):
    """RFC 2849 SAFE-STRING (plus: no trailing space)."""
    if not s:
        return True
    if not s.isascii():
        return False
    if s[0] in " :<" or s[-1] == " ":
        return False
    return "\n" not in s and "\r" not in s and "\0" not in s


def ldif_attr(lines, name, value):
    if ldif_safe(value):
        lines.append(f"{name}: {value}")
    else:
        lines.append(f"{name}:: {base64.b64encode(value.encode('utf-8')).decode('ascii')}")


class Writer:
    def __init__(self, ldif_path, manifest_path):
        self.ldif = sys.stdout.buffer if ldif_path == "-" else open(ldif_path, "wb", buffering=1 << 20)
        self.man = open(manifest_path, "w", encoding="utf-8", buffering=1 << 20)
        self.bytes = 0

    def entry(self, dn, attrs, binary=None, password=None, operational=None, extra=None):
        """attrs: list of (name, [values]) in order; binary: list of (name, [bytes])."""
        lines = []
        ldif_attr(lines, "dn", dn)
        m_attrs = {}
        for name, values in attrs:
            for v in values:
                ldif_attr(lines, name, v)
            m_attrs[name] = values
        m_bin = {}
        for name, values in binary or ():
            enc = [base64.b64encode(b).decode("ascii") for b in values]
            for e in enc:
                lines.append(f"{name}:: {e}")
            m_bin[name] = enc
        if password is not None:
            lines.append(f"userPassword: {password}")
        m_op = {}
        for name, values in operational or ():
            for v in values:
                ldif_attr(lines, name, v)
            m_op[name] = values
        lines.append("\n")
        data = "\n".join(lines).encode("ascii")
        self.bytes += len(data)
        self.ldif.write(data)
        rec = {"dn": dn, "attributes": m_attrs, "binary": m_bin}
        if m_op:
            rec["operational"] = m_op
        if extra:
            rec.update(extra)
        self.man.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
        self.man.write("\n")

    def close(self):
        self.ldif.flush()
        if self.ldif is not sys.stdout.buffer:
            self.ldif.close()
        self.man.close()


def ssha(password, salt):
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password + salt).digest() + salt).decode("ascii")


class Gen:
    def __init__(self, args):
        self.args = args
        self.key = mix64(args.seed & MASK64)
        self.people = f"{args.people_ou},{args.base_dn}"
        self.groups = f"{args.groups_ou},{args.base_dn}"
        self.fillers = f"{args.filler_ou},{args.base_dn}"
        self.n = args.count

    def ident(self, i):
        """(first, first_ascii, last, last_ascii, variant or -1) of user i; O(1)."""
        h = mix64(self.key ^ i)
        first, fa = GIVEN[h % len(GIVEN)]
        last, la = FAMILY[(h >> 16) % len(FAMILY)]
        if 1 <= i <= N_VARIANTS:
            variant = i - 1
        elif (h >> 32) % 100 < 15:
            variant = (h >> 40) % N_VARIANTS
        else:
            variant = -1
        return first, fa, last, la, variant

    def uid(self, i, fa, la):
        return f"{fa[0]}.{la}{i}"

    def dn(self, i):
        first, fa, last, la, variant = self.ident(i)
        if variant >= 0:
            return f"cn={rdn_escape(nasty_cn(variant, first, last, i))},{self.people}"
        return f"uid={self.uid(i, fa, la)},{self.people}"

    def filler_dn(self, j):
        return f"uid=filler{j:05d},{self.fillers}"

    def users(self, w):
        rng = random.Random(self.args.seed)
        pw = self.args.user_password.encode("utf-8")
        for i in range(self.n):
            first, fa, last, la, variant = self.ident(i)
            uid = self.uid(i, fa, la)
            if variant >= 0:
                cn_vals = [nasty_cn(variant, first, last, i)]
                dn = f"cn={rdn_escape(cn_vals[0])},{self.people}"
            else:
                cn_vals = [f"{first} {last}"]
                if rng.random() < 0.1:
                    cn_vals.append(f"{last} {first} ({i})")
                dn = f"uid={uid},{self.people}"
            display = f"{first} {last}"
            if rng.random() < 0.2:
                display += " " + rng.choice(EMOJI)
            mails = [f"{uid}@example.com"]
            if rng.random() < 0.25:
                mails.append(f"{fa}.{la}.{i}@mail.example.org")
            if rng.random() < 0.05:
                mails.append(f"{fa}+{i}@lists.example.net")
            phones = []
            for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                cc = rng.choice(("+33 1", "+1", "+49 30", "+81 3", "+44 20"))
                phones.append(f"{cc} {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)} x{len(phones)}")
            attrs = [
                ("objectClass", ["top", "person", "organizationalPerson", "inetOrgPerson"]),
                ("uid", [uid]),
                ("cn", cn_vals),
                ("sn", [last]),
                ("givenName", [first]),
                ("displayName", [display]),
                ("mail", mails),
                ("telephoneNumber", phones),
                ("employeeNumber", [f"{100000 + i}"]),
            ]
            if rng.random() < 0.9:
                attrs.append(("title", [rng.choice(TITLES)]))
            if i > 0 and rng.random() < 0.9:
                attrs.append(("manager", [self.dn(mix64(self.key ^ ~i & MASK64) % i)]))
            if rng.random() < 0.1:
                attrs.append(("description", [rng.choice(DESCRIPTIONS)]))
            binary = None
            if rng.random() < 0.05:
                body = rng.randbytes(rng.randrange(200, 600))
                binary = [("jpegPhoto", [b"\xff\xd8\xff\xe0" + body + b"\xff\xd9"])]
            salt = rng.getrandbits(64).to_bytes(8, "little")
            w.entry(dn, attrs, binary, password=ssha(pw, salt))

    def fillers_and_fixtures(self, w):
        n_fill = max(0, self.args.big_group_members - self.n)
        for j in range(n_fill):
            w.entry(self.filler_dn(j), [
                ("objectClass", ["top", "person", "organizationalPerson", "inetOrgPerson"]),
                ("uid", [f"filler{j:05d}"]),
                ("cn", [f"Filler {j}"]),
                ("sn", ["Filler"]),
            ], extra={"filler": True})
        if self.args.fixture_password is None:
            return n_fill, 0
        pw = self.args.fixture_password.encode("utf-8")
        rng = random.Random(self.args.seed ^ 0xF1F1)
        fixtures = [
            ("ok", []),
            ("locked", [("pwdAccountLockedTime", ["000001010000Z"])]),
            ("expired", [("pwdChangedTime", ["20000101000000Z"])]),
            ("mustchange", [("pwdReset", ["TRUE"])]
             + ([("pwdPolicySubentry", [self.args.mustchange_policy_dn])]
                if self.args.mustchange_policy_dn else [])),
            ("lockout", []),
        ]
        for role, op in fixtures:
            uid = f"fixture-{role}"
            w.entry(f"uid={uid},{self.people}", [
                ("objectClass", ["top", "person", "organizationalPerson", "inetOrgPerson"]),
                ("uid", [uid]),
                ("cn", [f"Fixture {role}"]),
                ("sn", [role]),
                ("givenName", ["Fixture"]),
                ("displayName", [f"Fixture {role} ✓"]),
                ("mail", [f"{uid}@example.com"]),
            ], password=ssha(pw, rng.getrandbits(64).to_bytes(8, "little")),
                operational=op, extra={"fixture": role})
        return n_fill, len(fixtures)

    def group(self, w, cn, members, desc):
        attrs = [("objectClass", ["top", "groupOfNames"]), ("cn", [cn]),
                 ("description", [desc]), ("owner", [members[0]]), ("member", members)]
        w.entry(f"cn={rdn_escape(cn)},{self.groups}", attrs)

    def groups_all(self, w):
        n, dn, count = self.n, self.dn, 0
        for t in range(math.ceil(n / 25)):
            cn = f"team-{t:05d}" if t % 7 else f"Team {t}, {CITIES[t % len(CITIES)]}"
            self.group(w, cn, [dn(i) for i in range(25 * t, min(n, 25 * t + 25))], "Team")
            count += 1
        p_count = math.ceil(n / 100)
        for p in range(p_count):
            cn = f"{PROJECTS[p % len(PROJECTS)]} {p}"
            self.group(w, cn, [dn(i) for i in range(p, n, p_count)], "Project ✨")
            count += 1
        r_count = math.ceil(n / 500)
        for r in range(r_count):
            members = [dn(i) for b in range(5 * r, n, 5 * r_count) for i in range(b, min(n, b + 5))]
            self.group(w, f"role-{r:04d}", members, "Role")
            count += 1
        s_count = math.ceil(n / 1000)
        for s in range(s_count):
            members = [dn(i) for b in range(2 * s, n, 2 * s_count) for i in range(b, min(n, b + 2))]
            self.group(w, f"Site {CITIES[s % len(CITIES)]} {s}", members, "Site")
            count += 1
        m = self.args.big_group_members
        if m > 0:
            members = [dn(i) for i in range(min(n, m))]
            members += [self.filler_dn(j) for j in range(max(0, m - n))]
            self.group(w, "all-staff", members, f"Everyone ({m} members)")
            count += 1
        return count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, required=True, help="generated users")
    ap.add_argument("--base-dn", required=True)
    ap.add_argument("--people-ou", default="ou=people")
    ap.add_argument("--groups-ou", default="ou=groups")
    ap.add_argument("--filler-ou", default="ou=bulk",
                    help="where filler members of the big group go when --count is small")
    ap.add_argument("--ldif", required=True, help="output LDIF file, '-' for stdout")
    ap.add_argument("--manifest", required=True, help="output JSON-lines file")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--big-group-members", type=int, default=1600)
    ap.add_argument("--user-password", default="Gen-Passw0rd",
                    help="password of every generated user (default %(default)s)")
    ap.add_argument("--fixture-password", help="also write the five fixture users")
    ap.add_argument("--mustchange-policy-dn", help="pwdPolicySubentry of fixture-mustchange")
    args = ap.parse_args()
    if args.count < 0 or args.big_group_members < 0:
        ap.error("--count and --big-group-members must be >= 0")
    t0 = time.monotonic()
    g = Gen(args)
    w = Writer(args.ldif, args.manifest)
    g.users(w)
    n_fill, n_fix = g.fillers_and_fixtures(w)
    n_groups = g.groups_all(w)
    w.close()
    print(f"gen_users: {args.count} users (+{n_fix} fixtures, +{n_fill} fillers), "
          f"{n_groups} groups, {w.bytes / 1e6:.1f} MB LDIF, {time.monotonic() - t0:.2f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
