//! The one door for reads: every view the CLI, the HTTP API and the console show is
//! built here, from a [`ReadSource`] (a live [`Ledger`](crate::Ledger), or a
//! [`VerifiedCopy`] an auditor's verification produced), as typed values with named
//! fields. Each front end only parses its input, calls one function and renders.
//!
//! Key decision: views are computed from a treaty [`State`] and the time it describes
//! ([`At`]), never from store internals, so the same view means the same thing whether
//! it comes from a node, a follower's copy, an export or an evidence bundle.
//!
//! By view: `copy.rs` (a verified copy and its verdict), `query.rs` (as-of points, case
//! ids, the case query), `cases.rs` (the case list), `case.rs` (a case, its deadlines,
//! timeline and changes), `desk.rs` (an authority's inbox and outbox), `overview.rs` (overview and chart numbers), `registry.rs`
//! (the registry, documents).

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

mod case;
mod cases;
mod copy;
mod desk;
mod overview;
mod query;
mod registry;
#[cfg(test)]
mod tests;

pub use case::*;
pub use cases::*;
pub use copy::*;
pub use desk::*;
pub use overview::*;
pub use query::*;
pub use registry::*;

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
pub(super) fn time_of(
    as_of: Option<AsOf>,
    state: &State,
    now: impl FnOnce() -> Timestamp,
) -> Timestamp {
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
