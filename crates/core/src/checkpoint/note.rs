//! The C2SP signed-note format: a text, a blank line, then one line per signature:
//! `— <name> base64(key id[4] || signature)`.

use crate::keys::{KeyError, PublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::Digest as _;

/// Largest note accepted, in bytes.
pub const MAX_NOTE_LEN: usize = 64 * 1024;
/// Most signature lines accepted on one note.
pub const MAX_SIGNATURES: usize = 100;
const SIG_PREFIX: &str = "\u{2014} ";

/// Signature algorithms of the signed-note registry that coopledger uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigAlg {
    /// Plain Ed25519 over the note text (type 0x01): the node's checkpoint signature.
    Ed25519,
    /// C2SP cosignature/v1 (type 0x04): a witness's timestamped cosignature.
    CosignatureV1,
}

impl SigAlg {
    fn type_byte(self) -> u8 {
        match self {
            SigAlg::Ed25519 => 0x01,
            SigAlg::CosignatureV1 => 0x04,
        }
    }
}

/// A key that may have signed a note: name, algorithm and public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    /// Key name as it appears on signature lines.
    pub name: String,
    /// The public key.
    pub key: PublicKey,
    /// How it signs.
    pub alg: SigAlg,
}

/// A note that is not well formed, or a signature that fails.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    /// Larger than [`MAX_NOTE_LEN`]. Refuse.
    #[error("note is {0} bytes; the limit is {MAX_NOTE_LEN}")]
    TooLarge(usize),
    /// The layout is wrong (no blank line, bad signature line, control characters...).
    /// Refuse; the message says where.
    #[error("malformed note: {0}")]
    Malformed(String),
    /// A key name that the format does not allow (empty, whitespace or '+'). Choose
    /// another name.
    #[error("invalid key name {0:?}")]
    BadKeyName(String),
    /// A signature line from a known key does not verify. Refuse the note: it was
    /// altered or forged.
    #[error("signature by {name} does not verify: {source}")]
    BadSignature {
        /// Key name.
        name: String,
        /// Why.
        source: KeyError,
    },
    /// No signature from a required key. Refuse the note.
    #[error("note is not signed by {0}")]
    MissingSignature(String),
}

/// One signature line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// First four bytes of SHA-256(name || "\n" || type || public key).
    pub key_id: [u8; 4],
    /// Signature bytes after the key id (for cosignatures: 8-byte time || signature).
    pub sig: Vec<u8>,
}

/// A parsed signed note: its text (ending in `\n`) and signature lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The signed text, final newline included.
    pub text: String,
    /// Signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

/// Checks a key name: non-empty, no Unicode whitespace, no '+'.
pub(crate) fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(NoteError::BadKeyName(name.to_owned()));
    }
    Ok(())
}

impl NoteVerifier {
    /// The key id: `SHA-256(name || 0x0A || type || key)[:4]`.
    pub fn key_id(&self) -> [u8; 4] {
        let mut h = sha2::Sha256::new();
        h.update(self.name.as_bytes());
        h.update([b'\n', self.alg.type_byte()]);
        h.update(self.key.0);
        let d = h.finalize();
        d.as_slice().first_chunk::<4>().copied().unwrap_or_default()
    }

