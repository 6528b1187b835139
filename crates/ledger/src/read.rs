//! The one door for reads: every view the CLI, the HTTP API and the console show is
//! built here, from a [`ReadSource`] (a live [`Ledger`](crate::Ledger), or a
//! [`VerifiedCopy`] an auditor's verification produced), as typed values with named
//! fields. Each front end only parses its input, calls one function and renders.
//!
//! Key decision: views are computed from a treaty [`State`] and the time it describes
//! ([`At`]), never from store internals, so the same view means the same thing whether
//! it comes from a node, a follower's copy, an export or an evidence bundle.

use crate::LedgerError;
use crate::ledger::AsOf;
use coop_core::{AuthorityId, CaseId, Hash, LedgerId, Record, Timestamp};
use coop_treaty::{
    Case, CaseFilter, ComplianceSummary, Deadline, DeadlineKind, DocumentRef, Party, Role, State,
    TimelineEntry, UnknownWord, category_word,
};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// A state and the time it describes: the as-of time, the last record's time (as of a
/// record), or the source's time now.
#[derive(Clone, Debug)]
pub struct At {
    /// The projections at that point.
    pub state: State,
    /// The time deadlines are judged at.
    pub now: Timestamp,
    /// The point asked for (`None`: the latest).
    pub as_of: Option<AsOf>,
}

impl At {
    /// The state at `as_of` and the time it describes: the as-of time, the last
    /// record's time (as of a record), or `now` (the latest).
    pub fn new(state: State, as_of: Option<AsOf>, now: impl FnOnce() -> Timestamp) -> At {
        let now = time_of(as_of, &state, now);
        At { state, now, as_of }
    }
}

/// Something the views can be read from.
pub trait ReadSource: Send + Sync {
    /// The ledger's id (none before a genesis).
    fn ledger_id(&self) -> Option<LedgerId>;
    /// Records held.
    fn size(&self) -> Result<u64, LedgerError>;
    /// The state at a point, and the time it describes.
    fn at(&self, as_of: Option<AsOf>) -> Result<At, LedgerError>;
    /// Checkpoints held, oldest first: (size, signed note).
    fn checkpoints(&self) -> Result<Vec<(u64, String)>, LedgerError>;
    /// Record `seq`, if held (a bundle holds only some).
    fn record(&self, seq: u64) -> Result<Option<Record>, LedgerError>;
    /// A registered party as it stands now (its role and current key), without copying
    /// the state.
    fn registered(&self, id: &AuthorityId) -> Option<coop_treaty::Registered>;
}

impl<S: coop_store::Store> ReadSource for crate::Ledger<S> {
    fn ledger_id(&self) -> Option<LedgerId> {
        crate::Ledger::ledger_id(self)
    }

    fn size(&self) -> Result<u64, LedgerError> {
        Ok(self.head()?.size)
    }

    fn at(&self, as_of: Option<AsOf>) -> Result<At, LedgerError> {
        let state = match as_of {
            Some(a) => self.state_as_of(a)?,
            None => self.with_state(Clone::clone)?,
        };
        Ok(At::new(state, as_of, || self.now()))
    }

    fn checkpoints(&self) -> Result<Vec<(u64, String)>, LedgerError> {
        let mut out = Vec::new();
        for size in self.checkpoint_sizes()? {
            if let Some(note) = self.checkpoint(size)? {
                out.push((size, note));
            }
        }
        Ok(out)
    }

    fn record(&self, seq: u64) -> Result<Option<Record>, LedgerError> {
        Ok(crate::Ledger::record(self, seq)?.map(|r| r.record))
    }

    fn registered(&self, id: &AuthorityId) -> Option<coop_treaty::Registered> {
        self.with_state(|s| s.registry.get(id).cloned())
            .ok()
            .flatten()
    }
}

/// The time a state describes: the as-of time, the last record's time, or `now`.
fn time_of(as_of: Option<AsOf>, state: &State, now: impl FnOnce() -> Timestamp) -> Timestamp {
    match as_of {
        Some(AsOf::Time(t)) => t,
        Some(AsOf::Seq(_)) => state.last_time,
        None => now(),
    }
}

/// The last few states rebuilt for earlier points, so that a reader moving between
/// pages at one as-of point does not pay for the replay on each page. A point in the
/// past never changes (the ledger only grows), so nothing here goes stale; only
/// `AsOf::Seq` points are kept for a live ledger (a time may be ahead of its last
/// record).
#[derive(Debug, Default)]
pub struct AsOfCache {
    entries: std::sync::Mutex<std::collections::VecDeque<(AsOf, State)>>,
}

impl AsOfCache {
    /// States kept.
    const KEEP: usize = 4;

    /// The state at `a`: kept, or built by `make` and kept.
    pub fn get_or(
        &self,
        a: AsOf,
        make: impl FnOnce() -> Result<State, LedgerError>,
    ) -> Result<State, LedgerError> {
        if let Ok(e) = self.entries.lock()
            && let Some((_, s)) = e.iter().find(|(k, _)| *k == a)
        {
            return Ok(s.clone());
        }
        let state = make()?;
        if let Ok(mut e) = self.entries.lock() {
            if e.len() >= Self::KEEP {
                e.pop_front();
            }
            e.push_back((a, state.clone()));
        }
        Ok(state)
    }
}

