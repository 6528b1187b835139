//! The store under deterministic storage faults (docs/adr/0022): every I/O call of a
//! workload — open, appends, syncs, reads, the pre-read, a rebuild — failed in turn, with
//! EIO, ENOSPC, a torn write, a short read, or a crash that freezes durability there and
//! leaves the image a restarted process finds. For each fault point:
//!
//! - nothing acknowledged is lost: the next open, with no fault and no manual `repair`,
//!   holds every record whose append returned `Ok`, byte for byte;
//! - nothing the store refused as "nothing was written" (`Full`) is there;
//! - the reopened store verifies from record 0 (chain, leaves, Merkle nodes,
//!   checkpoints).
//!
//! Every test asserts its faults fired (a count per kind): run with `COOP_FAULTS_OFF=1`
//! and they fail. The random runs print their seed; `COOP_FAULT_SEED=N` replays one.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use coop_core::testkit;
use coop_core::{Hash, LedgerId, SignedEvent, Timestamp};
use coop_store::faults::{plan_from_env as plan, seed};
use coop_store::{
    Fault, Faults, Log, Plan, Point, Rule, SledOptions, SledStore, Store as _, StoreError,
};

fn copy_dir(from: &Path, to: &Path) {
    coop_store::faults::copy_dir(from, to).expect("copy a store directory");
}
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Events appended by the workload, in batches of these sizes.
const BATCHES: [u64; 24] = [
    1, 3, 1, 5, 2, 8, 1, 4, 2, 1, 1, 6, 3, 1, 2, 9, 1, 1, 4, 2, 7, 1, 3, 1,
];
/// Records in the base store every run starts from.
const BASE: u64 = 7;

fn genesis() -> (SignedEvent, LedgerId) {
    testkit::genesis().expect("fixture genesis")
}

fn events(ledger: LedgerId, from: u64, count: u64) -> Vec<(SignedEvent, Hash)> {
    testkit::events(ledger, from, count)
        .expect("fixture events")
        .into_iter()
        .map(|e| (e, Hash::ZERO))
        .collect()
}

/// A store with the genesis and a first batch: the base every run starts from (so that
/// opening finds a journal and a sled to read).
fn base(dir: &Path) -> LedgerId {
    let log = Log::open(SledStore::open(dir).expect("open")).expect("log");
    let (g, ledger) = genesis();
    log.append_events(vec![(g, Hash::ZERO)], Timestamp(1))
        .expect("genesis");
    log.append_events(events(ledger, 1, BASE - 1), Timestamp(2))
        .expect("events");
    ledger
}

/// What a run under faults ended with.
#[derive(Debug, Default)]
struct Outcome {
    /// Records acknowledged (the size after the last append that returned `Ok`).
    acked: u64,
    /// Whether an append was refused as `Full` (nothing written) right after `acked`.
    refused_full: bool,
    /// The error that ended the run, if any.
    error: Option<String>,
}

/// Opens the store under `faults` and appends [`BATCHES`]; stops at the first error.
/// The base's records were acknowledged before it starts.
fn workload(dir: &Path, ledger: LedgerId, faults: Faults) -> Outcome {
    workload_with(
        dir,
        ledger,
        SledOptions {
            faults,
            ..SledOptions::default()
        },
    )
}

/// [`workload`] with the store opened with `options`.
fn workload_with(dir: &Path, ledger: LedgerId, options: SledOptions) -> Outcome {
    let mut out = Outcome {
        acked: BASE,
        ..Outcome::default()
    };
    let opened = SledStore::open_with(
        dir,
        SledOptions {
            // A reserve, so that the free-space check runs (a fault there reads as full).
            min_free: 1,
            ..options
        },
    )
    .and_then(Log::open);
    let log = match opened {
        Ok(l) => l,
        Err(e) => {
            out.error = Some(format!("open: {e}"));
            return out;
        }
    };
    out.acked = log.durable_head().map_or(BASE, |h| h.size);
    for n in BATCHES {
        let from = out.acked;
        match log.append_events(events(ledger, from, n), Timestamp(from)) {
            Ok(_) => out.acked = from + n,
            Err(StoreError::Full { .. }) => {
                out.refused_full = true;
                out.error = Some("full".into());
                break;
            }
            Err(e) => {
                out.error = Some(e.to_string());
                break;
            }
        }
        // A read after each append: a fault there must be an error, never wrong bytes.
        if let Err(e) = log.record(from) {
            out.error = Some(format!("read: {e}"));
            break;
        }
    }
    out
}

