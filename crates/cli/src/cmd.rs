//! The commands: each parses its input, calls the engine or the verifier, and renders.

mod audit;
mod reads;

use crate::dir::{JournalSource, LedgerDir};
use crate::files::{self, Context, EventFile, GenesisFile};
use crate::keys::{self, OsRng};
use crate::{AsOfArg, CaseCmd, CheckpointCmd, Cli, Command, ProofCmd, show};
use anyhow::{Context as _, anyhow, bail};
use coop_core::checkpoint::{NoteVerifier, cosign, validate_checkpoint_transition};
use coop_core::merkle::{Blake3Hasher, verify_consistency, verify_inclusion};
use coop_core::{AuthorityId, CaseId, EventId, SealedRecord, Timestamp};
use coop_ledger::read::{self, ReadSource as _};
use coop_ledger::{AsOf, Config, Ledger, SubmitError};
use coop_store::{Log, SledStore};
use coop_treaty::{DocRole, Language, Payload};
use coop_verify::{Bundle, ExportReader, Observer, Options, VerifyError};
use std::io::{BufReader, IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Exit code: refused under the Agreement (nothing written).
pub const REFUSED: u8 = 2;
/// Exit code: verification failed.
pub const VERIFY_FAILED: u8 = 3;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let pass = cli.passphrase;
    match cli.command {
        Command::Keygen { out, encrypt } => {
            let mut rng = OsRng::new()?;
            let key = keys::generate(&mut rng);
            let phrase = if encrypt {
                Some(pass.get()?.ok_or_else(|| {
                    anyhow!(
                        "--encrypt needs a passphrase: set {} or give --passphrase-env / --passphrase-file",
                        keys::DEFAULT_PASSPHRASE_ENV
                    )
                })?)
            } else {
                None
            };
            keys::save(&key, &out, phrase.as_ref().map(|p| p.as_slice()), &mut rng)?;
            println!("{}", key.public().to_hex());
            eprintln!(
                "wrote {}{}",
                out.display(),
                if encrypt { " (encrypted)" } else { "" }
            );
        }
        Command::Pubkey { key } => println!("{}", keys::load(&key, &pass)?.public().to_hex()),
        Command::Digest {
            file,
            language,
            role,
            media_type,
        } => {
            let language = match language.as_str() {
                "kk" => Language::Kk,
                "tk" => Language::Tk,
                _ => Language::Ru,
            };
            let role = match role.as_str() {
                "original" => DocRole::Original,
                "certified-copy" => DocRole::CertifiedCopy,
                "legal-provision" => DocRole::LegalProvisionText,
                other => match other.strip_prefix("translation-of:") {
                    Some(h) => DocRole::TranslationOf(
                        coop_core::Hash::from_hex(h)
                            .context("translation-of needs a 64-digit hex digest")?,
                    ),
                    None => bail!("unknown role {other:?}"),
                },
            };
            let d = files::digest_file(&file, &media_type, language, role)?;
            println!("{}", serde_json::to_string_pretty(&d)?);
        }
        Command::Init {
            data,
            signed_genesis: Some(signed),
            node_key: Some(node_key),
            ..
        } => {
            return init_signed(&LedgerDir::new(data.data), &signed, &node_key, &pass);
        }
        Command::Init {
            data,
            genesis: Some(genesis),
            root_key: Some(root_key),
            accept_key,
            node_key,
            ..
        } => {
            return init(
                &LedgerDir::new(data.data),
                &genesis,
                &root_key,
                accept_key.as_deref(),
                node_key.as_deref(),
                &pass,
            );
        }
        Command::Init { .. } => {
            bail!("init needs --genesis and --root-key, or --signed-genesis and --node-key")
        }
        Command::Event(c) => return crate::event::run(c, &pass),
        Command::Submit {
            data,
            node,
            ca_cert,
            event,
            key,
            json,
            retry_for,
        } => {
            return match (data, node) {
                (_, Some(url)) => crate::net::submit(
                    &url,
                    ca_cert.as_deref(),
                    &event,
                    key.as_deref(),
                    json,
                    std::time::Duration::from_secs_f64(retry_for.max(0.0)),
                    &pass,
                ),
                (Some(d), None) => submit(&LedgerDir::new(d), &event, key.as_deref(), json, &pass),
                (None, None) => Err(anyhow!("give --data DIR or --node URL")),
            };
        }
        Command::Serve {
            data,
            listen,
            authority,
            tls_cert,
            tls_key,
            skew_secs,
            checkpoint_secs,
            http,
        } => {
            return crate::net::serve(
                &LedgerDir::new(data.data),
                &listen,
                &authority,
                tls_cert.as_deref().zip(tls_key.as_deref()),
                skew_secs,
                std::time::Duration::from_secs_f64(checkpoint_secs.max(0.01)),
                http.header_timeout(),
            );
        }
        Command::Follow {
            leader,
            data,
            witness_key,
            name,
            leader_key,
            listen,
            http,
            authority,
            poll_secs,
            retry_max_secs,
            once,
            ca_cert,
        } => {
            return crate::net::follow(crate::net::FollowArgs {
                leader,
                dir: LedgerDir::new(data.data),
                witness_key,
                name,
                leader_key,
                listen,
                authority,
                header_timeout: http.header_timeout(),
                poll_secs,
                retry_max_secs,
                once,
                ca_cert,
                pass,
            });
        }
        Command::Case(c) => reads::case(c)?,
        Command::Report {
            data,
            as_of,
            format,
            json,
        } => {
            let ledger = LedgerDir::new(data.data).open()?;
            let r = ledger.report(as_of_of(&as_of)?)?;
            match (json, format.as_str()) {
                (true, _) | (_, "json") => println!("{}", serde_json::to_string_pretty(&r)?),
                (_, "markdown") => print!("{}", show::report(&r, true)),
                _ => print!("{}", show::report(&r, false)),
            }
        }
        Command::Proof(p) => proof(p)?,
        Command::Console {
            path,
            node_key,
            checkpoint,
            listen,
            quiet,
        } => return audit::console(&path, &node_key, &checkpoint, &listen, quiet),
        Command::Checkpoint(c) => return checkpoint(c, &pass),
        Command::Authorities { data, as_of, json } => {
            let ledger = LedgerDir::new(data.data).open()?;
            let state = at(&ledger, &as_of)?.state;
            if json {
                println!("{}", serde_json::to_string_pretty(&state.registry)?);
            } else {
                print!("{}", show::authorities(&state));
            }
        }
        Command::Export { data, out } => export(&LedgerDir::new(data.data), &out)?,
        Command::Import {
            from,
            data,
            node_key,
            trust_node,
        } => {
            return import(
                &from,
                &LedgerDir::new(data.data),
                node_key.as_deref(),
                &trust_node,
                &pass,
            );
        }
        Command::Bundle { data, case, out } => bundle(&LedgerDir::new(data.data), &case, &out)?,
        Command::Verify {
            path,
            node_key,
            checkpoint,
            as_of,
            json,
            quiet,
        } => return audit::verify(&path, &node_key, &checkpoint, as_of, json, quiet),
        Command::Demo { data, cases, quiet } => return crate::demo::run(data, cases, quiet),
        Command::Clock { data, advance, set } => clock(
            &LedgerDir::new(data.data),
            advance.as_deref(),
            set.as_deref(),
        )?,
        Command::Repair { data } => {
            let done = LedgerDir::new(data.data).repair()?;
            println!(
                "rebuilt the database from the journal: {} records, {} checkpoints",
                done.records, done.checkpoints
            );
            if let Some(kept) = done.kept {
                println!("the previous database is kept at {}", kept.display());
            }
        }
        Command::Promote {
            data,
            node_key,
            root_key,
            accept_key,
            keep_old_key,
        } => {
            return crate::promote::promote(crate::promote::PromoteArgs {
                dir: LedgerDir::new(data.data),
                node_key: node_key.as_deref(),
                root_key: &root_key,
                accept_key: &accept_key,
                keep_old_key,
                pass: &pass,
            });
        }
        Command::SignRequest {
            key,
            id,
            method,
            url,
            ca_cert,
        } => {
            let key = std::sync::Arc::new(keys::load(&key, &pass)?);
            let ca = ca_cert.as_deref().map(std::fs::read).transpose()?;
            let (input, sig) = crate::net::sign_request(
                &url,
                &method,
                &AuthorityId::new(id)?,
                key,
                ca.as_deref(),
            )?;
            println!("Signature-Input: {input}");
            println!("Signature: {sig}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A `--as-of` value: a seq, or an RFC 3339 time (the read model's one parser).
pub fn parse_as_of(s: &str) -> anyhow::Result<AsOf> {
    Ok(read::parse_as_of(s)?)
}

fn as_of_of(a: &AsOfArg) -> anyhow::Result<Option<AsOf>> {
    a.as_of.as_deref().map(parse_as_of).transpose()
}

/// The state at `--as-of` (or now) and the time it describes: the read model's one
/// definition (coop_ledger::read).
fn at(ledger: &Ledger<SledStore>, a: &AsOfArg) -> anyhow::Result<read::At> {
    Ok(ledger.at(as_of_of(a)?)?)
}

fn parse_case(s: &str) -> anyhow::Result<CaseId> {
    Ok(read::parse_case(s)?)
}

pub fn read_vkey(s: &str) -> anyhow::Result<NoteVerifier> {
    let text = if Path::new(s).is_file() {
        std::fs::read_to_string(s).with_context(|| format!("cannot read {s}"))?
    } else {
        s.to_owned()
    };
    NoteVerifier::from_vkey(text.trim()).with_context(|| format!("{s:?} is not a verifier key"))
}

/// `init --signed-genesis`: a ledger from a genesis a root signed elsewhere (an agency's
/// own system or a client library). The ledger checks it as any genesis; this node's key
/// must be the one it names.
fn init_signed(
    dir: &LedgerDir,
    signed: &Path,
    node_key: &Path,
    pass: &keys::Passphrase,
) -> anyhow::Result<ExitCode> {
    let mut rng = OsRng::new()?;
    let bytes =
        std::fs::read(signed).with_context(|| format!("cannot read {}", signed.display()))?;
    let ev = coop_core::SignedEvent::from_bytes(&bytes)
        .map_err(|e| anyhow!("{} is not a signed event: {e}", signed.display()))?;
    let node = keys::load(node_key, pass)?;
    match Payload::from_bytes(&ev.body.payload) {
        Ok(Payload::Genesis { node_key, .. }) if node_key == node.public() => {}
        Ok(Payload::Genesis { .. }) => {
            bail!("the genesis names a node key that is not --node-key's; nothing was written")
        }
        _ => bail!("{} is not a genesis event", signed.display()),
    }
    let id = coop_core::LedgerId::from_genesis_body(&ev.body.to_bytes()?);
    let created = dir.create_new(|| {
        let node = dir.prepare(Some(node), &mut rng)?;
        dir.create(ev, node, Config::default())
    });
    let (ledger, receipt) = match created {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e:#}\nnothing was written");
            return Ok(ExitCode::from(REFUSED));
        }
    };
    println!("ledger {id}");
    println!(
        "genesis at record {} (event {})",
        receipt.seq, receipt.event_hash
    );
    if let Some(v) = ledger.node_verifier() {
        println!("node checkpoint key (give it to auditors): {}", v.to_vkey());
    }
    Ok(ExitCode::SUCCESS)
}

fn init(
    dir: &LedgerDir,
    genesis: &Path,
    root_key: &Path,
    accept_key: Option<&Path>,
    node_key: Option<&Path>,
    pass: &keys::Passphrase,
) -> anyhow::Result<ExitCode> {
    let mut rng = OsRng::new()?;
    // Everything is read and checked before anything is written: a refused or failed
    // init leaves the directory as it was.
    let g: GenesisFile = files::read(genesis)?;
    let root = keys::load(root_key, pass)?;
    let signer = g
        .roots
        .iter()
        .find(|r| r.key == root.public())
        .map(|r| r.authority.clone())
        .ok_or_else(|| anyhow!("--root-key is not one of the genesis's two root keys"))?;
    let other = g.roots.iter().find(|r| r.key != root.public()).cloned();
    let accept = match accept_key {
        Some(k) => {
            let key = keys::load(k, pass)?;
            let other = other
                .as_ref()
                .ok_or_else(|| anyhow!("the genesis names only one root"))?;
            if key.public() != other.key {
                bail!(
                    "--accept-key is not the key of {}, the genesis's other root (nothing was written)",
                    other.authority
                );
            }
            Some((key, other.authority.clone()))
        }
        None => None,
    };
    let node = match node_key {
        Some(k) => keys::load(k, pass)?,
        None => keys::generate(&mut rng),
    };
    if g.node_key.is_some_and(|k| k != node.public()) {
        bail!(
            "the genesis names a node key that is not this node's (give it with --node-key); nothing was written"
        );
    }
    let now = Timestamp(files::now_ms());
    let ev = coop_treaty::Draft {
        signer,
        ledger: None,
        event_id: EventId(rng.id16()),
        at: now,
        case: None,
        answers: vec![],
        payload: &g.payload(node.public()),
    }
    .sign(&root)?;
    let id = coop_core::LedgerId::from_genesis_body(&ev.body.to_bytes()?);
    let acceptance = accept
        .map(|(key, who)| {
            coop_treaty::Draft {
                signer: who.clone(),
                ledger: Some(id),
                event_id: EventId(rng.id16()),
                at: now,
                case: None,
                answers: vec![],
                payload: &Payload::GenesisAccepted,
            }
            .sign(&key)
            .map(|e| (e, who))
        })
        .transpose()?;
    let created = dir.create_new(|| {
        let node = dir.prepare(Some(node), &mut rng)?;
        let (ledger, receipt) = dir.create(ev, node, Config::default())?;
        if let Some((ev, _)) = &acceptance {
            ledger.submit(ev.clone())?;
        }
        Ok((ledger, receipt))
    });
    let (ledger, receipt) = match created {
        Ok(l) => l,
        Err(e) => {
            let refused = e.chain().any(|c| {
                matches!(
                    c.downcast_ref::<SubmitError>(),
                    Some(SubmitError::Refused(_))
                ) || matches!(
                    c.downcast_ref::<coop_ledger::LedgerError>(),
                    Some(coop_ledger::LedgerError::Genesis(_))
                )
            });
            if refused {
                eprintln!("{e:#}\nnothing was written");
                return Ok(ExitCode::from(REFUSED));
            }
            return Err(e.context("nothing was written"));
        }
    };
    println!("ledger {id}");
    println!(
        "genesis at record {} (event {})",
        receipt.seq, receipt.event_hash
    );
    if let Some((_, who)) = acceptance {
        println!("accepted by {who} at record 1");
    }
    if let Some(v) = ledger.node_verifier() {
        println!("node checkpoint key (give it to auditors): {}", v.to_vkey());
    }
    Ok(ExitCode::SUCCESS)
}

fn submit(
    dir: &LedgerDir,
    event: &Path,
    key: Option<&Path>,
    json: bool,
    pass: &keys::Passphrase,
) -> anyhow::Result<ExitCode> {
    let mut rng = OsRng::new()?;
    let file: EventFile = files::read(event)?;
    let ledger = dir
        .open()
        .context("the ledger could not be opened; nothing was written")?;
    let base = event.parent().unwrap_or(Path::new("."));
    let pinned = crate::pin::sign_once(event, ledger.ledger_id(), || {
        Context::of_ledger(&ledger, |ctx| file.sign(ctx, key, base, pass, &mut rng))
    })?;
    pinned.announce();
    let before = ledger
        .head()
        .context("the ledger could not be read; nothing was written")?;
    match ledger.submit(pinned.event.clone()) {
        Ok(r) => {
            // The receipt is checked as any client checks it: the node's own key signed
            // its checkpoint, and the record of this event is proven in it.
            let cp = r
                .verify_with(
                    &ledger
                        .node_verifier()
                        .context("the ledger has no genesis")?,
                )
                .and_then(|cp| r.check_event(&pinned.event).map(|()| cp))
                .context("the node's receipt does not verify")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print!("{}", crate::show::receipt(&r, &cp));
            }
            Ok(ExitCode::SUCCESS)
        }
        // Nothing written, but the same event may land later: keep its signed copy.
        Err(e @ (SubmitError::Unavailable(_) | SubmitError::StorageFull(_))) => Err(anyhow!(
            "{e}; run the same command again to resend event {}",
            pinned.event_id()
        )),
        Err(e @ SubmitError::MayHaveLanded(_)) => Err(anyhow!(
            "{e}\nrun the same command again: it resends event {} exactly, and gets its first receipt if it landed",
            pinned.event_id()
        )),
        Err(e) => {
            pinned.discard();
            let after = ledger.head()?;
            match &e {
                SubmitError::Refused(v) if crate::lang() != coop_i18n::Lang::En => {
                    eprintln!("{}", coop_i18n::refusal(crate::lang(), v));
                }
                _ => eprintln!("{e}"),
            }
            eprintln!(
                "nothing was written (the ledger still has {} records{})",
                after.size,
                if after == before {
                    ""
                } else {
                    "; it changed meanwhile"
                }
            );
            Ok(ExitCode::from(REFUSED))
        }
    }
}

/// `coopledger clock`: shows a test ledger's time, or moves it forward.
fn clock(dir: &LedgerDir, advance: Option<&str>, set: Option<&str>) -> anyhow::Result<()> {
    let ledger = dir.open()?;
    if !ledger.is_test_ledger() {
        bail!(
            "this ledger's genesis does not mark it a test ledger: its clock is the system's and cannot be moved"
        );
    }
    let now = ledger.now();
    let forward = match (advance, set) {
        (Some(d), _) => u64::try_from(
            humantime::parse_duration(d)
                .with_context(|| format!("{d:?} is not a duration (e.g. 25h, 183days)"))?
                .as_millis(),
        )?,
        (None, Some(t)) => {
            let AsOf::Time(t) = parse_as_of(t)? else {
                bail!("--set takes a time (RFC 3339), not a record seq");
            };
            if t < now {
                bail!(
                    "the ledger's time is already {}: a ledger's clock never runs backwards",
                    show::time(now)
                );
            }
            t.0 - now.0
        }
        (None, None) => 0,
    };
    let offset = dir.test_clock()?.unwrap_or(0).saturating_add(forward);
    ledger.shutdown();
    if forward > 0 {
        dir.set_test_clock(offset)?;
    }
    println!(
        "TEST LEDGER time: {} ({} ahead of the system clock)",
        show::time(Timestamp(now.0.saturating_add(forward))),
        humantime::format_duration(std::time::Duration::from_secs(offset / 1000))
    );
    Ok(())
}

/// The latest checkpoint's size, or the head's.
fn default_size(ledger: &Ledger<SledStore>) -> anyhow::Result<u64> {
    Ok(match ledger.latest_checkpoint()? {
        Some((s, _)) => s,
        None => ledger.head()?.size,
    })
}

fn proof(p: ProofCmd) -> anyhow::Result<()> {
    match p {
        ProofCmd::Inclusion {
            data,
            seq,
            size,
            json,
        } => {
            let ledger = LedgerDir::new(data.data).open()?;
            let size = match size {
                Some(s) => s,
                None => default_size(&ledger)?,
            };
            let rec = ledger
                .record(seq)?
                .ok_or_else(|| anyhow!("the ledger has no record {seq}"))?;
            let proof = ledger.inclusion_proof(seq, size)?;
            let root = ledger.root_at(size)?;
            verify_inclusion::<Blake3Hasher>(seq, size, &rec.leaf, &proof, &root)
                .map_err(|e| anyhow!("the proof does not verify: {e}"))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "seq": seq, "size": size, "leaf": rec.leaf, "root": root, "proof": proof
                    }))?
                );
            } else {
                println!("record {seq} in the tree of {size} records (proof checked)");
                println!("  leaf  {}", rec.leaf);
                println!("  root  {root}");
                for (i, h) in proof.iter().enumerate() {
                    println!("  [{i}]   {h}");
                }
            }
        }
        ProofCmd::Consistency {
            data,
            from,
            to,
            json,
        } => {
            let ledger = LedgerDir::new(data.data).open()?;
            let to = match to {
                Some(t) => t,
                None => default_size(&ledger)?,
            };
            let proof = ledger.consistency_proof(from, to)?;
            let (r1, r2) = (ledger.root_at(from)?, ledger.root_at(to)?);
            verify_consistency::<Blake3Hasher>(from, to, &r1, &r2, &proof)
                .map_err(|e| anyhow!("the proof does not verify: {e}"))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "from": from, "to": to, "root_from": r1, "root_to": r2, "proof": proof
                    }))?
                );
            } else {
                println!(
                    "the tree of {from} records is a prefix of the tree of {to} (proof checked)"
                );
                println!("  root at {from}: {r1}");
                println!("  root at {to}: {r2}");
                for (i, h) in proof.iter().enumerate() {
                    println!("  [{i}] {h}");
                }
            }
        }
    }
    Ok(())
}

