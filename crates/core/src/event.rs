//! Signed events: what an author says, bound to one ledger and signed with Ed25519.

use crate::encoding::{self, DecodeError, EncodeError};
use crate::hash::{Hash, tag};
use crate::ids::{AuthorityId, CaseId, EventId, LedgerId, Timestamp};
use crate::keys::{CheckedKey, KeyError, PublicKey, SecretKey, Signature};
use serde::{Deserialize, Serialize};

/// Version of the event body format this code writes and accepts (docs/FORMAT.md §4;
/// version 2 is described by docs/adr/0012).
pub const EVENT_FORMAT_VERSION: u16 = 2;

/// Domain-separation prefix of every event signature. It names the format version, so
/// that nothing signed under one version verifies under another.
pub const EVENT_SIGNATURE_CONTEXT: &[u8] = b"coopledger/event/v2";

/// Longest opaque payload accepted, in bytes. Payloads carry document digests, never
/// documents.
pub const MAX_PAYLOAD_LEN: usize = 64 * 1024;

/// Most causal links one event may carry.
pub const MAX_ANSWERS: usize = 64;

/// Who wrote an event: the registered party and the key it signed with. The key is part
/// of the signed body, so a signature can never be re-attributed to another key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Author {
    /// Registered id of the authority, root, auditor or witness.
    pub authority: AuthorityId,
    /// The key that signs this event.
    pub key: PublicKey,
}

/// The case an event belongs to, and the case version the author saw (optimistic
/// concurrency: the ledger refuses the event if the case has moved on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRef {
    /// The case.
    pub case_id: CaseId,
    /// Number of events in the case the author expects before this one.
    pub expected_version: u64,
}

/// What the author signs. Field order is the encoding order (docs/FORMAT.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBody {
    /// [`EVENT_FORMAT_VERSION`].
    pub version: u16,
    /// The ledger this event is for; `None` only in the genesis event, whose body
    /// defines the ledger id.
    pub ledger_id: Option<LedgerId>,
    /// Idempotency key chosen by the author.
    pub event_id: EventId,
    /// Who wrote it.
    pub author: Author,
    /// The author's clock when signing.
    pub authored_at: Timestamp,
    /// The case this event belongs to, if any.
    pub case: Option<CaseRef>,
    /// Event hashes ([`EventBody::event_hash`]) of the events this one answers.
    pub answers: Vec<Hash>,
    /// The treaty payload, itself canonically encoded by coop-treaty. Opaque here.
    pub payload: Vec<u8>,
}

/// Why an event was refused before any rule looked at it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    /// Bytes are not a canonical event. Refuse (HTTP 400).
    #[error("event bytes are not canonical: {0}")]
    Decode(#[from] DecodeError),
    /// The event could not be encoded (too large). Refuse (HTTP 413).
    #[error("event cannot be encoded: {0}")]
    Encode(#[from] EncodeError),
    /// Unknown body format version. Refuse; upgrade the software if newer.
    #[error(
        "event format version {0} is not supported (this build reads version {EVENT_FORMAT_VERSION})"
    )]
    UnsupportedVersion(u16),
    /// The event names another ledger (or none, outside genesis). Refuse: it was signed
    /// for somewhere else.
    #[error("event is bound to ledger {found}, not to this ledger {expected}")]
    WrongLedger {
        /// The ledger being appended to.
        expected: String,
        /// What the event carries.
        found: String,
    },
    /// The author id is not well formed. Refuse.
    #[error("author id {0:?} is not a valid authority id")]
    BadAuthor(String),
    /// Payload larger than [`MAX_PAYLOAD_LEN`]. Refuse (HTTP 413).
    #[error("payload is {0} bytes; the limit is {MAX_PAYLOAD_LEN}")]
    PayloadTooLarge(usize),
    /// More causal links than [`MAX_ANSWERS`]. Refuse.
    #[error("event answers {0} events; the limit is {MAX_ANSWERS}")]
    TooManyAnswers(usize),
    /// The signature or key is not acceptable. Refuse (HTTP 401/400).
    #[error(transparent)]
    Signature(#[from] KeyError),
}

