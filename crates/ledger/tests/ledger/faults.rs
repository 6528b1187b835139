//! The engine under deterministic storage faults (docs/adr/0022): writes, syncs and reads
//! failed, torn, crashed or stalled under a running ledger. For every submission:
//!
//! - a receipt means the event is there after the next open (with no manual repair);
//! - "nothing was written" means it is not;
//! - "may have landed" may go either way — and every answer comes within the storage
//!   bound, as does stopping the ledger, even when a flush never returns.
//!
//! Each test asserts its faults fired; `COOP_FAULTS_OFF=1` turns injection off, and then
//! they fail. Random runs print their seed; `COOP_FAULT_SEED=N` replays one.

use crate::engine::{Env, env, node_key};
use coop_core::{EventId, SignedEvent};
use coop_ledger::{Config, Ledger, SubmitError};
use coop_store::faults::seed;
use coop_store::{Fault, Faults, Plan, Point, Rule, SledOptions, SledStore};
use coop_treaty::Payload;
use coop_treaty::testkit::request_to;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The storage bound the tests run with: short, so that a stall costs little.
const BOUND: Duration = Duration::from_millis(500);
/// How long a test waits for an answer before calling it a hang: far beyond the bound,
/// so that only a wait that never ends trips it, not a slow machine.
const HANG: Duration = Duration::from_secs(120);

fn plan(seed: u64, rule: Rule) -> Plan {
    coop_store::faults::plan_from_env(seed, rule).unarmed()
}

fn copy_dir(from: &Path, to: &Path) {
    coop_store::faults::copy_dir(from, to).expect("copy a store directory");
}

/// Runs `f` on its own thread and returns its answer; a test failure if none comes
/// within [`HANG`].
fn answered<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(HANG)
        .unwrap_or_else(|_| panic!("{what}: no answer within {HANG:?}: it hangs"))
}

/// Opens `dir` with no fault, once the threads a stall left behind (released now) have
/// let go of it: they hold the directory's lock until they end.
fn reopen(dir: &Path) -> Result<Ledger<SledStore>, String> {
    loop {
        match SledStore::open(dir) {
            Err(coop_store::StoreError::Locked { .. }) => std::thread::yield_now(),
            Err(e) => return Err(e.to_string()),
            Ok(s) => return Ledger::open(s, node_key(), config()).map_err(|e| e.to_string()),
        }
    }
}

fn config() -> Config {
    Config {
        storage_timeout: BOUND,
        ..Config::default()
    }
}

fn open_under(dir: &Path, faults: Faults) -> Ledger<SledStore> {
    let store = SledStore::open_with(
        dir,
        SledOptions {
            faults,
            applier_stop: BOUND,
            read_bound: BOUND,
            ..SledOptions::default()
        },
    )
    .expect("store");
    Ledger::open(store, node_key(), config()).expect("open")
}

/// A request opening case `n`.
fn request(e: &Env, n: u8) -> SignedEvent {
    e.event(
        "KZ-MVD",
        Some(e.case_ref(n)),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    )
}

/// The hang of issues 24 and 29: sled's flush never returned after an injected write
/// error. The journal is now the log (docs/adr/0027): sled is written behind it, so a
/// flush that never returns stops nothing — both submissions get their receipts from the
/// journal's sync, both read back (from the journal's queue for sled), the store says how
/// far sled is behind, stopping ends, and the next open holds both, with no repair.
#[test]
fn a_flush_that_never_returns_stops_no_append_and_the_ledger_still_stops() {
    let mut e = env();
    if let Some(l) = e.ledger.take() {
        l.shutdown();
    }
    let p = Arc::new(plan(
        1,
        Rule::Nth {
            points: vec![Point::SledFlush],
            n: 0,
            fault: Fault::Stall,
        },
    ));
    e.ledger = Some(open_under(e.dir.path(), Faults::plan(Arc::clone(&p))));
    p.arm();
    let mut ids = Vec::new();
    for n in [1, 2] {
        let ev = request(&e, n);
        ids.push(ev.body.event_id);
        let (back, answer) = answered("a submission while sled's flush stalls", move || {
            let r = e.ledger().submit(ev);
            (e, r)
        });
        e = back;
        let receipt = answer.unwrap_or_else(|err| panic!("submission {n}: {err}"));
        let read = e
            .ledger()
            .record_by_event_id(&ids[n as usize - 1])
            .unwrap()
            .expect("a receipted event reads back");
        assert_eq!(read.record.seq, receipt.seq);
    }
    assert!(e.ledger().failure().is_none(), "{:?}", e.ledger().failure());
    // sled took the first batch and stalls flushing it: it is behind from there.
    answered("sled's flush stalling", {
        let p = Arc::clone(&p);
        move || {
            while p.injected().get(&(Point::SledFlush, Fault::Stall)) != Some(&1) {
                std::thread::yield_now();
            }
        }
    });
    let behind = e
        .ledger()
        .storage_lag()
        .expect("a sled store reports its lag");
    assert!(behind.batches >= 1, "{behind:?}");
    let ledger = e.ledger.take().expect("ledger");
    answered("stopping a ledger whose sled flush is stuck", move || {
        ledger.shutdown()
    });
    // The stuck flush returns (with an error) once the disk "answers".
    p.release();
    let reopened = answered("reopening after the stall", {
        let dir = e.dir.path().to_path_buf();
        move || reopen(&dir).expect("reopens by itself")
    });
    for id in &ids {
        assert!(
            reopened.record_by_event_id(id).unwrap().is_some(),
            "a receipted event is lost"
        );
    }
}

