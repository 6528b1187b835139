#!/usr/bin/env python3
"""An independent verifier of coopledger ledgers, written from docs/FORMAT.md alone.

It shares no code with the Rust implementation: its own decoder for the canonical
encoding (FORMAT.md §1) and the payload catalogue (§11), its own Ed25519 key checks (§2:
on the curve, canonical, not of small order, torsion-free), libsodium (PyNaCl) for the
signature equation, and its own bookkeeping of the key registry (§11.5), the governance
chain and time (§6), the Merkle tree (§7) and checkpoints (§8).

It checks an export's framing (§13); every record's canonical encoding, position, chain
link, signature, governance head, time and authored-time window; that each signer holds a
key registered and active at its position, with the role its payload needs; every
registration against §11.5; and every checkpoint's node signature (the key the genesis
names, under the origin as key name), witness cosignatures (registered witnesses, key
active at the checkpoint's last record), time, Merkle root and chain head. It does not
re-apply the case rules of docs/TREATY.md: that is the Rust verifier's job; this one is
the proof that the bytes and the registry can be checked from the spec.

It reads an export (§13) or a ledger directory, whose journal (§10.2) it reads.

It applies the witness policy (§8, §15, format 2.2): the ledger is VERIFIED as far as the
last checkpoint a registered witness of each Party cosigned; with none, it is NOT
WITNESSED (exit 4) unless --accept-node-word is given.

Usage: verify.py EXPORT|DIR [--node-key VKEY] [--accept-node-word]
       exit 0 verified, 3 refused, 4 not witnessed, 1 error
Needs: pip install pynacl==1.5.0 blake3==1.0.11
"""

import base64
import hashlib
import os
import sys

import blake3
import nacl.bindings
import nacl.exceptions


class Refused(Exception):
    """The input is not a valid coopledger ledger; the message says where and why."""


# ---------------------------------------------------------------- hashing (§3)

def tagged(tag, *parts):
    h = blake3.blake3(bytes([tag]))
    for p in parts:
        h.update(p)
    return h.digest()


EMPTY_ROOT = blake3.blake3(b"").digest()


