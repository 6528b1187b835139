//! The evidence bundle for an Article 8 dispute consultation (docs/FORMAT.md, "Evidence
//! bundle"): the records of one case, every record needed to judge them under the
//! Agreement, an inclusion proof for each against one checkpoint, and that checkpoint
//! (cosigned by both Parties' witnesses where they have cosigned). It verifies alone,
//! offline, and replays the case as it stood at any of its records.
//!
//! What a bundle cannot show: that nothing was left out. Gaps *inside* the case are
//! caught (every case event names the case version it expects), but records after the
//! last one included, or unrelated records, are simply absent. Verify the full ledger or
//! an export for that.

use crate::error::VerifyError;
use coop_core::checkpoint::{NoteVerifier, SigAlg, verify_checkpoint};
use coop_core::encoding;
use coop_core::merkle::{Blake3Hasher, verify_inclusion};
use coop_core::{CaseId, Hash, LedgerId, Record, SealedRecord};
use coop_treaty::{Case, Payload, State};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// First bytes of every bundle file; the canonical encoding of [`Bundle`] follows.
pub const BUNDLE_MAGIC: &[u8] = b"coopledger-bundle/v1\n";

/// One record with its inclusion proof against the bundle's checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleEntry {
    /// Canonical record bytes.
    pub record: Vec<u8>,
    /// RFC 6962 inclusion proof of the record's leaf in the checkpoint's tree.
    pub proof: Vec<Hash>,
}

/// An evidence bundle. Field order is the encoding order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// The case in dispute.
    pub case: CaseId,
    /// The node's checkpoint key (C2SP vkey), as the bundle's maker states it.
    pub node: String,
    /// The checkpoint every proof is against, as a signed note with its cosignatures.
    pub checkpoint: String,
    /// Records in ascending seq, starting with the genesis (record 0).
    pub entries: Vec<BundleEntry>,
}

impl Bundle {
    /// The file bytes: [`BUNDLE_MAGIC`] then the canonical encoding.
    pub fn to_bytes(&self) -> Result<Vec<u8>, VerifyError> {
        let mut out = BUNDLE_MAGIC.to_vec();
        out.extend(encoding::encode(self).map_err(|e| VerifyError::Bundle(e.to_string()))?);
        Ok(out)
    }

    /// Parses file bytes strictly (canonical encoding, no trailing bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Bundle, VerifyError> {
        let body = bytes
            .strip_prefix(BUNDLE_MAGIC)
            .ok_or_else(|| VerifyError::Input("not a coopledger evidence bundle".into()))?;
        encoding::decode(body)
            .map_err(|e| VerifyError::Bundle(format!("not a canonical bundle: {e}")))
    }
}

/// Whether `record` belongs in the evidence bundle of `case`: the case's own events, and
/// every record the rules read when judging them — governance (genesis, registry,
/// entry into force, protocols, termination), Art. 1.2 agreements on other crimes and
/// Art. 4.2 language arrangements.
pub fn is_needed_for_case(record: &Record, case: &CaseId) -> bool {
    if record.event.body.case.is_some_and(|c| c.case_id == *case) {
        return true;
    }
    match Payload::from_bytes(&record.event.body.payload) {
        Ok(p) => {
            p.is_governance()
                || matches!(
                    p,
                    Payload::CategoryAgreed { .. }
                        | Payload::LanguageArrangementProposed { .. }
                        | Payload::LanguageArrangementAccepted { .. }
                )
        }
        Err(_) => false,
    }
}

/// A bundle that verified.
#[derive(Clone, Debug)]
pub struct VerifiedBundle {
    /// The ledger.
    pub ledger_id: LedgerId,
    /// The case.
    pub case: CaseId,
    /// The checkpoint the records are proven against.
    pub checkpoint: crate::CheckpointSeen,
    /// Whether the node key was pinned by the caller.
    pub node_key_pinned: bool,
    /// The records, in seq order.
    pub records: Vec<Record>,
    /// The state after folding them.
    pub state: State,
}

impl VerifiedBundle {
    /// Seqs of the case's own records.
    pub fn case_seqs(&self) -> Vec<u64> {
        self.records
            .iter()
            .filter(|r| r.event.body.case.is_some_and(|c| c.case_id == self.case))
            .map(|r| r.seq)
            .collect()
    }

    /// The case as it stood just after record `seq` (replaying the bundle's records up
    /// to it). `None` if the case did not exist yet.
    pub fn case_as_of(&self, seq: u64) -> Result<Option<Case>, VerifyError> {
        let mut state = State::default();
        for r in self.records.iter().take_while(|r| r.seq <= seq) {
            state.skip_to(r.seq);
            state.step(r).map_err(|v| {
                VerifyError::record(r.seq, format!("not allowed by the Agreement: {v}"))
            })?;
        }
        Ok(state.cases.get(&self.case).cloned())
    }

