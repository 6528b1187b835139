//! What leaves the ledger as files: exports (every record and checkpoint) and evidence
//! bundles (one case), in the formats coop-verify reads (docs/FORMAT.md §13, §14).

use crate::error::LedgerError;
use crate::ledger::Ledger;
use coop_core::{CaseId, SealedRecord};
use coop_store::Store;
use coop_verify::{Bundle, BundleEntry, ExportWriter};
use std::io::Write;

/// Records are read from the store in chunks of this many.
const CHUNK: u64 = 4096;

/// An evidence bundle and how well its checkpoint is witnessed.
#[derive(Clone, Debug)]
pub struct MadeBundle {
    /// The bundle (verified before it is returned).
    pub bundle: Bundle,
    /// The checkpoint's size.
    pub size: u64,
    /// How many Parties' registered witnesses cosigned it (0, 1 or 2).
    pub cosigning_parties: usize,
}

/// How many of the most recent checkpoints [`Ledger::witnessing`] looks at.
pub const WITNESS_LOOKBACK: usize = 64;

/// How far the witnesses have cosigned (sizes of checkpoints; `None`: none of the recent
/// ones). `both` is the witness policy's: the last checkpoint a witness of each Party
/// cosigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Witnessing {
    /// The last checkpoint a witness of Kazakhstan cosigned.
    pub kz: Option<u64>,
    /// The last checkpoint a witness of Turkmenistan cosigned.
    pub tm: Option<u64>,
    /// The last checkpoint a witness of each Party cosigned (the witness policy met).
    pub both: Option<u64>,
    /// Records after `both` (all of them when `None`): resting on the node's word alone
    /// until both witnesses cosign a checkpoint covering them.
    pub unwitnessed: u64,
}

fn io(e: std::io::Error) -> LedgerError {
    LedgerError::Output(e.to_string())
}

