//! Mirrors of coop-treaty's state.rs (the projections: the case, the Article 7 register, the registry), for their schemas only.

use super::*;

use std::collections::BTreeMap;

/// An event kind: the payload variant's name.
type EventKind = &'static str;

/// A pointer to the record that proves something: where it is, what it hashes to, who
/// signed it with which key.
#[derive(JsonSchema, serde::Serialize)]
pub struct Evidence {
    /// Record seq.
    pub seq: u64,
    /// Event hash (`blake3(0x04 || body)`).
    pub event_hash: Hash,
    /// Signer.
    pub signer: AuthorityId,
    /// Signer's key.
    pub key: PublicKey,
    /// Node time of the record.
    pub at: Timestamp,
}

/// One key of a registered party, valid for records `from_seq .. until_seq`.
#[derive(JsonSchema, serde::Serialize)]
pub struct KeyGrant {
    /// The key.
    pub key: PublicKey,
    /// First record it may sign.
    pub from_seq: u64,
    /// First record it may no longer sign (changed, revoked, retired).
    pub until_seq: Option<u64>,
}

/// A registered party: root, competent authority, auditor or witness.
#[derive(JsonSchema, serde::Serialize)]
pub struct Registered {
    /// Its id.
    pub id: AuthorityId,
    /// Its Party.
    pub party: Party,
    /// Its role.
    pub role: Role,
    /// Its name in words.
    pub name: String,
    /// Its keys over time.
    pub keys: Vec<KeyGrant>,
    /// Record that retired it.
    pub retired_at: Option<u64>,
}

/// A protocol (Art. 9).
#[derive(JsonSchema, serde::Serialize)]
pub struct Protocol {
    /// Who proposed it.
    pub proposer: Party,
    /// Its parameters.
    pub params: Params,
    /// Requested entry into force.
    pub effective_from: Timestamp,
    /// Proposal record.
    pub proposed: Evidence,
    /// Acceptance record.
    pub accepted: Option<Evidence>,
    /// Each Party's notice that it completed its internal procedures for the protocol
    /// (Art. 9 → Art. 10).
    pub procedures: BTreeMap<Party, Evidence>,
}

/// Art. 10 termination.
#[derive(JsonSchema, serde::Serialize)]
pub struct Termination {
    /// The Party that gave notice.
    pub by: Party,
    /// Notice received (record time).
    pub received_at: Timestamp,
    /// Effective: received + the parameter's months.
    pub effective_at: Timestamp,
}

/// The agreement-status projection.
#[derive(JsonSchema, serde::Serialize)]
pub struct Agreement {
    /// Genesis record.
    pub genesis: Option<Evidence>,
    /// Party whose root signed the genesis.
    pub proposer: Option<Party>,
    /// Acceptance record.
    pub accepted: Option<Evidence>,
    /// Texts (digests) committed to by the genesis.
    pub texts: Vec<DocumentRef>,
    /// Parameters from the genesis.
    pub genesis_params: Params,
    /// Art. 10 notifications of completed internal procedures.
    pub procedures: BTreeMap<Party, Evidence>,
    /// Termination, once notified.
    pub termination: Option<Termination>,
    /// Protocols by id.
    pub protocols: BTreeMap<u32, Protocol>,
    /// The node keys that sign the ledger's checkpoints, in order (the genesis's first,
    /// then each handover's).
    pub node_keys: Vec<NodeKey>,
    /// Node handovers by id: a new node key proposed by one Party's root and accepted by
    /// the other's.
    pub handovers: BTreeMap<u32, Handover>,
}

/// A key that signs the ledger's checkpoints (named by the genesis or a handover).
#[derive(JsonSchema, serde::Serialize)]
pub struct NodeKey {
    /// The key.
    pub key: PublicKey,
    /// The smallest checkpoint size it may sign.
    pub from_size: u64,
    /// The first checkpoint size it may no longer sign (a handover that retired it).
    pub until_size: Option<u64>,
}

/// A node handover: the ledger continues under a new node key (its old node lost or
/// replaced), agreed by both Parties' roots.
#[derive(JsonSchema, serde::Serialize)]
pub struct Handover {
    /// Who proposed it.
    pub proposer: Party,
    /// The new node key.
    pub key: PublicKey,
    /// From which checkpoint size the node keys before it may no longer sign.
    pub retire_old_from: Option<u64>,
    /// Proposal record.
    pub proposed: Evidence,
    /// Acceptance record.
    pub accepted: Option<Evidence>,
}

