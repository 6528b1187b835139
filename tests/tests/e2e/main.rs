//! coopledger's end-to-end tests, in one test binary: each module drives real processes.

mod crash;
