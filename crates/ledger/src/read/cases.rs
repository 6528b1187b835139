//! The case list: who may see which case, rows and pages.

use super::*;

/// The viewer a reader of `role` is: a competent authority sees its own cases; roots,
/// auditors (and a witness, where it may read at all) see every one. The one rule the
/// API's signed reads and the console's sessions share.
pub fn viewer_of<'a>(role: Role, id: &'a AuthorityId) -> Viewer<'a> {
    (role == Role::Competent).then_some(id)
}

pub(super) fn visible(c: &Case, viewer: Viewer<'_>) -> bool {
    viewer.is_none_or(|v| &c.requester == v || &c.requested == v)
}

/// One case in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CaseRow {
    /// Case id (hex).
    #[schemars(with = "coop_wire::schema::CaseId")]
    pub id: CaseId,
    /// Status word (`open`, `acknowledged`, `partly-refused`, `refused`, `executed`,
    /// `closed`).
    pub status: &'static str,
    /// Category word.
    pub category: &'static str,
    /// Requesting authority.
    #[schemars(with = "coop_wire::schema::AuthorityId")]
    pub requester: AuthorityId,
    /// Its Party.
    #[schemars(with = "coop_wire::schema::Party")]
    pub requester_party: Party,
    /// Requested authority.
    #[schemars(with = "coop_wire::schema::AuthorityId")]
    pub requested: AuthorityId,
    /// Urgent.
    pub urgent: bool,
    /// When the request was recorded (ms).
    #[schemars(with = "coop_wire::schema::Timestamp")]
    pub opened_at: Timestamp,
    /// Events in the case.
    pub events: u64,
    /// The last event's time (ms).
    #[schemars(with = "coop_wire::schema::Timestamp")]
    pub last_at: Timestamp,
    /// Deadlines overdue (or met late) at the time the list describes.
    pub overdue: usize,
    /// Disputes raised.
    pub disputes: usize,
}

impl CaseRow {
    /// The row of a case, deadlines judged at `now`.
    pub fn of(c: &Case, now: Timestamp) -> CaseRow {
        CaseRow {
            id: c.id,
            status: c.status.word(),
            category: category_word(&c.category),
            requester: c.requester.clone(),
            requester_party: c.requester_party,
            requested: c.requested.clone(),
            urgent: c.urgent,
            opened_at: c.opened_at,
            events: c.version,
            last_at: c.steps.last().map_or(c.opened_at, |t| t.at),
            overdue: c.overdue_at(now).len(),
            disputes: c.disputes.len(),
        }
    }
}

/// A page of cases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CasePage {
    /// The ledger size the list describes (the as-of point, or the head).
    pub as_of_size: u64,
    /// Cases that match (all pages).
    pub total: usize,
    /// Cases skipped before this page.
    pub offset: usize,
    /// The page size.
    pub limit: usize,
    /// The offset of the next page, if there is one.
    pub next_offset: Option<usize>,
    /// The cases on this page, by case id.
    pub cases: Vec<CaseRow>,
}

/// Every case `viewer` may see that matches `q` (its filter words, authority and
/// search; not its page), in case-id order.
pub fn matching<'a>(at: &'a At, q: &CaseQuery, viewer: Viewer<'_>) -> Vec<&'a Case> {
    at.state
        .cases
        .values()
        .map(|c| &**c)
        .filter(|c| visible(c, viewer) && q.matches(c, at.now))
        .collect()
}

/// One page of `all`: the items from `offset`, at most `limit`; with the total and the
/// offset of the next page, if any.
pub fn page_of<T>(all: Vec<T>, offset: usize, limit: usize) -> (Vec<T>, usize, Option<usize>) {
    let total = all.len();
    let items: Vec<T> = all.into_iter().skip(offset).take(limit).collect();
    let end = offset.saturating_add(items.len());
    (items, total, (end < total).then_some(end))
}

/// The cases `viewer` may see that match `q`, one page of them (default
/// [`DEFAULT_PAGE`]).
pub fn cases(at: &At, q: &CaseQuery, viewer: Viewer<'_>) -> CasePage {
    let limit = if q.limit == 0 { DEFAULT_PAGE } else { q.limit };
    let (page, total, next_offset) = page_of(matching(at, q, viewer), q.offset, limit);
    CasePage {
        as_of_size: at.state.size,
        total,
        offset: q.offset,
        limit,
        next_offset,
        cases: page.into_iter().map(|c| CaseRow::of(c, at.now)).collect(),
    }
}
