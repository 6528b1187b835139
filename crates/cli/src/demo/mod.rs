//! `coopledger demo`: the whole story on an embedded ledger, in well under a minute.
//!
//! It generates the keys of both Parties' roots, three competent authorities each, an
//! auditor and two witnesses; constitutes the Agreement (genesis, acceptance,
//! designations, both notifications of completed internal procedures); runs 1,000+ cases
//! covering every event kind through the real engine with many concurrent submitters;
//! changes keys and parameters midway; tries a handful of violations and shows each
//! refused with its article; has both witnesses cosign; verifies an export as an auditor
//! would; prints the Article 7 summary; replays a disputed case as of an earlier point;
//! writes and verifies that case's evidence bundle; and gives notice of termination.

use crate::dir::LedgerDir;
use crate::files;
use crate::keys::{self, OsRng};
use crate::show;
use anyhow::{anyhow, bail};
use coop_core::checkpoint::cosign;
use coop_core::event::CaseRef;
use coop_core::{EventId, Hash, LedgerId, SignedEvent, Timestamp};
use coop_demo::Cast;
use coop_demo::scenario::{self, Actor, CaseBuilder, Kind, Pair, doc};
use coop_ledger::{AsOf, Config, Ledger, SubmitError};
use coop_store::SledStore;
use coop_treaty::{
    DocRole, Language, Params, Party, Payload, Purpose, RefusalGround, Role, RootKey,
};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

mod audit;
mod cases;
mod future;
mod governance;
mod tour;

use audit::*;
use cases::*;
use future::*;
use governance::*;
use tour::*;

/// The Kazakh original of the Agreement (from the Law of 27 November 2025 No. 234-VIII);
/// the genesis commits to its blake3 digest.
const AGREEMENT_KK: &[u8] = include_bytes!("../../assets/agreement-kk.txt");

/// Copies a directory tree (a closed store) file by file.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_tree(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), &target)?;
        }
    }
    Ok(())
}

/// Prints a step with its time.
struct Steps {
    pub(super) started: Instant,
    pub(super) last: Instant,
    pub(super) quiet: bool,
    pub(super) timings: Vec<(String, Duration)>,
}

impl Steps {
    pub(super) fn say(&self, s: &str) {
        if !self.quiet {
            println!("{s}");
        }
    }

    pub(super) fn done(&mut self, what: &str) {
        let t = self.last.elapsed();
        self.timings.push((what.to_owned(), t));
        self.last = Instant::now();
        if !self.quiet {
            println!("   ({what}: {t:.2?})");
        }
    }
}

/// Submits governance or one-off events one at a time.
struct Gov<'l> {
    pub(super) ledger: &'l Ledger<SledStore>,
    pub(super) id: LedgerId,
    pub(super) n: u64,
}

impl Gov<'_> {
    pub(super) fn event(
        &mut self,
        by: &Actor,
        payload: &Payload,
        case: Option<CaseRef>,
    ) -> anyhow::Result<SignedEvent> {
        self.n += 1;
        coop_treaty::Draft {
            signer: by.id.clone(),
            ledger: Some(self.id),
            event_id: scenario::event_id(self.id, u64::MAX, self.n),
            // The ledger's time: the demo moves its (test) clock.
            at: self.ledger.now(),
            case,
            answers: vec![],
            payload,
        }
        .sign(&by.key)
        .map_err(Into::into)
    }

    pub(super) fn submit(&mut self, by: &Actor, payload: Payload) -> anyhow::Result<(u64, Hash)> {
        let ev = self.event(by, &payload, None)?;
        let h = ev.event_hash()?;
        let r = self
            .ledger
            .submit(ev)
            .map_err(|e| anyhow!("{} ({}) was refused: {e}", payload.kind(), by.id))?;
        Ok((r.seq, h))
    }
}