impl EventBody {
    /// Canonical bytes of the body.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        encoding::encode(self)
    }

    /// The hash other events use to point at this one: `blake3(0x04 || body bytes)`.
    pub fn event_hash(&self) -> Result<Hash, EncodeError> {
        Ok(Hash::tagged(tag::EVENT, &[&self.to_bytes()?]))
    }

    /// Checks shape limits that hold for every event whatever the rules say.
    pub fn check_shape(&self) -> Result<(), EventError> {
        if self.version != EVENT_FORMAT_VERSION {
            return Err(EventError::UnsupportedVersion(self.version));
        }
        if !AuthorityId::is_valid(self.author.authority.as_str()) {
            return Err(EventError::BadAuthor(
                self.author.authority.as_str().to_owned(),
            ));
        }
        if self.payload.len() > MAX_PAYLOAD_LEN {
            return Err(EventError::PayloadTooLarge(self.payload.len()));
        }
        if self.answers.len() > MAX_ANSWERS {
            return Err(EventError::TooManyAnswers(self.answers.len()));
        }
        Ok(())
    }
}

/// The exact bytes an author signs: `"coopledger/event/v2" || L || body`, where `L` is the
/// 32-byte ledger id, or 32 zero bytes for the genesis event (whose body has none).
pub fn signing_message(ledger_id: Option<&LedgerId>, body_bytes: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(EVENT_SIGNATURE_CONTEXT.len() + 32 + body_bytes.len());
    m.extend_from_slice(EVENT_SIGNATURE_CONTEXT);
    m.extend_from_slice(ledger_id.map_or(&[0u8; 32], |l| l.0.as_bytes()));
    m.extend_from_slice(body_bytes);
    m
}

/// A body and the author's signature over [`signing_message`]. The signer's public key is
/// `body.author.key`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedEvent {
    /// What was signed.
    pub body: EventBody,
    /// Ed25519 signature by `body.author.key`.
    pub signature: Signature,
}

impl SignedEvent {
    /// Signs `body` with `key`. The caller makes `body.author.key` equal `key.public()`;
    /// [`SignedEvent::verify`] refuses the event otherwise.
    pub fn sign(body: EventBody, key: &SecretKey) -> Result<SignedEvent, EventError> {
        let bytes = body.to_bytes()?;
        let signature = key.sign(&signing_message(body.ledger_id.as_ref(), &bytes));
        Ok(SignedEvent { body, signature })
    }