/// Opens `dir` with no fault, once an open that gave up on a stuck storage call (and
/// still holds the store on its thread) lets go of it: its call was released, so it
/// ends; until then opens are refused as locked, never hung.
fn open_once_let_go(dir: &Path) -> Result<SledStore, StoreError> {
    let t = std::time::Instant::now();
    loop {
        match SledStore::open(dir) {
            Err(StoreError::Locked { .. }) if t.elapsed() < std::time::Duration::from_secs(60) => {
                std::thread::yield_now()
            }
            other => return other,
        }
    }
}

/// Reopens `dir` with no fault: it must open by itself (no repair), verify, and hold
/// every acknowledged record as appended; a refused append must have left nothing.
fn recovered(dir: &Path, ledger: LedgerId, out: &Outcome, what: &str) {
    let log = open_once_let_go(dir)
        .and_then(Log::open)
        .unwrap_or_else(|e| panic!("{what}: the store does not reopen by itself: {e}"));
    let head = log
        .verify_all()
        .unwrap_or_else(|e| panic!("{what}: the reopened store does not verify: {e}"));
    assert!(
        head.size >= out.acked,
        "{what}: {} records acknowledged, {} after reopening ({out:?})",
        out.acked,
        head.size
    );
    if out.refused_full {
        assert_eq!(
            head.size, out.acked,
            "{what}: an append refused as full (nothing written) is there"
        );
    }
    let expected: Vec<SignedEvent> = std::iter::once(genesis().0)
        .chain(testkit::events(ledger, 1, head.size.saturating_sub(1)).unwrap())
        .collect();
    for (seq, e) in expected.iter().enumerate().take(head.size as usize) {
        let r = log.record(seq as u64).unwrap().expect("record");
        assert_eq!(
            &r.record.event, e,
            "{what}: record {seq} is not what was appended"
        );
    }
}

/// Faults injected so far, by kind, over many runs.
#[derive(Default)]
struct Tally(BTreeMap<(Point, Fault), u64>);

impl Tally {
    fn add(&mut self, p: &Plan) {
        for (k, n) in p.injected() {
            *self.0.entry(k).or_default() += n;
        }
    }
    fn of(&self, f: Fault) -> u64 {
        self.0
            .iter()
            .filter(|((_, g), _)| *g == f)
            .map(|(_, n)| n)
            .sum()
    }
    /// Each of `kinds` fired at least once.
    fn assert_fired(&self, kinds: &[Fault]) {
        for k in kinds {
            assert!(
                self.of(*k) > 0,
                "no {k:?} fault was injected (injected: {:?}); a fault test that injects nothing tests nothing",
                self.0
            );
        }
    }
}

/// Every I/O point of the workload: which calls a fault-free run makes.
const IO: [Point; 11] = [
    Point::JournalWrite,
    Point::JournalSync,
    Point::JournalRead,
    Point::DirSync,
    Point::SledWrite,
    Point::SledFlush,
    Point::SledRead,
    Point::SledOpen,
    Point::PreRead,
    Point::SnapshotRead,
    Point::FreeSpace,
];

/// The calls a fault-free run of the workload makes, in order: the fault points to try.
fn trace(base_dir: &Path, ledger: LedgerId, tmp: &Path, prepare: &dyn Fn(&Path)) -> Vec<Point> {
    let dir = tmp.join("count");
    copy_dir(base_dir, &dir);
    prepare(&dir);
    let p = Arc::new(Plan::new(
        0,
        Rule::Random {
            points: vec![],
            per_million: 0,
            faults: vec![],
        },
    ));
    let out = workload(&dir, ledger, Faults::plan(Arc::clone(&p)));
    assert!(out.error.is_none(), "a fault-free run failed: {out:?}");
    p.trace().into_iter().filter(|pt| IO.contains(pt)).collect()
}

