//! Deadlines and termination end to end, through the real `coopledger` binary on a test
//! ledger whose clock `coopledger clock` moves (issue 11): a ledger built from files
//! (keygen, init, submit), then the Art. 10 six-month termination, the Art. 4.1 oral
//! confirmation deadline and the Art. 4.6 notice deadline, each shown met, late and
//! overdue. And: a ledger that is not a test ledger refuses a moved clock.

use crate::support::{ok, p, run, text};
use coop_treaty::testkit::request_to;
use coop_treaty::{Party, Payload};
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, SystemTime};

/// A test ledger built from files: two roots, KZ-MVD and TM-MVD, in force.
struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    files: PathBuf,
    keys: PathBuf,
    n: u32,
}

impl Fixture {
    fn new(test_ledger: bool) -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ledger");
        let files = tmp.path().join("files");
        let keys = tmp.path().join("keys");
        std::fs::create_dir_all(&files).unwrap();
        std::fs::create_dir_all(&keys).unwrap();
        let mut public = std::collections::BTreeMap::new();
        for name in ["kz-root", "tm-root", "kz-mvd", "tm-mvd"] {
            let path = keys.join(format!("{name}.pem"));
            ok(&["keygen", "--out", p(&path)]);
            public.insert(name, ok(&["pubkey", p(&path)]).trim().to_owned());
        }
        let text = |lang: &str, n: u8| {
            format!(
                "{{ digest = \"{}\", size = 100, media_type = \"text/plain\", language = \"{lang}\", role = \"Original\" }}",
                format!("{n:02x}").repeat(32)
            )
        };
        let genesis = files.join("genesis.toml");
        std::fs::write(
            &genesis,
            format!(
                "roots = [\n  {{ party = \"Kz\", authority = \"KZ-MFA\", key = \"{}\" }},\n  {{ party = \"Tm\", authority = \"TM-MFA\", key = \"{}\" }},\n]\nagreement_texts = [{}, {}, {}]\ntest_ledger = {test_ledger}\n",
                public["kz-root"],
                public["tm-root"],
                text("Kk", 1),
                text("Tk", 2),
                text("Ru", 3)
            ),
        )
        .unwrap();
        ok(&[
            "init",
            "--data",
            p(&dir),
            "--genesis",
            p(&genesis),
            "--root-key",
            p(&keys.join("kz-root.pem")),
            "--accept-key",
            p(&keys.join("tm-root.pem")),
        ]);
        let mut f = Fixture {
            _tmp: tmp,
            dir,
            files,
            keys,
            n: 0,
        };
        for (root, who, key, name) in [
            (
                "KZ-MFA",
                "KZ-MVD",
                "kz-mvd",
                "Ministry of Internal Affairs of Kazakhstan",
            ),
            (
                "TM-MFA",
                "TM-MVD",
                "tm-mvd",
                "Ministry of Internal Affairs of Turkmenistan",
            ),
        ] {
            f.ok_submit(
                root,
                None,
                &format!(
                    "[payload.AuthorityDesignated]\nauthority = \"{who}\"\nkey = \"{}\"\nname = \"{name}\"\n",
                    public[key]
                ),
            );
        }
        for (root, who) in [("KZ-MFA", "KZ-MVD"), ("TM-MFA", "TM-MVD")] {
            f.ok_submit(
                root,
                None,
                &format!("[payload.InternalProceduresCompleted]\nauthorities = [\"{who}\"]\n"),
            );
        }
        f
    }

    fn key_of(signer: &str) -> &'static str {
        match signer {
            "KZ-MFA" => "kz-root",
            "TM-MFA" => "tm-root",
            "KZ-MVD" => "kz-mvd",
            _ => "tm-mvd",
        }
    }

    /// Submits an event file (TOML) by `signer` in `case`.
    fn submit(&mut self, signer: &str, case: Option<&str>, body: &str) -> Output {
        self.n += 1;
        let file = self.files.join(format!("e{}.toml", self.n));
        let case = case
            .map(|c| format!("case = \"{c}\"\n"))
            .unwrap_or_default();
        std::fs::write(&file, format!("signer = \"{signer}\"\n{case}{body}")).unwrap();
        let key = self.keys.join(format!("{}.pem", Fixture::key_of(signer)));
        run(&["submit", "--data", p(&self.dir), p(&file), "--key", p(&key)])
    }

    fn ok_submit(&mut self, signer: &str, case: Option<&str>, body: &str) {
        let o = self.submit(signer, case, body);
        assert!(o.status.success(), "{}", text(&o));
    }

    /// A payload as an event-file body (JSON, written as TOML's inline JSON is not
    /// TOML: use a JSON file instead).
    fn submit_payload(&mut self, signer: &str, case: &str, payload: &Payload) -> Output {
        self.n += 1;
        let file = self.files.join(format!("e{}.json", self.n));
        let v = serde_json::json!({ "signer": signer, "case": case, "payload": payload });
        std::fs::write(&file, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
        let key = self.keys.join(format!("{}.pem", Fixture::key_of(signer)));
        run(&["submit", "--data", p(&self.dir), p(&file), "--key", p(&key)])
    }

    fn request(&mut self, case: &str, oral: bool) -> Output {
        let mut r = request_to("TM-MVD");
        if oral {
            r.oral = true;
            r.urgent = true;
            r.documents.clear();
        }
        self.submit_payload("KZ-MVD", case, &Payload::Request(Box::new(r)))
    }

    fn clock(&self, args: &[&str]) -> String {
        let mut a = vec!["clock", "--data", p(&self.dir)];
        a.extend_from_slice(args);
        ok(&a)
    }

    fn case_show(&self, case: &str) -> String {
        ok(&["case", "show", case, "--data", p(&self.dir)])
    }
}

