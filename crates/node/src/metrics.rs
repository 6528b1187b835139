//! `/metrics` in the Prometheus text exposition format (version 0.0.4).
//!
//! Written by hand: a dozen series, no labels beyond route, status and clause, and no
//! registry to keep in step with the engine's own counters (docs/adr/0010).

use coop_ledger::{BATCH_BUCKETS, Snapshot};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the append latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
];

/// Counters of the HTTP side.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    /// Answers by route (as the router matched it: a bounded set) and status.
    requests: Mutex<BTreeMap<(std::sync::Arc<str>, u16), u64>>,
    append_latency: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    append_latency_micros: AtomicU64,
    appends: AtomicU64,
}

impl HttpMetrics {
    /// Counts a request to `route` answered with `status`.
    pub fn request(&self, route: std::sync::Arc<str>, status: u16) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route, status)).or_default() += 1;
        }
    }

    /// Records an accepted append's latency (request to durable receipt).
    pub fn append(&self, took: Duration) {
        let secs = took.as_secs_f64();
        let i = LATENCY_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(LATENCY_BUCKETS.len());
        if let Some(b) = self.append_latency.get(i) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        self.append_latency_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.appends.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(&self, engine: &Snapshot, size: u64, checkpoint_age: Option<f64>) -> String {
        let mut out = String::new();
        let w = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        w(
            &mut out,
            "coopledger_ledger_records",
            "gauge",
            "Records in the ledger.",
        );
        let _ = writeln!(out, "coopledger_ledger_records {size}");
        w(
            &mut out,
            "coopledger_appends_total",
            "counter",
            "Events appended by the engine.",
        );
        let _ = writeln!(out, "coopledger_appends_total {}", engine.appended);
        w(
            &mut out,
            "coopledger_refusals_total",
            "counter",
            "Submissions refused, by clause of the Agreement (or invalid / id reused).",
        );
        for (clause, n) in &engine.refusals {
            let _ = writeln!(
                out,
                "coopledger_refusals_total{{clause=\"{}\"}} {n}",
                escape(clause)
            );
        }
        w(
            &mut out,
            "coopledger_batch_size",
            "histogram",
            "Events per group commit.",
        );
        let mut cumulative = 0;
        for (i, n) in engine.batch_sizes.iter().enumerate() {
            cumulative += n;
            let le = if i + 1 == BATCH_BUCKETS {
                "+Inf".to_owned()
            } else {
                (1u64 << i).to_string()
            };
            let _ = writeln!(
                out,
                "coopledger_batch_size_bucket{{le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(out, "coopledger_batch_size_sum {}", engine.appended);
        let _ = writeln!(out, "coopledger_batch_size_count {}", engine.batches);
        w(
            &mut out,
            "coopledger_fsyncs_total",
            "counter",
            "fdatasync calls (each makes one or more batches durable).",
        );
        let _ = writeln!(out, "coopledger_fsyncs_total {}", engine.syncs);
        w(
            &mut out,
            "coopledger_append_latency_seconds",
            "histogram",
            "Time from an append request to its durable receipt.",
        );
        let mut cumulative = 0;
        for (i, b) in self.append_latency.iter().enumerate() {
            cumulative += b.load(Ordering::Relaxed);
            let le = LATENCY_BUCKETS
                .get(i)
                .map_or("+Inf".to_owned(), |v| v.to_string());
            let _ = writeln!(
                out,
                "coopledger_append_latency_seconds_bucket{{le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "coopledger_append_latency_seconds_sum {}",
            self.append_latency_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "coopledger_append_latency_seconds_count {}",
            self.appends.load(Ordering::Relaxed)
        );
        w(
            &mut out,
            "coopledger_http_requests_total",
            "counter",
            "HTTP requests by route and status.",
        );
        if let Ok(m) = self.requests.lock() {
            for ((route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "coopledger_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        w(
            &mut out,
            "coopledger_storage_failed",
            "gauge",
            "1 once a storage failure stopped appends (reads go on): restart the node.",
        );
        let _ = writeln!(
            out,
            "coopledger_storage_failed {}",
            u8::from(engine.storage_failed)
        );
        if let Some(age) = checkpoint_age {
            w(
                &mut out,
                "coopledger_last_checkpoint_age_seconds",
                "gauge",
                "Seconds since the latest checkpoint was signed.",
            );
            let _ = writeln!(out, "coopledger_last_checkpoint_age_seconds {age:.3}");
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A follower's series: how far its verified copy is from the leader, and when it last
/// heard from it.
/// How far each Party's witnesses have cosigned (docs/adr/0026), leader and follower
/// alike: a size of -1 is "none of the recent checkpoints".
pub fn render_witnessing(out: &mut String, w: &coop_ledger::Witnessing) {
    let size = |s: Option<u64>| s.map_or(-1.0, |s| s as f64);
    let _ = writeln!(
        out,
        "# HELP coopledger_witnessed_size Size of the last checkpoint cosigned by a witness of the Party (-1: none of the recent ones).\n# TYPE coopledger_witnessed_size gauge\ncoopledger_witnessed_size{{party=\"kz\"}} {}\ncoopledger_witnessed_size{{party=\"tm\"}} {}",
        size(w.kz),
        size(w.tm)
    );
    let _ = writeln!(
        out,
        "# HELP coopledger_witnessed_both_size Size of the last checkpoint cosigned by a witness of each Party: the witness policy met (-1: none).\n# TYPE coopledger_witnessed_both_size gauge\ncoopledger_witnessed_both_size {}",
        size(w.both)
    );
    let _ = writeln!(
        out,
        "# HELP coopledger_unwitnessed_records Records no checkpoint cosigned by both Parties' witnesses covers yet: they rest on the node's word alone.\n# TYPE coopledger_unwitnessed_records gauge\ncoopledger_unwitnessed_records {}",
        w.unwitnessed
    );
}

/// How far sled is behind the journal, the write-ahead log (docs/adr/0027).
pub fn render_sled(out: &mut String, lag: &coop_store::Lag) {
    let mut gauge = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    gauge(
        "coopledger_sled_behind_records",
        "gauge",
        "Records the journal holds that sled has not applied yet (read from memory meanwhile).",
        lag.records as f64,
    );
    gauge(
        "coopledger_sled_behind_seconds",
        "gauge",
        "How long the oldest batch sled has not applied has waited.",
        lag.oldest_ms as f64 / 1000.0,
    );
    gauge(
        "coopledger_sled_failed",
        "gauge",
        "1 while sled has stopped applying (it is rebuilt from the journal; appends and reads go on).",
        f64::from(u8::from(lag.failed.is_some())),
    );
    gauge(
        "coopledger_sled_rebuilds_total",
        "counter",
        "Times sled was rebuilt from the journal while the node ran.",
        lag.rebuilds as f64,
    );
}

pub fn render_follow(out: &mut String, v: &crate::sync::SyncView) {
    let mut gauge = |name: &str, help: &str, value: f64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    };
    gauge(
        "coopledger_follower_leader_records",
        "Records the leader showed when last heard from.",
        v.leader_size as f64,
    );
    gauge(
        "coopledger_follower_witness_behind_records",
        "Records of the leader's latest checkpoint this witness has not cosigned (0: its cosignature is current).",
        v.witness_behind as f64,
    );
    gauge(
        "coopledger_follower_behind_records",
        "Records the verified copy lacks of what the leader last showed.",
        v.behind as f64,
    );
    gauge(
        "coopledger_follower_in_sync",
        "1 when the leader was heard from recently and nothing is missing.",
        f64::from(u8::from(v.state == "in_sync")),
    );
    gauge(
        "coopledger_follower_leader_reachable",
        "0 once the leader has been silent longer than the follower's limit.",
        f64::from(u8::from(v.state != "leader_unreachable")),
    );
    gauge(
        "coopledger_follower_last_contact_seconds",
        "Seconds since the leader last answered (-1: not since the follower started).",
        v.last_contact_secs.map_or(-1.0, |s| s as f64),
    );
    gauge(
        "coopledger_follower_cosigned_records",
        "Size of the last checkpoint this witness cosigned.",
        v.cosigned_size as f64,
    );
    let _ = writeln!(
        out,
        "# HELP coopledger_follower_reconnects_total Times contact with the leader was lost and tried again.\n# TYPE coopledger_follower_reconnects_total counter\ncoopledger_follower_reconnects_total {}",
        v.reconnects
    );
}

/// The console's sign-in tables: how full, and what was dropped for newer entries
/// (docs/OPERATIONS.md, "Security").
pub fn render_access(out: &mut String, s: &coop_console::AccessStats) {
    let lines: [(&str, &str, &str, u64); 4] = [
        (
            "coopledger_console_challenges",
            "gauge",
            "Sign-in challenges outstanding (at most 10,000; 32 a client).",
            s.challenges as u64,
        ),
        (
            "coopledger_console_sessions",
            "gauge",
            "Console sessions live (at most 10,000; 8 an identity).",
            s.sessions as u64,
        ),
        (
            "coopledger_console_challenges_dropped_total",
            "counter",
            "Challenges dropped for newer ones (a client's oldest, or the oldest when full).",
            s.challenges_dropped,
        ),
        (
            "coopledger_console_sessions_dropped_total",
            "counter",
            "Sessions ended for newer ones (an identity's oldest, or the oldest when full).",
            s.sessions_dropped,
        ),
    ];
    for (name, kind, help, v) in lines {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
        );
    }
}
