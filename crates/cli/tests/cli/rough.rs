//! Issue 30: the rough edges a person hit, each through the real binary — output that
//! cannot be written, commands cut short, files that are there already or empty, and
//! answers in words instead of Rust's.

use crate::support::{bin, ok, p, run, text};
use std::path::Path;
use std::time::{Duration, Instant};

/// A small demo ledger in `dir`.
fn demo(dir: &Path) {
    ok(&["demo", "--data", p(dir), "--cases", "20", "--quiet"]);
}

/// Output to a full disk (`/dev/full` answers every write with ENOSPC) used to panic
/// ("failed printing to stdout", exit 101); now it is an error said in words (exit 1).
#[test]
fn output_that_cannot_be_written_is_an_error_in_words_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir);
    for args in [
        vec!["report", "--data", p(&dir)],
        vec!["case", "list", "--data", p(&dir), "--json"],
    ] {
        let o = bin()
            .args(&args)
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("cannot write the output") && err.contains("No space left on device"),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("internal fault") && !err.contains("panicked"),
            "{err}"
        );
    }
}

/// Kills `cmd` once `ready` holds (it is polled), and waits for it.
fn kill_when(mut cmd: std::process::Command, ready: impl Fn() -> bool) {
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !ready() {
        if child.try_wait().unwrap().is_some() {
            break; // finished before it could be cut short: the caller's assertions tell
        }
        assert!(started.elapsed() < Duration::from_secs(120), "never ready");
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// An import cut short (Ctrl-C, a kill) left a directory holding a valid-looking prefix
/// that `verify` called VERIFIED and `import` refused to overwrite. Now the store is
/// built aside: what is left holds no ledger, and the next import goes through.
#[test]
fn an_import_cut_short_leaves_no_ledger_and_the_next_one_goes_through() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("source");
    ok(&["demo", "--data", p(&source), "--quiet"]);
    let export = source.join("ledger.export");
    let copy = tmp.path().join("copy");
    let mut cmd = bin();
    cmd.args(["import", "--from", p(&export), "--data", p(&copy)]);
    let building = copy.join("store.importing");
    kill_when(cmd, || building.join("journal").exists());
    assert!(
        !copy.join("store").exists(),
        "an import cut short left a store"
    );
    let o = run(&["verify", p(&copy), "--quiet"]);
    assert!(!o.status.success(), "{}", text(&o));
    // The next import goes through, with the same node key.
    let out = ok(&["import", "--from", p(&export), "--data", p(&copy)]);
    assert!(out.contains("imported"), "{out}");
    assert!(!building.exists());
    let out = ok(&["verify", p(&copy), "--quiet"]);
    assert!(
        out.starts_with("TEST LEDGER") || out.contains("VERIFIED"),
        "{out}"
    );
}

/// A demo cut short left keys and a store in DIR, and running it again failed on the
/// existing key file. Now it is built beside DIR and moved in when done.
#[test]
fn a_demo_cut_short_leaves_nothing_in_its_directory_and_runs_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let partial = tmp.path().join("demo.demo-partial");
    let mut cmd = bin();
    cmd.args(["demo", "--data", p(&dir), "--quiet"]);
    kill_when(cmd, || partial.join("store").exists());
    assert!(!dir.exists(), "a demo cut short left {}", dir.display());
    demo(&dir);
    assert!(dir.join("node.vkey").exists() && !partial.exists());
    // A directory that holds something already is refused, in words.
    let o = run(&["demo", "--data", p(&dir), "--cases", "20", "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("exists and is not empty"), "{}", text(&o));
}

/// Files that are there already are not overwritten without a word; files written in
/// part leave nothing behind; an empty key file and a missing vkey file are named as such.
#[test]
fn existing_empty_and_missing_files_get_clear_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir);
    // export --out over an existing file: refused, the file as it was.
    let out = tmp.path().join("x.export");
    std::fs::write(&out, "mine").unwrap();
    let o = run(&["export", "--data", p(&dir), "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("exists already"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine");
    // event build --out likewise.
    let event = tmp.path().join("e.bin");
    std::fs::write(&event, "mine").unwrap();
    let o = run(&[
        "event",
        "build",
        p(&dir.join("tour/language-arrangement.toml")),
        "--data",
        p(&dir),
        "--out",
        p(&event),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("exists already"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&event).unwrap(), "mine");
    // An empty key file.
    let empty = tmp.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let o = run(&["pubkey", p(&empty)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("is empty"), "{}", text(&o));
    assert!(!text(&o).contains("PEM preamble"), "{}", text(&o));
    // A vkey file that is not there.
    let o = run(&["verify", p(&dir), "--node-key", "nosuch.vkey", "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("nosuch.vkey: no such file"),
        "{}",
        text(&o)
    );
}

/// `event build` signed and wrote an event the ledger would refuse, without a word. It
/// now asks the ledger (`--data` here; `--node`'s check endpoint in node.rs): exit 2 with
/// the refusal and nothing written, unless `--anyway`, which writes it and warns.
#[test]
fn event_build_says_when_the_ledger_would_refuse_the_event() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    demo(&dir);
    let uncertified = dir.join("tour/request-uncertified.json");
    let out = tmp.path().join("e.bin");
    let build = |extra: &[&str]| {
        let mut args = vec!["event", "build", p(&uncertified), "--out", p(&out)];
        args.extend_from_slice(extra);
        run(&args)
    };
    let o = build(&["--data", p(&dir)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("Art. 4.1(5)"), "{}", text(&o));
    assert!(text(&o).contains("would refuse"), "{}", text(&o));
    assert!(!out.exists(), "nothing written");
    // In the language asked for.
    let o = build(&["--data", p(&dir), "--lang", "ru"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("Ст. 4.1(5)"), "{}", text(&o));
    // --anyway writes it, with the warning.
    let o = build(&["--data", p(&dir), "--anyway"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("warning: the ledger would refuse"),
        "{}",
        text(&o)
    );
    assert!(out.exists());
    // An event the ledger takes is built without a word of warning.
    let fine = tmp.path().join("fine.bin");
    let o = run(&[
        "event",
        "build",
        p(&dir.join("tour/language-arrangement.toml")),
        "--data",
        p(&dir),
        "--out",
        p(&fine),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("would refuse"), "{}", text(&o));
}

/// `verify BUNDLE --as-of` past the bundle's end exited 0, showing the case at its end.
#[test]
fn a_bundle_asked_about_a_record_past_its_end_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir);
    let bundle = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "bundle"))
        .unwrap();
    let o = run(&["verify", p(&bundle), "--as-of", "999999", "--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("past the bundle's end"), "{}", text(&o));
}

/// `event show` of what is not a signed event answered in bincode's Debug text
/// (`UnexpectedVariant { type_name: "Option<T>" … }`, `UnexpectedEnd { additional: 1 }`).
#[test]
fn event_show_of_what_is_not_an_event_says_what_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir);
    let json = dir.join("tour/request-uncertified.json");
    let event = tmp.path().join("e.bin");
    ok(&[
        "event",
        "build",
        p(&dir.join("tour/language-arrangement.toml")),
        "--data",
        p(&dir),
        "--out",
        p(&event),
    ]);
    let bytes = std::fs::read(&event).unwrap();
    let cut = tmp.path().join("cut.bin");
    std::fs::write(&cut, &bytes[..bytes.len() - 1]).unwrap();
    let export = dir.join("ledger.export");
    for (file, says) in [
        (json.as_path(), "looks like an event file"),
        (export.as_path(), "it is a ledger export"),
        (cut.as_path(), "the bytes end early"),
    ] {
        let o = run(&["event", "show", p(file)]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let t = text(&o);
        assert!(t.contains(says), "{file:?}: {t}");
        assert!(
            !t.contains("UnexpectedEnd") && !t.contains("UnexpectedVariant") && !t.contains("{ "),
            "{t}"
        );
    }
}

/// `init` over a directory that holds a ledger was told its root key was wrong.
#[test]
fn init_over_a_ledger_says_so_first() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir);
    let genesis = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/genesis.toml");
    let o = run(&[
        "init",
        "--genesis",
        p(&genesis),
        "--root-key",
        p(&dir.join("keys/KZ-MFA.pem")),
        "--data",
        p(&dir),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("already holds a ledger"), "{}", text(&o));
    assert!(!text(&o).contains("root key"), "{}", text(&o));
}

/// `submit --node` said "nothing was written" when its last try was refused as
/// unavailable although an earlier try had been answered "may have landed" (the event had
/// landed, 2 of 2). A node that answers the first try so and every later one 503
/// `unavailable` must leave the clerk with "may have landed".
#[test]
fn a_submit_that_may_have_landed_once_never_ends_with_nothing_was_written() {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir);
    let vkey = std::fs::read_to_string(dir.join("node.vkey")).unwrap();
    let ledger = vkey
        .trim()
        .split('+')
        .next()
        .unwrap()
        .trim_start_matches("coopledger/")
        .to_owned();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let info = serde_json::json!({
        "ledger_id": ledger, "node_vkey": vkey.trim(), "genesis_node_vkey": vkey.trim(),
        "size": 10, "role": "leader", "test_ledger": true,
        "time_ms": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64,
    })
    .to_string();
    std::thread::spawn(move || {
        let mut appends = 0;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut length = 0;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let (status, answer) = if line.starts_with("GET /v1/info") {
                ("200 OK", info.clone())
            } else if line.starts_with("POST") {
                appends += 1;
                let error = if appends == 1 {
                    "may_have_landed"
                } else {
                    "unavailable"
                };
                (
                    "503 Service Unavailable",
                    serde_json::json!({ "error": error, "message": format!("{error} (test node)") })
                        .to_string(),
                )
            } else {
                (
                    "404 Not Found",
                    "{\"error\":\"not_found\",\"message\":\"no\"}".to_owned(),
                )
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    let o = run(&[
        "submit",
        "--node",
        &url,
        p(&dir.join("tour/language-arrangement.toml")),
        "--retry-for",
        "1",
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("the event may have landed"), "{t}");
    assert!(!t.contains("nothing was written: run"), "{t}");
}

/// Issue 30: `console` printed no verdict in the terminal, only its address.
#[test]
fn the_console_says_its_verdict_in_the_terminal() {
    use std::io::BufRead as _;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir);
    let mut child = bin()
        .args([
            "console",
            p(&dir.join("ledger.export")),
            "--listen",
            "127.0.0.1:0",
            "--quiet",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let mut second = String::new();
    out.read_line(&mut second).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.starts_with("VERIFIED ledger ")
            && first.contains("witnessed by both Parties up to record"),
        "{first}"
    );
    assert!(second.contains("http://127.0.0.1:"), "{second}");
}

/// Issue 30: `repair` on a healthy ledger moved its database aside as `sled.broken-*`
/// on every run.
#[test]
fn repair_leaves_a_healthy_ledger_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir);
    for _ in 0..2 {
        let out = ok(&["repair", "--data", p(&dir)]);
        assert!(out.contains("nothing to repair"), "{out}");
    }
    let aside = std::fs::read_dir(dir.join("store"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("sled.broken-"))
        })
        .count();
    assert_eq!(aside, 0);
    // Asked to, it rebuilds anyway.
    let out = ok(&["repair", "--data", p(&dir), "--force"]);
    assert!(
        out.contains("rebuilt the database from the journal"),
        "{out}"
    );
}
