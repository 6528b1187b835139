//! The tamper suite: a real ledger (engine on sled) is exported; each mutation class is
//! applied to the export; the offline verifier must refuse it and name the right seq.
//!
//! What needs a later checkpoint to be seen: removing records from the *end* leaves a
//! shorter ledger that is internally consistent; only a checkpoint the auditor already
//! holds (a witness's, an earlier audit's) for a larger size shows the truncation.

use coop_core::checkpoint::{Checkpoint, Note, NoteVerifier, cosign, sign_checkpoint};
use coop_core::event::CaseRef;
use coop_core::{EventId, Hash, Record, SealedRecord, SecretKey, SignedEvent, Timestamp};
use coop_ledger::{Config, Ledger};
use coop_store::SledStore;
use coop_treaty::testkit::{self, case_id, item, purpose, request_to};
use coop_treaty::{Extent, InfoKind, Payload, Role};
use coop_verify::{ExportReader, ExportWriter, Item, Options, Quiet, Source, VerifyError};
use std::sync::OnceLock;

/// The node key the fixture genesis names.
fn node() -> SecretKey {
    testkit::node_key()
}

struct Fixture {
    /// The items of the export, in order.
    items: Vec<Item>,
    vkey: NoteVerifier,
    /// Seq of the record that revoked TM-MVD's first key, and that key's owner's later
    /// record (signed with the new key).
    revoked_at: u64,
    after_revocation: u64,
    /// The latest checkpoint note.
    last_checkpoint: String,
}

/// A ledger with governance, cases, a witness, a key change and several checkpoints,
/// built once through the real engine on sled and exported.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| build().expect("fixture ledger"))
}

