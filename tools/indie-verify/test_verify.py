"""pytest: the independent verifier verifies the committed fixture ledger, refuses it when
any byte of a record is flipped, and judges every C2SP/CCTV Ed25519 vector as FORMAT.md
§2 says (the same verdicts as the Rust implementation's tests)."""

import json
import pathlib

import pytest

import verify

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/fixtures/ledger-v2.export"
FIXTURE_2_1 = ROOT / "tests/fixtures/ledger-v2.1.export"
VECTORS = ROOT / "crates/core/tests/vectors/ed25519vectors.json"


def test_the_fixture_verifies_independently():
    records, checkpoints, cosigned, _ = verify.verify(FIXTURE.read_bytes())
    assert records == 51
    assert checkpoints == 3
    assert cosigned == ["KZ-WITNESS", "TM-WITNESS"]


def test_the_fixture_with_a_node_handover_verifies_independently():
    records, checkpoints, cosigned, _ = verify.verify(FIXTURE_2_1.read_bytes())
    assert records == 53
    assert checkpoints == 3
    assert cosigned == ["KZ-WITNESS", "TM-WITNESS"]


def test_a_checkpoint_by_a_retired_node_key_is_refused():
    """The fixture's handover retires the genesis's node key (the fixture's is the Ed25519
    key of the seed 9 * 32 bytes) from the size after its acceptance: its last checkpoint,
    re-signed with that key instead of the handover's, is refused."""
    import base64
    from nacl.signing import SigningKey

    old = SigningKey(bytes([9] * 32))
    data = FIXTURE_2_1.read_bytes()
    magic_end = data.index(b"\n") + 1
    frames = list(verify.frames(data))
    last = max(i for i, (tag, _) in enumerate(frames) if tag == "C")
    note = frames[last][1].decode()
    body, lines = note.split("\n\n", 1)
    origin = body.split("\n", 1)[0]
    sig = old.sign((body + "\n").encode()).signature
    kid = verify.key_id(origin, 0x01, bytes(old.verify_key))
    node_line = "\u2014 " + origin + " " + base64.b64encode(kid + sig).decode()
    witnesses = [l for l in lines.rstrip("\n").split("\n") if not l.startswith("\u2014 " + origin + " ")]
    forged = (body + "\n\n" + "\n".join([node_line] + witnesses) + "\n").encode()
    out = bytearray(data[:magic_end])
    for i, (tag, payload) in enumerate(frames):
        payload = forged if i == last else payload
        out += tag.encode() + len(payload).to_bytes(4, "big") + payload
    # The rebuilt file, unaltered, still verifies: only the signature is at stake.
    good = bytearray(data[:magic_end])
    for tag, payload in frames:
        good += tag.encode() + len(payload).to_bytes(4, "big") + payload
    assert verify.verify(bytes(good))[0] == 53
    with pytest.raises(verify.Refused):
        verify.verify(bytes(out))


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
