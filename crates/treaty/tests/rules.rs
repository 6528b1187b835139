//! Given/when/then tests, one or more per clause of docs/TREATY.md: given a history, when
//! one more event is appended, then it is accepted with this state, or refused with this
//! violation and the state unchanged (checked inside `World::try_append`).

// In test code a panic is a failed test, so indexing and expect are fine here.
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

mod support;

use coop_core::Timestamp;
use coop_treaty::*;
use support::*;

// ------------------------------------------------------------------ Art. 10 / genesis

#[test]
fn art10_first_record_must_be_genesis() {
    let mut w = World::genesis_only();
    let mut fresh = World::genesis_only();
    fresh.state = State::default();
    let r = fresh.record("KZ-MFA", None, &Payload::GenesisAccepted);
    assert!(matches!(
        fresh.try_append(r),
        Err(Violation::Art10_Genesis(_))
    ));
    // and a second genesis is refused
    let again = w.record("TM-MFA", None, &Payload::TerminationNotice);
    assert!(matches!(
        w.try_append(again),
        Err(Violation::Art10_NotConstituted)
    ));
}

#[test]
fn art10_genesis_accepted_only_by_other_root() {
    let mut w = World::genesis_only();
    assert!(matches!(
        w.try_("KZ-MFA", None, Payload::GenesisAccepted),
        Err(Violation::Art10_Genesis(_))
    ));
    w.ok("TM-MFA", None, Payload::GenesisAccepted);
    assert!(w.state.agreement.accepted.is_some());
}

#[test]
fn art10_no_cooperation_before_entry_into_force() {
    let mut w = World::constituted();
    assert!(matches!(
        w.try_(
            "KZ-MVD",
            Some(w.at_case(1)),
            Payload::Request(Box::new(request()))
        ),
        Err(Violation::Art10_NotInForce)
    ));
    w.ok(
        "KZ-MFA",
        None,
        Payload::InternalProceduresCompleted {
            authorities: vec![id("KZ-MVD")],
        },
    );
    // One notification is not enough.
    assert!(matches!(
        w.try_(
            "KZ-MVD",
            Some(w.at_case(1)),
            Payload::Request(Box::new(request()))
        ),
        Err(Violation::Art10_NotInForce)
    ));
    w.later(HOUR);
    w.ok(
        "TM-MFA",
        None,
        Payload::InternalProceduresCompleted {
            authorities: vec![id("TM-MVD")],
        },
    );
    assert_eq!(
        w.state.agreement.in_force_from(),
        Some(Timestamp(w.now - 1))
    );
    w.ok_case("KZ-MVD", 1, Payload::Request(Box::new(request())));
}

#[test]
fn art10_notification_lists_own_competent_authorities_once() {
    let mut w = World::constituted();
    assert!(matches!(
        w.try_(
            "KZ-MFA",
            None,
            Payload::InternalProceduresCompleted {
                authorities: vec![id("TM-MVD")]
            }
        ),
        Err(Violation::Art3_Registry(_))
    ));
    w.ok(
        "KZ-MFA",
        None,
        Payload::InternalProceduresCompleted {
            authorities: vec![id("KZ-MVD")],
        },
    );
    assert!(matches!(
        w.try_(
            "KZ-MFA",
            None,
            Payload::InternalProceduresCompleted {
                authorities: vec![id("KZ-MVD")]
            }
        ),
        Err(Violation::Art10_Procedure(_))
    ));
}

#[test]
fn art10_no_new_request_after_termination_but_open_cases_continue() {
    let mut w = World::with_case();
    w.ok("TM-MFA", None, Payload::TerminationNotice);
    let t = w.state.agreement.termination.clone().expect("termination");
    assert_eq!(t.effective_at, add_months(t.received_at, 6));
    // Before the date: still allowed.
    w.ok_case("KZ-MVD", 2, Payload::Request(Box::new(request())));
    w.now = t.effective_at.0;
    assert!(matches!(
        w.try_case("KZ-MVD", 3, Payload::Request(Box::new(request()))),
        Err(Violation::Art10_Terminated(_))
    ));
    // An existing case can still be answered.
    w.ok_case("TM-MVD", 1, Payload::Acknowledged);
}

// ------------------------------------------------------------------ Art. 3

#[test]
fn art3_unregistered_author_is_refused() {
    let mut w = World::in_force();
    // KZ-AUDIT has a key in the world but was never registered.
    assert!(matches!(
        w.try_case("KZ-AUDIT", 1, Payload::Request(Box::new(request()))),
        Err(Violation::Art3_UnknownAuthority(_))
    ));
}

#[test]
fn art3_governance_needs_a_root_and_cooperation_an_authority() {
    let mut w = World::in_force();
    let key = w.key("KZ-AUDIT");
    assert!(matches!(
        w.try_(
            "KZ-MVD",
            None,
            Payload::ObserverRegistered {
                id: id("KZ-AUDIT"),
                role: Role::Auditor,
                key
            }
        ),
        Err(Violation::Art3_NotRoot { .. })
    ));
    assert!(matches!(
        w.try_case("KZ-MFA", 1, Payload::Request(Box::new(request()))),
        Err(Violation::Art3_NotCompetentAuthority { .. })
    ));
    w.ok(
        "KZ-MFA",
        None,
        Payload::ObserverRegistered {
            id: id("KZ-AUDIT"),
            role: Role::Auditor,
            key,
        },
    );
    assert!(matches!(
        w.try_case("KZ-AUDIT", 1, Payload::Request(Box::new(request()))),
        Err(Violation::Art3_NotCompetentAuthority { .. })
    ));
}

#[test]
fn art3_a_root_changes_only_its_own_partys_register() {
    let mut w = World::in_force();
    assert!(matches!(
        w.try_(
            "KZ-MFA",
            None,
            Payload::AuthorityRetired {
                authority: id("TM-MVD")
            }
        ),
        Err(Violation::Art3_Registry(_))
    ));
    assert!(matches!(
        w.try_(
            "KZ-MFA",
            None,
            Payload::AuthorityDesignated {
                authority: id("KZ-MVD"),
                key: w.key("KZ-AUDIT"),
                name: "dup".into()
            }
        ),
        Err(Violation::Art3_Registry(_))
    ));
}

#[test]
fn art3_weak_or_reused_keys_are_refused() {
    let mut w = World::in_force();
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert!(matches!(
        w.try_(
            "KZ-MFA",
            None,
            Payload::AuthorityDesignated {
                authority: id("KZ-NEW"),
                key: coop_core::PublicKey(identity),
                name: "New".into()
            }
        ),
        Err(Violation::Art3_Registry(_))
    ));
    assert!(matches!(
        w.try_(
            "KZ-MFA",
            None,
            Payload::AuthorityDesignated {
                authority: id("KZ-NEW"),
                key: w.key("TM-MVD"),
                name: "New".into()
            }
        ),
        Err(Violation::Art3_Registry(_))
    ));
}

#[test]
fn art3_revocation_stops_new_records_but_never_invalidates_earlier_ones() {
    let mut w = World::with_case();
    let key = w.key("KZ-MVD");
    w.ok(
        "KZ-MFA",
        None,
        Payload::KeyRevoked {
            authority: id("KZ-MVD"),
            key,
        },
    );
    assert!(matches!(
        w.try_case("KZ-MVD", 2, Payload::Request(Box::new(request()))),
        Err(Violation::Art3_KeyNotActive(_))
    ));
    // Replaying the whole history from record 0 still accepts the request made before.
    let replayed = State::replay(&w.records).expect("history stays valid");
    assert_eq!(replayed, w.state);
    // A new key works from the next record on.
    w.keys
        .insert("KZ-MVD".into(), coop_core::SecretKey::from_seed(&[33; 32]));
    let new_key = w.key("KZ-MVD");
    w.ok(
        "KZ-MFA",
        None,
        Payload::AuthorityKeyChanged {
            authority: id("KZ-MVD"),
            new_key,
        },
    );
    w.ok_case("KZ-MVD", 2, Payload::Request(Box::new(request())));
}

#[test]
fn art3_retired_authority_signs_nothing_and_receives_no_request() {
    let mut w = World::in_force();
    w.ok(
        "TM-MFA",
        None,
        Payload::AuthorityRetired {
            authority: id("TM-MVD"),
        },
    );
    assert!(matches!(
        w.try_case("KZ-MVD", 1, Payload::Request(Box::new(request()))),
        Err(Violation::Art4_1_WrongRecipient(_))
    ));
}

// ------------------------------------------------------------------ Art. 1 and 2

