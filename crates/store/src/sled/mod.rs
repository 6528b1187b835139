//! The durable store: sled behind a journal, in one directory. By concern: this file holds
//! the store and its write and read paths; `recover.rs` opens a directory (lock, pre-read,
//! catch-up or rebuild of sled from the journal, repair), each watched by `watch.rs` for
//! a storage call that never returns; `index.rs` the event-id index in
//! memory; `snapshots.rs` the state's snapshot files; `damage.rs` (tests only) writes over
//! stored records to test that damage is found.

use crate::StoreError;
use crate::error::corrupt;
use crate::faults::{Faults, Point};
use crate::journal::{self, Journal};
use crate::segment;
use crate::store::{RecordItem, Snapshot, Store, WriteBatch};
use coop_core::{EventId, Hash};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

mod behind;
#[cfg(test)]
mod damage;
mod index;
mod reads;
mod recover;
mod snapshots;
mod watch;

use behind::{Behind, Entry};
use index::{IdIndex, load_ids};
pub use recover::Repaired;
use snapshots::discard_unfinished_snapshots;

/// The durable store: a sled database and a journal in one directory.
///
/// ```text
/// <dir>/coopledger.lock   one process per directory
/// <dir>/sled/             the sled database: one tree, keys prefixed by kind
/// <dir>/journal/          every append again, checksummed, append-only (journal.rs)
/// ```
///
/// Records are stored in sled a segment per append (`segment.rs`), with their event ids
/// in a list beside it, from which the event-id index is rebuilt in memory on open: a
/// sled key costs several microseconds to write whatever its size, so an append writes
/// two keys (plus the Merkle nodes it completes at level 4 and up), not two per record.
///
/// Durability (docs/adr/0027): the journal is the write-ahead log. [`Store::write`]
/// appends the batch to the journal and `fdatasync`s it; only then does it return, and
/// that is all an acknowledgement waits for. sled is written behind it by the applier
/// thread (`behind.rs`): one sled batch (atomic) per journal batch, flushed (`Db::flush`,
/// then `fdatasync` of its data file) when the queue runs dry. Until sled holds a batch,
/// its records, nodes and checkpoints are read from memory. sled failing, panicking or
/// stalling never blocks an append or a read: the store reports it ([`Lag`]) and
/// rebuilds sled from the journal by itself.
///
/// Recovery (docs/adr/0014): opening reads every sled file before sled does, so an I/O
/// error aborts cleanly before sled's own recovery (which takes a failed read for a torn
/// write and truncates) could touch anything; if sled nevertheless refuses to open, or
/// holds fewer records than the journal, sled is rebuilt from the journal (the old files
/// kept aside); if the journal lacks the last unacknowledged batch sled has, the journal
/// is extended. docs/OPERATIONS.md states the promise.
#[derive(Debug)]
pub struct SledStore {
    /// sled's handles, replaced whole when sled is rebuilt while the store runs.
    sled: Arc<RwLock<Parts>>,
    path: PathBuf,
    /// The journal; `None` only while a repair writes a fresh sled.
    journal: Option<Journal>,
    /// What the journal holds and sled does not yet, and the applier's queue: `None`
    /// while sled is written directly (a rebuild, which has no journal of its own).
    behind: Option<Arc<Behind>>,
    /// The applier thread, stopped (within `applier_stop`) when the store is dropped.
    applier: Mutex<Option<std::thread::JoinHandle<()>>>,
    applier_stop: Duration,
    /// Most bytes sled may lack before appends are refused.
    max_behind: u64,
    /// Event id → seq, rebuilt from the stored id lists on open, updated after each
    /// write.
    ids: RwLock<IdIndex>,
    /// Bytes kept free on the disk: a write that would leave less is refused.
    min_free: u64,
    /// Injected storage faults (tests only: production holds none).
    faults: Faults,
    /// The threads sled is read on, so that a read that never returns is answered at
    /// the bound (`reads.rs`).
    reads: reads::Reads,
    /// Held for the store's lifetime; declared last so it is released last (`None` for
    /// the sled being rebuilt by a repair, under the directory's lock).
    _lock: Option<File>,
}

