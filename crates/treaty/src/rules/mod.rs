//! The rules: [`State::step`] decides whether a record may be appended (`check`) and, if
//! so, folds it into the state (`fold`). Both are pure. `check` judges who signed (Art. 3,
//! at the record's position), the Agreement's force (Art. 10), then the payload's own
//! clause; a refused record leaves the state as it was.

mod art7;
mod cases;
mod governance;
mod languages;
mod reads;
mod request;

pub use cases::case_documents;
pub use languages::of as documents_of;
pub use reads::{Reads, bundle_seqs, is_case_event, reads};

use crate::payload::{Payload, Role};
use crate::state::{Evidence, Registered, State, Step, TimelineEntry};
use crate::violation::Violation;
use coop_core::{Record, Timestamp};

/// A record, decoded once for the rules.
pub(crate) struct Ctx<'r> {
    pub record: &'r Record,
    pub payload: &'r Payload,
    pub evidence: Evidence,
}

/// What the rules need from an event that does not depend on where it lands: its decoded
/// payload and its event hash. Computing it is pure and independent of the state, so an
/// engine can do it on many threads before the sequential part.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The treaty payload.
    pub payload: Payload,
    /// The event hash.
    pub event_hash: coop_core::Hash,
}

impl Decoded {
    /// Decodes the payload (strictly) and hashes the body.
    pub fn of(event: &coop_core::SignedEvent) -> Result<Decoded, Violation> {
        let payload = Payload::from_bytes(&event.body.payload)
            .map_err(|e| Violation::MalformedPayload(undecodable(&e)))?;
        let event_hash = event.body.event_hash().map_err(|e| {
            Violation::MalformedPayload(crate::Detail::new(
                "unencodable",
                e.to_string(),
                Vec::new(),
            ))
        })?;
        Ok(Decoded {
            payload,
            event_hash,
        })
    }
}

impl Decoded {
    /// [`Decoded::of`] given the body's canonical bytes, which the caller already holds
    /// (`SealedRecord::body_bytes`): the event hash is taken over them instead of a
    /// fresh encoding.
    pub fn of_body_bytes(
        event: &coop_core::SignedEvent,
        body_bytes: &[u8],
    ) -> Result<Decoded, Violation> {
        let payload = Payload::from_bytes(&event.body.payload)
            .map_err(|e| Violation::MalformedPayload(undecodable(&e)))?;
        Ok(Decoded {
            payload,
            event_hash: coop_core::Hash::tagged(coop_core::hash::tag::EVENT, &[body_bytes]),
        })
    }
}

impl TimelineEntry {
    /// A case event's line of the timeline, from its record: what views show of a
    /// [`Step`] (the state keeps no copy of the signer or key).
    pub fn of(record: &Record, decoded: &Decoded) -> TimelineEntry {
        TimelineEntry {
            evidence: Evidence::of(record, decoded.event_hash),
            kind: decoded.payload.kind(),
        }
    }
}

impl<'r> Ctx<'r> {
    pub(crate) fn with(record: &'r Record, decoded: &'r Decoded) -> Ctx<'r> {
        Ctx {
            record,
            payload: &decoded.payload,
            evidence: Evidence::of(record, decoded.event_hash),
        }
    }

    /// The case step this record is.
    pub(crate) fn step(&self) -> Step {
        Step {
            seq: self.record.seq,
            event_hash: self.evidence.event_hash,
            at: self.record.received_at,
            kind: crate::StepKind::of(self.payload),
        }
    }

    pub(crate) fn seq(&self) -> u64 {
        self.record.seq
    }

    pub(crate) fn at(&self) -> Timestamp {
        self.record.received_at
    }
}

impl State {
    /// Validates and, if accepted, applies `record`. On refusal the state is unchanged.
    pub fn step(&mut self, record: &Record) -> Result<(), Violation> {
        let decoded = Decoded::of(&record.event)?;
        self.step_decoded(record, &decoded)
    }

