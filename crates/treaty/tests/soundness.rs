//! Given/when/then tests for the rules that make a copy of the ledger checkable by a
//! stranger: the governance chain every record states, time that never runs backwards and
//! authors who cannot back-date, causal links that stay inside a case, ids and keys that
//! every implementation judges alike. Every refusal leaves the state as it was (checked
//! in `World::try_append`).

#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

mod support;

use coop_core::event::CaseRef;
use coop_core::{Hash, PublicKey, Record, Timestamp};
use coop_treaty::*;
use support::*;

// ------------------------------------------------------------------ the governance chain

#[test]
fn every_record_states_the_governance_head_before_it() {
    let mut w = World::with_case();
    // Given the constitution's governance records, each record states their chain.
    assert_eq!(w.state.governance.seqs.len(), 8);
    assert_ne!(w.state.governance.head, Hash::ZERO);
    let head = w.state.governance.head;
    // When a record states another head (a copy that left a governance record out, or a
    // record made for another history), then it is refused.
    let mut r = w.record("TM-MVD", Some(w.at_case(1)), &Payload::Acknowledged);
    r.governance = Hash([7; 32]);
    assert!(matches!(
        w.try_append(r),
        Err(Violation::GovernanceHead { .. })
    ));
    // A case event does not move the head; a governance event does.
    w.ok_case("TM-MVD", 1, Payload::Acknowledged);
    assert_eq!(w.state.governance.head, head);
    w.ok(
        "KZ-MFA",
        None,
        Payload::ProtocolProposed {
            id: 1,
            text: doc(60, Language::Ru, DocRole::Original),
            params: Params::default(),
            effective_from: w.now,
        },
    );
    assert_ne!(w.state.governance.head, head);
    assert_eq!(
        w.state.governance.head,
        coop_core::hash::governance_link(&head, w.records.last().unwrap().seq, &w.last_hash())
    );
}

#[test]
fn the_genesis_states_the_empty_governance_head() {
    let mut fresh = World::genesis_only();
    let keys = coop_treaty::testkit::keys();
    fresh.state = State::default();
    fresh.records.clear();
    let mut r = fresh.record(
        "KZ-MFA",
        None,
        &coop_treaty::testkit::genesis_payload(&keys),
    );
    r.governance = Hash([1; 32]);
    assert!(matches!(
        fresh.try_append(r),
        Err(Violation::GovernanceHead { .. })
    ));
}

// ------------------------------------------------------------------ time

#[test]
fn the_nodes_clock_never_runs_backwards() {
    let mut w = World::with_case();
    let last = w.records.last().unwrap().received_at.0;
    w.now = last - 1;
    let r = w.record("TM-MVD", Some(w.at_case(1)), &Payload::Acknowledged);
    assert!(matches!(
        w.try_append(r),
        Err(Violation::TimeBackwards { received, previous }) if received + 1 == previous
    ));
    // The same time as the record before is fine.
    w.now = last;
    w.ok_case("TM-MVD", 1, Payload::Acknowledged);
}

#[test]
fn authors_cannot_back_date_or_future_date_what_they_sign() {
    let mut w = World::with_case();
    let window = Params::default().authored_window_ms;
    let now = w.now;
    for authored in [
        0,
        32_503_680_000_000, /* year 3000 */
        u64::MAX,
        now - window - 1,
        now + window + 1,
    ] {
        let r = w.record_authored(
            "TM-MVD",
            Some(w.at_case(1)),
            &Payload::Acknowledged,
            vec![],
            authored,
        );
        assert!(
            matches!(
                w.try_append(r),
                Err(Violation::AuthoredOutsideWindow { .. } | Violation::AuthoredAhead { .. })
            ),
            "authored at {authored}"
        );
    }
    // Ahead of the node's clock by more than clock skew (issue 28, finding 8), even inside
    // the window: refused.
    let r = w.record_authored(
        "TM-MVD",
        Some(w.at_case(1)),
        &Payload::Acknowledged,
        vec![],
        now + coop_treaty::AUTHORED_AHEAD_MS + 1,
    );
    assert!(matches!(
        w.try_append(r),
        Err(Violation::AuthoredAhead { .. })
    ));
    // Behind within the window is accepted.
    let r = w.record_authored(
        "TM-MVD",
        Some(w.at_case(1)),
        &Payload::Acknowledged,
        vec![],
        now - window,
    );
    w.try_append(r).expect("within the window");
}

