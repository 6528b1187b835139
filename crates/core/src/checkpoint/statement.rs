use super::note::{Note, NoteError, NoteSignature, NoteVerifier, SigAlg, check_name};
use crate::hash::Hash;
use crate::ids::{LedgerId, Timestamp};
use crate::keys::{PublicKey, SecretKey, Signature};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

/// What a checkpoint states. Its text form (the signed note body) is
///
/// ```text
/// coopledger/<ledger id, 64 hex>
/// <tree size, decimal>
/// <Merkle root, base64>
/// chain <chain head, base64>
/// time <milliseconds since the epoch, decimal>
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The ledger.
    pub ledger_id: LedgerId,
    /// Number of records covered.
    pub size: u64,
    /// Merkle root of the first `size` leaves.
    pub root: Hash,
    /// Chain hash of record `size - 1` (the chain seed when `size = 0`).
    pub chain_head: Hash,
    /// The node's clock when it signed.
    pub time: Timestamp,
}

/// A checkpoint text that is malformed or not properly signed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CheckpointError {
    /// The signed-note envelope is wrong, or a signature fails. Refuse the checkpoint.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The checkpoint body is not in coopledger's exact form. Refuse it.
    #[error("malformed checkpoint body: {0}")]
    Body(String),
    /// The verifier given for the node is not a plain Ed25519 key, or a witness verifier
    /// is not a cosignature key. Fix the configuration.
    #[error("verifier {0} has the wrong signature type for its role")]
    WrongAlg(String),
    /// The node's key name is not the checkpoint's origin line (C2SP tlog-checkpoint: the
    /// log's key name matches its origin). Refuse: it is another log's key, or a
    /// misconfigured one.
    #[error("the node key is named {name:?}, but the checkpoint's origin is {origin:?}")]
    KeyName {
        /// The key's name.
        name: String,
        /// The checkpoint's origin line.
        origin: String,
    },
    /// A known key signed the note more than once. Refuse the note.
    #[error("{0} signed the note more than once")]
    Duplicate(String),
}

/// A checkpoint whose node signature verified, with the witnesses whose cosignatures
/// verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The statement.
    pub checkpoint: Checkpoint,
    /// The parsed note (for re-serving it with its signatures).
    pub note: Note,
    /// Valid cosignatures from the given witnesses.
    pub cosigned: Vec<Cosignature>,
}

/// A witness cosignature that verified: who signed, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosignature {
    /// Witness key name.
    pub name: String,
    /// When the witness signed (seconds since the epoch).
    pub time: u64,
}

impl Checkpoint {
    /// The origin line: `coopledger/<ledger id hex>`.
    pub fn origin(&self) -> String {
        origin(&self.ledger_id)
    }

    /// The note body (the text that is signed).
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\nchain {}\ntime {}\n",
            self.origin(),
            self.size,
            B64.encode(self.root.0),
            B64.encode(self.chain_head.0),
            self.time.0
        )
    }

    /// Parses a note body strictly: it must re-render to exactly the same text.
    pub fn parse_body(text: &str) -> Result<Checkpoint, CheckpointError> {
        let bad = |m: &str| CheckpointError::Body(m.to_owned());
        let mut lines = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("no final newline"))?
            .split('\n');
        let mut next = |what: &str| {
            lines
                .next()
                .ok_or_else(|| bad(&format!("missing {what} line")))
        };
        let origin = next("origin")?;
        let size = next("size")?;
        let root = next("root")?;
        let chain = next("chain")?;
        let time = next("time")?;
        if lines.next().is_some() {
            return Err(bad("unexpected extra lines"));
        }
        let ledger_hex = origin
            .strip_prefix("coopledger/")
            .ok_or_else(|| bad("origin must be coopledger/<ledger id>"))?;
        let ledger_id =
            LedgerId(Hash::from_hex(ledger_hex).map_err(|_| bad("origin has no valid ledger id"))?);
        let size: u64 = size
            .parse()
            .map_err(|_| bad("size is not a decimal number"))?;
        let b64_hash = |s: &str, what: &str| {
            B64.decode(s)
                .ok()
                .and_then(|b| Hash::from_slice(&b).ok())
                .ok_or_else(|| bad(&format!("{what} is not a base64 32-byte hash")))
        };
        let root = b64_hash(root, "root")?;
        let chain_head = b64_hash(
            chain
                .strip_prefix("chain ")
                .ok_or_else(|| bad("fourth line must be 'chain <hash>'"))?,
            "chain head",
        )?;
        let time = Timestamp(
            time.strip_prefix("time ")
                .ok_or_else(|| bad("fifth line must be 'time <ms>'"))?
                .parse()
                .map_err(|_| bad("time is not a decimal number"))?,
        );
        let cp = Checkpoint {
            ledger_id,
            size,
            root,
            chain_head,
            time,
        };
        if cp.body() != text {
            return Err(bad(
                "not in canonical form (leading zeros, padding or case)",
            ));
        }
        Ok(cp)
    }
}

