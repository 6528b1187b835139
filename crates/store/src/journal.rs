//! The journal: a second, independent durable copy of every append, owned by coopledger,
//! from which sled's state can always be rebuilt and checked.
//!
//! sled 0.34 treats a failed read during recovery as a torn write and truncates its log,
//! so a transient I/O error while *opening* a ledger could destroy every record
//! (docs/adr/0014). The journal makes that a repair, never a loss: each batch is written
//! here first, then to sled, and both are made durable (fdatasync) before any receipt.
//! The journal is append-only and checksummed, and coopledger only ever reads it, appends
//! to it, or cuts off a torn tail after checking what precedes it.
//!
//! Layout (docs/FORMAT.md §10): `journal/<first seq, 20 digits>.log` segment files, each
//! `"coopledger-journal/v1\n"` then frames:
//!
//! ```text
//! frame    = kind (1) || length (u32 BE) || payload || blake3(kind || length || payload)[..16]
//! 'R'      = first seq (u64 BE) || count (u32 BE) || (record length (u32 BE) || record bytes)*
//! 'C'      = a signed checkpoint note (its latest form: later frames for a size replace
//!            earlier ones)
//! ```

use crate::StoreError;
use crate::error::corrupt;
use crate::faults::{Fault, Faults, FaultyRead, Point};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// First bytes of every journal segment.
pub const JOURNAL_MAGIC: &[u8] = b"coopledger-journal/v1\n";
/// A segment grows to about this size before the next one starts.
const SEGMENT_BYTES: u64 = 64 << 20;
/// Bytes of checksum after each frame.
const SUM: usize = 16;
/// Largest frame payload accepted when reading (a batch of records; records are at most
/// 4 MiB each, a batch a few thousand of them).
const MAX_FRAME: usize = 1 << 30;

/// The most bytes a torn tail may hold (docs/FORMAT.md §10.2): a write cut short is
/// part of one batch; more than this after the last complete frame is damage.
pub const MAX_TORN: u64 = 64 << 20;

/// Whether the bytes of `path` from `at` on hold a complete frame (a valid kind, a length
/// within bounds, the whole payload and a checksum that matches) starting anywhere after
/// `at`: then what begins at `at` is not a torn write but damage (a flipped length byte
/// mid-journal). `Err` when the region is larger than a torn write can be.
fn complete_frame_after(path: &Path, at: u64) -> Result<bool, StoreError> {
    let len = std::fs::metadata(path)
        .map_err(|e| io("cannot read the size of", path, e))?
        .len();
    if len.saturating_sub(at) > MAX_TORN {
        return Ok(true);
    }
    let mut f = File::open(path).map_err(|e| io("cannot open", path, e))?;
    std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(at))
        .map_err(|e| io("cannot read", path, e))?;
    let mut region = Vec::new();
    std::io::Read::read_to_end(&mut f, &mut region).map_err(|e| io("cannot read", path, e))?;
    for p in 1..region.len() {
        let Some(&[kind, a, b, c, d]) = region.get(p..p + 5) else {
            break;
        };
        if !matches!(kind, b'R' | b'C') {
            continue;
        }
        let len = u32::from_be_bytes([a, b, c, d]);
        let n = len as usize;
        let Some(body) = region.get(p + 5..p + 5 + n) else {
            continue;
        };
        let Some(sum) = region.get(p + 5 + n..p + 5 + n + SUM) else {
            continue;
        };
        if sum == checksum(kind, len, body) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A torn tail skipped while reading (docs/FORMAT.md §10.2): where, and how many bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment.
    pub segment: PathBuf,
    /// Where the torn frame starts.
    pub at: u64,
    /// Bytes from there to the end of the segment.
    pub bytes: u64,
}

impl std::fmt::Display for TornTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the journal ends with a torn write of {} bytes at byte {} of {} (an append that was never acknowledged): skipped",
            self.bytes,
            self.at,
            self.segment.file_name().map_or_else(
                || self.segment.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            )
        )
    }
}

/// A frame read back from the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Records from `first`, in order.
    Records {
        /// Seq of the first.
        first: u64,
        /// Their canonical bytes.
        records: Vec<Vec<u8>>,
    },
    /// A checkpoint note.
    Checkpoint(String),
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{what} {}: {}", path.display(), io_words(&e)))
}

