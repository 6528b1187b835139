//! Reads of sled, each waited for at most a bound (issue 29: an `export` under a
//! persistent read error hung for over ten minutes inside sled).
//!
//! A thread inside sled cannot be interrupted, so a read that may never return is not run
//! on the caller's thread: it runs on one of a few reader threads, and the caller waits
//! for its answer at most [`Reads::bound`]. A read that does not answer in time is an
//! error for the caller (the store then has sled rebuilt from the journal: `mod.rs`);
//! the thread stuck in sled stays stuck, and the next read runs on another. Reads that
//! sled answers cost one hand-off between threads; reads of many records hand off once
//! per chunk of segments, not once per record.

use crate::StoreError;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send>;

/// Most reader threads alive at once, stuck ones included. With every one of them stuck
/// in sled, reads wait their bound and fail: sled is then rebuilt, and a restart ends
/// the stuck threads.
const MAX_THREADS: usize = 8;

/// The reader threads and their queue.
pub(super) struct Reads {
    jobs: Mutex<mpsc::Sender<Job>>,
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
    /// Threads waiting for a job.
    idle: Arc<AtomicUsize>,
    /// Threads alive (idle, reading, or stuck in sled).
    alive: Arc<AtomicUsize>,
    /// How long a caller waits for a read.
    pub(super) bound: Duration,
}

impl std::fmt::Debug for Reads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reads")
            .field("alive", &self.alive.load(Ordering::Relaxed))
            .field("bound", &self.bound)
            .finish_non_exhaustive()
    }
}

/// A read that did not answer within the bound.
#[derive(Debug)]
pub(super) struct Stalled(pub(super) Duration);

impl Reads {
    /// No thread yet: the first read starts one.
    pub(super) fn new(bound: Duration) -> Reads {
        let (tx, rx) = mpsc::channel();
        Reads {
            jobs: Mutex::new(tx),
            queue: Arc::new(Mutex::new(rx)),
            idle: Arc::new(AtomicUsize::new(0)),
            alive: Arc::new(AtomicUsize::new(0)),
            bound,
        }
    }

    /// Runs `f` (a sled read, shielded from sled's panics) on a reader thread and waits
    /// for its answer at most the bound.
    pub(super) fn run<T: Send + 'static>(
        &self,
        doing: &'static str,
        f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
    ) -> Result<Result<T, StoreError>, Stalled> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            let _ = tx.send(super::shield(doing, f));
        });
        self.start_thread_if_none_idle();
        let sent = self
            .jobs
            .lock()
            .map_err(|_| ())
            .and_then(|j| j.send(job).map_err(|_| ()));
        if sent.is_err() {
            return Ok(Err(StoreError::Io(
                "sled's reader threads are gone (a thread panicked)".into(),
            )));
        }
        match rx.recv_timeout(self.bound) {
            Ok(r) => Ok(r),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(Stalled(self.bound)),
            Err(mpsc::RecvTimeoutError::Disconnected) => Ok(Err(StoreError::Io(
                "a reader thread of sled ended without answering".into(),
            ))),
        }
    }

    /// Starts a reader thread if none waits for a job and fewer than [`MAX_THREADS`]
    /// are alive (a thread stuck in sled is neither idle nor gone).
    fn start_thread_if_none_idle(&self) {
        if self.idle.load(Ordering::Acquire) > 0 {
            return;
        }
        if self
            .alive
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_THREADS).then_some(n + 1)
            })
            .is_err()
        {
            return;
        }
        let (queue, idle, alive) = (
            Arc::clone(&self.queue),
            Arc::clone(&self.idle),
            Arc::clone(&self.alive),
        );
        let started = std::thread::Builder::new()
            .name("sled-reader".into())
            .spawn(move || {
                loop {
                    idle.fetch_add(1, Ordering::AcqRel);
                    let job = queue.lock().ok().and_then(|q| q.recv().ok());
                    idle.fetch_sub(1, Ordering::AcqRel);
                    match job {
                        Some(job) => job(),
                        // The store is gone.
                        None => break,
                    }
                }
                alive.fetch_sub(1, Ordering::AcqRel);
            });
        if started.is_err() {
            self.alive.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_read_that_never_returns_is_answered_at_the_bound_and_the_next_read_runs() {
        let reads = Reads::new(Duration::from_millis(50));
        let (release, stuck) = mpsc::channel::<()>();
        let stuck = Mutex::new(stuck);
        let first = reads.run("reading", move || {
            let _ = stuck.lock().map(|s| s.recv());
            Ok(1)
        });
        assert!(matches!(first, Err(Stalled(_))));
        assert_eq!(reads.run("reading", || Ok(2)).unwrap().unwrap(), 2);
        release.send(()).unwrap();
    }

    #[test]
    fn a_panic_in_a_read_is_an_error_and_the_reader_goes_on() {
        let reads = Reads::new(Duration::from_secs(60));
        let r = reads.run::<u8>("reading", || {
            #[allow(clippy::panic)]
            {
                panic!("sled")
            }
        });
        assert!(matches!(r, Ok(Err(StoreError::Corrupt { .. }))), "{r:?}");
        assert_eq!(reads.run("reading", || Ok(3)).unwrap().unwrap(), 3);
    }
}