def merkle_root(leaves):
    """MTH over a list of leaf hashes (§7)."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return tagged(0x01, merkle_root(leaves[:k]), merkle_root(leaves[k:]))


# ---------------------------------------------------------------- Ed25519 keys (§2)

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    (x1, y1, z1, t1), (x2, y2, z2, t2) = a, b
    A = (y1 - x1) * (y2 - x2) % P
    B = (y1 + x1) * (y2 + x2) % P
    C = 2 * t1 * t2 * D % P
    Dd = 2 * z1 * z2 % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _is_identity(pt):
    x, y, z, _ = pt
    return x % P == 0 and (y - z) % P == 0


def check_key(raw):
    """The key check of FORMAT.md §2; returns None or why the key is refused."""
    if len(raw) != 32:
        return "not 32 bytes"
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    sign = raw[31] >> 7
    if y >= P:
        return "not canonically encoded (y >= p)"
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        if sign:
            return "not canonically encoded (x = 0 with the sign bit set)"
        x = 0
    else:
        x = pow(x2, (P + 3) // 8, P)
        if (x * x - x2) % P != 0:
            x = x * SQRT_M1 % P
        if (x * x - x2) % P != 0:
            return "not a point of the curve"
        if x & 1 != sign:
            x = P - x
    pt = (x, y, 1, x * y % P)
    if _is_identity(_mul(8, pt)):
        return "of small order (weak)"
    if not _is_identity(_mul(L, pt)):
        return "not torsion-free"
    return None


def verify_sig(key, msg, sig):
    """Strict verification: the key check, then libsodium's cofactorless equation (which
    refuses a non-canonical S and a small-order R)."""
    why = check_key(key)
    if why:
        return f"key {key.hex()} is {why}"
    try:
        nacl.bindings.crypto_sign_open(sig + msg, key)
    except (nacl.exceptions.BadSignatureError, ValueError):
        return "the signature does not verify"
    return None


# ---------------------------------------------------------------- canonical decoding (§1)

class Decoder:
    """Reads the canonical encoding; refuses every second spelling as it goes (minimal
    varints, 0/1 booleans and option tags, valid enum indices, UTF-8), and the caller
    refuses leftover bytes: together what FORMAT.md §1 asks."""

    def __init__(self, data, what):
        self.d, self.i, self.what = data, 0, what

    def fail(self, why):
        raise Refused(f"{self.what}: {why} at byte {self.i}")

    def take(self, n):
        if n < 0 or self.i + n > len(self.d):
            self.fail("truncated")
        b = self.d[self.i:self.i + n]
        self.i += n
        return b

    def u8(self):
        return self.take(1)[0]

    def varint(self):
        b = self.u8()
        if b < 251:
            return b
        size, low = {0xFB: (2, 251), 0xFC: (4, 1 << 16), 0xFD: (8, 1 << 32)}.get(b, (0, 0))
        if not size:
            self.fail("invalid varint prefix")
        v = int.from_bytes(self.take(size), "little")
        if v < low:
            self.fail("non-minimal varint")
        return v

    def boolean(self):
        b = self.u8()
        if b > 1:
            self.fail("invalid bool")
        return b == 1

    def option(self, f):
        t = self.u8()
        if t > 1:
            self.fail("invalid option tag")
        return f() if t else None

    def string(self):
        n = self.varint()
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError:
            self.fail("invalid UTF-8")

    def vec(self, f):
        return [f() for _ in range(self.varint())]

    def fixed(self, n):
        return self.take(n)

    def enum(self, names):
        i = self.varint()
        if i >= len(names):
            self.fail(f"invalid variant index {i}")
        return names[i]

    def done(self):
        if self.i != len(self.d):
            self.fail(f"{len(self.d) - self.i} trailing bytes")

    # §2
    def authority(self):
        s = self.string()
        ok = 1 <= len(s.encode()) <= 64 and all(c.isascii() and (c.isalnum() or c in "._-") for c in s)
        if not ok:
            self.fail(f"invalid authority id {s!r}")
        return s

    def hash(self):
        return self.fixed(32)

    # §11.1 and §11.2
    def document(self):
        return {
            "digest": self.hash(),
            "size": self.varint(),
            "media_type": self.string(),
            "language": self.enum(["Kk", "Tk", "Ru"]),
            "role": self.docrole(),
        }

    def docrole(self):
        r = self.enum(["Original", "TranslationOf", "CertifiedCopy", "LegalProvisionText"])
        return (r, self.hash()) if r == "TranslationOf" else (r, None)

    def params(self):
        return {
            "oral_confirmation_ms": self.varint(),
            "refusal_notice_ms": self.varint(),
            "additional_info_ms": self.varint(),
            "termination_months": self.varint(),
            "authored_window_ms": self.varint(),
        }

    def info_kind(self):
        return self.enum(["OperationalSearch", "OperationalReference", "Forensic", "Archival"])

    def form(self):
        f = self.enum(["ExecuteRequest", "ExchangeInformation", "ExchangeExperience",
                       "ExchangeSpecialists", "ExchangeLegalActs", "Training"])
        return (f, self.info_kind()) if f == "ExchangeInformation" else (f, None)

    def category(self):
        c = self.enum(CATEGORIES)
        return (c, self.hash()) if c == "Other" else (c, None)

    def information(self):
        return {"item": self.fixed(16), "kind": self.info_kind(), "restricted": self.boolean(),
                "no_state_secret": self.boolean(), "documents": self.vec(self.document)}

    def request(self):
        elements = {
            "requested_authority": self.option(self.authority),
            "grounds": self.option(self.document),
            "requesting_service": self.string(),
            "requested_service": self.string(),
            "case_description": self.option(self.document),
            "content": self.option(self.document),
            "decision_copy": self.option(self.document),
            "legal_provision": self.option(self.document),
        }
        return {
            "elements": elements,
            "category": self.category(),
            "form": self.form(),
            "wanted_person_search": self.boolean(),
            "purposes": self.vec(self.string),
            "urgent": self.boolean(),
            "oral": self.boolean(),
            "documents": self.vec(self.document),
            "language_arrangement": self.option(self.hash),
        }


CATEGORIES = ["OrganisedCrime", "TerrorismExtremism", "ProliferationFinancing", "AgainstPerson",
              "Weapons", "Narcotics", "TraffickingMigration", "Counterfeiting", "CulturalProperty",
              "Property", "Corruption", "Economic", "MoneyLaundering", "Cyber", "Other"]
PARTIES = ["Kz", "Tm"]
ROLES = ["Root", "Competent", "Auditor", "Witness"]
GROUNDS = ["Sovereignty", "Security", "PublicOrder", "StatePower", "EssentialInterests",
           "NationalLaw", "InternationalObligations"]
EXTENT = ["Full", "Partial"]
OUTCOMES = ["Found", "Detained", "Arrested", "InformationProvided", "NotFound"]


def decode_payload(data):
    """The payload catalogue of FORMAT.md §11.3: (variant name, fields)."""
    d = Decoder(data, "payload")
    doc, s, h, a, item = d.document, d.string, d.hash, d.authority, (lambda: d.fixed(16))
    catalogue = [
        ("Genesis", lambda: {
            "roots": d.vec(lambda: {"party": d.enum(PARTIES), "authority": a(), "key": d.fixed(32)}),
            "agreement_texts": d.vec(doc), "params": d.params(), "node_key": d.fixed(32),
            "test_ledger": d.boolean()}),
        ("GenesisAccepted", dict),
        ("AuthorityDesignated", lambda: {"authority": a(), "key": d.fixed(32), "name": s()}),
        ("AuthorityKeyChanged", lambda: {"authority": a(), "new_key": d.fixed(32)}),
        ("AuthorityRetired", lambda: {"authority": a()}),
        ("KeyRevoked", lambda: {"authority": a(), "key": d.fixed(32)}),
        ("ObserverRegistered", lambda: {"id": a(), "role": d.enum(ROLES), "key": d.fixed(32)}),
        ("InternalProceduresCompleted", lambda: {"authorities": d.vec(a)}),
        ("TerminationNotice", dict),
        ("ProtocolProposed", lambda: {"id": d.varint(), "text": doc(), "params": d.params(),
                                      "effective_from": d.varint()}),
        ("ProtocolAccepted", lambda: {"id": d.varint()}),
        ("CategoryAgreed", lambda: {"with": a(), "description": s()}),
        ("Request", d.request),
        ("OralRequestConfirmed", lambda: {"documents": d.vec(doc)}),
        ("Acknowledged", dict),
        ("AdditionalInfoRequested", lambda: {"documents": d.vec(doc)}),
        ("AdditionalInfoProvided", lambda: {"information": d.information()}),
        ("Refused", lambda: {"extent": d.enum(EXTENT), "grounds": d.vec(lambda: d.enum(GROUNDS)),
                             "reasons": d.vec(doc)}),
        ("ExecutionReported", lambda: {"extent": d.enum(EXTENT), "reasons": d.vec(doc),
                                       "search_outcome": d.option(lambda: d.enum(OUTCOMES)),
                                       "results": d.vec(d.information)}),
        ("InformationTransferred", lambda: {
            "item": item(), "recipient": a(), "kind": d.info_kind(), "restricted": d.boolean(),
            "permitted_purposes": d.vec(s), "no_state_secret": d.boolean(), "documents": d.vec(doc)}),
        ("InformationUsed", lambda: {"item": item(), "purpose": s()}),
        ("ConsentRequested", lambda: {"item": item(), "third_party": d.option(s), "purposes": d.vec(s)}),
        ("ConsentGranted", lambda: {"item": item(), "third_party": d.option(s), "purposes": d.vec(s),
                                    "documents": d.vec(doc)}),
        ("ConsentDenied", lambda: {"item": item(), "third_party": d.option(s)}),
        ("OnwardTransfer", lambda: {"item": item(), "third_party": s(), "consent": h()}),
        ("CostRecorded", lambda: {"amount_minor": d.varint(), "currency": s()}),
        ("CostArrangementProposed", lambda: {"terms": doc()}),
        ("CostArrangementAccepted", lambda: {"proposal": h()}),
        ("LanguageArrangementProposed", lambda: {"with": a(), "languages": d.vec(lambda: d.enum(["Kk", "Tk", "Ru"]))}),
        ("LanguageArrangementAccepted", lambda: {"proposal": h()}),
        ("DisputeRaised", lambda: {"dispute": d.varint(), "subject": doc()}),
        ("ConsultationHeld", lambda: {"dispute": d.varint(), "minutes": doc()}),
        ("DisputeSettled", lambda: {"dispute": d.varint(), "outcome": doc()}),
        ("OtherCooperation", lambda: {"form": d.form(), "with": a(), "summary": doc()}),
        ("CaseClosed", dict),
        ("ProtocolProceduresCompleted", lambda: {"id": d.varint()}),
        ("NodeHandoverProposed", lambda: {"id": d.varint(), "key": d.fixed(32),
                                          "retire_old_from": d.option(d.varint)}),
        ("NodeHandoverAccepted", lambda: {"id": d.varint()}),
    ]
    name = d.enum([n for n, _ in catalogue])
    fields = dict(catalogue)[name]()
    d.done()
    return name, fields


GOVERNANCE = {"Genesis", "GenesisAccepted", "AuthorityDesignated", "AuthorityKeyChanged",
              "AuthorityRetired", "KeyRevoked", "ObserverRegistered", "InternalProceduresCompleted",
              "TerminationNotice", "ProtocolProposed", "ProtocolAccepted",
              "ProtocolProceduresCompleted", "NodeHandoverProposed", "NodeHandoverAccepted"}
NOT_IN_CASES = GOVERNANCE | {"CategoryAgreed", "LanguageArrangementProposed",
                             "LanguageArrangementAccepted", "OtherCooperation"}


def decode_record(data, seq):
    """A record (§6) and its event (§4, §5); returns a dict with the body's bytes."""
    d = Decoder(data, f"record {seq}")
    r = {"seq": d.varint(), "prev_chain": d.hash(), "received_at": d.varint(),
         "governance": d.hash()}
    start = d.i
    body = {"version": d.varint(), "ledger_id": d.option(d.hash), "event_id": d.fixed(16),
            "authority": d.authority(), "key": d.fixed(32), "authored_at": d.varint(),
            "case": d.option(lambda: (d.fixed(16), d.varint())),
            "answers": d.vec(d.hash), "payload": d.take(d.varint())}
    r["body_bytes"] = data[start:d.i]
    r["signature"] = d.fixed(64)
    d.done()
    r["body"] = body
    if body["version"] != 2:
        raise Refused(f"record {seq}: body format version {body['version']}, not 2")
    if len(body["answers"]) > 64 or len(body["payload"]) > 65536:
        raise Refused(f"record {seq}: too many answers or too large a payload")
    return r


