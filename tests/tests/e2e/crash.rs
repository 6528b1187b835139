//! Kill test: a child process appends and prints each acknowledged seq; we kill it with
//! SIGKILL at random moments, reopen the ledger, and check that every acknowledged record
//! is there, with no gap, a verifying chain and Merkle tree, and exactly the content the
//! child was asked to write.
//!
//! `COOP_CRASH_KILLS` sets the number of kills (default 50, as in CI; the documented
//! long run is 1,000).

use anyhow::{Context as _, bail};
use coop_core::testkit;
use coop_store::{Log, SledStore};
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn kills() -> anyhow::Result<u32> {
    match std::env::var("COOP_CRASH_KILLS") {
        Ok(v) => v.parse().context("COOP_CRASH_KILLS must be a number"),
        Err(_) => Ok(50),
    }
}

/// xorshift64*: reproducible kill moments from a printed seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn sigkill_never_loses_an_acknowledged_record() -> anyhow::Result<()> {
    let kills = kills()?;
    let dir = tempfile::Builder::new()
        .prefix("crash-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))?;
    let ledger_dir = dir.path().join("ledger");
    let seed = std::env::var("COOP_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x00C0_FFEE_u64);
    eprintln!(
        "crash test: {kills} kills, seed {seed}, dir {}",
        ledger_dir.display()
    );
    let outcome = run_rounds(kills, seed, &ledger_dir);
    if outcome.is_err() {
        // Keep the damaged ledger for diagnosis instead of deleting it with the temp dir.
        let kept = dir.keep();
        eprintln!("crash test failed; ledger kept at {}", kept.display());
    }
    let (max_acked, runs_with_progress, elapsed) = outcome?;
    let max = max_acked.context("the child never acknowledged anything")?;
    eprintln!(
        "crash test: {kills} kills in {:.1?}, {} records acknowledged, {runs_with_progress} runs made progress",
        elapsed,
        max + 1
    );
    // Most runs must get past opening and append something, or the test proves little.
    if runs_with_progress * 2 < kills {
        bail!("only {runs_with_progress} of {kills} runs appended anything");
    }
    Ok(())
}

type Outcome = (Option<u64>, u32, Duration);

fn run_rounds(kills: u32, seed: u64, ledger_dir: &std::path::Path) -> anyhow::Result<Outcome> {
    let mut rng = Rng(seed);
    let (_, ledger) = testkit::genesis()?;
    let mut max_acked: Option<u64> = None;
    let mut runs_with_progress = 0u32;
    let started = Instant::now();

    for round in 0..kills {
        let mut child = Command::new(env!("CARGO_BIN_EXE_coop-crash-child"))
            .arg(ledger_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().context("child stdout")?;
        // Read acks on a thread so the child never blocks on a full pipe; the first one
        // says the child has opened the ledger and is appending.
        let (appending_tx, appending) = std::sync::mpsc::channel::<()>();
        let reader = std::thread::spawn(move || {
            let mut acked = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(seq) = line
                    .strip_prefix("ack ")
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    if acked.is_empty() {
                        let _ = appending_tx.send(());
                    }
                    acked.push(seq);
                }
            }
            acked
        });
        // Kill 0 to ~150 ms after the child says it is appending: mid-append or
        // mid-checkpoint. (Timed from the start, as before, reopening a grown ledger
        // outlasted the interval and most runs appended nothing.)
        if appending.recv_timeout(Duration::from_secs(120)).is_err() {
            let _ = child.kill();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                std::io::Read::read_to_string(&mut e, &mut err)?;
            }
            bail!("round {round}: the child never started appending: {err}");
        }
        std::thread::sleep(Duration::from_millis(rng.next() % 150));
        if let Some(status) = child.try_wait()? {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                std::io::Read::read_to_string(&mut e, &mut err)?;
            }
            bail!("round {round}: child exited by itself ({status}): {err}");
        }
        child.kill()?; // SIGKILL on Unix
        child.wait()?;
        let acked = reader
            .join()
            .map_err(|_| anyhow::anyhow!("reader thread panicked"))?;
        if let Some(&last) = acked.last() {
            if max_acked.is_none_or(|m| last > m) {
                runs_with_progress += 1;
            }
            max_acked = Some(max_acked.map_or(last, |m| m.max(last)));
        }

        // Reopen: the open check verifies the tail against the last checkpoint.
        let store = SledStore::open(ledger_dir)
            .with_context(|| format!("round {round}: opening sled after SIGKILL"))?;
        let log = Log::open(store)
            .with_context(|| format!("round {round}: checking the ledger after SIGKILL"))?;
        let head = log.head()?;
        if let Some(m) = max_acked
            && head.size <= m
        {
            bail!(
                "round {round}: acknowledged seq {m} lost; ledger has {} records",
                head.size
            );
        }
        // Every record, acknowledged or not, is exactly the fixture event for its seq.
        let from = max_acked.map_or(0, |m| m.saturating_sub(64));
        for r in log.records(from, head.size) {
            let r = r?;
            let seq = r.record.seq;
            let want = if seq == 0 {
                testkit::genesis()?.0
            } else {
                testkit::events(ledger, seq, 1)?.remove(0)
            };
            if r.record.event != want {
                bail!("round {round}: record {seq} holds the wrong event");
            }
        }
        if round % 10 == 9 || round + 1 == kills {
            log.verify_all()
                .with_context(|| format!("round {round}: full verification"))?;
            // The journal, read alone, holds exactly the same records.
            let mut items = coop_store::JournalItems::open(ledger_dir)?;
            let mut seq = 0u64;
            while let Some(item) = items.next()? {
                if let coop_store::JournalItem::Record(s, bytes) = item {
                    let stored = log.record(s)?.with_context(|| {
                        format!("round {round}: journal record {s} not in sled")
                    })?;
                    if stored.bytes != bytes || s != seq {
                        bail!("round {round}: the journal and sled differ at record {s}");
                    }
                    seq += 1;
                }
            }
            if seq != head.size {
                bail!(
                    "round {round}: the journal holds {seq} records, sled {}",
                    head.size
                );
            }
        }
    }
    Ok((max_acked, runs_with_progress, started.elapsed()))
}