fn case(n: u8) -> String {
    format!("{n:02x}").repeat(16)
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// Art. 10: notice of termination; a new request on the last day is accepted, one after
/// six months is refused naming Art. 10, and a case opened before is still answered.
#[test]
fn termination_takes_effect_six_months_after_the_notice() {
    let mut f = Fixture::new(true);
    f.ok_submit("KZ-MFA", None, "payload = \"TerminationNotice\"\n");
    let auth = ok(&["authorities", "--data", p(&f.dir)]);
    let effective = auth
        .split("no new request from ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no termination date in\n{auth}"));
    let effective = humantime::parse_rfc3339(effective).unwrap();
    // The last day: accepted.
    f.clock(&[
        "--set",
        &rfc3339(effective - Duration::from_secs(24 * 3600)),
    ]);
    let o = f.request(&case(1), false);
    assert!(o.status.success(), "{}", text(&o));
    // The first moment after: refused under Art. 10, nothing written.
    f.clock(&["--set", &rfc3339(effective + Duration::from_secs(60))]);
    let before = ok(&[
        "verify",
        p(&f.dir),
        "--json",
        "--quiet",
        "--accept-node-word",
    ]);
    let o = f.request(&case(2), false);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Art. 10"),
        "{}",
        text(&o)
    );
    assert_eq!(
        ok(&[
            "verify",
            p(&f.dir),
            "--json",
            "--quiet",
            "--accept-node-word"
        ]),
        before
    );
    // The case opened on the last day goes on.
    f.ok_submit("TM-MVD", Some(&case(1)), "payload = \"Acknowledged\"\n");
    assert!(f.case_show(&case(1)).contains("acknowledged"));
    // The clock never runs backwards, and every view says TEST LEDGER.
    let o = run(&[
        "clock",
        "--data",
        p(&f.dir),
        "--set",
        &rfc3339(effective - Duration::from_secs(3600)),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("never runs backwards"));
    let o = run(&["case", "list", "--data", p(&f.dir)]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("TEST LEDGER"));
    let v = ok(&["verify", p(&f.dir), "--quiet", "--accept-node-word"]);
    assert!(
        v.lines().next().is_some_and(|l| l.contains("TEST LEDGER")),
        "{v}"
    );
}

