//! A small, deterministic ledger that uses every payload variant: every governance kind
//! (a key change, a revocation, a retirement, a protocol, notice of termination), every
//! kind of case event, events that answer others and events that cite others (an Art. 1.2
//! agreement, a language arrangement, a consent, a cost proposal), with checkpoints signed
//! by the fixture node key and cosigned by both Parties' witnesses. Fixed keys, fixed
//! ids, fixed times: the same bytes on every machine.
//!
//! Its export is committed (`tests/fixtures/`) as the compatibility promise: every future
//! version must verify it. Its payloads are the golden vectors of the catalogue.

use super::{
    case_id, doc, id, item, keys, node_key, purpose, request_in, request_to, sign, written,
};
use crate::model::{
    CrimeCategory, DocRole, Extent, Form, InfoKind, Information, Language, Params, Party,
    RefusalGround, SearchOutcome,
};
use crate::payload::{Payload, Role};
use crate::state::State;
use coop_core::checkpoint::{Checkpoint, cosign, sign_checkpoint};
use coop_core::event::CaseRef;
use coop_core::merkle::{Blake3Hasher, Frontier};
use coop_core::{CHAIN_SEED, EventId, Hash, LedgerId, Record, SealedRecord, SecretKey, Timestamp};

/// The fixture's first record time (ms): 2025-11-25T00:00:00Z.
pub const T0: u64 = 1_764_028_800_000;
/// Time between records: one minute.
const STEP: u64 = 60_000;

/// The fixture ledger.
#[derive(Debug)]
pub struct Fixture {
    /// Its records, in order.
    pub records: Vec<SealedRecord>,
    /// Checkpoint notes by size (signed by [`node_key`], cosigned by both witnesses).
    pub checkpoints: Vec<(u64, String)>,
    /// The state after the last record.
    pub state: State,
}

impl Fixture {
    /// The ledger id.
    pub fn ledger_id(&self) -> Option<LedgerId> {
        self.state.ledger_id
    }

    /// Records and checkpoints in export order (each checkpoint after the record that
    /// completes its size): `Ok(bytes)` a record, `Err(note)` a checkpoint.
    pub fn items(&self) -> Vec<Result<&[u8], &str>> {
        let mut out = Vec::new();
        for r in &self.records {
            out.push(Ok(r.bytes.as_slice()));
            for (size, note) in &self.checkpoints {
                if *size == r.record.seq + 1 {
                    out.push(Err(note.as_str()));
                }
            }
        }
        out
    }
}

struct Builder {
    keys: std::collections::BTreeMap<String, SecretKey>,
    state: State,
    records: Vec<SealedRecord>,
    checkpoints: Vec<(u64, String)>,
    frontier: Frontier<Blake3Hasher>,
    n: u64,
    /// The node key that signs checkpoints (the genesis's, then the handover's).
    node: SecretKey,
}

impl Builder {
    fn now(&self) -> u64 {
        T0 + self.n * STEP
    }

    fn key(&self, who: &str) -> Result<&SecretKey, String> {
        self.keys
            .get(who)
            .ok_or_else(|| format!("no fixture key {who}"))
    }

    /// Appends an event by `who` (signed with `key`, or `who`'s fixture key); returns its
    /// event hash.
    fn add_with(
        &mut self,
        who: &str,
        key: Option<&SecretKey>,
        case: Option<CaseRef>,
        answers: Vec<Hash>,
        payload: Payload,
    ) -> Result<Hash, String> {
        let t = Timestamp(self.now());
        let k = match key {
            Some(k) => k,
            None => self.key(who)?,
        };
        let mut eid = [0xF1; 16];
        eid[..8].copy_from_slice(&self.n.to_be_bytes());
        let ev = sign(
            k,
            who,
            self.state.ledger_id,
            EventId(eid),
            t,
            case,
            answers,
            &payload,
        )
        .map_err(|e| e.to_string())?;
        let hash = ev.event_hash().map_err(|e| e.to_string())?;
        let r = Record {
            seq: self.state.size,
            prev_chain: self.records.last().map_or(CHAIN_SEED, |r| r.chain),
            received_at: t,
            governance: self.state.governance.head,
            event: ev,
        }
        .seal()
        .map_err(|e| e.to_string())?;
        self.state
            .step(&r.record)
            .map_err(|v| format!("fixture record {} ({}): {v}", r.record.seq, payload.kind()))?;
        self.frontier.push(r.leaf, |_, _, _| {});
        self.records.push(r);
        self.n += 1;
        Ok(hash)
    }

