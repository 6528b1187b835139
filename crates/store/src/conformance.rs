//! One conformance suite, run against every [`Store`] implementation: the durable sled
//! store and the in-memory twin must behave identically under [`Log`].

use crate::{Log, MemStore, SledStore, Store, StoreError, WriteBatch};
use coop_core::checkpoint::{Checkpoint, sign_checkpoint};
use coop_core::merkle::{Blake3Hasher, verify_consistency, verify_inclusion};
use coop_core::testkit;
use coop_core::{CHAIN_SEED, EventId, Hash, LedgerId, Record, SecretKey, SignedEvent, Timestamp};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;

type R = anyhow::Result<()>;

/// How a suite makes, restarts and damages stores of one kind.
pub(crate) trait Harness {
    type S: Store;
    fn fresh(&mut self) -> Self::S;
    fn reopen(&mut self, s: Self::S) -> Self::S;
    fn remove_record(&self, s: &Self::S, seq: u64);
    /// Whether the store keeps a journal it repairs from (the durable store does).
    fn journaled(&self) -> bool {
        false
    }
}

struct Mem;
impl Harness for Mem {
    type S = MemStore;
    fn fresh(&mut self) -> MemStore {
        MemStore::new()
    }
    fn reopen(&mut self, s: MemStore) -> MemStore {
        s
    }
    fn remove_record(&self, s: &MemStore, seq: u64) {
        s.damage_remove_record(seq).expect("damage");
    }
}

struct Sled {
    dir: tempfile::TempDir,
    n: usize,
}
impl Harness for Sled {
    type S = SledStore;
    fn fresh(&mut self) -> SledStore {
        self.n += 1;
        SledStore::open(self.dir.path().join(self.n.to_string())).expect("open sled")
    }
    fn reopen(&mut self, s: SledStore) -> SledStore {
        let path = s.path().to_path_buf();
        drop(s);
        SledStore::open(path).expect("reopen sled")
    }
    fn remove_record(&self, s: &SledStore, seq: u64) {
        s.damage_record(seq).expect("damage");
    }
    fn journaled(&self) -> bool {
        true
    }
}

fn sled() -> Sled {
    Sled {
        dir: tempfile::tempdir().expect("tempdir"),
        n: 0,
    }
}

/// The durable store with every read of a file cut short (the simulated fault layer,
/// ADR 0022): a store must behave exactly as with whole reads. Each run checks that
/// short reads were injected whenever a file was read.
struct ShortReads {
    inner: Sled,
    plan: std::sync::Arc<crate::Plan>,
}

impl ShortReads {
    fn new() -> ShortReads {
        let plan = crate::Plan::new(
            7,
            crate::Rule::Random {
                points: vec![
                    crate::Point::JournalRead,
                    crate::Point::SnapshotRead,
                    crate::Point::PreRead,
                ],
                per_million: 1_000_000,
                faults: vec![crate::Fault::ShortRead],
            },
        );
        let plan = if std::env::var_os("COOP_FAULTS_OFF").is_some() {
            plan.disabled()
        } else {
            plan
        };
        ShortReads {
            inner: sled(),
            plan: std::sync::Arc::new(plan),
        }
    }

    fn open(&self, path: &std::path::Path) -> SledStore {
        SledStore::open_with(
            path,
            crate::SledOptions {
                faults: crate::Faults::plan(std::sync::Arc::clone(&self.plan)),
                ..crate::SledOptions::default()
            },
        )
        .expect("open sled with short reads")
    }

    /// Every read of a journal or snapshot file was cut short.
    fn check(&self) -> R {
        let reads = self.plan.calls(crate::Point::JournalRead)
            + self.plan.calls(crate::Point::SnapshotRead);
        let short: u64 = self
            .plan
            .injected()
            .iter()
            .filter(|((p, _), _)| {
                matches!(p, crate::Point::JournalRead | crate::Point::SnapshotRead)
            })
            .map(|(_, n)| n)
            .sum();
        anyhow::ensure!(
            short == reads,
            "{reads} file reads, {short} cut short: the fault layer did not act"
        );
        Ok(())
    }
}

impl Harness for ShortReads {
    type S = SledStore;
    fn fresh(&mut self) -> SledStore {
        self.inner.n += 1;
        let path = self.inner.dir.path().join(self.inner.n.to_string());
        self.open(&path)
    }
    fn reopen(&mut self, s: SledStore) -> SledStore {
        let path = s.path().to_path_buf();
        drop(s);
        self.open(&path)
    }
    fn remove_record(&self, s: &SledStore, seq: u64) {
        s.damage_record(seq).expect("damage");
    }
    fn journaled(&self) -> bool {
        true
    }
}