fn build() -> anyhow::Result<Fixture> {
    let dir = tempfile::tempdir()?;
    let keys = testkit::keys();
    let k = |n: &str| keys.get(n).expect("fixture key");
    let mut next = 0u64;
    let mut sign = |signer: &str,
                    key: &SecretKey,
                    ledger: Option<coop_core::LedgerId>,
                    case: Option<CaseRef>,
                    payload: &Payload|
     -> anyhow::Result<SignedEvent> {
        next += 1;
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&next.to_be_bytes());
        Ok(testkit::sign(
            key,
            signer,
            ledger,
            EventId(id),
            Timestamp(coop_ledger::system_ms()),
            case,
            vec![],
            payload,
        )?)
    };
    let genesis = sign(
        "KZ-MFA",
        k("KZ-MFA"),
        None,
        None,
        &testkit::genesis_payload(&keys),
    )?;
    // Checkpoints only where the test asks for them.
    let config = Config {
        checkpoint_every: 1_000_000,
        checkpoint_interval: std::time::Duration::from_secs(3600),
        ..Config::default()
    };
    let (ledger, _) = Ledger::create(SledStore::open(dir.path())?, genesis, node(), config)?;
    let id = ledger.ledger_id();
    for (signer, p) in testkit::constitution(&keys) {
        ledger.submit(sign(signer, k(signer), id, None, &p)?)?;
    }
    ledger.submit(sign(
        "TM-MFA",
        k("TM-MFA"),
        id,
        None,
        &Payload::ObserverRegistered {
            id: testkit::id("TM-WITNESS"),
            role: Role::Witness,
            key: k("TM-WITNESS").public(),
        },
    )?)?;
    let witness = |l: &Ledger<SledStore>| -> anyhow::Result<()> {
        let note = l.checkpoint_now().map_err(|e| anyhow::anyhow!("{e}"))?;
        let c = cosign(&note, "TM-WITNESS", k("TM-WITNESS"), 1_764_000_000)?;
        l.store_checkpoint(&c)?;
        Ok(())
    };
    let new_tm_key = SecretKey::from_seed(&[77; 32]);
    let mut revoked_at = 0;
    let mut after_revocation = 0;
    for n in 1..=12u8 {
        if n == 7 {
            // TM-MVD's key is replaced: records after this must use the new one.
            let r = ledger.submit(sign(
                "TM-MFA",
                k("TM-MFA"),
                id,
                None,
                &Payload::AuthorityKeyChanged {
                    authority: testkit::id("TM-MVD"),
                    new_key: new_tm_key.public(),
                },
            )?)?;
            revoked_at = r.seq;
        }
        let tm_key = if n >= 7 { &new_tm_key } else { k("TM-MVD") };
        let at = |v| {
            Some(CaseRef {
                case_id: case_id(n),
                expected_version: v,
            })
        };
        ledger.submit(sign(
            "KZ-MVD",
            k("KZ-MVD"),
            id,
            at(0),
            &Payload::Request(Box::new(request_to("TM-MVD"))),
        )?)?;
        let ack = ledger.submit(sign("TM-MVD", tm_key, id, at(1), &Payload::Acknowledged)?)?;
        if n == 8 {
            after_revocation = ack.seq;
        }
        ledger.submit(sign(
            "TM-MVD",
            tm_key,
            id,
            at(2),
            &Payload::InformationTransferred {
                item: item(n),
                recipient: testkit::id("KZ-MVD"),
                kind: InfoKind::Forensic,
                restricted: true,
                permitted_purposes: vec![purpose(testkit::PURPOSE)],
                no_state_secret: true,
                documents: coop_treaty::testkit::written(60 + n, coop_treaty::Party::Tm),
            },
        )?)?;
        ledger.submit(sign(
            "KZ-MVD",
            k("KZ-MVD"),
            id,
            at(3),
            &Payload::InformationUsed {
                item: item(n),
                purpose: purpose(testkit::PURPOSE),
            },
        )?)?;
        ledger.submit(sign(
            "TM-MVD",
            tm_key,
            id,
            at(4),
            &Payload::ExecutionReported {
                extent: Extent::Full,
                reasons: vec![],
                search_outcome: None,
                results: vec![],
            },
        )?)?;
        if n % 4 == 0 {
            witness(&ledger)?;
        }
    }
    // A few records after the last checkpoint: present, valid, not yet covered.
    ledger.submit(sign(
        "KZ-MVD",
        k("KZ-MVD"),
        id,
        Some(CaseRef {
            case_id: case_id(1),
            expected_version: 5,
        }),
        &Payload::CaseClosed,
    )?)?;
    let size = ledger.head()?.size;
    let vkey = ledger.node_verifier().expect("a genesis");
    let mut w = ExportWriter::new(Vec::new(), &[vkey.to_vkey()])?;
    let sizes = ledger.checkpoint_sizes()?;
    for r in ledger.records(0, size)? {
        w.record(&r.bytes)?;
        if sizes.contains(&(r.record.seq + 1)) {
            w.checkpoint(
                &ledger
                    .checkpoint(r.record.seq + 1)?
                    .expect("stored checkpoint"),
            )?;
        }
    }
    let (bytes, _) = w.finish()?;
    let last_checkpoint = ledger.latest_checkpoint()?.expect("a checkpoint").1;
    // The engine's own last checkpoint on shutdown would cover the tail; the export was
    // taken before, on purpose.
    drop(ledger);
    let mut reader = ExportReader::new(bytes.as_slice())?;
    let mut items = Vec::new();
    while let Some(i) = reader.next_item()? {
        items.push(i);
    }
    Ok(Fixture {
        items,
        vkey,
        revoked_at,
        after_revocation,
        last_checkpoint,
    })
}

fn options() -> Options {
    Options {
        nodes: vec![fixture().vkey.clone()],
        ..Options::default()
    }
}

