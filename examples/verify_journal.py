#!/usr/bin/env python3
"""An independent verifier of a ledger journal, written from
docs/journal-spec.md alone, with nothing but the Python 3 standard library.

    verify_journal.py --vectors docs/testdata          # the spec's test vectors
    verify_journal.py journal.jsonl                    # an export (ledger export)
    verify_journal.py journal.jsonl --checkpoint SEQ:HASH[:SIGNATURE] ... --public-key HEX
    verify_journal.py journal.jsonl --as-of SEQ        # balances after event SEQ, as CSV

It checks every line's hash and its place in the chain, that every line is
canonical (re-encoded, the same bytes), the sequences, the books (assets,
accounts, balances after each entry, limits, zero sums, unique transfer
ids, memos, the rate table, conversions through the FX account and
holds: a post never above its hold, no hold settled twice), the
command order and the checkpoints (Ed25519 signatures included).
Exit status 0 when everything holds; 1 with one line per finding, each
naming the sequence.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import sys

ZERO = "0" * 64
SUFFIX = 75  # len(',"hash":"') + 64 + len('"}')

# --- Section 3: members in order, read from the event schemas
# (docs/events/<Type>.v<v>.json): a payload's members are its schema's
# properties in their order, optional unless required. A kind is "int",
# "str", "true" (written only as true), "meta", "entries" (two),
# "entries4" (four) or a nested member list.
COMMAND = [("seq", "int", False), ("item", "int", False)]
ENTRY = [("account", "str", False), ("type", "str", False), ("amount", "str", False), ("balance", "str", False)]
ENVELOPE = ("seq", "type", "v", "command", "time", "prev_hash", "hash")
PAYLOADS = {}  # event type -> (payload member, members); load_payloads fills it


def member_kind(prop):
    ref = prop.get("$ref", "")
    if ref.endswith("/Metadata"):
        return "meta"
    if prop.get("type") == "integer":
        return "int"
    if prop.get("type") == "boolean" or prop.get("const") is True:
        return "true"
    if prop.get("type") == "array" and "properties" in prop.get("items", {}):
        # An array of objects (a transaction's legs): each with its members.
        return ("list", member_kind(prop["items"]))
    if prop.get("type") == "array":
        return "entries4" if prop.get("minItems") == 4 else "entries"
    if prop.get("type") == "object" and "properties" in prop:
        # A nested object (a reversal's "reversal"): its members in order.
        req = set(prop.get("required", []))
        return [(k, member_kind(v), k not in req) for k, v in prop["properties"].items()]
    return "str"


def load_payloads(schema_dir):
    for name in sorted(os.listdir(schema_dir)):
        m = re.match(r"^([A-Za-z]+)\.v1\.json$", name)
        if not m:
            continue
        with open(os.path.join(schema_dir, name), encoding="utf-8") as f:
            schema = json.load(f)
        member = [k for k in schema["properties"] if k not in ENVELOPE]
        if len(member) != 1:
            raise SystemExit("%s: no single payload member" % name)
        obj = schema["properties"][member[0]]
        required = set(obj.get("required", []))
        PAYLOADS[m.group(1)] = (member[0], [(k, member_kind(v), k not in required) for k, v in obj["properties"].items()])


CODES = {"validation_failed", "invalid_amount", "same_account", "account_not_found", "asset_not_found",
         "insufficient_funds", "asset_mismatch", "idempotency_conflict", "asset_conflict", "account_conflict",
         "balance_overflow", "forbidden", "batch_aborted", "rate_not_found",
         "account_frozen", "account_closed", "limit_in_use", "account_not_empty",
         "hold_not_found", "hold_not_pending", "hold_expired", "hold_amount_exceeded", "holds_full", "pending_conversion"}
ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
           "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d{0,8}[1-9])?Z$")
AMOUNT = re.compile(r"^(0|[1-9]\d*)(\.\d+)?$")
ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
ASSET = re.compile(r"^[A-Z][A-Z0-9_]{0,15}$")
RATE = re.compile(r"^(0|[1-9]\d*)(\.\d+)?$")
MAX_DIGITS = 38  # a balance or amount has at most 38 digits


class NotCanonical(Exception):
    pass


def enc_str(s):
    if not isinstance(s, str):
        raise NotCanonical("a string was expected")
    out = []
    for ch in s:
        if ch in ESCAPES:
            out.append(ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def enc_obj(obj, members):
    if not isinstance(obj, dict):
        raise NotCanonical("an object was expected")
    unknown = set(obj) - {m[0] for m in members}
    if unknown:
        raise NotCanonical("unknown member %s" % sorted(unknown)[0])
    parts = []
    for name, kind, optional in members:
        if name not in obj:
            if optional:
                continue
            raise NotCanonical("member %s missing" % name)
        v = obj[name]
        if optional and (v in ("", {}) or v is False):
            raise NotCanonical("empty optional member %s" % name)
        parts.append(enc_str(name) + ":" + enc_value(v, kind))
    return "{" + ",".join(parts) + "}"


def enc_value(v, kind):
    if kind == "int":
        if type(v) is not int or v < 0:
            raise NotCanonical("a non-negative integer was expected")
        return str(v)
    if kind == "str":
        return enc_str(v)
    if kind == "true":
        if v is not True:
            raise NotCanonical("memo is written only as true")
        return "true"
    if kind == "meta":
        if not isinstance(v, dict):
            raise NotCanonical("metadata is not an object")
        keys = sorted(v, key=lambda k: k.encode("utf-8", "surrogatepass"))
        return "{" + ",".join(enc_str(k) + ":" + enc_str(v[k]) for k in keys) + "}"
    if isinstance(kind, tuple):
        if not isinstance(v, list) or not v:
            raise NotCanonical("a non-empty array was expected")
        return "[" + ",".join(enc_value(x, kind[1]) for x in v) + "]"
    if kind in ("entries", "entries4"):
        if not isinstance(v, list) or len(v) != (2 if kind == "entries" else 4):
            raise NotCanonical("entries is not an array of %s" % ("two" if kind == "entries" else "four"))
        return "[" + ",".join(enc_obj(e, ENTRY) for e in v) + "]"
    return enc_obj(v, kind)


def no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise NotCanonical("the key %r appears twice in one object" % k)
        d[k] = v
    return d


def canonical(c):
    """Decodes the canonical bytes c (a line without its hash) and encodes
    the event again: returns the event when the bytes are the same."""
    try:
        ev = json.loads(c.decode("utf-8"), object_pairs_hook=no_duplicates,
                        parse_constant=lambda x: float("nan"))
    except (UnicodeDecodeError, ValueError) as e:
        raise NotCanonical("not JSON: %s" % e)
    if not isinstance(ev, dict) or ev.get("type") not in PAYLOADS:
        raise NotCanonical("unknown event type")
    member, fields = PAYLOADS[ev["type"]]
    top = [("seq", "int", False), ("type", "str", False), ("v", "int", False), ("command", COMMAND, False),
           ("time", "str", False), (member, fields, False), ("prev_hash", "str", False)]
    text = enc_obj(ev, top)
    m = TIME.match(ev["time"])
    if not m:
        raise NotCanonical("time %r is not RFC 3339 UTC without trailing zeros" % ev["time"])
    y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    if not (1 <= mo <= 12 and 1 <= d <= days[mo - 1] and h < 24 and mi < 60 and sec < 60):
        raise NotCanonical("time %r is not a valid date and time" % ev["time"])
    try:
        again = text.encode("utf-8")
    except UnicodeEncodeError:
        raise NotCanonical("a string is not valid UTF-8")
    if again != c:
        at = next((i for i in range(min(len(c), len(again))) if c[i] != again[i]), min(len(c), len(again)))
        raise NotCanonical("at byte %d the line has %r where the canonical encoding has %r" % (at, c[at:at + 24], again[at:at + 24]))
    return ev


def split_line(line, prev):
    """Section 2 and 5: returns (C, stored hash hex, error or None)."""
    if len(line) < SUFFIX + 2 or not line[-SUFFIX:].startswith(b',"hash":"') or not line.endswith(b'"}'):
        return None, None, "the line has no hash suffix"
    stored = line[-SUFFIX + 9:-2].decode("ascii", "replace")
    c = line[:-SUFFIX] + b"}"
    if hashlib.sha256(bytes.fromhex(prev) + c).hexdigest() != stored:
        return c, stored, "the stored hash does not match the line's bytes after the previous hash"
    return c, stored, None


# --- Ed25519 verification (RFC 8032, section 6, the reference code).
P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 % P == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _decompress(b):
    y = int.from_bytes(b, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
_G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % P)


def ed25519_verify(public, msg, sig):
    if len(public) != 32 or len(sig) != 64:
        return False
    a, r = _decompress(public), _decompress(sig[:32])
    s = int.from_bytes(sig[32:], "little")
    if a is None or r is None or s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + public + msg).digest(), "little") % L
    sb, rha = _mul(s, _G), _add(r, _mul(h, a))
    return (sb[0] * rha[2] - rha[0] * sb[2]) % P == 0 and (sb[1] * rha[2] - rha[1] * sb[2]) % P == 0


def parse_checkpoint(s):
    parts = s.split(":")
    if len(parts) not in (2, 3) or not parts[0].isdigit() or not re.match(r"^[0-9a-f]{64}$", parts[1]):
        raise SystemExit("checkpoint %r: want SEQ:HASH[:SIGNATURE]" % s)
    sig = None
    if len(parts) == 3:
        try:
            sig = base64.urlsafe_b64decode(parts[2] + "==")
        except ValueError:
            raise SystemExit("checkpoint %r: the signature is not base64url" % s)
    return int(parts[0]), parts[1], sig


def checkpoint_message(seq, h):
    return ("ledger-checkpoint-v1:%d:%s" % (seq, h)).encode("ascii")


# --- Section 7: the books.
def parse_amount(s, scale, signed=False, exact=True):
    """Minor units of a literal written with exactly scale decimals (at
    most scale when not exact), or None."""
    neg = signed and s.startswith("-") and len(s) > 1
    body = s[1:] if neg else s
    m = AMOUNT.match(body)
    places = len((m.group(2) or ".")[1:]) if m else 0
    if not m or places > scale or exact and places != scale or len(body.replace(".", "")) > MAX_DIGITS:
        return None
    v = int(body.replace(".", "")) * 10 ** (scale - places)
    return -v if neg else v


def fmt_amount(v, scale):
    sign, v = ("-" if v < 0 else ""), abs(v)
    s = str(v).rjust(scale + 1, "0")
    return sign + (s[:-scale] + "." + s[-scale:] if scale else s)


def is_zero(literal):
    """Whether an amount literal is zero ("0", "0.00"): a memo's, only."""
    return isinstance(literal, str) and AMOUNT.match(literal) is not None and set(literal) <= set("0.")