/// Art. 4.1: a prior oral request is confirmed in writing within the deadline (met),
/// after it (met late), or never (overdue, in `case list --overdue`). Art. 4.6: the
/// reasons for a refusal are notified in time (met) or late.
#[test]
fn deadlines_are_shown_met_late_and_overdue() {
    let mut f = Fixture::new(true);
    let confirm = |f: &mut Fixture, c: &str| {
        let docs = request_to("TM-MVD").documents;
        let o = f.submit_payload(
            "KZ-MVD",
            c,
            &Payload::OralRequestConfirmed { documents: docs },
        );
        assert!(o.status.success(), "{}", text(&o));
    };
    // Met: confirmed two hours later.
    assert!(f.request(&case(0xa), true).status.success());
    f.clock(&["--advance", "2h"]);
    confirm(&mut f, &case(0xa));
    let a = f.case_show(&case(0xa));
    assert!(
        a.contains("written confirmation of the oral request") && a.contains("— met at"),
        "{a}"
    );
    // Late: confirmed 25 hours later.
    assert!(f.request(&case(0xb), true).status.success());
    f.clock(&["--advance", "25h"]);
    confirm(&mut f, &case(0xb));
    assert!(f.case_show(&case(0xb)).contains("met late at"));
    // Overdue: never confirmed.
    assert!(f.request(&case(0xc), true).status.success());
    let list = ok(&["case", "list", "--data", p(&f.dir), "--overdue"]);
    assert!(!list.contains(&case(0xc)), "overdue too early\n{list}");
    f.clock(&["--advance", "25h"]);
    let list = ok(&["case", "list", "--data", p(&f.dir), "--overdue"]);
    assert!(list.contains(&case(0xc)), "{list}");
    assert!(f.case_show(&case(0xc)).contains("OVERDUE"));
    // Art. 4.6: reasons notified an hour after the request (met), and 80 h after (late;
    // the default is 72 h).
    let refuse = |f: &mut Fixture, c: &str| {
        let o = f.submit_payload(
            "TM-MVD",
            c,
            &Payload::Refused {
                extent: coop_treaty::Extent::Full,
                grounds: vec![coop_treaty::RefusalGround::NationalLaw],
                reasons: coop_treaty::testkit::written(41, Party::Tm),
            },
        );
        assert!(o.status.success(), "{}", text(&o));
    };
    assert!(f.request(&case(0xd), false).status.success());
    f.clock(&["--advance", "1h"]);
    refuse(&mut f, &case(0xd));
    let d = f.case_show(&case(0xd));
    assert!(
        d.contains("Art. 4.6 notice of reasons") && d.contains("— met at"),
        "{d}"
    );
    assert!(f.request(&case(0xe), false).status.success());
    f.clock(&["--advance", "80h"]);
    refuse(&mut f, &case(0xe));
    let e = f.case_show(&case(0xe));
    assert!(
        e.contains("Art. 4.6 notice of reasons") && e.contains("met late at"),
        "{e}"
    );
}

/// A ledger the Parties rely on runs on the system clock: `clock` refuses to move it,
/// and a `test-clock` file put in its directory by hand makes it refuse to open.
#[test]
fn only_a_test_ledger_accepts_a_moved_clock() {
    let f = Fixture::new(false);
    let o = run(&["clock", "--data", p(&f.dir), "--advance", "1h"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not mark it a test ledger"));
    std::fs::write(f.dir.join("test-clock"), "offset_ms = 3600000\n").unwrap();
    let o = run(&["case", "list", "--data", p(&f.dir)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("test ledger"),
        "{}",
        text(&o)
    );
    let v = ok(&["verify", p(&f.dir), "--quiet", "--accept-node-word"]);
    assert!(!v.contains("TEST LEDGER"), "{v}");
}
