//! An authority's desk: its inbox (every act the Agreement now asks of it, with the
//! article, the deadline and the time left, overdue first) and its outbox (its own
//! requests, and what each waits for).
//!
//! Key decision: both are computed from the state alone — a case's status, steps and
//! deadlines, and the Article 7 register — in one pass over the cases the authority is
//! party to, so they mean the same thing live, as of any earlier point, and in a copy
//! an auditor verified; nothing is stored beside the ledger. The act an item asks for
//! is named by the payload kinds that would do it, which is what the console's compose
//! forms are keyed by.

use super::*;
use coop_treaty::{CaseStatus, Item, ItemId};

/// What an inbox entry asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Act {
    /// Art. 4.1, 4.5: accept the request (acknowledge it), or refuse it with grounds.
    AnswerRequest,
    /// Art. 4.4, 4.6: execute the accepted request and report, or refuse the rest with
    /// reasons.
    Execute,
    /// Art. 4.1: confirm the oral request in writing.
    ConfirmOral,
    /// Art. 4.3: provide the additional information the requesting authority asked for
    /// (asked of the requested authority).
    ProvideInfo,
    /// Art. 7.2: grant or deny the consent asked for.
    DecideConsent,
    /// Art. 5: accept (or leave) the other Party's cost arrangement.
    AcceptCosts,
    /// Art. 8: consult on the dispute, or settle it.
    Consult,
    /// The request was answered: nothing more is asked; close the case when done.
    Close,
}

impl Act {
    /// Every act, in the order an inbox filter lists them.
    pub const ALL: [Act; 8] = [
        Act::AnswerRequest,
        Act::Execute,
        Act::ConfirmOral,
        Act::ProvideInfo,
        Act::DecideConsent,
        Act::AcceptCosts,
        Act::Consult,
        Act::Close,
    ];

    /// The filter word (`answer-request`, …).
    pub fn word(self) -> &'static str {
        match self {
            Act::AnswerRequest => "answer-request",
            Act::Execute => "execute",
            Act::ConfirmOral => "confirm-oral",
            Act::ProvideInfo => "provide-info",
            Act::DecideConsent => "decide-consent",
            Act::AcceptCosts => "accept-costs",
            Act::Consult => "consult",
            Act::Close => "close",
        }
    }

    /// The act of a filter word.
    pub fn of_word(w: &str) -> Option<Act> {
        Act::ALL.into_iter().find(|a| a.word() == w)
    }

    /// The clause that asks for it.
    pub fn article(self) -> &'static str {
        match self {
            Act::AnswerRequest => "Art. 4.1, 4.5",
            Act::Execute => "Art. 4.4, 4.6",
            Act::ConfirmOral => "Art. 4.1",
            Act::ProvideInfo => "Art. 4.3",
            Act::DecideConsent => "Art. 7.2",
            Act::AcceptCosts => "Art. 5",
            Act::Consult => "Art. 8",
            Act::Close => "Art. 4",
        }
    }

    /// The payload kinds that do it, the usual one first.
    pub fn kinds(self) -> &'static [&'static str] {
        match self {
            Act::AnswerRequest => &["Acknowledged", "Refused"],
            Act::Execute => &["ExecutionReported", "InformationTransferred", "Refused"],
            Act::ConfirmOral => &["OralRequestConfirmed"],
            Act::ProvideInfo => &["AdditionalInfoProvided"],
            Act::DecideConsent => &["ConsentGranted", "ConsentDenied"],
            Act::AcceptCosts => &["CostArrangementAccepted"],
            Act::Consult => &["ConsultationHeld", "DisputeSettled"],
            Act::Close => &["CaseClosed"],
        }
    }
}

