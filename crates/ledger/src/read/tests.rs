//! The read model's tests.

use super::*;
use coop_treaty::testkit::fixture;

/// The fixture ledger as a verified copy, through the verifier.
fn copy() -> (fixture::Fixture, VerifiedCopy) {
    struct Items(std::vec::IntoIter<coop_verify::Item>);
    impl coop_verify::Source for Items {
        fn next_item(&mut self) -> Result<Option<coop_verify::Item>, coop_verify::VerifyError> {
            Ok(self.0.next())
        }
    }
    let f = fixture::ledger().expect("fixture");
    let items: Vec<coop_verify::Item> = f
        .items()
        .into_iter()
        .map(|i| match i {
            Ok(b) => coop_verify::Item::Record(b.to_vec()),
            Err(n) => coop_verify::Item::Checkpoint(n.to_owned()),
        })
        .collect();
    let mut calls = 0;
    let c = VerifiedCopy::verify(
        &mut Items(items.into_iter()),
        &coop_verify::Options::default(),
        &mut |_, _| calls += 1,
        7,
    )
    .expect("the fixture verifies");
    assert!(calls > 0, "progress was never reported");
    (f, c)
}

#[test]
fn a_verified_copy_replays_every_earlier_point_as_the_rules_do() {
    let (f, c) = copy();
    assert_eq!(c.at(None).unwrap().state, f.state);
    assert_eq!(c.verdict.records, f.records.len() as u64);
    assert_eq!(c.checkpoints().unwrap(), f.checkpoints);
    for seq in [0, 3, f.records.len() as u64 / 2, f.records.len() as u64 - 1] {
        let want =
            State::replay(f.records.iter().take(seq as usize + 1).map(|r| &r.record)).unwrap();
        let at = c.at(Some(AsOf::Seq(seq))).unwrap();
        assert_eq!(at.state, want, "as of {seq}");
        assert_eq!(at.now, want.last_time);
    }
    assert!(matches!(
        c.at(Some(AsOf::Seq(f.records.len() as u64))),
        Err(LedgerError::NotFound(_))
    ));
    let mid = f.records[f.records.len() / 2].record.received_at;
    let at = c.at(Some(AsOf::Time(mid))).unwrap();
    assert_eq!(at.now, mid);
    assert!(at.state.last_time <= mid && at.state.size < f.state.size);
    assert_eq!(c.record(2).unwrap(), Some(f.records[2].record.clone()));
    assert_eq!(c.record(1 << 40).unwrap(), None);
}

#[test]
fn unknown_parameters_and_values_are_refused_not_ignored() {
    let parse = |pairs: &[(&'static str, &'static str)]| {
        CaseQuery::parse(pairs.iter().copied(), &["as_of"])
    };
    assert!(matches!(
        parse(&[("colour", "red")]),
        Err(QueryError::Key { given, known }) if given == "colour" && known.contains(&"as_of".to_string())
    ));
    assert!(matches!(
        parse(&[("status", "bogus")]),
        Err(QueryError::Word(_))
    ));
    assert!(matches!(
        parse(&[("overdue", "maybe")]),
        Err(QueryError::Word(_))
    ));
    assert!(matches!(
        parse(&[("limit", "1001")]),
        Err(QueryError::Value(_))
    ));
    assert!(matches!(
        parse(&[("offset", "-1")]),
        Err(QueryError::Value(_))
    ));
    assert!(matches!(
        parse(&[("authority", "no spaces")]),
        Err(QueryError::Value(_))
    ));
    // A form's blank field means "any"; the as-of key is the caller's.
    let q = parse(&[("status", ""), ("as_of", "5"), ("limit", "2")]).unwrap();
    assert_eq!(q.filter, CaseFilter::default());
    assert_eq!(q.limit, 2);
}