impl Clone for AsOfCache {
    fn clone(&self) -> AsOfCache {
        AsOfCache::default()
    }
}

/// What a verification established about a copy: shown on every page and printout of
/// the console, so that a paper copy can be tied to a verified state.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Verdict {
    /// `ledger` (a ledger directory, a follower's copy or an export) or `bundle` (an
    /// evidence bundle of one case).
    pub kind: String,
    /// Records verified (for a bundle: the records it holds).
    pub records: u64,
    /// The checkpoint the copy was verified against: its size.
    pub checkpoint_size: u64,
    /// Its root.
    pub checkpoint_root: Hash,
    /// Witnesses whose cosignatures on it verified: (id, Party).
    pub cosigned_by: Vec<(String, Party)>,
    /// Whether the auditor pinned the genesis's node key.
    pub node_key_pinned: bool,
    /// Strict signature checks made.
    pub signatures: u64,
    /// When the verification ran (ms since the epoch).
    pub verified_at: u64,
    /// Records after the last checkpoint (valid, but not covered by a signed statement).
    pub uncovered: u64,
}

/// A copy of a ledger (or of one case's evidence) that passed offline verification:
/// what `coopledger console` shows. It holds the verified records, so any earlier point
/// is rebuilt by replaying them, exactly as the verifier did.
#[derive(Clone, Debug)]
pub struct VerifiedCopy {
    ledger_id: LedgerId,
    /// In seq order; a bundle's are sparse (the positions between them skipped).
    records: Vec<Record>,
    state: State,
    checkpoints: Vec<(u64, String)>,
    /// The verdict.
    pub verdict: Verdict,
    /// The bundle's case, for a bundle.
    pub case: Option<CaseId>,
    cache: AsOfCache,
}

impl VerifiedCopy {
    /// A whole ledger that verified, with the records and checkpoint notes the verifier
    /// passed (its observer's `record` and `checkpoint`).
    pub fn of_ledger(
        v: coop_verify::Verified,
        records: Vec<Record>,
        checkpoints: Vec<String>,
        verified_at: u64,
    ) -> VerifiedCopy {
        let last = v.checkpoints.iter().max_by_key(|c| c.checkpoint.size);
        let verdict = Verdict {
            kind: "ledger".into(),
            records: v.size,
            checkpoint_size: last.map_or(0, |c| c.checkpoint.size),
            checkpoint_root: last.map_or(Hash::ZERO, |c| c.checkpoint.root),
            cosigned_by: last.map(|c| c.cosigned_by.clone()).unwrap_or_default(),
            node_key_pinned: v.node_key_pinned,
            signatures: v.signatures,
            verified_at,
            uncovered: v.uncovered(),
        };
        let checkpoints = checkpoints
            .into_iter()
            .filter_map(|n| Some((note_size(&n)?, n)))
            .collect();
        VerifiedCopy {
            ledger_id: v.ledger_id,
            records,
            state: v.state,
            checkpoints,
            verdict,
            case: None,
            cache: AsOfCache::default(),
        }
    }

    /// Verifies a whole ledger from `source` (a ledger directory's journal or an
    /// export) exactly as `coopledger verify` does, keeping the records and checkpoints
    /// that passed; `progress` hears (done, total) as it goes.
    pub fn verify(
        source: &mut (dyn coop_verify::Source + Send),
        options: &coop_verify::Options,
        progress: &mut dyn FnMut(u64, Option<u64>),
        verified_at: u64,
    ) -> Result<VerifiedCopy, coop_verify::VerifyError> {
        struct Keep<'a> {
            records: Vec<Record>,
            notes: Vec<String>,
            progress: &'a mut dyn FnMut(u64, Option<u64>),
        }
        impl coop_verify::Observer for Keep<'_> {
            fn progress(&mut self, done: u64, total: Option<u64>) {
                (self.progress)(done, total);
            }
            fn record(&mut self, r: &coop_core::SealedRecord) -> Result<(), String> {
                self.records.push(r.record.clone());
                Ok(())
            }
            fn checkpoint(&mut self, note: &str) -> Result<(), String> {
                self.notes.push(note.to_owned());
                Ok(())
            }
        }
        let mut keep = Keep {
            records: Vec::new(),
            notes: Vec::new(),
            progress,
        };
        let v = coop_verify::verify(source, options, &mut keep)?;
        Ok(VerifiedCopy::of_ledger(
            v,
            keep.records,
            keep.notes,
            verified_at,
        ))
    }

    /// An evidence bundle that verified.
    pub fn of_bundle(
        b: coop_verify::VerifiedBundle,
        note: String,
        verified_at: u64,
    ) -> VerifiedCopy {
        let verdict = Verdict {
            kind: "bundle".into(),
            records: b.records.len() as u64,
            checkpoint_size: b.checkpoint.checkpoint.size,
            checkpoint_root: b.checkpoint.checkpoint.root,
            cosigned_by: b.checkpoint.cosigned_by.clone(),
            node_key_pinned: b.node_key_pinned,
            signatures: b.records.len() as u64,
            verified_at,
            uncovered: 0,
        };
        VerifiedCopy {
            ledger_id: b.ledger_id,
            checkpoints: vec![(b.checkpoint.checkpoint.size, note)],
            records: b.records,
            state: b.state,
            verdict,
            case: Some(b.case),
            cache: AsOfCache::default(),
        }
    }
}

