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
    assert records == 51
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


def _journal_from_fixture(tmp_path):
    """A store directory whose journal (FORMAT.md §10.2) holds the fixture ledger: one
    records frame per record, each checkpoint frame after its last record."""
    data = FIXTURE.read_bytes()
    out = bytearray(verify.JOURNAL_MAGIC)
    seq = 0

    def frame(kind, payload):
        head = kind.encode() + len(payload).to_bytes(4, "big") + payload
        return head + verify.blake3.blake3(head).digest()[:16]

    for tag, payload in verify.frames(data):
        if tag == "R":
            out += frame("R", seq.to_bytes(8, "big") + (1).to_bytes(4, "big")
                         + len(payload).to_bytes(4, "big") + payload)
            seq += 1
        elif tag == "C":
            out += frame("C", payload)
    store = tmp_path / "store"
    (store / "journal").mkdir(parents=True)
    seg = store / "journal" / ("0" * 20 + ".log")
    seg.write_bytes(bytes(out))
    return store, seg


def test_a_ledger_directory_s_journal_verifies_and_a_torn_tail_ends_it(tmp_path):
    store, seg = _journal_from_fixture(tmp_path)
    records, checkpoints, _, _ = verify.verify_items(verify.journal_items(str(store)))
    assert (records, checkpoints) == (51, 3)
    # A torn last frame (a write never acknowledged: here the last checkpoint's) ends
    # the journal before it.
    whole = seg.read_bytes()
    seg.write_bytes(whole[:-7])
    records, checkpoints, _, _ = verify.verify_items(verify.journal_items(str(store)))
    assert (records, checkpoints) == (51, 2)
    # A flipped byte inside is damage, not a torn tail.
    bad = bytearray(whole)
    bad[len(verify.JOURNAL_MAGIC) + 40] ^= 1
    seg.write_bytes(bytes(bad))
    with pytest.raises(verify.Refused, match="checksum"):
        verify.journal_items(str(store))