    /// [`State::step`] with the payload already decoded (by [`Decoded::of`] on the same
    /// event; passing another event's `Decoded` is a caller bug).
    pub fn step_decoded(&mut self, record: &Record, decoded: &Decoded) -> Result<(), Violation> {
        let ctx = Ctx::with(record, decoded);
        check(self, &ctx)?;
        fold(self, &ctx);
        // Accepted: its signer is a registered one, shared by the evidence of later records.
        ctx.evidence.remember();
        Ok(())
    }

    /// Every problem the rules find with `record` as the next record, writing nothing:
    /// the violation [`State::step`] would refuse it with first, then every other
    /// problem that can be told apart without it — each hidden character (by field), each
    /// missing or wrong Art. 4.1 element of a request, its purposes, and each document's
    /// Art. 4.2 language or translation — so that a clerk fixes a draft once, not once
    /// per refusal. Empty: the record would be accepted.
    pub fn problems(&self, record: &Record) -> Vec<Violation> {
        let decoded = match Decoded::of(&record.event) {
            Ok(d) => d,
            Err(v) => return vec![v],
        };
        let ctx = Ctx::with(record, &decoded);
        let mut all: Vec<Violation> = check(self, &ctx).err().into_iter().collect();
        for (field, c) in crate::text::hidden_texts(ctx.payload) {
            all.push(Violation::HiddenText {
                field,
                code: format!("U+{:04X}", u32::from(c)),
            });
        }
        let author = self
            .authority(&record.event.body.author.authority)
            .map(|r| (r.id.clone(), r.party));
        match ctx.payload {
            Payload::Request(r) => {
                all.extend(request::element_problems(r));
                all.extend(request::purpose_problems(r));
                if let Some((id, party)) = &author {
                    // The languages of the arrangement it cites, if that one holds.
                    let arranged = match (&r.language_arrangement, &r.elements.requested_authority)
                    {
                        (Some(h), Some(to)) => request::cited_arrangement(self, h, id, to).ok(),
                        _ => None,
                    };
                    if !(r.oral && r.documents.is_empty()) {
                        all.extend(request::language_problems(
                            arranged,
                            *party,
                            &languages::of(ctx.payload),
                        ));
                    }
                }
            }
            p if is_case_event(p) => {
                if let (Some((_, party)), Some(case)) = (
                    &author,
                    record
                        .event
                        .body
                        .case
                        .and_then(|c| self.cases.get(&c.case_id)),
                ) {
                    let arranged = case
                        .language_arrangement
                        .as_ref()
                        .and_then(|h| self.language_arrangement(h))
                        .map(|l| l.languages.as_slice());
                    all.extend(request::language_problems(
                        arranged,
                        *party,
                        &languages::of(ctx.payload),
                    ));
                }
            }
            _ => {}
        }
        let mut seen = Vec::with_capacity(all.len());
        all.retain(|v| {
            let new = !seen.contains(v);
            if new {
                seen.push(v.clone());
            }
            new
        });
        all
    }

    /// Moves the state to position `seq` without folding the records before it: for a
    /// replay of a *subset* of a ledger, such as an evidence bundle. Sound because the
    /// rules read only governance records (whose chain every record states, so a skipped
    /// one is caught), the record's own case (whose versions catch a skipped one) and
    /// what it cites (refused when absent): see [`reads`]. Never moves backwards.
    pub fn skip_to(&mut self, seq: u64) {
        self.size = self.size.max(seq);
    }

    /// The state after folding `records` in order, refusing at the first violation (with
    /// its seq).
    pub fn replay<'a>(
        records: impl IntoIterator<Item = &'a Record>,
    ) -> Result<State, (u64, Violation)> {
        let mut s = State::default();
        for r in records {
            s.step(r).map_err(|v| (r.seq, v))?;
        }
        Ok(s)
    }
}

