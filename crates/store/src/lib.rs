//! coop-store: where records live, and the only crate that knows sled.
//!
//! Two layers. [`Store`] is a narrow byte-level trait (atomic durable batch write, reads
//! by seq, range, event id, Merkle node, checkpoint) with two implementations: the
//! durable [`SledStore`] and the in-memory [`MemStore`] twin; one conformance suite runs
//! against both. [`Log`] sits on any `Store` and owns every rule about the bytes: chain
//! links, Merkle nodes, checkpoints matching the log, unique event ids, and the check on
//! open. The key design decision is that the store trusts nothing it reads back: `Log`
//! re-verifies the tail on open and every record on read, and a damaged store is refused
//! with the seq that is wrong, never repaired or truncated silently.

mod error;
pub mod faults;
mod journal;
mod log;
mod memory;
mod segment;
mod sled;
mod store;

#[cfg(test)]
mod conformance;

pub use error::StoreError;
pub use faults::{Fault, Faults, Plan, Point, Rule};
pub use journal::{
    Frame as JournalFrame, JOURNAL_MAGIC, JournalItem, JournalItems, JournalReader, MAX_TORN,
    TornTail,
};
pub use log::{Appended, Head, Log};
pub use memory::MemStore;
pub use sled::{DEFAULT_MAX_BEHIND, DEFAULT_MIN_FREE, Repaired, SledOptions, SledStore};
pub use store::{Lag, RecordItem, Snapshot, Store, WriteBatch};