/// What became of each submission.
#[derive(Debug, Default)]
struct Answers {
    landed: BTreeMap<EventId, u64>,
    not_written: Vec<EventId>,
    maybe: Vec<EventId>,
}

/// Random write, sync, read, crash and stall faults under a running ledger, many runs
/// from one printed seed.
#[test]
fn random_storage_faults_under_the_engine_lose_no_receipt_and_every_answer_comes() {
    let seed = seed("engine faults");
    let runs: u64 = std::env::var("COOP_SIM_ENGINE_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut base = env();
    if let Some(l) = base.ledger.take() {
        l.shutdown();
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut tally: BTreeMap<Fault, u64> = BTreeMap::new();
    let points = vec![
        Point::JournalWrite,
        Point::JournalSync,
        Point::DirSync,
        Point::SledWrite,
        Point::SledFlush,
        Point::SledRead,
        Point::FreeSpace,
    ];
    for i in 0..runs {
        let run = tmp.path().join(format!("run-{i}"));
        let image = tmp.path().join(format!("image-{i}"));
        copy_dir(base.dir.path(), &run);
        // The first runs put one fault of each kind at a fixed call (so every kind surely
        // fires); the rest draw faults at random, one run in eight with stalls (each
        // stall costs the bound).
        let kinds = [
            Fault::Eio,
            Fault::Enospc,
            Fault::TornWrite,
            Fault::Crash,
            Fault::Panic,
        ];
        let rule = match kinds.get(i as usize) {
            Some(&fault) => Rule::Nth {
                points: points
                    .iter()
                    .copied()
                    .filter(|p| Plan::fits(fault, *p))
                    .collect(),
                n: 2,
                fault,
            },
            None => {
                let mut faults = kinds.to_vec();
                if i % 8 == 7 {
                    faults.push(Fault::Stall);
                }
                Rule::Random {
                    points: points.clone(),
                    per_million: 60_000,
                    faults,
                }
            }
        };
        let p = Arc::new(plan(seed.wrapping_add(i), rule).crash_image(&run, &image));
        base.ledger = Some(open_under(&run, Faults::plan(Arc::clone(&p))));
        p.arm();
        let mut answers = Answers::default();
        for n in 1..=12u8 {
            let ev = request(&base, n);
            let id = ev.body.event_id;
            let ledger = base.ledger.take().expect("ledger");
            let (ledger, r) = answered("a submission under faults", move || {
                let r = ledger.submit(ev);
                (ledger, r)
            });
            base.ledger = Some(ledger);
            match r {
                Ok(receipt) => {
                    answers.landed.insert(id, receipt.seq);
                }
                Err(SubmitError::MayHaveLanded(_)) => answers.maybe.push(id),
                Err(_) => answers.not_written.push(id),
            }
        }
        let ledger = base.ledger.take().expect("ledger");
        answered("stopping under faults", move || ledger.shutdown());
        p.release();
        for ((_, f), n) in p.injected() {
            *tally.entry(f).or_default() += n;
        }
        let what = format!(
            "seed {seed} run {i} (COOP_FAULT_SEED={seed} replays it): injected {:?}, answers {answers:?}",
            p.injected()
        );
        let after = if p.crashed() {
            image.clone()
        } else {
            run.clone()
        };
        let reopened = answered("reopening after faults", move || reopen(&after))
            .unwrap_or_else(|e| panic!("{what}: does not reopen by itself: {e}"));
        for (id, seq) in &answers.landed {
            let r = reopened
                .record_by_event_id(id)
                .unwrap()
                .unwrap_or_else(|| panic!("{what}: a receipted event is lost"));
            assert_eq!(r.record.seq, *seq, "{what}");
        }
        for id in &answers.not_written {
            assert!(
                reopened.record_by_event_id(id).unwrap().is_none(),
                "{what}: an event answered 'nothing was written' is there"
            );
        }
        drop(reopened);
        let _ = std::fs::remove_dir_all(&run);
        let _ = std::fs::remove_dir_all(&image);
    }
    eprintln!("seed {seed}: {runs} runs; injected {tally:?}");
    for k in [
        Fault::Eio,
        Fault::Enospc,
        Fault::TornWrite,
        Fault::Crash,
        Fault::Panic,
    ] {
        assert!(
            tally.get(&k).copied().unwrap_or(0) > 0,
            "no {k:?} was injected ({tally:?}): a fault test that injects nothing tests nothing"
        );
    }
}
