"""The Python encoder against the golden vectors the Rust encoder is pinned by
(crates/treaty/tests/vectors/payloads.json): every payload variant, its event's body,
event hash and signature. A disagreement on any variant fails here."""

import json

import nacl.signing
import pytest

from conftest import REPO
from coopledger_client import PAYLOAD_NAMES, EncodeError, encode_body, encode_payload, signing_message
from coopledger_client.encoding import varint
from coopledger_client.proofs import event_hash

VECTORS = json.loads((REPO / "crates/treaty/tests/vectors/payloads.json").read_text())


def test_the_catalogue_is_the_vectors_in_order():
    assert PAYLOAD_NAMES == [v["name"] for v in VECTORS["vectors"]]


@pytest.mark.parametrize("v", VECTORS["vectors"], ids=lambda v: v["name"])
def test_payload_encodes_to_the_rust_bytes(v):
    assert encode_payload(v["json"]).hex() == v["payload"]


@pytest.mark.parametrize("v", VECTORS["vectors"], ids=lambda v: v["name"])
def test_event_body_hash_and_signature(v):
    e = v["event"]
    body = e["json"]["body"]
    body_bytes = encode_body(body)
    assert body_bytes.hex() == e["body"]
    assert event_hash(body_bytes).hex() == e["event_hash"]
    assert e["json"]["signature"] == e["signature"]
    msg = signing_message(body["ledger_id"], body_bytes)
    nacl.signing.VerifyKey(bytes.fromhex(e["key"])).verify(msg, bytes.fromhex(e["signature"]))


@pytest.mark.parametrize("n,hexed", [
    (0, "00"), (250, "fa"), (251, "fbfb00"), (65535, "fbffff"), (65536, "fc00000100"),
    (2**32 - 1, "fcffffffff"), (2**32, "fd0000000001000000"),
])
def test_varint_boundaries(n, hexed):
    assert varint(n).hex() == hexed


@pytest.mark.parametrize("payload,why", [
    ({"CostRecorded": {"amount_minor": 5, "currency": "KZT", "curency": "x"}}, "unknown field"),
    ({"CostRecorded": {"amount_minor": 5}}, "missing field"),
    ({"AuthorityRetired": {"authority": "KZ MVD"}}, "authority id"),
    ({"AuthorityRetired": {"authority": ""}}, "authority id"),
    ({"InformationUsed": {"item": "0A" * 16, "purpose": "x"}}, "hex"),
    ({"CostRecorded": {"amount_minor": -1, "currency": "KZT"}}, "unsigned"),
    ({"CostRecorded": {"amount_minor": 2**64, "currency": "KZT"}}, "64 bits"),
    ({"Acknowledged": {}}, "takes no value"),
    ("Request", "needs a value"),
    ("Nonsense", "unknown variant"),
    ({"Refused": {"extent": "Partial", "grounds": [True]}}, "variant name"),
])
def test_what_the_catalogue_does_not_allow_is_refused(payload, why):
    with pytest.raises(EncodeError, match=why):
        encode_payload(payload)


def test_defaults_are_the_rust_defaults():
    # An omitted defaulted field encodes as Rust reads it (serde default / Option None).
    full = {"ExecutionReported": {"extent": "Full", "reasons": [], "search_outcome": None, "results": []}}
    assert encode_payload({"ExecutionReported": {"extent": "Full"}}) == encode_payload(full)


def test_the_event_json_schema_accepts_every_vector_and_refuses_what_the_node_refuses():
    # docs/event.schema.json is generated from the Rust types: a Java or Go system can
    # validate its JSON before it prepares or signs anything.
    import copy

    import jsonschema

    schema = json.loads((REPO / "docs/event.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for v in VECTORS["vectors"]:
        validator.validate(v["event"]["json"])
    sample = VECTORS["vectors"][12]["event"]["json"]  # a Request
    for mutate in (
        lambda e: e["body"]["payload"]["Request"].update(urgnet=True),      # misspelt field
        lambda e: e["body"]["author"].update(authority="KZ MVD"),            # bad id
        lambda e: e["body"].update(event_id="0A" * 16),                      # upper-case hex
        lambda e: e["body"]["payload"]["Request"].update(category="Piracy"), # no such variant
        lambda e: e.update(signature="00"),                                  # short signature
    ):
        bad = copy.deepcopy(sample)
        mutate(bad)
        assert not validator.is_valid(bad)
