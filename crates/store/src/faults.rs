//! Deterministic storage faults: a seeded plan the store consults at every point where it
//! touches the disk (journal writes, syncs and reads, sled's batch, flush and reads, the
//! pre-read, snapshot files, the free-space check), so that tests can fail, tear, stall
//! or crash any of them without an outside tool and without root (docs/adr/0022).
//!
//! The model is redb's simulated crash backend and FoundationDB's simulator: a plan is a
//! seed and a rule; the same seed gives the same faults at the same calls (on one
//! thread's sequence of calls); every fault injected is counted, so a test can prove its
//! faults fired; a crash point freezes durability there and writes the crash image a
//! restarted process would find: each journal file cut to what was synced, plus a torn
//! prefix of what was not, and sled's files as the process left them (sled's own log
//! recovers a torn write; the journal is what coopledger's promise rests on).
//!
//! In production the store holds [`Faults::none`], and every check is one branch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// A place where the store does I/O.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Point {
    /// Appending frames to a journal segment.
    JournalWrite,
    /// `fdatasync` of a journal segment.
    JournalSync,
    /// Reading a journal segment (open, catch-up, rebuild, `verify DIR`).
    JournalRead,
    /// `fsync` of a directory after a file was created, renamed or removed.
    DirSync,
    /// Applying one sled batch.
    SledWrite,
    /// sled's flush and the `fdatasync` of its data file.
    SledFlush,
    /// A sled read (a record segment, an id list, a node, a checkpoint).
    SledRead,
    /// sled opening its database (its own recovery).
    SledOpen,
    /// The pre-read of sled's files before sled opens them.
    PreRead,
    /// Writing a snapshot file.
    SnapshotWrite,
    /// Reading a snapshot file.
    SnapshotRead,
    /// Reading the free space of the ledger's disk.
    FreeSpace,
}

impl Point {
    /// Every point, in order.
    pub const ALL: [Point; 12] = [
        Point::JournalWrite,
        Point::JournalSync,
        Point::JournalRead,
        Point::DirSync,
        Point::SledWrite,
        Point::SledFlush,
        Point::SledRead,
        Point::SledOpen,
        Point::PreRead,
        Point::SnapshotWrite,
        Point::SnapshotRead,
        Point::FreeSpace,
    ];

    /// Whether this point makes data durable (a crash point may be placed there).
    pub fn is_sync(self) -> bool {
        matches!(self, Point::JournalSync | Point::SledFlush | Point::DirSync)
    }
}

/// What happens at a point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// The call fails with EIO (the disk failed).
    Eio,
    /// The call fails with ENOSPC (the disk is full); at [`Point::FreeSpace`], the disk
    /// reads as full.
    Enospc,
    /// A read returns fewer bytes than asked (not an error: the caller must go on).
    ShortRead,
    /// A write puts only a prefix of its bytes in the file, then fails with EIO.
    TornWrite,
    /// The call does not return until the plan is released (then fails with EIO): the
    /// hang of a flush that never completes.
    Stall,
    /// The process dies here: the crash image is written, and every later call fails.
    Crash,
    /// sled panics here, as sled 0.34 does on some damaged states ("tried to serialize
    /// Uninitialized"): the store must take it for damage, not crash (issue 29).
    Panic,
}

/// Which calls a plan fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// The `n`-th call (from 0) at any of `points` gets `fault`; no other call fails.
    Nth {
        /// Points counted.
        points: Vec<Point>,
        /// The call, counted across `points`.
        n: u64,
        /// What it gets.
        fault: Fault,
    },
    /// Each call at one of `points` fails with probability `per_million / 10^6`, with
    /// a fault drawn from `faults` (those that make sense at the point).
    Random {
        /// Points eligible.
        points: Vec<Point>,
        /// Probability of a fault per call, in millionths.
        per_million: u32,
        /// Faults to draw from.
        faults: Vec<Fault>,
    },
}