/// Every call of the workload fails in turn, with each fault that fits it: one fault
/// per run, at every point, with the crash image for crash points.
#[test]
fn every_io_call_failed_in_turn_loses_nothing_acknowledged_and_reopens_by_itself() {
    every_call_in_turn(|_| {});
}

/// The same, from a store whose sled is gone: the open rebuilds it from the journal, and
/// a fault at any call of the rebuild (or of the appends after it) is finished by the
/// next open.
#[test]
fn a_rebuild_from_the_journal_failed_at_any_call_is_finished_by_the_next_open() {
    every_call_in_turn(|run| {
        std::fs::remove_dir_all(run.join("sled")).unwrap();
    });
}

fn every_call_in_turn(prepare: impl Fn(&Path)) {
    let tmp = tempfile::tempdir().unwrap();
    let base_dir = tmp.path().join("base");
    let ledger = base(&base_dir);
    let trace = trace(&base_dir, ledger, tmp.path(), &prepare);
    let total = trace.len() as u64;
    assert!(total > 50, "the workload makes only {total} I/O calls");
    let kinds = [
        Fault::Eio,
        Fault::Enospc,
        Fault::TornWrite,
        Fault::ShortRead,
        Fault::Crash,
        Fault::Panic,
    ];
    let mut tally = Tally::default();
    let mut runs = 0;
    for (n, point) in (0..total).zip(trace) {
        for fault in kinds.into_iter().filter(|f| Plan::fits(*f, point)) {
            runs += 1;
            let run = tmp.path().join(format!("run-{n}-{fault:?}"));
            let image = tmp.path().join(format!("image-{n}-{fault:?}"));
            copy_dir(&base_dir, &run);
            prepare(&run);
            let p = Arc::new(
                plan(
                    n,
                    Rule::Nth {
                        points: IO.to_vec(),
                        n,
                        fault,
                    },
                )
                .crash_image(&run, &image),
            );
            let out = workload(&run, ledger, Faults::plan(Arc::clone(&p)));
            tally.add(&p);
            let what = format!("fault {fault:?} at call {n} ({:?})", p.injected());
            // A crash leaves the image; otherwise the process goes on, and reopens.
            let after = if p.crashed() { &image } else { &run };
            recovered(after, ledger, &out, &what);
            let _ = std::fs::remove_dir_all(&run);
            let _ = std::fs::remove_dir_all(&image);
        }
    }
    eprintln!(
        "{runs} runs over {total} I/O calls; injected: {:?}",
        tally.0
    );
    tally.assert_fired(&kinds);
}