# ---------------------------------------------------------------- the registry (§11.5)

class Registry:
    def __init__(self):
        self.parties = {}   # id -> party
        self.roles = {}     # id -> role
        self.grants = {}    # id -> list of [key, from, until]
        self.retired = {}   # id -> seq from which it is retired
        self.node_keys = []   # [key, first size it signs, first size it no longer signs]
        self.handovers = {}   # id -> [proposer party, key, retire_old_from, accepted]
        self.accepted = False
        self.proposer = None
        self.procedures = {}  # party -> received_at
        self.terminated = False
        self.protocols = {}   # id -> [proposer party, params, effective_from, accepted_at]
        self.genesis_params = None

    def active(self, who, key, seq):
        if who in self.retired and seq >= self.retired[who]:
            return False
        return any(k == key and f <= seq and (u is None or seq < u)
                   for k, f, u in self.grants.get(who, []))

    def key_in_use(self, key):
        return any(k == key for k, _, _ in self.node_keys) \
            or any(k == key for g in self.grants.values() for k, _, _ in g)

    def node_keys_at(self, size):
        return [k for k, f, u in self.node_keys if f <= size and (u is None or size < u)]

    def params_at(self, t):
        chosen = self.genesis_params
        in_force = sorted((max(eff, acc), pid, params)
                          for pid, (_, params, eff, acc) in self.protocols.items()
                          if acc is not None and max(eff, acc) <= t)
        if in_force:
            chosen = in_force[-1][2]
        return chosen

    def in_force_from(self):
        if len(self.procedures) == 2:
            return max(self.procedures.values())
        return None