pub fn run(data: Option<PathBuf>, cases: u32, quiet: bool) -> anyhow::Result<ExitCode> {
    if cases < 20 {
        bail!("the demo needs at least 20 cases to show every kind");
    }
    let tmp;
    let kept = data.is_some();
    // A kept demo is built beside its directory and moved in only when done: one cut short
    // (Ctrl-C) leaves `DIR.demo-partial`, which the next run removes, never a `DIR` half
    // made (it used to hold keys that made the next run fail).
    let (root, finish_as) = match data {
        Some(d) => {
            if d.read_dir().is_ok_and(|mut e| e.next().is_some()) {
                bail!(
                    "{} exists and is not empty: the demo makes a new ledger directory; remove it or choose another",
                    d.display()
                );
            }
            let mut name = d.file_name().unwrap_or_default().to_os_string();
            name.push(".demo-partial");
            let partial = d.with_file_name(name);
            if partial.exists() {
                std::fs::remove_dir_all(&partial)?;
            }
            (partial, Some(d))
        }
        None => {
            tmp = tempfile::Builder::new()
                .prefix("coopledger-demo-")
                .tempdir()?;
            (tmp.path().to_path_buf(), None)
        }
    };
    let mut st = Steps {
        started: Instant::now(),
        last: Instant::now(),
        quiet,
        timings: Vec::new(),
    };
    let dir = LedgerDir::new(&root);
    let mut rng = OsRng::new()?;
    st.say(&format!(
        "coopledger demo — the Kazakhstan–Turkmenistan Agreement on cooperation in combating crime\nledger directory: {}\n",
        finish_as.as_deref().unwrap_or(&root).display()
    ));
    let cast = Cast::new(|| keys::generate(&mut rng))?;
    let keydir = write_keys(&root, &cast, &mut rng, &mut st)?;
    let (ledger, id, n) = constitute(&dir, &cast, &mut rng, &mut st)?;
    // One counter of the demo's one-off events across the steps: their ids derive from it.
    let mut gov = Gov {
        ledger: &ledger,
        id,
        n,
    };
    let (other_crime, arrangement) = context_events(&mut gov, &cast, &mut st)?;
    let [kz_mvd, kz_knb, kz_afm] = &cast.kz;
    let [tm_mvd, tm_mns, tm_gpo] = &cast.tm;
    let half = u64::from(cases / 2);
    let pairs1 = pairs(
        [kz_mvd, kz_knb, kz_afm],
        [tm_mvd, tm_mns, tm_gpo],
        other_crime,
        arrangement,
    );
    let run1 = run_cases(&ledger, id, 0..half, &pairs1, files::now_ms())?;
    st.say(&format!(
        "   cases 1-{half}: {} events appended in {:.2?} ({:.0} events/s, latency p50 {:.1?}, p99 {:.1?}), each with a signed receipt",
        run1.events, run1.elapsed, run1.events as f64 / run1.elapsed.as_secs_f64(), run1.p50, run1.p99
    ));
    st.done("first half of the cases");
    let (afm_new, gpo_new, revoked_at) =
        changes_midway(&mut gov, &cast, &keydir, &mut rng, &mut st)?;
    let pairs2 = pairs(
        [kz_mvd, kz_knb, &afm_new],
        [tm_mvd, tm_mns, &gpo_new],
        other_crime,
        arrangement,
    );
    let run2 = run_cases(
        &ledger,
        id,
        half..u64::from(cases),
        &pairs2,
        files::now_ms(),
    )?;
    st.say(&format!(
        "   cases {}-{cases}: {} events appended in {:.2?} ({:.0} events/s, latency p50 {:.1?}, p99 {:.1?})",
        half + 1, run2.events, run2.elapsed, run2.events as f64 / run2.elapsed.as_secs_f64(), run2.p50, run2.p99
    ));
    st.done("second half of the cases");
    st.say("\n5. Violations: each is refused, names its article, and leaves the ledger exactly as it was.");
    let refused = violations(&ledger, &mut gov, &cast, tm_gpo, revoked_at, &mut st)?;
    st.done("refused violations");
    let (cp_size, cosigned) = checkpoint_cosigned(&ledger, &cast, &mut st)?;
    let (v, vkey, export) = audit(&ledger, &root, &mut st)?;
    article7_summary(&v, &mut st);
    let (disputed, raised, bundle_path) =
        dispute(&ledger, &v, &root, (cp_size, &cosigned), &vkey, &mut st)?;
    // The ledger stays on the system clock (agencies and the tour use it next); the
    // future is shown on a copy, whose clock moves.
    let events_so_far = gov.n;
    let head = ledger.head()?;
    ledger.shutdown();
    let pair = pairs2.first().ok_or_else(|| anyhow!("no pair"))?;
    future(
        &root,
        &cast,
        pair,
        (id, u64::from(cases), events_so_far),
        &mut st,
    )?;
    write_tour(&root, &vkey.to_vkey(), &disputed.id, raised)?;
    let built = root.clone();
    let root = match finish_as {
        Some(d) => {
            std::fs::rename(&root, &d)
                .map_err(|e| anyhow!("cannot move the demo into {}: {e}", d.display()))?;
            d
        }
        None => root,
    };
    // The files the closing names, where they now are.
    let moved = |p: &std::path::Path| {
        p.strip_prefix(&built)
            .map_or_else(|_| p.to_path_buf(), |r| root.join(r))
    };
    let (export, bundle_path) = (moved(&export), moved(&bundle_path));
    let closing = Closing {
        root: &root,
        kept,
        quiet,
        id,
        vkey: &vkey,
        export: &export,
        bundle: &bundle_path,
        case: &disputed.id,
        raised,
    };
    closing.print(&st, head.size, cases, refused);
    Ok(ExitCode::SUCCESS)
}

/// Step 1: the cast's keys, written to DIR/keys. Returns that directory.
fn write_keys(
    root: &std::path::Path,
    cast: &Cast,
    rng: &mut OsRng,
    st: &mut Steps,
) -> anyhow::Result<PathBuf> {
    st.say("1. Keys: both Parties' roots (diplomatic channels), three competent authorities each, an auditor and a witness per Party.");
    let keydir = root.join("keys");
    for a in cast.all() {
        keys::save(&a.key, &keydir.join(format!("{}.pem", a.id)), None, rng)?;
    }
    st.say(&format!(
        "   keys written to {} (PKCS#8 PEM)",
        keydir.display()
    ));
    st.done("keys");

    Ok(keydir)
}
