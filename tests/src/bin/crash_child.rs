//! Crash-test child: opens (or creates) a sled ledger in the directory given as the only
//! argument and appends fixture events forever, printing `ack <seq>` after each batch is
//! acknowledged durable. Every CHECKPOINT_EVERY records it stores a checkpoint. It never
//! stops by itself; the parent kills it.

use anyhow::Context as _;
use coop_core::checkpoint::{Checkpoint, sign_checkpoint};
use coop_core::{Hash, Timestamp, testkit};
use coop_store::{Log, SledStore};
use coop_tests::{CHECKPOINT_EVERY, batch_size};
use std::io::Write as _;

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .context("usage: coop-crash-child DIR")?;
    let log = Log::open(SledStore::open(&dir)?)?;
    let (genesis, ledger) = testkit::genesis()?;
    let mut out = std::io::stdout().lock();
    if log.head()?.size == 0 {
        log.append_events(vec![(genesis, Hash::ZERO)], Timestamp(0))?;
        writeln!(out, "ack 0")?;
        out.flush()?;
    }
    let node = testkit::node_key();
    loop {
        let next = log.head()?.size;
        let n = batch_size(next);
        // The store does not judge payloads (no treaty here): the governance head is the
        // empty one throughout.
        let events = testkit::events(ledger, next, n)?
            .into_iter()
            .map(|e| (e, Hash::ZERO))
            .collect();
        let acked = log.append_events(events, Timestamp(next))?;
        if let Some(last) = acked.last() {
            writeln!(out, "ack {}", last.seq)?;
            out.flush()?;
        }
        let head = log.head()?;
        if head.size / CHECKPOINT_EVERY > next / CHECKPOINT_EVERY {
            let cp = Checkpoint {
                ledger_id: ledger,
                size: head.size,
                root: head.root,
                chain_head: head.chain_head,
                time: Timestamp(head.size),
            };
            log.put_checkpoint(&sign_checkpoint(&cp, &node)?)?;
        }
    }
}
