//! Engine counters, read by the node's `/metrics` and by the benchmark.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    appended: AtomicU64,
    batches: AtomicU64,
    commit_micros: AtomicU64,
    largest_batch: AtomicU64,
    syncs: AtomicU64,
    sync_micros: AtomicU64,
    writer_micros: AtomicU64,
    /// Batches by size: bucket i counts batches of at most `2^i` events.
    batch_sizes: [AtomicU64; BATCH_BUCKETS],
    refusals: Mutex<BTreeMap<String, u64>>,
}

/// Batch-size buckets: up to 1, 2, 4, ..., 4096 events, and more.
pub const BATCH_BUCKETS: usize = 14;

/// A copy of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Events appended since start.
    pub appended: u64,
    /// Group commits.
    pub batches: u64,
    /// Time spent writing batches (before sync), in microseconds.
    pub commit_micros: u64,
    /// Largest batch.
    pub largest_batch: u64,
    /// fdatasyncs (each covers one or more batches).
    pub syncs: u64,
    /// Time spent syncing, in microseconds.
    pub sync_micros: u64,
    /// Time the writer thread spent on batches (rules and writes), in microseconds.
    pub writer_micros: u64,
    /// Batches of at most `2^i` events (not cumulative), for i in 0..13; the last
    /// bucket counts larger batches.
    pub batch_sizes: [u64; BATCH_BUCKETS],
    /// Refusals by clause (or "invalid", "id reused", "storage full").
    pub refusals: BTreeMap<String, u64>,
    /// Whether the ledger stopped appending after a storage failure (until a restart).
    pub storage_failed: bool,
}

impl Metrics {
    pub(crate) fn batch(&self, n: usize, took: Duration) {
        let n = n as u64;
        self.appended.fetch_add(n, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.commit_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.largest_batch.fetch_max(n, Ordering::Relaxed);
        let bucket = (u64::BITS - n.saturating_sub(1).leading_zeros()) as usize;
        if let Some(b) = self.batch_sizes.get(bucket.min(BATCH_BUCKETS - 1)) {
            b.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn sync(&self, took: Duration) {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.sync_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn writer_busy(&self, took: Duration) {
        self.writer_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn refused(&self, clause: &str) {
        if let Ok(mut m) = self.refusals.lock() {
            *m.entry(clause.to_owned()).or_default() += 1;
        }
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            appended: self.appended.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            commit_micros: self.commit_micros.load(Ordering::Relaxed),
            largest_batch: self.largest_batch.load(Ordering::Relaxed),
            syncs: self.syncs.load(Ordering::Relaxed),
            sync_micros: self.sync_micros.load(Ordering::Relaxed),
            writer_micros: self.writer_micros.load(Ordering::Relaxed),
            batch_sizes: std::array::from_fn(|i| {
                self.batch_sizes
                    .get(i)
                    .map_or(0, |b| b.load(Ordering::Relaxed))
            }),
            refusals: self.refusals.lock().map(|m| m.clone()).unwrap_or_default(),
            storage_failed: false,
        }
    }
}
