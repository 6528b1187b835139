//! The demo's cast and cases: both Parties' roots, three competent authorities each, an
//! auditor and two witnesses; and a case script for every kind of cooperation the
//! Agreement knows, built and signed the way an agency's own system would.

use anyhow::Context as _;
use coop_core::event::CaseRef;
use coop_core::{AuthorityId, CaseId, EventId, Hash, LedgerId, SecretKey, SignedEvent, Timestamp};
use coop_treaty::{
    CrimeCategory, DocRole, DocumentRef, Extent, Form, InfoKind, Information, ItemId, Language,
    Party, Payload, Purpose, RefusalGround, Request, RequestElements, SearchOutcome,
};

/// A registered party of the demo and its key.
#[derive(Debug)]
pub struct Actor {
    pub id: AuthorityId,
    pub party: Party,
    pub name: &'static str,
    pub key: SecretKey,
}

impl Actor {
    pub fn new(
        id: &str,
        party: Party,
        name: &'static str,
        key: SecretKey,
    ) -> anyhow::Result<Actor> {
        Ok(Actor {
            id: AuthorityId::new(id)?,
            party,
            name,
            key,
        })
    }
}

/// A document reference for synthetic text (the demo holds no real case files).
pub fn doc(text: &str, language: Language, role: DocRole) -> DocumentRef {
    DocumentRef {
        digest: Hash(*blake3::hash(text.as_bytes()).as_bytes()),
        size: 2_000 + text.len() as u64,
        media_type: "application/pdf".into(),
        language,
        role,
    }
}

/// Builds the events of one case in order, tracking the case version.
#[derive(Debug)]
pub struct CaseBuilder {
    ledger: LedgerId,
    pub case: CaseId,
    number: u64,
    time: u64,
    pub events: Vec<SignedEvent>,
    /// Where the events that rely on an earlier one having landed begin (Art. 7.2: a use
    /// or an onward transfer under a *prior* consent): they are signed only once it has
    /// (`after_landing`).
    pub split: Option<usize>,
    /// The author's clock for the events after `split`, once they are signed for real.
    tail_time: Option<u64>,
}

impl CaseBuilder {
    pub fn new(ledger: LedgerId, number: u64, time: u64) -> CaseBuilder {
        CaseBuilder {
            ledger,
            case: case_id(ledger, number),
            number,
            time,
            events: Vec::new(),
            split: None,
            tail_time: None,
        }
    }

    /// Signs the next event of the case as `by`; returns its event hash.
    pub fn push(&mut self, by: &Actor, payload: &Payload) -> anyhow::Result<Hash> {
        let step = self.events.len() as u64;
        let ev = coop_treaty::Draft {
            signer: by.id.clone(),
            ledger: Some(self.ledger),
            event_id: event_id(self.ledger, self.number, step),
            at: Timestamp(self.time + step),
            case: Some(CaseRef {
                case_id: self.case,
                expected_version: step,
            }),
            answers: vec![],
            payload,
        }
        .sign(&by.key)?;
        let h = ev.event_hash()?;
        self.events.push(ev);
        Ok(h)
    }

    /// The events pushed after this rely on those before having landed: a driver submits
    /// the events before `split` first and signs the rest afterwards (build the case again
    /// with the time then, and take its events from `split`). An author may not date an
    /// event ahead of the ledger's clock to make a consent look prior (docs/TREATY.md,
    /// Time).
    pub fn after_landing(&mut self) {
        self.split.get_or_insert(self.events.len());
        if let Some(t) = self.tail_time {
            self.time = t;
        }
    }

    /// An item id for this case.
    pub fn item(&self, n: u8) -> ItemId {
        let mut id = self.case.0;
        id[15] ^= n.wrapping_add(1);
        ItemId(id)
    }
}

/// The id of case `number`: blake3("case", ledger id, number), first 16 bytes.
pub fn case_id(ledger: LedgerId, number: u64) -> CaseId {
    let mut h = blake3::Hasher::new();
    h.update(b"case");
    h.update(ledger.0.as_bytes());
    h.update(&number.to_be_bytes());
    let mut id = [0u8; 16];
    id.copy_from_slice(&h.finalize().as_bytes()[..16]);
    CaseId(id)
}