fn genesis() -> (SignedEvent, LedgerId) {
    testkit::genesis().expect("fixture genesis")
}

/// Events with the empty governance head: the store does not judge payloads (the treaty
/// does), it stores what the engine states.
fn ungoverned(events: Vec<SignedEvent>) -> Vec<(SignedEvent, Hash)> {
    events.into_iter().map(|e| (e, Hash::ZERO)).collect()
}

fn events(ledger: LedgerId, from: u64, count: u64) -> Vec<SignedEvent> {
    testkit::events(ledger, from, count).expect("fixture events")
}

/// A log with genesis plus `n - 1` events, appended in uneven batches.
fn filled<H: Harness>(h: &mut H, n: u64) -> anyhow::Result<(Log<H::S>, LedgerId)> {
    let log = Log::open(h.fresh())?;
    let (g, ledger) = genesis();
    log.append_events(vec![(g, Hash::ZERO)], Timestamp(1))?;
    let mut next = 1;
    let mut batch = 1;
    while next < n {
        let k = batch.min(n - next);
        log.append_events(ungoverned(events(ledger, next, k)), Timestamp(next))?;
        next += k;
        batch = batch % 7 + 1;
    }
    Ok((log, ledger))
}

fn checkpoint_note<S: Store>(log: &Log<S>, ledger: LedgerId, size: u64) -> anyhow::Result<String> {
    let cp = Checkpoint {
        ledger_id: ledger,
        size,
        root: log.root_at(size)?,
        chain_head: if size == 0 {
            CHAIN_SEED
        } else {
            log.store().chain(size - 1)?.expect("chain")
        },
        time: Timestamp(99),
    };
    Ok(sign_checkpoint(&cp, &testkit::node_key())?)
}

fn empty_log<H: Harness>(h: &mut H) -> R {
    let log = Log::open(h.fresh())?;
    let head = log.head()?;
    assert_eq!(head.size, 0);
    assert_eq!(head.chain_head, CHAIN_SEED);
    assert_eq!(head.root, Hash(*blake3::hash(b"").as_bytes()));
    assert_eq!(log.ledger_id()?, None);
    assert!(log.record(0)?.is_none());
    log.verify_all()?;
    Ok(())
}

fn append_read_prove_reopen<H: Harness>(h: &mut H) -> R {
    let (log, ledger) = filled(h, 40)?;
    assert_eq!(log.ledger_id()?, Some(ledger));
    let head = log.head()?;
    assert_eq!(head.size, 40);
    let all: Vec<_> = log.records(0, 40).collect::<Result<_, _>>()?;
    assert_eq!(all.len(), 40);
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r.record.seq, i as u64);
        assert_eq!(log.seq_of(&r.record.event.body.event_id)?, Some(i as u64));
        let p = log.inclusion_proof(i as u64, 40)?;
        verify_inclusion::<Blake3Hasher>(i as u64, 40, &r.leaf, &p, &head.root)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    assert_eq!(all.last().map(|r| r.chain), Some(head.chain_head));
    for a in 1..=40 {
        let p = log.consistency_proof(a, 40)?;
        verify_consistency::<Blake3Hasher>(a, 40, &log.root_at(a)?, &head.root, &p)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    assert_eq!(log.records(10, 13).count(), 3);
    assert_eq!(log.records(38, 100).count(), 2);
    assert!(matches!(
        log.inclusion_proof(40, 41),
        Err(StoreError::Conflict(_))
    ));
    let log = Log::open(h.reopen(log.into_store()))?;
    assert_eq!(log.head()?, head);
    assert_eq!(log.verify_all()?, head);
    // The event-id index, rebuilt from what is stored: every id to its seq, and a used id
    // refused again.
    for r in &all {
        assert_eq!(
            log.seq_of(&r.record.event.body.event_id)?,
            Some(r.record.seq)
        );
    }
    assert!(matches!(
        log.append_events(ungoverned(events(ledger, 7, 1)), Timestamp(5)),
        Err(StoreError::Conflict(_))
    ));
    // Appending after a reopen continues the same chain.
    log.append_events(ungoverned(events(ledger, 40, 3)), Timestamp(5))?;
    assert_eq!(log.head()?.size, 43);
    log.verify_all()?;
    Ok(())
}

