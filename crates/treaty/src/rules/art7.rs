//! Article 4.4 and Article 7: transfers, uses, consents, onward transfers. The compliance
//! core: every use has a permitted purpose or a consent of the providing Party; every
//! onward transfer relies on an earlier written consent of the providing Party covering
//! this item and this third party.

use super::Ctx;
use super::cases::participant;
use crate::model::{InfoKind, Information, ItemId, Party, Purpose};
use crate::payload::Payload;
use crate::state::{
    Case, CaseStatus, Consent, ConsentDecision, Evidence, Item, Onward, Registered, State, Use,
    UseBasis, push_tight,
};
use crate::violation::Violation;
use coop_core::{AuthorityId, CaseId, Timestamp};
use std::sync::Arc;

fn item<'s>(state: &'s State, case: &Case, id: &ItemId) -> Result<&'s Item, Violation> {
    state
        .item(&case.id, id)
        .ok_or_else(|| Violation::Art7_UnknownItem(id.to_string()))
}

/// Who acts on an item received (docs/TREATY.md, "Who acts"): the authority it was
/// transferred to — its holder — alone records its uses, asks for consent and passes it on.
fn holder(item: &Item, signer: &Registered) -> Result<(), Violation> {
    if signer.id != item.recipient {
        return Err(Violation::Art7_2_NotTheRecipient {
            recipient: item.recipient.clone(),
            signer: signer.id.clone(),
        });
    }
    Ok(())
}

/// The consent of the providing Party that covers `purpose` for item `item` of `case`
/// and was given before `authored` (Art. 7.2: *prior* written consent), if any.
pub(crate) fn consent_for_purpose<'s>(
    state: &'s State,
    case: &CaseId,
    item: &ItemId,
    purpose: &Purpose,
    authored: Timestamp,
) -> Option<&'s Evidence> {
    state
        .consents
        .values()
        .find(|c| {
            c.case == *case
                && c.item == *item
                && c.purposes.contains(purpose)
                && prior(&c.evidence, authored)
        })
        .map(|c| &c.evidence)
}

/// Art. 7.2 "prior": the ledger received the consent (its `received_at`) no later than the
/// author wrote the act that relies on it (its `authored_at`, which the rules hold within
/// a few minutes of the ledger's own time). An act written before the consent existed is
/// not made lawful by a consent that lands later.
fn prior(consent: &Evidence, authored: Timestamp) -> bool {
    consent.at <= authored
}

/// One item of information an event provides, whichever event it is.
struct Provision<'p> {
    item: ItemId,
    recipient: &'p AuthorityId,
    kind: InfoKind,
    restricted: bool,
    permitted: &'p [Purpose],
    no_state_secret: bool,
    /// How many documents carry it.
    documents: usize,
}

/// The information `payload` provides in `case` (Art. 2.2, 4.4, 7): a transfer's item,
/// additional information (Art. 4.3), the results of an execution. All but a transfer
/// go to the requesting authority and may serve the request's purposes.
fn provisions<'p>(payload: &'p Payload, case: &'p Case) -> Vec<Provision<'p>> {
    let of = |i: &Information| Provision {
        item: i.item,
        recipient: &case.requester,
        kind: i.kind,
        restricted: i.restricted,
        permitted: &case.purposes,
        no_state_secret: i.no_state_secret,
        documents: i.documents.len(),
    };
    match payload {
        Payload::InformationTransferred {
            item,
            recipient,
            kind,
            restricted,
            permitted_purposes,
            no_state_secret,
            documents,
        } => vec![Provision {
            item: *item,
            recipient,
            kind: *kind,
            restricted: *restricted,
            permitted: permitted_purposes,
            no_state_secret: *no_state_secret,
            documents: documents.len(),
        }],
        Payload::AdditionalInfoProvided { information } => vec![of(information)],
        Payload::ExecutionReported { results, .. } => results.iter().map(of).collect(),
        _ => Vec::new(),
    }
}

/// Art. 4.4 and 7 for every item an event provides: no state secret, a new item id in the
/// case (also within the event), purposes those of the request.
pub(super) fn check_provided(
    state: &State,
    ctx: &Ctx<'_>,
    case: &Case,
    signer: &Registered,
) -> Result<(), Violation> {
    let items = provisions(ctx.payload, case);
    for (i, p) in items.iter().enumerate() {
        if !p.no_state_secret {
            return Err(Violation::Art4_4_StateSecret);
        }
        if p.documents == 0 {
            return Err(Violation::Art7_Other(crate::detail!(
                "item-without-document",
                "information item {item} carries no document: the information is provided by reference to its documents",
                item = p.item.to_string()
            )));
        }
        if signer.id == *p.recipient {
            return Err(Violation::Art7_Other(crate::detail!(
                "provides-to-itself",
                "{signer} cannot provide information to itself",
                signer = &signer.id
            )));
        }
        if state.item(&case.id, &p.item).is_some() || items.iter().take(i).any(|q| q.item == p.item)
        {
            return Err(Violation::Art7_Other(crate::detail!(
                "item-exists",
                "information item {item} is already registered in this case",
                item = p.item.to_string()
            )));
        }
        if p.permitted.is_empty() {
            return Err(Violation::Art7_Other(crate::detail!(
                "item-without-purposes",
                "information must state the purposes it may serve (those of the request)"
            )));
        }
        if let Some(x) = p.permitted.iter().find(|x| !case.purposes.contains(x)) {
            return Err(Violation::Art7_Other(crate::detail!(
                "purpose-not-requested",
                "\"{purpose}\" is not a purpose stated in the request (Art. 7.2)",
                purpose = x.0.as_str()
            )));
        }
    }
    Ok(())
}

