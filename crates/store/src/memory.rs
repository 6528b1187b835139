use crate::StoreError;
use crate::store::{RecordItem, Snapshot, Store, WriteBatch};
use coop_core::{EventId, Hash};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Default)]
struct Inner {
    records: BTreeMap<u64, Vec<u8>>,
    chain: HashMap<u64, Hash>,
    event_ids: HashMap<EventId, u64>,
    nodes: HashMap<(u8, u64), Hash>,
    checkpoints: BTreeMap<u64, String>,
    snapshots: BTreeMap<u64, Snapshot>,
}

/// The in-memory twin of [`crate::SledStore`]: same contract, no disk. Clones share the
/// same contents, so dropping a [`crate::Log`] and opening another over a clone models a
/// restart.
#[derive(Debug, Default, Clone)]
pub struct MemStore {
    inner: Arc<Mutex<Inner>>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> MemStore {
        MemStore::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::Io("memory store lock poisoned".into()))
    }
}

impl Store for MemStore {
    fn sync(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn put_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let mut g = self.lock()?;
        g.snapshots.insert(snapshot.seq, snapshot.clone());
        while g.snapshots.len() > 2 {
            g.snapshots.pop_first();
        }
        Ok(())
    }

    fn latest_snapshot(&self) -> Result<Option<Snapshot>, StoreError> {
        Ok(self.lock()?.snapshots.values().next_back().cloned())
    }

    fn write_unsynced(&self, b: &WriteBatch) -> Result<(), StoreError> {
        let mut g = self.lock()?;
        for (seq, bytes, chain, id) in &b.records {
            g.records.insert(*seq, bytes.clone());
            g.chain.insert(*seq, *chain);
            g.event_ids.insert(*id, *seq);
        }
        for (k, h) in &b.nodes {
            g.nodes.insert(*k, *h);
        }
        for (size, note) in &b.checkpoints {
            g.checkpoints.insert(*size, note.clone());
        }
        Ok(())
    }

    fn size(&self) -> Result<u64, StoreError> {
        Ok(self
            .lock()?
            .records
            .last_key_value()
            .map_or(0, |(k, _)| k + 1))
    }

    fn record(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock()?.records.get(&seq).cloned())
    }

    fn records(&self, start: u64, end: u64) -> Box<dyn Iterator<Item = RecordItem> + '_> {
        match self.lock() {
            Err(e) => Box::new(std::iter::once(Err(e))),
            Ok(g) => {
                let v: Vec<RecordItem> = if start < end {
                    g.records
                        .range(start..end)
                        .map(|(k, v)| Ok((*k, v.clone())))
                        .collect()
                } else {
                    Vec::new()
                };
                Box::new(v.into_iter())
            }
        }
    }

    fn chain(&self, seq: u64) -> Result<Option<Hash>, StoreError> {
        Ok(self.lock()?.chain.get(&seq).copied())
    }

    fn seq_of(&self, id: &EventId) -> Result<Option<u64>, StoreError> {
        Ok(self.lock()?.event_ids.get(id).copied())
    }

    fn node(&self, level: u8, index: u64) -> Result<Option<Hash>, StoreError> {
        Ok(self.lock()?.nodes.get(&(level, index)).copied())
    }

    fn checkpoint(&self, size: u64) -> Result<Option<String>, StoreError> {
        Ok(self.lock()?.checkpoints.get(&size).cloned())
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError> {
        Ok(self
            .lock()?
            .checkpoints
            .last_key_value()
            .map(|(k, v)| (*k, v.clone())))
    }

    fn checkpoint_sizes(&self) -> Result<Vec<u64>, StoreError> {
        Ok(self.lock()?.checkpoints.keys().copied().collect())
    }
}

impl MemStore {
    /// Removes record `seq` (and nothing else), to test that a damaged store is refused.
    #[doc(hidden)]
    pub fn damage_remove_record(&self, seq: u64) -> Result<(), StoreError> {
        self.lock()?.records.remove(&seq);
        Ok(())
    }
}
