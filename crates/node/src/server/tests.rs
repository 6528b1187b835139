//! The router in process (tower's `oneshot`, no socket): a copy of the fixture ledger
//! behind a node, its reads signed as a client signs them, and the console's login.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::router;
use crate::auth::{Request as Signed, Signer, sign_request};
use crate::node::{Node, NodeConfig};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use coop_console::login_message;
use coop_core::{AuthorityId, SecretKey};
use coop_ledger::{Config, Ledger};
use coop_store::SledStore;
use coop_treaty::testkit::{self, fixture};
use std::sync::Arc;
use tower::ServiceExt as _;

const HOST: &str = "node.test:8080";

struct Env {
    _tmp: tempfile::TempDir,
    node: Arc<Node>,
    ledger: String,
}

fn env() -> Env {
    env_with(|_| {})
}

/// A node over the fixture ledger, its configuration changed by `f`.
fn env_with(change: impl FnOnce(&mut NodeConfig)) -> Env {
    env_keyed(SecretKey::from_seed(&[0x42; 32]), change)
}

/// A node over the fixture ledger that signs with `key`: the fixture's current node key
/// makes it the ledger's sequencer, which takes appends.
fn env_keyed(key: SecretKey, change: impl FnOnce(&mut NodeConfig)) -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let f = fixture::ledger().unwrap();
    let ledger =
        Ledger::empty(SledStore::open(tmp.path()).unwrap(), key, Config::default()).unwrap();
    ledger.replicate(f.records.clone()).unwrap();
    for (_, note) in &f.checkpoints {
        ledger.store_checkpoint(note).unwrap();
    }
    let id = ledger.ledger_id().unwrap().to_string();
    let mut config = NodeConfig {
        authorities: vec![HOST.into()],
        ..NodeConfig::default()
    };
    change(&mut config);
    let node = Node::new(ledger, config);
    Env {
        _tmp: tmp,
        node,
        ledger: id,
    }
}

async fn send(node: &Arc<Node>, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let r = router(node.clone()).oneshot(req).await.unwrap();
    let (parts, body) = r.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 24).await.unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn get(path: &str) -> axum::http::request::Builder {
    Request::builder().uri(path).header(header::HOST, HOST)
}

/// A GET signed by `who` with its fixture key, as the client signs it.
fn signed(e: &Env, who: &str, path_and_query: &str) -> Request<Body> {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let keys = testkit::keys();
    let id = AuthorityId::new(who).unwrap();
    let nonce = format!("{:032x}", rand_nonce());
    let (input, sig) = sign_request(
        &Signed {
            method: "GET",
            authority: HOST,
            path,
            query,
        },
        &Signer {
            keyid: &id,
            key: &keys[who],
            ledger: &e.ledger,
        },
        crate::node::now_secs(),
        &nonce,
    );
    get(path_and_query)
        .header(crate::auth::SIGNATURE_INPUT, input)
        .header(crate::auth::SIGNATURE, sig)
        .body(Body::empty())
        .unwrap()
}

fn rand_nonce() -> u128 {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).unwrap();
    u128::from_le_bytes(b)
}

