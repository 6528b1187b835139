"""pytest: the independent verifier verifies the committed fixture ledger, refuses it when
any byte of a record is flipped, and judges every C2SP/CCTV Ed25519 vector as FORMAT.md
§2 says (the same verdicts as the Rust implementation's tests), and agrees with
`coopledger verify` (COOPLEDGER_BIN) on a suite of mutations: every finding of issue 28
that an export can carry."""

import json
import pathlib

import pytest

import verify

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/fixtures/ledger-v2.export"
FIXTURE_2_1 = ROOT / "tests/fixtures/ledger-v2.1.export"
VECTORS = ROOT / "crates/core/tests/vectors/ed25519vectors.json"


def test_the_fixture_verifies_independently():
    records, checkpoints, cosigned, _, witnessed = verify.verify(FIXTURE.read_bytes())
    assert witnessed == records
    assert records == 51
    assert checkpoints == 3
    assert cosigned == ["KZ-WITNESS", "TM-WITNESS"]


def test_the_fixture_with_a_node_handover_verifies_independently():
    records, checkpoints, cosigned, _, witnessed = verify.verify(FIXTURE_2_1.read_bytes())
    assert witnessed == records
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
    records, checkpoints, _, _, _ = verify.verify_items(verify.journal_items(str(store)))
    assert (records, checkpoints) == (51, 3)
    # A torn last frame (a write never acknowledged: here the last checkpoint's) ends
    # the journal before it.
    whole = seg.read_bytes()
    seg.write_bytes(whole[:-7])
    records, checkpoints, _, _, _ = verify.verify_items(verify.journal_items(str(store)))
    assert (records, checkpoints) == (51, 2)
    # And the verifier says what it skipped.
    assert verify.SKIPPED and "torn write" in verify.SKIPPED[0]
    # Issue 28, finding 7: a length byte flipped mid-journal is damage — complete frames
    # follow it — not a torn tail (a prefix was verified).
    flipped = bytearray(whole)
    flipped[len(verify.JOURNAL_MAGIC) + 2] ^= 1
    seg.write_bytes(bytes(flipped))
    with pytest.raises(verify.Refused, match="not a torn write"):
        verify.journal_items(str(store))
    # A flipped byte inside is damage, not a torn tail.
    bad = bytearray(whole)
    bad[len(verify.JOURNAL_MAGIC) + 40] ^= 1
    seg.write_bytes(bytes(bad))
    with pytest.raises(verify.Refused, match="checksum"):
        verify.journal_items(str(store))


# ---------------------------------------------------------------- agreement with coopledger

import os
import subprocess

from nacl.signing import SigningKey

NODE = SigningKey(bytes([9] * 32))  # the fixture's genesis node key
HANDOVER = SigningKey(bytes([0x7E] * 32))  # the fixture's handover node key


def _varint(v):
    if v < 251:
        return bytes([v])
    for prefix, size in ((0xFB, 2), (0xFC, 4), (0xFD, 8)):
        if v < 1 << (8 * size):
            return bytes([prefix]) + v.to_bytes(size, "little")
    raise ValueError(v)


def _export(frames_):
    out = bytearray(b"coopledger-export/v2\n")
    for tag, payload in frames_:
        out += tag.encode() + len(payload).to_bytes(4, "big") + payload
    return bytes(out)


def _sign_note(body, ledger_id, size, named):
    """A checkpoint note over `body`, signed by the fixture node key the ledger names for
    `size` (the genesis's before the handover, the handover's after): no cosignature."""
    import base64
    origin = "coopledger/" + ledger_id.hex()
    key = next(k for k in (NODE, HANDOVER) if bytes(k.verify_key) in named(size))
    sig = key.sign(body.encode()).signature
    kid = verify.key_id(origin, 0x01, bytes(key.verify_key))
    return (body + "\n\u2014 " + origin + " " + base64.b64encode(kid + sig).decode() + "\n").encode()


def rewritten_by_the_node(data, drop):
    """Issue 28, finding 1, in Python: record `drop` left out, the rest re-sequenced,
    re-chained and given the governance head the rest implies, the checkpoints re-signed
    by the node key alone (the events, signed by their authors, unchanged)."""
    import base64
    frames_ = list(verify.frames(data))
    header, end = frames_[0], frames_[-1]
    reg, gov, chain, leaves, ledger_id = verify.Registry(), bytes(32), bytes(32), [], None
    out, old_seq, new_seq = [header], -1, 0
    last_time = 0
    for tag, payload in frames_[1:-1]:
        if tag == "R":
            old_seq += 1
            if old_seq == drop:
                continue
            r = verify.decode_record(payload, old_seq)
            event = payload[len(payload) - len(r["body_bytes"]) - 64:]
            rec = _varint(new_seq) + chain + _varint(r["received_at"]) + gov + event
            name, p = verify.decode_payload(r["body"]["payload"])
            event_hash = verify.tagged(0x04, r["body_bytes"])
            if new_seq == 0:
                ledger_id = verify.tagged(0x03, r["body_bytes"])
            verify.apply_registry(reg, {**r, "seq": new_seq}, name, p, new_seq, event_hash)
            if name in verify.GOVERNANCE:
                gov = verify.tagged(0x05, gov, new_seq.to_bytes(8, "big"), event_hash)
            leaf = verify.tagged(0x00, rec)
            chain = verify.tagged(0x02, chain, leaf)
            leaves.append(leaf)
            last_time = r["received_at"]
            out.append(("R", rec))
            new_seq += 1
        elif tag == "C":
            if old_seq == drop:
                continue  # the checkpoint right after the dropped record goes with it
            size = new_seq
            body = (f"coopledger/{ledger_id.hex()}\n{size}\n"
                    f"{base64.b64encode(verify.merkle_root(leaves)).decode()}\n"
                    f"chain {base64.b64encode(chain).decode()}\ntime {last_time}\n")
            out.append(("C", _sign_note(body, ledger_id, size, reg.node_keys_at)))
    out.append(("E", new_seq.to_bytes(8, "big")))
    return _export(out)


