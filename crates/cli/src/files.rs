//! The human-written input files: a genesis (TOML) and events to submit (TOML or JSON).
//! Hashes, keys and ids are lower-case hex; treaty payloads use their serde names
//! (docs/CLI.md has examples of every payload).

use crate::keys::{self, OsRng, Passphrase};
use anyhow::{Context as _, bail};
use coop_core::event::CaseRef;
use coop_core::{AuthorityId, CaseId, EventId, Hash, LedgerId, SignedEvent, Timestamp};
use coop_treaty::{DocRole, DocumentRef, Language, Params, Payload, RootKey};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Reads TOML (`.toml`) or JSON (anything else) into `T`.
pub fn read<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
    } else {
        serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
    }
}

/// A genesis file: both roots, the Agreement's texts, the rule parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisFile {
    /// Both Parties' roots: `{ party = "Kz", authority = "KZ-MFA", key = "<hex>" }`.
    pub roots: Vec<RootKey>,
    /// Digests of the Kazakh, Turkmen and Russian texts (see `coopledger digest`).
    pub agreement_texts: Vec<DocumentRef>,
    /// Rule parameters; the defaults of docs/TREATY.md if absent.
    #[serde(default)]
    pub params: Option<Params>,
    /// The node key that will sign the ledger's checkpoints (hex); the key of the node
    /// that creates the ledger if absent.
    #[serde(default)]
    pub node_key: Option<coop_core::PublicKey>,
    /// A test or demonstration ledger (its node's clock may be moved; every view says
    /// so). Never for a ledger the Parties rely on.
    #[serde(default)]
    pub test_ledger: bool,
}

impl GenesisFile {
    /// The genesis payload, naming `node_key` unless the file names one.
    pub fn payload(self, node_key: coop_core::PublicKey) -> Payload {
        Payload::Genesis {
            roots: self.roots,
            agreement_texts: self.agreement_texts,
            params: self.params.unwrap_or_default(),
            node_key: self.node_key.unwrap_or(node_key),
            test_ledger: self.test_ledger,
        }
    }
}

/// An event to sign and submit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventFile {
    /// Registered id of the signer.
    pub signer: AuthorityId,
    /// The signer's private key file (relative to the event file), unless `--key` is given.
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// Idempotency key: resubmitting the same event returns the first receipt. Random if
    /// absent.
    #[serde(default)]
    pub event_id: Option<EventId>,
    /// The case (for a request: the new case's id; random if absent).
    #[serde(default)]
    pub case: Option<CaseId>,
    /// The case version the author saw; the ledger's current version if absent.
    #[serde(default)]
    pub expected_version: Option<u64>,
    /// Event hashes this event answers.
    #[serde(default)]
    pub answers: Vec<Hash>,
    /// The author's clock (ms since the epoch); now if absent.
    #[serde(default)]
    pub authored_at: Option<u64>,
    /// The treaty payload.
    pub payload: Payload,
}

/// Milliseconds since the epoch from the system clock.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What the ledger tells the CLI before it signs: the ledger id and a case's version.
pub struct Context<'a> {
    /// The ledger the event is for (`None` for a genesis).
    pub ledger: Option<LedgerId>,
    /// Current version of a case, if it exists.
    pub case_version: &'a dyn Fn(&CaseId) -> Option<u64>,
    /// The author's time, for an event file without `authored_at`: the system clock, or
    /// a test ledger's (moved) clock.
    pub now: Timestamp,
}

impl Context<'_> {
    /// Runs `f` with the context an embedded ledger gives: its id, its cases' versions,
    /// and its clock (a test ledger's, which may have been moved; else the system's).
    pub fn of_ledger<S: coop_store::Store, R>(
        ledger: &coop_ledger::Ledger<S>,
        f: impl FnOnce(&Context<'_>) -> R,
    ) -> R {
        let versions = |c: &CaseId| {
            ledger
                .with_state(|s| s.cases.get(c).map(|c| c.version))
                .ok()
                .flatten()
        };
        f(&Context {
            ledger: ledger.ledger_id(),
            case_version: &versions,
            now: if ledger.is_test_ledger() {
                ledger.now()
            } else {
                Timestamp(now_ms())
            },
        })
    }
}

impl EventFile {
    /// Signs the event. `key_override` replaces the file's key; `file_dir` resolves a
    /// relative key path.
    pub fn sign(
        self,
        ctx: &Context<'_>,
        key_override: Option<&Path>,
        file_dir: &Path,
        pass: &Passphrase,
        rng: &mut OsRng,
    ) -> anyhow::Result<SignedEvent> {
        let key_path = match (key_override, &self.key) {
            (Some(k), _) => k.to_path_buf(),
            (None, Some(k)) => file_dir.join(k),
            (None, None) => bail!("the event file names no key: add `key = \"...\"` or give --key"),
        };
        let key = keys::load(&key_path, pass)?;
        let opens_case = matches!(self.payload, Payload::Request(_));
        let case = match (self.case, opens_case) {
            (Some(c), _) => Some(c),
            (None, true) => Some(CaseId(rng.id16())),
            (None, false) => None,
        };
        let case = case.map(|c| CaseRef {
            case_id: c,
            expected_version: self
                .expected_version
                .or_else(|| (ctx.case_version)(&c))
                .unwrap_or(0),
        });
        coop_treaty::Draft {
            signer: self.signer,
            ledger: ctx.ledger,
            event_id: self.event_id.unwrap_or_else(|| EventId(rng.id16())),
            at: self.authored_at.map_or(ctx.now, Timestamp),
            case,
            answers: self.answers,
            payload: &self.payload,
        }
        .sign(&key)
        .map_err(Into::into)
    }
}

/// A document reference for the bytes of a file.
pub fn digest_file(
    path: &Path,
    media_type: &str,
    language: Language,
    role: DocRole,
) -> anyhow::Result<DocumentRef> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(DocumentRef {
        digest: Hash(*blake3::hash(&bytes).as_bytes()),
        size: bytes.len() as u64,
        media_type: media_type.to_owned(),
        language,
        role,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every example in docs/examples parses, so the documentation cannot drift.
    #[test]
    fn documented_examples_parse() -> anyhow::Result<()> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
        let mut events = 0;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.file_stem().is_some_and(|s| s == "genesis") {
                let g: GenesisFile = read(&path)?;
                assert_eq!(g.roots.len(), 2);
                assert!(matches!(
                    g.payload(coop_core::PublicKey([0; 32])),
                    Payload::Genesis { .. }
                ));
            } else {
                let e: EventFile = read(&path)?;
                assert!(!e.signer.as_str().is_empty());
                events += 1;
            }
        }
        assert!(events >= 10);
        Ok(())
    }
}