/// A unique event id: blake3(ledger id, case number, step), first 16 bytes.
pub fn event_id(ledger: LedgerId, number: u64, step: u64) -> EventId {
    let mut h = blake3::Hasher::new();
    h.update(ledger.0.as_bytes());
    h.update(&number.to_be_bytes());
    h.update(&step.to_be_bytes());
    let mut id = [0u8; 16];
    id.copy_from_slice(&h.finalize().as_bytes()[..16]);
    EventId(id)
}

/// The kinds of case the demo runs, in rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Request, transfer, use, full execution.
    Executed,
    /// Urgent oral request confirmed in writing.
    OralConfirmed,
    /// Urgent oral request never confirmed (its deadline will show as overdue).
    OralUnconfirmed,
    /// Additional information requested and provided (Art. 4.3).
    AdditionalInfo,
    /// Refused in full with grounds and reasons.
    Refused,
    /// Refused in part, executed in part.
    Partial,
    /// Wanted-person search (Art. 1.3).
    WantedPerson,
    /// Consent granted, onward transfer, use for the consented purpose (Art. 7.2).
    Onward,
    /// Consent denied.
    ConsentDenied,
    /// Costs and a cost arrangement (Art. 5).
    Costs,
    /// A dispute raised, consulted on and settled (Art. 8).
    Dispute,
    /// Exchange of information, still awaiting an answer.
    Pending,
}

impl Kind {
    const ROTATION: [Kind; 20] = [
        Kind::Executed,
        Kind::OralConfirmed,
        Kind::AdditionalInfo,
        Kind::Executed,
        Kind::Refused,
        Kind::Partial,
        Kind::WantedPerson,
        Kind::Onward,
        Kind::Executed,
        Kind::Costs,
        Kind::ConsentDenied,
        Kind::Executed,
        Kind::Dispute,
        Kind::Pending,
        Kind::Executed,
        Kind::OralUnconfirmed,
        Kind::AdditionalInfo,
        Kind::Executed,
        Kind::Refused,
        Kind::Onward,
    ];

    pub fn of(n: u64) -> Kind {
        rot(&Kind::ROTATION, n, Kind::Executed)
    }
}

/// The `n`-th element of `items`, cycling.
pub fn rot<T: Copy>(items: &[T], n: u64, fallback: T) -> T {
    let len = items.len().max(1) as u64;
    items.get((n % len) as usize).copied().unwrap_or(fallback)
}

/// Who asks whom in one case.
#[derive(Debug)]
pub struct Pair<'a> {
    pub requester: &'a Actor,
    pub requested: &'a Actor,
    /// An accepted language arrangement between the two (its languages, and the event
    /// hash of its acceptance, which their requests cite) lets them use these languages.
    pub arranged: Option<(Vec<Language>, Hash)>,
    /// Category "other", by this Art. 1.2 agreement.
    pub other_crime: Option<Hash>,
}

const PURPOSE: &str = "criminal investigation";
const CATEGORIES: [CrimeCategory; 14] = CrimeCategory::LISTED;

