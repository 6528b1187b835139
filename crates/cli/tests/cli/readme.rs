//! The README's tour, run as written — as clap and cargo run their docs with trycmd. Every
//! ```console block of README.md is a list of `$ ` commands (a line ending in `\` goes on
//! on the next), each followed by what it prints. They run in order with `sh`, in one new
//! directory, with the built `coopledger` first on PATH. What each prints (standard
//! output and error, interleaved as a terminal shows them) must match the README, where
//! `[..]` stands for any text within a line and `...` on a line of its own for any lines
//! (snapbox's syntax). `? N` right after a command is its exit code (0 when absent). A
//! command ending in `&` runs in the background until the tour ends; within a minute it
//! must have printed what the README shows under it.

// In test code a panic is a failed test.
use snapbox::IntoData as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Step {
    line: usize,
    cmd: String,
    code: i32,
    expected: String,
}

/// The commands of every ```console block, in order.
fn steps(readme: &str) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    let mut inside = false;
    let mut lines = readme.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        if !inside {
            inside = line.trim_end() == "```console";
            continue;
        }
        if line.trim_end() == "```" {
            inside = false;
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            let mut cmd = cmd.to_owned();
            while cmd.ends_with('\\') {
                cmd.pop();
                match lines.next() {
                    Some((_, more)) => cmd.push_str(more.trim_start()),
                    None => break,
                }
            }
            let mut code = 0;
            if let Some((_, l)) = lines.peek()
                && let Some(c) = l.strip_prefix("? ")
            {
                code = c.trim().parse().expect("an exit code after `? `");
                lines.next();
            }
            out.push(Step {
                line: n + 1,
                cmd,
                code,
                expected: String::new(),
            });
        } else if let Some(step) = out.last_mut() {
            step.expected.push_str(line);
            step.expected.push('\n');
        }
    }
    out
}

fn shell(cmd: &str, dir: &Path, path: &str) -> Command {
    let mut c = Command::new("sh");
    // Standard error joins standard output, in the order they are written.
    c.arg("-c")
        .arg(format!("exec 2>&1\n{cmd}"))
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("COOPLEDGER_PASSPHRASE")
        .env_remove("COOPLEDGER_DATA")
        .env_remove("COOPLEDGER_LOG_FORMAT")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    c
}

fn matches(step: &Step, expected: &str, actual: &str) -> Result<(), String> {
    snapbox::Assert::new()
        .try_eq(
            Some(&format!("README.md:{}: $ {}", step.line, step.cmd)),
            actual.to_owned().into_data(),
            expected.to_owned().into_data(),
        )
        .map_err(|e| e.to_string())
}

/// Background processes, stopped (SIGTERM, then SIGKILL) when the tour ends.
struct Background(Vec<Child>);

impl Drop for Background {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for c in &mut self.0 {
            while Instant::now() < deadline && matches!(c.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn the_readme_tour_runs_as_written() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let steps = steps(&readme);
    assert!(steps.len() >= 14, "the tour has {} commands", steps.len());
    let tmp = tempfile::tempdir().unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_coopledger"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut background = Background(Vec::new());
    for step in &steps {
        if let Some(cmd) = step.cmd.trim_end().strip_suffix('&') {
            let log = tmp.path().join(format!("background-{}.log", step.line));
            let child = shell(&format!("exec {cmd}"), tmp.path(), &path)
                .stdout(std::fs::File::create(&log).unwrap())
                .stdin(Stdio::null())
                .spawn()
                .unwrap();
            background.0.push(child);
            // What it prints first; it goes on printing afterwards.
            let expected = match step.expected.ends_with("...\n") {
                true => step.expected.clone(),
                false => format!("{}...\n", step.expected),
            };
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let actual = std::fs::read_to_string(&log).unwrap_or_default();
                match matches(step, &expected, &actual) {
                    Ok(()) => break,
                    Err(e) if Instant::now() > deadline => panic!("{e}"),
                    Err(_) => std::thread::sleep(Duration::from_millis(100)),
                }
            }
            continue;
        }
        let o = shell(&step.cmd, tmp.path(), &path)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let actual = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(step.code),
            "README.md:{}: $ {}\n{actual}",
            step.line,
            step.cmd
        );
        if let Err(e) = matches(step, &step.expected, &actual) {
            panic!("{e}");
        }
    }
}