/// An I/O error in words (not Rust's `Debug` form).
pub(crate) fn io_words(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(28) => "no space left on the device".into(),
        Some(5) => "input/output error (the disk or the file system failed)".into(),
        Some(code) => format!("{e} (os error {code})"),
        None => e.to_string(),
    }
}

fn checksum(kind: u8, len: u32, payload: &[u8]) -> [u8; SUM] {
    let mut h = blake3::Hasher::new();
    h.update(&[kind]);
    h.update(&len.to_be_bytes());
    h.update(payload);
    let mut out = [0u8; SUM];
    out.copy_from_slice(&h.finalize().as_bytes()[..SUM]);
    out
}

/// Encodes one frame.
fn frame(kind: u8, payload: &[u8]) -> Result<Vec<u8>, StoreError> {
    let len = u32::try_from(payload.len())
        .map_err(|_| StoreError::Conflict("a journal frame larger than 4 GiB".into()))?;
    let mut out = Vec::with_capacity(5 + payload.len() + SUM);
    out.push(kind);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&checksum(kind, len, payload));
    Ok(out)
}

/// The records frame of `records` (each `(seq, bytes)`, consecutive).
pub(crate) fn records_frame(records: &[(u64, &[u8])]) -> Result<Vec<u8>, StoreError> {
    let Some((first, _)) = records.first() else {
        return Ok(Vec::new());
    };
    let count = u32::try_from(records.len())
        .map_err(|_| StoreError::Conflict("too many records in one batch".into()))?;
    let mut p = Vec::with_capacity(12 + records.iter().map(|(_, b)| 4 + b.len()).sum::<usize>());
    p.extend_from_slice(&first.to_be_bytes());
    p.extend_from_slice(&count.to_be_bytes());
    for (_, b) in records {
        let n = u32::try_from(b.len())
            .map_err(|_| StoreError::Conflict("a record larger than 4 GiB".into()))?;
        p.extend_from_slice(&n.to_be_bytes());
        p.extend_from_slice(b);
    }
    frame(b'R', &p)
}

fn segment_name(first: u64) -> String {
    format!("{first:020}.log")
}

