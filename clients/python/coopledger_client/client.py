"""A client of one coopledger node (docs/API.md): submit events and check the node's
receipts, batches, signed reads, the record stream, and proofs against checkpoints.

Nothing the node says is taken on trust: receipts are checked against the node's key,
checkpoints against the same key, inclusion and consistency proofs against checkpoints.
Pin the node key (``node_vkey``) you got from the ledger's operator; without it, the
client takes the one ``/v1/info`` names (trust on first use).
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import nacl.signing

from . import events as ev
from .encoding import encode_batch, encode_body
from .httpsig import sign_request
from .proofs import (Checkpoint, ProofError, Receipt, Vkey, hashes, verify_checkpoint,
                     verify_consistency, verify_inclusion)


class NodeError(Exception):
    """The node answered with an error status. ``error`` is its stable word (``refused``,
    ``invalid``, ``id_reused``, ``unavailable``, ...); ``clause`` names the article for a
    refusal under the Agreement."""

    def __init__(self, status: int, error: str, message: str, clause: Optional[str] = None):
        super().__init__(f"{status} {error}: {message}")
        self.status, self.error, self.message, self.clause = status, error, message, clause

    @property
    def retryable(self) -> bool:
        """Resend the same signed event later: it lands once."""
        return self.status in (408, 502, 503, 504)

    @staticmethod
    def of(status: int, body: Any) -> "NodeError":
        if isinstance(body, dict):
            return NodeError(status, str(body.get("error", "unknown")),
                             str(body.get("message", "")), body.get("clause"))
        return NodeError(status, "unknown", str(body))


@dataclass
class Signer:
    """A registered party that signs reads: its id and key."""
    id: str
    key: nacl.signing.SigningKey


class Client:
    """A client of the node at ``base_url`` (``http://127.0.0.1:8080``). Not thread-safe:
    one client per thread (each keeps one keep-alive connection)."""

    def __init__(self, base_url: str, signer: Optional[Signer] = None,
                 node_vkey: Optional[str] = None, timeout: float = 30.0,
                 language: Optional[str] = None):
        u = urllib.parse.urlsplit(base_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base = base_url.rstrip("/")
        self.scheme = u.scheme
        self.authority = u.netloc.lower()
        self.signer = signer
        self.timeout = timeout
        self._pinned = Vkey.parse(node_vkey) if node_vkey else None
        self._info: Optional[Dict[str, Any]] = None
        self._conn: Optional[http.client.HTTPConnection] = None
        # Refusals under the Agreement in "ru", "kk", "tk" or "en" (Accept-Language);
        # the error's ``clause`` stays the language-neutral reference.
        self.language = language

    # ---------------------------------------------------------------- transport

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self.authority, timeout=self.timeout)
        return self._conn

    def _request(self, method: str, path: str, query: Optional[str] = None,
                 body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None,
                 signed: bool = False) -> Tuple[int, bytes, str]:
        target = path + (f"?{query}" if query else "")
        h = dict(headers or {})
        if self.language:
            h.setdefault("accept-language", self.language)
        for attempt in (1, 2):
            if signed:
                # A fresh nonce each try: a signed request is accepted once.
                h.update(self._sign(method, path, query))
            conn = self._connection()
            try:
                conn.request(method, target, body=body, headers=h)
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, data, resp.getheader("content-type") or ""
            except (http.client.HTTPException, ConnectionError, OSError):
                conn.close()
                self._conn = None
                # A kept-alive connection the node closed: try once on a new one. For an
                # append this is safe: the same signed event lands once.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _json(self, method: str, path: str, query: Optional[str] = None,
              body: Optional[bytes] = None, content_type: Optional[str] = None,
              signed: bool = False) -> Any:
        headers = {"content-type": content_type} if content_type else {}
        status, data, ctype = self._request(method, path, query, body, headers, signed)
        parsed: Any = json.loads(data) if ctype.startswith("application/json") else data.decode()
        if status != 200:
            raise NodeError.of(status, parsed)
        return parsed

    def _sign(self, method: str, path: str, query: Optional[str]) -> Dict[str, str]:
        if self.signer is None:
            raise ValueError("this client has no key to sign reads with")
        return sign_request(self.signer.key, self.signer.id, self.ledger_id(), method,
                            self.authority, path, query)

    # ---------------------------------------------------------------- who the node is

    def info(self, refresh: bool = False) -> Dict[str, Any]:
        """``/v1/info``: ledger id, node keys, size, role, clock."""
        if self._info is None or refresh:
            self._info = self._json("GET", "/v1/info")
        return self._info

    def ledger_id(self) -> str:
        lid = self.info()["ledger_id"]
        if lid is None:
            raise ValueError("the node has no ledger yet")
        return str(lid)

    def node_key(self) -> Vkey:
        """The key receipts and checkpoints must verify under: the pinned one, else
        the one ``/v1/info`` names."""
        if self._pinned is None:
            self._pinned = Vkey.parse(self.info()["node_vkey"])
        return self._pinned

    def now_ms(self) -> int:
        """The time to write as ``authored_at``: a test ledger's (moved) clock, else this
        machine's."""
        i = self.info(refresh=True)
        return int(i["time_ms"]) if i.get("test_ledger") else int(time.time() * 1000)

    # ---------------------------------------------------------------- building events

    def body(self, author: str, key: nacl.signing.SigningKey, payload: Any, **kw: Any) -> Dict[str, Any]:
        """An event body for this node's ledger (see :func:`events.body`)."""
        kw.setdefault("ledger_id", self.ledger_id())
        kw.setdefault("authored_at", self.now_ms())
        return ev.body(author, key, payload, **kw)

    def prepare(self, body: Dict[str, Any]) -> Dict[str, Any]:
        """``POST /v1/events/prepare``: the node's canonical bytes, signing message and
        event hash for an unsigned body."""
        return dict(self._json("POST", "/v1/events/prepare", body=json.dumps(body).encode(),
                               content_type="application/json"))

    def check(self, body: Dict[str, Any]) -> Dict[str, Any]:
        """``POST /v1/events/check``: every problem the Agreement's rules find with an
        unsigned body as the next record (``{ok, size, problems: [{clause, message}]}``,
        messages in this client's language); nothing is written. Check before signing."""
        headers = {"content-type": "application/json"}
        if self.language:
            headers["accept-language"] = self.language
        status, data, _ = self._request("POST", "/v1/events/check", None,
                                        json.dumps(body).encode(), headers)
        parsed = json.loads(data)
        if status != 200:
            raise NodeError.of(status, parsed)
        return dict(parsed)

    def sign_checked(self, body: Dict[str, Any], key: nacl.signing.SigningKey) -> ev.Event:
        """Encodes the body here, asks the node to prepare it, and signs only if both
        agree byte for byte: a careful client never signs bytes it did not compute."""
        local = encode_body(body)
        prepared = self.prepare(body)
        if prepared["body"] != local.hex():
            raise ProofError("the node's canonical bytes differ from this client's: not signed")
        event = ev.sign(body, key)
        if prepared["event_hash"] != event.event_hash:
            raise ProofError("the node's event hash differs from this client's: not signed")
        return event

    # ---------------------------------------------------------------- appending

    def submit(self, event: ev.Event, as_json: bool = False) -> Receipt:
        """Appends a signed event (its canonical bytes, or its JSON form) and checks the
        receipt: a checkpoint signed by the node, and this event's record proven in it.
        Answered once durable; a duplicate gets a receipt for its first record."""
        if as_json:
            data, ctype = json.dumps(event.to_json()).encode(), "application/json"
        else:
            data, ctype = event.to_bytes(), "application/octet-stream"
        r = Receipt.from_json(self._json("POST", "/v2/events", body=data, content_type=ctype))
        self._check(r, event)
        return r

    def _check(self, r: Receipt, event: ev.Event) -> None:
        """A receipt for ``event``: signed checkpoint, inclusion proof, the event's own
        record at its position."""
        if r.event_id != event.event_id:
            raise ProofError(f"the receipt is for event {r.event_id}, not {event.event_id}")
        r.verify(self.node_key(), event.to_bytes(), event.event_hash)

    def submit_until_answered(self, event: ev.Event, patience: float = 30.0,
                              on_retry: Optional[Callable[[Exception], None]] = None) -> Receipt:
        """:meth:`submit`, resending the *same* signed event while the answer is unknown
        (no connection, a timeout) or the node cannot append for now (408, 502, 503, 504:
        unavailable, storage full, may have landed), until ``patience`` seconds have
        passed. Safe because the event id is inside the signed bytes: an earlier try that
        landed answers its first receipt, and nothing is appended twice. Any other answer
        (a receipt, a refusal, a conflict) ends the loop."""
        start, pause = time.monotonic(), 0.1
        while True:
            try:
                return self.submit(event)
            except NodeError as e:
                if not e.retryable or time.monotonic() - start + pause > patience:
                    raise
                why: Exception = e
            except (OSError, http.client.HTTPException) as e:
                if time.monotonic() - start + pause > patience:
                    raise
                why = e
            if on_retry is not None:
                on_retry(why)
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def submit_batch(self, events: Sequence[ev.Event]) -> List[Union[Receipt, NodeError]]:
        """Appends many events in one request (``POST /v2/events:batch``): judged in
        order as if each were submitted alone; not atomic. Returns, per event, its checked
        receipt or the node's error for it."""
        answer = self._json("POST", "/v2/events:batch",
                            body=encode_batch([e.to_bytes() for e in events]),
                            content_type="application/octet-stream")
        results = answer["results"]
        if len(results) != len(events):
            raise ProofError(f"{len(results)} answers to a batch of {len(events)}")
        out: List[Union[Receipt, NodeError]] = []
        for e, item in zip(events, results):
            if item.get("receipt") is not None and item["status"] == 200:
                r = Receipt.from_json(item["receipt"])
                self._check(r, e)
                out.append(r)
            else:
                out.append(NodeError.of(int(item["status"]), item.get("error")))
        return out

    # ---------------------------------------------------------------- signed reads

    def read(self, path: str, query: Optional[str] = None) -> Any:
        """A signed GET of any read endpoint, as JSON."""
        return self._json("GET", path, query, signed=True)

    def case_version(self, case_id: str) -> int:
        """How many events a case has (what the next event's ``expected_version`` is)."""
        try:
            return int(self.read(f"/v1/cases/{case_id}")["case"]["version"])
        except NodeError as e:
            if e.status == 404:
                return 0
            raise

    def records(self, start: int = 0, limit: int = 1000) -> Dict[str, Any]:
        return dict(self.read("/v1/records", f"from={start}&limit={limit}"))

    def stream(self, start: int = 0, idle_timeout: float = 60.0) -> Iterator[Dict[str, Any]]:
        """Every record from ``start``, then each new one as it lands (server-sent
        events). Each is a record's JSON, with its canonical bytes in ``bytes``. The node
        sends a keep-alive comment every 15 s; a connection silent for ``idle_timeout``
        seconds raises ``TimeoutError`` (resume from the last seq + 1)."""
        query = f"from={start}"
        conn_cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(self.authority, timeout=idle_timeout)
        try:
            conn.request("GET", f"/v1/stream?{query}", headers=self._sign("GET", "/v1/stream", query))
            resp = conn.getresponse()
            if resp.status != 200:
                raise NodeError.of(resp.status, json.loads(resp.read() or b"{}"))
            data: List[str] = []
            while True:
                line = resp.readline()
                if not line:
                    return
                text = line.decode().rstrip("\r\n")
                if text.startswith("data:"):
                    data.append(text[5:].lstrip(" "))
                elif text == "" and data:
                    yield json.loads("\n".join(data))
                    data = []
        finally:
            conn.close()

    # ---------------------------------------------------------------- proofs

    def latest_checkpoint(self) -> Tuple[Checkpoint, str]:
        """The latest checkpoint, its node signature checked."""
        c = self.read("/v1/checkpoints/latest")
        return verify_checkpoint(c["note"], self.node_key()), c["note"]

    def checkpoint(self, size: int) -> Checkpoint:
        return verify_checkpoint(self.read(f"/v1/checkpoints/{size}")["note"], self.node_key())

    def prove_included(self, receipt: Receipt, checkpoint: Optional[Checkpoint] = None) -> Checkpoint:
        """Checks that a receipt's record is in a signed checkpoint (the latest if none
        is given): the checkpoint's signature and the inclusion proof. Returns it."""
        cp = checkpoint or self.latest_checkpoint()[0]
        if receipt.ledger_id != cp.origin.split("/", 1)[-1]:
            raise ProofError("the receipt is for another ledger")
        p = self.read("/v1/proofs/inclusion", f"seq={receipt.seq}&size={cp.size}")
        if p["leaf"] != receipt.leaf:
            raise ProofError("the proof is for another leaf")
        verify_inclusion(receipt.seq, cp.size, bytes.fromhex(receipt.leaf), hashes(p["proof"]), cp.root)
        return cp

    def prove_consistent(self, old: Checkpoint, new: Checkpoint) -> None:
        """Checks that ``new`` extends ``old``: the ledger was only appended to."""
        if old.size == new.size:
            if old.root != new.root:
                raise ProofError("two checkpoints of one size with different roots: a fork")
            return
        p = self.read("/v1/proofs/consistency", f"from={old.size}&to={new.size}")
        verify_consistency(old.size, new.size, hashes(p["proof"]), old.root, new.root)
