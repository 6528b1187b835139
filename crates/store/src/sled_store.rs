use crate::StoreError;
use crate::error::corrupt;
use crate::segment;
use crate::store::{RecordItem, Store, WriteBatch};
use coop_core::{EventId, Hash};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

/// The durable store: one sled database in a directory, one tree, keys prefixed by kind.
///
/// Records are stored a segment per append (`segment.rs`), with their event ids in a
/// list beside it, from which the event-id index is rebuilt in memory on open: a sled key
/// costs several microseconds to write whatever its size, so an append writes two keys
/// (plus the Merkle nodes it completes at level 4 and up), not two per record.
///
/// Durability: [`Store::write`] applies one sled batch (atomic), calls
/// `Db::flush` (which on Linux ends in `sync_file_range`: data reaches the device, but
/// neither the device's volatile cache nor the file's metadata is flushed), and then
/// `fdatasync`s sled's data file, which does both. Only then does it return.
/// docs/OPERATIONS.md states the promise.
#[derive(Debug)]
pub struct SledStore {
    db: sled::Db,
    path: PathBuf,
    /// A second handle on sled's data file, used only for `fdatasync`.
    data_file: Mutex<File>,
    /// Everything, in one tree, keyed by a one-byte prefix per kind (see `key`): one
    /// sled `Batch` on one tree is atomic and far cheaper than a multi-tree transaction.
    tree: sled::Tree,
    /// Event id → seq, rebuilt from the stored id lists on open, updated after each
    /// write.
    ids: RwLock<HashMap<EventId, u64>>,
    /// Held for the store's lifetime; declared last so it is released last.
    _lock: File,
}

/// Lock file in the ledger directory: one process per directory.
const LOCK_FILE: &str = "coopledger.lock";
/// How long to wait for sled's own lock to be released by a store this process just
/// dropped.
const SLED_LOCK_WAIT: Duration = Duration::from_secs(5);

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(e.to_string())
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
    pub const META: u8 = b'm';
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

fn meta_key(name: &str) -> Vec<u8> {
    let mut k = vec![kind::META];
    k.extend_from_slice(name.as_bytes());
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
    /// Opens (creating if needed) the store in `dir`. A directory already open elsewhere
    /// gives [`StoreError::Locked`].
    pub fn open(dir: impl AsRef<Path>) -> Result<SledStore, StoreError> {
        let path = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&path).map_err(io)?;
        let locked = || StoreError::Locked {
            path: path.display().to_string(),
        };
        // Our own lock, released exactly when this store is dropped. sled also locks its
        // data file, but releases that lock only when its background threads let go of
        // the database, which can be a moment after drop.
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path.join(LOCK_FILE))
            .map_err(io)?;
        lock.try_lock().map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => locked(),
            std::fs::TryLockError::Error(e) => io(e),
        })?;
        discard_unfinished_snapshots(&path)?;
        // Holding our lock, the only possible holder of sled's lock is this process's
        // previous store on the same directory, finishing its drop: wait for it, briefly.
        let mut waited = Duration::ZERO;
        let db = loop {
            match sled::Config::new()
                .path(&path)
                // We flush explicitly after every batch; the background flusher would
                // only add writes that nobody waits for.
                .flush_every_ms(None)
                .open()
            {
                Ok(db) => break db,
                Err(e) if e.to_string().contains("could not acquire lock") => {
                    if waited >= SLED_LOCK_WAIT {
                        return Err(locked());
                    }
                    std::thread::sleep(Duration::from_millis(10));
                    waited += Duration::from_millis(10);
                }
                Err(e) => {
                    return Err(StoreError::Io(format!(
                        "cannot open sled database in {}: {e}",
                        path.display()
                    )));
                }
            }
        };
        let data_file = File::open(path.join("db")).map_err(io)?;
        let tree = db.open_tree("ledger").map_err(io)?;
        let ids = load_ids(&tree)?;
        Ok(SledStore {
            tree,
            data_file: Mutex::new(data_file),
            db,
            path,
            ids: RwLock::new(ids),
            _lock: lock,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(io)?;
        let f = self
            .data_file
            .lock()
            .map_err(|_| StoreError::Io("data file handle poisoned".into()))?;
        f.sync_data().map_err(io)
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
            ids.retain(|_, s| *s != seq);
        }
        self.sync()
    }

    /// The segment holding record `seq`: its first seq and its raw value.
    fn segment(&self, seq: u64) -> Result<Option<(u64, sled::IVec)>, StoreError> {
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

/// The event-id index, from every stored id list.
fn load_ids(tree: &sled::Tree) -> Result<HashMap<EventId, u64>, StoreError> {
    let mut map = HashMap::new();
    for r in tree.range(key(kind::IDS, 0)..=key(kind::IDS, u64::MAX)) {
        let (k, v) = r.map_err(io)?;
        let first = seq_from_key(&k)?;
        let mut i = 0usize;
        while let Some(id) = segment::id_at(&v, i) {
            map.insert(id, first + i as u64);
            i += 1;
        }
    }
    Ok(map)
}

/// Removes `snap.<16 hex digits>.generating` files: snapshots sled was still writing when
/// its process died. sled 0.34.7 counts them as candidates when it opens and, finding the
/// newest one truncated, refuses to open with "Read corrupted data" (sled issues #1509,
/// #1527, #1533; reproduced here by the 1,000-kill crash test). Removing one is safe: sled
/// writes a snapshot to this name, syncs it, then renames it, and frees no log segment
/// before the rename; so a `.generating` file is a snapshot that never took effect, and
/// the log it summarises is still complete. Must run with the directory lock held.
fn discard_unfinished_snapshots(dir: &Path) -> Result<(), StoreError> {
    for entry in std::fs::read_dir(dir).map_err(io)? {
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

impl Store for SledStore {
    fn sync(&self) -> Result<(), StoreError> {
        SledStore::sync(self)
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
        for (k, v) in &b.meta {
            batch.insert(meta_key(k), v.as_slice());
        }
        // One batch on one tree: sled applies it atomically, also across a crash.
        self.tree.apply_batch(batch).map_err(io)?;
        let mut ids = self
            .ids
            .write()
            .map_err(|_| StoreError::Io("event-id index lock poisoned".into()))?;
        ids.extend(index);
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
        Ok(ids.get(id).copied())
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
        self.tree
            .get(node_key(level, index))
            .map_err(io)?
            .map(|v| hash_value(None, &v, "Merkle node"))
            .transpose()
    }

    fn checkpoint(&self, size: u64) -> Result<Option<String>, StoreError> {
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

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tree
            .get(meta_key(name))
            .map_err(io)?
            .map(|v| v.to_vec()))
    }
}
