//! The projections: agreement status, authority registry, cases, the Article 7 register.
//! All of them are fields of one [`State`], rebuilt by folding records with
//! [`State::apply`]; nothing else ever changes a `State`.

use crate::model::{
    CrimeCategory, DocumentRef, Extent, Form, InfoKind, ItemId, Language, Params, Party, Purpose,
    SearchOutcome,
};
use crate::payload::Role;
use coop_core::{AuthorityId, CaseId, Hash, LedgerId, PublicKey, Timestamp};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A pointer to the record that proves something: where it is, what it hashes to, who
/// signed it with which key.
///
/// Who signed is held as a shared [`SignedBy`] (one pointer) rather than the id and key
/// themselves (56 bytes): the state holds an `Evidence` in every item, use and final
/// answer, and a ledger has a few dozen signers (issue 29: the copies were a tenth of
/// the verifier's peak). It is written as before — seq, event hash, signer, key, time —
/// so no encoding changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// Record seq.
    pub seq: u64,
    /// Event hash (`blake3(0x04 || body)`).
    pub event_hash: Hash,
    /// Who signed it, with which key.
    by: Arc<SignedBy>,
    /// Node time of the record.
    pub at: Timestamp,
}

/// A signer and the key it signed with.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SignedBy {
    /// The signer.
    pub signer: AuthorityId,
    /// Its key.
    pub key: PublicKey,
}

/// The signers of accepted records, each held once and shared by every `Evidence` of
/// theirs. Only a record the rules accepted adds one ([`Evidence::remember`]), so it
/// holds the registered signers' keys and no more than [`SIGNERS_HELD`] of them.
static SIGNERS: std::sync::LazyLock<std::sync::RwLock<SignerMap>> =
    std::sync::LazyLock::new(Default::default);

/// Most signers [`SIGNERS`] holds; beyond them an `Evidence` holds a copy of its own.
const SIGNERS_HELD: usize = 4096;

impl Evidence {
    /// The evidence of `record`, whose event hashes to `event_hash`.
    pub fn of(record: &coop_core::Record, event_hash: Hash) -> Evidence {
        let author = &record.event.body.author;
        Evidence::new(
            record.seq,
            event_hash,
            &author.authority,
            &author.key,
            record.received_at,
        )
    }

    /// Evidence of record `seq` signed by `signer` with `key`.
    pub fn new(
        seq: u64,
        event_hash: Hash,
        signer: &AuthorityId,
        key: &PublicKey,
        at: Timestamp,
    ) -> Evidence {
        let held = SIGNERS
            .read()
            .ok()
            .and_then(|m| m.get(&(signer.clone(), *key)).cloned());
        Evidence {
            seq,
            event_hash,
            by: held.unwrap_or_else(|| {
                Arc::new(SignedBy {
                    signer: signer.clone(),
                    key: *key,
                })
            }),
            at,
        }
    }

    /// The signer.
    pub fn signer(&self) -> &AuthorityId {
        &self.by.signer
    }

    /// The signer's key.
    pub fn key(&self) -> &PublicKey {
        &self.by.key
    }

    /// Keeps this evidence's signer for the evidence of later records (the rules call
    /// it for a record they accepted).
    pub(crate) fn remember(&self) {
        hold(&SIGNERS, &self.by, SIGNERS_HELD);
    }
}

/// Adds `by` to `signers` unless it is there or they hold `most` already.
fn hold(signers: &std::sync::RwLock<SignerMap>, by: &Arc<SignedBy>, most: usize) {
    let k = (by.signer.clone(), by.key);
    if signers.read().is_ok_and(|m| m.contains_key(&k)) {
        return;
    }
    if let Ok(mut m) = signers.write()
        && m.len() < most
    {
        m.entry(k).or_insert_with(|| Arc::clone(by));
    }
}

type SignerMap = std::collections::HashMap<(AuthorityId, PublicKey), Arc<SignedBy>>;

/// `Evidence` as it is written: its fields in order, the signer's spelled out.
#[derive(serde::Serialize)]
#[serde(rename = "Evidence")]
struct EvidenceOut<'a> {
    seq: u64,
    event_hash: &'a Hash,
    signer: &'a AuthorityId,
    key: &'a PublicKey,
    at: Timestamp,
}

/// `Evidence` as it is read.
#[derive(serde::Deserialize)]
#[serde(rename = "Evidence")]
struct EvidenceIn {
    seq: u64,
    event_hash: Hash,
    signer: AuthorityId,
    key: PublicKey,
    at: Timestamp,
}