/// The request of case `n` from `pair`, complete with Art. 4.1's elements and Art. 4.2's
/// documents. `oral`: a prior oral request, whose documents come with the confirmation.
pub fn request(n: u64, pair: &Pair<'_>, kind: Kind, oral: bool) -> Request {
    let own = pair.requester.party.state_language();
    let lang = pair
        .arranged
        .as_ref()
        .and_then(|(l, _)| l.first().copied())
        .unwrap_or(own);
    let d = |what: &str, role| doc(&format!("case {n}: {what}"), lang, role);
    let form = match n % 7 {
        3 if kind != Kind::WantedPerson => Form::ExchangeInformation(InfoKind::OperationalSearch),
        5 if kind != Kind::WantedPerson => Form::ExchangeInformation(InfoKind::Forensic),
        _ => Form::ExecuteRequest,
    };
    let mut r = Request {
        elements: RequestElements {
            requested_authority: Some(pair.requested.id.clone()),
            grounds: Some(d("reasoned grounds", DocRole::Original)),
            requesting_service: format!("{} investigations department", pair.requester.id),
            requested_service: format!(
                "{} international cooperation department",
                pair.requested.id
            ),
            case_description: Some(d("description of the case", DocRole::Original)),
            content: Some(d("content of the request", DocRole::Original)),
            decision_copy: Some(d("certified copy of the decision", DocRole::CertifiedCopy)),
            legal_provision: Some(d(
                "text of the legal provision",
                DocRole::LegalProvisionText,
            )),
        },
        category: pair.other_crime.map_or(
            rot(&CATEGORIES, n, CrimeCategory::Narcotics),
            CrimeCategory::Other,
        ),
        form,
        wanted_person_search: kind == Kind::WantedPerson,
        purposes: vec![Purpose(format!("{PURPOSE} {n}").into())],
        urgent: oral || n.is_multiple_of(9),
        oral,
        documents: Vec::new(),
        language_arrangement: pair.arranged.as_ref().map(|(_, h)| *h),
    };
    if !oral {
        r.documents = documents(n, &r, pair);
    }
    r
}

/// Art. 4.2: a communication of case `n` (`what` it is) written by `author`: in the
/// language the two authorities arranged, if they did; otherwise an original in the
/// author's state language with its translation into the other Party's language (into
/// Russian for every third case).
pub fn written(n: u64, what: &str, author: Party, pair: &Pair<'_>) -> Vec<DocumentRef> {
    if let Some((langs, _)) = &pair.arranged {
        let l = langs.first().copied().unwrap_or(Language::Ru);
        return vec![doc(&format!("case {n}: {what}"), l, DocRole::Original)];
    }
    let original = doc(
        &format!("case {n}: {what}"),
        author.state_language(),
        DocRole::Original,
    );
    let translation = translated(n, &original, author);
    vec![original, translation]
}

/// The translation of `original`, written by `author`'s side, into the other Party's
/// language (into Russian for every third case).
fn translated(n: u64, original: &DocumentRef, author: Party) -> DocumentRef {
    let into = if n.is_multiple_of(3) {
        Language::Ru
    } else {
        author.other().state_language()
    };
    doc(
        &format!("translation of {}", original.digest),
        into,
        DocRole::TranslationOf(original.digest),
    )
}

/// The documents a request carries besides its elements: its covering letter, and the
/// translations of the letter and of every element (Art. 4.2), unless arranged.
pub fn documents(n: u64, r: &Request, pair: &Pair<'_>) -> Vec<DocumentRef> {
    let author = pair.requester.party;
    let mut docs = written(n, "request", author, pair);
    if pair.arranged.is_none() {
        let e = &r.elements;
        docs.extend(
            [
                &e.grounds,
                &e.case_description,
                &e.content,
                &e.decision_copy,
                &e.legal_provision,
            ]
            .into_iter()
            .flatten()
            .map(|d| translated(n, d, author)),
        );
    }
    docs
}

/// All events of case `n`, signed at `time` (the author's clock).
pub fn case_events(
    ledger: LedgerId,
    n: u64,
    time: u64,
    pair: &Pair<'_>,
) -> anyhow::Result<CaseBuilder> {
    case_events_at(ledger, n, time, None, pair)
}

