//! The node end to end: the real `coopledger serve` and `coopledger follow` on
//! 127.0.0.1, driven by the Rust client and by hand-made requests: the lifecycle over
//! HTTP with receipts and proofs checked, access control, bad input, a follower that
//! mirrors and cosigns and then detects a rewritten leader, and a bounded load run.

use crate::support::{bin, p, run, text};
use coop_core::checkpoint::{NoteVerifier, verify_checkpoint};
use coop_core::event::CaseRef;
use coop_core::{
    AuthorityId, CaseId, EventId, Hash, LedgerId, Receipt, SecretKey, SignedEvent, Timestamp,
};
use coop_node::{Client, ClientError, auth};
use coop_treaty::testkit::{self, doc, purpose, request_to};
use coop_treaty::{DocRole, Extent, InfoKind, ItemId, Language, Payload, RefusalGround};
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A ledger with the demo's cast (keys in DIR/keys), made by the demo itself.
fn demo_ledger(dir: &Path) {
    let o = bin()
        .args(["demo", "--data", p(dir), "--cases", "20", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn key(dir: &Path, name: &str) -> SecretKey {
    let pem = std::fs::read_to_string(dir.join("keys").join(format!("{name}.pem"))).unwrap();
    SecretKey::from_pem(&pem, None).unwrap()
}

/// A running process that prints its address, stopped (SIGTERM, then SIGKILL) on drop.
struct Proc {
    child: Child,
    url: String,
    stopped: bool,
    /// Its standard error (logs), in a file: a pipe nobody reads would block it.
    stderr: tempfile::NamedTempFile,
}

impl Proc {
    fn start(mut cmd: Command) -> Proc {
        let stderr = tempfile::NamedTempFile::new().unwrap();
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(stderr.reopen().unwrap())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(out).lines();
        let url = loop {
            let Some(line) = lines.next() else {
                let _ = child.wait();
                panic!(
                    "the process ended before printing its address:\n{}",
                    std::fs::read_to_string(stderr.path()).unwrap_or_default()
                );
            };
            let line = line.unwrap();
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.trim().to_owned();
            }
        };
        // Keep draining stdout so the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Proc {
            child,
            url,
            stopped: false,
            stderr,
        }
    }

    /// What it wrote to standard error so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self.stderr.path()).unwrap_or_default()
    }

    /// Whether it is still running.
    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops it with SIGKILL (no chance to finish anything).
    fn kill9(&mut self) {
        self.stopped = true;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn serve(dir: &Path) -> Proc {
        let mut c = bin();
        c.args([
            "serve",
            "--data",
            p(dir),
            "--listen",
            "127.0.0.1:0",
            "--checkpoint-secs",
            "0.2",
        ]);
        Proc::start(c)
    }

    fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

fn id(s: &str) -> AuthorityId {
    AuthorityId::new(s).unwrap()
}

fn client(url: &str, dir: &Path, who: Option<&str>) -> Client {
    Client::new(url, who.map(|w| (id(w), Arc::new(key(dir, w)))), None).unwrap()
}

struct Ctx {
    dir: PathBuf,
    ledger: LedgerId,
    next: u64,
}

impl Ctx {
    fn event(&mut self, who: &str, case: Option<CaseRef>, payload: &Payload) -> SignedEvent {
        self.next += 1;
        let mut eid = [0x5E; 16];
        eid[..8].copy_from_slice(&self.next.to_be_bytes());
        testkit::sign(
            &key(&self.dir, who),
            who,
            Some(self.ledger),
            EventId(eid),
            Timestamp(now_ms()),
            case,
            vec![],
            payload,
        )
        .unwrap()
    }
}

fn at(case: CaseId, v: u64) -> Option<CaseRef> {
    Some(CaseRef {
        case_id: case,
        expected_version: v,
    })
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn the_whole_lifecycle_over_http_with_receipts_and_proofs_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let server = Proc::serve(&dir);
    let anon = client(&server.url, &dir, None);
    let info = anon.info().unwrap();
    let node = NoteVerifier::from_vkey(&info.node_vkey).unwrap();
    let mut cx = Ctx {
        dir: dir.clone(),
        ledger: LedgerId(info.ledger_id.unwrap()),
        next: 0,
    };
    let auditor = client(&server.url, &dir, Some("KZ-AUDIT"));
    let before_all = auditor
        .latest_checkpoint()
        .unwrap()
        .expect("the demo's checkpoint");
    let before_all = verify_checkpoint(&before_all.note, &node, &[])
        .unwrap()
        .checkpoint;
    let case = CaseId([0xC1; 16]);
    let item = ItemId([0x17; 16]);
    let third = "Prosecutor General's Office of Uzbekistan";
    let mut receipts: Vec<Receipt> = Vec::new();
    let mut submit = |cx: &mut Ctx, who: &str, v: u64, p: Payload| -> Hash {
        let ev = cx.event(who, at(case, v), &p);
        let h = ev.event_hash().unwrap();
        receipts.push(
            anon.submit_checked(&ev, &node.key)
                .unwrap_or_else(|e| panic!("{}: {e}", p.kind())),
        );
        h
    };
    submit(
        &mut cx,
        "KZ-MVD",
        0,
        Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    submit(
        &mut cx,
        "TM-MVD",
        1,
        Payload::Refused {
            extent: Extent::Partial,
            grounds: vec![RefusalGround::NationalLaw],
            reasons: testkit::written(40, coop_treaty::Party::Tm),
        },
    );
    submit(
        &mut cx,
        "TM-MVD",
        2,
        Payload::InformationTransferred {
            item,
            recipient: id("KZ-MVD"),
            kind: InfoKind::Forensic,
            restricted: true,
            permitted_purposes: vec![purpose(testkit::PURPOSE)],
            no_state_secret: true,
            documents: testkit::written(41, coop_treaty::Party::Tm),
        },
    );
    submit(
        &mut cx,
        "KZ-MVD",
        3,
        Payload::ConsentRequested {
            item,
            third_party: Some(third.into()),
            purposes: vec![],
        },
    );
    let consent = submit(
        &mut cx,
        "TM-MVD",
        4,
        Payload::ConsentGranted {
            item,
            third_party: Some(third.into()),
            purposes: vec![],
            documents: testkit::written(42, coop_treaty::Party::Tm),
        },
    );
    submit(
        &mut cx,
        "KZ-MVD",
        5,
        Payload::OnwardTransfer {
            item,
            third_party: third.into(),
            consent,
        },
    );
    submit(
        &mut cx,
        "KZ-MVD",
        6,
        Payload::DisputeRaised {
            dispute: 1,
            subject: doc(43, Language::Ru, DocRole::Original),
        },
    );
    submit(
        &mut cx,
        "TM-MVD",
        7,
        Payload::ConsultationHeld {
            dispute: 1,
            minutes: doc(44, Language::Ru, DocRole::Original),
        },
    );
    submit(
        &mut cx,
        "KZ-MVD",
        8,
        Payload::DisputeSettled {
            dispute: 1,
            outcome: doc(45, Language::Ru, DocRole::Original),
        },
    );

    // A refusal under the Agreement over HTTP: 422 with the clause, nothing written.
    let before = anon.info().unwrap().size;
    let ev = cx.event(
        "KZ-MVD",
        at(case, 9),
        &Payload::InformationUsed {
            item,
            purpose: purpose("tax audit"),
        },
    );
    match anon.submit(&ev) {
        Err(ClientError::Refused { clause, message }) => {
            assert_eq!(clause.as_deref(), Some("Art. 7.2"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(anon.info().unwrap().size, before);
    // A resubmission returns the first receipt.
    let first = cx.event("KZ-MVD", at(case, 9), &Payload::CaseClosed);
    let r1 = anon.submit_checked(&first, &node.key).unwrap();
    let r2 = anon.submit_checked(&first, &node.key).unwrap();
    assert!(r2.same_record(&r1), "{r1:?}\n{r2:?}");
    // Each receipt carries its own proof; the node's later history extends it.
    for r in [&r1, &r2] {
        let latest = auditor.prove_receipt_kept(r, &node.key).unwrap();
        assert!(latest.size > 0);
    }

    // Every receipt proves included once a checkpoint covers it, and consecutive
    // checkpoints are consistent.
    wait_for("a checkpoint covering the receipts", || {
        auditor
            .latest_checkpoint()
            .unwrap()
            .is_some_and(|c| c.size > r1.seq)
    });
    let mut cps = Vec::new();
    for r in &receipts {
        cps.push(auditor.prove_included(r, &node).unwrap());
    }
    let latest = cps.last().unwrap();
    assert!(latest.size > before_all.size);
    auditor.prove_consistent(&before_all, latest).unwrap();

    // The case, read by the auditor, as of the dispute being raised and now.
    let now = auditor.read(&format!("/v1/cases/{case}"), None).unwrap();
    assert_eq!(now["case"]["status"], "Closed");
    assert!(
        now["case"]["disputes"]["1"]["settled"]["seq"]
            .as_u64()
            .is_some()
    );
    let raised = receipts[6].seq;
    let then = auditor
        .read(
            &format!("/v1/cases/{case}"),
            Some(&format!("as_of={raised}")),
        )
        .unwrap();
    assert_eq!(
        then["case"]["disputes"]["1"]["settled"],
        serde_json::Value::Null
    );
    let tl = auditor
        .read(&format!("/v1/cases/{case}/timeline"), None)
        .unwrap();
    assert_eq!(tl["timeline"].as_array().unwrap().len(), 10);
    // The Article 7 report shows the onward transfer relied on the consent.
    let report = auditor.read("/v1/article7/report", None).unwrap();
    assert_eq!(report["held"], true);
    // The evidence bundle over HTTP verifies alone.
    let bytes = auditor
        .read_bytes(&format!("/v1/cases/{case}/bundle"), None)
        .unwrap();
    let b = coop_verify::Bundle::from_bytes(&bytes).unwrap();
    let vb = coop_verify::verify_bundle(&b, Some(&node)).unwrap();
    assert_eq!(vb.case().unwrap().version, 10);
    // The stream replays from a seq, in order.
    let streamed: Vec<u64> = auditor
        .stream(receipts[0].seq)
        .unwrap()
        .take(3)
        .map(|r| r.unwrap().seq)
        .collect();
    assert_eq!(
        streamed,
        vec![receipts[0].seq, receipts[0].seq + 1, receipts[0].seq + 2]
    );
    // Metrics count the appends and the refusal by clause.
    let m = reqwest::blocking::get(format!("{}/metrics", server.url))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        m.contains("coopledger_refusals_total{clause=\"Art. 7.2\"} 1"),
        "{m}"
    );
    assert!(m.contains("coopledger_append_latency_seconds_count"), "{m}");
}

/// The ledger id a node serves (hex), from its unauthenticated `/v1/info`.
fn ledger_of(url: &str) -> String {
    Client::new(url, None, None)
        .unwrap()
        .info()
        .unwrap()
        .ledger_id
        .unwrap()
        .to_hex()
}

/// The headers of a hand-made signed GET of `path` at the node `authority`, for `ledger`.
#[allow(clippy::too_many_arguments)]
fn sign_for(
    authority: &str,
    ledger: &str,
    path: &str,
    query: Option<&str>,
    who: &str,
    key: &SecretKey,
    created: u64,
    nonce: &str,
) -> (String, String) {
    auth::sign_request(
        &auth::Request {
            method: "GET",
            authority,
            path,
            query,
        },
        &auth::Signer {
            keyid: &id(who),
            key,
            ledger,
        },
        created,
        nonce,
    )
}

/// Sends a GET of `path` to `url` with the given signature headers.
fn send_signed(
    url: &str,
    path: &str,
    query: Option<&str>,
    (input, sig): (String, String),
) -> reqwest::blocking::Response {
    let full = match query {
        Some(q) => format!("{url}{path}?{q}"),
        None => format!("{url}{path}"),
    };
    reqwest::blocking::Client::new()
        .get(full)
        .header(auth::SIGNATURE_INPUT, input)
        .header(auth::SIGNATURE, sig)
        .send()
        .unwrap()
}

/// A hand-made signed GET, signed for the node at `url` and its ledger.
fn signed_get(
    url: &str,
    path: &str,
    query: Option<&str>,
    who: &str,
    key: &SecretKey,
    created: u64,
    nonce: &str,
) -> reqwest::blocking::Response {
    let authority = url
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    let headers = sign_for(
        authority,
        &ledger_of(url),
        path,
        query,
        who,
        key,
        created,
        nonce,
    );
    send_signed(url, path, query, headers)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn reads_need_a_fresh_signature_of_a_registered_key_with_the_right() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let server = Proc::serve(&dir);
    let u = &server.url;
    let status = |r: reqwest::blocking::Response| r.status().as_u16();
    // Unsigned.
    assert_eq!(
        status(reqwest::blocking::get(format!("{u}/v1/records")).unwrap()),
        401
    );
    // Signed by a key nobody registered, under a registered name and under an unknown one.
    let stranger = SecretKey::from_seed(&[77; 32]);
    assert_eq!(
        status(signed_get(
            u,
            "/v1/records",
            None,
            "KZ-AUDIT",
            &stranger,
            now(),
            "a1"
        )),
        401
    );
    assert_eq!(
        status(signed_get(
            u,
            "/v1/records",
            None,
            "KZ-NOBODY",
            &stranger,
            now(),
            "a2"
        )),
        401
    );
    // The auditor, fresh: 200; the same request again (a replay): 401.
    let auditor = key(&dir, "KZ-AUDIT");
    assert_eq!(
        status(signed_get(
            u,
            "/v1/records",
            Some("from=0&limit=2"),
            "KZ-AUDIT",
            &auditor,
            now(),
            "b1"
        )),
        200
    );
    assert_eq!(
        status(signed_get(
            u,
            "/v1/records",
            Some("from=0&limit=2"),
            "KZ-AUDIT",
            &auditor,
            now(),
            "b1"
        )),
        401
    );
    // Stale and future signatures.
    assert_eq!(
        status(signed_get(
            u,
            "/v1/records",
            None,
            "KZ-AUDIT",
            &auditor,
            now() - 3600,
            "c1"
        )),
        401
    );
    assert_eq!(
        status(signed_get(
            u,
            "/v1/records",
            None,
            "KZ-AUDIT",
            &auditor,
            now() + 3600,
            "c2"
        )),
        401
    );
    // A signature for another path does not open this one.
    let authority = u.trim_start_matches("http://");
    let ledger = ledger_of(u);
    let headers = sign_for(
        authority,
        &ledger,
        "/v1/records",
        None,
        "KZ-AUDIT",
        &auditor,
        now(),
        "d1",
    );
    assert_eq!(
        status(send_signed(u, "/v1/article7/register", None, headers)),
        401
    );
    // Nor one signed for another ledger, or for another node (even sent with its name in
    // the Host header, as a replayer would).
    let headers = sign_for(
        authority,
        &"ab".repeat(32),
        "/v1/records",
        None,
        "KZ-AUDIT",
        &auditor,
        now(),
        "d2",
    );
    assert_eq!(status(send_signed(u, "/v1/records", None, headers)), 401);
    let headers = sign_for(
        "127.0.0.1:1",
        &ledger,
        "/v1/records",
        None,
        "KZ-AUDIT",
        &auditor,
        now(),
        "d3",
    );
    let r = reqwest::blocking::Client::new()
        .get(format!("{u}/v1/records"))
        .header(reqwest::header::HOST, "127.0.0.1:1")
        .header(auth::SIGNATURE_INPUT, headers.0)
        .header(auth::SIGNATURE, headers.1)
        .send()
        .unwrap();
    assert_eq!(status(r), 401);
    // Roles: the auditor reads the register; a witness may not (403); a competent
    // authority reads its own cases but not others' (403).
    assert_eq!(
        status(signed_get(
            u,
            "/v1/article7/register",
            None,
            "KZ-AUDIT",
            &auditor,
            now(),
            "e1"
        )),
        200
    );
    let witness = key(&dir, "TM-WITNESS");
    assert_eq!(
        status(signed_get(
            u,
            "/v1/article7/register",
            None,
            "TM-WITNESS",
            &witness,
            now(),
            "e2"
        )),
        403
    );
    let kz_mvd = client(u, &dir, Some("KZ-MVD"));
    let cases = client(u, &dir, Some("KZ-AUDIT"))
        .read("/v1/cases", None)
        .unwrap();
    let list = cases["cases"].as_array().unwrap();
    let own = list
        .iter()
        .find(|c| c["requester"] == "KZ-MVD" || c["requested"] == "KZ-MVD")
        .unwrap();
    let other = list
        .iter()
        .find(|c| c["requester"] != "KZ-MVD" && c["requested"] != "KZ-MVD")
        .unwrap();
    kz_mvd
        .read(&format!("/v1/cases/{}", own["id"].as_str().unwrap()), None)
        .unwrap();
    match kz_mvd.read(
        &format!("/v1/cases/{}", other["id"].as_str().unwrap()),
        None,
    ) {
        Err(ClientError::Http { status: 403, .. }) => {}
        r => panic!("expected 403, got {r:?}"),
    }
    let mine = kz_mvd.read("/v1/cases", None).unwrap();
    assert!(
        mine["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["requester"] == "KZ-MVD" || c["requested"] == "KZ-MVD")
    );
    assert_eq!(
        status(signed_get(
            u,
            &format!("/v1/cases/{}", own["id"].as_str().unwrap()),
            None,
            "TM-WITNESS",
            &witness,
            now(),
            "e3"
        )),
        403
    );
    // A witness reads what it needs to witness.
    assert_eq!(
        status(signed_get(
            u,
            "/v1/checkpoints/latest",
            None,
            "TM-WITNESS",
            &witness,
            now(),
            "e4"
        )),
        200
    );
}

#[test]
fn bad_input_over_http_is_a_clear_4xx_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let server = Proc::serve(&dir);
    let u = &server.url;
    let anon = client(u, &dir, None);
    let info = anon.info().unwrap();
    let size = info.size;
    let mut cx = Ctx {
        dir: dir.clone(),
        ledger: LedgerId(info.ledger_id.unwrap()),
        next: 100,
    };
    let good = cx.event(
        "KZ-MVD",
        at(CaseId([0xD1; 16]), 0),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    let bytes = good.to_bytes().unwrap();
    let post = |body: Vec<u8>, ct: &str| {
        reqwest::blocking::Client::new()
            .post(format!("{u}/v1/events"))
            .header("content-type", ct)
            .body(body)
            .send()
            .unwrap()
    };
    let check = |r: reqwest::blocking::Response, want: u16, what: &str| {
        assert_eq!(r.status().as_u16(), want, "{what}");
        let body: serde_json::Value = r.json().unwrap_or(serde_json::Value::Null);
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {body}"
        );
    };
    check(
        post(
            bytes[..bytes.len() / 2].to_vec(),
            "application/octet-stream",
        ),
        400,
        "truncated",
    );
    check(
        post(vec![0xAB; 300 * 1024], "application/octet-stream"),
        413,
        "oversized",
    );
    check(
        post(b"\x00\xff garbage".to_vec(), "application/octet-stream"),
        400,
        "garbage",
    );
    check(
        post(br#"{"hello": "world"}"#.to_vec(), "application/json"),
        400,
        "wrong JSON shape",
    );
    check(
        post(b"{not json".to_vec(), "application/json"),
        400,
        "broken JSON",
    );
    let mut other = cx.clone_for_other_ledger();
    let foreign = other.event(
        "KZ-MVD",
        at(CaseId([0xD2; 16]), 0),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    check(
        post(foreign.to_bytes().unwrap(), "application/octet-stream"),
        400,
        "another ledger",
    );
    let mut bad_sig = good.clone();
    bad_sig.signature.0[0] ^= 1;
    check(
        post(bad_sig.to_bytes().unwrap(), "application/octet-stream"),
        400,
        "bad signature",
    );
    // Same id, another body: 409.
    anon.submit(&good).unwrap();
    let mut reused = cx.event(
        "KZ-MVD",
        at(CaseId([0xD3; 16]), 0),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    reused.body.event_id = good.body.event_id;
    let reused = SignedEvent::sign(reused.body, &key(&dir, "KZ-MVD")).unwrap();
    check(
        post(reused.to_bytes().unwrap(), "application/octet-stream"),
        409,
        "reused id",
    );
    // The JSON form of a valid event — its payload as the catalogue's variant and
    // fields, not an array of byte values — is accepted.
    let j = cx.event("TM-MVD", at(CaseId([0xD1; 16]), 1), &Payload::Acknowledged);
    let readable = serde_json::to_value(coop_wire::EventJson::of(&j).unwrap()).unwrap();
    assert_eq!(readable["body"]["payload"], "Acknowledged");
    // The payload's bytes as an array are not the JSON form: refused, nothing written.
    check(
        post(serde_json::to_vec(&j).unwrap(), "application/json"),
        400,
        "payload as bytes",
    );
    let r = post(serde_json::to_vec(&readable).unwrap(), "application/json");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        anon.info().unwrap().size,
        size + 2,
        "only the two valid events were written"
    );
    // Bad queries.
    let auditor = client(u, &dir, Some("KZ-AUDIT"));
    for (path, q) in [
        ("/v1/records", Some("from=x")),
        ("/v1/proofs/inclusion", Some("seq=1")),
        ("/v1/records", Some("limit=0")),
        ("/v1/records", Some("limit=1001")),
        ("/v2/cases", Some("limit=0")),
        ("/v2/cases", Some("status=")),
        ("/v1/cases/zz", None),
    ] {
        match auditor.read(path, q) {
            Err(ClientError::Http { status: 400, .. }) => {}
            r => panic!("{path}?{q:?}: expected 400, got {r:?}"),
        }
    }
    // Well-formed questions with nothing to answer: 404 (docs/openapi.json).
    for (path, q) in [
        ("/v1/records/999999", None),
        ("/v1/proofs/consistency", Some("from=5&to=2")),
        ("/v1/authorities", Some("as_of=999999")),
    ] {
        match auditor.read(path, q) {
            Err(ClientError::Http { status: 404, .. }) => {}
            r => panic!("{path}?{q:?}: expected 404, got {r:?}"),
        }
    }
}

/// Imports an export as a node that signs with the original leader's key (a copy of the
/// leader's directory, as a rogue operator would make it).
fn import_as_leader(export: &Path, into: &Path, leader_dir: &Path) {
    let o = bin()
        .args(["import", "--from", p(export), "--data", p(into)])
        .args(["--node-key", p(&leader_dir.join("node.pem"))])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// One round of the follower of `copy` against the leader at `url`.
fn follow_once(url: &str, copy: &Path, dir: &Path) -> std::process::Output {
    bin()
        .args(["follow", "--leader", url, "--data", p(copy), "--once"])
        .args([
            "--witness-key",
            p(&dir.join("keys/TM-WITNESS.pem")),
            "--name",
            "TM-WITNESS",
        ])
        .output()
        .unwrap()
}

impl Ctx {
    fn clone_for_other_ledger(&self) -> Ctx {
        Ctx {
            dir: self.dir.clone(),
            ledger: LedgerId(Hash([0x99; 32])),
            next: self.next + 1000,
        }
    }
}

#[test]
fn a_follower_mirrors_and_cosigns_then_refuses_a_rewritten_leader() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let mut leader = Proc::serve(&dir);
    let copy = tmp.path().join("copy");
    let mut f = bin();
    f.args([
        "follow",
        "--leader",
        &leader.url,
        "--data",
        p(&copy),
        "--witness-key",
        p(&dir.join("keys/TM-WITNESS.pem")),
        "--name",
        "TM-WITNESS",
        "--listen",
        "127.0.0.1:0",
        "--poll-secs",
        "0.2",
    ]);
    let follower = Proc::start(f);
    let anon = client(&leader.url, &dir, None);
    let info = anon.info().unwrap();
    let node = NoteVerifier::from_vkey(&info.node_vkey).unwrap();
    let mut cx = Ctx {
        dir: dir.clone(),
        ledger: LedgerId(info.ledger_id.unwrap()),
        next: 200,
    };
    for n in 0..5u8 {
        let ev = cx.event(
            "KZ-MVD",
            at(CaseId([0xE0 + n; 16]), 0),
            &Payload::Request(Box::new(request_to("TM-MVD"))),
        );
        anon.submit_checked(&ev, &node.key).unwrap();
    }
    let size = anon.info().unwrap().size;
    // The follower serves the same records, and the leader's latest checkpoint carries
    // the witness's cosignature.
    let fclient = client(&follower.url, &dir, Some("KZ-AUDIT"));
    wait_for("the follower to catch up", || {
        fclient.info().map(|i| i.size == size).unwrap_or(false)
    });
    let auditor = client(&leader.url, &dir, Some("KZ-AUDIT"));
    wait_for("a cosigned checkpoint at the head", || {
        auditor
            .latest_checkpoint()
            .unwrap()
            .is_some_and(|c| c.size == size && c.note.contains("— TM-WITNESS"))
    });
    assert_eq!(
        fclient.records(size - 1, 1).unwrap().records[0].bytes,
        auditor.records(size - 1, 1).unwrap().records[0].bytes
    );
    // A follower takes no appends, singly or in a batch: 409, pointing at the leader.
    let fnode = coop_node::Client::new(&follower.url, None, None).unwrap();
    let stray = cx.event(
        "KZ-MVD",
        at(CaseId([0xF0; 16]), 0),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    for answer in [
        fnode.submit(&stray).map(|_| ()),
        fnode.submit_batch(std::slice::from_ref(&stray)).map(|_| ()),
    ] {
        match answer {
            Err(ClientError::Http {
                status: 409, error, ..
            }) => assert_eq!(error, "follower"),
            other => panic!("expected 409 follower, got {other:?}"),
        }
    }
    drop(follower);
    leader.stop();

    // A second leader from a rewritten copy: the same node key, the same first records,
    // then a different history.
    let export = tmp.path().join("l.export");
    let o = bin()
        .args(["export", "--data", p(&dir), "--out", p(&export)])
        .output()
        .unwrap();
    assert!(o.status.success());
    let bytes = std::fs::read(&export).unwrap();
    let mut reader = coop_verify::ExportReader::new(bytes.as_slice()).unwrap();
    let mut w = coop_verify::ExportWriter::new(Vec::new(), &[node.to_vkey()]).unwrap();
    use coop_verify::Source as _;
    let keep = size - 3;
    let mut n = 0;
    while let Some(item) = reader.next_item().unwrap() {
        match item {
            coop_verify::Item::Record(b) if n < keep => {
                w.record(&b).unwrap();
                n += 1;
            }
            coop_verify::Item::Checkpoint(c) if n <= keep => {
                let size_of = coop_core::Checkpoint::parse_body(
                    &coop_core::checkpoint::Note::parse(&c).unwrap().text,
                )
                .unwrap()
                .size;
                if size_of <= keep {
                    w.checkpoint(&c).unwrap();
                }
            }
            _ => {}
        }
    }
    let truncated = tmp.path().join("t.export");
    std::fs::write(&truncated, w.finish().unwrap().0).unwrap();
    let rogue = tmp.path().join("rogue");
    import_as_leader(&truncated, &rogue, &dir);
    std::fs::create_dir_all(rogue.join("keys")).unwrap();
    for k in ["KZ-MVD.pem", "TM-MVD.pem", "KZ-AUDIT.pem"] {
        std::fs::copy(dir.join("keys").join(k), rogue.join("keys").join(k)).unwrap();
    }
    let rogue_server = Proc::serve(&rogue);
    let ranon = client(&rogue_server.url, &dir, None);
    let mut rcx = Ctx {
        dir: dir.clone(),
        ledger: cx.ledger,
        next: 900,
    };
    for n in 0..6u8 {
        let ev = rcx.event(
            "KZ-MVD",
            at(CaseId([0xF0 + n; 16]), 0),
            &Payload::Request(Box::new(request_to("TM-MVD"))),
        );
        ranon.submit_checked(&ev, &node.key).unwrap();
    }
    let rauditor = client(&rogue_server.url, &dir, Some("KZ-AUDIT"));
    wait_for("the rogue leader's checkpoint", || {
        rauditor
            .latest_checkpoint()
            .unwrap()
            .is_some_and(|c| c.size >= size)
    });
    // The follower, pointed at it, stops and keeps the evidence.
    let o = follow_once(&rogue_server.url, &copy, &dir);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("FORK DETECTED"), "{err}");
    let evidence: Vec<PathBuf> = std::fs::read_dir(&copy)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("evidence-")
        })
        .collect();
    assert_eq!(evidence.len(), 1);
    for f in [
        "what.txt",
        "ours.checkpoint",
        "theirs.checkpoint",
        "proof.json",
    ] {
        assert!(evidence[0].join(f).is_file(), "evidence lacks {f}");
    }
    // A leader rolled back to an older copy (fewer records than the witness cosigned) is
    // refused too.
    drop(rogue_server);
    let old_copy = tmp.path().join("rolled-back");
    import_as_leader(&truncated, &old_copy, &dir);
    let old_server = Proc::serve(&old_copy);
    let o = follow_once(&old_server.url, &copy, &dir);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("FORK DETECTED") && err.contains("rollback"),
        "{err}"
    );
    // The copy is untouched: it still verifies at the size it had.
    let o = bin().args(["verify", p(&copy), "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["size"].as_u64(), Some(size));
}

#[test]
fn concurrent_clients_lose_nothing_under_load() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let mut server = Proc::serve(&dir);
    let anon = client(&server.url, &dir, None);
    let info = anon.info().unwrap();
    let node = NoteVerifier::from_vkey(&info.node_vkey).unwrap();
    let ledger = LedgerId(info.ledger_id.unwrap());
    // A count, not a time window: the same work on a fast or a slow machine.
    let per_client = 25u64;
    let threads = 8u64;
    let receipts: Vec<Vec<Receipt>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let (url, dir, node) = (server.url.clone(), dir.clone(), node.clone());
                s.spawn(move || {
                    let c = client(&url, &dir, None);
                    let mut cx = Ctx {
                        dir,
                        ledger,
                        next: 10_000 * (t + 1),
                    };
                    let mut out = Vec::new();
                    for n in 0..per_client {
                        let mut cid = [0u8; 16];
                        cid[..8].copy_from_slice(&(t * 1_000_000 + n).to_be_bytes());
                        cid[8] = 0x1D;
                        let ev = cx.event(
                            "KZ-MVD",
                            at(CaseId(cid), 0),
                            &Payload::Request(Box::new(request_to("TM-MVD"))),
                        );
                        out.push(
                            c.submit_checked(&ev, &node.key)
                                .expect("no error under load"),
                        );
                    }
                    out
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: Vec<&Receipt> = receipts.iter().flatten().collect();
    assert_eq!(all.len() as u64, threads * per_client);
    let auditor = client(&server.url, &dir, Some("KZ-AUDIT"));
    for r in &all {
        let rec = auditor
            .read(&format!("/v1/events/{}", r.event_id), None)
            .unwrap();
        assert_eq!(rec["seq"].as_u64(), Some(r.seq));
        assert_eq!(rec["leaf"].as_str(), Some(r.leaf.to_hex().as_str()));
    }
    server.stop();
    let o = bin().args(["verify", p(&dir), "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verified"], true, "{v}");
}

/// A CA and a certificate for 127.0.0.1 signed by it, made with openssl.
fn test_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let o = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=coopledger test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "node.key",
        "-out",
        "node.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "node.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "node.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("node.pem"),
        dir.join("node.key"),
    )
}

#[test]
fn the_node_serves_https_with_rustls() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let (ca, cert, key_file) = test_certificates(tmp.path());
    let mut c = bin();
    c.args([
        "serve",
        "--data",
        p(&dir),
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        p(&cert),
        "--tls-key",
        p(&key_file),
    ]);
    let server = Proc::start(c);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let ca_pem = std::fs::read(&ca).unwrap();
    let auditor = Client::new(
        &server.url,
        Some((id("KZ-AUDIT"), Arc::new(key(&dir, "KZ-AUDIT")))),
        Some(&ca_pem),
    )
    .unwrap();
    let info = auditor.info().unwrap();
    assert_eq!(info.role, "leader");
    let page = auditor.records(0, 3).unwrap();
    assert_eq!(page.records.len(), 3);
    // Without the CA the client refuses the certificate; plain HTTP gets nothing.
    let untrusting = Client::new(&server.url, None, None).unwrap();
    assert!(matches!(untrusting.info(), Err(ClientError::Transport(_))));
    let plain = server.url.replacen("https://", "http://", 1);
    let r = reqwest::blocking::get(format!("{plain}/healthz"));
    assert!(r.map(|r| !r.status().is_success()).unwrap_or(true));
}

/// The audit's finding: anyone could post 100 junk cosignature lines, after which the
/// node refused the other Party's genuine cosignature ("too many signatures"). Now the
/// node keeps only lines that verify.
#[test]
fn cosignature_posts_keep_only_lines_that_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let server = Proc::serve(&dir);
    let auditor = client(&server.url, &dir, Some("KZ-AUDIT"));
    let mut latest = auditor.latest_checkpoint().unwrap().expect("a checkpoint");
    // The node's signature alone (the demo's last checkpoint is already cosigned).
    let (body, sigs) = latest.note.split_once("\n\n").unwrap();
    latest.note = format!("{body}\n\n{}\n", sigs.lines().next().unwrap());
    let post = |note: &str| {
        reqwest::blocking::Client::new()
            .post(format!(
                "{}/v1/checkpoints/{}/cosignatures",
                server.url, latest.size
            ))
            .body(note.to_owned())
            .send()
            .unwrap()
    };
    let junk: String = (0..90)
        .map(|i| format!("\u{2014} junk{i} AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"))
        .collect();
    // Junk alone: refused, nothing stored.
    let r = post(&format!("{}{junk}", latest.note));
    assert_eq!(r.status().as_u16(), 401);
    // A genuine cosignature of one Party's witness with the junk: kept, junk dropped.
    let kz =
        coop_core::checkpoint::cosign(&latest.note, "KZ-WITNESS", &key(&dir, "KZ-WITNESS"), now())
            .unwrap();
    let r = post(&format!("{kz}{junk}"));
    assert_eq!(r.status().as_u16(), 200);
    let stored = auditor.checkpoint(latest.size).unwrap().note;
    assert!(!stored.contains("junk"), "{stored}");
    // The other Party's witness cosigns what is stored: both lines kept.
    let tm = coop_core::checkpoint::cosign(&stored, "TM-WITNESS", &key(&dir, "TM-WITNESS"), now())
        .unwrap();
    let r = post(&tm);
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().unwrap());
    let stored = auditor.checkpoint(latest.size).unwrap().note;
    let lines = coop_core::checkpoint::Note::parse(&stored)
        .unwrap()
        .signatures;
    let names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.contains(&"KZ-WITNESS") && names.contains(&"TM-WITNESS"));
    // A forged second line of a known witness is refused, and changes nothing.
    let forged = format!(
        "{tm}\u{2014} TM-WITNESS {}\n",
        tm.lines().last().unwrap().rsplit(' ').next().unwrap()
    );
    assert_eq!(post(&forged).status().as_u16(), 401);
    assert_eq!(auditor.checkpoint(latest.size).unwrap().note, stored);
}

/// ADR 0010 promises that a revoked key stops reading at once: an open stream ends when
/// the ledger revokes the reader's key.
#[test]
fn a_readers_open_stream_ends_when_its_key_is_revoked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let server = Proc::serve(&dir);
    let anon = client(&server.url, &dir, None);
    let info = anon.info().unwrap();
    let node = NoteVerifier::from_vkey(&info.node_vkey).unwrap();
    let mut cx = Ctx {
        dir: dir.clone(),
        ledger: LedgerId(info.ledger_id.unwrap()),
        next: 700,
    };
    let reader = client(&server.url, &dir, Some("TM-MNS"));
    let stream = reader.stream(info.size).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let n = stream.count();
        let _ = tx.send(n);
    });
    // The stream is open: nothing arrives, it does not end.
    assert!(rx.recv_timeout(Duration::from_millis(500)).is_err());
    let revoke = cx.event(
        "TM-MFA",
        None,
        &Payload::KeyRevoked {
            authority: id("TM-MNS"),
            key: key(&dir, "TM-MNS").public(),
        },
    );
    anon.submit_checked(&revoke, &node.key).unwrap();
    let delivered = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the stream ended after the revocation");
    assert!(delivered <= 1, "{delivered} records after the revocation");
    // And a new read with that key is refused.
    assert!(matches!(
        reader.records(0, 1),
        Err(ClientError::Http { status: 401, .. })
    ));
}

