//! The node's signed receipt for an appended event: proof, signed by the node, of where
//! the event landed. A submitter keeps it; with a later checkpoint and an inclusion proof
//! it can show the event is in the ledger.

use crate::hash::Hash;
use crate::ids::{EventId, LedgerId};
use crate::keys::{CheckedKey, KeyError, PublicKey, SecretKey, Signature};
use serde::{Deserialize, Serialize};

/// Domain-separation prefix of receipt signatures.
pub const RECEIPT_SIGNATURE_CONTEXT: &[u8] = b"coopledger/receipt/v1";

/// Where an event landed, signed by the node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Receipt {
    /// The ledger.
    pub ledger_id: LedgerId,
    /// The record's seq.
    pub seq: u64,
    /// The event's id.
    pub event_id: EventId,
    /// The event hash (`blake3(0x04 || body)`).
    pub event_hash: Hash,
    /// The record's Merkle leaf hash.
    pub leaf: Hash,
    /// The chain hash after the record.
    pub chain: Hash,
    /// Node signature over [`Receipt::signing_message`].
    pub signature: Signature,
}

impl Receipt {
    /// `"coopledger/receipt/v1" || ledger id || seq (8 bytes, big-endian) || event id ||
    /// event hash || leaf || chain`.
    pub fn signing_message(
        ledger_id: &LedgerId,
        seq: u64,
        event_id: &EventId,
        event_hash: &Hash,
        leaf: &Hash,
        chain: &Hash,
    ) -> Vec<u8> {
        let mut m = Vec::with_capacity(RECEIPT_SIGNATURE_CONTEXT.len() + 32 + 8 + 16 + 96);
        m.extend_from_slice(RECEIPT_SIGNATURE_CONTEXT);
        m.extend_from_slice(ledger_id.0.as_bytes());
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(&event_id.0);
        m.extend_from_slice(event_hash.as_bytes());
        m.extend_from_slice(leaf.as_bytes());
        m.extend_from_slice(chain.as_bytes());
        m
    }

    /// Makes and signs a receipt.
    pub fn sign(
        ledger_id: LedgerId,
        seq: u64,
        event_id: EventId,
        event_hash: Hash,
        leaf: Hash,
        chain: Hash,
        node: &SecretKey,
    ) -> Receipt {
        let signature = node.sign(&Self::signing_message(
            &ledger_id,
            seq,
            &event_id,
            &event_hash,
            &leaf,
            &chain,
        ));
        Receipt {
            ledger_id,
            seq,
            event_id,
            event_hash,
            leaf,
            chain,
            signature,
        }
    }

    /// Verifies the node's signature strictly.
    pub fn verify(&self, node: &PublicKey) -> Result<(), KeyError> {
        self.verify_with(&node.checked()?)
    }

    /// [`Receipt::verify`] with the node's key already checked (a client checking many
    /// receipts of one node).
    pub fn verify_with(&self, node: &CheckedKey) -> Result<(), KeyError> {
        node.verify(
            &Self::signing_message(
                &self.ledger_id,
                self.seq,
                &self.event_id,
                &self.event_hash,
                &self.leaf,
                &self.chain,
            ),
            &self.signature,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_signs_and_verifies() {
        let node = SecretKey::from_seed(&[9; 32]);
        let r = Receipt::sign(
            LedgerId(Hash([1; 32])),
            7,
            EventId([2; 16]),
            Hash([3; 32]),
            Hash([4; 32]),
            Hash([5; 32]),
            &node,
        );
        assert_eq!(r.verify(&node.public()), Ok(()));
        let mut forged = r.clone();
        forged.seq = 8;
        assert!(forged.verify(&node.public()).is_err());
        assert!(r.verify(&SecretKey::from_seed(&[8; 32]).public()).is_err());
    }
}