/// The size a checkpoint note states (its second line).
fn note_size(note: &str) -> Option<u64> {
    note.lines().nth(1)?.trim().parse().ok()
}

impl VerifiedCopy {
    /// The state just after `a`, by replaying the copy's records (a bundle's with the
    /// positions between them skipped), exactly as the verifier did.
    fn replay(&self, a: AsOf) -> Result<State, LedgerError> {
        if let AsOf::Seq(seq) = a
            && seq >= self.state.size
        {
            return Err(LedgerError::BadQuery(format!(
                "the ledger has no record {seq}"
            )));
        }
        let mut state = State::default();
        for r in &self.records {
            let past = match a {
                AsOf::Seq(seq) => r.seq > seq,
                AsOf::Time(t) => r.received_at > t,
            };
            if past {
                break;
            }
            state.skip_to(r.seq);
            state
                .step(r)
                .map_err(|violation| LedgerError::InvalidHistory {
                    seq: r.seq,
                    violation,
                })?;
        }
        Ok(state)
    }
}

impl ReadSource for VerifiedCopy {
    fn ledger_id(&self) -> Option<LedgerId> {
        Some(self.ledger_id)
    }

    fn size(&self) -> Result<u64, LedgerError> {
        Ok(self.state.size)
    }

    /// A copy has no clock of its own: "now" is its last record's time.
    fn at(&self, as_of: Option<AsOf>) -> Result<At, LedgerError> {
        let state = match as_of {
            None => self.state.clone(),
            Some(a) => self.cache.get_or(a, || self.replay(a))?,
        };
        let last = self.state.last_time;
        Ok(At::new(state, as_of, || last))
    }

    fn checkpoints(&self) -> Result<Vec<(u64, String)>, LedgerError> {
        Ok(self.checkpoints.clone())
    }

    fn record(&self, seq: u64) -> Result<Option<Record>, LedgerError> {
        Ok(self
            .records
            .binary_search_by_key(&seq, |r| r.seq)
            .ok()
            .and_then(|i| self.records.get(i))
            .cloned())
    }

    fn registered(&self, id: &AuthorityId) -> Option<coop_treaty::Registered> {
        self.state.registry.get(id).cloned()
    }
}

/// A question the caller asked badly: a word, a key or a number the views do not know.
/// Fix the request (HTTP 400).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A filter value that is not one of the known words.
    #[error(transparent)]
    Word(#[from] UnknownWord),
    /// A parameter the view does not take.
    #[error("unknown parameter {given:?}; known: {}", known.join(", "))]
    Key {
        /// What was given.
        given: String,
        /// What is known.
        known: Vec<String>,
    },
    /// A malformed value.
    #[error("{0}")]
    Value(String),
}

/// Parses an as-of point: a record's seq, or an RFC 3339 time (`2026-03-01T12:00:00Z`;
/// a time without a zone is UTC).
pub fn parse_as_of(s: &str) -> Result<AsOf, QueryError> {
    let s = s.trim();
    if let Ok(seq) = s.parse::<u64>() {
        return Ok(AsOf::Seq(seq));
    }
    // A browser's datetime-local field gives minutes only ("2026-03-01T12:00").
    let padded;
    let s = if s.len() == 16 && s.as_bytes().get(10) == Some(&b'T') {
        padded = format!("{s}:00");
        padded.as_str()
    } else {
        s
    };
    let t = humantime::parse_rfc3339_weak(s).map_err(|_| {
        QueryError::Value(format!(
            "{s:?} is neither a record seq nor an RFC 3339 time"
        ))
    })?;
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| QueryError::Value(format!("{s:?} is before 1970")))?
        .as_millis();
    u64::try_from(ms)
        .map(|ms| AsOf::Time(Timestamp(ms)))
        .map_err(|_| QueryError::Value(format!("{s:?} is too far ahead")))
}

/// Parses a case id (32 hex digits).
pub fn parse_case(s: &str) -> Result<CaseId, QueryError> {
    CaseId::from_hex(s)
        .map_err(|_| QueryError::Value(format!("{s:?} is not a case id (32 hex digits)")))
}

/// Most cases one page may hold.
pub const MAX_PAGE: usize = 1000;
/// Cases on a page when none is asked for.
pub const DEFAULT_PAGE: usize = 50;

