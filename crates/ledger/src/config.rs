use std::time::Duration;

/// Engine settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Most submissions written in one group commit.
    pub max_batch: usize,
    /// Sign a checkpoint after this many new records...
    pub checkpoint_every: u64,
    /// ...or after this much time with new records, whichever comes first.
    pub checkpoint_interval: Duration,
    /// Key name on checkpoint signatures (C2SP signed note).
    pub node_name: String,
    /// Submissions waiting for the writer before `submit` blocks (back-pressure).
    pub queue: usize,
    /// Whether this node signs checkpoints of its own (a leader does; a follower stores
    /// the leader's checkpoints and must not overwrite them with its own).
    pub sign_checkpoints: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_batch: 4096,
            checkpoint_every: 10_000,
            checkpoint_interval: Duration::from_secs(5),
            node_name: "coopledger-node".into(),
            queue: 65_536,
            sign_checkpoints: true,
        }
    }
}
