//! Opens and repairs watched for a storage call that never returns (issue 29: a sled
//! write that never returned while an open rebuilt sled from the journal hung the open
//! for ever).
//!
//! An open may run for long (a rebuild of millions of records), so a bound on its whole
//! time would refuse healthy work; what a stall looks like is *no storage call started
//! for a while*. The work runs on its own thread, which counts every storage call it
//! starts (each passes `Faults::hit`); the caller looks at the count once per bound and
//! answers with an error if it has not moved. A thread inside sled cannot be
//! interrupted: the stuck one keeps the store's directory locked until its call returns
//! (a later open is refused as locked, never hung) and ends with the process.

use crate::StoreError;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on a thread of its own and waits for it while it makes progress: an error
/// once no storage call has started on it for `bound`.
pub(super) fn watched<T: Send + 'static>(
    doing: &'static str,
    path: &Path,
    bound: Duration,
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let calls = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::sync_channel(1);
    let counted = Arc::clone(&calls);
    std::thread::Builder::new()
        .name("store-open".into())
        .spawn(move || {
            crate::faults::count_calls_here(counted);
            // A panic is the thread's end: the channel closing says so.
            let _ = tx.send(f());
        })
        .map_err(|e| StoreError::Io(format!("cannot start a thread for {doing}: {e}")))?;
    let mut seen = calls.load(Ordering::Relaxed);
    loop {
        match rx.recv_timeout(bound) {
            Ok(r) => return r,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(StoreError::Io(format!(
                    "{doing} {} stopped without an answer (a panic); nothing was \
                     acknowledged by it: try again",
                    path.display()
                )));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now = calls.load(Ordering::Relaxed);
                if now == seen {
                    tracing::error!(
                        path = %path.display(),
                        bound_s = bound.as_secs_f64(),
                        "a storage call did not answer while {doing}; left stuck on its thread"
                    );
                    return Err(StoreError::Io(format!(
                        "storage did not answer within {:.1} s while {doing} {}: a call \
                         into sled or the journal is stuck (the disk may be failing). \
                         Nothing acknowledged is lost (the journal holds it); stop this \
                         process, which ends the stuck call, and open again",
                        bound.as_secs_f64(),
                        path.display()
                    )));
                }
                seen = now;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_passed_on_and_a_stall_is_answered_with_an_error() {
        let got = watched("testing", Path::new("x"), Duration::from_secs(60), || Ok(7));
        assert_eq!(got.unwrap(), 7);
        // No call ever starts and the work never ends: answered with an error.
        let (_hold, never) = mpsc::channel::<()>();
        let err = watched(
            "testing",
            Path::new("x"),
            Duration::from_millis(50),
            move || {
                let _ = never.recv();
                Ok(())
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("did not answer"), "{err}");
        // A panic is an error, not a crash of the caller.
        let err = watched(
            "testing",
            Path::new("x"),
            Duration::from_secs(60),
            || -> Result<(), StoreError> {
                #[allow(clippy::panic)]
                {
                    panic!("injected")
                }
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("a panic"), "{err}");
    }
}