impl serde::Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(
            &EvidenceOut {
                seq: self.seq,
                event_hash: &self.event_hash,
                signer: &self.by.signer,
                key: &self.by.key,
                at: self.at,
            },
            s,
        )
    }
}

impl<'de> serde::Deserialize<'de> for Evidence {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Evidence, D::Error> {
        let e = <EvidenceIn as serde::Deserialize>::deserialize(d)?;
        // A snapshot's evidence shares its signers as the fold's did (bounded as there).
        let ev = Evidence::new(e.seq, e.event_hash, &e.signer, &e.key, e.at);
        ev.remember();
        Ok(ev)
    }
}

/// One key of a registered party, valid for records `from_seq .. until_seq`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyGrant {
    /// The key.
    pub key: PublicKey,
    /// First record it may sign.
    pub from_seq: u64,
    /// First record it may no longer sign (changed, revoked, retired).
    pub until_seq: Option<u64>,
}

/// A registered party: root, competent authority, auditor or witness.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

impl Registered {
    /// Whether `key` may sign the record at `seq`.
    pub fn key_active_at(&self, key: &PublicKey, seq: u64) -> bool {
        self.retired_at.is_none_or(|r| seq < r)
            && self
                .keys
                .iter()
                .any(|g| g.key == *key && g.from_seq <= seq && g.until_seq.is_none_or(|u| seq < u))
    }

    /// The key active now (after the last record), if any.
    pub fn current_key(&self) -> Option<&PublicKey> {
        if self.retired_at.is_some() {
            return None;
        }
        self.keys
            .iter()
            .find(|g| g.until_seq.is_none())
            .map(|g| &g.key)
    }
}

/// A protocol (Art. 9).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

impl Protocol {
    /// When its parameters apply (Art. 9: "enter into force as in Article 10"): once
    /// accepted, from the later of both Parties' notices of completed internal procedures
    /// and the date the protocol asks for.
    pub fn in_force_from(&self) -> Option<Timestamp> {
        self.accepted.as_ref()?;
        let kz = self.procedures.get(&Party::Kz)?;
        let tm = self.procedures.get(&Party::Tm)?;
        Some(kz.at.max(tm.at).max(self.effective_from))
    }
}

/// Art. 10 termination.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Termination {
    /// The Party that gave notice.
    pub by: Party,
    /// Notice received (record time).
    pub received_at: Timestamp,
    /// Effective: received + the parameter's months.
    pub effective_at: Timestamp,
}

/// The agreement-status projection.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

impl Agreement {
    /// Entry into force: when the last of the two notifications was received.
    pub fn in_force_from(&self) -> Option<Timestamp> {
        match (
            self.procedures.get(&Party::Kz),
            self.procedures.get(&Party::Tm),
        ) {
            (Some(a), Some(b)) => Some(a.at.max(b.at)),
            _ => None,
        }
    }

    /// The node keys that may sign a checkpoint of `size` records.
    pub fn node_keys_at(&self, size: u64) -> Vec<PublicKey> {
        self.node_keys
            .iter()
            .filter(|k| k.from_size <= size && k.until_size.is_none_or(|u| size < u))
            .map(|k| k.key)
            .collect()
    }

    /// Whether the Agreement is in force at `t`.
    pub fn in_force_at(&self, t: Timestamp) -> bool {
        self.in_force_from().is_some_and(|f| f <= t)
            && self.termination.as_ref().is_none_or(|x| t < x.effective_at)
    }

    /// Parameters that apply at `t`: the genesis's, replaced by each protocol in force
    /// by then, in order of entry into force.
    pub fn params_at(&self, t: Timestamp) -> Params {
        let mut in_force: Vec<(Timestamp, u32, &Params)> = self
            .protocols
            .iter()
            .filter_map(|(id, p)| {
                p.in_force_from()
                    .filter(|f| *f <= t)
                    .map(|f| (f, *id, &p.params))
            })
            .collect();
        in_force.sort_by_key(|(f, id, _)| (*f, *id));
        in_force
            .last()
            .map_or_else(|| self.genesis_params.clone(), |(_, _, p)| (*p).clone())
    }
}

/// Status of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

impl CaseStatus {
    /// One word for filters and APIs: `open`, `acknowledged`, `partly-refused`,
    /// `refused`, `executed`, `closed`.
    pub fn word(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Acknowledged => "acknowledged",
            CaseStatus::PartlyRefused => "partly-refused",
            CaseStatus::Refused => "refused",
            CaseStatus::Executed(_) => "executed",
            CaseStatus::Closed => "closed",
        }
    }
}