/// The node's checkpoint verifier for `ledger`: the key's name is the checkpoint origin,
/// `coopledger/<ledger id>` (C2SP tlog-checkpoint: the log's key name matches its origin).
pub fn node_verifier(ledger: &LedgerId, key: PublicKey) -> NoteVerifier {
    NoteVerifier {
        name: origin(ledger),
        key,
        alg: SigAlg::Ed25519,
    }
}

/// The origin line of `ledger`'s checkpoints: `coopledger/<ledger id, 64 hex>`.
pub fn origin(ledger: &LedgerId) -> String {
    format!("coopledger/{}", ledger.0.to_hex())
}

/// Signs a checkpoint with the node's key, under the checkpoint's origin as key name;
/// returns the signed note text.
pub fn sign_checkpoint(cp: &Checkpoint, key: &SecretKey) -> Result<String, CheckpointError> {
    let name = cp.origin();
    check_name(&name)?;
    let text = cp.body();
    let v = node_verifier(&cp.ledger_id, key.public());
    let note = Note {
        signatures: vec![NoteSignature {
            name,
            key_id: v.key_id(),
            sig: key.sign(text.as_bytes()).0.to_vec(),
        }],
        text,
    };
    Ok(note.render())
}

fn cosignature_message(time: u64, text: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {time}\n{text}").into_bytes()
}

/// Adds a witness cosignature (C2SP cosignature/v1) made at `time` (seconds) to a signed
/// checkpoint note, replacing an earlier one by the same key. The witness must have
/// checked the checkpoint (signature and consistency) before calling this.
pub fn cosign(
    note_text: &str,
    name: &str,
    key: &SecretKey,
    time: u64,
) -> Result<String, CheckpointError> {
    check_name(name)?;
    if time > MAX_COSIGNATURE_TIME {
        return Err(CheckpointError::Body(
            "cosignature time out of range".into(),
        ));
    }
    let mut note = Note::parse(note_text)?;
    Checkpoint::parse_body(&note.text)?;
    let v = NoteVerifier {
        name: name.to_owned(),
        key: key.public(),
        alg: SigAlg::CosignatureV1,
    };
    let id = v.key_id();
    let sig = key.sign(&cosignature_message(time, &note.text));
    let mut raw = time.to_be_bytes().to_vec();
    raw.extend_from_slice(&sig.0);
    note.signatures
        .retain(|s| !(s.name == name && s.key_id == id));
    note.signatures.push(NoteSignature {
        name: name.to_owned(),
        key_id: id,
        sig: raw,
    });
    Ok(note.render())
}

/// Largest cosignature time accepted (C2SP tlog-cosignature: at most 2^63 - 1).
pub const MAX_COSIGNATURE_TIME: u64 = i64::MAX as u64;

