/// Why verification failed. Every variant that concerns the ledger's content names the
/// first record (or checkpoint) found wrong; nothing after it can be trusted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// A record is wrong: it does not decode canonically, sits at the wrong position,
    /// does not link, is not validly signed, or breaks the Agreement's rules at its
    /// position. The history was altered (or written by faulty software) at this record.
    #[error("record {seq}: {what}")]
    Record {
        /// The record.
        seq: u64,
        /// What is wrong, in words.
        what: String,
    },
    /// A checkpoint does not verify (signature, cosignature) or does not match the
    /// records it covers. `size` records are covered; the last is `size - 1`.
    #[error("checkpoint at size {size}: {what}")]
    Checkpoint {
        /// The checkpoint's tree size.
        size: u64,
        /// What is wrong.
        what: String,
    },
    /// The ledger ends before a checkpoint the auditor holds: records were removed from
    /// its end (or the copy is incomplete). `size` is the first missing seq.
    #[error("the ledger ends after {size} records, but {what}")]
    Truncated {
        /// Records present (= the first missing seq).
        size: u64,
        /// The checkpoint that shows more.
        what: String,
    },
    /// The input cannot be read as what it claims to be (I/O error, not an export or
    /// bundle, damaged framing). Check the file or directory given.
    #[error("cannot read the input: {0}")]
    Input(String),
    /// An evidence bundle is malformed or does not prove what it claims (apart from a
    /// bad record, reported as [`VerifyError::Record`]).
    #[error("evidence bundle: {0}")]
    Bundle(String),
    /// The caller's observer refused to go on (import: the local store failed).
    #[error("stopped: {0}")]
    Stopped(String),
}

impl VerifyError {
    /// The seq the failure points at: the bad record, the last record a bad checkpoint
    /// covers, or the first missing record of a truncated ledger.
    pub fn seq(&self) -> Option<u64> {
        match self {
            VerifyError::Record { seq, .. } => Some(*seq),
            VerifyError::Checkpoint { size, .. } => size.checked_sub(1),
            VerifyError::Truncated { size, .. } => Some(*size),
            _ => None,
        }
    }

    pub(crate) fn record(seq: u64, what: impl std::fmt::Display) -> VerifyError {
        VerifyError::Record {
            seq,
            what: what.to_string(),
        }
    }

    pub(crate) fn checkpoint(size: u64, what: impl std::fmt::Display) -> VerifyError {
        VerifyError::Checkpoint {
            size,
            what: what.to_string(),
        }
    }
}
