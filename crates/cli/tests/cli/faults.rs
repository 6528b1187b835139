//! Storage faults through the real binary (issue 10): I/O errors injected with libfiu's
//! `fiu-run` (Debian `fiu-utils`) while a ledger opens, appends and reads; a full
//! filesystem (tmpfs); readers racing a node that is killed; retries that must land once.
//!
//! What is checked each time, once the fault is gone: 0 ledgers lost (the directory opens
//! and verifies), 0 acknowledged records lost, and every event exactly once.
//!
//! `COOP_FAULT_RUNS` sets the runs per fault kind (default 12, as in CI; the long runs in
//! docs/OPERATIONS.md use 500), `COOP_READER_CRASH_ROUNDS` the kills of the
//! reader-vs-crash test (default 6).

use crate::support::{agreement_file, bin, exe, p, text};
use coop_core::event::{Author, EVENT_FORMAT_VERSION, EventBody};
use coop_core::{AuthorityId, EventId, LedgerId, SecretKey, SignedEvent, Timestamp};
use coop_node::{Client, ClientError};
use coop_treaty::Payload;
use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// `coopledger args…` under `fiu-run` with the given fault specs (`-c` commands).
fn under_fiu(faults: &[&str], args: &[&str]) -> Command {
    let found = Command::new("fiu-run")
        .arg("-h")
        .output()
        .is_ok_and(|o| !o.stdout.is_empty() || !o.stderr.is_empty());
    assert!(
        found,
        "this system test needs `fiu-run`: install Debian's fiu-utils (apt-get install fiu-utils); .ci/run installs it"
    );
    let mut c = Command::new("fiu-run");
    c.arg("-x");
    for f in faults {
        c.args(["-c", f]);
    }
    c.arg(exe()).args(args);
    c.env_remove("COOPLEDGER_PASSPHRASE")
        .env_remove("COOPLEDGER_DATA")
        .env_remove("COOPLEDGER_MIN_FREE_MIB");
    c
}