#[test]
fn art1_1_request_with_listed_category_opens_a_case() {
    let w = World::with_case();
    let c = w.case(1);
    assert_eq!(c.status, CaseStatus::Open);
    assert_eq!(c.category, CrimeCategory::Narcotics);
    assert_eq!(c.requester, id("KZ-MVD"));
    assert_eq!(c.version, 1);
}

#[test]
fn art1_2_other_crime_needs_the_other_partys_recorded_agreement() {
    let mut w = World::in_force();
    let mut r = request();
    r.category = CrimeCategory::Other(coop_core::Hash([9; 32]));
    assert!(matches!(
        w.try_case("KZ-MVD", 1, Payload::Request(Box::new(r.clone()))),
        Err(Violation::Art1_2_NoAgreement(_))
    ));
    // An agreement signed by the requesting Party itself does not count.
    w.ok(
        "KZ-KNB",
        None,
        Payload::CategoryAgreed {
            with: id("TM-MVD"),
            description: "wildlife trafficking".into(),
        },
    );
    r.category = CrimeCategory::Other(w.last_hash());
    assert!(matches!(
        w.try_case("KZ-MVD", 1, Payload::Request(Box::new(r.clone()))),
        Err(Violation::Art1_2_NoAgreement(_))
    ));
    w.ok(
        "TM-MVD",
        None,
        Payload::CategoryAgreed {
            with: id("KZ-MVD"),
            description: "wildlife trafficking".into(),
        },
    );
    r.category = CrimeCategory::Other(w.last_hash());
    w.ok_case("KZ-MVD", 1, Payload::Request(Box::new(r)));
}

#[test]
fn art1_3_wanted_person_search_reports_its_outcome() {
    let mut w = World::in_force();
    let mut r = request();
    r.wanted_person_search = true;
    w.ok_case("KZ-MVD", 1, Payload::Request(Box::new(r)));
    assert!(matches!(
        w.try_case(
            "TM-MVD",
            1,
            Payload::ExecutionReported {
                extent: Extent::Full,
                reasons: vec![],
                search_outcome: None,
                results: vec![],
            }
        ),
        Err(Violation::Art1_3_Search(_))
    ));
    w.ok_case(
        "TM-MVD",
        1,
        Payload::ExecutionReported {
            extent: Extent::Full,
            reasons: vec![],
            search_outcome: Some(SearchOutcome::Detained),
            results: vec![],
        },
    );
    assert_eq!(w.case(1).search_outcome, Some(SearchOutcome::Detained));
    // An outcome on an ordinary request is refused.
    w.ok_case("KZ-MVD", 2, Payload::Request(Box::new(request())));
    assert!(matches!(
        w.try_case(
            "TM-MVD",
            2,
            Payload::ExecutionReported {
                extent: Extent::Full,
                reasons: vec![],
                search_outcome: Some(SearchOutcome::Found),
                results: vec![],
            }
        ),
        Err(Violation::Art1_3_Search(_))
    ));
}

#[test]
fn art2_forms_other_than_requests_are_other_cooperation() {
    let mut w = World::in_force();
    let mut r = request();
    r.form = Form::Training;
    assert!(matches!(
        w.try_case("KZ-MVD", 1, Payload::Request(Box::new(r))),
        Err(Violation::Art2_Form(_))
    ));
    assert!(matches!(
        w.try_(
            "KZ-MVD",
            None,
            Payload::OtherCooperation {
                form: Form::ExecuteRequest,
                with: id("TM-MVD"),
                summary: doc(7, Language::Ru, DocRole::Original)
            }
        ),
        Err(Violation::Art2_Form(_))
    ));
    w.ok(
        "KZ-MVD",
        None,
        Payload::OtherCooperation {
            form: Form::Training,
            with: id("TM-MVD"),
            summary: doc(7, Language::Ru, DocRole::Original),
        },
    );
    assert_eq!(w.state.other_cooperation.len(), 1);
}

// ------------------------------------------------------------------ Art. 4.1

fn refused_with(mut edit: impl FnMut(&mut Request)) -> Violation {
    let mut w = World::in_force();
    let mut r = request();
    edit(&mut r);
    w.try_case("KZ-MVD", 1, Payload::Request(Box::new(r)))
        .expect_err("must be refused")
}

/// Issue 26, finding 8: a right-to-left override, NUL or BOM in any free-text field
/// would show two readers two texts; refused naming the field, nothing changed.
#[test]
fn text_a_reader_cannot_see_is_refused_naming_its_field() {
    // Given a request whose purpose hides a right-to-left override
    // When it is appended, then it is refused naming the field and the character
    assert_eq!(
        refused_with(|r| r.purposes = vec![purpose("tax \u{202e}tidua")]),
        Violation::HiddenText {
            field: "Request.purposes[0]".into(),
            code: "U+202E".into()
        }
    );
    assert_eq!(
        refused_with(|r| r.elements.requesting_service = "MVD\0".into()),
        Violation::HiddenText {
            field: "Request.elements.requesting_service".into(),
            code: "U+0000".into()
        }
    );
    // And in an event outside a case too (a name, a description)
    let mut w = World::in_force();
    for (signer, payload, field, code) in [
        (
            "KZ-KNB",
            Payload::CategoryAgreed {
                with: id("TM-MVD"),
                description: "\u{feff}wildlife".into(),
            },
            "CategoryAgreed.description",
            "U+FEFF",
        ),
        (
            "KZ-KNB",
            Payload::CategoryAgreed {
                with: id("TM-MVD"),
                description: "wild\tlife".into(),
            },
            "CategoryAgreed.description",
            "U+0009",
        ),
    ] {
        assert_eq!(
            w.try_(signer, None, payload),
            Err(Violation::HiddenText {
                field: field.into(),
                code: code.into()
            })
        );
    }
    // A plain text in any script is accepted.
    w.ok(
        "KZ-KNB",
        None,
        Payload::CategoryAgreed {
            with: id("TM-MVD"),
            description: "ёбызның контрабандасы — Ýabany haýwanlar «wildlife»".into(),
        },
    );
}

/// Issue 27, item 3: a draft is told every problem at once — here the tour's request
/// with an uncertified decision copy, no translation of its content and a purpose with a
/// hidden character — and nothing changes.
#[test]
fn a_draft_is_told_every_problem_at_once_and_nothing_changes() {
    // Given a request with three problems of different articles
    let mut w = World::in_force();
    let mut r = request();
    if let Some(d) = r.elements.decision_copy.as_mut() {
        d.role = DocRole::Original;
    }
    let content = r.elements.content.clone().expect("content").digest;
    r.documents
        .retain(|d| d.role != DocRole::TranslationOf(content));
    r.purposes.push(purpose("tax \u{202e}tidua"));
    let case = Some(w.at_case(1));
    let record = w.record("KZ-MVD", case, &Payload::Request(Box::new(r.clone())));
    let before = w.state.clone();
    // When the draft is checked
    let problems = w.state.problems(&record);
    // Then each problem is named, the rules' own first, and the state is unchanged
    assert_eq!(w.state, before);
    let decision = r.elements.decision_copy.as_ref().expect("decision").digest;
    assert!(
        problems.contains(&Violation::Art4_1_5NotCertified(decision)),
        "{problems:?}"
    );
    assert!(
        problems.contains(&Violation::Art4_2_MissingTranslation {
            document: content,
            target: Language::Tk
        }),
        "{problems:?}"
    );
    assert!(
        problems.contains(&Violation::HiddenText {
            field: "Request.purposes[1]".into(),
            code: "U+202E".into()
        }),
        "{problems:?}"
    );
    let first = w.state.clone().step(&record).expect_err("refused");
    assert_eq!(problems.first(), Some(&first));
    assert_eq!(problems.len(), 3, "{problems:?}");
    // And a draft without problems has none
    let good = w.record("KZ-MVD", case, &Payload::Request(Box::new(request())));
    assert_eq!(w.state.problems(&good), vec![]);
}

#[test]
fn art4_1_each_missing_element_is_named() {
    assert_eq!(
        refused_with(|r| r.elements.requested_authority = None),
        Violation::Art4_1_1MissingRequestedAuthority
    );
    assert!(matches!(
        refused_with(|r| r.elements.grounds = None),
        Violation::Art4_1_2MissingGrounds(_)
    ));
    assert!(matches!(
        refused_with(|r| r.elements.requesting_service = " ".into()),
        Violation::Art4_1_2MissingGrounds(_)
    ));
    assert!(matches!(
        refused_with(|r| r.elements.requested_service = String::new()),
        Violation::Art4_1_2MissingGrounds(_)
    ));
    assert_eq!(
        refused_with(|r| r.elements.case_description = None),
        Violation::Art4_1_3MissingCaseDescription
    );
    assert_eq!(
        refused_with(|r| r.elements.content = None),
        Violation::Art4_1_4MissingContent
    );
    assert_eq!(
        refused_with(|r| r.elements.decision_copy = None),
        Violation::Art4_1_5MissingDecisionCopy
    );
    assert_eq!(
        refused_with(|r| r.elements.legal_provision = None),
        Violation::Art4_1_5MissingLegalProvision
    );
    let v = refused_with(|r| r.elements.decision_copy = None);
    assert_eq!(v.clause(), "Art. 4.1(5)");
    assert!(v.to_string().contains("certified copy of the decision"));
}

