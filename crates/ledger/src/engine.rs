//! The single writer: drains the submission queue into a batch, runs the rules in order
//! against its working state, writes the accepted events, and hands the batch to the
//! syncer, which makes it durable, folds it into the state readers see, and only then
//! answers every submitter. Signatures were verified strictly before queueing, and
//! receipts are signed after answering, both on the submitters' threads: the writer's
//! critical path holds only what must be sequential.
//!
//! Two states (docs/adr/0014): the writer's working state runs ahead by the batches not
//! yet synced; readers see only the durable state, so nothing they are shown can vanish
//! in a crash.

use crate::error::SubmitError;
use crate::ledger::Shared;
use coop_core::checkpoint::{Checkpoint, sign_checkpoint, verify_checkpoint};
use coop_core::{EventId, Hash, Record, SignedEvent, Timestamp};
use coop_store::Store;
use coop_treaty::Decoded;
use crossbeam_channel::{Receiver, Sender};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Where an accepted event landed; the submitter's thread signs the receipt from it.
#[derive(Clone, Debug)]
pub(crate) struct Landed {
    pub(crate) seq: u64,
    pub(crate) leaf: coop_core::Hash,
    pub(crate) chain: coop_core::Hash,
}

pub(crate) type Reply = Sender<Result<Landed, SubmitError>>;

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
    /// The records the batch wrote, with their decoded payloads: folded into the readers'
    /// state once durable.
    records: Vec<(Record, Decoded)>,
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
    }
    // The queue is closed: make the last batches durable and sign a last checkpoint so
    // the next open checks little. (The syncer still answers them.)
    if !shared.failed.load(Ordering::Acquire)
        && let Err(e) = shared.log.sync()
    {
        shared.fail(&format!("storage failure: {e}"));
    }
    if shared.log.durable_head().is_ok_and(|h| h.size > 0)
        && let Err(e) = checkpoint(&shared)
    {
        tracing::warn!(error = %e, "final checkpoint failed");
    }
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
        let mut all = vec![first];
        while let Ok(more) = rx.try_recv() {
            all.push(more);
        }
        let started = Instant::now();
        let wrote = all.iter().any(|a| !a.records.is_empty());
        let synced: Result<(), String> = if shared.failed.load(Ordering::Acquire) {
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
                // Durable now: show it to readers.
                publish(
                    &shared,
                    all.iter()
                        .flat_map(|a| a.records.iter().map(|(r, d)| (r, d))),
                );
            }
            Ok(()) => {}
        }
        for a in all {
            for (reply, answer) in a.replies {
                let answer = match (&synced, answer) {
                    (Ok(()), a) => a,
                    (Err(e), Ok(_)) => Err(SubmitError::MayHaveLanded(e.clone())),
                    (Err(_), Err(refusal)) => Err(refusal),
                };
                let _ = reply.send(answer);
            }
        }
    }
}

/// Folds durable records (judged by the writer, payloads decoded once) into the state
/// readers see.
pub(crate) fn publish<'r, S: Store>(
    shared: &Shared<S>,
    records: impl Iterator<Item = (&'r Record, &'r Decoded)>,
) {
    match shared.state.write() {
        Ok(mut state) => {
            for (r, d) in records {
                coop_treaty::apply_decoded(&mut state, r, d);
            }
            shared.set_ledger_id(state.ledger_id);
        }
        Err(_) => shared.fail("the readers' state lock is poisoned"),
    }
}

fn process<S: Store>(shared: &Shared<S>, submits: Vec<(SignedEvent, Decoded, Reply)>) -> Answers {
    let refuse_all =
        |submits: Vec<(SignedEvent, Decoded, Reply)>, e: &dyn Fn() -> SubmitError| Answers {
            replies: submits.into_iter().map(|(_, _, r)| (r, Err(e()))).collect(),
            records: Vec::new(),
        };
    if shared.failed.load(Ordering::Acquire) {
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
        shared.metrics.refused("storage full");
        let m = e.to_string();
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
    let mut accepted: Vec<(SignedEvent, Hash, Decoded)> = Vec::new();
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
                accepted.push((record.event, governance, decoded));
            }
            Err(v) => {
                shared.metrics.refused(&v.clause());
                fates.push(Fate::Done(Err(SubmitError::Refused(v))));
            }
        }
    }
    let mut appended = Vec::new();
    let mut write_error = None;
    let mut records = Vec::new();
    if !accepted.is_empty() {
        let started = Instant::now();
        let count = accepted.len();
        let mut decodeds = Vec::with_capacity(count);
        let events = accepted
            .into_iter()
            .map(|(event, governance, decoded)| {
                decodeds.push(decoded);
                (event, governance)
            })
            .collect();
        match shared.log.append_events_unsynced_records(events, now) {
            Ok(landed) => {
                shared.metrics.batch(count, started.elapsed());
                for ((a, record), decoded) in landed.into_iter().zip(decodeds) {
                    appended.push(a);
                    records.push((record, decoded));
                }
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
                    (None, Some(a)) => Ok(Landed {
                        seq: a.seq,
                        leaf: a.leaf,
                        chain: a.chain,
                    }),
                    (None, None) => {
                        Err(SubmitError::MayHaveLanded("the write lost an event".into()))
                    }
                },
            };
            (reply, answer)
        })
        .collect();
    Answers { replies, records }
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
    if shared.failed.load(Ordering::Acquire) {
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
    // Never dated before the records it covers (the verifier refuses that), even if the
    // readers' state has not folded the last of them yet or the clock went back.
    let last: Timestamp = match head.size.checked_sub(1) {
        Some(seq) => shared
            .log
            .record(seq)
            .map_err(|e| e.to_string())?
            .map_or(Timestamp(0), |r| r.record.received_at),
        None => Timestamp(0),
    };
    let cp = Checkpoint {
        ledger_id,
        size: head.size,
        root: head.root,
        chain_head: head.chain_head,
        time: time.max(last),
    };
    let note = sign_checkpoint(&cp, &shared.node_key).map_err(|e| e.to_string())?;
    if let Err(e) = shared.log.put_checkpoint(&note) {
        if !matches!(e, coop_store::StoreError::Full { .. }) {
            shared.fail(&format!("storage failure while storing a checkpoint: {e}"));
        }
        return Err(e.to_string());
    }
    shared.last_checkpoint.store(head.size, Ordering::Release);
    tracing::info!(size = head.size, root = %head.root, "checkpoint signed");
    Ok(note)
}
