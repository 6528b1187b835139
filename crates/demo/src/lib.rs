//! coop-demo: the demo's story as a library, shared by `coopledger demo` and the
//! benchmark programs.
//!
//! - [`cast`]: both Parties' roots, three competent authorities each, an auditor and a
//!   witness per Party, with their keys;
//! - [`scenario`]: a case script for every kind of cooperation the Agreement knows,
//!   built and signed the way an agency's own system would ([`coop_treaty::Draft`]);
//! - [`drive`]: the closed-loop concurrent submission — many submitters, each driving
//!   its cases step by step and waiting for receipts — with its latencies.
//!
//! The key decision: no printing and no files here. The CLI tells the story (and keeps
//! the ledger directory); the benchmarks time it. Both run the same cases through the
//! same driver, so what the demo shows is what the benchmark measures.

pub mod cast;
pub mod drive;
pub mod scenario;

pub use cast::Cast;
pub use drive::{Run, SubmitGroup, drive, in_process, pct};
pub use scenario::{Actor, CaseBuilder, Kind, Pair, doc};
