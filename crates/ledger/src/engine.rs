//! The single writer: drains the submission queue into a batch, verifies signatures on
//! all cores, runs the rules in order against the live state, writes the accepted events
//! in one durable group commit, then answers every submitter.

use crate::error::SubmitError;
use crate::ledger::{Shared, now_ms};
use coop_core::checkpoint::{Checkpoint, sign_checkpoint};
use coop_core::{EventId, Receipt, Record, SignedEvent, Timestamp};
use coop_store::Store;
use crossbeam_channel::{Receiver, Sender};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

pub(crate) type Reply = Sender<Result<Receipt, SubmitError>>;

// Submissions are the common case; boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Job {
    Submit(SignedEvent, Reply),
    Checkpoint(Sender<Result<String, SubmitError>>),
}

/// What became of one submission in a batch.
enum Fate {
    /// Already answered (refused or invalid).
    Done,
    /// Accepted: index into the batch's accepted events.
    Accepted(usize),
    /// Same event as an earlier submission of this batch (idempotent duplicate).
    SameAs(usize),
}

pub(crate) fn run<S: Store + 'static>(shared: Arc<Shared<S>>, rx: Receiver<Job>) {
    let mut last_cp = Instant::now();
    loop {
        let Ok(first) = rx.recv() else { break };
        let mut submits = Vec::new();
        let mut cp_requests = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Submit(e, r) => submits.push((e, r)),
                Job::Checkpoint(r) => cp_requests.push(r),
            }
            if submits.len() < shared.config.max_batch {
                next = rx.try_recv().ok();
            }
        }
        if !submits.is_empty() {
            process(&shared, submits);
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

fn process<S: Store>(shared: &Shared<S>, submits: Vec<(SignedEvent, Reply)>) {
    if shared.failed.load(Ordering::Acquire) {
        for (_, r) in submits {
            let _ = r.send(Err(SubmitError::Unavailable(
                "an earlier storage failure needs a restart".into(),
            )));
        }
        return;
    }
    let ledger = shared.ledger_id();
    // Signatures on all cores: the expensive part, independent of order.
    let verdicts: Vec<_> = submits
        .par_iter()
        .map(|(e, _)| e.verify(ledger.as_ref()))
        .collect();

    let Ok(mut state) = shared.state.write() else {
        for (_, r) in submits {
            let _ = r.send(Err(SubmitError::Unavailable("state lock poisoned".into())));
        }
        return;
    };
    let now = Timestamp(now_ms().max(state.last_time.0));
    let mut fates = Vec::with_capacity(submits.len());
    let mut accepted: Vec<SignedEvent> = Vec::new();
    let mut in_batch: HashMap<EventId, usize> = HashMap::new();
    for ((event, reply), verdict) in submits.iter().zip(verdicts) {
        if let Err(e) = verdict {
            shared.metrics.refused("invalid");
            let _ = reply.send(Err(SubmitError::Invalid(e)));
            fates.push(Fate::Done);
            continue;
        }
        let id = event.body.event_id;
        if let Some(&i) = in_batch.get(&id) {
            if accepted.get(i).is_some_and(|a| a.body == event.body) {
                fates.push(Fate::SameAs(i));
            } else {
                shared.metrics.refused("id reused");
                let _ = reply.send(Err(SubmitError::IdReused(id.to_hex())));
                fates.push(Fate::Done);
            }
            continue;
        }
        match shared.existing_receipt(event) {
            Ok(Some(receipt)) => {
                let _ = reply.send(Ok(receipt));
                fates.push(Fate::Done);
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                if matches!(e, SubmitError::IdReused(_)) {
                    shared.metrics.refused("id reused");
                }
                let _ = reply.send(Err(e));
                fates.push(Fate::Done);
                continue;
            }
        }
        let record = Record {
            seq: state.size,
            // The log links the chain when it writes; the rules do not look at it.
            prev_chain: coop_core::Hash::ZERO,
            received_at: now,
            event: event.clone(),
        };
        match state.step(&record) {
            Ok(()) => {
                in_batch.insert(id, accepted.len());
                fates.push(Fate::Accepted(accepted.len()));
                accepted.push(event.clone());
            }
            Err(v) => {
                shared.metrics.refused(&v.clause());
                let _ = reply.send(Err(SubmitError::Refused(v)));
                fates.push(Fate::Done);
            }
        }
    }
    if accepted.is_empty() {
        return;
    }
    let started = Instant::now();
    let count = accepted.len();
    let hashes: Vec<_> = accepted.iter().map(|e| e.event_hash()).collect();
    let ids: Vec<_> = accepted.iter().map(|e| e.body.event_id).collect();
    match shared.log.append_events(accepted, now) {
        Ok(appended) => {
            if state.size == 1 {
                shared.set_ledger_id(state.ledger_id);
            }
            drop(state);
            shared.metrics.batch(count, started.elapsed());
            let Some(ledger) = shared.ledger_id() else {
                return;
            };
            let receipts: Vec<Option<Receipt>> = appended
                .par_iter()
                .zip(hashes.par_iter())
                .zip(ids.par_iter())
                .map(|((a, h), id)| {
                    h.as_ref().ok().map(|h| {
                        Receipt::sign(ledger, a.seq, *id, *h, a.leaf, a.chain, &shared.node_key)
                    })
                })
                .collect();
            for ((_, reply), fate) in submits.iter().zip(fates) {
                let i = match fate {
                    Fate::Done => continue,
                    Fate::Accepted(i) | Fate::SameAs(i) => i,
                };
                let answer =
                    receipts.get(i).cloned().flatten().ok_or_else(|| {
                        SubmitError::Unavailable("receipt could not be made".into())
                    });
                let _ = reply.send(answer);
            }
        }
        Err(e) => {
            // The live state already holds these events but the disk may not: only a
            // restart (which rebuilds the state from the store) is safe now.
            shared.failed.store(true, Ordering::Release);
            tracing::error!(error = %e, "group commit failed; the ledger stops accepting events");
            for ((_, reply), fate) in submits.iter().zip(fates) {
                if !matches!(fate, Fate::Done) {
                    let _ = reply.send(Err(SubmitError::Unavailable(format!(
                        "storage failure: {e}"
                    ))));
                }
            }
        }
    }
}

/// Signs and stores a checkpoint of the current head; returns the note.
pub(crate) fn checkpoint<S: Store>(shared: &Shared<S>) -> Result<String, String> {
    let Some(ledger_id) = shared.ledger_id() else {
        return Err("the ledger has no genesis yet".into());
    };
    if shared.failed.load(Ordering::Acquire) {
        return Err("the ledger stopped after a storage failure".into());
    }
    let head = shared.log.head().map_err(|e| e.to_string())?;
    if let Ok(Some((size, note))) = shared.log.latest_checkpoint()
        && size == head.size
    {
        return Ok(note);
    }
    let cp = Checkpoint {
        ledger_id,
        size: head.size,
        root: head.root,
        chain_head: head.chain_head,
        time: Timestamp(now_ms()),
    };
    let note = sign_checkpoint(&cp, &shared.config.node_name, &shared.node_key)
        .map_err(|e| e.to_string())?;
    shared
        .log
        .put_checkpoint(&note)
        .map_err(|e| e.to_string())?;
    shared.last_checkpoint.store(head.size, Ordering::Release);
    Ok(note)
}