#[test]
fn pages_cover_every_match_once_in_case_order() {
    let (_, c) = copy();
    let at = c.at(None).unwrap();
    let mut seen = Vec::new();
    let mut q = CaseQuery {
        limit: 1,
        ..CaseQuery::default()
    };
    loop {
        let page = cases(&at, &q, None);
        assert_eq!(page.total, at.state.cases.len());
        seen.extend(page.cases.iter().map(|r| r.id));
        match page.next_offset {
            Some(n) => q.offset = n,
            None => break,
        }
    }
    assert_eq!(seen, at.state.cases.keys().copied().collect::<Vec<_>>());
    // A competent authority sees only its own cases.
    let someone = at.state.cases.values().next().unwrap().requester.clone();
    let own = cases(&at, &CaseQuery::default(), Some(&someone));
    assert!(own.total >= 1);
    assert!(
        own.cases
            .iter()
            .all(|r| r.requester == someone || r.requested == someone)
    );
    // Search by a fragment of the id.
    let first = at.state.cases.keys().next().unwrap().to_hex();
    let q = CaseQuery {
        search: Some(first[..12].to_uppercase()),
        ..CaseQuery::default()
    };
    assert_eq!(cases(&at, &q, None).cases[0].id.to_hex(), first);
}

#[test]
fn a_document_is_found_with_the_events_that_carry_it() {
    let (_, copy) = copy();
    let at = copy.at(None).unwrap();
    let (case, doc) = at
        .state
        .cases
        .values()
        .find_map(|c| {
            let detail = detail(&copy, c).unwrap();
            detail.documents.first().map(|d| (c.id, d.clone()))
        })
        .expect("a case with a document");
    let hits = documents(&copy, &at, &doc.digest, None).unwrap();
    let hit = hits.iter().find(|h| h.case == case).unwrap();
    assert_eq!(hit.document, doc);
    assert!(!hit.cited_by.is_empty());
    assert!(documents(&copy, &at, &Hash::ZERO, None).unwrap().is_empty());
}

/// The state keeps a case's steps; its timeline and documents come from the records
/// (ADR 0020): each line is its step with the record's signer and key, and the
/// documents are those the records carry, in order.
#[test]
fn a_case_view_reads_its_timeline_and_documents_from_the_records() {
    let (_, copy) = copy();
    let at = copy.at(None).unwrap();
    let mut documents_seen = 0;
    for c in at.state.cases.values() {
        let d = detail(&copy, c).unwrap();
        assert_eq!(d.timeline.len(), c.steps.len());
        let mut documents = Vec::new();
        for (line, step) in d.timeline.iter().zip(&c.steps) {
            assert_eq!(
                (
                    line.evidence.seq,
                    line.evidence.event_hash,
                    line.evidence.at,
                    line.kind
                ),
                (step.seq, step.event_hash, step.at, step.kind.name())
            );
            let r = copy.record(step.seq).unwrap().unwrap();
            assert_eq!(*line.evidence.signer(), r.event.body.author.authority);
            assert_eq!(*line.evidence.key(), r.event.body.author.key);
            let p = coop_treaty::Payload::from_bytes(&r.event.body.payload).unwrap();
            documents.extend(coop_treaty::case_documents(&p).into_iter().cloned());
        }
        documents_seen += documents.len();
        assert_eq!(d.documents, documents);
        // The JSON is the case's v1 shape: its fields, its timeline and documents.
        let json = serde_json::to_value(&d).unwrap();
        for field in [
            "id",
            "status",
            "timeline",
            "documents",
            "deadlines",
            "steps",
        ] {
            assert!(json.get(field).is_some(), "no {field} in {json}");
        }
    }
    assert!(documents_seen > 0);
}

