//! The evidence bundle for an Article 8 dispute consultation (docs/FORMAT.md §14): the
//! records of one case and exactly the records the rules read when judging them
//! (`coop_treaty::bundle_seqs`: every governance record before the checkpoint's size —
//! which names the node keys that sign it and the witnesses that cosign it — and whatever
//! they cite), an inclusion proof for each against one checkpoint, and that
//! checkpoint (cosigned by both Parties' witnesses where they have cosigned). It verifies
//! alone, offline, and replays the case as it stood at any of its records.
//!
//! Completeness is proven, not assumed: every record states the governance head before it
//! (so a left-out governance record is caught at the next record the bundle keeps),
//! every case event states the case version it expects (a left-out case record is caught
//! at the next), and a citing record is refused when what it cites is absent. What a
//! bundle cannot show is that the case had no records after the last one it holds:
//! verify the full ledger or an export for that.

use crate::error::VerifyError;
use coop_core::checkpoint::{Checkpoint, Note, NoteVerifier, SigAlg};
use coop_core::encoding;
use coop_core::merkle::{Blake3Hasher, verify_inclusion};
use coop_core::{CaseId, Hash, LedgerId, Record, SealedRecord};
use coop_treaty::{Case, State};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// First bytes of every bundle file; the canonical encoding of [`Bundle`] follows.
pub const BUNDLE_MAGIC: &[u8] = b"coopledger-bundle/v2\n";

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
            .ok_or_else(|| VerifyError::Input("not a coopledger evidence bundle (v2)".into()))?;
        encoding::decode(body)
            .map_err(|e| VerifyError::Bundle(format!("not a canonical bundle: {e}")))
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
    /// Whether the caller pinned the genesis's node key.
    pub node_key_pinned: bool,
    /// The node key that signed the checkpoint.
    pub node_key: NoteVerifier,
    /// The records, in seq order.
    pub records: Vec<Record>,
    /// The state after folding them.
    pub state: State,
}

impl VerifiedBundle {
    /// Seqs of the case's own records.
    pub fn case_seqs(&self) -> Vec<u64> {
        self.state
            .cases
            .get(&self.case)
            .map(|c| c.steps.iter().map(|t| t.seq).collect())
            .unwrap_or_default()
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
        Ok(state.cases.get(&self.case).map(|c| (**c).clone()))
    }

    /// The case after the last record of the bundle.
    pub fn case(&self) -> Option<&Case> {
        self.state.cases.get(&self.case).map(|c| &**c)
    }
}

