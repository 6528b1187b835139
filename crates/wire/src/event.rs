//! The JSON form of an event, for clients in any language (docs/API.md, docs/FORMAT.md
//! §4 and §11). It is the signed body with its payload as the catalogue's variant and
//! fields instead of the payload's canonical bytes. The key decision: JSON is never what
//! is signed or hashed. A JSON body converts to exactly one canonical body
//! ([`BodyJson::to_body`]), and the signature covers those bytes; [`Prepared`] gives a
//! client the bytes to sign and the event hash, which a careful client also computes
//! itself and compares before signing.

use crate::schema;
use coop_core::encoding::{DecodeError, EncodeError};
use coop_core::event::{EVENT_FORMAT_VERSION, signing_message};
use coop_core::{
    Author, CaseRef, EventBody, EventId, Hash, LedgerId, Signature, SignedEvent, Timestamp,
};
use coop_treaty::Payload;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An event body in JSON: [`EventBody`] with a structured payload. Field order and
/// meaning are the body's (docs/FORMAT.md §4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyJson {
    /// The body format version: 2 (the only one this build accepts).
    #[serde(default = "format_version")]
    pub version: u16,
    /// The ledger this event is for (`/v1/info` gives it); `null` only in a genesis.
    #[schemars(with = "Option<schema::LedgerId>")]
    pub ledger_id: Option<LedgerId>,
    /// The author's idempotency key: 16 random bytes, chosen once per event.
    #[schemars(with = "schema::EventId")]
    pub event_id: EventId,
    /// The registered author and the key that signs.
    #[schemars(with = "schema::Author")]
    pub author: Author,
    /// The author's clock when signing (ms since the epoch); the ledger accepts it
    /// within the genesis's `authored_window_ms` of its own clock.
    #[schemars(with = "schema::Timestamp")]
    pub authored_at: Timestamp,
    /// The case and the version the author saw; `null` for events outside cases. A
    /// request names the new case's id with version 0.
    #[schemars(with = "Option<schema::CaseRef>")]
    pub case: Option<CaseRef>,
    /// Event hashes of the events this one answers.
    #[serde(default)]
    #[schemars(with = "Vec<schema::Hash>")]
    pub answers: Vec<Hash>,
    /// The treaty event: a unit variant is a string (`"Acknowledged"`), any other an
    /// object with one member named after the variant.
    #[schemars(with = "schema::Payload")]
    pub payload: Payload,
}

fn format_version() -> u16 {
    EVENT_FORMAT_VERSION
}

/// A signed event in JSON: what `POST /v1/events` accepts as `application/json` and
/// what a record's `event` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventJson {
    /// What was signed.
    pub body: BodyJson,
    /// Ed25519 signature by `body.author.key` over the signing message
    /// ([`Prepared::signing_message`]).
    #[schemars(with = "schema::Signature")]
    pub signature: Signature,
}

/// What a client needs to sign a body: its canonical bytes, the exact message to sign,
/// and the hash other events will cite it by. Byte strings are lower-case hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Prepared {
    /// The body's canonical bytes (docs/FORMAT.md §4).
    pub body: String,
    /// `"coopledger/event/v2" || ledger id (32 zero bytes in a genesis) || body`: sign
    /// exactly these bytes with Ed25519.
    pub signing_message: String,
    /// `blake3(0x04 || body)`: the event hash.
    #[schemars(with = "schema::Hash")]
    pub event_hash: Hash,
    /// The ledger id the event will have: the body's, or for a genesis the id it
    /// defines.
    #[schemars(with = "schema::LedgerId")]
    pub ledger_id: LedgerId,
    /// The canonical bytes of the signed event are `body || signature` (64 bytes): what
    /// `POST /v1/events` takes as `application/octet-stream`.
    pub signed_event_layout: String,
}