/// A copy that lacks one of a case's records cannot show that case: the view is an
/// error naming the record, never a shorter timeline.
#[test]
fn a_case_whose_record_is_missing_is_an_error_not_a_shorter_timeline() {
    struct Lacking<'a>(&'a VerifiedCopy, u64);
    impl ReadSource for Lacking<'_> {
        fn ledger_id(&self) -> Option<LedgerId> {
            self.0.ledger_id()
        }
        fn size(&self) -> Result<u64, LedgerError> {
            self.0.size()
        }
        fn at(&self, as_of: Option<AsOf>) -> Result<At, LedgerError> {
            self.0.at(as_of)
        }
        fn checkpoints(&self) -> Result<Vec<(u64, String)>, LedgerError> {
            self.0.checkpoints()
        }
        fn record(&self, seq: u64) -> Result<Option<Record>, LedgerError> {
            if seq == self.1 {
                return Ok(None);
            }
            self.0.record(seq)
        }
        fn registered(&self, id: &AuthorityId) -> Option<coop_treaty::Registered> {
            self.0.registered(id)
        }
    }
    let (_, copy) = copy();
    let at = copy.at(None).unwrap();
    let c = at.state.cases.values().find(|c| c.steps.len() > 2).unwrap();
    let gone = c.steps[1].seq;
    let lacking = Lacking(&copy, gone);
    let e = case(&lacking, &at, &c.id, None).unwrap_err();
    assert!(
        e.to_string().contains(&format!("record {gone} of case")),
        "{e}"
    );
    assert!(timeline(&lacking, &at, &c.id, None).is_err());
    assert!(case(&copy, &at, &c.id, None).unwrap().is_some());
}

#[test]
fn an_earlier_point_is_rebuilt_once_and_kept_for_a_few() {
    let cache = AsOfCache::default();
    let mut made = 0;
    for seq in [1, 1, 2, 1, 3, 4, 5, 1] {
        let s = cache
            .get_or(AsOf::Seq(seq), || {
                made += 1;
                Ok(State {
                    size: seq + 1,
                    ..State::default()
                })
            })
            .unwrap();
        assert_eq!(s.size, seq + 1);
    }
    // 1, 2, 3, 4, 5 built once each; 1 again after four others pushed it out.
    assert_eq!(made, 6);
    // A failure is not kept.
    assert!(
        cache
            .get_or(AsOf::Seq(9), || Err(LedgerError::BadQuery("no".into())))
            .is_err()
    );
    assert!(cache.get_or(AsOf::Seq(9), || Ok(State::default())).is_ok());
}

#[test]
fn months_are_civil_months() {
    assert_eq!(month(Timestamp(0)), "1970-01");
    assert_eq!(month(Timestamp(fixture::T0)), "2025-11");
    // 2024-02-29T12:00:00Z
    assert_eq!(month(Timestamp(1_709_208_000_000)), "2024-02");
    // 2024-03-01T00:00:00Z
    assert_eq!(month(Timestamp(1_709_251_200_000)), "2024-03");
}

#[test]
fn changes_name_the_cases_that_moved() {
    let (f, c) = copy();
    let mid = c.at(Some(AsOf::Seq(f.records.len() as u64 / 2))).unwrap();
    let end = c.at(None).unwrap();
    let ch = changes(&mid.state, &end.state, None);
    assert!(!ch.is_empty());
    for x in &ch {
        let later = &end.state.cases[&x.id];
        assert_eq!(x.status_now, later.status.word());
        assert_eq!(
            x.new_events,
            later.version - mid.state.cases.get(&x.id).map_or(0, |c| c.version)
        );
    }
    assert!(changes(&end.state, &end.state, None).is_empty());
}