/// How a [`SledStore`] is opened.
#[derive(Clone, Debug)]
pub struct SledOptions {
    /// Bytes to keep free on the disk holding the ledger: an append that would leave
    /// less is refused with [`StoreError::Full`] before anything is written. sled and
    /// the file system need room of their own to finish what they started; a disk run
    /// truly full can leave sled unable even to close.
    pub min_free: u64,
    /// Storage faults to inject at every I/O point (deterministic fault tests, ADR 0022);
    /// [`Faults::none`] everywhere else.
    pub faults: Faults,
    /// How long dropping the store waits for sled to catch up with the journal before
    /// it leaves the applier behind (stuck in sled: the next open catches up).
    pub applier_stop: Duration,
    /// Most bytes of record sled may lack (held in memory for readers) before appends
    /// are refused ([`StoreError::Behind`]): a sled that stalls for ever must not take
    /// the node's memory with it.
    pub max_behind: u64,
    /// How long a read waits for sled: a read sled does not answer within it is an
    /// error, and sled is rebuilt from the journal while the store runs.
    pub read_bound: Duration,
    /// How long an open (or a `repair`) waits with no storage call started: a call into
    /// sled or the journal that does not return (as sled's can after a failed write)
    /// ends the open with an error by then, the call left stuck on its own thread. Long
    /// enough for the longest single call a healthy disk makes (sled's flush after a
    /// rebuild).
    pub open_bound: Duration,
}

impl Default for SledOptions {
    fn default() -> Self {
        SledOptions {
            min_free: DEFAULT_MIN_FREE,
            faults: Faults::none(),
            applier_stop: APPLIER_STOP,
            max_behind: DEFAULT_MAX_BEHIND,
            read_bound: DEFAULT_READ_BOUND,
            open_bound: DEFAULT_OPEN_BOUND,
        }
    }
}

/// sled's handles: the database, and its one tree — everything, keyed by a one-byte
/// prefix per kind (see `key`): one sled `Batch` on one tree is atomic and far cheaper
/// than a multi-tree transaction — and a second handle on its data file, for
/// `fdatasync`.
#[derive(Clone, Debug)]
struct Parts {
    db: sled::Db,
    tree: sled::Tree,
    data_file: Arc<File>,
}

impl Parts {
    /// Makes what sled applied durable: its flush, then `fdatasync` of its data file
    /// (sled's flush ends in `sync_file_range`, which flushes neither the device's cache
    /// nor the file's metadata).
    fn flush(&self, faults: &Faults) -> Result<(), StoreError> {
        shield("flushing", || {
            faults.fail(Point::SledFlush).map_err(io)?;
            self.db.flush().map_err(io)?;
            self.data_file.sync_data().map_err(io)
        })
    }
}

/// Runs a sled call, turning a panic inside sled (sled 0.34 panics on some damaged
/// states: "tried to serialize Uninitialized") into damage, which a rebuild from the
/// journal repairs, instead of a crash — after a receipt, or while opening.
fn shield<T>(doing: &str, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            Err(corrupt(
                None,
                format!("sled panicked while {doing}: {what}"),
            ))
        }
    }
}

/// The default limit of what sled may lack, in bytes of record: 512 MiB.
pub const DEFAULT_MAX_BEHIND: u64 = 512 << 20;

/// The default bound on a read of sled: 10 s (an HTTP client gives up at 30).
pub const DEFAULT_READ_BOUND: Duration = Duration::from_secs(10);

/// The default bound on an open with no storage call started: 60 s.
pub const DEFAULT_OPEN_BOUND: Duration = Duration::from_secs(60);

/// Segments read from sled per hand-off to a reader thread (`records`).
const SEGMENTS_PER_READ: usize = 64;

/// The default reserve of free space: 64 MiB.
pub const DEFAULT_MIN_FREE: u64 = 64 << 20;

/// Lock file in the store directory: one process per directory.
const LOCK_FILE: &str = "coopledger.lock";
/// sled's own directory inside the store directory.
const SLED_DIR: &str = "sled";
/// The journal's directory inside the store directory.
pub(crate) const JOURNAL_DIR: &str = "journal";
/// Snapshots of the projections inside the store directory (docs/adr/0019).
const SNAPSHOT_DIR: &str = "snapshots";
/// A snapshot file's first bytes; then seq (8, big-endian), chain (32), blake3 of the
/// bytes (32), the bytes.
const SNAPSHOT_MAGIC: &[u8] = b"coopledger-snapshot/v1\n";
/// How long to wait for sled's own lock to be released by a store this process just
/// dropped.
const SLED_LOCK_WAIT: Duration = Duration::from_secs(5);

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(e.to_string())
}