/// One act asked of the authority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Task {
    /// The case.
    #[schemars(with = "coop_wire::schema::CaseId")]
    pub case: CaseId,
    /// What is asked.
    pub act: Act,
    /// The clause that asks for it.
    pub article: &'static str,
    /// The payload kinds that would do it (the compose forms' keys).
    pub kinds: &'static [&'static str],
    /// The other authority of the case.
    #[schemars(with = "coop_wire::schema::AuthorityId")]
    pub other: AuthorityId,
    /// The item of information, for a consent.
    #[schemars(with = "Option<coop_wire::schema::ItemId>")]
    pub item: Option<ItemId>,
    /// The record that asked for it.
    pub asked_seq: u64,
    /// When it was asked (ms).
    #[schemars(with = "coop_wire::schema::Timestamp")]
    pub since: Timestamp,
    /// When it is due (ms), where the Agreement sets a time.
    #[schemars(with = "Option<coop_wire::schema::Timestamp>")]
    pub due: Option<Timestamp>,
    /// Milliseconds left until it is due (negative: overdue by that much).
    pub left_ms: Option<i64>,
    /// Past its deadline.
    pub overdue: bool,
    /// An urgent request.
    pub urgent: bool,
}

/// One request of the authority's, and what it waits for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Waiting {
    /// The case.
    #[schemars(with = "coop_wire::schema::CaseId")]
    pub case: CaseId,
    /// The requested authority.
    #[schemars(with = "coop_wire::schema::AuthorityId")]
    pub requested: AuthorityId,
    /// Status word.
    pub status: &'static str,
    /// What the case waits for, and from whom: the other side's acts first, then this
    /// authority's own (an empty list: answered).
    pub waits_for: Vec<Pending>,
    /// When the request was recorded (ms).
    #[schemars(with = "coop_wire::schema::Timestamp")]
    pub opened_at: Timestamp,
    /// Urgent.
    pub urgent: bool,
}

/// An act a request waits for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Pending {
    /// What.
    pub act: Act,
    /// The clause.
    pub article: &'static str,
    /// Who must do it.
    #[schemars(with = "coop_wire::schema::AuthorityId")]
    pub by: AuthorityId,
    /// When it is due (ms), where the Agreement sets a time.
    #[schemars(with = "Option<coop_wire::schema::Timestamp>")]
    pub due: Option<Timestamp>,
    /// Past its deadline.
    pub overdue: bool,
}

/// What an inbox lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeskQuery {
    /// Only this act.
    pub act: Option<Act>,
    /// Only overdue entries.
    pub overdue: bool,
    /// Entries to skip.
    pub offset: usize,
    /// At most this many (0: [`DEFAULT_PAGE`]).
    pub limit: usize,
}

impl DeskQuery {
    /// The parameters an inbox takes.
    pub const KEYS: [&'static str; 4] = ["act", "overdue", "offset", "limit"];

    /// From query-string pairs: an unknown key or value is an error, never ignored;
    /// `ignore` lists keys the caller reads itself. A blank value (a form's empty field)
    /// means "any".
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        ignore: &[&str],
    ) -> Result<DeskQuery, QueryError> {
        let mut q = DeskQuery::default();
        for (k, v) in pairs {
            if ignore.contains(&k) || (v.is_empty() && DeskQuery::KEYS.contains(&k)) {
                continue;
            }
            match k {
                "act" => {
                    q.act = Some(Act::of_word(v).ok_or_else(|| {
                        QueryError::Word(coop_treaty::UnknownWord {
                            what: "act",
                            given: v.to_owned(),
                            expected: Act::ALL.iter().map(|a| a.word()).collect(),
                        })
                    })?);
                }
                "overdue" => q.overdue = CaseFilter::flag("overdue", v)?,
                "offset" => q.offset = number("offset", v)?,
                "limit" => q.limit = page_limit(v)?,
                _ => {
                    return Err(QueryError::Key {
                        given: k.to_owned(),
                        known: DeskQuery::KEYS
                            .iter()
                            .chain(ignore)
                            .map(|k| k.to_string())
                            .collect(),
                    });
                }
            }
        }
        Ok(q)
    }
}

/// A page of an inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Inbox {
    /// Whose.
    #[schemars(with = "coop_wire::schema::AuthorityId")]
    pub authority: AuthorityId,
    /// The ledger size it describes.
    pub as_of_size: u64,
    /// The time deadlines are judged at (ms).
    #[schemars(with = "coop_wire::schema::Timestamp")]
    pub now: Timestamp,
    /// Entries that match (all pages).
    pub total: usize,
    /// Of them, overdue.
    pub overdue: usize,
    /// Entries skipped before this page.
    pub offset: usize,
    /// The offset of the next page, if any.
    pub next_offset: Option<usize>,
    /// Overdue first (the longest overdue first), then by deadline, then the oldest.
    pub tasks: Vec<Task>,
}

