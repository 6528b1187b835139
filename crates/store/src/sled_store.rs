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
use std::sync::{Mutex, RwLock};
use std::time::Duration;

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
/// Durability: [`Store::write`] appends the batch to the journal, applies one sled batch
/// (atomic), then makes both durable: `Db::flush` (which on Linux ends in
/// `sync_file_range`: data reaches the device, but neither its volatile cache nor the
/// file's metadata is flushed), `fdatasync` of sled's data file, and `fdatasync` of the
/// journal. Only then does it return.
///
/// Recovery (docs/adr/0014): opening reads every sled file before sled does, so an I/O
/// error aborts cleanly before sled's own recovery (which takes a failed read for a torn
/// write and truncates) could touch anything; if sled nevertheless refuses to open, or
/// holds fewer records than the journal, sled is rebuilt from the journal (the old files
/// kept aside); if the journal lacks the last unacknowledged batch sled has, the journal
/// is extended. docs/OPERATIONS.md states the promise.
#[derive(Debug)]
pub struct SledStore {
    db: sled::Db,
    path: PathBuf,
    /// The journal; `None` only while a repair writes a fresh sled.
    journal: Option<Journal>,
    /// A second handle on sled's data file, used only for `fdatasync`.
    data_file: Mutex<File>,
    /// Everything, in one tree, keyed by a one-byte prefix per kind (see `key`): one
    /// sled `Batch` on one tree is atomic and far cheaper than a multi-tree transaction.
    tree: sled::Tree,
    /// Event id → seq, rebuilt from the stored id lists on open, updated after each
    /// write.
    ids: RwLock<IdIndex>,
    /// Bytes kept free on the disk: a write that would leave less is refused.
    min_free: u64,
    /// Injected storage faults (tests only: production holds none).
    faults: Faults,
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
}

impl Default for SledOptions {
    fn default() -> Self {
        SledOptions {
            min_free: DEFAULT_MIN_FREE,
            faults: Faults::none(),
        }
    }
}

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

/// Most `sled.broken-*` directories kept aside by rebuilds: each is a whole database, and
/// a disk that keeps failing must not fill up with them.
const KEEP_BROKEN: usize = 2;
/// The journal's last segment, read: where its valid data ends, how many records the
/// journal holds, and the last one. Only the last segment is read (segment files are
/// named by the seq their records start at); a repair reads them all.
fn journal_tail(dir: &Path, faults: &Faults) -> Result<journal::Scan, StoreError> {
    match journal::segments(dir)?.last() {
        Some((first, last)) => journal::scan_segment(last, *first, faults),
        None => Ok(journal::Scan::default()),
    }
}

/// Appends to `log` every journaled record it lacks, from the journal segment holding
/// its head on, and stores every journaled checkpoint it lacks (or holds in an older
/// form). Records pass the log's append checks (chain links, unique ids) and checkpoints
/// its match with the records, so a journal that does not continue the log is refused
/// with nothing of it kept. Returns the records and checkpoints added. The log's store
/// must not be journaling (its journal is what is read).
fn fill_from_journal(
    log: &crate::Log<SledStore>,
    journal_dir: &Path,
) -> Result<(u64, usize), StoreError> {
    let start = log.head()?.size;
    let mut notes: BTreeMap<u64, String> = BTreeMap::new();
    let mut reader = journal::JournalReader::from_seq(journal_dir, start, &log.store().faults)?;
    let mut next = start;
    while let Some(f) = reader.next()? {
        match f {
            journal::Frame::Records { first, records } => {
                let end = first + records.len() as u64;
                if end <= next {
                    continue;
                }
                if first > next {
                    return Err(corrupt(
                        Some(next),
                        format!("the journal jumps from record {next} to {first}"),
                    ));
                }
                let skip = usize::try_from(next - first).map_err(io)?;
                let sealed = records
                    .into_iter()
                    .zip(first..)
                    .skip(skip)
                    .map(|(b, seq)| coop_core::SealedRecord::from_bytes(seq, b))
                    .collect::<Result<Vec<_>, _>>()?;
                log.append_records_unsynced(sealed)?;
                next = end;
            }
            journal::Frame::Checkpoint(n) => {
                let size = journal::note_size(&n).ok_or_else(|| {
                    corrupt(None, "a journal checkpoint frame is not a checkpoint")
                })?;
                notes.insert(size, n);
            }
        }
    }
    log.sync()?;
    let mut checkpoints = 0;
    for (size, note) in notes {
        if size <= next && log.checkpoint(size)?.as_deref() != Some(note.as_str()) {
            log.put_checkpoint(&note)?;
            checkpoints += 1;
        }
    }
    Ok((next - start, checkpoints))
}