    /// The C2SP "vkey" text form: `name+hex(key id)+base64(type || key)`.
    pub fn to_vkey(&self) -> String {
        let mut raw = vec![self.alg.type_byte()];
        raw.extend_from_slice(&self.key.0);
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id()),
            B64.encode(raw)
        )
    }

    /// Parses a vkey, checking its key id and refusing weak keys.
    pub fn from_vkey(s: &str) -> Result<NoteVerifier, NoteError> {
        let bad = || NoteError::Malformed(format!("not a verifier key: {s:?}"));
        // The base64 key may itself contain '+': split at the first two only.
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        check_name(name)?;
        let raw = B64.decode(key).map_err(|_| bad())?;
        let (alg, key_bytes) = match raw.split_first() {
            Some((0x01, k)) => (SigAlg::Ed25519, k),
            Some((0x04, k)) => (SigAlg::CosignatureV1, k),
            _ => return Err(bad()),
        };
        let key = PublicKey(<[u8; 32]>::try_from(key_bytes).map_err(|_| bad())?);
        key.check().map_err(|source| NoteError::BadSignature {
            name: name.to_owned(),
            source,
        })?;
        let v = NoteVerifier {
            name: name.to_owned(),
            key,
            alg,
        };
        if hex::encode(v.key_id()) != id {
            return Err(bad());
        }
        Ok(v)
    }

    /// The signature line of this key, if the note has one (matched by name and key id).
    pub fn find<'n>(&self, note: &'n Note) -> Option<&'n NoteSignature> {
        self.lines(note).next()
    }

    /// Every signature line of this key (matched by name and key id). The signed-note
    /// spec says a known key's signature MUST verify: a verifier checks them all, so a
    /// second, forged line from a known key cannot hide behind a valid first one.
    pub fn lines<'n>(&self, note: &'n Note) -> impl Iterator<Item = &'n NoteSignature> + 'n {
        let id = self.key_id();
        let name = self.name.clone();
        note.signatures
            .iter()
            .filter(move |s| s.name == name && s.key_id == id)
    }
}

impl Note {
    /// Parses a signed note. Checks layout only; signatures are checked by their users.
    pub fn parse(s: &str) -> Result<Note, NoteError> {
        if s.len() > MAX_NOTE_LEN {
            return Err(NoteError::TooLarge(s.len()));
        }
        if s.chars().any(|c| c.is_control() && c != '\n') {
            return Err(NoteError::Malformed("control character in note".into()));
        }
        let Some(split) = s.rfind("\n\n") else {
            return Err(NoteError::Malformed(
                "no blank line between text and signatures".into(),
            ));
        };
        let (text, sigs) = s.split_at(split + 1);
        let sigs = sigs.strip_prefix('\n').unwrap_or(sigs);
        if text.len() <= 1 {
            return Err(NoteError::Malformed("empty text".into()));
        }
        if !sigs.ends_with('\n') {
            return Err(NoteError::Malformed(
                "signature block must end with a newline".into(),
            ));
        }
        let mut signatures = Vec::new();
        for line in sigs.trim_end_matches('\n').split('\n') {
            let rest = line.strip_prefix(SIG_PREFIX).ok_or_else(|| {
                NoteError::Malformed(format!(
                    "signature line must start with an em dash: {line:?}"
                ))
            })?;
            let (name, b64) = rest.split_once(' ').ok_or_else(|| {
                NoteError::Malformed(format!("signature line needs a name and a value: {line:?}"))
            })?;
            check_name(name)?;
            let raw = B64
                .decode(b64)
                .map_err(|_| NoteError::Malformed(format!("signature is not base64: {line:?}")))?;
            if raw.len() < 5 {
                return Err(NoteError::Malformed(format!(
                    "signature too short: {line:?}"
                )));
            }
            let (id, sig) = raw.split_at(4);
            let key_id =
                <[u8; 4]>::try_from(id).map_err(|_| NoteError::Malformed("key id".into()))?;
            signatures.push(NoteSignature {
                name: name.to_owned(),
                key_id,
                sig: sig.to_vec(),
            });
        }
        if signatures.is_empty() {
            return Err(NoteError::Malformed("note has no signatures".into()));
        }
        if signatures.len() > MAX_SIGNATURES {
            return Err(NoteError::Malformed("too many signatures".into()));
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note as text: text, blank line, signature lines.
    pub fn render(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            let mut raw = s.key_id.to_vec();
            raw.extend_from_slice(&s.sig);
            out.push_str(SIG_PREFIX);
            out.push_str(&s.name);
            out.push(' ');
            out.push_str(&B64.encode(raw));
            out.push('\n');
        }
        out
    }
}