    fn add(&mut self, who: &str, payload: Payload) -> Result<Hash, String> {
        self.add_with(who, None, None, Vec::new(), payload)
    }

    /// Appends an event of case `c` at its current version.
    fn case(
        &mut self,
        who: &str,
        c: u8,
        answers: Vec<Hash>,
        payload: Payload,
    ) -> Result<Hash, String> {
        let version = self.state.cases.get(&case_id(c)).map_or(0, |x| x.version);
        self.add_with(
            who,
            None,
            Some(CaseRef {
                case_id: case_id(c),
                expected_version: version,
            }),
            answers,
            payload,
        )
    }

    /// A checkpoint of the head, signed and cosigned by both witnesses.
    fn checkpoint(&mut self) -> Result<(), String> {
        let cp = Checkpoint {
            ledger_id: self.state.ledger_id.ok_or("no genesis")?,
            size: self.frontier.size(),
            root: self.frontier.root(),
            chain_head: self.records.last().map_or(CHAIN_SEED, |r| r.chain),
            time: self.state.last_time,
        };
        let mut note = sign_checkpoint(&cp, &self.node).map_err(|e| e.to_string())?;
        for w in ["KZ-WITNESS", "TM-WITNESS"] {
            note = cosign(&note, w, self.key(w)?, cp.time.as_secs()).map_err(|e| e.to_string())?;
        }
        self.checkpoints.push((cp.size, note));
        Ok(())
    }
}

fn info(n: u8, from: Party) -> Information {
    Information {
        item: item(n),
        kind: InfoKind::OperationalReference,
        restricted: n.is_multiple_of(2),
        no_state_secret: true,
        documents: written(120 + n, from),
    }
}

/// The node key the fixture's handover names (its later checkpoints are signed with it).
pub fn handover_node_key() -> SecretKey {
    SecretKey::from_seed(&[0x7E; 32])
}