#[test]
fn the_genesis_itself_is_held_to_its_window() {
    let mut w = World::genesis_only();
    let keys = coop_treaty::testkit::keys();
    w.state = State::default();
    w.records.clear();
    let r = w.record_authored(
        "KZ-MFA",
        None,
        &coop_treaty::testkit::genesis_payload(&keys),
        vec![],
        0,
    );
    assert!(matches!(
        w.try_append(r),
        Err(Violation::AuthoredOutsideWindow { .. })
    ));
}

// ------------------------------------------------------------------ what events may name

#[test]
fn only_events_inside_a_case_answer_and_only_earlier_events_of_that_case() {
    let mut w = World::with_case();
    let request = w.last_hash();
    // A request opens its case: it answers nothing, existing or not (Art. 4.1).
    for cited in [Hash([0xAB; 32]), request] {
        let r = w.record_with(
            "KZ-MVD",
            Some(CaseRef {
                case_id: case_id(2),
                expected_version: 0,
            }),
            &Payload::Request(Box::new(support::request())),
            vec![cited],
        );
        assert!(matches!(
            w.try_append(r),
            Err(Violation::AnswersOutsideCase("request"))
        ));
    }
    // Governance and events outside cases answer nothing either.
    let r = w.record_with(
        "KZ-MFA",
        None,
        &Payload::ProtocolAccepted { id: 9 },
        vec![request],
    );
    assert!(matches!(
        w.try_append(r),
        Err(Violation::AnswersOutsideCase(_))
    ));
    // Inside the case: earlier events of the case, and nothing else.
    let r = w.record_with(
        "TM-MVD",
        Some(w.at_case(1)),
        &Payload::Acknowledged,
        vec![Hash([0xAB; 32])],
    );
    assert!(matches!(w.try_append(r), Err(Violation::UnknownAnswer(_))));
    let r = w.record_with(
        "TM-MVD",
        Some(w.at_case(1)),
        &Payload::Acknowledged,
        vec![request],
    );
    w.try_append(r).expect("answers the request of its case");
}

#[test]
fn events_outside_cases_name_no_case_and_a_case_id_is_never_zero() {
    let mut w = World::with_case();
    assert!(matches!(
        w.try_(
            "KZ-MFA",
            Some(w.at_case(1)),
            Payload::ProtocolAccepted { id: 9 }
        ),
        Err(Violation::NotACaseEvent(_))
    ));
    assert!(matches!(
        w.try_(
            "KZ-MVD",
            Some(w.at_case(1)),
            Payload::LanguageArrangementProposed {
                with: id("TM-MVD"),
                languages: vec![Language::Ru],
            }
        ),
        Err(Violation::NotACaseEvent(_))
    ));
    assert!(matches!(
        w.try_case("KZ-MVD", 0, Payload::Request(Box::new(support::request()))),
        Err(Violation::ReservedCaseId)
    ));
}

#[test]
fn an_authority_id_that_breaks_format_section_2_cannot_enter() {
    let mut w = World::in_force();
    // A designation whose id has a space: the payload's bytes spell
    // AuthorityDesignated (variant 2) { "KZ NEW", key, name } by hand, since no
    // AuthorityId value can hold it.
    for bad in ["KZ NEW", "", &"x".repeat(65)] {
        let bytes = coop_core::encoding::encode(&(
            2u32,
            bad.to_owned(),
            w.key("KZ-AUDIT").0,
            "New authority".to_owned(),
        ))
        .unwrap();
        assert!(Payload::from_bytes(&bytes).is_err());
        let mut r = w.record("KZ-MFA", None, &Payload::GenesisAccepted);
        r.event.body.payload = bytes;
        r.event = coop_core::SignedEvent::sign(r.event.body, &w.keys["KZ-MFA"]).unwrap();
        assert!(
            matches!(w.try_append(r), Err(Violation::MalformedPayload(_))),
            "{bad:?}"
        );
    }
    // The same bytes with a good id are a designation.
    let bytes = coop_core::encoding::encode(&(
        2u32,
        "KZ-NEW".to_owned(),
        w.key("KZ-AUDIT").0,
        "New authority".to_owned(),
    ))
    .unwrap();
    assert!(matches!(
        Payload::from_bytes(&bytes),
        Ok(Payload::AuthorityDesignated { .. })
    ));
}