/// Re-serialises items as an export and verifies it.
fn verify_items(items: &[Item], options: &Options) -> Result<coop_verify::Verified, VerifyError> {
    let mut w = ExportWriter::new(Vec::new(), &[fixture().vkey.to_vkey()]).expect("writer");
    for i in items {
        match i {
            Item::Record(b) => w.record(b).expect("write"),
            Item::Checkpoint(n) => w.checkpoint(n).expect("write"),
        }
    }
    let (bytes, _) = w.finish().expect("finish");
    let mut r = ExportReader::new(bytes.as_slice())?;
    coop_verify::verify(&mut r, options, &mut Quiet)
}

/// Index in `items` of record `seq`.
fn pos_of(items: &[Item], seq: u64) -> usize {
    let mut n = 0;
    for (i, it) in items.iter().enumerate() {
        if let Item::Record(_) = it {
            if n == seq {
                return i;
            }
            n += 1;
        }
    }
    panic!("no record {seq}")
}

fn record(items: &[Item], seq: u64) -> Record {
    match &items[pos_of(items, seq)] {
        Item::Record(b) => {
            SealedRecord::from_bytes(seq, b.clone())
                .expect("record")
                .record
        }
        Item::Checkpoint(_) => unreachable!(),
    }
}

fn with_record(items: &[Item], seq: u64, r: &Record) -> Vec<Item> {
    let mut out = items.to_vec();
    out[pos_of(items, seq)] = Item::Record(r.to_bytes().expect("encode"));
    out
}

fn records(items: &[Item]) -> u64 {
    items
        .iter()
        .filter(|i| matches!(i, Item::Record(_)))
        .count() as u64
}

fn assert_fails_at(result: Result<coop_verify::Verified, VerifyError>, seq: u64, what: &str) {
    match result {
        Ok(_) => panic!("{what}: verification passed"),
        Err(e) => assert_eq!(e.seq(), Some(seq), "{what}: wrong seq in: {e}"),
    }
}

#[test]
fn the_untouched_export_verifies_with_its_checkpoints_and_cosignatures() {
    let f = fixture();
    let v = verify_items(&f.items, &options()).expect("verifies");
    assert_eq!(v.size, records(&f.items));
    assert_eq!(v.checkpoints.len(), 3);
    assert!(v.checkpoints.iter().all(|c| c.cosigned_by.len() == 1));
    assert!(v.report.held());
    assert_eq!(v.uncovered(), 1);
    assert!(v.node_key_pinned);
}

