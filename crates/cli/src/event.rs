//! `coopledger event`: an event file signed into the canonical bytes another system can
//! send (`POST /v1/events`), and canonical bytes shown as the JSON form (docs/API.md).

use crate::EventCmd;
use crate::dir::LedgerDir;
use crate::files::{self, Context, EventFile};
use crate::keys::{OsRng, Passphrase};
use anyhow::{Context as _, anyhow};
use coop_core::{CaseId, LedgerId, SignedEvent, Timestamp};
use std::path::Path;
use std::process::ExitCode;

pub fn run(c: EventCmd, pass: &Passphrase) -> anyhow::Result<ExitCode> {
    match c {
        EventCmd::Build {
            event,
            out,
            key,
            ledger_id,
            data,
            node,
            anyway,
        } => build(
            &event,
            &out,
            key.as_deref(),
            Target {
                ledger_id: ledger_id.as_deref(),
                data: data.as_deref(),
                node: node.as_deref(),
            },
            anyway,
            pass,
        ),
        EventCmd::Show { file } => show(&file),
    }
}

/// The ledger an event is built for: named by its id, or a directory or node to ask.
struct Target<'a> {
    ledger_id: Option<&'a str>,
    data: Option<&'a Path>,
    node: Option<&'a str>,
}

fn build(
    event: &Path,
    out: &Path,
    key: Option<&Path>,
    target: Target<'_>,
    anyway: bool,
    pass: &Passphrase,
) -> anyhow::Result<ExitCode> {
    let Target {
        ledger_id,
        data,
        node,
    } = target;
    // Before anything is signed: a file that is there already is not written over.
    crate::ops::refuse_existing(out)?;
    let mut rng = OsRng::new()?;
    let file: EventFile = files::read(event)?;
    let base = event.parent().unwrap_or(Path::new("."));
    // What the ledger, when there is one to ask, says of the event now (issue 30: an
    // event it would refuse was signed and written without a word).
    let problems: Vec<(String, String)>;
    let signed = match (data, node) {
        (_, Some(url)) => {
            let remote = crate::net::Remote::of(url, None, event, &file, key, pass)?;
            let versions = |c: &CaseId| remote.case_version(c);
            let ctx = remote.context(&versions);
            let signed = file.sign(&ctx, Some(&remote.key_path), base, pass, &mut rng)?;
            problems = remote
                .anonymous
                .clone()
                .with_language(crate::lang().code())
                .check(&signed.body)?
                .problems
                .into_iter()
                .map(|p| (p.clause, p.message))
                .collect();
            signed
        }
        (Some(d), None) => {
            let ledger = LedgerDir::new(d)
                .open()
                .context("the ledger could not be opened")?;
            let signed =
                Context::of_ledger(&ledger, |ctx| file.sign(ctx, key, base, pass, &mut rng))?;
            problems = ledger
                .problems(signed.body.clone())?
                .iter()
                .map(|v| (v.clause(), coop_i18n::refusal(crate::lang(), v)))
                .collect();
            signed
        }
        (None, None) => {
            let ledger = ledger_id
                .map(|h| {
                    coop_core::Hash::from_hex(h)
                        .map(LedgerId)
                        .map_err(|_| anyhow!("--ledger-id needs 64 hex digits"))
                })
                .transpose()?;
            let ctx = Context {
                ledger,
                case_version: &|_| None,
                now: Timestamp(files::now_ms()),
            };
            problems = Vec::new();
            file.sign(&ctx, key, base, pass, &mut rng)?
        }
    };
    if !problems.is_empty() && !anyway {
        for (_, message) in &problems {
            eprintln!("{message}");
        }
        eprintln!(
            "the ledger would refuse this event now: nothing was written to {} (correct the event file, or give --anyway to write it for later)",
            out.display()
        );
        return Ok(ExitCode::from(crate::cmd::REFUSED));
    }
    for (_, message) in &problems {
        eprintln!("warning: the ledger would refuse this event now: {message}");
    }
    let genesis = matches!(
        coop_treaty::Payload::from_bytes(&signed.body.payload),
        Ok(coop_treaty::Payload::Genesis { .. })
    );
    if signed.body.ledger_id.is_none() && !genesis {
        anyhow::bail!("only a genesis names no ledger: give --ledger-id or --data");
    }
    let bytes = signed.to_bytes()?;
    crate::ops::write_new(out, |f| Ok(std::io::Write::write_all(f, &bytes)?))?;
    println!("wrote {} ({} bytes)", out.display(), bytes.len());
    println!("  event id    {}", signed.body.event_id);
    println!("  event hash  {}", signed.event_hash()?);
    Ok(ExitCode::SUCCESS)
}

fn show(file: &Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let ev = SignedEvent::from_bytes(&bytes).map_err(|e| {
        // What the file is instead, when it says so.
        let hint = if bytes.starts_with(coop_verify::EXPORT_MAGIC) {
            ": it is a ledger export (coopledger verify reads it)"
        } else if bytes.starts_with(coop_verify::BUNDLE_MAGIC) {
            ": it is an evidence bundle (coopledger verify reads it)"
        } else if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
            || file.extension().is_some_and(|x| x == "json" || x == "toml")
        {
            ": it looks like an event file (JSON or TOML), which `event build` turns into the canonical bytes `event show` reads"
        } else {
            ""
        };
        anyhow!("{} is not a signed event ({e}){hint}", file.display())
    })?;
    ev.body.check_shape()?;
    let key = ev.body.author.key.checked()?;
    let ledger = ev.body.ledger_id;
    ev.verify_with(ledger.as_ref(), &key)
        .map_err(|e| anyhow!("the signature does not verify: {e}"))?;
    let json = coop_wire::EventJson::of(&ev)?;
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(ExitCode::SUCCESS)
}
