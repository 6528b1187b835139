//! The JSON bodies of the HTTP API (docs/API.md). Byte values are lower-case hex (the
//! human-readable serde of coop-core); a record also travels as its canonical bytes in
//! base64, which is what a follower or auditor re-verifies.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use coop_core::{EventId, Hash, SealedRecord};
use coop_core::{Receipt, ReceiptV1};
use coop_wire::EventJson;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordJson {
    /// Its position.
    pub seq: u64,
    /// Merkle leaf hash.
    #[schemars(with = "coop_wire::schema::Hash")]
    pub leaf: Hash,
    /// Chain hash after it.
    #[schemars(with = "coop_wire::schema::Hash")]
    pub chain: Hash,
    /// The node's receive time (ms).
    pub received_at: u64,
    /// The event's id.
    #[schemars(with = "coop_wire::schema::EventId")]
    pub event_id: EventId,
    /// The event hash.
    #[schemars(with = "coop_wire::schema::Hash")]
    pub event_hash: Hash,
    /// Who signed it.
    pub signer: String,
    /// The payload kind, in words ("request", "information transferred"...).
    pub kind: String,
    /// The case, if any (hex).
    pub case: Option<String>,
    /// The canonical record bytes, base64: the only part a verifier trusts.
    pub bytes: String,
    /// The event, readable: its body with the payload as the catalogue's variant and
    /// fields, and its signature. Shown for reading; re-encode it (or use `bytes`) to
    /// verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventJson>,
}

impl RecordJson {
    /// The JSON form of a record.
    pub fn of(r: &SealedRecord) -> RecordJson {
        let body = &r.record.event.body;
        // The payload is decoded once, for the readable event and its kind.
        let event = EventJson::of(&r.record.event).ok();
        RecordJson {
            seq: r.record.seq,
            leaf: r.leaf,
            chain: r.chain,
            received_at: r.record.received_at.0,
            event_id: body.event_id,
            event_hash: body.event_hash().unwrap_or(Hash::ZERO),
            signer: body.author.authority.to_string(),
            kind: event.as_ref().map_or_else(
                || "undecodable".to_owned(),
                |e| e.body.payload.kind().to_owned(),
            ),
            case: body.case.map(|c| c.case_id.to_hex()),
            bytes: B64.encode(&r.bytes),
            event,
        }
    }

    /// The canonical bytes, decoded from base64 (still untrusted).
    pub fn record_bytes(&self) -> Result<Vec<u8>, String> {
        B64.decode(&self.bytes)
            .map_err(|_| format!("record {}: bytes are not base64", self.seq))
    }
}

/// A page of records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordsPage {
    /// Records in seq order.
    pub records: Vec<RecordJson>,
    /// The seq to ask for next, if the ledger has more.
    pub next: Option<u64>,
    /// The ledger's size when the page was read.
    pub size: u64,
}

/// A checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckpointJson {
    /// Its tree size.
    pub size: u64,
    /// The signed note, with its cosignatures.
    pub note: String,
}

/// An inclusion proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InclusionJson {
    /// The record.
    pub seq: u64,
    /// The tree size.
    pub size: u64,
    /// The record's leaf hash.
    #[schemars(with = "coop_wire::schema::Hash")]
    pub leaf: Hash,
    /// The proof, bottom up.
    #[schemars(with = "Vec<coop_wire::schema::Hash>")]
    pub proof: Vec<Hash>,
}

/// A consistency proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsistencyJson {
    /// The older size.
    pub from: u64,
    /// The newer size.
    pub to: u64,
    /// The proof.
    #[schemars(with = "Vec<coop_wire::schema::Hash>")]
    pub proof: Vec<Hash>,
}

/// A refusal or an error: what went wrong, and for a refusal under the Agreement, the
/// clause.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    /// A stable word: `refused`, `invalid`, `id_reused`, `unauthenticated`,
    /// `forbidden`, `not_found`, `bad_request`, `follower`, `unavailable`.
    pub error: String,
    /// For `refused`: the clause, e.g. `Art. 4.1(5)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clause: Option<String>,
    /// In words.
    pub message: String,
}