#[test]
fn art4_1_request_goes_to_the_other_partys_authority() {
    let mut w = World::in_force();
    assert!(matches!(
        w.try_case(
            "KZ-MVD",
            1,
            Payload::Request(Box::new(request_to("KZ-KNB")))
        ),
        Err(Violation::Art4_1_WrongRecipient(_))
    ));
    assert!(matches!(
        w.try_case(
            "KZ-MVD",
            1,
            Payload::Request(Box::new(request_to("TM-NOBODY")))
        ),
        Err(Violation::Art4_1_WrongRecipient(_))
    ));
}

#[test]
fn art4_1_oral_request_opens_a_confirmation_deadline() {
    let mut w = World::in_force();
    let mut r = request();
    r.oral = true;
    r.documents.clear();
    assert!(matches!(
        w.try_case("KZ-MVD", 1, Payload::Request(Box::new(r.clone()))),
        Err(Violation::Art4_1_Oral(_))
    ));
    r.urgent = true;
    w.ok_case("KZ-MVD", 1, Payload::Request(Box::new(r)));
    let due = w.case(1).deadlines[0].due;
    assert!(
        w.case(1).overdue_at(Timestamp(due.0 + 1)).len() == 1,
        "unconfirmed past the deadline shows overdue"
    );
    assert!(w.case(1).overdue_at(Timestamp(due.0)).is_empty());
    // Confirmed late: the breach stays visible.
    w.now = due.0 + HOUR;
    let docs = request().documents;
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::OralRequestConfirmed {
            documents: docs.clone(),
        },
    );
    assert!(w.case(1).confirmed);
    assert_eq!(w.case(1).overdue_at(Timestamp(w.now)).len(), 1);
    assert!(matches!(
        w.try_case(
            "KZ-MVD",
            1,
            Payload::OralRequestConfirmed { documents: docs }
        ),
        Err(Violation::Art4_1_Oral(_))
    ));
}

// ------------------------------------------------------------------ Art. 4.2

/// Issue 28, finding 4: an oral request is made orally (Art. 4.1); the Art. 4.2 rule —
/// written documents in the state language with their translation, in the same event —
/// applies to its written confirmation. The spec said so of every request; the rules
/// exempted only an oral request that carried no translation at all.
#[test]
fn art4_2_an_oral_request_is_put_in_writing_with_its_translations_by_its_confirmation() {
    // Given an urgent oral request whose record carries an untranslated document
    let mut w = World::in_force();
    let mut r = request();
    r.oral = true;
    r.urgent = true;
    r.documents = vec![doc(61, Language::Kk, DocRole::Original)];
    // When it is recorded, then Art. 4.2 does not apply yet: it was made orally
    w.ok_case("KZ-MVD", 1, Payload::Request(Box::new(r)));
    // And its written confirmation without the translation is refused under Art. 4.2
    let original = doc(62, Language::Kk, DocRole::Original);
    assert_eq!(
        w.try_case(
            "KZ-MVD",
            1,
            Payload::OralRequestConfirmed {
                documents: vec![original.clone()],
            },
        ),
        Err(Violation::Art4_2_MissingTranslation {
            document: original.digest,
            target: Language::Tk
        })
    );
    // With it, it is the written request
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::OralRequestConfirmed {
            documents: translated(original),
        },
    );
    assert!(w.case(1).confirmed);
}

#[test]
fn art4_2_state_language_original_and_translation_required() {
    // Given a complete request, when its covering letter's translation is left out,
    // then it is refused naming that document.
    let covering = doc(10, Language::Kk, DocRole::Original).digest;
    let v = refused_with(|r| {
        r.documents
            .retain(|d| d.role != DocRole::TranslationOf(covering))
    });
    assert_eq!(
        v,
        Violation::Art4_2_MissingTranslation {
            document: covering,
            target: Language::Tk
        }
    );
    // An original in the other Party's language is not the author's state language.
    let v = refused_with(|r| {
        r.documents.push(doc(60, Language::Tk, DocRole::Original));
    });
    assert_eq!(
        v,
        Violation::Art4_2_NotInStateLanguage {
            document: doc(60, Language::Tk, DocRole::Original).digest,
            language: Language::Tk,
            own: Language::Kk
        }
    );
    // A translation into Russian is enough.
    let mut w = World::in_force();
    let mut r = request();
    for t in r.documents.iter_mut() {
        if matches!(t.role, DocRole::TranslationOf(_)) {
            t.language = Language::Ru;
        }
    }
    w.ok_case("KZ-MVD", 1, Payload::Request(Box::new(r)));
}

/// Issue 11, finding 4: the five element documents are requests and supporting documents
/// too; a request whose elements are all in Turkmen (from Kazakhstan), or untranslated,
/// used to be accepted.
#[test]
fn art4_2_applies_to_every_element_document_of_a_request() {
    // Given: a KZ request whose five elements are in Turkmen, with a correct covering
    // letter. When submitted, then refused under Art. 4.2, the state unchanged.
    let mut w = World::in_force();
    let mut r = request_in("TM-MVD", Language::Tk);
    r.documents = written(10, Party::Kz);
    let before = w.state.clone();
    let v = w
        .try_case("KZ-MVD", 1, Payload::Request(Box::new(r)))
        .expect_err("elements in the other Party's language");
    assert!(
        matches!(v, Violation::Art4_2_NotInStateLanguage { .. }),
        "{v}"
    );
    assert_eq!(v.clause(), "Art. 4.2");
    assert_eq!(w.state, before);
    // Elements in Kazakh but untranslated: refused, naming the element's document.
    let mut r = request_in("TM-MVD", Language::Kk);
    r.documents = written(10, Party::Kz);
    let v = w
        .try_case("KZ-MVD", 1, Payload::Request(Box::new(r)))
        .expect_err("untranslated elements");
    assert!(
        matches!(v, Violation::Art4_2_MissingTranslation { .. }),
        "{v}"
    );
    assert_eq!(w.state, before);
}

/// Issue 11, finding 4: "later communications" — refusal reasons, execution reports,
/// requests for and provision of additional information, information, consents — are
/// drawn up and translated as requests are.
#[test]
fn art4_2_applies_to_every_later_communication() {
    let mut w = World::with_case();
    let before = w.state.clone();
    // An untranslated refusal notice (Turkmen only), then one in Kazakh by TM.
    for reasons in [
        vec![doc(41, Language::Tk, DocRole::Original)],
        vec![doc(41, Language::Kk, DocRole::Original)],
    ] {
        let v = w
            .try_case(
                "TM-MVD",
                1,
                Payload::Refused {
                    extent: Extent::Full,
                    grounds: vec![RefusalGround::Security],
                    reasons,
                },
            )
            .expect_err("untranslated or in the wrong language");
        assert_eq!(v.clause(), "Art. 4.2", "{v}");
        assert_eq!(w.state, before);
    }
    // An execution report whose result is untranslated.
    let mut result = info(3, doc(43, Language::Tk, DocRole::Original));
    result.documents.truncate(1);
    let v = w
        .try_case(
            "TM-MVD",
            1,
            Payload::ExecutionReported {
                extent: Extent::Full,
                reasons: vec![],
                search_outcome: None,
                results: vec![result],
            },
        )
        .expect_err("untranslated result");
    assert_eq!(v.clause(), "Art. 4.2", "{v}");
    // A request for additional information in Turkmen from the KZ side.
    let v = w
        .try_case(
            "KZ-MVD",
            1,
            Payload::AdditionalInfoRequested {
                documents: written(44, Party::Tm),
            },
        )
        .expect_err("the other Party's language");
    assert_eq!(v.clause(), "Art. 4.2", "{v}");
    assert_eq!(w.state, before);
    // Written and translated: accepted.
    w.ok_case(
        "TM-MVD",
        1,
        Payload::Refused {
            extent: Extent::Full,
            grounds: vec![RefusalGround::Security],
            reasons: written(41, Party::Tm),
        },
    );
}