#[test]
fn a_changed_field_of_any_kind_is_caught_at_its_record() {
    let f = fixture();
    let seq = 20;
    let base = record(&f.items, seq);
    let flip = |h: &Hash| {
        let mut h = *h;
        h.0[5] ^= 0x10;
        h
    };
    type Mutation = (&'static str, Box<dyn Fn(&mut Record)>);
    let mutations: Vec<Mutation> = vec![
        ("seq", Box::new(|r| r.seq ^= 1 << 3)),
        (
            "previous chain hash",
            Box::new(move |r| r.prev_chain = flip(&r.prev_chain)),
        ),
        (
            "node receive time",
            Box::new(|r| r.received_at.0 ^= 1 << 20),
        ),
        (
            "governance head",
            Box::new(move |r| r.governance = flip(&r.governance)),
        ),
        ("format version", Box::new(|r| r.event.body.version ^= 1)),
        (
            "ledger id",
            Box::new(move |r| {
                r.event.body.ledger_id = r
                    .event
                    .body
                    .ledger_id
                    .map(|l| coop_core::LedgerId(flip(&l.0)));
            }),
        ),
        ("event id", Box::new(|r| r.event.body.event_id.0[3] ^= 1)),
        (
            "author id",
            Box::new(|r| r.event.body.author.authority = testkit::id("KZ-KNB")),
        ),
        (
            "author key",
            Box::new(|r| r.event.body.author.key.0[7] ^= 1),
        ),
        ("author time", Box::new(|r| r.event.body.authored_at.0 ^= 1)),
        (
            "case",
            Box::new(|r| {
                if let Some(c) = &mut r.event.body.case {
                    c.expected_version ^= 1;
                }
            }),
        ),
        (
            "answers",
            Box::new(|r| r.event.body.answers.push(Hash([1; 32]))),
        ),
        (
            "payload",
            Box::new(|r| {
                if let Some(b) = r.event.body.payload.last_mut() {
                    *b ^= 1;
                }
            }),
        ),
        ("signature", Box::new(|r| r.event.signature.0[10] ^= 1)),
    ];
    for (what, m) in mutations {
        let mut r = base.clone();
        m(&mut r);
        assert_fails_at(
            verify_items(&with_record(&f.items, seq, &r), &options()),
            seq,
            what,
        );
    }
}

#[test]
fn a_flipped_byte_anywhere_in_a_record_is_caught_at_that_record() {
    let f = fixture();
    let seq = 33;
    let i = pos_of(&f.items, seq);
    let Item::Record(bytes) = &f.items[i] else {
        unreachable!()
    };
    for at in 0..bytes.len() {
        let mut items = f.items.clone();
        let mut b = bytes.clone();
        b[at] ^= 0x01;
        items[i] = Item::Record(b);
        assert_fails_at(verify_items(&items, &options()), seq, &format!("byte {at}"));
    }
}

#[test]
fn dropped_duplicated_and_swapped_records_are_caught() {
    let f = fixture();
    let seq = 40;
    let i = pos_of(&f.items, seq);
    let mut dropped = f.items.clone();
    dropped.remove(i);
    assert_fails_at(verify_items(&dropped, &options()), seq, "dropped");

    let mut duplicated = f.items.clone();
    duplicated.insert(i + 1, f.items[i].clone());
    assert_fails_at(verify_items(&duplicated, &options()), seq + 1, "duplicated");

    let mut swapped = f.items.clone();
    swapped.swap(i, pos_of(&f.items, seq + 1));
    assert_fails_at(verify_items(&swapped, &options()), seq, "swapped");
}

#[test]
fn a_record_re_signed_with_a_replaced_key_is_caught() {
    // Someone holding TM-MVD's old key (replaced at `revoked_at`) re-signs a later record
    // of TM-MVD with it: the signature is valid, but the key was no longer active there.
    let f = fixture();
    let seq = f.after_revocation;
    assert!(seq > f.revoked_at);
    let mut r = record(&f.items, seq);
    let old = testkit::keys().remove("TM-MVD").expect("key");
    r.event.body.author.key = old.public();
    r.event = SignedEvent::sign(r.event.body.clone(), &old).expect("sign");
    let err = verify_items(&with_record(&f.items, seq, &r), &options()).expect_err("fails");
    assert_eq!(err.seq(), Some(seq), "{err}");
    assert!(err.to_string().contains("Art. 3"), "{err}");
}

#[test]
fn a_forged_record_appended_with_a_valid_chain_is_caught() {
    let f = fixture();
    let v = verify_items(&f.items, &options()).expect("verifies");
    let last = record(&f.items, v.size - 1);
    // A stranger's key, claiming to be KZ-MVD, correctly chained after the head.
    let stranger = SecretKey::from_seed(&[66; 32]);
    let ev = testkit::sign(
        &stranger,
        "KZ-MVD",
        Some(v.ledger_id),
        EventId([0xEE; 16]),
        last.received_at,
        Some(CaseRef {
            case_id: case_id(2),
            expected_version: 5,
        }),
        vec![],
        &Payload::CaseClosed,
    )
    .expect("sign");
    let forged = Record {
        seq: v.size,
        prev_chain: v.chain_head,
        received_at: last.received_at,
        governance: v.state.governance.head,
        event: ev,
    };
    let mut items = f.items.clone();
    items.push(Item::Record(forged.to_bytes().expect("encode")));
    assert_fails_at(verify_items(&items, &options()), v.size, "forged");
}

#[test]
fn a_truncated_tail_is_seen_only_against_a_later_checkpoint() {
    let f = fixture();
    let full = records(&f.items);
    // Cut the ledger back to the second checkpoint: what remains is consistent.
    let cut_at = f
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| matches!(i, Item::Checkpoint(_)))
        .nth(1)
        .map(|(i, _)| i)
        .expect("two checkpoints");
    let truncated: Vec<Item> = f.items[..=cut_at].to_vec();
    let kept = records(&truncated);
    assert!(kept < full);
    assert!(
        verify_items(&truncated, &options()).is_ok(),
        "alone, a clean cut verifies"
    );
    let with_later = Options {
        known_checkpoints: vec![f.last_checkpoint.clone()],
        ..options()
    };
    let r = verify_items(&truncated, &with_later);
    assert!(
        matches!(r, Err(VerifyError::Truncated { size, .. }) if size == kept),
        "{r:?}"
    );
    // And the later checkpoint matches the full ledger.
    assert!(verify_items(&f.items, &with_later).is_ok());
}

