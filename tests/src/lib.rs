//! coop-tests: end-to-end tests that run coopledger's real binaries as separate
//! processes. The library part holds what the child processes and the tests share.

/// How often the crash child writes a checkpoint (records), so reopening checks only the
/// tail, as a real node does.
pub const CHECKPOINT_EVERY: u64 = 256;

/// Batch size the crash child uses for the batch that starts at event `n`: 1 to 16,
/// varied so kills land inside batches of every size.
pub fn batch_size(n: u64) -> u64 {
    (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) + 1
}
