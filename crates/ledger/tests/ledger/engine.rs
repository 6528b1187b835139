//! The engine end to end on a real (sled) store: receipts, refusals that change nothing,
//! idempotent duplicates, concurrency with group commit, checkpoints, reopen, replay as of
//! an earlier point.

use coop_core::checkpoint::verify_checkpoint;
use coop_core::event::CaseRef;
use coop_core::merkle::Blake3Hasher;
use coop_core::{EventId, Receipt, SecretKey, SignedEvent, Timestamp};
use coop_ledger::{AsOf, Config, Ledger, LedgerError, SubmitError};
use coop_store::SledStore;
use coop_treaty::testkit::{self, case_id, item, purpose, request_to};
use coop_treaty::{CaseStatus, Extent, InfoKind, Payload, RefusalGround, Violation};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) struct Env {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) ledger: Option<Ledger<SledStore>>,
    pub(crate) keys: BTreeMap<String, SecretKey>,
    pub(crate) next: AtomicU64,
}

/// The node key the fixture genesis names.
pub(crate) fn node_key() -> SecretKey {
    testkit::node_key()
}

impl Env {
    pub(crate) fn ledger(&self) -> &Ledger<SledStore> {
        self.ledger.as_ref().expect("open")
    }

    pub(crate) fn event(
        &self,
        signer: &str,
        case: Option<CaseRef>,
        payload: &Payload,
    ) -> SignedEvent {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&n.to_be_bytes());
        testkit::sign(
            &self.keys[signer],
            signer,
            self.ledger.as_ref().and_then(|l| l.ledger_id()),
            EventId(id),
            Timestamp(coop_ledger::system_ms()),
            case,
            vec![],
            payload,
        )
        .expect("sign")
    }

    fn submit(
        &self,
        signer: &str,
        case: Option<CaseRef>,
        payload: Payload,
    ) -> Result<Receipt, SubmitError> {
        self.ledger().submit(self.event(signer, case, &payload))
    }

    pub(crate) fn case_ref(&self, n: u8) -> CaseRef {
        let version = self
            .ledger()
            .with_state(|s| s.cases.get(&case_id(n)).map_or(0, |c| c.version))
            .expect("state");
        CaseRef {
            case_id: case_id(n),
            expected_version: version,
        }
    }

    fn ok_case(&self, signer: &str, n: u8, payload: Payload) -> Receipt {
        let c = self.case_ref(n);
        self.submit(signer, Some(c), payload).expect("accepted")
    }

    fn reopen(&mut self) {
        if let Some(l) = self.ledger.take() {
            l.shutdown();
        }
        let store = SledStore::open(self.dir.path()).expect("store");
        self.ledger = Some(Ledger::open(store, node_key(), Config::default()).expect("reopen"));
    }
}

/// A ledger with the Agreement in force.
pub(crate) fn env() -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = testkit::keys();
    let mut env = Env {
        dir,
        ledger: None,
        keys,
        next: AtomicU64::new(1),
    };
    let genesis = env.event("KZ-MFA", None, &testkit::genesis_payload(&env.keys));
    let store = SledStore::open(env.dir.path()).expect("store");
    let (ledger, receipt) =
        Ledger::create(store, genesis, node_key(), Config::default()).expect("create");
    assert_eq!(receipt.seq, 0);
    env.ledger = Some(ledger);
    for (signer, p) in testkit::constitution(&env.keys) {
        env.submit(signer, None, p).expect("constitution");
    }
    env
}