/// Which cases, and which page of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseQuery {
    /// The treaty's filter words.
    pub filter: CaseFilter,
    /// Only cases this authority requested or was asked in.
    pub authority: Option<AuthorityId>,
    /// Only cases whose id, authorities, category or purposes contain this text
    /// (case-insensitive).
    pub search: Option<String>,
    /// Cases skipped.
    pub offset: usize,
    /// Page size (at most [`MAX_PAGE`]; 0 means [`DEFAULT_PAGE`]).
    pub limit: usize,
}

impl CaseQuery {
    /// The parameters [`CaseQuery::parse`] takes (besides the as-of ones, which the
    /// caller reads).
    pub const KEYS: [&'static str; 8] = [
        "status",
        "category",
        "overdue",
        "disputed",
        "authority",
        "q",
        "offset",
        "limit",
    ];

    /// From query-string pairs. An unknown key or value is an error, never ignored;
    /// `ignore` lists keys another part of the caller reads (as-of, language).
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        ignore: &[&str],
    ) -> Result<CaseQuery, QueryError> {
        let mut q = CaseQuery::default();
        for (k, v) in pairs {
            // An empty value (a form's blank field) means "any".
            if ignore.contains(&k) || (v.is_empty() && CaseQuery::KEYS.contains(&k)) {
                continue;
            }
            match k {
                "status" => q.filter.status = Some(CaseFilter::status_word(v)?),
                "category" => q.filter.category = Some(CaseFilter::category_word(v)?),
                "overdue" => q.filter.overdue = CaseFilter::flag("overdue", v)?,
                "disputed" => q.filter.disputed = CaseFilter::flag("disputed", v)?,
                "authority" => {
                    q.authority =
                        Some(AuthorityId::new(v).map_err(|e| QueryError::Value(e.to_string()))?);
                }
                "q" => q.search = Some(v.to_owned()),
                "offset" => q.offset = number("offset", v)?,
                "limit" => {
                    let n = number("limit", v)?;
                    if n > MAX_PAGE {
                        return Err(QueryError::Value(format!(
                            "limit {n} is more than {MAX_PAGE}"
                        )));
                    }
                    q.limit = n;
                }
                _ => {
                    return Err(QueryError::Key {
                        given: k.to_owned(),
                        known: CaseQuery::KEYS
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

    fn matches(&self, c: &Case, now: Timestamp) -> bool {
        self.filter.matches(c, now)
            && self
                .authority
                .as_ref()
                .is_none_or(|a| &c.requester == a || &c.requested == a)
            && self.search.as_deref().is_none_or(|s| {
                let s = s.to_lowercase();
                c.id.to_hex().contains(&s)
                    || c.requester.as_str().to_lowercase().contains(&s)
                    || c.requested.as_str().to_lowercase().contains(&s)
                    || category_word(&c.category).contains(&s)
                    || c.purposes.iter().any(|p| p.0.to_lowercase().contains(&s))
            })
    }
}

fn number(what: &str, v: &str) -> Result<usize, QueryError> {
    v.parse()
        .map_err(|_| QueryError::Value(format!("{what} {v:?} is not a number")))
}

/// Who is reading, for what a competent authority may see (its own cases); `None`: a
/// reader who sees every case (an auditor, a Party's root, the console over a copy).
pub type Viewer<'a> = Option<&'a AuthorityId>;

/// The viewer a reader of `role` is: a competent authority sees its own cases; roots,
/// auditors (and a witness, where it may read at all) see every one. The one rule the
/// API's signed reads and the console's sessions share.
pub fn viewer_of<'a>(role: Role, id: &'a AuthorityId) -> Viewer<'a> {
    (role == Role::Competent).then_some(id)
}

fn visible(c: &Case, viewer: Viewer<'_>) -> bool {
    viewer.is_none_or(|v| &c.requester == v || &c.requested == v)
}

/// One case in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CaseRow {
    /// Case id (hex).
    pub id: CaseId,
    /// Status word (`open`, `acknowledged`, `partly-refused`, `refused`, `executed`,
    /// `closed`).
    pub status: &'static str,
    /// Category word.
    pub category: &'static str,
    /// Requesting authority.
    pub requester: AuthorityId,
    /// Its Party.
    pub requester_party: Party,
    /// Requested authority.
    pub requested: AuthorityId,
    /// Urgent.
    pub urgent: bool,
    /// When the request was recorded (ms).
    pub opened_at: Timestamp,
    /// Events in the case.
    pub events: u64,
    /// The last event's time (ms).
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
    pub kind: DeadlineKind,
    /// The clause and words.
    pub clause: &'static str,
    /// The record that opened it.
    pub opened_seq: u64,
    /// Due (ms).
    pub due: Timestamp,
    /// Met at (ms).
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
    pub case: Case,
    /// Every event of the case, with its signer and key.
    pub timeline: Vec<TimelineEntry>,
    /// The documents its events carry, in the order they came (Art. 4.2 documents, cost
    /// arrangement terms, Art. 8 documents).
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
fn case_records<'a>(
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
    pub now: Timestamp,
    /// The case.
    pub case: CaseDetail,
    /// Its deadlines, judged.
    pub deadlines: Vec<DeadlineView>,
    /// Its deadlines missed at that time (or met late).
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

/// The ledger at a glance.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Overview {
    /// The ledger id.
    pub ledger_id: Option<LedgerId>,
    /// Records (at the as-of point).
    pub size: u64,
    /// The genesis marks a test ledger.
    pub test_ledger: bool,
    /// The Agreement is in force at the time described.
    pub in_force: bool,
    /// Cases by status word.
    pub cases_by_status: BTreeMap<&'static str, usize>,
    /// Cases with a deadline overdue.
    pub overdue_cases: usize,
    /// Cases with a dispute.
    pub disputed_cases: usize,
    /// Authorities registered.
    pub authorities: usize,
    /// Article 7 items; uses; onward transfers; breaches.
    pub article7: Article7Counts,
    /// The latest checkpoint: its size and note.
    pub latest_checkpoint: Option<(u64, String)>,
}

/// Article 7 totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Article7Counts {
    /// Items of information transferred.
    pub items: usize,
    /// Uses recorded.
    pub uses: usize,
    /// Onward transfers.
    pub onward: usize,
    /// Breaches found.
    pub breaches: usize,
}

impl Article7Counts {
    /// The totals of a report.
    pub fn of(r: &ComplianceSummary) -> Article7Counts {
        let (items, uses, onward, breaches) = r.counts();
        Article7Counts {
            items,
            uses,
            onward,
            breaches,
        }
    }
}

/// The overview of `at` from `source`, its case counts those `viewer` may see.
pub fn overview(
    source: &dyn ReadSource,
    at: &At,
    viewer: Viewer<'_>,
) -> Result<Overview, LedgerError> {
    let s = &at.state;
    let mut by_status = BTreeMap::new();
    let seen = || s.cases.values().filter(move |c| visible(c, viewer));
    for c in seen() {
        *by_status.entry(c.status.word()).or_insert(0) += 1;
    }
    let latest = source
        .checkpoints()?
        .into_iter()
        .rfind(|(size, _)| *size <= s.size);
    Ok(Overview {
        ledger_id: source.ledger_id(),
        size: s.size,
        test_ledger: s.test_ledger,
        in_force: s.agreement.in_force_at(at.now),
        cases_by_status: by_status,
        overdue_cases: seen().filter(|c| !c.overdue_at(at.now).is_empty()).count(),
        disputed_cases: seen().filter(|c| !c.disputes.is_empty()).count(),
        authorities: s.registry.len(),
        article7: Article7Counts::of(&ComplianceSummary::of(s)),
        latest_checkpoint: latest,
    })
}

/// Numbers per month, for the console's charts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Stats {
    /// Requests per month ("2026-03") by category word.
    pub requests_by_month: BTreeMap<String, BTreeMap<&'static str, usize>>,
    /// Requests per month by requesting Party (`kz`, `tm`).
    pub requests_by_direction: BTreeMap<String, BTreeMap<String, usize>>,
    /// Deadlines per month they fell due: (met on time, late or overdue).
    pub deadline_compliance: BTreeMap<String, (usize, usize)>,
    /// Refusals (in full or in part) by Art. 4.5 ground (`Sovereignty`, `NationalLaw`...;
    /// a refusal may give several).
    pub refusals: BTreeMap<String, usize>,
    /// Information items by direction (`kz-tm`: provided by Kazakhstan's authorities to
    /// Turkmenistan's): items, uses, onward transfers.
    pub article7_flows: BTreeMap<String, (usize, usize, usize)>,
}