/// Rebuilds `path`'s sled from its journal into a fresh directory, then swaps it in and
/// keeps the old one aside. The caller holds the directory's lock.
fn rebuild(path: &Path, why: Option<&str>, faults: &Faults) -> Result<Repaired, StoreError> {
    let journal_dir = path.join(JOURNAL_DIR);
    let target = path.join("sled.rebuild");
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(io)?;
    }
    let raw = SledStore::from_db_in(open_sled(&target)?, path, &target, None, faults)?;
    let log = crate::Log::open(raw)?;
    let (records, checkpoints) = fill_from_journal(&log, &journal_dir)?;
    drop(log);
    let current = path.join(SLED_DIR);
    let kept = if current.exists() {
        let aside = path.join(format!(
            "sled.broken-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
        ));
        std::fs::rename(&current, &aside).map_err(io)?;
        prune_broken(path);
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&target, &current).map_err(io)?;
    faults
        .fail(Point::DirSync)
        .and_then(|()| File::open(path))
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    tracing::warn!(
        records,
        checkpoints,
        kept = ?kept,
        why = why.unwrap_or("asked for"),
        "sled rebuilt from the journal"
    );
    Ok(Repaired {
        records,
        checkpoints,
        kept,
    })
}

/// Removes all but the newest [`KEEP_BROKEN`] `sled.broken-*` directories.
fn prune_broken(path: &Path) {
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    let mut broken: Vec<(u128, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name();
            let ms = name.to_str()?.strip_prefix("sled.broken-")?.parse().ok()?;
            Some((ms, e.path()))
        })
        .collect();
    broken.sort();
    let extra = broken.len().saturating_sub(KEEP_BROKEN);
    for (_, old) in broken.into_iter().take(extra) {
        tracing::warn!(dir = %old.display(), "removing an older damaged database kept aside");
        let _ = std::fs::remove_dir_all(old);
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

/// What a repair did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repaired {
    /// Records the rebuilt sled holds (all the journal had).
    pub records: u64,
    /// Checkpoint notes restored.
    pub checkpoints: usize,
    /// Where the previous sled files were moved (kept for inspection), if there were any.
    pub kept: Option<PathBuf>,
}

fn lock_dir(path: &Path) -> Result<File, StoreError> {
    std::fs::create_dir_all(path).map_err(|e| {
        StoreError::Io(format!(
            "cannot create {}: {}",
            path.display(),
            journal::io_words(&e)
        ))
    })?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.join(LOCK_FILE))
        .map_err(io)?;
    lock.try_lock().map_err(|e| match e {
        std::fs::TryLockError::WouldBlock => StoreError::Locked {
            path: path.display().to_string(),
        },
        std::fs::TryLockError::Error(e) => io(e),
    })?;
    Ok(lock)
}

/// Reads every file of sled's directory to the end. sled's recovery takes a failed read
/// for a torn write and truncates its log; reading first turns an I/O error into a clean
/// refusal that has changed nothing.
fn pre_read(dir: &Path, faults: &Faults) -> Result<(), StoreError> {
    // Where the kernel may send what it reads (see `read_through`); without it, read.
    let null = File::options().write(true).open("/dev/null").ok();
    pre_read_in(dir, null.as_ref(), faults)
}

fn pre_read_in(dir: &Path, null: Option<&File>, faults: &Faults) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StoreError::Io(format!(
                "cannot list {}: {}; nothing was changed",
                dir.display(),
                journal::io_words(&e)
            )));
        }
    };
    for e in entries {
        let e = e.map_err(io)?;
        let path = e.path();
        if path.is_dir() {
            pre_read_in(&path, null, faults)?;
            continue;
        }
        let fail = |e: std::io::Error| {
            StoreError::Io(format!(
                "cannot read {}: {}; nothing was changed (try again; if it persists, the disk is failing: copy the ledger elsewhere with `coopledger repair`)",
                path.display(),
                journal::io_words(&e)
            ))
        };
        let mut f = File::open(&path).map_err(fail)?;
        faults.fail(Point::PreRead).map_err(fail)?;
        read_through(&mut f, null).map_err(fail)?;
    }
    Ok(())
}