/// [`case_events`], the events after its `split` (those that rely on earlier ones having
/// landed) signed at `tail_time` instead: the same case, ready to finish once the first
/// part is in the ledger.
pub fn case_events_at(
    ledger: LedgerId,
    n: u64,
    time: u64,
    tail_time: Option<u64>,
    pair: &Pair<'_>,
) -> anyhow::Result<CaseBuilder> {
    let kind = Kind::of(n);
    let (req, resp) = (pair.requester, pair.requested);
    let purpose = Purpose(format!("{PURPOSE} {n}").into());
    let mut c = CaseBuilder::new(ledger, n, time);
    c.tail_time = tail_time;
    let oral = matches!(kind, Kind::OralConfirmed | Kind::OralUnconfirmed);
    c.push(
        req,
        &Payload::Request(Box::new(request(n, pair, kind, oral))),
    )
    .context("request")?;
    let transfer = |c: &mut CaseBuilder, i: u8| -> anyhow::Result<ItemId> {
        let item = c.item(i);
        c.push(
            resp,
            &Payload::InformationTransferred {
                item,
                recipient: req.id.clone(),
                kind: rot(
                    &[
                        InfoKind::OperationalSearch,
                        InfoKind::OperationalReference,
                        InfoKind::Forensic,
                        InfoKind::Archival,
                    ],
                    n,
                    InfoKind::Archival,
                ),
                restricted: n.is_multiple_of(2),
                permitted_purposes: vec![purpose.clone()],
                no_state_secret: true,
                documents: written(n, &format!("information {i}"), resp.party, pair),
            },
        )?;
        Ok(item)
    };
    let executed = |c: &mut CaseBuilder| {
        c.push(
            resp,
            &Payload::ExecutionReported {
                extent: Extent::Full,
                reasons: vec![],
                search_outcome: None,
                results: vec![],
            },
        )
    };
    match kind {
        Kind::OralUnconfirmed => {
            c.push(resp, &Payload::Acknowledged)?;
            return Ok(c);
        }
        Kind::OralConfirmed => {
            c.push(
                req,
                &Payload::OralRequestConfirmed {
                    documents: documents(n, &request(n, pair, kind, false), pair),
                },
            )?;
        }
        _ => {}
    }
    match kind {
        Kind::Refused => {
            c.push(
                resp,
                &Payload::Refused {
                    extent: Extent::Full,
                    grounds: if n.is_multiple_of(2) {
                        vec![RefusalGround::NationalLaw]
                    } else {
                        vec![RefusalGround::Security, RefusalGround::EssentialInterests]
                    },
                    reasons: written(n, "reasons for refusal", resp.party, pair),
                },
            )?;
            c.push(req, &Payload::CaseClosed)?;
            return Ok(c);
        }
        Kind::Pending => {
            c.push(resp, &Payload::Acknowledged)?;
            return Ok(c);
        }
        _ => {}
    }
    c.push(resp, &Payload::Acknowledged)?;
    match kind {
        Kind::AdditionalInfo => {
            c.push(
                req,
                &Payload::AdditionalInfoRequested {
                    documents: written(n, "what is missing", req.party, pair),
                },
            )?;
            c.push(
                resp,
                &Payload::AdditionalInfoProvided {
                    information: Information {
                        item: c.item(9),
                        kind: InfoKind::OperationalReference,
                        restricted: true,
                        no_state_secret: true,
                        documents: written(n, "additional information", resp.party, pair),
                    },
                },
            )?;
            let item = transfer(&mut c, 0)?;
            c.push(
                req,
                &Payload::InformationUsed {
                    item,
                    purpose: purpose.clone(),
                },
            )?;
            executed(&mut c)?;
        }
        Kind::Partial => {
            c.push(
                resp,
                &Payload::Refused {
                    extent: Extent::Partial,
                    grounds: vec![RefusalGround::InternationalObligations],
                    reasons: written(n, "reasons for partial refusal", resp.party, pair),
                },
            )?;
            transfer(&mut c, 0)?;
            c.push(
                resp,
                &Payload::ExecutionReported {
                    extent: Extent::Partial,
                    reasons: written(n, "reasons for partial execution", resp.party, pair),
                    search_outcome: None,
                    results: vec![],
                },
            )?;
        }
        Kind::WantedPerson => {
            c.push(
                resp,
                &Payload::ExecutionReported {
                    extent: Extent::Full,
                    reasons: vec![],
                    search_outcome: Some(rot(
                        &[
                            SearchOutcome::Found,
                            SearchOutcome::Detained,
                            SearchOutcome::Arrested,
                            SearchOutcome::InformationProvided,
                            SearchOutcome::NotFound,
                        ],
                        n / 20,
                        SearchOutcome::Found,
                    )),
                    results: vec![],
                },
            )?;
        }
        Kind::Onward => {
            let item = transfer(&mut c, 0)?;
            c.push(
                req,
                &Payload::InformationUsed {
                    item,
                    purpose: purpose.clone(),
                },
            )?;
            let third = if n.is_multiple_of(2) {
                "Prosecutor General's Office of Uzbekistan"
            } else {
                "Interpol General Secretariat"
            };
            let extra = Purpose(format!("joint investigation {n}").into());
            c.push(
                req,
                &Payload::ConsentRequested {
                    item,
                    third_party: Some(third.into()),
                    purposes: vec![extra.clone()],
                },
            )?;
            let consent = c.push(
                resp,
                &Payload::ConsentGranted {
                    item,
                    third_party: Some(third.into()),
                    purposes: vec![extra.clone()],
                    documents: written(n, "written consent", resp.party, pair),
                },
            )?;
            // Art. 7.2: the consent must be *prior*: what relies on it is signed once it
            // has arrived.
            c.after_landing();
            c.push(
                req,
                &Payload::OnwardTransfer {
                    item,
                    third_party: third.into(),
                    consent,
                },
            )?;
            c.push(
                req,
                &Payload::InformationUsed {
                    item,
                    purpose: extra,
                },
            )?;
            executed(&mut c)?;
        }
        Kind::ConsentDenied => {
            let item = transfer(&mut c, 0)?;
            c.push(
                req,
                &Payload::ConsentRequested {
                    item,
                    third_party: Some("a private security company".into()),
                    purposes: vec![],
                },
            )?;
            c.push(
                resp,
                &Payload::ConsentDenied {
                    item,
                    third_party: Some("a private security company".into()),
                },
            )?;
            executed(&mut c)?;
        }
        Kind::Costs => {
            let currency = if resp.party == Party::Kz {
                "KZT"
            } else {
                "TMT"
            };
            c.push(
                resp,
                &Payload::CostRecorded {
                    amount_minor: 1_250_000 + n * 100,
                    currency: currency.into(),
                },
            )?;
            if n % 40 == 9 {
                let proposal = c.push(
                    resp,
                    &Payload::CostArrangementProposed {
                        terms: doc(
                            &format!("case {n}: cost arrangement"),
                            Language::Ru,
                            DocRole::Original,
                        ),
                    },
                )?;
                c.push(req, &Payload::CostArrangementAccepted { proposal })?;
            }
            transfer(&mut c, 0)?;
            executed(&mut c)?;
        }
        Kind::Dispute => {
            let item = transfer(&mut c, 0)?;
            c.push(
                req,
                &Payload::InformationUsed {
                    item,
                    purpose: purpose.clone(),
                },
            )?;
            c.push(
                resp,
                &Payload::ExecutionReported {
                    extent: Extent::Partial,
                    reasons: written(n, "reasons for partial execution", resp.party, pair),
                    search_outcome: None,
                    results: vec![],
                },
            )?;
            c.push(
                req,
                &Payload::DisputeRaised {
                    dispute: 1,
                    subject: doc(
                        &format!("case {n}: dispute over the partial execution"),
                        Language::Ru,
                        DocRole::Original,
                    ),
                },
            )?;
            c.push(
                resp,
                &Payload::ConsultationHeld {
                    dispute: 1,
                    minutes: doc(
                        &format!("case {n}: minutes of the consultation"),
                        Language::Ru,
                        DocRole::Original,
                    ),
                },
            )?;
            c.push(
                req,
                &Payload::DisputeSettled {
                    dispute: 1,
                    outcome: doc(
                        &format!("case {n}: settlement"),
                        Language::Ru,
                        DocRole::Original,
                    ),
                },
            )?;
        }
        _ => {
            let item = transfer(&mut c, 0)?;
            c.push(
                req,
                &Payload::InformationUsed {
                    item,
                    purpose: purpose.clone(),
                },
            )?;
            executed(&mut c)?;
        }
    }
    c.push(req, &Payload::CaseClosed)?;
    Ok(c)
}