fn refused_appends_change_nothing<H: Harness>(h: &mut H) -> R {
    let (log, ledger) = filled(h, 10)?;
    let before = log.head()?;
    // A batch whose third event reuses an id already in the ledger: nothing is written.
    let mut batch = events(ledger, 10, 3);
    batch[2] = events(ledger, 4, 1).remove(0);
    assert!(matches!(
        log.append_events(ungoverned(batch), Timestamp(1)),
        Err(StoreError::Conflict(_))
    ));
    // An id repeated inside one batch.
    let mut batch = events(ledger, 10, 2);
    batch.push(batch[0].clone());
    assert!(matches!(
        log.append_events(ungoverned(batch), Timestamp(1)),
        Err(StoreError::Conflict(_))
    ));
    // Records that do not continue the log.
    let r = Record {
        seq: 11,
        prev_chain: before.chain_head,
        received_at: Timestamp(1),
        governance: Hash::ZERO,
        event: events(ledger, 20, 1).remove(0),
    }
    .seal()?;
    assert!(matches!(
        log.append_records(vec![r]),
        Err(StoreError::Conflict(_))
    ));
    let r = Record {
        seq: 10,
        prev_chain: Hash([1; 32]),
        received_at: Timestamp(1),
        governance: Hash::ZERO,
        event: events(ledger, 20, 1).remove(0),
    }
    .seal()?;
    assert!(matches!(
        log.append_records(vec![r]),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(log.head()?, before);
    assert_eq!(log.store().size()?, 10);
    assert!(
        log.seq_of(&events(ledger, 10, 1)[0].body.event_id)?
            .is_none()
    );
    let log = Log::open(h.reopen(log.into_store()))?;
    assert_eq!(log.head()?, before);
    Ok(())
}

fn checkpoints<H: Harness>(h: &mut H) -> R {
    let (log, ledger) = filled(h, 20)?;
    let note = checkpoint_note(&log, ledger, 12)?;
    let cp = log.put_checkpoint(&note)?;
    assert_eq!(cp.size, 12);
    assert_eq!(log.checkpoint(12)?, Some(note.clone()));
    // A checkpoint that does not match the log, or is beyond it, or is for another ledger.
    let wrong = checkpoint_note(&log, ledger, 12)?.replace(
        &coop_core::checkpoint::Note::parse(&note)?.text,
        &Checkpoint {
            root: Hash([9; 32]),
            ..cp.clone()
        }
        .body(),
    );
    assert!(matches!(
        log.put_checkpoint(&wrong),
        Err(StoreError::Conflict(_))
    ));
    let other = Checkpoint {
        ledger_id: LedgerId(Hash([5; 32])),
        ..cp.clone()
    };
    let other = sign_checkpoint(&other, &SecretKey::from_seed(&[7; 32]))?;
    assert!(matches!(
        log.put_checkpoint(&other),
        Err(StoreError::Conflict(_))
    ));
    let beyond = Checkpoint {
        size: 21,
        ..cp.clone()
    };
    let beyond = sign_checkpoint(&beyond, &SecretKey::from_seed(&[7; 32]))?;
    assert!(matches!(
        log.put_checkpoint(&beyond),
        Err(StoreError::Conflict(_))
    ));
    let note20 = checkpoint_note(&log, ledger, 20)?;
    log.put_checkpoint(&note20)?;
    assert_eq!(log.latest_checkpoint()?, Some((20, note20)));
    let log = Log::open(h.reopen(log.into_store()))?;
    assert_eq!(log.store().checkpoint_sizes()?, vec![12, 20]);
    log.verify_all()?;
    Ok(())
}

fn expect_corrupt_at<S: Store>(r: Result<Log<S>, StoreError>, seq: u64) {
    match r {
        Err(StoreError::Corrupt { seq: Some(s), .. }) => assert_eq!(s, seq, "wrong seq named"),
        Err(other) => panic!("expected corruption at {seq}, got {other}"),
        Ok(_) => panic!("damaged store at {seq} was opened"),
    }
}

fn damage_is_refused_on_open<H: Harness>(h: &mut H) -> R {
    // Each damage on a fresh log of 30 records with a checkpoint at 20.
    let setup = |h: &mut H| -> anyhow::Result<(Log<H::S>, LedgerId)> {
        let (log, ledger) = filled(h, 30)?;
        log.put_checkpoint(&checkpoint_note(&log, ledger, 20)?)?;
        Ok((log, ledger))
    };

    // A record in the tail replaced by another well-formed record.
    let (log, ledger) = setup(h)?;
    let fake = Record {
        seq: 25,
        prev_chain: log.store().chain(24)?.expect("chain"),
        received_at: Timestamp(7),
        governance: Hash::ZERO,
        event: events(ledger, 1000, 1).remove(0),
    }
    .seal()?;
    let s = log.into_store();
    s.write(&WriteBatch {
        records: vec![(25, fake.bytes.clone(), fake.chain, EventId([0xFF; 16]))],
        ..WriteBatch::default()
    })?;
    expect_corrupt_at(Log::open(h.reopen(s)), 25);

    // Garbage bytes in the tail.
    let (log, _) = setup(h)?;
    let s = log.into_store();
    let ch = s.chain(22)?.expect("chain");
    s.write(&WriteBatch {
        records: vec![(22, vec![1, 2, 3], ch, EventId([0xFE; 16]))],
        ..WriteBatch::default()
    })?;
    expect_corrupt_at(Log::open(h.reopen(s)), 22);

    // A stored chain hash altered.
    let (log, _) = setup(h)?;
    let s = log.into_store();
    let bytes = s.record(27)?.expect("record");
    let sealed = coop_core::SealedRecord::from_bytes(27, bytes.clone())?;
    s.write(&WriteBatch {
        records: vec![(27, bytes, Hash([3; 32]), sealed.record.event.body.event_id)],
        ..WriteBatch::default()
    })?;
    expect_corrupt_at(Log::open(h.reopen(s)), 27);

    // A leaf node altered.
    let (log, _) = setup(h)?;
    let s = log.into_store();
    s.write(&WriteBatch {
        nodes: vec![((0, 23), Hash([4; 32]))],
        ..WriteBatch::default()
    })?;
    expect_corrupt_at(Log::open(h.reopen(s)), 23);

    // A record missing in the middle of the tail.
    let (log, _) = setup(h)?;
    let s = log.into_store();
    h.remove_record(&s, 24);
    expect_corrupt_at(Log::open(h.reopen(s)), 24);

    // Truncated below the checkpoint: records 18.. removed. The durable store rebuilds
    // them from its journal; a store without one refuses.
    let (log, _) = setup(h)?;
    let head = log.head()?;
    let s = log.into_store();
    for seq in (18..30).rev() {
        h.remove_record(&s, seq);
    }
    if h.journaled() {
        let log = Log::open(h.reopen(s))?;
        assert_eq!(log.head()?, head);
        log.verify_all()?;
    } else {
        expect_corrupt_at(Log::open(h.reopen(s)), 18);
    }

    // A record *before* the checkpoint altered: open checks the tail only, but every read
    // re-checks the leaf, and verify_all checks everything.
    let (log, ledger) = setup(h)?;
    let fake = Record {
        seq: 5,
        prev_chain: log.store().chain(4)?.expect("chain"),
        received_at: Timestamp(7),
        governance: Hash::ZERO,
        event: events(ledger, 2000, 1).remove(0),
    }
    .seal()?;
    let s = log.into_store();
    let id = coop_core::SealedRecord::from_bytes(5, s.record(5)?.expect("r"))?
        .record
        .event
        .body
        .event_id;
    s.write(&WriteBatch {
        records: vec![(5, fake.bytes, s.chain(5)?.expect("c"), id)],
        ..WriteBatch::default()
    })?;
    let log = Log::open(h.reopen(s))?;
    assert!(matches!(
        log.record(5),
        Err(StoreError::Corrupt { seq: Some(5), .. })
    ));
    assert!(matches!(
        log.verify_all(),
        Err(StoreError::Corrupt { seq: Some(5), .. })
    ));
    assert!(log.records(0, 30).any(|r| r.is_err()));
    Ok(())
}

/// Fails the `n`th write (none for 0), to check that a failed append acknowledges
/// nothing and that the log refuses to go on until reopened; counts the Merkle nodes
/// read from it (`log.rs`: receipts read none).
pub(crate) struct Failing<S> {
    pub(crate) inner: S,
    pub(crate) fail_at: usize,
    pub(crate) writes: AtomicUsize,
    pub(crate) node_reads: AtomicUsize,
}

impl<S: Store> Store for Failing<S> {
    fn write_unsynced(&self, b: &WriteBatch) -> Result<(), StoreError> {
        if self.writes.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            return Err(StoreError::Io("injected: device lost power".into()));
        }
        self.inner.write_unsynced(b)
    }
    fn sync(&self) -> Result<(), StoreError> {
        self.inner.sync()
    }
    fn size(&self) -> Result<u64, StoreError> {
        self.inner.size()
    }
    fn record(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.record(seq)
    }
    fn records(&self, a: u64, b: u64) -> Box<dyn Iterator<Item = crate::RecordItem> + '_> {
        self.inner.records(a, b)
    }
    fn chain(&self, seq: u64) -> Result<Option<Hash>, StoreError> {
        self.inner.chain(seq)
    }
    fn seq_of(&self, id: &EventId) -> Result<Option<u64>, StoreError> {
        self.inner.seq_of(id)
    }
    fn node(&self, l: u8, i: u64) -> Result<Option<Hash>, StoreError> {
        self.node_reads.fetch_add(1, Ordering::SeqCst);
        self.inner.node(l, i)
    }
    fn checkpoint(&self, size: u64) -> Result<Option<String>, StoreError> {
        self.inner.checkpoint(size)
    }
    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError> {
        self.inner.latest_checkpoint()
    }
    fn checkpoint_sizes(&self) -> Result<Vec<u64>, StoreError> {
        self.inner.checkpoint_sizes()
    }
}