/// The segment files of `dir`, in order of their first seq.
pub(crate) fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io("cannot list the journal", dir, e)),
    };
    for e in entries {
        let e = e.map_err(|e| io("cannot list the journal", dir, e))?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(n) = name
            .strip_suffix(".log")
            .filter(|n| n.len() == 20)
            .and_then(|n| n.parse::<u64>().ok())
        {
            out.push((n, e.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Reads the journal in `dir` frame by frame. Each frame's checksum is checked; a frame
/// cut short at the very end of the last segment is a torn tail (a write that was never
/// acknowledged) and ends the reading; anything else wrong is corruption.
#[derive(Debug)]
pub struct JournalReader {
    files: std::vec::IntoIter<(u64, PathBuf)>,
    current: Option<(PathBuf, std::io::BufReader<FaultyRead<File>>, u64)>,
    faults: Faults,
    last_file: Option<PathBuf>,
    /// Where the valid data of the last segment ends, once read to the end.
    pub end: Option<(PathBuf, u64)>,
    /// Whether the last segment ends with a torn frame.
    pub torn: bool,
}

impl JournalReader {
    /// The torn tail the reading skipped, once read to the end.
    pub fn torn_tail(&self) -> Option<TornTail> {
        let (segment, at) = self.end.clone().filter(|_| self.torn)?;
        let bytes = std::fs::metadata(&segment)
            .map(|m| m.len().saturating_sub(at))
            .unwrap_or(0);
        Some(TornTail { segment, at, bytes })
    }

    /// A reader of the journal in `dir` (empty if there is none).
    pub fn open(dir: &Path) -> Result<JournalReader, StoreError> {
        JournalReader::of(segments(dir)?, Faults::none())
    }

    /// A reader of the journal in `dir` from the segment holding record `seq` (the last
    /// segment that starts at or before it) to the end.
    pub(crate) fn from_seq(
        dir: &Path,
        seq: u64,
        faults: &Faults,
    ) -> Result<JournalReader, StoreError> {
        let all = segments(dir)?;
        let start = all
            .iter()
            .rposition(|(first, _)| *first <= seq)
            .unwrap_or(0);
        JournalReader::of(all.into_iter().skip(start).collect(), faults.clone())
    }

    /// A reader of the given segment files, in order (the last may have a torn tail).
    fn of(files: Vec<(u64, PathBuf)>, faults: Faults) -> Result<JournalReader, StoreError> {
        let last_file = files.last().map(|(_, p)| p.clone());
        Ok(JournalReader {
            files: files.into_iter(),
            current: None,
            faults,
            last_file,
            end: None,
            torn: false,
        })
    }

    /// The next frame, or `None` at the end (or at a torn tail).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Frame>, StoreError> {
        loop {
            if self.current.is_none() {
                let Some((_, path)) = self.files.next() else {
                    return Ok(None);
                };
                let f = File::open(&path).map_err(|e| io("cannot open", &path, e))?;
                let f = FaultyRead::new(f, self.faults.clone(), Point::JournalRead);
                let mut r = std::io::BufReader::with_capacity(1 << 20, f);
                let mut magic = vec![0u8; JOURNAL_MAGIC.len()];
                let is_last = self.last_file.as_ref() == Some(&path);
                match read_full(&mut r, &mut magic, &path)? {
                    n if n == magic.len() && magic == JOURNAL_MAGIC => {}
                    n if is_last
                        && n < magic.len()
                        && magic.get(..n).is_some_and(|m| JOURNAL_MAGIC.starts_with(m)) =>
                    {
                        // A segment created but not yet written: nothing in it.
                        self.torn = n > 0;
                        self.end = Some((path, 0));
                        return Ok(None);
                    }
                    _ => {
                        return Err(corrupt(
                            None,
                            format!("journal segment {} has no journal header", path.display()),
                        ));
                    }
                }
                self.current = Some((path, r, JOURNAL_MAGIC.len() as u64));
            }
            let Some((path, r, offset)) = self.current.as_mut() else {
                continue;
            };
            let is_last = self.last_file.as_ref() == Some(&*path);
            let mut head = [0u8; 5];
            let got = read_full(r, &mut head, path)?;
            if got == 0 {
                if is_last {
                    self.end = Some((path.clone(), *offset));
                }
                self.current = None;
                continue;
            }
            let torn = |s: &mut Self,
                        path: PathBuf,
                        at: u64|
             -> Result<Option<Frame>, StoreError> {
                if is_last {
                    // Only if nothing whole follows: a complete frame after it means
                    // a damaged frame mid-journal, never to be cut off as torn.
                    if complete_frame_after(&path, at)? {
                        return Err(corrupt(
                            None,
                            format!(
                                "journal segment {} has a damaged frame at byte {at}: complete frames follow it, so it is not a torn write",
                                path.display()
                            ),
                        ));
                    }
                    s.torn = true;
                    s.end = Some((path, at));
                    s.current = None;
                    Ok(None)
                } else {
                    Err(corrupt(
                        None,
                        format!(
                            "journal segment {} ends in the middle of a frame",
                            path.display()
                        ),
                    ))
                }
            };
            let at = *offset;
            if got < head.len() {
                let p = path.clone();
                return torn(self, p, at);
            }
            let kind = head[0];
            let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
            let n = len as usize;
            if n > MAX_FRAME || !matches!(kind, b'R' | b'C') {
                return Err(corrupt(
                    None,
                    format!(
                        "journal segment {} has a malformed frame at byte {at}",
                        path.display()
                    ),
                ));
            }
            let mut payload = vec![0u8; n + SUM];
            let got = read_full(r, &mut payload, path)?;
            if got < payload.len() {
                let p = path.clone();
                return torn(self, p, at);
            }
            let sound = {
                let (body, sum) = payload.split_at(n);
                sum == checksum(kind, len, body)
            };
            if !sound {
                // A bad checksum on the last frame of the last segment is a torn write
                // (the frame was never fully on disk); anywhere else, damage.
                let mut probe = [0u8; 1];
                let at_end = read_full(r, &mut probe, path)? == 0;
                if at_end {
                    let p = path.clone();
                    return torn(self, p, at);
                }
                return Err(corrupt(
                    None,
                    format!(
                        "journal segment {} fails its checksum at byte {at}",
                        path.display()
                    ),
                ));
            }
            *offset += (5 + n + SUM) as u64;
            // The checksum off, the buffer is the body: no copy of every frame.
            payload.truncate(n);
            let body = payload;
            return Ok(Some(match kind {
                b'R' => decode_records(&body).ok_or_else(|| {
                    corrupt(
                        None,
                        format!(
                            "journal segment {} has a malformed records frame",
                            path.display()
                        ),
                    )
                })?,
                _ => Frame::Checkpoint(
                    String::from_utf8(body)
                        .map_err(|_| corrupt(None, "a journal checkpoint frame is not UTF-8"))?,
                ),
            }));
        }
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8], path: &Path) -> Result<usize, StoreError> {
    let mut got = 0;
    while let Some(rest) = buf.get_mut(got..).filter(|r| !r.is_empty()) {
        match r.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io("cannot read", path, e)),
        }
    }
    Ok(got)
}

fn decode_records(p: &[u8]) -> Option<Frame> {
    let first = u64::from_be_bytes(p.get(..8)?.try_into().ok()?);
    let count = u32::from_be_bytes(p.get(8..12)?.try_into().ok()?) as usize;
    let mut at = 12usize;
    let mut records = Vec::with_capacity(count.min(1 << 20));
    for _ in 0..count {
        let n = u32::from_be_bytes(p.get(at..at + 4)?.try_into().ok()?) as usize;
        at += 4;
        records.push(p.get(at..at.checked_add(n)?)?.to_vec());
        at += n;
    }
    (at == p.len()).then_some(Frame::Records { first, records })
}

/// What a scan of the whole journal found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Records: one past the highest seq journaled.
    pub size: u64,
    /// The last record's bytes, if any.
    pub last: Option<Vec<u8>>,
    /// Where the valid data ends (for cutting a torn tail).
    pub end: Option<(PathBuf, u64)>,
    /// Whether it ends with a torn frame.
    pub torn: bool,
}

