//! Shared pieces of coopledger's benchmark programs: the machine's own strict
//! verification rate (the limit every throughput is reported against), a realistic case
//! workload signed with the fixture keys, and process measurements.

// A benchmark's output is its product.
#![allow(clippy::print_stdout)]

pub use coop_demo::drive::{Run, SubmitGroup, cpu_time, drive, in_process, pct};

use anyhow::Context as _;
use coop_core::event::CaseRef;
use coop_core::{EventId, SecretKey, SignedEvent, Timestamp};
use coop_treaty::testkit::{self, purpose, request_to};
use coop_treaty::{Extent, InfoKind, ItemId, Payload};
use std::collections::BTreeMap;
use std::time::Instant;

/// Single-thread strict verification rate (signatures per second): `verify_strict` alone,
/// on event-sized messages, with the key already decompressed — the cost no verifier can
/// avoid, so the strictest limit to report against. (Decompressing the key for every
/// signature as well would make the limit about a fifth lower.)
pub fn verify_rate() -> anyhow::Result<f64> {
    let key = SecretKey::from_seed(&[5; 32]);
    let msgs: Vec<Vec<u8>> = (0..256u32).map(|i| vec![i as u8; 600]).collect();
    let sigs: Vec<_> = msgs.iter().map(|m| key.sign(m)).collect();
    let pk = key.public().checked()?;
    let n = 20_000;
    let start = Instant::now();
    for (m, sig) in msgs.iter().zip(&sigs).cycle().take(n) {
        pk.verify(m, sig)?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Strict verification rate of `threads` threads verifying at once (signatures per
/// second, all threads together): what the machine's cores really deliver together,
/// frequency scaling and shared caches included. This is the limit the benchmarks
/// report against; it is measured right before and right after each run and averaged,
/// because a shared machine's speed drifts.
pub fn verify_rate_threads(threads: usize) -> anyhow::Result<f64> {
    let per = 10_000usize;
    let start = Instant::now();
    let results: Vec<anyhow::Result<()>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || -> anyhow::Result<()> {
                    let key = SecretKey::from_seed(&[5 + t as u8; 32]);
                    let msgs: Vec<Vec<u8>> = (0..128u32).map(|i| vec![i as u8; 600]).collect();
                    let sigs: Vec<_> = msgs.iter().map(|m| key.sign(m)).collect();
                    let pk = key.public().checked()?;
                    for (m, sig) in msgs.iter().zip(&sigs).cycle().take(per) {
                        pk.verify(m, sig)?;
                    }
                    Ok(())
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("verifier thread panicked")))
            })
            .collect()
    });
    let secs = start.elapsed().as_secs_f64();
    for r in results {
        r?;
    }
    Ok((per * threads) as f64 / secs)
}

/// The six events of one case, signed, in order (versions 0..5).
pub fn case_events(
    keys: &BTreeMap<String, SecretKey>,
    ledger: coop_core::LedgerId,
    case_no: u64,
) -> anyhow::Result<Vec<SignedEvent>> {
    let mut case_id = [0u8; 16];
    case_id[..8].copy_from_slice(&case_no.to_be_bytes());
    case_id[8] = 0xCA;
    let mut item = [0u8; 16];
    item[..8].copy_from_slice(&case_no.to_be_bytes());
    let steps: Vec<(&str, Payload)> = vec![
        ("KZ-MVD", Payload::Request(Box::new(request_to("TM-MVD")))),
        ("TM-MVD", Payload::Acknowledged),
        (
            "TM-MVD",
            Payload::InformationTransferred {
                item: ItemId(item),
                recipient: testkit::id("KZ-MVD"),
                kind: InfoKind::OperationalSearch,
                restricted: true,
                permitted_purposes: vec![purpose(testkit::PURPOSE)],
                no_state_secret: true,
                documents: testkit::written(40, coop_treaty::Party::Tm),
            },
        ),
        (
            "KZ-MVD",
            Payload::InformationUsed {
                item: ItemId(item),
                purpose: purpose(testkit::PURPOSE),
            },
        ),
        (
            "TM-MVD",
            Payload::ExecutionReported {
                extent: Extent::Full,
                reasons: vec![],
                search_outcome: None,
                results: vec![],
            },
        ),
        ("KZ-MVD", Payload::CaseClosed),
    ];
    steps
        .into_iter()
        .enumerate()
        .map(|(v, (signer, payload))| {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&case_no.to_be_bytes());
            id[8] = v as u8;
            id[9] = 0xEE;
            let key = keys.get(signer).context("fixture key")?;
            let case = CaseRef {
                case_id: coop_core::CaseId(case_id),
                expected_version: v as u64,
            };
            Ok(testkit::sign(
                key,
                signer,
                Some(ledger),
                EventId(id),
                Timestamp(T0),
                Some(case),
                vec![],
                &payload,
            )?)
        })
        .collect()
}