/// Status of a case.
#[derive(JsonSchema, serde::Serialize)]
pub enum CaseStatus {
    /// Request received, no answer yet.
    Open,
    /// Acknowledged by the requested authority.
    Acknowledged,
    /// Refused in part; execution of the rest pending.
    PartlyRefused,
    /// Refused in full.
    Refused,
    /// Executed (full or partial).
    Executed(Extent),
    /// Closed.
    Closed,
}

/// What a deadline is for.
#[derive(JsonSchema, serde::Serialize)]
pub enum DeadlineKind {
    /// Art. 4.1: written confirmation of an oral request.
    OralConfirmation,
    /// Art. 4.3: additional information.
    AdditionalInfo,
    /// Art. 4.6: notice of reasons for refusal or partial execution.
    ReasonsNotice,
}

/// A deadline in a case.
#[derive(JsonSchema, serde::Serialize)]
pub struct Deadline {
    /// What for.
    pub kind: DeadlineKind,
    /// Opened by this record.
    pub opened_seq: u64,
    /// Due.
    pub due: Timestamp,
    /// Met by a record at this time.
    pub met_at: Option<Timestamp>,
}

/// One event of a case as the state keeps it: where it is, the event hash that later
/// events answer and cite, its time and its kind. Who signed it and which documents it
/// carried stay in the record; views read them from there ([`TimelineEntry`]), so the
/// state holds no second copy of them (ADR 0020).
#[derive(JsonSchema, serde::Serialize)]
pub struct Step {
    /// Record seq.
    pub seq: u64,
    /// Event hash (`blake3(0x04 || body)`).
    pub event_hash: Hash,
    /// Node time of the record.
    pub at: Timestamp,
    /// Event kind.
    #[serde(deserialize_with = "static_kind")]
    pub kind: EventKind,
}

/// One line of a case's timeline as views show it: the step with its signer and key,
/// read from the record ([`TimelineEntry::of`]).
#[derive(JsonSchema, serde::Serialize)]
pub struct TimelineEntry {
    /// The evidence.
    pub evidence: Evidence,
    /// Event kind.
    #[serde(deserialize_with = "static_kind")]
    pub kind: EventKind,
}

/// A cost entry (Art. 5).
#[derive(JsonSchema, serde::Serialize)]
pub struct Cost {
    /// Party that bore it.
    pub party: Party,
    /// Amount in minor units.
    pub amount_minor: u64,
    /// Currency.
    pub currency: String,
    /// Record.
    pub seq: u64,
}

/// A case-level cost arrangement (Art. 5).
#[derive(JsonSchema, serde::Serialize)]
pub struct CostArrangement {
    /// Proposal.
    pub proposal: Evidence,
    /// Proposing Party.
    pub proposer: Party,
    /// Acceptance by the other Party.
    pub accepted: Option<Evidence>,
}

/// A dispute (Art. 8).
#[derive(JsonSchema, serde::Serialize)]
pub struct Dispute {
    /// Raised by.
    pub raised: Evidence,
    /// Consultations held.
    pub consultations: Vec<Evidence>,
    /// Settled by.
    pub settled: Option<Evidence>,
}

/// The case projection.
#[derive(JsonSchema, serde::Serialize)]
pub struct Case {
    /// Case id.
    pub id: CaseId,
    /// Requesting authority.
    pub requester: AuthorityId,
    /// Requesting Party.
    pub requester_party: Party,
    /// Requested authority.
    pub requested: AuthorityId,
    /// Art. 1 category.
    pub category: CrimeCategory,
    /// Art. 2 form.
    pub form: Form,
    /// Art. 1.3 wanted-person search.
    pub wanted_person_search: bool,
    /// Purposes stated in the request.
    pub purposes: Vec<Purpose>,
    /// Urgent.
    pub urgent: bool,
    /// The language arrangement the request cited (event hash of its acceptance), by
    /// which the case's documents are judged (Art. 4.2).
    pub language_arrangement: Option<Hash>,
    /// Made orally first.
    pub oral: bool,
    /// Oral request confirmed in writing.
    pub confirmed: bool,
    /// Status.
    pub status: CaseStatus,
    /// Number of events in the case (the version the next event must expect).
    pub version: u64,
    /// Request time (record time).
    pub opened_at: Timestamp,
    /// Every event of the case, in order. (The documents the events carried, and who
    /// signed them, are read from the records: `coop_ledger::read::CaseDetail`.)
    pub steps: Vec<Step>,
    /// Deadlines.
    pub deadlines: Vec<Deadline>,
    /// Costs.
    pub costs: Vec<Cost>,
    /// Cost arrangement, if any (boxed: most cases have none, and a case's size is
    /// paid by every case).
    pub cost_arrangement: Option<Box<CostArrangement>>,
    /// Disputes by number.
    pub disputes: BTreeMap<u32, Dispute>,
    /// Art. 1.3 outcome.
    pub search_outcome: Option<SearchOutcome>,
    /// Refusal in part already given.
    pub partly_refused: bool,
    /// The final answer (full refusal or execution report).
    pub final_answer: Option<Evidence>,
}

