//! Engine counters, read by `/metrics` later and by the benchmark now.

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
    refusals: Mutex<BTreeMap<String, u64>>,
}

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
    /// Refusals by clause (or "invalid", "id reused").
    pub refusals: BTreeMap<String, u64>,
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
            refusals: self.refusals.lock().map(|m| m.clone()).unwrap_or_default(),
        }
    }
}
