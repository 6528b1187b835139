//! Checkpoints: the node's signed statement of the ledger's size, Merkle root and chain
//! head, written as a C2SP signed note (tlog-checkpoint), with C2SP cosignatures
//! (cosignature/v1) from witnesses.

mod note;
mod statement;
mod witness;

pub use note::{MAX_NOTE_LEN, Note, NoteError, NoteSignature, NoteVerifier, SigAlg};
pub use statement::{
    Checkpoint, CheckpointError, Cosignature, MAX_COSIGNATURE_TIME, VerifiedCheckpoint, cosign,
    keep_verified, node_verifier, origin, own_cosignature, sign_checkpoint, verify_checkpoint,
};
pub use witness::{
    CHECKPOINT_AHEAD_MS, TransitionError, dated_ahead, validate_checkpoint_transition,
};