def new_key(reg, key, seq):
    why = check_key(key)
    if why:
        raise Refused(f"record {seq}: Art. 3: key {key.hex()} is {why}")
    if reg.key_in_use(key):
        raise Refused(f"record {seq}: Art. 3: key {key.hex()} is already registered")


def own(reg, root, who, seq):
    if who not in reg.parties:
        raise Refused(f"record {seq}: Art. 3: {who} is not registered")
    if reg.parties[who] != reg.parties[root] or reg.roles[who] == "Root":
        raise Refused(f"record {seq}: Art. 3: {root} may not change {who}")
    if who in reg.retired:
        raise Refused(f"record {seq}: Art. 3: {who} is retired")


def apply_registry(reg, r, name, p, seq, event_hash):
    """Judges the signer and every registration of §11.5; updates the registry."""
    who, key, at = r["body"]["authority"], r["body"]["key"], r["received_at"]
    if seq == 0:
        if name != "Genesis":
            raise Refused("record 0: Art. 10: the first record must be the genesis")
        parties = sorted(x["party"] for x in p["roots"])
        if parties != ["Kz", "Tm"] or len({x["authority"] for x in p["roots"]}) != 2 \
                or len({x["key"] for x in p["roots"]}) != 2:
            raise Refused("record 0: Art. 10: one root of each Party, different ids and keys")
        for x in p["roots"]:
            why = check_key(x["key"])
            if why:
                raise Refused(f"record 0: Art. 3: root key {x['key'].hex()} is {why}")
        why = check_key(p["node_key"])
        if why or any(x["key"] == p["node_key"] for x in p["roots"]):
            raise Refused(f"record 0: Art. 10: the node key {why or 'is a root key'}")
        signer = [x for x in p["roots"] if x["authority"] == who and x["key"] == key]
        if not signer:
            raise Refused("record 0: Art. 10: the genesis is not signed by one of its roots")
        langs = {t["language"] for t in p["agreement_texts"] if t["role"][0] == "Original"}
        if langs != {"Kk", "Tk", "Ru"}:
            raise Refused("record 0: Art. 10: the genesis lacks a text's digest")
        for x in p["roots"]:
            reg.parties[x["authority"]] = x["party"]
            reg.roles[x["authority"]] = "Root"
            reg.grants[x["authority"]] = [[x["key"], 0, None]]
        reg.node_keys.append([p["node_key"], 0, None])
        reg.proposer = signer[0]["party"]
        reg.genesis_params = p["params"]
        return
    if who not in reg.roles:
        raise Refused(f"record {seq}: Art. 3: {who} is not registered")
    if not reg.active(who, key, seq):
        raise Refused(f"record {seq}: Art. 3: the key is not an active key of {who} here")
    role, party = reg.roles[who], reg.parties[who]
    if not reg.accepted and name != "GenesisAccepted":
        raise Refused(f"record {seq}: Art. 10: the genesis is not accepted yet")
    if name in GOVERNANCE:
        if role != "Root":
            raise Refused(f"record {seq}: Art. 3: {name} needs a root's key")
    elif role != "Competent":
        raise Refused(f"record {seq}: Art. 3: {name} needs a competent authority")
    elif reg.in_force_from() is None or reg.in_force_from() > at:
        raise Refused(f"record {seq}: Art. 10: not in force")
    nxt = seq + 1
    if name == "Genesis":
        raise Refused(f"record {seq}: Art. 10: a second genesis")
    elif name == "GenesisAccepted":
        if reg.accepted or party == reg.proposer:
            raise Refused(f"record {seq}: Art. 10: the acceptance must come once, from the other root")
        reg.accepted = True
    elif name in ("AuthorityDesignated", "ObserverRegistered"):
        new_id = p["authority"] if name == "AuthorityDesignated" else p["id"]
        if new_id in reg.roles:
            raise Refused(f"record {seq}: Art. 3: {new_id} is already registered")
        if name == "AuthorityDesignated" and not p["name"].strip():
            raise Refused(f"record {seq}: Art. 3: a designation needs a name")
        if name == "ObserverRegistered" and p["role"] not in ("Auditor", "Witness"):
            raise Refused(f"record {seq}: Art. 3: only auditors and witnesses")
        new_key(reg, p["key"], seq)
        reg.parties[new_id] = party
        reg.roles[new_id] = "Competent" if name == "AuthorityDesignated" else p["role"]
        reg.grants[new_id] = [[p["key"], nxt, None]]
    elif name == "AuthorityKeyChanged":
        own(reg, who, p["authority"], seq)
        new_key(reg, p["new_key"], seq)
        for g in reg.grants[p["authority"]]:
            if g[2] is None:
                g[2] = nxt
        reg.grants[p["authority"]].append([p["new_key"], nxt, None])
    elif name == "AuthorityRetired":
        own(reg, who, p["authority"], seq)
        reg.retired[p["authority"]] = nxt
    elif name == "KeyRevoked":
        own(reg, who, p["authority"], seq)
        if not reg.active(p["authority"], p["key"], seq):
            raise Refused(f"record {seq}: Art. 3: the revoked key is not active")
        for g in reg.grants[p["authority"]]:
            if g[0] == p["key"] and g[2] is None:
                g[2] = nxt
    elif name == "InternalProceduresCompleted":
        if party in reg.procedures or not p["authorities"]:
            raise Refused(f"record {seq}: Art. 10: one notification per Party, listing its authorities")
        for x in p["authorities"]:
            if reg.parties.get(x) != party or reg.roles.get(x) != "Competent":
                raise Refused(f"record {seq}: Art. 3: {x} is not a competent authority of {party}")
        reg.procedures[party] = at
    elif name == "TerminationNotice":
        if reg.terminated or reg.in_force_from() is None:
            raise Refused(f"record {seq}: Art. 10: termination once, while in force")
        reg.terminated = True
    elif name == "ProtocolProposed":
        if p["id"] in reg.protocols:
            raise Refused(f"record {seq}: Art. 9: protocol {p['id']} exists")
        reg.protocols[p["id"]] = [party, p["params"], p["effective_from"], None]
    elif name == "ProtocolAccepted":
        pr = reg.protocols.get(p["id"])
        if pr is None or pr[3] is not None or pr[0] == party:
            raise Refused(f"record {seq}: Art. 9: no protocol {p['id']} for this root to accept")
        pr[3] = at
    elif name == "NodeHandoverProposed":
        if p["id"] in reg.handovers:
            raise Refused(f"record {seq}: Art. 3: node handover {p['id']} exists")
        if p["retire_old_from"] is not None and p["retire_old_from"] <= seq + 1:
            raise Refused(f"record {seq}: Art. 3: the old node keys retired too early")
        new_key(reg, p["key"], seq)
        reg.handovers[p["id"]] = [party, p["key"], p["retire_old_from"], False]
    elif name == "NodeHandoverAccepted":
        h = reg.handovers.get(p["id"])
        if h is None or h[3] or h[0] == party:
            raise Refused(f"record {seq}: Art. 3: no node handover {p['id']} for this root to accept")
        if h[2] is not None and h[2] <= seq:
            raise Refused(f"record {seq}: Art. 3: the handover retires the old keys from a size passed")
        new_key(reg, h[1], seq)
        h[3] = True
        for k in reg.node_keys:
            if h[2] is not None and k[2] is None:
                k[2] = h[2]
        reg.node_keys.append([h[1], nxt, None])