fn check(state: &State, ctx: &Ctx<'_>) -> Result<(), Violation> {
    let body = &ctx.record.event.body;
    if ctx.seq() != state.size {
        return Err(Violation::MalformedPayload(crate::detail!(
            "record-out-of-place",
            "record {seq} cannot follow {size} records",
            seq = ctx.seq(),
            size = state.size
        )));
    }
    if ctx.record.governance != state.governance.head {
        return Err(Violation::GovernanceHead {
            stated: ctx.record.governance.to_hex(),
            expected: state.governance.head.to_hex(),
        });
    }
    if ctx.seq() > 0 && ctx.at() < state.last_time {
        return Err(Violation::TimeBackwards {
            received: ctx.at().0,
            previous: state.last_time.0,
        });
    }
    check_shape(ctx)?;
    if state.size == 0 {
        return governance::check_genesis(ctx);
    }
    if body.ledger_id != state.ledger_id {
        return Err(Violation::MalformedPayload(crate::detail!(
            "other-ledger",
            "the event is bound to another ledger"
        )));
    }
    check_authored(ctx, state.params_at(ctx.at()).authored_window_ms)?;
    let signer = signer(state, ctx)?;
    if state.agreement.accepted.is_none() && !matches!(ctx.payload, Payload::GenesisAccepted) {
        return Err(Violation::Art10_NotConstituted);
    }
    if ctx.payload.is_governance() {
        if signer.role != Role::Root {
            return Err(Violation::Art3_NotRoot {
                kind: ctx.payload.kind(),
                author: signer.id.to_string(),
            });
        }
        return governance::check(state, ctx, signer);
    }
    if signer.role != Role::Competent {
        return Err(Violation::Art3_NotCompetentAuthority {
            kind: ctx.payload.kind(),
            author: signer.id.to_string(),
        });
    }
    if state.agreement.in_force_from().is_none_or(|f| f > ctx.at()) {
        return Err(Violation::Art10_NotInForce);
    }
    match &ctx.payload {
        Payload::CategoryAgreed { .. }
        | Payload::Request(_)
        | Payload::LanguageArrangementProposed { .. }
        | Payload::LanguageArrangementAccepted { .. }
        | Payload::OtherCooperation { .. } => request::check(state, ctx, signer),
        _ => cases::check(state, ctx, signer),
    }
}

/// How far an event's `authored_at` may be ahead of the node's receive time: clock skew,
/// not the window (docs/TREATY.md, Time; FORMAT.md §6). What is "prior" under Art. 7.2 is
/// judged by `authored_at`, so it may not run ahead of a time the ledger vouches for.
pub const AUTHORED_AHEAD_MS: u64 = 5_000;

/// Time: `authored_at` at most `window` behind the node's receive time (a draft signed,
/// then sent) and at most [`AUTHORED_AHEAD_MS`] ahead of it.
fn check_authored(ctx: &Ctx<'_>, window: u64) -> Result<(), Violation> {
    let authored = ctx.record.event.body.authored_at.0;
    let received = ctx.at().0;
    let ahead = AUTHORED_AHEAD_MS.min(window);
    if authored > received.saturating_add(ahead) {
        return Err(Violation::AuthoredAhead {
            authored,
            received,
            ahead,
        });
    }
    if received.saturating_sub(authored) > window {
        return Err(Violation::AuthoredOutsideWindow {
            authored,
            received,
            window,
        });
    }
    Ok(())
}

/// Which events name a case, and which may answer earlier events (docs/FORMAT.md §11):
/// a case event names its case (checked with the case); an event outside any case names
/// none; only events inside a case answer, and only earlier events of their case.
fn check_shape(ctx: &Ctx<'_>) -> Result<(), Violation> {
    let body = &ctx.record.event.body;
    let kind = ctx.payload.kind();
    if !is_case_event(ctx.payload) && body.case.is_some() {
        return Err(Violation::NotACaseEvent(kind));
    }
    let opens = matches!(ctx.payload, Payload::Request(_));
    if (opens || !is_case_event(ctx.payload)) && !body.answers.is_empty() {
        return Err(Violation::AnswersOutsideCase(kind));
    }
    if opens && body.case.is_some_and(|c| c.case_id.0 == [0; 16]) {
        return Err(Violation::ReservedCaseId);
    }
    if let Some((field, c)) = crate::text::hidden_text(ctx.payload) {
        return Err(Violation::HiddenText {
            field,
            code: format!("U+{:04X}", u32::from(c)),
        });
    }
    Ok(())
}