fn checkpoint(c: CheckpointCmd, pass: &keys::Passphrase) -> anyhow::Result<ExitCode> {
    match c {
        CheckpointCmd::Show { data, size, json } => {
            let ledger = LedgerDir::new(data.data).open()?;
            let note = match size {
                Some(s) => ledger
                    .checkpoint(s)?
                    .ok_or_else(|| anyhow!("no checkpoint at size {s}"))?,
                None => ledger
                    .latest_checkpoint()?
                    .map(|(_, n)| n)
                    .ok_or_else(|| anyhow!("no checkpoint yet"))?,
            };
            let vkey = ledger
                .ledger_node_verifier()
                .map(|v| v.to_vkey())
                .unwrap_or_default();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"note": note, "node_vkey": vkey})
                    )?
                );
            } else {
                print!("{note}");
                eprintln!("node verifier key: {vkey}");
            }
        }
        CheckpointCmd::Sign { data } => {
            let ledger = LedgerDir::new(data.data).open()?;
            print!("{}", ledger.checkpoint_now().map_err(|e| anyhow!("{e}"))?);
        }
        CheckpointCmd::Cosign {
            data,
            witness_key,
            name,
            state,
        } => {
            let key = keys::load(&witness_key, pass)?;
            let state = state.unwrap_or_else(|| {
                let mut p = witness_key.clone().into_os_string();
                p.push(".cosigned");
                PathBuf::from(p)
            });
            let ledger = LedgerDir::new(data.data).open()?;
            let id = AuthorityId::new(name.clone())?;
            let registered = ledger.with_state(|s| {
                s.authority(&id)
                    .filter(|r| r.role == coop_treaty::Role::Witness)
                    .and_then(|r| r.current_key().copied())
            })?;
            if registered != Some(key.public()) {
                bail!("{name} is not a registered witness with this key");
            }
            let (size, note) = ledger
                .latest_checkpoint()?
                .ok_or_else(|| anyhow!("no checkpoint to cosign"))?;
            let nodes = ledger.with_state(|s| coop_verify::node_verifiers(s, size))?;
            let cp = coop_verify::verify_by_any(&note, &nodes, &[])
                .map_err(|e| anyhow!("the checkpoint does not verify: {e}"))?
                .checkpoint;
            // The witness's own memory of what it cosigned last: a checkpoint it verified
            // when it cosigned it (never trusted from the node's directory).
            let earlier = match std::fs::read_to_string(&state) {
                Ok(text) => {
                    let n = coop_core::checkpoint::Note::parse(&text)
                        .with_context(|| format!("{} is not a checkpoint note", state.display()))?;
                    Some(
                        coop_core::Checkpoint::parse_body(&n.text).with_context(|| {
                            format!("{} is not a checkpoint note", state.display())
                        })?,
                    )
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read {}", state.display()));
                }
            };
            let proof = match &earlier {
                Some(e) if cp.size > e.size && e.size > 0 && e.ledger_id == cp.ledger_id => ledger
                    .consistency_proof(e.size, cp.size)
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            // The witness rule, the same function the follower applies.
            if let Err(e) = validate_checkpoint_transition(earlier.as_ref(), &cp, &proof) {
                eprintln!("REFUSED: {e}");
                eprintln!(
                    "nothing was cosigned; {} keeps the last checkpoint {name} cosigned, as evidence",
                    state.display()
                );
                return Ok(ExitCode::from(VERIFY_FAILED));
            }
            let cosigned = cosign(&note, &name, &key, files::now_ms() / 1000)?;
            let (_, stored) = ledger.store_checkpoint(&cosigned)?;
            let tmp = state.with_extension("partial");
            std::fs::write(&tmp, &cosigned)
                .and_then(|()| std::fs::rename(&tmp, &state))
                .with_context(|| format!("cannot write {}", state.display()))?;
            print!("{stored}");
            eprintln!(
                "cosigned the checkpoint at size {size}{}",
                earlier
                    .map(|e| format!(" (it extends the one cosigned at {})", e.size))
                    .unwrap_or_default()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn export(dir: &LedgerDir, out: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let ledger = dir.open()?;
    let (n, cps) = crate::ops::write_export(&ledger, out, false)?;
    println!(
        "exported {n} records and {cps} checkpoints to {} in {:.1?}",
        out.display(),
        started.elapsed()
    );
    Ok(())
}

/// Counts the bytes read through it: an export's records are not counted in advance,
/// so an import shows its progress through the file.
struct Counting<R> {
    inner: R,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Appends verified records to a new ledger as they arrive.
struct Importer<'a> {
    log: &'a Log<SledStore>,
    pending: Vec<SealedRecord>,
    bar: Progress,
    /// Bytes of the export read so far, and the file's length.
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
    len: u64,
}

impl Importer<'_> {
    fn flush(&mut self) -> Result<(), String> {
        if !self.pending.is_empty() {
            self.log
                .append_records(std::mem::take(&mut self.pending))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

impl Observer for Importer<'_> {
    fn progress(&mut self, _records: u64, _total: Option<u64>) {
        let read = self.read.load(std::sync::atomic::Ordering::Relaxed);
        self.bar.update(read.min(self.len), Some(self.len));
    }
    fn record(&mut self, r: &SealedRecord) -> Result<(), String> {
        self.pending.push(r.clone());
        if self.pending.len() >= 4096 {
            self.flush()?;
        }
        Ok(())
    }
    fn checkpoint(&mut self, note: &str) -> Result<(), String> {
        self.flush()?;
        self.log
            .put_checkpoint(note)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

fn import(
    from: &Path,
    dir: &LedgerDir,
    node_key: Option<&Path>,
    trust_node: &[String],
    pass: &keys::Passphrase,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut rng = OsRng::new()?;
    let file =
        std::fs::File::open(from).with_context(|| format!("cannot open {}", from.display()))?;
    let len = file.metadata().map_or(0, |m| m.len());
    let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut reader = ExportReader::new(BufReader::new(Counting {
        inner: file,
        read: read.clone(),
    }))?;
    let node = node_key.map(|k| keys::load(k, pass)).transpose()?;
    dir.prepare(node, &mut rng)?;
    let options = Options {
        nodes: trust_node
            .iter()
            .map(|v| read_vkey(v))
            .collect::<anyhow::Result<_>>()?,
        ..Options::default()
    };
    let verified = {
        let log = Log::open(dir.new_store()?)?;
        let mut importer = Importer {
            log: &log,
            pending: Vec::new(),
            bar: Progress::with_unit(false, "importing", "bytes"),
            read,
            len,
        };
        let v = coop_verify::verify(&mut reader, &options, &mut importer);
        let v = match v.and_then(|v| importer.flush().map(|()| v).map_err(VerifyError::Stopped)) {
            Ok(v) => v,
            Err(e) => {
                importer.bar.finish();
                eprintln!("IMPORT STOPPED: {e}");
                eprintln!(
                    "{} holds the records verified before it; remove it and import a good copy",
                    dir.path().display()
                );
                return Ok(ExitCode::from(VERIFY_FAILED));
            }
        };
        importer.bar.finish();
        v
    };
    // Open it as the engine will, which re-checks the store and replays the rules. The
    // copy's own node key is not the ledger's: it signs nothing and takes no appends.
    let ledger = dir.open()?;
    println!(
        "imported {} records and {} checkpoints into {} in {:.1?}; ledger {}",
        verified.size,
        verified.checkpoints.len(),
        dir.path().display(),
        started.elapsed(),
        verified.ledger_id
    );
    println!(
        "the ledger's node key: {}{}",
        ledger
            .ledger_node_verifier()
            .map_or_else(|| "(none)".to_owned(), |v| v.to_vkey()),
        if ledger.is_sequencer() {
            ""
        } else {
            " (this directory is a read-only copy: it signs no checkpoint and takes no appends)"
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn bundle(dir: &LedgerDir, case: &str, out: &Path) -> anyhow::Result<()> {
    let id = parse_case(case)?;
    let ledger = dir.open()?;
    let made = ledger.evidence_bundle(&id)?;
    std::fs::write(out, made.bundle.to_bytes()?)
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "wrote the evidence bundle of case {id} to {}: {} records, proven against the checkpoint at size {} ({})",
        out.display(),
        made.bundle.entries.len(),
        made.size,
        match made.cosigning_parties {
            2 => "cosigned by both Parties' witnesses",
            1 => "cosigned by one Party's witness",
            _ => "not cosigned",
        }
    );
    Ok(())
}

/// A progress display: a bar on a terminal; otherwise a line per tenth of a known total,
/// or one every 5 s when the total is unknown.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    label: &'static str,
    unit: &'static str,
    last_tenth: u64,
    last_line: Instant,
    quiet: bool,
}

impl Progress {
    pub fn new(quiet: bool, label: &'static str) -> Progress {
        Progress::with_unit(quiet, label, "records")
    }

    /// Progress counted in `unit` (`records`, `bytes`).
    pub fn with_unit(quiet: bool, label: &'static str, unit: &'static str) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = indicatif::ProgressBar::new(0);
            let template = match unit {
                "bytes" => "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
                _ => "{msg} [{bar:40}] {pos}/{len} records ({per_sec}, eta {eta})",
            };
            b.set_style(
                indicatif::ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_message(label);
            b
        });
        Progress {
            bar,
            label,
            unit,
            last_tenth: 0,
            last_line: Instant::now(),
            quiet,
        }
    }

    pub fn update(&mut self, done: u64, total: Option<u64>) {
        if let Some(b) = &self.bar {
            match total {
                Some(t) => b.set_length(t),
                // Unknown total (an export being read): count, without a bar to fill.
                None => b.set_length(done.max(1)),
            }
            b.set_position(done);
        } else if self.quiet {
        } else if let Some(t) = total.filter(|t| *t > 0) {
            let tenth = done * 10 / t;
            if tenth > self.last_tenth {
                self.last_tenth = tenth;
                eprintln!("{}: {done}/{t} {}", self.label, self.unit);
            }
        } else if self.last_line.elapsed() >= Duration::from_secs(5) {
            self.last_line = Instant::now();
            eprintln!("{}: {done} {} so far", self.label, self.unit);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
