//! A ledger directory's own commands: `init`, `submit --data`, `clock`, `repair`.

use super::*;

/// `init --signed-genesis`: a ledger from a genesis a root signed elsewhere (an agency's
/// own system or a client library). The ledger checks it as any genesis; this node's key
/// must be the one it names.
pub(super) fn init_signed(
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

pub(super) fn init(
    dir: &LedgerDir,
    genesis: &Path,
    root_key: &Path,
    accept_key: Option<&Path>,
    node_key: Option<&Path>,
    pass: &keys::Passphrase,
) -> anyhow::Result<ExitCode> {
    let mut rng = OsRng::new()?;
    // A directory that holds a ledger is said to, before anything else is judged (it was
    // told its root key was wrong).
    if dir.exists() {
        bail!(
            "{} already holds a ledger; nothing was written (choose an empty directory)",
            dir.path().display()
        );
    }
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

pub(super) fn submit(
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
            let lang = crate::lang();
            match &e {
                SubmitError::Refused(v) if lang != coop_i18n::Lang::En => {
                    eprintln!("{}", coop_i18n::refusal(lang, v));
                }
                _ => eprintln!("{e}"),
            }
            eprintln!(
                "{}",
                lang.ta(
                    if after == before {
                        "nothing-written-size"
                    } else {
                        "nothing-written-size-changed"
                    },
                    &[("size", coop_i18n::text(after.size.to_string()))]
                )
            );
            Ok(ExitCode::from(REFUSED))
        }
    }
}

/// `coopledger clock`: shows a test ledger's time, or moves it forward.
pub(super) fn clock(
    dir: &LedgerDir,
    advance: Option<&str>,
    set: Option<&str>,
) -> anyhow::Result<()> {
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

/// `repair`: sled rebuilt from the journal, the old files kept aside.
pub(super) fn repair(dir: &LedgerDir, force: bool) -> anyhow::Result<()> {
    // A database that opens and agrees with the journal needs nothing (each run moved it
    // aside as sled.broken-*, issue 30).
    if !force && let Some(size) = dir.healthy()? {
        println!(
            "the database opens and agrees with the journal ({size} records): nothing to repair (--force rebuilds it anyway)"
        );
        return Ok(());
    }
    let done = dir.repair()?;
    println!(
        "rebuilt the database from the journal: {} records, {} checkpoints",
        done.records, done.checkpoints
    );
    if let Some(kept) = done.kept {
        println!("the previous database is kept at {}", kept.display());
    }
    Ok(())
}