/// Reads the whole journal, checking every frame and that records are contiguous from 0.
#[cfg(test)]
pub fn scan(dir: &Path, each: impl FnMut(&Frame)) -> Result<Scan, StoreError> {
    scan_with(JournalReader::open(dir)?, 0, each)
}

/// Reads one segment whose records start at `first` (the journal's last, on open).
pub fn scan_segment(path: &Path, first: u64, faults: &Faults) -> Result<Scan, StoreError> {
    scan_with(
        JournalReader::of(vec![(first, path.to_path_buf())], faults.clone())?,
        first,
        |_| {},
    )
}

fn scan_with(
    mut r: JournalReader,
    first: u64,
    mut each: impl FnMut(&Frame),
) -> Result<Scan, StoreError> {
    let mut s = Scan {
        size: first,
        ..Scan::default()
    };
    while let Some(f) = r.next()? {
        if let Frame::Records { first, records } = &f {
            if *first != s.size {
                return Err(corrupt(
                    Some(s.size),
                    format!("the journal jumps from record {} to {first}", s.size),
                ));
            }
            s.size += records.len() as u64;
            if let Some(l) = records.last() {
                s.last = Some(l.clone());
            }
        }
        each(&f);
    }
    s.end = r.end.clone();
    s.torn = r.torn;
    Ok(s)
}

/// One item of a ledger read from its journal, in the order a verifier reads a ledger:
/// each record, and after the record that completes a checkpoint's tree, that checkpoint
/// (its latest form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalItem {
    /// Record `seq` (its canonical bytes).
    Record(u64, Vec<u8>),
    /// A signed checkpoint note.
    Checkpoint(String),
}

/// A ledger's records and checkpoints read from the journal alone: sled is never opened
/// and the directory's lock is not taken, so an auditor can read the ledger of a running
/// node, and nothing is ever written. Two passes: the first finds every checkpoint's
/// latest form (a cosigned note replaces the one its node signed), the second yields
/// the records with each checkpoint after its last record. A torn tail (an append in
/// progress) ends the reading.
#[derive(Debug)]
pub struct JournalItems {
    reader: JournalReader,
    notes: std::collections::BTreeMap<u64, String>,
    next: u64,
    queue: std::collections::VecDeque<JournalItem>,
    torn: Option<TornTail>,
}