#[test]
fn art4_2_language_arrangement_between_two_authorities_overrides() {
    let mut w = World::in_force();
    let mut r = request_in("TM-MVD", Language::Ru);
    assert!(matches!(
        w.try_case("KZ-MVD", 1, Payload::Request(Box::new(r.clone()))),
        Err(Violation::Art4_2_NotInStateLanguage { .. })
    ));
    w.ok(
        "KZ-MVD",
        None,
        Payload::LanguageArrangementProposed {
            with: id("TM-MVD"),
            languages: vec![Language::Ru],
        },
    );
    let proposal = w.last_hash();
    assert!(matches!(
        w.try_(
            "KZ-MVD",
            None,
            Payload::LanguageArrangementAccepted { proposal }
        ),
        Err(Violation::Art4_2_Language(_))
    ));
    w.ok(
        "TM-MVD",
        None,
        Payload::LanguageArrangementAccepted { proposal },
    );
    let acceptance = w.last_hash();
    // The arrangement applies to the requests that cite it (the rules read only what an
    // event names): without the citation the default rule still applies.
    assert!(matches!(
        w.try_case("KZ-MVD", 1, Payload::Request(Box::new(r.clone()))),
        Err(Violation::Art4_2_NotInStateLanguage { .. })
    ));
    // The proposal is not the acceptance.
    r.language_arrangement = Some(proposal);
    assert!(matches!(
        w.try_case("KZ-MVD", 1, Payload::Request(Box::new(r.clone()))),
        Err(Violation::Art4_2_Language(_))
    ));
    r.language_arrangement = Some(acceptance);
    w.ok_case("KZ-MVD", 1, Payload::Request(Box::new(r)));
    assert_eq!(w.case(1).language_arrangement, Some(acceptance));
    // The case's later communications follow the arrangement: Russian alone is enough,
    // Kazakh is outside it.
    w.ok_case("TM-MVD", 1, Payload::Acknowledged);
    assert!(matches!(
        w.try_case(
            "TM-MVD",
            1,
            Payload::Refused {
                extent: Extent::Full,
                grounds: vec![RefusalGround::Security],
                reasons: written(41, Party::Tm),
            }
        ),
        Err(Violation::Art4_2_Language(_))
    ));
    w.ok_case(
        "TM-MVD",
        1,
        Payload::Refused {
            extent: Extent::Full,
            grounds: vec![RefusalGround::Security],
            reasons: vec![doc(41, Language::Ru, DocRole::Original)],
        },
    );
    // Other pairs of authorities are not covered.
    let mut r = request_in("TM-MNS", Language::Ru);
    r.language_arrangement = Some(acceptance);
    assert!(matches!(
        w.try_case("KZ-MVD", 2, Payload::Request(Box::new(r))),
        Err(Violation::Art4_2_Language(_))
    ));
}

// ------------------------------------------------------------------ Art. 4.3 – 4.6

#[test]
fn art4_3_additional_information_must_have_been_requested() {
    let mut w = World::with_case();
    let d = doc(30, Language::Tk, DocRole::Original);
    assert!(matches!(
        w.try_case(
            "TM-MVD",
            1,
            Payload::AdditionalInfoProvided {
                information: info(30, d.clone())
            }
        ),
        Err(Violation::Art4_3_AdditionalInfo(_))
    ));
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::AdditionalInfoRequested {
            documents: translated(doc(31, Language::Kk, DocRole::Original)),
        },
    );
    w.later(100 * HOUR);
    assert_eq!(w.case(1).overdue_at(Timestamp(w.now)).len(), 1);
    w.ok_case(
        "TM-MVD",
        1,
        Payload::AdditionalInfoProvided {
            information: info(30, d),
        },
    );
    assert!(w.case(1).deadlines.iter().all(|x| x.met_at.is_some()));
}

#[test]
fn art4_4_transfer_without_no_state_secret_declaration_is_refused() {
    let mut w = World::with_case();
    let v = w
        .try_case(
            "TM-MVD",
            1,
            Payload::InformationTransferred {
                item: item(1),
                recipient: id("KZ-MVD"),
                kind: InfoKind::Archival,
                restricted: false,
                permitted_purposes: vec![purpose("criminal investigation 2025-117")],
                no_state_secret: false,
                documents: translated(doc(40, Language::Tk, DocRole::Original)),
            },
        )
        .expect_err("refused");
    assert_eq!(v, Violation::Art4_4_StateSecret);
    assert!(w.state.register.is_empty());
}

#[test]
fn art4_5_refusal_needs_grounds_from_the_list() {
    let mut w = World::with_case();
    assert_eq!(
        w.try_case(
            "TM-MVD",
            1,
            Payload::Refused {
                extent: Extent::Full,
                grounds: vec![],
                reasons: translated(doc(41, Language::Tk, DocRole::Original))
            }
        ),
        Err(Violation::Art4_5_NoGrounds)
    );
}

#[test]
fn art4_6_refusal_and_partial_execution_need_reasons_measured_against_the_deadline() {
    let mut w = World::with_case();
    assert_eq!(
        w.try_case(
            "TM-MVD",
            1,
            Payload::Refused {
                extent: Extent::Full,
                grounds: vec![RefusalGround::Security],
                reasons: vec![]
            }
        ),
        Err(Violation::Art4_6_NoReasons(coop_treaty::detail!(
            "reasons-refusal",
            "a refusal"
        )))
    );
    w.later(80 * HOUR); // later than the 72-hour parameter
    w.ok_case(
        "TM-MVD",
        1,
        Payload::Refused {
            extent: Extent::Full,
            grounds: vec![RefusalGround::Security],
            reasons: translated(doc(41, Language::Tk, DocRole::Original)),
        },
    );
    let c = w.case(1);
    assert_eq!(c.status, CaseStatus::Refused);
    let late: Vec<_> = c
        .overdue_at(Timestamp(w.now))
        .into_iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(late, [DeadlineKind::ReasonsNotice]);

    let mut w = World::with_case();
    assert_eq!(
        w.try_case(
            "TM-MVD",
            1,
            Payload::ExecutionReported {
                extent: Extent::Partial,
                reasons: vec![],
                search_outcome: None,
                results: vec![],
            }
        ),
        Err(Violation::Art4_6_NoReasons(coop_treaty::detail!(
            "reasons-partial-execution",
            "a partial execution"
        )))
    );
}

// ------------------------------------------------------------------ lifecycle

#[test]
fn lifecycle_no_second_final_answer_and_nothing_after_closing() {
    let mut w = World::with_case();
    w.ok_case("TM-MVD", 1, Payload::Acknowledged);
    assert!(matches!(
        w.try_case("TM-MVD", 1, Payload::Acknowledged),
        Err(Violation::AlreadyAnswered(_))
    ));
    w.ok_case(
        "TM-MVD",
        1,
        Payload::ExecutionReported {
            extent: Extent::Full,
            reasons: vec![],
            search_outcome: None,
            results: vec![],
        },
    );
    assert!(matches!(
        w.try_case(
            "TM-MVD",
            1,
            Payload::Refused {
                extent: Extent::Full,
                grounds: vec![RefusalGround::Security],
                reasons: translated(doc(1, Language::Tk, DocRole::Original))
            }
        ),
        Err(Violation::AlreadyAnswered(_))
    ));
    w.ok_case("KZ-MVD", 1, Payload::CaseClosed);
    assert!(matches!(
        w.try_case("KZ-MVD", 1, Payload::CaseClosed),
        Err(Violation::CaseClosed)
    ));
    assert!(matches!(
        w.try_case(
            "KZ-MVD",
            1,
            Payload::AdditionalInfoRequested {
                documents: translated(doc(2, Language::Kk, DocRole::Original))
            }
        ),
        Err(Violation::CaseClosed)
    ));
}

#[test]
fn lifecycle_partial_refusal_then_execution_of_the_rest() {
    let mut w = World::with_case();
    w.ok_case(
        "TM-MVD",
        1,
        Payload::Refused {
            extent: Extent::Partial,
            grounds: vec![RefusalGround::NationalLaw],
            reasons: translated(doc(1, Language::Tk, DocRole::Original)),
        },
    );
    assert_eq!(w.case(1).status, CaseStatus::PartlyRefused);
    assert!(matches!(
        w.try_case(
            "TM-MVD",
            1,
            Payload::Refused {
                extent: Extent::Partial,
                grounds: vec![RefusalGround::NationalLaw],
                reasons: translated(doc(1, Language::Tk, DocRole::Original))
            }
        ),
        Err(Violation::AlreadyAnswered(_))
    ));
    w.ok_case(
        "TM-MVD",
        1,
        Payload::ExecutionReported {
            extent: Extent::Partial,
            reasons: translated(doc(2, Language::Tk, DocRole::Original)),
            search_outcome: None,
            results: vec![],
        },
    );
    assert_eq!(w.case(1).status, CaseStatus::Executed(Extent::Partial));
}

