//! Mirrors of coop-core's JSON values, for their schemas only (see the module above).

use super::*;

/// Identity of a ledger: `blake3(0x03 || genesis body bytes)`. Every non-genesis event
/// carries it inside its signed body, so an event signed for one ledger can never be
/// replayed into another.
#[derive(JsonSchema, serde::Serialize)]
pub struct LedgerId(pub Hash);

/// Milliseconds since 1970-01-01T00:00:00Z (UTC, leap seconds ignored). Supplied by the
/// caller: core never reads a clock.
/// In JSON: a number of milliseconds.
#[derive(JsonSchema, serde::Serialize)]
pub struct Timestamp(pub u64);

/// Who wrote an event: the registered party and the key it signed with. The key is part
/// of the signed body, so a signature can never be re-attributed to another key.
#[derive(JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Author {
    /// Registered id of the authority, root, auditor or witness.
    pub authority: AuthorityId,
    /// The key that signs this event.
    pub key: PublicKey,
}

/// The case an event belongs to, and the case version the author saw (optimistic
/// concurrency: the ledger refuses the event if the case has moved on).
#[derive(JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRef {
    /// The case.
    pub case_id: CaseId,
    /// Number of events in the case the author expects before this one.
    pub expected_version: u64,
}

/// Where an event landed, and the proof that it is in the ledger the node signed.
#[derive(JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Always [`RECEIPT_FORMAT`]: a receipt of another format is refused, not misread.
    pub format: String,
    /// The ledger.
    pub ledger_id: LedgerId,
    /// The record's seq.
    pub seq: u64,
    /// The event's id.
    pub event_id: EventId,
    /// The event hash (`blake3(0x04 || body)`).
    pub event_hash: Hash,
    /// The record's `prev_chain` (FORMAT.md §6).
    pub prev_chain: Hash,
    /// The record's `received_at`.
    pub received_at: Timestamp,
    /// The record's `governance` head.
    pub governance: Hash,
    /// The record's Merkle leaf hash (`blake3(0x00 || record bytes)`).
    pub leaf: Hash,
    /// The chain hash after the record (`blake3(0x02 || prev_chain || leaf)`).
    pub chain: Hash,
    /// A checkpoint (signed note, FORMAT.md §8) the node signed after the record was
    /// durable; its tree includes the record.
    pub checkpoint: String,
    /// The record's inclusion proof in the checkpoint's tree (RFC 9162 §2.1.3, leaf end
    /// first).
    pub proof: Vec<Hash>,
}

/// Receipt v1 (FORMAT.md §12): the node's Ed25519 signature over where an event landed.
/// Still what `POST /v1/events` and `POST /v1/events:batch` answer, since a v1 client
/// reads exactly these fields (API.md, "Views and versions"); `/v2` answers [`Receipt`].
#[derive(JsonSchema, serde::Serialize)]
pub struct ReceiptV1 {
    /// The ledger.
    pub ledger_id: LedgerId,
    /// The record's seq.
    pub seq: u64,
    /// The event's id.
    pub event_id: EventId,
    /// The event hash (`blake3(0x04 || body)`).
    pub event_hash: Hash,
    /// The record's Merkle leaf hash.
    pub leaf: Hash,
    /// The chain hash after the record.
    pub chain: Hash,
    /// Node signature over [`ReceiptV1::signing_message`].
    pub signature: Signature,
}
