//! The closed-loop concurrent submission the demo and the benchmarks share: many
//! submitters, each driving its own cases step by step — the next event of each of its
//! open cases, then their receipts — as agencies' systems would.

use coop_core::SignedEvent;
use coop_ledger::Ledger;
use coop_store::SledStore;
use std::time::{Duration, Instant};

/// This process's CPU time so far (Linux `/proc/self/stat`, clock ticks of 10 ms).
pub fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// The `p` quantile of sorted durations.
pub fn pct(l: &[Duration], p: f64) -> Duration {
    let i = ((l.len() as f64 - 1.0) * p).round() as usize;
    l.get(i).copied().unwrap_or_default()
}

/// One measured window.
#[derive(Debug)]
pub struct Run {
    /// Events acknowledged.
    pub events: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Each event's latency, sorted.
    pub latencies: Vec<Duration>,
    /// Process CPU time (user + system) during the run, when the OS tells it.
    pub cpu: Option<Duration>,
}

/// Submits a group of events (of different cases) and waits for all their receipts;
/// returns each one's latency.
pub type SubmitGroup<'a> = dyn Fn(&[&SignedEvent]) -> anyhow::Result<Vec<Duration>> + Sync + 'a;

/// In process: all of the group queued at once, then each receipt awaited.
pub fn in_process(
    ledger: &Ledger<SledStore>,
) -> impl Fn(&[&SignedEvent]) -> anyhow::Result<Vec<Duration>> + Sync + '_ {
    move |group: &[&SignedEvent]| {
        let t = Instant::now();
        let pending: Vec<_> = group
            .iter()
            .map(|ev| ledger.submit_async((*ev).clone()))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("submit: {e}"))?;
        let mut lat = Vec::with_capacity(pending.len());
        for p in pending {
            p.wait().map_err(|e| anyhow::anyhow!("submit: {e}"))?;
            lat.push(t.elapsed());
        }
        Ok(lat)
    }
}

/// Each submitter thread drives its own cases, `inflight` at a time: it submits the next
/// event of each of them, then waits for those receipts, like an asynchronous client with
/// many open cases. Events of one case stay in order.
pub fn drive(
    submit: &SubmitGroup<'_>,
    cases: Vec<Vec<SignedEvent>>,
    submitters: usize,
    inflight: usize,
) -> anyhow::Result<Run> {
    let mut lanes: Vec<Vec<Vec<SignedEvent>>> = (0..submitters).map(|_| Vec::new()).collect();
    for (i, c) in cases.into_iter().enumerate() {
        if let Some(l) = lanes.get_mut(i % submitters) {
            l.push(c);
        }
    }
    let cpu_before = cpu_time();
    let start = Instant::now();
    let results: Vec<anyhow::Result<Vec<Duration>>> = std::thread::scope(|s| {
        let handles: Vec<_> = lanes
            .into_iter()
            .map(|lane| {
                s.spawn(move || {
                    let mut lat = Vec::new();
                    let mut lane = lane.into_iter();
                    loop {
                        let group: Vec<Vec<SignedEvent>> =
                            lane.by_ref().take(inflight.max(1)).collect();
                        if group.is_empty() {
                            break;
                        }
                        let steps = group.iter().map(Vec::len).max().unwrap_or(0);
                        for step in 0..steps {
                            let batch: Vec<&SignedEvent> =
                                group.iter().filter_map(|c| c.get(step)).collect();
                            lat.extend(submit(&batch)?);
                        }
                    }
                    Ok(lat)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("submitter panicked")))
            })
            .collect()
    });
    let elapsed = start.elapsed();
    let cpu = cpu_time().zip(cpu_before).map(|(a, b)| a.saturating_sub(b));
    let mut latencies = Vec::new();
    for r in results {
        latencies.extend(r?);
    }
    latencies.sort_unstable();
    Ok(Run {
        events: latencies.len(),
        elapsed,
        latencies,
        cpu,
    })
}
