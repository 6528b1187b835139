//! One case: its detail (read from its records), deadlines judged at a time, the timeline, and what changed between two points.

use super::*;

/// Where a deadline stands at the time a view describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// Met on time.
    Met,
    /// Met, after it was due.
    Late,
    /// Unmet and past due.
    Overdue,
    /// Unmet, not yet due.
    Pending,
}

/// A deadline, judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DeadlineView {
    /// What for.
    #[schemars(with = "coop_wire::schema::DeadlineKind")]
    pub kind: DeadlineKind,
    /// The clause and words.
    pub clause: &'static str,
    /// The record that opened it.
    pub opened_seq: u64,
    /// Due (ms).
    #[schemars(with = "coop_wire::schema::Timestamp")]
    pub due: Timestamp,
    /// Met at (ms).
    #[schemars(with = "Option<coop_wire::schema::Timestamp>")]
    pub met_at: Option<Timestamp>,
    /// Where it stands.
    pub state: DeadlineState,
}

impl DeadlineView {
    /// A deadline judged at `now`.
    pub fn of(d: &Deadline, now: Timestamp) -> DeadlineView {
        let state = match d.met_at {
            Some(m) if m > d.due => DeadlineState::Late,
            Some(_) => DeadlineState::Met,
            None if now > d.due => DeadlineState::Overdue,
            None => DeadlineState::Pending,
        };
        DeadlineView {
            kind: d.kind,
            clause: d.kind.describe(),
            opened_seq: d.opened_seq,
            due: d.due,
            met_at: d.met_at,
            state,
        }
    }
}

/// A case as the views show it: the state's case (its steps) with its timeline and the
/// documents its events carry, both read from its records. The state keeps no copy of
/// either (ADR 0020); this view's JSON is the case's v1 shape, with `steps` added.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct CaseDetail {
    /// The case as the state keeps it.
    #[serde(flatten)]
    #[schemars(with = "coop_wire::schema::Case")]
    pub case: Case,
    /// Every event of the case, with its signer and key.
    #[schemars(with = "Vec<coop_wire::schema::TimelineEntry>")]
    pub timeline: Vec<TimelineEntry>,
    /// The documents its events carry, in the order they came (Art. 4.2 documents, cost
    /// arrangement terms, Art. 8 documents).
    #[schemars(with = "Vec<coop_wire::schema::DocumentRef>")]
    pub documents: Vec<DocumentRef>,
}

impl std::ops::Deref for CaseDetail {
    type Target = Case;
    fn deref(&self) -> &Case {
        &self.case
    }
}

/// The record of each step of `case`, in order, from `record` (a lookup by seq). Every
/// view of a case needs them all: a source that lacks one (damaged, or a copy that left
/// it out) is an error, never a shorter timeline.
pub(super) fn case_records<'a>(
    case: &'a Case,
    mut record: impl FnMut(u64) -> Result<Option<Record>, LedgerError> + 'a,
) -> impl Iterator<Item = Result<Record, LedgerError>> + 'a {
    case.steps.iter().map(move |step| {
        record(step.seq)?.ok_or_else(|| {
            LedgerError::Store(coop_store::StoreError::Corrupt {
                seq: Some(step.seq),
                what: format!("record {} of case {} is not held", step.seq, case.id),
            })
        })
    })
}

/// The timeline and documents of `case`, read from `source`.
pub fn detail(source: &dyn ReadSource, case: &Case) -> Result<CaseDetail, LedgerError> {
    detail_from(case, |seq| source.record(seq))
}

/// The timeline and documents of `case`, its records looked up by seq with `record` (an
/// evidence bundle's, say).
pub fn detail_from(
    case: &Case,
    record: impl FnMut(u64) -> Result<Option<Record>, LedgerError>,
) -> Result<CaseDetail, LedgerError> {
    let mut timeline = Vec::with_capacity(case.steps.len());
    let mut documents = Vec::new();
    for r in case_records(case, record) {
        let r = r?;
        let decoded = coop_treaty::Decoded::of(&r.event).map_err(|violation| {
            LedgerError::InvalidHistory {
                seq: r.seq,
                violation,
            }
        })?;
        timeline.push(TimelineEntry::of(&r, &decoded));
        documents.extend(
            coop_treaty::case_documents(&decoded.payload)
                .into_iter()
                .cloned(),
        );
    }
    Ok(CaseDetail {
        case: case.clone(),
        timeline,
        documents,
    })
}

/// One case as it stood.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct CaseView {
    /// The ledger size the case describes.
    pub as_of_size: u64,
    /// The time deadlines are judged at (ms).
    #[schemars(with = "coop_wire::schema::Timestamp")]
    pub now: Timestamp,
    /// The case.
    pub case: CaseDetail,
    /// Its deadlines, judged.
    pub deadlines: Vec<DeadlineView>,
    /// Its deadlines missed at that time (or met late).
    #[schemars(with = "Vec<coop_wire::schema::Deadline>")]
    pub overdue: Vec<Deadline>,
}

/// Case `id` at `at`, if it existed then and `viewer` may see it; its timeline and
/// documents read from `source`.
pub fn case(
    source: &dyn ReadSource,
    at: &At,
    id: &CaseId,
    viewer: Viewer<'_>,
) -> Result<Option<CaseView>, LedgerError> {
    let Some(c) = at.state.cases.get(id).filter(|c| visible(c, viewer)) else {
        return Ok(None);
    };
    Ok(Some(CaseView {
        as_of_size: at.state.size,
        now: at.now,
        deadlines: c
            .deadlines
            .iter()
            .map(|d| DeadlineView::of(d, at.now))
            .collect(),
        overdue: c.overdue_at(at.now).into_iter().cloned().collect(),
        case: detail(source, c)?,
    }))
}

/// A case's timeline.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct TimelineView {
    /// The ledger size the timeline describes.
    pub as_of_size: u64,
    /// The case's events in order.
    #[schemars(with = "Vec<coop_wire::schema::TimelineEntry>")]
    pub timeline: Vec<TimelineEntry>,
}

/// Case `id`'s timeline at `at`, read from `source`.
pub fn timeline(
    source: &dyn ReadSource,
    at: &At,
    id: &CaseId,
    viewer: Viewer<'_>,
) -> Result<Option<TimelineView>, LedgerError> {
    let Some(c) = at.state.cases.get(id).filter(|c| visible(c, viewer)) else {
        return Ok(None);
    };
    Ok(Some(TimelineView {
        as_of_size: at.state.size,
        timeline: detail(source, c)?.timeline,
    }))
}

/// What changed in a case between an earlier point and a later one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CaseChange {
    /// The case.
    #[schemars(with = "coop_wire::schema::CaseId")]
    pub id: CaseId,
    /// Its status then (`None`: it did not exist yet).
    pub status_then: Option<&'static str>,
    /// Its status at the later point.
    pub status_now: &'static str,
    /// Events added since.
    pub new_events: u64,
}

/// The cases that changed between `then` and `later` (new events or a new status).
pub fn changes(then: &State, later: &State, viewer: Viewer<'_>) -> Vec<CaseChange> {
    later
        .cases
        .values()
        .filter(|c| visible(c, viewer))
        .filter_map(|c| {
            let before = then.cases.get(&c.id);
            let new_events = c.version - before.map_or(0, |b| b.version);
            (new_events > 0).then(|| CaseChange {
                id: c.id,
                status_then: before.map(|b| b.status.word()),
                status_now: c.status.word(),
                new_events,
            })
        })
        .collect()
}
