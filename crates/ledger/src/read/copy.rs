//! A verified copy (an export, a bundle, a directory an auditor verified) as a source of reads, and the verdict it carries.

use super::*;

/// What a verification established about a copy: shown on every page and printout of
/// the console, so that a paper copy can be tied to a verified state.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Verdict {
    /// `ledger` (a ledger directory, a follower's copy or an export) or `bundle` (an
    /// evidence bundle of one case).
    pub kind: String,
    /// Records verified (for a bundle: the records it holds).
    pub records: u64,
    /// The checkpoint the copy was verified against: its size.
    pub checkpoint_size: u64,
    /// Its root.
    #[schemars(with = "coop_wire::schema::Hash")]
    pub checkpoint_root: Hash,
    /// Witnesses whose cosignatures on it verified: (id, Party).
    #[schemars(with = "Vec<(String, coop_wire::schema::Party)>")]
    pub cosigned_by: Vec<(String, Party)>,
    /// Whether the auditor pinned the genesis's node key.
    pub node_key_pinned: bool,
    /// Strict signature checks made.
    pub signatures: u64,
    /// When the verification ran (ms since the epoch).
    pub verified_at: u64,
    /// Records after the last checkpoint (valid, but not covered by a signed statement).
    pub uncovered: u64,
    /// The size of the last checkpoint that meets the witness policy (a witness of each
    /// Party cosigned it, docs/adr/0026); `None`: none does.
    pub witnessed_size: Option<u64>,
    /// The auditor accepted the node's word alone for what no witnessed checkpoint covers
    /// (`--accept-node-word`): every page says so.
    pub on_node_word: bool,
}

/// A copy of a ledger (or of one case's evidence) that passed offline verification:
/// what `coopledger console` shows. It holds the verified records, so any earlier point
/// is rebuilt by replaying them, exactly as the verifier did.
#[derive(Clone, Debug)]
pub struct VerifiedCopy {
    ledger_id: LedgerId,
    /// In seq order; a bundle's are sparse (the positions between them skipped).
    records: Vec<Record>,
    state: State,
    checkpoints: Vec<(u64, String)>,
    /// The verdict.
    pub verdict: Verdict,
    /// The bundle's case, for a bundle.
    pub case: Option<CaseId>,
    cache: AsOfCache,
}

impl VerifiedCopy {
    /// A whole ledger that verified, with the records and checkpoint notes the verifier
    /// passed (its observer's `record` and `checkpoint`).
    pub fn of_ledger(
        v: coop_verify::Verified,
        records: Vec<Record>,
        checkpoints: Vec<String>,
        verified_at: u64,
    ) -> VerifiedCopy {
        let last = v.checkpoints.iter().max_by_key(|c| c.checkpoint.size);
        let verdict = Verdict {
            kind: "ledger".into(),
            records: v.size,
            checkpoint_size: last.map_or(0, |c| c.checkpoint.size),
            checkpoint_root: last.map_or(Hash::ZERO, |c| c.checkpoint.root),
            cosigned_by: last.map(|c| c.cosigned_by.clone()).unwrap_or_default(),
            node_key_pinned: v.node_key_pinned,
            signatures: v.signatures,
            verified_at,
            uncovered: v.uncovered(),
            witnessed_size: v.witnessed.as_ref().map(|w| w.checkpoint.checkpoint.size),
            on_node_word: v.unwitnessed() > 0,
        };
        let checkpoints = checkpoints
            .into_iter()
            .filter_map(|n| Some((note_size(&n)?, n)))
            .collect();
        VerifiedCopy {
            ledger_id: v.ledger_id,
            records,
            state: v.state,
            checkpoints,
            verdict,
            case: None,
            cache: AsOfCache::default(),
        }
    }