#[test]
fn a_checkpoint_with_a_wrong_root_is_caught() {
    let f = fixture();
    let i = f
        .items
        .iter()
        .position(|i| matches!(i, Item::Checkpoint(_)))
        .expect("a checkpoint");
    let Item::Checkpoint(note) = &f.items[i] else {
        unreachable!()
    };
    let text = Note::parse(note).expect("note").text;
    let mut cp = Checkpoint::parse_body(&text).expect("body");
    let size = cp.size;
    cp.root.0[0] ^= 1;
    // Re-signed by the node's own key (a compromised or faulty node)...
    let resigned = sign_checkpoint(&cp, &node()).expect("sign");
    let mut items = f.items.clone();
    items[i] = Item::Checkpoint(resigned);
    assert_fails_at(
        verify_items(&items, &options()),
        size - 1,
        "re-signed wrong root",
    );
    // ...or altered without the key.
    let altered = note.replacen(&text, &cp.body(), 1);
    let mut items = f.items.clone();
    items[i] = Item::Checkpoint(altered);
    assert_fails_at(
        verify_items(&items, &options()),
        size - 1,
        "unsigned wrong root",
    );
}

#[test]
fn an_unpinned_node_key_is_reported_and_a_wrong_pinned_one_fails() {
    let f = fixture();
    let v = verify_items(&f.items, &Options::default()).expect("verifies");
    assert!(!v.node_key_pinned);
    let wrong = Options {
        nodes: vec![NoteVerifier {
            key: SecretKey::from_seed(&[1; 32]).public(),
            ..f.vkey.clone()
        }],
        ..Options::default()
    };
    // The ledger names its node key in its genesis: a pin that is not that key says this
    // is not the ledger the auditor expects, at record 0.
    let r = verify_items(&f.items, &wrong);
    assert!(
        matches!(&r, Err(VerifyError::Record { seq: 0, what }) if what.contains("pinned")),
        "{r:?}"
    );
}

