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
    /// The disk or the database failed. The operation was not acknowledged, but part or
    /// all of what it wrote may be on disk: an append may have landed (find out by event
    /// id, or retry with the same event id, after the ledger is reopened). The log
    /// refuses further appends until it is reopened.
    #[error("storage I/O error: {0}")]
    Io(String),
    /// The disk holding the ledger is (nearly) full: the write was refused before
    /// anything was written, and the ledger is as it was. Free space (or move the ledger
    /// to a larger disk); appends resume by themselves once there is room.
    #[error(
        "storage full: {available} bytes free on the ledger's disk, {needed} needed (a reserve of {reserve} is kept); nothing was written: free space and retry"
    )]
    Full {
        /// Bytes free for the ledger's user.
        available: u64,
        /// Bytes the write needs, reserve included.
        needed: u64,
        /// The reserve kept free (`--min-free-mib`).
        reserve: u64,
    },
    /// sled is so far behind the journal (it stalls or keeps failing) that the batches
    /// it lacks, held in memory for readers, reached the store's limit: the append was
    /// refused before anything was written. Nothing is poisoned; appends resume once
    /// sled catches up, and a restart brings sled up to the journal (docs/adr/0027).
    #[error(
        "storage behind: sled lacks {records} records ({bytes} bytes held in memory) of the journal and is not catching up ({why}); nothing was written: restart the node, which brings sled up to the journal"
    )]
    Behind {
        /// Records sled lacks.
        records: u64,
        /// Bytes of them held in memory.
        bytes: u64,
        /// Why sled is behind: its failure, or how long its oldest batch has waited.
        why: String,
    },
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