/// A page of an outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Outbox {
    /// Whose.
    #[schemars(with = "coop_wire::schema::AuthorityId")]
    pub authority: AuthorityId,
    /// The ledger size it describes.
    pub as_of_size: u64,
    /// Requests not closed (all pages).
    pub total: usize,
    /// Entries skipped before this page.
    pub offset: usize,
    /// The offset of the next page, if any.
    pub next_offset: Option<usize>,
    /// The oldest request first.
    pub requests: Vec<Waiting>,
}

fn deadline(now: Timestamp, due: Option<Timestamp>) -> (Option<i64>, bool) {
    match due {
        Some(d) => {
            let left = i64::try_from(d.0)
                .unwrap_or(i64::MAX)
                .saturating_sub(i64::try_from(now.0).unwrap_or(i64::MAX));
            (Some(left), left < 0)
        }
        None => (None, false),
    }
}

/// The unmet deadline of `kind` in `case`, with the record that opened it.
fn unmet(case: &Case, kind: DeadlineKind) -> Option<&Deadline> {
    case.deadlines
        .iter()
        .find(|d| d.kind == kind && d.met_at.is_none())
}

/// Every act `case` asks of either side now: (who must act, act, record that asked,
/// asked at, due). One definition for the inbox and the outbox.
fn asks(at: &At, case: &Case) -> Vec<(AuthorityId, Act, u64, Timestamp, Option<Timestamp>)> {
    let mut out = Vec::new();
    if case.status == CaseStatus::Closed {
        return out;
    }
    let first = case.steps.first().map_or(0, |s| s.seq);
    let step_time = |seq: u64| case.steps.iter().find(|s| s.seq == seq).map(|s| s.at);
    if case.final_answer.is_none() {
        match case.status {
            CaseStatus::Open => {
                // Art. 4.6 "immediately": the reasons for a refusal are due within
                // refusal_notice_ms of the request.
                let ms = at.state.params_at(case.opened_at).refusal_notice_ms;
                out.push((
                    case.requested.clone(),
                    Act::AnswerRequest,
                    first,
                    case.opened_at,
                    Some(Timestamp(case.opened_at.0.saturating_add(ms))),
                ));
            }
            CaseStatus::Acknowledged | CaseStatus::PartlyRefused => {
                let last = case
                    .steps
                    .iter()
                    .rev()
                    .find(|s| matches!(s.kind.name(), "acknowledged" | "refused"))
                    .map_or((first, case.opened_at), |s| (s.seq, s.at));
                out.push((case.requested.clone(), Act::Execute, last.0, last.1, None));
            }
            _ => {}
        }
    } else {
        out.push((
            case.requester.clone(),
            Act::Close,
            case.final_answer.as_ref().map_or(first, |f| f.seq),
            case.final_answer.as_ref().map_or(case.opened_at, |f| f.at),
            None,
        ));
    }
    if case.oral
        && !case.confirmed
        && let Some(d) = unmet(case, DeadlineKind::OralConfirmation)
    {
        let since = step_time(d.opened_seq).unwrap_or(case.opened_at);
        out.push((
            case.requester.clone(),
            Act::ConfirmOral,
            d.opened_seq,
            since,
            Some(d.due),
        ));
    }
    // Art. 4.3: the requesting authority asks; the requested one provides.
    if let Some(d) = unmet(case, DeadlineKind::AdditionalInfo) {
        let since = step_time(d.opened_seq).unwrap_or(case.opened_at);
        out.push((
            case.requested.clone(),
            Act::ProvideInfo,
            d.opened_seq,
            since,
            Some(d.due),
        ));
    }
    if let Some(c) = &case.cost_arrangement
        && c.accepted.is_none()
    {
        let other = if c.proposer == case.requester_party {
            case.requested.clone()
        } else {
            case.requester.clone()
        };
        out.push((other, Act::AcceptCosts, c.proposal.seq, c.proposal.at, None));
    }
    for d in case.disputes.values().filter(|d| d.settled.is_none()) {
        let last = d.consultations.last().unwrap_or(&d.raised);
        for who in [&case.requester, &case.requested] {
            out.push((who.clone(), Act::Consult, last.seq, last.at, None));
        }
    }
    out
}

