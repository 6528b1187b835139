//! What a follower knows of its leader, for its operator: written by the follower as it
//! talks to the leader, read by the follower node's `/healthz` and `/metrics`. One
//! definition of "in sync", so that health and metrics cannot disagree.

use serde::Serialize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The follower's view of its leader (atomics: written by the follower thread, read by
/// HTTP handlers).
#[derive(Debug)]
pub struct FollowStatus {
    /// The leader's size when last heard from.
    leader_size: AtomicU64,
    /// When the leader last answered (ms since the epoch; 0: never since start).
    last_contact_ms: AtomicU64,
    /// The size of the last checkpoint this witness cosigned.
    cosigned_size: AtomicU64,
    /// The size of the leader's latest checkpoint, when last seen.
    leader_checkpoint: AtomicU64,
    /// Times the leader was lost and contact was tried again.
    reconnects: AtomicU64,
    /// Whether the last attempt reached the leader.
    connected: AtomicBool,
    /// Why the leader was last unreachable.
    last_error: Mutex<Option<String>>,
    /// Silence after which the leader counts as unreachable (ms).
    stale_after_ms: u64,
}

/// The state words of [`SyncView::state`].
pub const SYNC_STATES: [&str; 3] = ["in_sync", "catching_up", "leader_unreachable"];

/// A snapshot of a follower's sync, as `/healthz` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SyncView {
    /// `in_sync` (heard from the leader recently, nothing missing), `catching_up` (heard
    /// recently, records still to copy) or `leader_unreachable` (no answer for longer
    /// than the follower's limit; reads of the copy go on).
    pub state: &'static str,
    /// Records in the verified copy.
    pub size: u64,
    /// The leader's size when last heard from.
    pub leader_size: u64,
    /// Records the copy lacks of what the leader last showed.
    pub behind: u64,
    /// Seconds since the leader last answered (`None`: not since the follower started).
    pub last_contact_secs: Option<u64>,
    /// The last checkpoint size this witness cosigned.
    pub cosigned_size: u64,
    /// The size of the leader's latest checkpoint, when last seen.
    pub leader_checkpoint_size: u64,
    /// Records of the leader's latest checkpoint this witness has not cosigned yet (it
    /// is behind as a witness while this is above 0; the leader's history rests on this
    /// Party's word only as far as `cosigned_size`).
    pub witness_behind: u64,
    /// `current` (this witness cosigned the leader's latest checkpoint) or `behind`.
    pub witnessing: &'static str,
    /// Times contact was lost and tried again.
    pub reconnects: u64,
    /// Why the leader was last unreachable, while it is.
    pub last_error: Option<String>,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl FollowStatus {
    /// A status that calls the leader unreachable after `stale_after` of silence.
    pub fn new(stale_after: std::time::Duration) -> FollowStatus {
        FollowStatus {
            leader_size: AtomicU64::new(0),
            last_contact_ms: AtomicU64::new(0),
            cosigned_size: AtomicU64::new(0),
            leader_checkpoint: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            last_error: Mutex::new(None),
            stale_after_ms: u64::try_from(stale_after.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// The leader answered and showed `leader_size` records.
    pub fn heard(&self, leader_size: u64) {
        self.leader_size.fetch_max(leader_size, Ordering::Relaxed);
        self.last_contact_ms.store(now_ms(), Ordering::Relaxed);
        self.connected.store(true, Ordering::Relaxed);
        if let Ok(mut e) = self.last_error.lock() {
            *e = None;
        }
    }

    /// The leader could not be reached (or refused): `why`.
    pub fn lost(&self, why: &str) {
        if self.connected.swap(false, Ordering::Relaxed) {
            self.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(why.to_owned());
        }
    }

    /// The leader showed a checkpoint of `size`.
    pub fn saw_checkpoint(&self, size: u64) {
        self.leader_checkpoint.fetch_max(size, Ordering::Relaxed);
    }

    /// This witness cosigned the checkpoint of `size`.
    pub fn cosigned(&self, size: u64) {
        self.cosigned_size.fetch_max(size, Ordering::Relaxed);
    }

    /// The view at the moment, for a copy of `size` records.
    pub fn view(&self, size: u64) -> SyncView {
        self.view_at(size, now_ms())
    }

    fn view_at(&self, size: u64, now: u64) -> SyncView {
        let leader_size = self.leader_size.load(Ordering::Relaxed);
        let last = self.last_contact_ms.load(Ordering::Relaxed);
        let silent = (last == 0 || now.saturating_sub(last) > self.stale_after_ms)
            || !self.connected.load(Ordering::Relaxed)
                && now.saturating_sub(last) > self.stale_after_ms / 2;
        let behind = leader_size.saturating_sub(size);
        let cosigned_size = self.cosigned_size.load(Ordering::Relaxed);
        let leader_checkpoint_size = self.leader_checkpoint.load(Ordering::Relaxed);
        let witness_behind = leader_checkpoint_size.saturating_sub(cosigned_size);
        SyncView {
            state: if silent {
                "leader_unreachable"
            } else if behind > 0 {
                "catching_up"
            } else {
                "in_sync"
            },
            size,
            leader_size,
            behind,
            last_contact_secs: (last > 0).then(|| now.saturating_sub(last) / 1000),
            cosigned_size,
            leader_checkpoint_size,
            witness_behind,
            witnessing: if witness_behind == 0 {
                "current"
            } else {
                "behind"
            },
            reconnects: self.reconnects.load(Ordering::Relaxed),
            last_error: self.last_error.lock().ok().and_then(|e| e.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_witness_that_has_not_cosigned_the_leaders_latest_checkpoint_is_behind() {
        let s = FollowStatus::new(Duration::from_secs(10));
        s.heard(120);
        s.saw_checkpoint(100);
        s.cosigned(80);
        let v = s.view(120);
        assert_eq!((v.witnessing, v.witness_behind), ("behind", 20));
        s.cosigned(100);
        let v = s.view(120);
        assert_eq!((v.witnessing, v.witness_behind), ("current", 0));
    }

    #[test]
    fn a_new_follower_has_not_heard_from_its_leader() {
        let s = FollowStatus::new(Duration::from_secs(10));
        assert_eq!(s.view_at(0, 1_000_000).state, "leader_unreachable");
        assert_eq!(s.view_at(0, 1_000_000).last_contact_secs, None);
    }

    #[test]
    fn heard_recently_is_in_sync_or_catching_up_and_silence_is_unreachable() {
        let s = FollowStatus::new(Duration::from_secs(10));
        s.heard(100);
        let now = now_ms();
        assert_eq!(s.view_at(100, now).state, "in_sync");
        let v = s.view_at(40, now + 1000);
        assert_eq!(
            (v.state, v.behind, v.last_contact_secs),
            ("catching_up", 60, Some(1))
        );
        assert_eq!(s.view_at(100, now + 11_000).state, "leader_unreachable");
        s.lost("connection refused");
        let v = s.view_at(100, now + 6_000);
        assert_eq!(v.state, "leader_unreachable");
        assert_eq!(v.reconnects, 1);
        assert_eq!(v.last_error.as_deref(), Some("connection refused"));
        s.heard(120);
        let v = s.view(100);
        assert_eq!((v.state, v.behind, v.last_error), ("catching_up", 20, None));
        assert!(SYNC_STATES.contains(&v.state));
    }
}
