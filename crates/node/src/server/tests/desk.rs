//! Issue 27, item 2: every act the signed-in key may author is drafted, judged, signed and
//! recorded from the console — a case's consents and onward transfer between two clerks
//! of different Parties, and a root's governance act.

use super::*;
use coop_treaty::Language;

/// A clerk's page: `GET path` with their session.
async fn page(e: &Env, cookie: &str, path: &str) -> (StatusCode, String) {
    let (status, _, body) = send(
        &e.node,
        get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    (status, body)
}

/// The value of the first `name="…"` attribute on a page, unescaped.
fn attr(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + name.len()
        + 2;
    let end = html[at..].find('"').unwrap();
    html[at..at + end]
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Signs what a compose page offers, exactly as the browser does, and submits it: the
/// receipt, or the refusal.
async fn sign_and_submit(e: &Env, who: &str, draft: &str) -> (StatusCode, serde_json::Value) {
    assert!(draft.contains("id=\"compose-ok\""), "{draft}");
    let message = hex::decode(attr(draft, "data-signing-message")).unwrap();
    let sig = testkit::keys()[who].sign(&message);
    let body: serde_json::Value = serde_json::from_str(&attr(draft, "data-body")).unwrap();
    let event = serde_json::json!({ "body": body, "signature": sig.to_hex() });
    let (status, _, receipt) = send(
        &e.node,
        Request::post("/v2/events")
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(event.to_string()))
            .unwrap(),
    )
    .await;
    (status, serde_json::from_str(&receipt).unwrap())
}

/// A document's fields as the browser fills them after hashing a file (`name.*`).
fn doc(name: &str, digest: u8, lang: Language) -> String {
    format!(
        "&{name}.digest={}&{name}.size=1200&{name}.type=application%2Fpdf&{name}.lang={lang:?}",
        hex::encode([digest; 32])
    )
}

#[tokio::test]
async fn every_act_but_the_genesis_has_a_form_for_the_key_that_may_sign_it() {
    let e = env_keyed(fixture::handover_node_key(), |_| {});
    let state = e.node.ledger.with_state(|s| s.clone()).unwrap();
    let case = state
        .cases
        .values()
        .find(|k| k.requester.as_str() == "KZ-MVD" || k.requested.as_str() == "KZ-MVD")
        .unwrap()
        .id;
    let clerk = session(&e, "KZ-MVD").await;
    let root = session(&e, "KZ-MFA").await;
    let mut kinds = 0;
    for kind in coop_console::composable() {
        let governance = coop_treaty::Payload::NAMES
            .iter()
            .position(|n| *n == kind)
            .is_some_and(|i| {
                matches!(
                    coop_treaty::Payload::KINDS[i],
                    "genesis accepted"
                        | "authority designated"
                        | "authority key changed"
                        | "authority retired"
                        | "key revoked"
                        | "observer registered"
                        | "internal procedures completed"
                        | "termination notice"
                        | "protocol proposed"
                        | "protocol accepted"
                        | "protocol procedures completed"
                        | "node handover proposed"
                        | "node handover accepted"
                )
            });
        let (who, other) = if governance {
            (&root, &clerk)
        } else {
            (&clerk, &root)
        };
        let path = format!("/compose/{kind}?case={}", case.to_hex());
        let (status, body) = page(&e, who, &path).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {body}");
        assert!(body.contains("class=\"explain\""), "{kind}: {body}");
        // And the key that may not sign it is not offered it.
        let (status, _) = page(&e, other, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{kind} for the wrong role");
        kinds += 1;
    }
    // Every kind of the catalogue but the genesis (coopledger init's).
    assert_eq!(kinds, coop_treaty::Payload::NAMES.len() - 1);
    let (status, _) = page(&e, &root, "/compose/Genesis").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_consent_asked_given_and_relied_on_is_drafted_signed_and_recorded_by_two_clerks() {
    let e = env_keyed(fixture::handover_node_key(), |_| {});
    let state = e.node.ledger.with_state(|s| s.clone()).unwrap();
    // Given an item a KZ authority received from a TM authority, never passed on
    let item = state
        .register
        .values()
        .find(|i| {
            i.recipient.as_str().starts_with("KZ-")
                && i.provider.as_str().starts_with("TM-")
                && i.onward.is_empty()
        })
        .unwrap()
        .clone();
    let (kz, tm) = (item.recipient.to_string(), item.provider.to_string());
    let case = item.case.to_hex();
    let third = "Interpol%20NCB%20Ankara";
    let kz_cookie = session(&e, &kz).await;
    let tm_cookie = session(&e, &tm).await;
    // When the recipient asks for consent to pass it on
    let (status, draft) = page(
        &e,
        &kz_cookie,
        &format!(
            "/compose/ConsentRequested?case={case}&item={}&third_party={third}&purposes=&check=1",
            item.id
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    let (status, asked) = sign_and_submit(&e, &kz, &draft).await;
    assert_eq!(status, StatusCode::OK, "{asked}");
    // And the provider's clerk forgets the written consent: the form says so and offers
    // nothing to sign
    let grant = format!(
        "/compose/ConsentGranted?case={case}&item={}&third_party={third}&check=1",
        item.id
    );
    let (_, without) = page(&e, &tm_cookie, &grant).await;
    assert!(
        without.contains("id=\"problems\"") && !without.contains("id=\"sign-form\""),
        "{without}"
    );
    // Then gives it with its translation, signed with their own key
    let (_, draft) = page(
        &e,
        &tm_cookie,
        &format!(
            "{grant}{}{}",
            doc("doc", 0x61, Language::Tk),
            doc("doc.tr", 0x62, Language::Ru)
        ),
    )
    .await;
    let (status, granted) = sign_and_submit(&e, &tm, &draft).await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    // And the recipient's onward-transfer form offers exactly that consent to rely on
    let onward = format!(
        "/compose/OnwardTransfer?case={case}&item={}&third_party={third}&check=1",
        item.id
    );
    let (_, form) = page(&e, &kz_cookie, &onward).await;
    let consent = granted["event_hash"].as_str().unwrap();
    assert!(
        form.contains(&format!("<option value=\"{consent}\"")),
        "{form}"
    );
    let (_, draft) = page(&e, &kz_cookie, &format!("{onward}&consent={consent}")).await;
    let (status, passed) = sign_and_submit(&e, &kz, &draft).await;
    assert_eq!(status, StatusCode::OK, "{passed}");
    // Then the Article 7 register holds the transfer under that consent
    let now = e
        .node
        .ledger
        .with_state(|s| s.register[&(item.case, item.id)].clone())
        .unwrap();
    assert_eq!(now.onward.len(), 1);
    assert_eq!(now.onward[0].third_party, "Interpol NCB Ankara");
    assert_eq!(now.onward[0].consent.event_hash.to_hex(), consent);
}

#[tokio::test]
async fn a_root_registers_a_witness_from_the_console() {
    let e = env_keyed(fixture::handover_node_key(), |_| {});
    let root = session(&e, "KZ-MFA").await;
    let key = SecretKey::from_seed(&[0x77; 32]).public().to_hex();
    // Given a root's form with a key that is not one
    let path = "/compose/ObserverRegistered?id=KZ-WITNESS-2&role=Witness&check=1";
    let (status, bad) = page(&e, &root, &format!("{path}&key=abc")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        bad.contains("id=\"unreadable\"") && !bad.contains("id=\"sign-form\""),
        "{bad}"
    );
    // When the key is given, signed and submitted
    let (_, draft) = page(&e, &root, &format!("{path}&key={key}")).await;
    let (status, receipt) = sign_and_submit(&e, "KZ-MFA", &draft).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    // Then the registry holds the witness
    let role = e
        .node
        .ledger
        .with_state(|s| {
            s.registry
                .get(&AuthorityId::new("KZ-WITNESS-2").unwrap())
                .map(|r| r.role)
        })
        .unwrap();
    assert_eq!(role, Some(coop_treaty::Role::Witness));
}

#[tokio::test]
async fn an_open_inbox_hears_each_new_record_and_nobody_unsigned_listens() {
    use futures_util::StreamExt as _;
    let e = env_keyed(fixture::handover_node_key(), |_| {});
    let size = e.node.ledger.with_state(|s| s.size).unwrap();
    // Given a clerk's open inbox, live on the node
    let clerk = session(&e, "KZ-MVD").await;
    let (_, inbox) = page(&e, &clerk, "/inbox").await;
    assert!(inbox.contains("data-live=\"/desk/live\""), "{inbox}");
    assert!(inbox.contains(&format!("data-size=\"{size}\"")), "{inbox}");
    let r = router(e.node.clone())
        .oneshot(
            get("/desk/live")
                .header(header::COOKIE, &clerk)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut events = r.into_body().into_data_stream();
    let mut next = async || {
        let chunk = events.next().await.unwrap().unwrap();
        String::from_utf8(chunk.to_vec()).unwrap()
    };
    // It hears the ledger's size at once
    assert_eq!(next().await, format!("event: size\ndata: {size}\n\n"));
    // When a record lands (a root registers a witness from its console)
    let root = session(&e, "KZ-MFA").await;
    let key = SecretKey::from_seed(&[0x78; 32]).public().to_hex();
    let (_, draft) = page(
        &e,
        &root,
        &format!("/compose/ObserverRegistered?id=KZ-WITNESS-3&role=Witness&key={key}&check=1"),
    )
    .await;
    let (status, receipt) = sign_and_submit(&e, "KZ-MFA", &draft).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    // Then the inbox hears the new size
    assert_eq!(next().await, format!("event: size\ndata: {}\n\n", size + 1));
    // And without a session there is nothing to hear
    let (status, _, _) = send(&e.node, get("/desk/live").body(Body::empty()).unwrap()).await;
    assert_ne!(status, StatusCode::OK);
}

#[tokio::test]
async fn each_act_is_reached_from_where_a_clerk_or_a_root_looks_for_it() {
    let e = env();
    let state = e.node.ledger.with_state(|s| s.clone()).unwrap();
    let case = state
        .cases
        .values()
        .find(|k| k.requester.as_str() == "KZ-MVD")
        .unwrap()
        .id
        .to_hex();
    let clerk = session(&e, "KZ-MVD").await;
    let root = session(&e, "KZ-MFA").await;
    // A case's page lists its acts for a party to it
    let (_, page_of_case) = page(&e, &clerk, &format!("/cases/{case}")).await;
    for kind in [
        "ConsentRequested",
        "CostRecorded",
        "DisputeRaised",
        "ExecutionReported",
    ] {
        assert!(
            page_of_case.contains(&format!("/compose/{kind}?case={case}")),
            "{kind}: {page_of_case}"
        );
    }
    // The acts outside cases: a clerk's arrangements, a root's governance acts
    let (_, inbox) = page(&e, &clerk, "/inbox").await;
    assert!(inbox.contains("href=\"/compose\""), "{inbox}");
    let (status, clerk_acts) = page(&e, &clerk, "/compose").await;
    assert_eq!(status, StatusCode::OK);
    assert!(clerk_acts.contains("/compose/LanguageArrangementProposed"));
    assert!(!clerk_acts.contains("/compose/AuthorityDesignated"));
    let (_, root_inbox) = page(&e, &root, "/inbox").await;
    assert!(
        root_inbox.contains("id=\"governance-acts\""),
        "{root_inbox}"
    );
    let (_, root_acts) = page(&e, &root, "/compose").await;
    assert!(root_acts.contains("/compose/AuthorityDesignated"));
    assert!(!root_acts.contains("/compose/Request"));
    // An auditor has no acts to draft
    let audit = session(&e, "KZ-AUDIT").await;
    let (status, _) = page(&e, &audit, "/compose").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Issue 28, finding 1: the node says how far each Party's witnesses have cosigned its
/// checkpoints, on `/healthz` and in `/metrics` — and what rests on its word alone.
#[tokio::test]
async fn health_and_metrics_say_how_far_each_partys_witness_has_cosigned() {
    let e = env_keyed(fixture::handover_node_key(), |_| {});
    let f = fixture::ledger().unwrap();
    let last = f.checkpoints.last().unwrap().0;
    let (status, _, body) = send(&e.node, get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let h: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["witnessed"]["kz"], last);
    assert_eq!(h["witnessed"]["tm"], last);
    assert_eq!(h["witnessed"]["both"], last);
    assert_eq!(h["witnessed"]["unwitnessed"], 0);
    // When a record lands that no witness has cosigned yet
    let root = session(&e, "KZ-MFA").await;
    let key = SecretKey::from_seed(&[0x79; 32]).public().to_hex();
    let (_, draft) = page(
        &e,
        &root,
        &format!("/compose/ObserverRegistered?id=KZ-AUDIT-2&role=Auditor&key={key}&check=1"),
    )
    .await;
    let (status, receipt) = sign_and_submit(&e, "KZ-MFA", &draft).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    // Then it rests on the node's word alone until both witnesses cosign a checkpoint
    let (_, _, body) = send(&e.node, get("/healthz").body(Body::empty()).unwrap()).await;
    let h: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(h["witnessed"]["both"], last, "{body}");
    assert_eq!(
        h["witnessed"]["unwitnessed"],
        h["size"].as_u64().unwrap() - last
    );
    let (_, _, metrics) = send(&e.node, get("/metrics").body(Body::empty()).unwrap()).await;
    assert!(
        metrics.contains(&format!("coopledger_witnessed_both_size {last}")),
        "{metrics}"
    );
    assert!(metrics.contains(&format!("coopledger_witnessed_size{{party=\"tm\"}} {last}")));
    assert!(
        metrics.contains("coopledger_unwitnessed_records 1"),
        "{metrics}"
    );
    // Issue 29: and how far sled is behind the journal, the write-ahead log.
    assert!(h["sled"]["behind_records"].is_u64(), "{body}");
    assert_eq!(h["sled"]["failed"], serde_json::Value::Null, "{body}");
    assert_eq!(h["sled"]["rebuilds"], 0, "{body}");
    for series in [
        "coopledger_sled_behind_records ",
        "coopledger_sled_behind_seconds ",
        "coopledger_sled_failed 0",
        "coopledger_sled_rebuilds_total 0",
    ] {
        assert!(metrics.contains(series), "{series}: {metrics}");
    }
    // And the console's overview says the same
    let audit = session(&e, "KZ-AUDIT").await;
    let (_, overview) = page(&e, &audit, "/?lang=en").await;
    assert!(overview.contains("id=\"witnessing\""), "{overview}");
    assert!(
        overview.contains(&format!("Witnessed by both Parties up to record {last}"))
            && overview.contains("1 records after it rest on the node's word alone"),
        "{overview}"
    );
}

/// Issue 30: `/v1/events/prepare` gave bytes to sign for a body whose author key was
/// another authority's; it now refuses, naming whose key it is, as the rules would.
#[tokio::test]
async fn prepare_refuses_another_authoritys_key_and_names_its_owner() {
    let e = env();
    let state = e.node.ledger.with_state(|s| s.clone()).unwrap();
    let key_of = |id: &str| {
        state.registry[&AuthorityId::new(id).unwrap()]
            .current_key()
            .copied()
            .unwrap()
            .to_hex()
    };
    let body = |key: String| {
        serde_json::json!({
            "version": 2,
            "ledger_id": state.ledger_id.unwrap().to_string(),
            "event_id": "00".repeat(16),
            "author": { "authority": "KZ-MVD", "key": key },
            "authored_at": e.node.ledger.now().0,
            "case": null,
            "answers": [],
            "payload": { "LanguageArrangementProposed": { "with": "TM-MVD", "languages": ["Ru"] } }
        })
        .to_string()
    };
    let prepare = |b: String| {
        Request::post("/v1/events/prepare")
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b))
            .unwrap()
    };
    let (status, _, answer) = send(&e.node, prepare(body(key_of("TM-MVD")))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer.contains("registered to TM-MVD, not to KZ-MVD"),
        "{answer}"
    );
    let (status, _, answer) = send(&e.node, prepare(body(key_of("KZ-MVD")))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// Issue 30: a JSON event sent as `text/plain` or with no content type, an empty body and
/// garbage to the batch endpoint were answered in Rust's Debug text.
#[tokio::test]
async fn bodies_that_are_not_events_are_answered_in_words() {
    let e = env();
    let post = |path: &str, ct: Option<&str>, body: &'static str| {
        let mut r = Request::post(path).header(header::HOST, HOST);
        if let Some(ct) = ct {
            r = r.header(header::CONTENT_TYPE, ct);
        }
        r.body(Body::from(body)).unwrap()
    };
    for (req, says) in [
        (
            post("/v2/events", Some("text/plain"), "{\"body\": {}}"),
            "came with Content-Type text/plain: send it with Content-Type: application/json",
        ),
        (
            post("/v2/events", None, "{\"body\": {}}"),
            "came with no Content-Type",
        ),
        (
            post("/v2/events", Some("application/json"), ""),
            "the body is empty",
        ),
        (post("/v2/events", None, ""), "the body is empty"),
        (
            post(
                "/v2/events:batch",
                Some("application/octet-stream"),
                "\u{7}garbage",
            ),
            "not a canonical list of signed events",
        ),
    ] {
        let (status, _, body) = send(&e.node, req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains(says), "{says}: {body}");
        assert!(
            !body.contains("Unexpected") && !body.contains("{ additional"),
            "{body}"
        );
    }
}

/// Issue 30: for the same case at the same record the console said "Executed" where the
/// CLI and the bundle verifier said "executed in part".
#[tokio::test]
async fn a_case_executed_in_part_is_said_so_on_its_page() {
    let e = env();
    let f = fixture::ledger().unwrap();
    let report = f
        .records
        .iter()
        .find(|r| {
            matches!(
                coop_treaty::Payload::from_bytes(&r.record.event.body.payload),
                Ok(coop_treaty::Payload::ExecutionReported {
                    extent: coop_treaty::Extent::Partial,
                    ..
                })
            )
        })
        .unwrap();
    let case = report.record.event.body.case.unwrap().case_id.to_hex();
    let audit = session(&e, "KZ-AUDIT").await;
    let (status, body) = page(
        &e,
        &audit,
        &format!("/cases/{case}?as_of={}&lang=en", report.record.seq),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(">Executed in part<"), "{body}");
}

/// Issue 30, the console looked at: an empty filter result said nothing; the checkpoints
/// table repeated the node's 85-character key name on every row; the restricted-access
/// badge was red like an error; chart legends' swatches were stretched.
#[tokio::test]
async fn console_pages_say_an_empty_result_and_name_the_node_once() {
    let e = env();
    let audit = session(&e, "KZ-AUDIT").await;
    let (_, none) = page(&e, &audit, "/cases?q=no-such-words-anywhere&lang=en").await;
    assert!(
        none.contains("id=\"cases-none\"") && none.contains("No case matches these filters."),
        "{none}"
    );
    let (_, cps) = page(&e, &audit, "/checkpoints?lang=en").await;
    let origin = format!("coopledger/{}", e.ledger);
    let table = cps
        .split("<table id=\"checkpoints\"")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_default();
    assert!(!table.is_empty() && !table.contains(&origin), "{cps}");
    assert!(cps.contains("id=\"checkpoints-origin\""), "{cps}");
    assert!(cps.contains("the node, KZ-WITNESS, TM-WITNESS"), "{cps}");
    let (_, _, css) = send(
        &e.node,
        get("/static/console.css").body(Body::empty()).unwrap(),
    )
    .await;
    assert!(
        css.contains("ul.legend svg { width: 10px; height: 10px;"),
        "{css}"
    );
    assert!(css.contains("figure.chart > svg { width: 100%"), "{css}");
    assert!(
        css.contains(".restricted { border-color: var(--accent); color: var(--accent); }"),
        "{css}"
    );
}

/// Issue 30: the printed dossier cut every digest and hash to 16 hex digits (paper could
/// not be checked against a document or a record), had no print date at the top and no
/// place for signatures; a consultation's page lacked the dispute's subject.
#[tokio::test]
async fn the_dossier_prints_whole_digests_its_date_a_place_to_sign_and_each_disputes_subject() {
    let e = env();
    let state = e.node.ledger.with_state(|s| s.clone()).unwrap();
    let case = state
        .cases
        .values()
        .find(|k| !k.disputes.is_empty())
        .unwrap();
    let audit = session(&e, "KZ-AUDIT").await;
    let (status, dossier) = page(
        &e,
        &audit,
        &format!("/cases/{}/dossier?lang=en", case.id.to_hex()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{dossier}");
    let first = case.steps.first().unwrap().event_hash.to_hex();
    assert!(
        dossier.contains(&first),
        "the whole hash {first}: {dossier}"
    );
    assert!(dossier.contains("id=\"dossier-printed\""), "{dossier}");
    assert!(dossier.contains("id=\"dossier-signatures\""), "{dossier}");
    let (_, page_of_case) = page(&e, &audit, &format!("/cases/{}?lang=en", case.id.to_hex())).await;
    let subject = page_of_case
        .split("class=\"subject\"")
        .nth(1)
        .unwrap_or_default();
    assert!(subject.contains("/documents?digest="), "{page_of_case}");
}

/// Issue 30: the 403 page had no navigation.
#[tokio::test]
async fn a_forbidden_page_shows_the_way_on() {
    let e = env();
    let clerk = session(&e, "KZ-MVD").await;
    let (status, body) = page(&e, &clerk, "/article7?lang=en").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("id=\"error-nav\""), "{body}");
    assert!(
        body.contains("href=\"/inbox\"") && body.contains("id=\"error-why\""),
        "{body}"
    );
}
