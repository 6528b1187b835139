//! Operations the commands and the demo share: walking the records, writing an export,
//! assembling an evidence bundle.

use anyhow::Context as _;
use coop_core::{CaseId, SealedRecord};
use coop_ledger::Ledger;
use coop_store::SledStore;
use coop_verify::{Bundle, BundleEntry, ExportWriter, is_needed_for_case};
use std::io::BufWriter;
use std::path::Path;

/// Records are read from the store in chunks of this many.
const CHUNK: u64 = 4096;

/// Calls `f` on every record below `size`, in order.
pub fn each_record(
    ledger: &Ledger<SledStore>,
    size: u64,
    mut f: impl FnMut(SealedRecord) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut start = 0;
    while start < size {
        let end = (start + CHUNK).min(size);
        for r in ledger.records(start, end)? {
            f(r)?;
        }
        start = end;
    }
    Ok(())
}

/// Writes every record and checkpoint to an export file, through a temporary file so
/// that a partial export never carries the final name. `vkeys` are the checkpoint keys
/// of its history. Returns (records, checkpoints).
pub fn write_export(
    ledger: &Ledger<SledStore>,
    vkeys: &[String],
    path: &Path,
) -> anyhow::Result<(u64, usize)> {
    let size = ledger.head()?.size;
    let cps: std::collections::BTreeSet<u64> = ledger.checkpoint_sizes()?.into_iter().collect();
    let tmp = path.with_extension("partial");
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut w = ExportWriter::new(BufWriter::new(file), vkeys)?;
    let mut written = 0;
    each_record(ledger, size, |r| {
        w.record(&r.bytes)?;
        let after = r.record.seq + 1;
        if cps.contains(&after)
            && let Some(n) = ledger.checkpoint(after)?
        {
            w.checkpoint(&n)?;
            written += 1;
        }
        Ok(())
    })?;
    let (buf, n) = w.finish()?;
    buf.into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?
        .sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok((n, written))
}

/// The evidence bundle of `case`, proven against the checkpoint `note` of `size` records.
pub fn make_bundle(
    ledger: &Ledger<SledStore>,
    case: &CaseId,
    note: &str,
    size: u64,
) -> anyhow::Result<Bundle> {
    let mut entries = Vec::new();
    each_record(ledger, size, |r| {
        if is_needed_for_case(&r.record, case) {
            entries.push(BundleEntry {
                proof: ledger.inclusion_proof(r.record.seq, size)?,
                record: r.bytes,
            });
        }
        Ok(())
    })?;
    Ok(Bundle {
        case: *case,
        node: ledger.node_verifier().to_vkey(),
        checkpoint: note.to_owned(),
        entries,
    })
}