fn failed_write_poisons_until_reopen<H: Harness>(h: &mut H) -> R {
    let (log, ledger) = filled(h, 5)?;
    let before = log.head()?;
    let failing = Failing {
        node_reads: AtomicUsize::new(0),
        inner: log.into_store(),
        fail_at: 2,
        writes: AtomicUsize::new(0),
    };
    let log = Log::open(failing)?;
    log.append_events(ungoverned(events(ledger, 5, 2)), Timestamp(1))?;
    let after_first = log.head()?;
    assert_eq!(after_first.size, before.size + 2);
    assert!(matches!(
        log.append_events(ungoverned(events(ledger, 7, 2)), Timestamp(1)),
        Err(StoreError::Io(_))
    ));
    assert_eq!(log.head()?, after_first, "a failed append moved the head");
    assert!(matches!(
        log.append_events(ungoverned(events(ledger, 7, 2)), Timestamp(1)),
        Err(StoreError::Poisoned)
    ));
    let s = h.reopen(log.into_store().inner);
    let log = Log::open(s)?;
    assert_eq!(log.head()?, after_first);
    log.append_events(ungoverned(events(ledger, 7, 2)), Timestamp(1))?;
    log.verify_all()?;
    Ok(())
}

/// Snapshots (docs/adr/0019): the newest is returned across a restart, the one before
/// it is kept, older ones are dropped.
fn snapshots<H: Harness>(h: &mut H) -> R {
    let s = h.fresh();
    assert_eq!(s.latest_snapshot()?, None);
    let snap = |seq: u64| crate::Snapshot {
        seq,
        chain: Hash([seq as u8; 32]),
        bytes: vec![seq as u8; 1000 + seq as usize],
    };
    for seq in [10, 20, 30] {
        s.put_snapshot(&snap(seq))?;
        assert_eq!(s.latest_snapshot()?, Some(snap(seq)));
    }
    let s = h.reopen(s);
    assert_eq!(s.latest_snapshot()?, Some(snap(30)));
    Ok(())
}

