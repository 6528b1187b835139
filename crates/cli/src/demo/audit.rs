//! The demo's audit: a checkpoint cosigned by both witnesses, the offline verification of an export, the Article 7 summary, and a disputed case replayed and bundled.

use super::*;

/// Step 6: a checkpoint signed by the node and cosigned by both witnesses. Returns its
/// size and note.
pub(super) fn checkpoint_cosigned(
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
pub(super) fn audit(
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
pub(super) fn article7_summary(v: &coop_verify::Verified, st: &mut Steps) {
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
pub(super) fn dispute(
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