impl JournalItems {
    /// The items of the journal of the store in `store_dir`.
    pub fn open(store_dir: &Path) -> Result<JournalItems, StoreError> {
        let dir = store_dir.join(crate::sled::JOURNAL_DIR);
        let mut notes = std::collections::BTreeMap::new();
        let mut first = JournalReader::open(&dir)?;
        while let Some(f) = first.next()? {
            if let Frame::Checkpoint(n) = f {
                let size = note_size(&n).ok_or_else(|| {
                    corrupt(None, "a journal checkpoint frame is not a checkpoint")
                })?;
                notes.insert(size, n);
            }
        }
        Ok(JournalItems {
            reader: JournalReader::open(&dir)?,
            notes,
            next: 0,
            queue: std::collections::VecDeque::new(),
            torn: first.torn_tail(),
        })
    }

    /// The torn tail the first pass skipped (reported by `verify`: a verifier says what
    /// it did not read).
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn.as_ref()
    }

    /// Records the first pass found complete checkpoints for, the largest size.
    pub fn checkpointed(&self) -> u64 {
        self.notes.keys().next_back().copied().unwrap_or(0)
    }

    /// The next item, or `None` at the end.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<JournalItem>, StoreError> {
        loop {
            if let Some(i) = self.queue.pop_front() {
                return Ok(Some(i));
            }
            let Some(f) = self.reader.next()? else {
                return Ok(None);
            };
            if let Frame::Records { first, records } = f {
                if first != self.next {
                    return Err(corrupt(
                        Some(self.next),
                        format!("the journal jumps from record {} to {first}", self.next),
                    ));
                }
                for r in records {
                    let seq = self.next;
                    self.queue.push_back(JournalItem::Record(seq, r));
                    self.next += 1;
                    if let Some(n) = self.notes.remove(&self.next) {
                        self.queue.push_back(JournalItem::Checkpoint(n));
                    }
                }
            }
        }
    }
}

/// The tree size a checkpoint note states, if it is one.
pub(crate) fn note_size(note: &str) -> Option<u64> {
    coop_core::checkpoint::Note::parse(note)
        .ok()
        .and_then(|p| coop_core::checkpoint::Checkpoint::parse_body(&p.text).ok())
        .map(|c| c.size)
}

/// The append side of the journal.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    current: Mutex<Current>,
    faults: Faults,
}

#[derive(Debug)]
struct Current {
    /// Shared with a sync in progress, which `fdatasync`s it without holding the lock
    /// (appends go on meanwhile: the next batch is written while this one is synced).
    file: Option<std::sync::Arc<File>>,
    path: PathBuf,
    len: u64,
    /// Segments finished since the last sync, with their lengths: synced before the
    /// current one.
    unsynced: Vec<(std::sync::Arc<File>, PathBuf, u64)>,
    /// A new segment was created: the directory needs an fsync.
    new_file: bool,
}