#[test]
fn lifecycle_unknown_case_wrong_side_and_version_conflict() {
    let mut w = World::with_case();
    assert!(matches!(
        w.try_case("TM-MVD", 9, Payload::Acknowledged),
        Err(Violation::NoSuchCase)
    ));
    assert!(matches!(
        w.try_case("KZ-MVD", 1, Payload::Acknowledged),
        Err(Violation::WrongSide(_))
    ));
    assert!(matches!(
        w.try_case("TM-MNS", 1, Payload::Acknowledged),
        Err(Violation::WrongSide(_))
    ));
    let stale = coop_core::CaseRef {
        case_id: case_id(1),
        expected_version: 0,
    };
    assert_eq!(
        w.try_("TM-MVD", Some(stale), Payload::Acknowledged),
        Err(Violation::VersionConflict {
            expected: 0,
            actual: 1
        })
    );
    assert!(matches!(
        w.try_("TM-MVD", None, Payload::Acknowledged),
        Err(Violation::CaseRequired(_))
    ));
    assert!(matches!(
        w.try_case("KZ-MVD", 1, Payload::Request(Box::new(request()))),
        Err(Violation::CaseExists)
    ));
}

#[test]
fn lifecycle_causal_links_stay_inside_the_case() {
    let mut w = World::with_case();
    let request_hash = w.last_hash();
    let c = w.at_case(1);
    let r = w.record_with(
        "TM-MVD",
        Some(c),
        &Payload::Acknowledged,
        vec![coop_core::Hash([7; 32])],
    );
    assert!(matches!(w.try_append(r), Err(Violation::UnknownAnswer(_))));
    let r = w.record_with(
        "TM-MVD",
        Some(c),
        &Payload::Acknowledged,
        vec![request_hash],
    );
    assert_eq!(w.try_append(r), Ok(()));
}

// ------------------------------------------------------------------ Art. 5

#[test]
fn art5_each_party_bears_its_costs_unless_both_agree() {
    let mut w = World::with_case();
    w.ok_case(
        "TM-MVD",
        1,
        Payload::CostRecorded {
            amount_minor: 150_000,
            currency: "TMT".into(),
        },
    );
    assert!(matches!(
        w.try_case(
            "TM-MVD",
            1,
            Payload::CostRecorded {
                amount_minor: 1,
                currency: "manat".into()
            }
        ),
        Err(Violation::Art5_Costs(_))
    ));
    assert!(w.case(1).default_costs());
    w.ok_case(
        "TM-MVD",
        1,
        Payload::CostArrangementProposed {
            terms: doc(60, Language::Ru, DocRole::Original),
        },
    );
    let proposal = w.last_hash();
    assert!(matches!(
        w.try_case("TM-MVD", 1, Payload::CostArrangementAccepted { proposal }),
        Err(Violation::Art5_Costs(_))
    ));
    w.ok_case("KZ-MVD", 1, Payload::CostArrangementAccepted { proposal });
    assert!(!w.case(1).default_costs());
    assert_eq!(w.case(1).costs[0].party, Party::Tm);
}

// ------------------------------------------------------------------ Art. 7

#[test]
fn art7_2_use_only_for_a_purpose_of_the_request_or_a_consent() {
    let mut w = World::with_case();
    w.transfer(1);
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::InformationUsed {
            item: item(1),
            purpose: purpose("criminal investigation 2025-117"),
        },
    );
    let v = w
        .try_case(
            "KZ-MVD",
            1,
            Payload::InformationUsed {
                item: item(1),
                purpose: purpose("tax audit"),
            },
        )
        .expect_err("refused");
    assert!(matches!(
        v,
        Violation::Art7_2_PurposeNotPermitted {
            provider: Party::Tm,
            ..
        }
    ));
    assert!(
        v.to_string()
            .starts_with("Art. 7.2: information may not be used for \"tax audit\"")
    );
    // The providing Party consents to the further purpose: now allowed, with the basis recorded.
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::ConsentRequested {
            item: item(1),
            third_party: None,
            purposes: vec![purpose("tax audit")],
        },
    );
    w.ok_case(
        "TM-MNS",
        1,
        Payload::ConsentGranted {
            item: item(1),
            third_party: None,
            purposes: vec![purpose("tax audit")],
            documents: translated(doc(70, Language::Tk, DocRole::Original)),
        },
    );
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::InformationUsed {
            item: item(1),
            purpose: purpose("tax audit"),
        },
    );
    let uses = &w.state.register[&(case_id(1), item(1))].uses;
    assert!(matches!(uses[1].basis, UseBasis::Consent(_)));
}

/// Issue 28, finding 6: who acts on an item. Art. 7.2 forbids "the Parties" to use
/// information for other purposes or pass it on, and asks the consent of "the competent
/// authorities of the providing Party": the item is held by the authority it was
/// transferred to, which alone records its uses, asks for consent and passes it on; the
/// consent is the providing Party's, given or refused by any of its competent
/// authorities (docs/TREATY.md, "Who acts").
#[test]
fn art7_2_only_the_receiving_authority_acts_on_an_item_and_the_providing_party_consents() {
    // Given an item TM-MVD transferred to KZ-MVD in their case
    let mut w = World::with_case();
    w.transfer(1);
    let purpose = w.state.cases[&case_id(1)].purposes[0].clone();
    // When another authority of the receiving Party, not in the case, records a use, asks
    // for consent or passes it on, then each is refused, naming the holder
    for payload in [
        Payload::InformationUsed {
            item: item(1),
            purpose: purpose.clone(),
        },
        Payload::ConsentRequested {
            item: item(1),
            third_party: Some("Interpol NCB Astana".into()),
            purposes: vec![],
        },
    ] {
        assert_eq!(
            w.try_case("KZ-KNB", 1, payload.clone()),
            Err(Violation::Art7_2_NotTheRecipient {
                signer: id("KZ-KNB"),
                recipient: id("KZ-MVD"),
            }),
            "{}",
            payload.kind()
        );
    }
    // And the providing Party's authority cannot use what it provided
    assert!(
        w.try_case(
            "TM-MVD",
            1,
            Payload::InformationUsed {
                item: item(1),
                purpose: purpose.clone(),
            },
        )
        .is_err()
    );
    // The holder may
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::InformationUsed {
            item: item(1),
            purpose,
        },
    );
    // And the consent is the providing Party's: another of its competent authorities may
    // refuse it (the Agreement's "competent authorities of the providing Party")
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::ConsentRequested {
            item: item(1),
            third_party: Some("Interpol NCB Astana".into()),
            purposes: vec![],
        },
    );
    w.ok_case(
        "TM-MNS",
        1,
        Payload::ConsentDenied {
            item: item(1),
            third_party: Some("Interpol NCB Astana".into()),
        },
    );
}

#[test]
fn art7_2_onward_transfer_needs_prior_written_consent_of_the_provider() {
    let mut w = World::with_case();
    w.transfer(1);
    let fake = coop_core::Hash([3; 32]);
    let v = w
        .try_case(
            "KZ-MVD",
            1,
            Payload::OnwardTransfer {
                item: item(1),
                third_party: "Interpol NCB Astana".into(),
                consent: fake,
            },
        )
        .expect_err("refused");
    assert!(matches!(
        v,
        Violation::Art7_2_NoConsent {
            provider: Party::Tm,
            ..
        }
    ));
    // A "consent" signed by the recipient's own Party is not a consent.
    assert_eq!(
        w.try_case(
            "KZ-KNB",
            1,
            Payload::ConsentGranted {
                item: item(1),
                third_party: Some("Interpol NCB Astana".into()),
                purposes: vec![],
                documents: translated(doc(71, Language::Kk, DocRole::Original))
            }
        ),
        Err(Violation::Art7_2_ConsentNotFromProvider {
            provider: Party::Tm,
            signer_party: Party::Kz
        })
    );
    w.ok_case(
        "TM-MVD",
        1,
        Payload::ConsentGranted {
            item: item(1),
            third_party: Some("Interpol NCB Astana".into()),
            purposes: vec![],
            documents: translated(doc(72, Language::Tk, DocRole::Original)),
        },
    );
    let consent = w.last_hash();
    // The consent covers that recipient only.
    assert!(matches!(
        w.try_case(
            "KZ-MVD",
            1,
            Payload::OnwardTransfer {
                item: item(1),
                third_party: "Someone else".into(),
                consent
            }
        ),
        Err(Violation::Art7_2_NoConsent { .. })
    ));
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::OnwardTransfer {
            item: item(1),
            third_party: "Interpol NCB Astana".into(),
            consent,
        },
    );
    let report = ComplianceReport::build(&w.state);
    assert!(report.held());
    let it = &report.items[0];
    assert_eq!(it.onward.len(), 1);
    assert_eq!(it.onward[0].2.event_hash, consent);
    assert_eq!(it.provider.1, Party::Tm);
}

