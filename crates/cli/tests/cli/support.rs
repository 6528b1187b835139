//! What every test of the `coopledger` binary shares: the binary with a clean
//! environment, running it, its output in words, paths as arguments, and the check that
//! a system test's outside tool is there.

use std::path::Path;
use std::process::{Command, Output};

/// The binary under test.
pub fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_coopledger")
}

/// `coopledger`, with none of the variables a developer's shell may set for it (a
/// passphrase, a default directory, a disk reserve, a log filter).
pub fn bin() -> Command {
    let mut c = Command::new(exe());
    c.env_remove("COOPLEDGER_PASSPHRASE")
        .env_remove("COOPLEDGER_DATA")
        .env_remove("COOPLEDGER_MIN_FREE_MIB")
        .env_remove("RUST_LOG");
    c
}

/// `coopledger args…`, run to its end.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run coopledger")
}

/// An output in words, for a failed assertion.
pub fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `coopledger args…`, which must succeed: its standard output.
pub fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "coopledger {args:?} failed:\n{}",
        text(&o)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `coopledger args…`, which must succeed and print JSON.
pub fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(args)).expect("JSON output")
}

/// An event file for `submit`: TM-MVD proposes a language arrangement to KZ-MVD (Art.
/// 4.2), a valid event as often as wanted, also on the demo's ledger after the
/// termination it ends with.
pub fn agreement_file(dir: &Path, name: &str, description: &str) -> std::path::PathBuf {
    let f = dir.join(name);
    std::fs::write(
        &f,
        format!(
            "# {description}\nsigner = \"TM-MVD\"\n[payload.LanguageArrangementProposed]\nwith = \"KZ-MVD\"\nlanguages = [\"Ru\"]\n"
        ),
    )
    .expect("write an event file");
    f
}

/// A path as an argument.
pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A system test's outside program: present, or the test fails naming the Debian
/// package that provides it (never a silent skip; `.ci/run` installs them all).
#[cfg(feature = "system-tests")]
pub fn require(program: &str, package: &str) {
    let found = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty());
    assert!(
        found,
        "this system test needs `{program}`: install Debian's {package} (apt-get install {package}); .ci/run installs it"
    );
}
