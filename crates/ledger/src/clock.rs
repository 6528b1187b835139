//! The engine's clock, injected. The rules judge deadlines and termination by the node's
//! receive time, so tests and the demo must be able to move it; a production ledger must
//! never be back-dated. Hence: the system clock for every ledger, and a movable clock
//! that only a ledger whose genesis marks it a *test ledger* accepts
//! ([`crate::LedgerError::Setup`] otherwise). Whatever the clock says, the engine never
//! lets records' times go backwards (the treaty refuses it too).

use coop_core::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A source of the node's time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the epoch, now.
    fn now(&self) -> Timestamp;
    /// Whether this is the real system clock. Only a test ledger accepts another.
    fn is_system(&self) -> bool;
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(system_ms())
    }
    fn is_system(&self) -> bool {
        true
    }
}

/// Milliseconds since the epoch from the system clock (0 before 1970).
pub fn system_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A clock for test ledgers: the system clock plus an offset that [`TestClock::advance`]
/// moves forward (never back), or a fixed time ([`TestClock::fixed`]).
#[derive(Debug, Default)]
pub struct TestClock {
    offset_ms: AtomicU64,
    fixed: Option<AtomicU64>,
}

impl TestClock {
    /// The system clock, to be moved forward.
    pub fn new() -> Arc<TestClock> {
        Arc::new(TestClock::default())
    }

    /// The system clock moved forward by `ms` (a test ledger's saved offset).
    pub fn with_offset(ms: u64) -> Arc<TestClock> {
        Arc::new(TestClock {
            offset_ms: AtomicU64::new(ms),
            fixed: None,
        })
    }

    /// A clock that stands still at `t` until advanced (deterministic fixtures).
    pub fn fixed(t: Timestamp) -> Arc<TestClock> {
        Arc::new(TestClock {
            offset_ms: AtomicU64::new(0),
            fixed: Some(AtomicU64::new(t.0)),
        })
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: u64) {
        match &self.fixed {
            Some(t) => {
                t.fetch_add(ms, Ordering::SeqCst);
            }
            None => {
                self.offset_ms.fetch_add(ms, Ordering::SeqCst);
            }
        }
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        match &self.fixed {
            Some(t) => Timestamp(t.load(Ordering::SeqCst)),
            None => Timestamp(system_ms().saturating_add(self.offset_ms.load(Ordering::SeqCst))),
        }
    }
    fn is_system(&self) -> bool {
        false
    }
}
