//! Art. 1, 2 and 4.1–4.2: requests (which open cases), Art. 1.2 agreements on other
//! crimes, Art. 4.2 language arrangements, and Art. 2.3–2.6 cooperation.

use super::Ctx;
use crate::model::{CrimeCategory, DocRole, DocumentRef, Form, Language, Party};
use crate::payload::{Payload, Request, Role};
use crate::state::{
    Case, CaseStatus, CategoryAgreement, Deadline, DeadlineKind, LanguageArrangement, Registered,
    State, push_tight,
};
use crate::violation::Violation;
use coop_core::AuthorityId;
use std::sync::Arc;

fn not_terminated(state: &State, ctx: &Ctx<'_>) -> Result<(), Violation> {
    match &state.agreement.termination {
        Some(t) if t.effective_at <= ctx.at() => Err(Violation::Art10_Terminated(t.effective_at.0)),
        _ => Ok(()),
    }
}

/// `id` must be an active competent authority of `party`.
fn counterpart<'s>(
    state: &'s State,
    id: &AuthorityId,
    party: Party,
) -> Result<&'s Registered, crate::Detail> {
    let a = state.authority(id).ok_or_else(|| {
        crate::detail!(
            "not-registered",
            "{id} is not a registered authority",
            id = id
        )
    })?;
    if a.role != Role::Competent {
        return Err(crate::detail!(
            "not-competent",
            "{id} is not a competent authority",
            id = id
        ));
    }
    if a.party != party {
        return Err(crate::detail!(
            "of-other-party",
            "{id} belongs to {belongs}, not to {party}",
            id = id,
            belongs = a.party,
            party = party
        ));
    }
    if a.retired_at.is_some() {
        return Err(crate::detail!("retired", "{id} has been retired", id = id));
    }
    Ok(a)
}

/// The languages of the arrangement a request cites (the event hash of its acceptance),
/// which must be between the request's two authorities.
pub(super) fn cited_arrangement<'s>(
    state: &'s State,
    cited: &coop_core::Hash,
    requester: &AuthorityId,
    requested: &AuthorityId,
) -> Result<&'s [Language], Violation> {
    let l = state.language_arrangement(cited).ok_or_else(|| {
        Violation::Art4_2_Language(crate::detail!(
            "not-an-arrangement",
            "the request cites {cited}, which is not the acceptance of a language arrangement",
            cited = cited
        ))
    })?;
    let between = (l.proposer == *requester && l.with == *requested)
        || (l.proposer == *requested && l.with == *requester);
    if !between {
        return Err(Violation::Art4_2_Language(crate::detail!(
            "arrangement-of-others",
            "the arrangement {cited} is between {proposer} and {with}, not between {requester} and {requested}",
            cited = cited,
            proposer = &l.proposer,
            with = &l.with,
            requester = requester,
            requested = requested
        )));
    }
    Ok(&l.languages)
}

/// Art. 4.2, for every communication that carries documents (a request with all its
/// element documents, its written confirmation, and every later communication in a
/// case: the one rule, [`crate::rules::languages`] lists what each payload carries).
/// Unless the two authorities' arrangement (`arranged`, the languages of the one the
/// case's request cited) names the languages to use, every document that is not a
/// translation is drawn up in the author's state language, and each is accompanied by a
/// translation into the other Party's language or Russian.
pub(super) fn check_languages(
    arranged: Option<&[Language]>,
    author: Party,
    documents: &[&DocumentRef],
) -> Result<(), Violation> {
    match language_problems(arranged, author, documents)
        .into_iter()
        .next()
    {
        Some(v) => Err(v),
        None => Ok(()),
    }
}

/// Every Art. 4.2 problem of `documents`, in document order: what [`check_languages`]
/// refuses first, and the rest (a draft is told of all of them at once).
pub(crate) fn language_problems(
    arranged: Option<&[Language]>,
    author: Party,
    documents: &[&DocumentRef],
) -> Vec<Violation> {
    if let Some(langs) = arranged {
        return documents
            .iter()
            .filter(|d| !langs.contains(&d.language))
            .map(|d| {
                Violation::Art4_2_Language(crate::detail!(
                    "outside-arrangement",
                    "document {document} is in {language}, outside the languages the authorities agreed ({agreed})",
                    document = d.digest,
                    language = d.language,
                    agreed = langs
                ))
            })
            .collect();
    }
    let own = author.state_language();
    let target = author.other().state_language();
    let mut out = Vec::new();
    for d in documents
        .iter()
        .filter(|d| !matches!(d.role, DocRole::TranslationOf(_)))
    {
        if d.language != own {
            out.push(Violation::Art4_2_NotInStateLanguage {
                document: d.digest,
                language: d.language,
                own,
            });
            continue;
        }
        let translated = documents.iter().any(|t| {
            t.role == DocRole::TranslationOf(d.digest)
                && (t.language == target || t.language == Language::Ru)
        });
        if !translated {
            out.push(Violation::Art4_2_MissingTranslation {
                document: d.digest,
                target,
            });
        }
    }
    out
}