/// What a deadline is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DeadlineKind {
    /// Art. 4.1: written confirmation of an oral request.
    OralConfirmation,
    /// Art. 4.3: additional information.
    AdditionalInfo,
    /// Art. 4.6: notice of reasons for refusal or partial execution.
    ReasonsNotice,
}

impl DeadlineKind {
    /// Clause and words.
    pub fn describe(self) -> &'static str {
        match self {
            DeadlineKind::OralConfirmation => "Art. 4.1 written confirmation of the oral request",
            DeadlineKind::AdditionalInfo => "Art. 4.3 additional information",
            DeadlineKind::ReasonsNotice => "Art. 4.6 notice of reasons",
        }
    }
}

/// A deadline in a case.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

impl Deadline {
    /// Overdue at `now`: unmet and past due, or met late.
    pub fn overdue_at(&self, now: Timestamp) -> bool {
        match self.met_at {
            Some(m) => m > self.due,
            None => now > self.due,
        }
    }
}

/// One event of a case as the state keeps it: where it is, the event hash that later
/// events answer and cite, its time and its kind. Who signed it and which documents it
/// carried stay in the record; views read them from there ([`TimelineEntry`]), so the
/// state holds no second copy of them (ADR 0020).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Step {
    /// Record seq.
    pub seq: u64,
    /// Event hash (`blake3(0x04 || body)`).
    pub event_hash: Hash,
    /// Node time of the record.
    pub at: Timestamp,
    /// Event kind (one byte: a case keeps a step per event).
    pub kind: StepKind,
}

/// An event's kind as its place in [`Payload::KINDS`](crate::Payload::KINDS): one byte
/// where a `&'static str` took sixteen (issue 29: the steps were a quarter of the
/// verifier's peak). Written as the kind's name, as the `&'static str` was, so no
/// encoding changed.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StepKind(u8);

impl StepKind {
    /// The kind of `payload`.
    pub fn of(payload: &crate::Payload) -> StepKind {
        // 38 kinds: a byte holds them (a test holds the catalogue to 256).
        StepKind(u8::try_from(payload.variant()).unwrap_or(u8::MAX))
    }

    /// The kind named `name`, if it is one.
    pub fn named(name: &str) -> Option<StepKind> {
        crate::Payload::KINDS
            .iter()
            .position(|k| *k == name)
            .and_then(|i| u8::try_from(i).ok())
            .map(StepKind)
    }

    /// Its name: one of [`Payload::KINDS`](crate::Payload::KINDS).
    pub fn name(self) -> &'static str {
        crate::Payload::KINDS
            .get(usize::from(self.0))
            .copied()
            .unwrap_or("?")
    }
}

impl std::fmt::Debug for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.name(), f)
    }
}

impl std::fmt::Display for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq<&str> for StepKind {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

impl serde::Serialize for StepKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for StepKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StepKind, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        StepKind::named(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown event kind {s:?}")))
    }
}

/// One line of a case's timeline as views show it: the step with its signer and key,
/// read from the record ([`TimelineEntry::of`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TimelineEntry {
    /// The evidence.
    pub evidence: Evidence,
    /// Event kind.
    #[serde(deserialize_with = "static_kind")]
    pub kind: EventKind,
}

/// A cost entry (Art. 5).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CostArrangement {
    /// Proposal.
    pub proposal: Evidence,
    /// Proposing Party.
    pub proposer: Party,
    /// Acceptance by the other Party.
    pub accepted: Option<Evidence>,
}

/// A dispute (Art. 8).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dispute {
    /// Raised by.
    pub raised: Evidence,
    /// Consultations held.
    pub consultations: Vec<Evidence>,
    /// Settled by.
    pub settled: Option<Evidence>,
}

/// The case projection.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

impl Case {
    /// Deadlines overdue at `now`.
    pub fn overdue_at(&self, now: Timestamp) -> Vec<&Deadline> {
        self.deadlines
            .iter()
            .filter(|d| d.overdue_at(now))
            .collect()
    }

    /// The Party of the requested authority.
    pub fn requested_party(&self) -> Party {
        self.requester_party.other()
    }

    /// Whether each Party bears its own costs (no accepted arrangement).
    pub fn default_costs(&self) -> bool {
        self.cost_arrangement
            .as_ref()
            .is_none_or(|a| a.accepted.is_none())
    }
}

/// Why a use of information was allowed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UseBasis {
    /// The purpose was among those of the transfer (the request's).
    Permitted,
    /// The purpose was covered by this consent of the providing Party.
    // Boxed: most uses are permitted, and the box keeps each `Use` 96 bytes smaller (the
    // encoding and the JSON are the same: serde writes a box as what it holds).
    Consent(Box<Evidence>),
}