/// Random faults at a high rate, many runs from one printed seed: several faults in one
/// run (a failed write, then a failed read during the recovery's own open...).
#[test]
fn random_faults_from_a_printed_seed_lose_nothing_acknowledged() {
    let seed = seed("random_faults");
    let runs: u64 = std::env::var("COOP_SIM_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let tmp = tempfile::tempdir().unwrap();
    let base_dir = tmp.path().join("base");
    let ledger = base(&base_dir);
    let kinds = [
        Fault::Eio,
        Fault::Enospc,
        Fault::TornWrite,
        Fault::ShortRead,
        Fault::Crash,
        Fault::Panic,
    ];
    let mut tally = Tally::default();
    for i in 0..runs {
        let run = tmp.path().join(format!("run-{i}"));
        let image = tmp.path().join(format!("image-{i}"));
        copy_dir(&base_dir, &run);
        // The first runs put one fault of each kind at a fixed call (every kind surely
        // fires); the rest draw them at random.
        let rule = match kinds.get(i as usize) {
            Some(&fault) => Rule::Nth {
                points: IO
                    .iter()
                    .copied()
                    .filter(|p| Plan::fits(fault, *p))
                    .collect(),
                n: 3,
                fault,
            },
            None => Rule::Random {
                points: IO.to_vec(),
                per_million: 40_000,
                faults: kinds.to_vec(),
            },
        };
        let p = Arc::new(plan(seed.wrapping_add(i), rule).crash_image(&run, &image));
        let out = workload(&run, ledger, Faults::plan(Arc::clone(&p)));
        tally.add(&p);
        let what = format!(
            "seed {seed} run {i} (COOP_FAULT_SEED={seed} replays it): injected {:?}",
            p.injected()
        );
        let after = if p.crashed() { &image } else { &run };
        recovered(after, ledger, &out, &what);
        let _ = std::fs::remove_dir_all(&run);
        let _ = std::fs::remove_dir_all(&image);
    }
    eprintln!("seed {seed}: {runs} runs; injected: {:?}", tally.0);
    tally.assert_fired(&kinds);
}

/// sled calls that never return (stalls), among errors and panics, at random in sled's
/// writes, flushes and reads, many runs from one printed seed: every append and read
/// answers (the workload runs on its own thread and must end), reads within their bound,
/// and nothing acknowledged is lost; the next open, with the stuck calls released, needs
/// no repair.
#[test]
fn random_stalls_in_sled_hold_up_nothing_and_lose_nothing_acknowledged() {
    let seed = seed("random_stalls");
    let runs: u64 = std::env::var("COOP_STALL_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let tmp = tempfile::tempdir().unwrap();
    let base_dir = tmp.path().join("base");
    let ledger = base(&base_dir);
    let mut tally = Tally::default();
    for i in 0..runs {
        let run = tmp.path().join(format!("run-{i}"));
        copy_dir(&base_dir, &run);
        let p = Arc::new(plan(
            seed.wrapping_add(i),
            Rule::Random {
                points: vec![Point::SledWrite, Point::SledFlush, Point::SledRead],
                per_million: 60_000,
                faults: vec![Fault::Stall, Fault::Eio, Fault::Panic],
            },
        ));
        let (tx, rx) = std::sync::mpsc::channel();
        let (dir, faults) = (run.clone(), Faults::plan(Arc::clone(&p)));
        std::thread::spawn(move || {
            let _ = tx.send(workload_with(
                &dir,
                ledger,
                SledOptions {
                    faults,
                    read_bound: std::time::Duration::from_millis(100),
                    applier_stop: std::time::Duration::from_millis(100),
                    open_bound: std::time::Duration::from_secs(2),
                    ..SledOptions::default()
                },
            ));
        });
        let answer = rx.recv_timeout(std::time::Duration::from_secs(120));
        // What was injected, read once the run ended (or hung).
        let what = format!(
            "seed {seed} run {i} (COOP_FAULT_SEED={seed} replays it): injected {:?}",
            p.injected()
        );
        let out = answer.unwrap_or_else(|_| panic!("{what}: the workload hangs"));
        p.release();
        tally.add(&p);
        recovered(&run, ledger, &out, &what);
        let _ = std::fs::remove_dir_all(&run);
    }
    eprintln!("seed {seed}: {runs} runs; injected: {:?}", tally.0);
    tally.assert_fired(&[Fault::Stall, Fault::Eio, Fault::Panic]);
    assert!(
        tally
            .0
            .get(&(Point::SledRead, Fault::Stall))
            .copied()
            .unwrap_or(0)
            > 0,
        "no read stalled: {:?}",
        tally.0
    );
}

/// Short reads everywhere the store reads a file (every read returns a part of what
/// was asked): a store must read exactly what it would otherwise.
#[test]
fn every_read_cut_short_reads_the_same_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let ledger = base(&dir);
    // A snapshot, so that its reader is cut short too.
    {
        let s = SledStore::open(&dir).unwrap();
        coop_store::Store::put_snapshot(
            &s,
            &coop_store::Snapshot {
                seq: 7,
                chain: Hash::ZERO,
                bytes: vec![9u8; 100_000],
            },
        )
        .unwrap();
    }
    let p = Arc::new(plan(
        3,
        Rule::Random {
            points: vec![Point::JournalRead, Point::SnapshotRead, Point::PreRead],
            per_million: 1_000_000,
            faults: vec![Fault::ShortRead],
        },
    ));
    let s = SledStore::open_with(
        &dir,
        SledOptions {
            faults: Faults::plan(Arc::clone(&p)),
            ..SledOptions::default()
        },
    )
    .unwrap();
    let snap = coop_store::Store::latest_snapshot(&s)
        .unwrap()
        .expect("snapshot");
    assert_eq!(snap.bytes, vec![9u8; 100_000]);
    let log = Log::open(s).unwrap();
    assert_eq!(log.verify_all().unwrap().size, 7);
    drop(log);
    let _ = ledger;
    let fired = p.injected();
    for pt in [Point::JournalRead, Point::SnapshotRead] {
        assert!(
            fired.get(&(pt, Fault::ShortRead)).copied().unwrap_or(0) > 0,
            "no short read at {pt:?}: {fired:?}"
        );
    }
}

/// Issue 29: sled failing while the store runs — an error or a panic applying a batch or
/// flushing — stops no append and loses no read: each append is acknowledged once the
/// journal has it, every record reads back at once, sled is rebuilt from the journal by
/// itself while the store runs, and the store reopens with no repair.
#[test]
fn sled_failing_while_the_store_runs_is_rebuilt_from_the_journal_and_stops_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let base_dir = tmp.path().join("base");
    let ledger = base(&base_dir);
    let cases = [
        (Point::SledWrite, Fault::Eio),
        (Point::SledWrite, Fault::Panic),
        (Point::SledFlush, Fault::Enospc),
        (Point::SledFlush, Fault::Panic),
    ];
    for (i, (point, fault)) in cases.into_iter().enumerate() {
        let run = tmp.path().join(format!("run-{i}"));
        copy_dir(&base_dir, &run);
        let p = Arc::new(plan(
            i as u64,
            Rule::Nth {
                points: vec![point],
                n: 2,
                fault,
            },
        ));
        let store = SledStore::open_with(
            &run,
            SledOptions {
                faults: Faults::plan(Arc::clone(&p)),
                ..SledOptions::default()
            },
        )
        .unwrap();
        let log = Log::open(store).unwrap();
        let mut acked = BASE;
        for n in BATCHES {
            log.append_events(events(ledger, acked, n), Timestamp(acked))
                .unwrap_or_else(|e| panic!("{point:?} {fault:?}: an append failed: {e}"));
            acked += n;
            // Every record reads back at once, from sled or the journal's queue.
            for seq in acked - n..acked {
                assert!(log.record(seq).unwrap().is_some(), "{point:?} {fault:?}");
            }
        }
        assert!(log.store().settle(std::time::Duration::from_secs(60)));
        let lag = coop_store::Store::lag(log.store()).expect("a sled store has a lag");
        assert_eq!(lag.rebuilds, 1, "{point:?} {fault:?}: {lag:?}");
        assert_eq!((lag.batches, lag.failed.clone()), (0, None), "{lag:?}");
        assert_eq!(
            p.injected().get(&(point, fault)),
            Some(&1),
            "the fault fired"
        );
        assert_eq!(log.verify_all().unwrap().size, acked);
        drop(log);
        let out = Outcome {
            acked,
            ..Outcome::default()
        };
        recovered(&run, ledger, &out, &format!("{point:?} {fault:?}"));
        let _ = std::fs::remove_dir_all(&run);
    }
}

