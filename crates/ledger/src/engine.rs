//! The single writer: drains the submission queue into a batch, runs the rules in order
//! against its working state, writes the accepted events, and hands the batch to the
//! syncer, which makes it durable, folds it into the state readers see, signs one
//! checkpoint for the whole group, proves each record in it, and only then answers every
//! submitter (receipt v2, docs/adr/0018). Signatures were verified strictly before
//! queueing, on the submitters' threads: the writer's critical path holds only what must
//! be sequential.
//!
//! One state, two versions (docs/adr/0014, 0021): the writer's working state runs ahead
//! by the batches not yet synced; readers see only the version after the last durable
//! batch, so nothing they are shown can vanish in a crash. The writer hands the syncer
//! its state after each batch, an O(1) clone that shares every node with the working
//! state (`coop_treaty::Map`), and the syncer makes it the readers' once the batch is
//! durable: each record is folded once, and the two versions differ only by the cases
//! the batches in flight changed.

use crate::error::SubmitError;
use crate::ledger::Shared;
use coop_core::checkpoint::{Checkpoint, sign_checkpoint, verify_checkpoint};
use coop_core::{EventId, Hash, Record, SignedEvent, Timestamp};
use coop_store::Store;
use coop_treaty::{Decoded, State};
use crossbeam_channel::{Receiver, Sender};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Where an accepted event landed: the record as sequenced, without its event (the
/// submitter has it).
#[derive(Clone, Debug)]
pub(crate) struct Landed {
    pub(crate) seq: u64,
    pub(crate) prev_chain: Hash,
    pub(crate) received_at: Timestamp,
    pub(crate) governance: Hash,
    pub(crate) leaf: Hash,
    pub(crate) chain: Hash,
}

impl Landed {
    pub(crate) fn of(record: &Record, leaf: Hash, chain: Hash) -> Landed {
        Landed {
            seq: record.seq,
            prev_chain: record.prev_chain,
            received_at: record.received_at,
            governance: record.governance,
            leaf,
            chain,
        }
    }
}

/// A durable record with the proof of it the submitter's receipt carries: the group
/// commit's signed checkpoint and the record's inclusion proof in it.
#[derive(Clone, Debug)]
pub(crate) struct Proven {
    pub(crate) landed: Landed,
    pub(crate) checkpoint: Arc<str>,
    pub(crate) proof: Vec<Hash>,
}

pub(crate) type Reply = Sender<Result<Proven, SubmitError>>;

// Submissions are the common case; boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Job {
    Submit(SignedEvent, Decoded, Reply),
    Checkpoint(Sender<Result<String, SubmitError>>),
}

/// What became of one submission in a batch.
enum Fate {
    /// Answered without writing (refused, duplicate of an earlier record, id reused).
    Done(Result<Landed, SubmitError>),
    /// Accepted: index into the batch's accepted events.
    Accepted(usize),
    /// Same event as an earlier submission of this batch (idempotent duplicate).
    SameAs(usize),
}

/// The answers of one batch, released by the syncer once what the batch wrote is durable.
pub(crate) struct Answers {
    replies: Vec<(Reply, Result<Landed, SubmitError>)>,
    /// The records the batch wrote.
    records: Vec<Record>,
    /// The writer's state just after the batch (its records folded), when it wrote any:
    /// the readers' once the batch is durable.
    state: Option<State>,
    /// The leaf and chain hash of each record written, in seq order.
    hashes: Vec<(Hash, Hash)>,
}

