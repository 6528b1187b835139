//! The case lifecycle (Art. 1.3, 4.1, 4.3, 4.5, 4.6), costs (Art. 5) and disputes
//! (Art. 8): events that name a case, with optimistic concurrency on its version.

use super::{Ctx, art7, languages, request};
use crate::model::{DocumentRef, Extent, Party};
use crate::payload::Payload;
use crate::state::{
    Case, CaseStatus, Cost, CostArrangement, Deadline, DeadlineKind, Dispute, Registered, State,
    push_tight,
};
use crate::violation::Violation;
use coop_core::Timestamp;
use std::sync::Arc;

/// The documents a case event carries, as the case's views list them (the state keeps
/// none of them: they are read from the case's records): its Art. 4.2 documents and
/// those of cost arrangements (Art. 5) and Art. 8 disputes.
pub fn case_documents(payload: &Payload) -> Vec<&DocumentRef> {
    let mut documents = languages::of(payload);
    match payload {
        Payload::CostArrangementProposed { terms: d }
        | Payload::DisputeRaised { subject: d, .. }
        | Payload::ConsultationHeld { minutes: d, .. }
        | Payload::DisputeSettled { outcome: d, .. } => documents.push(d),
        _ => {}
    }
    documents
}

/// The case the event names, at the version it expects, with its causal links inside it.
pub(super) fn case_of<'s>(state: &'s State, ctx: &Ctx<'_>) -> Result<&'s Case, Violation> {
    let body = &ctx.record.event.body;
    let cr = body
        .case
        .ok_or(Violation::CaseRequired(ctx.payload.kind()))?;
    let case = state.cases.get(&cr.case_id).ok_or(Violation::NoSuchCase)?;
    if cr.expected_version != case.version {
        return Err(Violation::VersionConflict {
            expected: cr.expected_version,
            actual: case.version,
        });
    }
    for a in &body.answers {
        if !case.steps.iter().any(|t| t.event_hash == *a) {
            return Err(Violation::UnknownAnswer(a.to_hex()));
        }
    }
    Ok(case)
}

fn requested_side(case: &Case, signer: &Registered, what: &'static str) -> Result<(), Violation> {
    if signer.id != case.requested {
        return Err(Violation::WrongSide(crate::detail!(
            "from-requested",
            "the {what} event comes from the requested authority {requested}, not from {signer}",
            what = crate::kind(what),
            requested = &case.requested,
            signer = &signer.id
        )));
    }
    Ok(())
}

fn requesting_side(case: &Case, signer: &Registered, what: &'static str) -> Result<(), Violation> {
    if signer.id != case.requester {
        return Err(Violation::WrongSide(crate::detail!(
            "from-requesting",
            "the {what} event comes from the requesting authority {requester}, not from {signer}",
            what = crate::kind(what),
            requester = &case.requester,
            signer = &signer.id
        )));
    }
    Ok(())
}

pub(super) fn participant(case: &Case, signer: &Registered) -> Result<(), Violation> {
    if signer.id != case.requester && signer.id != case.requested {
        return Err(Violation::WrongSide(crate::detail!(
            "not-a-participant",
            "{signer} is neither the requesting nor the requested authority of this case",
            signer = &signer.id
        )));
    }
    Ok(())
}

fn open(case: &Case) -> Result<(), Violation> {
    if case.status == CaseStatus::Closed {
        return Err(Violation::CaseClosed);
    }
    Ok(())
}

fn unanswered(case: &Case) -> Result<(), Violation> {
    open(case)?;
    if let Some(f) = &case.final_answer {
        return Err(Violation::AlreadyAnswered(crate::detail!(
            "final-answer-at",
            "final answer at record {seq}",
            seq = f.seq
        )));
    }
    Ok(())
}

