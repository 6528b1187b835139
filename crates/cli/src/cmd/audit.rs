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

/// What an auditor who verified a copy may say of it (docs/adr/0026): the witness policy
/// met (a verdict on both Parties' word, as far as their witnesses cosigned), or not — and
/// then nothing is VERIFIED unless the auditor accepts the node's word alone, which every
/// line of the verdict then says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Word {
    /// Both Parties' witnesses cosigned a checkpoint covering this many records.
    Witnessed(u64),
    /// No such checkpoint covers what the verdict covers: the node's word alone
    /// (accepted with `--accept-node-word`).
    Node,
}

/// The prefix of every line of a verdict on the node's word alone.
const NODE_WORD: &str = "[the node's word alone] ";

/// What `verify` says when no checkpoint meets the witness policy and the auditor did
/// not accept the node's word.
fn not_witnessed(what: &str) -> String {
    format!(
        "NOT WITNESSED: {what} checks out, but no checkpoint is cosigned by a witness of each Party, so it rests on the node's word alone (a node can drop, re-chain and re-sign records unseen). Verify a copy whose checkpoint both Parties' witnesses cosigned, or pass --accept-node-word to accept the node's word, which the verdict then says on every line."
    )
}

/// The NOT WITNESSED answer (exit 4), on standard error or as JSON.
fn refuse_unwitnessed(what: &str, json: bool) -> anyhow::Result<ExitCode> {
    let why = not_witnessed(what);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "verified": false, "witnessed": false, "error": why,
            }))?
        );
    } else {
        eprintln!("{why}");
    }
    Ok(ExitCode::from(NOT_WITNESSED))
}

/// Every line of `text` prefixed as resting on the node's word alone.
fn on_node_word(text: &str) -> String {
    text.lines().map(|l| format!("{NODE_WORD}{l}\n")).collect()
}