/// Reads `f` from where it stands to its end, so that a failing disk answers now rather
/// than in sled's recovery. On Linux the kernel sends the file's pages to /dev/null
/// (`sendfile`): read from the disk as any read is (an unreadable sector fails it the
/// same way), but never copied out to us. Copying was most of the pre-read: 0.12-0.65 s
/// for the 762 MB of a 10^6-record ledger, against 0.05 s.
fn read_through(f: &mut File, null: Option<&File>) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if let Some(null) = null {
        loop {
            match rustix::fs::sendfile(null, &*f, None, 1 << 30) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
                // Not for this file or this kernel: read it instead, from where sendfile
                // left the file's offset.
                Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => break,
                Err(e) => return Err(e.into()),
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = null;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match std::io::Read::read(f, &mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Opens sled in `dir`, waiting briefly for this process's previous handle to let go.
fn open_sled(dir: &Path) -> Result<sled::Db, StoreError> {
    let mut waited = Duration::ZERO;
    loop {
        match sled::Config::new()
            .path(dir)
            // We flush explicitly after every batch; the background flusher would only
            // add writes that nobody waits for.
            .flush_every_ms(None)
            .open()
        {
            Ok(db) => return Ok(db),
            Err(e) if e.to_string().contains("could not acquire lock") => {
                if waited >= SLED_LOCK_WAIT {
                    return Err(StoreError::Locked {
                        path: dir.display().to_string(),
                    });
                }
                std::thread::sleep(Duration::from_millis(10));
                waited += Duration::from_millis(10);
            }
            Err(e) => {
                return Err(match sled_err(e) {
                    StoreError::Io(m) => StoreError::Io(format!(
                        "sled cannot open its database in {}: {m}; nothing was changed: try again (if it persists, the disk is failing: run `coopledger repair`)",
                        dir.display()
                    )),
                    other => other,
                });
            }
        }
    }
}

impl SledStore {
    /// Opens (creating if needed) the store in `dir`. A directory already open elsewhere
    /// gives [`StoreError::Locked`]; an I/O error while reading gives [`StoreError::Io`]
    /// having changed nothing; a sled that refuses to open, or lost records the journal
    /// holds, is rebuilt from the journal (the old files kept aside, a warning logged).
    pub fn open(dir: impl AsRef<Path>) -> Result<SledStore, StoreError> {
        SledStore::open_with(dir, SledOptions::default())
    }

    /// [`SledStore::open`] with options.
    pub fn open_with(dir: impl AsRef<Path>, options: SledOptions) -> Result<SledStore, StoreError> {
        let path = dir.as_ref().to_path_buf();
        // Our own lock, released exactly when this store is dropped. sled also locks its
        // data file, but releases that lock only when its background threads let go of
        // the database, which can be a moment after drop.
        let lock = lock_dir(&path)?;
        let sled_dir = path.join(SLED_DIR);
        let journal_dir = path.join(JOURNAL_DIR);
        let faults = options.faults;
        // Read before anything writes: the journal's tail, and every sled file.
        let tail = journal_tail(&journal_dir, &faults)?;
        pre_read(&sled_dir, &faults)?;
        discard_unfinished_snapshots(&sled_dir)?;
        let fresh = !sled_dir.exists();
        let opened =
            open_sled(&sled_dir).and_then(|db| SledStore::from_db(db, &path, None, &faults));
        let mut store = match opened {
            Ok(s) => s,
            // Damage (not an I/O error, which may pass): rebuild from the journal.
            Err(e @ StoreError::Corrupt { .. }) if tail.size > 0 => {
                tracing::warn!(error = %e, "sled's database is damaged; rebuilding it from the journal");
                rebuild(&path, Some(&e.to_string()), &faults)?;
                SledStore::from_db(open_sled(&sled_dir)?, &path, None, &faults)?
            }
            Err(e) => return Err(e),
        };
        let size = store.size()?;
        if size < tail.size {
            // The journal holds records sled lacks: a batch journaled but not applied to
            // sled before a crash or a write error, or records sled lost. Append them
            // from the journal (every record checked as on any append); if they do not
            // continue what sled holds, rebuild sled from the whole journal.
            tracing::warn!(
                sled = size,
                journal = tail.size,
                "sled holds fewer records than the journal; adding them from the journal"
            );
            let caught_up = crate::Log::open(store)
                .and_then(|log| fill_from_journal(&log, &journal_dir).map(|_| log.into_store()));
            store = match caught_up {
                Ok(s) if s.size()? == tail.size => s,
                other => {
                    let why = match other {
                        Err(e) => e.to_string(),
                        Ok(s) => {
                            drop(s);
                            "sled lost records the journal holds".into()
                        }
                    };
                    rebuild(&path, Some(&why), &faults)?;
                    SledStore::from_db(open_sled(&sled_dir)?, &path, None, &faults)?
                }
            };
        }
        let size = store.size()?;
        if size == tail.size && size > 0 && store.record(size - 1)? != tail.last {
            return Err(corrupt(
                Some(size - 1),
                "sled and the journal disagree on the last record: run `coopledger repair` to rebuild sled from the journal",
            ));
        }
        let j = Journal::open(&journal_dir, tail.end, tail.size, faults.clone())?;
        if size > tail.size {
            // The last batch reached sled but not the journal (a crash between the two
            // writes: it was never acknowledged). Copy it over, so both hold it.
            let extra: Vec<(u64, Vec<u8>)> =
                store.records(tail.size, size).collect::<Result<_, _>>()?;
            let refs: Vec<(u64, &[u8])> = extra.iter().map(|(s, b)| (*s, b.as_slice())).collect();
            j.append(&journal::records_frame(&refs)?, tail.size)?;
            j.sync()?;
        } else if fresh && tail.size == 0 {
            j.sync()?;
        }
        store.journal = Some(j);
        store._lock = Some(lock);
        store.min_free = options.min_free;
        Ok(store)
    }

    /// Rebuilds the sled database of the store in `dir` from its journal (the old files
    /// moved aside, not deleted), checking every record and checkpoint as a [`crate::Log`]
    /// does when it appends them. What `coopledger repair` runs.
    pub fn repair(dir: impl AsRef<Path>) -> Result<Repaired, StoreError> {
        let path = dir.as_ref().to_path_buf();
        let _lock = lock_dir(&path)?;
        rebuild(&path, None, &Faults::none())
    }

    fn from_db(
        db: sled::Db,
        path: &Path,
        lock: Option<File>,
        faults: &Faults,
    ) -> Result<SledStore, StoreError> {
        SledStore::from_db_in(db, path, &path.join(SLED_DIR), lock, faults)
    }

    fn from_db_in(
        db: sled::Db,
        path: &Path,
        sled_dir: &Path,
        lock: Option<File>,
        faults: &Faults,
    ) -> Result<SledStore, StoreError> {
        let data_file = File::open(sled_dir.join("db")).map_err(io)?;
        let tree = db.open_tree("ledger").map_err(sled_err)?;
        let ids = load_ids(&tree)?;
        Ok(SledStore {
            tree,
            data_file: Mutex::new(data_file),
            db,
            path: path.to_path_buf(),
            journal: None,
            min_free: 0,
            faults: faults.clone(),
            ids: RwLock::new(ids),
            _lock: lock,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sync(&self) -> Result<(), StoreError> {
        let sled = || -> Result<(), StoreError> {
            self.faults.fail(Point::SledFlush).map_err(io)?;
            self.db.flush().map_err(io)?;
            let f = self
                .data_file
                .lock()
                .map_err(|_| StoreError::Io("data file handle poisoned".into()))?;
            f.sync_data().map_err(io)
        };
        match &self.journal {
            // The two files are independent: their flushes wait on the disk together.
            Some(j) => std::thread::scope(|s| {
                let journal = s.spawn(|| j.sync());
                let sled = sled();
                let journal = journal
                    .join()
                    .unwrap_or_else(|_| Err(StoreError::Io("the journal sync panicked".into())));
                sled.and(journal)
            }),
            None => sled(),
        }
    }

    /// Removes a record, bypassing every check, to test that damage is detected: its
    /// segment is split around it.
    #[doc(hidden)]
    pub fn damage_record(&self, seq: u64) -> Result<(), StoreError> {
        let Some((first, entries)) = self.segment_entries(seq)? else {
            return Ok(());
        };
        let at = usize::try_from(seq - first).map_err(io)?;
        let (before, after) = entries.split_at(at);
        let after = after.get(1..).unwrap_or_default();
        let mut batch = sled::Batch::default();
        batch.remove(&key(kind::RECORD, first));
        batch.remove(&key(kind::IDS, first));
        put_segment(&mut batch, first, before)?;
        put_segment(&mut batch, seq + 1, after)?;
        self.tree.apply_batch(batch).map_err(io)?;
        if let Ok(mut ids) = self.ids.write() {
            ids.forget_seq(seq);
        }
        self.sync()
    }

    /// The segment holding record `seq`: its first seq and its raw value.
    fn segment(&self, seq: u64) -> Result<Option<(u64, sled::IVec)>, StoreError> {
        self.faults.fail(Point::SledRead).map_err(io)?;
        let Some(r) = self
            .tree
            .range(key(kind::RECORD, 0)..=key(kind::RECORD, seq))
            .next_back()
        else {
            return Ok(None);
        };
        let (k, v) = r.map_err(io)?;
        let first = seq_from_key(&k)?;
        if segment::View::parse(first, &v)?.holds(seq) {
            Ok(Some((first, v)))
        } else {
            Ok(None)
        }
    }

    /// Record `seq`: (leaf, chain, bytes).
    fn entry(&self, seq: u64) -> Result<Option<(Hash, Hash, Vec<u8>)>, StoreError> {
        let Some((first, v)) = self.segment(seq)? else {
            return Ok(None);
        };
        let (leaf, chain, bytes) = segment::View::parse(first, &v)?.get(seq)?;
        Ok(Some((leaf, chain, bytes.to_vec())))
    }

    /// The whole segment holding `seq`, as owned entries.
    fn segment_entries(&self, seq: u64) -> Result<Option<(u64, Vec<segment::Entry>)>, StoreError> {
        let Some((first, v)) = self.segment(seq)? else {
            return Ok(None);
        };
        let ids = self
            .tree
            .get(key(kind::IDS, first))
            .map_err(io)?
            .ok_or_else(|| {
                corrupt(
                    Some(first),
                    "the event-id list of a record segment is missing",
                )
            })?;
        Ok(Some((
            first,
            segment::View::parse(first, &v)?.entries(&ids)?,
        )))
    }
}

impl SledStore {
    /// Applies `f` to stored record `seq` in `touched` (loading its segment first);
    /// `false` if no segment holds it.
    fn rewrite(
        &self,
        touched: &mut BTreeMap<u64, Vec<segment::Entry>>,
        seq: u64,
        f: impl FnOnce(&mut segment::Entry),
    ) -> Result<bool, StoreError> {
        let held = touched
            .range(..=seq)
            .next_back()
            .is_some_and(|(first, es)| seq - first < es.len() as u64);
        if !held {
            match self.segment_entries(seq)? {
                Some((first, es)) => {
                    touched.insert(first, es);
                }
                None => return Ok(false),
            }
        }
        let slot = touched
            .range_mut(..=seq)
            .next_back()
            .and_then(|(first, es)| es.get_mut(usize::try_from(seq - first).ok()?));
        match slot {
            Some(e) => {
                f(e);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// Adds a segment (and its id list) starting at `first`; nothing for no entries.
fn put_segment(
    batch: &mut sled::Batch,
    first: u64,
    entries: &[segment::Entry],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let (v, ids) = segment::encode(entries)?;
    batch.insert(&key(kind::RECORD, first), v);
    batch.insert(&key(kind::IDS, first), ids);
    Ok(())
}

/// Shards of the event-id index (`IdIndex::shard_of` takes four bits).
const ID_SHARDS: usize = 16;

/// The event-id index: event id → seq, in shards by a mix of the id's bytes, so that a reopen
/// builds the shards on all cores. Built as one map, the index of 10^6 ids was a third of
/// a store's open: each insert a cache miss and a SipHash. The shards keep std's keyed
/// SipHash: ids are chosen by clients, and a client that puts all its ids in one shard
/// only makes that shard's build slower.
#[derive(Default)]
struct IdIndex(Vec<HashMap<EventId, u64>>);

impl std::fmt::Debug for IdIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: usize = self.0.iter().map(HashMap::len).sum();
        write!(f, "IdIndex({ids} ids)")
    }
}

impl IdIndex {
    /// The shard of an id: all its bytes folded and mixed (clients choose ids, and many
    /// count, so that any one byte of theirs may be the same in every id: the benchmark's
    /// put all its ids in one shard by their first byte).
    fn shard_of(id: &EventId) -> usize {
        let (a, b) = id.0.split_at(8);
        let half = |h: &[u8]| u64::from_le_bytes(h.try_into().unwrap_or_default());
        let mixed = (half(a) ^ half(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // The top four bits: ID_SHARDS is 16.
        (mixed >> 60) as usize
    }

    fn get(&self, id: &EventId) -> Option<u64> {
        self.0.get(Self::shard_of(id))?.get(id).copied()
    }

    fn insert(&mut self, id: EventId, seq: u64) {
        if self.0.is_empty() {
            self.0.resize_with(ID_SHARDS, HashMap::new);
        }
        if let Some(shard) = self.0.get_mut(Self::shard_of(&id)) {
            shard.insert(id, seq);
        }
    }

    /// Forgets the id of record `seq` (a damage test's removal).
    fn forget_seq(&mut self, seq: u64) {
        for shard in &mut self.0 {
            shard.retain(|_, s| *s != seq);
        }
    }
}

/// The event-id index, from every stored id list: the lists are read in one pass and
/// their ids sorted into shards, then the shards' maps are built on all cores.
fn load_ids(tree: &sled::Tree) -> Result<IdIndex, StoreError> {
    let ids = key(kind::IDS, 0)..=key(kind::IDS, u64::MAX);
    // The ids of each shard, with their seqs.
    type Part = Vec<(EventId, u64)>;
    let mut parts: Vec<Part> = vec![Vec::new(); ID_SHARDS];
    for r in tree.range(ids) {
        let (k, v) = r.map_err(sled_err)?;
        let first = seq_from_key(&k)?;
        let mut i = 0usize;
        while let Some(id) = segment::id_at(&v, i) {
            if let Some(part) = parts.get_mut(IdIndex::shard_of(&id)) {
                part.push((id, first + i as u64));
            }
            i += 1;
        }
    }
    // A thread a core (the store has no pool), each building a run of the shards; their
    // ids are spread evenly (`shard_of`), so the runs are of equal work.
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, ID_SHARDS);
    let shards = std::thread::scope(|scope| {
        let mut running = Vec::with_capacity(threads);
        for run in parts.chunks_mut(ID_SHARDS.div_ceil(threads)) {
            let t = std::thread::Builder::new()
                .name("coop-store-ids".into())
                .spawn_scoped(scope, move || {
                    run.iter_mut()
                        .map(|part| {
                            // Sized once: grown by doubling, a map is rehashed at every
                            // power of two.
                            let mut map = HashMap::with_capacity(part.len());
                            map.extend(std::mem::take(part));
                            map
                        })
                        .collect::<Vec<_>>()
                })
                .map_err(|e| {
                    StoreError::Io(format!(
                        "cannot start a thread to build the event-id index: {e}; nothing was changed"
                    ))
                })?;
            running.push(t);
        }
        // Joined in order: the runs' shards, concatenated, are the shards in order.
        let mut shards = Vec::with_capacity(ID_SHARDS);
        for t in running {
            shards.extend(t.join().map_err(|_| {
                StoreError::Io(
                    "a thread building the event-id index failed; nothing was changed".into(),
                )
            })?);
        }
        Ok::<_, StoreError>(shards)
    })?;
    Ok(IdIndex(shards))
}

/// Removes `snap.<16 hex digits>.generating` files: snapshots sled was still writing when
/// its process died. sled 0.34.7 counts them as candidates when it opens and, finding the
/// newest one truncated, refuses to open with "Read corrupted data" (sled issues #1509,
/// #1527, #1533; reproduced here by the 1,000-kill crash test). Removing one is safe: sled
/// writes a snapshot to this name, syncs it, then renames it, and frees no log segment
/// before the rename; so a `.generating` file is a snapshot that never took effect, and
/// the log it summarises is still complete. Must run with the directory lock held.
fn discard_unfinished_snapshots(dir: &Path) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let unfinished = name
            .strip_prefix("snap.")
            .and_then(|rest| rest.strip_suffix(".generating"))
            .is_some_and(|lsn| lsn.len() == 16 && lsn.bytes().all(|b| b.is_ascii_hexdigit()));
        if unfinished {
            tracing::warn!(
                file = name,
                "removing a sled snapshot left unfinished by a crash"
            );
            std::fs::remove_file(entry.path()).map_err(io)?;
        }
    }
    Ok(())
}

/// The seqs of the snapshot files in `dir` (none if it does not exist).
fn snapshot_seqs(dir: &Path) -> Vec<u64> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let name = e.file_name();
                    let name = name.to_str()?;
                    name.strip_suffix(".snap")?.parse().ok()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The snapshot file of `seq`: named by seq, 20 decimal digits, so names sort by seq.
fn snapshot_file(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:020}.snap"))
}

/// Reads and checks a snapshot file: its magic, its length, the hash of its bytes.
fn read_snapshot(file: &Path, faults: &Faults) -> Result<Snapshot, String> {
    use std::io::Read as _;
    // The header, then the bytes straight into a buffer of their size: reading the whole
    // file and copying the bytes out of it touched twice the memory (a tenth of a reopen
    // at 10^6 records went to faulting in and filling the copy).
    let f = File::open(file).map_err(|e| e.to_string())?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    let mut f = crate::faults::FaultyRead::new(f, faults.clone(), Point::SnapshotRead);
    let mut head = [0u8; SNAPSHOT_MAGIC.len() + 72];
    f.read_exact(&mut head).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "truncated header".to_owned(),
        _ => e.to_string(),
    })?;
    let rest = head
        .strip_prefix(SNAPSHOT_MAGIC)
        .ok_or("not a snapshot file (magic)")?;
    let (seq, hashes) = rest.split_at(8);
    let (chain, hash) = hashes.split_at(32);
    let seq = u64::from_be_bytes(seq.try_into().map_err(|_| "seq")?);
    // The length is only a hint (the file is read to its end whatever it says).
    let hint = usize::try_from(len.saturating_sub(head.len() as u64)).unwrap_or(0);
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(hint).map_err(|e| e.to_string())?;
    f.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if blake3::hash(&bytes).as_bytes().as_slice() != hash {
        return Err("its bytes do not hash to the hash beside them".into());
    }
    Ok(Snapshot {
        seq,
        chain: Hash::from_slice(chain).map_err(|e| e.to_string())?,
        bytes,
    })
}

impl Store for SledStore {
    fn put_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let dir = self.path.join(SNAPSHOT_DIR);
        std::fs::create_dir_all(&dir).map_err(io)?;
        let target = snapshot_file(&dir, snapshot.seq);
        let tmp = target.with_extension("tmp");
        {
            let mut f = File::create(&tmp).map_err(io)?;
            self.faults.fail(Point::SnapshotWrite).map_err(io)?;
            f.write_all(SNAPSHOT_MAGIC).map_err(io)?;
            f.write_all(&snapshot.seq.to_be_bytes()).map_err(io)?;
            f.write_all(snapshot.chain.as_bytes()).map_err(io)?;
            f.write_all(blake3::hash(&snapshot.bytes).as_bytes())
                .map_err(io)?;
            f.write_all(&snapshot.bytes).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        // Whole or absent: a crash leaves a `.tmp` file, which is never read.
        std::fs::rename(&tmp, &target).map_err(io)?;
        self.faults
            .fail(Point::DirSync)
            .and_then(|()| File::open(&dir))
            .and_then(|d| d.sync_all())
            .map_err(io)?;
        // Keep this one and the one before it (should this one be damaged later).
        let mut seqs = snapshot_seqs(&dir);
        seqs.retain(|s| *s < snapshot.seq);
        seqs.sort_unstable();
        let drop = seqs.len().saturating_sub(1);
        for old in seqs.into_iter().take(drop) {
            let _ = std::fs::remove_file(snapshot_file(&dir, old));
        }
        Ok(())
    }

    fn latest_snapshot(&self) -> Result<Option<Snapshot>, StoreError> {
        let dir = self.path.join(SNAPSHOT_DIR);
        let mut seqs = snapshot_seqs(&dir);
        seqs.sort_unstable();
        for seq in seqs.into_iter().rev() {
            let file = snapshot_file(&dir, seq);
            match read_snapshot(&file, &self.faults) {
                Ok(s) if s.seq == seq => return Ok(Some(s)),
                Ok(_) => {
                    tracing::warn!(file = %file.display(), "a snapshot file names another seq than it holds; not used")
                }
                Err(e) => {
                    tracing::warn!(file = %file.display(), error = %e, "a damaged snapshot is not used")
                }
            }
        }
        Ok(None)
    }

    fn sync(&self) -> Result<(), StoreError> {
        SledStore::sync(self)
    }

    fn check_room(&self, bytes: u64) -> Result<(), StoreError> {
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
        // Stored segments rewritten (only damage tests write over stored records).
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
            } else if !self.rewrite(&mut touched, *seq, |old| *old = e.clone())? {
                // A hole left by a removed record: a segment of its own.
                touched.insert(*seq, vec![e]);
            }
        }
        // A leaf written without its record (only a damage test does this) replaces the
        // hash stored with the record.
        for (seq, leaf) in leaves {
            self.rewrite(&mut touched, seq, |old| old.leaf = leaf)?;
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
        let mut batch = sled::Batch::default();
        for (first, entries) in touched.iter().chain(runs.iter().map(|(f, e)| (f, e))) {
            put_segment(&mut batch, *first, entries)?;
        }
        for ((l, i), h) in b.nodes.iter().filter(|((l, _), _)| *l >= STORED_LEVEL) {
            batch.insert(&node_key(*l, *i), &h.0);
        }
        for (size, note) in &b.checkpoints {
            batch.insert(&key(kind::CHECKPOINT, *size), note.as_bytes());
        }
        // One batch on one tree: sled applies it atomically, also across a crash.
        self.faults.fail(Point::SledWrite).map_err(io)?;
        self.tree.apply_batch(batch).map_err(io)?;
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
        match self
            .tree
            .range(key(kind::RECORD, 0)..=key(kind::RECORD, u64::MAX))
            .next_back()
        {
            None => Ok(0),
            Some(r) => {
                let (k, v) = r.map_err(io)?;
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
        // The segment holding `start`, then every segment that starts before `end`.
        let head = match self.segment(start) {
            Ok(Some(s)) => Some(Ok(s)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        };
        let rest = self
            .tree
            .range(key(kind::RECORD, start.saturating_add(1))..key(kind::RECORD, end))
            .map(|r| {
                let (k, v) = r.map_err(io)?;
                Ok((seq_from_key(&k)?, v))
            });
        Box::new(head.into_iter().chain(rest).flat_map(move |seg| {
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
        }))
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
        self.faults.fail(Point::SledRead).map_err(io)?;
        self.tree
            .get(node_key(level, index))
            .map_err(io)?
            .map(|v| hash_value(None, &v, "Merkle node"))
            .transpose()
    }

    fn checkpoint(&self, size: u64) -> Result<Option<String>, StoreError> {
        self.faults.fail(Point::SledRead).map_err(io)?;
        self.tree
            .get(key(kind::CHECKPOINT, size))
            .map_err(io)?
            .map(|v| {
                String::from_utf8(v.to_vec())
                    .map_err(|_| corrupt(None, format!("checkpoint {size} is not UTF-8")))
            })
            .transpose()
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError> {
        let last = self
            .tree
            .range(key(kind::CHECKPOINT, 0)..=key(kind::CHECKPOINT, u64::MAX))
            .next_back();
        let Some(r) = last else {
            return Ok(None);
        };
        let (k, v) = r.map_err(io)?;
        let size = seq_from_key(&k)?;
        let note = String::from_utf8(v.to_vec())
            .map_err(|_| corrupt(None, format!("checkpoint {size} is not UTF-8")))?;
        Ok(Some((size, note)))
    }

    fn checkpoint_sizes(&self) -> Result<Vec<u64>, StoreError> {
        self.tree
            .range(key(kind::CHECKPOINT, 0)..=key(kind::CHECKPOINT, u64::MAX))
            .keys()
            .map(|k| seq_from_key(&k.map_err(io)?))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pre-read reaches each file's end, by sendfile or by reading, and a file that
    /// cannot be read (a directory here) is an error either way.
    #[test]
    fn a_file_is_read_through_to_its_end_and_a_failed_read_is_an_error() -> anyhow::Result<()> {
        use std::io::Seek as _;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("f");
        let len = (3 << 20) + 123;
        std::fs::write(&path, vec![7u8; len])?;
        let null = File::options().write(true).open("/dev/null")?;
        for null in [Some(&null), None] {
            let mut f = File::open(&path)?;
            read_through(&mut f, null)?;
            assert_eq!(f.stream_position()?, len as u64);
            let mut d = File::open(dir.path())?;
            assert!(read_through(&mut d, null).is_err());
        }
        pre_read(dir.path(), &Faults::none())?;
        Ok(())
    }

    /// Ids as a client that counts makes them: the same in all bytes but the last few.
    fn id(n: u32) -> EventId {
        let mut b = [0u8; 16];
        b[12..].copy_from_slice(&n.to_be_bytes());
        EventId(b)
    }

    /// The sharded index answers as one map would: each id to its seq, an unknown id to
    /// nothing, a forgotten seq's id to nothing; and the index loaded from the stored id
    /// lists is the one the writes built.
    #[test]
    fn the_event_id_index_in_shards_is_one_map() -> anyhow::Result<()> {
        let mut index = IdIndex::default();
        assert_eq!(index.get(&id(1)), None);
        for n in 0..5000u32 {
            index.insert(id(n), u64::from(n));
        }
        // Counted ids spread evenly over the shards (each holds 5000/16 = 312.5 on
        // average): a reopen builds them on all cores.
        for shard in &index.0 {
            assert!((200..=430).contains(&shard.len()), "{}", shard.len());
        }
        for n in 0..5000u32 {
            assert_eq!(index.get(&id(n)), Some(u64::from(n)));
        }
        assert_eq!(index.get(&id(5000)), None);
        index.forget_seq(17);
        assert_eq!(index.get(&id(17)), None);
        assert_eq!(index.get(&id(18)), Some(18));

        let dir = tempfile::tempdir()?;
        let db = sled::Config::new()
            .temporary(true)
            .path(dir.path())
            .open()?;
        let tree = db.open_tree("ledger")?;
        let mut first = 0u32;
        for len in [1u32, 7, 300, 2, 1000] {
            let mut ids = Vec::new();
            for n in first..first + len {
                ids.extend_from_slice(&id(n).0);
            }
            tree.insert(key(kind::IDS, u64::from(first)), ids)?;
            first += len;
        }
        let loaded = load_ids(&tree)?;
        assert_eq!(loaded.0.len(), ID_SHARDS);
        for n in 0..first {
            assert_eq!(loaded.get(&id(n)), Some(u64::from(n)), "id {n}");
        }
        assert_eq!(loaded.get(&id(first)), None);
        Ok(())
    }
}