pub(crate) fn run<S: Store + 'static>(
    shared: Arc<Shared<S>>,
    rx: Receiver<Job>,
    syncer: Sender<Answers>,
) {
    let mut last_cp = Instant::now();
    // A tail left uncovered (by a crash, or records the last run appended after its
    // last checkpoint) is checkpointed at once, not when traffic next arrives.
    if uncovered(&shared) > 0
        && let Err(e) = checkpoint(&shared)
    {
        tracing::error!(error = %e, "checkpoint on open failed");
    }
    // Wake when idle for a moment, so that the last records of a burst are covered by a
    // checkpoint soon after it ends.
    let wait = shared
        .config
        .checkpoint_idle
        .min(shared.config.checkpoint_interval);
    loop {
        let first = match rx.recv_timeout(wait) {
            Ok(job) => Some(job),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => None,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        };
        let idle = first.is_none();
        let mut submits = Vec::new();
        let mut cp_requests = Vec::new();
        let mut next = first;
        while let Some(job) = next.take() {
            match job {
                Job::Submit(e, d, r) => submits.push((e, d, r)),
                Job::Checkpoint(r) => cp_requests.push(r),
            }
            if submits.len() < shared.config.max_batch {
                next = rx.try_recv().ok();
            }
        }
        if !submits.is_empty() {
            let busy = Instant::now();
            let answers = process(&shared, submits);
            shared.metrics.writer_busy(busy.elapsed());
            if let Err(lost) = syncer.send(answers) {
                for (reply, _) in lost.0.replies {
                    let _ = reply.send(Err(SubmitError::MayHaveLanded(
                        "the syncer has stopped".into(),
                    )));
                }
            }
        }
        let since = uncovered(&shared);
        // A copy (a follower's, an import) signs nothing: its checkpoints are the
        // ledger's node's, stored as they are verified, so none is ever due on time.
        let due = (since >= shared.config.checkpoint_every
            || (since > 0 && (idle || last_cp.elapsed() >= shared.config.checkpoint_interval)))
            && shared.state.read().is_ok_and(|s| shared.signs(&s));
        if due || !cp_requests.is_empty() {
            let result = checkpoint(&shared);
            if let Err(e) = &result {
                tracing::error!(error = %e, "checkpoint failed");
            }
            last_cp = Instant::now();
            for r in cp_requests {
                let _ = r.send(result.clone().map_err(SubmitError::Unavailable));
            }
        }
        // Only when idle: encoding the state takes the writer's thread for seconds at
        // 10^6 records, and under load every submission would wait for it. An idle node
        // (no submission for `checkpoint_idle`) pays it.
        if idle {
            snapshot(&shared, false);
        }
    }
    // The queue is closed: make the last batches durable and sign a last checkpoint so
    // the next open checks little. (The syncer still answers them.)
    if !shared.health.is_failed()
        && let Err(e) = shared.log.sync()
    {
        shared.fail(&format!("storage failure: {e}"));
    }
    if shared.log.durable_head().is_ok_and(|h| h.size > 0) {
        match checkpoint(&shared) {
            Ok(_) => snapshot(&shared, true),
            Err(e) => tracing::warn!(error = %e, "final checkpoint failed"),
        }
    }
}

/// Snapshots the readers' state (durable records only) if `config.snapshot_every`
/// records, and a tenth of the ledger, were folded since the last one, or, `at_end`, if
/// any were (docs/adr/0019). Called when the writer is idle and at shutdown.
/// A failure is logged and costs only the next open's time: a snapshot is a cache.
fn snapshot<S: Store>(shared: &Shared<S>, at_end: bool) {
    let every = shared.config.snapshot_every;
    let last = shared.last_snapshot.load(Ordering::Acquire);
    let started = Instant::now();
    // A version of the readers' state, taken in O(1) (ADR 0021): encoding it holds no
    // lock, so the syncer's next publish does not wait for it.
    let taken = match shared.state.read().map(|s| s.clone()) {
        Ok(state) => {
            if !snapshot_due(every, last, state.size, at_end) {
                return;
            }
            let chain = match state
                .size
                .checked_sub(1)
                .map(|s| shared.log.store().chain(s))
            {
                Some(Ok(Some(c))) => c,
                _ => return,
            };
            coop_treaty::snapshot::encode(&state).map(|bytes| coop_store::Snapshot {
                seq: state.size,
                chain,
                bytes,
            })
        }
        Err(_) => return,
    };
    let encoded = started.elapsed();
    let result = taken.map_err(|e| e.to_string()).and_then(|snap| {
        shared
            .log
            .store()
            .put_snapshot(&snap)
            .map(|()| snap)
            .map_err(|e| e.to_string())
    });
    match result {
        Ok(snap) => {
            shared.last_snapshot.store(snap.seq, Ordering::Release);
            tracing::info!(
                seq = snap.seq,
                bytes = snap.bytes.len(),
                encode_ms = encoded.as_millis() as u64,
                total_ms = started.elapsed().as_millis() as u64,
                "state snapshot stored"
            );
        }
        Err(e) => tracing::warn!(error = %e, "state snapshot failed; the next open replays more"),
    }
}

