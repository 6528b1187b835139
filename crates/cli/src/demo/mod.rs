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
    started: Instant,
    last: Instant,
    quiet: bool,
    timings: Vec<(String, Duration)>,
}

impl Steps {
    fn say(&self, s: &str) {
        if !self.quiet {
            println!("{s}");
        }
    }

    fn done(&mut self, what: &str) {
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
    ledger: &'l Ledger<SledStore>,
    id: LedgerId,
    n: u64,
}

impl Gov<'_> {
    fn event(
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

    fn submit(&mut self, by: &Actor, payload: Payload) -> anyhow::Result<(u64, Hash)> {
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
    let root = match data {
        Some(d) => d,
        None => {
            tmp = tempfile::Builder::new()
                .prefix("coopledger-demo-")
                .tempdir()?;
            tmp.path().to_path_buf()
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
        root.display()
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

/// Step 2: the genesis (a test ledger), its acceptance, the designations and
/// registrations, and both notifications: the Agreement in force. Returns the ledger, its
/// id and how many one-off events were submitted.
fn constitute(
    dir: &LedgerDir,
    cast: &Cast,
    rng: &mut OsRng,
    st: &mut Steps,
) -> anyhow::Result<(Ledger<SledStore>, LedgerId, u64)> {
    st.say("\n2. Constituting the Agreement (Art. 3, 10).");
    st.say(&format!("   {}", show::TEST_LEDGER));
    let node_key = dir.prepare(None, rng)?;
    let kk = doc_bytes(AGREEMENT_KK, Language::Kk);
    let genesis = Payload::Genesis {
        roots: vec![
            RootKey {
                party: Party::Kz,
                authority: cast.kz_root.id.clone(),
                key: cast.kz_root.key.public(),
            },
            RootKey {
                party: Party::Tm,
                authority: cast.tm_root.id.clone(),
                key: cast.tm_root.key.public(),
            },
        ],
        // The repository holds the Kazakh original only; the Turkmen and Russian
        // digests here stand in for theirs.
        agreement_texts: vec![
            kk,
            doc(
                "Agreement, Turkmen text (stand-in)",
                Language::Tk,
                DocRole::Original,
            ),
            doc(
                "Agreement, Russian text (stand-in)",
                Language::Ru,
                DocRole::Original,
            ),
        ],
        params: Params::default(),
        node_key: node_key.public(),
        // The demo moves its clock to show deadlines and termination at work: only a
        // test ledger accepts that, and it says so everywhere.
        test_ledger: true,
    };
    let gen_event = coop_treaty::Draft {
        signer: cast.kz_root.id.clone(),
        ledger: None,
        event_id: EventId(rng.id16()),
        at: Timestamp(files::now_ms()),
        case: None,
        answers: vec![],
        payload: &genesis,
    }
    .sign(&cast.kz_root.key)?;
    let config = Config {
        checkpoint_every: 2_000,
        ..Config::default()
    };
    let (ledger, receipt) = dir.create(gen_event, node_key, config)?;
    let id = ledger.ledger_id().ok_or_else(|| anyhow!("no ledger id"))?;
    st.say(&format!(
        "   genesis by {} at record {}: ledger {id}\n   it commits to the Kazakh original (blake3 {})",
        cast.kz_root.id,
        receipt.seq,
        show::short(&doc_bytes(AGREEMENT_KK, Language::Kk).digest)
    ));
    let mut gov = Gov {
        ledger: &ledger,
        id,
        n: 0,
    };
    gov.submit(&cast.tm_root, Payload::GenesisAccepted)?;
    for (root, list) in [(&cast.kz_root, &cast.kz), (&cast.tm_root, &cast.tm)] {
        for a in list {
            gov.submit(
                root,
                Payload::AuthorityDesignated {
                    authority: a.id.clone(),
                    key: a.key.public(),
                    name: a.name.into(),
                },
            )?;
        }
    }
    for (root, who, role) in [
        (&cast.kz_root, &cast.auditor, Role::Auditor),
        (&cast.kz_root, &cast.kz_witness, Role::Witness),
        (&cast.tm_root, &cast.tm_witness, Role::Witness),
    ] {
        gov.submit(
            root,
            Payload::ObserverRegistered {
                id: who.id.clone(),
                role,
                key: who.key.public(),
            },
        )?;
    }
    for (root, list) in [(&cast.kz_root, &cast.kz), (&cast.tm_root, &cast.tm)] {
        gov.submit(
            root,
            Payload::InternalProceduresCompleted {
                authorities: list.iter().map(|a| a.id.clone()).collect(),
            },
        )?;
    }
    let in_force = ledger.with_state(|s| s.agreement.in_force_from())?;
    st.say(&format!(
        "   accepted by {}; 6 competent authorities designated; auditor and witnesses registered\n   both notifications of completed internal procedures received: in force from {}",
        cast.tm_root.id,
        in_force.map_or("?".into(), show::time)
    ));
    st.done("constitution");

    let n = gov.n;
    Ok((ledger, id, n))
}

/// Step 3, first part: an Art. 1.2 agreement on another crime, an Art. 4.2 language
/// arrangement and other forms of cooperation. Returns the agreement's and the
/// arrangement's event hashes, which cases cite.
fn context_events(gov: &mut Gov<'_>, cast: &Cast, st: &mut Steps) -> anyhow::Result<(Hash, Hash)> {
    // Context events: an Art. 1.2 agreement on another crime, an Art. 4.2 language
    // arrangement, and other forms of cooperation (Art. 2.3-2.6).
    st.say("\n3. Cooperation: agreements between authorities, then the cases.");
    let [kz_mvd, kz_knb, kz_afm] = &cast.kz;
    let [tm_mvd, tm_mns, tm_gpo] = &cast.tm;
    let (_, other_crime) = gov.submit(
        tm_mvd,
        Payload::CategoryAgreed {
            with: kz_mvd.id.clone(),
            description: "illegal mining of cryptocurrency with stolen electricity".into(),
        },
    )?;
    let (_, proposal) = gov.submit(
        kz_knb,
        Payload::LanguageArrangementProposed {
            with: tm_mns.id.clone(),
            languages: vec![Language::Ru],
        },
    )?;
    let (_, arrangement) = gov.submit(tm_mns, Payload::LanguageArrangementAccepted { proposal })?;
    for (by, with, form, what) in [
        (
            kz_mvd,
            tm_mvd,
            coop_treaty::Form::ExchangeExperience,
            "seminar on drug-trafficking routes",
        ),
        (
            tm_gpo,
            kz_afm,
            coop_treaty::Form::ExchangeLegalActs,
            "exchange of anti-laundering regulations",
        ),
        (
            kz_knb,
            tm_mns,
            coop_treaty::Form::Training,
            "joint training in forensic IT",
        ),
        (
            tm_mvd,
            kz_mvd,
            coop_treaty::Form::ExchangeSpecialists,
            "exchange of forensic specialists",
        ),
    ] {
        gov.submit(
            by,
            Payload::OtherCooperation {
                form,
                with: with.id.clone(),
                summary: doc(what, Language::Ru, DocRole::Original),
            },
        )?;
    }
    st.say("   TM-MVD agreed with KZ-MVD to cooperate on a crime outside Art. 1.1 (Art. 1.2)");
    st.say("   KZ-KNB and TM-MNS agreed to write to each other in Russian (Art. 4.2)");
    st.say("   4 other forms of cooperation recorded (Art. 2.3-2.6)");

    Ok((other_crime, arrangement))
}

/// Step 4: keys rotated and revoked, a protocol in force. Returns KZ-AFM's and TM-GPO's
/// new actors and the record that revoked TM-GPO's old key.
fn changes_midway(
    gov: &mut Gov<'_>,
    cast: &Cast,
    keydir: &std::path::Path,
    rng: &mut OsRng,
    st: &mut Steps,
) -> anyhow::Result<(Actor, Actor, u64)> {
    let [_, _, kz_afm] = &cast.kz;
    let [_, _, tm_gpo] = &cast.tm;
    st.say("\n4. Changes midway (Art. 3, 9): keys rotated and revoked, a protocol in force.");
    let afm_new = Actor::new("KZ-AFM", Party::Kz, kz_afm.name, keys::generate(rng))?;
    gov.submit(
        &cast.kz_root,
        Payload::AuthorityKeyChanged {
            authority: kz_afm.id.clone(),
            new_key: afm_new.key.public(),
        },
    )?;
    let (revoked_at, _) = gov.submit(
        &cast.tm_root,
        Payload::KeyRevoked {
            authority: tm_gpo.id.clone(),
            key: tm_gpo.key.public(),
        },
    )?;
    let gpo_new = Actor::new("TM-GPO", Party::Tm, tm_gpo.name, keys::generate(rng))?;
    gov.submit(
        &cast.tm_root,
        Payload::AuthorityKeyChanged {
            authority: tm_gpo.id.clone(),
            new_key: gpo_new.key.public(),
        },
    )?;
    keys::save(&afm_new.key, &keydir.join("KZ-AFM.2.pem"), None, rng)?;
    keys::save(&gpo_new.key, &keydir.join("TM-GPO.2.pem"), None, rng)?;
    let protocol = Params {
        refusal_notice_ms: 48 * 3_600_000,
        ..Params::default()
    };
    gov.submit(
        &cast.kz_root,
        Payload::ProtocolProposed {
            id: 1,
            text: doc(
                "Protocol No. 1: reasons for refusal within 48 hours",
                Language::Ru,
                DocRole::Original,
            ),
            params: protocol,
            effective_from: files::now_ms(),
        },
    )?;
    gov.submit(&cast.tm_root, Payload::ProtocolAccepted { id: 1 })?;
    // Art. 9: in force "as in Article 10", once both Parties completed their procedures.
    gov.submit(
        &cast.tm_root,
        Payload::ProtocolProceduresCompleted { id: 1 },
    )?;
    gov.submit(
        &cast.kz_root,
        Payload::ProtocolProceduresCompleted { id: 1 },
    )?;
    st.say("   KZ-AFM rotated its key; TM-GPO's key was revoked (compromised) and replaced");
    st.say("   Protocol No. 1 proposed by Kazakhstan, accepted by Turkmenistan, in force once both notified completing their internal procedures: reasons for refusal now due within 48 h");

    Ok((afm_new, gpo_new, revoked_at))
}

/// Step 6: a checkpoint signed by the node and cosigned by both witnesses. Returns its
/// size and note.
fn checkpoint_cosigned(
    ledger: &Ledger<SledStore>,
    cast: &Cast,
    st: &mut Steps,
) -> anyhow::Result<(u64, String)> {
    st.say("\n6. Checkpoint, cosigned by both Parties' witnesses.");
    let note = ledger.checkpoint_now().map_err(|e| anyhow!("{e}"))?;
    let mut cosigned = note;
    for w in [&cast.kz_witness, &cast.tm_witness] {
        cosigned = cosign(&cosigned, w.id.as_str(), &w.key, files::now_ms() / 1000)?;
    }
    let (cp_size, cosigned) = ledger.store_checkpoint(&cosigned)?;
    st.say(&format!(
        "   checkpoint at size {cp_size}, signed by the node, cosigned by KZ-WITNESS and TM-WITNESS"
    ));
    st.done("checkpoint");

    Ok((cp_size, cosigned))
}

/// Step 7: the auditor's export, verified offline against the node key alone.
fn audit(
    ledger: &Ledger<SledStore>,
    root: &std::path::Path,
    st: &mut Steps,
) -> anyhow::Result<(
    coop_verify::Verified,
    coop_core::checkpoint::NoteVerifier,
    PathBuf,
)> {
    st.say("\n7. The auditor: export, then verify offline, trusting nothing but the node's key.");
    let export = root.join("ledger.export");
    let vkey = ledger
        .node_verifier()
        .ok_or_else(|| anyhow!("the ledger has no genesis"))?;
    crate::ops::write_export(ledger, &export, true)?;
    let started = Instant::now();
    let file = std::fs::File::open(&export)?;
    let mut reader = coop_verify::ExportReader::new(std::io::BufReader::new(file))?;
    let v = coop_verify::verify(
        &mut reader,
        &coop_verify::Options {
            nodes: vec![vkey.clone()],
            ..coop_verify::Options::default()
        },
        &mut coop_verify::Quiet,
    )
    .map_err(|e| anyhow!("the auditor's verification failed: {e}"))?;
    let took = started.elapsed();
    st.say(&format!(
        "   VERIFIED {} records in {took:.2?} ({:.0} records/s): chain, Merkle root at {} checkpoints,\n   {} strict signatures by keys registered and active where they signed, every event allowed by the Agreement where it landed",
        v.size,
        v.size as f64 / took.as_secs_f64(),
        v.checkpoints.len(),
        v.signatures
    ));
    st.done("auditor's verification");

    Ok((v, vkey, export))
}

/// Step 8: the Article 7 summary, from what the auditor recomputed.
fn article7_summary(v: &coop_verify::Verified, st: &mut Steps) {
    st.say("\n8. Article 7 compliance (recomputed by the auditor from the records alone):");
    // The whole report, built from the state the auditor recomputed (the verification
    // keeps only its counts and broken items).
    let report = coop_treaty::ComplianceReport::build(&v.state);
    let (items, uses, onward, breaches) = report.counts();
    let by_consent = report
        .items
        .iter()
        .flat_map(|i| i.uses.iter())
        .filter(|u| u.2.is_some())
        .count();
    st.say(&format!(
        "   {items} information items ({} restricted); {uses} uses, {by_consent} of them relying on a consent; {onward} onward transfers; {breaches} breaches",
        report.items.iter().filter(|i| i.restricted).count()
    ));
    if let Some(i) = report.items.iter().find(|i| !i.onward.is_empty()) {
        for (third, l, c) in &i.onward {
            st.say(&format!(
                "   e.g. item {} went on to {third} at record {}, relying on the written consent at record {} signed by {} ({})",
                i.item, l.seq, c.seq, c.signer, i.provider.1
            ));
        }
    }
    st.say(&format!(
        "   Article 7 {}",
        if report.held() {
            "held for every item."
        } else {
            "was BROKEN."
        }
    ));
    st.done("compliance summary");
}

/// Step 9: a disputed case replayed as it stood when its dispute was raised, and its
/// evidence bundle written and verified alone. Returns the case, that record and the
/// bundle's path.
fn dispute(
    ledger: &Ledger<SledStore>,
    v: &coop_verify::Verified,
    root: &std::path::Path,
    (cp_size, cosigned): (u64, &str),
    vkey: &coop_core::checkpoint::NoteVerifier,
    st: &mut Steps,
) -> anyhow::Result<(coop_treaty::Case, u64, PathBuf)> {
    st.say("\n9. A dispute consultation (Art. 8): replay a disputed case as it stood earlier, and hand over its evidence.");
    let disputed = v
        .state
        .cases
        .values()
        .find(|c| !c.disputes.is_empty())
        .ok_or_else(|| anyhow!("no disputed case"))?;
    let raised = disputed
        .disputes
        .values()
        .next()
        .map(|d| d.raised.seq)
        .ok_or_else(|| anyhow!("no dispute"))?;
    let then = ledger
        .case(&disputed.id, Some(AsOf::Seq(raised)))?
        .ok_or_else(|| anyhow!("case missing"))?;
    st.say(&format!(
        "   case {} as of record {raised} (dispute raised): status {}, {} events, dispute {}",
        disputed.id,
        show::status(then.status),
        then.steps.len(),
        if then.disputes.values().any(|d| d.settled.is_none()) {
            "open"
        } else {
            "settled"
        }
    ));
    st.say(&format!(
        "   the same case now: status {}, {} events, dispute {}",
        show::status(disputed.status),
        disputed.steps.len(),
        if disputed.disputes.values().all(|d| d.settled.is_some()) {
            "settled after a consultation"
        } else {
            "open"
        }
    ));
    let bundle_path = root.join(format!("case-{}.bundle", disputed.id));
    let b = ledger.bundle_at(&disputed.id, cosigned, cp_size)?;
    std::fs::write(&bundle_path, b.to_bytes()?)?;
    let vb = coop_verify::verify_bundle(
        &coop_verify::Bundle::from_bytes(&std::fs::read(&bundle_path)?)?,
        Some(vkey),
    )
    .map_err(|e| anyhow!("the bundle does not verify: {e}"))?;
    let replay = vb
        .case_as_of(raised)?
        .ok_or_else(|| anyhow!("replay lost the case"))?;
    st.say(&format!(
        "   evidence bundle {}: {} records with inclusion proofs against the checkpoint cosigned by {}; verified alone, it replays the case as of record {raised}: {}",
        bundle_path.display(),
        vb.records.len(),
        vb.checkpoint.cosigned_by.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(" and "),
        show::status(replay.status)
    ));
    st.done("dispute replay and evidence bundle");

    Ok((coop_treaty::Case::clone(disputed), raised, bundle_path))
}

/// Step 10: on a copy whose (test) clock moves, deadlines overdue three days on, and a
/// notice of termination taking effect six months later: a new request refused under
/// Art. 10, an open case still answered. `(id, cases, events)`: the ledger, the number
/// of cases so far and of the demo's one-off events (for fresh ids).
fn future(
    root: &std::path::Path,
    cast: &Cast,
    pair: &Pair<'_>,
    (id, cases, events_so_far): (LedgerId, u64, u64),
    st: &mut Steps,
) -> anyhow::Result<()> {
    st.say("\n10. The future, on a copy (DIR/future): this is a TEST LEDGER, and only a ledger whose genesis says so lets its clock be moved.");
    let future = LedgerDir::new(root.join("future"));
    copy_tree(&root.join("store"), &future.path().join("store"))?;
    std::fs::copy(root.join("node.pem"), future.path().join("node.pem"))?;
    let clock = coop_ledger::TestClock::new();
    let ledger = future.open_with(|c| c.clock = clock.clone())?;
    let mut gov = Gov {
        ledger: &ledger,
        id,
        n: events_so_far,
    };
    let day = 24 * 3_600_000;
    clock.advance(3 * day);
    let now = ledger.now();
    let overdue: Vec<coop_treaty::Case> = ledger.with_state(|s| {
        s.cases
            .values()
            .filter(|c| !c.overdue_at(now).is_empty())
            .map(|c| (**c).clone())
            .collect()
    })?;
    if let Some(c) = overdue.first() {
        st.say(&format!(
            "   three days later ({}), {} cases are overdue, e.g. case {}: {}",
            show::time(now),
            overdue.len(),
            c.id,
            c.overdue_at(now).first().map_or("", |d| d.kind.describe())
        ));
    }
    st.say("   Art. 10: Kazakhstan gives notice of termination.");
    gov.submit(&cast.kz_root, Payload::TerminationNotice)?;
    let effective = ledger
        .with_state(|s| s.agreement.termination.clone())?
        .map(|t| t.effective_at)
        .ok_or_else(|| anyhow!("the termination was not recorded"))?;
    st.say(&format!(
        "   the Agreement stays in force until {} (six months after the notice)",
        show::time(effective)
    ));
    let last_day = effective
        .0
        .saturating_sub(day)
        .saturating_sub(ledger.now().0);
    clock.advance(last_day);
    let new_request = |gov: &mut Gov<'_>, n: u64| -> anyhow::Result<SignedEvent> {
        let r = scenario::request(n, pair, Kind::Executed, false);
        gov.event(
            pair.requester,
            &Payload::Request(Box::new(r)),
            Some(CaseRef {
                case_id: scenario::case_id(id, n),
                expected_version: 0,
            }),
        )
    };
    let last = cases + 1;
    let ev = new_request(&mut gov, last)?;
    ledger
        .submit(ev)
        .map_err(|e| anyhow!("the last-day request was refused: {e}"))?;
    st.say(&format!(
        "   {}: a new request, the day before termination takes effect, is accepted",
        show::time(ledger.now())
    ));
    clock.advance(day + 60_000);
    let before = ledger.head()?;
    match ledger.submit(new_request(&mut gov, last + 1)?) {
        Err(SubmitError::Refused(v)) => st.say(&format!(
            "   {}: a new request is refused: {v}; nothing was written",
            show::time(ledger.now())
        )),
        other => bail!("a request after termination was not refused: {other:?}"),
    }
    if ledger.head()? != before {
        bail!("a refused request changed the ledger");
    }
    let ack = gov.event(
        pair.requested,
        &Payload::Acknowledged,
        Some(CaseRef {
            case_id: scenario::case_id(id, last),
            expected_version: 1,
        }),
    )?;
    ledger
        .submit(ack)
        .map_err(|e| anyhow!("the open case could not be answered: {e}"))?;
    st.say(
        "   the case opened on the last day is still answered: cases open before termination go on",
    );
    // Later commands on the copy see its moved time.
    future.set_test_clock(ledger.now().0.saturating_sub(files::now_ms()))?;
    ledger.shutdown();
    st.done("the future: deadlines and termination");

    Ok(())
}

/// What the demo prints at the end: timings, what an auditor pins (even with --quiet),
/// and where to go on.
struct Closing<'a> {
    root: &'a std::path::Path,
    kept: bool,
    quiet: bool,
    id: LedgerId,
    vkey: &'a coop_core::checkpoint::NoteVerifier,
    export: &'a std::path::Path,
    bundle: &'a std::path::Path,
    case: &'a coop_core::CaseId,
    raised: u64,
}

impl Closing<'_> {
    fn print(&self, st: &Steps, size: u64, cases: u32, refused: usize) {
        let Closing {
            root,
            kept,
            quiet,
            id,
            vkey,
            export,
            bundle,
            case,
            raised,
        } = *self;
        let total = st.started.elapsed();
        st.say(&format!(
            "\nDone in {total:.2?}: {} records, {} cases, {refused} violations refused.",
            size, cases
        ));
        if !quiet {
            println!("timings:");
            for (what, t) in &st.timings {
                println!("  {what:<36} {t:>10.2?}");
            }
        }
        // Even with --quiet: what an auditor pins, and where the ledger is.
        println!("ledger {id}");
        println!("node checkpoint key {}", vkey.to_vkey());
        if !kept {
            println!(
                "the ledger was in a temporary directory, now removed; run `coopledger demo --data DIR` to keep it and follow the README's tour"
            );
            return;
        }
        let d = root.display();
        println!(
            "ledger directory {d}: the node key is in {d}/node.vkey, the tour's files in {d}/tour/"
        );
        if !quiet {
            println!("\nTry, on this ledger (the README's tour has more):");
            println!("  coopledger case list --data {d} --disputed");
            println!("  coopledger case timeline {case} --data {d}");
            println!("  coopledger case show {case} --data {d} --as-of {raised}");
            println!("  coopledger report --data {d} --format markdown");
            println!(
                "  coopledger verify {} --node-key {d}/node.vkey",
                export.display()
            );
            println!("  coopledger verify {} --as-of {raised}", bundle.display());
        }
    }
}

/// The request of docs/examples/request.json, which every test parses.
const EXAMPLE_REQUEST: &str = include_str!("../../../../docs/examples/request.json");

/// What the README's tour uses, written into the demo's directory so that the tour runs
/// as written on any demo ledger: the node key an auditor pins (`node.vkey`), the
/// disputed case and the record that raised its dispute (`tour/disputed-case`,
/// `tour/dispute-raised-at`), a request the Agreement refuses (Art. 4.1(5): the
/// decision's copy is not certified) and an event the ledger accepts (a language
/// arrangement proposed by TM-MVD), each naming its signer's key in `keys/`.
fn write_tour(
    root: &std::path::Path,
    vkey: &str,
    disputed: &coop_core::CaseId,
    raised: u64,
) -> anyhow::Result<()> {
    let tour = root.join("tour");
    std::fs::create_dir_all(&tour)?;
    std::fs::write(root.join("node.vkey"), format!("{vkey}\n"))?;
    std::fs::write(tour.join("disputed-case"), format!("{disputed}\n"))?;
    std::fs::write(tour.join("dispute-raised-at"), format!("{raised}\n"))?;
    let mut request: serde_json::Value = serde_json::from_str(EXAMPLE_REQUEST)?;
    let obj = request
        .as_object_mut()
        .ok_or_else(|| anyhow!("docs/examples/request.json is not an object"))?;
    obj.insert("key".into(), "../keys/KZ-MVD.pem".into());
    obj.remove("case");
    let copy = obj
        .get_mut("payload")
        .and_then(|p| p.get_mut("Request"))
        .and_then(|r| r.get_mut("elements"))
        .and_then(|e| e.get_mut("decision_copy"))
        .ok_or_else(|| anyhow!("docs/examples/request.json has no decision_copy"))?;
    // One document or a list of them: every one becomes a plain original.
    match copy {
        serde_json::Value::Array(docs) => {
            docs.iter_mut().for_each(|d| d["role"] = "Original".into())
        }
        d => d["role"] = "Original".into(),
    }
    std::fs::write(
        tour.join("request-uncertified.json"),
        serde_json::to_string_pretty(&request)? + "\n",
    )?;
    std::fs::write(
        tour.join("language-arrangement.toml"),
        "# TM-MVD proposes Russian for its communications with KZ-MVD (Art. 4.2).\n\
         signer = \"TM-MVD\"\n\
         key = \"../keys/TM-MVD.pem\"\n\
         [payload.LanguageArrangementProposed]\n\
         with = \"KZ-MVD\"\n\
         languages = [\"Ru\"]\n",
    )?;
    Ok(())
}

fn doc_bytes(bytes: &[u8], language: Language) -> coop_treaty::DocumentRef {
    coop_treaty::DocumentRef {
        digest: Hash(*blake3::hash(bytes).as_bytes()),
        size: bytes.len() as u64,
        media_type: "text/plain; charset=utf-8".into(),
        language,
        role: DocRole::Original,
    }
}

/// Who asks whom: the ministries of internal affairs both ways, the security services
/// under their Russian-language arrangement, the financial-monitoring agency and the
/// prosecutor's office both ways, and the Art. 1.2 agreement's pair.
fn pairs<'a>(
    kz: [&'a Actor; 3],
    tm: [&'a Actor; 3],
    other_crime: Hash,
    arrangement: Hash,
) -> Vec<Pair<'a>> {
    let [kz_mvd, kz_knb, kz_afm] = kz;
    let [tm_mvd, tm_mns, tm_gpo] = tm;
    let pair = |requester, requested, arranged: Option<(Vec<Language>, Hash)>, other_crime| Pair {
        requester,
        requested,
        arranged,
        other_crime,
    };
    let ru = || Some((vec![Language::Ru], arrangement));
    vec![
        pair(kz_mvd, tm_mvd, None, None),
        pair(tm_mvd, kz_mvd, None, None),
        pair(kz_knb, tm_mns, ru(), None),
        pair(tm_gpo, kz_afm, None, None),
        pair(kz_afm, tm_gpo, None, None),
        pair(tm_mns, kz_knb, ru(), None),
        pair(kz_mvd, tm_mvd, None, Some(other_crime)),
    ]
}

struct RunStats {
    events: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
}

/// Builds and signs the cases on all cores, then submits them through the driver the
/// benchmarks use: 16 submitters, each driving 8 cases at a time and waiting for their
/// receipts, as agencies' systems would.
fn run_cases(
    ledger: &Ledger<SledStore>,
    id: LedgerId,
    range: std::ops::Range<u64>,
    pairs: &[Pair<'_>],
    time: u64,
) -> anyhow::Result<RunStats> {
    use rayon::prelude::*;
    let built: Vec<Vec<SignedEvent>> = range
        .into_par_iter()
        .map(|n| {
            let pair = pairs
                .get((n % pairs.len() as u64) as usize)
                .ok_or_else(|| anyhow!("no pair"))?;
            // The Art. 1.2 pair asks only plain executions.
            let pair = if pair.other_crime.is_some() && Kind::of(n) != Kind::Executed {
                pairs.first().ok_or_else(|| anyhow!("no pair"))?
            } else {
                pair
            };
            scenario::case_events(id, n, time, pair).map(|c: CaseBuilder| c.events)
        })
        .collect::<anyhow::Result<_>>()?;
    let submit = coop_demo::in_process(ledger);
    let run = coop_demo::drive(&submit, built, 16, 8)
        .map_err(|e| anyhow!("an event of the scenario was refused: {e}"))?;
    Ok(RunStats {
        events: run.events,
        elapsed: run.elapsed,
        p50: coop_demo::pct(&run.latencies, 0.5),
        p99: coop_demo::pct(&run.latencies, 0.99),
    })
}

/// Tries events that break the Agreement; each must be refused with its article and
/// change nothing. Returns how many were refused.
fn violations(
    ledger: &Ledger<SledStore>,
    gov: &mut Gov<'_>,
    cast: &Cast,
    revoked: &Actor,
    revoked_at: u64,
    st: &mut Steps,
) -> anyhow::Result<usize> {
    let [kz_mvd, kz_knb, _] = &cast.kz;
    let [tm_mvd, _, _] = &cast.tm;
    // An open case of KZ-MVD -> TM-MVD with an item that TM-MVD provided.
    let (case, item) = ledger
        .with_state(|s| {
            s.register
                .values()
                .find(|i| i.provider == tm_mvd.id && i.recipient == kz_mvd.id)
                .map(|i| (i.case, i.id))
        })?
        .ok_or_else(|| anyhow!("no item to misuse"))?;
    let version = ledger
        .with_state(|s| s.cases.get(&case).map(|c| c.version))?
        .ok_or_else(|| anyhow!("case missing"))?;
    let at = |v| {
        Some(CaseRef {
            case_id: case,
            expected_version: v,
        })
    };
    let pair = Pair {
        requester: kz_mvd,
        requested: tm_mvd,
        arranged: None,
        other_crime: None,
    };
    let mut no_decision = scenario::request(9_999_001, &pair, Kind::Executed, false);
    no_decision.elements.decision_copy = None;
    let mut same_party = scenario::request(9_999_002, &pair, Kind::Executed, false);
    same_party.elements.requested_authority = Some(kz_knb.id.clone());
    let new_case = |n: u64| {
        Some(CaseRef {
            case_id: CaseBuilder::new(gov.id, n, 0).case,
            expected_version: 0,
        })
    };
    let attempts: Vec<(String, &Actor, Payload, Option<CaseRef>)> = vec![
        (
            "a request without the certified copy of the decision".to_owned(),
            kz_mvd,
            Payload::Request(Box::new(no_decision)),
            new_case(9_999_001),
        ),
        (
            "a request to an authority of the requester's own Party".to_owned(),
            kz_mvd,
            Payload::Request(Box::new(same_party)),
            new_case(9_999_002),
        ),
        (
            "KZ-MVD uses TM-MVD's information for a purpose the request did not state".to_owned(),
            kz_mvd,
            Payload::InformationUsed {
                item,
                purpose: Purpose("tax audit of a private company".into()),
            },
            at(version),
        ),
        (
            "KZ-MVD passes TM-MVD's information to a third party without consent".to_owned(),
            kz_mvd,
            Payload::OnwardTransfer {
                item,
                third_party: "a foreign news agency".into(),
                consent: Hash([7; 32]),
            },
            at(version),
        ),
        (
            "KZ-MVD 'consents' to passing on information that Turkmenistan provided".to_owned(),
            kz_mvd,
            Payload::ConsentGranted {
                item,
                third_party: Some("a foreign news agency".into()),
                purposes: vec![],
                documents: vec![doc("self-granted consent", Language::Kk, DocRole::Original)],
            },
            at(version),
        ),
        (
            format!("an event signed with TM-GPO's key, revoked at record {revoked_at}"),
            revoked,
            Payload::Refused {
                extent: coop_treaty::Extent::Full,
                grounds: vec![RefusalGround::Security],
                reasons: vec![doc("reasons", Language::Tk, DocRole::Original)],
            },
            at(version),
        ),
        (
            "an event that expects an old version of the case (someone else answered first)"
                .to_owned(),
            tm_mvd,
            Payload::CostRecorded {
                amount_minor: 100,
                currency: "TMT".into(),
            },
            at(version.saturating_sub(1)),
        ),
    ];
    let mut refused = 0;
    for (what, by, payload, case_ref) in attempts {
        let before = ledger.head()?;
        let cases_before = ledger.with_state(|s| s.cases.get(&case).cloned())?;
        let ev = gov.event(by, &payload, case_ref)?;
        match ledger.submit(ev) {
            Err(SubmitError::Refused(v)) => {
                let after = ledger.head()?;
                let cases_after = ledger.with_state(|s| s.cases.get(&case).cloned())?;
                if after != before || cases_after != cases_before {
                    bail!("a refused event changed the ledger: {what}");
                }
                refused += 1;
                st.say(&format!("   REFUSED {what}:\n      {v}"));
            }
            Ok(r) => bail!(
                "the ledger accepted a violation ({what}) at record {}",
                r.seq
            ),
            Err(e) => bail!("unexpected error for {what}: {e}"),
        }
    }
    st.say(&format!(
        "   the ledger still has {} records, the same head, the same cases",
        ledger.head()?.size
    ));
    Ok(refused)
}