def parse_rate(s):
    """Section 4: a rate literal (positive, at most 24 digits, 18 after the
    point), normalized without trailing fractional zeros; or None."""
    m = RATE.match(s) if isinstance(s, str) else None
    if not m or is_zero(s):
        return None
    whole, frac = m.group(1), (m.group(2) or ".")[1:]
    if len(frac) > 18 or len(whole) + len(frac) > 24:
        return None
    frac = frac.rstrip("0")
    return whole + "." + frac if frac else whole


def convert(amount, scale, rate, to_scale):
    """amount (minor units at scale) times rate, rounded down to minor
    units at to_scale: what a conversion credits."""
    whole, _, frac = rate.partition(".")
    num, den = int(whole + frac), 10 ** (len(frac) + scale)
    return amount * num * 10 ** to_scale // den


def fits(v):
    return abs(v) < 10 ** MAX_DIGITS


def new_account(code, floor):
    return {"asset": code, "balance": 0, "floor": floor, "stated": 0, "moved": False, "status": "open"}


class Books:
    def __init__(self, find):
        self.find = find
        self.assets = {}     # code -> {"scale", "stated"}
        self.accounts = {}   # id -> account: {"asset", "balance", "floor", "stated", "moved"}
        self.world = {}      # code -> the issuer's account in that asset
        self.fx = {}         # code -> the FX account's position in that asset
        self.rates = {}      # (base, quote) -> rate, as RateSet events set them
        self.posted = {}     # transfer id -> seq
        self.holds = {}      # pending hold id -> {"from", "to", "asset", "amount"}
        self.settled = {}    # settled hold id -> seq
        self.postings = 0    # transfers, conversions and holds posted
        self.reversed = {}   # reversed transfer id -> what remains of it to reverse
        self.whole = {}      # reversed transfer id -> its amount, as its first reversal states it
        self.last_cmd = None

    def apply(self, seq, ev):
        typ = ev["type"]
        p = ev[PAYLOADS[typ][0]]
        cmd = ev["command"]["seq"]
        if self.last_cmd is not None and cmd > self.last_cmd + 1:
            self.find("commands", seq, "commands %d to %d are answered by no event" % (self.last_cmd + 1, cmd - 1))
        elif self.last_cmd is not None and cmd < self.last_cmd:
            self.find("commands", seq, "command %d after command %d" % (cmd, self.last_cmd))
        self.last_cmd = max(cmd, self.last_cmd or 0)
        # A type without a method of its own here has no books rule: its
        # hash, place in the chain and canonical form are still checked.
        getattr(self, typ, lambda seq, p: None)(seq, p)

    def AssetDefined(self, seq, a):
        if a["code"] in self.assets or not ASSET.match(a["code"]) or not 0 <= a["scale"] <= 18:
            return self.find("consistency", seq, "asset %s defined again or malformed" % a["code"])
        self.assets[a["code"]] = {"scale": a["scale"], "stated": 0}
        self.world[a["code"]] = new_account(a["code"], None)
        self.fx[a["code"]] = new_account(a["code"], None)

    def AccountOpened(self, seq, a):
        asset = self.assets.get(a["asset"])
        if asset is None or a["id"] in self.accounts or a["id"] == "world" or not ID.match(a["id"]):
            return self.find("consistency", seq, "account %s: undefined asset, opened again or malformed id" % a["id"])
        limit = a.get("overdraft_limit", "")
        parsed = parse_amount(limit, asset["scale"], exact=False) if limit not in ("", "unlimited") else 0
        if parsed is None:
            return self.find("consistency", seq, "account %s: overdraft limit %r" % (a["id"], limit))
        self.accounts[a["id"]] = new_account(a["asset"], None if limit == "unlimited" else -parsed)

    def account(self, ident, code):
        return self.world.get(code) if ident == "world" else self.accounts.get(ident)

    def request_ok(self, seq, t):
        """Section 4's rules of any transfer's request: a memo's amount is
        zero and only a memo's; a rate is a rate and never a memo's."""
        err = None
        if t.get("memo", False) != is_zero(t["amount"]):
            err = "amount %r of a %s" % (t["amount"], "memo" if t.get("memo") else "transfer that is not a memo")
        elif "exchange_rate" in t and (parse_rate(t["exchange_rate"]) is None or t.get("memo")):
            err = "exchange_rate %r" % t["exchange_rate"]
        elif t["from"] == t["to"]:
            err = "from and to are the same account"
        if err:
            self.find("schema", seq, "transfer %s: %s" % (t["id"], err))
        return err is None

    def state(self, seq, acc, e, scale):
        """Checks an entry's balance after against the recomputed one and
        keeps what it states for the zero-sum check."""
        stated = parse_amount(e["balance"], scale, signed=True)
        if stated is None or stated != acc["balance"]:
            self.find("balance_after", seq, "account %s: entry states %s, recomputed %s" % (
                e["account"], e["balance"], fmt_amount(acc["balance"], scale)))
            stated = acc["balance"] if stated is None else stated
        self.assets[acc["asset"]]["stated"] += stated - acc["stated"]
        acc["stated"] = stated
        acc["moved"] = True

    def stated_zero(self, seq, code):
        if self.assets[code]["stated"] != 0:
            self.find("zero_sum", seq, "the balances of %s the entries state sum to %s" % (code, self.assets[code]["stated"]))

    def post_id(self, seq, ident, posting=True):
        self.postings += posting
        if ident in self.posted:
            self.find("unique_transfer", seq, "transfer %s posted again (first at %d)" % (ident, self.posted[ident]))
        self.posted[ident] = seq

    def below_limit(self, seq, ident, acc):
        if acc["floor"] is not None and acc["balance"] < acc["floor"]:
            self.find("limit", seq, "account %s below its lower limit" % ident)

    def status_ok(self, seq, t, frm, to):
        """A frozen or closed account gives nothing; one frozen "all" or
        closed takes nothing (ADR 0024)."""
        if frm["status"] != "open":
            self.find("limit", seq, "transfer %s debits account %s, which is %s" % (t["id"], t["from"], frm["status"]))
        if to["status"] in ("all", "closed"):
            self.find("limit", seq, "transfer %s credits account %s, which is %s" % (t["id"], t["to"], to["status"]))

    def changed(self, seq, typ, c):
        acc = self.accounts.get(c["account"])
        if acc is None or acc["status"] == "closed":
            self.find("consistency", seq, "%s of account %s, never opened or closed" % (typ, c["account"]))
            return None
        return acc

    def AccountLimitChanged(self, seq, c):
        acc = self.changed(seq, "AccountLimitChanged", c)
        if acc is None:
            return
        limit = c["overdraft_limit"]
        parsed = parse_amount(limit, self.assets[acc["asset"]]["scale"]) if limit != "unlimited" else 0
        if parsed is None:
            return self.find("consistency", seq, "account %s: overdraft limit %r" % (c["account"], limit))
        acc["floor"] = None if limit == "unlimited" else -parsed
        self.below_limit(seq, c["account"], acc)

    def AccountFrozen(self, seq, c):
        acc = self.changed(seq, "AccountFrozen", c)
        if acc is not None:
            acc["status"] = c["frozen"]  # "debits" or "all"

    def AccountUnfrozen(self, seq, c):
        acc = self.changed(seq, "AccountUnfrozen", c)
        if acc is not None:
            acc["status"] = "open"

    def AccountClosed(self, seq, c):
        acc = self.changed(seq, "AccountClosed", c)
        if acc is None:
            return
        if acc["balance"] != 0:
            self.find("limit", seq, "account %s closed with a balance" % c["account"])
        acc["status"] = "closed"

    def TransferPosted(self, seq, t):
        code = t.get("asset", "")
        asset = self.assets.get(code)
        d, c = t["entries"]
        if (d["account"], d["type"], d["amount"], c["account"], c["type"], c["amount"]) != \
                (t["from"], "debit", t["amount"], t["to"], "credit", t["amount"]) or "exchange_rate" in t:
            return self.find("schema", seq, "transfer %s: entries are not its debit and credit, or it has a rate" % t["id"])
        if not self.request_ok(seq, t):
            return
        if asset is None:
            return self.find("consistency", seq, "transfer %s in an undefined asset" % t["id"])
        accs = [self.account(t["from"], code), self.account(t["to"], code)]
        if any(a is None or a["asset"] != code for a in accs):
            return self.find("consistency", seq, "transfer %s names an account not open in %s" % (t["id"], code))
        amount = parse_amount(t["amount"], asset["scale"])
        if amount is None or amount < 0 or (amount == 0) != t.get("memo", False):
            return self.find("consistency", seq, "transfer %s: amount %r at scale %d" % (t["id"], t["amount"], asset["scale"]))
        if not fits(accs[0]["balance"] - amount) or not fits(accs[1]["balance"] + amount):
            return self.find("consistency", seq, "transfer %s overflows a balance" % t["id"])
        if not self.reversal_ok(seq, t, asset["scale"], amount):
            return
        self.post_id(seq, t["id"])
        self.status_ok(seq, t, accs[0], accs[1])
        accs[0]["balance"] -= amount
        accs[1]["balance"] += amount
        self.below_limit(seq, t["from"], accs[0])
        for acc, e in zip(accs, (d, c)):
            self.state(seq, acc, e, asset["scale"])
        self.stated_zero(seq, code)

    def reversal_ok(self, seq, t, scale, amount):
        """A reversal (ADR 0023) names a transfer posted before it, and
        what remains of that transfer follows from its original amount
        less its reversals, never below zero."""
        if ("reverses" in t) != ("reversal" in t):
            self.find("schema", seq, "transfer %s: reverses and reversal go together" % t["id"])
            return False
        if "reverses" not in t:
            return True
        orig, rv = t["reverses"], t["reversal"]
        whole = parse_amount(rv["original_amount"], scale)
        left = parse_amount(rv["remaining"], scale, signed=True)
        before = self.reversed.get(orig, whole)
        if orig not in self.posted or whole is None or left is None or whole != self.whole.get(orig, whole) \
                or before - amount != left or left < 0:
            self.find("consistency", seq, "reversal %s of %s: more than remains, or a remainder that does not follow" % (t["id"], orig))
            return False
        self.reversed[orig], self.whole[orig] = left, whole
        return True

    def TransactionPosted(self, seq, tx):
        """A multi-leg transaction (ADR 0023): each leg a posting of its
        asset, in order, its sender within its limit after the legs before
        it, its entries the balances after it; the id posted once."""
        self.post_id(seq, tx["id"])
        for i, leg in enumerate(tx["legs"]):
            code = leg["asset"]
            asset = self.assets.get(code)
            d, c = leg["entries"]
            accs = [self.account(leg["from"], code), self.account(leg["to"], code)]
            if asset is None or any(a is None or a["asset"] != code for a in accs) or \
                    (d["account"], d["type"], d["amount"], c["account"], c["type"], c["amount"]) != \
                    (leg["from"], "debit", leg["amount"], leg["to"], "credit", leg["amount"]):
                return self.find("consistency", seq, "transaction %s leg %d: accounts, asset or entries" % (tx["id"], i))
            amount = parse_amount(leg["amount"], asset["scale"])
            if amount is None or amount <= 0 or not fits(accs[0]["balance"] - amount) or not fits(accs[1]["balance"] + amount):
                return self.find("consistency", seq, "transaction %s leg %d: amount %r" % (tx["id"], i, leg["amount"]))
            accs[0]["balance"] -= amount
            accs[1]["balance"] += amount
            self.below_limit(seq, leg["from"], accs[0])
            for acc, e in zip(accs, (d, c)):
                self.state(seq, acc, e, asset["scale"])
        for code in {leg["asset"] for leg in tx["legs"]}:
            self.stated_zero(seq, code)

    def TransactionRejected(self, seq, r):
        if r["code"] not in CODES or not r["detail"] or not 0 <= r["leg"] < len(r["legs"]):
            self.find("schema", seq, "transaction rejection %s: code %r, leg %r or empty detail" % (r["id"], r["code"], r["leg"]))
        if r["id"] in self.posted:
            self.find("consistency", seq, "rejection of transaction %s, posted at %d" % (r["id"], self.posted[r["id"]]))

    def TransferRejected(self, seq, r):
        if r["code"] not in CODES or not r["detail"]:
            self.find("schema", seq, "rejection %s: code %r or empty detail" % (r["id"], r["code"]))
        elif not self.request_ok(seq, r):
            return
        if r["id"] in self.posted:
            self.find("consistency", seq, "rejection of transfer %s, posted at %d" % (r["id"], self.posted[r["id"]]))

    def RateSet(self, seq, r):
        base, quote = r["base"], r["quote"]
        if not ASSET.match(base) or not ASSET.match(quote) or base == quote or parse_rate(r["rate"]) != r["rate"]:
            return self.find("schema", seq, "rate %r of %s in %s: not a normalized rate of two assets" % (r["rate"], base, quote))
        if base not in self.assets or quote not in self.assets:
            return self.find("consistency", seq, "rate of %s in %s: an asset is undefined" % (base, quote))
        self.rates[(base, quote)] = r["rate"]

    def conversion_schema(self, c):
        """The payload's own rules (section 7, schema): a reason, or None."""
        want = [(c["from"], "debit", c["amount"]), ("fx", "credit", c["amount"]),
                ("fx", "debit", c["to_amount"]), (c["to"], "credit", c["to_amount"])]
        if [(e["account"], e["type"], e["amount"]) for e in c["entries"]] != want or not all(e["balance"] for e in c["entries"]):
            return "its entries are not the four legs"
        if "asset" not in c or c.get("memo") or parse_rate(c.get("exchange_rate")) != c.get("exchange_rate"):
            return "no asset, a memo, or exchange_rate %r missing or not normalized" % c.get("exchange_rate")
        if c["rate_from"] not in ("request", "table"):
            return "rate_from %r" % c["rate_from"]
        if not ASSET.match(c["to_asset"]) or c["to_asset"] == c["asset"]:
            return "to_asset %r of a %s transfer" % (c["to_asset"], c["asset"])
        if not AMOUNT.match(c["to_amount"]) or is_zero(c["to_amount"]):
            return "to_amount %r" % c["to_amount"]
        return None

    def TransferConverted(self, seq, c):
        err = self.conversion_schema(c)
        if err:
            return self.find("schema", seq, "conversion %s: %s" % (c["id"], err))
        if not self.request_ok(seq, c):
            return
        fail = lambda why: self.find("consistency", seq, "conversion %s: %s" % (c["id"], why))
        a, q = self.assets.get(c["asset"]), self.assets.get(c["to_asset"])
        if a is None or q is None:
            return fail("converts %s to %s: an asset is undefined" % (c["asset"], c["to_asset"]))
        frm, to = self.accounts.get(c["from"]), self.accounts.get(c["to"])
        if frm is None or to is None or frm["asset"] != c["asset"] or to["asset"] != c["to_asset"]:
            return fail("from %s and to %s do not hold %s and %s" % (c["from"], c["to"], c["asset"], c["to_asset"]))
        table = self.rates.get((c["asset"], c["to_asset"]))
        if c["rate_from"] == "table" and table != c["exchange_rate"]:
            return fail("rate %s from the table, where the journal set %r" % (c["exchange_rate"], table))
        amount = parse_amount(c["amount"], a["scale"])
        if amount is None or amount <= 0:
            return fail("amount %r at scale %d" % (c["amount"], a["scale"]))
        to_amount = parse_amount(c["to_amount"], q["scale"])
        if to_amount is None:
            return fail("to_amount %r at scale %d" % (c["to_amount"], q["scale"]))
        want = convert(amount, a["scale"], c["exchange_rate"], q["scale"])
        if want != to_amount or not fits(want):
            return fail("to_amount %s is not %s at %s rounded down (%s)" % (
                c["to_amount"], c["amount"], c["exchange_rate"], fmt_amount(want, q["scale"])))
        legs = [frm, self.fx[c["asset"]], self.fx[c["to_asset"]], to]
        after = [frm["balance"] - amount, legs[1]["balance"] + amount, legs[2]["balance"] - to_amount, to["balance"] + to_amount]
        if not all(fits(v) for v in after):
            return fail("overflows a balance")
        for acc, v in zip(legs, after):
            acc["balance"] = v
        self.post_id(seq, c["id"])
        self.status_ok(seq, c, frm, to)
        self.below_limit(seq, c["from"], frm)
        for acc, e, scale in zip(legs, c["entries"], (a["scale"], a["scale"], q["scale"], q["scale"])):
            self.state(seq, acc, e, scale)
        self.stated_zero(seq, c["asset"])
        self.stated_zero(seq, c["to_asset"])

    def TransferPending(self, seq, h):
        """A hold moves nothing; its id is spent, and a post settles it."""
        asset = self.assets.get(h.get("asset", ""))
        if asset is None or any(self.account(i, h["asset"]) is None for i in (h["from"], h["to"])):
            return self.find("consistency", seq, "hold %s names an undefined asset or account" % h["id"])
        amount = parse_amount(h["amount"], asset["scale"])
        if amount is None or amount <= 0 or h["from"] == h["to"]:
            return self.find("consistency", seq, "hold %s: amount %r" % (h["id"], h["amount"]))
        self.post_id(seq, h["id"], posting=False)
        self.holds[h["id"]] = {"from": h["from"], "to": h["to"], "asset": h["asset"], "amount": amount}

    def settle(self, seq, p, verb):
        hold = self.holds.pop(p["id"], None)
        if hold is None:
            check = "unique_transfer" if p["id"] in self.settled else "consistency"
            self.find(check, seq, "hold %s %s, but it is not pending" % (p["id"], verb))
        elif (hold["from"], hold["to"], hold["asset"]) != (p["from"], p["to"], p["asset"]):
            self.find("consistency", seq, "hold %s %s between other accounts" % (p["id"], verb))
            hold = None
        self.settled[p["id"]] = seq
        return hold

    def HoldPosted(self, seq, p):
        d, c = p["entries"]
        if (d["account"], d["type"], d["amount"], c["account"], c["type"], c["amount"]) != \
                (p["from"], "debit", p["amount"], p["to"], "credit", p["amount"]):
            return self.find("schema", seq, "hold %s: entries are not its debit and credit" % p["id"])
        hold = self.settle(seq, p, "posted")
        if hold is None:
            return
        scale = self.assets[p["asset"]]["scale"]
        amount = parse_amount(p["amount"], scale)
        if amount is None or amount <= 0 or amount > hold["amount"] or parse_amount(p["held"], scale) != hold["amount"]:
            return self.find("consistency", seq, "hold %s posted for %s, but it holds %s" % (
                p["id"], p["amount"], fmt_amount(hold["amount"], scale)))
        accs = [self.account(p["from"], p["asset"]), self.account(p["to"], p["asset"])]
        if not fits(accs[0]["balance"] - amount) or not fits(accs[1]["balance"] + amount):
            return self.find("consistency", seq, "hold %s overflows a balance" % p["id"])
        self.postings += 1
        accs[0]["balance"] -= amount
        accs[1]["balance"] += amount
        self.below_limit(seq, p["from"], accs[0])
        for acc, e in zip(accs, (d, c)):
            self.state(seq, acc, e, scale)
        self.stated_zero(seq, p["asset"])

    def HoldVoided(self, seq, v):
        if v["reason"] not in ("voided", "expired") or (v["reason"] == "expired") != ("expires_at" in v):
            return self.find("schema", seq, "hold %s: reason %r" % (v["id"], v["reason"]))
        hold = self.settle(seq, v, v["reason"])
        if hold and parse_amount(v["amount"], self.assets[v["asset"]]["scale"]) != hold["amount"]:
            self.find("consistency", seq, "hold %s releases %s, not what it holds" % (v["id"], v["amount"]))

    def CommandSkipped(self, seq, k):
        pass

    def AccountMetadataUpdated(self, seq, u):
        if u["account"] not in self.accounts:
            self.find("consistency", seq, "metadata of account %s, never opened" % u["account"])

    def sums(self):
        """Each asset's recomputed balances summed: the issuer's and the FX
        position included."""
        out = {code: self.world[code]["balance"] + self.fx[code]["balance"] for code in self.assets}
        for a in self.accounts.values():
            out[a["asset"]] += a["balance"]
        return out

    def balances(self):
        rows = [(a["asset"], i, a["balance"]) for i, a in self.accounts.items()]
        rows += [(code, "world", w["balance"]) for code, w in self.world.items()]
        rows += [(code, "fx", f["balance"]) for code, f in self.fx.items() if f["moved"]]
        return [{"account": i, "asset": code, "balance": fmt_amount(b, self.assets[code]["scale"])}
                for code, i, b in sorted(rows)]


