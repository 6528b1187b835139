//! Checkpoints: the node's signed statement of the ledger's size, Merkle root and chain
//! head, written as a C2SP signed note (tlog-checkpoint), with C2SP cosignatures
//! (cosignature/v1) from witnesses.

mod checkpoint;
mod note;

pub use checkpoint::{
    Checkpoint, CheckpointError, Cosigned, VerifiedCheckpoint, cosign, sign_checkpoint,
    verify_checkpoint,
};
pub use note::{Note, NoteError, NoteSignature, NoteVerifier, SigAlg, MAX_NOTE_LEN};
