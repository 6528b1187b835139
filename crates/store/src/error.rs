use coop_core::LinkError;

/// What went wrong in storage, and what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (or another handle in this one) has the ledger directory open.
    /// Stop the other process or use another directory; nothing was changed.
    #[error(
        "ledger directory {path} is locked by another process; stop it or use another directory"
    )]
    Locked {
        /// The directory.
        path: String,
    },
    /// The disk or the database failed. The operation did not complete; for an append,
    /// nothing was acknowledged. The log refuses further appends until it is reopened.
    #[error("storage I/O error: {0}")]
    Io(String),
    /// The stored ledger is damaged. Do not serve it; restore it from an export or a
    /// follower's copy. `seq` is the first record found wrong, when one is known.
    #[error("ledger store is corrupt{}: {what}", seq.map(|s| format!(" at record {s}")).unwrap_or_default())]
    Corrupt {
        /// First record found wrong.
        seq: Option<u64>,
        /// What is wrong, in words.
        what: String,
    },
    /// The caller offered records that do not continue the log (wrong seq or previous
    /// chain hash), or a checkpoint that does not match it. A bug in the caller: nothing
    /// was written.
    #[error("refused: {0}")]
    Conflict(String),
    /// An earlier write failed, so the in-memory head may not match the disk. Reopen the
    /// ledger (which re-checks the store) before appending again.
    #[error("an earlier write failed; reopen the ledger before appending")]
    Poisoned,
}

impl From<LinkError> for StoreError {
    fn from(e: LinkError) -> Self {
        let seq = match &e {
            LinkError::Decode { seq, .. }
            | LinkError::BrokenChain { seq, .. }
            | LinkError::WrongSeq { expected: seq, .. } => Some(*seq),
            LinkError::Encode(_) => None,
        };
        StoreError::Corrupt {
            seq,
            what: e.to_string(),
        }
    }
}

/// Shorthand used by the implementations.
pub(crate) fn corrupt(seq: Option<u64>, what: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        seq,
        what: what.into(),
    }
}
