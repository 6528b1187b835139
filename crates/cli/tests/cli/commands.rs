//! The real `coopledger` binary, end to end: the demo, then each user's commands on the
//! ledger it leaves; a ledger built from files by keygen/init/submit; refusals that name
//! their article and change nothing; bad input that gives a clear error.

// In test code a panic is a failed test.
use crate::support::{agreement_file, bin, json, ok, p, run, text};
use std::path::Path;
use std::process::{Command, Output};

/// The demo, and then what an auditor and a dispute consultation would do with its ledger.
#[test]
fn demo_then_every_reader_command_on_its_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ledger");
    let d = p(&data);
    let out = ok(&["demo", "--data", d]);
    for expected in [
        "VERIFIED",
        "REFUSED a request without the certified copy of the decision",
        "Art. 4.1(5)",
        "Art. 7.2",
        "Art. 3",
        "Article 7 held for every item",
        "7 violations refused",
        "cosigned by KZ-WITNESS and TM-WITNESS",
    ] {
        assert!(
            out.contains(expected),
            "demo output lacks {expected:?}:\n{out}"
        );
    }

    // Cases: a disputed one, as of the record that raised its dispute.
    let cases = json(&["case", "list", "--data", d, "--disputed", "--json"]);
    let case = cases["cases"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(cases["cases"][0]["disputes"], 1);
    let now = json(&["case", "show", &case, "--data", d, "--json"]);
    let raised = now["case"]["disputes"]["1"]["raised"]["seq"]
        .as_u64()
        .unwrap();
    assert_eq!(now["case"]["status"], "Closed");
    let then = json(&[
        "case",
        "show",
        &case,
        "--data",
        d,
        "--as-of",
        &raised.to_string(),
        "--json",
    ]);
    assert_eq!(
        then["case"]["disputes"]["1"]["settled"],
        serde_json::Value::Null
    );
    assert!(then["case"]["version"].as_u64() < now["case"]["version"].as_u64());
    let tl = ok(&["case", "timeline", &case, "--data", d]);
    assert!(
        tl.contains("dispute raised") && tl.contains("dispute settled"),
        "{tl}"
    );

    // The Article 7 report in three forms.
    assert!(ok(&["report", "--data", d]).contains("Article 7 held for every item"));
    assert!(
        ok(&["report", "--data", d, "--format", "markdown"])
            .contains("# Article 7 compliance report")
    );
    let r = json(&["report", "--data", d, "--json"]);
    assert!(!r["items"].as_array().unwrap().is_empty());

    // Proofs are checked before they are printed.
    let inc = json(&["proof", "inclusion", "--data", d, "--seq", "5", "--json"]);
    assert!(!inc["proof"].as_array().unwrap().is_empty());
    let con = json(&[
        "proof",
        "consistency",
        "--data",
        d,
        "--from",
        "100",
        "--json",
    ]);
    assert!(!con["proof"].as_array().unwrap().is_empty());
    let cp = json(&["checkpoint", "show", "--data", d, "--json"]);
    let vkey = cp["node_vkey"].as_str().unwrap().to_owned();
    assert!(cp["note"].as_str().unwrap().starts_with("coopledger/"));

    // The auditor: export, verify with the pinned key, verify the directory itself.
    let export = tmp.path().join("ledger.export");
    ok(&["export", "--data", d, "--out", p(&export)]);
    let v = json(&["verify", p(&export), "--node-key", &vkey, "--json"]);
    assert_eq!(v["verified"], true);
    assert_eq!(v["node_key_pinned"], true);
    assert_eq!(v["article7"]["held"], true);
    let size = v["size"].as_u64().unwrap();
    // The demo's witnesses cosigned one checkpoint: both Parties' cosignatures verify
    // against the witnesses registered in the ledger itself.
    let cps = v["checkpoints"].as_array().unwrap();
    assert!(
        cps.iter()
            .any(|c| c["cosigned_by"].as_array().unwrap().len() == 2),
        "{cps:?}"
    );
    let vd = json(&["verify", d, "--json"]);
    assert_eq!(vd["size"].as_u64(), Some(size));
    assert_eq!(vd["node_key_pinned"], false);

    // A tampered export fails with exit code 3 and names the record.
    let mut bytes = std::fs::read(&export).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    let bad = tmp.path().join("tampered.export");
    std::fs::write(&bad, &bytes).unwrap();
    let o = run(&["verify", p(&bad), "--node-key", &vkey]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("VERIFICATION FAILED") && err.contains("record "),
        "{err}"
    );

    // The evidence bundle verifies alone and replays the case as of the dispute.
    let bundle = tmp.path().join("case.bundle");
    ok(&["bundle", "--data", d, "--case", &case, "--out", p(&bundle)]);
    let b = json(&[
        "verify",
        p(&bundle),
        "--as-of",
        &raised.to_string(),
        "--json",
    ]);
    assert_eq!(b["verified"], true);
    assert_eq!(b["cosigned_by"].as_array().unwrap().len(), 2);
    assert_eq!(
        b["case_as_of"]["disputes"]["1"]["settled"],
        serde_json::Value::Null
    );
    assert_eq!(b["case_now"]["status"], "Closed");

    // Import rebuilds a ledger directory that verifies to the same head.
    let copy = tmp.path().join("copy");
    ok(&[
        "import",
        "--from",
        p(&export),
        "--data",
        p(&copy),
        "--trust-node",
        &vkey,
    ]);
    let vc = json(&["verify", p(&copy), "--json"]);
    assert_eq!(vc["size"].as_u64(), Some(size));
    assert_eq!(vc["root"], v["root"]);
    // A tampered export is not imported.
    let o = run(&[
        "import",
        "--from",
        p(&bad),
        "--data",
        p(&tmp.path().join("copy2")),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
}

fn write(path: &Path, s: &str) {
    std::fs::write(path, s).unwrap();
}

/// A ledger made from files: keys (one encrypted), a genesis, designations, a request,
/// refusals, a cosigned checkpoint.
#[test]
fn keygen_init_submit_from_files_and_refusals_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let key = |name: &str| -> String {
        let path = t.join(format!("{name}.pem"));
        ok(&["keygen", "--out", p(&path)]).trim().to_owned()
    };
    let kz_root = key("kz-root");
    let tm_root = key("tm-root");
    let kz_mvd = key("kz-mvd");
    let tm_wit = key("tm-witness");
    // TM-MVD's key is encrypted; its passphrase comes from a file.
    write(&t.join("pass"), "correct horse battery staple\n");
    let tm_mvd_out = bin()
        .args([
            "keygen",
            "--encrypt",
            "--passphrase-file",
            p(&t.join("pass")),
            "--out",
            p(&t.join("tm-mvd.pem")),
        ])
        .output()
        .unwrap();
    assert!(tm_mvd_out.status.success(), "{}", text(&tm_mvd_out));
    let tm_mvd = String::from_utf8_lossy(&tm_mvd_out.stdout)
        .trim()
        .to_owned();
    assert!(
        std::fs::read_to_string(t.join("tm-mvd.pem"))
            .unwrap()
            .contains("ENCRYPTED PRIVATE KEY")
    );
    // A plain key protected afterwards (`--from`) is the same key, encrypted.
    let plain = key("plain");
    let o = bin()
        .args([
            "keygen",
            "--encrypt",
            "--passphrase-file",
            p(&t.join("pass")),
        ])
        .args([
            "--from",
            p(&t.join("plain.pem")),
            "--out",
            p(&t.join("protected.pem")),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), plain);
    assert!(
        std::fs::read_to_string(t.join("protected.pem"))
            .unwrap()
            .contains("ENCRYPTED PRIVATE KEY")
    );
    // Without the passphrase, the key cannot be used, and says why.
    let o = run(&["pubkey", p(&t.join("tm-mvd.pem"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("encrypted"),
        "{}",
        text(&o)
    );

    let text_doc = t.join("agreement-ru.txt");
    write(&text_doc, "Соглашение ...");
    let digest = |lang: &str| {
        let j = json(&[
            "digest",
            p(&text_doc),
            "--language",
            lang,
            "--media-type",
            "text/plain",
        ]);
        format!(
            "{{ digest = \"{}\", size = {}, media_type = \"text/plain\", language = \"{}\", role = \"Original\" }}",
            j["digest"].as_str().unwrap(),
            j["size"],
            j["language"].as_str().unwrap()
        )
    };
    write(
        &t.join("genesis.toml"),
        &format!(
            "roots = [\n  {{ party = \"Kz\", authority = \"KZ-MFA\", key = \"{kz_root}\" }},\n  {{ party = \"Tm\", authority = \"TM-MFA\", key = \"{tm_root}\" }},\n]\nagreement_texts = [\n  {},\n  {},\n  {},\n]\n",
            digest("kk"),
            digest("tk"),
            digest("ru")
        ),
    );
    let data = t.join("ledger");
    let d = p(&data);
    // Issue 12, finding 2: `init --accept-key <a key that is not the other root's>` wrote
    // the genesis, said "nothing was written", and left a directory that could never be
    // initialised again. Now it is refused first and the directory is as it was.
    ok(&["keygen", "--out", p(&t.join("stranger.pem"))]);
    for wrong in ["stranger.pem", "kz-root.pem"] {
        let o = run(&[
            "init",
            "--data",
            d,
            "--genesis",
            p(&t.join("genesis.toml")),
            "--root-key",
            p(&t.join("kz-root.pem")),
            "--accept-key",
            p(&t.join(wrong)),
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("nothing was written"),
            "{}",
            text(&o)
        );
        assert!(!data.exists(), "a refused init left {}", data.display());
    }
    let init = ok(&[
        "init",
        "--data",
        d,
        "--genesis",
        p(&t.join("genesis.toml")),
        "--root-key",
        p(&t.join("kz-root.pem")),
        "--accept-key",
        p(&t.join("tm-root.pem")),
    ]);
    assert!(init.contains("accepted by TM-MFA at record 1"), "{init}");

    let submit = |name: &str, body: &str, key: &str| -> Output {
        let f = t.join(name);
        write(&f, body);
        bin()
            .args([
                "submit",
                "--data",
                d,
                p(&f),
                "--key",
                p(&t.join(key)),
                "--passphrase-file",
                p(&t.join("pass")),
            ])
            .output()
            .unwrap()
    };
    let must = |o: Output| {
        assert!(o.status.success(), "{}", text(&o));
    };
    must(submit(
        "d1.toml",
        &format!(
            "signer = \"KZ-MFA\"\n[payload.AuthorityDesignated]\nauthority = \"KZ-MVD\"\nkey = \"{kz_mvd}\"\nname = \"Ministry of Internal Affairs\"\n"
        ),
        "kz-root.pem",
    ));
    must(submit(
        "d2.toml",
        &format!(
            "signer = \"TM-MFA\"\n[payload.AuthorityDesignated]\nauthority = \"TM-MVD\"\nkey = \"{tm_mvd}\"\nname = \"Ministry of Internal Affairs\"\n"
        ),
        "tm-root.pem",
    ));
    must(submit(
        "w.toml",
        &format!(
            "signer = \"TM-MFA\"\n[payload.ObserverRegistered]\nid = \"TM-WITNESS\"\nrole = \"Witness\"\nkey = \"{tm_wit}\"\n"
        ),
        "tm-root.pem",
    ));

    // Cooperation before entry into force is refused (Art. 10), and nothing is written.
    let request = |case: &str, decision: bool| {
        let d = |tag: u8, lang: &str, role: &str| {
            format!(
                "{{\"digest\": \"{}\", \"size\": 1000, \"media_type\": \"application/pdf\", \"language\": \"{lang}\", \"role\": {role}}}",
                format!("{tag:02x}").repeat(32)
            )
        };
        let translation = |tag: u8, of: u8| {
            d(
                tag,
                "Tk",
                &format!(
                    "{{\"TranslationOf\": \"{}\"}}",
                    format!("{of:02x}").repeat(32)
                ),
            )
        };
        format!(
            r#"{{"signer": "KZ-MVD", "case": "{case}", "payload": {{"Request": {{
              "elements": {{"requested_authority": "TM-MVD", "grounds": {g}, "requesting_service": "Criminal police",
                "requested_service": "Criminal search", "case_description": {c}, "content": {n},
                "decision_copy": {dc}, "legal_provision": {lp}}},
              "category": "Narcotics", "form": "ExecuteRequest", "wanted_person_search": false,
              "purposes": ["investigation 17"], "urgent": false, "oral": false,
              "documents": [{o}, {tr}, {t1}, {t2}, {t3}, {t4}, {t5}]}}}}}}"#,
            g = d(1, "Kk", "\"Original\""),
            c = d(2, "Kk", "\"Original\""),
            n = d(3, "Kk", "\"Original\""),
            dc = if decision {
                d(4, "Kk", "\"CertifiedCopy\"")
            } else {
                "null".into()
            },
            lp = d(5, "Kk", "\"LegalProvisionText\""),
            o = d(10, "Kk", "\"Original\""),
            tr = d(
                11,
                "Tk",
                &format!("{{\"TranslationOf\": \"{}\"}}", "0a".repeat(32))
            ),
            // Art. 4.2: every element document is translated too.
            t1 = translation(21, 1),
            t2 = translation(22, 2),
            t3 = translation(23, 3),
            t4 = translation(24, 4),
            t5 = translation(25, 5),
        )
    };
    let case = "c0ffee00000000000000000000000001";
    let size_before = json(&["verify", d, "--json", "--accept-node-word"])["size"]
        .as_u64()
        .unwrap();
    let o = submit("r0.json", &request(case, true), "kz-mvd.pem");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Art. 10"),
        "{}",
        text(&o)
    );
    assert_eq!(
        json(&["verify", d, "--json", "--accept-node-word"])["size"]
            .as_u64()
            .unwrap(),
        size_before
    );

    must(submit(
        "n1.toml",
        "signer = \"KZ-MFA\"\n[payload.InternalProceduresCompleted]\nauthorities = [\"KZ-MVD\"]\n",
        "kz-root.pem",
    ));
    must(submit(
        "n2.toml",
        "signer = \"TM-MFA\"\n[payload.InternalProceduresCompleted]\nauthorities = [\"TM-MVD\"]\n",
        "tm-root.pem",
    ));

    // A request without the certified copy of the decision: Art. 4.1(5), nothing written.
    let size_before = json(&["verify", d, "--json", "--accept-node-word"])["size"]
        .as_u64()
        .unwrap();
    let o = submit("r1.json", &request(case, false), "kz-mvd.pem");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains("Art. 4.1(5)") && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(
        json(&["verify", d, "--json", "--accept-node-word"])["size"]
            .as_u64()
            .unwrap(),
        size_before
    );

    // The complete request is accepted; its receipt is JSON on request.
    let o = bin()
        .args([
            "submit",
            "--data",
            d,
            "--json",
            p(&t.join("r2.json")),
            "--key",
            p(&t.join("kz-mvd.pem")),
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "the file does not exist yet: {}",
        text(&o)
    );
    write(&t.join("r2.json"), &request(case, true));
    let o = bin()
        .args([
            "submit",
            "--data",
            d,
            "--json",
            p(&t.join("r2.json")),
            "--key",
            p(&t.join("kz-mvd.pem")),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let receipt: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let seq = receipt["seq"].as_u64().unwrap();
    assert_eq!(seq, size_before);

    // TM-MVD (encrypted key) acknowledges; the case version is taken from the ledger.
    must(submit(
        "ack.toml",
        &format!("signer = \"TM-MVD\"\ncase = \"{case}\"\npayload = \"Acknowledged\"\n"),
        "tm-mvd.pem",
    ));
    // A refusal without grounds: Art. 4.5.
    let o = submit(
        "ref.toml",
        &format!(
            "signer = \"TM-MVD\"\ncase = \"{case}\"\n[payload.Refused]\nextent = \"Full\"\ngrounds = []\n"
        ),
        "tm-mvd.pem",
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Art. 4.5"),
        "{}",
        text(&o)
    );
    // The wrong side acknowledging: refused too.
    let o = submit(
        "ack2.toml",
        &format!("signer = \"KZ-MVD\"\ncase = \"{case}\"\npayload = \"Acknowledged\"\n"),
        "kz-mvd.pem",
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    let shown = json(&["case", "show", case, "--data", d, "--json"]);
    assert_eq!(shown["case"]["status"], "Acknowledged");
    assert_eq!(shown["case"]["version"], 2);

    // The witness cosigns; a second cosignature later checks consistency with the first.
    ok(&["checkpoint", "sign", "--data", d]);
    let c1 = ok(&[
        "checkpoint",
        "cosign",
        "--data",
        d,
        "--witness-key",
        p(&t.join("tm-witness.pem")),
        "--name",
        "TM-WITNESS",
    ]);
    assert!(c1.contains("— TM-WITNESS"), "{c1}");
    // One Party's witness is not both Parties' word (docs/adr/0026): exit 4 without the
    // auditor's acceptance of the node's word.
    let o = run(&["verify", d, "--quiet"]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let v = json(&["verify", d, "--json", "--accept-node-word"]);
    let last = v["checkpoints"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["cosigned_by"][0][0], "TM-WITNESS");
    // An unregistered "witness" cannot cosign.
    let o = run(&[
        "checkpoint",
        "cosign",
        "--data",
        d,
        "--witness-key",
        p(&t.join("kz-mvd.pem")),
        "--name",
        "KZ-MVD",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    let auth = ok(&["authorities", "--data", d]);
    assert!(
        auth.contains("TM-WITNESS") && auth.contains("competent authority"),
        "{auth}"
    );
}

#[test]
fn bad_input_is_a_clear_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // No ledger here.
    let o = run(&["case", "list", "--data", p(&t.join("nothing"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("holds no ledger"),
        "{}",
        text(&o)
    );
    // Not an export.
    write(&t.join("junk"), "hello, I am not a ledger");
    let o = run(&["verify", p(&t.join("junk"))]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a coopledger export"),
        "{}",
        text(&o)
    );
    // A malformed key file.
    write(
        &t.join("bad.pem"),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    let o = run(&["pubkey", p(&t.join("bad.pem"))]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // An --encrypt without a passphrase.
    let o = run(&["keygen", "--encrypt", "--out", p(&t.join("k.pem"))]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!t.join("k.pem").exists());
    // A keygen never overwrites.
    ok(&["keygen", "--out", p(&t.join("k2.pem"))]);
    let o = run(&["keygen", "--out", p(&t.join("k2.pem"))]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // Bad ids and times.
    let o = run(&["case", "show", "xyz", "--data", p(t)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // --help works on every command.
    for c in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["verify", "--help"],
        vec!["case", "show", "--help"],
        vec!["submit", "--help"],
        vec!["checkpoint", "cosign", "--help"],
        vec!["bundle", "--help"],
    ] {
        ok(&c);
    }
}

/// The audit's finding, with the vectors the audit used: `coopledger verify` refuses a
/// ledger in which a root registered any key that the C2SP/CCTV Ed25519 vectors flag (a
/// torsion component, a second spelling, small order), naming the registration; the one
/// plain key passes.
#[test]
fn verify_refuses_every_flagged_cctv_key_at_registration_and_takes_the_plain_one() {
    use coop_core::checkpoint::{Checkpoint, sign_checkpoint};
    use coop_core::merkle::{Blake3Hasher, Frontier};
    use coop_core::{CHAIN_SEED, EventId, Hash, PublicKey, Record, Timestamp};
    use coop_treaty::Payload;
    use coop_treaty::testkit;

    let vectors: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/vectors/ed25519vectors.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut keys: std::collections::BTreeMap<String, bool> = Default::default();
    for v in &vectors {
        let flagged = v["flags"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x.as_str().unwrap().ends_with("_A")));
        *keys
            .entry(v["key"].as_str().unwrap().to_owned())
            .or_default() |= flagged;
    }
    assert_eq!(keys.len(), 22);
    let tmp = tempfile::tempdir().unwrap();
    let fixture = testkit::keys();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let (mut refused, mut accepted) = (0, 0);
    for (n, (key, flagged)) in keys.iter().enumerate() {
        // Genesis, acceptance, and a root designating an authority with this key: the
        // records a node (or a forger) would write, whatever the rules say.
        let key = PublicKey::from_hex(key).unwrap();
        let steps: Vec<(&str, Payload)> = vec![
            ("KZ-MFA", testkit::genesis_payload(&fixture)),
            ("TM-MFA", Payload::GenesisAccepted),
            (
                "KZ-MFA",
                Payload::AuthorityDesignated {
                    authority: testkit::id("KZ-NEW"),
                    key,
                    name: "An authority with a CCTV key".into(),
                },
            ),
        ];
        let path = tmp.path().join(format!("key{n}.export"));
        let mut w = coop_verify::ExportWriter::new(Vec::new(), &[]).unwrap();
        let (mut chain, mut gov, mut ledger) = (CHAIN_SEED, Hash::ZERO, None);
        let mut frontier = Frontier::<Blake3Hasher>::new();
        for (seq, (signer, payload)) in steps.into_iter().enumerate() {
            let ev = testkit::sign(
                &fixture[signer],
                signer,
                ledger,
                EventId([seq as u8 + 1; 16]),
                Timestamp(now),
                None,
                vec![],
                &payload,
            )
            .unwrap();
            if seq == 0 {
                ledger = Some(coop_core::LedgerId::from_genesis_body(
                    &ev.body.to_bytes().unwrap(),
                ));
            }
            let hash = ev.event_hash().unwrap();
            let r = Record {
                seq: seq as u64,
                prev_chain: chain,
                received_at: Timestamp(now),
                governance: gov,
                event: ev,
            }
            .seal()
            .unwrap();
            gov = coop_core::hash::governance_link(&gov, seq as u64, &hash);
            chain = r.chain;
            frontier.push(r.leaf, |_, _, _| {});
            w.record(&r.bytes).unwrap();
        }
        let cp = Checkpoint {
            ledger_id: ledger.unwrap(),
            size: 3,
            root: frontier.root(),
            chain_head: chain,
            time: Timestamp(now),
        };
        w.checkpoint(&sign_checkpoint(&cp, &testkit::node_key()).unwrap())
            .unwrap();
        std::fs::write(&path, w.finish().unwrap().0).unwrap();
        let o = run(&["verify", p(&path), "--quiet", "--accept-node-word"]);
        if *flagged {
            assert_eq!(o.status.code(), Some(3), "{key}: {}", text(&o));
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                err.contains("record 2") && err.contains("Art. 3") && err.contains(&key.to_hex()),
                "{err}"
            );
            refused += 1;
        } else {
            assert!(o.status.success(), "{key}: {}", text(&o));
            accepted += 1;
        }
    }
    assert_eq!(refused + accepted, 22);
    assert!(
        accepted >= 1 && refused >= 20,
        "{refused} refused, {accepted} accepted"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    let o = Command::new("cp")
        .args(["-r", p(from), p(to)])
        .output()
        .unwrap();
    assert!(o.status.success());
}

/// The witness rule through `coopledger checkpoint cosign`: the witness keeps its own
/// record of what it cosigned, and refuses a ledger rolled back below it or forked at its
/// size (the audit found the command detected neither).
#[test]
fn checkpoint_cosign_refuses_a_rollback_and_a_same_size_fork() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    ok(&["demo", "--data", p(&a), "--cases", "20", "--quiet"]);
    let wkey = a.join("keys/KZ-WITNESS.pem");
    let state = tmp.path().join("kz-witness.cosigned");
    let cosign = |dir: &Path, state: &Path| {
        run(&[
            "checkpoint",
            "cosign",
            "--data",
            p(dir),
            "--witness-key",
            p(&wkey),
            "--name",
            "KZ-WITNESS",
            "--state",
            p(state),
        ])
    };
    let key = a.join("keys/TM-MVD.pem");
    let submit = |dir: &Path, file: &Path| {
        ok(&["submit", "--data", p(dir), p(file), "--key", p(&key)]);
        ok(&["checkpoint", "sign", "--data", p(dir)]);
    };
    // The witness cosigns A; B is a copy of A as it stands.
    let o = cosign(&a, &state);
    assert!(o.status.success(), "{}", text(&o));
    let b = tmp.path().join("b");
    copy_dir(&a, &b);
    // A grows and the witness cosigns again: an extension.
    submit(&a, &agreement_file(tmp.path(), "x.toml", "crime X"));
    let o = cosign(&a, &state);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("extends"));
    // B is A rolled back: refused.
    let o = cosign(&b, &state);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("rollback"),
        "{}",
        text(&o)
    );
    // C is B grown differently to A's size: a fork at the same size, refused.
    let c = tmp.path().join("c");
    copy_dir(&b, &c);
    submit(&c, &agreement_file(tmp.path(), "y.toml", "crime Y"));
    let o = cosign(&c, &state);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("fork"),
        "{}",
        text(&o)
    );
}

/// Bundle completeness, exhaustively: for every case of the demo, its evidence bundle
/// verifies, and leaving out any single record of it before the case's last is refused by
/// the verifier (after it come only the governance records up to the checkpoint).
#[test]
fn every_bundle_of_the_demo_refuses_any_single_record_left_out() {
    use coop_ledger::{Config, Ledger};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ledger");
    ok(&["demo", "--data", p(&data), "--quiet"]);
    let node = coop_core::SecretKey::from_pem(
        &std::fs::read_to_string(data.join("node.pem")).unwrap(),
        None,
    )
    .unwrap();
    let ledger = Ledger::open(
        coop_store::SledStore::open(data.join("store")).unwrap(),
        node,
        Config::default(),
    )
    .unwrap();
    let cases: Vec<coop_core::CaseId> = ledger
        .with_state(|s| s.cases.keys().copied().collect())
        .unwrap();
    assert!(cases.len() >= 1200);
    let bundles: Vec<coop_verify::Bundle> = cases
        .iter()
        .map(|c| ledger.evidence_bundle(c).unwrap().bundle)
        .collect();
    let checked = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for part in bundles.chunks(bundles.len().div_ceil(2)) {
            let checked = &checked;
            s.spawn(move || {
                for b in part {
                    let verified = coop_verify::verify_bundle(b, None).unwrap();
                    let last = verified.state.cases[&b.case].steps.last().unwrap().seq;
                    let before = verified.records.iter().filter(|r| r.seq < last).count();
                    for i in 0..before {
                        let mut cut = b.clone();
                        cut.entries.remove(i);
                        assert!(
                            coop_verify::verify_bundle(&cut, None).is_err(),
                            "case {}: entry {i} left out went unnoticed",
                            b.case
                        );
                        checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert!(checked.into_inner() > 1200 * 20);
}

/// The committed fixture ledger (every payload variant, every governance kind) verifies
/// through the real binary, pinned to the fixture node key.
#[test]
fn the_committed_fixture_ledger_verifies_through_the_binary() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ledger-v2.export");
    let vkey = {
        let f = coop_treaty::testkit::fixture::ledger().unwrap();
        coop_core::checkpoint::node_verifier(
            &f.ledger_id().unwrap(),
            coop_treaty::testkit::node_key().public(),
        )
        .to_vkey()
    };
    // Format 2.1's fixture (with a node handover) and format 2's: both verify, the
    // auditor pinning the genesis's node key alone.
    for fixture in [
        fixture.clone(),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ledger-v2.1.export"),
    ] {
        let out = ok(&["verify", p(&fixture), "--node-key", &vkey, "--quiet"]);
        assert!(out.contains("VERIFIED"), "{out}");
        assert!(
            out.contains("cosigned by KZ-WITNESS (Kazakhstan), TM-WITNESS (Turkmenistan)"),
            "{out}"
        );
    }
}

/// Issue 28, finding 1: the node operator alone drops Turkmenistan's notice that its
/// procedures for a protocol are complete (which moves a case's deadline), re-chains and
/// re-signs its checkpoints. Every rule and signature still checks out; no witness has
/// cosigned the rewritten history, so `verify` does not call it VERIFIED (exit 4) — only an
/// auditor who accepts the node's word alone gets a verdict, which says so on every line.
/// The genuine fixture, cosigned by both Parties' witnesses, verifies as witnessed.
#[test]
fn a_history_the_node_alone_rewrote_is_not_verified() {
    use coop_treaty::testkit::fixture;
    let tmp = tempfile::tempdir().unwrap();
    let f = fixture::ledger().unwrap();
    let drop = f
        .records
        .iter()
        .find(|r| {
            r.record.event.body.author.authority.as_str() == "TM-MFA"
                && matches!(
                    coop_treaty::Payload::from_bytes(&r.record.event.body.payload),
                    Ok(coop_treaty::Payload::ProtocolProceduresCompleted { .. })
                )
        })
        .unwrap()
        .record
        .seq;
    let export = |f: &fixture::Fixture, name: &str| {
        let mut w = coop_verify::ExportWriter::new(Vec::new(), &[]).unwrap();
        for item in f.items() {
            match item {
                Ok(bytes) => w.record(bytes).unwrap(),
                Err(note) => w.checkpoint(note).unwrap(),
            }
        }
        let path = tmp.path().join(name);
        std::fs::write(&path, w.finish().unwrap().0).unwrap();
        path
    };
    let vkey = coop_core::checkpoint::node_verifier(
        &f.ledger_id().unwrap(),
        coop_treaty::testkit::node_key().public(),
    )
    .to_vkey();
    let forged = export(
        &fixture::rewritten_by_the_node(&f, drop).unwrap(),
        "forged.export",
    );
    let o = bin()
        .args(["verify", p(&forged), "--node-key", &vkey, "--quiet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(4),
        "{err}{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(err.contains("NOT WITNESSED"), "{err}");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("VERIFIED"));
    // The auditor may accept the node's word: every line then says so.
    let out = ok(&[
        "verify",
        p(&forged),
        "--node-key",
        &vkey,
        "--quiet",
        "--accept-node-word",
    ]);
    assert!(out.lines().count() > 5, "{out}");
    for line in out.lines() {
        assert!(line.starts_with("[the node's word alone] "), "{line}");
    }
    // The genuine ledger, cosigned by both witnesses, is witnessed to its end.
    let genuine = export(&f, "genuine.export");
    let out = ok(&["verify", p(&genuine), "--node-key", &vkey, "--quiet"]);
    assert!(
        out.starts_with(&format!(
            "VERIFIED ledger {}, witnessed by both Parties up to record {}",
            f.ledger_id().unwrap(),
            f.records.len() - 1
        )),
        "{out}"
    );
    assert!(!out.contains("node's word"), "{out}");
}

/// Issue 28, finding 7: the journal as a verifier reads it. A length byte flipped in a
/// frame mid-journal read as a torn tail (a prefix verified, exit 0); a damaged frame
/// exited 1 ("store corrupt") instead of 3; a torn tail was skipped without a word.
#[test]
fn a_damaged_journal_fails_verification_and_a_torn_tail_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    ok(&["demo", "--data", p(&dir), "--cases", "20", "--quiet"]);
    let segment = std::fs::read_dir(dir.join("store/journal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .max()
        .unwrap();
    let journal = std::fs::read(&segment).unwrap();
    // The frames: (start, kind, whole length).
    let mut frames = Vec::new();
    let mut at = coop_store::JOURNAL_MAGIC.len();
    while at + 5 <= journal.len() {
        let n = u32::from_be_bytes(journal[at + 1..at + 5].try_into().unwrap()) as usize;
        frames.push((at, journal[at], 5 + n + 16));
        at += 5 + n + 16;
    }
    assert_eq!(at, journal.len());
    let (mid, _, _) = *frames
        .iter()
        .filter(|f| f.1 == b'R')
        .nth(frames.len() / 4)
        .unwrap();
    let verify_with = |bytes: &[u8]| {
        std::fs::write(&segment, bytes).unwrap();
        let o = run(&["verify", p(&dir), "--quiet", "--accept-node-word"]);
        (o.status.code(), text(&o))
    };
    // A length byte mid-journal: complete frames follow, so it is damage, not a torn tail.
    let mut flipped = journal.clone();
    flipped[mid + 2] ^= 0x01;
    let (code, out) = verify_with(&flipped);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains("VERIFICATION FAILED") && out.contains("not a torn write"),
        "{out}"
    );
    // A payload byte mid-journal: exit 3 too (it was 1, "store corrupt").
    let mut damaged = journal.clone();
    damaged[mid + 40] ^= 0x01;
    let (code, out) = verify_with(&damaged);
    assert_eq!(code, Some(3), "{out}");
    // The last frame cut short: a torn write, skipped and said.
    let (last, _, len) = *frames.last().unwrap();
    let torn = &journal[..last + len / 2];
    let (code, out) = verify_with(torn);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "note: the journal ends with a torn write of {} bytes at byte {last}",
            len / 2
        )),
        "{out}"
    );
    std::fs::write(&segment, &journal).unwrap();
    let out = ok(&["verify", p(&dir), "--quiet"]);
    assert!(!out.contains("torn"), "{out}");
}

/// Issue 28, finding 8: checkpoint times never run backwards. A node whose first
/// checkpoint was dated years ahead and whose next is dated now is refused at the second.
#[test]
fn checkpoint_times_never_run_backwards() {
    use coop_core::checkpoint::{Checkpoint, Note, sign_checkpoint};
    use coop_treaty::testkit::{self, fixture};
    let tmp = tempfile::tempdir().unwrap();
    let f = fixture::ledger().unwrap();
    let first = f.checkpoints[0].0;
    let mut w = coop_verify::ExportWriter::new(Vec::new(), &[]).unwrap();
    for item in f.items() {
        match item {
            Ok(bytes) => w.record(bytes).unwrap(),
            Err(note) => {
                let mut cp = Checkpoint::parse_body(&Note::parse(note).unwrap().text).unwrap();
                if cp.size == first {
                    cp.time = coop_core::Timestamp(cp.time.0 + 5 * 365 * 24 * 3_600_000);
                }
                let key = if cp.size == f.records.len() as u64 {
                    fixture::handover_node_key()
                } else {
                    testkit::node_key()
                };
                w.checkpoint(&sign_checkpoint(&cp, &key).unwrap()).unwrap();
            }
        }
    }
    let path = tmp.path().join("backwards.export");
    std::fs::write(&path, w.finish().unwrap().0).unwrap();
    let o = run(&["verify", p(&path), "--quiet", "--accept-node-word"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("never run backwards"), "{err}");
}

/// Issue 28, finding 2: after a node handover a case's only covering checkpoint is
/// signed by the new node key; its bundle carries the records that name that key (every
/// governance record before the checkpoint), so `bundle` succeeds for every case of both
/// committed fixtures and each bundle verifies, pinned to the genesis's node key alone.
#[test]
fn every_case_of_both_fixtures_has_a_bundle_that_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let vkey = {
        let f = coop_treaty::testkit::fixture::ledger().unwrap();
        coop_core::checkpoint::node_verifier(
            &f.ledger_id().unwrap(),
            coop_treaty::testkit::node_key().public(),
        )
        .to_vkey()
    };
    let mut bundles = 0;
    for name in ["ledger-v2.export", "ledger-v2.1.export"] {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures")
            .join(name);
        let data = tmp.path().join(name);
        ok(&["import", "--from", p(&fixture), "--data", p(&data)]);
        let cases = json(&["case", "list", "--data", p(&data), "--json"]);
        for case in cases["cases"].as_array().unwrap() {
            let id = case["id"].as_str().unwrap();
            let out = tmp.path().join(format!("{name}-{id}.bundle"));
            ok(&["bundle", "--data", p(&data), "--case", id, "--out", p(&out)]);
            let verdict = ok(&["verify", p(&out), "--node-key", &vkey]);
            assert!(verdict.contains("VERIFIED"), "{name} {id}: {verdict}");
            bundles += 1;
        }
    }
    assert!(bundles >= 8, "{bundles}");
}

/// Issue 14: an event signed by another system arrives as canonical bytes. `event build`
/// writes them from an event file, `event show` reads them back as JSON, and `init
/// --signed-genesis` starts a ledger from a genesis signed elsewhere.
#[test]
fn events_built_as_canonical_bytes_and_a_genesis_signed_elsewhere() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let key = |name: &str| -> String {
        let path = t.join(format!("{name}.pem"));
        ok(&["keygen", "--out", p(&path)]).trim().to_owned()
    };
    let (kz_root, tm_root, node) = (key("kz-root"), key("tm-root"), key("node"));
    let _ = key("other-node");
    let doc = |lang: &str, n: u8| {
        format!(
            "{{ digest = \"{}\", size = 1, media_type = \"text/plain\", language = \"{lang}\", role = \"Original\" }}",
            format!("{n:02x}").repeat(32)
        )
    };
    let docs = [doc("Kk", 1), doc("Tk", 2), doc("Ru", 3)].join(", ");
    write(
        &t.join("genesis.toml"),
        &format!(
            "signer = \"KZ-MFA\"\nkey = \"kz-root.pem\"\n[payload.Genesis]\nroots = [\n  {{ party = \"Kz\", authority = \"KZ-MFA\", key = \"{kz_root}\" }},\n  {{ party = \"Tm\", authority = \"TM-MFA\", key = \"{tm_root}\" }},\n]\nagreement_texts = [{docs}]\nnode_key = \"{node}\"\ntest_ledger = false\n[payload.Genesis.params]\n"
        ),
    );
    // Given a genesis built into canonical bytes without any ledger
    let out = ok(&[
        "event",
        "build",
        p(&t.join("genesis.toml")),
        "--out",
        p(&t.join("genesis.bin")),
    ]);
    assert!(out.contains("event hash"), "{out}");
    // When it is shown, then the payload reads as the catalogue's variant
    let shown = json(&["event", "show", p(&t.join("genesis.bin"))]);
    assert_eq!(shown["body"]["payload"]["Genesis"]["node_key"], node);
    assert_eq!(shown["body"]["ledger_id"], serde_json::Value::Null);
    // A node whose key the genesis does not name refuses it and writes nothing
    let o = run(&[
        "init",
        "--data",
        p(&t.join("wrong")),
        "--signed-genesis",
        p(&t.join("genesis.bin")),
        "--node-key",
        p(&t.join("other-node.pem")),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!t.join("wrong").exists());
    // The node it names starts the ledger from it
    let data = t.join("ledger");
    let init = ok(&[
        "init",
        "--data",
        p(&data),
        "--signed-genesis",
        p(&t.join("genesis.bin")),
        "--node-key",
        p(&t.join("node.pem")),
    ]);
    assert!(init.starts_with("ledger "), "{init}");
    let ledger = init
        .split_whitespace()
        .nth(1)
        .expect("ledger id")
        .to_owned();
    // And an event for it is built offline with --ledger-id, and shown
    write(
        &t.join("accept.toml"),
        "signer = \"TM-MFA\"\nkey = \"tm-root.pem\"\npayload = \"GenesisAccepted\"\n",
    );
    ok(&[
        "event",
        "build",
        p(&t.join("accept.toml")),
        "--ledger-id",
        &ledger,
        "--out",
        p(&t.join("accept.bin")),
    ]);
    let shown = json(&["event", "show", p(&t.join("accept.bin"))]);
    assert_eq!(shown["body"]["payload"], "GenesisAccepted");
    assert_eq!(shown["body"]["ledger_id"], ledger.as_str());
    // Without a ledger id, only a genesis can be built
    let o = run(&[
        "event",
        "build",
        p(&t.join("accept.toml")),
        "--out",
        p(&t.join("x.bin")),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // Bytes that are not an event are refused by `show`
    write(&t.join("junk.bin"), "not an event");
    let o = run(&["event", "show", p(&t.join("junk.bin"))]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}