/// Issue 29: sled panicking while it opens its database ("tried to serialize
/// Uninitialized" left every later open panicking until someone ran `coopledger repair`)
/// is damage: the open rebuilds sled from the journal by itself.
#[test]
fn sled_panicking_as_it_opens_is_rebuilt_from_the_journal_by_the_open_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let ledger = base(&dir);
    let p = Arc::new(plan(
        1,
        Rule::Nth {
            points: vec![Point::SledOpen],
            n: 0,
            fault: Fault::Panic,
        },
    ));
    let store = SledStore::open_with(
        &dir,
        SledOptions {
            faults: Faults::plan(Arc::clone(&p)),
            ..SledOptions::default()
        },
    )
    .expect("opens, having rebuilt sled");
    assert_eq!(p.injected().get(&(Point::SledOpen, Fault::Panic)), Some(&1));
    let log = Log::open(store).unwrap();
    assert_eq!(log.verify_all().unwrap().size, BASE);
    drop(log);
    assert!(
        std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("sled.broken-")),
        "the panicking database is kept aside"
    );
    let out = Outcome {
        acked: BASE,
        ..Outcome::default()
    };
    recovered(&dir, ledger, &out, "after a panic on open");
    // And a panic in a read is an error, not a crash.
    let p = Arc::new(
        plan(
            2,
            Rule::Nth {
                points: vec![Point::SledRead],
                n: 0,
                fault: Fault::Panic,
            },
        )
        .unarmed(),
    );
    let store = SledStore::open_with(
        &dir,
        SledOptions {
            faults: Faults::plan(Arc::clone(&p)),
            ..SledOptions::default()
        },
    )
    .unwrap();
    p.arm();
    assert!(coop_store::Store::record(&store, 3).is_err(), "an error");
    assert_eq!(p.injected().get(&(Point::SledRead, Fault::Panic)), Some(&1));
    drop(store);
    recovered(&dir, ledger, &out, "after a panic in a read");
}