pub(super) fn check(state: &State, ctx: &Ctx<'_>, signer: &Registered) -> Result<(), Violation> {
    let case = case_of(state, ctx)?;
    check_payload(state, ctx, case, signer)?;
    // Art. 4.2 for every communication in the case, in the languages of the arrangement
    // the case's request cited, if any.
    let arranged = case
        .language_arrangement
        .as_ref()
        .and_then(|h| state.language_arrangement(h))
        .map(|l| l.languages.as_slice());
    request::check_languages(arranged, signer.party, &languages::of(ctx.payload))
}

fn check_payload(
    state: &State,
    ctx: &Ctx<'_>,
    case: &Case,
    signer: &Registered,
) -> Result<(), Violation> {
    match &ctx.payload {
        Payload::OralRequestConfirmed { documents } => {
            requesting_side(case, signer, "oral request confirmed")?;
            open(case)?;
            if !case.oral || case.confirmed {
                return Err(Violation::Art4_1_Oral(crate::detail!(
                    "no-oral-to-confirm",
                    "there is no unconfirmed oral request in this case"
                )));
            }
            if documents.is_empty() {
                return Err(Violation::Art4_1_Oral(crate::detail!(
                    "confirmation-without-document",
                    "the written confirmation carries no document"
                )));
            }
            Ok(())
        }
        Payload::Acknowledged => {
            requested_side(case, signer, "acknowledged")?;
            open(case)?;
            if case.status != CaseStatus::Open {
                return Err(Violation::AlreadyAnswered(crate::detail!(
                    "already-acknowledged",
                    "already acknowledged or answered"
                )));
            }
            Ok(())
        }
        Payload::AdditionalInfoRequested { documents } => {
            requesting_side(case, signer, "additional information requested")?;
            open(case)?;
            if documents.is_empty() {
                return Err(Violation::Art4_3_AdditionalInfo(crate::detail!(
                    "additional-request-without-document",
                    "the request for additional information carries no document"
                )));
            }
            Ok(())
        }
        Payload::AdditionalInfoProvided { .. } => {
            requested_side(case, signer, "additional information provided")?;
            open(case)?;
            if !case
                .deadlines
                .iter()
                .any(|d| d.kind == DeadlineKind::AdditionalInfo && d.met_at.is_none())
            {
                // A second provision is told that the request was answered already, not
                // that none was made (issue 30).
                let answered = case
                    .deadlines
                    .iter()
                    .any(|d| d.kind == DeadlineKind::AdditionalInfo);
                return Err(Violation::Art4_3_AdditionalInfo(if answered {
                    crate::detail!(
                        "additional-answered",
                        "every request for additional information in this case has been answered already; a new one must be asked first"
                    )
                } else {
                    crate::detail!(
                        "additional-not-requested",
                        "no additional information was requested in this case"
                    )
                }));
            }
            art7::check_provided(state, ctx, case, signer)
        }
        Payload::Refused {
            extent,
            grounds,
            reasons,
        } => {
            requested_side(case, signer, "refused")?;
            unanswered(case)?;
            if case.partly_refused {
                return Err(Violation::AlreadyAnswered(crate::detail!(
                    "already-refused-in-part",
                    "already refused in part"
                )));
            }
            if grounds.is_empty() {
                return Err(Violation::Art4_5_NoGrounds);
            }
            if reasons.is_empty() {
                return Err(Violation::Art4_6_NoReasons(match extent {
                    Extent::Full => crate::detail!("reasons-refusal", "a refusal"),
                    Extent::Partial => {
                        crate::detail!("reasons-partial-refusal", "a partial refusal")
                    }
                }));
            }
            Ok(())
        }
        Payload::ExecutionReported {
            extent,
            reasons,
            search_outcome,
            ..
        } => {
            if search_outcome.is_some() && signer.id != case.requested {
                return Err(Violation::Art1_3_Search(crate::detail!(
                    "search-outcome-by-requested",
                    "the outcome of a wanted-person search is reported by the requested authority {requested}, not by {signer}",
                    requested = &case.requested,
                    signer = &signer.id
                )));
            }
            requested_side(case, signer, "execution reported")?;
            unanswered(case)?;
            if *extent == Extent::Partial && reasons.is_empty() {
                return Err(Violation::Art4_6_NoReasons(crate::detail!(
                    "reasons-partial-execution",
                    "a partial execution"
                )));
            }
            match (case.wanted_person_search, search_outcome) {
                (true, None) => {
                    return Err(Violation::Art1_3_Search(crate::detail!(
                        "search-outcome-missing",
                        "report the search outcome: found, detained, arrested, information provided or not found"
                    )));
                }
                (false, Some(_)) => {
                    return Err(Violation::Art1_3_Search(crate::detail!(
                        "not-a-search",
                        "this case is not a wanted-person search"
                    )));
                }
                _ => {}
            }
            art7::check_provided(state, ctx, case, signer)
        }
        Payload::CostRecorded { currency, .. } => {
            participant(case, signer)?;
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(Violation::Art5_Costs(crate::detail!(
                    "not-a-currency",
                    "{currency} is not an ISO 4217 currency code",
                    currency = format!("{currency:?}")
                )));
            }
            Ok(())
        }
        Payload::CostArrangementProposed { .. } => {
            participant(case, signer)?;
            if case
                .cost_arrangement
                .as_ref()
                .is_some_and(|a| a.accepted.is_some())
            {
                return Err(Violation::Art5_Costs(crate::detail!(
                    "cost-arrangement-exists",
                    "this case already has an accepted cost arrangement"
                )));
            }
            Ok(())
        }
        Payload::CostArrangementAccepted { proposal } => {
            participant(case, signer)?;
            let a = case
                .cost_arrangement
                .as_ref()
                .filter(|a| a.proposal.event_hash == *proposal && a.accepted.is_none())
                .ok_or_else(|| {
                    Violation::Art5_Costs(crate::detail!(
                        "no-cost-proposal",
                        "there is no open cost arrangement proposal {proposal}",
                        proposal = proposal
                    ))
                })?;
            if a.proposer == signer.party {
                return Err(Violation::Art5_Costs(crate::detail!(
                    "cost-accepted-by-proposer",
                    "an arrangement needs both Parties: it was proposed by {proposer}, so {other} must accept it",
                    proposer = a.proposer,
                    other = a.proposer.other()
                )));
            }
            Ok(())
        }
        Payload::DisputeRaised { dispute, .. } => {
            participant(case, signer)?;
            if case.disputes.contains_key(dispute) {
                return Err(Violation::Art8_Dispute(crate::detail!(
                    "dispute-exists",
                    "dispute {dispute} already exists in this case",
                    dispute = *dispute
                )));
            }
            Ok(())
        }
        Payload::ConsultationHeld { dispute, .. } | Payload::DisputeSettled { dispute, .. } => {
            participant(case, signer)?;
            match case.disputes.get(dispute) {
                None => Err(Violation::Art8_Dispute(crate::detail!(
                    "no-such-dispute",
                    "there is no dispute {dispute} in this case",
                    dispute = *dispute
                ))),
                Some(d) if d.settled.is_some() => Err(Violation::Art8_Dispute(crate::detail!(
                    "dispute-settled",
                    "dispute {dispute} is already settled",
                    dispute = *dispute
                ))),
                Some(_) => Ok(()),
            }
        }
        Payload::CaseClosed => {
            participant(case, signer)?;
            open(case)
        }
        _ => art7::check(state, ctx, case, signer),
    }
}