/// Why bytes are not a catalogue event, as a refusal's detail.
fn undecodable(e: &coop_core::encoding::DecodeError) -> crate::Detail {
    use coop_core::encoding::DecodeError as E;
    match e {
        E::TooLarge { len } => crate::detail!(
            "too-large",
            "the encoded object is {len} bytes, over the limit of {limit}",
            len = *len,
            limit = coop_core::encoding::MAX_ENCODED_LEN
        ),
        E::TrailingBytes { trailing } => crate::detail!(
            "trailing-bytes",
            "{trailing} byte(s) follow the encoded object",
            trailing = *trailing
        ),
        E::NonCanonical => crate::detail!(
            "non-canonical",
            "the value is not written the one canonical way (it re-encodes to different bytes)"
        ),
        // What bincode found is said in English only: a technical particular, after the
        // translated "cannot be read as an event of the catalogue".
        E::Malformed(why) => crate::Detail::new(
            "malformed",
            format!("malformed encoding: {why}"),
            Vec::new(),
        ),
    }
}

/// Why a key cannot be registered, as a refusal's detail (the one check every key
/// entering the ledger passes, [`coop_core::PublicKey::check`]).
pub(crate) fn unusable_key(e: &coop_core::KeyError) -> crate::Detail {
    use coop_core::KeyError as E;
    match e {
        E::WeakKey(key) => crate::detail!(
            "key-weak",
            "public key {key} is a weak (small-order) Ed25519 key and cannot be registered",
            key = key
        ),
        E::NonCanonical(key) => crate::detail!(
            "key-non-canonical",
            "public key {key} is not canonically encoded and cannot be registered",
            key = key
        ),
        E::TorsionComponent(key) => crate::detail!(
            "key-torsion",
            "public key {key} is not in the prime-order subgroup (it has a torsion component) and cannot be registered",
            key = key
        ),
        // `check` raises only these four; any other is a key that is not a point.
        E::InvalidPoint(key) => crate::detail!(
            "key-not-a-point",
            "public key {key} is not a valid Ed25519 point",
            key = key
        ),
        other => crate::Detail::new("key-unusable", other.to_string(), Vec::new()),
    }
}

/// The registered signer whose key is active at this position (Art. 3).
fn signer<'s>(state: &'s State, ctx: &Ctx<'_>) -> Result<&'s Registered, Violation> {
    author_key(state, &ctx.record.event.body.author, ctx.seq())
}

/// Art. 3: `author` names a registered id whose key, at record `seq`, is the one given;
/// a key registered to another id is named as that id's. The one rule for the rules and
/// for a node preparing an unsigned body (`POST /v1/events/prepare`).
pub fn author_key<'s>(
    state: &'s State,
    author: &coop_core::Author,
    seq: u64,
) -> Result<&'s Registered, Violation> {
    let reg = state
        .authority(&author.authority)
        .ok_or_else(|| Violation::Art3_UnknownAuthority(author.authority.to_string()))?;
    if !reg.key_active_at(&author.key, seq) {
        if let Some(owner) = state
            .registry
            .values()
            .find(|r| r.id != reg.id && r.keys.iter().any(|g| g.key == author.key))
        {
            return Err(Violation::Art3_KeyOfAnother {
                author: author.authority.clone(),
                owner: owner.id.clone(),
            });
        }
        return Err(Violation::Art3_KeyNotActive(author.authority.to_string()));
    }
    Ok(reg)
}

fn fold(state: &mut State, ctx: &Ctx<'_>) {
    if ctx.payload.is_governance() {
        let g = &mut state.governance;
        g.head = coop_core::hash::governance_link(&g.head, ctx.seq(), &ctx.evidence.event_hash);
        g.seqs.push(ctx.seq());
    }
    let party = state.authority(ctx.evidence.signer()).map(|r| r.party);
    match &ctx.payload {
        Payload::Genesis { .. } => governance::fold_genesis(state, ctx),
        p if p.is_governance() => governance::fold(state, ctx, party),
        Payload::CategoryAgreed { .. }
        | Payload::Request(_)
        | Payload::LanguageArrangementProposed { .. }
        | Payload::LanguageArrangementAccepted { .. }
        | Payload::OtherCooperation { .. } => request::fold(state, ctx, party),
        _ => cases::fold(state, ctx, party),
    }
    state.size = ctx.seq() + 1;
    state.last_time = ctx.at();
}
