//! sled written behind the journal (docs/adr/0027): the batches the journal holds and sled
//! has not applied yet, served to readers from memory, and the thread that applies them.
//!
//! The journal is the write-ahead log: an append is acknowledged once its frames are
//! fdatasync'd there. sled — the records' segments, the Merkle nodes, the checkpoints —
//! follows on the applier thread, as a database's data files follow its WAL. Until a
//! batch is applied, every read of what it wrote is answered from here; a batch leaves
//! only after sled holds it, so a reader always finds a record in one place or the
//! other. sled failing, panicking or never returning stops the applier, never an append
//! or a read: the store reports it ([`Lag`]) and is rebuilt from the journal by itself,
//! at the next open (and, for a failure that returns, at once: [`super::SledStore`]).

use crate::StoreError;
pub use crate::store::Lag;
use coop_core::Hash;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A record waiting for sled: leaf, chain, bytes.
pub(super) type Entry = (Hash, Hash, Vec<u8>);

/// One batch for sled, as the journal took it.
pub(super) struct Batch {
    /// Its number, in journal order.
    number: u64,
    /// What sled is to write (segments, ids, nodes, checkpoints): key, value.
    ops: Vec<(sled::IVec, sled::IVec)>,
    /// Its records' range (`first..end`), empty for a checkpoint alone.
    records: std::ops::Range<u64>,
    /// The stored-level Merkle nodes it wrote.
    nodes: Vec<(u8, u64)>,
    /// The checkpoints it wrote, by size.
    checkpoints: Vec<u64>,
}

/// Most batches the applier writes to sled as one (sled's cost is per batch as much as
/// per byte: a burst of small group commits is applied together).
const MERGE: usize = 64;

/// What the applier does next.
pub(super) enum Next {
    /// Apply these batches, as one.
    Batches(Vec<Batch>),
    /// Nothing is queued now.
    Idle,
    /// Rebuild sled from the journal (a read of it did not return), then go on.
    Rebuild(String),
    /// Stop.
    Stop,
}

#[derive(Default)]
struct State {
    queue: VecDeque<(Batch, Instant)>,
    /// Being applied: how many batches, and when the oldest was queued.
    applying: Option<(usize, Instant)>,
    records: BTreeMap<u64, (u64, Entry)>,
    nodes: HashMap<(u8, u64), (u64, Hash)>,
    checkpoints: BTreeMap<u64, (u64, String)>,
    bytes: u64,
    next_number: u64,
    failed: Option<String>,
    rebuilds: u64,
    /// A rebuild asked for by a reader (a read of sled that did not return).
    rebuild: Option<String>,
    /// The applier is rebuilding sled.
    rebuilding: bool,
    stop: bool,
    /// The applier has ended (stopped, or given up on sled).
    ended: bool,
}

/// What the journal holds and sled does not yet, and the applier's queue.
#[derive(Default)]
pub(super) struct Behind {
    state: Mutex<State>,
    /// Signalled when a batch is queued, applied, or the store stops.
    changed: Condvar,
}

impl std::fmt::Debug for Behind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Behind").finish_non_exhaustive()
    }
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Io("the journal's queue for sled is poisoned (a thread panicked)".into())
}

