//! Article 4.4 and Article 7: transfers, uses, consents, onward transfers. The compliance
//! core: every use has a permitted purpose or a consent of the providing Party; every
//! onward transfer relies on an earlier written consent of the providing Party covering
//! this item and this third party.

use super::Ctx;
use super::cases::participant;
use crate::model::{ItemId, Party, Purpose};
use crate::payload::Payload;
use crate::state::{
    Case, CaseStatus, ConsentDecision, Evidence, Item, Onward, Registered, State, Use, UseBasis,
};
use crate::violation::Violation;
use coop_core::CaseId;

fn item<'s>(state: &'s State, case: &Case, id: &ItemId) -> Result<&'s Item, Violation> {
    state
        .register
        .get(id)
        .filter(|i| i.case == case.id)
        .ok_or_else(|| Violation::Art7_UnknownItem(id.to_string()))
}

fn recipient_side(item: &Item, signer: &Registered, what: &str) -> Result<(), Violation> {
    if signer.party == item.provider_party {
        return Err(Violation::Art7_Other(format!(
            "{what} is for the receiving Party ({}); {} belongs to the providing Party",
            item.provider_party.other(),
            signer.id
        )));
    }
    Ok(())
}

/// The consent of the providing Party that covers `purpose` for `item`, if any.
pub(crate) fn consent_for_purpose<'s>(
    state: &'s State,
    item: &ItemId,
    purpose: &Purpose,
) -> Option<&'s Evidence> {
    state
        .consents
        .values()
        .find(|(i, _, purposes, _)| i == item && purposes.contains(purpose))
        .map(|(_, _, _, ev)| ev)
}

pub(super) fn check(
    state: &State,
    ctx: &Ctx<'_>,
    case: &Case,
    signer: &Registered,
) -> Result<(), Violation> {
    match &ctx.payload {
        Payload::InformationTransferred {
            item: id,
            recipient,
            permitted_purposes,
            no_state_secret,
            ..
        } => {
            participant(case, signer)?;
            if case.status == CaseStatus::Closed {
                return Err(Violation::CaseClosed);
            }
            if !no_state_secret {
                return Err(Violation::Art4_4_StateSecret);
            }
            let expected = if signer.id == case.requester {
                &case.requested
            } else {
                &case.requester
            };
            if recipient != expected {
                return Err(Violation::Art7_Other(format!(
                    "information in this case goes from {} to {expected}, not to {recipient}",
                    signer.id
                )));
            }
            if state.register.contains_key(id) {
                return Err(Violation::Art7_Other(
                    "this information item id is already registered".into(),
                ));
            }
            if permitted_purposes.is_empty() {
                return Err(Violation::Art7_Other(
                    "a transfer must state the purposes it may serve (those of the request)".into(),
                ));
            }
            if let Some(p) = permitted_purposes
                .iter()
                .find(|p| !case.purposes.contains(p))
            {
                return Err(Violation::Art7_Other(format!(
                    "\"{}\" is not a purpose stated in the request (Art. 7.2)",
                    p.0
                )));
            }
            Ok(())
        }
        Payload::InformationUsed { item: id, purpose } => {
            let item = item(state, case, id)?;
            recipient_side(item, signer, "use of information")?;
            if item.permitted.contains(purpose) || consent_for_purpose(state, id, purpose).is_some()
            {
                Ok(())
            } else {
                Err(Violation::Art7_2_PurposeNotPermitted {
                    purpose: purpose.0.clone(),
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
            recipient_side(item, signer, "asking for consent")?;
            if third_party.is_none() && purposes.is_empty() {
                return Err(Violation::Art7_Other(
                    "a consent request must name a third party or further purposes".into(),
                ));
            }
            Ok(())
        }
        Payload::ConsentGranted {
            item: id,
            third_party,
            purposes,
            ..
        } => {
            let item = item(state, case, id)?;
            if signer.party != item.provider_party {
                return Err(Violation::Art7_2_ConsentNotFromProvider {
                    provider: item.provider_party,
                    signer_party: signer.party,
                });
            }
            if third_party.is_none() && purposes.is_empty() {
                return Err(Violation::Art7_Other(
                    "a consent must name a third party or further purposes".into(),
                ));
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
            recipient_side(item, signer, "passing information on")?;
            let no = |detail: String| Violation::Art7_2_NoConsent {
                third_party: third_party.clone(),
                provider: item.provider_party,
                detail,
            };
            let (c_item, c_third, _, _) = state.consents.get(consent).ok_or_else(|| {
                no(format!(
                    "no consent of the providing Party has event hash {consent}"
                ))
            })?;
            if c_item != id {
                return Err(no("the consent referred to is for another item".into()));
            }
            if c_third.as_deref() != Some(third_party.as_str()) {
                return Err(no(format!(
                    "the consent referred to covers {}, not this recipient",
                    c_third.as_deref().unwrap_or("no third party")
                )));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

pub(super) fn fold(state: &mut State, ctx: &Ctx<'_>, case_id: CaseId, party: Party) {
    let ev = &ctx.evidence;
    match &ctx.payload {
        Payload::InformationTransferred {
            item,
            recipient,
            kind,
            restricted,
            permitted_purposes,
            ..
        } => {
            state.register.insert(
                *item,
                Item {
                    id: *item,
                    case: case_id,
                    provider: ev.signer.clone(),
                    provider_party: party,
                    recipient: recipient.clone(),
                    kind: *kind,
                    restricted: *restricted,
                    permitted: permitted_purposes.clone(),
                    transfer: ev.clone(),
                    uses: Vec::new(),
                    consent_requests: Vec::new(),
                    consents: Vec::new(),
                    onward: Vec::new(),
                },
            );
        }
        Payload::InformationUsed { item, purpose } => {
            let basis = match state.register.get(item) {
                Some(i) if i.permitted.contains(purpose) => UseBasis::Permitted,
                _ => consent_for_purpose(state, item, purpose)
                    .cloned()
                    .map_or(UseBasis::Permitted, UseBasis::Consent),
            };
            if let Some(i) = state.register.get_mut(item) {
                i.uses.push(Use {
                    purpose: purpose.clone(),
                    evidence: ev.clone(),
                    basis,
                });
            }
        }
        Payload::ConsentRequested { item, .. } => {
            if let Some(i) = state.register.get_mut(item) {
                i.consent_requests.push(ev.clone());
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
                (*item, third_party.clone(), purposes.clone(), ev.clone()),
            );
            if let Some(i) = state.register.get_mut(item) {
                i.consents.push(ConsentDecision {
                    granted: true,
                    third_party: third_party.clone(),
                    purposes: purposes.clone(),
                    evidence: ev.clone(),
                });
            }
        }
        Payload::ConsentDenied { item, third_party } => {
            if let Some(i) = state.register.get_mut(item) {
                i.consents.push(ConsentDecision {
                    granted: false,
                    third_party: third_party.clone(),
                    purposes: Vec::new(),
                    evidence: ev.clone(),
                });
            }
        }
        Payload::OnwardTransfer {
            item,
            third_party,
            consent,
        } => {
            let consent = state.consents.get(consent).map(|(_, _, _, e)| e.clone());
            if let (Some(i), Some(consent)) = (state.register.get_mut(item), consent) {
                i.onward.push(Onward {
                    third_party: third_party.clone(),
                    evidence: ev.clone(),
                    consent,
                });
            }
        }
        _ => {}
    }
}