// ------------------------------------------------------------------ keys

/// The 22 distinct keys of the C2SP/CCTV Ed25519 vectors, each with whether a vector
/// flags it (`*_A` flags).
fn cctv_keys() -> Vec<(PublicKey, bool)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/vectors/ed25519vectors.json");
    let v: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut keys: std::collections::BTreeMap<String, bool> = Default::default();
    for e in v {
        let flagged = e["flags"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x.as_str().unwrap().ends_with("_A")));
        *keys
            .entry(e["key"].as_str().unwrap().to_owned())
            .or_default() |= flagged;
    }
    keys.into_iter()
        .map(|(k, f)| (PublicKey::from_hex(&k).unwrap(), f))
        .collect()
}

#[test]
fn every_registration_path_refuses_the_flagged_cctv_keys_and_takes_the_plain_one() {
    let keys = cctv_keys();
    assert_eq!(keys.len(), 22);
    let plain: Vec<_> = keys.iter().filter(|(_, f)| !f).collect();
    assert!(!plain.is_empty());
    for (key, flagged) in &keys {
        let key = *key;
        let refused = |r: Result<(), Violation>| match r {
            Err(Violation::Art3_Registry(m) | Violation::Art10_Genesis(m)) => {
                assert!(m.to_string().contains(&key.to_hex()), "{m}");
                true
            }
            Ok(()) => false,
            Err(other) => panic!("{key}: unexpected {other}"),
        };
        let mut verdicts = Vec::new();
        // A root key in the genesis, and the genesis's node key.
        for root in [false, true] {
            let mut w = World::genesis_only();
            let fixture = coop_treaty::testkit::keys();
            let mut g = coop_treaty::testkit::genesis_payload(&fixture);
            if let Payload::Genesis {
                roots, node_key, ..
            } = &mut g
            {
                if root {
                    roots[1].key = key;
                } else {
                    *node_key = key;
                }
            }
            w.state = State::default();
            w.records.clear();
            let r = w.record("KZ-MFA", None, &g);
            verdicts.push(refused(w.try_append(r)));
        }
        // A designation, a key change, an auditor or witness.
        let mut w = World::in_force();
        verdicts.push(refused(w.try_(
            "KZ-MFA",
            None,
            Payload::AuthorityDesignated {
                authority: id("KZ-NEW"),
                key,
                name: "New".into(),
            },
        )));
        let mut w = World::in_force();
        verdicts.push(refused(w.try_(
            "KZ-MFA",
            None,
            Payload::AuthorityKeyChanged {
                authority: id("KZ-MVD"),
                new_key: key,
            },
        )));
        for role in [Role::Auditor, Role::Witness] {
            let mut w = World::in_force();
            verdicts.push(refused(w.try_(
                "TM-MFA",
                None,
                Payload::ObserverRegistered {
                    id: id("TM-OBSERVER"),
                    role,
                    key,
                },
            )));
        }
        assert!(
            verdicts.iter().all(|v| v == flagged),
            "{key} (flagged: {flagged}): {verdicts:?}"
        );
    }
}

// ------------------------------------------------------------------ helpers

#[test]
fn reads_names_the_case_and_every_citation() {
    let w = World::with_case();
    let r: &Record = w.records.last().unwrap();
    let p = Payload::from_bytes(&r.event.body.payload).unwrap();
    let reads = coop_treaty::reads(&r.event.body, &p);
    assert_eq!(reads.case, Some(case_id(1)));
    assert!(!reads.governance && reads.cites.is_empty());
    let mut req = support::request();
    req.category = CrimeCategory::Other(Hash([1; 32]));
    req.language_arrangement = Some(Hash([2; 32]));
    let reads = coop_treaty::reads(&r.event.body, &Payload::Request(Box::new(req)));
    assert_eq!(reads.cites, vec![Hash([1; 32]), Hash([2; 32])]);
    let g = coop_treaty::reads(&w.records[0].event.body, &Payload::GenesisAccepted);
    assert!(g.governance && g.case.is_none());
    let _ = Timestamp(0);
}