# ---------------------------------------------------------------- checkpoints (§8)

def parse_note(text):
    if "\n\n" not in text:
        raise Refused("a checkpoint note without a blank line")
    body, sigs = text.rsplit("\n\n", 1)
    body += "\n"
    lines = []
    for line in sigs.rstrip("\n").split("\n"):
        if not line.startswith("\u2014 "):
            raise Refused("a malformed signature line")
        name, b64 = line[2:].split(" ", 1)
        raw = base64.b64decode(b64, validate=True)
        lines.append((name, raw[:4], raw[4:]))
    return body, lines


def key_id(name, typ, key):
    return hashlib.sha256(name.encode() + b"\n" + bytes([typ]) + key).digest()[:4]


def vkey(name, typ, key):
    return f"{name}+{key_id(name, typ, key).hex()}+{base64.b64encode(bytes([typ]) + key).decode()}"


def check_checkpoint(note, reg, ledger_id, leaves, chain, last_time, size):
    body, lines = parse_note(note)
    b = body.split("\n")
    origin = "coopledger/" + ledger_id.hex()
    if len(b) != 6 or b[0] != origin or b[1] != str(size) or not b[3].startswith("chain ") \
            or not b[4].startswith("time "):
        raise Refused(f"checkpoint at size {size}: not this ledger's checkpoint of this size")
    root = base64.b64decode(b[2], validate=True)
    head = base64.b64decode(b[3][6:], validate=True)
    time = int(b[4][5:])
    if body != f"{origin}\n{size}\n{base64.b64encode(root).decode()}\nchain {base64.b64encode(head).decode()}\ntime {time}\n":
        raise Refused(f"checkpoint at size {size}: not in canonical form")
    if root != merkle_root(leaves[:size]) or head != chain:
        raise Refused(f"checkpoint at size {size}: root or chain head differs from the records")
    if time < last_time:
        raise Refused(f"checkpoint at size {size}: dated before its last record")
    known = {(origin, key_id(origin, 0x01, k)): ("node", k) for k in reg.node_keys_at(size)}
    for w, role in reg.roles.items():
        if role == "Witness":
            for k, f, u in reg.grants[w]:
                if reg.active(w, k, size - 1):
                    known[(w, key_id(w, 0x04, k))] = ("witness", k)
    seen, node_ok, cosigned = set(), False, []
    for name, kid, sig in lines:
        if (name, kid) not in known:
            continue  # unknown keys are ignored
        if (name, kid) in seen:
            raise Refused(f"checkpoint at size {size}: {name} signed twice")
        seen.add((name, kid))
        kind, k = known[(name, kid)]
        if kind == "node":
            why = verify_sig(k, body.encode(), sig)
            node_ok = why is None
        else:
            t = int.from_bytes(sig[:8], "big")
            why = "time beyond 2^63 - 1" if t >= 2**63 else verify_sig(
                k, f"cosignature/v1\ntime {t}\n{body}".encode(), sig[8:])
            cosigned.append(name)
        if why:
            raise Refused(f"checkpoint at size {size}: {name}: {why}")
    if not node_ok:
        raise Refused(f"checkpoint at size {size}: not signed by the node key the genesis names")
    return cosigned