/// A captured signed read is accepted by the node it was signed for, once: not replayed
/// at a follower of the same ledger (whose name is not in the signature, even when the
/// replayer sends the leader's name as Host), and not at the same node after a restart
/// (which has forgotten the nonces it saw).
#[test]
fn a_captured_signed_read_is_accepted_nowhere_else_and_not_after_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let mut leader = Proc::serve(&dir);
    let copy = tmp.path().join("copy");
    let mut f = bin();
    f.args(["follow", "--leader", &leader.url, "--data", p(&copy)])
        .args(["--witness-key", p(&dir.join("keys/TM-WITNESS.pem"))])
        .args(["--name", "TM-WITNESS", "--listen", "127.0.0.1:0"])
        .args(["--poll-secs", "0.2"]);
    let follower = Proc::start(f);
    let auditor = key(&dir, "KZ-AUDIT");
    let l_auth = leader.url.trim_start_matches("http://").to_owned();
    let ledger = ledger_of(&leader.url);
    wait_for("the follower's copy", || {
        Client::new(&follower.url, None, None)
            .unwrap()
            .info()
            .is_ok_and(|i| i.ledger_id.is_some())
    });
    // Signed for the leader; replayed at the follower, with the leader's Host header.
    let captured = sign_for(
        &l_auth,
        &ledger,
        "/v1/records",
        None,
        "KZ-AUDIT",
        &auditor,
        now(),
        "r1",
    );
    let replay = reqwest::blocking::Client::new()
        .get(format!("{}/v1/records", follower.url))
        .header(reqwest::header::HOST, l_auth.clone())
        .header(auth::SIGNATURE_INPUT, captured.0.clone())
        .header(auth::SIGNATURE, captured.1.clone())
        .send()
        .unwrap();
    assert_eq!(replay.status().as_u16(), 401);
    drop(follower);
    // A follower told to answer to its leader's name would take the leader's reads for
    // its own: it refuses to start.
    let mut wrong = bin();
    wrong
        .args([
            "follow",
            "--leader",
            &leader.url,
            "--data",
            p(&tmp.path().join("copy2")),
        ])
        .args(["--witness-key", p(&dir.join("keys/TM-WITNESS.pem"))])
        .args(["--name", "TM-WITNESS", "--listen", "127.0.0.1:0"])
        .args(["--authority", &l_auth, "--once"]);
    let out = wrong.output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("answer signed reads made for its leader") && err.contains(&l_auth),
        "{err}"
    );
    // Signed now, sent only after the leader restarted: refused, as is one it already saw.
    let signed_at = now();
    let later = sign_for(
        &l_auth,
        &ledger,
        "/v1/records",
        None,
        "KZ-AUDIT",
        &auditor,
        signed_at,
        "r2",
    );
    assert_eq!(
        send_signed(&leader.url, "/v1/records", None, captured.clone())
            .status()
            .as_u16(),
        200
    );
    // RFC 9421's `created` is in whole seconds, and the restart may well come in the
    // second both were signed in: the restarted node refuses them anyway (it answers
    // only from the next whole second on; the in-process test
    // `a_read_signed_in_the_second_the_server_started_is_refused` pins the same second).
    let port = l_auth.rsplit(':').next().unwrap().to_owned();
    leader.stop();
    let mut c = bin();
    c.args([
        "serve",
        "--data",
        p(&dir),
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    let restarted = Proc::start(c);
    assert_eq!(restarted.url, leader.url);
    for headers in [captured, later] {
        let r = send_signed(&restarted.url, "/v1/records", None, headers);
        assert_eq!(r.status().as_u16(), 401);
        assert!(r.text().unwrap().contains("before this node started"));
    }
    // A fresh one works.
    assert_eq!(
        signed_get(
            &restarted.url,
            "/v1/records",
            None,
            "KZ-AUDIT",
            &auditor,
            now(),
            "r3"
        )
        .status()
        .as_u16(),
        200
    );
}

/// A leader serving `dir` on `listen` (a fixed address, to be restarted on), with logs.
fn serve_on(dir: &Path, listen: &str, extra: &[&str]) -> Proc {
    let mut c = bin();
    c.env("RUST_LOG", "info").args([
        "serve",
        "--data",
        p(dir),
        "--listen",
        listen,
        "--checkpoint-secs",
        "0.2",
    ]);
    c.args(extra);
    Proc::start(c)
}

fn follower_of(url: &str, copy: &Path, dir: &Path) -> Proc {
    let mut f = bin();
    f.env("RUST_LOG", "info").args([
        "follow",
        "--leader",
        url,
        "--data",
        p(copy),
        "--witness-key",
        p(&dir.join("keys/TM-WITNESS.pem")),
        "--name",
        "TM-WITNESS",
        "--listen",
        "127.0.0.1:0",
        "--poll-secs",
        "0.2",
        "--retry-max-secs",
        "0.5",
    ]);
    Proc::start(f)
}

/// A demo ledger served (with logs) and a TM-WITNESS follower of it, under `tmp`.
struct Duo {
    dir: PathBuf,
    leader: Proc,
    copy: PathBuf,
    follower: Proc,
    /// The leader's checkpoint key.
    node: NoteVerifier,
    /// Signs events for the ledger, their ids from `next` on.
    cx: Ctx,
}

fn leader_and_follower(tmp: &Path, next: u64) -> Duo {
    let dir = tmp.join("leader");
    demo_ledger(&dir);
    let leader = serve_on(&dir, "127.0.0.1:0", &[]);
    let copy = tmp.join("copy");
    let follower = follower_of(&leader.url, &copy, &dir);
    let info = client(&leader.url, &dir, None).info().unwrap();
    Duo {
        node: NoteVerifier::from_vkey(&info.node_vkey).unwrap(),
        cx: Ctx {
            dir: dir.clone(),
            ledger: LedgerId(info.ledger_id.unwrap()),
            next,
        },
        dir,
        leader,
        copy,
        follower,
    }
}

fn health(url: &str) -> (u16, serde_json::Value) {
    let r = reqwest::blocking::get(format!("{url}/healthz")).unwrap();
    let code = r.status().as_u16();
    (code, r.json().unwrap_or_default())
}

/// Finding 1: a follower died whenever its leader restarted (3 of 3), and under kill -9
/// of the leader (167 of 190). Now it keeps serving its copy, says on `/healthz` and
/// `/metrics` that the leader is gone, reconnects with backoff, catches up and cosigns
/// again — through three restarts and a kill -9 — and, restarted itself while the
/// leader is down, resumes from the checkpoint it last cosigned.
#[test]
fn a_follower_survives_leader_restarts_and_a_kill_and_resumes_from_its_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let Duo {
        dir,
        mut leader,
        copy,
        mut follower,
        node,
        mut cx,
    } = leader_and_follower(tmp.path(), 3000);
    let listen = leader.url.trim_start_matches("http://").to_owned();
    let fanon = Client::new(&follower.url, None, None).unwrap();
    let mut case = 0u16;
    let mut round = |leader_url: &str, follower: &mut Proc, what: &str| {
        let anon = client(leader_url, &dir, None);
        for _ in 0..3 {
            case += 1;
            let ev = cx.event(
                "KZ-MVD",
                at(
                    {
                        let [hi, lo] = case.to_be_bytes();
                        CaseId([0xA0, hi, lo, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
                    },
                    0,
                ),
                &Payload::Request(Box::new(request_to("TM-MVD"))),
            );
            anon.submit_checked(&ev, &node.key).unwrap();
        }
        let size = anon.info().unwrap().size;
        let auditor = client(leader_url, &dir, Some("KZ-AUDIT"));
        wait_for(
            &format!("{what}: the follower's copy and cosignature"),
            || {
                fanon.info().is_ok_and(|i| i.size == size)
                    && auditor
                        .latest_checkpoint()
                        .ok()
                        .flatten()
                        .is_some_and(|c| c.size == size && c.note.contains("— TM-WITNESS"))
            },
        );
        wait_for(&format!("{what}: /healthz in sync"), || {
            health(&follower.url).1["state"] == "in_sync"
        });
        assert!(
            follower.running(),
            "{what}: the follower exited:\n{}",
            follower.log()
        );
        size
    };
    round(&leader.url, &mut follower, "start");
    // Three SIGTERM restarts, then kill -9 — `COOP_LEADER_KILLS` more of them for a long
    // run (docs/OPERATIONS.md).
    let kills: u32 = std::env::var("COOP_LEADER_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    for restart in 1..=3 + kills {
        if restart > 3 {
            leader.kill9();
        } else {
            leader.stop();
        }
        // The leader is gone: the follower stays, serves its copy, and says so.
        wait_for("/healthz to say the leader is unreachable", || {
            let (code, body) = health(&follower.url);
            code == 503 && body["state"] == "leader_unreachable"
        });
        assert!(
            follower.running(),
            "the follower exited:\n{}",
            follower.log()
        );
        assert!(fanon.info().is_ok(), "the copy is no longer served");
        leader = serve_on(&dir, &listen, &[]);
        round(&leader.url, &mut follower, &format!("restart {restart}"));
    }
    let metrics = reqwest::blocking::get(format!("{}/metrics", follower.url))
        .unwrap()
        .text()
        .unwrap();
    let reconnects: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("coopledger_follower_reconnects_total "))
        .expect("the reconnect counter")
        .parse()
        .unwrap();
    assert!(reconnects >= u64::from(3 + kills), "{metrics}");
    eprintln!(
        "follower: {} leader restarts ({kills} by kill -9), {reconnects} reconnects, never exited",
        3 + kills
    );
    assert!(
        metrics.contains("coopledger_follower_in_sync 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("coopledger_follower_behind_records 0"),
        "{metrics}"
    );

    // The follower restarted while its leader is down: it starts (its key is pinned),
    // resumes from the checkpoint it cosigned, and catches up once the leader is back.
    leader.stop();
    follower.stop();
    let mut follower = follower_of(&leader.url, &copy, &dir);
    assert!(
        follower
            .log()
            .contains("resumed from the last checkpoint this witness cosigned"),
        "{}",
        follower.log()
    );
    let fanon = Client::new(&follower.url, None, None).unwrap();
    assert!(fanon.info().is_ok());
    wait_for(
        "a restarted follower to say its leader is unreachable",
        || health(&follower.url).1["state"] == "leader_unreachable",
    );
    let leader = serve_on(&dir, &listen, &[]);
    let size = anon_size(&leader.url);
    wait_for("the restarted follower to catch up", || {
        fanon.info().is_ok_and(|i| i.size == size) && health(&follower.url).1["state"] == "in_sync"
    });
    assert!(follower.running());
    // The copy verifies offline, whole.
    drop(follower);
    let o = bin().args(["verify", p(&copy), "--json"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn anon_size(url: &str) -> u64 {
    Client::new(url, None, None).unwrap().info().unwrap().size
}

/// Every file under `dir`, with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Finding 2: `follow --data <another ledger>` reported a fork and added the leader's key
/// to that ledger's directory. Now it is refused before anything is written — another
/// Party's ledger, and the leader's own directory alike.
#[test]
fn following_into_another_ledgers_directory_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let other = tmp.path().join("other");
    demo_ledger(&other);
    let leader = Proc::serve(&dir);
    for (target, expect) in [
        (&other, "holds another ledger"),
        (&dir, "sequences this ledger"),
    ] {
        let before = snapshot(target);
        let o = bin()
            .args([
                "follow",
                "--leader",
                &leader.url,
                "--data",
                p(target),
                "--once",
            ])
            .args([
                "--witness-key",
                p(&dir.join("keys/TM-WITNESS.pem")),
                "--name",
                "TM-WITNESS",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains(expect) && err.contains("nothing in it was changed"),
            "{err}"
        );
        assert!(
            snapshot(target) == before,
            "{} was changed",
            target.display()
        );
    }
}

/// Finding 4: no header-read or idle timeout (slow-header and idle connections were
/// still open after 45 s), and nothing logged per request. Now a connection that sends
/// no complete headers in time — fresh, or idle after an answer — is closed, and
/// `RUST_LOG=info` logs one line per request naming the registered reader.
#[test]
fn slow_and_idle_connections_are_closed_and_each_request_is_logged_with_its_reader() {
    use std::io::{Read as _, Write as _};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let leader = serve_on(&dir, "127.0.0.1:0", &["--header-timeout-secs", "1"]);
    let addr = leader.url.trim_start_matches("http://").to_owned();
    // Whether the node closes the connection at all: the limit is far beyond the 1 s
    // header timeout, so only a connection left open for good fails it, never a slow
    // machine.
    let closed_within = |mut s: std::net::TcpStream, limit: Duration| -> bool {
        s.set_read_timeout(Some(limit)).unwrap();
        let mut buf = [0u8; 4096];
        let started = Instant::now();
        loop {
            match s.read(&mut buf) {
                Ok(0) => return started.elapsed() < limit,
                Ok(_) => {} // an answer (or the 408 some servers send): keep reading
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return false;
                }
                Err(_) => return true, // reset
            }
        }
    };
    // Slow headers: a request line, then nothing.
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    slow.write_all(b"GET /v1/info HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    assert!(
        closed_within(slow, Duration::from_secs(60)),
        "a slow-header connection stayed open"
    );
    // Idle after an answer, kept alive.
    let mut idle = std::net::TcpStream::connect(&addr).unwrap();
    idle.write_all(format!("GET /v1/info HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .unwrap();
    assert!(
        closed_within(idle, Duration::from_secs(60)),
        "an idle connection stayed open"
    );
    // A connection that never sends a byte.
    let silent = std::net::TcpStream::connect(&addr).unwrap();
    assert!(
        closed_within(silent, Duration::from_secs(60)),
        "a silent connection stayed open"
    );

    // The access log: one line per request, with the reader's registered id.
    let auditor = client(&leader.url, &dir, Some("KZ-AUDIT"));
    auditor.latest_checkpoint().unwrap();
    let cases = auditor.read("/v1/cases", Some("status=open")).unwrap();
    assert!(cases.is_array() || cases.is_object());
    wait_for("the access log", || {
        leader.log().lines().any(|l| {
            l.contains("answered") && l.contains("reader=KZ-AUDIT") && l.contains("/v1/cases")
        })
    });
    let log = leader.log();
    assert!(!log.contains('\u{1b}'), "colour codes in a log file");
    let answered = log.lines().filter(|l| l.contains("answered")).count();
    assert!(answered >= 3, "{log}");
    // An unknown filter value is a 400 naming the words it takes, not an empty list.
    let err = auditor
        .read("/v1/cases", Some("status=bogus"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("partly-refused"), "{err}");
    // Finding: an unknown parameter was ignored (a typo answered with every case) and
    // the list had no pages (4.2 MB on the demo). Both are now the read model's.
    let err = auditor
        .read("/v1/cases", Some("stauts=open"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown parameter") && err.contains("status"),
        "{err}"
    );
    // v1 keeps its shape (full projections, every match without `limit`); v2 pages
    // typed rows, 50 by default.
    let v1 = auditor.read("/v1/cases", None).unwrap();
    let total = v1["total"].as_u64().unwrap();
    assert_eq!(v1["cases"].as_array().unwrap().len() as u64, total);
    assert!(v1["cases"][0]["timeline"].is_array());
    let first = auditor.read("/v2/cases", Some("limit=1")).unwrap();
    assert_eq!(first["cases"].as_array().unwrap().len(), 1);
    assert_eq!(first["limit"], 1);
    assert_eq!(first["total"].as_u64().unwrap(), total);
    if total > 1 {
        let next = first["next_offset"].as_u64().unwrap();
        let second = auditor
            .read("/v2/cases", Some(&format!("limit=1&offset={next}")))
            .unwrap();
        assert_ne!(second["cases"][0]["id"], first["cases"][0]["id"]);
        let page = auditor
            .read("/v1/cases", Some(&format!("limit=1&offset={next}")))
            .unwrap();
        assert_eq!(page["cases"][0]["id"], second["cases"][0]["id"]);
    }
    let err = auditor
        .read("/v2/cases", Some("limit=5000"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("1000"), "{err}");
}

/// The leader handover: the leader is killed; its Party's witness copy is promoted with
/// `coopledger promote` (both roots sign the handover to a new node key); agencies go on
/// through it, their receipts signed by the new key; a follower of the promoted node —
/// pinning only the genesis's key — copies and cosigns it; the old leader, restarted, is
/// refused by that follower as a fork; and the whole history verifies offline against
/// the genesis's key alone.
#[test]
fn a_follower_is_promoted_when_its_leader_is_lost_and_the_old_leader_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let Duo {
        dir,
        mut leader,
        copy,
        mut follower,
        node: old_node,
        mut cx,
    } = leader_and_follower(tmp.path(), 7000);
    let genesis_vkey = std::fs::read_to_string(dir.join("node.vkey")).unwrap();
    let anon = client(&leader.url, &dir, None);
    let request = |cx: &mut Ctx, n: u8| {
        cx.event(
            "KZ-MVD",
            at(
                CaseId([0xB0, n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]),
                0,
            ),
            &Payload::Request(Box::new(request_to("TM-MVD"))),
        )
    };
    for n in 0..3 {
        anon.submit_checked(&request(&mut cx, n), &old_node.key)
            .unwrap();
    }
    let size = anon.info().unwrap().size;
    let fanon = Client::new(&follower.url, None, None).unwrap();
    wait_for("the follower's copy", || {
        fanon.info().is_ok_and(|i| i.size == size)
    });
    // The leader's machine is lost.
    leader.kill9();
    follower.stop();

    // Both roots sign the handover; the copy becomes the node.
    let o = bin()
        .args(["promote", "--data", p(&copy)])
        .args(["--root-key", p(&dir.join("keys/KZ-MFA.pem"))])
        .args(["--accept-key", p(&dir.join("keys/TM-MFA.pem"))])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("promoted"), "{out}");
    assert!(!copy.join("leader.vkey").exists());
    // Promoting again is refused: it is a node now.
    let again = bin()
        .args(["promote", "--data", p(&copy)])
        .args(["--root-key", p(&dir.join("keys/KZ-MFA.pem"))])
        .args(["--accept-key", p(&dir.join("keys/TM-MFA.pem"))])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));

    // Agencies go on through it, with receipts under the new key.
    let promoted = serve_on(&copy, "127.0.0.1:0", &[]);
    let panon = client(&promoted.url, &dir, None);
    let pinfo = panon.info().unwrap();
    assert_eq!(pinfo.role, "leader");
    assert_eq!(pinfo.genesis_node_vkey.trim(), genesis_vkey.trim());
    let new_node = NoteVerifier::from_vkey(&pinfo.node_vkey).unwrap();
    assert_ne!(new_node.key, old_node.key);
    for n in 3..6 {
        panon
            .submit_checked(&request(&mut cx, n), &new_node.key)
            .unwrap();
    }
    let new_size = panon.info().unwrap().size;
    assert_eq!(new_size, size + 2 + 3);

    // The other Party's witness follows the promoted node, pinning only the genesis's
    // key (learnt on first contact), and cosigns its checkpoints.
    let copy2 = tmp.path().join("copy2");
    let mut f2 = bin();
    f2.args(["follow", "--leader", &promoted.url, "--data", p(&copy2)])
        .args(["--witness-key", p(&dir.join("keys/KZ-WITNESS.pem"))])
        .args(["--name", "KZ-WITNESS", "--listen", "127.0.0.1:0"])
        .args(["--poll-secs", "0.2"]);
    let f2 = Proc::start(f2);
    let pauditor = client(&promoted.url, &dir, Some("KZ-AUDIT"));
    wait_for("the new node's checkpoint cosigned by KZ-WITNESS", || {
        pauditor
            .latest_checkpoint()
            .ok()
            .flatten()
            .is_some_and(|c| c.size == new_size && c.note.contains("— KZ-WITNESS"))
    });
    drop(f2);

    // The old leader comes back: the follower of the promoted node refuses it.
    let old = serve_on(&dir, "127.0.0.1:0", &[]);
    let o = bin()
        .args([
            "follow",
            "--leader",
            &old.url,
            "--data",
            p(&copy2),
            "--once",
        ])
        .args(["--witness-key", p(&dir.join("keys/KZ-WITNESS.pem"))])
        .args(["--name", "KZ-WITNESS"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("FORK DETECTED"), "{err}");
    drop(old);
    drop(promoted);

    // The whole history verifies offline, the auditor pinning the genesis's key only.
    let o = bin()
        .args([
            "verify",
            p(&copy),
            "--json",
            "--node-key",
            genesis_vkey.trim(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["size"].as_u64(), Some(new_size));
    assert_eq!(v["node_vkeys"].as_array().map(Vec::len), Some(2), "{v}");
}

/// Finding 6: a follower's catch-up showed no progress. Catching up on a ledger of
/// thousands of records, it now says how far it is (a line per tenth away from a
/// terminal) and when it has caught up.
#[test]
fn a_follower_shows_its_catch_up() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    let o = bin()
        .args(["demo", "--data", p(&dir), "--cases", "600", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let leader = Proc::serve(&dir);
    let size = anon_size(&leader.url);
    assert!(size > 3000, "{size}");
    let copy = tmp.path().join("copy");
    let follower = follower_of(&leader.url, &copy, &dir);
    let fanon = Client::new(&follower.url, None, None).unwrap();
    wait_for("the follower to catch up", || {
        fanon.info().is_ok_and(|i| i.size == size)
    });
    wait_for("the follower to say it caught up", || {
        follower.log().contains("caught up: ")
    });
    let log = follower.log();
    assert!(
        log.lines()
            .any(|l| l.starts_with("catching up: ") && l.ends_with(&format!("/{size} records"))),
        "{log}"
    );
}

#[test]
fn any_language_can_prepare_sign_and_batch_events_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let server = Proc::serve(&dir);
    let u = &server.url;
    let anon = client(u, &dir, None);
    let info = anon.info().unwrap();
    let ledger = LedgerId(info.ledger_id.unwrap());
    let http = reqwest::blocking::Client::new();
    let post_json = |path: &str, body: &serde_json::Value| {
        let r = http
            .post(format!("{u}{path}"))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).unwrap())
            .send()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json::<serde_json::Value>().unwrap_or_default())
    };
    // Given an unsigned request body in JSON, written by hand as a client would
    let mvd = key(&dir, "KZ-MVD");
    let request = serde_json::to_value(Payload::Request(Box::new(request_to("TM-MVD")))).unwrap();
    let body = serde_json::json!({
        "ledger_id": ledger,
        "event_id": "7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e01",
        "author": {"authority": "KZ-MVD", "key": mvd.public()},
        "authored_at": info.time_ms,
        "case": {"case_id": "7e7e7e7e7e7e7e7e7e7e7e7e7e7e7eca", "expected_version": 0},
        "payload": request,
    });
    // When the node prepares it, the client signs the message and submits the JSON event
    let (status, prepared) = post_json("/v1/events/prepare", &body);
    assert_eq!(status, 200, "{prepared}");
    let message = hex::decode(prepared["signing_message"].as_str().unwrap()).unwrap();
    let signature = mvd.sign(&message);
    let (status, receipt) = post_json(
        "/v1/events",
        &serde_json::json!({"body": body, "signature": signature}),
    );
    // Then it lands, under the event hash the node prepared
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["event_hash"], prepared["event_hash"]);
    // /v1/events keeps v1's answer: the node's signature over where it landed, which
    // verifies under the node key; /v2/events answers, for the same event resent, the
    // receipt that proves the same record in a signed checkpoint.
    let node_key = NoteVerifier::from_vkey(&info.node_vkey).unwrap();
    let v1: coop_core::ReceiptV1 = serde_json::from_value(receipt.clone()).unwrap();
    v1.verify(&node_key.key).unwrap();
    let signed_json = serde_json::json!({"body": body, "signature": signature});
    let (status, v2) = post_json("/v2/events", &signed_json);
    assert_eq!(status, 200, "{v2}");
    let v2: coop_core::Receipt = serde_json::from_value(v2).unwrap();
    let event = serde_json::from_value::<coop_wire::EventJson>(signed_json)
        .unwrap()
        .to_event()
        .unwrap();
    v2.verify_event(&node_key, &event).unwrap();
    assert_eq!((v2.seq, v2.leaf, v2.chain), (v1.seq, v1.leaf, v1.chain));
    // And prepare refuses what an append would refuse before the signature
    for (what, mut bad) in [
        ("another ledger", body.clone()),
        ("no ledger", body.clone()),
        ("a weak key", body.clone()),
        ("a misspelt field", body.clone()),
    ] {
        match what {
            "another ledger" => bad["ledger_id"] = serde_json::json!("00".repeat(32)),
            "no ledger" => bad["ledger_id"] = serde_json::Value::Null,
            "a weak key" => bad["author"]["key"] = serde_json::json!("00".repeat(32)),
            _ => bad["payload"]["Request"]["urgnet"] = serde_json::json!(true),
        }
        let (status, answer) = post_json("/v1/events/prepare", &bad);
        assert_eq!(status, 400, "{what}: {answer}");
    }

    // Given a batch: two dependent events, one the Agreement refuses, one replayed
    let mut cx = Ctx {
        dir: dir.clone(),
        ledger,
        next: 700,
    };
    let case = CaseId([0x7B; 16]);
    let req = cx.event(
        "KZ-MVD",
        at(case, 0),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    let ack = cx.event("TM-MVD", at(case, 1), &Payload::Acknowledged);
    let mut missing = request_to("TM-MVD");
    missing.elements.decision_copy = None;
    let refused = cx.event(
        "KZ-MVD",
        at(CaseId([0x7C; 16]), 0),
        &Payload::Request(Box::new(missing)),
    );
    let size = anon.info().unwrap().size;
    // When it is posted as JSON
    let events: Vec<_> = [&req, &refused, &ack]
        .iter()
        .map(|e| coop_wire::EventJson::of(e).unwrap())
        .collect();
    let (status, answer) = post_json("/v1/events:batch", &serde_json::json!({"events": events}));
    // Then each event has its answer, in order, and only the good ones landed
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["landed"], 2);
    assert_eq!(answer["results"][0]["status"], 200);
    assert_eq!(answer["results"][1]["status"], 422);
    assert_eq!(answer["results"][1]["error"]["clause"], "Art. 4.1(5)");
    assert_eq!(answer["results"][2]["status"], 200);
    assert_eq!(anon.info().unwrap().size, size + 2);
    // And the Rust client's batch (canonical bytes) checks every receipt; a resent batch
    // returns the first receipts and appends nothing
    let node = coop_node::Client::new(u, None, None).unwrap();
    let node_vkey = &info.node_vkey;
    let verifier = coop_core::NoteVerifier::from_vkey(node_vkey).unwrap();
    let answers = node
        .submit_batch_checked(&[req.clone(), refused.clone(), ack.clone()], &verifier.key)
        .unwrap();
    assert!(answers[0].is_ok() && answers[2].is_ok());
    assert!(matches!(answers[1], Err(ClientError::Refused { .. })));
    assert_eq!(anon.info().unwrap().size, size + 2);
    // A batch over the limit is refused whole
    let many: Vec<SignedEvent> = (0..1001).map(|_| ack.clone()).collect();
    match node.submit_batch(&many) {
        Err(ClientError::Http { status: 413, .. }) => {}
        other => panic!("expected 413, got {other:?}"),
    }
    // The API describes itself, generated from the types it reads and writes
    let doc: serde_json::Value = http
        .get(format!("{u}/v1/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/events:batch"]["post"].is_object());
}

#[test]
fn a_batch_that_does_not_parse_writes_nothing_and_repeats_land_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let server = Proc::serve(&dir);
    let u = &server.url;
    let anon = client(u, &dir, None);
    let info = anon.info().unwrap();
    let mut cx = Ctx {
        dir: dir.clone(),
        ledger: LedgerId(info.ledger_id.unwrap()),
        next: 900,
    };
    let good = cx.event(
        "KZ-MVD",
        at(CaseId([0xB1; 16]), 0),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    let other = cx.event(
        "KZ-MVD",
        at(CaseId([0xB2; 16]), 0),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    let size = info.size;
    let http = reqwest::blocking::Client::new();
    let post = |body: Vec<u8>, ct: &str| {
        let r = http
            .post(format!("{u}/v1/events:batch"))
            .header("content-type", ct)
            .body(body)
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap_or_default())
    };
    let list = coop_core::encoding::encode(&[good.clone(), other.clone()]).unwrap();
    // Given batches that do not parse — a trailing byte, a truncated event, a list that
    // claims more events than it holds, one malformed event among good ones in JSON —
    // when each is posted, then it is refused whole
    let mut trailing = list.clone();
    trailing.push(0);
    let mut claims_more = list.clone();
    claims_more[0] = 3;
    let good_json = serde_json::to_value(coop_wire::EventJson::of(&good).unwrap()).unwrap();
    let mut broken = good_json.clone();
    broken["body"]["payload"] = serde_json::json!({"Request": {"urgent": "yes"}});
    let json_batch =
        serde_json::to_vec(&serde_json::json!({"events": [good_json, broken]})).unwrap();
    for (what, body, ct, want) in [
        ("trailing byte", trailing, "application/octet-stream", 400),
        (
            "truncated",
            list[..list.len() - 1].to_vec(),
            "application/octet-stream",
            400,
        ),
        ("claims more", claims_more, "application/octet-stream", 400),
        ("one malformed event", json_batch, "application/json", 400),
    ] {
        let (status, text) = post(body, ct);
        assert_eq!(status, want, "{what}: {text}");
    }
    // A body over 4 MiB is refused from its Content-Length, before it is read. (Sending
    // the body itself races the node's early answer and close: a broken pipe.)
    {
        use std::io::{Read as _, Write as _};
        let addr = u.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "POST /v1/events:batch HTTP/1.1\r\nHost: {addr}\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\n\r\n",
            5 << 20
        )
        .unwrap();
        let mut head = [0u8; 12];
        s.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 413", "over 4 MiB");
    }
    // And nothing was written
    assert_eq!(anon.info().unwrap().size, size);
    // An empty batch is answered, empty
    let (status, text) = post(
        coop_core::encoding::encode::<[SignedEvent]>(&[]).unwrap(),
        "application/octet-stream",
    );
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"results\":[]"), "{text}");
    // The same event twice in one batch lands once: both answers are receipts for its
    // record. (Each is proven in the checkpoint of the group commit that answered it; the
    // writer may answer the first before the rest of the batch reaches it, and then the
    // second's checkpoint is the newer one: FORMAT.md §12.)
    let node = coop_node::Client::new(u, None, None).unwrap();
    let node_key = NoteVerifier::from_vkey(&info.node_vkey).unwrap().key;
    let answers = node
        .submit_batch(&[good.clone(), other.clone(), good.clone()])
        .unwrap();
    let (a, c) = (answers[0].as_ref().unwrap(), answers[2].as_ref().unwrap());
    assert!(a.same_record(c), "{a:?}\n{c:?}");
    for r in [a, c] {
        coop_node::client::check_receipt(r, &good, &node_key).unwrap();
    }
    assert!(answers[1].is_ok());
    assert_eq!(anon.info().unwrap().size, size + 2);
    // The same event id with another body, in a batch: 409 id_reused for that one only
    let mut reused = cx.event(
        "KZ-MVD",
        at(CaseId([0xB3; 16]), 0),
        &Payload::Request(Box::new(request_to("TM-MVD"))),
    );
    reused.body.event_id = good.body.event_id;
    let reused = SignedEvent::sign(reused.body, &key(&dir, "KZ-MVD")).unwrap();
    let answers = node.submit_batch(&[reused]).unwrap();
    match &answers[0] {
        Err(ClientError::Http {
            status: 409, error, ..
        }) => assert_eq!(error, "id_reused"),
        other => panic!("expected 409 id_reused, got {other:?}"),
    }
    assert_eq!(anon.info().unwrap().size, size + 2);
}

/// Issue 27, item 3: `POST /v1/events/check` judges the tour's uncertified request as an
/// append would — Art. 4.1(5), in the language asked for — and writes nothing; the same
/// body with a certified copy has no problem.
#[test]
fn a_draft_is_checked_against_the_agreement_before_it_is_signed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo_ledger(&dir);
    let node = Proc::serve(&dir);
    let size = |url: &str| anon_size(url);
    let before = size(&node.url);
    // The tour's event file, as the body a client drafts from it (docs/API.md).
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("tour/request-uncertified.json")).unwrap(),
    )
    .unwrap();
    let body = serde_json::json!({
        "ledger_id": ledger_of(&node.url),
        "event_id": "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e",
        "author": {"authority": "KZ-MVD", "key": key(&dir, "KZ-MVD").public().to_hex()},
        "authored_at": now_ms(),
        "case": {"case_id": "7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e", "expected_version": 0},
        "payload": file["payload"],
    });
    let check = |body: &serde_json::Value, lang: &str| -> serde_json::Value {
        let r = reqwest::blocking::Client::new()
            .post(format!("{}/v1/events/check", node.url))
            .header("content-type", "application/json")
            .header("accept-language", lang)
            .json(body)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.json().unwrap()
    };
    let answer = check(&body, "ru");
    assert_eq!(answer["ok"], false, "{answer}");
    let problems = answer["problems"].as_array().unwrap();
    assert_eq!(problems[0]["clause"], "Art. 4.1(5)", "{answer}");
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .contains("Ст. 4.1(5)"),
        "{answer}"
    );
    assert_eq!(size(&node.url), before, "a check writes nothing");
    // Issue 30: a refusal's particulars read in the reader's language too (they were
    // English inside the Russian frame: "Ст. 7: a request must state the purposes…").
    let mut bare = body.clone();
    bare["payload"]["Request"]["purposes"] = serde_json::json!([]);
    bare["payload"]["Request"]["elements"]["requesting_service"] = serde_json::json!("");
    let answer = check(&bare, "ru");
    let said: Vec<&str> = answer["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    assert!(
        said.iter()
            .any(|m| m.contains("наименование запрашивающей службы")),
        "{answer}"
    );
    assert!(said.iter().any(|m| m.starts_with("Ст. 7:")), "{answer}");
    for m in &said {
        let english: Vec<&str> = m
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| ["the", "a", "request", "must", "name", "of", "state"].contains(w))
            .collect();
        assert!(english.is_empty(), "{english:?} in {m}");
    }
    // Certified, it would be accepted.
    let mut fixed = body.clone();
    fixed["payload"]["Request"]["elements"]["decision_copy"]["role"] =
        serde_json::json!("CertifiedCopy");
    let answer = check(&fixed, "en");
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["problems"], serde_json::json!([]));
    assert_eq!(size(&node.url), before);
}