/// Whether a snapshot of a state of `size` records is due, the last one at `last`, one
/// every `every` records (0: none). At least a tenth of the ledger between snapshots:
/// each one encodes the whole state, so a fixed interval would cost time quadratic in
/// the size; this keeps the total linear and a crash's tail within a tenth. `at_end`
/// (shutdown): any record since the last one.
pub(crate) fn snapshot_due(every: u64, last: u64, size: u64, at_end: bool) -> bool {
    every > 0 && size > last && (at_end || size - last >= every.max(size / 10))
}

/// Durable records not yet covered by a checkpoint.
fn uncovered<S: Store>(shared: &Shared<S>) -> u64 {
    let head = shared.log.durable_head().map(|h| h.size).unwrap_or(0);
    head.saturating_sub(shared.last_checkpoint.load(Ordering::Acquire))
}

/// The syncer: makes the writer's batches durable, many at a time, and only then
/// releases their answers. While it waits for the disk, the writer prepares the next
/// batches and the submitters' threads verify and sign.
pub(crate) fn run_syncer<S: Store + 'static>(shared: Arc<Shared<S>>, rx: Receiver<Answers>) {
    while let Ok(first) = rx.recv() {
        let mut all: Vec<Answers> = vec![first];
        while let Ok(more) = rx.try_recv() {
            all.push(more);
        }
        let started = Instant::now();
        let mut replaced = None;
        let wrote = all.iter().any(|a| !a.records.is_empty());
        let synced: Result<(), String> = if shared.health.is_failed() {
            Err(shared
                .failure()
                .unwrap_or_else(|| "an earlier storage failure needs a restart".into()))
        } else if wrote {
            shared
                .log
                .sync()
                .map(|_| ())
                .map_err(|e| format!("storage failure: {e}"))
        } else {
            Ok(())
        };
        match &synced {
            Err(e) => shared.fail(e),
            Ok(()) if wrote => {
                shared.metrics.sync(started.elapsed());
                // Durable now: show it to readers. The newest batch's state holds every
                // batch before it. The version it replaces is dropped after the answers
                // are sent: freeing what only it held is no submitter's wait.
                if let Some(state) = all.iter_mut().rev().find_map(|a| a.state.take()) {
                    replaced = publish(&shared, state);
                }
            }
            Ok(()) => {}
        }
        // One checkpoint signed for the whole group, and each record's proof in it.
        let proofs: Result<Option<Group>, String> = match &synced {
            Ok(()) if all.iter().any(|a| a.replies.iter().any(|(_, r)| r.is_ok())) => {
                prove(&shared, &all).map(Some)
            }
            Ok(()) => Ok(None),
            Err(e) => Err(e.clone()),
        };
        for a in all {
            for (reply, answer) in a.replies {
                let answer = match (&proofs, answer) {
                    (Ok(Some(group)), Ok(landed)) => group.receipt(landed),
                    (Ok(None), Ok(_)) => Err(SubmitError::MayHaveLanded(
                        "the record was not proven".into(),
                    )),
                    (Err(e), Ok(_)) => Err(SubmitError::MayHaveLanded(e.clone())),
                    (_, Err(refusal)) => Err(refusal),
                };
                let _ = reply.send(answer);
            }
        }
        drop(replaced);
    }
}

/// A group commit's signed checkpoint and the inclusion proofs of its records.
struct Group {
    note: Arc<str>,
    proofs: HashMap<u64, Vec<Hash>>,
}

impl Group {
    fn receipt(&self, landed: Landed) -> Result<Proven, SubmitError> {
        match self.proofs.get(&landed.seq) {
            Some(proof) => Ok(Proven {
                proof: proof.clone(),
                checkpoint: Arc::clone(&self.note),
                landed,
            }),
            None => Err(SubmitError::MayHaveLanded(format!(
                "no proof was made for record {}",
                landed.seq
            ))),
        }
    }
}

