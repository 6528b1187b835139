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
    let a = args()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
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
    let limit = (before + verify_rate_threads(2)?) / 2.0;
    let rate_small = report("small", size_small, &small, limit);

    let t = Instant::now();
    fill(&ledger, a.large, &mut next_case)?;
    let size_large = ledger.head().map_err(|e| anyhow::anyhow!("{e}"))?.size;
    println!("filled to {size_large} records in {:.1?}", t.elapsed());
    let w = workload(&keys, ledger_id, next_case, window_cases)?;
    let before = verify_rate_threads(2)?;
    let large = drive(&in_process(&ledger), w, a.submitters, a.inflight)?;
    let limit = (before + verify_rate_threads(2)?) / 2.0;
    let rate_large = report("large", size_large, &large, limit);

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
    println!(
        "large vs small: {:+.1}% throughput",
        100.0 * (rate_large - rate_small) / rate_small
    );
    let t = Instant::now();
    ledger.shutdown();
    let shut = t.elapsed();
    let t = Instant::now();
    let store = SledStore::open(&dir)?;
    let store_open = t.elapsed();
    let t = Instant::now();
    let reopened = Ledger::open(
        store,
        coop_bench::node_key(),
        Config {
            clock: coop_bench::clock(),
            ..Config::default()
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "reopen of {} records: {:.1?} (shutdown {shut:.1?}; store open, journal tail and sled read through {store_open:.1?}; store check and full replay {:.1?})",
        reopened.head().map_err(|e| anyhow::anyhow!("{e}"))?.size,
        shut + store_open + t.elapsed(),
        t.elapsed()
    );
    Ok(())
}
