//! A small world for given/when/then tests: two Parties with roots and competent
//! authorities, a clock, and helpers that build signed records the way the engine will.

#![allow(dead_code, unused_imports)]

use coop_core::event::CaseRef;
use coop_core::{EventId, Hash, LedgerId, Record, SecretKey, Timestamp};
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

pub use coop_treaty::testkit::{
    case_id, doc, id, item, purpose, request_in, request_to, translation_of, written,
};

/// `d` with its translation into the other Party's language (Kazakh for anything not in
/// Kazakh): a communication as Art. 4.2 asks, when `d` is in its author's language.
pub fn translated(d: DocumentRef) -> Vec<DocumentRef> {
    let to = if d.language == Language::Kk {
        Language::Tk
    } else {
        Language::Kk
    };
    let t = translation_of(&d, to);
    vec![d, t]
}

pub fn request() -> Request {
    request_to("TM-MVD")
}

/// Item `n` of information in `document`, restricted, declared free of state secrets.
pub fn info(n: u8, document: DocumentRef) -> Information {
    Information {
        item: item(n),
        kind: InfoKind::OperationalSearch,
        restricted: true,
        no_state_secret: true,
        documents: translated(document),
    }
}

impl World {
    /// A ledger with genesis only (not yet accepted).
    pub fn genesis_only() -> World {
        let keys = coop_treaty::testkit::keys();
        let mut w = World {
            state: State::default(),
            keys,
            now: T0,
            records: Vec::new(),
            next_id: 1,
        };
        let genesis = coop_treaty::testkit::genesis_payload(&w.keys);
        w.ok("KZ-MFA", None, genesis);
        w
    }

    /// Constituted, authorities designated, but not in force.
    pub fn constituted() -> World {
        let mut w = World::genesis_only();
        // Everything but the two notifications.
        let steps = coop_treaty::testkit::constitution(&w.keys);
        for (signer, p) in steps.into_iter().take(5) {
            w.ok(signer, None, p);
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
        let now = self.now;
        self.record_authored(signer, case, payload, answers, now)
    }

    /// The record `signer` would append now, with the author's clock at `authored_at`.
    pub fn record_authored(
        &mut self,
        signer: &str,
        case: Option<CaseRef>,
        payload: &Payload,
        answers: Vec<Hash>,
        authored_at: u64,
    ) -> Record {
        let key = &self.keys[signer];
        let mut eid = [0u8; 16];
        eid[..8].copy_from_slice(&self.next_id.to_be_bytes());
        self.next_id += 1;
        let event = coop_treaty::testkit::sign(
            key,
            signer,
            self.ledger(),
            EventId(eid),
            Timestamp(authored_at),
            case,
            answers,
            payload,
        )
        .expect("sign");
        event
            .verify(self.ledger().as_ref())
            .expect("signature verifies");
        Record {
            seq: self.state.size,
            prev_chain: Hash::ZERO,
            received_at: Timestamp(self.now),
            governance: self.state.governance.head,
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
                documents: translated(doc(50 + n, Language::Tk, DocRole::Original)),
            },
        );
    }
}
