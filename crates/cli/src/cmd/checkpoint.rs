//! `checkpoint`: show, cosign as a witness, check a transition.

use super::*;

pub(super) fn checkpoint(c: CheckpointCmd, pass: &keys::Passphrase) -> anyhow::Result<ExitCode> {
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
            // A witness vouches for the checkpoint's time: not one dated ahead of its clock
            // beyond clock skew (a test ledger's clock may be moved).
            if !ledger.is_test_ledger()
                && coop_core::checkpoint::dated_ahead(&cp, coop_core::Timestamp(files::now_ms()))
            {
                eprintln!(
                    "REFUSED: the checkpoint is dated {} ms since the epoch, ahead of this machine's clock by more than {} ms; nothing was cosigned",
                    cp.time.0,
                    coop_core::checkpoint::CHECKPOINT_AHEAD_MS
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
