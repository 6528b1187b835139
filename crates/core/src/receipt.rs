//! The node's receipt for an appended event (FORMAT.md §12, receipt v2, ADR 0018): the
//! record as sequenced (the event's position and the fields the node added), a checkpoint
//! the node signed once the record was durable, and the record's inclusion proof in that
//! checkpoint's tree. One signature serves a whole group commit; a few hashes prove the
//! one record. A receipt is a *proof*, not a statement: whoever holds the event and the
//! node's key can rebuild the record's leaf, walk the proof to the signed root, and so
//! show that this exact event sits at this position of the ledger the node signed — and
//! any later checkpoint of that ledger must extend it (a consistency proof), or the two
//! signed checkpoints prove the node forked its history.

use crate::checkpoint::{Checkpoint, CheckpointError, NoteVerifier, verify_checkpoint};
use crate::event::SignedEvent;
use crate::hash::{self, Hash};
use crate::ids::{EventId, LedgerId, Timestamp};
use crate::keys::PublicKey;
use crate::merkle::{Blake3Hasher, verify_inclusion};
use crate::record::Record;
use serde::{Deserialize, Serialize};

/// The receipt format this code writes and reads (FORMAT.md §12).
pub const RECEIPT_FORMAT: &str = "coopledger/receipt/v2";

/// Where an event landed, and the proof that it is in the ledger the node signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Always [`RECEIPT_FORMAT`]: a receipt of another format is refused, not misread.
    pub format: String,
    /// The ledger.
    pub ledger_id: LedgerId,
    /// The record's seq.
    pub seq: u64,
    /// The event's id.
    pub event_id: EventId,
    /// The event hash (`blake3(0x04 || body)`).
    pub event_hash: Hash,
    /// The record's `prev_chain` (FORMAT.md §6).
    pub prev_chain: Hash,
    /// The record's `received_at`.
    pub received_at: Timestamp,
    /// The record's `governance` head.
    pub governance: Hash,
    /// The record's Merkle leaf hash (`blake3(0x00 || record bytes)`).
    pub leaf: Hash,
    /// The chain hash after the record (`blake3(0x02 || prev_chain || leaf)`).
    pub chain: Hash,
    /// A checkpoint (signed note, FORMAT.md §8) the node signed after the record was
    /// durable; its tree includes the record.
    pub checkpoint: String,
    /// The record's inclusion proof in the checkpoint's tree (RFC 9162 §2.1.3, leaf end
    /// first).
    pub proof: Vec<Hash>,
}