thread_local! {
    /// Storage calls started on this thread, for a watcher that waits on it (an open,
    /// `watch.rs` in `sled`): every I/O call passes [`Faults::hit`] first.
    static STARTED: std::cell::RefCell<Option<Arc<AtomicU64>>> =
        const { std::cell::RefCell::new(None) };
}

/// From now on, counts in `calls` each storage call this thread starts.
pub(crate) fn count_calls_here(calls: Arc<AtomicU64>) {
    let _ = STARTED.try_with(|s| *s.borrow_mut() = Some(calls));
}

/// Counts a storage call started on this thread (every [`Faults::hit`] does; so does a
/// long run of sled reads that passes no fault point).
#[inline]
pub(crate) fn count_call() {
    let _ = STARTED.try_with(|s| {
        if let Some(c) = s.borrow().as_ref() {
            c.fetch_add(1, Ordering::Relaxed);
        }
    });
}

/// A handle on a plan, or on none (production).
#[derive(Clone, Debug, Default)]
pub struct Faults(Option<Arc<Plan>>);

impl Faults {
    /// No faults: what every production store holds.
    pub fn none() -> Faults {
        Faults(None)
    }

    /// Faults by `plan`.
    pub fn plan(plan: Arc<Plan>) -> Faults {
        Faults(Some(plan))
    }

    /// The plan, if any.
    pub fn get(&self) -> Option<&Arc<Plan>> {
        self.0.as_ref()
    }

    /// The fault to act out at `point`, if any (a stall blocks here first; a crash has
    /// written its image).
    #[inline]
    pub(crate) fn hit(&self, point: Point) -> Option<Fault> {
        count_call();
        match &self.0 {
            None => None,
            Some(p) => p.hit(point),
        }
    }

    /// Fails the call at `point` if the plan says so; a torn write or a short read is
    /// the caller's to act out, and reported here as `Ok(Some(fault))`.
    #[inline]
    pub(crate) fn check(&self, point: Point) -> std::io::Result<Option<Fault>> {
        match self.hit(point) {
            None => Ok(None),
            Some(f @ (Fault::ShortRead | Fault::TornWrite)) => Ok(Some(f)),
            Some(f) => Err(f.error()),
        }
    }

    /// Like [`Faults::check`] for calls that cannot be torn or cut short: those faults
    /// fail them as EIO.
    #[inline]
    pub(crate) fn fail(&self, point: Point) -> std::io::Result<()> {
        match self.hit(point) {
            None => Ok(()),
            Some(Fault::ShortRead) => Ok(()),
            Some(Fault::Panic) => {
                // Only ever inside a sled call the store shields (`fits`).
                #[allow(clippy::panic)]
                {
                    panic!("injected panic inside sled at {point:?}")
                }
            }
            Some(f) => Err(f.error()),
        }
    }

    /// A prefix length of `len` for a torn write (at least 0, less than `len`).
    pub(crate) fn torn_len(&self, len: usize) -> usize {
        match &self.0 {
            Some(p) if len > 0 => (p.draw() % len as u64) as usize,
            _ => 0,
        }
    }

    /// A journal file is durable up to `len` bytes. `false` once the plan crashed (in
    /// another thread, say the applier's): the process is dead, and what it synced after
    /// the crash image was taken is in no image, so it must acknowledge nothing more.
    pub(crate) fn synced(&self, path: &Path, len: u64) -> bool {
        if let Some(p) = &self.0
            && let Ok(mut s) = p.synced.lock()
        {
            if p.crashed() {
                return false;
            }
            s.insert(path.to_path_buf(), len);
        }
        true
    }
}

impl Fault {
    fn error(self) -> std::io::Error {
        match self {
            Fault::Enospc => std::io::Error::from_raw_os_error(28),
            _ => std::io::Error::from_raw_os_error(5),
        }
    }
}