pub(super) fn check(
    state: &State,
    ctx: &Ctx<'_>,
    case: &Case,
    signer: &Registered,
) -> Result<(), Violation> {
    match &ctx.payload {
        Payload::InformationTransferred { recipient, .. } => {
            participant(case, signer)?;
            if case.status == CaseStatus::Closed {
                return Err(Violation::CaseClosed);
            }
            let expected = if signer.id == case.requester {
                &case.requested
            } else {
                &case.requester
            };
            if recipient != expected {
                return Err(Violation::Art7_Other(crate::detail!(
                    "wrong-recipient",
                    "information in this case goes from {signer} to {expected}, not to {recipient}",
                    signer = &signer.id,
                    expected = expected,
                    recipient = recipient
                )));
            }
            check_provided(state, ctx, case, signer)
        }
        Payload::InformationUsed { item: id, purpose } => {
            let item = item(state, case, id)?;
            holder(item, signer)?;
            let authored = ctx.record.event.body.authored_at;
            if item.permitted.contains(purpose)
                || consent_for_purpose(state, &case.id, id, purpose, authored).is_some()
            {
                Ok(())
            } else if consent_for_purpose(state, &case.id, id, purpose, Timestamp(u64::MAX))
                .is_some()
            {
                // A consent exists, but came after the use was written (issue 30: it was
                // told "no consent covers it").
                Err(Violation::Art7_2_ConsentNotPrior {
                    purpose: purpose.0.to_string(),
                    provider: item.provider_party,
                })
            } else {
                Err(Violation::Art7_2_PurposeNotPermitted {
                    purpose: purpose.0.to_string(),
                    provider: item.provider_party,
                })
            }
        }
        Payload::ConsentRequested {
            item: id,
            third_party,
            purposes,
        } => {
            let item = item(state, case, id)?;
            holder(item, signer)?;
            if third_party.is_none() && purposes.is_empty() {
                return Err(Violation::Art7_Other(crate::detail!(
                    "consent-request-empty",
                    "a consent request must name a third party or further purposes"
                )));
            }
            Ok(())
        }
        Payload::ConsentGranted {
            item: id,
            third_party,
            purposes,
            documents,
        } => {
            if documents.is_empty() {
                return Err(Violation::Art7_Other(crate::detail!(
                    "consent-without-document",
                    "consent is written (Art. 7.2): the consent carries its document"
                )));
            }
            let item = item(state, case, id)?;
            if signer.party != item.provider_party {
                return Err(Violation::Art7_2_ConsentNotFromProvider {
                    provider: item.provider_party,
                    signer_party: signer.party,
                });
            }
            if third_party.is_none() && purposes.is_empty() {
                return Err(Violation::Art7_Other(crate::detail!(
                    "consent-empty",
                    "a consent must name a third party or further purposes"
                )));
            }
            Ok(())
        }
        Payload::ConsentDenied { item: id, .. } => {
            let item = item(state, case, id)?;
            if signer.party != item.provider_party {
                return Err(Violation::Art7_2_ConsentNotFromProvider {
                    provider: item.provider_party,
                    signer_party: signer.party,
                });
            }
            Ok(())
        }
        Payload::OnwardTransfer {
            item: id,
            third_party,
            consent,
        } => {
            let item = item(state, case, id)?;
            holder(item, signer)?;
            let no = |detail: crate::Detail| Violation::Art7_2_NoConsent {
                third_party: third_party.clone(),
                provider: item.provider_party,
                detail,
            };
            let c = state.consents.get(consent).ok_or_else(|| {
                no(crate::detail!(
                    "no-such-consent",
                    "no consent of the providing Party has event hash {consent}",
                    consent = consent
                ))
            })?;
            if c.item != *id || c.case != case.id {
                return Err(no(crate::detail!(
                    "consent-for-another-item",
                    "the consent referred to is for another item"
                )));
            }
            if c.third_party.as_deref() != Some(third_party.as_str()) {
                return Err(no(match c.third_party.as_deref() {
                    Some(covered) => crate::detail!(
                        "consent-for-another-recipient",
                        "the consent referred to covers {covered}, not this recipient",
                        covered = covered
                    ),
                    None => crate::detail!(
                        "consent-for-no-recipient",
                        "the consent referred to covers further purposes, not passing the information to anyone"
                    ),
                }));
            }
            let authored = ctx.record.event.body.authored_at;
            if !prior(&c.evidence, authored) {
                return Err(no(crate::detail!(
                    "transfer-before-consent",
                    "the transfer was written at {written}, before the consent it relies on was given at {given}: the consent must be prior",
                    written = crate::detail::Arg::Time(authored.0),
                    given = crate::detail::Arg::Time(c.evidence.at.0)
                )));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `purpose`, as the copy `held` has of it if it has one (a clone shares its text).
fn shared(held: &[Purpose], purpose: &Purpose) -> Purpose {
    held.iter()
        .find(|h| *h == purpose)
        .unwrap_or(purpose)
        .clone()
}

pub(super) fn fold(state: &mut State, ctx: &Ctx<'_>, case_id: CaseId, party: Party) {
    let ev = &ctx.evidence;
    let new_items: Vec<Item> = match state.cases.get(&case_id) {
        Some(case) => provisions(ctx.payload, case)
            .into_iter()
            .map(|p| Item {
                id: p.item,
                case: case_id,
                provider: ev.signer().clone(),
                provider_party: party,
                recipient: p.recipient.clone(),
                kind: p.kind,
                restricted: p.restricted,
                // The case's own purposes (the rules hold a permitted purpose to one of
                // them), so that the case, its items and their uses share one copy.
                permitted: p
                    .permitted
                    .iter()
                    .map(|x| shared(&case.purposes, x))
                    .collect(),
                transfer: ev.clone(),
                carried_by: ctx.payload.kind(),
                uses: Vec::new(),
                consent_requests: Vec::new(),
                consents: Vec::new(),
                onward: Vec::new(),
            })
            .collect(),
        None => Vec::new(),
    };
    for i in new_items {
        state.register.insert((case_id, i.id), Arc::new(i));
    }
    let key = |item: &ItemId| (case_id, *item);
    match &ctx.payload {
        Payload::InformationUsed { item, purpose } => {
            let basis = match state.register.get(&key(item)) {
                Some(i) if i.permitted.contains(purpose) => UseBasis::Permitted,
                _ => consent_for_purpose(
                    state,
                    &case_id,
                    item,
                    purpose,
                    ctx.record.event.body.authored_at,
                )
                .cloned()
                .map_or(UseBasis::Permitted, |e| UseBasis::Consent(Box::new(e))),
            };
            if let Some(i) = state.register.get_mut(&key(item)).map(Arc::make_mut) {
                let purpose = shared(&i.permitted, purpose);
                push_tight(
                    &mut i.uses,
                    Use {
                        purpose,
                        evidence: ev.clone(),
                        basis,
                    },
                );
            }
        }
        Payload::ConsentRequested { item, .. } => {
            if let Some(i) = state.register.get_mut(&key(item)).map(Arc::make_mut) {
                push_tight(&mut i.consent_requests, ev.clone());
            }
        }
        Payload::ConsentGranted {
            item,
            third_party,
            purposes,
            ..
        } => {
            state.consents.insert(
                ev.event_hash,
                Consent {
                    case: case_id,
                    item: *item,
                    third_party: third_party.clone(),
                    purposes: purposes.clone(),
                    evidence: ev.clone(),
                },
            );
            if let Some(i) = state.register.get_mut(&key(item)).map(Arc::make_mut) {
                push_tight(
                    &mut i.consents,
                    ConsentDecision {
                        granted: true,
                        third_party: third_party.clone(),
                        purposes: purposes.clone(),
                        evidence: ev.clone(),
                    },
                );
            }
        }
        Payload::ConsentDenied { item, third_party } => {
            if let Some(i) = state.register.get_mut(&key(item)).map(Arc::make_mut) {
                push_tight(
                    &mut i.consents,
                    ConsentDecision {
                        granted: false,
                        third_party: third_party.clone(),
                        purposes: Vec::new(),
                        evidence: ev.clone(),
                    },
                );
            }
        }
        Payload::OnwardTransfer {
            item,
            third_party,
            consent,
        } => {
            let consent = state.consents.get(consent).map(|c| c.evidence.clone());
            if let (Some(i), Some(consent)) = (
                state.register.get_mut(&key(item)).map(Arc::make_mut),
                consent,
            ) {
                push_tight(
                    &mut i.onward,
                    Onward {
                        third_party: third_party.clone(),
                        evidence: ev.clone(),
                        consent,
                    },
                );
            }
        }
        _ => {}
    }
}