fn check_elements(r: &Request) -> Result<&AuthorityId, Violation> {
    if let Some(v) = element_problems(r).into_iter().next() {
        return Err(v);
    }
    r.elements
        .requested_authority
        .as_ref()
        .ok_or(Violation::Art4_1_1MissingRequestedAuthority)
}

/// Every Art. 4.1 element a request lacks or gets wrong, in the Article's order: what
/// [`check_elements`] refuses first, and the rest.
pub(crate) fn element_problems(r: &Request) -> Vec<Violation> {
    let e = &r.elements;
    let mut out = Vec::new();
    if e.requested_authority.is_none() {
        out.push(Violation::Art4_1_1MissingRequestedAuthority);
    }
    if e.grounds.is_none() {
        out.push(Violation::Art4_1_2MissingGrounds(crate::detail!(
            "lacks-grounds",
            "a reasoned statement of its grounds"
        )));
    }
    if e.requesting_service.trim().is_empty() {
        out.push(Violation::Art4_1_2MissingGrounds(crate::detail!(
            "lacks-requesting-service",
            "the name of the requesting service"
        )));
    }
    if e.requested_service.trim().is_empty() {
        out.push(Violation::Art4_1_2MissingGrounds(crate::detail!(
            "lacks-requested-service",
            "the name of the requested service"
        )));
    }
    if e.case_description.is_none() {
        out.push(Violation::Art4_1_3MissingCaseDescription);
    }
    if e.content.is_none() {
        out.push(Violation::Art4_1_4MissingContent);
    }
    match &e.decision_copy {
        None => out.push(Violation::Art4_1_5MissingDecisionCopy),
        Some(d) if d.role != DocRole::CertifiedCopy => {
            out.push(Violation::Art4_1_5NotCertified(d.digest));
        }
        Some(_) => {}
    }
    match &e.legal_provision {
        None => out.push(Violation::Art4_1_5MissingLegalProvision),
        Some(d) if d.role != DocRole::LegalProvisionText => {
            out.push(Violation::Art4_1_5NotLegalProvision(d.digest));
        }
        Some(_) => {}
    }
    out
}

/// A request's purposes (Art. 7.2) and its oral form (Art. 4.1): each problem, in order.
pub(crate) fn purpose_problems(r: &Request) -> Vec<Violation> {
    let mut out = Vec::new();
    if r.purposes.is_empty() || r.purposes.iter().any(|p| p.0.trim().is_empty()) {
        out.push(Violation::Art7_Other(crate::detail!(
            "request-without-purposes",
            "a request must state the purposes its information may serve (Art. 7.2)"
        )));
    }
    if r.oral && !r.urgent {
        out.push(Violation::Art4_1_Oral(crate::detail!(
            "oral-not-urgent",
            "a prior oral request is allowed only when urgent execution is needed"
        )));
    }
    out
}

