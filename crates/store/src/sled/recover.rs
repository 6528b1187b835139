//! Opening a store directory: its lock, the pre-read of sled's files, sled's catch-up from
//! the journal or its rebuild (docs/adr/0014), and `repair`.

use super::*;

/// Most `sled.broken-*` directories kept aside by rebuilds: each is a whole database, and
/// a disk that keeps failing must not fill up with them.
const KEEP_BROKEN: usize = 2;
/// Most rebuilds of sled while a store runs: a disk that keeps failing is left to the
/// next open (reads of what sled lacks come from the journal's queue meanwhile).
const MAX_RUNNING_REBUILDS: u32 = 3;
/// The journal's last segment, read: where its valid data ends, how many records the
/// journal holds, and the last one. Only the last segment is read (segment files are
/// named by the seq their records start at); a repair reads them all.
fn journal_tail(dir: &Path, faults: &Faults) -> Result<journal::Scan, StoreError> {
    match journal::segments(dir)?.last() {
        Some((first, last)) => journal::scan_segment(last, *first, faults),
        None => Ok(journal::Scan::default()),
    }
}

/// Appends to `log` every journaled record it lacks, from the journal segment holding
/// its head on, and stores every journaled checkpoint it lacks (or holds in an older
/// form). Records pass the log's append checks (chain links, unique ids) and checkpoints
/// its match with the records, so a journal that does not continue the log is refused
/// with nothing of it kept. Returns the records and checkpoints added. The log's store
/// must not be journaling (its journal is what is read).
fn fill_from_journal(
    log: &crate::Log<SledStore>,
    journal_dir: &Path,
) -> Result<(u64, usize), StoreError> {
    let start = log.head()?.size;
    let mut notes: BTreeMap<u64, String> = BTreeMap::new();
    let mut reader = journal::JournalReader::from_seq(journal_dir, start, &log.store().faults)?;
    let mut next = start;
    while let Some(f) = reader.next()? {
        match f {
            journal::Frame::Records { first, records } => {
                let end = first + records.len() as u64;
                if end <= next {
                    continue;
                }
                if first > next {
                    return Err(corrupt(
                        Some(next),
                        format!("the journal jumps from record {next} to {first}"),
                    ));
                }
                let skip = usize::try_from(next - first).map_err(io)?;
                let sealed = records
                    .into_iter()
                    .zip(first..)
                    .skip(skip)
                    .map(|(b, seq)| coop_core::SealedRecord::from_bytes(seq, b))
                    .collect::<Result<Vec<_>, _>>()?;
                log.append_records_unsynced(sealed)?;
                next = end;
            }
            journal::Frame::Checkpoint(n) => {
                let size = journal::note_size(&n).ok_or_else(|| {
                    corrupt(None, "a journal checkpoint frame is not a checkpoint")
                })?;
                notes.insert(size, n);
            }
        }
    }
    log.sync()?;
    let mut checkpoints = 0;
    for (size, note) in notes {
        if size <= next && log.checkpoint(size)?.as_deref() != Some(note.as_str()) {
            log.put_checkpoint(&note)?;
            checkpoints += 1;
        }
    }
    Ok((next - start, checkpoints))
}

/// Rebuilds `path`'s sled from its journal into a fresh directory, then swaps it in and
/// keeps the old one aside. The caller holds the directory's lock.
fn rebuild(path: &Path, why: Option<&str>, faults: &Faults) -> Result<Repaired, StoreError> {
    let (records, checkpoints) = fill_aside(path, faults)?;
    let kept = move_in(path, faults)?;
    tracing::warn!(
        records,
        checkpoints,
        kept = ?kept,
        why = why.unwrap_or("asked for"),
        "sled rebuilt from the journal"
    );
    Ok(Repaired {
        records,
        checkpoints,
        kept,
    })
}

/// Builds a fresh sled from the journal beside the current one (`sled.rebuild`): the
/// records and checkpoints it holds.
fn fill_aside(path: &Path, faults: &Faults) -> Result<(u64, usize), StoreError> {
    let journal_dir = path.join(JOURNAL_DIR);
    let target = path.join("sled.rebuild");
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(io)?;
    }
    let raw = SledStore::from_db_in(open_sled(&target, faults)?, path, &target, None, faults)?;
    let log = crate::Log::open(raw)?;
    fill_from_journal(&log, &journal_dir)
}

