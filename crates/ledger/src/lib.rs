//! coop-ledger: the engine that appends events without ever letting one in that breaks
//! the Agreement.
//!
//! One writer thread owns the append path. A submission's signature is verified strictly
//! on the submitting thread, then it is queued on a bounded channel; the writer drains up
//! to `max_batch` of them, runs the Agreement's rules in order against the live state,
//! writes the accepted events in one atomic, fsynced group commit, and answers; the
//! submitting thread then signs the receipt. The key design decision: only what must be
//! sequential (rules, sequencing, the write) runs on the writer; the expensive, parallel
//! parts — signature checks and receipt signatures — run on the submitters' threads
//! (all cores), and durability is amortised to one fsync per batch. A refused
//! event changes nothing; a duplicate event id returns the first receipt; a storage
//! failure stops the ledger until it is reopened from disk.

mod clock;
mod config;
mod engine;
mod error;
mod files;
mod ledger;
mod metrics;
pub mod read;

pub use clock::{Clock, SystemClock, TestClock, system_ms};
pub use config::Config;
pub use error::{LedgerError, SubmitError};
pub use files::{MadeBundle, WITNESS_LOOKBACK, Witnessing};
pub use ledger::{AsOf, CheckpointKeys, Ledger, Pending};
pub use metrics::{BATCH_BUCKETS, Snapshot};