/// This process's peak resident memory (Linux `VmHWM`), in bytes.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resident memory now (VmRSS), in bytes.
pub fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Which curve arithmetic this build runs (docs/PERFORMANCE.md): the project's builds
/// compile curve25519-dalek's AVX-512 IFMA backend in (`.cargo/config.toml`), and it
/// picks at run time: IFMA if the CPU has it, else AVX2, else portable code.
pub fn curve_backend() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        let ifma = std::arch::is_x86_feature_detected!("avx512ifma")
            && std::arch::is_x86_feature_detected!("avx512vl");
        let avx2 = std::arch::is_x86_feature_detected!("avx2");
        let compiled = if cfg!(curve25519_dalek_backend = "avx512") {
            "AVX-512 IFMA and AVX2 compiled in"
        } else {
            "AVX2 compiled in (no AVX-512 IFMA: build with .cargo/config.toml's cfg)"
        };
        let runs = if ifma && cfg!(curve25519_dalek_backend = "avx512") {
            "AVX-512 IFMA"
        } else if avx2 {
            "AVX2"
        } else {
            "portable"
        };
        format!(
            "curve25519: {compiled}; this CPU {} AVX-512 IFMA, so it runs {runs}",
            if ifma { "has" } else { "lacks" }
        )
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        "curve25519: portable backend (not x86-64)".to_string()
    }
}

/// The benchmarks' ledgers are test ledgers whose clock stands at this time (ms): events
/// signed in advance, however long the run, stay within the authored-time window.
pub const T0: u64 = 1_764_000_000_000;

/// The clock of the benchmarks' test ledgers: fixed at [`T0`].
pub fn clock() -> std::sync::Arc<coop_ledger::TestClock> {
    coop_ledger::TestClock::fixed(Timestamp(T0))
}

/// The node key the benchmarks' genesis names.
pub fn node_key() -> SecretKey {
    testkit::node_key()
}

/// Scratch space for a benchmark's ledger, in the system's temporary directory (never in
/// the working tree); removed when dropped.
pub fn scratch(prefix: &str) -> anyhow::Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new().prefix(prefix).tempdir()?)
}

/// The genesis of a test ledger (the fixture keys, [`node_key`]), authored at [`T0`].
pub fn genesis(keys: &BTreeMap<String, SecretKey>) -> anyhow::Result<SignedEvent> {
    Ok(testkit::sign(
        keys.get("KZ-MFA").context("fixture key")?,
        "KZ-MFA",
        None,
        EventId([0; 16]),
        Timestamp(T0),
        None,
        vec![],
        &testkit::test_genesis_payload(keys),
    )?)
}

/// The governance events that bring the Agreement into force.
pub fn constitution(
    keys: &BTreeMap<String, SecretKey>,
    ledger: coop_core::LedgerId,
) -> anyhow::Result<Vec<SignedEvent>> {
    testkit::constitution(keys)
        .into_iter()
        .enumerate()
        .map(|(i, (signer, p))| {
            let mut id = [0xAA; 16];
            id[0] = i as u8;
            Ok(testkit::sign(
                keys.get(signer).context("fixture key")?,
                signer,
                Some(ledger),
                EventId(id),
                Timestamp(T0),
                None,
                vec![],
                &p,
            )?)
        })
        .collect()
}

pub fn report(name: &str, size_before: u64, r: &Run, two_core_verify: f64) -> f64 {
    let rate = r.events as f64 / r.elapsed.as_secs_f64();
    println!(
        "{name}: ledger at {size_before} records: {} events in {:.2?} = {:.0} events/s = {:.0}% of two cores' verify_strict ({two_core_verify:.0}/s); latency p50 {:.2?} p99 {:.2?}; CPU {}",
        r.events,
        r.elapsed,
        rate,
        100.0 * rate / two_core_verify,
        pct(&r.latencies, 0.50),
        pct(&r.latencies, 0.99),
        r.cpu.map_or("unknown".to_owned(), |c| format!(
            "{:.2} cores busy, {:.0} us per event",
            c.as_secs_f64() / r.elapsed.as_secs_f64(),
            c.as_secs_f64() * 1e6 / r.events as f64
        )),
    );
    rate
}