/// A Party as a word: `kz` or `tm`.
pub fn party_word(p: Party) -> &'static str {
    match p {
        Party::Kz => "kz",
        Party::Tm => "tm",
    }
}

/// "YYYY-MM" of a time.
pub fn month(t: Timestamp) -> String {
    let days = (t.0 / 86_400_000) as i64;
    // Civil-from-days (H. Hinnant): exact for every date after 1970.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}")
}

/// The chart numbers of `at`; refusal grounds are read from the refusals' records in
/// `source`.
pub fn stats(source: &dyn ReadSource, at: &At, viewer: Viewer<'_>) -> Result<Stats, LedgerError> {
    let s = &at.state;
    let mut st = Stats::default();
    for c in s.cases.values().filter(|c| visible(c, viewer)) {
        let m = month(c.opened_at);
        *st.requests_by_month
            .entry(m.clone())
            .or_default()
            .entry(category_word(&c.category))
            .or_insert(0) += 1;
        *st.requests_by_direction
            .entry(m)
            .or_default()
            .entry(party_word(c.requester_party).to_owned())
            .or_insert(0) += 1;
        for d in &c.deadlines {
            if d.met_at.is_none() && d.due > at.now {
                continue;
            }
            let e = st.deadline_compliance.entry(month(d.due)).or_insert((0, 0));
            if d.overdue_at(at.now) {
                e.1 += 1;
            } else {
                e.0 += 1;
            }
        }
        for t in c.steps.iter().filter(|t| t.kind == "refused") {
            let Some(r) = source.record(t.seq)? else {
                continue;
            };
            if let Ok(d) = coop_treaty::Decoded::of(&r.event)
                && let coop_treaty::Payload::Refused { grounds, .. } = d.payload
            {
                for g in grounds {
                    *st.refusals.entry(format!("{g:?}")).or_insert(0) += 1;
                }
            }
        }
    }
    for item in s.register.values() {
        let to = s
            .registry
            .get(&item.recipient)
            .map_or("?", |r| party_word(r.party));
        let e = st
            .article7_flows
            .entry(format!("{}-{to}", party_word(item.provider_party)))
            .or_insert((0, 0, 0));
        e.0 += 1;
        e.1 += item.uses.len();
        e.2 += item.onward.len();
    }
    Ok(st)
}

