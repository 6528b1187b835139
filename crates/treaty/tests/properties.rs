//! Property tests over random histories:
//! - rebuilding from record 0 gives exactly the state incremental appends gave, at every
//!   prefix (so "as of seq n" replays are exact);
//! - an independent reference model of Article 7 agrees with the rules on every accept or
//!   refuse decision, and with the register and the compliance report.
//!
//! Cases: 256 by default; the documented long run sets `COOP_PROPTEST_CASES=10000`.

// In test code a panic is a failed test, so indexing and expect are fine here.
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

mod support;

use coop_core::Hash;
use coop_treaty::*;
use proptest::prelude::*;
use std::collections::BTreeMap;
use support::*;

fn cases() -> u32 {
    std::env::var("COOP_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

const SIGNERS: [&str; 4] = ["KZ-MVD", "KZ-KNB", "TM-MVD", "TM-MNS"];
const PURPOSES: [&str; 3] = [
    "criminal investigation 2025-117",
    "tax audit",
    "asset recovery",
];
const THIRDS: [&str; 2] = ["Interpol", "Europol"];

#[derive(Clone, Debug)]
enum Act {
    Transfer {
        item: u8,
    },
    Use {
        item: u8,
        purpose: usize,
        signer: usize,
    },
    Grant {
        item: u8,
        third: Option<usize>,
        purpose: Option<usize>,
        signer: usize,
    },
    Deny {
        item: u8,
        signer: usize,
    },
    Onward {
        item: u8,
        third: usize,
        consent: usize,
        signer: usize,
    },
    /// The requesting authority asks for additional information (Art. 4.3).
    AskMore,
    /// The requested authority provides it: an Art. 7 item like any other.
    ProvideMore {
        item: u8,
    },
    Ack,
    Refuse {
        partial: bool,
        reasons: bool,
    },
    Execute {
        partial: bool,
    },
    NewRequest {
        case: u8,
    },
    Close {
        signer: usize,
    },
    Later {
        hours: u8,
    },
}

fn act() -> impl Strategy<Value = Act> {
    let item = 1u8..4;
    prop_oneof![
        3 => item.clone().prop_map(|item| Act::Transfer { item }),
        4 => (item.clone(), 0..3usize, 0..4usize).prop_map(|(item, purpose, signer)| Act::Use { item, purpose, signer }),
        3 => (item.clone(), proptest::option::of(0..2usize), proptest::option::of(0..3usize), 0..4usize)
            .prop_map(|(item, third, purpose, signer)| Act::Grant { item, third, purpose, signer }),
        1 => (item.clone(), 0..4usize).prop_map(|(item, signer)| Act::Deny { item, signer }),
        3 => (item.clone(), 0..2usize, 0..8usize, 0..4usize).prop_map(|(item, third, consent, signer)| Act::Onward { item, third, consent, signer }),
        1 => Just(Act::AskMore),
        2 => item.clone().prop_map(|item| Act::ProvideMore { item }),
        1 => Just(Act::Ack),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(partial, reasons)| Act::Refuse { partial, reasons }),
        1 => any::<bool>().prop_map(|partial| Act::Execute { partial }),
        1 => (2u8..5).prop_map(|case| Act::NewRequest { case }),
        1 => (0..4usize).prop_map(|signer| Act::Close { signer }),
        1 => (1u8..100).prop_map(|hours| Act::Later { hours }),
    ]
}

/// What the reference model remembers of Article 7.
#[derive(Default)]
struct Model {
    items: BTreeMap<u8, (Vec<String>, usize, usize)>, // permitted purposes, uses, onward
    grants: Vec<(Hash, u8, Option<String>, Vec<String>)>,
    closed: bool,
    /// Requests for additional information not yet answered.
    asked: usize,
}

fn party_of(signer: &str) -> Party {
    if signer.starts_with("KZ") {
        Party::Kz
    } else {
        Party::Tm
    }
}

fn play(w: &mut World, model: &mut Model, a: &Act) -> Option<bool> {
    // Returns Some(expected acceptance) for Article 7 acts the model judges, None otherwise.
    match a {
        Act::Transfer { item: i } => {
            let expect = !model.items.contains_key(i) && !model.closed;
            let got = w
                .try_case(
                    "TM-MVD",
                    1,
                    Payload::InformationTransferred {
                        item: item(*i),
                        recipient: id("KZ-MVD"),
                        kind: InfoKind::OperationalSearch,
                        restricted: true,
                        permitted_purposes: vec![purpose(PURPOSES[0])],
                        no_state_secret: true,
                        documents: written(*i, Party::Tm),
                    },
                )
                .is_ok();
            if got {
                model.items.insert(*i, (vec![PURPOSES[0].to_owned()], 0, 0));
            }
            assert_eq!(got, expect, "transfer of item {i}");
            Some(expect)
        }
        Act::Use {
            item: i,
            purpose: p,
            signer,
        } => {
            let s = SIGNERS[*signer];
            let p = PURPOSES[*p];
            let expect = model.items.get(i).is_some_and(|(permitted, _, _)| {
                s == "KZ-MVD" // the item's holder (Art. 7.2, docs/TREATY.md "Who acts")
                    && (permitted.iter().any(|x| x == p)
                        || model
                            .grants
                            .iter()
                            .any(|(_, gi, _, ps)| gi == i && ps.iter().any(|x| x == p)))
            });
            let got = w
                .try_case(
                    s,
                    1,
                    Payload::InformationUsed {
                        item: item(*i),
                        purpose: purpose(p),
                    },
                )
                .is_ok();
            if got && let Some(e) = model.items.get_mut(i) {
                e.1 += 1;
            }
            assert_eq!(got, expect, "use of item {i} for {p} by {s}");
            Some(expect)
        }
        Act::Grant {
            item: i,
            third,
            purpose: p,
            signer,
        } => {
            let s = SIGNERS[*signer];
            let third = third.map(|t| THIRDS[t].to_owned());
            let purposes: Vec<String> = p.map(|p| PURPOSES[p].to_owned()).into_iter().collect();
            let expect = model.items.contains_key(i)
                && party_of(s) == Party::Tm
                && (third.is_some() || !purposes.is_empty());
            let got = w
                .try_case(
                    s,
                    1,
                    Payload::ConsentGranted {
                        item: item(*i),
                        third_party: third.clone(),
                        purposes: purposes.iter().map(|p| purpose(p)).collect(),
                        documents: written(200, Party::Tm),
                    },
                )
                .is_ok();
            if got {
                model.grants.push((w.last_hash(), *i, third, purposes));
            }
            assert_eq!(got, expect, "consent for item {i} by {s}");
            Some(expect)
        }
        Act::Deny { item: i, signer } => {
            let s = SIGNERS[*signer];
            let expect = model.items.contains_key(i) && party_of(s) == Party::Tm;
            let got = w
                .try_case(
                    s,
                    1,
                    Payload::ConsentDenied {
                        item: item(*i),
                        third_party: None,
                    },
                )
                .is_ok();
            assert_eq!(got, expect);
            Some(expect)
        }
        Act::Onward {
            item: i,
            third,
            consent,
            signer,
        } => {
            let s = SIGNERS[*signer];
            let t = THIRDS[*third];
            let grant = model.grants.get(*consent).cloned();
            let consent_hash = grant.as_ref().map_or(Hash([0xEE; 32]), |g| g.0);
            let expect = model.items.contains_key(i)
                && s == "KZ-MVD"
                && grant
                    .as_ref()
                    .is_some_and(|(_, gi, gt, _)| gi == i && gt.as_deref() == Some(t));
            let got = w
                .try_case(
                    s,
                    1,
                    Payload::OnwardTransfer {
                        item: item(*i),
                        third_party: t.into(),
                        consent: consent_hash,
                    },
                )
                .is_ok();
            if got && let Some(e) = model.items.get_mut(i) {
                e.2 += 1;
            }
            assert_eq!(got, expect, "onward transfer of item {i} to {t} by {s}");
            Some(expect)
        }
        Act::AskMore => {
            let expect = !model.closed;
            let got = w
                .try_case(
                    "KZ-MVD",
                    1,
                    Payload::AdditionalInfoRequested {
                        documents: written(210, Party::Kz),
                    },
                )
                .is_ok();
            if got {
                model.asked += 1;
            }
            assert_eq!(got, expect, "a request for additional information");
            None
        }
        Act::ProvideMore { item: i } => {
            // Information provided as additional information is an Art. 7 item: new in
            // the case, free of state secrets, serving the request's purposes.
            let expect = model.asked > 0 && !model.closed && !model.items.contains_key(i);
            let got = w
                .try_case(
                    "TM-MVD",
                    1,
                    Payload::AdditionalInfoProvided {
                        information: Information {
                            item: item(*i),
                            kind: InfoKind::Archival,
                            restricted: false,
                            no_state_secret: true,
                            documents: written(100 + *i, Party::Tm),
                        },
                    },
                )
                .is_ok();
            if got {
                model.asked -= 1;
                model.items.insert(*i, (vec![PURPOSES[0].to_owned()], 0, 0));
            }
            assert_eq!(got, expect, "additional information as item {i}");
            Some(expect)
        }
        Act::Ack => {
            let _ = w.try_case("TM-MVD", 1, Payload::Acknowledged);
            None
        }
        Act::Refuse { partial, reasons } => {
            let _ = w.try_case(
                "TM-MVD",
                1,
                Payload::Refused {
                    extent: if *partial {
                        Extent::Partial
                    } else {
                        Extent::Full
                    },
                    grounds: vec![RefusalGround::PublicOrder],
                    reasons: if *reasons {
                        written(9, Party::Tm)
                    } else {
                        vec![]
                    },
                },
            );
            None
        }
        Act::Execute { partial } => {
            let _ = w.try_case(
                "TM-MVD",
                1,
                Payload::ExecutionReported {
                    extent: if *partial {
                        Extent::Partial
                    } else {
                        Extent::Full
                    },
                    reasons: written(8, Party::Tm),
                    search_outcome: None,
                    results: vec![],
                },
            );
            None
        }
        Act::NewRequest { case } => {
            let _ = w.try_case(
                "KZ-KNB",
                *case,
                Payload::Request(Box::new(request_to("TM-MNS"))),
            );
            None
        }
        Act::Close { signer } => {
            if w.try_case(SIGNERS[*signer], 1, Payload::CaseClosed).is_ok() {
                model.closed = true;
            }
            None
        }
        Act::Later { hours } => {
            w.later(u64::from(*hours) * HOUR);
            None
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn rebuild_from_zero_equals_incremental_state_at_every_prefix(acts in proptest::collection::vec(act(), 1..60)) {
        let mut w = World::with_case();
        let mut model = Model::default();
        let mut snapshots = vec![(w.state.size, w.state.clone())];
        for a in &acts {
            play(&mut w, &mut model, a);
            snapshots.push((w.state.size, w.state.clone()));
        }
        let full = State::replay(&w.records).map_err(|(s, v)| TestCaseError::fail(format!("replay refused {s}: {v}")))?;
        prop_assert_eq!(&full, &w.state);
        for (size, snap) in snapshots {
            let prefix = State::replay(w.records.iter().take(size as usize))
                .map_err(|(s, v)| TestCaseError::fail(format!("replay refused {s}: {v}")))?;
            prop_assert_eq!(&prefix, &snap);
            // A node's snapshot at this point, read back, then the tail replayed: the
            // state a full replay gives (what reopening from a snapshot relies on).
            let bytes = coop_treaty::snapshot::encode(&snap)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut resumed = coop_treaty::snapshot::decode(&bytes)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&resumed, &snap);
            for r in w.records.iter().skip(size as usize) {
                resumed.step(r).map_err(|v| TestCaseError::fail(format!("tail refused {}: {v}", r.seq)))?;
            }
            prop_assert_eq!(&resumed, &full);
        }
    }

    #[test]
    fn article7_reference_model_agrees_with_rules_register_and_report(acts in proptest::collection::vec(act(), 1..80)) {
        let mut w = World::with_case();
        let mut model = Model::default();
        for a in &acts {
            play(&mut w, &mut model, a);
        }
        for (i, (_, uses, onward)) in &model.items {
            let it = &w.state.register[&(case_id(1), item(*i))];
            prop_assert_eq!(it.uses.len(), *uses);
            prop_assert_eq!(it.onward.len(), *onward);
        }
        prop_assert_eq!(w.state.register.len(), model.items.len());
        let report = ComplianceReport::build(&w.state);
        prop_assert!(report.held(), "a history the rules accepted must show Article 7 held");
        let summary = ComplianceSummary::of(&w.state);
        prop_assert_eq!(summary.counts(), report.counts());
        prop_assert!(summary.held());
    }
}

#[test]
fn report_names_the_breaking_event_when_the_register_is_inconsistent() {
    // The rules never let a breach in, so build one by hand: the report must not trust
    // the register's bookkeeping.
    let mut w = World::with_case();
    w.transfer(1);
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::InformationUsed {
            item: item(1),
            purpose: purpose(PURPOSES[0]),
        },
    );
    let mut state = w.state.clone();
    if let Some(it) = state
        .register
        .get_mut(&(case_id(1), item(1)))
        .map(std::sync::Arc::make_mut)
    {
        it.uses[0].purpose = purpose("tax audit");
    }
    let report = ComplianceReport::build(&state);
    assert!(!report.held());
    // The summary the verifier keeps says the same, with the broken item's whole entry
    let summary = ComplianceSummary::of(&state);
    assert!(!summary.held());
    assert_eq!(summary.counts(), report.counts());
    assert_eq!(summary.counts().3, 1);
    assert_eq!(summary.broken, vec![report.items[0].clone()]);
    let (link, what) = *report.items[0].breach.clone().expect("breach");
    assert_eq!(link.seq, w.records.last().map(|r| r.seq).expect("records"));
    assert!(what.contains("tax audit"));
}