/// Appends `x` to one of the state's lists, growing a short list one place at a time.
///
/// Most of these lists hold a few entries for good (an item's uses, a case's deadlines
/// and its half-dozen steps), and `Vec`'s first growth reserves four places, its next
/// ones double: at 10^6 records the unused places were a third of the verifier's peak
/// (ADR 0020, "Lists at their length"). Past eight entries the usual doubling keeps
/// appends amortised O(1), so a list an attacker makes long costs no more than before.
pub(crate) fn push_tight<T>(list: &mut Vec<T>, x: T) {
    if list.len() == list.capacity() && list.len() < 8 {
        list.reserve_exact(1);
    }
    list.push(x);
}

/// A use (Art. 7.2).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Use {
    /// Purpose.
    pub purpose: Purpose,
    /// Record.
    pub evidence: Evidence,
    /// Basis.
    pub basis: UseBasis,
}

/// A consent decision (Art. 7.2).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Onward {
    /// Third party.
    pub third_party: String,
    /// Record.
    pub evidence: Evidence,
    /// The consent it relied on.
    pub consent: Evidence,
}

/// One item of the Article 7 register.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Governance {
    /// The head after the last governance record (32 zero bytes before the genesis).
    pub head: Hash,
    /// Seqs of the governance records, in order.
    pub seqs: Vec<u64>,
}

/// A recorded Art. 1.2 agreement on another crime.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// Everything the rules know, as of some record.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct State {
    /// Records folded so far (= the next seq).
    pub size: u64,
    /// Ledger id (from the genesis).
    pub ledger_id: Option<LedgerId>,
    /// Node time of the last record folded.
    pub last_time: Timestamp,
    /// Whether the genesis marks this ledger as a test ledger (its node's clock may be
    /// moved; every view says so).
    pub test_ledger: bool,
    /// The governance chain.
    pub governance: Governance,
    /// Agreement status.
    pub agreement: Agreement,
    /// Authority registry.
    pub registry: Map<AuthorityId, Registered>,
    /// Cases, shared (`Arc`): a clone of the state shares them, and a case is copied only
    /// when a later record changes it (ADR 0021).
    pub cases: Cases,
    /// Article 7 register, by case and item (an item id is unique within its case).
    /// (Shared, as the cases are.)
    #[serde(serialize_with = "values", deserialize_with = "register_of")]
    pub register: Register,
    /// Art. 1.2 agreements by event hash.
    pub category_agreements: Map<Hash, CategoryAgreement>,
    /// Art. 4.2 language arrangements by proposal event hash.
    pub language_arrangements: Map<Hash, LanguageArrangement>,
    /// Art. 4.2: acceptance event hash → proposal event hash (what requests cite).
    pub language_acceptances: Map<Hash, Hash>,
    /// Art. 7.2 consent grants by event hash.
    pub consents: Map<Hash, Consent>,
    /// Art. 2.3–2.6 cooperation outside requests: form, partner authority, record.
    pub other_cooperation: imbl::Vector<(Form, AuthorityId, Evidence)>,
}

/// The state's maps: persistent B+trees (`imbl`). Cloning one is O(1) and the clone
/// shares every node until one of the two changes it, which copies only the path to the
/// change (ADR 0021). They encode as a `BTreeMap` does: a map, in key order.
pub type Map<K, V> = imbl::OrdMap<K, V>;

/// The cases by id, each shared (ADR 0021).
pub type Cases = Map<CaseId, Arc<Case>>;

/// The Article 7 register: items by case and item id, each shared (ADR 0021).
pub type Register = Map<(CaseId, ItemId), Arc<Item>>;

/// An event's kind: one of [`Payload::KINDS`](crate::Payload::KINDS). (An alias, so that
/// serde's derive does not take the field for a borrowed `&str`: it is read back through
/// `static_kind`.)
pub type EventKind = &'static str;

/// A payload kind read back as the catalogue's own `&'static str` ([`Payload::KINDS`]).
fn static_kind<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
    crate::Payload::kind_named(&s)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown event kind {s:?}")))
}

/// The register read back from the list of its items, keyed by their case and id.
fn register_of<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Register, D::Error> {
    let items = <Vec<Arc<Item>> as serde::Deserialize>::deserialize(d)?;
    Ok(items.into_iter().map(|i| ((i.case, i.id), i)).collect())
}

/// A map written as the list of its values (JSON map keys must be strings).
fn values<K: Ord + Clone, V: serde::Serialize + Clone, S: serde::Serializer>(
    m: &Map<K, V>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(m.values())
}