#[test]
fn a_receipt_alone_proves_its_event_is_in_a_tree_the_node_signed() -> anyhow::Result<()> {
    let e = env();
    let ev = e.event(
        "KZ-MVD",
        Some(e.case_ref(1)),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    let r = e
        .ledger()
        .submit(ev.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let v = e.ledger().node_verifier().expect("a genesis");
    assert_eq!(
        v.name,
        format!("coopledger/{}", e.ledger().ledger_id().expect("id"))
    );
    // Nothing asked of the node: the receipt's checkpoint is signed by its key, covers
    // the record, and the record rebuilt from the event is proven in it.
    let cp = r.verify_event(&v, &ev)?;
    assert_eq!(cp, r.verify(&e.ledger().node_key())?);
    assert!(r.seq < cp.size);
    // It agrees with the ledger.
    let rec = e.ledger().record(r.seq)?.expect("record");
    assert_eq!((rec.leaf, rec.chain), (r.leaf, r.chain));
    assert_eq!(e.ledger().root_at(cp.size)?, cp.root);
    // A checkpoint stored later extends it.
    let note = e
        .ledger()
        .checkpoint_now()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let later = verify_checkpoint(&note, &v, &[])?.checkpoint;
    assert!(later.size >= cp.size);
    let proof = e.ledger().consistency_proof(cp.size, later.size)?;
    coop_core::merkle::verify_consistency::<Blake3Hasher>(
        cp.size,
        later.size,
        &cp.root,
        &later.root,
        &proof,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

#[test]
fn a_tampered_receipt_or_another_event_does_not_verify() -> anyhow::Result<()> {
    let e = env();
    let ev = e.event(
        "KZ-MVD",
        Some(e.case_ref(1)),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    let r = e
        .ledger()
        .submit(ev.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let v = e.ledger().node_verifier().expect("a genesis");
    r.verify_event(&v, &ev)?;
    let flip = |h: &mut coop_core::Hash| h.0[0] ^= 1;
    let tampered: Vec<(&str, Receipt)> = vec![
        (
            "seq",
            Receipt {
                seq: r.seq + 1,
                ..r.clone()
            },
        ),
        (
            "seq 0",
            Receipt {
                seq: 0,
                ..r.clone()
            },
        ),
        ("leaf", {
            let mut x = r.clone();
            flip(&mut x.leaf);
            x
        }),
        ("chain", {
            let mut x = r.clone();
            flip(&mut x.chain);
            x
        }),
        ("prev_chain", {
            let mut x = r.clone();
            flip(&mut x.prev_chain);
            x
        }),
        ("governance", {
            let mut x = r.clone();
            flip(&mut x.governance);
            x
        }),
        ("event hash", {
            let mut x = r.clone();
            flip(&mut x.event_hash);
            x
        }),
        (
            "received_at",
            Receipt {
                received_at: Timestamp(r.received_at.0 + 1),
                ..r.clone()
            },
        ),
        ("a proof hash", {
            let mut x = r.clone();
            if let Some(h) = x.proof.first_mut() {
                flip(h)
            } else {
                x.proof.push(coop_core::Hash([7; 32]))
            };
            x
        }),
        ("a proof hash dropped", {
            let mut x = r.clone();
            x.proof.pop();
            x
        }),
        ("a proof hash added", {
            let mut x = r.clone();
            x.proof.push(coop_core::Hash([7; 32]));
            x
        }),
        (
            "format",
            Receipt {
                format: "coopledger/receipt/v1".into(),
                ..r.clone()
            },
        ),
        (
            "checkpoint size",
            Receipt {
                checkpoint: r.checkpoint.replacen(
                    &format!("\n{}\n", r.seq + 1),
                    &format!("\n{}\n", r.seq + 2),
                    1,
                ),
                ..r.clone()
            },
        ),
        (
            "ledger",
            Receipt {
                ledger_id: coop_core::LedgerId(coop_core::Hash([9; 32])),
                ..r.clone()
            },
        ),
    ];
    for (what, t) in &tampered {
        assert!(
            t.verify_event(&v, &ev).is_err(),
            "a receipt with a changed {what} verified"
        );
    }
    // Signed by another key: not this node's receipt.
    let other = coop_core::checkpoint::node_verifier(
        &r.ledger_id,
        SecretKey::from_seed(&[42; 32]).public(),
    );
    assert!(r.verify_with(&other).is_err());
    // The genuine receipt of another event.
    let ev2 = e.event(
        "KZ-MVD",
        Some(e.case_ref(2)),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    let r2 = e
        .ledger()
        .submit(ev2.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    r2.verify_event(&v, &ev2)?;
    assert!(r2.verify_event(&v, &ev).is_err());
    assert!(r.verify_event(&v, &ev2).is_err());
    // The same event id with another body (what a node claiming a different record
    // would need): the rebuilt leaf differs.
    let mut forged = ev.clone();
    forged.body.authored_at = Timestamp(ev.body.authored_at.0 + 1);
    let forged = SignedEvent::sign(forged.body, &e.keys["KZ-MVD"])?;
    let swapped = Receipt {
        event_hash: forged.event_hash()?,
        ..r.clone()
    };
    assert!(swapped.verify_event(&v, &forged).is_err());
    Ok(())
}

#[test]
fn a_refused_event_changes_nothing_and_names_its_article() -> anyhow::Result<()> {
    let e = env();
    e.ok_case(
        "KZ-MVD",
        1,
        Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    let head = e.ledger().head()?;
    let state = e.ledger().with_state(Clone::clone)?;
    let mut bad = request_to("TM-MVD");
    bad.elements.decision_copy = None;
    let err = e
        .submit(
            "KZ-MVD",
            Some(e.case_ref(2)),
            Payload::Request(Box::new(bad)),
        )
        .expect_err("refused");
    assert!(matches!(
        err,
        SubmitError::Refused(Violation::Art4_1_5MissingDecisionCopy)
    ));
    assert!(err.to_string().contains("Art. 4.1(5)"));
    assert_eq!(e.ledger().head()?, head);
    assert_eq!(e.ledger().with_state(Clone::clone)?, state);
    assert_eq!(e.ledger().metrics().refusals.get("Art. 4.1(5)"), Some(&1));
    Ok(())
}

#[test]
fn duplicates_return_the_first_receipt_and_reused_ids_are_refused() -> anyhow::Result<()> {
    let e = env();
    let ev = e.event(
        "KZ-MVD",
        Some(e.case_ref(1)),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    let first = e
        .ledger()
        .submit(ev.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let head = e.ledger().head()?;
    let again = e
        .ledger()
        .submit(ev.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // The same record, proven in a checkpoint covering it.
    assert!(again.same_record(&first));
    again.verify_event(&e.ledger().node_verifier().expect("genesis"), &ev)?;
    // Same id, different body.
    let mut other = ev.body.clone();
    other.authored_at = Timestamp(12345);
    let other = SignedEvent::sign(other, &e.keys["KZ-MVD"])?;
    assert!(matches!(
        e.ledger().submit(other),
        Err(SubmitError::IdReused(_))
    ));
    assert_eq!(e.ledger().head()?, head);
    Ok(())
}

#[test]
fn bad_signatures_and_foreign_ledgers_are_invalid() -> anyhow::Result<()> {
    let e = env();
    let head = e.ledger().head()?;
    let mut ev = e.event(
        "KZ-MVD",
        Some(e.case_ref(1)),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    ev.signature.0[5] ^= 1;
    assert!(matches!(
        e.ledger().submit(ev),
        Err(SubmitError::Invalid(_))
    ));
    let mut body = e
        .event(
            "KZ-MVD",
            Some(e.case_ref(1)),
            &Payload::Request(Box::new(request_to("TM-MVD"))),
        )
        .body;
    body.ledger_id = Some(coop_core::LedgerId(coop_core::Hash([1; 32])));
    let foreign = SignedEvent::sign(body, &e.keys["KZ-MVD"])?;
    assert!(matches!(
        e.ledger().submit(foreign),
        Err(SubmitError::Invalid(_))
    ));
    assert_eq!(e.ledger().head()?, head);
    Ok(())
}

#[test]
fn concurrent_submitters_all_get_durable_receipts() -> anyhow::Result<()> {
    let e = env();
    let before = e.ledger().head()?.size;
    let receipts: Vec<Receipt> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16u8)
            .map(|t| {
                let e = &e;
                s.spawn(move || {
                    let n = 10 + t;
                    let mut out = vec![e.ok_case(
                        "KZ-MVD",
                        n,
                        Payload::Request(Box::new(request_to("TM-MVD"))),
                    )];
                    // (A refusal in between: the requester cannot acknowledge.)
                    let refused = e.submit("KZ-MVD", Some(e.case_ref(n)), Payload::Acknowledged);
                    assert!(matches!(refused, Err(SubmitError::Refused(_))));
                    out.push(e.ok_case("TM-MVD", n, Payload::Acknowledged));
                    out.push(e.ok_case(
                        "TM-MVD",
                        n,
                        Payload::ExecutionReported {
                            extent: Extent::Full,
                            reasons: vec![],
                            search_outcome: None,
                            results: vec![],
                        },
                    ));
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    });
    let head = e.ledger().head()?;
    assert_eq!(head.size, before + 48);
    let mut seqs: Vec<u64> = receipts.iter().map(|r| r.seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 48);
    for r in &receipts {
        r.verify(&e.ledger().node_key())?;
        let rec = e.ledger().record(r.seq)?.expect("record");
        assert_eq!(rec.leaf, r.leaf);
    }
    let m = e.ledger().metrics();
    assert!(m.batches <= m.appended);
    // The readers' state is the writer's after the last durable batch (ADR 0021): record
    // for record the fold of what is on disk, refusals leaving no trace.
    let records = e.ledger().records(0, head.size)?;
    let replayed = coop_treaty::State::replay(records.iter().map(|r| &r.record))
        .map_err(|(seq, v)| anyhow::anyhow!("record {seq}: {v}"))?;
    assert_eq!(e.ledger().with_state(|s| s.clone())?, replayed);
    Ok(())
}

#[test]
fn reopen_replays_to_the_same_state_and_continues() -> anyhow::Result<()> {
    let mut e = env();
    e.ok_case(
        "KZ-MVD",
        1,
        Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    e.ok_case(
        "TM-MVD",
        1,
        Payload::InformationTransferred {
            item: item(1),
            recipient: testkit::id("KZ-MVD"),
            kind: InfoKind::Forensic,
            restricted: true,
            permitted_purposes: vec![purpose(testkit::PURPOSE)],
            no_state_secret: true,
            documents: coop_treaty::testkit::written(40, coop_treaty::Party::Tm),
        },
    );
    let head = e.ledger().head()?;
    let state = e.ledger().with_state(Clone::clone)?;
    e.reopen();
    assert_eq!(e.ledger().head()?, head);
    assert_eq!(e.ledger().with_state(Clone::clone)?, state);
    e.ok_case(
        "KZ-MVD",
        1,
        Payload::InformationUsed {
            item: item(1),
            purpose: purpose(testkit::PURPOSE),
        },
    );
    assert_eq!(e.ledger().head()?.size, head.size + 1);
    assert!(e.ledger().report(None)?.held());
    Ok(())
}

/// Reopening loads the newest snapshot and replays only the tail: the state is the one a
/// full replay gives. A snapshot that does not fit (another history, damaged bytes, not
/// covered by the node's checkpoint) is not used, and the state is still the full replay.
#[test]
fn reopening_from_a_snapshot_gives_the_full_replays_state() -> anyhow::Result<()> {
    let mut e = env();
    for n in 1..=12u8 {
        e.ok_case(
            "KZ-MVD",
            n,
            Payload::Request(Box::new(request_to("TM-MVD"))),
        );
        e.ok_case("TM-MVD", n, Payload::Acknowledged);
    }
    let cfg = Config {
        snapshot_every: 0,
        ..Config::default()
    };
    let reopen = |e: &mut Env, cfg: &Config| {
        if let Some(l) = e.ledger.take() {
            l.shutdown();
        }
        let store = SledStore::open(e.dir.path()).expect("store");
        e.ledger = Some(Ledger::open(store, node_key(), cfg.clone()).expect("reopen"));
    };
    let full = |e: &Env| -> anyhow::Result<coop_treaty::State> {
        let records = e.ledger().records(0, u64::MAX)?;
        coop_treaty::State::replay(records.iter().map(|r| &r.record))
            .map_err(|(s, v)| anyhow::anyhow!("{s}: {v}"))
    };
    // Shutdown takes a snapshot of everything (after its final checkpoint); the ledger
    // reopened without snapshots of its own opens from it.
    let snapped = e.ledger().head()?.size;
    reopen(&mut e, &cfg);
    let snaps = e.dir.path().join("snapshots");
    let files: Vec<_> = std::fs::read_dir(&snaps)?.collect::<Result<_, _>>()?;
    assert_eq!(files.len(), 1, "one snapshot after a shutdown");
    assert_eq!(
        e.ledger().snapshot_seq(),
        snapped,
        "opened from the snapshot"
    );
    // A tail after the snapshot, replayed on the next open.
    for n in 13..=15u8 {
        e.ok_case(
            "KZ-MVD",
            n,
            Payload::Request(Box::new(request_to("TM-MVD"))),
        );
    }
    let live = e.ledger().with_state(Clone::clone)?;
    assert_eq!(live, full(&e)?);
    reopen(&mut e, &cfg);
    assert_eq!(e.ledger().with_state(Clone::clone)?, live);
    assert_eq!(
        e.ledger().snapshot_seq(),
        snapped,
        "opened from the snapshot and the tail"
    );
    let newest = |dir: &std::path::Path| -> std::path::PathBuf {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|f| f.unwrap().path())
            .collect();
        v.sort();
        v.pop().unwrap()
    };
    let only = newest(&snaps);
    assert!(only.ends_with(format!("{snapped:020}.snap")), "{only:?}");
    // Damaged: its hash fails, the store skips it, every record is replayed.
    let mut bytes = std::fs::read(&only)?;
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    std::fs::write(&only, &bytes)?;
    reopen(&mut e, &cfg);
    assert_eq!(e.ledger().with_state(Clone::clone)?, live);
    assert_eq!(e.ledger().snapshot_seq(), 0, "a damaged snapshot was used");
    // A snapshot of another history (its chain is not the store's) is not used either,
    // even with intact bytes: a state with one case removed, under the right seq.
    let mut wrong = live.clone();
    wrong.cases = wrong.cases.without_min().1;
    let store_snap = coop_store::Snapshot {
        seq: live.size,
        chain: coop_core::Hash([1; 32]),
        bytes: coop_treaty::snapshot::encode(&wrong)?,
    };
    {
        use coop_store::Store as _;
        if let Some(l) = e.ledger.take() {
            l.shutdown();
        }
        let store = SledStore::open(e.dir.path())?;
        store.put_snapshot(&store_snap)?;
        drop(store);
        let store = SledStore::open(e.dir.path())?;
        e.ledger = Some(Ledger::open(store, node_key(), cfg.clone()).expect("reopen"));
    }
    assert_eq!(e.ledger().with_state(Clone::clone)?, live);
    assert_eq!(
        e.ledger().snapshot_seq(),
        0,
        "another history's snapshot was used"
    );
    Ok(())
}

#[test]
fn a_case_replays_exactly_as_it_stood_earlier() -> anyhow::Result<()> {
    let e = env();
    let opened = e.ok_case(
        "KZ-MVD",
        1,
        Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    // The next record must be received in a later millisecond than this one (receive
    // times never decrease): wait for the clock to pass it, a condition, not a guess.
    let t_open = e
        .ledger()
        .record(opened.seq)?
        .expect("record")
        .record
        .received_at
        .0;
    while coop_ledger::system_ms() <= t_open {
        std::thread::yield_now();
    }
    let refused = e.ok_case(
        "TM-MVD",
        1,
        Payload::Refused {
            extent: Extent::Full,
            grounds: vec![RefusalGround::Sovereignty],
            reasons: coop_treaty::testkit::written(41, coop_treaty::Party::Tm),
        },
    );
    let then = e
        .ledger()
        .case(&case_id(1), Some(AsOf::Seq(opened.seq)))?
        .expect("case");
    assert_eq!(then.status, CaseStatus::Open);
    assert_eq!(then.version, 1);
    let now = e.ledger().case(&case_id(1), None)?.expect("case");
    assert_eq!(now.status, CaseStatus::Refused);
    let rec = e.ledger().record(refused.seq)?.expect("record");
    let by_time = e
        .ledger()
        .case(
            &case_id(1),
            Some(AsOf::Time(Timestamp(rec.record.received_at.0 - 1))),
        )?
        .expect("case");
    assert_eq!(by_time.status, CaseStatus::Open);
    assert!(matches!(
        e.ledger().state_as_of(AsOf::Seq(10_000)),
        Err(LedgerError::NotFound(_))
    ));
    Ok(())
}

#[test]
fn a_copy_under_another_key_opens_but_neither_sequences_nor_signs() -> anyhow::Result<()> {
    // A copy of the ledger kept by a node whose key the genesis does not name (an import,
    // a follower): its checkpoints are not this node's, so opening re-verifies every
    // signature; it signs no checkpoint of its own and refuses appends.
    let mut e = env();
    let note = e
        .ledger()
        .checkpoint_now()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let before = e.ledger().head()?;
    if let Some(l) = e.ledger.take() {
        l.shutdown();
    }
    let store = SledStore::open(e.dir.path())?;
    let other = SecretKey::from_seed(&[1; 32]);
    let l = Ledger::open(store, other, Config::default())?;
    assert_eq!(l.head()?, before);
    assert!(!l.is_sequencer());
    assert_eq!(
        l.checkpoint_now().map_err(|e| anyhow::anyhow!("{e}"))?,
        note
    );
    assert_eq!(
        l.ledger_node_verifier().map(|v| v.key),
        Some(node_key().public())
    );
    let ev = e.event("KZ-MFA", None, &Payload::TerminationNotice);
    assert!(matches!(l.submit(ev), Err(SubmitError::Unavailable(_))));
    Ok(())
}

#[test]
fn a_genesis_naming_another_node_key_or_a_moved_clock_on_a_real_ledger_is_refused() {
    let keys = testkit::keys();
    let ev = |payload: &Payload| {
        testkit::sign(
            &keys["KZ-MFA"],
            "KZ-MFA",
            None,
            EventId([1; 16]),
            Timestamp(coop_ledger::system_ms()),
            None,
            vec![],
            payload,
        )
        .expect("sign")
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let genesis = ev(&testkit::genesis_payload(&keys));
    let r = Ledger::create(
        SledStore::open(dir.path()).expect("store"),
        genesis.clone(),
        SecretKey::from_seed(&[1; 32]),
        Config::default(),
    );
    assert!(matches!(r, Err(LedgerError::Setup(m)) if m.contains("node key")));
    let clock = coop_ledger::TestClock::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let r = Ledger::create(
        SledStore::open(dir.path()).expect("store"),
        genesis,
        node_key(),
        Config {
            clock,
            ..Config::default()
        },
    );
    assert!(matches!(r, Err(LedgerError::Setup(m)) if m.contains("test ledger")));
}

#[test]
fn a_batch_lands_in_order_each_event_answered_alone() -> anyhow::Result<()> {
    // Given a request, the requested authority's acknowledgement of it (which depends on
    // the request landing first), a request missing its decision copy, and a bad signature
    let e = env();
    let case = CaseRef {
        case_id: case_id(7),
        expected_version: 0,
    };
    let request = e.event(
        "KZ-MVD",
        Some(case),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    let ack = e.event(
        "TM-MVD",
        Some(CaseRef {
            expected_version: 1,
            ..case
        }),
        &Payload::Acknowledged,
    );
    let mut bad = request_to("TM-MVD");
    bad.elements.decision_copy = None;
    let refused = e.event(
        "KZ-MVD",
        Some(CaseRef {
            case_id: case_id(8),
            expected_version: 0,
        }),
        &Payload::Request(Box::new(bad)),
    );
    let mut forged = e.event(
        "KZ-MVD",
        Some(CaseRef {
            case_id: case_id(9),
            expected_version: 0,
        }),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    forged.signature.0[0] ^= 1;
    let size = e.ledger().head()?.size;
    // When they are submitted as one batch, the refused ones in the middle
    let answers = e
        .ledger()
        .submit_batch(vec![request.clone(), refused, forged, ack.clone()]);
    // Then each has its own answer, the good ones landed in order, and the refused ones
    // wrote nothing
    assert_eq!(answers.len(), 4);
    let first = answers[0].as_ref().expect("the request lands");
    assert!(matches!(
        answers[1],
        Err(SubmitError::Refused(Violation::Art4_1_5MissingDecisionCopy))
    ));
    assert!(matches!(answers[2], Err(SubmitError::Invalid(_))));
    let last = answers[3].as_ref().expect("the acknowledgement lands");
    assert_eq!((first.seq, last.seq), (size, size + 1));
    first.verify(&e.ledger().node_key())?;
    last.verify(&e.ledger().node_key())?;
    assert_eq!(e.ledger().head()?.size, size + 2);
    assert!(e.ledger().with_state(|s| {
        !s.cases.contains_key(&case_id(8)) && !s.cases.contains_key(&case_id(9))
    })?);
    // And a batch resent whole returns the first receipts' records, appending nothing
    // (each proven in the checkpoint current when it is answered: the two may have been
    // answered by two group commits, and then the first's checkpoint is the older one)
    let again = e.ledger().submit_batch(vec![request.clone(), ack]);
    let key = e.ledger().node_key();
    for (a, want) in again.iter().zip([first, last]) {
        let a = a.as_ref().expect("a resent event is answered");
        assert!(a.same_record(want), "{a:?}\n{want:?}");
        a.verify(&key)?;
    }
    assert_eq!(e.ledger().head()?.size, size + 2);
    // And a repeat answered after a newer event landed is the same record, proven in the
    // newer checkpoint: not the first receipt byte for byte (FORMAT.md §12)
    let newer = e.event(
        "KZ-MVD",
        Some(CaseRef {
            case_id: case_id(10),
            expected_version: 0,
        }),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    let answers = e.ledger().submit_batch(vec![newer, request]);
    let repeat = answers[1].as_ref().expect("the repeat is answered");
    assert!(repeat.same_record(first));
    assert_eq!(repeat.verify(&key)?.size, size + 3);
    assert_ne!(repeat, first);
    assert_eq!(e.ledger().head()?.size, size + 3);
    Ok(())
}