def verify(lines, checkpoints=(), public_key=None, as_of=None):
    """Verifies an export's lines (bytes, without '\\n'). Returns (findings,
    head, books, events)."""
    findings = []

    def find(check, seq, detail):
        findings.append("%s at sequence %d: %s" % (check, seq, detail))

    books = Books(find)
    cps = sorted(checkpoints)
    for seq, h, sig in cps:
        if sig is not None and not ed25519_verify(public_key or b"", checkpoint_message(seq, h), sig):
            find("checkpoint", seq, "the signature of checkpoint %d does not verify" % seq)
    prev, expect, head, events = ZERO, 1, None, 0
    for line in lines:
        c, stored, err = split_line(line, prev)
        if c is None:
            find("hash_chain", expect, err)
            expect += 1
            continue
        try:
            ev = canonical(c)
        except NotCanonical as e:
            find("canonical", expect, str(e))
            ev = None
        seq = ev["seq"] if ev else expect
        if seq != expect:
            find("sequence", seq, "event %d where %d was expected" % (seq, expect))
        if err:
            find("hash_chain", seq, err)
        elif ev and ev["prev_hash"] != prev:
            find("hash_chain", seq, "prev_hash does not name the line before")
        if as_of is not None and seq > as_of:
            break
        if ev:
            if ev["v"] != 1 or not 0 < seq < 2 ** 64 or ev["command"]["seq"] >= 2 ** 64:
                find("schema", seq, "schema version %d, or a number out of range" % ev["v"])
            else:
                books.apply(seq, ev)
        while cps and cps[0][0] <= seq:
            cseq, ch, _ = cps.pop(0)
            if cseq < seq or ch != stored:
                find("checkpoint", cseq, "the journal does not pass through checkpoint %d:%s" % (cseq, ch))
        prev, expect, head, events = stored, seq + 1, (seq, stored), events + 1
    for cseq, ch, _ in cps:
        find("checkpoint", cseq, "the journal ends at %d, before checkpoint %d: it was truncated" % (expect - 1, cseq))
    if as_of is None:
        for code, total in sorted(books.sums().items()):
            if total:
                find("zero_sum", expect - 1, "the balances of %s sum to %d minor units" % (code, total))
    return findings, head, books, events