/// A sled error: corruption as such (sled is then rebuilt from the journal), anything
/// else as an I/O error (perhaps transient: opening aborts and changes nothing).
fn sled_err(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { .. } | sled::Error::ReportableBug(_) => {
            corrupt(None, format!("sled: {e}"))
        }
        other => StoreError::Io(other.to_string()),
    }
}

/// Lowest level of interior Merkle nodes written to sled. Levels 1 to 3 are recomputed
/// from at most eight leaves when read: that saves most node writes (a sled key costs
/// several microseconds) for a few extra reads when building proofs.
const STORED_LEVEL: u8 = 4;

/// Key prefixes, one per kind of entry.
mod kind {
    /// Key: the segment's first seq. Value: a record segment (`segment.rs`).
    pub const RECORD: u8 = b'r';
    /// Key: the segment's first seq. Value: the event ids of its records.
    pub const IDS: u8 = b'i';
    pub const NODE: u8 = b'n';
    pub const CHECKPOINT: u8 = b'k';
}

/// `prefix || u64 big-endian`: sorts by number within a kind.
fn key(prefix: u8, n: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = prefix;
    k[1..].copy_from_slice(&n.to_be_bytes());
    k
}

fn node_key(level: u8, index: u64) -> [u8; 10] {
    let mut k = [0u8; 10];
    k[0] = kind::NODE;
    k[1] = level;
    k[2..].copy_from_slice(&index.to_be_bytes());
    k
}

/// The number in a `key(prefix, n)` key.
fn seq_from_key(k: &[u8]) -> Result<u64, StoreError> {
    k.get(1..)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| corrupt(None, "stored key is not prefix + 8 bytes"))
}

fn hash_value(seq: Option<u64>, v: &[u8], what: &str) -> Result<Hash, StoreError> {
    Hash::from_slice(v).map_err(|_| corrupt(seq, format!("stored {what} is not 32 bytes")))
}

impl SledStore {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sync(&self) -> Result<(), StoreError> {
        match (&self.journal, &self.behind) {
            // The journal is the log: what it holds durably is acknowledged; sled
            // follows on the applier thread.
            (Some(j), Some(_)) => j.sync(),
            (Some(j), None) => {
                self.parts()?.flush(&self.faults)?;
                j.sync()
            }
            (None, _) => self.parts()?.flush(&self.faults),
        }
    }

    /// sled's handles now.
    fn parts(&self) -> Result<Parts, StoreError> {
        self.sled
            .read()
            .map(|p| p.clone())
            .map_err(|_| StoreError::Io("sled's handles are poisoned".into()))
    }

