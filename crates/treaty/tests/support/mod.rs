//! A small world for given/when/then tests: two Parties with roots and competent
//! authorities, a clock, and helpers that build signed records the way the engine will.

#![allow(dead_code)]

use coop_core::event::{Author, CaseRef, EVENT_FORMAT_VERSION, EventBody};
use coop_core::{
    AuthorityId, CaseId, EventId, Hash, LedgerId, Record, SecretKey, SignedEvent, Timestamp,
};
use coop_treaty::*;
use std::collections::BTreeMap;

pub const HOUR: u64 = 3_600_000;
pub const T0: u64 = 1_764_000_000_000;

pub struct World {
    pub state: State,
    pub keys: BTreeMap<String, SecretKey>,
    pub now: u64,
    pub records: Vec<Record>,
    next_id: u64,
}

pub fn id(s: &str) -> AuthorityId {
    AuthorityId::new(s).expect("valid id")
}

pub fn doc(tag: u8, language: Language, role: DocRole) -> DocumentRef {
    DocumentRef {
        digest: Hash([tag; 32]),
        size: 1000 + u64::from(tag),
        media_type: "application/pdf".into(),
        language,
        role,
    }
}

pub fn case_id(n: u8) -> CaseId {
    CaseId([n; 16])
}

pub fn item(n: u8) -> ItemId {
    ItemId([n; 16])
}

pub fn purpose(s: &str) -> Purpose {
    Purpose(s.into())
}

/// A complete, valid request from a KZ authority to `to`.
pub fn request_to(to: &str) -> Request {
    let original = doc(10, Language::Kk, DocRole::Original);
    let translation = doc(11, Language::Tk, DocRole::TranslationOf(original.digest));
    Request {
        elements: RequestElements {
            requested_authority: Some(id(to)),
            grounds: Some(doc(1, Language::Kk, DocRole::Original)),
            requesting_service: "Criminal police department".into(),
            requested_service: "Criminal search department".into(),
            case_description: Some(doc(2, Language::Kk, DocRole::Original)),
            content: Some(doc(3, Language::Kk, DocRole::Original)),
            decision_copy: Some(doc(4, Language::Kk, DocRole::CertifiedCopy)),
            legal_provision: Some(doc(5, Language::Kk, DocRole::LegalProvisionText)),
        },
        category: CrimeCategory::Narcotics,
        form: Form::ExecuteRequest,
        wanted_person_search: false,
        purposes: vec![purpose("criminal investigation 2025-117")],
        urgent: false,
        oral: false,
        documents: vec![original, translation],
    }
}

pub fn request() -> Request {
    request_to("TM-MVD")
}

impl World {
    /// A ledger with genesis only (not yet accepted).
    pub fn genesis_only() -> World {
        let mut keys = BTreeMap::new();
        for (name, seed) in [
            ("KZ-MFA", 1u8),
            ("TM-MFA", 2),
            ("KZ-MVD", 3),
            ("KZ-KNB", 4),
            ("TM-MVD", 5),
            ("TM-MNS", 6),
            ("KZ-AUDIT", 7),
            ("TM-WITNESS", 8),
        ] {
            keys.insert(name.to_owned(), SecretKey::from_seed(&[seed; 32]));
        }
        let mut w = World {
            state: State::default(),
            keys,
            now: T0,
            records: Vec::new(),
            next_id: 1,
        };
        let texts = vec![
            doc(100, Language::Kk, DocRole::Original),
            doc(101, Language::Tk, DocRole::Original),
            doc(102, Language::Ru, DocRole::Original),
        ];
        let genesis = Payload::Genesis {
            roots: vec![
                RootKey {
                    party: Party::Kz,
                    authority: id("KZ-MFA"),
                    key: w.key("KZ-MFA"),
                },
                RootKey {
                    party: Party::Tm,
                    authority: id("TM-MFA"),
                    key: w.key("TM-MFA"),
                },
            ],
            agreement_texts: texts,
            params: Params::default(),
        };
        w.ok("KZ-MFA", None, genesis);
        w
    }

