//! `coopledger promote`: a follower's verified copy continues the ledger under a new node
//! key when the leader's machine is lost. No consensus of our own: both Parties' roots
//! sign the handover (a proposal by one, an acceptance by the other), the promoted
//! directory appends the two records as its first, and from the size after the
//! acceptance its key signs the ledger's checkpoints. Verifiers and followers learn the
//! key from the ledger, so auditors keep pinning the genesis's key alone.

use crate::cmd::REFUSED;
use crate::dir::LedgerDir;
use crate::files;
use crate::keys::{self, OsRng, Passphrase};
use anyhow::{Context as _, anyhow, bail};
use coop_core::{EventId, Timestamp};
use coop_ledger::SubmitError;
use coop_treaty::{Payload, Role};
use std::path::Path;
use std::process::ExitCode;

/// What to promote with.
pub struct PromoteArgs<'a> {
    pub dir: LedgerDir,
    /// The new node key (a new one if absent).
    pub node_key: Option<&'a Path>,
    /// The root that proposes the handover, and the other Party's, which accepts it.
    pub root_key: &'a Path,
    pub accept_key: &'a Path,
    /// Whether the node keys before the new one stop signing from the acceptance on.
    pub keep_old_key: bool,
    pub pass: &'a Passphrase,
}

/// Promotes the copy in `a.dir`. Everything is checked before anything is written; if
/// the ledger refuses the handover, the directory is put back as it was.
pub fn promote(a: PromoteArgs<'_>) -> anyhow::Result<ExitCode> {
    let mut rng = OsRng::new()?;
    let proposer = keys::load(a.root_key, a.pass)?;
    let acceptor = keys::load(a.accept_key, a.pass)?;
    let node = match a.node_key {
        Some(k) => keys::load(k, a.pass)?,
        None => keys::generate(&mut rng),
    };
    // Read the copy as it is (it stays a read-only copy while it is read).
    let (ledger_id, size, now, next_id, roots) = {
        let copy = a.dir.open_with(|c| c.sign_checkpoints = false)?;
        let mine = a.dir.node_key()?.public();
        if copy.with_state(|s| s.agreement.node_keys_at(s.size).contains(&mine))? {
            bail!(
                "{} already sequences its ledger; promote a follower's copy",
                a.dir.path().display()
            );
        }
        let id = copy
            .ledger_id()
            .ok_or_else(|| anyhow!("the copy holds no ledger yet"))?;
        let size = copy.head()?.size;
        let now = copy.now();
        let (next_id, roots) = copy.with_state(|s| {
            let next = s.agreement.handovers.keys().max().map_or(1, |m| m + 1);
            let roots: Vec<_> = s
                .registry
                .values()
                .filter(|r| r.role == Role::Root)
                .map(|r| {
                    (
                        r.id.clone(),
                        r.party,
                        r.keys.iter().map(|g| g.key).collect::<Vec<_>>(),
                    )
                })
                .collect();
            (next, roots)
        })?;
        copy.shutdown();
        (id, size, now, next_id, roots)
    };
    let root_of = |key: &coop_core::SecretKey, flag: &str| {
        roots
            .iter()
            .find(|(_, _, ks)| ks.contains(&key.public()))
            .map(|(id, party, _)| (id.clone(), *party))
            .ok_or_else(|| {
                anyhow!(
                    "{flag} is not a key of either Party's root in this ledger; nothing was written"
                )
            })
    };
    let (pid, pparty) = root_of(&proposer, "--root-key")?;
    let (aid, aparty) = root_of(&acceptor, "--accept-key")?;
    if pparty == aparty {
        bail!(
            "--root-key and --accept-key are both {pparty}'s: a handover needs both Parties' roots; nothing was written"
        );
    }
    let proposal = coop_treaty::Draft {
        signer: pid.clone(),
        ledger: Some(ledger_id),
        event_id: EventId(rng.id16()),
        at: Timestamp(now.0),
        case: None,
        answers: vec![],
        payload: &Payload::NodeHandoverProposed {
            id: next_id,
            key: node.public(),
            // The proposal lands at `size`, the acceptance at `size + 1`.
            retire_old_from: (!a.keep_old_key).then_some(size + 2),
        },
    }
    .sign(&proposer)?;
    let acceptance = coop_treaty::Draft {
        signer: aid.clone(),
        ledger: Some(ledger_id),
        event_id: EventId(rng.id16()),
        at: Timestamp(now.0),
        case: None,
        answers: vec![],
        payload: &Payload::NodeHandoverAccepted { id: next_id },
    }
    .sign(&acceptor)?;

    // The directory becomes a node: its key is the new one and it follows nobody. The
    // old files are kept beside, and put back if the ledger refuses.
    let root = a.dir.path();
    let stamp = files::now_ms();
    let node_pem = root.join("node.pem");
    let kept_pem = root.join(format!("node.pem.before-promote-{stamp}"));
    let leader = root.join("leader.vkey");
    let kept_leader = root.join(format!("leader.vkey.before-promote-{stamp}"));
    let had_leader = leader.exists();
    std::fs::rename(&node_pem, &kept_pem)
        .with_context(|| format!("cannot set {} aside", node_pem.display()))?;
    let undo = || {
        let _ = std::fs::remove_file(&node_pem);
        let _ = std::fs::rename(&kept_pem, &node_pem);
        if had_leader {
            let _ = std::fs::rename(&kept_leader, &leader);
        }
    };
    let made = (|| -> anyhow::Result<_> {
        keys::save(&node, &node_pem, None, &mut rng)?;
        if had_leader {
            std::fs::rename(&leader, &kept_leader)?;
        }
        let ledger = a.dir.open()?;
        let p = ledger.submit(proposal)?;
        let q = ledger.submit(acceptance)?;
        let note = ledger
            .checkpoint_now()
            .map_err(|e| anyhow!("the first checkpoint under the new key: {e}"))?;
        let vkey = ledger.node_verifier().map(|v| v.to_vkey());
        ledger.shutdown();
        Ok((p, q, note, vkey))
    })();
    let (p, q, _note, vkey) = match made {
        Ok(m) => m,
        Err(e) => {
            undo();
            let refused = e.chain().any(|c| {
                matches!(
                    c.downcast_ref::<SubmitError>(),
                    Some(SubmitError::Refused(_))
                )
            });
            eprintln!("{e:#}\nthe copy was put back as it was");
            return Ok(match refused {
                true => ExitCode::from(REFUSED),
                false => ExitCode::from(1),
            });
        }
    };
    println!(
        "promoted {}: it now sequences ledger {ledger_id}",
        root.display()
    );
    println!(
        "handover {next_id} proposed by {pid} at record {}, accepted by {aid} at record {}",
        p.seq, q.seq
    );
    println!(
        "node checkpoint key from size {}: {}",
        q.seq + 1,
        vkey.unwrap_or_default()
    );
    if !a.keep_old_key {
        println!(
            "the earlier node keys sign no checkpoint from size {} on: their node, if it comes back, is refused by followers",
            q.seq + 1
        );
    }
    println!(
        "the old key file is kept as {}; serve the ledger with `coopledger serve --data {}`",
        kept_pem.display(),
        root.display()
    );
    Ok(ExitCode::SUCCESS)
}