    /// sled's tree now.
    fn tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.parts()?.tree)
    }

    /// Waits until sled holds every batch the journal took, at most `bound`; whether it
    /// does. (Tests, and writing over records to test damage.)
    pub fn settle(&self, bound: Duration) -> bool {
        self.behind.as_ref().is_none_or(|b| b.settle(bound))
    }

    /// A read of sled's tree, on a reader thread, waited for at most the read bound
    /// (`reads.rs`). One that does not answer in time is an error, and has the applier
    /// rebuild sled from the journal (beside the one the read is stuck in).
    fn read<T: Send + 'static>(
        &self,
        doing: &'static str,
        f: impl FnOnce(&sled::Tree) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let tree = self.tree()?;
        let faults = self.faults.clone();
        match self.reads.run(doing, move || {
            faults.fail(Point::SledRead).map_err(io)?;
            f(&tree)
        }) {
            Ok(r) => r,
            Err(reads::Stalled(bound)) => {
                let why = format!(
                    "sled did not answer within {:.1} s while {doing}",
                    bound.as_secs_f64()
                );
                tracing::error!(
                    why,
                    "a read of sled stalls; rebuilding sled from the journal"
                );
                match &self.behind {
                    Some(b) => {
                        b.request_rebuild(&why);
                        Err(StoreError::Io(format!(
                            "{why}: it is being rebuilt from the journal; retry"
                        )))
                    }
                    None => Err(StoreError::Io(format!(
                        "{why}: reopen the ledger, which rebuilds it from the journal"
                    ))),
                }
            }
        }
    }

    /// The segment holding record `seq`: its first seq and its raw value.
    fn segment(&self, seq: u64) -> Result<Option<(u64, sled::IVec)>, StoreError> {
        let Some((k, v)) = self.read("reading a record", move |tree| {
            tree.range(key(kind::RECORD, 0)..=key(kind::RECORD, seq))
                .next_back()
                .transpose()
                .map_err(io)
        })?
        else {
            return Ok(None);
        };
        let first = seq_from_key(&k)?;
        if segment::View::parse(first, &v)?.holds(seq) {
            Ok(Some((first, v)))
        } else {
            Ok(None)
        }
    }

    /// Record `seq`: (leaf, chain, bytes), from the journal's queue for sled or sled.
    fn entry(&self, seq: u64) -> Result<Option<Entry>, StoreError> {
        if let Some(b) = &self.behind
            && let Some(e) = b.entry(seq)?
        {
            return Ok(Some(e));
        }
        let Some((first, v)) = self.segment(seq)? else {
            return Ok(None);
        };
        let (leaf, chain, bytes) = segment::View::parse(first, &v)?.get(seq)?;
        Ok(Some((leaf, chain, bytes.to_vec())))
    }
}

impl Drop for SledStore {
    /// Stops the applier once sled holds what the journal took, waiting at most
    /// [`APPLIER_STOP`]: an applier stuck in sled is left behind (the journal holds
    /// everything; the next open brings sled up to it).
    fn drop(&mut self) {
        if let Some(b) = &self.behind {
            b.stop();
        }
        let handle = self.applier.get_mut().ok().and_then(Option::take);
        if let Some(h) = handle {
            let (tx, rx) = std::sync::mpsc::channel();
            let waiter = std::thread::spawn(move || {
                let _ = h.join();
                let _ = tx.send(());
            });
            if rx.recv_timeout(self.applier_stop).is_ok() {
                let _ = waiter.join();
            } else {
                tracing::error!(
                    "sled's applier did not stop within {} s; left behind (the journal holds every acknowledged record)",
                    self.applier_stop.as_secs_f64()
                );
            }
        }
    }
}

/// How long dropping a store waits for the applier to bring sled up to the journal, by
/// default.
pub const APPLIER_STOP: Duration = Duration::from_secs(30);

/// Outside tests a store never writes over a stored record: refused, nothing written.
#[cfg(not(test))]
impl SledStore {
    fn overwrite(
        &self,
        _: &mut BTreeMap<u64, Vec<segment::Entry>>,
        seq: u64,
        _: segment::Entry,
    ) -> Result<(), StoreError> {
        Err(StoreError::Conflict(format!(
            "record {seq} is stored already: a store never writes over a record"
        )))
    }

    fn overwrite_leaf(
        &self,
        _: &mut BTreeMap<u64, Vec<segment::Entry>>,
        seq: u64,
        _: Hash,
    ) -> Result<(), StoreError> {
        Err(StoreError::Conflict(format!(
            "a leaf for record {seq} without the record: a store never writes over a record"
        )))
    }
}

/// sled's writes of one batch: key, value.
type Ops = Vec<(sled::IVec, sled::IVec)>;

/// Adds a segment (and its id list) starting at `first`; nothing for no entries.
fn put_segment(ops: &mut Ops, first: u64, entries: &[segment::Entry]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let (v, ids) = segment::encode(entries)?;
    ops.push((key(kind::RECORD, first).as_slice().into(), v.into()));
    ops.push((key(kind::IDS, first).as_slice().into(), ids.into()));
    Ok(())
}

/// `ops` as one sled batch.
fn sled_batch(ops: Ops) -> sled::Batch {
    let mut batch = sled::Batch::default();
    for (k, v) in ops {
        batch.insert(k, v);
    }
    batch
}