macro_rules! suite {
    ($($name:ident),*) => {
        mod memory {
            $(#[test] fn $name() -> super::R { super::$name(&mut super::Mem) })*
        }
        mod sled {
            $(#[test] fn $name() -> super::R { super::$name(&mut super::sled()) })*
        }
        mod sled_short_reads {
            $(#[test] fn $name() -> super::R {
                let mut h = super::ShortReads::new();
                super::$name(&mut h)?;
                h.check()
            })*
        }
    };
}

/// The short reads reached the readers: a reopened store's journal was read, each read
/// cut short (with injection off, none is, and this fails).
#[test]
fn short_reads_reach_the_journal_reader() -> R {
    let mut h = ShortReads::new();
    let (log, _) = filled(&mut h, 20)?;
    let s = h.reopen(log.into_store());
    drop(s);
    anyhow::ensure!(
        h.plan.injected_total() > 0,
        "no read was cut short: {:?}",
        h.plan.injected()
    );
    h.check()
}

suite!(
    empty_log,
    append_read_prove_reopen,
    refused_appends_change_nothing,
    checkpoints,
    damage_is_refused_on_open,
    failed_write_poisons_until_reopen,
    snapshots
);

/// A damaged or truncated snapshot file is skipped for the one before it; an unfinished
/// one (a crash while writing) is never read.
#[test]
fn a_damaged_snapshot_is_not_used() -> R {
    let dir = tempfile::tempdir()?;
    let s = SledStore::open(dir.path())?;
    let snap = |seq: u64| crate::Snapshot {
        seq,
        chain: Hash([7; 32]),
        bytes: vec![seq as u8; 5000],
    };
    s.put_snapshot(&snap(100))?;
    s.put_snapshot(&snap(200))?;
    let newest = dir
        .path()
        .join("snapshots")
        .join(format!("{:020}.snap", 200));
    let mut bytes = std::fs::read(&newest)?;
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&newest, &bytes)?;
    assert_eq!(s.latest_snapshot()?, Some(snap(100)));
    // Cut anywhere: in the magic, in the header, in the bytes; or nothing at all.
    for cut in [0, 10, 50, 100, bytes.len() - 1] {
        std::fs::write(&newest, &bytes[..cut])?;
        assert_eq!(s.latest_snapshot()?, Some(snap(100)), "cut at {cut}");
    }
    // A byte too many, and another file's magic.
    bytes[last] ^= 1;
    std::fs::write(&newest, [bytes.as_slice(), b"x"].concat())?;
    assert_eq!(s.latest_snapshot()?, Some(snap(100)));
    bytes[0] ^= 1;
    std::fs::write(&newest, &bytes)?;
    assert_eq!(s.latest_snapshot()?, Some(snap(100)));
    bytes[0] ^= 1;
    std::fs::write(&newest, &bytes)?;
    assert_eq!(s.latest_snapshot()?, Some(snap(200)), "the file put back");
    std::fs::write(
        dir.path()
            .join("snapshots")
            .join(format!("{:020}.tmp", 300)),
        b"partial",
    )?;
    assert_eq!(s.latest_snapshot()?, Some(snap(200)));
    Ok(())
}