#[allow(clippy::too_many_arguments)] // the command's flags
pub(super) fn verify(
    path: &Path,
    node_keys: &[String],
    checkpoints: &[PathBuf],
    as_of: Option<u64>,
    accept_node_word: bool,
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
            let word = match &v.witnessed {
                Some(w) if !accept_node_word || w.checkpoint.checkpoint.size == v.size => {
                    Word::Witnessed(w.checkpoint.checkpoint.size)
                }
                _ if accept_node_word => Word::Node,
                _ => return refuse_unwitnessed("every record and checkpoint", json),
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&ledger_json(&v, word))?);
            } else {
                print!("{}", ledger_text(&v, word, elapsed));
            }
            Ok(ExitCode::SUCCESS)
        }
        Ok(Outcome::Bundle(b)) => {
            let witnessed = coop_verify::witnessed(&b.checkpoint.cosigned_by);
            if !witnessed && !accept_node_word {
                return refuse_unwitnessed("the bundle", json);
            }
            let covered = b.checkpoint.checkpoint.size;
            if let Some(seq) = as_of.filter(|s| *s >= covered) {
                anyhow::bail!(
                    "--as-of {seq} is past the bundle's end: it is proven against the checkpoint at size {covered}, so record {} is the last it can show",
                    covered.saturating_sub(1)
                );
            }
            let then = as_of.map(|s| b.case_as_of(s)).transpose()?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "verified": true,
                        "witnessed": witnessed,
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
            } else if witnessed {
                print!("{}", bundle_text(&b, then, as_of)?);
            } else {
                print!("{}", on_node_word(&bundle_text(&b, then, as_of)?));
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
            return Ok(match JournalSource::new(&LedgerDir::new(path))? {
                Ok(source) => Input::Ledger(Box::new(source)),
                Err(e) => Input::Unreadable(e),
            });
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
#[allow(clippy::too_many_arguments)] // the command's flags
pub(super) fn console(
    path: &Path,
    node_keys: &[String],
    checkpoints: &[PathBuf],
    listen: &str,
    allow_remote: bool,
    accept_node_word: bool,
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
    if copy.verdict.witnessed_size.is_none() && !accept_node_word {
        eprintln!("{}; the console is not started", not_witnessed("the copy"));
        return Ok(ExitCode::from(NOT_WITNESSED));
    }
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

fn ledger_json(v: &coop_verify::Verified, word: Word) -> serde_json::Value {
    let (state, report) = verdict_of(v, word);
    let (items, uses, onward, breaches) = report.counts();
    serde_json::json!({
        "verified": true,
        "witnessed": matches!(word, Word::Witnessed(_)),
        "witnessed_size": match word { Word::Witnessed(n) => Some(n), Word::Node => None },
        "unwitnessed_records": match word { Word::Witnessed(_) => v.unwitnessed(), Word::Node => 0 },
        "on_node_word_alone": word == Word::Node,
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
        "skipped": v.skipped,
        "cases": state.cases.len(),
        "article7": { "held": report.held(), "items": items, "uses": uses,
                      "onward_transfers": onward, "breaches": breaches },
    })
}

/// The state and Article 7 report a verdict covers: as of the last witnessed checkpoint,
/// or the whole ledger on the node's word.
fn verdict_of(
    v: &coop_verify::Verified,
    word: Word,
) -> (&coop_treaty::State, &coop_treaty::ComplianceSummary) {
    match (&v.witnessed, word) {
        (Some(w), Word::Witnessed(_)) => (&w.state, &w.report),
        _ => (&v.state, &v.report),
    }
}

fn ledger_text(v: &coop_verify::Verified, word: Word, elapsed: std::time::Duration) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let (state, report) = verdict_of(v, word);
    let (items, uses, onward, breaches) = report.counts();
    // What the verdict covers, when not the whole ledger: said beside what is counted.
    let upto = match word {
        Word::Witnessed(n) if n < v.size => format!(" (as of record {})", n.saturating_sub(1)),
        _ => String::new(),
    };
    if v.state.test_ledger {
        let _ = writeln!(s, "{}", show::TEST_LEDGER);
    }
    match (word, &v.witnessed) {
        (Word::Witnessed(n), Some(w)) => {
            let _ = writeln!(
                s,
                "VERIFIED ledger {}, witnessed by both Parties up to record {} (the checkpoint at size {n}, cosigned by {})",
                v.ledger_id,
                n.saturating_sub(1),
                cosigners(&w.checkpoint.cosigned_by)
            );
        }
        _ => {
            let _ = writeln!(
                s,
                "VERIFIED ledger {} on the node's word alone: no checkpoint covering it is cosigned by a witness of each Party",
                v.ledger_id
            );
        }
    }
    let _ = writeln!(
        s,
        "  {} records: every record canonical, in order and linked; {} signatures valid (strict Ed25519) for keys registered and active where they signed",
        v.size, v.signatures
    );
    let _ = writeln!(
        s,
        "  every event allowed by the Agreement at its position; {} cases{upto}",
        state.cases.len()
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
    if let Some(skipped) = &v.skipped {
        let _ = writeln!(s, "  note: {skipped}");
    }
    if let Word::Witnessed(_) = word
        && v.unwitnessed() > 0
    {
        let _ = writeln!(
            s,
            "  note: the last {} records are valid but not yet witnessed by both Parties: they are not part of this verdict",
            v.unwitnessed()
        );
    } else if v.uncovered() > 0 {
        let _ = writeln!(
            s,
            "  note: the last {} records are valid but not yet covered by a checkpoint",
            v.uncovered()
        );
    }
    let _ = writeln!(
        s,
        "  Article 7{upto}: {} — {items} items, {uses} uses, {onward} onward transfers, {breaches} breaches",
        if report.held() { "held" } else { "BROKEN" }
    );
    let secs = elapsed.as_secs_f64();
    let _ = writeln!(
        s,
        "  in {elapsed:.2?} ({:.0} records/s)",
        v.size as f64 / secs.max(1e-9)
    );
    match word {
        Word::Node => on_node_word(&s),
        Word::Witnessed(_) => s,
    }
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