/// The store in `dir` opened with `options` and a plan (seeded `seed`, armed by the
/// caller) whose first call at `point` stalls until released.
fn stalling(dir: &Path, seed: u64, point: Point, options: SledOptions) -> (Arc<Plan>, SledStore) {
    let p = Arc::new(
        plan(
            seed,
            Rule::Nth {
                points: vec![point],
                n: 0,
                fault: Fault::Stall,
            },
        )
        .unarmed(),
    );
    let store = SledStore::open_with(
        dir,
        SledOptions {
            faults: Faults::plan(Arc::clone(&p)),
            ..options
        },
    )
    .unwrap();
    (p, store)
}

/// Issue 29: a sled that never returns (a stalled write) holds up no append until what
/// it lacks reaches the store's limit: then appends are refused before anything is
/// written (`Behind`: nothing poisoned), never a hang and never memory without end; once
/// sled answers again (here with an error) it is rebuilt from the journal and appends
/// resume.
#[test]
fn a_sled_that_never_returns_holds_up_appends_only_at_the_limit_and_they_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let ledger = base(&dir);
    let (p, store) = stalling(
        &dir,
        4,
        Point::SledWrite,
        SledOptions {
            max_behind: 8 << 10,
            applier_stop: std::time::Duration::from_millis(200),
            ..SledOptions::default()
        },
    );
    let log = Log::open(store).unwrap();
    p.arm();
    let mut acked = BASE;
    let refused = loop {
        match log.append_events(events(ledger, acked, 2), Timestamp(acked)) {
            Ok(_) => acked += 2,
            Err(e) => break e,
        }
        assert!(acked < BASE + 1_000, "never refused: memory without end");
    };
    assert!(matches!(refused, StoreError::Behind { .. }), "{refused:?}");
    assert!(
        refused.to_string().contains("nothing was written"),
        "{refused}"
    );
    assert_eq!(log.head().unwrap().size, acked, "nothing written");
    assert!(
        !log.is_poisoned(),
        "a refusal before writing poisons nothing"
    );
    // Every acknowledged record reads back while sled stalls.
    for seq in 0..acked {
        assert!(log.record(seq).unwrap().is_some());
    }
    assert_eq!(
        p.injected().get(&(Point::SledWrite, Fault::Stall)),
        Some(&1)
    );
    // sled answers (with an error): rebuilt from the journal, and appends resume.
    p.release();
    assert!(log.store().settle(std::time::Duration::from_secs(60)));
    log.append_events(events(ledger, acked, 2), Timestamp(acked))
        .expect("appends resume");
    acked += 2;
    assert_eq!(log.verify_all().unwrap().size, acked);
    drop(log);
    let out = Outcome {
        acked,
        ..Outcome::default()
    };
    recovered(&dir, ledger, &out, "after a stalled sled");
}

