//! The signed copy of an event file, kept beside it so that submitting the same file
//! again sends the same event.
//!
//! An event file may leave its event id, its author's time, its case's expected version
//! and (for a request) its case id to be filled in when it is signed. Filled in afresh on
//! every run, a retry after an unanswered or failed submission would be a *different*
//! event and could land twice (issue 10). So the first run signs the event and writes
//! it to `<file>.signed.json` **before** sending it; every later run of the same file
//! (same bytes, same ledger) sends that exact signed event, and the ledger answers a
//! resent event with its first receipt. The copy is removed only when the ledger
//! answered that nothing was written (a refusal), so that a corrected retry signs anew.

use anyhow::Context as _;
use coop_core::{EventId, LedgerId, SignedEvent};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What `<file>.signed.json` holds.
#[derive(Debug, Serialize, Deserialize)]
struct SignedCopy {
    /// What it is, for a person who finds the file.
    about: String,
    /// blake3 of the event file's bytes when it was signed.
    source_blake3: String,
    /// The ledger it was signed for (hex); absent for a genesis.
    ledger_id: Option<String>,
    /// The signed event, exactly as sent.
    event: SignedEvent,
}

/// A signed event pinned beside its file.
#[derive(Debug)]
pub struct Pinned {
    /// The signed event to send.
    pub event: SignedEvent,
    /// Where its copy is.
    pub path: PathBuf,
    /// Whether it was signed by an earlier run (this run resends it).
    pub resent: bool,
}

impl Pinned {
    /// Its event id.
    pub fn event_id(&self) -> EventId {
        self.event.body.event_id
    }

    /// Tells the user, on stderr (stdout carries the receipt), which event is being sent
    /// and how a retry sends it again.
    pub fn announce(&self) {
        let what = if self.resent {
            "resending-event"
        } else {
            "submitting-event"
        };
        eprintln!(
            "{}",
            crate::lang().ta(
                what,
                &[
                    ("id", coop_i18n::text(self.event_id().to_string())),
                    ("copy", coop_i18n::text(self.path.display().to_string())),
                ]
            )
        );
    }

    /// The ledger answered that nothing was written: the next run signs anew.
    pub fn discard(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `<file>.signed.json`.
fn copy_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".signed.json");
    file.with_file_name(name)
}

/// The event of `file` for `ledger`: the copy an earlier run signed, if it was signed
/// from the same bytes for the same ledger; else `sign()`'s, written durably beside the
/// file before it is returned (so before anything is sent).
pub fn sign_once(
    file: &Path,
    ledger: Option<LedgerId>,
    sign: impl FnOnce() -> anyhow::Result<SignedEvent>,
) -> anyhow::Result<Pinned> {
    let source = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let source_blake3 = blake3::hash(&source).to_hex().to_string();
    let ledger_id = ledger.map(|l| l.0.to_hex());
    let path = copy_path(file);
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(copy) = serde_json::from_str::<SignedCopy>(&text)
        && copy.source_blake3 == source_blake3
        && copy.ledger_id == ledger_id
    {
        return Ok(Pinned {
            event: copy.event,
            path,
            resent: true,
        });
    }
    let event = sign()?;
    let copy = SignedCopy {
        about: format!(
            "the signed event of {} as first submitted; coopledger resends it while the file is unchanged (delete this file to sign anew)",
            file.file_name().unwrap_or_default().to_string_lossy()
        ),
        source_blake3,
        ledger_id,
        event,
    };
    let text = serde_json::to_string_pretty(&copy)?;
    write_durably(&path, text.as_bytes()).with_context(|| {
        format!(
            "cannot keep the signed copy of the event at {} (it makes a retry land once); nothing was sent",
            path.display()
        )
    })?;
    Ok(Pinned {
        event: copy.event,
        path,
        resent: false,
    })
}

/// Writes `bytes` to a temporary file, syncs it, renames it over `path`, and syncs the
/// directory: the copy exists whole, or not at all, before anything is sent.
fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)?.sync_all()
}