    /// Constituted, authorities designated, but not in force.
    pub fn constituted() -> World {
        let mut w = World::genesis_only();
        w.ok("TM-MFA", None, Payload::GenesisAccepted);
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
            let key = w.key(a);
            w.ok(
                root,
                None,
                Payload::AuthorityDesignated {
                    authority: id(a),
                    key,
                    name: name.into(),
                },
            );
        }
        w
    }

    /// In force: both notifications received.
    pub fn in_force() -> World {
        let mut w = World::constituted();
        w.ok(
            "KZ-MFA",
            None,
            Payload::InternalProceduresCompleted {
                authorities: vec![id("KZ-MVD"), id("KZ-KNB")],
            },
        );
        w.later(24 * HOUR);
        w.ok(
            "TM-MFA",
            None,
            Payload::InternalProceduresCompleted {
                authorities: vec![id("TM-MVD"), id("TM-MNS")],
            },
        );
        w
    }

    /// In force with case 1 opened by KZ-MVD to TM-MVD.
    pub fn with_case() -> World {
        let mut w = World::in_force();
        w.ok_case("KZ-MVD", 1, Payload::Request(Box::new(request())));
        w
    }

    pub fn key(&self, name: &str) -> coop_core::PublicKey {
        self.keys[name].public()
    }

    pub fn later(&mut self, ms: u64) {
        self.now += ms;
    }

    pub fn ledger(&self) -> Option<LedgerId> {
        self.state.ledger_id
    }

    /// The record `signer` would append now.
    pub fn record(&mut self, signer: &str, case: Option<CaseRef>, payload: &Payload) -> Record {
        self.record_with(signer, case, payload, Vec::new())
    }

    pub fn record_with(
        &mut self,
        signer: &str,
        case: Option<CaseRef>,
        payload: &Payload,
        answers: Vec<Hash>,
    ) -> Record {
        let key = &self.keys[signer];
        let mut eid = [0u8; 16];
        eid[..8].copy_from_slice(&self.next_id.to_be_bytes());
        self.next_id += 1;
        let body = EventBody {
            version: EVENT_FORMAT_VERSION,
            ledger_id: self.ledger(),
            event_id: EventId(eid),
            author: Author {
                authority: id(signer),
                key: key.public(),
            },
            authored_at: Timestamp(self.now),
            case,
            answers,
            payload: payload.to_bytes().expect("encode payload"),
        };
        let event = SignedEvent::sign(body, key).expect("sign");
        event
            .verify(self.ledger().as_ref())
            .expect("signature verifies");
        Record {
            seq: self.state.size,
            prev_chain: Hash::ZERO,
            received_at: Timestamp(self.now),
            event,
        }
    }

    /// The case reference at the case's current version.
    pub fn at_case(&self, n: u8) -> CaseRef {
        CaseRef {
            case_id: case_id(n),
            expected_version: self.state.cases.get(&case_id(n)).map_or(0, |c| c.version),
        }
    }

    /// Appends; on refusal checks the state did not change.
    pub fn try_append(&mut self, record: Record) -> Result<(), Violation> {
        let before = self.state.clone();
        match self.state.step(&record) {
            Ok(()) => {
                self.records.push(record);
                self.now += 1;
                Ok(())
            }
            Err(v) => {
                assert_eq!(self.state, before, "a refused event changed the state");
                Err(v)
            }
        }
    }

    pub fn try_(
        &mut self,
        signer: &str,
        case: Option<CaseRef>,
        payload: Payload,
    ) -> Result<(), Violation> {
        let r = self.record(signer, case, &payload);
        self.try_append(r)
    }

    pub fn ok(&mut self, signer: &str, case: Option<CaseRef>, payload: Payload) {
        let kind = payload.kind();
        if let Err(v) = self.try_(signer, case, payload) {
            panic!("{kind} by {signer} refused: {v}");
        }
    }

    pub fn try_case(&mut self, signer: &str, n: u8, payload: Payload) -> Result<(), Violation> {
        let c = self.at_case(n);
        self.try_(signer, Some(c), payload)
    }

    pub fn ok_case(&mut self, signer: &str, n: u8, payload: Payload) {
        let c = self.at_case(n);
        self.ok(signer, Some(c), payload);
    }

    /// Hash of the last appended event.
    pub fn last_hash(&self) -> Hash {
        self.records
            .last()
            .map(|r| r.event.event_hash().expect("hash"))
            .expect("a record")
    }

    pub fn case(&self, n: u8) -> &Case {
        &self.state.cases[&case_id(n)]
    }

    /// Transfers item `n` in case 1 from TM-MVD to KZ-MVD.
    pub fn transfer(&mut self, n: u8) {
        self.ok_case(
            "TM-MVD",
            1,
            Payload::InformationTransferred {
                item: item(n),
                recipient: id("KZ-MVD"),
                kind: InfoKind::OperationalSearch,
                restricted: true,
                permitted_purposes: vec![purpose("criminal investigation 2025-117")],
                no_state_secret: true,
                document: doc(50 + n, Language::Tk, DocRole::Original),
            },
        );
    }
}
