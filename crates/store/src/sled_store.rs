use crate::StoreError;
use crate::error::corrupt;
use crate::store::{RecordItem, Store, WriteBatch};
use coop_core::{EventId, Hash};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// The durable store: one sled database in a directory, with one tree per kind of data.
///
/// Durability: [`Store::write`] commits one multi-tree sled transaction, calls
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
    /// Value: leaf hash (32) || chain hash (32) || record bytes. The two hashes ride in
    /// the record's value because every sled key costs several microseconds to write.
    pub const RECORD: u8 = b'r';
    pub const EVENT_ID: u8 = b'e';
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

fn id_key(id: &EventId) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = kind::EVENT_ID;
    k[1..].copy_from_slice(&id.0);
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

/// The record bytes in a stored record value (after the leaf and chain hashes).
fn record_part(seq: u64, v: &[u8]) -> Result<&[u8], StoreError> {
    v.get(64..).ok_or_else(|| {
        corrupt(
            Some(seq),
            "stored record value is shorter than its two hashes",
        )
    })
}

/// The seq stored as a value (event-id index).
fn seq_from_value(v: &[u8]) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(v)
        .map(u64::from_be_bytes)
        .map_err(|_| corrupt(None, "event-id index value is not 8 bytes"))
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
        Ok(SledStore {
            tree: db.open_tree("ledger").map_err(io)?,
            data_file: Mutex::new(data_file),
            db,
            path,
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

    /// Removes a record, bypassing every check, to test that damage is detected.
    #[doc(hidden)]
    pub fn damage_record(&self, seq: u64) -> Result<(), StoreError> {
        self.tree.remove(key(kind::RECORD, seq)).map_err(io)?;
        self.sync()
    }

    /// The stored value of record `seq`: leaf || chain || bytes.
    fn raw_record(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tree
            .get(key(kind::RECORD, seq))
            .map_err(io)?
            .map(|v| v.to_vec()))
    }
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
        // Leaf hashes are stored in the record's value; collect them first.
        let mut leaves: HashMap<u64, Hash> = b
            .nodes
            .iter()
            .filter(|((l, _), _)| *l == 0)
            .map(|((_, i), h)| (*i, *h))
            .collect();
        let mut batch = sled::Batch::default();
        for (seq, bytes, ch, id) in &b.records {
            // Appends always carry the leaf; a record written without one (only a damage
            // test does this) keeps the leaf stored before, as the trait's contract says.
            let leaf = match leaves.remove(seq) {
                Some(l) => l,
                None => match self.node(0, *seq)? {
                    Some(l) => l,
                    None => coop_core::hash::leaf_hash(bytes),
                },
            };
            let mut v = Vec::with_capacity(64 + bytes.len());
            v.extend_from_slice(&leaf.0);
            v.extend_from_slice(&ch.0);
            v.extend_from_slice(bytes);
            batch.insert(&key(kind::RECORD, *seq), v);
            batch.insert(&id_key(id), &seq.to_be_bytes());
        }
        // A leaf written without its record (only a damage test does this) replaces the
        // hash stored with the record.
        for (seq, leaf) in leaves {
            if let Some(mut v) = self.raw_record(seq)? {
                if let Some(slot) = v.get_mut(..32) {
                    slot.copy_from_slice(&leaf.0);
                }
                batch.insert(&key(kind::RECORD, seq), v);
            }
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
        self.tree.apply_batch(batch).map_err(io)
    }

    fn size(&self) -> Result<u64, StoreError> {
        match self
            .tree
            .range(key(kind::RECORD, 0)..=key(kind::RECORD, u64::MAX))
            .next_back()
        {
            None => Ok(0),
            Some(r) => Ok(seq_from_key(&r.map_err(io)?.0)? + 1),
        }
    }

    fn record(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.raw_record(seq)?
            .map(|v| record_part(seq, &v).map(<[u8]>::to_vec))
            .transpose()
    }

    fn records(&self, start: u64, end: u64) -> Box<dyn Iterator<Item = RecordItem> + '_> {
        if start >= end {
            return Box::new(std::iter::empty());
        }
        Box::new(
            self.tree
                .range(key(kind::RECORD, start)..key(kind::RECORD, end))
                .map(|r| {
                    let (k, v) = r.map_err(io)?;
                    let seq = seq_from_key(&k)?;
                    Ok((seq, record_part(seq, &v)?.to_vec()))
                }),
        )
    }

    fn chain(&self, seq: u64) -> Result<Option<Hash>, StoreError> {
        self.raw_record(seq)?
            .map(|v| hash_value(Some(seq), v.get(32..64).unwrap_or_default(), "chain hash"))
            .transpose()
    }

    fn seq_of(&self, id: &EventId) -> Result<Option<u64>, StoreError> {
        self.tree
            .get(id_key(id))
            .map_err(io)?
            .map(|v| seq_from_value(&v))
            .transpose()
    }

    fn node(&self, level: u8, index: u64) -> Result<Option<Hash>, StoreError> {
        if level == 0 {
            return self
                .raw_record(index)?
                .map(|v| hash_value(Some(index), v.get(..32).unwrap_or_default(), "leaf hash"))
                .transpose();
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
