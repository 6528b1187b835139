//! `coop-fuzz`: runs the fuzz targets (all, or those named) for a bounded time each, on
//! `--jobs` threads, and saves every input that makes a target panic under `--out`.
//!
//! Usage: coop-fuzz [--secs N] [--seed S] [--jobs J] [--out DIR] [--list] [TARGET...]
//! CI runs `--secs 20` with a seed from the commit (docs/FORMAT.md §17 gives the long
//! run). Exit 1 if anything crashed.

// A command-line tool's output is its product.
#![allow(clippy::print_stdout)]

use anyhow::{Context as _, bail};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let mut secs = 10u64;
    let mut seed = 1u64;
    let mut jobs = 2usize;
    let mut out = PathBuf::from("target/fuzz-crashes");
    let mut names = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--secs" => secs = args.next().context("--secs N")?.parse()?,
            "--seed" => seed = args.next().context("--seed S")?.parse()?,
            "--jobs" => jobs = args.next().context("--jobs J")?.parse::<usize>()?.max(1),
            "--out" => out = args.next().context("--out DIR")?.into(),
            "--list" => {
                for t in coop_fuzz::targets() {
                    println!("{:<10} {}", t.name, t.about);
                }
                return Ok(());
            }
            "-h" | "--help" => {
                println!(
                    "usage: coop-fuzz [--secs N] [--seed S] [--jobs J] [--out DIR] [--list] [TARGET...]"
                );
                return Ok(());
            }
            other => names.push(other.to_owned()),
        }
    }
    let all = coop_fuzz::targets();
    let chosen: Vec<_> = if names.is_empty() {
        all
    } else {
        let mut v = Vec::new();
        for n in &names {
            v.push(
                *all.iter()
                    .find(|t| t.name == n)
                    .with_context(|| format!("no target {n} (see --list)"))?,
            );
        }
        v
    };
    // Panics are expected and caught; keep their messages out of the report.
    std::panic::set_hook(Box::new(|_| {}));
    println!(
        "fuzzing {} targets, {secs} s each, seed {seed}, {jobs} at a time",
        chosen.len()
    );
    let queue = std::sync::Mutex::new(chosen.into_iter());
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.next());
                    let Some(t) = next else { break };
                    let started = Instant::now();
                    let o =
                        coop_fuzz::fuzz(&t, seed, started + Duration::from_secs(secs), u64::MAX);
                    if let Ok(mut r) = results.lock() {
                        r.push((t.name, o, started.elapsed()));
                    }
                }
            });
        }
    });
    let mut crashed = 0;
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(n, _, _)| *n);
    for (name, o, took) in results {
        println!(
            "{name:<10} {:>10} inputs in {took:.1?} ({:.0}/s), {} crashes",
            o.runs,
            o.runs as f64 / took.as_secs_f64().max(1e-9),
            o.crashes.len()
        );
        for (input, msg) in o.crashes.iter().take(20) {
            std::fs::create_dir_all(out.join(name))?;
            let file = out.join(name).join(format!("crash-{:016x}", fnv(input)));
            std::fs::write(&file, input)?;
            println!("  {}: {msg}", file.display());
            crashed += 1;
        }
    }
    if crashed > 0 {
        bail!(
            "{crashed} crashing inputs saved under {}: copy each to tools/fuzz/regressions/<target>/ once fixed",
            out.display()
        );
    }
    Ok(())
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, x| {
        (h ^ u64::from(*x)).wrapping_mul(0x100_0000_01b3)
    })
}
