"""Signed events: a JSON body, its canonical bytes, and the author's signature."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence

import nacl.signing

from .encoding import EVENT_FORMAT_VERSION, encode_body, signing_message
from .proofs import event_hash


@dataclass(frozen=True)
class Event:
    """A signed event: its JSON body, the body's canonical bytes and the signature."""
    body: Dict[str, Any]
    body_bytes: bytes
    signature: bytes

    def to_bytes(self) -> bytes:
        """The signed event's canonical bytes (FORMAT.md §5): body || signature."""
        return self.body_bytes + self.signature

    def to_json(self) -> Dict[str, Any]:
        """The JSON form ``POST /v1/events`` accepts as application/json."""
        return {"body": self.body, "signature": self.signature.hex()}

    @property
    def event_id(self) -> str:
        return str(self.body["event_id"])

    @property
    def event_hash(self) -> str:
        """``blake3(0x04 || body)``, hex: what other events cite."""
        return event_hash(self.body_bytes).hex()


def new_id() -> str:
    """A fresh random 128-bit id (event, case or item), hex."""
    return os.urandom(16).hex()


def body(author: str, key: nacl.signing.SigningKey, payload: Any, *,
         ledger_id: Optional[str], case: Optional[str] = None, expected_version: int = 0,
         answers: Sequence[str] = (), event_id: Optional[str] = None,
         authored_at: Optional[int] = None) -> Dict[str, Any]:
    """An event body in JSON. ``ledger_id`` is None only for a genesis."""
    return {
        "version": EVENT_FORMAT_VERSION,
        "ledger_id": ledger_id,
        "event_id": event_id or new_id(),
        "author": {"authority": author, "key": bytes(key.verify_key).hex()},
        "authored_at": int(time.time() * 1000) if authored_at is None else authored_at,
        "case": None if case is None else {"case_id": case, "expected_version": expected_version},
        "answers": list(answers),
        "payload": payload,
    }


def sign(b: Dict[str, Any], key: nacl.signing.SigningKey) -> Event:
    """Encodes the body canonically and signs it. The key must be ``b["author"]["key"]``'s."""
    if bytes(key.verify_key).hex() != b["author"]["key"]:
        raise ValueError("the signing key is not the body's author key")
    body_bytes = encode_body(b)
    sig = key.sign(signing_message(b.get("ledger_id"), body_bytes)).signature
    return Event(body=b, body_bytes=body_bytes, signature=sig)