    /// The case after the last record of the bundle.
    pub fn case(&self) -> Option<&Case> {
        self.state.cases.get(&self.case)
    }
}

/// Verifies a bundle: the checkpoint's node signature, each record's canonical bytes,
/// inclusion proof and strict signature, the Agreement's rules over the records in order
/// (positions between them skipped), the witnesses' cosignatures against the witnesses
/// those records register, and that the case is there.
pub fn verify_bundle(
    bundle: &Bundle,
    node: Option<&NoteVerifier>,
) -> Result<VerifiedBundle, VerifyError> {
    let pinned = node.is_some();
    let node = match node {
        Some(n) => n.clone(),
        None => NoteVerifier::from_vkey(&bundle.node)
            .map_err(|e| VerifyError::Bundle(format!("its node key is not valid: {e}")))?,
    };
    if node.alg != SigAlg::Ed25519 {
        return Err(VerifyError::Bundle(
            "the node key must be an Ed25519 (type 0x01) verifier key".into(),
        ));
    }
    let cp = verify_checkpoint(&bundle.checkpoint, &node, &[])
        .map_err(|e| VerifyError::Bundle(format!("its checkpoint does not verify: {e}")))?
        .checkpoint;
    // Decode, prove inclusion and check signatures on all cores.
    let sealed: Vec<SealedRecord> = bundle
        .entries
        .par_iter()
        .enumerate()
        .map(|(i, e)| {
            let s = SealedRecord::from_bytes(i as u64, e.record.clone()).map_err(|err| {
                VerifyError::Bundle(format!("entry {i} is not a canonical record: {err}"))
            })?;
            let seq = s.record.seq;
            if seq >= cp.size {
                return Err(VerifyError::record(
                    seq,
                    format!("the record is beyond the checkpoint (size {})", cp.size),
                ));
            }
            verify_inclusion::<Blake3Hasher>(seq, cp.size, &s.leaf, &e.proof, &cp.root).map_err(
                |err| {
                    VerifyError::record(
                        seq,
                        format!(
                            "the record is not in the ledger the checkpoint states (inclusion proof: {err})"
                        ),
                    )
                },
            )?;
            let ledger = (seq != 0).then_some(cp.ledger_id);
            s.record.event.verify(ledger.as_ref()).map_err(|err| {
                VerifyError::record(seq, format!("the event's signature is not valid: {err}"))
            })?;
            Ok(s)
        })
        .collect::<Result<_, _>>()?;
    if sealed.first().map(|s| s.record.seq) != Some(0) {
        return Err(VerifyError::Bundle(
            "it must start with the genesis record (record 0)".into(),
        ));
    }
    let mut state = State::default();
    let mut last: Option<u64> = None;
    for s in &sealed {
        let seq = s.record.seq;
        if last.is_some_and(|l| seq <= l) {
            return Err(VerifyError::record(
                seq,
                "records are not in ascending seq order (duplicated or moved)",
            ));
        }
        last = Some(seq);
        state.skip_to(seq);
        state
            .step(&s.record)
            .map_err(|v| VerifyError::record(seq, format!("not allowed by the Agreement: {v}")))?;
    }
    if state.ledger_id != Some(cp.ledger_id) {
        return Err(VerifyError::Bundle(
            "its genesis is not the genesis of the checkpoint's ledger".into(),
        ));
    }
    if !state.cases.contains_key(&bundle.case) {
        return Err(VerifyError::Bundle(format!(
            "it holds no request opening case {}",
            bundle.case
        )));
    }
    // Now that the registry is known, check the cosignatures of the registered witnesses.
    let witnesses = crate::witness::registered(&state, cp.size - 1);
    let v = verify_checkpoint(
        &bundle.checkpoint,
        &node,
        &crate::witness::verifiers(&witnesses),
    )
    .map_err(|e| VerifyError::Bundle(format!("a witness cosignature does not verify: {e}")))?;
    let cosigned_by = crate::witness::cosigners(&witnesses, &v.cosigned);
    Ok(VerifiedBundle {
        ledger_id: cp.ledger_id,
        case: bundle.case,
        checkpoint: crate::CheckpointSeen {
            checkpoint: v.checkpoint,
            cosigned_by,
            external: false,
        },
        node_key_pinned: pinned,
        records: sealed.into_iter().map(|s| s.record).collect(),
        state,
    })
}
