"""A client that retries: against a stand-in node that answers 503 (``may_have_landed``)
twice and then a receipt, the client resends the same bytes and checks the receipt; it
gives up after its patience on a node that never answers, and never retries a refusal."""

import base64
import http.server
import json
import socket
import threading

import nacl.signing
import pytest

from coopledger_client import Client, NodeError, Receipt, body, new_id, sign
from coopledger_client.proofs import CHAIN, RECEIPT_FORMAT, Vkey, leaf_hash, tagged

LEDGER = "ab" * 32


def vkey_of(key):
    # The stand-in node's checkpoint key, under the ledger's key name.
    return str(Vkey(f"coopledger/{LEDGER}", bytes(key.verify_key)))


class StandIn(http.server.BaseHTTPRequestHandler):
    answers = []  # (status, body) to give, in order; then receipts
    bodies = []
    node = nacl.signing.SigningKey.generate()

    def log_message(self, *a):
        pass

    def do_POST(self):
        data = self.rfile.read(int(self.headers["content-length"]))
        StandIn.bodies.append(data)
        if StandIn.answers:
            status, answer = StandIn.answers.pop(0)
        else:
            status, answer = 200, receipt_of(StandIn.event, StandIn.node).__dict__
        out = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def receipt_of(event, node):
    """The stand-in's receipt: the event as record 0 of a one-record tree, proven in a
    checkpoint the stand-in signs (FORMAT.md §8, §12)."""
    zero = "00" * 32
    r = Receipt(RECEIPT_FORMAT, LEDGER, 0, event.event_id, event.event_hash, zero,
                1_700_000_000_000, zero, "", "", "", [])
    leaf = leaf_hash(r.record_bytes(event.to_bytes()))
    chain = tagged(CHAIN, bytes(32), leaf)
    v = Vkey(f"coopledger/{LEDGER}", bytes(node.verify_key))
    text = (f"{v.name}\n1\n{base64.b64encode(leaf).decode()}\n"
            f"chain {base64.b64encode(chain).decode()}\ntime 1700000000000\n")
    sig = node.sign(text.encode()).signature
    note = f"{text}\n\u2014 {v.name} {base64.b64encode(v.key_id() + sig).decode()}\n"
    return Receipt(**{**r.__dict__, "leaf": leaf.hex(), "chain": chain.hex(), "checkpoint": note})


@pytest.fixture
def stand_in():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def event():
    key = nacl.signing.SigningKey.generate()
    return sign(body("KZ-MVD", key, "Acknowledged", ledger_id=LEDGER,
                     case=new_id(), expected_version=1), key)


def test_retries_resend_the_same_bytes_until_a_checked_receipt(stand_in):
    StandIn.event = event()
    StandIn.bodies = []
    StandIn.answers = [(503, {"error": "may_have_landed", "message": "storage failed"}),
                       (503, {"error": "unavailable", "message": "restarting"})]
    c = Client(stand_in, node_vkey=vkey_of(StandIn.node))
    retries = []
    r = c.submit_until_answered(StandIn.event, patience=10, on_retry=retries.append)
    assert r.event_id == StandIn.event.event_id
    assert len(retries) == 2 and all(isinstance(e, NodeError) for e in retries)
    assert StandIn.bodies == [StandIn.event.to_bytes()] * 3


def test_a_refusal_is_not_retried_and_a_bad_receipt_is_not_accepted(stand_in):
    StandIn.event = event()
    StandIn.bodies = []
    StandIn.answers = [(422, {"error": "refused", "clause": "Art. 4.3", "message": "no"})]
    c = Client(stand_in, node_vkey=vkey_of(StandIn.node))
    with pytest.raises(NodeError) as e:
        c.submit_until_answered(StandIn.event, patience=10)
    assert e.value.clause == "Art. 4.3" and len(StandIn.bodies) == 1
    # A receipt signed by another key does not verify.
    other = Client(stand_in, node_vkey=vkey_of(nacl.signing.SigningKey.generate()))
    StandIn.answers = []
    with pytest.raises(ValueError):
        other.submit(StandIn.event)
    # Nor does one for another event, or with its record changed.
    good = receipt_of(StandIn.event, StandIn.node)
    node = Vkey.parse(vkey_of(StandIn.node))
    good.verify(node, StandIn.event.to_bytes(), StandIn.event.event_hash)
    with pytest.raises(ValueError):
        good.verify(node, event().to_bytes())
    for change in ({"received_at": good.received_at + 1}, {"seq": 1}, {"proof": ["00" * 32]},
                   {"format": "coopledger/receipt/v1"}, {"chain": "00" * 32}):
        bad = Receipt(**{**good.__dict__, **change})
        with pytest.raises(ValueError):
            bad.verify(node, StandIn.event.to_bytes())


def test_patience_runs_out_on_a_node_that_never_answers():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    c = Client(f"http://127.0.0.1:{port}", node_vkey=vkey_of(StandIn.node))
    retries = []
    with pytest.raises(OSError):
        c.submit_until_answered(event(), patience=0.5, on_retry=retries.append)
    assert retries, "it retried before giving up"
