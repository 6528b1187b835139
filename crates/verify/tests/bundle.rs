//! Evidence bundles: given a small ledger built record by record (as the engine would),
//! when a bundle of one case is made and altered, then verification accepts exactly the
//! honest bundle, names the failing record, and replays the case as of any record.

#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

use coop_core::checkpoint::{Checkpoint, NoteVerifier, SigAlg, cosign, sign_checkpoint};
use coop_core::event::CaseRef;
use coop_core::merkle::{Blake3Hasher, Frontier, NodeReader, inclusion_proof};
use coop_core::{CHAIN_SEED, EventId, Hash, Record, SealedRecord, SecretKey, Timestamp};
use coop_treaty::testkit::{self, case_id, request_to};
use coop_treaty::{CaseStatus, Extent, Payload, Role, State};
use coop_verify::{Bundle, BundleEntry, VerifyError, is_needed_for_case, verify_bundle};

struct Leaves(Vec<Hash>);

impl NodeReader<Hash> for Leaves {
    type Error = std::convert::Infallible;
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        if level == 0 {
            return Ok(self.0[index as usize]);
        }
        let l = self.node(level - 1, index * 2)?;
        let r = self.node(level - 1, index * 2 + 1)?;
        Ok(coop_core::hash::node_hash(&l, &r))
    }
}

struct Ledger {
    records: Vec<SealedRecord>,
    node: SecretKey,
}

fn node_verifier(key: &SecretKey) -> NoteVerifier {
    NoteVerifier {
        name: "node".into(),
        key: key.public(),
        alg: SigAlg::Ed25519,
    }
}

/// Genesis, constitution, a witness, two cases (1 refused-then-closed, 2 executed), and
/// an unrelated case 3, built and validated record by record.
fn ledger() -> Ledger {
    let keys = testkit::keys();
    let mut state = State::default();
    let mut records: Vec<SealedRecord> = Vec::new();
    let mut n = 0u64;
    let mut add = |signer: &str, case: Option<CaseRef>, payload: Payload| {
        let ledger = state.ledger_id;
        let ev = testkit::sign(
            &keys[signer],
            signer,
            ledger,
            EventId([n as u8; 16]),
            Timestamp(n),
            case,
            vec![],
            &payload,
        )
        .unwrap();
        let prev = records.last().map_or(CHAIN_SEED, |r| r.chain);
        let r = Record {
            seq: records.len() as u64,
            prev_chain: prev,
            received_at: Timestamp(1_764_000_000_000 + n),
            event: ev,
        }
        .seal()
        .unwrap();
        state.step(&r.record).unwrap();
        records.push(r);
        n += 1;
    };
    add("KZ-MFA", None, testkit::genesis_payload(&keys));
    for (s, p) in testkit::constitution(&keys) {
        add(s, None, p);
    }
    add(
        "TM-MFA",
        None,
        Payload::ObserverRegistered {
            id: testkit::id("TM-WITNESS"),
            role: Role::Witness,
            key: keys["TM-WITNESS"].public(),
        },
    );
    let at = |c, v| {
        Some(CaseRef {
            case_id: case_id(c),
            expected_version: v,
        })
    };
    for c in 1..=3u8 {
        add(
            "KZ-MVD",
            at(c, 0),
            Payload::Request(Box::new(request_to("TM-MVD"))),
        );
    }
    add("TM-MVD", at(2, 1), Payload::Acknowledged);
    add("TM-MVD", at(1, 1), Payload::Acknowledged);
    add(
        "TM-MVD",
        at(2, 2),
        Payload::ExecutionReported {
            extent: Extent::Full,
            reasons: None,
            search_outcome: None,
        },
    );
    add("TM-MVD", at(3, 1), Payload::Acknowledged);
    add("KZ-MVD", at(2, 3), Payload::CaseClosed);
    Ledger {
        records,
        node: SecretKey::from_seed(&[9; 32]),
    }
}

impl Ledger {
    fn checkpoint(&self) -> String {
        let mut f = Frontier::<Blake3Hasher>::new();
        for r in &self.records {
            f.push(r.leaf, |_, _, _| {});
        }
        let cp = Checkpoint {
            ledger_id: coop_core::LedgerId::from_genesis_body(
                &self.records[0].record.event.body.to_bytes().unwrap(),
            ),
            size: self.records.len() as u64,
            root: f.root(),
            chain_head: self.records.last().unwrap().chain,
            time: Timestamp(1),
        };
        let note = sign_checkpoint(&cp, "node", &self.node).unwrap();
        cosign(
            &note,
            "TM-WITNESS",
            &testkit::keys()["TM-WITNESS"],
            1_764_000_000,
        )
        .unwrap()
    }

