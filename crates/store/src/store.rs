use crate::StoreError;
use coop_core::{EventId, Hash};

/// Everything one append writes, applied atomically and durably by [`Store::write`].
#[derive(Debug, Default, Clone)]
pub struct WriteBatch {
    /// New records: `(seq, canonical bytes, chain hash, event id)`.
    pub records: Vec<(u64, Vec<u8>, Hash, EventId)>,
    /// Perfect Merkle nodes completed by these records: `((level, index), hash)`.
    pub nodes: Vec<((u8, u64), Hash)>,
    /// Signed checkpoint notes by tree size.
    pub checkpoints: Vec<(u64, String)>,
}

impl WriteBatch {
    /// Whether the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.nodes.is_empty() && self.checkpoints.is_empty()
    }
}

/// A snapshot of the projections (docs/adr/0019), as the store keeps it: opaque bytes
/// that cover records `0..seq`, taken when record `seq - 1`'s chain hash was `chain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Records covered.
    pub seq: u64,
    /// The chain hash after record `seq - 1` when it was taken: a snapshot whose chain is
    /// not the store's is of another history and is not used.
    pub chain: Hash,
    /// The snapshot's bytes (the treaty state, `coop_treaty::snapshot`).
    pub bytes: Vec<u8>,
}

/// How far a store's database is behind its journal (the write-ahead log), as the node
/// reports it (docs/adr/0027): nothing for a store without one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lag {
    /// Batches journaled (acknowledged or about to be) that sled has not applied.
    pub batches: u64,
    /// Records among them.
    pub records: u64,
    /// Bytes of record held in memory for them.
    pub bytes: u64,
    /// How long the oldest of them has waited (ms).
    pub oldest_ms: u64,
    /// Why sled stopped applying, if it did (it is rebuilt from the journal).
    pub failed: Option<String>,
    /// Times sled was rebuilt from the journal while the store ran.
    pub rebuilds: u64,
}

/// A record's seq and bytes.
pub type RecordBytes = (u64, Vec<u8>);

/// Result of reading one record in a range.
pub type RecordItem = Result<RecordBytes, StoreError>;

/// The narrow storage interface. It stores and returns bytes; it does not decide what is
/// valid (that is [`crate::Log`]'s job) and it trusts nothing it reads back either: the
/// log re-checks what it loads.
///
/// Implementations: [`crate::SledStore`] (durable) and [`crate::MemStore`] (the
/// in-memory twin). Both pass the same conformance suite.
pub trait Store: Send + Sync {
    /// Applies the whole batch or none of it, and returns only once it is durable.
    fn write(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        self.write_unsynced(batch)?;
        self.sync()
    }
    /// Applies the whole batch or none of it (atomic, visible to reads, not yet durable).
    fn write_unsynced(&self, batch: &WriteBatch) -> Result<(), StoreError>;
    /// Makes every write that returned before this call durable.
    fn sync(&self) -> Result<(), StoreError>;
    /// Whether a write of about `bytes` fits while leaving the store's reserve of free
    /// space; [`StoreError::Full`] if not (nothing is written, nothing is poisoned).
    fn check_room(&self, bytes: u64) -> Result<(), StoreError> {
        let _ = bytes;
        Ok(())
    }
    /// Number of records: one past the highest stored seq (0 when empty).
    fn size(&self) -> Result<u64, StoreError>;
    /// Bytes of record `seq`.
    fn record(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError>;
    /// Records with `start <= seq < end`, in order.
    fn records(&self, start: u64, end: u64) -> Box<dyn Iterator<Item = RecordItem> + '_>;
    /// Chain hash after record `seq`.
    fn chain(&self, seq: u64) -> Result<Option<Hash>, StoreError>;
    /// Seq of the record holding event `id`.
    fn seq_of(&self, id: &EventId) -> Result<Option<u64>, StoreError>;
    /// Perfect Merkle node `(level, index)`.
    fn node(&self, level: u8, index: u64) -> Result<Option<Hash>, StoreError>;
    /// Signed checkpoint note for tree size `size`.
    fn checkpoint(&self, size: u64) -> Result<Option<String>, StoreError>;
    /// The checkpoint with the largest tree size.
    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError>;
    /// Tree sizes of all stored checkpoints, ascending.
    fn checkpoint_sizes(&self) -> Result<Vec<u64>, StoreError>;
    /// How far the database is behind the journal, for a store that writes it behind
    /// one.
    fn lag(&self) -> Option<Lag> {
        None
    }
    /// Keeps `snapshot` (durably, when it returns) as the newest, dropping older ones
    /// but the one before it. A store that keeps no snapshots does nothing: a snapshot
    /// is a cache, and the ledger then replays every record when it opens.
    fn put_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let _ = snapshot;
        Ok(())
    }
    /// The newest snapshot whose bytes are intact (a damaged one is skipped for the one
    /// before it), if any.
    fn latest_snapshot(&self) -> Result<Option<Snapshot>, StoreError> {
        Ok(None)
    }
}