#[test]
fn art7_transfer_purposes_are_the_requests_and_items_are_unique() {
    let mut w = World::with_case();
    let bad = Payload::InformationTransferred {
        item: item(1),
        recipient: id("KZ-MVD"),
        kind: InfoKind::Forensic,
        restricted: true,
        permitted_purposes: vec![purpose("anything")],
        no_state_secret: true,
        documents: translated(doc(40, Language::Tk, DocRole::Original)),
    };
    assert!(matches!(
        w.try_case("TM-MVD", 1, bad),
        Err(Violation::Art7_Other(_))
    ));
    w.transfer(1);
    assert!(matches!(
        w.try_case(
            "TM-MVD",
            1,
            Payload::InformationTransferred {
                item: item(1),
                recipient: id("KZ-MVD"),
                kind: InfoKind::Forensic,
                restricted: true,
                permitted_purposes: vec![purpose("criminal investigation 2025-117")],
                no_state_secret: true,
                documents: translated(doc(40, Language::Tk, DocRole::Original))
            }
        ),
        Err(Violation::Art7_Other(_))
    ));
    assert!(matches!(
        w.try_case(
            "TM-MVD",
            1,
            Payload::InformationUsed {
                item: item(1),
                purpose: purpose("criminal investigation 2025-117")
            }
        ),
        Err(Violation::Art7_2_NotTheRecipient { .. })
    ));
    assert!(matches!(
        w.try_case(
            "KZ-MVD",
            1,
            Payload::InformationUsed {
                item: item(9),
                purpose: purpose("x")
            }
        ),
        Err(Violation::Art7_UnknownItem(_))
    ));
}

// ------------------------------------------------------------------ Art. 8 and 9

#[test]
fn art8_disputes_are_raised_consulted_and_settled() {
    let mut w = World::with_case();
    assert!(matches!(
        w.try_case(
            "KZ-MVD",
            1,
            Payload::ConsultationHeld {
                dispute: 1,
                minutes: doc(80, Language::Ru, DocRole::Original)
            }
        ),
        Err(Violation::Art8_Dispute(_))
    ));
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::DisputeRaised {
            dispute: 1,
            subject: doc(81, Language::Ru, DocRole::Original),
        },
    );
    w.ok_case(
        "TM-MVD",
        1,
        Payload::ConsultationHeld {
            dispute: 1,
            minutes: doc(82, Language::Ru, DocRole::Original),
        },
    );
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::DisputeSettled {
            dispute: 1,
            outcome: doc(83, Language::Ru, DocRole::Original),
        },
    );
    assert!(matches!(
        w.try_case(
            "KZ-MVD",
            1,
            Payload::DisputeSettled {
                dispute: 1,
                outcome: doc(83, Language::Ru, DocRole::Original)
            }
        ),
        Err(Violation::Art8_Dispute(_))
    ));
    let d = &w.case(1).disputes[&1];
    assert_eq!(d.consultations.len(), 1);
    assert!(d.settled.is_some());
}

#[test]
fn art9_protocols_need_both_roots_and_apply_from_entry_into_force() {
    let mut w = World::in_force();
    let params = Params {
        oral_confirmation_ms: 2 * HOUR,
        ..Params::default()
    };
    let effective = w.now + 10 * HOUR;
    w.ok(
        "KZ-MFA",
        None,
        Payload::ProtocolProposed {
            id: 1,
            text: doc(90, Language::Ru, DocRole::Original),
            params,
            effective_from: effective,
        },
    );
    assert!(matches!(
        w.try_("KZ-MFA", None, Payload::ProtocolAccepted { id: 1 }),
        Err(Violation::Art9_Protocol(_))
    ));
    w.ok("TM-MFA", None, Payload::ProtocolAccepted { id: 1 });
    let mut oral = request();
    oral.oral = true;
    oral.urgent = true;
    let window = |w: &World, c: u8| w.case(c).deadlines[0].due.0 - w.case(c).opened_at.0;
    // Before entry into force: the genesis parameter (24 h) applies.
    w.ok_case("KZ-MVD", 1, Payload::Request(Box::new(oral.clone())));
    assert_eq!(window(&w, 1), 24 * HOUR);
    // Issue 11, finding 5: accepted and past its date, but neither Party has completed
    // its internal procedures: not in force (Art. 9 → 10).
    w.now = effective;
    w.ok_case("KZ-MVD", 2, Payload::Request(Box::new(oral.clone())));
    assert_eq!(window(&w, 2), 24 * HOUR);
    // One Party's notice is not enough; a notice twice is refused; an auth not a root
    // cannot notify.
    w.ok(
        "TM-MFA",
        None,
        Payload::ProtocolProceduresCompleted { id: 1 },
    );
    let before = w.state.clone();
    assert!(matches!(
        w.try_(
            "TM-MFA",
            None,
            Payload::ProtocolProceduresCompleted { id: 1 }
        ),
        Err(Violation::Art9_Protocol(_))
    ));
    assert!(matches!(
        w.try_(
            "KZ-MFA",
            None,
            Payload::ProtocolProceduresCompleted { id: 7 }
        ),
        Err(Violation::Art9_Protocol(_))
    ));
    assert!(matches!(
        w.try_(
            "KZ-MVD",
            None,
            Payload::ProtocolProceduresCompleted { id: 1 }
        ),
        Err(Violation::Art3_NotRoot { .. })
    ));
    assert_eq!(w.state, before);
    w.later(HOUR);
    w.ok_case("KZ-MVD", 3, Payload::Request(Box::new(oral.clone())));
    assert_eq!(window(&w, 3), 24 * HOUR);
    // The later of both notices: in force from the second one on.
    w.later(HOUR);
    w.ok(
        "KZ-MFA",
        None,
        Payload::ProtocolProceduresCompleted { id: 1 },
    );
    let in_force = w.state.agreement.protocols[&1].in_force_from();
    assert_eq!(in_force, w.records.last().map(|r| r.received_at));
    w.ok_case("KZ-MVD", 4, Payload::Request(Box::new(oral)));
    assert_eq!(window(&w, 4), 2 * HOUR);
}

/// Issue 11, finding 5: completed procedures before the protocol's own date: it applies
/// from that date.
#[test]
fn art9_a_protocol_applies_from_its_date_when_procedures_end_earlier() {
    let mut w = World::in_force();
    let effective = w.now + 100 * HOUR;
    w.ok(
        "KZ-MFA",
        None,
        Payload::ProtocolProposed {
            id: 2,
            text: doc(91, Language::Ru, DocRole::Original),
            params: Params {
                oral_confirmation_ms: 3 * HOUR,
                ..Params::default()
            },
            effective_from: effective,
        },
    );
    // Procedures cannot be notified for a protocol not yet accepted.
    assert!(matches!(
        w.try_(
            "KZ-MFA",
            None,
            Payload::ProtocolProceduresCompleted { id: 2 }
        ),
        Err(Violation::Art9_Protocol(_))
    ));
    w.ok("TM-MFA", None, Payload::ProtocolAccepted { id: 2 });
    w.ok(
        "TM-MFA",
        None,
        Payload::ProtocolProceduresCompleted { id: 2 },
    );
    w.ok(
        "KZ-MFA",
        None,
        Payload::ProtocolProceduresCompleted { id: 2 },
    );
    let p = &w.state.agreement.protocols[&2];
    assert_eq!(p.in_force_from(), Some(Timestamp(effective)));
    assert_eq!(
        w.state
            .params_at(Timestamp(effective - 1))
            .oral_confirmation_ms,
        24 * HOUR
    );
    assert_eq!(
        w.state.params_at(Timestamp(effective)).oral_confirmation_ms,
        3 * HOUR
    );
}

// ------------------------------------------------------------------ format

#[test]
fn undecodable_payload_is_refused() {
    let mut w = World::in_force();
    let mut r = w.record("KZ-MVD", Some(w.at_case(1)), &Payload::Acknowledged);
    r.event.body.payload = vec![0xFF, 0xFF];
    assert!(matches!(
        w.try_append(r),
        Err(Violation::MalformedPayload(_))
    ));
}