/// Builds the fixture ledger. Deterministic; an error means a rule changed under it.
pub fn ledger() -> Result<Fixture, String> {
    let mut b = Builder {
        keys: keys(),
        state: State::default(),
        records: Vec::new(),
        checkpoints: Vec::new(),
        frontier: Frontier::new(),
        n: 0,
        node: node_key(),
    };
    let k = |b: &Builder, n: &str| b.key(n).map(SecretKey::public);

    // ---- constitution (Art. 3, 10) ----
    b.add("KZ-MFA", super::genesis_payload(&b.keys))?;
    b.add("TM-MFA", Payload::GenesisAccepted)?;
    for (root, a, name) in [
        (
            "KZ-MFA",
            "KZ-MVD",
            "Ministry of Internal Affairs of Kazakhstan",
        ),
        (
            "KZ-MFA",
            "KZ-KNB",
            "National Security Committee of Kazakhstan",
        ),
        (
            "KZ-MFA",
            "KZ-AFM",
            "Agency for Financial Monitoring of Kazakhstan",
        ),
        (
            "TM-MFA",
            "TM-MVD",
            "Ministry of Internal Affairs of Turkmenistan",
        ),
        (
            "TM-MFA",
            "TM-MNS",
            "Ministry of National Security of Turkmenistan",
        ),
    ] {
        let key = k(&b, a)?;
        b.add(
            root,
            Payload::AuthorityDesignated {
                authority: id(a),
                key,
                name: name.into(),
            },
        )?;
    }
    for (root, who, role) in [
        ("KZ-MFA", "KZ-AUDIT", Role::Auditor),
        ("KZ-MFA", "KZ-WITNESS", Role::Witness),
        ("TM-MFA", "TM-WITNESS", Role::Witness),
    ] {
        let key = k(&b, who)?;
        b.add(
            root,
            Payload::ObserverRegistered {
                id: id(who),
                role,
                key,
            },
        )?;
    }
    b.add(
        "KZ-MFA",
        Payload::InternalProceduresCompleted {
            authorities: vec![id("KZ-MVD"), id("KZ-KNB"), id("KZ-AFM")],
        },
    )?;
    b.add(
        "TM-MFA",
        Payload::InternalProceduresCompleted {
            authorities: vec![id("TM-MVD"), id("TM-MNS")],
        },
    )?;
    b.checkpoint()?;

    // ---- agreements between authorities (Art. 1.2, 4.2, 2.3-2.6) ----
    let agreement = b.add(
        "TM-MVD",
        Payload::CategoryAgreed {
            with: id("KZ-MVD"),
            description: "illegal mining of cryptocurrency with stolen electricity".into(),
        },
    )?;
    let proposal = b.add(
        "KZ-KNB",
        Payload::LanguageArrangementProposed {
            with: id("TM-MNS"),
            languages: vec![Language::Ru],
        },
    )?;
    let arrangement = b.add("TM-MNS", Payload::LanguageArrangementAccepted { proposal })?;
    b.add(
        "KZ-MVD",
        Payload::OtherCooperation {
            form: Form::ExchangeExperience,
            with: id("TM-MVD"),
            summary: doc(130, Language::Ru, DocRole::Original),
        },
    )?;

    // ---- Art. 9: Protocol No. 1 ----
    b.add(
        "KZ-MFA",
        Payload::ProtocolProposed {
            id: 1,
            text: doc(131, Language::Ru, DocRole::Original),
            params: Params {
                refusal_notice_ms: 48 * 3_600_000,
                ..Params::default()
            },
            effective_from: T0,
        },
    )?;
    b.add("TM-MFA", Payload::ProtocolAccepted { id: 1 })?;
    // In force (Art. 9 → 10) once both Parties completed their internal procedures.
    b.add("TM-MFA", Payload::ProtocolProceduresCompleted { id: 1 })?;
    b.add("KZ-MFA", Payload::ProtocolProceduresCompleted { id: 1 })?;

    // ---- case 1: KZ-MVD asks TM-MVD about another crime (Art. 1.2); everything ----
    let mut r = request_to("TM-MVD");
    r.category = CrimeCategory::Other(agreement);
    let request = b.case("KZ-MVD", 1, vec![], Payload::Request(Box::new(r)))?;
    b.case("TM-MVD", 1, vec![request], Payload::Acknowledged)?;
    let asked = b.case(
        "KZ-MVD",
        1,
        vec![request],
        Payload::AdditionalInfoRequested {
            documents: written(132, Party::Kz),
        },
    )?;
    b.case(
        "TM-MVD",
        1,
        vec![asked],
        Payload::AdditionalInfoProvided {
            information: info(9, Party::Tm),
        },
    )?;
    b.case(
        "TM-MVD",
        1,
        vec![],
        Payload::InformationTransferred {
            item: item(1),
            recipient: id("KZ-MVD"),
            kind: InfoKind::OperationalSearch,
            restricted: true,
            permitted_purposes: vec![purpose(super::PURPOSE)],
            no_state_secret: true,
            documents: written(133, Party::Tm),
        },
    )?;
    b.case(
        "KZ-MVD",
        1,
        vec![],
        Payload::InformationUsed {
            item: item(1),
            purpose: purpose(super::PURPOSE),
        },
    )?;
    let asked = b.case(
        "KZ-MVD",
        1,
        vec![],
        Payload::ConsentRequested {
            item: item(1),
            third_party: Some("Interpol General Secretariat".into()),
            purposes: vec![],
        },
    )?;
    let consent = b.case(
        "TM-MVD",
        1,
        vec![asked],
        Payload::ConsentGranted {
            item: item(1),
            third_party: Some("Interpol General Secretariat".into()),
            purposes: vec![],
            documents: written(134, Party::Tm),
        },
    )?;
    b.case(
        "KZ-MVD",
        1,
        vec![consent],
        Payload::OnwardTransfer {
            item: item(1),
            third_party: "Interpol General Secretariat".into(),
            consent,
        },
    )?;
    b.case(
        "TM-MVD",
        1,
        vec![],
        Payload::ConsentDenied {
            item: item(9),
            third_party: Some("a news agency".into()),
        },
    )?;
    b.case(
        "TM-MVD",
        1,
        vec![],
        Payload::CostRecorded {
            amount_minor: 125_000,
            currency: "TMT".into(),
        },
    )?;
    let costs = b.case(
        "KZ-MVD",
        1,
        vec![],
        Payload::CostArrangementProposed {
            terms: doc(135, Language::Ru, DocRole::Original),
        },
    )?;
    b.case(
        "TM-MVD",
        1,
        vec![costs],
        Payload::CostArrangementAccepted { proposal: costs },
    )?;
    b.case(
        "TM-MVD",
        1,
        vec![request],
        Payload::ExecutionReported {
            extent: Extent::Full,
            reasons: vec![],
            search_outcome: None,
            results: vec![info(3, Party::Tm)],
        },
    )?;
    b.case(
        "KZ-MVD",
        1,
        vec![],
        Payload::DisputeRaised {
            dispute: 1,
            subject: doc(136, Language::Ru, DocRole::Original),
        },
    )?;
    b.case(
        "TM-MVD",
        1,
        vec![],
        Payload::ConsultationHeld {
            dispute: 1,
            minutes: doc(137, Language::Ru, DocRole::Original),
        },
    )?;
    b.case(
        "KZ-MVD",
        1,
        vec![],
        Payload::DisputeSettled {
            dispute: 1,
            outcome: doc(138, Language::Ru, DocRole::Original),
        },
    )?;
    b.case("KZ-MVD", 1, vec![], Payload::CaseClosed)?;
    b.checkpoint()?;

    // ---- case 2: an urgent oral request under the Russian-language arrangement ----
    let mut r = request_in("TM-MNS", Language::Ru);
    r.urgent = true;
    r.oral = true;
    r.language_arrangement = Some(arrangement);
    r.form = Form::ExchangeInformation(InfoKind::Forensic);
    b.add_with(
        "KZ-KNB",
        None,
        Some(CaseRef {
            case_id: case_id(2),
            expected_version: 0,
        }),
        vec![],
        Payload::Request(Box::new(r)),
    )?;
    b.case(
        "KZ-KNB",
        2,
        vec![],
        Payload::OralRequestConfirmed {
            documents: vec![doc(140, Language::Ru, DocRole::Original)],
        },
    )?;
    b.case(
        "TM-MNS",
        2,
        vec![],
        Payload::Refused {
            extent: Extent::Partial,
            grounds: vec![RefusalGround::NationalLaw],
            reasons: vec![doc(141, Language::Ru, DocRole::Original)],
        },
    )?;
    b.case(
        "TM-MNS",
        2,
        vec![],
        Payload::ExecutionReported {
            extent: Extent::Partial,
            reasons: vec![doc(142, Language::Ru, DocRole::Original)],
            search_outcome: None,
            results: vec![],
        },
    )?;

    // ---- cases 3 and 4: wanted-person searches (Art. 1.3) ----
    for (c, outcome) in [(3u8, None), (4, Some(SearchOutcome::Detained))] {
        let mut r = request_to("TM-MVD");
        r.wanted_person_search = true;
        b.case("KZ-MVD", c, vec![], Payload::Request(Box::new(r)))?;
        match outcome {
            None => b.case(
                "TM-MVD",
                c,
                vec![],
                Payload::Refused {
                    extent: Extent::Full,
                    grounds: vec![RefusalGround::Sovereignty, RefusalGround::Security],
                    reasons: written(143, Party::Tm),
                },
            )?,
            Some(o) => b.case(
                "TM-MVD",
                c,
                vec![],
                Payload::ExecutionReported {
                    extent: Extent::Full,
                    reasons: vec![],
                    search_outcome: Some(o),
                    results: vec![],
                },
            )?,
        };
    }

    // ---- the registry changes (Art. 3) ----
    let knb2 = SecretKey::from_seed(&[0x42; 32]);
    b.add(
        "KZ-MFA",
        Payload::AuthorityKeyChanged {
            authority: id("KZ-KNB"),
            new_key: knb2.public(),
        },
    )?;
    let mns = k(&b, "TM-MNS")?;
    b.add(
        "TM-MFA",
        Payload::KeyRevoked {
            authority: id("TM-MNS"),
            key: mns,
        },
    )?;
    b.add(
        "KZ-MFA",
        Payload::AuthorityRetired {
            authority: id("KZ-AFM"),
        },
    )?;
    // KZ-KNB signs with its new key.
    b.add_with(
        "KZ-KNB",
        Some(&knb2),
        Some(CaseRef {
            case_id: case_id(2),
            expected_version: 4,
        }),
        vec![],
        Payload::CaseClosed,
    )?;

    // ---- Art. 10: notice of termination ----
    b.add("TM-MFA", Payload::TerminationNotice)?;

    // ---- node handover (format 2.1; last, so that every v2 vector stays as it was):
    // the ledger goes on under a new node key, and the genesis's key signs no
    // checkpoint from the size after the acceptance ----
    let next = handover_node_key();
    b.add(
        "TM-MFA",
        Payload::NodeHandoverProposed {
            id: 1,
            key: next.public(),
            retire_old_from: Some(b.state.size + 2),
        },
    )?;
    b.add("KZ-MFA", Payload::NodeHandoverAccepted { id: 1 })?;
    b.node = next;

    b.checkpoint()?;
    Ok(Fixture {
        records: b.records,
        checkpoints: b.checkpoints,
        state: b.state,
    })
}

