//! Evidence bundles: given a small ledger built record by record (as the engine would),
//! when a bundle of one case is made and altered, then verification accepts exactly the
//! honest bundle, names the failing record, and replays the case as of any record.

#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

use coop_core::checkpoint::{Checkpoint, NoteVerifier, cosign, sign_checkpoint};
use coop_core::event::CaseRef;
use coop_core::merkle::{Blake3Hasher, Frontier, NodeReader, inclusion_proof};
use coop_core::{CHAIN_SEED, EventId, Hash, Record, SealedRecord, SecretKey, Timestamp};
use coop_treaty::testkit::{self, case_id, doc, request_to};
use coop_treaty::{
    CaseStatus, DocRole, Extent, Language, Params, Payload, Role, State, bundle_seqs,
};
use coop_verify::{Bundle, BundleEntry, VerifyError, verify_bundle};

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
    state: State,
}

fn node_verifier(l: &Ledger) -> NoteVerifier {
    coop_core::checkpoint::node_verifier(&l.state.ledger_id.unwrap(), l.node.public())
}

const T0: u64 = 1_764_000_000_000;

/// Genesis, constitution, a witness, two cases (1 refused-then-closed, 2 executed), and
/// an unrelated case 3, with Protocol No. 1 (a proposal and its acceptance) and a second
/// witness registered between the cases' records, built and validated record by record.
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
            Timestamp(T0 + n),
            case,
            vec![],
            &payload,
        )
        .unwrap();
        let prev = records.last().map_or(CHAIN_SEED, |r| r.chain);
        let r = Record {
            seq: records.len() as u64,
            prev_chain: prev,
            received_at: Timestamp(T0 + n),
            governance: state.governance.head,
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
    add(
        "KZ-MFA",
        None,
        Payload::ProtocolProposed {
            id: 1,
            text: doc(90, Language::Ru, DocRole::Original),
            params: Params {
                refusal_notice_ms: 48 * 3_600_000,
                ..Params::default()
            },
            effective_from: T0,
        },
    );
    add("TM-MFA", None, Payload::ProtocolAccepted { id: 1 });
    add("TM-MVD", at(1, 1), Payload::Acknowledged);
    add(
        "TM-MVD",
        at(2, 2),
        Payload::ExecutionReported {
            extent: Extent::Full,
            reasons: vec![],
            search_outcome: None,
            results: vec![],
        },
    );
    add("TM-MVD", at(3, 1), Payload::Acknowledged);
    add("KZ-MVD", at(2, 3), Payload::CaseClosed);
    Ledger {
        records,
        node: testkit::node_key(),
        state,
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
            time: self.records.last().unwrap().record.received_at,
        };
        let note = sign_checkpoint(&cp, &self.node).unwrap();
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
        let seqs = bundle_seqs(&self.state, &case_id(case), size, |s| {
            self.records.get(s as usize).map(|r| r.record.clone())
        })
        .unwrap();
        Bundle {
            case: case_id(case),
            checkpoint: self.checkpoint(),
            entries: seqs
                .iter()
                .map(|s| &self.records[*s as usize])
                .map(|r| BundleEntry {
                    record: r.bytes.clone(),
                    proof: inclusion_proof::<Blake3Hasher, _>(&leaves, r.record.seq, size).unwrap(),
                })
                .collect(),
        }
    }

    fn entry(&self, seq: u64) -> BundleEntry {
        let leaves = Leaves(self.records.iter().map(|r| r.leaf).collect());
        BundleEntry {
            record: self.records[seq as usize].bytes.clone(),
            proof: inclusion_proof::<Blake3Hasher, _>(&leaves, seq, self.records.len() as u64)
                .unwrap(),
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
        Some(&node_verifier(&l)),
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
    assert_eq!(full.cases.get(&case_id(2)).map(|c| &**c), v.case());
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
    let next_seq = SealedRecord::from_bytes(0, b.entries[case_entries[2] - 1].record.clone())
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
    let pin = coop_core::checkpoint::node_verifier(&l.state.ledger_id.unwrap(), other.public());
    let r = verify_bundle(&honest, Some(&pin));
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
    assert!(Bundle::from_bytes(b"coopledger-bundle/v2\n\xff\xff").is_err());
    assert!(Bundle::from_bytes(b"not a bundle").is_err());
}

/// The audit's finding: leaving Protocol No. 1 (its proposal and its acceptance) out of
/// a bundle moved the Art. 4.6 deadline the consultation saw from 48 h to 72 h, and still
/// verified. Every record stating the governance head before it catches it now.
#[test]
fn governance_left_out_of_a_bundle_is_caught() {
    let l = ledger();
    for case in [1u8, 2] {
        let honest = l.bundle(case);
        verify_bundle(&honest, None).unwrap();
        let kinds: Vec<(u64, &'static str)> = honest
            .entries
            .iter()
            .map(|e| {
                let r = SealedRecord::from_bytes(0, e.record.clone())
                    .unwrap()
                    .record;
                (
                    r.seq,
                    Payload::from_bytes(&r.event.body.payload).unwrap().kind(),
                )
            })
            .collect();
        // Both halves of the protocol, and each other governance record.
        let governance: Vec<usize> = kinds
            .iter()
            .enumerate()
            .filter(|(_, (_, k))| {
                Payload::from_bytes(&[]).is_err()
                    && ![
                        "request",
                        "acknowledged",
                        "refused",
                        "execution reported",
                        "case closed",
                    ]
                    .contains(k)
            })
            .map(|(i, _)| i)
            .collect();
        assert!(governance.len() >= 9, "{kinds:?}");
        let mut both = honest.clone();
        both.entries.retain(|e| {
            let r = SealedRecord::from_bytes(0, e.record.clone())
                .unwrap()
                .record;
            !matches!(
                Payload::from_bytes(&r.event.body.payload).unwrap(),
                Payload::ProtocolProposed { .. } | Payload::ProtocolAccepted { .. }
            )
        });
        let r = verify_bundle(&both, None);
        assert!(
            matches!(&r, Err(VerifyError::Record { what, .. }) if what.contains("governance head")),
            "case {case}: {r:?}"
        );
        for i in governance.into_iter().filter(|i| *i > 0) {
            let mut b = honest.clone();
            b.entries.remove(i);
            let r = verify_bundle(&b, None);
            assert!(
                matches!(&r, Err(VerifyError::Record { what, .. }) if what.contains("governance head")),
                "case {case}: dropping {:?} gave {r:?}",
                kinds[i]
            );
        }
    }
}

#[test]
fn a_bundle_holding_another_cases_record_is_refused() {
    let l = ledger();
    let mut b = l.bundle(2);
    // Case 3's request sits between case 2's records, and the rules would accept it.
    let seq = l
        .records
        .iter()
        .find(|r| {
            r.record
                .event
                .body
                .case
                .is_some_and(|c| c.case_id == case_id(3))
        })
        .unwrap()
        .record
        .seq;
    let at = b
        .entries
        .iter()
        .position(|e| {
            SealedRecord::from_bytes(0, e.record.clone())
                .unwrap()
                .record
                .seq
                > seq
        })
        .unwrap();
    b.entries.insert(at, l.entry(seq));
    let r = verify_bundle(&b, None);
    assert!(
        matches!(&r, Err(VerifyError::Record { seq: s, what }) if *s == seq && what.contains("does not read")),
        "{r:?}"
    );
}
