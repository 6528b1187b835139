//! The rules read only what `reads` says (governance, the record's own case, what it
//! cites): on random histories of several cases interleaved with governance (protocols,
//! key changes, designations) and with records that cite others (Art. 1.2 agreements,
//! language arrangements, consents, cost proposals), replaying only the records
//! `bundle_seqs` picks for a case — the rest skipped — accepts every one of them and
//! gives exactly the case the full replay gives; and leaving out any one of them other
//! than the last of the case is refused. This is what makes an evidence bundle provably
//! complete.

#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

mod support;

use coop_core::{Hash, Record};
use coop_treaty::*;
use proptest::prelude::*;
use support::*;

fn cases() -> u32 {
    std::env::var("COOP_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

#[derive(Clone, Debug)]
enum Act {
    /// A request for case `case` (1..=3), citing the category agreement and/or the
    /// language arrangement recorded so far.
    Request {
        case: u8,
        other: bool,
        arranged: bool,
    },
    Ack {
        case: u8,
    },
    Transfer {
        case: u8,
        item: u8,
    },
    Consent {
        case: u8,
        item: u8,
    },
    Onward {
        case: u8,
        item: u8,
    },
    CostProposal {
        case: u8,
    },
    CostAccept {
        case: u8,
    },
    Close {
        case: u8,
    },
    Protocol,
    ProtocolAccept,
    KeyChange,
    Designate,
    Agreement,
    Arrangement,
    Later {
        hours: u8,
    },
}

fn act() -> impl Strategy<Value = Act> {
    let case = 1u8..4;
    prop_oneof![
        3 => (case.clone(), any::<bool>(), any::<bool>()).prop_map(|(case, other, arranged)| Act::Request { case, other, arranged }),
        2 => case.clone().prop_map(|case| Act::Ack { case }),
        3 => (case.clone(), 1u8..3).prop_map(|(case, item)| Act::Transfer { case, item }),
        2 => (case.clone(), 1u8..3).prop_map(|(case, item)| Act::Consent { case, item }),
        2 => (case.clone(), 1u8..3).prop_map(|(case, item)| Act::Onward { case, item }),
        1 => case.clone().prop_map(|case| Act::CostProposal { case }),
        1 => case.clone().prop_map(|case| Act::CostAccept { case }),
        1 => case.prop_map(|case| Act::Close { case }),
        1 => Just(Act::Protocol),
        1 => Just(Act::ProtocolAccept),
        1 => Just(Act::KeyChange),
        1 => Just(Act::Designate),
        1 => Just(Act::Agreement),
        1 => Just(Act::Arrangement),
        1 => (1u8..30).prop_map(|hours| Act::Later { hours }),
    ]
}

/// What the history holds so far, to build citing events.
#[derive(Default)]
struct Memory {
    agreement: Option<Hash>,
    arrangement: Option<Hash>,
    consents: Vec<(u8, u8, Hash)>,
    cost_proposals: Vec<(u8, Hash)>,
    protocols: u32,
    designated: u32,
    key_changes: u32,
}

fn play(w: &mut World, m: &mut Memory, a: &Act) {
    let rnd_key = |n: u32| coop_core::SecretKey::from_seed(&[0x40 + n as u8; 32]).public();
    match a {
        Act::Request {
            case,
            other,
            arranged,
        } => {
            let mut r = support::request();
            if *other && let Some(h) = m.agreement {
                r.category = CrimeCategory::Other(h);
            }
            if *arranged && let Some(h) = m.arrangement {
                r.language_arrangement = Some(h);
                r.documents = vec![doc(20, Language::Ru, DocRole::Original)];
            }
            let _ = w.try_case("KZ-MVD", *case, Payload::Request(Box::new(r)));
        }
        Act::Ack { case } => {
            let _ = w.try_case("TM-MVD", *case, Payload::Acknowledged);
        }
        Act::Transfer { case, item: i } => {
            let _ = w.try_case(
                "TM-MVD",
                *case,
                Payload::InformationTransferred {
                    item: item(*i),
                    recipient: id("KZ-MVD"),
                    kind: InfoKind::Forensic,
                    restricted: true,
                    permitted_purposes: vec![purpose(coop_treaty::testkit::PURPOSE)],
                    no_state_secret: true,
                    documents: written(40 + *i, Party::Tm),
                },
            );
        }
        Act::Consent { case, item: i } => {
            if w.try_case(
                "TM-MVD",
                *case,
                Payload::ConsentGranted {
                    item: item(*i),
                    third_party: Some("Interpol".into()),
                    purposes: vec![],
                    documents: written(70, Party::Tm),
                },
            )
            .is_ok()
            {
                m.consents.push((*case, *i, w.last_hash()));
            }
        }
        Act::Onward { case, item: i } => {
            let consent = m
                .consents
                .iter()
                .rev()
                .find(|(c, it, _)| c == case && it == i)
                .map_or(Hash([0xEE; 32]), |(_, _, h)| *h);
            let _ = w.try_case(
                "KZ-MVD",
                *case,
                Payload::OnwardTransfer {
                    item: item(*i),
                    third_party: "Interpol".into(),
                    consent,
                },
            );
        }
        Act::CostProposal { case } => {
            if w.try_case(
                "KZ-MVD",
                *case,
                Payload::CostArrangementProposed {
                    terms: doc(80, Language::Ru, DocRole::Original),
                },
            )
            .is_ok()
            {
                m.cost_proposals.push((*case, w.last_hash()));
            }
        }
        Act::CostAccept { case } => {
            if let Some((_, h)) = m.cost_proposals.iter().rev().find(|(c, _)| c == case) {
                let proposal = *h;
                let _ = w.try_case(
                    "TM-MVD",
                    *case,
                    Payload::CostArrangementAccepted { proposal },
                );
            }
        }
        Act::Close { case } => {
            let _ = w.try_case("KZ-MVD", *case, Payload::CaseClosed);
        }
        Act::Protocol => {
            m.protocols += 1;
            let _ = w.try_(
                "KZ-MFA",
                None,
                Payload::ProtocolProposed {
                    id: m.protocols,
                    text: doc(90, Language::Ru, DocRole::Original),
                    params: Params {
                        refusal_notice_ms: u64::from(m.protocols) * HOUR,
                        ..Params::default()
                    },
                    effective_from: w.now,
                },
            );
        }
        Act::ProtocolAccept => {
            let _ = w.try_(
                "TM-MFA",
                None,
                Payload::ProtocolAccepted { id: m.protocols },
            );
        }
        Act::KeyChange => {
            m.key_changes += 1;
            // KZ-KNB's key changes: it signs nothing here, so later events still verify.
            let _ = w.try_(
                "KZ-MFA",
                None,
                Payload::AuthorityKeyChanged {
                    authority: id("KZ-KNB"),
                    new_key: rnd_key(m.key_changes),
                },
            );
        }
        Act::Designate => {
            m.designated += 1;
            let _ = w.try_(
                "TM-MFA",
                None,
                Payload::AuthorityDesignated {
                    authority: id(&format!("TM-NEW{}", m.designated)),
                    key: rnd_key(100 + m.designated),
                    name: "A new authority".into(),
                },
            );
        }
        Act::Agreement => {
            if w.try_(
                "TM-MVD",
                None,
                Payload::CategoryAgreed {
                    with: id("KZ-MVD"),
                    description: "another crime".into(),
                },
            )
            .is_ok()
            {
                m.agreement = Some(w.last_hash());
            }
        }
        Act::Arrangement => {
            if w.try_(
                "KZ-MVD",
                None,
                Payload::LanguageArrangementProposed {
                    with: id("TM-MVD"),
                    languages: vec![Language::Ru],
                },
            )
            .is_ok()
            {
                let proposal = w.last_hash();
                if w.try_(
                    "TM-MVD",
                    None,
                    Payload::LanguageArrangementAccepted { proposal },
                )
                .is_ok()
                {
                    m.arrangement = Some(w.last_hash());
                }
            }
        }
        Act::Later { hours } => w.later(u64::from(*hours) * HOUR),
    }
}

/// Replays `records` (a subset, in seq order) skipping the rest, as a bundle verifier
/// does; the state, or the seq and violation of the first refusal.
fn replay_subset<'a>(
    records: impl IntoIterator<Item = &'a Record>,
) -> Result<State, (u64, Violation)> {
    let mut s = State::default();
    for r in records {
        s.skip_to(r.seq);
        s.step(r).map_err(|v| (r.seq, v))?;
    }
    Ok(s)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn bundle_replay_equals_full_replay(acts in proptest::collection::vec(act(), 1..70)) {
        let mut w = World::in_force();
        let mut m = Memory::default();
        for a in &acts {
            play(&mut w, &mut m, a);
        }
        let full = w.state.clone();
        for case in full.cases.keys() {
            let size = w.records.len() as u64;
            let seqs = bundle_seqs(&full, case, size, |s| w.records.get(s as usize).cloned())
                .expect("the case exists");
            let subset: Vec<&Record> = seqs.iter().map(|s| &w.records[*s as usize]).collect();
            let replayed = replay_subset(subset.iter().copied())
                .map_err(|(s, v)| TestCaseError::fail(format!("record {s} refused in the bundle: {v}")))?;
            prop_assert_eq!(replayed.cases.get(case), full.cases.get(case));
            // Every Art. 7 item of the case, too.
            let items = |s: &State| s.register.iter().filter(|((c, _), _)| c == case).map(|(_, i)| i.clone()).collect::<Vec<_>>();
            prop_assert_eq!(items(&replayed), items(&full));
            // Leaving out any one record before the case's last is refused (what follows
            // it is the governance up to the checkpoint, which the checkpoint's keys need).
            let last = full.cases[case].steps.last().expect("not empty").seq;
            for drop in seqs.iter().filter(|s| **s < last) {
                let r = replay_subset(subset.iter().copied().filter(|r| r.seq != *drop));
                prop_assert!(r.is_err(), "dropping record {} of case {} went unnoticed", drop, case);
            }
        }
    }
}
