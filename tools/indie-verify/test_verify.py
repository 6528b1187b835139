"""pytest: the independent verifier verifies the committed fixture ledger, refuses it when
any byte of a record is flipped, and judges every C2SP/CCTV Ed25519 vector as FORMAT.md
§2 says (the same verdicts as the Rust implementation's tests)."""

import json
import pathlib

import pytest

import verify

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/fixtures/ledger-v2.export"
VECTORS = ROOT / "crates/core/tests/vectors/ed25519vectors.json"


def test_the_fixture_verifies_independently():
    records, checkpoints, cosigned, _ = verify.verify(FIXTURE.read_bytes())
    assert records == 49
    assert checkpoints == 3
    assert cosigned == ["KZ-WITNESS", "TM-WITNESS"]


def test_a_pinned_node_key_must_be_the_genesis_s():
    data = FIXTURE.read_bytes()
    with pytest.raises(verify.Refused, match="pinned"):
        verify.verify(data, "coopledger/00+00000000+AQ==")


def test_every_flipped_byte_of_a_record_is_refused():
    data = FIXTURE.read_bytes()
    # The frames of record 20: skip the magic, then walk the frames.
    i, n, start, end = len(b"coopledger-export/v2\n"), -1, None, None
    while i < len(data):
        tag, size = data[i], int.from_bytes(data[i + 1:i + 5], "big")
        if chr(tag) == "R":
            n += 1
            if n == 20:
                start, end = i + 5, i + 5 + size
                break
        i += 5 + size
    assert start is not None
    for at in range(start, end):
        bad = bytearray(data)
        bad[at] ^= 0x01
        with pytest.raises(verify.Refused):
            verify.verify(bytes(bad))


def test_the_cctv_vectors_get_the_verdicts_of_format_section_2():
    vectors = json.loads(VECTORS.read_text())
    assert len(vectors) == 914
    for v in vectors:
        verdict = verify.verify_sig(bytes.fromhex(v["key"]), v["msg"].encode(), bytes.fromhex(v["sig"]))
        assert (verdict is None) == (not v["flags"]), (v["number"], v["flags"], verdict)
