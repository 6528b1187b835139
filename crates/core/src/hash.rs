//! 32-byte blake3 hashes and the hash *roles*.
//!
//! Every hash we compute is `blake3(tag || input)` with a one-byte tag per role, so a
//! value hashed for one role can never be mistaken for another (a leaf for a node, a
//! record for an event). The tags are part of the format (docs/FORMAT.md, "Hash roles").

use subtle::ConstantTimeEq;

/// Tag bytes, one per hash role.
pub mod tag {
    /// Merkle leaf: `blake3(0x00 || record bytes)`.
    pub const LEAF: u8 = 0x00;
    /// Merkle interior node: `blake3(0x01 || left || right)`.
    pub const NODE: u8 = 0x01;
    /// Hash chain link: `blake3(0x02 || previous chain hash || leaf hash)`.
    pub const CHAIN: u8 = 0x02;
    /// Ledger id: `blake3(0x03 || genesis event body bytes)`.
    pub const LEDGER_ID: u8 = 0x03;
    /// Event hash (what causal links point at): `blake3(0x04 || event body bytes)`.
    pub const EVENT: u8 = 0x04;
    /// Governance chain link: `blake3(0x05 || previous governance head || seq (8 bytes,
    /// big-endian) || event hash)`, one per governance record (docs/FORMAT.md §6).
    pub const GOVERNANCE: u8 = 0x05;
}

/// A 32-byte hash. Equality is constant-time: hashes are compared against values an
/// attacker controls (proofs, checkpoints, records read back from disk).
#[derive(Clone, Copy, Default, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

crate::hex_serde!(Hash, 32, "Hash");

impl Hash {
    /// The all-zero value; it is the chain hash "before record 0".
    pub const ZERO: Hash = Hash([0; 32]);

    /// `blake3(tag || parts[0] || parts[1] || ...)`.
    pub fn tagged(tag: u8, parts: &[&[u8]]) -> Hash {
        let mut h = blake3::Hasher::new();
        h.update(&[tag]);
        for p in parts {
            h.update(p);
        }
        Hash(*h.finalize().as_bytes())
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, the form used in logs, file names and docs.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Hash, HashParseError> {
        crate::hexserde::decode_lower::<32>(s)
            .map(Hash)
            .ok_or(HashParseError)
    }

    /// Builds a hash from a slice that must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Hash, HashParseError> {
        <[u8; 32]>::try_from(bytes)
            .map(Hash)
            .map_err(|_| HashParseError)
    }
}

/// Text or bytes that are not a 32-byte hash. Refuse the input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a 32-byte hash (expected 64 lower-case hex digits, 0-9 a-f, or 32 bytes)")]
pub struct HashParseError;

impl PartialEq for Hash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for Hash {}

impl std::hash::Hash for Hash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl std::fmt::Display for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Merkle leaf hash of a record's canonical bytes.
pub fn leaf_hash(record_bytes: &[u8]) -> Hash {
    Hash::tagged(tag::LEAF, &[record_bytes])
}

/// Merkle interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash::tagged(tag::NODE, &[&left.0, &right.0])
}

/// Next link of the hash chain.
pub fn chain_hash(prev: &Hash, leaf: &Hash) -> Hash {
    Hash::tagged(tag::CHAIN, &[&prev.0, &leaf.0])
}

/// The governance head after the governance record at `seq` whose event hash is
/// `event_hash`, given the head before it (32 zero bytes before the genesis). Every record
/// states the head before it, so a copy that leaves out a governance record is caught at
/// the next record it keeps.
pub fn governance_link(prev: &Hash, seq: u64, event_hash: &Hash) -> Hash {
    Hash::tagged(
        tag::GOVERNANCE,
        &[&prev.0, &seq.to_be_bytes(), &event_hash.0],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_never_collide() {
        let x = [7u8; 64];
        let leaf = Hash::tagged(tag::LEAF, &[&x]);
        let node = Hash::tagged(tag::NODE, &[&x]);
        let chain = Hash::tagged(tag::CHAIN, &[&x]);
        let gov = Hash::tagged(tag::GOVERNANCE, &[&x]);
        assert_ne!(leaf, node);
        assert_ne!(node, chain);
        assert_ne!(leaf, chain);
        assert_ne!(gov, chain);
        assert_ne!(gov, leaf);
    }

    #[test]
    fn tagged_is_blake3_of_tag_then_input() {
        let mut input = vec![tag::NODE];
        input.extend_from_slice(&[1u8; 32]);
        input.extend_from_slice(&[2u8; 32]);
        assert_eq!(
            node_hash(&Hash([1; 32]), &Hash([2; 32])).0,
            *blake3::hash(&input).as_bytes()
        );
    }

    #[test]
    fn hex_round_trip_and_errors() -> Result<(), HashParseError> {
        let h = leaf_hash(b"x");
        assert_eq!(Hash::from_hex(&h.to_hex())?, h);
        assert_eq!(Hash::from_hex("abc"), Err(HashParseError));
        assert_eq!(Hash::from_slice(&[0; 31]), Err(HashParseError));
        Ok(())
    }
}