/// Issue 30: `event build --node` asks the node's check endpoint before it writes: an
/// event the ledger would refuse is not written (exit 2, the refusal said).
#[test]
fn event_build_through_a_node_says_when_the_ledger_would_refuse_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo_ledger(&dir);
    let node = Proc::serve(&dir);
    let out = tmp.path().join("e.bin");
    let o = run(&[
        "event",
        "build",
        p(&dir.join("tour/request-uncertified.json")),
        "--node",
        &node.url,
        "--out",
        p(&out),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("Art. 4.1(5)"), "{}", text(&o));
    assert!(!out.exists(), "nothing written");
}

/// Issue 30: `follow` with a key that is not a registered witness's (here the auditor's,
/// which may read) exited 0 after a warning, its cosignatures dropped by every verifier.
/// It now stops with a clear error before cosigning anything.
#[test]
fn a_follower_with_a_key_that_is_no_witness_stops_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let leader = Proc::serve(&dir);
    let copy = tmp.path().join("copy");
    let o = bin()
        .args([
            "follow",
            "--leader",
            &leader.url,
            "--data",
            p(&copy),
            "--once",
        ])
        .args([
            "--witness-key",
            p(&dir.join("keys/KZ-AUDIT.pem")),
            "--name",
            "KZ-AUDIT",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("KZ-AUDIT is not a witness the ledger registers with this key"),
        "{err}"
    );
}

/// Issue 30: `submit --node https://…` to a node serving plain HTTP gave no hint.
#[test]
fn submitting_over_https_to_a_plain_node_says_how_to_reach_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("leader");
    demo_ledger(&dir);
    let leader = Proc::serve(&dir);
    let https = leader.url.replacen("http://", "https://", 1);
    let o = bin()
        .args(["submit", "--node", &https, "--retry-for", "0"])
        .arg(p(&dir.join("tour/language-arrangement.toml")))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("reach it at {}", leader.url)),
        "{err}"
    );
}