// ------------------------------------------------------------------ issue 11

/// Issue 11, finding 1: Art. 4.1(5) asks for a *certified* copy of the decision and the
/// *text of the legal provision*; an original, or another kind of document in either
/// slot, used to be accepted.
#[test]
fn art4_1_5_the_decision_copy_is_certified_and_the_provision_is_a_provision() {
    // Given a complete request whose decision copy is an original: refused, named.
    let v = refused_with(|r| {
        if let Some(d) = r.elements.decision_copy.as_mut() {
            d.role = DocRole::Original;
        }
    });
    assert!(matches!(v, Violation::Art4_1_5NotCertified(_)), "{v}");
    assert_eq!(v.clause(), "Art. 4.1(5)");
    // A certified copy in the legal-provision slot: refused, named.
    let v = refused_with(|r| {
        if let Some(d) = r.elements.legal_provision.as_mut() {
            d.role = DocRole::CertifiedCopy;
        }
    });
    assert!(matches!(v, Violation::Art4_1_5NotLegalProvision(_)), "{v}");
    assert_eq!(v.clause(), "Art. 4.1(5)");
}

/// Issue 11, finding 3: Art. 7.2 asks for *prior* written consent. An onward transfer
/// written before the consent it cites existed used to be accepted once the consent
/// landed (a refused attempt resubmitted unchanged became valid).
/// Issue 28, finding 8: an onward transfer dated ten minutes ahead (inside the 15-minute
/// window) was refused for lack of consent, then accepted when resent a second after the
/// consent landed — and the report called the consent "prior". An author may be behind
/// the ledger's clock by the window (a draft signed, then sent), but ahead of it only by
/// clock skew (`AUTHORED_AHEAD_MS`): "prior" is then judged by a time the ledger vouches
/// for, give or take that skew.
#[test]
fn time_an_event_dated_ahead_of_the_ledgers_clock_is_refused() {
    // Given an item waiting for consent
    let mut w = World::with_case();
    w.transfer(1);
    let onward = |consent| Payload::OnwardTransfer {
        item: item(1),
        third_party: "Interpol".into(),
        consent,
    };
    // When KZ-MVD signs a use ten minutes ahead of the ledger's clock, then it is refused
    // naming the time, whatever it says, and nothing changes
    let c = w.at_case(1);
    let ahead = w.record_authored(
        "KZ-MVD",
        Some(c),
        &onward(coop_core::Hash([7; 32])),
        vec![],
        w.now + 10 * 60_000,
    );
    let before = w.state.clone();
    let v = w.try_append(ahead).expect_err("dated ahead");
    assert!(matches!(v, Violation::AuthoredAhead { .. }), "{v}");
    // Times said as people read them (issue 30: "… ms since the epoch").
    assert!(
        v.to_string()
            .contains(&coop_treaty::rfc3339(coop_core::Timestamp(
                w.now + 10 * 60_000
            ))),
        "{v}"
    );
    assert!(!v.to_string().contains("since the epoch"), "{v}");
    assert_eq!(w.state, before);
    // Within the skew, and behind by the window: accepted.
    let c = w.at_case(1);
    let skewed = w.record_authored(
        "KZ-MVD",
        Some(c),
        &Payload::InformationUsed {
            item: item(1),
            purpose: w.state.cases[&case_id(1)].purposes[0].clone(),
        },
        vec![],
        w.now + coop_treaty::AUTHORED_AHEAD_MS,
    );
    w.try_append(skewed).expect("within the clock skew");
}

#[test]
fn art7_2_consent_must_be_prior_to_the_transfer_that_relies_on_it() {
    let mut w = World::with_case();
    w.transfer(1);
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::ConsentRequested {
            item: item(1),
            third_party: Some("Interpol".into()),
            purposes: vec![],
        },
    );
    // Given: KZ-MVD writes the onward transfer now, before any consent.
    let written_at = w.now;
    let onward = |consent| Payload::OnwardTransfer {
        item: item(1),
        third_party: "Interpol".into(),
        consent,
    };
    // When the consent lands a few minutes later...
    w.later(5 * 60_000);
    w.ok_case(
        "TM-MVD",
        1,
        Payload::ConsentGranted {
            item: item(1),
            third_party: Some("Interpol".into()),
            purposes: vec![],
            documents: written(70, Party::Tm),
        },
    );
    let consent = w.last_hash();
    // ...then the transfer written before it is refused under Art. 7.2, state unchanged.
    w.later(60_000);
    let c = w.at_case(1);
    let early = w.record_authored("KZ-MVD", Some(c), &onward(consent), vec![], written_at);
    let before = w.state.clone();
    let v = w.try_append(early).expect_err("written before the consent");
    assert!(matches!(v, Violation::Art7_2_NoConsent { .. }), "{v}");
    assert!(v.to_string().contains("prior"), "{v}");
    assert_eq!(w.state, before);
    // Written after the consent: accepted.
    w.ok_case("KZ-MVD", 1, onward(consent));
    // A use for a purpose only a consent allows, written before that consent: refused.
    let written_at = w.now;
    w.later(60_000);
    w.ok_case(
        "TM-MVD",
        1,
        Payload::ConsentGranted {
            item: item(1),
            third_party: None,
            purposes: vec![purpose("tax audit")],
            documents: written(71, Party::Tm),
        },
    );
    let use_ = Payload::InformationUsed {
        item: item(1),
        purpose: purpose("tax audit"),
    };
    let c = w.at_case(1);
    let early = w.record_authored("KZ-MVD", Some(c), &use_, vec![], written_at);
    // Issue 30: told that the consent came after it, not that no consent covers it.
    let v = w.try_append(early).expect_err("written before the consent");
    assert!(matches!(v, Violation::Art7_2_ConsentNotPrior { .. }), "{v}");
    assert!(
        v.to_string().contains("given after this use was written"),
        "{v}"
    );
    w.ok_case("KZ-MVD", 1, use_);
}

/// Issue 11, finding 6: a wanted-person outcome reported by the requesting side was
/// refused as "Case: …"; the clause is Art. 1.3.
#[test]
fn art1_3_a_search_outcome_from_the_requesting_side_names_article_1_3() {
    let mut w = World::in_force();
    let mut r = request();
    r.wanted_person_search = true;
    w.ok_case("KZ-MVD", 1, Payload::Request(Box::new(r)));
    let before = w.state.clone();
    let v = w
        .try_case(
            "KZ-MVD",
            1,
            Payload::ExecutionReported {
                extent: Extent::Full,
                reasons: vec![],
                search_outcome: Some(SearchOutcome::Found),
                results: vec![],
            },
        )
        .expect_err("the requesting side reports no outcome");
    assert_eq!(v.clause(), "Art. 1.3", "{v}");
    assert_eq!(w.state, before);
}

/// Issue 11, finding 6: an information file that omits `no_state_secret` used to fail to
/// parse ("missing field"); it is read as `false` and refused naming Art. 4.4.
#[test]
fn art4_4_a_transfer_without_the_state_secret_declaration_names_article_4_4() {
    let json = serde_json::json!({
        "InformationTransferred": {
            "item": item(1),
            "recipient": "KZ-MVD",
            "kind": "OperationalSearch",
            "restricted": true,
            "permitted_purposes": ["criminal investigation 2025-117"],
            "documents": written(40, Party::Tm),
        }
    });
    let payload: Payload = serde_json::from_value(json).expect("the file parses");
    let mut w = World::with_case();
    let before = w.state.clone();
    let v = w
        .try_case("TM-MVD", 1, payload)
        .expect_err("no declaration");
    assert_eq!(v, Violation::Art4_4_StateSecret);
    assert_eq!(v.clause(), "Art. 4.4");
    assert_eq!(w.state, before);
}

// ------------------------------------------------------------------ node handover