/// The one entry point for trusting a checkpoint: parses the note and its body; requires
/// the node's key name to be the checkpoint's origin (C2SP tlog-checkpoint) and a line of
/// the node's key; checks **every** line of the node and of each witness in `witnesses`
/// (a line of a known key that fails is an error, never skipped, and a known key may sign
/// only once); refuses cosignature times above 2^63 - 1. Lines of unknown keys are
/// ignored, as the signed-note format prescribes: the node stores none of them
/// ([`keep_verified`]).
pub fn verify_checkpoint(
    note_text: &str,
    node: &NoteVerifier,
    witnesses: &[NoteVerifier],
) -> Result<VerifiedCheckpoint, CheckpointError> {
    if node.alg != SigAlg::Ed25519 {
        return Err(CheckpointError::WrongAlg(node.name.clone()));
    }
    let note = Note::parse(note_text)?;
    let checkpoint = Checkpoint::parse_body(&note.text)?;
    if node.name != checkpoint.origin() {
        return Err(CheckpointError::KeyName {
            name: node.name.clone(),
            origin: checkpoint.origin(),
        });
    }
    let mut node_lines = 0;
    for line in node.lines(&note) {
        node_lines += 1;
        let sig = Signature(<[u8; 64]>::try_from(line.sig.as_slice()).map_err(|_| {
            NoteError::Malformed(format!("signature by {} is not 64 bytes", node.name))
        })?);
        node.key
            .verify(note.text.as_bytes(), &sig)
            .map_err(|source| NoteError::BadSignature {
                name: node.name.clone(),
                source,
            })?;
    }
    match node_lines {
        0 => return Err(NoteError::MissingSignature(node.name.clone()).into()),
        1 => {}
        _ => return Err(CheckpointError::Duplicate(node.name.clone())),
    }
    let mut cosigned = Vec::new();
    for w in witnesses {
        if w.alg != SigAlg::CosignatureV1 {
            return Err(CheckpointError::WrongAlg(w.name.clone()));
        }
        let mut times = Vec::new();
        for line in w.lines(&note) {
            times.push(verify_cosignature(w, line, &note.text)?);
        }
        match times.as_slice() {
            [] => {}
            [time] => cosigned.push(Cosignature {
                name: w.name.clone(),
                time: *time,
            }),
            _ => return Err(CheckpointError::Duplicate(w.name.clone())),
        }
    }
    Ok(VerifiedCheckpoint {
        checkpoint,
        note,
        cosigned,
    })
}

/// The checkpoint of a note that witness `w` cosigned, with the time of its cosignature,
/// if a line of `w` is on it and verifies (`None` if `w` has no line). Only `w`'s lines
/// are checked — not the node's: this is for a witness finding, in its own store, the
/// checkpoints it checked and cosigned itself (a follower resuming after a restart).
pub fn own_cosignature(
    note_text: &str,
    w: &NoteVerifier,
) -> Result<Option<(Checkpoint, u64)>, CheckpointError> {
    if w.alg != SigAlg::CosignatureV1 {
        return Err(CheckpointError::WrongAlg(w.name.clone()));
    }
    let note = Note::parse(note_text)?;
    let checkpoint = Checkpoint::parse_body(&note.text)?;
    let mut found = None;
    for line in w.lines(&note) {
        if found.is_some() {
            return Err(CheckpointError::Duplicate(w.name.clone()));
        }
        found = Some(verify_cosignature(w, line, &note.text)?);
    }
    Ok(found.map(|time| (checkpoint, time)))
}

/// Checks one cosignature line of witness `w` over `text`; returns its time (seconds).
fn verify_cosignature(
    w: &NoteVerifier,
    line: &NoteSignature,
    text: &str,
) -> Result<u64, CheckpointError> {
    let (time, sig) = line
        .sig
        .split_at_checked(8)
        .ok_or_else(|| NoteError::Malformed(format!("cosignature by {} is too short", w.name)))?;
    let time = u64::from_be_bytes(
        <[u8; 8]>::try_from(time).map_err(|_| NoteError::Malformed("time".into()))?,
    );
    if time > MAX_COSIGNATURE_TIME {
        return Err(CheckpointError::Body(format!(
            "the cosignature by {} states the time {time}, beyond 2^63 - 1",
            w.name
        )));
    }
    let sig =
        Signature(<[u8; 64]>::try_from(sig).map_err(|_| {
            NoteError::Malformed(format!("cosignature by {} is not 64 bytes", w.name))
        })?);
    w.key
        .verify(&cosignature_message(time, text), &sig)
        .map_err(|source| NoteError::BadSignature {
            name: w.name.clone(),
            source,
        })?;
    Ok(time)
}

/// The note with only the signature lines that verified: the node's, then each witness
/// of `witnesses` whose cosignature verifies, in that order; every other line (unknown
/// keys, junk) is dropped. What a node stores, so that nobody can fill a checkpoint with
/// lines that crowd out the Parties' real cosignatures.
pub fn keep_verified(
    note_text: &str,
    node: &NoteVerifier,
    witnesses: &[NoteVerifier],
) -> Result<VerifiedCheckpoint, CheckpointError> {
    let mut v = verify_checkpoint(note_text, node, witnesses)?;
    let mut keep: Vec<NoteSignature> = node.lines(&v.note).cloned().collect();
    for w in witnesses {
        keep.extend(w.lines(&v.note).cloned());
    }
    v.note.signatures = keep;
    Ok(v)
}