fn meet(case: &mut Case, kind: DeadlineKind, at: Timestamp) {
    if let Some(d) = case
        .deadlines
        .iter_mut()
        .find(|d| d.kind == kind && d.met_at.is_none())
    {
        d.met_at = Some(at);
    }
}

fn reasons_notice(case: &mut Case, seq: u64, at: Timestamp, notice_ms: u64) {
    push_tight(
        &mut case.deadlines,
        Deadline {
            kind: DeadlineKind::ReasonsNotice,
            opened_seq: seq,
            due: Timestamp(case.opened_at.0.saturating_add(notice_ms)),
            met_at: Some(at),
        },
    );
}

pub(super) fn fold(state: &mut State, ctx: &Ctx<'_>, party: Option<Party>) {
    let Some(party) = party else { return };
    let Some(case_id) = ctx.record.event.body.case.map(|c| c.case_id) else {
        return;
    };
    let params = state.params_at(ctx.at());
    art7::fold(state, ctx, case_id, party);
    // Copied here if a clone of the state still shares it (ADR 0021).
    let Some(case) = state.cases.get_mut(&case_id).map(Arc::make_mut) else {
        return;
    };
    let ev = &ctx.evidence;
    let at = ctx.at();
    case.version += 1;
    push_tight(&mut case.steps, ctx.step());
    match &ctx.payload {
        Payload::OralRequestConfirmed { .. } => {
            case.confirmed = true;
            meet(case, DeadlineKind::OralConfirmation, at);
        }
        Payload::Acknowledged => case.status = CaseStatus::Acknowledged,
        Payload::AdditionalInfoRequested { .. } => {
            push_tight(
                &mut case.deadlines,
                Deadline {
                    kind: DeadlineKind::AdditionalInfo,
                    opened_seq: ev.seq,
                    due: Timestamp(at.0.saturating_add(params.additional_info_ms)),
                    met_at: None,
                },
            );
        }
        Payload::AdditionalInfoProvided { .. } => {
            meet(case, DeadlineKind::AdditionalInfo, at);
        }
        Payload::Refused { extent, .. } => {
            match extent {
                Extent::Full => {
                    case.status = CaseStatus::Refused;
                    case.final_answer = Some(ev.clone());
                }
                Extent::Partial => {
                    case.status = CaseStatus::PartlyRefused;
                    case.partly_refused = true;
                }
            }
            reasons_notice(case, ev.seq, at, params.refusal_notice_ms);
        }
        Payload::ExecutionReported {
            extent,
            search_outcome,
            ..
        } => {
            case.status = CaseStatus::Executed(*extent);
            case.final_answer = Some(ev.clone());
            case.search_outcome = *search_outcome;
            if *extent == Extent::Partial && !case.partly_refused {
                reasons_notice(case, ev.seq, at, params.refusal_notice_ms);
            }
        }
        Payload::CostRecorded {
            amount_minor,
            currency,
        } => push_tight(
            &mut case.costs,
            Cost {
                party,
                amount_minor: *amount_minor,
                currency: currency.clone(),
                seq: ev.seq,
            },
        ),
        Payload::CostArrangementProposed { .. } => {
            case.cost_arrangement = Some(Box::new(CostArrangement {
                proposal: ev.clone(),
                proposer: party,
                accepted: None,
            }));
        }
        Payload::CostArrangementAccepted { .. } => {
            if let Some(a) = case.cost_arrangement.as_mut() {
                a.accepted = Some(ev.clone());
            }
        }
        Payload::DisputeRaised { dispute, .. } => {
            case.disputes.insert(
                *dispute,
                Dispute {
                    raised: ev.clone(),
                    consultations: Vec::new(),
                    settled: None,
                },
            );
        }
        Payload::ConsultationHeld { dispute, .. } => {
            if let Some(d) = case.disputes.get_mut(dispute) {
                push_tight(&mut d.consultations, ev.clone());
            }
        }
        Payload::DisputeSettled { dispute, .. } => {
            if let Some(d) = case.disputes.get_mut(dispute) {
                d.settled = Some(ev.clone());
            }
        }
        Payload::CaseClosed => {
            case.status = CaseStatus::Closed;
            // A closed case gains few events (Art. 8 disputes, costs): keep its steps at
            // their length rather than at the growth's doubled capacity.
            case.steps.shrink_to_fit();
            case.deadlines.shrink_to_fit();
        }
        _ => {}
    }
}
