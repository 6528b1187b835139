//! The `coopledger` binary end to end, one test binary (they live in the binary's own
//! package to find it). The default tier needs only the Rust toolchain (and `openssl`,
//! `python3` for two interop checks): every command, a node and a follower on 127.0.0.1,
//! the README's tour. The system tier (`--features coop-cli/system-tests`; docs/
//! ARCHITECTURE.md, "Testing") adds what needs outside tools or root: the console in
//! headless Chromium, storage faults through libfiu's `fiu-run`, a full tmpfs, real
//! kills under load; asked for and missing a tool, a test fails naming its package.

// In test code a panic is a failed test, so indexing and expect are fine here.
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

mod commands;
mod node;
mod readme;
mod rough;
mod shell;
mod support;
mod time;

#[cfg(feature = "system-tests")]
mod console;
#[cfg(feature = "system-tests")]
mod faults;
