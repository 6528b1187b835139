//! The auditor's commands: `verify` (a ledger directory, an export or a bundle) and
//! `console` (the same verification, then the console over what verified).

use super::*;

struct VerifyObserver(Progress);
impl Observer for VerifyObserver {
    fn progress(&mut self, done: u64, total: Option<u64>) {
        self.0.update(done, total);
    }
}

/// What the auditor brings (`--node-key`, `--checkpoint`): the one reading of those
/// flags for `verify` and `console`.
fn options(node_keys: &[String], checkpoints: &[PathBuf]) -> anyhow::Result<Options> {
    let nodes = node_keys
        .iter()
        .map(|v| read_vkey(v))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let known = checkpoints
        .iter()
        .map(|p| std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Options {
        nodes,
        known_checkpoints: known,
        ..Options::default()
    })
}

pub(super) fn verify(
    path: &Path,
    node_keys: &[String],
    checkpoints: &[PathBuf],
    as_of: Option<u64>,
    json: bool,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let options = options(node_keys, checkpoints)?;
    let mut observer = VerifyObserver(Progress::new(quiet || json, "verifying"));
    let outcome = match Input::open(path)? {
        Input::Ledger(mut source) => coop_verify::verify(source.as_mut(), &options, &mut observer)
            .map(|v| Outcome::Ledger(Box::new(v))),
        Input::Bundle(bytes) => Bundle::from_bytes(&bytes)
            .and_then(|b| coop_verify::verify_bundle(&b, options.nodes.first()))
            .map(|v| Outcome::Bundle(Box::new(v))),
        Input::Unreadable(e) => Err(e),
    };
    observer.0.finish();
    let elapsed = started.elapsed();
    match outcome {
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "verified": false, "seq": e.seq(), "error": e.to_string()
                    }))?
                );
            } else {
                eprintln!("VERIFICATION FAILED: {e}");
                if let Some(s) = e.seq() {
                    eprintln!("nothing from record {s} on can be trusted");
                }
            }
            Ok(ExitCode::from(VERIFY_FAILED))
        }
        Ok(Outcome::Ledger(v)) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&ledger_json(&v))?);
            } else {
                print!("{}", ledger_text(&v, elapsed));
            }
            Ok(ExitCode::SUCCESS)
        }
        Ok(Outcome::Bundle(b)) => {
            let then = as_of.map(|s| b.case_as_of(s)).transpose()?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "verified": true,
                        "test_ledger": b.state.test_ledger,
                        "ledger_id": b.ledger_id,
                        "case": b.case,
                        "checkpoint_size": b.checkpoint.checkpoint.size,
                        "cosigned_by": b.checkpoint.cosigned_by,
                        "node_key_pinned": b.node_key_pinned,
                        "records": b.records.len(),
                        "case_seqs": b.case_seqs(),
                        "case_now": b.case(),
                        "case_as_of": then.flatten(),
                    }))?
                );
            } else {
                print!("{}", bundle_text(&b, then, as_of)?);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

enum Outcome {
    Ledger(Box<coop_verify::Verified>),
    Bundle(Box<coop_verify::VerifiedBundle>),
}

/// What `verify` and `console` read: a ledger directory or an export (a whole ledger), or
/// an evidence bundle (told apart by its magic bytes).
enum Input {
    Ledger(Box<dyn coop_verify::Source + Send>),
    Bundle(Vec<u8>),
    /// Not an export (its header is wrong): a verification failure, not an I/O error.
    Unreadable(VerifyError),
}

impl Input {
    fn open(path: &Path) -> anyhow::Result<Input> {
        if path.is_dir() {
            return Ok(Input::Ledger(Box::new(JournalSource::new(
                &LedgerDir::new(path),
            )?)));
        }
        let mut f =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut head = Vec::new();
        (&mut f)
            .take(coop_verify::BUNDLE_MAGIC.len() as u64)
            .read_to_end(&mut head)?;
        if head == coop_verify::BUNDLE_MAGIC {
            Ok(Input::Bundle(std::fs::read(path)?))
        } else {
            let f = std::fs::File::open(path)?;
            Ok(match ExportReader::new(BufReader::new(f)) {
                Ok(r) => Input::Ledger(Box::new(r)),
                Err(e) => Input::Unreadable(e),
            })
        }
    }
}

/// `coopledger console PATH`: verifies the input exactly as `verify` does (with
/// progress), then serves the console over what verified. Nothing is served from an
/// input that fails.
pub(super) fn console(
    path: &Path,
    node_keys: &[String],
    checkpoints: &[PathBuf],
    listen: &str,
    allow_remote: bool,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    let options = options(node_keys, checkpoints)?;
    let now = coop_ledger::system_ms();
    let mut progress = Progress::new(quiet, "verifying");
    let copy = match Input::open(path)? {
        Input::Ledger(mut source) => read::VerifiedCopy::verify(
            source.as_mut(),
            &options,
            &mut |done, total| progress.update(done, total),
            now,
        ),
        Input::Bundle(bytes) => Bundle::from_bytes(&bytes).and_then(|b| {
            let note = b.checkpoint.clone();
            coop_verify::verify_bundle(&b, options.nodes.first())
                .map(|v| read::VerifiedCopy::of_bundle(v, note, now))
        }),
        Input::Unreadable(e) => Err(e),
    };
    progress.finish();
    let copy = match copy {
        Ok(c) => c,
        Err(e) => {
            eprintln!("VERIFICATION FAILED: {e}");
            if let Some(s) = e.seq() {
                eprintln!("nothing from record {s} on can be trusted; the console is not started");
            }
            return Ok(ExitCode::from(VERIFY_FAILED));
        }
    };
    crate::net::console(copy, path, listen, allow_remote)
}

fn cosigners(c: &[(String, coop_treaty::Party)]) -> String {
    if c.is_empty() {
        return "no witness".into();
    }
    c.iter()
        .map(|(n, p)| format!("{n} ({p})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ledger_json(v: &coop_verify::Verified) -> serde_json::Value {
    let (items, uses, onward, breaches) = v.report.counts();
    serde_json::json!({
        "verified": true,
        "test_ledger": v.state.test_ledger,
        "ledger_id": v.ledger_id,
        "size": v.size,
        "root": v.root,
        "chain_head": v.chain_head,
        "signatures": v.signatures,
        "node_vkeys": v.node_keys.iter().map(NoteVerifier::to_vkey).collect::<Vec<_>>(),
        "node_key_pinned": v.node_key_pinned,
        "checkpoints": v.checkpoints.iter().map(|c| serde_json::json!({
            "size": c.checkpoint.size, "root": c.checkpoint.root, "time": c.checkpoint.time.0,
            "cosigned_by": c.cosigned_by, "external": c.external,
        })).collect::<Vec<_>>(),
        "uncovered_records": v.uncovered(),
        "cases": v.state.cases.len(),
        "article7": { "held": v.report.held(), "items": items, "uses": uses,
                      "onward_transfers": onward, "breaches": breaches },
    })
}

fn ledger_text(v: &coop_verify::Verified, elapsed: std::time::Duration) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let (items, uses, onward, breaches) = v.report.counts();
    if v.state.test_ledger {
        let _ = writeln!(s, "{}", show::TEST_LEDGER);
    }
    let _ = writeln!(s, "VERIFIED ledger {}", v.ledger_id);
    let _ = writeln!(
        s,
        "  {} records: every record canonical, in order and linked; {} signatures valid (strict Ed25519) for keys registered and active where they signed",
        v.size, v.signatures
    );
    let _ = writeln!(
        s,
        "  every event allowed by the Agreement at its position; {} cases",
        v.state.cases.len()
    );
    let _ = writeln!(
        s,
        "  Merkle root {}\n  chain head  {}",
        v.root, v.chain_head
    );
    if v.node_keys.is_empty() {
        let _ = writeln!(s, "  no node key: checkpoints could not be checked");
    }
    for n in &v.node_keys {
        let _ = writeln!(
            s,
            "  node key {}{}",
            n.to_vkey(),
            if v.node_key_pinned {
                " (pinned by you)"
            } else {
                " (as the input states it: pin it with --node-key)"
            }
        );
    }
    let _ = writeln!(
        s,
        "  {} checkpoints match the records{}",
        v.checkpoints.len(),
        v.checkpoints
            .last()
            .map(|c| format!(
                "; the last, at size {}, cosigned by {}",
                c.checkpoint.size,
                cosigners(&c.cosigned_by)
            ))
            .unwrap_or_default()
    );
    for c in v.checkpoints.iter().filter(|c| c.external) {
        let _ = writeln!(s, "  your checkpoint at size {} matches", c.checkpoint.size);
    }
    if v.uncovered() > 0 {
        let _ = writeln!(
            s,
            "  note: the last {} records are valid but not yet covered by a checkpoint",
            v.uncovered()
        );
    }
    let _ = writeln!(
        s,
        "  Article 7: {} — {items} items, {uses} uses, {onward} onward transfers, {breaches} breaches",
        if v.report.held() { "held" } else { "BROKEN" }
    );
    let secs = elapsed.as_secs_f64();
    let _ = writeln!(
        s,
        "  in {elapsed:.2?} ({:.0} records/s)",
        v.size as f64 / secs.max(1e-9)
    );
    s
}

/// Record `seq` of a verified bundle, if it holds it.
fn bundle_record(b: &coop_verify::VerifiedBundle, seq: u64) -> Option<coop_core::Record> {
    b.records
        .binary_search_by_key(&seq, |r| r.seq)
        .ok()
        .and_then(|i| b.records.get(i))
        .cloned()
}

fn bundle_text(
    b: &coop_verify::VerifiedBundle,
    then: Option<Option<coop_treaty::Case>>,
    as_of: Option<u64>,
) -> Result<String, coop_ledger::LedgerError> {
    use std::fmt::Write as _;
    let mut s = String::new();
    if b.state.test_ledger {
        let _ = writeln!(s, "{}", show::TEST_LEDGER);
    }
    let _ = writeln!(s, "VERIFIED evidence bundle for case {}", b.case);
    let _ = writeln!(s, "  ledger {}", b.ledger_id);
    let _ = writeln!(
        s,
        "  {} records ({} of the case), each proven included in the checkpoint at size {}, signed by the node{} and cosigned by {}",
        b.records.len(),
        b.case_seqs().len(),
        b.checkpoint.checkpoint.size,
        if b.node_key_pinned {
            " (key pinned by you)"
        } else {
            ""
        },
        cosigners(&b.checkpoint.cosigned_by)
    );
    let _ = writeln!(s, "  every event allowed by the Agreement at its position");
    let now = b.state.last_time;
    if let Some(c) = b.case() {
        let _ = writeln!(s, "\nthe case at the checkpoint:");
        let c = read::detail_from(c, |seq| Ok(bundle_record(b, seq)))?;
        s.push_str(&show::case(&c, now));
        s.push_str(&show::timeline(&c));
    }
    if let (Some(then), Some(seq)) = (then, as_of) {
        let _ = writeln!(s, "\nthe case as it stood just after record {seq}:");
        match then {
            Some(c) => {
                let c = read::detail_from(&c, |seq| Ok(bundle_record(b, seq)))?;
                s.push_str(&show::case(&c, now));
            }
            None => {
                let _ = writeln!(s, "  it did not exist yet");
            }
        }
    }
    Ok(s)
}
