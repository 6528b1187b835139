//! The command line as a shell user meets it: output piped into `head`, mistyped
//! commands and values, and logs. Each test runs the real binary.

// In test code a panic is a failed test.
use crate::support::{bin, p, text};
use std::io::Read as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::Stdio;

fn demo(dir: &Path) {
    let o = bin()
        .args(["demo", "--data", p(dir), "--cases", "40", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

/// `coopledger ARGS | head -c 10`: the reader goes away early.
fn into_head(args: &[&str], read_first: bool) -> (std::process::ExitStatus, String) {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Either `head -c 10` (the output is larger than a pipe holds) or a reader that
    // closes before the first byte: both make the next write fail with EPIPE.
    let mut out = child.stdout.take().unwrap();
    if read_first {
        let mut first = [0u8; 10];
        out.read_exact(&mut first).unwrap();
    }
    drop(out);
    let o = child.wait_with_output().unwrap();
    (o.status, String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Finding: `case list --json | head` and `report | head` panicked on the broken pipe
/// (exit 101). They now end as other Unix tools do: quietly, by SIGPIPE.
#[test]
fn output_piped_into_head_ends_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("ledger");
    demo(&d);
    for args in [
        vec![
            "case",
            "list",
            "--data",
            p(&d),
            "--json",
            "--limit",
            "100000",
        ],
        vec!["report", "--data", p(&d)],
        vec!["report", "--data", p(&d), "--format", "markdown"],
        vec!["case", "list", "--data", p(&d), "--limit", "100000"],
    ] {
        let (status, stderr) = into_head(&args, args.contains(&"--json"));
        assert!(
            !stderr.contains("panicked") && status.code() != Some(101),
            "{args:?}: {status:?}\n{stderr}"
        );
        assert!(
            status.success() || status.signal() == Some(13),
            "{args:?} ended by {status:?}\n{stderr}"
        );
    }
}

/// Finding: usage errors exited 2, the code the docs keep for refusals under the
/// Agreement; unknown filter values gave empty lists.
#[test]
fn usage_errors_have_their_own_code_and_unknown_filter_values_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("ledger");
    demo(&d);
    for args in [
        vec!["case", "list", "--data", p(&d), "--status", "bogus"],
        vec!["case", "list", "--data", p(&d), "--category", "bogus"],
        vec!["no-such-command"],
        vec!["case", "list", "--data", p(&d), "--no-such-flag"],
        vec!["report", "--data", p(&d), "--format", "pdf"],
        vec!["case"],
    ] {
        let o = bin().args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(64), "{args:?}\n{}", text(&o));
        assert!(o.stdout.is_empty(), "{args:?}\n{}", text(&o));
    }
    let o = bin()
        .args(["case", "list", "--data", p(&d), "--status", "bogus"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("partly-refused"), "{err}");
    // Known values still filter; help and version still succeed.
    let o = bin()
        .args([
            "case",
            "list",
            "--data",
            p(&d),
            "--status",
            "open",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let open: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        open["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "open"),
        "{open}"
    );
    for args in [
        vec!["--help"],
        vec!["--version"],
        vec!["case", "list", "--help"],
    ] {
        let o = bin().args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}\n{}", text(&o));
    }
}

/// Logs: RUST_LOG is the filter, `--log-format json` gives one JSON object per line, and
/// no colour codes go into a file.
#[test]
fn logs_follow_rust_log_and_never_colour_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("ledger");
    demo(&d);
    let o = bin()
        .env("RUST_LOG", "debug")
        .args(["case", "list", "--data", p(&d)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("DEBUG"), "RUST_LOG=debug logs nothing:\n{err}");
    assert!(!err.contains('\u{1b}'), "colour codes in a file:\n{err}");
    let o = bin()
        .env("RUST_LOG", "debug")
        .args(["--log-format", "json", "case", "list", "--data", p(&d)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with('{')).collect();
    assert!(!lines.is_empty(), "{err}");
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert!(v["level"].is_string(), "{l}");
    }
}

/// Finding 6: `export` and `import` showed no progress. Away from a terminal they now
/// print a line per tenth (a bar on a terminal).
#[test]
fn export_and_import_show_progress() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("ledger");
    demo(&d);
    let export = tmp.path().join("l.export");
    let o = bin()
        .args(["export", "--data", p(&d), "--out", p(&export)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with("exporting: ") && l.ends_with(" records")),
        "{err}"
    );
    let o = bin()
        .args([
            "import",
            "--from",
            p(&export),
            "--data",
            p(&tmp.path().join("copy")),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let len = std::fs::metadata(&export).unwrap().len();
    assert!(
        err.contains(&format!("importing: {len}/{len} bytes")),
        "{err}"
    );
}