impl Journal {
    /// The journal in `dir`, appending after `end` (where a scan found the valid data to
    /// end); a torn tail after it is cut off. `next_seq` names a new segment.
    pub fn open(
        dir: &Path,
        end: Option<(PathBuf, u64)>,
        next_seq: u64,
        faults: Faults,
    ) -> Result<Journal, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
        let current = match end {
            Some((path, len)) if len >= JOURNAL_MAGIC.len() as u64 => {
                let mut f = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&path)
                    .map_err(|e| io("cannot open", &path, e))?;
                let actual = f.metadata().map_err(|e| io("cannot read", &path, e))?.len();
                if actual > len {
                    tracing::warn!(
                        file = %path.display(),
                        from = actual,
                        to = len,
                        "cutting a torn journal tail (a write that was never acknowledged)"
                    );
                    f.set_len(len)
                        .map_err(|e| io("cannot cut the torn tail of", &path, e))?;
                    f.sync_data().map_err(|e| io("cannot sync", &path, e))?;
                }
                f.seek(SeekFrom::Start(len))
                    .map_err(|e| io("cannot seek", &path, e))?;
                let _ = faults.synced(&path, len);
                Current {
                    file: Some(std::sync::Arc::new(f)),
                    path,
                    len,
                    unsynced: Vec::new(),
                    new_file: false,
                }
            }
            Some((path, _)) => {
                // A segment whose header never made it: start it again.
                let f = new_segment_at(&path, true)?;
                Current {
                    file: Some(std::sync::Arc::new(f)),
                    path,
                    len: JOURNAL_MAGIC.len() as u64,
                    unsynced: Vec::new(),
                    new_file: true,
                }
            }
            None => {
                let path = dir.join(segment_name(next_seq));
                let f = new_segment_at(&path, false)?;
                Current {
                    file: Some(std::sync::Arc::new(f)),
                    path,
                    len: JOURNAL_MAGIC.len() as u64,
                    unsynced: Vec::new(),
                    new_file: true,
                }
            }
        };
        Ok(Journal {
            dir: dir.to_path_buf(),
            current: Mutex::new(current),
            faults,
        })
    }

    /// Appends frames (written, not yet durable); starts a new segment first when the
    /// current one is full. `first_seq` names a new segment.
    pub fn append(&self, frames: &[u8], first_seq: u64) -> Result<(), StoreError> {
        if frames.is_empty() {
            return Ok(());
        }
        let mut c = self
            .current
            .lock()
            .map_err(|_| StoreError::Io("journal lock poisoned".into()))?;
        if c.len >= SEGMENT_BYTES {
            let path = self.dir.join(segment_name(first_seq));
            let f = new_segment_at(&path, false)?;
            if let Some(old) = c.file.replace(std::sync::Arc::new(f)) {
                let (old_path, old_len) = (c.path.clone(), c.len);
                c.unsynced.push((old, old_path, old_len));
            }
            c.path = path;
            c.len = JOURNAL_MAGIC.len() as u64;
            c.new_file = true;
        }
        let path = c.path.clone();
        let len = c.len;
        let mut f: &File = c.file.as_deref().ok_or_else(|| {
            StoreError::Io("the journal is closed after a failed write: reopen the ledger".into())
        })?;
        let written = match self.faults.check(Point::JournalWrite) {
            Err(e) => Err(e),
            Ok(Some(Fault::TornWrite)) => {
                // Part of the frames reach the file, then the write fails.
                let keep = self.faults.torn_len(frames.len());
                f.write_all(frames.get(..keep).unwrap_or_default())
                    .and(Err(std::io::Error::from_raw_os_error(5)))
            }
            Ok(_) => f.write_all(frames),
        };
        if let Err(e) = written {
            // Part of the frames may be in the file: cut them off, so the next append
            // continues a valid journal. If even that fails, close the journal: nothing
            // more is appended until the store is reopened (which cuts a torn tail).
            let cut = f
                .set_len(len)
                .and_then(|()| f.seek(SeekFrom::Start(len)).map(|_| ()));
            if cut.is_err() {
                c.file = None;
            }
            return Err(io("cannot write the journal", &path, e));
        }
        c.len += frames.len() as u64;
        Ok(())
    }

    /// Makes every append that returned before this call durable. The `fdatasync`s run
    /// without the journal's lock: the next batch is appended meanwhile.
    pub fn sync(&self) -> Result<(), StoreError> {
        let (finished, current, path, len, new_file) = {
            let mut c = self
                .current
                .lock()
                .map_err(|_| StoreError::Io("journal lock poisoned".into()))?;
            (
                std::mem::take(&mut c.unsynced),
                c.file.clone(),
                c.path.clone(),
                c.len,
                std::mem::take(&mut c.new_file),
            )
        };
        // After a failed fsync the kernel may have dropped the unwritten pages and marked
        // them clean: what is on disk is unknown until the journal is read again. Close
        // it; reopening the store scans and cuts the tail.
        let close = |why: std::io::Error, at: &Path| {
            if let Ok(mut c) = self.current.lock() {
                c.file = None;
            }
            io("cannot sync the journal", at, why)
        };
        let dead = || std::io::Error::from_raw_os_error(5);
        for (f, p, l) in finished {
            if let Err(e) = self
                .faults
                .fail(Point::JournalSync)
                .and_then(|()| f.sync_data())
            {
                return Err(close(e, &self.dir));
            }
            if !self.faults.synced(&p, l) {
                return Err(close(dead(), &self.dir));
            }
        }
        if let Some(f) = current {
            if let Err(e) = self
                .faults
                .fail(Point::JournalSync)
                .and_then(|()| f.sync_data())
            {
                return Err(close(e, &path));
            }
            if !self.faults.synced(&path, len) {
                return Err(close(dead(), &path));
            }
        }
        if new_file {
            let synced = self
                .faults
                .fail(Point::DirSync)
                .and_then(|()| File::open(&self.dir))
                .and_then(|d| d.sync_all());
            if let Err(e) = synced {
                // The next sync tries the directory again.
                if let Ok(mut c) = self.current.lock() {
                    c.new_file = true;
                }
                return Err(io("cannot sync the journal directory", &self.dir, e));
            }
        }
        Ok(())
    }
}

