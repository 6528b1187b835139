use coop_core::EventError;
use coop_store::StoreError;
use coop_treaty::Violation;

/// Why a submission was not appended. In every case nothing was written.
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
    /// The ledger cannot append now (stopped, or a storage failure that needs a restart).
    /// Retry later (HTTP 503).
    #[error("ledger unavailable: {0}")]
    Unavailable(String),
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
    /// The question cannot be answered (seq beyond the ledger...). Fix the request
    /// (HTTP 400/404).
    #[error("{0}")]
    BadQuery(String),
}
