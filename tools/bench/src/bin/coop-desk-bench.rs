//! coop-desk-bench: an authority's inbox and outbox at 10^5 cases (issue 27).
//!
//! Builds the state of a ledger of N cases between KZ-MVD (requesting) and TM-MVD
//! (requested) — a third still open, a third accepted, a third closed — by folding
//! signed records through the rules, then times the first page of TM-MVD's inbox and
//! KZ-MVD's outbox (median of 7), each as a ratio to the limit measured in the same
//! run: one bare pass over the state's cases (the least any view of every case costs).
//! Memory: resident size after the state is built, and the peak.
//!
//! Usage: cargo run --release -p coop-bench --bin coop-desk-bench -- [--cases N]

// A benchmark's output is its product.
#![allow(clippy::print_stdout)]

use anyhow::Context as _;
use coop_bench::{T0, peak_rss, rss};
use coop_core::{CHAIN_SEED, CaseRef, EventId, LedgerId, Record, Timestamp};
use coop_ledger::read::{At, DeskQuery, inbox, outbox};
use coop_treaty::testkit::{self, request_to};
use coop_treaty::{Payload, State};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn median(mut f: impl FnMut() -> Duration) -> Duration {
    let mut runs: Vec<Duration> = (0..7).map(|_| f()).collect();
    runs.sort();
    runs.get(3).copied().unwrap_or_default()
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let cases: u64 = match args.iter().position(|a| a == "--cases") {
        Some(i) => args.get(i + 1).context("--cases N")?.parse()?,
        None => 100_000,
    };
    let keys = testkit::keys();
    let genesis = coop_bench::genesis(&keys)?;
    let ledger = LedgerId::from_genesis_body(&genesis.body.to_bytes()?);
    let mut state = State::default();
    let mut chain = CHAIN_SEED;
    let mut fold = |state: &mut State, ev: coop_core::SignedEvent| -> anyhow::Result<()> {
        let seq = state.size;
        let r = Record {
            seq,
            prev_chain: chain,
            received_at: Timestamp(T0 + seq),
            governance: state.governance.head,
            event: ev,
        }
        .seal()?;
        state
            .step(&r.record)
            .map_err(|v| anyhow::anyhow!("record {seq}: {v}"))?;
        chain = r.chain;
        Ok(())
    };
    fold(&mut state, genesis)?;
    for ev in coop_bench::constitution(&keys, ledger)? {
        fold(&mut state, ev)?;
    }
    let started = Instant::now();
    for n in 0..cases {
        let mut case = [0u8; 16];
        case[..8].copy_from_slice(&n.to_be_bytes());
        case[8] = 0xDE;
        let steps: &[(&str, Payload)] = match n % 3 {
            0 => &[("KZ-MVD", Payload::Request(Box::new(request_to("TM-MVD"))))],
            1 => &[
                ("KZ-MVD", Payload::Request(Box::new(request_to("TM-MVD")))),
                ("TM-MVD", Payload::Acknowledged),
            ],
            _ => &[
                ("KZ-MVD", Payload::Request(Box::new(request_to("TM-MVD")))),
                ("KZ-MVD", Payload::CaseClosed),
            ],
        };
        for (v, (signer, payload)) in steps.iter().enumerate() {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&n.to_be_bytes());
            id[8] = v as u8;
            id[9] = 0xD5;
            let ev = testkit::sign(
                keys.get(*signer).context("fixture key")?,
                signer,
                Some(ledger),
                EventId(id),
                Timestamp(T0 + state.size),
                Some(CaseRef {
                    case_id: coop_core::CaseId(case),
                    expected_version: v as u64,
                }),
                vec![],
                payload,
            )?;
            fold(&mut state, ev)?;
        }
    }
    println!(
        "built {} cases ({} records) in {:.1} s; resident {:.0} MiB",
        state.cases.len(),
        state.size,
        started.elapsed().as_secs_f64(),
        rss().unwrap_or(0) as f64 / (1 << 20) as f64
    );
    let now = Timestamp(T0 + state.size + 3_600_000);
    let at = At::new(state, None, || now);
    let tm = testkit::id("TM-MVD");
    let kz = testkit::id("KZ-MVD");
    // The limit: one bare pass over every case.
    let scan = median(|| {
        let t = Instant::now();
        let open = at
            .state
            .cases
            .values()
            .filter(|c| c.requested == tm && c.final_answer.is_none())
            .count();
        black_box(open);
        t.elapsed()
    });
    let mut tasks = 0;
    let first_page = median(|| {
        let t = Instant::now();
        let page = inbox(&at, &tm, &DeskQuery::default());
        tasks = page.total;
        black_box(page);
        t.elapsed()
    });
    let mut waiting = 0;
    let out = median(|| {
        let t = Instant::now();
        let page = outbox(&at, &kz, 0, 50);
        waiting = page.total;
        black_box(page);
        t.elapsed()
    });
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "limit: one pass over {} cases: {:.2} ms",
        at.state.cases.len(),
        ms(scan)
    );
    println!(
        "inbox of TM-MVD, first page of {tasks} tasks: {:.2} ms = {:.1}x the limit",
        ms(first_page),
        ms(first_page) / ms(scan)
    );
    println!(
        "outbox of KZ-MVD, first page of {waiting} open requests: {:.2} ms = {:.1}x the limit",
        ms(out),
        ms(out) / ms(scan)
    );
    println!(
        "peak resident memory: {:.0} MiB",
        peak_rss().unwrap_or(0) as f64 / (1 << 20) as f64
    );
    Ok(())
}