/// Signs one checkpoint over the records of a durable group (or reuses the one signed
/// last, if it covers them) and proves each answered record in it. The group's new
/// leaves are in memory, so the proofs cost a few reads; a duplicate of an older record
/// is proven from storage.
fn prove<S: Store>(shared: &Shared<S>, all: &[Answers]) -> Result<Group, String> {
    let hashes: Vec<(u64, Hash, Hash)> = all
        .iter()
        .flat_map(|a| {
            a.records
                .iter()
                .zip(&a.hashes)
                .map(|(r, (leaf, chain))| (r.seq, *leaf, *chain))
        })
        .collect();
    let seqs: Vec<u64> = all
        .iter()
        .flat_map(|a| a.replies.iter())
        .filter_map(|(_, r)| r.as_ref().ok().map(|l| l.seq))
        .collect();
    let contiguous = hashes
        .iter()
        .zip(hashes.iter().skip(1))
        .all(|(a, b)| b.0 == a.0 + 1);
    let last_signed = shared.last_signed();
    let (first, tail, chain_head, last_time) = match (hashes.first(), hashes.last()) {
        (Some(f), Some(l)) if contiguous => {
            let tail: Vec<Hash> = hashes.iter().map(|h| h.1).collect();
            let last_time = all
                .iter()
                .flat_map(|a| a.records.last())
                .map(|r| r.received_at)
                .max()
                .unwrap_or(Timestamp(0));
            (f.0, tail, l.2, last_time)
        }
        // Only duplicates (or records not in order, which the writer never makes): the
        // durable head, proven from storage.
        _ => {
            let head = shared.log.durable_head().map_err(|e| e.to_string())?;
            if let Some((size, note)) = &last_signed
                && *size == head.size
            {
                let (_, proofs) = shared
                    .log
                    .prove_group(head.size, &[], &seqs)
                    .map_err(|e| e.to_string())?;
                return Ok(Group {
                    note: Arc::clone(note),
                    proofs: seqs.into_iter().zip(proofs).collect(),
                });
            }
            let last_time = last_record_time(shared, head.size)?;
            (head.size, Vec::new(), head.chain_head, last_time)
        }
    };
    let (root, proofs) = shared
        .log
        .prove_group(first, &tail, &seqs)
        .map_err(|e| e.to_string())?;
    let size = first + tail.len() as u64;
    let ledger_id = shared
        .ledger_id()
        .ok_or_else(|| "the ledger has no genesis yet".to_string())?;
    let now = match shared.state.read() {
        Ok(s) => shared.now(&s),
        Err(_) => return Err("the readers' state lock is poisoned".into()),
    };
    let cp = Checkpoint {
        ledger_id,
        size,
        root,
        chain_head,
        // Never dated before the records it covers (the verifier refuses that).
        time: now.max(last_time),
    };
    let note: Arc<str> = sign_checkpoint(&cp, &shared.node_key)
        .map_err(|e| e.to_string())?
        .into();
    shared.set_last_signed(size, Arc::clone(&note));
    Ok(Group {
        note,
        proofs: seqs.into_iter().zip(proofs).collect(),
    })
}

/// Shows readers `state`: the writer's state just after records that are now durable
/// (an O(1) clone of it, sharing its nodes; ADR 0021). Returns the version it replaced,
/// for the caller to drop (with the nodes only it still held) when it has time.
pub(crate) fn publish<S: Store>(shared: &Shared<S>, state: State) -> Option<State> {
    shared.set_ledger_id(state.ledger_id);
    match shared.state.write() {
        Ok(mut readers) => Some(std::mem::replace(&mut *readers, state)),
        Err(_) => {
            shared.fail("the readers' state lock is poisoned");
            None
        }
    }
}

