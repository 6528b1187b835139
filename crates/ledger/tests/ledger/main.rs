//! The engine's integration tests, one binary: the engine end to end on a real (sled)
//! store, and the engine under deterministic storage faults.

// In test code a panic is a failed test, so indexing and expect are fine here.
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

mod engine;
mod faults;