# ---------------------------------------------------------------- the export (§13)

def frames(data):
    magic = b"coopledger-export/v2\n"
    if not data.startswith(magic):
        raise Refused("not a coopledger export (v2)")
    i = len(magic)
    while i < len(data):
        if i + 5 > len(data):
            raise Refused("a truncated frame")
        tag, n = data[i], int.from_bytes(data[i + 1:i + 5], "big")
        if i + 5 + n > len(data):
            raise Refused("a truncated frame")
        yield chr(tag), data[i + 5:i + 5 + n]
        i += 5 + n


def verify(data, pinned=None):
    """Verifies an export (§13): its framing, then its records and checkpoints."""
    items, ended = [], False
    for n, (tag, payload) in enumerate(frames(data)):
        if ended:
            raise Refused("bytes after the end frame")
        if n == 0:
            if tag != "H":
                raise Refused("the first frame must be the header")
            continue
        if tag == "E":
            ended = payload
            continue
        if tag not in ("R", "C"):
            raise Refused(f"an unknown frame {tag!r}")
        items.append((tag, payload))
    if ended is False:
        raise Refused("the export ends without its end frame")
    out = verify_items(items, pinned)
    if int.from_bytes(ended, "big") != out[0]:
        raise Refused("the end frame's count differs from the records")
    return out


