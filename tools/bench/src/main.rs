//! coop-bench: durable append throughput of the engine, as a ratio to the machine's own
//! strict signature verification rate measured in the same run.
//!
//! It measures, in order:
//! 1. the `verify_strict` rate on event-sized messages, on one thread and on two threads
//!    at once (the latter, measured right before and after each window, is the limit);
//! 2. durable appends (sled, fsync per group commit) of a realistic mix — request,
//!    acknowledgement, restricted transfer, use, execution report, closing — from many
//!    concurrent submitters, each waiting for its receipt (closed loop), in a window
//!    starting at a small ledger (10^4 records by default);
//! 3. after filling the ledger to a large size (10^6 by default), the same window again.
//!
//! Events are signed before timing starts: agencies sign on their own machines.
//!
//! Usage: cargo run --release -p coop-bench -- [--submitters N] [--window N]
//!        [--small N] [--large N] [--dir PATH]

// A benchmark's output is its product.
#![allow(clippy::print_stdout)]

use anyhow::{Context as _, bail};
use coop_bench::{case_events, drive, in_process, report, verify_rate, verify_rate_threads};
use coop_core::{SecretKey, SignedEvent};
use coop_ledger::{Config, Ledger};
use coop_store::SledStore;
use coop_treaty::testkit;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::time::Instant;