/// An authority in the registry, with the records each of its keys was valid for.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct AuthorityRow {
    /// Registered id.
    pub id: AuthorityId,
    /// Its Party.
    pub party: Party,
    /// Its role.
    pub role: Role,
    /// Its name.
    pub name: String,
    /// Its keys: (key, first record, record it stopped at, if it did).
    pub keys: Vec<KeyRow>,
    /// The record that retired it.
    pub retired_at: Option<u64>,
    /// Cases it requested or was asked in.
    pub cases: usize,
}

/// One key of an authority.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct KeyRow {
    /// The key (hex).
    pub key: coop_core::PublicKey,
    /// Valid from this record.
    pub from_seq: u64,
    /// Valid until (not including) this record.
    pub until_seq: Option<u64>,
}

/// The registry at `at`.
pub fn registry(at: &At) -> Vec<AuthorityRow> {
    let s = &at.state;
    let mut cases: BTreeMap<&AuthorityId, usize> = BTreeMap::new();
    for c in s.cases.values() {
        *cases.entry(&c.requester).or_insert(0) += 1;
        *cases.entry(&c.requested).or_insert(0) += 1;
    }
    s.registry
        .values()
        .map(|r| AuthorityRow {
            id: r.id.clone(),
            party: r.party,
            role: r.role,
            name: r.name.clone(),
            keys: r
                .keys
                .iter()
                .map(|k| KeyRow {
                    key: k.key,
                    from_seq: k.from_seq,
                    until_seq: k.until_seq,
                })
                .collect(),
            retired_at: r.retired_at,
            cases: cases.get(&r.id).copied().unwrap_or(0),
        })
        .collect()
}

/// A case that refers to a document, and the events of it that carry the document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DocumentHit {
    /// The case.
    pub case: CaseId,
    /// The document as the case records it.
    pub document: coop_treaty::DocumentRef,
    /// The case's timeline entries whose event carries this digest (Art. 4.2 documents).
    pub cited_by: Vec<TimelineEntry>,
}