#[test]
fn garbage_never_panics_and_is_a_clean_error() {
    let f = fixture();
    let mut w = ExportWriter::new(Vec::new(), &[f.vkey.to_vkey()]).expect("writer");
    for i in &f.items {
        if let Item::Record(b) = i {
            w.record(b).expect("write");
        }
    }
    let (bytes, _) = w.finish().expect("finish");
    // Every truncation of the file, and pseudo-random bytes.
    for cut in (0..bytes.len()).step_by(97) {
        let mut r = match ExportReader::new(&bytes[..cut]) {
            Ok(r) => r,
            Err(e) => {
                assert!(matches!(e, VerifyError::Input(_)));
                continue;
            }
        };
        assert!(coop_verify::verify(&mut r, &options(), &mut Quiet).is_err());
    }
    let mut x = 0x2545F4914F6CDD1Du64;
    let mut junk = coop_verify::EXPORT_MAGIC.to_vec();
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        junk.push(x as u8);
    }
    let r = ExportReader::new(junk.as_slice())
        .and_then(|mut r| coop_verify::verify(&mut r, &options(), &mut Quiet));
    assert!(r.is_err());
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 64, ..Default::default() })]

    /// Any byte of any record, changed in any way, is caught, and the failure names that
    /// record (the last record, which nothing follows, is judged by the checkpoint or by
    /// its own signature).
    #[test]
    fn any_changed_byte_of_any_record_is_caught_at_that_record(
        pick in 0usize..1000, at in 0usize..4096, xor in 1u8..=255,
    ) {
        let f = fixture();
        let n = records(&f.items);
        // Every record but the last, whose successor cannot vouch for it.
        let seq = (pick as u64) % (n - 1);
        let i = pos_of(&f.items, seq);
        let Item::Record(bytes) = &f.items[i] else { unreachable!() };
        let mut b = bytes.clone();
        let k = at % b.len();
        b[k] ^= xor;
        let mut items = f.items.clone();
        items[i] = Item::Record(b);
        let r = verify_items(&items, &options());
        proptest::prop_assert!(r.is_err(), "record {seq} byte {k} ^ {xor:#x} passed");
        let e = r.expect_err("checked");
        proptest::prop_assert_eq!(e.seq(), Some(seq), "record {} byte {} ^ {:#x}: {}", seq, k, xor, e);
    }
}

/// A node holding its own key rewrites the history from record `from` on: `edit` changes
/// the records, which are then re-chained, and every checkpoint from there is re-signed
/// (cosignatures dropped: a witness would not sign again). What only the rules can catch.
fn rewritten(items: &[Item], from: u64, edit: impl Fn(&mut Record)) -> Vec<Item> {
    let mut out = Vec::new();
    let mut chain = None;
    let mut frontier = coop_core::merkle::Frontier::<coop_core::merkle::Blake3Hasher>::new();
    let mut seq = 0u64;
    for it in items {
        match it {
            Item::Record(b) => {
                let mut r = SealedRecord::from_bytes(seq, b.clone())
                    .expect("record")
                    .record;
                if seq >= from {
                    if let Some(c) = chain {
                        r.prev_chain = c;
                    }
                    edit(&mut r);
                }
                let sealed = r.seal().expect("seal");
                chain = Some(sealed.chain);
                frontier.push(sealed.leaf, |_, _, _| {});
                out.push(Item::Record(sealed.bytes));
                seq += 1;
            }
            Item::Checkpoint(n) if seq > from => {
                let text = Note::parse(n).expect("note").text;
                let mut cp = Checkpoint::parse_body(&text).expect("body");
                cp.root = frontier.root();
                cp.chain_head = chain.expect("records");
                out.push(Item::Checkpoint(
                    sign_checkpoint(&cp, &node()).expect("sign"),
                ));
            }
            other => out.push(other.clone()),
        }
    }
    out
}

#[test]
fn time_that_runs_backwards_is_caught_even_re_chained_and_re_signed() {
    let f = fixture();
    let seq = 30;
    let before = record(&f.items, seq - 1).received_at;
    // Record 30 received before record 29.
    let items = rewritten(&f.items, seq, |r| {
        if r.seq == seq {
            r.received_at = coop_core::Timestamp(before.0 - 1);
        }
    });
    let err = verify_items(&items, &options()).expect_err("fails");
    assert_eq!(err.seq(), Some(seq), "{err}");
    assert!(err.to_string().contains("Time"), "{err}");
    // Every record from 30 on received a day later than its author signed it (times
    // still non-decreasing): the author's clock is outside the window.
    let items = rewritten(&f.items, seq, |r| {
        r.received_at = coop_core::Timestamp(r.received_at.0 + 24 * 3_600_000);
    });
    let err = verify_items(&items, &options()).expect_err("fails");
    assert_eq!(err.seq(), Some(seq), "{err}");
    assert!(err.to_string().contains("authored"), "{err}");
}