fn runs() -> usize {
    std::env::var("COOP_FAULT_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}

/// Runs `cmd`, killing it (and failing the test) if it has not finished in `limit`: a
/// hang is a defect, not a slow test.
fn output_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!("hung for over {limit:?}; killed\n{}", text(&o));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn demo(dir: &Path, cases: &str) {
    // A small reserve: the full-disk test runs the demo on a small filesystem.
    let o = bin()
        .args([
            "demo",
            "--data",
            p(dir),
            "--cases",
            cases,
            "--quiet",
            "--min-free-mib",
            "8",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

/// `coopledger verify DIR --json`, which must verify: (size, root). The faults are what
/// is tested here, not the witnesses: a demo cut short may hold no witnessed checkpoint,
/// so the node's word is accepted (docs/adr/0026).
fn verified(dir: &Path) -> (u64, String) {
    let o = bin()
        .args(["verify", p(dir), "--json", "--quiet", "--accept-node-word"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "the ledger does not verify\n{}",
        text(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verified"], true);
    (
        v["size"].as_u64().unwrap(),
        v["root"].as_str().unwrap().to_owned(),
    )
}

/// Opens the ledger through sled (an export replays it) and returns its record count.
fn opens(dir: &Path, out: &Path) -> u64 {
    // An export never writes over a file (issue 30): each opening exports afresh.
    let _ = std::fs::remove_file(out);
    let o = output_within(
        {
            let mut c = bin();
            c.args(["export", "--data", p(dir), "--out", p(out)]);
            c
        },
        Duration::from_secs(120),
    );
    assert!(o.status.success(), "the ledger does not open\n{}", text(&o));
    let s = String::from_utf8_lossy(&o.stdout).to_string();
    s.split("exported ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no record count in {s}"))
}

/// The seq and event id a successful `submit` printed.
fn receipt_of(o: &Output) -> (u64, String) {
    let out = String::from_utf8_lossy(&o.stdout);
    let seq = out
        .split("appended at record ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no receipt in\n{}", text(o)));
    let id = out
        .split("event id")
        .nth(1)
        .map(|r| r.trim_start().chars().take(32).collect())
        .unwrap_or_else(|| panic!("no event id in\n{}", text(o)));
    (seq, id)
}

// ---------------------------------------------------------------------------------------

/// Issue 10, finding 1: read errors while opening (sled's recovery took a failed read
/// for a torn write and zeroed its data file). Now: every run either opens or stops with
/// a clear error, and afterwards the ledger opens and verifies with every record.
#[test]
fn read_errors_while_opening_never_lose_a_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir, "20");
    let (size, root) = verified(&dir);
    let out = tmp.path().join("x.export");
    let faults = [
        "enable_random name=posix/io/rw/pread,probability=0.05",
        "enable_random name=posix/io/rw/read,probability=0.02",
    ];
    let (mut failed, mut opened) = (0, 0);
    for run in 0..runs() {
        let f = faults[run % faults.len()];
        let _ = std::fs::remove_file(&out); // an export never writes over a file
        let o = output_within(
            under_fiu(&[f], &["export", "--data", p(&dir), "--out", p(&out)]),
            Duration::from_secs(120),
        );
        if o.status.success() {
            opened += 1;
        } else {
            failed += 1;
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                err.contains("error") && !err.contains("panicked"),
                "run {run}: not a clear error\n{}",
                text(&o)
            );
        }
        // The fault gone: the same ledger, whole.
        assert_eq!(verified(&dir), (size, root.clone()), "run {run} ({f})");
        if run % 3 == 2 {
            assert_eq!(opens(&dir, &out), size, "run {run} ({f})");
        }
    }
    eprintln!("read faults: {opened} runs opened, {failed} stopped cleanly, 0 ledgers lost");
    // A fault test that met no fault tested nothing (fiu-run injecting nothing would
    // otherwise pass it).
    assert!(
        failed > 0,
        "no run met a read error: fiu-run injected nothing"
    );
    assert_eq!(opens(&dir, &out), size);
    // Rebuilds keep at most two damaged databases aside.
    let kept = std::fs::read_dir(dir.join("store"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("sled.broken-")
        })
        .count();
    assert!(kept <= 2, "{kept} damaged databases kept");
}

/// Write and sync errors while appending (findings 1, 3 and 7): a submission that
/// printed a receipt is never lost; one that failed says whether it may have landed;
/// running the same command again (the fault gone) lands it exactly once, with the first
/// receipt if it had landed.
#[test]
fn write_and_sync_errors_while_appending_lose_nothing_and_retries_land_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir, "20");
    let (start, _) = verified(&dir);
    let key = dir.join("keys/TM-MVD.pem");
    let faults = [
        "enable_random name=posix/io/rw/pwrite,probability=0.03",
        "enable_random name=posix/io/sync/fdatasync,probability=0.15",
        "enable_random name=posix/io/sync/fsync,probability=0.05",
    ];
    let n = runs();
    let mut acked: BTreeMap<usize, (u64, String)> = BTreeMap::new();
    let mut may_have_landed = 0;
    for i in 0..n {
        let file = agreement_file(tmp.path(), &format!("e{i}.toml"), &format!("crime {i}"));
        let o = output_within(
            under_fiu(
                &faults,
                &["submit", "--data", p(&dir), p(&file), "--key", p(&key)],
            ),
            Duration::from_secs(120),
        );
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        if o.status.success() {
            acked.insert(i, receipt_of(&o));
        } else if err.contains("may have landed") {
            may_have_landed += 1;
        } else if o.status.code() == Some(1) {
            assert!(
                err.contains("nothing was written")
                    || err.contains("nothing was sent")
                    || err.contains("nothing was changed"),
                "run {i}: a failure that says neither that nothing was written nor that it may have landed\n{}",
                text(&o)
            );
        }
        // Anything else is a crash inside sled (it panics on some I/O errors): the
        // checks below show it lost nothing.
    }
    // The faults gone: each file again, once. Every event lands exactly once; an
    // acknowledged one keeps its first receipt.
    let mut seqs = std::collections::BTreeSet::new();
    for i in 0..n {
        let file = tmp.path().join(format!("e{i}.toml"));
        let o = output_within(
            {
                let mut c = bin();
                c.args(["submit", "--data", p(&dir), p(&file), "--key", p(&key)]);
                c
            },
            Duration::from_secs(120),
        );
        assert!(o.status.success(), "retry {i}\n{}", text(&o));
        let r = receipt_of(&o);
        if let Some(first) = acked.get(&i) {
            assert_eq!(&r, first, "retry {i} did not return the first receipt");
        }
        assert!(seqs.insert(r.0), "two events at record {}", r.0);
    }
    let (size, _) = verified(&dir);
    assert_eq!(
        size,
        start + n as u64,
        "an event landed twice or not at all"
    );
    eprintln!(
        "write faults: {} of {n} acknowledged under faults, {may_have_landed} said they may have landed; after retries {n} events, each once, 0 lost",
        acked.len()
    );
    assert!(
        acked.len() < n,
        "every submission was acknowledged under the faults: fiu-run injected nothing"
    );
}

/// Finding 3: resubmitting the same file returns the first receipt (it used to be
/// refused, the CLI filling in a fresh id, time and case each run), locally and through
/// a node; a changed file is a new event.
#[test]
fn the_same_file_submitted_twice_gives_one_record_and_the_first_receipt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir, "20");
    let key = dir.join("keys/TM-MVD.pem");
    let (start, _) = verified(&dir);
    let submit = |file: &Path| {
        let o = bin()
            .args(["submit", "--data", p(&dir), p(file), "--key", p(&key)])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        // The event id is shown before the first try.
        assert!(String::from_utf8_lossy(&o.stderr).contains("event "));
        receipt_of(&o)
    };
    let file = agreement_file(tmp.path(), "a.toml", "crime A");
    let first = submit(&file);
    assert_eq!(submit(&file), first);
    assert_eq!(verified(&dir).0, start + 1);
    // Through a node, with the same file: the same receipt again.
    let mut node = Proc::serve(&dir, &[]);
    let o = bin()
        .args([
            "submit",
            "--node",
            &node.url,
            p(&file),
            "--key",
            p(&key),
            "--retry-for",
            "0",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(receipt_of(&o), first);
    // A changed file is another event.
    let file = agreement_file(tmp.path(), "a.toml", "crime A, amended");
    let o = bin()
        .args([
            "submit",
            "--node",
            &node.url,
            p(&file),
            "--key",
            p(&key),
            "--retry-for",
            "0",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_ne!(receipt_of(&o).1, first.1);
    node.stop();
    assert_eq!(verified(&dir).0, start + 2);
}

// ---------------------------------------------------------------------------------------
// A node.

/// A running `coopledger serve`, stopped on drop.
struct Proc {
    child: Child,
    url: String,
}

impl Proc {
    fn start(mut cmd: Command) -> Proc {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(out).lines();
        let url = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(rest) = line.split("listening on ").nth(1) {
                        break rest.trim().to_owned();
                    }
                }
                _ => {
                    let status = child.wait().unwrap();
                    panic!("the node stopped before listening ({status})");
                }
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Proc { child, url }
    }

    fn serve_cmd(dir: &Path, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = ["serve", "--data", p(dir), "--listen", "127.0.0.1:0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if !extra.contains(&"--checkpoint-secs") {
            args.extend(["--checkpoint-secs".to_owned(), "0.2".to_owned()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    fn serve(dir: &Path, extra: &[&str]) -> Proc {
        let mut c = bin();
        c.args(Proc::serve_cmd(dir, extra));
        Proc::start(c)
    }

    fn serve_under_fiu(dir: &Path, faults: &[&str]) -> Proc {
        let args = Proc::serve_cmd(dir, &[]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Proc::start(under_fiu(faults, &args))
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the node did not stop within 20 s of SIGTERM");
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn load_key(dir: &Path, name: &str) -> SecretKey {
    let pem = std::fs::read_to_string(dir.join("keys").join(format!("{name}.pem"))).unwrap();
    SecretKey::from_pem(&pem, None).unwrap()
}

/// A signed language-arrangement proposal by TM-MVD to KZ-MVD (Art. 4.2), an event the
/// demo's ledger takes also after its termination; each has a random event id.
fn agreement(ledger: LedgerId, key: &SecretKey, _n: u64) -> SignedEvent {
    let payload = Payload::LanguageArrangementProposed {
        with: AuthorityId::new("KZ-MVD").unwrap(),
        languages: vec![coop_treaty::Language::Ru],
    };
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).unwrap();
    let body = EventBody {
        version: EVENT_FORMAT_VERSION,
        ledger_id: Some(ledger),
        event_id: EventId(id),
        author: Author {
            authority: AuthorityId::new("TM-MVD").unwrap(),
            key: key.public(),
        },
        authored_at: Timestamp(now_ms()),
        case: None,
        answers: vec![],
        payload: payload.to_bytes().unwrap(),
    };
    SignedEvent::sign(body, key).unwrap()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn ledger_of(url: &str) -> LedgerId {
    let info = Client::new(url, None, None).unwrap().info().unwrap();
    LedgerId(info.ledger_id.unwrap())
}

fn reader(url: &str, dir: &Path) -> Client {
    Client::new(
        url,
        Some((
            AuthorityId::new("KZ-AUDIT").unwrap(),
            Arc::new(load_key(dir, "KZ-AUDIT")),
        )),
        None,
    )
    .unwrap()
}

/// Every record of the node at `url`: seq → (leaf, bytes).
fn all_records(url: &str, dir: &Path) -> BTreeMap<u64, (String, String)> {
    let c = reader(url, dir);
    let mut out = BTreeMap::new();
    let mut from = 0;
    loop {
        let page = c.records(from, 1000).unwrap();
        for r in page.records {
            out.insert(r.seq, (r.leaf.to_hex(), r.bytes));
        }
        match page.next {
            Some(n) if n > from => from = n,
            _ => return out,
        }
    }
}

/// Finding 2: readers were shown records that were not durable yet, and were gone after
/// a crash. Now a node is killed (SIGKILL) while clients append and a reader reads
/// `/v1/info` and `/v1/records`; after the restart, every record the reader was shown is
/// there, byte for byte, and no size it was shown is larger than the ledger's.
#[test]
fn no_record_shown_to_a_reader_is_missing_after_a_crash() {
    let rounds: usize = std::env::var("COOP_READER_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir, "20");
    let author = Arc::new(load_key(&dir, "TM-MVD"));
    let mut shown_total = 0usize;
    let mut seed = 0x5eed_u64;
    for round in 0..rounds {
        let mut node = Proc::serve(&dir, &[]);
        let url = node.url.clone();
        let ledger = ledger_of(&url);
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for w in 0..3u64 {
            let (url, stop, author) = (url.clone(), stop.clone(), author.clone());
            writers.push(std::thread::spawn(move || {
                let c = Client::new(&url, None, None).unwrap();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let _ = c.submit(&agreement(ledger, &author, w * 1_000_000 + n));
                    n += 1;
                }
            }));
        }
        let shown = {
            let (url, stop, dir) = (url.clone(), stop.clone(), dir.clone());
            std::thread::spawn(move || {
                let c = reader(&url, &dir);
                let mut shown: BTreeMap<u64, (String, String)> = BTreeMap::new();
                let mut sizes = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(i) = c.info() {
                        sizes = sizes.max(i.size);
                    }
                    let from = shown.keys().next_back().map_or(0, |s| s + 1);
                    if let Ok(page) = c.records(from, 500) {
                        for r in page.records {
                            shown.insert(r.seq, (r.leaf.to_hex(), r.bytes));
                        }
                    }
                }
                (shown, sizes)
            })
        };
        // Let it run, then kill it mid-append.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(300 + seed % 700));
        node.kill9();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        let (shown, max_size) = shown.join().unwrap();
        let mut node = Proc::serve(&dir, &[]);
        let now = all_records(&node.url, &dir);
        let size = now.len() as u64;
        assert!(
            max_size <= size,
            "round {round}: a reader was shown size {max_size}; after the restart the ledger has {size}"
        );
        for (seq, r) in &shown {
            assert_eq!(
                now.get(seq),
                Some(r),
                "round {round}: record {seq} was shown to a reader and is gone or different after the crash"
            );
        }
        shown_total += shown.len();
        node.stop();
    }
    eprintln!("reader vs crash: {rounds} kills, {shown_total} records shown, 0 missing");
    assert!(
        shown_total > 0,
        "no record was shown to a reader before the kills: the race was never run"
    );
    verified(&dir);
}

/// Finding 3: a retry after a dropped connection (the node killed while 2,000 appends
/// are in flight) lands once and gets the first receipt.
#[test]
fn a_retry_after_a_dropped_connection_lands_once_with_the_first_receipt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir, "20");
    let author = load_key(&dir, "TM-MVD");
    let (start, _) = verified(&dir);

    // Dropped connections: many submissions in flight when the node is killed.
    let mut node = Proc::serve(&dir, &[]);
    let ledger = ledger_of(&node.url);
    let events: Vec<SignedEvent> = (0..2000).map(|n| agreement(ledger, &author, n)).collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let answers: Vec<Option<coop_core::Receipt>> = std::thread::scope(|s| {
        let url = node.url.clone();
        let handles: Vec<_> = events
            .chunks(500)
            .map(|chunk| {
                let (url, done) = (url.clone(), &done);
                s.spawn(move || {
                    let c = Client::new(&url, None, None).unwrap();
                    chunk
                        .iter()
                        .map(|e| {
                            let r = c.submit(e).ok();
                            done.fetch_add(1, Ordering::Relaxed);
                            r
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        while done.load(Ordering::Relaxed) < 100 {
            std::thread::sleep(Duration::from_millis(2));
        }
        node.kill9();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let answered = answers.iter().filter(|a| a.is_some()).count();
    assert!(
        answered < events.len(),
        "the kill came too late to test anything"
    );
    let node = Proc::serve(&dir, &[]);
    let c = Client::new(&node.url, None, None).unwrap();
    let node_key = coop_core::checkpoint::NoteVerifier::from_vkey(&c.info().unwrap().node_vkey)
        .unwrap()
        .key;
    for (e, first) in events.iter().zip(&answers) {
        let r = c.submit(e).unwrap();
        if let Some(first) = first {
            assert!(
                r.same_record(first),
                "a retry did not return the first receipt's record"
            );
            coop_node::client::check_receipt(&r, e, &node_key).unwrap();
        }
    }
    // Stopped cleanly: its last checkpoint covers everything, so the next start has
    // nothing to write before the first append.
    let mut node = node;
    node.stop();
    assert_eq!(
        verified(&dir).0,
        start + events.len() as u64,
        "after the retries, an event is missing or twice"
    );
}

/// Findings 2 and 7: an fsync that fails. The append is answered 503 "may have landed"
/// (not "nothing was written"); a reader is never shown the record whose fsync failed;
/// the node goes on serving reads and says it is failed (`/healthz` 503, the metric);
/// after a restart the retry lands once.
#[test]
fn a_failed_fsync_is_a_503_that_may_have_landed_and_is_never_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir, "20");
    let author = load_key(&dir, "TM-MVD");
    let ledger = {
        let mut node = Proc::serve(&dir, &[]);
        let l = ledger_of(&node.url);
        node.stop();
        l
    };
    // Every fdatasync fails. The append is answered 503 "may have landed"; the
    // node goes on serving reads, says it is failed, and answers storage faults as 5xx.
    let before = verified(&dir).0;
    let node = Proc::serve_under_fiu(&dir, &["enable name=posix/io/sync/fdatasync"]);
    let c = Client::new(&node.url, None, None).unwrap();
    let e = agreement(ledger, &author, 999_999);
    match c.submit(&e) {
        Err(ClientError::Http {
            status,
            error,
            message,
        }) => {
            assert_eq!(status, 503, "{error}: {message}");
            assert_eq!(error, "may_have_landed", "{message}");
            assert!(message.contains("same event id"), "{message}");
        }
        other => panic!("expected 503 may_have_landed, got {other:?}"),
    }
    // Another event now: 503, nothing written, restart needed.
    match c.submit(&agreement(ledger, &author, 1_000_000)) {
        Err(ClientError::Http {
            status: 503,
            message,
            ..
        }) => {
            assert!(message.contains("restart"), "{message}")
        }
        other => panic!("expected 503, got {other:?}"),
    }
    let http = |path: &str| {
        let r = reqwest::blocking::get(format!("{}{path}", node.url)).unwrap();
        let status = r.status().as_u16();
        format!("{}\n{status}", r.text().unwrap())
    };
    let health = http("/healthz");
    assert!(health.ends_with("503"), "{health}");
    assert!(health.contains("storage_failed"), "{health}");
    let metrics = http("/metrics");
    assert!(metrics.contains("coopledger_storage_failed 1"), "{metrics}");
    // Reads go on, and show only what is durable.
    let info = c.info().unwrap();
    assert_eq!(info.size, before);
    let shown = all_records(&node.url, &dir);
    assert_eq!(shown.len() as u64, before);
    drop(node);
    // Restarted without the fault: the retry lands once (or returns the first receipt).
    let node = Proc::serve(&dir, &[]);
    let c = Client::new(&node.url, None, None).unwrap();
    let r1 = c.submit(&e).unwrap();
    let r2 = c.submit(&e).unwrap();
    assert!(r1.same_record(&r2), "{r1:?}\n{r2:?}");
    drop(node);
    let after = verified(&dir).0;
    assert_eq!(after, before + 1);
}

/// Finding 5: a tail left uncovered by a crash is checkpointed when the ledger opens, and
/// the last records of a burst soon after it ends.
#[test]
fn an_uncovered_tail_is_checkpointed_on_open_and_after_a_short_idle() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir, "20");
    let author = load_key(&dir, "TM-MVD");
    // Long intervals: only the idle rule can checkpoint quickly.
    let mut node = Proc::serve(&dir, &["--checkpoint-secs", "3600"]);
    let ledger = ledger_of(&node.url);
    let c = Client::new(&node.url, None, None).unwrap();
    let r = reader(&node.url, &dir);
    for n in 0..20 {
        c.submit(&agreement(ledger, &author, n)).unwrap();
    }
    let size = c.info().unwrap().size;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let cp = r.latest_checkpoint().unwrap().unwrap();
        if cp.size == size {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint of the burst's end within 10 s of idle"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // More records, then a crash before any checkpoint covers them.
    for n in 20..30 {
        c.submit(&agreement(ledger, &author, n)).unwrap();
    }
    node.kill9();
    let size = size + 10;
    // On open, before any traffic.
    let node = Proc::serve(&dir, &["--checkpoint-secs", "3600"]);
    let r = reader(&node.url, &dir);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if r.latest_checkpoint().unwrap().unwrap().size == size {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the uncovered tail was not checkpointed on open"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(node);
    let v = bin()
        .args(["verify", p(&dir), "--json", "--quiet", "--accept-node-word"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(v["uncovered_records"], 0);
}

/// A small filesystem of its own (tmpfs), unmounted on drop.
struct Tmpfs {
    path: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(mib: u64) -> Tmpfs {
        let parent = tempfile::tempdir().unwrap();
        let path = parent.path().join("fs");
        std::fs::create_dir(&path).unwrap();
        let o = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={mib}m"),
                "tmpfs",
                p(&path),
            ])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "cannot mount a tmpfs: this system test needs root and `mount` (Debian's mount, as in CI): {}",
            text(&o)
        );
        Tmpfs {
            path,
            _parent: parent,
        }
    }

    /// Fills the filesystem with a file until `leave` bytes are free.
    fn fill(&self, leave: u64) -> PathBuf {
        let filler = self.path.join("filler");
        let free = rustix::fs::statvfs(&self.path).unwrap();
        let free = free.f_bavail * free.f_frsize;
        let size = free.saturating_sub(leave);
        let o = Command::new("fallocate")
            .args(["-l", &size.to_string(), p(&filler)])
            .output()
            .unwrap();
        if !o.status.success() {
            // tmpfs without fallocate support: write zeros.
            let f = std::fs::File::create(&filler).unwrap();
            let _ = std::io::Write::write_all(
                &mut std::io::BufWriter::new(f),
                &vec![0u8; usize::try_from(size).unwrap()],
            );
        }
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").args(["-l", p(&self.path)]).status();
    }
}

/// Finding 4: a full disk hung the CLI (inside sled, on close). Now: with the reserve
/// kept free, an append is refused at once ("storage full", exit 1, HTTP 503) with
/// nothing written and no hang; a node keeps serving reads and appends again once space
/// is freed; a disk run truly full (no reserve) gives an error, never a hang, and loses
/// nothing acknowledged.
#[test]
fn a_full_disk_is_a_clear_error_never_a_hang_and_appends_resume() {
    let fs = Tmpfs::mount(48);
    let dir = fs.path.join("ledger");
    demo(&dir, "20");
    let key = dir.join("keys/TM-MVD.pem");
    let (start, _) = verified(&dir);
    let events = tempfile::tempdir().unwrap();
    let submit = |name: &str, reserve: &str| {
        let file = events.path().join(name);
        if !file.exists() {
            agreement_file(events.path(), name, name);
        }
        output_within(
            {
                let mut c = bin();
                c.args([
                    "--min-free-mib",
                    reserve,
                    "submit",
                    "--data",
                    p(&dir),
                    p(&file),
                    "--key",
                    p(&key),
                ]);
                c
            },
            Duration::from_secs(60),
        )
    };
    // Leave 2 MiB: below the 8 MiB reserve.
    let filler = fs.fill(2 << 20);
    let o = submit("a.toml", "8");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("storage full"), "{}", text(&o));
    assert!(err.contains("nothing was written"), "{}", text(&o));
    assert_eq!(verified(&dir).0, start);

    // A node on the full disk: 503 storage_full, reads go on.
    let node = Proc::serve(&dir, &["--min-free-mib", "8"]);
    let author = load_key(&dir, "TM-MVD");
    let ledger = ledger_of(&node.url);
    let c = Client::new(&node.url, None, None).unwrap();
    let e = agreement(ledger, &author, 1);
    match c.submit(&e) {
        Err(ClientError::Http { status, error, .. }) => {
            assert_eq!((status, error.as_str()), (503, "storage_full"))
        }
        other => panic!("expected 503 storage_full, got {other:?}"),
    }
    assert_eq!(c.info().unwrap().size, start);
    assert_eq!(all_records(&node.url, &dir).len() as u64, start);
    // Space freed: the same node appends again, without a restart.
    std::fs::remove_file(&filler).unwrap();
    let r = c.submit(&e).unwrap();
    assert_eq!(r.seq, start);
    drop(node);
    let o = submit("a.toml", "8");
    assert!(o.status.success(), "{}", text(&o));
    let acked = start + 2;
    assert_eq!(verified(&dir).0, acked);

    // No reserve, and a disk truly full: an error or a crash inside sled, never a hang;
    // nothing acknowledged is lost, and the ledger opens and verifies once space is freed.
    let filler = fs.fill(0);
    let mut acknowledged = Vec::new();
    for i in 0..4 {
        let o = submit(&format!("full{i}.toml"), "0");
        if o.status.success() {
            acknowledged.push(receipt_of(&o));
        }
    }
    std::fs::remove_file(&filler).unwrap();
    for i in 0..4 {
        let o = submit(&format!("full{i}.toml"), "8");
        assert!(o.status.success(), "{}", text(&o));
    }
    let (size, _) = verified(&dir);
    assert_eq!(size, acked + 4, "an event was lost or landed twice");
    eprintln!(
        "full disk: refused with the reserve, no hang without it ({} of 4 acknowledged), 0 lost",
        acknowledged.len()
    );
}

/// Read errors while a node serves: every read is answered with the right data or a
/// 5xx (never wrong data, never a 4xx blaming the client), and once the fault is gone
/// the ledger is whole. (sled serves a small ledger from its page cache, so few of these
/// reads reach the disk: the read errors that matter most are those while opening,
/// above.)
#[test]
fn read_errors_while_serving_are_5xx_never_wrong_data() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    demo(&dir, "20");
    let (size, root) = verified(&dir);
    let truth = {
        let mut node = Proc::serve(&dir, &[]);
        let all = all_records(&node.url, &dir);
        node.stop();
        all
    };
    assert_eq!(truth.len() as u64, size);
    // Started cleanly under fiu-run, then the fault is switched on in the running node
    // (fiu-ctrl): every read from disk fails now and then.
    let mut node = Proc::serve_under_fiu(&dir, &[]);
    let on = Command::new("fiu-ctrl")
        .args([
            "-c",
            // Half of the reads from disk fail: sled serves pages it has read from its
            // own cache, so only the first reads of a cold node reach the disk, and a
            // low rate could let them all through (the fault would not have fired).
            "enable_random name=posix/io/rw/pread,probability=0.5",
            &node.child.id().to_string(),
        ])
        .output()
        .unwrap();
    assert!(on.status.success(), "fiu-ctrl: {}", text(&on));
    let c = reader(&node.url, &dir);
    let (mut answered, mut failed) = (0, 0);
    // Reads answered right after the first fault: the node lived through one.
    let mut answered_after_fault = 0;
    for round in 0..runs() * 4 {
        let from = (round as u64 * 37) % size;
        match c.records(from, 50) {
            Ok(page) => {
                for r in page.records {
                    assert_eq!(
                        truth.get(&r.seq),
                        Some(&(r.leaf.to_hex(), r.bytes.clone())),
                        "record {} served wrong under read errors",
                        r.seq
                    );
                }
                answered += 1;
                if failed > 0 {
                    answered_after_fault += 1;
                }
            }
            Err(ClientError::Http { status, .. }) => {
                assert!(status >= 500, "a read error answered {status}");
                failed += 1;
            }
            Err(ClientError::Transport(_)) => failed += 1, // the node died of it (sled panics)
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    // The fault switched off: the same node, still running, serves every record right.
    let off = Command::new("fiu-ctrl")
        .args([
            "-c",
            "disable name=posix/io/rw/pread",
            &node.child.id().to_string(),
        ])
        .output()
        .unwrap();
    assert!(off.status.success(), "fiu-ctrl: {}", text(&off));
    let mut from = 0;
    while from < size {
        let page = c
            .records(from, 50)
            .unwrap_or_else(|e| panic!("after the read errors the node does not serve: {e}"));
        for r in &page.records {
            assert_eq!(
                truth.get(&r.seq),
                Some(&(r.leaf.to_hex(), r.bytes.clone())),
                "record {} served wrong after read errors",
                r.seq
            );
        }
        from += page.records.len().max(1) as u64;
        answered_after_fault += 1;
    }
    node.kill9();
    eprintln!(
        "reads under read errors: {answered} answered right, {failed} failed with 5xx or a dropped connection; then every record right"
    );
    assert!(failed > 0, "no read met an error: fiu-ctrl enabled nothing");
    assert!(
        answered_after_fault > 0,
        "the node answered nothing after its first read error (it died of it)"
    );
    assert_eq!(verified(&dir), (size, root));
}