pub(super) fn check(state: &State, ctx: &Ctx<'_>, signer: &Registered) -> Result<(), Violation> {
    let other = signer.party.other();
    match &ctx.payload {
        Payload::CategoryAgreed { with, description } => {
            not_terminated(state, ctx)?;
            counterpart(state, with, other).map_err(Violation::Art1_2_NoAgreement)?;
            if description.trim().is_empty() {
                return Err(Violation::Art1_2_NoAgreement(crate::detail!(
                    "category-undescribed",
                    "the agreement must describe the crime"
                )));
            }
            Ok(())
        }
        Payload::Request(r) => {
            not_terminated(state, ctx)?;
            let case = ctx
                .record
                .event
                .body
                .case
                .ok_or(Violation::CaseRequired("request"))?;
            if state.cases.contains_key(&case.case_id) {
                return Err(Violation::CaseExists);
            }
            if case.expected_version != 0 {
                return Err(Violation::VersionConflict {
                    expected: case.expected_version,
                    actual: 0,
                });
            }
            let requested = check_elements(r)?;
            counterpart(state, requested, other).map_err(Violation::Art4_1_WrongRecipient)?;
            if let CrimeCategory::Other(h) = r.category {
                let a = state.category_agreements.get(&h).ok_or_else(|| {
                    Violation::Art1_2_NoAgreement(crate::detail!(
                        "no-such-category-agreement",
                        "no recorded agreement has event hash {h}",
                        h = h
                    ))
                })?;
                if a.party != other || a.with != signer.id {
                    return Err(Violation::Art1_2_NoAgreement(crate::detail!(
                        "category-agreement-of-others",
                        "the agreement {h} was not given by {other} to {signer}",
                        h = h,
                        other = other,
                        signer = &signer.id
                    )));
                }
            }
            if !matches!(r.form, Form::ExecuteRequest | Form::ExchangeInformation(_)) {
                return Err(Violation::Art2_Form(crate::detail!(
                    "request-form",
                    "a request asks for execution (2.1) or information (2.2); record other forms as other cooperation"
                )));
            }
            if r.wanted_person_search && r.form != Form::ExecuteRequest {
                return Err(Violation::Art1_3_Search(crate::detail!(
                    "search-is-execution",
                    "a wanted-person search is a request for execution (Art. 2.1)"
                )));
            }
            if let Some(v) = purpose_problems(r).into_iter().next() {
                return Err(v);
            }
            let arranged = r
                .language_arrangement
                .as_ref()
                .map(|h| cited_arrangement(state, h, &signer.id, requested))
                .transpose()?;
            // A prior oral request (Art. 4.1) is made orally: Art. 4.2's written documents
            // and their translations come with its written confirmation, and are judged
            // there (docs/TREATY.md, Art. 4.2; FORMAT.md §11.3).
            if r.oral {
                return Ok(());
            }
            check_languages(arranged, signer.party, &super::languages::of(ctx.payload))
        }
        Payload::LanguageArrangementProposed { with, languages } => {
            counterpart(state, with, other).map_err(Violation::Art4_2_Language)?;
            if languages.is_empty() {
                return Err(Violation::Art4_2_Language(crate::detail!(
                    "arrangement-without-language",
                    "a language arrangement must name at least one language"
                )));
            }
            Ok(())
        }
        Payload::LanguageArrangementAccepted { proposal } => {
            let p = state.language_arrangements.get(proposal).ok_or_else(|| {
                Violation::Art4_2_Language(crate::detail!(
                    "no-arrangement-proposal",
                    "there is no language arrangement proposal {proposal}",
                    proposal = proposal
                ))
            })?;
            if p.with != signer.id {
                return Err(Violation::Art4_2_Language(crate::detail!(
                    "arrangement-accepted-by-other",
                    "only {with} can accept this arrangement",
                    with = &p.with
                )));
            }
            if p.accepted.is_some() {
                return Err(Violation::Art4_2_Language(crate::detail!(
                    "arrangement-accepted",
                    "the arrangement is already accepted"
                )));
            }
            Ok(())
        }
        Payload::OtherCooperation { form, with, .. } => {
            not_terminated(state, ctx)?;
            if matches!(form, Form::ExecuteRequest | Form::ExchangeInformation(_)) {
                return Err(Violation::Art2_Form(crate::detail!(
                    "other-cooperation-form",
                    "executing requests and exchanging information go through a request and its case"
                )));
            }
            counterpart(state, with, other).map_err(Violation::Art2_Form)?;
            Ok(())
        }
        _ => Ok(()),
    }
}

pub(super) fn fold(state: &mut State, ctx: &Ctx<'_>, party: Option<Party>) {
    let Some(party) = party else { return };
    let ev = &ctx.evidence;
    match &ctx.payload {
        Payload::CategoryAgreed { with, description } => {
            state.category_agreements.insert(
                ev.event_hash,
                CategoryAgreement {
                    by: ev.signer().clone(),
                    party,
                    with: with.clone(),
                    description: description.clone(),
                    evidence: ev.clone(),
                },
            );
        }
        Payload::Request(r) => {
            let (Some(case), Some(requested)) = (
                ctx.record.event.body.case,
                r.elements.requested_authority.clone(),
            ) else {
                return;
            };
            let params = state.params_at(ctx.at());
            let mut deadlines = Vec::new();
            if r.oral {
                push_tight(
                    &mut deadlines,
                    Deadline {
                        kind: DeadlineKind::OralConfirmation,
                        opened_seq: ctx.seq(),
                        due: coop_core::Timestamp(
                            ctx.at().0.saturating_add(params.oral_confirmation_ms),
                        ),
                        met_at: None,
                    },
                );
            }
            state.cases.insert(
                case.case_id,
                Arc::new(Case {
                    id: case.case_id,
                    requester: ev.signer().clone(),
                    requester_party: party,
                    requested,
                    category: r.category,
                    form: r.form,
                    wanted_person_search: r.wanted_person_search,
                    purposes: r.purposes.clone(),
                    urgent: r.urgent,
                    language_arrangement: r.language_arrangement,
                    oral: r.oral,
                    confirmed: !r.oral,
                    status: CaseStatus::Open,
                    version: 1,
                    opened_at: ctx.at(),
                    steps: vec![ctx.step()],
                    deadlines,
                    costs: Vec::new(),
                    cost_arrangement: None,
                    disputes: Default::default(),
                    search_outcome: None,
                    partly_refused: false,
                    final_answer: None,
                }),
            );
        }
        Payload::LanguageArrangementProposed { with, languages } => {
            state.language_arrangements.insert(
                ev.event_hash,
                LanguageArrangement {
                    proposer: ev.signer().clone(),
                    with: with.clone(),
                    languages: languages.clone(),
                    proposal: ev.clone(),
                    accepted: None,
                },
            );
        }
        Payload::LanguageArrangementAccepted { proposal } => {
            if let Some(p) = state.language_arrangements.get_mut(proposal) {
                p.accepted = Some(ev.clone());
                state.language_acceptances.insert(ev.event_hash, *proposal);
            }
        }
        Payload::OtherCooperation { form, with, .. } => {
            state
                .other_cooperation
                .push_back((*form, with.clone(), ev.clone()));
        }
        _ => {}
    }
}
