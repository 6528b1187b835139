//! Records: a signed event as sequenced by the node, and the hash chain over them.

use crate::encoding::{self, DecodeError, EncodeError};
use crate::event::SignedEvent;
use crate::hash::{self, Hash};
use crate::ids::Timestamp;
use serde::{Deserialize, Serialize};

/// The chain hash "before record 0": 32 zero bytes.
pub const CHAIN_SEED: Hash = Hash::ZERO;

/// What the sequencer adds to a signed event. `leaf = blake3(0x00 || record bytes)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Position in the ledger, from 0, without gaps.
    pub seq: u64,
    /// Chain hash of record `seq - 1` ([`CHAIN_SEED`] for record 0).
    pub prev_chain: Hash,
    /// The node's clock when it accepted the event. Never earlier than the record
    /// before (a rule of the treaty, checked wherever records are judged).
    pub received_at: Timestamp,
    /// The governance head before this record: the link
    /// ([`crate::hash::governance_link`]) of the last governance record before it, or 32
    /// zero bytes. Which payloads are governance is the treaty's to say; it checks this
    /// field, so that any copy of the ledger that leaves out a governance record, such as
    /// an evidence bundle, is caught at the next record it keeps.
    pub governance: Hash,
    /// The author's signed event.
    pub event: SignedEvent,
}

/// A record with its canonical bytes and the two hashes derived from them, computed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedRecord {
    /// The record.
    pub record: Record,
    /// Its canonical bytes (what is stored and what the leaf hash covers).
    pub bytes: Vec<u8>,
    /// `blake3(0x00 || bytes)`.
    pub leaf: Hash,
    /// `blake3(0x02 || prev_chain || leaf)`.
    pub chain: Hash,
}

/// A record that does not link where it should.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LinkError {
    /// Bytes are not a canonical record. The store or file is corrupt at this seq.
    #[error("record {seq}: not a canonical record: {source}")]
    Decode {
        /// Position where it was found.
        seq: u64,
        /// Why.
        source: DecodeError,
    },
    /// The record cannot be encoded (too large). Refuse it.
    #[error("record cannot be encoded: {0}")]
    Encode(#[from] EncodeError),
    /// The record's `seq` is not the expected one (gap, duplicate or reorder).
    #[error("record at position {expected} says it is seq {found}")]
    WrongSeq {
        /// The position.
        expected: u64,
        /// What the record says.
        found: u64,
    },
    /// `prev_chain` does not equal the chain hash of the previous record.
    #[error("record {seq}: previous chain hash is {found}, but the chain before it is {expected}")]
    BrokenChain {
        /// The record.
        seq: u64,
        /// Chain hash of `seq - 1`.
        expected: String,
        /// What the record carries.
        found: String,
    },
}

impl Record {
    /// Canonical bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        encoding::encode(self)
    }

    /// Encodes and hashes the record.
    pub fn seal(self) -> Result<SealedRecord, EncodeError> {
        let bytes = self.to_bytes()?;
        let leaf = hash::leaf_hash(&bytes);
        let chain = hash::chain_hash(&self.prev_chain, &leaf);
        Ok(SealedRecord {
            record: self,
            bytes,
            leaf,
            chain,
        })
    }
}

impl SealedRecord {
    /// Strictly decodes stored bytes found at position `seq`, and hashes them.
    pub fn from_bytes(seq: u64, bytes: Vec<u8>) -> Result<SealedRecord, LinkError> {
        let record: Record =
            encoding::decode(&bytes).map_err(|source| LinkError::Decode { seq, source })?;
        let leaf = hash::leaf_hash(&bytes);
        let chain = hash::chain_hash(&record.prev_chain, &leaf);
        Ok(SealedRecord {
            record,
            bytes,
            leaf,
            chain,
        })
    }

    /// The canonical bytes of the event's body, sliced out of the record's bytes rather
    /// than encoded again. A record is `seq || prev_chain || received_at || governance ||
    /// body || signature` with no framing (docs/FORMAT.md §6), the signature is its last
    /// 64 bytes, and a `SealedRecord` holds bytes that decoded canonically, so the slice
    /// is exactly `body.to_bytes()` (a unit test holds this).
    pub fn body_bytes(&self) -> Result<&[u8], EncodeError> {
        let head = encoding::encode(&(
            self.record.seq,
            self.record.prev_chain,
            self.record.received_at,
            self.record.governance,
        ))?
        .len();
        let end = self.bytes.len().saturating_sub(64);
        self.bytes
            .get(head..end)
            .ok_or_else(|| EncodeError::from_message("record shorter than its fixed fields"))
    }

    /// Checks that this record sits at `seq` right after a record whose chain hash is
    /// `prev_chain`.
    pub fn check_link(&self, seq: u64, prev_chain: &Hash) -> Result<(), LinkError> {
        if self.record.seq != seq {
            return Err(LinkError::WrongSeq {
                expected: seq,
                found: self.record.seq,
            });
        }
        if self.record.prev_chain != *prev_chain {
            return Err(LinkError::BrokenChain {
                seq,
                expected: prev_chain.to_hex(),
                found: self.record.prev_chain.to_hex(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::body;
    use crate::ids::LedgerId;
    use crate::keys::SecretKey;

    fn rec(seq: u64, prev: Hash) -> Result<SealedRecord, Box<dyn std::error::Error>> {
        let sk = SecretKey::from_seed(&[1; 32]);
        let ev = SignedEvent::sign(body(Some(LedgerId(Hash([7; 32]))), &sk, seq as u8), &sk)?;
        Ok(Record {
            seq,
            prev_chain: prev,
            received_at: Timestamp(5),
            governance: Hash::ZERO,
            event: ev,
        }
        .seal()?)
    }

    #[test]
    fn chain_links() -> Result<(), Box<dyn std::error::Error>> {
        let r0 = rec(0, CHAIN_SEED)?;
        let r1 = rec(1, r0.chain)?;
        r0.check_link(0, &CHAIN_SEED)?;
        r1.check_link(1, &r0.chain)?;
        assert!(matches!(
            r1.check_link(1, &CHAIN_SEED),
            Err(LinkError::BrokenChain { seq: 1, .. })
        ));
        assert!(matches!(
            r1.check_link(2, &r0.chain),
            Err(LinkError::WrongSeq {
                expected: 2,
                found: 1
            })
        ));
        let again = SealedRecord::from_bytes(1, r1.bytes.clone())?;
        assert_eq!(again, r1);
        Ok(())
    }

    #[test]
    fn body_bytes_are_the_body_encoding() -> Result<(), Box<dyn std::error::Error>> {
        // Small and large varints in seq and time, so the head's length varies.
        for (seq, t) in [
            (0u64, 0u64),
            (250, 251),
            (70_000, 1 << 40),
            (u64::MAX >> 1, u64::MAX),
        ] {
            let sk = SecretKey::from_seed(&[2; 32]);
            let ev = SignedEvent::sign(body(Some(LedgerId(Hash([7; 32]))), &sk, 3), &sk)?;
            let r = Record {
                seq,
                prev_chain: Hash([1; 32]),
                received_at: Timestamp(t),
                governance: Hash([2; 32]),
                event: ev,
            }
            .seal()?;
            let sealed = SealedRecord::from_bytes(seq, r.bytes.clone())?;
            assert_eq!(
                sealed.body_bytes()?,
                sealed.record.event.body.to_bytes()?.as_slice()
            );
        }
        Ok(())
    }
}
