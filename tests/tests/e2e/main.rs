//! coopledger's end-to-end tests, in one test binary: each module drives real processes.

// In test code a panic is a failed test, so indexing and expect are fine here.
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

mod crash;
mod fixture;
mod keys_openssl;
mod tamper;