#[test]
fn second_open_of_a_sled_directory_is_refused() -> R {
    let dir = tempfile::tempdir()?;
    let first = SledStore::open(dir.path())?;
    match SledStore::open(dir.path()) {
        Err(StoreError::Locked { path }) => {
            assert!(path.contains(&dir.path().display().to_string()))
        }
        other => panic!("second open: {other:?}"),
    }
    drop(first);
    SledStore::open(dir.path())?;
    Ok(())
}

#[test]
fn an_unfinished_sled_snapshot_does_not_block_opening() -> R {
    let mut h = sled();
    let (log, _) = filled(&mut h, 20)?;
    let head = log.head()?;
    let store = log.into_store();
    let path = store.path().to_path_buf();
    drop(store);
    // What a kill in the middle of sled's snapshot writing leaves: a truncated
    // `.generating` file that sorts after every real snapshot.
    let snap = path.join("sled").join("snap.FFFFFFFFFFFFFFFF.generating");
    std::fs::write(&snap, b"partial")?;
    let log = Log::open(SledStore::open(&path)?)?;
    assert_eq!(log.head()?, head);
    assert!(!snap.exists());
    Ok(())
}

// The journal (docs/adr/0014): sled can always be rebuilt from it and checked against it.

/// Overwrites sled's data file with zeros, as sled 0.34's recovery did after a failed
/// read (issue 10): every record gone from sled.
fn zero_sled(path: &std::path::Path) -> R {
    let db = path.join("sled").join("db");
    let len = std::fs::metadata(&db)?.len();
    std::fs::write(&db, vec![0u8; usize::try_from(len)?])?;
    Ok(())
}

#[test]
fn a_zeroed_sled_is_rebuilt_from_the_journal_on_open() -> R {
    let mut h = sled();
    let (log, ledger) = filled(&mut h, 40)?;
    log.put_checkpoint(&checkpoint_note(&log, ledger, 20)?)?;
    let head = log.head()?;
    let path = log.store().path().to_path_buf();
    drop(log);
    zero_sled(&path)?;
    let log = Log::open(SledStore::open(&path)?)?;
    assert_eq!(log.head()?, head);
    assert_eq!(log.latest_checkpoint()?.map(|(s, _)| s), Some(20));
    log.verify_all()?;
    Ok(())
}

#[test]
fn a_sled_missing_a_suffix_gets_it_from_the_journal() -> R {
    let mut h = sled();
    let (log, ledger) = filled(&mut h, 30)?;
    let head = log.head()?;
    let s = log.into_store();
    // What a crash between the journal write and the sled write leaves: the journal
    // holds records sled does not.
    for seq in (25..30).rev() {
        h.remove_record(&s, seq);
    }
    let path = s.path().to_path_buf();
    drop(s);
    let log = Log::open(SledStore::open(&path)?)?;
    assert_eq!(log.head()?, head);
    log.verify_all()?;
    // Only the suffix was added: no rebuild, nothing kept aside.
    assert!(
        !std::fs::read_dir(&path)?
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().starts_with("sled.broken-"))
    );
    log.append_events(ungoverned(events(ledger, 30, 3)), Timestamp(1))?;
    let head = log.head()?;
    let log = Log::open(h.reopen(log.into_store()))?;
    assert_eq!(log.head()?, head);
    Ok(())
}