#[test]
fn a_checkpoint_dated_before_its_records_is_caught() {
    let f = fixture();
    let i = f
        .items
        .iter()
        .position(|it| matches!(it, Item::Checkpoint(_)))
        .expect("a checkpoint");
    let Item::Checkpoint(n) = &f.items[i] else {
        unreachable!()
    };
    let mut cp = Checkpoint::parse_body(&Note::parse(n).expect("note").text).expect("body");
    cp.time = coop_core::Timestamp(cp.time.0 - 24 * 3_600_000);
    let mut items = f.items.clone();
    items[i] = Item::Checkpoint(sign_checkpoint(&cp, &node()).expect("sign"));
    let err = verify_items(&items, &options()).expect_err("fails");
    assert!(
        matches!(&err, VerifyError::Checkpoint { size, what } if *size == cp.size && what.contains("before its last record")),
        "{err}"
    );
}

/// Perfect-subtree hashes from the leaves, for inclusion proofs.
struct Leaves(Vec<Hash>);
impl coop_core::merkle::NodeReader<Hash> for Leaves {
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

#[test]
fn every_single_record_left_out_of_every_bundle_is_caught() {
    use coop_core::merkle::{Blake3Hasher, Frontier, inclusion_proof};
    use coop_verify::{Bundle, BundleEntry, verify_bundle};
    let f = fixture();
    let sealed: Vec<SealedRecord> = f
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Record(b) => Some(b.clone()),
            Item::Checkpoint(_) => None,
        })
        .enumerate()
        .map(|(s, b)| SealedRecord::from_bytes(s as u64, b).expect("record"))
        .collect();
    let state = coop_treaty::State::replay(sealed.iter().map(|s| &s.record)).expect("replays");
    let leaves = Leaves(sealed.iter().map(|s| s.leaf).collect());
    let size = sealed.len() as u64;
    let mut frontier = Frontier::<Blake3Hasher>::new();
    for s in &sealed {
        frontier.push(s.leaf, |_, _, _| {});
    }
    let cp = Checkpoint {
        ledger_id: state.ledger_id.expect("id"),
        size,
        root: frontier.root(),
        chain_head: sealed.last().expect("records").chain,
        time: state.last_time,
    };
    let note = sign_checkpoint(&cp, &node()).expect("sign");
    let mut bundles = 0;
    let mut drops = 0;
    for case in state.cases.keys() {
        let seqs = coop_treaty::bundle_seqs(&state, case, size, |s| {
            sealed.get(s as usize).map(|r| r.record.clone())
        })
        .expect("case");
        let bundle = Bundle {
            case: *case,
            checkpoint: note.clone(),
            entries: seqs
                .iter()
                .map(|s| BundleEntry {
                    record: sealed[*s as usize].bytes.clone(),
                    proof: inclusion_proof::<Blake3Hasher, _>(&leaves, *s, size).expect("proof"),
                })
                .collect(),
        };
        verify_bundle(&bundle, Some(&f.vkey)).expect("the honest bundle verifies");
        bundles += 1;
        // Every record before the case's last (what follows it is the governance up to
        // the checkpoint, which the checkpoint's keys need).
        let case_last = state.cases[case].steps.last().expect("steps").seq;
        let last = seqs.iter().filter(|s| **s < case_last).count();
        for i in 0..last {
            let mut b = bundle.clone();
            b.entries.remove(i);
            assert!(
                verify_bundle(&b, Some(&f.vkey)).is_err(),
                "case {case}: leaving out record {} went unnoticed",
                seqs.iter().nth(i).expect("seq")
            );
            drops += 1;
        }
    }
    assert_eq!(bundles, 12);
    assert!(drops > 12 * 10, "{drops}");
}