    fn bundle(&self, case: u8) -> Bundle {
        let leaves = Leaves(self.records.iter().map(|r| r.leaf).collect());
        let size = self.records.len() as u64;
        Bundle {
            case: case_id(case),
            node: node_verifier(&self.node).to_vkey(),
            checkpoint: self.checkpoint(),
            entries: self
                .records
                .iter()
                .filter(|r| is_needed_for_case(&r.record, &case_id(case)))
                .map(|r| BundleEntry {
                    record: r.bytes.clone(),
                    proof: inclusion_proof::<Blake3Hasher, _>(&leaves, r.record.seq, size).unwrap(),
                })
                .collect(),
        }
    }
}

#[test]
fn an_honest_bundle_verifies_alone_and_replays_its_case_at_every_record() {
    let l = ledger();
    let b = l.bundle(2);
    // Only governance and case 2: not case 1 or 3.
    assert!(b.entries.len() < l.records.len());
    let bytes = b.to_bytes().unwrap();
    let v = verify_bundle(
        &Bundle::from_bytes(&bytes).unwrap(),
        Some(&node_verifier(&l.node)),
    )
    .unwrap();
    assert!(v.node_key_pinned);
    assert_eq!(v.checkpoint.cosigned_by.len(), 1);
    assert_eq!(v.case().unwrap().status, CaseStatus::Closed);
    let seqs = v.case_seqs();
    assert_eq!(seqs.len(), 4);
    let versions: Vec<u64> = seqs
        .iter()
        .map(|s| v.case_as_of(*s).unwrap().unwrap().version)
        .collect();
    assert_eq!(versions, vec![1, 2, 3, 4]);
    assert!(
        v.case_as_of(seqs[0] - 1).unwrap().is_none(),
        "before its request the case did not exist"
    );
    // The full ledger's state agrees with the bundle's replay for this case.
    let full = State::replay(l.records.iter().map(|r| &r.record)).unwrap();
    assert_eq!(full.cases.get(&case_id(2)), v.case());
}

#[test]
fn a_record_left_out_of_the_middle_of_the_case_is_caught() {
    let l = ledger();
    let mut b = l.bundle(2);
    let case_entries: Vec<usize> = b
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            SealedRecord::from_bytes(0, e.record.clone())
                .unwrap()
                .record
                .event
                .body
                .case
                .is_some()
        })
        .map(|(i, _)| i)
        .collect();
    b.entries.remove(case_entries[1]);
    let next_seq = SealedRecord::from_bytes(0, b.entries[case_entries[1]].record.clone())
        .unwrap()
        .record
        .seq;
    let r = verify_bundle(&b, None);
    assert!(
        matches!(&r, Err(VerifyError::Record { seq, what }) if *seq == next_seq && what.contains("version")),
        "{r:?}"
    );
}

#[test]
fn a_bad_proof_a_foreign_checkpoint_or_a_missing_genesis_is_refused() {
    let l = ledger();
    let honest = l.bundle(1);

    let mut b = honest.clone();
    let last = b.entries.len() - 1;
    b.entries[last].proof[0].0[0] ^= 1;
    let seq = SealedRecord::from_bytes(0, b.entries[last].record.clone())
        .unwrap()
        .record
        .seq;
    let r = verify_bundle(&b, None);
    assert!(
        matches!(&r, Err(VerifyError::Record { seq: s, .. }) if *s == seq),
        "{r:?}"
    );

    let other = SecretKey::from_seed(&[10; 32]);
    let r = verify_bundle(&honest, Some(&node_verifier(&other)));
    assert!(matches!(r, Err(VerifyError::Bundle(_))), "{r:?}");

    let mut b = honest.clone();
    b.entries.remove(0);
    assert!(matches!(
        verify_bundle(&b, None),
        Err(VerifyError::Bundle(_))
    ));

    let mut b = honest.clone();
    b.entries.swap(3, 4);
    assert!(matches!(
        verify_bundle(&b, None),
        Err(VerifyError::Record { .. })
    ));

    let mut b = honest.clone();
    b.case = case_id(77);
    assert!(matches!(
        verify_bundle(&b, None),
        Err(VerifyError::Bundle(_))
    ));

    let mut bytes = honest.to_bytes().unwrap();
    bytes.push(0);
    assert!(Bundle::from_bytes(&bytes).is_err());
    assert!(Bundle::from_bytes(b"coopledger-bundle/v1\n\xff\xff").is_err());
    assert!(Bundle::from_bytes(b"not a bundle").is_err());
}