#[tokio::test]
async fn reads_are_signed_paged_and_refuse_unknown_parameters() {
    let e = env();
    let (status, _, _) = send(&e.node, get("/v1/cases").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, _, body) = send(&e.node, signed(&e, "KZ-AUDIT", "/v1/cases")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v1: serde_json::Value = serde_json::from_str(&body).unwrap();
    let total = v1["total"].as_u64().unwrap();
    assert_eq!(v1["cases"].as_array().unwrap().len() as u64, total);

    let (status, _, body) = send(&e.node, signed(&e, "KZ-AUDIT", "/v2/cases?limit=1")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v2: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v2["total"].as_u64().unwrap(), total);
    assert_eq!(v2["cases"].as_array().unwrap().len(), 1);
    assert_eq!(v2["cases"][0]["id"], v1["cases"][0]["id"]);

    for bad in [
        "/v2/cases?stauts=open",
        "/v2/cases?status=bogus",
        "/v2/cases?limit=1001",
    ] {
        let (status, _, body) = send(&e.node, signed(&e, "KZ-AUDIT", bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    // A misspelt as-of on one case is refused, not answered with the latest state.
    let id = v1["cases"][0]["id"].as_str().unwrap().to_owned();
    for bad in [
        format!("/v1/cases/{id}?asof=3"),
        format!("/v1/cases/{id}?as_of=1&as_of_time=5"),
    ] {
        let (status, _, body) = send(&e.node, signed(&e, "KZ-AUDIT", &bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (status, _, _) = send(
        &e.node,
        signed(&e, "KZ-AUDIT", &format!("/v1/cases/{id}?as_of=3")),
    )
    .await;
    assert!(status == StatusCode::OK || status == StatusCode::NOT_FOUND);
    // A competent authority's list holds its own cases only.
    let (_, _, body) = send(&e.node, signed(&e, "KZ-MVD", "/v2/cases?limit=1000")).await;
    let own: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        own["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["requester"] == "KZ-MVD" || c["requested"] == "KZ-MVD")
    );
    // A witness may not read cases.
    let (status, _, _) = send(&e.node, signed(&e, "TM-WITNESS", "/v2/cases")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// The console's login in process: the challenge, the signed answer, the session
/// cookie, and the read roles.
#[tokio::test]
async fn the_console_opens_to_a_signed_challenge_and_to_nothing_else() {
    let e = env();
    let (status, headers, _) = send(&e.node, get("/cases").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );

    let login = |who: &'static str, key_of: &'static str| {
        let node = e.node.clone();
        async move {
            let (_, _, page) = send(&node, get("/login").body(Body::empty()).unwrap()).await;
            let challenge = page
                .split("data-challenge=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap()
                .to_owned();
            let key = &testkit::keys()[key_of];
            let sig = key.sign(login_message(HOST, who, &challenge).as_bytes());
            let form = format!(
                "id={who}&challenge={challenge}&signature={}&next=%2Fcases",
                base64::engine::general_purpose::STANDARD
                    .encode(sig.0)
                    .replace('+', "%2B")
                    .replace('/', "%2F")
                    .replace('=', "%3D")
            );
            let req = Request::post("/login")
                .header(header::HOST, HOST)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap();
            send(&node, req).await
        }
    };
    // The wrong key: 401, no cookie.
    let (status, headers, _) = login("KZ-AUDIT", "KZ-MVD").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.get(header::SET_COOKIE).is_none());

    // The right key: a session cookie, HttpOnly and SameSite=Strict.
    let (status, headers, _) = login("KZ-AUDIT", "KZ-AUDIT").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/cases");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();
    let (status, headers, body) = send(
        &e.node,
        get("/article7")
            .header(header::COOKIE, &session)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert!(body.contains("KZ-AUDIT"));

    // A witness signs in but may not read cases or Article 7.
    let (_, headers, _) = login("TM-WITNESS", "TM-WITNESS").await;
    let witness = headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    for page in ["/cases", "/article7"] {
        let (status, _, _) = send(
            &e.node,
            get(page)
                .header(header::COOKIE, &witness)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    }
    let (status, _, _) = send(
        &e.node,
        get("/registry")
            .header(header::COOKIE, &witness)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // A forged session is no session.
    let (status, _, _) = send(
        &e.node,
        get("/registry")
            .header(header::COOKIE, "coop_session=00")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

/// A console session for `who` (signed in with its fixture key): the cookie to send.
async fn session(e: &Env, who: &str) -> String {
    session_cookie(e, who)
        .await
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The `Set-Cookie` a sign-in of `who` answers.
async fn session_cookie(e: &Env, who: &str) -> String {
    let (_, _, page) = send(&e.node, get("/login").body(Body::empty()).unwrap()).await;
    let challenge = page
        .split("data-challenge=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let sig = testkit::keys()[who].sign(login_message(HOST, who, &challenge).as_bytes());
    let form = format!(
        "id={who}&challenge={challenge}&signature={}&next=%2F",
        base64::engine::general_purpose::STANDARD
            .encode(sig.0)
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    );
    let req = Request::post("/login")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let (status, headers, body) = send(&e.node, req).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    headers[header::SET_COOKIE].to_str().unwrap().to_owned()
}

/// Every route of the node, API and console, answered in process (no socket, no
/// binary), each counted in `/metrics` under its own route label.
#[tokio::test]
async fn every_route_answers_in_process_and_is_counted_under_its_own_label() {
    let e = env();
    let json = |body: &str| -> serde_json::Value { serde_json::from_str(body).unwrap() };
    let (_, _, info) = send(&e.node, get("/v1/info").body(Body::empty()).unwrap()).await;
    let size = json(&info)["size"].as_u64().unwrap();
    assert!(size > 10, "{info}");
    let (_, _, rec) = send(&e.node, signed(&e, "KZ-AUDIT", "/v1/records/0")).await;
    let event_id = json(&rec)["event_id"].as_str().unwrap().to_owned();
    let (_, _, cases) = send(&e.node, signed(&e, "KZ-AUDIT", "/v2/cases?limit=1")).await;
    let case = json(&cases)["cases"][0]["id"].as_str().unwrap().to_owned();
    let (_, _, cp) = send(&e.node, signed(&e, "KZ-AUDIT", "/v1/checkpoints/latest")).await;
    let cp_size = json(&cp)["size"].as_u64().unwrap_or_else(|| panic!("{cp}"));

    // API: each GET signed by an auditor, each POST with a body the route refuses (a
    // 4xx that writes nothing is an answer too; the other tests append).
    let reads = [
        ("/healthz", "/healthz"),
        ("/metrics", "/metrics"),
        ("/v1/info", "/v1/info"),
        ("/v1/openapi.json", "/v1/openapi.json"),
        ("/v1/events/{id}", &format!("/v1/events/{event_id}")),
        ("/v1/records", "/v1/records?from=0&limit=2"),
        ("/v1/records/{seq}", "/v1/records/1"),
        ("/v1/checkpoints/latest", "/v1/checkpoints/latest"),
        (
            "/v1/checkpoints/{size}",
            &format!("/v1/checkpoints/{cp_size}"),
        ),
        (
            "/v1/proofs/inclusion",
            &format!("/v1/proofs/inclusion?seq=1&size={cp_size}"),
        ),
        (
            "/v1/proofs/consistency",
            &format!("/v1/proofs/consistency?from=1&to={cp_size}"),
        ),
        ("/v1/cases", "/v1/cases"),
        ("/v2/cases", "/v2/cases?limit=2"),
        ("/v1/cases/{id}", &format!("/v1/cases/{case}")),
        (
            "/v1/cases/{id}/timeline",
            &format!("/v1/cases/{case}/timeline"),
        ),
        ("/v1/cases/{id}/bundle", &format!("/v1/cases/{case}/bundle")),
        ("/v1/article7/register", "/v1/article7/register"),
        ("/v1/article7/report", "/v1/article7/report"),
        ("/v1/authorities", "/v1/authorities"),
    ]
    .map(|(route, path)| (route.to_owned(), path.to_owned()));
    let mut routes: Vec<String> = Vec::new();
    for (route, path) in &reads {
        let (status, headers, body) = send(&e.node, signed(&e, "KZ-AUDIT", path)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert!(!headers[header::CONTENT_TYPE].is_empty(), "{path}");
        routes.push(route.clone());
    }
    let size_now = |n: &Arc<Node>| n.ledger.head().unwrap().size;
    for (route, path, content_type) in [
        ("/v1/events", "/v1/events", "application/octet-stream"),
        ("/v2/events", "/v2/events", "application/octet-stream"),
        (
            "/v1/events:batch",
            "/v1/events:batch",
            "application/octet-stream",
        ),
        (
            "/v2/events:batch",
            "/v2/events:batch",
            "application/octet-stream",
        ),
        (
            "/v1/events/prepare",
            "/v1/events/prepare",
            "application/json",
        ),
        ("/v1/events/check", "/v1/events/check", "application/json"),
        (
            "/v1/checkpoints/{size}/cosignatures",
            &format!("/v1/checkpoints/{cp_size}/cosignatures"),
            "text/plain",
        ),
    ] {
        let req = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from("not what this route takes"))
            .unwrap();
        let (status, _, body) = send(&e.node, req).await;
        assert!(status.is_client_error(), "{path}: {status} {body}");
        assert_eq!(size_now(&e.node), size, "{path} wrote something");
        routes.push(route.to_owned());
    }
    // The stream answers at once with an event stream (its body never ends: not read).
    let r = router(e.node.clone())
        .oneshot(signed(&e, "KZ-AUDIT", "/v1/stream?from=0"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CONTENT_TYPE], "text/event-stream");
    drop(r);
    routes.push("/v1/stream".into());

    // The console, signed in as an auditor (who may read every page).
    let cookie = session(&e, "KZ-AUDIT").await;
    for (route, path, kind) in [
        ("/", "/".to_owned(), "text/html"),
        ("/inbox", "/inbox?for=TM-MVD".to_owned(), "text/html"),
        ("/outbox", "/outbox?for=KZ-MVD".to_owned(), "text/html"),
        ("/cases", "/cases".to_owned(), "text/html"),
        ("/cases.csv", "/cases.csv".to_owned(), "text/csv"),
        ("/cases/{id}", format!("/cases/{case}"), "text/html"),
        (
            "/cases/{id}/dossier",
            format!("/cases/{case}/dossier"),
            "text/html",
        ),
        (
            "/cases/{id}/timeline.csv",
            format!("/cases/{case}/timeline.csv"),
            "text/csv",
        ),
        (
            "/cases/{id}/letter",
            format!("/cases/{case}/letter"),
            "text/html",
        ),
        ("/article7", "/article7".to_owned(), "text/html"),
        ("/article7/print", "/article7/print".to_owned(), "text/html"),
        ("/article7.csv", "/article7.csv".to_owned(), "text/csv"),
        ("/registry", "/registry".to_owned(), "text/html"),
        ("/registry.csv", "/registry.csv".to_owned(), "text/csv"),
        ("/checkpoints", "/checkpoints".to_owned(), "text/html"),
        ("/documents", "/documents".to_owned(), "text/html"),
        (
            "/static/console.css",
            "/static/console.css".to_owned(),
            "text/css",
        ),
        (
            "/static/console.js",
            "/static/console.js".to_owned(),
            "text/javascript",
        ),
        (
            "/static/digest.js",
            "/static/digest.js".to_owned(),
            "text/javascript",
        ),
        (
            "/static/receipt.js",
            "/static/receipt.js".to_owned(),
            "text/javascript",
        ),
        (
            "/static/noble/{file}",
            "/static/noble/blake3.js".to_owned(),
            "text/javascript",
        ),
        ("/login", "/login".to_owned(), "text/html"),
    ] {
        let (status, headers, body) = send(
            &e.node,
            get(&path)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let ct = headers[header::CONTENT_TYPE].to_str().unwrap();
        assert!(ct.starts_with(kind), "{path}: {ct}");
        routes.push(route.to_owned());
    }
    let logout = Request::post("/logout")
        .header(header::HOST, HOST)
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = send(&e.node, logout).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    routes.push("/logout".into());

    let (_, _, metrics) = send(&e.node, get("/metrics").body(Body::empty()).unwrap()).await;
    for route in &routes {
        assert!(
            metrics.contains(&format!(
                "coopledger_http_requests_total{{route=\"{route}\","
            )),
            "{route} has no label of its own in /metrics"
        );
    }
    assert!(!metrics.contains("route=\"other\""), "{metrics}");
    // The sign-in tables are visible: one challenge per sign-in page asked for above.
    assert!(
        metrics.contains("\ncoopledger_console_challenges ")
            && metrics.contains("\ncoopledger_console_sessions_dropped_total 0"),
        "{metrics}"
    );
}

/// A reconnecting stream's `Last-Event-ID` is a record's seq: the stream resumes after it.
/// The last possible seq (nothing after it) and a non-number are refused, not wrapped
/// around to record 0 or ignored.
#[tokio::test]
async fn a_stream_resumes_after_a_last_event_id_that_is_a_seq_and_refuses_any_other() {
    let e = env();
    for bad in ["18446744073709551615", "seven", "-1"] {
        let mut req = signed(&e, "KZ-AUDIT", "/v1/stream");
        req.headers_mut()
            .insert("last-event-id", bad.parse().unwrap());
        let r = router(e.node.clone()).oneshot(req).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let mut req = signed(&e, "KZ-AUDIT", "/v1/stream");
    req.headers_mut()
        .insert("last-event-id", "3".parse().unwrap());
    let r = router(e.node.clone()).oneshot(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// A form post from another site is refused before anything (issue 26, login CSRF): by
/// the browser's `Sec-Fetch-Site`, or else by an `Origin` naming another host. From the
/// console's own page the sign-in goes on (here to a refused signature).
#[tokio::test]
async fn a_sign_in_posted_from_another_site_is_refused() {
    let e = env();
    let post = |origin: Option<&str>, site: Option<&str>| {
        let mut b = Request::post("/login")
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        if let Some(s) = site {
            b = b.header("sec-fetch-site", s);
        }
        b.body(Body::from(
            "id=KZ-AUDIT&challenge=x&signature=AAAA&next=%2F",
        ))
        .unwrap()
    };
    for (origin, site) in [
        (Some("https://evil.example"), None),
        (Some("null"), None),
        (None, Some("cross-site")),
        (Some(&*format!("http://{HOST}")), Some("same-site")),
    ] {
        let (status, _, body) = send(&e.node, post(origin, site)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin:?} {site:?}: {body}");
    }
    for (origin, site) in [
        (Some(&*format!("http://{HOST}")), None),
        (None, Some("same-origin")),
        (None, None),
    ] {
        let (status, _, body) = send(&e.node, post(origin, site)).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{origin:?} {site:?}: {body}"
        );
    }
}

/// Issue 26, finding 1: "check a document" read the whole body (up to 256 MiB) before it
/// checked the session; issue 27, item 4: the documents of a case are restricted, so the
/// browser hashes them and the node takes no file body at all. An upload, with or
/// without a session, is not served and not a byte of it is read.
#[tokio::test]
async fn the_node_takes_no_file_bodies() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let e = env();
    let read = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&read);
    let body = futures_util::stream::repeat_with(move || {
        counter.fetch_add(1 << 20, Ordering::SeqCst);
        Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![0u8; 1 << 20]))
    });
    let body = futures_util::StreamExt::take(body, 200);
    let cookie = session(&e, "KZ-AUDIT").await;
    let req = Request::post("/documents/digest")
        .header(header::HOST, HOST)
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from_stream(body))
        .unwrap();
    let (status, _, _) = send(&e.node, req).await;
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED,
        "{status}"
    );
    assert_eq!(read.load(Ordering::SeqCst), 0, "a file body was read");
    // The page that checks a document hashes in the browser, with the pinned library.
    let (status, _, page) = send(
        &e.node,
        get("/documents")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("/static/digest.js") && !page.contains("data-digest-url"));
    for path in [
        "/static/digest.js",
        "/static/noble/blake3.js",
        "/static/noble/utils.js",
    ] {
        let (status, headers, _) = send(&e.node, get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/javascript")
        );
    }
}

/// Issue 26, finding 3: a body trickled to the console stayed open for minutes. Every
/// console route has the API's request timeout (on tokio's paused clock: no wait).
#[tokio::test(start_paused = true)]
async fn a_console_request_that_never_finishes_its_body_gets_408() {
    let e = env();
    let req = Request::post("/login")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from_stream(futures_util::stream::pending::<
            Result<axum::body::Bytes, std::io::Error>,
        >()))
        .unwrap();
    let (status, _, _) = send(&e.node, req).await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
}

/// Issue 26, finding 6: over TLS the session cookie is `Secure` and every answer, API and
/// console, carries HSTS; over plain HTTP neither.
#[tokio::test]
async fn over_tls_the_session_cookie_is_secure_and_answers_carry_hsts() {
    let plain = env();
    let (_, headers, _) = send(&plain.node, get("/v1/info").body(Body::empty()).unwrap()).await;
    assert!(headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());
    let cookie = session(&plain, "KZ-AUDIT").await;
    assert!(!cookie.contains("Secure"));

    let tls = env_with(|c| c.tls = true);
    for path in ["/v1/info", "/login", "/static/console.css"] {
        let (_, headers, _) = send(&tls.node, get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(
            headers[header::STRICT_TRANSPORT_SECURITY],
            "max-age=31536000",
            "{path}"
        );
    }
    let set_cookie = session_cookie(&tls, "KZ-AUDIT").await;
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
}

/// Issue 26, finding 4: the console over a verified copy has no sign-in; on loopback it
/// answers only under its own names, so a page the auditor visits cannot read it by DNS
/// rebinding.
#[tokio::test]
async fn a_console_without_sign_in_answers_only_as_its_own_names() {
    let tmp = tempfile::tempdir().unwrap();
    let f = fixture::ledger().unwrap();
    let ledger = Ledger::empty(
        SledStore::open(tmp.path()).unwrap(),
        SecretKey::from_seed(&[0x43; 32]),
        Config::default(),
    )
    .unwrap();
    ledger.replicate(f.records.clone()).unwrap();
    let console = Arc::new(coop_console::Console {
        source: Arc::new(ledger),
        verdict: None,
        label: "copy".into(),
        access: None,
        desk: None,
        reach: coop_console::Reach {
            hosts: Some(vec!["127.0.0.1:8090".into(), "localhost:8090".into()]),
            ..coop_console::Reach::default()
        },
    });
    for (host, want) in [
        ("127.0.0.1:8090", StatusCode::OK),
        ("localhost:8090", StatusCode::OK),
        ("evil.example:8090", StatusCode::MISDIRECTED_REQUEST),
        ("127.0.0.1:9999", StatusCode::MISDIRECTED_REQUEST),
    ] {
        let req = Request::builder()
            .uri("/registry")
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap();
        let r = coop_console::router(console.clone())
            .oneshot(req)
            .await
            .unwrap();
        assert_eq!(r.status(), want, "{host}");
    }
}

/// Issue 26, finding 10: a witness's stored cosignature was simply the last valid one
/// posted, and times 0 and 2076 were accepted. Now the first valid one per witness and
/// size is kept, and a time ahead of the node's clock or before the Agreement was signed
/// is refused.
#[tokio::test]
async fn a_witness_cosignature_is_kept_once_and_its_time_is_bounded() {
    let e = env();
    let (_, _, cp) = send(&e.node, signed(&e, "KZ-AUDIT", "/v1/checkpoints/latest")).await;
    let cp: serde_json::Value = serde_json::from_str(&cp).unwrap();
    let size = cp["size"].as_u64().unwrap();
    let note = cp["note"].as_str().unwrap().to_owned();
    let key = &testkit::keys()["KZ-WITNESS"];
    let now = crate::node::now_secs();
    let post = |body: String| {
        Request::post(format!("/v1/checkpoints/{size}/cosignatures"))
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(body))
            .unwrap()
    };
    for bad in [0, 3_400_000_000, now + 3600] {
        let cosigned = coop_core::checkpoint::cosign(&note, "KZ-WITNESS", key, bad).unwrap();
        let (status, _, body) = send(&e.node, post(cosigned)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "time {bad}: {body}");
    }
    let line = |n: &str| {
        coop_core::checkpoint::Note::parse(n)
            .unwrap()
            .signatures
            .into_iter()
            .filter(|l| l.name == "KZ-WITNESS")
            .collect::<Vec<_>>()
    };
    // The fixture's checkpoint may carry the witness's cosignature already: then that
    // one stays; else the first posted here.
    let before = line(&e.node.ledger.checkpoint(size).unwrap().unwrap());
    let first = coop_core::checkpoint::cosign(&note, "KZ-WITNESS", key, now).unwrap();
    let (status, _, body) = send(&e.node, post(first.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let later = coop_core::checkpoint::cosign(&note, "KZ-WITNESS", key, now + 1).unwrap();
    let (status, _, body) = send(&e.node, post(later)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stored = e.node.ledger.checkpoint(size).unwrap().unwrap();
    let expected = if before.is_empty() {
        line(&first)
    } else {
        before
    };
    assert_eq!(
        line(&stored),
        expected,
        "the first valid cosignature is the one kept"
    );
}

/// Issue 26, finding 12: `/v1/records?form=7000` (a misspelt `from`) answered from 0, and
/// `/v1/authorities?as_of=5` answered today's registry. Every operation refuses a
/// parameter it does not document; the registry answers as of a point.
#[tokio::test]
async fn unknown_parameters_are_refused_everywhere_and_the_registry_reads_as_of() {
    let e = env();
    for path in [
        "/v1/records?form=7000",
        "/v1/records/1?as_of=3",
        "/v1/proofs/inclusion?seq=1&size=5&x=1",
        "/v1/proofs/consistency?from=1&to=5&verbose=1",
        "/v1/article7/register?as_of=5",
        "/v1/checkpoints/latest?size=3",
        "/v1/authorities?asof=5",
        "/v1/info?debug=1",
    ] {
        let (status, _, body) = send(&e.node, signed(&e, "KZ-AUDIT", path)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body.contains("unknown parameter"), "{path}: {body}");
    }
    let (status, _, now) = send(&e.node, signed(&e, "KZ-AUDIT", "/v1/authorities")).await;
    assert_eq!(status, StatusCode::OK, "{now}");
    let (status, _, then) = send(&e.node, signed(&e, "KZ-AUDIT", "/v1/authorities?as_of=2")).await;
    assert_eq!(status, StatusCode::OK, "{then}");
    let count = |b: &str| {
        serde_json::from_str::<serde_json::Value>(b)
            .unwrap()
            .as_object()
            .unwrap()
            .len()
    };
    assert!(
        count(&then) < count(&now),
        "the registry as of record 2 holds fewer authorities than today's"
    );
}

/// Sends `req` to a server on `addr` over a real connection, its `Host` the test's;
/// answers the status code and the body.
async fn over_tcp(addr: std::net::SocketAddr, req: Request<Body>) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut text = format!("GET {} HTTP/1.1\r\nhost: {HOST}\r\n", req.uri());
    for (name, value) in req.headers() {
        if name != header::HOST {
            text.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
        }
    }
    text.push_str("connection: close\r\n\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(text.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{answer}"));
    (status, answer)
}

/// Issue 26, finding 7: `created` counts whole seconds and a restarted node forgets the
/// nonces it saw, so a read signed in the second it started (perhaps before, and used at
/// the node it replaced) must be refused; one signed once it answers is served.
#[tokio::test]
async fn a_read_signed_in_the_second_the_server_started_is_refused() {
    let e = env();
    // Given a read signed now, in the second the node was made
    let early = signed(&e, "KZ-AUDIT", "/v1/authorities");
    // When the node starts serving
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(super::run(listener, e.node.clone(), async {
        let _ = stopped.await;
    }));
    // Then that read is refused, naming why
    let (status, body) = over_tcp(addr, early).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("before this node started"), "{body}");
    // And a read signed now that the node answers is served
    let (status, body) = over_tcp(addr, signed(&e, "KZ-AUDIT", "/v1/authorities")).await;
    assert_eq!(status, 200, "{body}");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// Found by the contract tests (Schemathesis): a consistency proof from the empty tree
/// answered 500; well-formed questions without a proof are 404, never a server error.
#[tokio::test]
async fn a_proof_that_does_not_exist_is_404_never_a_server_error() {
    let e = env();
    let (_, _, cp) = send(&e.node, signed(&e, "KZ-AUDIT", "/v1/checkpoints/latest")).await;
    let size = serde_json::from_str::<serde_json::Value>(&cp).unwrap()["size"]
        .as_u64()
        .unwrap();
    for path in [
        format!("/v1/proofs/consistency?from=0&to={size}"),
        format!("/v1/proofs/consistency?from={size}&to=1"),
        format!("/v1/proofs/consistency?from=1&to={}", size + 1000),
        format!("/v1/proofs/inclusion?seq={size}&size={size}"),
        format!("/v1/proofs/inclusion?seq=0&size={}", size + 1000),
    ] {
        let (status, _, body) = send(&e.node, signed(&e, "KZ-AUDIT", &path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(body.contains("\"error\":\"not_found\""), "{path}: {body}");
    }
}

/// Issue 27: a clerk signed in with their authority's key sees their own desk: the
/// inbox lists only acts asked of that authority in its own cases, with article and
/// deadline, the outbox its open requests; another authority's desk is forbidden; an
/// auditor chooses whose desk to see.
#[tokio::test]
async fn a_clerk_sees_their_own_inbox_and_outbox_and_nobody_elses() {
    let e = env();
    let page = |cookie: String, path: &'static str| {
        let node = e.node.clone();
        async move {
            send(
                &node,
                get(path)
                    .header(header::COOKIE, cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
        }
    };
    let state = e.node.ledger.with_state(|s| s.clone()).unwrap();
    let at = coop_ledger::read::At::new(state.clone(), None, || e.node.ledger.now());
    for who in ["KZ-MVD", "TM-MVD"] {
        let me = AuthorityId::new(who).unwrap();
        let want = coop_ledger::read::inbox(&at, &me, &Default::default());
        let cookie = session(&e, who).await;
        let (status, _, body) = page(cookie.clone(), "/inbox").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // Every task of the read model is on the page, none of another's case.
        for t in &want.tasks {
            assert!(body.contains(&t.case.to_hex()), "{who}: {} missing", t.case);
        }
        for c in state.cases.values() {
            if c.requester != me && c.requested != me {
                assert!(!body.contains(&c.id.to_hex()), "{who} sees case {}", c.id);
            }
        }
        assert!(body.contains(&format!("{} waiting", want.total)), "{body}");
        let (status, _, body) = page(cookie.clone(), "/outbox").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // Another authority's desk: forbidden.
        let other = if who == "KZ-MVD" {
            "/inbox?for=TM-MVD"
        } else {
            "/inbox?for=KZ-MVD"
        };
        let (status, _, _) = page(cookie, other).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // An auditor chooses; an unknown act word is refused, not ignored.
    let cookie = session(&e, "KZ-AUDIT").await;
    let (status, _, body) = page(cookie.clone(), "/inbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("id=\"d-for\""), "{body}");
    let (status, _, _) = page(cookie.clone(), "/inbox?for=TM-MVD&act=answer-request").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = page(cookie.clone(), "/inbox?for=TM-MVD&act=nap").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = page(cookie, "/inbox?for=KZ-AUDIT").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Issue 27: a clerk drafts an act in the console from their inbox — the node drafts
/// it from the case, judges it with the rules and gives the exact bytes to sign — signs
/// those bytes with their own key (here, as the browser does) and submits the event to
/// the API; the case moves on, and the same act drafted again is refused by the rules
/// before anything is signed.
#[tokio::test]
async fn a_clerk_drafts_signs_and_submits_an_act_from_the_console() {
    let e = env_keyed(fixture::handover_node_key(), |_| {});
    let keys = testkit::keys();
    // Given an act the console drafts waiting in a clerk's inbox (the fixture's)
    let state = e.node.ledger.with_state(|s| s.clone()).unwrap();
    let at = coop_ledger::read::At::new(state.clone(), None, || e.node.ledger.now());
    let (who, kind, case) = state
        .registry
        .values()
        .filter(|r| r.role == coop_treaty::Role::Competent)
        .find_map(|r| {
            let inbox = coop_ledger::read::inbox(&at, &r.id, &Default::default());
            inbox.tasks.iter().find_map(|t| {
                t.kinds
                    .iter()
                    .find(|k| coop_console::is_composable(k) && !coop_console::is_form(k))
                    .map(|k| (r.id.to_string(), *k, t.case))
            })
        })
        .expect("the fixture has an act the console drafts");
    let post = |path: &str, ct: &str, body: Vec<u8>| {
        Request::post(path)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap()
    };
    // When the clerk opens their inbox, the act links to its draft
    let cookie = session(&e, &who).await;
    let page = |path: String| {
        let (node, cookie) = (e.node.clone(), cookie.clone());
        async move {
            send(
                &node,
                get(&path)
                    .header(header::COOKIE, cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
        }
    };
    let compose = format!("/compose/{kind}?case={}", case.to_hex());
    let (_, _, inbox) = page("/inbox".into()).await;
    assert!(inbox.contains(&compose.replace('&', "&amp;")), "{inbox}");
    let (status, _, draft) = page(compose.clone()).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert!(draft.contains("id=\"compose-ok\""), "{draft}");
    // Then the clerk signs exactly the bytes the page gives, and the API takes the event
    let attr = |name: &str| -> String {
        let at = draft.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        let end = draft[at..].find('"').unwrap();
        draft[at..at + end]
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    };
    let message = hex::decode(attr("data-signing-message")).unwrap();
    let sig = keys[who.as_str()].sign(&message);
    let mut event: serde_json::Value = serde_json::json!({ "body": serde_json::from_str::<serde_json::Value>(&attr("data-body")).unwrap() });
    event["signature"] = serde_json::json!(sig.to_hex());
    let (status, _, receipt) = send(
        &e.node,
        post(
            "/v2/events",
            "application/json",
            event.to_string().into_bytes(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    let receipt: serde_json::Value = serde_json::from_str(&receipt).unwrap();
    assert_eq!(receipt["event_hash"], attr("data-event-hash"));
    let version = e
        .node
        .ledger
        .with_state(|s| s.cases[&case].version)
        .unwrap();
    assert_eq!(version, state.cases[&case].version + 1, "the case moved on");
    // And drafting the same act again shows the rules' refusal, with nothing to sign
    let (status, _, again) = page(compose).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        again.contains("id=\"problems\"") && !again.contains("id=\"sign-form\""),
        "{again}"
    );
    // An auditor drafts nothing; the one act the console does not draft (the genesis) says so.
    let audit = session(&e, "KZ-AUDIT").await;
    let (status, _, _) = send(
        &e.node,
        get(&format!("/compose/{kind}?case={}", case.to_hex()))
            .header(header::COOKIE, audit)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = page(format!("/compose/Genesis?case={}", case.to_hex())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Issue 27, item 5: a case's request as a print-ready letter with every Art. 4.1
/// element, in the requesting authority's state language and the other Party's, read
/// from the request's own record.
#[tokio::test]
async fn a_request_is_printed_as_a_letter_with_every_element_in_both_languages() {
    let e = env();
    let state = e.node.ledger.with_state(|s| s.clone()).unwrap();
    let case = state
        .cases
        .values()
        .find(|c| c.requester_party == coop_treaty::Party::Kz && !c.oral)
        .expect("a request from Kazakhstan");
    let cookie = session(&e, "KZ-AUDIT").await;
    let (status, _, page) = send(
        &e.node,
        get(&format!("/cases/{}/letter?lang=en", case.id.to_hex()))
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    // Kazakh (the requester's) first, Turkmen beside it, each with the five elements.
    let kk = page.find("lang=\"kk\"").expect("a Kazakh column");
    let tk = page.find("lang=\"tk\"").expect("a Turkmen column");
    assert!(kk < tk);
    for (lang, words) in [
        (
            coop_i18n::Lang::Kk,
            [
                "letter-e1",
                "letter-e2",
                "letter-e3",
                "letter-e4",
                "letter-e5-copy",
                "letter-e5-provision",
            ],
        ),
        (
            coop_i18n::Lang::Tk,
            [
                "letter-e1",
                "letter-e2",
                "letter-e3",
                "letter-e4",
                "letter-e5-copy",
                "letter-e5-provision",
            ],
        ),
    ] {
        for w in words {
            assert!(page.contains(&lang.t(w)), "{w} in {}", lang.code());
        }
    }
    let record = e.node.ledger.record(case.steps[0].seq).unwrap().unwrap();
    let coop_treaty::Payload::Request(r) =
        coop_treaty::Payload::from_bytes(&record.record.event.body.payload).unwrap()
    else {
        panic!("not a request")
    };
    for d in [
        &r.elements.grounds,
        &r.elements.decision_copy,
        &r.elements.legal_provision,
    ] {
        assert!(page.contains(&d.as_ref().unwrap().digest.to_hex()));
    }
}

mod desk;