def verify_items(items, pinned=None):
    """Verifies a ledger given as records ("R", bytes) and, after the record that
    completes each one's tree, checkpoint notes ("C", bytes)."""
    reg, gov, chain, leaves, last_time, ledger_id = Registry(), bytes(32), bytes(32), [], 0, None
    records, checkpoints, cosigned, witnessed, cp_time = 0, 0, [], None, 0
    for tag, payload in items:
        if tag == "R":
            seq = records
            r = decode_record(payload, seq)
            if r["seq"] != seq or r["prev_chain"] != chain:
                raise Refused(f"record {seq}: out of place or not linked to record {seq - 1}")
            body = r["body"]
            name, p = decode_payload(body["payload"])
            event_hash = tagged(0x04, r["body_bytes"])
            if seq == 0:
                if body["ledger_id"] is not None:
                    raise Refused("record 0: the genesis names a ledger")
                ledger_id = tagged(0x03, r["body_bytes"])
            elif body["ledger_id"] != ledger_id:
                raise Refused(f"record {seq}: bound to another ledger")
            msg = b"coopledger/event/v2" + (ledger_id if seq else bytes(32)) + r["body_bytes"]
            why = verify_sig(body["key"], msg, r["signature"])
            if why:
                raise Refused(f"record {seq}: {why}")
            if r["governance"] != gov:
                raise Refused(f"record {seq}: the governance head is not the one the governance records give")
            if seq and r["received_at"] < last_time:
                raise Refused(f"record {seq}: Time: received before the previous record")
            window = (p["params"] if seq == 0 else reg.params_at(r["received_at"]))["authored_window_ms"]
            # §6: at most the window behind the receive time, at most 5 s (clock skew) ahead.
            if r["received_at"] - body["authored_at"] > window \
                    or body["authored_at"] - r["received_at"] > min(5000, window):
                raise Refused(f"record {seq}: Time: authored outside the window")
            if name in NOT_IN_CASES and (body["case"] is not None or body["answers"]):
                raise Refused(f"record {seq}: a {name} names a case or answers events")
            apply_registry(reg, r, name, p, seq, event_hash)
            if name in GOVERNANCE:
                gov = tagged(0x05, gov, seq.to_bytes(8, "big"), event_hash)
            leaf = tagged(0x00, payload)
            chain = tagged(0x02, chain, leaf)
            leaves.append(leaf)
            last_time = r["received_at"]
            records += 1
            if seq == 0 and pinned and pinned != vkey("coopledger/" + ledger_id.hex(), 0x01, p["node_key"]):
                raise Refused("record 0: the genesis does not name the node key you pinned")
        elif tag == "C":
            cosigned = check_checkpoint(payload.decode("utf-8"), reg, ledger_id, leaves, chain,
                                        last_time, records)
            t = int(parse_note(payload.decode("utf-8"))[0].split("\n")[4][5:])
            if t < cp_time:
                raise Refused(f"checkpoint at size {records}: dated before an earlier checkpoint")
            cp_time = t
            checkpoints += 1
            # The witness policy (§8): a witness of each Party among the cosigners.
            if {reg.parties.get(n) for n in cosigned} >= {"Kz", "Tm"}:
                witnessed = records
        else:
            raise Refused(f"an unknown item {tag!r}")
    if records == 0:
        raise Refused("no records")
    return records, checkpoints, cosigned, ledger_id, witnessed


# ---------------------------------------------------------------- the journal (§10.2)

JOURNAL_MAGIC = b"coopledger-journal/v1\n"


SKIPPED = []  # what the last journal read skipped (a torn tail), in words


