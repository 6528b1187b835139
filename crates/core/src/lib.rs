//! coop-core: the bytes and the cryptography of coopledger, and nothing else.
//!
//! It holds the canonical encoding, ids, Ed25519 keys, signed events, records, the hash
//! chain, the Merkle tree with its proofs, and checkpoints. It is **pure**: no file, no
//! socket, no clock, no thread, no global randomness. Time, keys and randomness come in
//! as arguments. That is the key design decision: the auditor's offline verifier, the
//! node and the store all reuse this crate unchanged, so there is exactly one definition
//! of every byte (docs/FORMAT.md) and it can be tested without any environment.

pub mod checkpoint;
pub mod encoding;
pub mod event;
pub mod hash;
pub mod hexserde;
pub mod ids;
pub mod keys;
pub mod merkle;
pub mod receipt;
pub mod record;
pub mod rng;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use checkpoint::{Checkpoint, CheckpointError, NoteVerifier, SigAlg, VerifiedCheckpoint};
pub use encoding::{DecodeError, EncodeError};
pub use event::{Author, CaseRef, EventBody, EventError, SignedEvent};
pub use hash::Hash;
pub use ids::{AuthorityId, CaseId, EventId, LedgerId, Timestamp};
pub use keys::{CheckedKey, KeyError, PublicKey, SecretKey, Signature};
pub use receipt::{RECEIPT_FORMAT, Receipt, ReceiptChecker, ReceiptError, ReceiptV1};
pub use record::{CHAIN_SEED, LinkError, Record, SealedRecord};