/// Verifies a bundle: each record's canonical bytes, inclusion proof and strict
/// signature; the Agreement's rules over the records in order with the positions between
/// them skipped (which also proves that no governance record, no earlier record of the
/// case and no cited record was left out); that it holds nothing else; the genesis's node
/// key against `pin` (if given); the checkpoint's node signature by a key the ledger
/// names, and its time; and the cosignatures of the witnesses the ledger registers.
pub fn verify_bundle(
    bundle: &Bundle,
    pin: Option<&NoteVerifier>,
) -> Result<VerifiedBundle, VerifyError> {
    if pin.is_some_and(|n| n.alg != SigAlg::Ed25519) {
        return Err(VerifyError::Bundle(
            "the node key must be an Ed25519 (type 0x01) verifier key".into(),
        ));
    }
    // The checkpoint's statement, not trusted until its signature is checked below with
    // the node key the bundle's own genesis names.
    let claimed = Note::parse(&bundle.checkpoint)
        .map_err(|e| VerifyError::Bundle(format!("its checkpoint is malformed: {e}")))
        .and_then(|n| {
            Checkpoint::parse_body(&n.text)
                .map_err(|e| VerifyError::Bundle(format!("its checkpoint is malformed: {e}")))
        })?;
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
            if seq >= claimed.size {
                return Err(VerifyError::record(
                    seq,
                    format!("the record is beyond the checkpoint (size {})", claimed.size),
                ));
            }
            verify_inclusion::<Blake3Hasher>(seq, claimed.size, &s.leaf, &e.proof, &claimed.root)
                .map_err(|err| {
                    VerifyError::record(
                        seq,
                        format!(
                            "the record is not in the ledger the checkpoint states (inclusion proof: {err})"
                        ),
                    )
                })?;
            let ledger = (seq != 0).then_some(claimed.ledger_id);
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
    if state.ledger_id != Some(claimed.ledger_id) {
        return Err(VerifyError::Bundle(
            "its genesis is not the genesis of the checkpoint's ledger".into(),
        ));
    }
    let named = crate::keys::node_verifiers(&state, 0);
    if let Some(p) = pin
        && !named.contains(p)
    {
        return Err(VerifyError::Bundle(format!(
            "its genesis names the node key {}, not the one you pinned ({})",
            named
                .first()
                .map_or_else(|| "(none)".into(), NoteVerifier::to_vkey),
            p.to_vkey()
        )));
    }
    let case = state.cases.get(&bundle.case).ok_or_else(|| {
        VerifyError::Bundle(format!("it holds no request opening case {}", bundle.case))
    })?;
    // Exactly the records the rules read for this case: nothing more (which keeps other
    // cases' records out) and, the rules having passed, nothing less.
    let held: std::collections::BTreeMap<u64, &Record> =
        sealed.iter().map(|s| (s.record.seq, &s.record)).collect();
    let needed = coop_treaty::bundle_seqs(&state, &bundle.case, claimed.size, |s| {
        held.get(&s).copied().cloned()
    })
    .ok_or_else(|| VerifyError::Bundle("the case has no records".into()))?;
    if let Some(extra) = held.keys().find(|s| !needed.contains(s)) {
        return Err(VerifyError::record(
            *extra,
            format!(
                "the bundle holds a record that judging case {} does not read",
                bundle.case
            ),
        ));
    }
    // After the case's last record, only the governance records up to the checkpoint.
    let case_last = case.steps.last().map_or(0, |t| t.seq);
    if let Some(after) = held
        .keys()
        .find(|s| **s > case_last && !state.governance.seqs.contains(s))
    {
        return Err(VerifyError::record(
            *after,
            "after the case's last record a bundle holds only governance records",
        ));
    }
    if last.is_some_and(|l| l >= claimed.size) {
        return Err(VerifyError::Bundle(
            "it holds a record its checkpoint does not cover".into(),
        ));
    }
    // Now the checkpoint, against the node keys and witnesses the records name.
    let nodes = crate::keys::node_verifiers(&state, claimed.size);
    let witnesses = crate::keys::registered(&state, claimed.size - 1);
    let v = crate::verify_by_any(
        &bundle.checkpoint,
        &nodes,
        &crate::keys::verifiers(&witnesses),
    )
    .map_err(|e| VerifyError::Bundle(format!("its checkpoint does not verify: {e}")))?;
    if v.checkpoint.time < state.last_time {
        return Err(VerifyError::Bundle(format!(
            "its checkpoint is dated {} ms, before the records it covers ({} ms)",
            v.checkpoint.time.0, state.last_time.0
        )));
    }
    let node_key = crate::keys::node_verifier_of(&bundle.checkpoint, &nodes)
        .ok_or_else(|| VerifyError::Bundle("its checkpoint names no node key".into()))?;
    let cosigned_by = crate::keys::cosigners(&witnesses, &v.cosigned);
    Ok(VerifiedBundle {
        ledger_id: claimed.ledger_id,
        case: bundle.case,
        checkpoint: crate::CheckpointSeen {
            checkpoint: v.checkpoint,
            cosigned_by,
            external: false,
        },
        node_key_pinned: pin.is_some(),
        node_key,
        records: sealed.into_iter().map(|s| s.record).collect(),
        state,
    })
}