fn process<S: Store>(shared: &Shared<S>, submits: Vec<(SignedEvent, Decoded, Reply)>) -> Answers {
    let refuse_all =
        |submits: Vec<(SignedEvent, Decoded, Reply)>, e: &dyn Fn() -> SubmitError| Answers {
            replies: submits.into_iter().map(|(_, _, r)| (r, Err(e()))).collect(),
            records: Vec::new(),
            hashes: Vec::new(),
            state: None,
        };
    if shared.health.is_failed() {
        let why = shared
            .failure()
            .unwrap_or_else(|| "an earlier storage failure".into());
        return refuse_all(submits, &|| {
            SubmitError::Unavailable(format!("{why}; restart the node"))
        });
    }
    // Room on the disk for the whole batch, checked before the rules run: a refusal
    // then leaves the working state as it was, and appends resume once there is room.
    let bytes: u64 = submits
        .iter()
        .map(|(e, _, _)| 2 * (e.body.payload.len() as u64 + 512))
        .sum();
    if let Err(e) = shared.log.store().check_room(bytes) {
        let m = e.to_string();
        // sled too far behind the journal (docs/adr/0027) is not a full disk: nothing
        // was written either, and it is for a restart, not for freeing space.
        if matches!(e, coop_store::StoreError::Behind { .. }) {
            shared.metrics.refused("storage behind");
            return refuse_all(submits, &|| SubmitError::Unavailable(m.clone()));
        }
        shared.metrics.refused("storage full");
        return refuse_all(submits, &|| SubmitError::StorageFull(m.clone()));
    }
    let Ok(mut state) = shared.working.lock() else {
        shared.fail("the writer's state lock is poisoned");
        return refuse_all(submits, &|| {
            SubmitError::Unavailable("the writer's state lock is poisoned".into())
        });
    };
    let now = shared.now(&state);
    let mut fates = Vec::with_capacity(submits.len());
    let mut accepted: Vec<(SignedEvent, Hash)> = Vec::new();
    let mut in_batch: HashMap<EventId, usize> = HashMap::new();
    let mut kept = Vec::with_capacity(submits.len());
    for (event, decoded, reply) in submits {
        kept.push(reply);
        let id = event.body.event_id;
        if let Some(&i) = in_batch.get(&id) {
            if accepted.get(i).is_some_and(|a| a.0.body == event.body) {
                fates.push(Fate::SameAs(i));
            } else {
                shared.metrics.refused("id reused");
                fates.push(Fate::Done(Err(SubmitError::IdReused(id.to_hex()))));
            }
            continue;
        }
        match shared.existing(&event) {
            Ok(Some(landed)) => {
                fates.push(Fate::Done(Ok(landed)));
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                if matches!(e, SubmitError::IdReused(_)) {
                    shared.metrics.refused("id reused");
                }
                fates.push(Fate::Done(Err(e)));
                continue;
            }
        }
        let governance = state.governance.head;
        let record = Record {
            seq: state.size,
            // The log links the chain when it writes; the rules do not look at it.
            prev_chain: Hash::ZERO,
            received_at: now,
            governance,
            event,
        };
        match state.step_decoded(&record, &decoded) {
            Ok(()) => {
                in_batch.insert(id, accepted.len());
                fates.push(Fate::Accepted(accepted.len()));
                accepted.push((record.event, governance));
            }
            Err(v) => {
                shared.metrics.refused(&v.clause());
                fates.push(Fate::Done(Err(SubmitError::Refused(v))));
            }
        }
    }
    let mut appended = Vec::new();
    let mut after = None;
    let mut write_error = None;
    let mut records = Vec::new();
    let mut hashes = Vec::new();
    if !accepted.is_empty() {
        let started = Instant::now();
        let count = accepted.len();
        match shared.log.append_events_unsynced_records(accepted, now) {
            Ok(landed) => {
                shared.metrics.batch(count, started.elapsed());
                for (a, record) in landed {
                    appended.push(Landed::of(&record, a.leaf, a.chain));
                    hashes.push((a.leaf, a.chain));
                    records.push(record);
                }
                // The state after exactly these records: the readers' once they are
                // durable. O(1): the clone shares the working state's nodes.
                after = Some(state.clone());
            }
            Err(e) => {
                // The working state already holds these events but the disk may or may
                // not: only a restart (which rebuilds the state from the store) is safe.
                let why = format!("storage failure: {e}");
                shared.fail(&why);
                write_error = Some(why);
            }
        }
    }
    drop(state);
    let replies = kept
        .into_iter()
        .zip(fates)
        .map(|(reply, fate)| {
            let answer = match fate {
                Fate::Done(a) => a,
                Fate::Accepted(i) | Fate::SameAs(i) => match (&write_error, appended.get(i)) {
                    (Some(e), _) => Err(SubmitError::MayHaveLanded(e.clone())),
                    (None, Some(a)) => Ok(a.clone()),
                    (None, None) => {
                        Err(SubmitError::MayHaveLanded("the write lost an event".into()))
                    }
                },
            };
            (reply, answer)
        })
        .collect();
    Answers {
        replies,
        records,
        hashes,
        state: after,
    }
}

