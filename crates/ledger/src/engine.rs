//! The single writer: drains the submission queue into a batch, runs the rules in order
//! against the live state, writes the accepted events in one durable group commit, then
//! answers every submitter. Signatures were verified strictly before queueing, and
//! receipts are signed after answering, both on the submitters' threads: the writer's
//! critical path holds only what must be sequential.

use crate::error::SubmitError;
use crate::ledger::Shared;
use coop_core::checkpoint::{Checkpoint, sign_checkpoint, verify_checkpoint};
use coop_core::{EventId, Hash, Record, SignedEvent};
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
    wrote: bool,
}

pub(crate) fn run<S: Store + 'static>(
    shared: Arc<Shared<S>>,
    rx: Receiver<Job>,
    syncer: Sender<Answers>,
) {
    let mut last_cp = Instant::now();
    loop {
        // Wake at least once per checkpoint interval, so that an idle ledger still
        // signs a checkpoint over its last records on time.
        let first = match rx.recv_timeout(shared.config.checkpoint_interval) {
            Ok(job) => Some(job),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => None,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        };
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
                    let _ = reply.send(Err(SubmitError::Unavailable(
                        "the syncer has stopped".into(),
                    )));
                }
            }
        }
        let head = shared.log.head().map(|h| h.size).unwrap_or(0);
        let since = head.saturating_sub(shared.last_checkpoint.load(Ordering::Acquire));
        let due = since >= shared.config.checkpoint_every
            || (since > 0 && last_cp.elapsed() >= shared.config.checkpoint_interval);
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
    // The queue is closed: sign a last checkpoint so the next open checks little.
    if let Err(e) = checkpoint(&shared) {
        tracing::warn!(error = %e, "final checkpoint failed");
    }
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
        let synced: Result<(), String> = if shared.failed.load(Ordering::Acquire) {
            Err("an earlier storage failure needs a restart".into())
        } else if all.iter().any(|a| a.wrote) {
            shared
                .log
                .sync()
                .map_err(|e| format!("storage failure: {e}"))
        } else {
            Ok(())
        };
        if synced.is_err() {
            shared.failed.store(true, Ordering::Release);
        } else {
            shared.metrics.sync(started.elapsed());
        }
        for a in all {
            for (reply, answer) in a.replies {
                let answer = match (&synced, answer) {
                    (Ok(()), a) => a,
                    (Err(e), Ok(_)) => Err(SubmitError::Unavailable(e.clone())),
                    (Err(_), Err(refusal)) => Err(refusal),
                };
                let _ = reply.send(answer);
            }
        }
    }
}

fn process<S: Store>(shared: &Shared<S>, submits: Vec<(SignedEvent, Decoded, Reply)>) -> Answers {
    let fail_all = |submits: Vec<(SignedEvent, Decoded, Reply)>, why: &str| Answers {
        replies: submits
            .into_iter()
            .map(|(_, _, r)| (r, Err(SubmitError::Unavailable(why.to_owned()))))
            .collect(),
        wrote: false,
    };
    if shared.failed.load(Ordering::Acquire) {
        return fail_all(submits, "an earlier storage failure needs a restart");
    }
    let Ok(mut state) = shared.state.write() else {
        return fail_all(submits, "state lock poisoned");
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
            if accepted.get(i).is_some_and(|(a, _)| a.body == event.body) {
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
        match state.step_decoded(&record, decoded) {
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
    let mut wrote = false;
    let mut write_error = None;
    if !accepted.is_empty() {
        let started = Instant::now();
        let count = accepted.len();
        match shared.log.append_events_unsynced(accepted, now) {
            Ok(a) => {
                if state.size == count as u64 {
                    // This batch began with the genesis.
                    shared.set_ledger_id(state.ledger_id);
                }
                shared.metrics.batch(count, started.elapsed());
                appended = a;
                wrote = true;
            }
            Err(e) => {
                // The live state already holds these events but the disk may not: only a
                // restart (which rebuilds the state from the store) is safe now.
                shared.failed.store(true, Ordering::Release);
                tracing::error!(error = %e, "group commit failed; the ledger stops accepting events");
                write_error = Some(format!("storage failure: {e}"));
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
                    (Some(e), _) => Err(SubmitError::Unavailable(e.clone())),
                    (None, Some(a)) => Ok(Landed {
                        seq: a.seq,
                        leaf: a.leaf,
                        chain: a.chain,
                    }),
                    (None, None) => Err(SubmitError::Unavailable("the write lost an event".into())),
                },
            };
            (reply, answer)
        })
        .collect();
    Answers { replies, wrote }
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
    let head = shared.log.head().map_err(|e| e.to_string())?;
    // The stored one serves if it covers the head and is this node's own.
    if let Ok(Some((size, note))) = shared.log.latest_checkpoint()
        && size == head.size
        && verify_checkpoint(&note, &me, &[]).is_ok()
    {
        return Ok(note);
    }
    // Never dated before the records it covers (the verifier refuses that).
    let cp = Checkpoint {
        ledger_id,
        size: head.size,
        root: head.root,
        chain_head: head.chain_head,
        time,
    };
    let note = sign_checkpoint(&cp, &shared.node_key).map_err(|e| e.to_string())?;
    shared
        .log
        .put_checkpoint(&note)
        .map_err(|e| e.to_string())?;
    shared.last_checkpoint.store(head.size, Ordering::Release);
    Ok(note)
}