/// Why a JSON event could not become canonical bytes, or bytes JSON.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JsonEventError {
    /// The payload or body is too large to encode. Make the event smaller (payloads
    /// carry document digests, never documents).
    #[error("the event cannot be encoded: {0}")]
    Encode(#[from] EncodeError),
    /// The stored payload bytes are not a catalogue payload: the record cannot be shown
    /// as JSON. Use its canonical bytes.
    #[error("the payload does not decode: {0}")]
    Decode(#[from] DecodeError),
}

impl BodyJson {
    /// The canonical body: the payload encoded once, the one way.
    pub fn to_body(&self) -> Result<EventBody, JsonEventError> {
        Ok(EventBody {
            version: self.version,
            ledger_id: self.ledger_id,
            event_id: self.event_id,
            author: self.author.clone(),
            authored_at: self.authored_at,
            case: self.case,
            answers: self.answers.clone(),
            payload: self.payload.to_bytes()?,
        })
    }

    /// The JSON form of a body whose payload decodes.
    pub fn of(body: &EventBody) -> Result<BodyJson, JsonEventError> {
        Ok(BodyJson {
            version: body.version,
            ledger_id: body.ledger_id,
            event_id: body.event_id,
            author: body.author.clone(),
            authored_at: body.authored_at,
            case: body.case,
            answers: body.answers.clone(),
            payload: Payload::from_bytes(&body.payload)?,
        })
    }

    /// The bytes to sign and the event hash of this body.
    pub fn prepare(&self) -> Result<Prepared, JsonEventError> {
        let body = self.to_body()?;
        let bytes = body.to_bytes()?;
        let ledger_id = body
            .ledger_id
            .unwrap_or_else(|| LedgerId::from_genesis_body(&bytes));
        Ok(Prepared {
            signing_message: hex(&signing_message(body.ledger_id.as_ref(), &bytes)),
            event_hash: body.event_hash()?,
            body: hex(&bytes),
            ledger_id,
            signed_event_layout: "body || signature".to_owned(),
        })
    }
}

impl EventJson {
    /// The signed event (its body canonical).
    pub fn to_event(&self) -> Result<SignedEvent, JsonEventError> {
        Ok(SignedEvent {
            body: self.body.to_body()?,
            signature: self.signature,
        })
    }

    /// The JSON form of a signed event whose payload decodes.
    pub fn of(event: &SignedEvent) -> Result<EventJson, JsonEventError> {
        Ok(EventJson {
            body: BodyJson::of(&event.body)?,
            signature: event.signature,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    coop_core::hexserde::to_hex(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use coop_treaty::testkit::fixture;

    /// Every event of the fixture ledger: every payload variant, signed.
    fn sample_events() -> anyhow::Result<Vec<SignedEvent>> {
        let f = fixture::ledger().map_err(anyhow::Error::msg)?;
        Ok(f.records.into_iter().map(|r| r.record.event).collect())
    }

    #[test]
    fn json_round_trips_to_the_same_canonical_bytes() -> anyhow::Result<()> {
        // Given every event of a full case, signed
        for event in sample_events()? {
            // When it travels as JSON and back
            let json = serde_json::to_string(&EventJson::of(&event)?)?;
            let back: EventJson = serde_json::from_str(&json)?;
            // Then the event is the same, byte for byte, and its payload is readable
            assert_eq!(back.to_event()?.to_bytes()?, event.to_bytes()?);
            assert!(!json.contains("\"payload\":["), "payload as bytes: {json}");
        }
        Ok(())
    }

    #[test]
    fn a_misspelt_field_is_refused_not_ignored() {
        // Given a body whose payload names a field the catalogue does not have
        let json = r#"{"ledger_id":null,"event_id":"000102030405060708090a0b0c0d0e0f",
            "author":{"authority":"KZ-MVD","key":"00000000000000000000000000000000000000000000000000000000000000aa"},
            "authored_at":1,"case":null,"payload":{"CostRecorded":{"amount_minor":5,"currency":"KZT","curency":"x"}}}"#;
        // When it is read, then it is refused, naming the field
        let err = serde_json::from_str::<BodyJson>(json)
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("curency")),
            "{err:?}"
        );
    }

    #[test]
    fn prepare_gives_the_bytes_the_signature_covers() -> anyhow::Result<()> {
        for event in sample_events()? {
            let p = BodyJson::of(&event.body)?.prepare()?;
            let bytes = event.body.to_bytes()?;
            assert_eq!(p.body, hex(&bytes));
            assert_eq!(p.event_hash, event.body.event_hash()?);
            assert_eq!(
                p.signing_message,
                hex(&signing_message(event.body.ledger_id.as_ref(), &bytes))
            );
            // The signature over the prepared message is the event's.
            let key = event.body.author.key.checked()?;
            let msg = ::hex::decode(&p.signing_message)?;
            assert!(key.verify(&msg, &event.signature).is_ok());
        }
        Ok(())
    }
}