    /// Verifies a whole ledger from `source` (a ledger directory's journal or an
    /// export) exactly as `coopledger verify` does, keeping the records and checkpoints
    /// that passed; `progress` hears (done, total) as it goes.
    pub fn verify(
        source: &mut (dyn coop_verify::Source + Send),
        options: &coop_verify::Options,
        progress: &mut dyn FnMut(u64, Option<u64>),
        verified_at: u64,
    ) -> Result<VerifiedCopy, coop_verify::VerifyError> {
        struct Keep<'a> {
            records: Vec<Record>,
            notes: Vec<String>,
            progress: &'a mut dyn FnMut(u64, Option<u64>),
        }
        impl coop_verify::Observer for Keep<'_> {
            fn progress(&mut self, done: u64, total: Option<u64>) {
                (self.progress)(done, total);
            }
            fn record(&mut self, r: &coop_core::SealedRecord) -> Result<(), String> {
                self.records.push(r.record.clone());
                Ok(())
            }
            fn checkpoint(&mut self, note: &str) -> Result<(), String> {
                self.notes.push(note.to_owned());
                Ok(())
            }
        }
        let mut keep = Keep {
            records: Vec::new(),
            notes: Vec::new(),
            progress,
        };
        let v = coop_verify::verify(source, options, &mut keep)?;
        Ok(VerifiedCopy::of_ledger(
            v,
            keep.records,
            keep.notes,
            verified_at,
        ))
    }

    /// An evidence bundle that verified.
    pub fn of_bundle(
        b: coop_verify::VerifiedBundle,
        note: String,
        verified_at: u64,
    ) -> VerifiedCopy {
        let verdict = Verdict {
            kind: "bundle".into(),
            records: b.records.len() as u64,
            checkpoint_size: b.checkpoint.checkpoint.size,
            checkpoint_root: b.checkpoint.checkpoint.root,
            cosigned_by: b.checkpoint.cosigned_by.clone(),
            node_key_pinned: b.node_key_pinned,
            signatures: b.records.len() as u64,
            verified_at,
            uncovered: 0,
            witnessed_size: coop_verify::witnessed(&b.checkpoint.cosigned_by)
                .then_some(b.checkpoint.checkpoint.size),
            on_node_word: !coop_verify::witnessed(&b.checkpoint.cosigned_by),
        };
        VerifiedCopy {
            ledger_id: b.ledger_id,
            checkpoints: vec![(b.checkpoint.checkpoint.size, note)],
            records: b.records,
            state: b.state,
            verdict,
            case: Some(b.case),
            cache: AsOfCache::default(),
        }
    }
}

/// The size a checkpoint note states (its second line).
pub(super) fn note_size(note: &str) -> Option<u64> {
    note.lines().nth(1)?.trim().parse().ok()
}

impl VerifiedCopy {
    /// The state just after `a`, by replaying the copy's records (a bundle's with the
    /// positions between them skipped), exactly as the verifier did.
    fn replay(&self, a: AsOf) -> Result<State, LedgerError> {
        if let AsOf::Seq(seq) = a
            && seq >= self.state.size
        {
            // A point the ledger has not reached: nothing there (404), not a malformed
            // question.
            return Err(LedgerError::NotFound(format!(
                "the ledger has no record {seq}"
            )));
        }
        let mut state = State::default();
        for r in &self.records {
            let past = match a {
                AsOf::Seq(seq) => r.seq > seq,
                AsOf::Time(t) => r.received_at > t,
            };
            if past {
                break;
            }
            state.skip_to(r.seq);
            state
                .step(r)
                .map_err(|violation| LedgerError::InvalidHistory {
                    seq: r.seq,
                    violation,
                })?;
        }
        Ok(state)
    }
}

impl ReadSource for VerifiedCopy {
    fn ledger_id(&self) -> Option<LedgerId> {
        Some(self.ledger_id)
    }

    fn size(&self) -> Result<u64, LedgerError> {
        Ok(self.state.size)
    }

    /// A copy has no clock of its own: "now" is its last record's time.
    fn at(&self, as_of: Option<AsOf>) -> Result<At, LedgerError> {
        let state = match as_of {
            None => self.state.clone(),
            Some(a) => self.cache.get_or(a, || self.replay(a))?,
        };
        let last = self.state.last_time;
        Ok(At::new(state, as_of, || last))
    }

    fn checkpoints(&self) -> Result<Vec<(u64, String)>, LedgerError> {
        Ok(self.checkpoints.clone())
    }

    fn record(&self, seq: u64) -> Result<Option<Record>, LedgerError> {
        Ok(self
            .records
            .binary_search_by_key(&seq, |r| r.seq)
            .ok()
            .and_then(|i| self.records.get(i))
            .cloned())
    }

    fn registered(&self, id: &AuthorityId) -> Option<coop_treaty::Registered> {
        self.state.registry.get(id).cloned()
    }
}