/// Why a use of information was allowed.
#[derive(JsonSchema, serde::Serialize)]
pub enum UseBasis {
    /// The purpose was among those of the transfer (the request's).
    Permitted,
    /// The purpose was covered by this consent of the providing Party.
    // Boxed: most uses are permitted, and the box keeps each `Use` 96 bytes smaller (the
    // encoding and the JSON are the same: serde writes a box as what it holds).
    Consent(Box<Evidence>),
}

/// A use (Art. 7.2).
#[derive(JsonSchema, serde::Serialize)]
pub struct Use {
    /// Purpose.
    pub purpose: Purpose,
    /// Record.
    pub evidence: Evidence,
    /// Basis.
    pub basis: UseBasis,
}

/// A consent decision (Art. 7.2).
#[derive(JsonSchema, serde::Serialize)]
pub struct ConsentDecision {
    /// Granted or denied.
    pub granted: bool,
    /// Third party concerned.
    pub third_party: Option<String>,
    /// Purposes allowed.
    pub purposes: Vec<Purpose>,
    /// Record.
    pub evidence: Evidence,
}

/// An onward transfer (Art. 7.2).
#[derive(JsonSchema, serde::Serialize)]
pub struct Onward {
    /// Third party.
    pub third_party: String,
    /// Record.
    pub evidence: Evidence,
    /// The consent it relied on.
    pub consent: Evidence,
}

/// One item of the Article 7 register.
#[derive(JsonSchema, serde::Serialize)]
pub struct Item {
    /// Item id.
    pub id: ItemId,
    /// Case.
    pub case: CaseId,
    /// Providing authority.
    pub provider: AuthorityId,
    /// Providing Party.
    pub provider_party: Party,
    /// Receiving authority.
    pub recipient: AuthorityId,
    /// Art. 2.2 kind.
    pub kind: InfoKind,
    /// Art. 7.1 restricted access.
    pub restricted: bool,
    /// Permitted purposes.
    pub permitted: Vec<Purpose>,
    /// The record that provided it.
    pub transfer: Evidence,
    /// The kind of that record ("information transferred", "additional information
    /// provided", "execution reported").
    #[serde(deserialize_with = "static_kind")]
    pub carried_by: EventKind,
    /// Uses.
    pub uses: Vec<Use>,
    /// Consents asked (records).
    pub consent_requests: Vec<Evidence>,
    /// Consent decisions.
    pub consents: Vec<ConsentDecision>,
    /// Onward transfers.
    pub onward: Vec<Onward>,
}

/// A language arrangement between two authorities (Art. 4.2).
#[derive(JsonSchema, serde::Serialize)]
pub struct LanguageArrangement {
    /// Proposer.
    pub proposer: AuthorityId,
    /// The other authority.
    pub with: AuthorityId,
    /// Languages.
    pub languages: Vec<Language>,
    /// Proposal.
    pub proposal: Evidence,
    /// Acceptance.
    pub accepted: Option<Evidence>,
}

/// A consent of the providing Party (Art. 7.2), by the event hash that onward transfers
/// cite.
#[derive(JsonSchema, serde::Serialize)]
pub struct Consent {
    /// The case of the item.
    pub case: CaseId,
    /// The item.
    pub item: ItemId,
    /// The third party it may be passed to, if any.
    pub third_party: Option<String>,
    /// Further purposes allowed.
    pub purposes: Vec<Purpose>,
    /// The consent's record.
    pub evidence: Evidence,
}

/// The governance chain (docs/FORMAT.md §6): every record states the head before it, so
/// a copy that leaves out a governance record is caught at the next record it keeps.
#[derive(JsonSchema, serde::Serialize)]
pub struct Governance {
    /// The head after the last governance record (32 zero bytes before the genesis).
    pub head: Hash,
    /// Seqs of the governance records, in order.
    pub seqs: Vec<u64>,
}

/// A recorded Art. 1.2 agreement on another crime.
#[derive(JsonSchema, serde::Serialize)]
pub struct CategoryAgreement {
    /// The agreeing authority.
    pub by: AuthorityId,
    /// Its Party.
    pub party: Party,
    /// The authority it agreed with.
    pub with: AuthorityId,
    /// The crime.
    pub description: String,
    /// Its record.
    pub evidence: Evidence,
}
