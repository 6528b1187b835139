//! Snapshots of the state in files beside sled (docs/adr/0019, FORMAT.md §10.3): a cache
//! that saves a reopen's replay, never evidence.

use super::*;

/// Removes `snap.<16 hex digits>.generating` files: snapshots sled was still writing when
/// its process died. sled 0.34.7 counts them as candidates when it opens and, finding the
/// newest one truncated, refuses to open with "Read corrupted data" (sled issues #1509,
/// #1527, #1533; reproduced here by the 1,000-kill crash test). Removing one is safe: sled
/// writes a snapshot to this name, syncs it, then renames it, and frees no log segment
/// before the rename; so a `.generating` file is a snapshot that never took effect, and
/// the log it summarises is still complete. Must run with the directory lock held.
pub(super) fn discard_unfinished_snapshots(dir: &Path) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let unfinished = name
            .strip_prefix("snap.")
            .and_then(|rest| rest.strip_suffix(".generating"))
            .is_some_and(|lsn| lsn.len() == 16 && lsn.bytes().all(|b| b.is_ascii_hexdigit()));
        if unfinished {
            tracing::warn!(
                file = name,
                "removing a sled snapshot left unfinished by a crash"
            );
            std::fs::remove_file(entry.path()).map_err(io)?;
        }
    }
    Ok(())
}

/// The seqs of the snapshot files in `dir` (none if it does not exist).
pub(super) fn snapshot_seqs(dir: &Path) -> Vec<u64> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let name = e.file_name();
                    let name = name.to_str()?;
                    name.strip_suffix(".snap")?.parse().ok()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The snapshot file of `seq`: named by seq, 20 decimal digits, so names sort by seq.
pub(super) fn snapshot_file(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:020}.snap"))
}

/// Reads and checks a snapshot file: its magic, its length, the hash of its bytes.
pub(super) fn read_snapshot(file: &Path, faults: &Faults) -> Result<Snapshot, String> {
    use std::io::Read as _;
    // The header, then the bytes straight into a buffer of their size: reading the whole
    // file and copying the bytes out of it touched twice the memory (a tenth of a reopen
    // at 10^6 records went to faulting in and filling the copy).
    let f = File::open(file).map_err(|e| e.to_string())?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    let mut f = crate::faults::FaultyRead::new(f, faults.clone(), Point::SnapshotRead);
    let mut head = [0u8; SNAPSHOT_MAGIC.len() + 72];
    f.read_exact(&mut head).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "truncated header".to_owned(),
        _ => e.to_string(),
    })?;
    let rest = head
        .strip_prefix(SNAPSHOT_MAGIC)
        .ok_or("not a snapshot file (magic)")?;
    let (seq, hashes) = rest.split_at(8);
    let (chain, hash) = hashes.split_at(32);
    let seq = u64::from_be_bytes(seq.try_into().map_err(|_| "seq")?);
    // The length is only a hint (the file is read to its end whatever it says).
    let hint = usize::try_from(len.saturating_sub(head.len() as u64)).unwrap_or(0);
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(hint).map_err(|e| e.to_string())?;
    f.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if blake3::hash(&bytes).as_bytes().as_slice() != hash {
        return Err("its bytes do not hash to the hash beside them".into());
    }
    Ok(Snapshot {
        seq,
        chain: Hash::from_slice(chain).map_err(|e| e.to_string())?,
        bytes,
    })
}

impl SledStore {
    /// Writes `snapshot` to its file (whole or absent), and drops all but the one before.
    pub(super) fn write_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let dir = self.path.join(SNAPSHOT_DIR);
        std::fs::create_dir_all(&dir).map_err(io)?;
        let target = snapshot_file(&dir, snapshot.seq);
        let tmp = target.with_extension("tmp");
        {
            let mut f = File::create(&tmp).map_err(io)?;
            self.faults.fail(Point::SnapshotWrite).map_err(io)?;
            f.write_all(SNAPSHOT_MAGIC).map_err(io)?;
            f.write_all(&snapshot.seq.to_be_bytes()).map_err(io)?;
            f.write_all(snapshot.chain.as_bytes()).map_err(io)?;
            f.write_all(blake3::hash(&snapshot.bytes).as_bytes())
                .map_err(io)?;
            f.write_all(&snapshot.bytes).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        // Whole or absent: a crash leaves a `.tmp` file, which is never read.
        std::fs::rename(&tmp, &target).map_err(io)?;
        self.faults
            .fail(Point::DirSync)
            .and_then(|()| File::open(&dir))
            .and_then(|d| d.sync_all())
            .map_err(io)?;
        // Keep this one and the one before it (should this one be damaged later).
        let mut seqs = snapshot_seqs(&dir);
        seqs.retain(|s| *s < snapshot.seq);
        seqs.sort_unstable();
        let drop = seqs.len().saturating_sub(1);
        for old in seqs.into_iter().take(drop) {
            let _ = std::fs::remove_file(snapshot_file(&dir, old));
        }
        Ok(())
    }

    /// The newest snapshot file that reads back whole.
    pub(super) fn read_latest_snapshot(&self) -> Result<Option<Snapshot>, StoreError> {
        let dir = self.path.join(SNAPSHOT_DIR);
        let mut seqs = snapshot_seqs(&dir);
        seqs.sort_unstable();
        for seq in seqs.into_iter().rev() {
            let file = snapshot_file(&dir, seq);
            match read_snapshot(&file, &self.faults) {
                Ok(s) if s.seq == seq => return Ok(Some(s)),
                Ok(_) => {
                    tracing::warn!(file = %file.display(), "a snapshot file names another seq than it holds; not used")
                }
                Err(e) => {
                    tracing::warn!(file = %file.display(), error = %e, "a damaged snapshot is not used")
                }
            }
        }
        Ok(None)
    }
}