/// Why a receipt does not prove what it claims. Do not rely on it: ask the node again,
/// and keep the receipt as evidence if the node signed it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReceiptError {
    /// The receipt is of a format this code does not read. Upgrade the client.
    #[error("receipt format {0:?}, but this client reads {RECEIPT_FORMAT:?}")]
    Format(String),
    /// The checkpoint is not signed by the node key given, or is malformed.
    #[error("the receipt's checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The checkpoint is of another ledger than the receipt names.
    #[error("the receipt is for ledger {receipt}, its checkpoint for {checkpoint}")]
    Ledger {
        /// What the receipt says.
        receipt: String,
        /// What the checkpoint says.
        checkpoint: String,
    },
    /// The checkpoint's tree does not reach the record.
    #[error("the checkpoint covers {size} records, not record {seq}")]
    NotCovered {
        /// The record.
        seq: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The stated chain hash is not `blake3(0x02 || prev_chain || leaf)`, or the last
    /// record's chain is not the checkpoint's chain head.
    #[error("the receipt's chain hash does not follow from its record")]
    Chain,
    /// The inclusion proof does not lead from the leaf to the checkpoint's root.
    #[error("the inclusion proof does not lead to the checkpoint's root: {0}")]
    Inclusion(&'static str),
    /// The receipt is for another event than the one given, or its leaf is not the
    /// record of that event at that position.
    #[error("the receipt is not for this event: {0}")]
    OtherEvent(&'static str),
    /// The event cannot be encoded (it could not have been appended).
    #[error("the event cannot be encoded: {0}")]
    Encode(String),
}

impl Receipt {
    /// The checkpoint, verified with the node's key: the ledger's and the receipt's
    /// origins must agree, and the checkpoint must cover the record, whose proof must
    /// lead to its root. Does not look at the event (see [`Receipt::verify_event`]).
    pub fn verify(&self, node: &PublicKey) -> Result<Checkpoint, ReceiptError> {
        let verifier = crate::checkpoint::node_verifier(&self.ledger_id, *node);
        self.verify_with(&verifier)
    }

    /// [`Receipt::verify`] with the node's checkpoint verifier already made.
    pub fn verify_with(&self, node: &NoteVerifier) -> Result<Checkpoint, ReceiptError> {
        if self.format != RECEIPT_FORMAT {
            return Err(ReceiptError::Format(self.format.clone()));
        }
        let cp = verify_checkpoint(&self.checkpoint, node, &[])?.checkpoint;
        self.check_in(&cp)?;
        Ok(cp)
    }

    /// Everything but the checkpoint's signature: the receipt is of this format, `cp`
    /// (already verified, from [`Receipt::checkpoint`]) is of the receipt's ledger and
    /// covers the record, the chain hash follows from the record, and the proof leads
    /// from the leaf to `cp`'s root.
    pub fn check_in(&self, cp: &Checkpoint) -> Result<(), ReceiptError> {
        if self.format != RECEIPT_FORMAT {
            return Err(ReceiptError::Format(self.format.clone()));
        }
        if cp.ledger_id != self.ledger_id {
            return Err(ReceiptError::Ledger {
                receipt: self.ledger_id.to_string(),
                checkpoint: cp.ledger_id.to_string(),
            });
        }
        if self.seq >= cp.size {
            return Err(ReceiptError::NotCovered {
                seq: self.seq,
                size: cp.size,
            });
        }
        if hash::chain_hash(&self.prev_chain, &self.leaf) != self.chain
            || (self.seq + 1 == cp.size && cp.chain_head != self.chain)
        {
            return Err(ReceiptError::Chain);
        }
        verify_inclusion::<Blake3Hasher>(self.seq, cp.size, &self.leaf, &self.proof, &cp.root)
            .map_err(|e| match e {
                crate::merkle::ProofError::Invalid(m)
                | crate::merkle::ProofError::BadRequest(m) => ReceiptError::Inclusion(m),
                crate::merkle::ProofError::Storage(never) => match never {},
            })
    }

    /// [`Receipt::verify_with`], and that the receipt is for `event`
    /// ([`Receipt::check_event`]). Then the event itself is in the ledger the node signed.
    pub fn verify_event(
        &self,
        node: &NoteVerifier,
        event: &SignedEvent,
    ) -> Result<Checkpoint, ReceiptError> {
        let cp = self.verify_with(node)?;
        self.check_event(event)?;
        Ok(cp)
    }

    /// That the receipt is for `event`: its id and event hash are the event's, and the
    /// record rebuilt from the event and the fields the node added hashes to the leaf
    /// the proof starts from.
    pub fn check_event(&self, event: &SignedEvent) -> Result<(), ReceiptError> {
        if event.body.event_id != self.event_id {
            return Err(ReceiptError::OtherEvent("another event id"));
        }
        let hash = event
            .event_hash()
            .map_err(|e| ReceiptError::Encode(e.to_string()))?;
        if hash != self.event_hash {
            return Err(ReceiptError::OtherEvent("another event hash"));
        }
        let record = Record {
            seq: self.seq,
            prev_chain: self.prev_chain,
            received_at: self.received_at,
            governance: self.governance,
            event: event.clone(),
        }
        .seal()
        .map_err(|e| ReceiptError::Encode(e.to_string()))?;
        if record.leaf != self.leaf {
            return Err(ReceiptError::OtherEvent(
                "the record of this event at this position has another leaf",
            ));
        }
        Ok(())
    }

    /// The same record, proven perhaps in another checkpoint: what a retry of the same
    /// event must get back.
    pub fn same_record(&self, other: &Receipt) -> bool {
        (
            &self.ledger_id,
            self.seq,
            &self.event_id,
            &self.event_hash,
            &self.leaf,
            &self.chain,
        ) == (
            &other.ledger_id,
            other.seq,
            &other.event_id,
            &other.event_hash,
            &other.leaf,
            &other.chain,
        )
    }
}

/// Checks many receipts of one node, verifying each distinct checkpoint's signature once
/// (the receipts of one group commit share theirs).
#[derive(Debug)]
pub struct ReceiptChecker {
    node: PublicKey,
    /// The last checkpoints verified, by note text; cleared when full.
    verified: std::collections::HashMap<String, Checkpoint>,
}

impl ReceiptChecker {
    /// A checker for receipts of the node whose key is `node`.
    pub fn new(node: PublicKey) -> ReceiptChecker {
        ReceiptChecker {
            node,
            verified: std::collections::HashMap::new(),
        }
    }

    /// [`Receipt::verify_event`] (`event` given) or [`Receipt::verify`].
    pub fn check(
        &mut self,
        receipt: &Receipt,
        event: Option<&SignedEvent>,
    ) -> Result<Checkpoint, ReceiptError> {
        let cp = match self.verified.get(&receipt.checkpoint) {
            Some(cp) => cp.clone(),
            None => {
                let v = crate::checkpoint::node_verifier(&receipt.ledger_id, self.node);
                let cp = verify_checkpoint(&receipt.checkpoint, &v, &[])?.checkpoint;
                if self.verified.len() >= 64 {
                    self.verified.clear();
                }
                self.verified.insert(receipt.checkpoint.clone(), cp.clone());
                cp
            }
        };
        receipt.check_in(&cp)?;
        if let Some(e) = event {
            receipt.check_event(e)?;
        }
        Ok(cp)
    }
}

/// Domain-separation prefix of a v1 receipt's signature.
pub const RECEIPT_V1_CONTEXT: &[u8] = b"coopledger/receipt/v1";

/// Receipt v1 (FORMAT.md §12): the node's Ed25519 signature over where an event landed.
/// Still what `POST /v1/events` and `POST /v1/events:batch` answer, since a v1 client
/// reads exactly these fields (API.md, "Views and versions"); `/v2` answers [`Receipt`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptV1 {
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
    /// Node signature over [`ReceiptV1::signing_message`].
    pub signature: crate::keys::Signature,
}

impl ReceiptV1 {
    /// `"coopledger/receipt/v1" || ledger id || seq (8 bytes, big-endian) || event id ||
    /// event hash || leaf || chain`.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(RECEIPT_V1_CONTEXT.len() + 32 + 8 + 16 + 96);
        m.extend_from_slice(RECEIPT_V1_CONTEXT);
        m.extend_from_slice(self.ledger_id.0.as_bytes());
        m.extend_from_slice(&self.seq.to_be_bytes());
        m.extend_from_slice(&self.event_id.0);
        m.extend_from_slice(self.event_hash.as_bytes());
        m.extend_from_slice(self.leaf.as_bytes());
        m.extend_from_slice(self.chain.as_bytes());
        m
    }

    /// The v1 receipt of the record `r` proves, signed by the node.
    pub fn sign(r: &Receipt, node: &crate::keys::SecretKey) -> ReceiptV1 {
        let mut v1 = ReceiptV1 {
            ledger_id: r.ledger_id,
            seq: r.seq,
            event_id: r.event_id,
            event_hash: r.event_hash,
            leaf: r.leaf,
            chain: r.chain,
            signature: crate::keys::Signature([0; 64]),
        };
        v1.signature = node.sign(&v1.signing_message());
        v1
    }

    /// Verifies the node's signature strictly.
    pub fn verify(&self, node: &PublicKey) -> Result<(), crate::keys::KeyError> {
        node.checked()?
            .verify(&self.signing_message(), &self.signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;

    #[test]
    fn a_v1_receipt_signs_and_verifies_and_a_changed_field_does_not() {
        let node = SecretKey::from_seed(&[9; 32]);
        let r = Receipt {
            format: RECEIPT_FORMAT.into(),
            ledger_id: LedgerId(Hash([1; 32])),
            seq: 7,
            event_id: EventId([2; 16]),
            event_hash: Hash([3; 32]),
            prev_chain: Hash([6; 32]),
            received_at: Timestamp(1),
            governance: Hash([0; 32]),
            leaf: Hash([4; 32]),
            chain: Hash([5; 32]),
            checkpoint: String::new(),
            proof: vec![],
        };
        let v1 = ReceiptV1::sign(&r, &node);
        assert_eq!(v1.verify(&node.public()), Ok(()));
        let mut forged = v1.clone();
        forged.seq = 8;
        assert!(forged.verify(&node.public()).is_err());
        assert!(v1.verify(&SecretKey::from_seed(&[8; 32]).public()).is_err());
    }
}