/// The inbox and outbox of every competent authority, after every record of the
/// fixture ledger (every kind of event): each act the last event asked for is in the
/// inbox of the one who must do it, nothing of another authority's case is, the order
/// is overdue first, and an outbox lists exactly the authority's open requests.
#[test]
fn the_desk_shows_each_authority_what_the_agreement_now_asks_of_it() {
    let f = fixture::ledger().expect("fixture");
    let records: Vec<Record> = f.records.iter().map(|r| r.record.clone()).collect();
    let mut state = State::default();
    let mut seen = std::collections::BTreeSet::new();
    for r in &records {
        state.step(r).expect("the fixture is valid");
        let at = At::new(state.clone(), None, || state.last_time);
        let competent: Vec<AuthorityId> = state
            .registry
            .values()
            .filter(|x| x.role == Role::Competent)
            .map(|x| x.id.clone())
            .collect();
        for me in &competent {
            let inbox = inbox(&at, me, &DeskQuery::default());
            for t in &inbox.tasks {
                let c = &state.cases[&t.case];
                assert!(&c.requester == me || &c.requested == me, "{me}: {t:?}");
                assert_ne!(&t.other, me);
                assert_eq!(t.article, t.act.article());
            }
            // Overdue first, then by deadline.
            let keys: Vec<_> = inbox
                .tasks
                .iter()
                .map(|t| (!t.overdue, t.due.is_none(), t.due.map(|d| d.0)))
                .collect();
            assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");
            let out = outbox(&at, me, 0, 1000);
            let mine = state
                .cases
                .values()
                .filter(|c| &c.requester == me && c.status != coop_treaty::CaseStatus::Closed)
                .count();
            assert_eq!(out.total, mine);
        }
        // What the last event asks for, and of whom.
        let Ok(d) = coop_treaty::Decoded::of(&r.event) else {
            continue;
        };
        let Some(case) = r.event.body.case.and_then(|c| state.cases.get(&c.case_id)) else {
            continue;
        };
        let expect = match d.payload.name() {
            "Request" if case.oral => Some((&case.requester, Act::ConfirmOral)),
            "Request" => Some((&case.requested, Act::AnswerRequest)),
            "Acknowledged" => Some((&case.requested, Act::Execute)),
            // Art. 4.3: the requesting side asks, the requested side provides.
            "AdditionalInfoRequested" => Some((&case.requested, Act::ProvideInfo)),
            "DisputeRaised" => Some((&case.requester, Act::Consult)),
            "ExecutionReported" | "Refused" if case.final_answer.is_some() => {
                Some((&case.requester, Act::Close))
            }
            "ConsentRequested" => {
                let item = state
                    .register
                    .values()
                    .find(|i| i.consent_requests.last().is_some_and(|c| c.seq == r.seq))
                    .expect("the consent request's item");
                Some((&item.provider, Act::DecideConsent))
            }
            _ => None,
        };
        if let Some((who, act)) = expect {
            let at = At::new(state.clone(), None, || state.last_time);
            let inbox = inbox(&at, who, &DeskQuery::default());
            assert!(
                inbox.tasks.iter().any(|t| t.case == case.id
                        && t.act == act
                        && t.asked_seq <= r.seq
                        // Execution is asked by the acknowledgement, not the request.
                        && (act != Act::Execute || t.asked_seq == r.seq)),
                "after {} (record {}): {who} should be asked to {}: {inbox:?}",
                d.payload.name(),
                r.seq,
                act.word()
            );
            seen.insert(act.word());
        }
        if d.payload.name() == "CaseClosed" {
            let at = At::new(state.clone(), None, || state.last_time);
            for who in [&case.requester, &case.requested] {
                assert!(
                    inbox(&at, who, &DeskQuery::default())
                        .tasks
                        .iter()
                        .all(|t| t.case != case.id),
                    "a closed case asks nothing"
                );
            }
        }
    }
    // The fixture reaches every act but the cost arrangement's.
    for act in Act::ALL {
        if act != Act::AcceptCosts {
            assert!(seen.contains(act.word()), "{}: {seen:?}", act.word());
        }
    }
}

/// A request answered late shows as overdue, the longest first; the overdue filter
/// keeps only those.
#[test]
fn overdue_requests_come_first_and_can_be_listed_alone() {
    let f = fixture::ledger().expect("fixture");
    let state = f.state.clone();
    // Far in the future, every dated act is overdue.
    let at = At::new(state.clone(), None, || Timestamp(u64::MAX / 2));
    for me in state.registry.keys() {
        let all = inbox(&at, me, &DeskQuery::default());
        let late = inbox(
            &at,
            me,
            &DeskQuery {
                overdue: true,
                ..DeskQuery::default()
            },
        );
        assert_eq!(late.total, all.overdue);
        assert!(late.tasks.iter().all(|t| t.overdue && t.left_ms < Some(0)));
        assert!(
            all.tasks
                .iter()
                .take(all.overdue)
                .all(|t| t.overdue && t.due.is_some())
        );
    }
}
