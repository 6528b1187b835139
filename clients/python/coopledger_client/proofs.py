"""Hashes, the Merkle tree and its proofs, receipts and checkpoints (docs/FORMAT.md §3,
§7, §8, §12): what a client checks so that it need not trust the node."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import blake3
import nacl.exceptions
import nacl.signing

from .encoding import varint

LEAF, NODE, CHAIN, LEDGER_ID, EVENT = 0x00, 0x01, 0x02, 0x03, 0x04
RECEIPT_FORMAT = "coopledger/receipt/v2"


class ProofError(ValueError):
    """The node's answer does not verify: do not trust it."""


def tagged(tag: int, *parts: bytes) -> bytes:
    """``blake3(tag || parts...)`` (§3)."""
    h = blake3.blake3(bytes([tag]))
    for p in parts:
        h.update(p)
    return h.digest()


def event_hash(body_bytes: bytes) -> bytes:
    return tagged(EVENT, body_bytes)


def ledger_id_of_genesis(body_bytes: bytes) -> bytes:
    return tagged(LEDGER_ID, body_bytes)


def leaf_hash(record_bytes: bytes) -> bytes:
    return tagged(LEAF, record_bytes)


def verify_sig(key: bytes, message: bytes, signature: bytes, what: str) -> None:
    try:
        nacl.signing.VerifyKey(key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError) as e:
        raise ProofError(f"{what}: the signature does not verify ({e})") from e


# ------------------------------------------------------------------ Merkle proofs (§7)