impl Behind {
    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(poisoned)
    }

    /// Queues a batch the journal took: its records, nodes (levels sled stores) and
    /// checkpoints are read from here until sled has applied it.
    pub(super) fn push(
        &self,
        ops: Vec<(sled::IVec, sled::IVec)>,
        records: Vec<(u64, Entry)>,
        nodes: Vec<((u8, u64), Hash)>,
        checkpoints: Vec<(u64, String)>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        let number = s.next_number;
        s.next_number += 1;
        let range = match (records.first(), records.last()) {
            (Some((a, _)), Some((b, _))) => *a..*b + 1,
            _ => 0..0,
        };
        for (seq, e) in records {
            s.bytes += e.2.len() as u64;
            s.records.insert(seq, (number, e));
        }
        let node_keys = nodes.iter().map(|(k, _)| *k).collect();
        for (k, h) in nodes {
            s.nodes.insert(k, (number, h));
        }
        let sizes = checkpoints.iter().map(|(k, _)| *k).collect();
        for (size, note) in checkpoints {
            s.checkpoints.insert(size, (number, note));
        }
        s.queue.push_back((
            Batch {
                number,
                ops,
                records: range,
                nodes: node_keys,
                checkpoints: sizes,
            },
            Instant::now(),
        ));
        drop(s);
        self.changed.notify_all();
        Ok(())
    }

    /// The next batches to apply, as one: [`Next::Batches`] at once if any are queued
    /// (up to [`MERGE`]); else [`Next::Idle`] if `wait` is false; else the next ones
    /// queued. [`Next::Stop`] once the store stops and the queue is empty, or once sled
    /// failed (the batches stay, read from here).
    pub(super) fn next(&self, wait: bool) -> Next {
        let Ok(mut s) = self.state.lock() else {
            return Next::Stop;
        };
        loop {
            if !s.stop
                && let Some(why) = s.rebuild.take()
            {
                s.rebuilding = true;
                return Next::Rebuild(why);
            }
            if s.failed.is_some() {
                return Next::Stop;
            }
            if let Some((_, since)) = s.queue.front() {
                let since = *since;
                let n = s.queue.len().min(MERGE);
                let taken: Vec<Batch> = s.queue.drain(..n).map(|(b, _)| b).collect();
                s.applying = Some((taken.len(), since));
                return Next::Batches(taken);
            }
            if s.stop {
                return Next::Stop;
            }
            if !wait {
                return Next::Idle;
            }
            s = match self.changed.wait(s) {
                Ok(s) => s,
                Err(_) => return Next::Stop,
            };
        }
    }

    /// sled holds `batches` now: what they wrote is read from sled from here on (an
    /// entry a later batch replaced stays).
    pub(super) fn applied(&self, batches: &[Batch]) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        s.applying = None;
        for b in batches {
            for seq in b.records.clone() {
                if s.records.get(&seq).is_some_and(|(n, _)| *n == b.number)
                    && let Some((_, e)) = s.records.remove(&seq)
                {
                    s.bytes = s.bytes.saturating_sub(e.2.len() as u64);
                }
            }
            for k in &b.nodes {
                if s.nodes.get(k).is_some_and(|(n, _)| *n == b.number) {
                    s.nodes.remove(k);
                }
            }
            for k in &b.checkpoints {
                if s.checkpoints.get(k).is_some_and(|(n, _)| *n == b.number) {
                    s.checkpoints.remove(k);
                }
            }
        }
        drop(s);
        self.changed.notify_all();
    }

    /// sled failed applying (or flushing): it applies nothing more until it is rebuilt;
    /// the batches taken go back to the front of the queue.
    pub(super) fn fail(&self, why: &str, taken: Vec<Batch>) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        s.applying = None;
        for b in taken.into_iter().rev() {
            s.queue.push_front((b, Instant::now()));
        }
        if s.failed.is_none() {
            s.failed = Some(why.to_owned());
        }
        drop(s);
        self.changed.notify_all();
    }

    /// A read of sled did not return: the applier rebuilds sled from the journal next
    /// (beside the one a reader is stuck in), and sled counts as failed until then.
    pub(super) fn request_rebuild(&self, why: &str) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        if s.failed.is_none() {
            s.failed = Some(why.to_owned());
        }
        if s.rebuild.is_none() && !s.rebuilding {
            s.rebuild = Some(why.to_owned());
        }
        drop(s);
        self.changed.notify_all();
    }

    /// sled was rebuilt from the journal up to `size` records: batches it holds now
    /// (wholly below `size`, and their checkpoints at or below it) are dropped, the rest
    /// applied as usual.
    pub(super) fn rebuilt(&self, size: u64) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        let held: Vec<u64> = s
            .queue
            .iter()
            .filter(|(b, _)| !b.records.is_empty() && b.records.end <= size)
            .map(|(b, _)| b.number)
            .collect();
        s.queue
            .retain(|(b, _)| b.records.is_empty() || b.records.end > size);
        let gone: Vec<u64> = s.records.range(..size).map(|(seq, _)| *seq).collect();
        for seq in gone {
            if let Some((_, e)) = s.records.remove(&seq) {
                s.bytes = s.bytes.saturating_sub(e.2.len() as u64);
            }
        }
        s.nodes.retain(|_, (g, _)| !held.contains(g));
        s.checkpoints.retain(|_, (g, _)| !held.contains(g));
        s.failed = None;
        s.rebuilding = false;
        s.rebuilds += 1;
        drop(s);
        self.changed.notify_all();
    }

    /// Whether sled failed, and why.
    pub(super) fn failed(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.failed.clone())
    }

    /// The applier has ended.
    pub(super) fn ended(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.ended = true;
        }
        self.changed.notify_all();
    }

    /// Stop once the queue is applied (or at once, if sled failed).
    pub(super) fn stop(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.stop = true;
        }
        self.changed.notify_all();
    }

    /// Waits until sled holds everything queued (or failed), at most `bound`; whether it
    /// does.
    pub(super) fn settle(&self, bound: Duration) -> bool {
        let start = Instant::now();
        let Ok(mut s) = self.state.lock() else {
            return false;
        };
        loop {
            if s.queue.is_empty() && s.applying.is_none() && s.rebuild.is_none() && !s.rebuilding {
                return true;
            }
            if s.ended {
                return false;
            }
            let left = bound.saturating_sub(start.elapsed());
            if left.is_zero() {
                return false;
            }
            match self.changed.wait_timeout(s, left) {
                Ok((g, _)) => s = g,
                Err(_) => return false,
            }
        }
    }

    /// How far sled is behind.
    pub(super) fn lag(&self) -> Lag {
        let Ok(s) = self.state.lock() else {
            return Lag {
                failed: Some("the queue's lock is poisoned".into()),
                ..Lag::default()
            };
        };
        let oldest = s
            .applying
            .map(|(_, t)| t)
            .into_iter()
            .chain(s.queue.front().map(|(_, t)| *t))
            .min();
        Lag {
            batches: s.queue.len() as u64 + s.applying.map_or(0, |(n, _)| n as u64),
            records: s.records.len() as u64,
            bytes: s.bytes,
            oldest_ms: oldest.map_or(0, |t| {
                u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
            }),
            failed: s.failed.clone(),
            rebuilds: s.rebuilds,
        }
    }

    // ---- reads ----

    /// Record `seq`, if it waits here.
    pub(super) fn entry(&self, seq: u64) -> Result<Option<Entry>, StoreError> {
        Ok(self.lock()?.records.get(&seq).map(|(_, e)| e.clone()))
    }

    /// One past the last record waiting here, if any does.
    pub(super) fn end(&self) -> Result<Option<u64>, StoreError> {
        Ok(self
            .lock()?
            .records
            .keys()
            .next_back()
            .map(|s| s.saturating_add(1)))
    }

    /// The records waiting here within `start..end`, and the first seq waiting here at
    /// all (everything before it is in sled).
    pub(super) fn range(
        &self,
        start: u64,
        end: u64,
    ) -> Result<(Option<u64>, Vec<crate::store::RecordBytes>), StoreError> {
        let s = self.lock()?;
        let first = s.records.keys().next().copied();
        let items = s
            .records
            .range(start..end)
            .map(|(seq, (_, e))| (*seq, e.2.clone()))
            .collect();
        Ok((first, items))
    }

    /// A stored-level Merkle node, if it waits here.
    pub(super) fn node(&self, level: u8, index: u64) -> Result<Option<Hash>, StoreError> {
        Ok(self.lock()?.nodes.get(&(level, index)).map(|(_, h)| *h))
    }

    /// A checkpoint, if it waits here.
    pub(super) fn checkpoint(&self, size: u64) -> Result<Option<String>, StoreError> {
        Ok(self.lock()?.checkpoints.get(&size).map(|(_, n)| n.clone()))
    }

    /// The checkpoints waiting here, by size.
    pub(super) fn checkpoints(&self) -> Result<Vec<(u64, String)>, StoreError> {
        Ok(self
            .lock()?
            .checkpoints
            .iter()
            .map(|(k, (_, n))| (*k, n.clone()))
            .collect())
    }
}