/// The attack of issue 28 (finding 1): the node alone rewrites history. Record `drop` of
/// `f` is left out, every later record re-sequenced, re-chained and given the governance
/// head the rest implies (the events, signed by their authors, are unchanged), and each
/// checkpoint re-signed at its new size by the node key the ledger names there — with no
/// witness cosignature, which the node cannot make. Every rule and every signature still
/// checks out; only the witness policy tells.
pub fn rewritten_by_the_node(f: &Fixture, drop: u64) -> Result<Fixture, String> {
    let mut state = State::default();
    let mut records: Vec<SealedRecord> = Vec::new();
    let mut frontier: Frontier<Blake3Hasher> = Frontier::new();
    let mut checkpoints = Vec::new();
    let sizes: Vec<u64> = f.checkpoints.iter().map(|(s, _)| *s).collect();
    for old in f.records.iter().filter(|r| r.record.seq != drop) {
        let r = Record {
            seq: state.size,
            prev_chain: records.last().map_or(CHAIN_SEED, |r| r.chain),
            received_at: old.record.received_at,
            governance: state.governance.head,
            event: old.record.event.clone(),
        }
        .seal()
        .map_err(|e| e.to_string())?;
        state
            .step(&r.record)
            .map_err(|v| format!("rewritten record {}: {v}", r.record.seq))?;
        frontier.push(r.leaf, |_, _, _| {});
        records.push(r);
        // A checkpoint where the original had one (one record earlier past the drop).
        let original = if old.record.seq >= drop {
            old.record.seq + 1
        } else {
            state.size
        };
        if sizes.contains(&original) && original != drop {
            let cp = Checkpoint {
                ledger_id: state.ledger_id.ok_or("no genesis")?,
                size: frontier.size(),
                root: frontier.root(),
                chain_head: records.last().map_or(CHAIN_SEED, |r| r.chain),
                time: state.last_time,
            };
            let named = state.agreement.node_keys_at(cp.size);
            let key = [node_key(), handover_node_key()]
                .into_iter()
                .find(|k| named.contains(&k.public()))
                .ok_or("no fixture node key is named there")?;
            checkpoints.push((
                cp.size,
                sign_checkpoint(&cp, &key).map_err(|e| e.to_string())?,
            ));
        }
    }
    Ok(Fixture {
        records,
        checkpoints,
        state,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fixture_uses_every_payload_variant() -> Result<(), String> {
        let f = super::ledger()?;
        let kinds: std::collections::BTreeSet<&str> = f
            .records
            .iter()
            .filter_map(|r| crate::Payload::from_bytes(&r.record.event.body.payload).ok())
            .map(|p| p.kind())
            .collect();
        assert_eq!(kinds.len(), crate::Payload::NAMES.len(), "{kinds:?}");
        assert!(
            f.records
                .iter()
                .any(|r| !r.record.event.body.answers.is_empty())
        );
        assert_eq!(f.checkpoints.len(), 3);
        Ok(())
    }
}
