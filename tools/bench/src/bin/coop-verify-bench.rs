//! coop-verify-bench: the auditor's offline verification rate, as a ratio to the
//! machine's own strict signature verification rate on two cores measured in the same
//! run, and its peak memory at two ledger sizes.
//!
//! It builds export files of a realistic ledger (the fixture constitution, then cases
//! of six events: request, acknowledgement, restricted transfer, use, execution,
//! closing; a checkpoint every 100,000 records), then verifies each in a fresh child
//! process (so that peak memory is the verifier's own) and prints records/s, the ratio,
//! and peak resident memory.
//!
//! Usage: cargo run --release -p coop-bench --bin coop-verify-bench -- [--small N] [--large N] [--keep DIR]

// A benchmark's output is its product.
#![allow(clippy::print_stdout)]

use anyhow::{Context as _, bail};
use coop_bench::{case_events, peak_rss, verify_rate, verify_rate_threads};
use coop_core::checkpoint::{Checkpoint, sign_checkpoint};
use coop_core::merkle::{Blake3Hasher, Frontier};
use coop_core::{CHAIN_SEED, LedgerId, Record, SignedEvent, Timestamp};
use coop_treaty::testkit;
use coop_verify::{ExportReader, ExportWriter, Options, Quiet};
use rayon::prelude::*;
use std::io::{BufReader, BufWriter};
use std::path::Path;
use std::time::Instant;

const CHECKPOINT_EVERY: u64 = 100_000;

/// Writes an export of about `records` records.
fn build(path: &Path, records: u64) -> anyhow::Result<u64> {
    let keys = testkit::keys();
    let genesis = coop_bench::genesis(&keys)?;
    let ledger = LedgerId::from_genesis_body(&genesis.body.to_bytes()?);
    let node_key = coop_bench::node_key();
    let mut w = ExportWriter::new(
        BufWriter::new(std::fs::File::create(path)?),
        &[coop_core::checkpoint::node_verifier(&ledger, node_key.public()).to_vkey()],
    )?;
    // The governance head every record states: the governance records are the genesis and
    // the constitution, written first; the treaty computes the chain as it checks them.
    let mut state = coop_treaty::State::default();
    let mut frontier = Frontier::<Blake3Hasher>::new();
    let mut chain = CHAIN_SEED;
    let mut write = |w: &mut ExportWriter<_>, ev: SignedEvent| -> anyhow::Result<()> {
        let seq = frontier.size();
        let r = Record {
            seq,
            prev_chain: chain,
            received_at: Timestamp(coop_bench::T0),
            governance: state.governance.head,
            event: ev,
        }
        .seal()?;
        if state.governance.seqs.len() < 8 {
            // Only the first records are governance: fold them to follow the chain.
            state
                .step(&r.record)
                .map_err(|v| anyhow::anyhow!("record {seq}: {v}"))?;
        }
        frontier.push(r.leaf, |_, _, _| {});
        chain = r.chain;
        w.record(&r.bytes)?;
        if frontier.size().is_multiple_of(CHECKPOINT_EVERY) {
            let cp = Checkpoint {
                ledger_id: ledger,
                size: frontier.size(),
                root: frontier.root(),
                chain_head: chain,
                time: Timestamp(coop_bench::T0),
            };
            w.checkpoint(&sign_checkpoint(&cp, &node_key)?)?;
        }
        Ok(())
    };
    write(&mut w, genesis)?;
    for ev in coop_bench::constitution(&keys, ledger)? {
        write(&mut w, ev)?;
    }
    let cases = records.saturating_sub(8) / 6;
    let batch = 20_000u64;
    let mut first = 0;
    while first < cases {
        let n = batch.min(cases - first);
        let signed: Vec<Vec<SignedEvent>> = (first..first + n)
            .into_par_iter()
            .map(|c| case_events(&keys, ledger, c))
            .collect::<anyhow::Result<_>>()?;
        for ev in signed.into_iter().flatten() {
            write(&mut w, ev)?;
        }
        first += n;
    }
    let (_, n) = w.finish()?;
    Ok(n)
}

/// In the child: verify one file, print `records seconds peak_bytes`.
fn verify_one(path: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut r = ExportReader::new(BufReader::new(std::fs::File::open(path)?))?;
    let v = coop_verify::verify(
        &mut r,
        &Options {
            nodes: Vec::new(),
            ..Options::default()
        },
        &mut Quiet,
    )
    .map_err(|e| anyhow::anyhow!("verification failed: {e}"))?;
    let secs = started.elapsed().as_secs_f64();
    if !v.report.held() {
        bail!("Article 7 report does not hold");
    }
    println!("{} {secs} {}", v.size, peak_rss().unwrap_or(0));
    Ok(())
}

struct Measured {
    records: u64,
    rate: f64,
    peak: u64,
}

fn measure(path: &Path) -> anyhow::Result<Measured> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .arg("verify-one")
        .arg(path)
        .output()?;
    if !out.status.success() {
        bail!("child failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8(out.stdout)?;
    let mut f = text.split_whitespace();
    let records: u64 = f.next().context("records")?.parse()?;
    let secs: f64 = f.next().context("seconds")?.parse()?;
    let peak: u64 = f.next().context("peak")?.parse()?;
    Ok(Measured {
        records,
        rate: records as f64 / secs,
        peak,
    })
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut small = 100_000u64;
    let mut large = 1_000_000u64;
    let mut keep: Option<String> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "verify-one" => return verify_one(&args.next().context("file")?),
            "--small" => small = args.next().context("--small N")?.parse()?,
            "--large" => large = args.next().context("--large N")?.parse()?,
            "--keep" => keep = Some(args.next().context("--keep DIR")?),
            "-h" | "--help" => {
                println!("usage: coop-verify-bench [--small N] [--large N] [--keep DIR]");
                return Ok(());
            }
            other => bail!("unknown argument {other}"),
        }
    }
    let tmp = coop_bench::scratch("coop-verify-bench-")?;
    let dir = keep.map_or_else(|| tmp.path().to_path_buf(), Into::into);
    std::fs::create_dir_all(&dir)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{}", coop_bench::curve_backend());
    let mut results = Vec::new();
    for size in [small, large] {
        let path = dir.join(format!("ledger-{size}.export"));
        if !path.exists() {
            let t = Instant::now();
            let n = build(&path, size)?;
            println!("built an export of {n} records in {:.1?}", t.elapsed());
        }
        // The limit, measured right before and right after each run on the same machine.
        let single = verify_rate()?;
        let before = verify_rate_threads(2)?;
        let m = measure(&path)?;
        let two = (before + verify_rate_threads(2)?) / 2.0;
        let met = |ok: bool| if ok { "met" } else { "MISSED" };
        println!(
            "verify {} records: {:.0} records/s = {:.0}% of two cores' verify_strict ({two:.0}/s measured on two threads; single thread {single:.0}/s; {cores} cores; goal ≥ 90%: {}); peak memory {:.1} MiB{}",
            m.records,
            m.rate,
            100.0 * m.rate / two,
            met(m.rate >= 0.9 * two),
            m.peak as f64 / (1024.0 * 1024.0),
            if m.records >= 900_000 {
                format!(" (goal ≤ 250 MiB at 10^6: {})", met(m.peak <= 250 << 20))
            } else {
                String::new()
            }
        );
        results.push(m);
    }
    if let [s, l] = results.as_slice() {
        println!(
            "peak memory at {} records is {:+.1}% of that at {}",
            l.records,
            100.0 * (l.peak as f64 - s.peak as f64) / s.peak as f64,
            s.records
        );
    }
    Ok(())
}