/// A plan of faults: a seed, a rule, what was injected, and where the crash image goes.
#[derive(Debug)]
pub struct Plan {
    seed: u64,
    rule: Rule,
    enabled: bool,
    /// Faults are injected only once armed (a test opens a store cleanly, then arms).
    armed: AtomicBool,
    rng: Mutex<u64>,
    /// Calls seen, by point.
    calls: Mutex<BTreeMap<Point, u64>>,
    /// Every call's point, in order (a fault-free run's trace names each fault point).
    trace: Mutex<Vec<Point>>,
    /// Calls counted by an `Nth` rule.
    counted: AtomicU64,
    /// Faults injected, by point and fault.
    injected: Mutex<BTreeMap<(Point, Fault), u64>>,
    /// The store directory and where its crash image is written.
    crash: Mutex<Option<(PathBuf, PathBuf)>>,
    crashed: AtomicBool,
    /// Journal files and the length known durable.
    synced: Mutex<BTreeMap<PathBuf, u64>>,
    released: Mutex<bool>,
    release: Condvar,
}

impl Plan {
    /// A plan following `rule`, its random draws from `seed`.
    pub fn new(seed: u64, rule: Rule) -> Plan {
        Plan {
            seed,
            rule,
            enabled: true,
            armed: AtomicBool::new(true),
            rng: Mutex::new(seed ^ 0x9e37_79b9_7f4a_7c15),
            calls: Mutex::new(BTreeMap::new()),
            trace: Mutex::new(Vec::new()),
            counted: AtomicU64::new(0),
            injected: Mutex::new(BTreeMap::new()),
            crash: Mutex::new(None),
            crashed: AtomicBool::new(false),
            synced: Mutex::new(BTreeMap::new()),
            released: Mutex::new(false),
            release: Condvar::new(),
        }
    }

    /// The same plan with injection switched off: every call is counted, none fails.
    /// (A fault test run so must fail: it asserts its faults fired.)
    pub fn disabled(mut self) -> Plan {
        self.enabled = false;
        self
    }

    /// The same plan, injecting nothing until [`Plan::arm`] (an `Nth` rule counts from
    /// there).
    pub fn unarmed(self) -> Plan {
        self.armed.store(false, Ordering::Release);
        self
    }

    /// Starts injecting.
    pub fn arm(&self) {
        self.armed.store(true, Ordering::Release);
    }

