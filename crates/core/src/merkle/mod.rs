//! RFC 6962 / RFC 9162 Merkle tree, generic over the hash function.
//!
//! The tree is never held in memory. Storage supplies the hashes of *perfect* subtrees
//! through [`NodeReader`] (node `(level, index)` covers leaves
//! `[index·2^level, (index+1)·2^level)`); proof generation combines them, and proof
//! verification is a pure function of the proof. [`Frontier`] keeps the right edge of the
//! tree so a writer can append leaves and learn the root without reading anything.

mod frontier;
mod hasher;
mod proof;
mod tail;

pub use frontier::Frontier;
pub use hasher::{Blake3Hasher, MerkleHasher, Sha256Hasher};
pub use proof::{
    ProofError, consistency_proof, inclusion_proof, root_at, verify_consistency, verify_inclusion,
};
pub use tail::WithTail;

/// Source of perfect-subtree hashes, implemented by storage.
pub trait NodeReader<D> {
    /// Error of the underlying storage.
    type Error;
    /// Hash of the perfect subtree at `level` (0 = leaves) and `index`. Only asked for
    /// nodes whose leaves all exist.
    fn node(&self, level: u8, index: u64) -> Result<D, Self::Error>;
}

/// Largest power of two strictly smaller than `n` (n ≥ 2): RFC 6962's split point `k`.
pub(crate) fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}