struct Args {
    submitters: usize,
    inflight: usize,
    window: usize,
    small: usize,
    large: usize,
    dir: Option<String>,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        submitters: 32,
        inflight: 16,
        window: 60_000,
        small: 10_000,
        large: 1_000_000,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--submitters" => a.submitters = val()?.parse()?,
            "--inflight" => a.inflight = val()?.parse()?,
            "--window" => a.window = val()?.parse()?,
            "--small" => a.small = val()?.parse()?,
            "--large" => a.large = val()?.parse()?,
            "--dir" => a.dir = Some(val()?),
            "-h" | "--help" => {
                println!(
                    "usage: coop-bench [--submitters N] [--inflight N] [--window N] [--small N] [--large N] [--dir PATH]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(a)
}

/// How far sled was behind the journal when `what` ended (docs/adr/0027), and how long
/// it took to catch up: receipts wait for the journal only, so a sled that could not
/// keep up would show here, not in the rate.
fn behind(ledger: &Ledger<SledStore>, what: &str) {
    let Some(lag) = ledger.storage_lag() else {
        return;
    };
    let t = Instant::now();
    let mut now = lag.clone();
    while now.batches > 0 && now.failed.is_none() && t.elapsed().as_secs() < 300 {
        std::thread::sleep(std::time::Duration::from_millis(5));
        now = ledger.storage_lag().unwrap_or_default();
    }
    println!(
        "sled at the end of {what}: {} records ({} batches, {:.1} MiB) behind the journal, the oldest waiting {} ms; caught up {:.0?} later{}",
        lag.records,
        lag.batches,
        lag.bytes as f64 / (1 << 20) as f64,
        lag.oldest_ms,
        t.elapsed(),
        now.failed
            .map_or(String::new(), |f| format!(" (FAILED: {f})"))
    );
}

/// Signs `cases` cases starting at `first` on all cores.
fn workload(
    keys: &BTreeMap<String, SecretKey>,
    ledger: coop_core::LedgerId,
    first: u64,
    cases: u64,
) -> anyhow::Result<Vec<Vec<SignedEvent>>> {
    (first..first + cases)
        .into_par_iter()
        .map(|c| case_events(keys, ledger, c))
        .collect()
}

fn main() -> anyhow::Result<()> {
    let mut raw = std::env::args().skip(1);
    if raw.next().as_deref() == Some("reopen") {
        return reopen(&raw.next().context("reopen DIR")?);
    }
    let a = args()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{}", coop_bench::curve_backend());
    let single = verify_rate()?;
    let two = verify_rate_threads(2)?;
    println!(
        "machine: {cores} cores; verify_strict single-thread: {single:.0}/s; two threads at once: {two:.0}/s"
    );

    let tmp;
    let dir = match &a.dir {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            tmp = coop_bench::scratch("coop-bench-")?;
            tmp.path().to_path_buf()
        }
    };
    let keys = testkit::keys();
    let genesis = coop_bench::genesis(&keys)?;
    let config = Config {
        checkpoint_every: 100_000,
        clock: coop_bench::clock(),
        ..Config::default()
    };
    let (ledger, _) = Ledger::create(
        SledStore::open(&dir)?,
        genesis,
        coop_bench::node_key(),
        config,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ledger_id = ledger.ledger_id().context("ledger id")?;
    for ev in coop_bench::constitution(&keys, ledger_id)? {
        ledger.submit(ev).map_err(|e| anyhow::anyhow!("{e}"))?;
    }

    let mut next_case = 0u64;
    let fill =
        |ledger: &Ledger<SledStore>, target: usize, next_case: &mut u64| -> anyhow::Result<()> {
            let have = ledger.head().map_err(|e| anyhow::anyhow!("{e}"))?.size as usize;
            if target > have {
                let cases = ((target - have) / 6) as u64;
                let w = workload(&keys, ledger_id, *next_case, cases)?;
                *next_case += cases;
                drive(&in_process(ledger), w, a.submitters, a.inflight)?;
            }
            Ok(())
        };
    let window_cases = (a.window / 6) as u64;

    fill(&ledger, a.small, &mut next_case)?;
    let size_small = ledger.head().map_err(|e| anyhow::anyhow!("{e}"))?.size;
    let w = workload(&keys, ledger_id, next_case, window_cases)?;
    next_case += window_cases;
    let before = verify_rate_threads(2)?;
    let small = drive(&in_process(&ledger), w, a.submitters, a.inflight)?;
    let limit_small = (before + verify_rate_threads(2)?) / 2.0;
    let rate_small = report("small", size_small, &small, limit_small);
    behind(&ledger, "the small window");
    println!(
        "goal at 10^4: ≥ 70% of the limit: {}",
        goal(rate_small >= 0.70 * limit_small)
    );

    let t = Instant::now();
    let before_fill = ledger.head().map_err(|e| anyhow::anyhow!("{e}"))?.size;
    fill(&ledger, a.large, &mut next_case)?;
    let size_large = ledger.head().map_err(|e| anyhow::anyhow!("{e}"))?.size;
    if size_large > before_fill {
        println!("filled to {size_large} records in {:.1?}", t.elapsed());
    } else {
        println!(
            "no fill: the ledger holds {size_large} records, --large {} asked for no more",
            a.large
        );
    }
    behind(&ledger, "the fill");
    // The node snapshots its state at its first idle moment after the fill (a second
    // without submissions); wait for it, so the window measures appends, not the
    // snapshot's encode.
    let t = Instant::now();
    while ledger.snapshot_due() && t.elapsed() < std::time::Duration::from_secs(300) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    if ledger.snapshot_due() {
        println!(
            "the idle node took no snapshot within {:.1?} of the fill: the window may hold its encode",
            t.elapsed()
        );
    } else {
        println!(
            "the idle node's snapshot is of {} records, {:.1?} after the fill (one idle second included if one was due)",
            ledger.snapshot_seq(),
            t.elapsed()
        );
    }
    let w = workload(&keys, ledger_id, next_case, window_cases)?;
    let before = verify_rate_threads(2)?;
    let large = drive(&in_process(&ledger), w, a.submitters, a.inflight)?;
    let limit = (before + verify_rate_threads(2)?) / 2.0;
    let rate_large = report("large", size_large, &large, limit);
    behind(&ledger, "the large window");
    println!(
        "goal at 10^6: ≥ 65% of the limit: {}",
        goal(rate_large >= 0.65 * limit)
    );

    let m = ledger.metrics();
    println!(
        "batches: {} for {} events (mean {:.0}, largest {}); mean write per batch {:.2} ms; writer busy {:.1} us per event; {} fdatasyncs, mean {:.2} ms; refusals: {:?}",
        m.batches,
        m.appended,
        m.appended as f64 / m.batches.max(1) as f64,
        m.largest_batch,
        m.commit_micros as f64 / 1000.0 / m.batches.max(1) as f64,
        m.writer_micros as f64 / m.appended.max(1) as f64,
        m.syncs,
        m.sync_micros as f64 / 1000.0 / m.syncs.max(1) as f64,
        m.refusals
    );
    // Judged on the ratios to the limit measured beside each window: this machine's
    // verify_strict rate drifts by up to a fifth between windows a minute apart, and a
    // drop in events/s alone would count that drift as the ledger's.
    let (ratio_small, ratio_large) = (rate_small / limit_small, rate_large / limit);
    println!(
        "large vs small: {:+.1}% in the ratio to the limit, {:+.1}% in events/s (the limit moved {:+.1}%) (goal: a drop of at most 10%: {})",
        100.0 * (ratio_large - ratio_small) / ratio_small,
        100.0 * (rate_large - rate_small) / rate_small,
        100.0 * (limit - limit_small) / limit_small,
        goal(ratio_large >= 0.90 * ratio_small)
    );
    let t = Instant::now();
    ledger.shutdown();
    let shut = t.elapsed();
    let snapshot_bytes = snapshot_size(&dir);
    // Reopened in a fresh process, so its memory is the ledger's own; three times, and
    // judged on the median: one reopen moved by a third between runs (the page cache,
    // the writeback of what the shutdown just wrote).
    let mut runs: Vec<Vec<f64>> = Vec::new();
    for i in 0..REOPENS {
        let out = std::process::Command::new(std::env::current_exe()?)
            .arg("reopen")
            .arg(&dir)
            .output()?;
        if !out.status.success() {
            bail!(
                "the reopen failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if i == 0 {
            for line in String::from_utf8_lossy(&out.stderr).lines() {
                println!("{line}");
            }
        }
        let text = String::from_utf8(out.stdout)?;
        let f: Vec<f64> = text
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        if f.len() != 7 {
            bail!("the reopen printed {text:?}");
        }
        runs.push(f);
    }
    let total = |f: &Vec<f64>| f.get(2).copied().unwrap_or(0.0) + f.get(3).copied().unwrap_or(0.0);
    runs.sort_by(|a, b| total(a).total_cmp(&total(b)));
    let all = runs
        .iter()
        .map(|f| format!("{:.2}", total(f)))
        .collect::<Vec<_>>()
        .join(", ");
    let Some([size, from, store_open, open, before, after, opened]) =
        runs.get(runs.len() / 2).map(Vec::as_slice)
    else {
        bail!("no reopen");
    };
    let per_record = (after - before) / size;
    println!(
        "reopen of {size} records in a fresh process: {:.2} s, the median of {REOPENS} ({all} s) (goal ≤ 1 s: {}) — store open {store_open:.2} s, ledger open {open:.2} s from a snapshot of {from} records ({:.1} MiB on disk, {:.0} B per record) and a replay of the {} after it; shutdown (final checkpoint and snapshot) {shut:.1?}",
        store_open + open,
        goal(store_open + open <= 1.0),
        snapshot_bytes as f64 / (1024.0 * 1024.0),
        snapshot_bytes as f64 / from.max(1.0),
        size - from,
    );
    println!(
        "memory of the reopened ledger at rest: {:.1} MiB resident beyond the bare process ({:.0} MiB), {per_record:.0} B per record (goal ≤ 500 B beyond sled's fixed cache: {}); of it, the store's open (sled's cache of the pages it read, the event-id index) {:.0} B per record and the ledger's (the treaty state and the tree's frontier) {:.0} B per record",
        (after - before) / (1024.0 * 1024.0),
        before / (1024.0 * 1024.0),
        goal(per_record <= 500.0),
        (opened - before) / size,
        (after - opened) / size,
    );
    Ok(())
}

/// The snapshot encoding's bytes per record of each part of the state.
fn state_parts(s: &coop_treaty::State) -> String {
    let size = s.size.max(1) as f64;
    let bytes = |st: &coop_treaty::State| {
        coop_treaty::snapshot::encode(st).map_or(0, |b| b.len()) as f64 / size
    };
    let all = bytes(s);
    let without = |f: &dyn Fn(&mut coop_treaty::Case)| {
        let mut t = s.clone();
        t.cases = s
            .cases
            .iter()
            .map(|(id, c)| {
                let mut c = c.as_ref().clone();
                f(&mut c);
                (*id, std::sync::Arc::new(c))
            })
            .collect();
        all - bytes(&t)
    };
    let steps = without(&|c| c.steps.clear());
    let only_cases = bytes(&coop_treaty::State {
        cases: s.cases.clone(),
        ..Default::default()
    });
    let register = bytes(&coop_treaty::State {
        register: s.register.clone(),
        ..Default::default()
    });
    format!(
        "state in its snapshot encoding: {all:.0} B per record: cases {only_cases:.0} (their steps {steps:.0}), the Article 7 register {register:.0}, the rest {:.0}",
        all - only_cases - register
    )
}

/// Reopens measured, each in a fresh process.
const REOPENS: usize = 3;

/// "met" or "MISSED".
fn goal(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// Bytes of the newest snapshot file in the store directory.
fn snapshot_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir.join("snapshots"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "snap"))
                .filter_map(|e| e.metadata().ok().map(|m| m.len()))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

/// In the child: opens the ledger at `dir` and prints `size snapshot_seq store_open_s
/// open_s rss_before rss_after`.
fn reopen(dir: &str) -> anyhow::Result<()> {
    let before = coop_bench::rss().unwrap_or(0);
    let t = Instant::now();
    let store = SledStore::open(dir)?;
    let store_open = t.elapsed().as_secs_f64();
    let opened = coop_bench::rss().unwrap_or(0);
    let t = Instant::now();
    let ledger = Ledger::open(
        store,
        coop_bench::node_key(),
        Config {
            clock: coop_bench::clock(),
            ..Config::default()
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let open = t.elapsed().as_secs_f64();
    let size = ledger.head().map_err(|e| anyhow::anyhow!("{e}"))?.size;
    let after = coop_bench::rss().unwrap_or(0);
    // Where the state's bytes are (its snapshot encoding, part by part): the profile of
    // what "state that stays small" has to shrink.
    if let Ok(parts) = ledger.with_state(state_parts) {
        eprintln!("{parts}");
    }
    println!(
        "{size} {} {store_open} {open} {before} {after} {opened}",
        ledger.snapshot_seq()
    );
    Ok(())
}
