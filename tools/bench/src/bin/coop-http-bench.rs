//! coop-http-bench: appends over HTTP beside the same appends in process, on one durable
//! sled ledger, each as a ratio to two threads' `verify_strict` rate measured in the same
//! run.
//!
//! A node (`coop_node::run`) serves the ledger on 127.0.0.1; client threads sharing one
//! client (a pool of keep-alive connections) submit pre-signed events of six-event cases and wait
//! for every receipt (closed loop), checking each receipt's signature. The in-process
//! window uses the same workload and the same number of events.
//!
//! Usage: cargo run --release -p coop-bench --bin coop-http-bench -- [--events N] [--clients N]

// A benchmark's output is its product.
#![allow(clippy::print_stdout)]

use anyhow::{Context as _, bail};
use coop_bench::{Run, case_events, drive, in_process, report, verify_rate_threads};
use coop_core::SignedEvent;
use coop_ledger::{Config, Ledger};
use coop_node::{Client, Node, NodeConfig};
use coop_store::SledStore;
use coop_treaty::testkit;
use rayon::prelude::*;
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut events = 30_000u64;
    let mut clients = 64usize;
    let mut batch_clients = 8usize;
    let mut batch = 64usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--events" => events = args.next().context("--events N")?.parse()?,
            "--clients" => clients = args.next().context("--clients N")?.parse()?,
            "--batch-clients" => {
                batch_clients = args.next().context("--batch-clients N")?.parse()?
            }
            "--batch" => batch = args.next().context("--batch N")?.parse()?,
            "-h" | "--help" => {
                println!(
                    "usage: coop-http-bench [--events N] [--clients N] [--batch-clients N] [--batch N]"
                );
                return Ok(());
            }
            other => bail!("unknown argument {other}"),
        }
    }
    let dir = coop_bench::scratch("coop-http-bench-")?;
    let keys = testkit::keys();
    let node_key = coop_bench::node_key();
    let node_public = node_key.public();
    let (ledger, _) = Ledger::create(
        SledStore::open(dir.path())?,
        coop_bench::genesis(&keys)?,
        node_key,
        Config {
            clock: coop_bench::clock(),
            ..Config::default()
        },
    )?;
    let id = ledger.ledger_id().context("ledger id")?;
    for ev in coop_bench::constitution(&keys, id)? {
        ledger.submit(ev)?;
    }
    let cases = events / 6;
    let sign = |first: u64| -> anyhow::Result<Vec<Vec<SignedEvent>>> {
        (first..first + cases)
            .into_par_iter()
            .map(|c| case_events(&keys, id, c))
            .collect()
    };

    // In process.
    let work = sign(0)?;
    let before = verify_rate_threads(2)?;
    let local = drive(&in_process(&ledger), work, 32, 16)?;
    let limit = (before + verify_rate_threads(2)?) / 2.0;
    let size = ledger.head()?.size;
    report("in process", size, &local, limit);

    // Over HTTP, on the same ledger.
    let node = Node::new(ledger, NodeConfig::default());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(coop_node::run(listener, node.clone(), async {
        let _ = stopped.await;
    }));
    let work = sign(cases)?;
    let size = node.ledger().head()?.size;
    let before = verify_rate_threads(2)?;
    let http: Run = {
        // One client (one connection pool) shared by the submitter threads.
        let c = Client::new(&url, None, None)?;
        let submit = |group: &[&SignedEvent]| -> anyhow::Result<Vec<Duration>> {
            group
                .iter()
                .map(|ev| {
                    let t = Instant::now();
                    c.submit_checked(ev, &node_public)?;
                    Ok(t.elapsed())
                })
                .collect()
        };
        drive(&submit, work, clients, 1)?
    };
    let limit = (before + verify_rate_threads(2)?) / 2.0;
    let rate_http = report("over HTTP", size, &http, limit);
    let rate_local = local.events as f64 / local.elapsed.as_secs_f64();
    println!(
        "HTTP / in process: {:.0}% of the in-process rate ({clients} clients, one request per event, receipts checked)",
        100.0 * rate_http / rate_local
    );

    // Over HTTP in batches (`POST /v1/events:batch`): each client sends the next event of
    // each of its `batch` open cases as one request, and checks every receipt.
    let work = sign(2 * cases)?;
    let size = node.ledger().head()?.size;
    let before = verify_rate_threads(2)?;
    let batched: Run = {
        let c = Client::new(&url, None, None)?;
        let submit = |group: &[&SignedEvent]| -> anyhow::Result<Vec<Duration>> {
            let t = Instant::now();
            let events: Vec<SignedEvent> = group.iter().map(|e| (*e).clone()).collect();
            let answers = c.submit_batch_checked(&events, &node_public)?;
            let took = t.elapsed();
            for a in answers {
                a?;
            }
            Ok(vec![took; group.len()])
        };
        drive(&submit, work, batch_clients, batch)?
    };
    let limit = (before + verify_rate_threads(2)?) / 2.0;
    let rate_batch = report("over HTTP, batched", size, &batched, limit);
    println!(
        "HTTP batched / in process: {:.0}% of the in-process rate ({batch_clients} clients, batches of {batch}, receipts checked as they arrive)",
        100.0 * rate_batch / rate_local
    );

    // The same, with each receipt checked after the window: on one 2-core machine the
    // client's checks (a signature per checkpoint, hashes per receipt) take the node's
    // cores; an agency's client checks on its own machine. The in-process window checks
    // none. Every receipt is still checked, and must verify.
    let work = sign(3 * cases)?;
    let size = node.ledger().head()?.size;
    let before = verify_rate_threads(2)?;
    let kept = std::sync::Mutex::new(Vec::new());
    let deferred: Run = {
        let c = Client::new(&url, None, None)?;
        let submit = |group: &[&SignedEvent]| -> anyhow::Result<Vec<Duration>> {
            let t = Instant::now();
            let events: Vec<SignedEvent> = group.iter().map(|e| (*e).clone()).collect();
            let answers = c.submit_batch(&events)?;
            let took = t.elapsed();
            let mut receipts = Vec::with_capacity(answers.len());
            for (a, e) in answers.into_iter().zip(events) {
                receipts.push((a?, e));
            }
            kept.lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .extend(receipts);
            Ok(vec![took; group.len()])
        };
        drive(&submit, work, batch_clients, batch)?
    };
    let limit = (before + verify_rate_threads(2)?) / 2.0;
    let rate_deferred = report(
        "over HTTP, batched, receipts checked after",
        size,
        &deferred,
        limit,
    );
    let kept = kept.into_inner().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let checked = kept
        .par_chunks(256)
        .map(|chunk| {
            let mut checker = coop_core::ReceiptChecker::new(node_public);
            chunk
                .iter()
                .map(|(r, e)| coop_node::client::check_receipt_with(r, e, &mut checker))
                .collect::<Result<Vec<()>, _>>()
                .map(|v| v.len())
        })
        .collect::<Result<Vec<usize>, _>>()?
        .into_iter()
        .sum::<usize>();
    anyhow::ensure!(checked == deferred.events, "every receipt is checked");
    println!(
        "HTTP batched / in process: {:.0}% of the in-process rate ({batch_clients} clients, batches of {batch}; all {checked} receipts checked after the window)",
        100.0 * rate_deferred / rate_local
    );
    let _ = stop.send(());
    rt.block_on(server)??;
    Ok(())
}