impl Store for SledStore {
    fn put_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        self.write_snapshot(snapshot)
    }

    fn latest_snapshot(&self) -> Result<Option<Snapshot>, StoreError> {
        self.read_latest_snapshot()
    }

    fn sync(&self) -> Result<(), StoreError> {
        SledStore::sync(self)
    }

    fn lag(&self) -> Option<crate::Lag> {
        self.behind.as_ref().map(|b| b.lag())
    }

    fn check_room(&self, bytes: u64) -> Result<(), StoreError> {
        if let Some(b) = &self.behind {
            let lag = b.lag();
            if lag.bytes.saturating_add(bytes) > self.max_behind {
                return Err(StoreError::Behind {
                    records: lag.records,
                    bytes: lag.bytes,
                    why: lag.failed.unwrap_or_else(|| {
                        format!("its oldest batch has waited {} ms", lag.oldest_ms)
                    }),
                });
            }
        }
        if self.min_free == 0 {
            return Ok(());
        }
        match self.faults.hit(Point::FreeSpace) {
            Some(crate::faults::Fault::Enospc) => {
                return Err(StoreError::Full {
                    available: 0,
                    needed: self.min_free.saturating_add(bytes),
                    reserve: self.min_free,
                });
            }
            Some(f) => {
                return Err(StoreError::Io(format!(
                    "cannot read the free space of {}: injected {f:?}",
                    self.path.display()
                )));
            }
            None => {}
        }
        let st = rustix::fs::statvfs(&self.path).map_err(|e| {
            StoreError::Io(format!(
                "cannot read the free space of {}: {e}",
                self.path.display()
            ))
        })?;
        let available = st.f_bavail.saturating_mul(st.f_frsize);
        let needed = self.min_free.saturating_add(bytes);
        if available < needed {
            return Err(StoreError::Full {
                available,
                needed,
                reserve: self.min_free,
            });
        }
        Ok(())
    }

    fn write_unsynced(&self, b: &WriteBatch) -> Result<(), StoreError> {
        if b.is_empty() {
            return Ok(());
        }
        // Leaf hashes are stored with the records; collect them first.
        let mut leaves: HashMap<u64, Hash> = b
            .nodes
            .iter()
            .filter(|((l, _), _)| *l == 0)
            .map(|((_, i), h)| (*i, *h))
            .collect();
        let size = self.size()?;
        // Appended runs of records, each a new segment (an append is one run).
        let mut runs: Vec<(u64, Vec<segment::Entry>)> = Vec::new();
        // Stored segments rewritten: only damage tests write over stored records
        // (damage.rs); anywhere else that is refused.
        let mut touched: BTreeMap<u64, Vec<segment::Entry>> = BTreeMap::new();
        let mut index = Vec::with_capacity(b.records.len());
        for (seq, bytes, chain, id) in &b.records {
            // Appends always carry the leaf; a record written without one (only a damage
            // test does this) keeps the leaf stored before, as the trait's contract says.
            let leaf = match leaves.remove(seq) {
                Some(l) => l,
                None => match self.node(0, *seq)? {
                    Some(l) => l,
                    None => coop_core::hash::leaf_hash(bytes),
                },
            };
            let e = segment::Entry {
                leaf,
                chain: *chain,
                id: *id,
                bytes: bytes.clone(),
            };
            index.push((*id, *seq));
            if *seq >= size {
                match runs.last_mut() {
                    Some((first, es)) if *first + es.len() as u64 == *seq => es.push(e),
                    _ => runs.push((*seq, vec![e])),
                }
            } else {
                self.overwrite(&mut touched, *seq, e)?;
            }
        }
        // A leaf written without its record (only a damage test does this) replaces the
        // hash stored with the record.
        for (seq, leaf) in leaves {
            self.overwrite_leaf(&mut touched, seq, leaf)?;
        }
        // The journal first: if it cannot take the batch, sled is not touched. Only new
        // records are journaled (a store never rewrites one; only damage tests do, and
        // they damage sled alone).
        if let Some(j) = &self.journal {
            let mut frames = Vec::new();
            for (first, entries) in &runs {
                let refs: Vec<(u64, &[u8])> = entries
                    .iter()
                    .zip(*first..)
                    .map(|(e, s)| (s, e.bytes.as_slice()))
                    .collect();
                frames.extend(journal::records_frame(&refs)?);
            }
            for (_, note) in &b.checkpoints {
                frames.extend(journal::checkpoint_frame(note)?);
            }
            let next = runs.first().map_or(size, |(f, _)| *f);
            j.append(&frames, next)?;
        }
        let mut ops = Ops::new();
        for (first, entries) in touched.iter().chain(runs.iter().map(|(f, e)| (f, e))) {
            put_segment(&mut ops, *first, entries)?;
        }
        for ((l, i), h) in b.nodes.iter().filter(|((l, _), _)| *l >= STORED_LEVEL) {
            ops.push((node_key(*l, *i).as_slice().into(), h.0.as_slice().into()));
        }
        for (size, note) in &b.checkpoints {
            ops.push((
                key(kind::CHECKPOINT, *size).as_slice().into(),
                note.as_bytes().into(),
            ));
        }
        match &self.behind {
            // The journal has it: sled follows on the applier thread, and until then the
            // batch is read from memory.
            Some(behind) if touched.is_empty() => {
                let records = runs
                    .into_iter()
                    .flat_map(|(first, es)| {
                        (first..)
                            .zip(es)
                            .map(|(seq, e)| (seq, (e.leaf, e.chain, e.bytes)))
                    })
                    .collect();
                let nodes = b
                    .nodes
                    .iter()
                    .filter(|((l, _), _)| *l >= STORED_LEVEL)
                    .copied()
                    .collect();
                behind.push(ops, records, nodes, b.checkpoints.clone())?;
            }
            // One batch on one tree: sled applies it atomically, also across a crash.
            _ => {
                let tree = self.tree()?;
                shield("writing", || {
                    self.faults.fail(Point::SledWrite).map_err(io)?;
                    tree.apply_batch(sled_batch(ops)).map_err(io)
                })?;
            }
        }
        let mut ids = self
            .ids
            .write()
            .map_err(|_| StoreError::Io("event-id index lock poisoned".into()))?;
        for (id, seq) in index {
            ids.insert(id, seq);
        }
        Ok(())
    }

    fn size(&self) -> Result<u64, StoreError> {
        if let Some(b) = &self.behind
            && let Some(end) = b.end()?
        {
            // Records wait for sled only at the end of the log.
            return Ok(end);
        }
        let last = self.read("reading the last record", |tree| {
            tree.range(key(kind::RECORD, 0)..=key(kind::RECORD, u64::MAX))
                .next_back()
                .transpose()
                .map_err(io)
        })?;
        match last {
            None => Ok(0),
            Some((k, v)) => {
                let first = seq_from_key(&k)?;
                Ok(first + segment::View::parse(first, &v)?.count())
            }
        }
    }

    fn record(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.entry(seq)?.map(|(_, _, bytes)| bytes))
    }

    fn records(&self, start: u64, end: u64) -> Box<dyn Iterator<Item = RecordItem> + '_> {
        if start >= end {
            return Box::new(std::iter::empty());
        }
        // What waits for sled, taken now; everything before the first of it is in sled
        // (a batch leaves the queue only once sled holds it).
        let (waiting, tail) = match &self.behind {
            None => (None, Vec::new()),
            Some(b) => match b.range(start, end) {
                Ok(r) => r,
                Err(e) => return Box::new(std::iter::once(Err(e))),
            },
        };
        let end_in_sled = waiting.map_or(end, |w| w.min(end));
        let tail = tail.into_iter().map(Ok);
        if start >= end_in_sled {
            return Box::new(tail);
        }
        let end = end_in_sled;
        // The segment holding `start`, then every segment that starts before `end`, read
        // a chunk at a time (one hand-off to a reader thread per chunk).
        let head = match self.segment(start) {
            Ok(Some(s)) => Some(Ok(s)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        };
        let mut from = Some(start.saturating_add(1));
        let rest = std::iter::from_fn(move || {
            let at = from.take()?;
            let chunk = self.read("reading records", move |tree| {
                tree.range(key(kind::RECORD, at)..key(kind::RECORD, end))
                    .take(SEGMENTS_PER_READ)
                    .map(|r| {
                        let (k, v) = r.map_err(io)?;
                        Ok((seq_from_key(&k)?, v))
                    })
                    .collect::<Result<Vec<(u64, sled::IVec)>, StoreError>>()
            });
            Some(match chunk {
                Err(e) => vec![Err(e)],
                Ok(segs) => {
                    if segs.len() == SEGMENTS_PER_READ {
                        from = segs.last().map(|(first, _)| first.saturating_add(1));
                    }
                    segs.into_iter().map(Ok).collect()
                }
            })
        })
        .flatten();
        Box::new(
            head.into_iter()
                .chain(rest)
                .flat_map(move |seg| {
                    let items: Vec<RecordItem> = match seg {
                        Err(e) => vec![Err(e)],
                        Ok((first, v)) => match segment::View::parse(first, &v) {
                            Err(e) => vec![Err(e)],
                            Ok(view) => (first.max(start)..(first + view.count()).min(end))
                                .map(|seq| view.get(seq).map(|(_, _, bytes)| (seq, bytes.to_vec())))
                                .collect(),
                        },
                    };
                    items
                })
                .chain(tail),
        )
    }

    fn chain(&self, seq: u64) -> Result<Option<Hash>, StoreError> {
        Ok(self.entry(seq)?.map(|(_, chain, _)| chain))
    }

    fn seq_of(&self, id: &EventId) -> Result<Option<u64>, StoreError> {
        let ids = self
            .ids
            .read()
            .map_err(|_| StoreError::Io("event-id index lock poisoned".into()))?;
        Ok(ids.get(id))
    }

    fn node(&self, level: u8, index: u64) -> Result<Option<Hash>, StoreError> {
        if level == 0 {
            return Ok(self.entry(index)?.map(|(leaf, _, _)| leaf));
        }
        if level < STORED_LEVEL {
            // Not stored: recompute from the (at most eight) leaves below.
            let left = self.node(level - 1, index.saturating_mul(2))?;
            let right = self.node(level - 1, index.saturating_mul(2).saturating_add(1))?;
            return Ok(left
                .zip(right)
                .map(|(l, r)| coop_core::hash::node_hash(&l, &r)));
        }
        if let Some(b) = &self.behind
            && let Some(h) = b.node(level, index)?
        {
            return Ok(Some(h));
        }
        self.read("reading a Merkle node", move |tree| {
            tree.get(node_key(level, index)).map_err(io)
        })?
        .map(|v| hash_value(None, &v, "Merkle node"))
        .transpose()
    }

    fn checkpoint(&self, size: u64) -> Result<Option<String>, StoreError> {
        if let Some(b) = &self.behind
            && let Some(n) = b.checkpoint(size)?
        {
            return Ok(Some(n));
        }
        self.read("reading a checkpoint", move |tree| {
            tree.get(key(kind::CHECKPOINT, size)).map_err(io)
        })?
        .map(|v| {
            String::from_utf8(v.to_vec())
                .map_err(|_| corrupt(None, format!("checkpoint {size} is not UTF-8")))
        })
        .transpose()
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError> {
        let waiting = match &self.behind {
            Some(b) => b.checkpoints()?.pop(),
            None => None,
        };
        let last = self.read("reading the last checkpoint", |tree| {
            tree.range(key(kind::CHECKPOINT, 0)..=key(kind::CHECKPOINT, u64::MAX))
                .next_back()
                .transpose()
                .map_err(io)
        })?;
        let stored = match last {
            None => None,
            Some((k, v)) => {
                let size = seq_from_key(&k)?;
                let note = String::from_utf8(v.to_vec())
                    .map_err(|_| corrupt(None, format!("checkpoint {size} is not UTF-8")))?;
                Some((size, note))
            }
        };
        Ok(match (waiting, stored) {
            (Some(w), Some(s)) if s.0 > w.0 => Some(s),
            (Some(w), _) => Some(w),
            (None, s) => s,
        })
    }

    fn checkpoint_sizes(&self) -> Result<Vec<u64>, StoreError> {
        let mut sizes: Vec<u64> = self.read("reading the checkpoints' sizes", |tree| {
            tree.range(key(kind::CHECKPOINT, 0)..=key(kind::CHECKPOINT, u64::MAX))
                .keys()
                .map(|k| seq_from_key(&k.map_err(io)?))
                .collect::<Result<Vec<u64>, StoreError>>()
        })?;
        if let Some(b) = &self.behind {
            sizes.extend(b.checkpoints()?.into_iter().map(|(s, _)| s));
            sizes.sort_unstable();
            sizes.dedup();
        }
        Ok(sizes)
    }
}
