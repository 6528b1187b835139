use crate::hash::{self, Hash};
use sha2::Digest as _;

/// The hash function of a Merkle tree. Interior nodes are `H(0x01 || l || r)`; leaves are
/// hashed by the caller (for coopledger: `blake3(0x00 || record)`).
pub trait MerkleHasher {
    /// A node hash.
    type Digest: Clone + PartialEq + std::fmt::Debug;
    /// Root of the empty tree.
    fn empty_root() -> Self::Digest;
    /// Interior node.
    fn node(left: &Self::Digest, right: &Self::Digest) -> Self::Digest;
    /// Whether a value given as a leaf hash has the right form (length). Proof
    /// verification refuses a malformed leaf hash outright.
    fn well_formed(_d: &Self::Digest) -> bool {
        true
    }
}

/// coopledger's tree: blake3 with one-byte role tags. Empty root = `blake3("")`, by
/// analogy with RFC 6962's `SHA-256("")`.
#[derive(Debug, Clone, Copy)]
pub struct Blake3Hasher;

impl MerkleHasher for Blake3Hasher {
    type Digest = Hash;
    fn empty_root() -> Hash {
        Hash(*blake3::hash(b"").as_bytes())
    }
    fn node(left: &Hash, right: &Hash) -> Hash {
        hash::node_hash(left, right)
    }
}

/// The RFC 6962 tree itself (SHA-256), so the public reference vectors test our tree
/// code. Digests are byte vectors because the reference vectors include values of the
/// wrong length that must be handled, not rejected at parse time.
#[derive(Debug, Clone, Copy)]
pub struct Sha256Hasher;

impl Sha256Hasher {
    /// RFC 6962 leaf hash: `SHA-256(0x00 || data)`.
    pub fn leaf(data: &[u8]) -> Vec<u8> {
        let mut h = sha2::Sha256::new();
        h.update([0u8]);
        h.update(data);
        h.finalize().to_vec()
    }
}

impl MerkleHasher for Sha256Hasher {
    type Digest = Vec<u8>;
    fn empty_root() -> Vec<u8> {
        sha2::Sha256::digest(b"").to_vec()
    }
    fn node(left: &Vec<u8>, right: &Vec<u8>) -> Vec<u8> {
        let mut h = sha2::Sha256::new();
        h.update([1u8]);
        h.update(left);
        h.update(right);
        h.finalize().to_vec()
    }
    fn well_formed(d: &Vec<u8>) -> bool {
        d.len() == 32
    }
}