def _split(n: int) -> int:
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2 with blake3 and the tags of §3."""
    if index >= size:
        raise ProofError(f"record {index} is not in a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = tagged(NODE, p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = tagged(NODE, r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """RFC 9162 §2.1.4.2 with blake3. A proof from size 0 proves nothing and is refused."""
    if size1 == 0 or size1 > size2:
        raise ProofError(f"no consistency proof from {size1} to {size2}")
    if size1 == size2:
        if proof or root1 != root2:
            raise ProofError("equal sizes with different roots")
        return
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the old root starts the path
        path.insert(0, root1)
    if not path:
        raise ProofError("empty consistency proof")
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = tagged(NODE, c, fr)
            sr = tagged(NODE, c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = tagged(NODE, sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != root1 or sr != root2:
        raise ProofError("consistency proof does not lead to both roots")


# ------------------------------------------------------------------ receipts (§12)

@dataclass(frozen=True)
class Receipt:
    """Where an event landed, with a checkpoint the node signed once it was durable and
    the record's inclusion proof in it (receipt v2): it proves, with nothing asked of
    the node, that the event is in the ledger the node signed."""
    format: str
    ledger_id: str
    seq: int
    event_id: str
    event_hash: str
    prev_chain: str
    received_at: int
    governance: str
    leaf: str
    chain: str
    checkpoint: str
    proof: List[str]

    @staticmethod
    def from_json(j: Dict[str, Any]) -> "Receipt":
        unknown = set(j) - set(Receipt.__dataclass_fields__)
        if unknown:
            raise ProofError(f"a receipt with unknown fields {sorted(unknown)}")
        return Receipt(**{k: j[k] for k in Receipt.__dataclass_fields__})

    def same_record(self, other: "Receipt") -> bool:
        """The same record (a retry's receipt), proven perhaps in another checkpoint."""
        key = ("ledger_id", "seq", "event_id", "event_hash", "leaf", "chain")
        return all(getattr(self, k) == getattr(other, k) for k in key)

    def record_bytes(self, event_bytes: bytes) -> bytes:
        """The record (§6) of the signed event ``event_bytes`` at this position."""
        return (varint(self.seq) + bytes.fromhex(self.prev_chain) + varint(self.received_at)
                + bytes.fromhex(self.governance) + event_bytes)

    def verify(self, node: "Vkey", event_bytes: Optional[bytes] = None,
               event_hash_hex: Optional[str] = None) -> "Checkpoint":
        """The checkpoint is signed by the node's key and is of this ledger; it covers
        the record; the chain hash follows; the proof leads from the leaf to its root;
        and (given the signed event's bytes) the record of this event at this position
        hashes to the leaf. Returns the checkpoint."""
        if self.format != RECEIPT_FORMAT:
            raise ProofError(f"receipt format {self.format!r}, not {RECEIPT_FORMAT!r}")
        if node.name != f"coopledger/{self.ledger_id}":
            raise ProofError("the receipt is for another ledger than the node key's")
        cp = verify_checkpoint(self.checkpoint, node)
        if cp.origin != f"coopledger/{self.ledger_id}":
            raise ProofError("the receipt's checkpoint is of another ledger")
        if self.seq >= cp.size:
            raise ProofError(f"the checkpoint covers {cp.size} records, not record {self.seq}")
        leaf, chain = bytes.fromhex(self.leaf), bytes.fromhex(self.chain)
        if tagged(CHAIN, bytes.fromhex(self.prev_chain), leaf) != chain or (
                self.seq + 1 == cp.size and cp.chain != chain):
            raise ProofError("the receipt's chain hash does not follow from its record")
        verify_inclusion(self.seq, cp.size, leaf, hashes(self.proof), cp.root)
        if event_hash_hex is not None and event_hash_hex != self.event_hash:
            raise ProofError("the receipt is for another event hash")
        if event_bytes is not None and leaf_hash(self.record_bytes(event_bytes)) != leaf:
            raise ProofError("the receipt's leaf is not the record of this event")
        return cp


# ------------------------------------------------------------------ checkpoints (§8)

@dataclass(frozen=True)
class Vkey:
    """A C2SP verifier key: ``name+<key id>+base64(type || key)``."""
    name: str
    key: bytes

    @staticmethod
    def parse(s: str) -> "Vkey":
        parts = s.split("+", 2)
        if len(parts) != 3:
            raise ProofError(f"not a verifier key: {s!r}")
        name, kid, b64 = parts
        raw = base64.b64decode(b64, validate=True)
        if len(raw) != 33 or raw[0] != 0x01:
            raise ProofError("not an Ed25519 note key")
        v = Vkey(name, raw[1:])
        if v.key_id().hex() != kid:
            raise ProofError("the key id does not match the key")
        return v

    def __str__(self) -> str:
        key = base64.b64encode(bytes([0x01]) + self.key).decode()
        return f"{self.name}+{self.key_id().hex()}+{key}"

    def key_id(self) -> bytes:
        return hashlib.sha256(self.name.encode() + b"\n\x01" + self.key).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    chain: bytes
    time_ms: int


def verify_checkpoint(note: str, node: Vkey) -> Checkpoint:
    """The node's signature on a checkpoint note, and its body (§8). Cosignature lines
    of other keys are ignored here; the node's key must sign once."""
    text, sep, sigs = note.partition("\n\n")
    if not sep:
        raise ProofError("a note needs a blank line before its signatures")
    text += "\n"
    found = 0
    for line in sigs.splitlines():
        if not line.startswith("\u2014 "):
            raise ProofError(f"not a signature line: {line!r}")
        name, _, b64 = line[2:].partition(" ")
        raw = base64.b64decode(b64, validate=True)
        if name == node.name and raw[:4] == node.key_id():
            verify_sig(node.key, text.encode(), raw[4:], "checkpoint")
            found += 1
    if found != 1:
        raise ProofError(f"the checkpoint carries {found} signatures of the node key, not 1")
    lines = text.split("\n")
    if len(lines) < 6 or lines[0] != node.name:
        raise ProofError("the checkpoint's origin is not the node key's name")
    if not lines[3].startswith("chain ") or not lines[4].startswith("time "):
        raise ProofError("the checkpoint lacks its chain and time lines")
    return Checkpoint(origin=lines[0], size=int(lines[1]),
                      root=base64.b64decode(lines[2], validate=True),
                      chain=base64.b64decode(lines[3][6:], validate=True),
                      time_ms=int(lines[4][5:]))


def hashes(hex_list: List[str]) -> List[bytes]:
    return [bytes.fromhex(h) for h in hex_list]
