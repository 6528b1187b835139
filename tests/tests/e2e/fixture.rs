//! The compatibility promise: `tests/fixtures/ledger-v2.1.export`, the export of the
//! fixture ledger (every payload variant, every governance kind, answers and citations,
//! three cosigned checkpoints, a node handover), is committed, and every future version
//! must verify it — as redb and fjall keep files their old versions wrote — and so must
//! it every earlier one: `ledger-v2.export` (format 2, before the handover events were
//! added) is kept and verified too. A format change that breaks them must bump the
//! format version, keep these files and their tests, and add the new one beside them.
//!
//! Regenerate ONLY for a deliberate, documented format change (docs/adr/):
//!     COOP_BLESS=1 cargo test -p coop-tests --test e2e fixture

use coop_treaty::testkit::{self, fixture};
use coop_verify::{ExportReader, ExportWriter, Options, Quiet};
use std::path::PathBuf;

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/ledger-v2.1.export")
}

/// Format 2's fixture, as version 2 wrote it (51 records; no handover).
fn path_v2() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/ledger-v2.export")
}

/// The fixture's genesis node key: all an auditor pins.
fn genesis_pin(f: &fixture::Fixture) -> coop_core::checkpoint::NoteVerifier {
    coop_core::checkpoint::node_verifier(&f.ledger_id().expect("id"), testkit::node_key().public())
}

/// Verifies an export, the auditor pinning `pin`.
fn verify_pinned(
    bytes: &[u8],
    pin: &coop_core::checkpoint::NoteVerifier,
) -> Result<coop_verify::Verified, coop_verify::VerifyError> {
    let mut r =
        ExportReader::new(bytes).map_err(|e| coop_verify::VerifyError::Input(e.to_string()))?;
    coop_verify::verify(
        &mut r,
        &Options {
            nodes: vec![pin.clone()],
            ..Options::default()
        },
        &mut Quiet,
    )
}

fn render() -> Vec<u8> {
    let f = fixture::ledger().expect("fixture");
    let mut w = ExportWriter::new(Vec::new(), &[genesis_pin(&f).to_vkey()]).expect("writer");
    for item in f.items() {
        match item {
            Ok(record) => w.record(record).expect("record"),
            Err(note) => w.checkpoint(note).expect("checkpoint"),
        }
    }
    w.finish().expect("finish").0
}

#[test]
fn the_committed_fixture_ledger_is_what_this_version_writes() {
    let now = render();
    if std::env::var_os("COOP_BLESS").is_some() {
        std::fs::write(path(), &now).expect("write");
        return;
    }
    let committed = std::fs::read(path()).expect("the committed fixture");
    assert!(
        committed == now,
        "the fixture ledger's bytes changed: a format change needs a new version (docs/FORMAT.md)"
    );
}

/// Format 2's committed fixture still verifies, pinned to the genesis's node key.
#[test]
fn the_format_2_fixture_ledger_still_verifies() {
    let bytes = std::fs::read(path_v2()).expect("the committed v2 fixture");
    let f = fixture::ledger().expect("fixture");
    let pin = genesis_pin(&f);
    let v = verify_pinned(&bytes, &pin).expect("the v2 fixture verifies");
    assert_eq!(v.size, 51);
    assert_eq!(v.checkpoints.len(), 3);
    assert!(v.report.held());
}

#[test]
fn the_committed_fixture_ledger_verifies() {
    let bytes = std::fs::read(path()).expect("the committed fixture");
    assert!(bytes.len() < 1024 * 1024);
    let f = fixture::ledger().expect("fixture");
    // The auditor pins the genesis's node key only; the last checkpoint is signed by the
    // key the handover names, which the verifier learns from the ledger.
    let pin = genesis_pin(&f);
    let v = verify_pinned(&bytes, &pin).expect("the fixture verifies");
    assert_eq!(v.node_keys.len(), 2, "{:?}", v.node_keys);
    let last = v.checkpoints.last().expect("a checkpoint");
    let next = coop_core::checkpoint::node_verifier(
        &f.ledger_id().expect("id"),
        fixture::handover_node_key().public(),
    );
    assert!(
        coop_core::checkpoint::Note::parse(&f.checkpoints.last().expect("a checkpoint").1)
            .is_ok_and(|n| next.find(&n).is_some() && pin.find(&n).is_none()),
        "the last checkpoint is signed by the handover's key alone"
    );
    assert_eq!(last.checkpoint.size, f.records.len() as u64);
    assert_eq!(v.size, f.records.len() as u64);
    assert_eq!(v.checkpoints.len(), 3);
    assert!(v.checkpoints.iter().all(|c| c.cosigned_by.len() == 2));
    assert_eq!(v.uncovered(), 0);
    assert!(v.report.held());
    let kinds: std::collections::BTreeSet<&str> = v
        .state
        .cases
        .values()
        .flat_map(|c| c.steps.iter().map(|t| t.kind.name()))
        .collect();
    assert!(kinds.len() > 15, "{kinds:?}");
}

