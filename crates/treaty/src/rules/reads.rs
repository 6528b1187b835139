//! What the rules read: the one definition, next to the rules, that the rules, bundle
//! assembly (coop-ledger) and bundle verification (coop-verify) all use.
//!
//! To judge a record the rules read only
//! 1. the **governance** records before it (genesis, registry, entry into force,
//!    protocols, termination), which form a chain that every record commits to
//!    (`Record::governance`, checked by the rules), so a copy that leaves one out is
//!    caught at the next record it keeps;
//! 2. the earlier records of **its own case** (each case event states the case version
//!    it expects, so a copy that leaves one out is caught at the next);
//! 3. the records it **cites** by event hash (an Art. 1.2 agreement, a language
//!    arrangement, a consent, a cost proposal, the events it answers), which a copy
//!    either holds or the citing record is refused.
//!
//! Nothing ambient: no rule asks "is there any record such that…" about records outside
//! these three classes. That is what makes an evidence bundle provably complete, and the
//! property test `bundle_replay_equals_full_replay` holds the rules to it.

use crate::model::CrimeCategory;
use crate::payload::Payload;
use coop_core::{CaseId, EventBody, Hash};

/// What judging one record reads, besides the governance records before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reads {
    /// The record is itself a governance record: every later record reads it.
    pub governance: bool,
    /// The case it belongs to (its earlier records are read), if it is a case event.
    pub case: Option<CaseId>,
    /// Event hashes of earlier records it cites.
    pub cites: Vec<Hash>,
}

/// Whether `payload` belongs to a case (names it in the event's `case` field): a request,
/// which opens its case, and everything that happens in a case afterwards.
pub fn is_case_event(payload: &Payload) -> bool {
    !payload.is_governance()
        && !matches!(
            payload,
            Payload::CategoryAgreed { .. }
                | Payload::LanguageArrangementProposed { .. }
                | Payload::LanguageArrangementAccepted { .. }
                | Payload::OtherCooperation { .. }
        )
}

/// What the rules read to judge an event with this body and payload.
pub fn reads(body: &EventBody, payload: &Payload) -> Reads {
    let mut cites: Vec<Hash> = body.answers.clone();
    match payload {
        Payload::Request(r) => {
            if let CrimeCategory::Other(h) = r.category {
                cites.push(h);
            }
            cites.extend(r.language_arrangement);
        }
        Payload::LanguageArrangementAccepted { proposal } => cites.push(*proposal),
        Payload::OnwardTransfer { consent, .. } => cites.push(*consent),
        Payload::CostArrangementAccepted { proposal } => cites.push(*proposal),
        _ => {}
    }
    Reads {
        governance: payload.is_governance(),
        case: if is_case_event(payload) {
            body.case.map(|c| c.case_id)
        } else {
            None
        },
        cites,
    }
}

/// The seqs an evidence bundle of `case` against a checkpoint of `size` records must
/// hold, given `state` (the state after that checkpoint, which covers the case's last
/// record) and a way to `read` a record by seq: the case's records, every governance
/// record before the checkpoint's size — the node keys that sign it (a handover after the
/// case's last record included) and the witnesses that cosign it are named there — and,
/// transitively, every record they cite (docs/FORMAT.md §14). Exactly these: a bundle
/// with fewer is refused by the rules or its checkpoint does not verify, one with more is
/// refused by the bundle verifier. `None` when the case does not exist in `state`.
pub fn bundle_seqs(
    state: &crate::State,
    case: &CaseId,
    size: u64,
    mut read: impl FnMut(u64) -> Option<coop_core::Record>,
) -> Option<std::collections::BTreeSet<u64>> {
    let c = state.cases.get(case)?;
    c.steps.last()?;
    let mut seqs: std::collections::BTreeSet<u64> = c.steps.iter().map(|t| t.seq).collect();
    seqs.extend(state.governance.seqs.iter().filter(|s| **s < size));
    // Follow citations from every record held so far; cited records come earlier.
    let mut todo: Vec<u64> = seqs.iter().copied().collect();
    while let Some(seq) = todo.pop() {
        let Some(r) = read(seq) else { continue };
        let Ok(p) = Payload::from_bytes(&r.event.body.payload) else {
            continue;
        };
        for h in reads(&r.event.body, &p).cites {
            let cited = c
                .steps
                .iter()
                .find(|t| t.event_hash == h)
                .map(|t| t.seq)
                .or_else(|| state.cited_seq(&h));
            if let Some(s) = cited
                && seqs.insert(s)
            {
                todo.push(s);
            }
        }
    }
    Some(seqs)
}