impl<S: Store + 'static> Ledger<S> {
    /// Calls `f` on every record below `size`, in order.
    pub fn each_record(
        &self,
        size: u64,
        mut f: impl FnMut(SealedRecord) -> Result<(), LedgerError>,
    ) -> Result<(), LedgerError> {
        let mut start = 0;
        while start < size {
            let end = (start + CHUNK).min(size);
            for r in self.records(start, end)? {
                f(r)?;
            }
            start = end;
        }
        Ok(())
    }

    /// Writes every record and checkpoint as an export (its header states the node keys
    /// the ledger names, for people to read). Returns (records, checkpoints) written.
    pub fn export<W: Write>(&self, out: W) -> Result<(W, u64, usize), LedgerError> {
        self.export_with(out, |_, _| {})
    }

    /// [`Ledger::export`], calling `progress(records written, records in all)` as it goes.
    pub fn export_with<W: Write>(
        &self,
        out: W,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<(W, u64, usize), LedgerError> {
        let size = self.head()?.size;
        let cps: std::collections::BTreeSet<u64> = self.checkpoint_sizes()?.into_iter().collect();
        let vkeys: Vec<String> = self.with_state(|s| {
            s.ledger_id
                .map(|l| {
                    s.agreement
                        .node_keys
                        .iter()
                        .map(|k| coop_core::checkpoint::node_verifier(&l, k.key).to_vkey())
                        .collect()
                })
                .unwrap_or_default()
        })?;
        let mut w = ExportWriter::new(out, &vkeys).map_err(io)?;
        let mut written = 0;
        self.each_record(size, |r| {
            w.record(&r.bytes).map_err(io)?;
            let after = r.record.seq + 1;
            if after % 4096 == 0 || after == size {
                progress(after, size);
            }
            if cps.contains(&after)
                && let Some(n) = self.checkpoint(after)?
            {
                w.checkpoint(&n).map_err(io)?;
                written += 1;
            }
            Ok(())
        })?;
        let (out, n) = w.finish().map_err(io)?;
        Ok((out, n, written))
    }

    /// The registered witnesses that validly cosigned `note`, with their Party (none if
    /// the note is not a checkpoint of this ledger's node for `size`).
    pub fn cosigners(
        &self,
        note: &str,
        size: u64,
    ) -> Result<Vec<(String, coop_treaty::Party)>, LedgerError> {
        let crate::ledger::CheckpointKeys {
            nodes,
            verifiers,
            witnesses,
        } = self.checkpoint_keys(size)?;
        let Ok(v) = coop_verify::verify_by_any(note, &nodes, &verifiers) else {
            return Ok(Vec::new());
        };
        Ok(v.cosigned
            .iter()
            .filter_map(|c| {
                witnesses
                    .iter()
                    .find(|(w, _)| w.name == c.name)
                    .map(|(_, p)| (c.name.clone(), *p))
            })
            .collect())
    }

    /// How many Parties' registered witnesses validly cosigned `note` (0 if the note is
    /// not a checkpoint of this ledger's node).
    pub fn cosigning_parties(&self, note: &str, size: u64) -> Result<usize, LedgerError> {
        let mut parties: Vec<_> = self
            .cosigners(note, size)?
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        parties.sort();
        parties.dedup();
        Ok(parties.len())
    }

    /// How far each Party's witnesses have cosigned this ledger's checkpoints, and how far
    /// the witness policy is met (`coop_verify::witnessed`: a witness of each Party on
    /// one checkpoint) — what `/healthz`, `/metrics` and the console's overview show. The
    /// most recent checkpoints are looked at, newest first, until both are found (at
    /// most [`WITNESS_LOOKBACK`]).
    pub fn witnessing(&self) -> Result<Witnessing, LedgerError> {
        let size = self.head()?.size;
        let mut w = Witnessing {
            kz: None,
            tm: None,
            both: None,
            unwitnessed: size,
        };
        for s in self
            .checkpoint_sizes()?
            .into_iter()
            .rev()
            .take(WITNESS_LOOKBACK)
        {
            let Some(note) = self.checkpoint(s)? else {
                continue;
            };
            let by = self.cosigners(&note, s)?;
            for (_, p) in &by {
                let slot = match p {
                    coop_treaty::Party::Kz => &mut w.kz,
                    coop_treaty::Party::Tm => &mut w.tm,
                };
                slot.get_or_insert(s);
            }
            if w.both.is_none() && coop_verify::witnessed(&by) {
                w.both = Some(s);
                w.unwitnessed = size.saturating_sub(s);
            }
            if w.kz.is_some() && w.tm.is_some() && w.both.is_some() {
                break;
            }
        }
        Ok(w)
    }

    /// The evidence bundle of `case`, proven against the most recent checkpoint of this
    /// node that covers the whole case and that both Parties' witnesses cosigned; else the
    /// best-witnessed recent one covering it; else a checkpoint signed now. The bundle is
    /// verified before it is returned.
    pub fn evidence_bundle(&self, case: &CaseId) -> Result<MadeBundle, LedgerError> {
        let last = self
            .with_state(|s| {
                s.cases
                    .get(case)
                    .and_then(|c| c.steps.last().map(|t| t.seq))
            })?
            .ok_or_else(|| LedgerError::NotFound(format!("there is no case {case}")))?;
        let mut chosen: Option<(u64, String, usize)> = None;
        let sizes: Vec<u64> = self.checkpoint_sizes()?;
        for s in sizes.iter().rev().filter(|s| **s > last).take(64) {
            let Some(n) = self.checkpoint(*s)? else {
                continue;
            };
            let nodes = self.with_state(|st| coop_verify::node_verifiers(st, *s))?;
            if coop_verify::verify_by_any(&n, &nodes, &[]).is_err() {
                continue; // not signed by a key the ledger names for that size
            }
            let parties = self.cosigning_parties(&n, *s)?;
            if chosen.as_ref().is_none_or(|c| parties > c.2) {
                chosen = Some((*s, n, parties));
            }
            if parties == 2 {
                break;
            }
        }
        let (size, note, cosigning_parties) = match chosen {
            Some(c) => c,
            None => {
                let n = self
                    .checkpoint_now()
                    .map_err(|e| LedgerError::Unavailable(e.to_string()))?;
                let s = coop_core::checkpoint::Note::parse(&n)
                    .ok()
                    .and_then(|p| coop_core::checkpoint::Checkpoint::parse_body(&p.text).ok())
                    .map(|c| c.size)
                    .ok_or_else(|| {
                        LedgerError::Unavailable("the new checkpoint is malformed".into())
                    })?;
                (s, n, 0)
            }
        };
        let bundle = self.bundle_at(case, &note, size)?;
        coop_verify::verify_bundle(&bundle, None)
            .map_err(|e| LedgerError::Unavailable(format!("the bundle does not verify: {e}")))?;
        Ok(MadeBundle {
            bundle,
            size,
            cosigning_parties,
        })
    }

    /// The bundle of `case` against the checkpoint `note` of `size` records, which must
    /// cover the case's last record: exactly the records `coop_treaty::bundle_seqs` names.
    pub fn bundle_at(&self, case: &CaseId, note: &str, size: u64) -> Result<Bundle, LedgerError> {
        let seqs = self
            .with_state(|s| {
                coop_treaty::bundle_seqs(s, case, size, |seq| {
                    self.record(seq).ok().flatten().map(|r| r.record)
                })
            })?
            .ok_or_else(|| LedgerError::NotFound(format!("there is no case {case}")))?;
        if seqs.last().is_some_and(|l| *l >= size) {
            return Err(LedgerError::BadQuery(format!(
                "the checkpoint at size {size} does not cover the case's last record"
            )));
        }
        let mut entries = Vec::with_capacity(seqs.len());
        for seq in seqs {
            let r = self
                .record(seq)?
                .ok_or_else(|| LedgerError::Unavailable(format!("record {seq} is missing")))?;
            entries.push(BundleEntry {
                proof: self.inclusion_proof(seq, size)?,
                record: r.bytes,
            });
        }
        Ok(Bundle {
            case: *case,
            checkpoint: note.to_owned(),
            entries,
        })
    }
}