/// A follower's restart: records up to a checkpoint it verified before are replayed
/// without their signature checks, and must give that checkpoint exactly; the rest are
/// verified in full. A record altered anywhere — even only in a signature, which the
/// replay does not check — no longer gives the checkpoint, and the resume is refused.
#[test]
fn resuming_from_a_verified_checkpoint_gives_the_same_state_and_refuses_any_altered_record() {
    let f = fixture::ledger().expect("fixture");
    let pin = genesis_pin(&f);
    let mut records: Vec<Vec<u8>> = Vec::new();
    let mut notes = Vec::new();
    for item in f.items() {
        match item {
            Ok(r) => records.push(r.to_vec()),
            Err(n) => notes.push(n.to_owned()),
        }
    }
    let note = notes.get(1).expect("a second checkpoint");
    let body = coop_core::checkpoint::Note::parse(note).expect("note").text;
    let cp = coop_core::Checkpoint::parse_body(&body).expect("checkpoint");
    let at = usize::try_from(cp.size).expect("size");
    let chunks = |rs: &[Vec<u8>]| -> Vec<Result<Vec<Vec<u8>>, coop_verify::VerifyError>> {
        rs.chunks(7).map(|c| Ok(c.to_vec())).collect()
    };

    let mut full = coop_verify::Incremental::new(vec![pin.clone()]);
    full.feed(records.clone()).expect("the fixture verifies");
    let mut resumed =
        coop_verify::Incremental::resume(vec![pin.clone()], chunks(&records[..at]), &cp)
            .expect("resume");
    assert_eq!(resumed.size(), cp.size);
    resumed
        .feed(records[at..].to_vec())
        .expect("the rest verifies in full");
    assert_eq!(resumed.root(), full.root());
    assert_eq!(resumed.chain_head(), full.chain_head());
    assert_eq!(resumed.state().cases.len(), full.state().cases.len());
    assert_eq!(resumed.state().size, full.state().size);

    for seq in [0, at / 2, at - 1] {
        let mut altered = records[..at].to_vec();
        let last = altered[seq].len() - 1;
        altered[seq][last] ^= 1;
        assert!(
            coop_verify::Incremental::resume(vec![pin.clone()], chunks(&altered), &cp).is_err(),
            "an altered record {seq} was resumed from"
        );
    }
    // Too few records for the checkpoint.
    assert!(coop_verify::Incremental::resume(vec![pin], chunks(&records[..at - 1]), &cp).is_err());
}

/// After the handover retired it, the genesis's key may sign no checkpoint: the fixture's
/// last checkpoint, signed instead with the old key (by a lost node come back, or by
/// whoever kept its key), is refused. (A line of the old key beside the new key's is an
/// unknown key's line, ignored as the signed-note format prescribes: the new key's
/// signature is what is verified.)
#[test]
fn a_checkpoint_signed_by_a_retired_node_key_is_refused() {
    use coop_core::checkpoint::{Checkpoint, Note, sign_checkpoint};
    let f = fixture::ledger().expect("fixture");
    let pin = genesis_pin(&f);
    let (size, note) = f.checkpoints.last().expect("a checkpoint").clone();
    let cp = Checkpoint::parse_body(&Note::parse(&note).expect("note").text).expect("body");
    let forged = sign_checkpoint(&cp, &testkit::node_key()).expect("sign");
    let mut w = ExportWriter::new(Vec::new(), &[pin.to_vkey()]).expect("writer");
    for item in f.items() {
        match item {
            Ok(record) => w.record(record).expect("record"),
            Err(n) if n == note => w.checkpoint(&forged).expect("checkpoint"),
            Err(n) => w.checkpoint(n).expect("checkpoint"),
        }
    }
    let bytes = w.finish().expect("finish").0;
    assert!(
        verify_pinned(&bytes, &pin).is_err(),
        "a checkpoint at size {size} by the retired key verified"
    );
}