/// Moves the current sled aside (`sled.broken-<ms>`, if there is one) and the one
/// [`fill_aside`] built in.
fn move_in(path: &Path, faults: &Faults) -> Result<Option<PathBuf>, StoreError> {
    let target = path.join("sled.rebuild");
    let current = path.join(SLED_DIR);
    let kept = if current.exists() {
        let aside = path.join(format!(
            "sled.broken-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
        ));
        std::fs::rename(&current, &aside).map_err(io)?;
        prune_broken(path);
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&target, &current).map_err(io)?;
    faults
        .fail(Point::DirSync)
        .and_then(|()| File::open(path))
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(kept)
}

/// sled failed while the store runs (an error or a panic applying or flushing): it is
/// rebuilt from the journal beside the one in use, which readers keep using meanwhile
/// (what sled lacks is read from the journal's queue), then swapped in; the batches it
/// now holds leave the queue and the applier goes on with the rest. Whether it was.
pub(super) fn rebuild_running(
    path: &Path,
    faults: &Faults,
    parts: &RwLock<Parts>,
    behind: &Behind,
    why: &str,
) -> bool {
    let swapped = (|| -> Result<(u64, Option<PathBuf>), StoreError> {
        let (records, _) = fill_aside(path, faults)?;
        // Readers wait while the directories move and sled reopens: the old handles
        // read files by their path.
        let mut p = parts
            .write()
            .map_err(|_| StoreError::Io("sled's handles are poisoned".into()))?;
        let kept = move_in(path, faults)?;
        let sled_dir = path.join(SLED_DIR);
        let db = open_sled(&sled_dir, faults)?;
        let data_file = Arc::new(File::open(sled_dir.join("db")).map_err(io)?);
        let tree = shield("opening its tree", || {
            db.open_tree("ledger").map_err(sled_err)
        })?;
        *p = Parts {
            db,
            tree,
            data_file,
        };
        Ok((records, kept))
    })();
    match swapped {
        Ok((records, kept)) => {
            behind.rebuilt(records);
            tracing::warn!(records, kept = ?kept, why, "sled rebuilt from the journal while the store runs");
            true
        }
        Err(e) => {
            tracing::error!(error = %e, why, "sled could not be rebuilt while the store runs: the next open rebuilds it; reads of what it lacks are served from the journal's queue meanwhile");
            false
        }
    }
}

/// Removes all but the newest [`KEEP_BROKEN`] `sled.broken-*` directories.
fn prune_broken(path: &Path) {
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    let mut broken: Vec<(u128, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name();
            let ms = name.to_str()?.strip_prefix("sled.broken-")?.parse().ok()?;
            Some((ms, e.path()))
        })
        .collect();
    broken.sort();
    let extra = broken.len().saturating_sub(KEEP_BROKEN);
    for (_, old) in broken.into_iter().take(extra) {
        tracing::warn!(dir = %old.display(), "removing an older damaged database kept aside");
        let _ = std::fs::remove_dir_all(old);
    }
}

/// What a repair did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repaired {
    /// Records the rebuilt sled holds (all the journal had).
    pub records: u64,
    /// Checkpoint notes restored.
    pub checkpoints: usize,
    /// Where the previous sled files were moved (kept for inspection), if there were any.
    pub kept: Option<PathBuf>,
}

fn lock_dir(path: &Path) -> Result<File, StoreError> {
    std::fs::create_dir_all(path).map_err(|e| {
        StoreError::Io(format!(
            "cannot create {}: {}",
            path.display(),
            journal::io_words(&e)
        ))
    })?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.join(LOCK_FILE))
        .map_err(io)?;
    lock.try_lock().map_err(|e| match e {
        std::fs::TryLockError::WouldBlock => StoreError::Locked {
            path: path.display().to_string(),
        },
        std::fs::TryLockError::Error(e) => io(e),
    })?;
    Ok(lock)
}

/// Reads every file of sled's directory to the end. sled's recovery takes a failed read
/// for a torn write and truncates its log; reading first turns an I/O error into a clean
/// refusal that has changed nothing.
fn pre_read(dir: &Path, faults: &Faults) -> Result<(), StoreError> {
    // Where the kernel may send what it reads (see `read_through`); without it, read.
    let null = File::options().write(true).open("/dev/null").ok();
    pre_read_in(dir, null.as_ref(), faults)
}

