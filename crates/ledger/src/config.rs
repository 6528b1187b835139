use crate::clock::{Clock, SystemClock};
use std::sync::Arc;
use std::time::Duration;

/// Engine settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Most submissions written in one group commit.
    pub max_batch: usize,
    /// Sign a checkpoint after this many new records...
    pub checkpoint_every: u64,
    /// ...or after this much time with new records, whichever comes first...
    pub checkpoint_interval: Duration,
    /// ...or once no submission has arrived for this long (the end of a burst).
    pub checkpoint_idle: Duration,
    /// The node's clock: the system's, or a movable one that only a test ledger accepts.
    pub clock: Arc<dyn Clock>,
    /// Submissions waiting for the writer before `submit` blocks (back-pressure).
    pub queue: usize,
    /// Whether this node may sign checkpoints (a leader does; a follower stores the
    /// leader's). A node signs only if, besides, its key is the one the ledger names for
    /// its checkpoints (the genesis's node key): a copy kept under another key never does.
    pub sign_checkpoints: bool,
    /// A witness whose own cosignature on the latest stored checkpoint vouches that the
    /// records it covers were verified before they were stored: a follower's copy, opened
    /// by that follower (its witness key). Opening then re-verifies only the records
    /// after it, as a node does after its own checkpoint, instead of every signature.
    pub vouched_by: Option<coop_core::checkpoint::NoteVerifier>,
    /// Snapshot the treaty state once this many records, and a tenth of the ledger,
    /// were folded since the last snapshot (checked whenever the writer is idle, and at
    /// shutdown); 0 takes none. Opening
    /// loads the newest snapshot and replays only the records after it (docs/adr/0019).
    pub snapshot_every: u64,
    /// The longest wait on storage: a submission not answered by then (a write or a sync
    /// that does not return, as sled's flush can after a failed write) is answered "may
    /// have landed" and marks storage failed; stopping the ledger waits at most twice
    /// this for each of its threads.
    pub storage_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_batch: 4096,
            checkpoint_every: 10_000,
            checkpoint_interval: Duration::from_secs(5),
            checkpoint_idle: Duration::from_secs(1),
            clock: Arc::new(SystemClock),
            queue: 65_536,
            sign_checkpoints: true,
            vouched_by: None,
            snapshot_every: 100_000,
            storage_timeout: Duration::from_secs(10),
        }
    }
}