#[test]
fn a_torn_journal_tail_is_cut_and_appending_continues() -> R {
    let mut h = sled();
    let (log, ledger) = filled(&mut h, 12)?;
    let head = log.head()?;
    let path = log.store().path().to_path_buf();
    drop(log);
    // Half a frame at the end: a journal write cut by a crash.
    let seg = only_segment(&path)?;
    let mut bytes = std::fs::read(&seg)?;
    bytes.extend_from_slice(b"R\x00\x00\x01\x00partial");
    std::fs::write(&seg, &bytes)?;
    let log = Log::open(SledStore::open(&path)?)?;
    assert_eq!(log.head()?, head);
    log.append_events(ungoverned(events(ledger, 12, 2)), Timestamp(1))?;
    let head = log.head()?;
    drop(log);
    // The journal alone gives the same ledger.
    zero_sled(&path)?;
    let log = Log::open(SledStore::open(&path)?)?;
    assert_eq!(log.head()?, head);
    log.verify_all()?;
    Ok(())
}

#[test]
fn damage_inside_the_journal_is_refused_not_cut() -> R {
    let mut h = sled();
    let (log, _) = filled(&mut h, 12)?;
    let path = log.store().path().to_path_buf();
    drop(log);
    let seg = only_segment(&path)?;
    let mut bytes = std::fs::read(&seg)?;
    let at = crate::JOURNAL_MAGIC.len() + 40;
    bytes[at] ^= 1;
    std::fs::write(&seg, &bytes)?;
    zero_sled(&path)?;
    let before = std::fs::read(&seg)?;
    match SledStore::open(&path) {
        Err(StoreError::Corrupt { what, .. }) => assert!(what.contains("checksum"), "{what}"),
        other => panic!("expected the journal damage to be refused, got {other:?}"),
    }
    assert_eq!(std::fs::read(&seg)?, before, "the journal was changed");
    Ok(())
}

/// The journal is the log (docs/adr/0027): sled disagreeing with it on the last record
/// is rebuilt from it by the open itself (it used to be refused until someone ran
/// `coopledger repair`, which did the same), the old sled kept aside. Whether the
/// journal's record is genuine is the ledger's check (its signature), not the store's.
#[test]
fn sled_and_journal_disagreeing_on_the_last_record_take_the_journals() -> R {
    let mut h = sled();
    let (log, _) = filled(&mut h, 12)?;
    let path = log.store().path().to_path_buf();
    drop(log);
    // Rewrite the journal's last record frame with other (well-framed) bytes.
    let seg = only_segment(&path)?;
    let mut frames = Vec::new();
    let mut r = crate::JournalReader::open(&path.join("journal"))?;
    while let Some(f) = r.next()? {
        frames.push(f);
    }
    let mut out = crate::JOURNAL_MAGIC.to_vec();
    let last_records = frames
        .iter()
        .rposition(|f| matches!(f, crate::JournalFrame::Records { .. }))
        .context("no records")?;
    for (i, f) in frames.into_iter().enumerate() {
        match f {
            crate::JournalFrame::Records { first, mut records } => {
                if i == last_records
                    && let Some(last) = records.last_mut()
                {
                    // In its signature: the record still links to the chain.
                    if let Some(b) = last.last_mut() {
                        *b ^= 1;
                    }
                }
                let refs: Vec<(u64, &[u8])> = records
                    .iter()
                    .zip(first..)
                    .map(|(b, s)| (s, b.as_slice()))
                    .collect();
                out.extend(crate::journal::records_frame(&refs)?);
            }
            crate::JournalFrame::Checkpoint(n) => out.extend(crate::journal::checkpoint_frame(&n)?),
        }
    }
    std::fs::write(&seg, &out)?;
    let journal_last = {
        let mut r = crate::JournalReader::open(&path.join("journal"))?;
        let mut last = None;
        while let Some(f) = r.next()? {
            if let crate::JournalFrame::Records { records, .. } = f {
                last = records.last().cloned();
            }
        }
        last.context("no records")?
    };
    let store = SledStore::open(&path)?;
    assert_eq!(store.record(11)?, Some(journal_last));
    drop(store);
    assert!(
        std::fs::read_dir(&path)?
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("sled.broken-")),
        "the old sled is kept aside"
    );
    Ok(())
}