/// Every case (that `viewer` may see) referring to a document with this blake3 digest,
/// and the events that carry it.
pub fn documents(
    source: &dyn ReadSource,
    at: &At,
    digest: &Hash,
    viewer: Viewer<'_>,
) -> Result<Vec<DocumentHit>, LedgerError> {
    // The state keeps no index of documents (ADR 0020): the search reads the records of
    // every case the viewer may see, once.
    let mut hits = Vec::new();
    for c in at.state.cases.values().filter(|c| visible(c, viewer)) {
        let mut document = None;
        let mut cited_by = Vec::new();
        for record in case_records(c, |seq| source.record(seq)) {
            let record = record?;
            let Ok(decoded) = coop_treaty::Decoded::of(&record.event) else {
                continue;
            };
            let Some(d) = coop_treaty::case_documents(&decoded.payload)
                .into_iter()
                .find(|d| &d.digest == digest)
            else {
                continue;
            };
            document.get_or_insert_with(|| d.clone());
            cited_by.push(TimelineEntry::of(&record, &decoded));
        }
        if let Some(document) = document {
            hits.push(DocumentHit {
                case: c.id,
                document,
                cited_by,
            });
        }
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use coop_treaty::testkit::fixture;

    /// The fixture ledger as a verified copy, through the verifier.
    fn copy() -> (fixture::Fixture, VerifiedCopy) {
        struct Items(std::vec::IntoIter<coop_verify::Item>);
        impl coop_verify::Source for Items {
            fn next_item(&mut self) -> Result<Option<coop_verify::Item>, coop_verify::VerifyError> {
                Ok(self.0.next())
            }
        }
        let f = fixture::ledger().expect("fixture");
        let items: Vec<coop_verify::Item> = f
            .items()
            .into_iter()
            .map(|i| match i {
                Ok(b) => coop_verify::Item::Record(b.to_vec()),
                Err(n) => coop_verify::Item::Checkpoint(n.to_owned()),
            })
            .collect();
        let mut calls = 0;
        let c = VerifiedCopy::verify(
            &mut Items(items.into_iter()),
            &coop_verify::Options::default(),
            &mut |_, _| calls += 1,
            7,
        )
        .expect("the fixture verifies");
        assert!(calls > 0, "progress was never reported");
        (f, c)
    }

    #[test]
    fn a_verified_copy_replays_every_earlier_point_as_the_rules_do() {
        let (f, c) = copy();
        assert_eq!(c.at(None).unwrap().state, f.state);
        assert_eq!(c.verdict.records, f.records.len() as u64);
        assert_eq!(c.checkpoints().unwrap(), f.checkpoints);
        for seq in [0, 3, f.records.len() as u64 / 2, f.records.len() as u64 - 1] {
            let want =
                State::replay(f.records.iter().take(seq as usize + 1).map(|r| &r.record)).unwrap();
            let at = c.at(Some(AsOf::Seq(seq))).unwrap();
            assert_eq!(at.state, want, "as of {seq}");
            assert_eq!(at.now, want.last_time);
        }
        assert!(matches!(
            c.at(Some(AsOf::Seq(f.records.len() as u64))),
            Err(LedgerError::BadQuery(_))
        ));
        let mid = f.records[f.records.len() / 2].record.received_at;
        let at = c.at(Some(AsOf::Time(mid))).unwrap();
        assert_eq!(at.now, mid);
        assert!(at.state.last_time <= mid && at.state.size < f.state.size);
        assert_eq!(c.record(2).unwrap(), Some(f.records[2].record.clone()));
        assert_eq!(c.record(1 << 40).unwrap(), None);
    }

    #[test]
    fn unknown_parameters_and_values_are_refused_not_ignored() {
        let parse = |pairs: &[(&'static str, &'static str)]| {
            CaseQuery::parse(pairs.iter().copied(), &["as_of"])
        };
        assert!(matches!(
            parse(&[("colour", "red")]),
            Err(QueryError::Key { given, known }) if given == "colour" && known.contains(&"as_of".to_string())
        ));
        assert!(matches!(
            parse(&[("status", "bogus")]),
            Err(QueryError::Word(_))
        ));
        assert!(matches!(
            parse(&[("overdue", "maybe")]),
            Err(QueryError::Word(_))
        ));
        assert!(matches!(
            parse(&[("limit", "1001")]),
            Err(QueryError::Value(_))
        ));
        assert!(matches!(
            parse(&[("offset", "-1")]),
            Err(QueryError::Value(_))
        ));
        assert!(matches!(
            parse(&[("authority", "no spaces")]),
            Err(QueryError::Value(_))
        ));
        // A form's blank field means "any"; the as-of key is the caller's.
        let q = parse(&[("status", ""), ("as_of", "5"), ("limit", "2")]).unwrap();
        assert_eq!(q.filter, CaseFilter::default());
        assert_eq!(q.limit, 2);
    }

    #[test]
    fn pages_cover_every_match_once_in_case_order() {
        let (_, c) = copy();
        let at = c.at(None).unwrap();
        let mut seen = Vec::new();
        let mut q = CaseQuery {
            limit: 1,
            ..CaseQuery::default()
        };
        loop {
            let page = cases(&at, &q, None);
            assert_eq!(page.total, at.state.cases.len());
            seen.extend(page.cases.iter().map(|r| r.id));
            match page.next_offset {
                Some(n) => q.offset = n,
                None => break,
            }
        }
        assert_eq!(seen, at.state.cases.keys().copied().collect::<Vec<_>>());
        // A competent authority sees only its own cases.
        let someone = at.state.cases.values().next().unwrap().requester.clone();
        let own = cases(&at, &CaseQuery::default(), Some(&someone));
        assert!(own.total >= 1);
        assert!(
            own.cases
                .iter()
                .all(|r| r.requester == someone || r.requested == someone)
        );
        // Search by a fragment of the id.
        let first = at.state.cases.keys().next().unwrap().to_hex();
        let q = CaseQuery {
            search: Some(first[..12].to_uppercase()),
            ..CaseQuery::default()
        };
        assert_eq!(cases(&at, &q, None).cases[0].id.to_hex(), first);
    }

    #[test]
    fn a_document_is_found_with_the_events_that_carry_it() {
        let (_, copy) = copy();
        let at = copy.at(None).unwrap();
        let (case, doc) = at
            .state
            .cases
            .values()
            .find_map(|c| {
                let detail = detail(&copy, c).unwrap();
                detail.documents.first().map(|d| (c.id, d.clone()))
            })
            .expect("a case with a document");
        let hits = documents(&copy, &at, &doc.digest, None).unwrap();
        let hit = hits.iter().find(|h| h.case == case).unwrap();
        assert_eq!(hit.document, doc);
        assert!(!hit.cited_by.is_empty());
        assert!(documents(&copy, &at, &Hash::ZERO, None).unwrap().is_empty());
    }

    /// The state keeps a case's steps; its timeline and documents come from the records
    /// (ADR 0020): each line is its step with the record's signer and key, and the
    /// documents are those the records carry, in order.
    #[test]
    fn a_case_view_reads_its_timeline_and_documents_from_the_records() {
        let (_, copy) = copy();
        let at = copy.at(None).unwrap();
        let mut documents_seen = 0;
        for c in at.state.cases.values() {
            let d = detail(&copy, c).unwrap();
            assert_eq!(d.timeline.len(), c.steps.len());
            let mut documents = Vec::new();
            for (line, step) in d.timeline.iter().zip(&c.steps) {
                assert_eq!(
                    (
                        line.evidence.seq,
                        line.evidence.event_hash,
                        line.evidence.at,
                        line.kind
                    ),
                    (step.seq, step.event_hash, step.at, step.kind)
                );
                let r = copy.record(step.seq).unwrap().unwrap();
                assert_eq!(line.evidence.signer, r.event.body.author.authority);
                assert_eq!(line.evidence.key, r.event.body.author.key);
                let p = coop_treaty::Payload::from_bytes(&r.event.body.payload).unwrap();
                documents.extend(coop_treaty::case_documents(&p).into_iter().cloned());
            }
            documents_seen += documents.len();
            assert_eq!(d.documents, documents);
            // The JSON is the case's v1 shape: its fields, its timeline and documents.
            let json = serde_json::to_value(&d).unwrap();
            for field in [
                "id",
                "status",
                "timeline",
                "documents",
                "deadlines",
                "steps",
            ] {
                assert!(json.get(field).is_some(), "no {field} in {json}");
            }
        }
        assert!(documents_seen > 0);
    }

    /// A copy that lacks one of a case's records cannot show that case: the view is an
    /// error naming the record, never a shorter timeline.
    #[test]
    fn a_case_whose_record_is_missing_is_an_error_not_a_shorter_timeline() {
        struct Lacking<'a>(&'a VerifiedCopy, u64);
        impl ReadSource for Lacking<'_> {
            fn ledger_id(&self) -> Option<LedgerId> {
                self.0.ledger_id()
            }
            fn size(&self) -> Result<u64, LedgerError> {
                self.0.size()
            }
            fn at(&self, as_of: Option<AsOf>) -> Result<At, LedgerError> {
                self.0.at(as_of)
            }
            fn checkpoints(&self) -> Result<Vec<(u64, String)>, LedgerError> {
                self.0.checkpoints()
            }
            fn record(&self, seq: u64) -> Result<Option<Record>, LedgerError> {
                if seq == self.1 {
                    return Ok(None);
                }
                self.0.record(seq)
            }
            fn registered(&self, id: &AuthorityId) -> Option<coop_treaty::Registered> {
                self.0.registered(id)
            }
        }
        let (_, copy) = copy();
        let at = copy.at(None).unwrap();
        let c = at.state.cases.values().find(|c| c.steps.len() > 2).unwrap();
        let gone = c.steps[1].seq;
        let lacking = Lacking(&copy, gone);
        let e = case(&lacking, &at, &c.id, None).unwrap_err();
        assert!(
            e.to_string().contains(&format!("record {gone} of case")),
            "{e}"
        );
        assert!(timeline(&lacking, &at, &c.id, None).is_err());
        assert!(case(&copy, &at, &c.id, None).unwrap().is_some());
    }

    #[test]
    fn an_earlier_point_is_rebuilt_once_and_kept_for_a_few() {
        let cache = AsOfCache::default();
        let mut made = 0;
        for seq in [1, 1, 2, 1, 3, 4, 5, 1] {
            let s = cache
                .get_or(AsOf::Seq(seq), || {
                    made += 1;
                    Ok(State {
                        size: seq + 1,
                        ..State::default()
                    })
                })
                .unwrap();
            assert_eq!(s.size, seq + 1);
        }
        // 1, 2, 3, 4, 5 built once each; 1 again after four others pushed it out.
        assert_eq!(made, 6);
        // A failure is not kept.
        assert!(
            cache
                .get_or(AsOf::Seq(9), || Err(LedgerError::BadQuery("no".into())))
                .is_err()
        );
        assert!(cache.get_or(AsOf::Seq(9), || Ok(State::default())).is_ok());
    }

    #[test]
    fn months_are_civil_months() {
        assert_eq!(month(Timestamp(0)), "1970-01");
        assert_eq!(month(Timestamp(fixture::T0)), "2025-11");
        // 2024-02-29T12:00:00Z
        assert_eq!(month(Timestamp(1_709_208_000_000)), "2024-02");
        // 2024-03-01T00:00:00Z
        assert_eq!(month(Timestamp(1_709_251_200_000)), "2024-03");
    }

    #[test]
    fn changes_name_the_cases_that_moved() {
        let (f, c) = copy();
        let mid = c.at(Some(AsOf::Seq(f.records.len() as u64 / 2))).unwrap();
        let end = c.at(None).unwrap();
        let ch = changes(&mid.state, &end.state, None);
        assert!(!ch.is_empty());
        for x in &ch {
            let later = &end.state.cases[&x.id];
            assert_eq!(x.status_now, later.status.word());
            assert_eq!(
                x.new_events,
                later.version - mid.state.cases.get(&x.id).map_or(0, |c| c.version)
            );
        }
        assert!(changes(&end.state, &end.state, None).is_empty());
    }
}