/// Given a ledger in force, when one Party's root proposes a new node key and the other's
/// accepts it, then the new key signs checkpoints from the size after the acceptance, and
/// the old one up to the size the proposal retires it from; the same Party cannot accept
/// its own proposal, a key already in use is refused, and a retirement that would
/// invalidate checkpoints already stored is refused.
#[test]
fn node_handover_needs_both_roots_and_retires_the_old_key_only_from_then_on() {
    let mut w = World::in_force();
    let old = w.state.agreement.node_keys[0].key;
    let new = coop_core::SecretKey::from_seed(&[0x7D; 32]).public();
    // A key already registered (an authority's) is refused.
    let taken = w.keys["KZ-MVD"].public();
    assert!(matches!(
        w.try_(
            "KZ-MFA",
            None,
            Payload::NodeHandoverProposed {
                id: 1,
                key: taken,
                retire_old_from: None
            }
        ),
        Err(Violation::Art3_Registry(_))
    ));
    // Retiring the old key before the acceptance could come is refused.
    let size = w.state.size;
    assert!(matches!(
        w.try_(
            "KZ-MFA",
            None,
            Payload::NodeHandoverProposed {
                id: 1,
                key: new,
                retire_old_from: Some(size + 1)
            }
        ),
        Err(Violation::Art3_Registry(_))
    ));
    // A competent authority cannot propose one.
    assert!(
        w.try_(
            "KZ-MVD",
            None,
            Payload::NodeHandoverProposed {
                id: 1,
                key: new,
                retire_old_from: None
            }
        )
        .is_err()
    );
    w.ok(
        "KZ-MFA",
        None,
        Payload::NodeHandoverProposed {
            id: 1,
            key: new,
            retire_old_from: Some(size + 2),
        },
    );
    // Proposed, not accepted: the old key alone.
    assert_eq!(w.state.agreement.node_keys_at(size + 1), vec![old]);
    assert!(matches!(
        w.try_("KZ-MFA", None, Payload::NodeHandoverAccepted { id: 1 }),
        Err(Violation::Art3_Registry(_))
    ));
    assert!(matches!(
        w.try_("TM-MFA", None, Payload::NodeHandoverAccepted { id: 2 }),
        Err(Violation::Art3_Registry(_))
    ));
    w.ok("TM-MFA", None, Payload::NodeHandoverAccepted { id: 1 });
    let a = w.state.size - 1;
    assert_eq!(w.state.agreement.node_keys_at(a), vec![old]);
    assert_eq!(w.state.agreement.node_keys_at(a + 1), vec![new]);
    assert_eq!(w.state.agreement.node_keys_at(a + 100), vec![new]);
    assert!(matches!(
        w.try_("TM-MFA", None, Payload::NodeHandoverAccepted { id: 1 }),
        Err(Violation::Art3_Registry(_))
    ));
    // A second handover whose retirement the ledger passes before it is accepted.
    let third = coop_core::SecretKey::from_seed(&[0x7C; 32]).public();
    let size = w.state.size;
    w.ok(
        "TM-MFA",
        None,
        Payload::NodeHandoverProposed {
            id: 2,
            key: third,
            retire_old_from: Some(size + 2),
        },
    );
    w.ok("TM-MFA", None, Payload::TerminationNotice);
    let r = w.try_("KZ-MFA", None, Payload::NodeHandoverAccepted { id: 2 });
    assert!(
        matches!(&r, Err(Violation::Art3_Registry(m)) if m.to_string().contains("propose it again")),
        "{r:?}"
    );
}

// ------------------------------------------------------------ the state's own size

/// The state keeps what later events and reports need, not copies of what the records
/// already hold (ADR 0020): a case's documents and the signer of each step are read from
/// its records by the views. The snapshot of a state is its exact contents, so a
/// document digest found in it is a copy.
#[test]
fn state_a_case_keeps_its_steps_not_copies_of_its_documents() {
    // Given a case that ran its course: the request with its twelve documents, the
    // acknowledgement, a transfer, a use, the report and the close.
    let mut w = case_with_one_item_used_once();
    w.ok_case(
        "TM-MVD",
        1,
        Payload::ExecutionReported {
            extent: Extent::Full,
            reasons: vec![],
            search_outcome: None,
            results: vec![],
        },
    );
    w.ok_case("KZ-MVD", 1, Payload::CaseClosed);
    // When the state is written out
    let bytes = coop_treaty::snapshot::encode(&w.state).expect("encodes");
    // Then the case holds its six steps, each with its event hash, and no document digest
    let case = w.case(1);
    assert_eq!(case.steps.len(), 6);
    assert_eq!(
        case.steps.last().map(|s| s.kind.name()),
        Some("case closed")
    );
    let request = Payload::Request(Box::new(request()));
    let documents = documents_of(&request);
    assert_eq!(documents.len(), 12);
    // (The originals' fixture digests repeat one byte, as do case ids; the translations'
    // do not, so they are what a search of the bytes can tell apart.)
    let distinct: Vec<_> = documents
        .iter()
        .filter(|d| d.digest.0.iter().any(|b| *b != d.digest.0[0]))
        .collect();
    assert_eq!(distinct.len(), 6);
    for d in distinct {
        assert!(
            !bytes.windows(32).any(|b| b == d.digest.0),
            "the state copies document {}",
            d.digest.to_hex()
        );
    }
    // and the whole closed case, with its Article 7 item, costs at most this many bytes
    // (2,038 when the case kept copies of its documents and of each step's signer and key).
    let before = {
        let mut s = w.state.clone();
        s.cases.clear();
        s.register.clear();
        coop_treaty::snapshot::encode(&s).expect("encodes").len()
    };
    let case_bytes = bytes.len() - before;
    assert!(case_bytes <= 900, "a closed case takes {case_bytes} bytes");
}

/// Case 1 acknowledged, item 7 transferred in it and used once by the requester. (Item
/// 7: the bytes of case 1 followed by item 1 would look like document 1's digest.)
fn case_with_one_item_used_once() -> World {
    let mut w = World::with_case();
    w.ok_case("TM-MVD", 1, Payload::Acknowledged);
    w.transfer(7);
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::InformationUsed {
            item: item(7),
            purpose: purpose("criminal investigation 2025-117"),
        },
    );
    w
}

#[test]
fn state_lists_are_held_at_their_length() {
    // Given a case with one item of information used once and an additional-information
    // deadline
    let mut w = case_with_one_item_used_once();
    w.ok_case(
        "KZ-MVD",
        1,
        Payload::AdditionalInfoRequested {
            documents: translated(doc(31, Language::Kk, DocRole::Original)),
        },
    );
    // When the rules fold them (the node's and the verifier's state, not a snapshot's
    // decode, which allocates each list at its length anyway)
    let it = &w.state.register[&(case_id(1), item(7))];
    let case = w.case(1);
    // Then each short list holds no spare places: Vec's first growth reserves four, and
    // at 10^6 records those places were a third of the verifier's peak (ADR 0020)
    assert_eq!((it.uses.len(), it.uses.capacity()), (1, 1));
    assert_eq!((case.deadlines.len(), case.deadlines.capacity()), (1, 1));
    assert_eq!((case.steps.len(), case.steps.capacity()), (5, 5));
    // and a use permitted by the request holds no consent's evidence beside it
    assert!(
        std::mem::size_of::<Use>() <= 136,
        "{}",
        std::mem::size_of::<Use>()
    );
}

#[test]
fn state_a_clone_shares_every_case_and_item_until_one_changes() {
    // Given three open cases, and an Article 7 item in case 1
    let mut w = World::in_force();
    for n in 1..=3 {
        w.ok_case("KZ-MVD", n, Payload::Request(Box::new(request())));
    }
    w.transfer(7);
    // and a version of the state taken now (what a node's readers hold while its writer
    // goes on: ADR 0021)
    let earlier = w.state.clone();
    let earlier_bytes = coop_treaty::snapshot::encode(&earlier).expect("encodes");
    let shared = |a: &coop_treaty::State, b: &coop_treaty::State, n: u8| {
        std::sync::Arc::ptr_eq(&a.cases[&case_id(n)], &b.cases[&case_id(n)])
    };
    for n in 1..=3 {
        assert!(
            shared(&earlier, &w.state, n),
            "case {n} was copied by the clone"
        );
    }
    // When a later record changes case 2, and another record is refused
    w.ok_case("TM-MVD", 2, Payload::Acknowledged);
    let refused = w.try_case("KZ-MVD", 3, Payload::Acknowledged);
    assert!(
        refused.is_err(),
        "the requester cannot acknowledge its own request"
    );
    // Then only case 2 was copied: the others, and the item, are still one copy
    assert!(!shared(&earlier, &w.state, 2));
    assert!(shared(&earlier, &w.state, 1));
    assert!(shared(&earlier, &w.state, 3));
    let key = (case_id(1), item(7));
    assert!(std::sync::Arc::ptr_eq(
        &earlier.register[&key],
        &w.state.register[&key]
    ));
    // and the earlier version is exactly as it was, byte for byte
    assert_eq!(
        coop_treaty::snapshot::encode(&earlier).expect("encodes"),
        earlier_bytes
    );
    assert_eq!(earlier.cases[&case_id(2)].version + 1, w.case(2).version);
    assert_eq!(earlier.size + 1, w.state.size);
}