/// Consents asked of `me` as a provider and not yet decided: (item, case, asked by).
fn consents_asked<'a>(at: &'a At, me: &'a AuthorityId) -> impl Iterator<Item = &'a Item> + 'a {
    at.state.register.values().map(|i| &**i).filter(move |i| {
        &i.provider == me
            && i.consent_requests.last().is_some_and(|r| {
                i.consents
                    .last()
                    .is_none_or(|decided| decided.evidence.seq < r.seq)
            })
    })
}

fn order(a: &Task, b: &Task) -> std::cmp::Ordering {
    // Overdue first, the longest overdue first; then by deadline; then undated, oldest
    // first.
    let key = |t: &Task| (!t.overdue, t.due.is_none(), t.due.map(|d| d.0), t.since.0);
    key(a).cmp(&key(b)).then(a.case.cmp(&b.case))
}

/// The inbox of `me` at `at`: every act asked of it in a case it is party to.
pub fn inbox(at: &At, me: &AuthorityId, q: &DeskQuery) -> Inbox {
    let mut all: Vec<Task> = Vec::new();
    for c in at.state.cases.values() {
        if &c.requester != me && &c.requested != me {
            continue;
        }
        let other = if &c.requester == me {
            &c.requested
        } else {
            &c.requester
        };
        for (who, act, asked_seq, since, due) in asks(at, c) {
            if &who != me {
                continue;
            }
            let (left_ms, overdue) = deadline(at.now, due);
            all.push(Task {
                case: c.id,
                act,
                article: act.article(),
                kinds: act.kinds(),
                other: other.clone(),
                item: None,
                asked_seq,
                since,
                due,
                left_ms,
                overdue,
                urgent: c.urgent,
            });
        }
    }
    for i in consents_asked(at, me) {
        if let Some(r) = i.consent_requests.last() {
            all.push(Task {
                case: i.case,
                act: Act::DecideConsent,
                article: Act::DecideConsent.article(),
                kinds: Act::DecideConsent.kinds(),
                other: i.recipient.clone(),
                item: Some(i.id),
                asked_seq: r.seq,
                since: r.at,
                due: None,
                left_ms: None,
                overdue: false,
                urgent: at.state.cases.get(&i.case).is_some_and(|c| c.urgent),
            });
        }
    }
    all.retain(|t| q.act.is_none_or(|a| t.act == a) && (!q.overdue || t.overdue));
    all.sort_by(order);
    let overdue = all.iter().filter(|t| t.overdue).count();
    let limit = if q.limit == 0 { DEFAULT_PAGE } else { q.limit };
    let (tasks, total, next_offset) = page_of(all, q.offset, limit);
    Inbox {
        authority: me.clone(),
        as_of_size: at.state.size,
        now: at.now,
        total,
        overdue,
        offset: q.offset,
        next_offset,
        tasks,
    }
}

/// The outbox of `me` at `at`: its requests not closed, oldest first, with what each
/// waits for.
pub fn outbox(at: &At, me: &AuthorityId, offset: usize, limit: usize) -> Outbox {
    let mut all: Vec<Waiting> = at
        .state
        .cases
        .values()
        .filter(|c| &c.requester == me && c.status != CaseStatus::Closed)
        .map(|c| {
            let mut waits_for: Vec<Pending> = asks(at, c)
                .into_iter()
                .filter(|(_, act, ..)| *act != Act::Close)
                .map(|(by, act, _, _, due)| Pending {
                    act,
                    article: act.article(),
                    overdue: deadline(at.now, due).1,
                    by,
                    due,
                })
                .collect();
            waits_for.sort_by_key(|p| &p.by == me);
            Waiting {
                case: c.id,
                requested: c.requested.clone(),
                status: c.status.word(),
                waits_for,
                opened_at: c.opened_at,
                urgent: c.urgent,
            }
        })
        .collect();
    all.sort_by_key(|w| (w.opened_at.0, w.case));
    let limit = if limit == 0 { DEFAULT_PAGE } else { limit };
    let (requests, total, next_offset) = page_of(all, offset, limit);
    Outbox {
        authority: me.clone(),
        as_of_size: at.state.size,
        total,
        offset,
        next_offset,
        requests,
    }
}
