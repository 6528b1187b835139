//! coop-verify: the auditor's library. It verifies a whole ledger (streamed from a
//! ledger directory or an export file) or an evidence bundle for one case, offline and
//! without trusting whoever produced the bytes.
//!
//! For a ledger it checks, record by record and in order: canonical decoding, contiguous
//! seqs, every chain link and leaf hash, every signature (strict Ed25519, on all cores),
//! every event against the Agreement's rules as of its position (which also checks that
//! the signing key was registered and active there), the Merkle root and chain head at
//! every checkpoint with the checkpoint's node signature and the cosignatures of the
//! witnesses registered in the ledger itself; then it recomputes the Article 7 report.
//! The first failure stops it with the seq and what is wrong.
//!
//! The key design decision: the verifier depends on `coop-core` and `coop-treaty` only,
//! so it runs exactly the code that defines the bytes and the rules, and nothing of the
//! node (no storage, no runtime, no network) — `tools/check-deps.sh` holds this. Inputs
//! arrive through the small [`Source`] trait; the CLI adapts a ledger directory to it.

mod bundle;
mod error;
mod export;
mod keys;
mod ledger;

pub use bundle::{BUNDLE_MAGIC, Bundle, BundleEntry, VerifiedBundle, verify_bundle};
pub use error::VerifyError;
pub use export::{EXPORT_MAGIC, ExportReader, ExportWriter};
pub use keys::{
    node_verifier, node_verifier_of, node_verifiers, registered as registered_witnesses, witnessed,
};
pub use ledger::{
    CheckpointSeen, Incremental, Item, Observer, Options, Quiet, Source, Verified, Witnessed,
    verify, verify_by_any,
};