#[test]
fn repair_rebuilds_sled_and_keeps_the_old_files() -> R {
    let mut h = sled();
    let (log, ledger) = filled(&mut h, 25)?;
    log.put_checkpoint(&checkpoint_note(&log, ledger, 20)?)?;
    let head = log.head()?;
    let path = log.store().path().to_path_buf();
    drop(log);
    let done = SledStore::repair(&path)?;
    assert_eq!(done.records, 25);
    assert_eq!(done.checkpoints, 1);
    let kept = done.kept.context("the old sled was not kept")?;
    assert!(kept.join("db").exists());
    let log = Log::open(SledStore::open(&path)?)?;
    assert_eq!(log.head()?, head);
    log.verify_all()?;
    Ok(())
}

#[test]
fn the_journal_alone_gives_every_record_and_checkpoint_in_order() -> R {
    let mut h = sled();
    let (log, ledger) = filled(&mut h, 25)?;
    log.put_checkpoint(&checkpoint_note(&log, ledger, 20)?)?;
    let path = log.store().path().to_path_buf();
    let expected: Vec<Vec<u8>> = log
        .store()
        .records(0, 25)
        .map(|r| r.map(|(_, b)| b))
        .collect::<Result<_, _>>()?;
    let note = log.checkpoint(20)?.context("no checkpoint")?;
    // Read while the store is open (and locked): the journal needs no lock.
    let mut items = crate::JournalItems::open(&path)?;
    let mut got = Vec::new();
    while let Some(i) = items.next()? {
        got.push(i);
    }
    let mut want: Vec<crate::JournalItem> = expected
        .into_iter()
        .enumerate()
        .map(|(s, b)| crate::JournalItem::Record(s as u64, b))
        .collect();
    want.insert(20, crate::JournalItem::Checkpoint(note));
    assert_eq!(got, want);
    drop(log);
    Ok(())
}

#[test]
fn a_full_disk_refuses_before_writing_and_poisons_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("s");
    // A reserve larger than any disk: every append is refused as `Full`.
    let store = SledStore::open_with(
        &path,
        crate::SledOptions {
            min_free: u64::MAX / 4,
            ..crate::SledOptions::default()
        },
    )?;
    let log = Log::open(store)?;
    let (g, ledger) = genesis();
    match log.append_events(vec![(g.clone(), Hash::ZERO)], Timestamp(1)) {
        Err(StoreError::Full { .. }) => {}
        other => panic!("expected Full, got {other:?}"),
    }
    assert_eq!(log.head()?.size, 0);
    assert!(!log.is_poisoned());
    drop(log);
    // With room, the same append lands.
    let log = Log::open(SledStore::open(&path)?)?;
    log.append_events(vec![(g, Hash::ZERO)], Timestamp(1))?;
    let _ = ledger;
    assert_eq!(log.head()?.size, 1);
    Ok(())
}

fn only_segment(path: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    let segs = crate::journal::segments(&path.join("journal"))?;
    assert_eq!(segs.len(), 1);
    Ok(segs.into_iter().next().context("no segment")?.1)
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// Whatever the batching, the log equals one built record by record, and both
        /// stores agree byte for byte.
        #[test]
        fn batching_does_not_change_the_log(batches in proptest::collection::vec(1u64..9, 1..12)) {
            let (g, ledger) = genesis();
            let mem = Log::open(MemStore::new()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut h = sled();
            let disk = Log::open(h.fresh()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let one = Log::open(MemStore::new()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for log in [&mem, &one] {
                log.append_events(vec![(g.clone(), Hash::ZERO)], Timestamp(1)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            disk.append_events(vec![(g.clone(), Hash::ZERO)], Timestamp(1)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut n = 1;
            for b in batches {
                let evs = events(ledger, n, b);
                mem.append_events(ungoverned(evs.clone()), Timestamp(1)).map_err(|e| TestCaseError::fail(e.to_string()))?;
                disk.append_events(ungoverned(evs.clone()), Timestamp(1)).map_err(|e| TestCaseError::fail(e.to_string()))?;
                for e in evs {
                    one.append_events(vec![(e, Hash::ZERO)], Timestamp(1)).map_err(|e| TestCaseError::fail(e.to_string()))?;
                }
                n += b;
            }
            let head = mem.head().map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(head, disk.head().map_err(|e| TestCaseError::fail(e.to_string()))?);
            prop_assert_eq!(head, one.head().map_err(|e| TestCaseError::fail(e.to_string()))?);
            prop_assert_eq!(head.size, n);
            for seq in 0..n {
                prop_assert_eq!(mem.store().record(seq).ok().flatten(), disk.store().record(seq).ok().flatten());
            }
        }
    }
}