def _complete_frame_after(data, p):
    """Whether a complete frame (valid kind, length, payload and checksum) starts after
    byte p: then what starts at p is damage, not a torn write (§10.2)."""
    if len(data) - p > 64 << 20:
        return True
    for q in range(p + 1, len(data) - 4):
        if chr(data[q]) not in "RC":
            continue
        n = int.from_bytes(data[q + 1:q + 5], "big")
        end = q + 5 + n + 16
        if end <= len(data) and blake3.blake3(data[q:q + 5 + n]).digest()[:16] == data[q + 5 + n:end]:
            return True
    return False


def journal_frames(store_dir):
    """Every frame of the journal of a store directory, checksums checked; a torn frame
    ends the reading only at the very end of the last segment, with nothing whole after it
    (§10.2); what it skipped is noted in SKIPPED."""
    SKIPPED.clear()
    jdir = os.path.join(store_dir, "journal")
    names = sorted(n for n in os.listdir(jdir)
                   if n.endswith(".log") and len(n) == 24 and n[:20].isdigit())
    for k, name in enumerate(names):
        last = k == len(names) - 1
        with open(os.path.join(jdir, name), "rb") as f:
            data = f.read()
        if not data.startswith(JOURNAL_MAGIC):
            if last and JOURNAL_MAGIC.startswith(data):
                return  # a segment created but never written
            raise Refused(f"journal segment {name} has no journal header")
        i = len(JOURNAL_MAGIC)

        def torn(at):
            if not last or _complete_frame_after(data, at):
                raise Refused(f"journal segment {name}: a damaged frame at byte {at} (not a torn write)")
            SKIPPED.append(f"a torn write of {len(data) - at} bytes at byte {at} of {name}, skipped")

        while i < len(data):
            if i + 5 > len(data):
                torn(i)
                return
            kind, n = data[i], int.from_bytes(data[i + 1:i + 5], "big")
            if chr(kind) not in "RC" or n > 1 << 30:
                raise Refused(f"journal segment {name}: a malformed frame at byte {i}")
            end = i + 5 + n + 16
            if end > len(data):
                torn(i)
                return
            if blake3.blake3(data[i:i + 5 + n]).digest()[:16] != data[i + 5 + n:end]:
                if end == len(data):
                    torn(i)
                    return
                raise Refused(f"journal segment {name} fails its checksum at byte {i}")
            yield chr(kind), data[i + 5:i + 5 + n]
            i = end


def note_size(note):
    body, _ = parse_note(note.decode("utf-8"))
    return int(body.split("\n")[1])


def journal_items(store_dir):
    """The ledger in a store directory's journal, as verify_items() takes it."""
    notes = {}
    for kind, payload in journal_frames(store_dir):
        if kind == "C":
            notes[note_size(payload)] = payload  # a later form replaces an earlier one
    items, nxt = [], 0
    for kind, payload in journal_frames(store_dir):
        if kind != "R":
            continue
        first, count = int.from_bytes(payload[:8], "big"), int.from_bytes(payload[8:12], "big")
        if first != nxt:
            raise Refused(f"the journal jumps from record {nxt} to {first}")
        i = 12
        for _ in range(count):
            n = int.from_bytes(payload[i:i + 4], "big")
            items.append(("R", payload[i + 4:i + 4 + n]))
            i += 4 + n
            nxt += 1
            if nxt in notes:
                items.append(("C", notes.pop(nxt)))
        if i != len(payload):
            raise Refused("a malformed records frame in the journal")
    return items


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 1
    pinned = argv[argv.index("--node-key") + 1] if "--node-key" in argv else None
    try:
        if os.path.isdir(argv[1]):
            data = None
        else:
            with open(argv[1], "rb") as f:
                data = f.read()
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    try:
        if data is None:
            n, c, cosigned, ledger, witnessed = verify_items(
                journal_items(os.path.join(argv[1], "store")), pinned)
        else:
            n, c, cosigned, ledger, witnessed = verify(data, pinned)
    except Refused as e:
        print(f"REFUSED: {e}", file=sys.stderr)
        return 3
    if witnessed is None and "--accept-node-word" not in argv:
        print(f"NOT WITNESSED: ledger {ledger.hex()} checks out ({n} records), but no checkpoint "
              "is cosigned by a witness of each Party: it rests on the node's word alone",
              file=sys.stderr)
        return 4
    word = (f"witnessed by both Parties up to record {witnessed - 1}" if witnessed
            else "on the node's word alone")
    for note in SKIPPED if data is None else []:
        print(f"note: the journal ends with {note}")
    print(f"VERIFIED (independently) ledger {ledger.hex()}, {word}: {n} records, {c} checkpoints; "
          f"the last cosigned by {', '.join(cosigned) or 'no witness'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