/// Signs and stores a checkpoint of the current head; returns the note.
pub(crate) fn checkpoint<S: Store>(shared: &Shared<S>) -> Result<String, String> {
    let (signs, time) = match shared.state.read() {
        Ok(s) => (shared.signs(&s), shared.now(&s)),
        Err(_) => return Err("state lock poisoned".into()),
    };
    if !signs {
        // A follower or a copy: its checkpoints are the ledger's node's, stored as they
        // are verified.
        return match shared.log.latest_checkpoint() {
            Ok(Some((_, note))) => Ok(note),
            Ok(None) => Err("no checkpoint yet".into()),
            Err(e) => Err(e.to_string()),
        };
    }
    let (Some(ledger_id), Some(me)) = (shared.ledger_id(), shared.node_verifier()) else {
        return Err("the ledger has no genesis yet".into());
    };
    if shared.health.is_failed() {
        return Err("the ledger stopped after a storage failure".into());
    }
    // Only what is durable: a checkpoint is shown to readers, who may be shown nothing
    // that a crash could take back.
    let head = shared.log.durable_head().map_err(|e| e.to_string())?;
    // The stored one serves if it covers the head and is this node's own.
    if let Ok(Some((size, note))) = shared.log.latest_checkpoint()
        && size == head.size
        && verify_checkpoint(&note, &me, &[]).is_ok()
    {
        return Ok(note);
    }
    // The group commit that made the head durable signed a checkpoint of it already.
    let reuse = shared
        .last_signed()
        .filter(|(size, _)| *size == head.size)
        .map(|(_, note)| note.to_string());
    if let Some(note) = reuse {
        return store_checkpoint(shared, head.size, note);
    }
    // Never dated before the records it covers (the verifier refuses that), even if the
    // readers' state has not folded the last of them yet or the clock went back.
    let last = last_record_time(shared, head.size)?;
    let cp = Checkpoint {
        ledger_id,
        size: head.size,
        root: head.root,
        chain_head: head.chain_head,
        time: time.max(last),
    };
    let note = sign_checkpoint(&cp, &shared.node_key).map_err(|e| e.to_string())?;
    shared.set_last_signed(head.size, note.as_str().into());
    store_checkpoint(shared, head.size, note)
}

/// The node time of the last of the first `size` records (0 for none): a checkpoint of
/// them is never dated before it (the verifier refuses that).
fn last_record_time<S: Store>(shared: &Shared<S>, size: u64) -> Result<Timestamp, String> {
    Ok(match size.checked_sub(1) {
        Some(seq) => shared
            .log
            .record(seq)
            .map_err(|e| e.to_string())?
            .map_or(Timestamp(0), |r| r.record.received_at),
        None => Timestamp(0),
    })
}

/// Stores a checkpoint this node signed.
fn store_checkpoint<S: Store>(
    shared: &Shared<S>,
    size: u64,
    note: String,
) -> Result<String, String> {
    if let Err(e) = shared.log.put_checkpoint(&note) {
        if !matches!(
            e,
            coop_store::StoreError::Full { .. } | coop_store::StoreError::Behind { .. }
        ) {
            shared.fail(&format!("storage failure while storing a checkpoint: {e}"));
        }
        return Err(e.to_string());
    }
    shared.last_checkpoint.store(size, Ordering::Release);
    tracing::info!(size, "checkpoint stored");
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::snapshot_due;

    /// One rule for the writer and for those that wait on it (the benchmark waits only
    /// for a snapshot that is due; it waited 300 s for one that never was).
    #[test]
    fn a_snapshot_is_due_after_every_records_and_a_tenth_of_the_ledger() {
        // Given one every 100,000 records, the last at 0:
        assert!(!snapshot_due(100_000, 0, 70_000, false), "too few records");
        assert!(snapshot_due(100_000, 0, 100_000, false));
        // a tenth of the ledger when that is more:
        assert!(!snapshot_due(100_000, 1_000_000, 1_100_000, false));
        assert!(snapshot_due(100_000, 1_000_000, 1_120_000, false));
        // at shutdown, any record since the last; none taken when switched off.
        assert!(snapshot_due(100_000, 70_000, 70_001, true));
        assert!(!snapshot_due(100_000, 70_000, 70_000, true));
        assert!(!snapshot_due(0, 0, 10_000_000, true));
    }
}
