use crate::StoreError;
use crate::error::corrupt;
use crate::store::{RecordItem, Store, WriteBatch};
use coop_core::{EventId, Hash};
use sled::Transactional;
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
    records: sled::Tree,
    chain: sled::Tree,
    event_ids: sled::Tree,
    nodes: sled::Tree,
    checkpoints: sled::Tree,
    meta: sled::Tree,
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

fn node_key(level: u8, index: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = level;
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

fn seq_from_key(k: &[u8]) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(k)
        .map(u64::from_be_bytes)
        .map_err(|_| corrupt(None, "record key is not 8 bytes"))
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
        let tree = |name: &str| db.open_tree(name).map_err(io);
        Ok(SledStore {
            records: tree("records")?,
            chain: tree("chain")?,
            event_ids: tree("event_ids")?,
            nodes: tree("nodes")?,
            checkpoints: tree("checkpoints")?,
            meta: tree("meta")?,
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

    /// Overwrites raw bytes, bypassing every check, to test that damage is detected.
    #[doc(hidden)]
    pub fn damage_raw(
        &self,
        tree: &str,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let t = self.db.open_tree(tree).map_err(io)?;
        match value {
            Some(v) => t.insert(key, v).map_err(io)?,
            None => t.remove(key).map_err(io)?,
        };
        self.sync()
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
    fn write(&self, b: &WriteBatch) -> Result<(), StoreError> {
        if b.is_empty() {
            return Ok(());
        }
        let mut records = sled::Batch::default();
        let mut chain = sled::Batch::default();
        let mut ids = sled::Batch::default();
        for (seq, bytes, ch, id) in &b.records {
            let k = seq.to_be_bytes();
            records.insert(&k, bytes.as_slice());
            chain.insert(&k, &ch.0);
            ids.insert(&id.0, &k);
        }
        let mut nodes = sled::Batch::default();
        for ((l, i), h) in &b.nodes {
            nodes.insert(&node_key(*l, *i), &h.0);
        }
        let mut cps = sled::Batch::default();
        for (size, note) in &b.checkpoints {
            cps.insert(&size.to_be_bytes(), note.as_bytes());
        }
        let mut meta = sled::Batch::default();
        for (k, v) in &b.meta {
            meta.insert(k.as_bytes(), v.as_slice());
        }
        (
            &self.records,
            &self.chain,
            &self.event_ids,
            &self.nodes,
            &self.checkpoints,
            &self.meta,
        )
            .transaction(|(r, c, e, n, k, m)| {
                r.apply_batch(&records)?;
                c.apply_batch(&chain)?;
                e.apply_batch(&ids)?;
                n.apply_batch(&nodes)?;
                k.apply_batch(&cps)?;
                m.apply_batch(&meta)?;
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| StoreError::Io(format!("transaction failed: {e:?}")))?;
        self.sync()
    }

    fn size(&self) -> Result<u64, StoreError> {
        match self.records.last().map_err(io)? {
            None => Ok(0),
            Some((k, _)) => Ok(seq_from_key(&k)? + 1),
        }
    }

    fn record(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .records
            .get(seq.to_be_bytes())
            .map_err(io)?
            .map(|v| v.to_vec()))
    }

    fn records(&self, start: u64, end: u64) -> Box<dyn Iterator<Item = RecordItem> + '_> {
        if start >= end {
            return Box::new(std::iter::empty());
        }
        Box::new(
            self.records
                .range(start.to_be_bytes()..end.to_be_bytes())
                .map(|r| {
                    let (k, v) = r.map_err(io)?;
                    Ok((seq_from_key(&k)?, v.to_vec()))
                }),
        )
    }

    fn chain(&self, seq: u64) -> Result<Option<Hash>, StoreError> {
        self.chain
            .get(seq.to_be_bytes())
            .map_err(io)?
            .map(|v| hash_value(Some(seq), &v, "chain hash"))
            .transpose()
    }

    fn seq_of(&self, id: &EventId) -> Result<Option<u64>, StoreError> {
        self.event_ids
            .get(id.0)
            .map_err(io)?
            .map(|v| seq_from_key(&v))
            .transpose()
    }

    fn node(&self, level: u8, index: u64) -> Result<Option<Hash>, StoreError> {
        self.nodes
            .get(node_key(level, index))
            .map_err(io)?
            .map(|v| hash_value(None, &v, "Merkle node"))
            .transpose()
    }

    fn checkpoint(&self, size: u64) -> Result<Option<String>, StoreError> {
        self.checkpoints
            .get(size.to_be_bytes())
            .map_err(io)?
            .map(|v| {
                String::from_utf8(v.to_vec())
                    .map_err(|_| corrupt(None, format!("checkpoint {size} is not UTF-8")))
            })
            .transpose()
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError> {
        let Some((k, v)) = self.checkpoints.last().map_err(io)? else {
            return Ok(None);
        };
        let size = seq_from_key(&k)?;
        let note = String::from_utf8(v.to_vec())
            .map_err(|_| corrupt(None, format!("checkpoint {size} is not UTF-8")))?;
        Ok(Some((size, note)))
    }

    fn checkpoint_sizes(&self) -> Result<Vec<u64>, StoreError> {
        self.checkpoints
            .iter()
            .keys()
            .map(|k| seq_from_key(&k.map_err(io)?))
            .collect()
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .meta
            .get(key.as_bytes())
            .map_err(io)?
            .map(|v| v.to_vec()))
    }
}
