use coop_core::EventError;
use coop_store::StoreError;
use coop_treaty::Violation;

/// Why a submission was not acknowledged. Every variant but
/// [`SubmitError::MayHaveLanded`] means nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The Agreement forbids the event; the message names the article and element.
    /// Fix the event (HTTP 422).
    #[error("refused: {0}")]
    Refused(Violation),
    /// The event is malformed, signed for another ledger, or its signature does not
    /// verify strictly (HTTP 400).
    #[error("invalid event: {0}")]
    Invalid(EventError),
    /// The event id is already in the ledger with a different body. Choose a new id
    /// (HTTP 409).
    #[error("event id {0} is already used by a different event")]
    IdReused(String),
    /// The ledger cannot append now (stopped, not this ledger's sequencer, or stopped
    /// after a storage failure that needs a restart). Nothing was written. Retry later
    /// (HTTP 503).
    #[error("ledger unavailable: {0}; nothing was written")]
    Unavailable(String),
    /// The disk holding the ledger is (nearly) full: refused before anything was
    /// written. Free space and retry; appends resume by themselves (HTTP 503).
    /// The store's own words ("storage full: … nothing was written: free space and
    /// retry"), said once.
    #[error("{0}")]
    StorageFull(String),
    /// Storage failed while this event was being written: it may or may not be in the
    /// ledger. Retry with the same event id (the same signed event) once the node is
    /// back: if it landed, the retry returns its first receipt; if not, it lands then
    /// (HTTP 503).
    #[error(
        "storage failure while appending: {0}; the event may have landed: retry with the same event id once the node is back (a retry returns the first receipt if it did)"
    )]
    MayHaveLanded(String),
}

/// Why a ledger could not be opened or queried.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Storage failed or is damaged; see the inner error.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored record breaks the Agreement's rules: the store was tampered with or
    /// written by faulty software. Do not serve it; restore it from a verified copy.
    #[error("stored record {seq} is not valid under the Agreement: {violation}")]
    InvalidHistory {
        /// The record.
        seq: u64,
        /// Why.
        violation: Violation,
    },
    /// A stored record's signature does not verify.
    #[error("stored record {seq} has an invalid signature: {error}")]
    BadSignature {
        /// The record.
        seq: u64,
        /// Why.
        error: EventError,
    },
    /// `create` was called on a directory that already holds a ledger, or `open` on an
    /// empty one.
    #[error("{0}")]
    Setup(String),
    /// The genesis was refused.
    #[error("genesis refused: {0}")]
    Genesis(String),
    /// The question cannot be answered as asked (a malformed checkpoint, a size beyond
    /// the ledger...). Fix the request (HTTP 400).
    #[error("{0}")]
    BadQuery(String),
    /// What was asked for does not exist (no such case or record) (HTTP 404).
    #[error("{0}")]
    NotFound(String),
    /// The ledger cannot answer now (its writer stopped, a lock was poisoned by a crash
    /// of another thread). Retry later; if it persists, restart the node (HTTP 503).
    #[error("ledger unavailable: {0}")]
    Unavailable(String),
    /// Writing an output file failed (an export or bundle): check the path and the disk.
    #[error("cannot write: {0}")]
    Output(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 30: a full disk's refusal said "storage full: storage full: …".
    #[test]
    fn a_full_disk_is_said_once() {
        let inner = StoreError::Full {
            available: 1,
            needed: 2,
            reserve: 3,
        }
        .to_string();
        let said = SubmitError::StorageFull(inner).to_string();
        assert_eq!(said.matches("storage full").count(), 1, "{said}");
        assert_eq!(said.matches("nothing was written").count(), 1, "{said}");
    }
}