/// The applier: applies queued batches to sled in order, and flushes sled whenever the
/// queue runs dry. A failure (an error, or a panic inside sled) stops it: `on_failure`
/// decides what then (a rebuild from the journal), and the applier goes on if it
/// returns `true`.
pub(super) fn apply(
    behind: &Behind,
    parts: &std::sync::RwLock<super::Parts>,
    faults: &crate::faults::Faults,
    on_failure: impl FnMut(&str) -> bool,
) {
    apply_until_stopped(behind, parts, faults, on_failure);
    behind.ended();
}

fn apply_until_stopped(
    behind: &Behind,
    parts: &std::sync::RwLock<super::Parts>,
    faults: &crate::faults::Faults,
    mut on_failure: impl FnMut(&str) -> bool,
) {
    let mut unflushed = false;
    loop {
        let next = match behind.next(false) {
            Next::Idle if unflushed => {
                let flushed = parts
                    .read()
                    .map_err(|_| StoreError::Io("sled's handles are poisoned".into()))
                    .and_then(|p| p.flush(faults));
                match flushed {
                    Ok(()) => unflushed = false,
                    Err(e) => {
                        let why = format!("sled could not flush: {e}");
                        behind.fail(&why, Vec::new());
                        if !on_failure(&why) {
                            return;
                        }
                    }
                }
                continue;
            }
            Next::Idle => behind.next(true),
            other => other,
        };
        let batches = match next {
            Next::Batches(b) => b,
            Next::Idle => continue,
            Next::Rebuild(why) => {
                if !on_failure(&why) {
                    return;
                }
                continue;
            }
            Next::Stop => {
                if unflushed
                    && behind.failed().is_none()
                    && let Ok(p) = parts.read()
                {
                    let _ = p.flush(faults);
                }
                return;
            }
        };
        let mut batch = sled::Batch::default();
        for b in &batches {
            for (k, v) in &b.ops {
                batch.insert(k.clone(), v.clone());
            }
        }
        let applied = parts
            .read()
            .map(|p| p.tree.clone())
            .map_err(|_| StoreError::Io("sled's handles are poisoned".into()))
            .and_then(|tree| {
                super::shield("applying a batch", move || {
                    faults
                        .fail(crate::faults::Point::SledWrite)
                        .map_err(|e| StoreError::Io(e.to_string()))?;
                    tree.apply_batch(batch)
                        .map_err(|e| StoreError::Io(e.to_string()))
                })
            });
        match applied {
            Ok(()) => {
                behind.applied(&batches);
                unflushed = true;
            }
            Err(e) => {
                let why = format!("sled could not apply a batch: {e}");
                behind.fail(&why, batches);
                if !on_failure(&why) {
                    return;
                }
            }
        }
    }
}