/// Creates a segment file and writes its header. Only a segment whose header never made
/// it to disk is `replace`d; otherwise an existing file is never overwritten.
fn new_segment_at(path: &Path, replace: bool) -> Result<File, StoreError> {
    let mut f = OpenOptions::new()
        .create(replace)
        .create_new(!replace)
        .truncate(replace)
        .write(true)
        .read(true)
        .open(path)
        .map_err(|e| io("cannot create", path, e))?;
    f.write_all(JOURNAL_MAGIC)
        .map_err(|e| io("cannot write", path, e))?;
    Ok(f)
}

/// The checkpoint frame of `note`.
pub(crate) fn checkpoint_frame(note: &str) -> Result<Vec<u8>, StoreError> {
    frame(b'C', note.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_a_torn_tail_ends_the_journal() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Io(e.to_string()))?;
        let j = Journal::open(dir.path(), None, 0, Faults::none())?;
        let recs: Vec<(u64, &[u8])> = vec![(0, b"zero"), (1, b"one")];
        let mut f = records_frame(&recs)?;
        f.extend(checkpoint_frame("note\n")?);
        j.append(&f, 0)?;
        j.append(&records_frame(&[(2, b"two".as_slice())])?, 2)?;
        j.sync()?;
        drop(j);
        let mut seen = Vec::new();
        let s = scan(dir.path(), |f| seen.push(f.clone()))?;
        assert_eq!(s.size, 3);
        assert!(!s.torn);
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[1], Frame::Checkpoint("note\n".into()));
        // Cut the file anywhere inside the last frame: a torn tail, two records remain.
        let (path, end) = s.end.clone().unwrap_or_default();
        let full = std::fs::read(&path).map_err(|e| StoreError::Io(e.to_string()))?;
        let last_frame = records_frame(&[(2, b"two".as_slice())])?.len();
        for cut in 1..last_frame {
            std::fs::write(&path, &full[..full.len() - cut])
                .map_err(|e| StoreError::Io(e.to_string()))?;
            let s = scan(dir.path(), |_| {})?;
            assert_eq!(s.size, 2, "cut {cut}");
            assert!(s.torn);
        }
        // A damaged byte in a frame that is not the last: corruption.
        let mut bad = full.clone();
        bad[JOURNAL_MAGIC.len() + 8] ^= 1;
        std::fs::write(&path, &bad).map_err(|e| StoreError::Io(e.to_string()))?;
        assert!(matches!(
            scan(dir.path(), |_| {}),
            Err(StoreError::Corrupt { .. })
        ));
        // Reopened after a torn tail, appending continues after the valid data.
        std::fs::write(&path, &full[..full.len() - 3])
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let s = scan(dir.path(), |_| {})?;
        let j = Journal::open(dir.path(), s.end, s.size, Faults::none())?;
        j.append(&records_frame(&[(2, b"TWO".as_slice())])?, 2)?;
        j.sync()?;
        drop(j);
        let s = scan(dir.path(), |_| {})?;
        assert_eq!((s.size, s.torn, s.last), (3, false, Some(b"TWO".to_vec())));
        assert!(end > 0);
        Ok(())
    }
}