fn pre_read_in(dir: &Path, null: Option<&File>, faults: &Faults) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StoreError::Io(format!(
                "cannot list {}: {}; nothing was changed",
                dir.display(),
                journal::io_words(&e)
            )));
        }
    };
    for e in entries {
        let e = e.map_err(io)?;
        let path = e.path();
        if path.is_dir() {
            pre_read_in(&path, null, faults)?;
            continue;
        }
        let fail = |e: std::io::Error| {
            let words = journal::io_words(&e);
            StoreError::Io(format!(
                "cannot read {}: {words}; nothing was changed: {}",
                path.display(),
                advice(&words)
            ))
        };
        let mut f = File::open(&path).map_err(fail)?;
        faults.fail(Point::PreRead).map_err(fail)?;
        read_through(&mut f, null).map_err(fail)?;
    }
    Ok(())
}

/// Reads `f` from where it stands to its end, so that a failing disk answers now rather
/// than in sled's recovery. On Linux the kernel sends the file's pages to /dev/null
/// (`sendfile`): read from the disk as any read is (an unreadable sector fails it the
/// same way), but never copied out to us. Copying was most of the pre-read: 0.12-0.65 s
/// for the 762 MB of a 10^6-record ledger, against 0.05 s.
fn read_through(f: &mut File, null: Option<&File>) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if let Some(null) = null {
        loop {
            match rustix::fs::sendfile(null, &*f, None, 1 << 30) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
                // Not for this file or this kernel: read it instead, from where sendfile
                // left the file's offset.
                Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => break,
                Err(e) => return Err(e.into()),
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = null;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match std::io::Read::read(f, &mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Opens sled in `dir`, waiting briefly for this process's previous handle to let go.
fn open_sled(dir: &Path, faults: &Faults) -> Result<sled::Db, StoreError> {
    let mut waited = Duration::ZERO;
    loop {
        // A panic inside sled's recovery is damage (rebuilt from the journal), not a
        // crash that every later open repeats until someone runs `repair` (issue 29).
        let opened = shield("opening its database", || {
            faults.fail(Point::SledOpen).map_err(io)?;
            Ok(sled::Config::new()
                .path(dir)
                // We flush explicitly; the background flusher would only add writes that
                // nobody waits for.
                .flush_every_ms(None)
                .open())
        })?;
        match opened {
            Ok(db) => return Ok(db),
            Err(e) if e.to_string().contains("could not acquire lock") => {
                if waited >= SLED_LOCK_WAIT {
                    return Err(StoreError::Locked {
                        path: dir.display().to_string(),
                    });
                }
                std::thread::sleep(Duration::from_millis(10));
                waited += Duration::from_millis(10);
            }
            Err(e) => {
                return Err(match sled_err(e) {
                    StoreError::Io(m) => StoreError::Io(format!(
                        "sled cannot open its database in {}: {m}; nothing was changed: {}",
                        dir.display(),
                        advice(&m)
                    )),
                    other => other,
                });
            }
        }
    }
}

/// What to do about a storage error, by what it says: a full disk is not a failing one
/// (issue 30: reads on a full disk advised `coopledger repair`).
fn advice(words: &str) -> &'static str {
    if words.contains("No space left")
        || words.contains("no space left")
        || words.contains("os error 28")
    {
        "the disk is full: free space on it and try again"
    } else {
        "try again (if it persists, the disk is failing: copy the ledger elsewhere, or rebuild its database from the journal with `coopledger repair`)"
    }
}

impl SledStore {
    /// Opens (creating if needed) the store in `dir`. A directory already open elsewhere
    /// gives [`StoreError::Locked`]; an I/O error while reading gives [`StoreError::Io`]
    /// having changed nothing; a sled that refuses to open, or lost records the journal
    /// holds, is rebuilt from the journal (the old files kept aside, a warning logged).
    pub fn open(dir: impl AsRef<Path>) -> Result<SledStore, StoreError> {
        SledStore::open_with(dir, SledOptions::default())
    }

    /// [`SledStore::open`] with options. The open runs on a thread of its own, watched:
    /// a storage call that does not return ends it with an error once no call has
    /// started for `options.open_bound` (`watch.rs`).
    pub fn open_with(dir: impl AsRef<Path>, options: SledOptions) -> Result<SledStore, StoreError> {
        let path = dir.as_ref().to_path_buf();
        let (at, bound) = (path.clone(), options.open_bound);
        super::watch::watched("opening", &path, bound, move || {
            SledStore::open_here(at, options)
        })
    }

    /// [`SledStore::open_with`], on this thread.
    fn open_here(path: PathBuf, options: SledOptions) -> Result<SledStore, StoreError> {
        // Our own lock, released exactly when this store is dropped. sled also locks its
        // data file, but releases that lock only when its background threads let go of
        // the database, which can be a moment after drop.
        let lock = lock_dir(&path)?;
        let sled_dir = path.join(SLED_DIR);
        let journal_dir = path.join(JOURNAL_DIR);
        let faults = options.faults;
        // Read before anything writes: the journal's tail, and every sled file.
        let tail = journal_tail(&journal_dir, &faults)?;
        pre_read(&sled_dir, &faults)?;
        discard_unfinished_snapshots(&sled_dir)?;
        let fresh = !sled_dir.exists();
        let opened = open_sled(&sled_dir, &faults)
            .and_then(|db| SledStore::from_db(db, &path, None, &faults));
        let store = match opened {
            Ok(s) => s,
            // Damage (not an I/O error, which may pass): rebuild from the journal.
            Err(e @ StoreError::Corrupt { .. }) if tail.size > 0 => {
                tracing::warn!(error = %e, "sled's database is damaged; rebuilding it from the journal");
                rebuild(&path, Some(&e.to_string()), &faults)?;
                SledStore::from_db(open_sled(&sled_dir, &faults)?, &path, None, &faults)?
            }
            Err(e) => return Err(e),
        };
        let mut store = store;
        store.reads.bound = options.read_bound;
        // sled brought up to the journal; sled that cannot be (its reads fail as damage,
        // or panic, or its last record is not the journal's) is rebuilt from it, with no
        // `repair` asked of anyone (issue 29).
        let store = match catch_up(store, &path, &tail, &faults) {
            Ok(s) => s,
            Err(e @ StoreError::Corrupt { .. }) if tail.size > 0 => {
                tracing::warn!(error = %e, "sled cannot be brought up to the journal; rebuilding it from the journal");
                rebuild(&path, Some(&e.to_string()), &faults)?;
                let mut s =
                    SledStore::from_db(open_sled(&sled_dir, &faults)?, &path, None, &faults)?;
                s.reads.bound = options.read_bound;
                catch_up(s, &path, &tail, &faults)?
            }
            Err(e) => return Err(e),
        };
        let mut store = store;
        let size = store.size()?;
        let j = Journal::open(&journal_dir, tail.end, tail.size, faults.clone())?;
        if size > tail.size {
            // The last batch reached sled but not the journal (a crash between the two
            // writes: it was never acknowledged). Copy it over, so both hold it.
            let extra: Vec<(u64, Vec<u8>)> =
                store.records(tail.size, size).collect::<Result<_, _>>()?;
            let refs: Vec<(u64, &[u8])> = extra.iter().map(|(s, b)| (*s, b.as_slice())).collect();
            j.append(&journal::records_frame(&refs)?, tail.size)?;
            j.sync()?;
        } else if fresh && tail.size == 0 {
            j.sync()?;
        }
        store.journal = Some(j);
        store._lock = Some(lock);
        store.min_free = options.min_free;
        store.applier_stop = options.applier_stop;
        store.max_behind = options.max_behind;
        store.start_applier()?;
        Ok(store)
    }

    /// From here on sled is written behind the journal, by the applier thread.
    fn start_applier(&mut self) -> Result<(), StoreError> {
        let behind = Arc::new(Behind::default());
        let (b, parts, faults) = (
            Arc::clone(&behind),
            Arc::clone(&self.sled),
            self.faults.clone(),
        );
        let path = self.path.clone();
        let handle = std::thread::Builder::new()
            .name("sled-applier".into())
            .spawn(move || {
                // A sled that fails over and over is left to the next open.
                let mut rebuilds = 0;
                behind::apply(&b, &parts, &faults, |why| {
                    rebuilds += 1;
                    rebuilds <= MAX_RUNNING_REBUILDS
                        && rebuild_running(&path, &faults, &parts, &b, why)
                });
            })
            .map_err(io)?;
        self.behind = Some(behind);
        self.applier = Mutex::new(Some(handle));
        Ok(())
    }

    /// Rebuilds the sled database of the store in `dir` from its journal (the old files
    /// moved aside, not deleted), checking every record and checkpoint as a [`crate::Log`]
    /// does when it appends them. What `coopledger repair` runs.
    pub fn repair(dir: impl AsRef<Path>) -> Result<Repaired, StoreError> {
        let path = dir.as_ref().to_path_buf();
        let at = path.clone();
        super::watch::watched("repairing", &path, DEFAULT_OPEN_BOUND, move || {
            let _lock = lock_dir(&at)?;
            rebuild(&at, None, &Faults::none())
        })
    }

    fn from_db(
        db: sled::Db,
        path: &Path,
        lock: Option<File>,
        faults: &Faults,
    ) -> Result<SledStore, StoreError> {
        SledStore::from_db_in(db, path, &path.join(SLED_DIR), lock, faults)
    }

    fn from_db_in(
        db: sled::Db,
        path: &Path,
        sled_dir: &Path,
        lock: Option<File>,
        faults: &Faults,
    ) -> Result<SledStore, StoreError> {
        let data_file = Arc::new(File::open(sled_dir.join("db")).map_err(io)?);
        let tree = shield("opening its tree", || {
            db.open_tree("ledger").map_err(sled_err)
        })?;
        let ids = shield("reading the event ids", || load_ids(&tree))?;
        Ok(SledStore {
            sled: Arc::new(RwLock::new(Parts {
                db,
                tree,
                data_file,
            })),
            behind: None,
            applier: Mutex::new(None),
            applier_stop: APPLIER_STOP,
            max_behind: DEFAULT_MAX_BEHIND,
            path: path.to_path_buf(),
            journal: None,
            min_free: 0,
            faults: faults.clone(),
            reads: super::reads::Reads::new(super::DEFAULT_READ_BOUND),
            ids: RwLock::new(ids),
            _lock: lock,
        })
    }
}

/// Brings `store`'s sled up to the journal's `tail`: the records the journal holds and
/// sled lacks are appended from it (every record checked as on any append); if they do
/// not continue what sled holds, sled is rebuilt from the whole journal. Damage (sled's
/// last record not the journal's, a read that fails as damage) is an error for the
/// caller to rebuild on.
fn catch_up(
    store: SledStore,
    path: &Path,
    tail: &journal::Scan,
    faults: &Faults,
) -> Result<SledStore, StoreError> {
    let journal_dir = path.join(JOURNAL_DIR);
    let sled_dir = path.join(SLED_DIR);
    let mut store = store;
    let size = store.size()?;
    if size < tail.size {
        // The journal holds records sled lacks: a batch journaled but not applied to
        // sled before a crash or a write error, or records sled lost. Append them
        // from the journal (every record checked as on any append); if they do not
        // continue what sled holds, rebuild sled from the whole journal.
        tracing::warn!(
            sled = size,
            journal = tail.size,
            "sled holds fewer records than the journal; adding them from the journal"
        );
        let caught_up = crate::Log::open(store)
            .and_then(|log| fill_from_journal(&log, &journal_dir).map(|_| log.into_store()));
        store = match caught_up {
            Ok(s) if s.size()? == tail.size => s,
            other => {
                let why = match other {
                    Err(e) => e.to_string(),
                    Ok(s) => {
                        drop(s);
                        "sled lost records the journal holds".into()
                    }
                };
                rebuild(path, Some(&why), faults)?;
                SledStore::from_db(open_sled(&sled_dir, faults)?, path, None, faults)?
            }
        };
    }
    let size = store.size()?;
    if size == tail.size && size > 0 && store.record(size - 1)? != tail.last {
        return Err(corrupt(
            Some(size - 1),
            "sled and the journal disagree on the last record",
        ));
    }
    Ok(store)
}

#[cfg(test)]
mod advice_tests {
    #[test]
    fn a_full_disk_is_not_called_failing() {
        assert!(super::advice("no space left on the device").contains("the disk is full"));
        assert!(!super::advice("no space left on the device").contains("repair"));
        assert!(super::advice("input/output error").contains("repair"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pre-read reaches each file's end, by sendfile or by reading, and a file that
    /// cannot be read (a directory here) is an error either way.
    #[test]
    fn a_file_is_read_through_to_its_end_and_a_failed_read_is_an_error() -> anyhow::Result<()> {
        use std::io::Seek as _;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("f");
        let len = (3 << 20) + 123;
        std::fs::write(&path, vec![7u8; len])?;
        let null = File::options().write(true).open("/dev/null")?;
        for null in [Some(&null), None] {
            let mut f = File::open(&path)?;
            read_through(&mut f, null)?;
            assert_eq!(f.stream_position()?, len as u64);
            let mut d = File::open(dir.path())?;
            assert!(read_through(&mut d, null).is_err());
        }
        pre_read(dir.path(), &Faults::none())?;
        Ok(())
    }
}
