//! coop-ledger: the engine that appends events without ever letting one in that breaks
//! the Agreement.
//!
//! One writer thread owns the append path. Submissions arrive on a bounded channel; the
//! writer drains up to `max_batch` of them, verifies their signatures strictly on all
//! cores (rayon), runs the Agreement's rules in order against the live state, writes the
//! accepted events in one atomic, fsynced group commit, and only then signs and sends each
//! receipt. The key design decision: validation is sequential and in memory (rules need
//! the previous event's effect), while the two expensive parts — signature checks and
//! durability — are amortised: signatures in parallel, one fsync per batch. A refused
//! event changes nothing; a duplicate event id returns the first receipt; a storage
//! failure stops the ledger until it is reopened from disk.

mod config;
mod engine;
mod error;
mod ledger;
mod metrics;

pub use config::Config;
pub use error::{LedgerError, SubmitError};
pub use ledger::{AsOf, Ledger};
pub use metrics::Snapshot;