def _strip_cosignatures(data, keep=()):
    """Every checkpoint with its witness lines removed (but those of `keep`)."""
    out = []
    for tag, payload in verify.frames(data):
        if tag == "C":
            body, lines = payload.decode().split("\n\n", 1)
            kept = [l for l in lines.rstrip("\n").split("\n")
                    if l.startswith("\u2014 coopledger/") or any(l.startswith("\u2014 " + k + " ") for k in keep)]
            payload = (body + "\n\n" + "\n".join(kept) + "\n").encode()
        out.append((tag, payload))
    return _export(out)


def _seq_of(data, want):
    """The seq of the first record whose payload is `want` (name, signer)."""
    seq = -1
    for tag, payload in verify.frames(data):
        if tag != "R":
            continue
        seq += 1
        r = verify.decode_record(payload, seq)
        name, _ = verify.decode_payload(r["body"]["payload"])
        if (name, r["body"]["authority"]) == want:
            return seq
    raise AssertionError(f"no {want}")


def _mutations():
    v2, v21 = FIXTURE.read_bytes(), FIXTURE_2_1.read_bytes()
    frames_ = list(verify.frames(v2))
    first_record = next(i for i, (t, _) in enumerate(frames_) if t == "R")
    flipped = bytearray(frames_[first_record + 5][1])
    flipped[len(flipped) // 2] ^= 0x01
    yield "the genuine ledger (format 2)", v2, 0
    yield "the genuine ledger (format 2.1, a handover)", v21, 0
    for what, want in (("TM's ProtocolProceduresCompleted", ("ProtocolProceduresCompleted", "TM-MFA")),
                       ("the TM-WITNESS registration", ("ObserverRegistered", "TM-MFA")),
                       ("a KeyRevoked", ("KeyRevoked", "TM-MFA"))):
        for name, data in (("2", v2), ("2.1", v21)):
            yield f"{what} dropped by the node, re-chained and re-signed ({name})", \
                rewritten_by_the_node(data, _seq_of(data, want)), 4
    yield "every witness cosignature removed", _strip_cosignatures(v21), 4
    yield "only Kazakhstan's witness left", _strip_cosignatures(v21, keep=("KZ-WITNESS",)), 4
    yield "a record's byte flipped", _export(
        [(t, bytes(flipped) if i == first_record + 5 else p) for i, (t, p) in enumerate(frames_)]), 3
    yield "a record left out, nothing re-chained", _export(
        [f for i, f in enumerate(frames_) if i != first_record + 5]), 3
    yield "cut in the middle of a frame", v21[: len(v21) - 40], 3
    yield "a checkpoint dated years ahead, the next one at its time", _backwards(v2), 3


def _backwards(data):
    """The first checkpoint re-dated five years ahead and re-signed (issue 28, finding 8):
    the next one is then dated before it."""
    out, done = [], False
    for tag, payload in verify.frames(data):
        if tag == "C" and not done:
            body, _ = payload.decode().split("\n\n", 1)
            lines = body.split("\n")
            lines[4] = "time " + str(int(lines[4][5:]) + 5 * 365 * 24 * 3_600_000)
            ledger_id = bytes.fromhex(lines[0].split("/")[1])
            payload = _sign_note("\n".join(lines) + "\n", ledger_id, int(lines[1]),
                                 lambda _size: [bytes(NODE.verify_key)])
            done = True
        out.append((tag, payload))
    return _export(out)


def _coopledger():
    binary = os.environ.get("COOPLEDGER_BIN")
    assert binary and os.path.exists(binary), \
        "set COOPLEDGER_BIN to the coopledger binary (.ci/run does): the suite compares both verifiers"
    return binary


@pytest.mark.parametrize("what,data,expected", list(_mutations()), ids=lambda x: x if isinstance(x, str) else "")
def test_both_verifiers_agree_on_every_mutation(tmp_path, capsys, what, data, expected):
    path = tmp_path / "ledger.export"
    path.write_bytes(data)
    ours = verify.main(["verify.py", str(path)])
    theirs = subprocess.run([_coopledger(), "verify", str(path), "--quiet"],
                            capture_output=True, text=True)
    assert ours == expected, f"{what}: the independent verifier exits {ours}"
    assert theirs.returncode == expected, f"{what}: coopledger exits {theirs.returncode}: {theirs.stderr}"
    if expected == 4:
        # Both accept the node's word when told to, and say so.
        assert verify.main(["verify.py", str(path), "--accept-node-word"]) == 0
        out = subprocess.run([_coopledger(), "verify", str(path), "--quiet", "--accept-node-word"],
                             capture_output=True, text=True)
        assert out.returncode == 0 and all(l.startswith("[the node's word alone] ")
                                           for l in out.stdout.splitlines()), out.stdout
