//! Writing an export file safely (through a temporary file, so that a partial export
//! never carries the final name).

use anyhow::Context as _;
use coop_ledger::Ledger;
use coop_store::SledStore;
use std::io::BufWriter;
use std::path::Path;

/// Writes every record and checkpoint to an export file, showing progress unless
/// `quiet`. Returns (records, checkpoints).
pub fn write_export(
    ledger: &Ledger<SledStore>,
    path: &Path,
    quiet: bool,
) -> anyhow::Result<(u64, usize)> {
    let tmp = path.with_extension("partial");
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut bar = crate::cmd::Progress::new(quiet, "exporting");
    let written = ledger.export_with(BufWriter::new(file), |done, total| {
        bar.update(done, Some(total));
    });
    bar.finish();
    let (buf, n, cps) = written?;
    buf.into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?
        .sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok((n, cps))
}