def read_lines(path):
    data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
    if data and not data.endswith(b"\n"):
        raise SystemExit("%s: the last line has no newline" % path)
    return data.split(b"\n")[:-1] if data else []


def check_vectors(directory):
    """Section 9: every test vector of docs/testdata. Returns the failures."""
    bad = []
    for n, text in enumerate(open(directory + "/lines.jsonl", encoding="utf-8")):
        v = json.loads(text)
        line = v["line"].encode("utf-8")
        c, stored, err = split_line(line, v["prev_hash"])
        if c is None or hashlib.sha256(bytes.fromhex(v["prev_hash"]) + c).hexdigest() != v["hash"] or stored != v["hash"]:
            bad.append("lines.jsonl:%d %s: the hash" % (n + 1, v["name"]))
            continue
        try:
            ev = canonical(c)
            ok = ev["prev_hash"] == v["prev_hash"] and TIME.match(ev["time"]) is not None
        except NotCanonical:
            ok = False
        if ok != v["canonical"]:
            bad.append("lines.jsonl:%d %s: taken for %s" % (n + 1, v["name"], "canonical" if ok else "not canonical"))
    exp = json.load(open(directory + "/journal.expected.json"))
    lines = read_lines(directory + "/journal.jsonl")
    findings, head, books, events = verify(lines)
    bad += findings
    if "%d:%s" % head != exp["head"] or events != exp["events"] or books.postings != exp["postings"]:
        bad.append("journal.jsonl: head %d:%s, %d events" % (head[0], head[1], events))
    for point in exp["as_of"]:
        _, _, b, _ = verify(lines, as_of=point["seq"])
        if b.balances() != point["balances"]:
            bad.append("journal.jsonl: balances as of %d: %s" % (point["seq"], b.balances()))
    cps = json.load(open(directory + "/checkpoints.json"))
    key = bytes.fromhex(cps["public_key"])
    for cp in cps["checkpoints"]:
        seq, h, sig = parse_checkpoint(cp["checkpoint"])
        if checkpoint_message(seq, h).decode() != cp["message"] or ed25519_verify(key, checkpoint_message(seq, h), sig) != cp["valid"]:
            bad.append("checkpoints.json: %s" % cp["checkpoint"])
        f, _, _, _ = verify(lines, [(seq, h, sig)], key)
        if (not f) != cp["valid"]:
            bad.append("checkpoints.json: journal through %s: %s" % (cp["checkpoint"], f))
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", nargs="?", help="an export (JSON Lines), - for standard input")
    ap.add_argument("--vectors", help="check the test vectors in this directory (docs/testdata)")
    ap.add_argument("--checkpoint", action="append", default=[], help="SEQ:HASH[:SIGNATURE] the journal must pass through")
    ap.add_argument("--public-key", help="the ledger's Ed25519 checkpoint key, 64 hex digits")
    ap.add_argument("--as-of", type=int, help="print the balances after this sequence, as CSV")
    ap.add_argument("--schemas", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "events"),
                    help="the event schemas, whose properties give each payload's members in order (docs/events)")
    args = ap.parse_args()
    load_payloads(args.schemas)
    if args.vectors:
        bad = check_vectors(args.vectors)
        for b in bad:
            print("vector failed: " + b)
        print("test vectors: %s" % ("FAILED" if bad else "PASSED"))
        if bad:
            return 1
    if not args.file:
        return 0 if args.vectors else ap.error("give an export, or --vectors")
    cps = [parse_checkpoint(c) for c in args.checkpoint]
    try:
        key = bytes.fromhex(args.public_key) if args.public_key else None
    except ValueError:
        raise SystemExit("--public-key: want 64 hex digits")
    if any(sig is not None for _, _, sig in cps) and key is None:
        raise SystemExit("a signed checkpoint needs --public-key")
    findings, head, books, events = verify(read_lines(args.file), cps, key, args.as_of)
    for f in findings:
        print(f)
    if args.as_of is not None:
        print("kind,account,asset,balance")
        for b in books.balances():
            print("account,%s,%s,%s" % (b["account"], b["asset"], b["balance"]))
    print("%s: %s, %d events, head %s" % (args.file, "FAILED" if findings else "PASSED", events,
                                         "%d:%s" % head if head else "none"))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