    /// Canonical bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        encoding::encode(self)
    }

    /// Strict, canonical decode.
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedEvent, EventError> {
        Ok(encoding::decode(bytes)?)
    }

    /// Checks the shape, that the event is bound to `ledger` (`None`: this must be the
    /// genesis event), that the author key is not weak, and the signature, strictly.
    /// It does *not* check that the key is registered: that is a rule, judged where the
    /// event lands.
    pub fn verify(&self, ledger: Option<&LedgerId>) -> Result<(), EventError> {
        self.body.check_shape()?;
        let key = self.body.author.key.checked()?;
        self.verify_with(ledger, &key)
    }

    /// [`SignedEvent::verify`] with the author's key already checked (a verifier that
    /// sees the same few keys sign millions of events checks each key once). `key` must
    /// be `body.author.key`; another key is refused.
    pub fn verify_with(
        &self,
        ledger: Option<&LedgerId>,
        key: &CheckedKey,
    ) -> Result<(), EventError> {
        let bytes = self.body.to_bytes()?;
        self.verify_body_bytes(ledger, key, &bytes)
    }

    /// [`SignedEvent::verify_with`] given the body's canonical bytes, which the caller
    /// already holds (a verifier slices them out of a canonically decoded record, see
    /// [`crate::SealedRecord::body_bytes`]). `body_bytes` must be the encoding of
    /// `self.body`; anything else fails the signature check or the shape check.
    pub fn verify_body_bytes(
        &self,
        ledger: Option<&LedgerId>,
        key: &CheckedKey,
        body_bytes: &[u8],
    ) -> Result<(), EventError> {
        self.body.check_shape()?;
        if self.body.ledger_id.as_ref() != ledger {
            let show =
                |l: Option<&LedgerId>| l.map_or("(none: genesis)".to_owned(), |l| l.to_string());
            return Err(EventError::WrongLedger {
                expected: show(ledger),
                found: show(self.body.ledger_id.as_ref()),
            });
        }
        if key.public() != self.body.author.key {
            return Err(EventError::Signature(KeyError::BadSignature(
                self.body.author.key.to_hex(),
            )));
        }
        key.verify(&signing_message(ledger, body_bytes), &self.signature)?;
        Ok(())
    }

    /// The event hash of the body.
    pub fn event_hash(&self) -> Result<Hash, EncodeError> {
        self.body.event_hash()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn body(ledger: Option<LedgerId>, key: &SecretKey, n: u8) -> EventBody {
        EventBody {
            version: EVENT_FORMAT_VERSION,
            ledger_id: ledger,
            event_id: EventId([n; 16]),
            author: Author {
                authority: AuthorityId::new("KZ-MVD").unwrap_or_else(|_| unreachable!()),
                key: key.public(),
            },
            authored_at: Timestamp(1_760_000_000_000),
            case: Some(CaseRef {
                case_id: CaseId([9; 16]),
                expected_version: 0,
            }),
            answers: vec![Hash([4; 32])],
            payload: vec![1, 2, 3],
        }
    }

    #[test]
    fn signed_event_verifies_and_round_trips() -> Result<(), EventError> {
        let sk = SecretKey::from_seed(&[1; 32]);
        let ledger = LedgerId(Hash([7; 32]));
        let ev = SignedEvent::sign(body(Some(ledger), &sk, 1), &sk)?;
        ev.verify(Some(&ledger))?;
        let bytes = ev.to_bytes()?;
        assert_eq!(SignedEvent::from_bytes(&bytes)?, ev);
        Ok(())
    }

    #[test]
    fn event_for_another_ledger_is_refused() -> Result<(), EventError> {
        let sk = SecretKey::from_seed(&[1; 32]);
        let ev = SignedEvent::sign(body(Some(LedgerId(Hash([7; 32]))), &sk, 1), &sk)?;
        let other = LedgerId(Hash([8; 32]));
        assert!(matches!(
            ev.verify(Some(&other)),
            Err(EventError::WrongLedger { .. })
        ));
        assert!(matches!(
            ev.verify(None),
            Err(EventError::WrongLedger { .. })
        ));
        Ok(())
    }

    #[test]
    fn swapping_the_author_key_breaks_the_signature() -> Result<(), EventError> {
        let sk = SecretKey::from_seed(&[1; 32]);
        let other = SecretKey::from_seed(&[2; 32]);
        let ledger = LedgerId(Hash([7; 32]));
        let mut ev = SignedEvent::sign(body(Some(ledger), &sk, 1), &sk)?;
        ev.body.author.key = other.public();
        assert!(matches!(
            ev.verify(Some(&ledger)),
            Err(EventError::Signature(KeyError::BadSignature(_)))
        ));
        Ok(())
    }

    #[test]
    fn shape_limits() -> Result<(), EventError> {
        let sk = SecretKey::from_seed(&[1; 32]);
        let ledger = LedgerId(Hash([7; 32]));
        let mut b = body(Some(ledger), &sk, 1);
        b.payload = vec![0; MAX_PAYLOAD_LEN + 1];
        assert!(matches!(
            SignedEvent::sign(b, &sk)?.verify(Some(&ledger)),
            Err(EventError::PayloadTooLarge(_))
        ));
        let mut b = body(Some(ledger), &sk, 1);
        b.version = 1;
        assert!(matches!(
            SignedEvent::sign(b, &sk)?.verify(Some(&ledger)),
            Err(EventError::UnsupportedVersion(1))
        ));
        Ok(())
    }

    #[test]
    fn every_flipped_bit_is_detected() -> Result<(), EventError> {
        let sk = SecretKey::from_seed(&[1; 32]);
        let ledger = LedgerId(Hash([7; 32]));
        let bytes = SignedEvent::sign(body(Some(ledger), &sk, 1), &sk)?.to_bytes()?;
        for i in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            if let Some(byte) = b.get_mut(i / 8) {
                *byte ^= 1 << (i % 8);
            }
            let verdict = SignedEvent::from_bytes(&b).and_then(|e| e.verify(Some(&ledger)));
            assert!(verdict.is_err(), "bit {i} flip accepted");
        }
        Ok(())
    }
}
