//! Writing output files safely: through a temporary file beside the final one, so that a
//! file cut short (Ctrl-C, a full disk) never carries the final name and leaves nothing
//! behind, and never over a file that is there already.

use anyhow::Context as _;
use coop_ledger::Ledger;
use coop_store::SledStore;
use std::io::BufWriter;
use std::path::Path;

/// Refuses to write over a file that is there already (an export, an event, a bundle
/// the user has: overwriting it silently was a rough edge).
pub fn refuse_existing(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        anyhow::bail!(
            "{} exists already: nothing was written; remove it or choose another name",
            path.display()
        );
    }
    Ok(())
}

/// The temporary file beside `path` its content is written to first.
fn partial(path: &Path) -> std::path::PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// Writes the file `path` (which must not exist) with what `write` puts in it, through a
/// temporary file that is synced and then moved into place; on any failure nothing is
/// left behind.
pub fn write_new<T>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<std::fs::File>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    refuse_existing(path)?;
    let tmp = partial(path);
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut out = BufWriter::new(file);
    let done = write(&mut out).and_then(|t| {
        let file = out
            .into_inner()
            .map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error()))?;
        file.sync_all()
            .with_context(|| format!("cannot write {}", path.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(t)
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// Writes every record and checkpoint to an export file, showing progress unless
/// `quiet`. Returns (records, checkpoints).
pub fn write_export(
    ledger: &Ledger<SledStore>,
    path: &Path,
    quiet: bool,
) -> anyhow::Result<(u64, usize)> {
    write_new(path, |out| {
        let mut bar = crate::cmd::Progress::new(quiet, "exporting");
        let written = ledger.export_with(&mut *out, |done, total| {
            bar.update(done, Some(total));
        });
        bar.finish();
        let (_, n, cps) = written?;
        Ok((n, cps))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 30: an export, a bundle or an event cut short by a full disk left a
    /// 0-byte file or an empty `.partial`; a write that fails now leaves nothing.
    #[test]
    fn a_write_that_fails_leaves_nothing_behind() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = tmp.path().join("x.export");
        let r: anyhow::Result<()> = write_new(&path, |f| {
            std::io::Write::write_all(f, b"half of it")?;
            anyhow::bail!("No space left on device (os error 28)")
        });
        assert!(r.is_err());
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap_or_else(|e| panic!("{e}"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        // And a file that is there is not written over.
        std::fs::write(&path, "mine").unwrap_or_else(|e| panic!("{e}"));
        assert!(write_new(&path, |_| Ok(())).is_err());
        assert_eq!(std::fs::read_to_string(&path).ok().as_deref(), Some("mine"));
    }
}