    /// On a crash, writes the image of the store in `store_dir` to `image_dir`.
    pub fn crash_image(self, store_dir: &Path, image_dir: &Path) -> Plan {
        if let Ok(mut c) = self.crash.lock() {
            *c = Some((store_dir.to_path_buf(), image_dir.to_path_buf()));
        }
        self
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Faults injected, by point and kind.
    pub fn injected(&self) -> BTreeMap<(Point, Fault), u64> {
        self.injected.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// All faults injected.
    pub fn injected_total(&self) -> u64 {
        self.injected().values().sum()
    }

    /// Calls seen at `point`.
    pub fn calls(&self, point: Point) -> u64 {
        self.calls
            .lock()
            .map(|m| m.get(&point).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// The point of every call seen, in order.
    pub fn trace(&self) -> Vec<Point> {
        self.trace.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// Whether `fault` can happen at `point`.
    pub fn fits(fault: Fault, point: Point) -> bool {
        fits(fault, point)
    }

    /// Whether the crash point was reached.
    pub fn crashed(&self) -> bool {
        self.crashed.load(Ordering::Acquire)
    }

    /// Lets every stalled call return (with EIO), and every later stall pass at once.
    pub fn release(&self) {
        if let Ok(mut r) = self.released.lock() {
            *r = true;
        }
        self.release.notify_all();
    }

    /// The next pseudo-random number (splitmix64: small, and the same on every platform).
    fn draw(&self) -> u64 {
        let Ok(mut s) = self.rng.lock() else {
            return 0;
        };
        *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn hit(&self, point: Point) -> Option<Fault> {
        if let Ok(mut c) = self.calls.lock() {
            *c.entry(point).or_default() += 1;
        }
        if let Ok(mut t) = self.trace.lock() {
            t.push(point);
        }
        if self.crashed() {
            // The process is dead: nothing it does reaches the disk any more.
            return Some(Fault::Eio);
        }
        if !self.armed.load(Ordering::Acquire) {
            return None;
        }
        let fault = match &self.rule {
            Rule::Nth { points, n, fault } if points.contains(&point) => {
                let k = self.counted.fetch_add(1, Ordering::AcqRel);
                (k == *n).then_some(*fault)
            }
            Rule::Random {
                points,
                per_million,
                faults,
            } if points.contains(&point) => {
                let eligible: Vec<Fault> =
                    faults.iter().copied().filter(|f| fits(*f, point)).collect();
                let roll = self.draw();
                if eligible.is_empty() || roll % 1_000_000 >= u64::from(*per_million) {
                    None
                } else {
                    eligible
                        .get((self.draw() % eligible.len() as u64) as usize)
                        .copied()
                }
            }
            _ => None,
        }?;
        if !self.enabled || !fits(fault, point) {
            return None;
        }
        if let Ok(mut m) = self.injected.lock() {
            *m.entry((point, fault)).or_default() += 1;
        }
        match fault {
            Fault::Stall => {
                tracing::warn!(?point, "injected stall: this call waits until released");
                if let Ok(mut r) = self.released.lock() {
                    while !*r {
                        r = match self.release.wait(r) {
                            Ok(r) => r,
                            Err(_) => break,
                        };
                    }
                }
            }
            Fault::Crash => {
                self.crashed.store(true, Ordering::Release);
                self.write_crash_image();
            }
            _ => {}
        }
        Some(fault)
    }

    /// Copies the store directory to the image directory as a restarted process would
    /// find it: journal files cut to their synced length plus a torn prefix of the rest.
    fn write_crash_image(&self) {
        let Some((from, to)) = self.crash.lock().ok().and_then(|c| c.clone()) else {
            return;
        };
        if let Err(e) = copy_dir(&from, &to) {
            tracing::error!(error = %e, "the crash image could not be written");
            return;
        }
        let synced = self.synced.lock().map(|s| s.clone()).unwrap_or_default();
        for (file, len) in synced {
            let Ok(rel) = file.strip_prefix(&from) else {
                continue;
            };
            let copy = to.join(rel);
            let Ok(actual) = std::fs::metadata(&copy).map(|m| m.len()) else {
                continue;
            };
            if actual > len {
                let torn = self.draw() % (actual - len + 1);
                let cut = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&copy)
                    .and_then(|f| f.set_len(len + torn));
                if let Err(e) = cut {
                    tracing::error!(error = %e, "the crash image could not be cut");
                }
            }
        }
    }
}

/// The seed of a random fault run: `COOP_FAULT_SEED`, or a new one each run; printed, so
/// that a failing run can be replayed (tests only).
pub fn seed(test: &str) -> u64 {
    let s = std::env::var("COOP_FAULT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("{test}: fault seed {s} (COOP_FAULT_SEED={s} replays this run)");
    s
}

/// A plan following `rule`, with injection switched off when `COOP_FAULTS_OFF` is set
/// (every fault test must then fail: it asserts its faults fired).
pub fn plan_from_env(seed: u64, rule: Rule) -> Plan {
    let p = Plan::new(seed, rule);
    if std::env::var_os("COOP_FAULTS_OFF").is_some() {
        p.disabled()
    } else {
        p
    }
}

/// Copies a store directory (not its lock file): a crash image, or a test's base.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else if e.file_name() != "coopledger.lock" {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}

/// Whether `fault` can happen at `point`.
fn fits(fault: Fault, point: Point) -> bool {
    use Point::*;
    match fault {
        Fault::Eio => true,
        Fault::Enospc => matches!(
            point,
            JournalWrite | JournalSync | SledWrite | SledFlush | SnapshotWrite | FreeSpace
        ),
        Fault::ShortRead => matches!(point, JournalRead | PreRead | SnapshotRead),
        Fault::TornWrite => matches!(point, JournalWrite | SnapshotWrite),
        Fault::Stall => matches!(
            point,
            JournalSync | SledWrite | SledFlush | SledRead | DirSync
        ),
        Fault::Crash => point.is_sync(),
        Fault::Panic => matches!(point, SledWrite | SledFlush | SledRead | SledOpen),
    }
}

/// A reader that acts out the plan's faults on each read: EIO, or a short read.
#[derive(Debug)]
pub(crate) struct FaultyRead<R> {
    inner: R,
    faults: Faults,
    point: Point,
}

impl<R> FaultyRead<R> {
    pub(crate) fn new(inner: R, faults: Faults, point: Point) -> FaultyRead<R> {
        FaultyRead {
            inner,
            faults,
            point,
        }
    }
}

impl<R: std::io::Read> std::io::Read for FaultyRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.faults.check(self.point)? {
            Some(Fault::ShortRead) if buf.len() > 1 => {
                let n = 1 + self.faults.torn_len(buf.len() - 1);
                let (head, _) = buf.split_at_mut(n);
                self.inner.read(head)
            }
            _ => self.inner.read(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_faults_and_every_fault_is_counted() {
        let run = |seed| {
            let p = Plan::new(
                seed,
                Rule::Random {
                    points: vec![Point::JournalWrite, Point::JournalRead],
                    per_million: 200_000,
                    faults: vec![Fault::Eio, Fault::ShortRead, Fault::TornWrite],
                },
            );
            let f = Faults::plan(Arc::new(p));
            let seen: Vec<Option<Fault>> = (0..200)
                .map(|i| {
                    f.hit(if i % 2 == 0 {
                        Point::JournalWrite
                    } else {
                        Point::JournalRead
                    })
                })
                .collect();
            (seen, f.get().map(|p| p.injected_total()).unwrap_or(0))
        };
        let (a, na) = run(7);
        let (b, nb) = run(7);
        let (c, _) = run(8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(na > 0);
        assert_eq!(na, nb);
        assert_eq!(na as usize, a.iter().filter(|f| f.is_some()).count());
        // Only faults that fit the point: no short write, no torn read.
        for (i, f) in a.iter().enumerate() {
            match (i % 2, f) {
                (0, Some(Fault::ShortRead)) | (1, Some(Fault::TornWrite)) => {
                    panic!("{f:?} at the wrong point")
                }
                _ => {}
            }
        }
    }

    #[test]
    fn the_nth_call_fails_and_a_disabled_plan_injects_nothing() {
        let rule = Rule::Nth {
            points: vec![Point::SledFlush, Point::JournalSync],
            n: 3,
            fault: Fault::Eio,
        };
        let f = Faults::plan(Arc::new(Plan::new(1, rule.clone())));
        let got: Vec<bool> = (0..6)
            .map(|i| {
                f.fail(if i % 2 == 0 {
                    Point::SledFlush
                } else {
                    Point::JournalSync
                })
                .is_err()
            })
            .collect();
        assert_eq!(got, [false, false, false, true, false, false]);
        let off = Faults::plan(Arc::new(Plan::new(1, rule).disabled()));
        assert!((0..6).all(|_| off.fail(Point::SledFlush).is_ok()));
        assert_eq!(off.get().map(|p| p.injected_total()), Some(0));
        assert_eq!(off.get().map(|p| p.calls(Point::SledFlush)), Some(6));
    }

    #[test]
    fn a_stall_holds_the_call_until_released_then_fails() {
        let plan = Arc::new(Plan::new(
            1,
            Rule::Nth {
                points: vec![Point::SledFlush],
                n: 0,
                fault: Fault::Stall,
            },
        ));
        let f = Faults::plan(Arc::clone(&plan));
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            let r = f.fail(Point::SledFlush);
            let _ = tx.send(r.is_err());
        });
        // Not answered while stalled (a bounded look, not a clock: the answer must not
        // have come).
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(50))
                .is_err()
        );
        plan.release();
        assert_eq!(rx.recv().ok(), Some(true));
        let _ = t.join();
    }
}