/// `/v1/info`: who this node is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InfoJson {
    /// The ledger id.
    #[schemars(with = "Option<coop_wire::schema::Hash>")]
    pub ledger_id: Option<Hash>,
    /// The checkpoint verifier key (C2SP vkey) the ledger names now: what signs its
    /// next checkpoints.
    pub node_vkey: String,
    /// The genesis's node key: what an auditor or a follower pins (later keys are learnt
    /// from the ledger's handovers). Empty from a node before format 2.1.
    #[serde(default)]
    pub genesis_node_vkey: String,
    /// Records.
    pub size: u64,
    /// `leader` (it sequences the ledger), `follower` (a witness's verified copy) or
    /// `copy` (a verified copy under another key, read-only).
    pub role: String,
    /// The genesis marks the ledger as a test ledger (its clock may have been moved).
    #[serde(default)]
    pub test_ledger: bool,
    /// The node's time now (ms since the epoch): its clock, moved on a test ledger.
    /// Authors of a test ledger's events write it as their `authored_at`.
    #[serde(default)]
    pub time_ms: u64,
}

/// `POST /v1/events:batch` as `application/json`: the events, in the order they are to
/// be judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchJson {
    /// Signed events (at most [`MAX_BATCH`]).
    pub events: Vec<EventJson>,
}

/// Most events one batch may carry.
pub const MAX_BATCH: usize = 1000;

/// One event's answer in a batch: the HTTP status it would have had alone, and its
/// receipt ([`ReceiptV1`] on `/v1/events:batch`, [`Receipt`] on `/v2/events:batch`) or
/// the error body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "BatchItem_{R}")]
pub struct BatchItem<R = ReceiptV1> {
    /// 200 (landed, or landed before: a receipt for its first record), or the status a
    /// lone submission would have got (400, 409, 422, 503).
    pub status: u16,
    /// The node's receipt, once the event is durable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<R>,
    /// Why nothing was written for this event (or, for `may_have_landed`, why it may
    /// have been).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// The answer to a batch: one item per event, in the batch's order. Answered once every
/// accepted event is durable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "BatchAnswer_{R}")]
pub struct BatchAnswer<R = ReceiptV1> {
    /// How many events have a receipt.
    pub landed: usize,
    /// How many do not.
    pub failed: usize,
    /// The answers, in order.
    pub results: Vec<BatchItem<R>>,
}

/// `POST /v2/events:batch`'s answer: receipts that prove inclusion.
pub type BatchAnswerV2 = BatchAnswer<Receipt>;

/// `GET /v1/cases`: the cases a reader may see that match the filter, as full case
/// projections (v1's shape; `/v2/cases` gives one page of typed rows).
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct CasesV1 {
    /// The ledger size the list describes (the as-of point, or the head).
    pub as_of_size: u64,
    /// Cases that match (all pages).
    pub total: usize,
    /// Cases skipped (`offset`).
    pub offset: usize,
    /// The offset of the next page, when `limit` cut the list.
    pub next_offset: Option<usize>,
    /// The cases, by case id.
    pub cases: Vec<coop_ledger::read::CaseDetail>,
}

/// `GET /v1/article7/report`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ReportJson<'a> {
    /// Article 7 held for every item.
    pub held: bool,
    /// The evidence chain per item, or the event that broke Article 7.
    #[schemars(with = "coop_wire::schema::ComplianceReport")]
    pub report: &'a coop_treaty::ComplianceReport,
}

/// `GET /v1/article7/register`: every information item (schema: `Vec<coop_wire::schema::Item>`).
pub type RegisterJson<'a> = Vec<&'a coop_treaty::Item>;

/// `GET /v1/authorities`: the registry by registered id (schema: a map of
/// `coop_wire::schema::Registered`).
pub type AuthoritiesJson =
    std::collections::BTreeMap<coop_core::AuthorityId, coop_treaty::Registered>;

/// `POST /v1/events/check`: what the Agreement's rules say of an unsigned draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckJson {
    /// No problem: the draft, signed, would be accepted now.
    pub ok: bool,
    /// The ledger size it was judged against (nothing was written).
    pub size: u64,
    /// Every problem found, the one an append would be refused with first.
    pub problems: Vec<ProblemJson>,
}

/// One problem of a draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProblemJson {
    /// The article and element (`Art. 4.1(5)`), in no particular language.
    pub clause: String,
    /// What is wrong and what to do, in the language asked for (`Accept-Language`).
    pub message: String,
}