impl State {
    /// The registered party `id`.
    pub fn authority(&self, id: &AuthorityId) -> Option<&Registered> {
        self.registry.get(id)
    }

    /// The accepted language arrangement whose acceptance has event hash `acceptance`.
    pub fn language_arrangement(&self, acceptance: &Hash) -> Option<&LanguageArrangement> {
        self.language_acceptances
            .get(acceptance)
            .and_then(|p| self.language_arrangements.get(p))
            .filter(|l| l.accepted.is_some())
    }

    /// Item `item` of case `case` in the Article 7 register.
    pub fn item(&self, case: &CaseId, item: &ItemId) -> Option<&Item> {
        self.register.get(&(*case, *item)).map(|i| &**i)
    }

    /// The seq of a record outside any case that an event may cite by event hash (an
    /// Art. 1.2 agreement, a language arrangement's proposal or acceptance). Bundle
    /// assembly follows citations with it (docs/FORMAT.md §14).
    pub fn cited_seq(&self, hash: &Hash) -> Option<u64> {
        if let Some(a) = self.category_agreements.get(hash) {
            return Some(a.evidence.seq);
        }
        if let Some(l) = self.language_arrangements.get(hash) {
            return Some(l.proposal.seq);
        }
        self.language_acceptances
            .get(hash)
            .and_then(|p| self.language_arrangements.get(p))
            .and_then(|l| l.accepted.as_ref())
            .map(|e| e.seq)
    }

    /// Parameters that apply to the next record, at `t`.
    pub fn params_at(&self, t: Timestamp) -> Params {
        self.agreement.params_at(t)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_step_kind_is_one_byte_and_reads_back_as_the_kind_it_names() {
        assert!(crate::Payload::KINDS.len() <= usize::from(u8::MAX));
        for (i, name) in crate::Payload::KINDS.iter().enumerate() {
            let k = StepKind::named(name).unwrap();
            assert_eq!(usize::from(k.0), i);
            assert_eq!(k.name(), *name);
            // Written as the name, as the `&'static str` was.
            let bytes = bincode::serde::encode_to_vec(k, bincode::config::standard()).unwrap();
            let str_bytes =
                bincode::serde::encode_to_vec(*name, bincode::config::standard()).unwrap();
            assert_eq!(bytes, str_bytes);
        }
        assert_eq!(StepKind::named("no such kind"), None);
        assert_eq!(std::mem::size_of::<Step>(), 56);
    }

    /// Evidence as it was written before its signer was shared.
    #[derive(serde::Serialize)]
    struct Before {
        seq: u64,
        event_hash: Hash,
        signer: AuthorityId,
        key: PublicKey,
        at: Timestamp,
    }

    #[test]
    fn evidence_is_written_as_before_and_shares_an_accepted_signer() {
        let signer = AuthorityId::new("KZ-MVD").unwrap();
        let key = coop_core::SecretKey::from_seed(&[7; 32]).public();
        let e = Evidence::new(9, Hash([3; 32]), &signer, &key, Timestamp(11));
        let before = Before {
            seq: 9,
            event_hash: Hash([3; 32]),
            signer: signer.clone(),
            key,
            at: Timestamp(11),
        };
        let cfg = bincode::config::standard();
        assert_eq!(
            bincode::serde::encode_to_vec(&e, cfg).unwrap(),
            bincode::serde::encode_to_vec(&before, cfg).unwrap()
        );
        let (back, _): (Evidence, usize) = bincode::serde::decode_from_slice(
            &bincode::serde::encode_to_vec(&e, cfg).unwrap(),
            cfg,
        )
        .unwrap();
        assert_eq!(back, e);
        assert_eq!((back.signer(), back.key()), (&signer, &key));
        // Once remembered (an accepted record), later evidence of the signer shares it.
        e.remember();
        let later = Evidence::new(10, Hash([4; 32]), &signer, &key, Timestamp(12));
        let again = Evidence::new(11, Hash([5; 32]), &signer, &key, Timestamp(13));
        assert!(Arc::ptr_eq(&later.by, &again.by));
        assert_eq!(std::mem::size_of::<Evidence>(), 56);
    }

    #[test]
    fn the_shared_signers_are_bounded() {
        let m = std::sync::RwLock::new(SignerMap::new());
        for i in 0..20u8 {
            let by = Arc::new(SignedBy {
                signer: AuthorityId::new("X").unwrap(),
                key: coop_core::SecretKey::from_seed(&[i; 32]).public(),
            });
            hold(&m, &by, 16);
            hold(&m, &by, 16);
        }
        assert_eq!(m.read().unwrap().len(), 16);
    }
}