/// The hang of issue 29's `export`: a sled read that never returns. Every read of sled
/// waits at most the store's read bound: the read is answered with an error naming the
/// stall, sled is rebuilt from the journal while the store runs (beside the one stuck),
/// and every record reads back from the rebuilt sled — with the stuck read still stuck.
#[test]
fn a_sled_read_that_never_returns_ends_in_an_answer_and_sled_is_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let ledger = base(&dir);
    let (p, store) = stalling(
        &dir,
        6,
        Point::SledRead,
        SledOptions {
            read_bound: std::time::Duration::from_millis(300),
            applier_stop: std::time::Duration::from_millis(300),
            ..SledOptions::default()
        },
    );
    let log = Arc::new(Log::open(store).unwrap());
    log.append_events(events(ledger, BASE, 3), Timestamp(BASE))
        .unwrap();
    let acked = BASE + 3;
    // Everything in sled, so that reads go to it.
    assert!(log.store().settle(std::time::Duration::from_secs(60)));
    p.arm();
    // Read on another thread, so that a hang fails this test instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = Arc::clone(&log);
    std::thread::spawn(move || {
        let r: Result<Vec<_>, StoreError> = reader.records(0, acked).collect();
        let _ = tx.send(r.map(|v| v.len()));
    });
    let answer = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("a read of a stalled sled is answered, not left hanging");
    let err = answer.expect_err("the stalled read is an error, not records");
    assert!(err.to_string().contains("did not answer"), "{err}");
    assert_eq!(
        p.injected().get(&(Point::SledRead, Fault::Stall)),
        Some(&1),
        "the stall fired"
    );
    // sled is rebuilt from the journal by itself, the stuck read still stuck; every
    // record reads back and appends go on.
    assert!(log.store().settle(std::time::Duration::from_secs(60)));
    assert_eq!(log.store().lag().map(|l| l.rebuilds), Some(1));
    assert_eq!(
        log.records(0, acked)
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .len() as u64,
        acked
    );
    log.append_events(events(ledger, acked, 2), Timestamp(acked))
        .unwrap();
    assert_eq!(log.verify_all().unwrap().size, acked + 2);
    p.release();
    drop(log);
    let out = Outcome {
        acked: acked + 2,
        ..Outcome::default()
    };
    recovered(&dir, ledger, &out, "after a stalled sled read");
}

/// CI's hang at stop 36 (`random_stalls…`, seed 1796638380413315346 run 6): opening a
/// store whose sled must be brought up to the journal (here sled is gone; there it was
/// damaged and rebuilt) wrote sled on the opening thread with no bound, and a sled write
/// that never returned hung the open for ever. An open now answers: once no storage call
/// has started for its bound it fails, naming the stall, the stuck call left on its own
/// thread; once that call returns, the next open finishes the job with nothing lost.
#[test]
fn an_open_whose_sled_write_never_returns_ends_in_an_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let ledger = base(&dir);
    std::fs::remove_dir_all(dir.join("sled")).unwrap();
    let p = Arc::new(plan(
        8,
        Rule::Nth {
            points: vec![Point::SledWrite],
            n: 0,
            fault: Fault::Stall,
        },
    ));
    let (tx, rx) = std::sync::mpsc::channel();
    let (d, faults) = (dir.clone(), Faults::plan(Arc::clone(&p)));
    std::thread::spawn(move || {
        let r = SledStore::open_with(
            &d,
            SledOptions {
                faults,
                open_bound: std::time::Duration::from_millis(300),
                ..SledOptions::default()
            },
        )
        .map(drop);
        let _ = tx.send(r);
    });
    let answer = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("an open whose sled never answers is answered, not left hanging");
    let err = answer.expect_err("the stalled open is an error");
    assert!(err.to_string().contains("did not answer"), "{err}");
    assert_eq!(
        p.injected().get(&(Point::SledWrite, Fault::Stall)),
        Some(&1),
        "the stall fired"
    );
    // While the stuck call holds the store, another open is refused as locked, not hung.
    assert!(matches!(
        SledStore::open(&dir),
        Err(StoreError::Locked { .. })
    ));
    p.release();
    let out = Outcome {
        acked: BASE,
        ..Outcome::default()
    };
    recovered(&dir, ledger, &out, "after an open that stalled");
}
