//! The ledger handle: open or create (open.rs), submit (submit.rs), query (here); the
//! state the writer, the syncer and the readers share (shared.rs).

use crate::config::Config;
use crate::engine::{self, Job, Landed, Proven};
use crate::error::{LedgerError, SubmitError};
use crate::metrics::Metrics;
use coop_core::checkpoint::{NoteVerifier, verify_checkpoint};
use coop_core::{
    CaseId, CheckedKey, EventError, EventId, Hash, KeyError, LedgerId, PublicKey, Receipt,
    SealedRecord, SecretKey, SignedEvent, Timestamp,
};
use coop_store::{Head, Log, Store};
use coop_treaty::{Case, ComplianceReport, State};
use crossbeam_channel::{Receiver, RecvTimeoutError, SendTimeoutError, Sender};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

mod open;
mod shared;
mod submit;

use open::{Worker, replay_step};
pub use shared::CheckpointKeys;
pub(crate) use shared::{Health, Shared};
pub use submit::Pending;

/// A point in the ledger's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsOf {
    /// Just after record `seq`.
    Seq(u64),
    /// After every record the node received at or before this time.
    Time(Timestamp),
}

/// A running ledger: the single writer thread and the read side.
pub struct Ledger<S: Store + 'static> {
    shared: Arc<Shared<S>>,
    tx: Option<Sender<Job>>,
    writer: Option<Worker>,
    syncer: Option<Worker>,
}

impl<S: Store + 'static> std::fmt::Debug for Ledger<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("ledger_id", &self.shared.ledger_id())
            .finish_non_exhaustive()
    }
}

/// How far a cosignature's time may be ahead of the node's clock: the signed-read
/// window's five minutes.
const COSIGN_SKEW_MS: u64 = 5 * 60 * 1000;
/// The Agreement was signed in Ashgabat on 10 October 2024 (00:00 UTC): no cosignature of
/// its ledger can be older.
const AGREEMENT_SIGNED_MS: u64 = 1_728_518_400_000;

impl<S: Store + 'static> Ledger<S> {
    /// The ledger id.
    pub fn ledger_id(&self) -> Option<LedgerId> {
        self.shared.ledger_id()
    }

    /// Records covered by the newest snapshot of the state this ledger took or opened
    /// from (0: none; it replayed every record).
    pub fn snapshot_seq(&self) -> u64 {
        self.shared
            .last_snapshot
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Whether the writer takes a snapshot at its next idle moment: enough records were
    /// folded since the last one (`Config::snapshot_every`, and a tenth of the ledger).
    pub fn snapshot_due(&self) -> bool {
        let size = self.shared.state.read().map(|s| s.size).unwrap_or(0);
        crate::engine::snapshot_due(
            self.shared.config.snapshot_every,
            self.snapshot_seq(),
            size,
            false,
        )
    }

    /// The v1 receipt (a signed statement, FORMAT.md §12) of the record `r` proves: what
    /// `/v1/events` answers to clients of that version.
    pub fn receipt_v1(&self, r: &Receipt) -> coop_core::ReceiptV1 {
        coop_core::ReceiptV1::sign(r, &self.shared.node_key)
    }

    /// The node's public key (checkpoints and receipts).
    pub fn node_key(&self) -> PublicKey {
        self.shared.node_key.public()
    }

    /// The durable head: every record below it survives a crash. Readers are shown
    /// nothing beyond it.
    pub fn head(&self) -> Result<Head, LedgerError> {
        Ok(self.shared.log.durable_head()?)
    }

    /// Why the ledger stopped appending (a storage failure, until a restart), if it has.
    pub fn failure(&self) -> Option<String> {
        self.shared.failure()
    }

    /// How far the store's database is behind its journal (the write-ahead log), for a
    /// store that writes it behind one (docs/adr/0027).
    pub fn storage_lag(&self) -> Option<coop_store::Lag> {
        self.shared.log.store().lag()
    }

    /// Records a reader may see: the durable ones.
    fn visible(&self) -> Result<u64, LedgerError> {
        Ok(self.head()?.size)
    }

    /// Refuses a tree size beyond what is durable.
    fn check_size(&self, size: u64) -> Result<(), LedgerError> {
        let visible = self.visible()?;
        if size > visible {
            return Err(LedgerError::BadQuery(format!(
                "the ledger has {visible} records, not {size}"
            )));
        }
        Ok(())
    }

    /// Engine counters.
    pub fn metrics(&self) -> crate::metrics::Snapshot {
        crate::metrics::Snapshot {
            storage_failed: self.shared.health.is_failed(),
            ..self.shared.metrics.snapshot()
        }
    }

    /// Record `seq`, checked against its stored leaf hash.
    pub fn record(&self, seq: u64) -> Result<Option<SealedRecord>, LedgerError> {
        if seq >= self.visible()? {
            return Ok(None);
        }
        Ok(self.shared.log.record(seq)?)
    }

    /// The record holding event `id`.
    pub fn record_by_event_id(&self, id: &EventId) -> Result<Option<SealedRecord>, LedgerError> {
        match self.shared.log.seq_of(id)? {
            Some(seq) => self.record(seq),
            None => Ok(None),
        }
    }

    /// Records `start..end` (those of them that are durable).
    pub fn records(&self, start: u64, end: u64) -> Result<Vec<SealedRecord>, LedgerError> {
        let end = end.min(self.visible()?);
        Ok(self
            .shared
            .log
            .records(start, end)
            .collect::<Result<_, _>>()?)
    }

    /// Runs `f` on the live state (read lock held while it runs: keep it short).
    pub fn with_state<R>(&self, f: impl FnOnce(&State) -> R) -> Result<R, LedgerError> {
        let s = self
            .shared
            .state
            .read()
            .map_err(|_| LedgerError::Unavailable("the state lock is poisoned".into()))?;
        Ok(f(&s))
    }

    /// The state as of an earlier point, rebuilt by replaying records from 0 (the fold
    /// is pure, so this is exactly the state the ledger had then).
    pub fn state_as_of(&self, as_of: AsOf) -> Result<State, LedgerError> {
        let size = self.head()?.size;
        let end = match as_of {
            AsOf::Seq(seq) if seq >= size => {
                // A point the ledger has not reached: nothing there (404), not a malformed
                // question.
                return Err(LedgerError::NotFound(format!(
                    "the ledger has no record {seq}"
                )));
            }
            AsOf::Seq(seq) => seq + 1,
            AsOf::Time(_) => size,
        };
        let mut state = State::default();
        for r in self.shared.log.records(0, end) {
            let r = r?;
            if let AsOf::Time(t) = as_of
                && r.record.received_at > t
            {
                break;
            }
            replay_step(&mut state, &r)?;
        }
        Ok(state)
    }

    /// A case now, or as of an earlier point.
    pub fn case(&self, id: &CaseId, as_of: Option<AsOf>) -> Result<Option<Case>, LedgerError> {
        match as_of {
            None => self.with_state(|s| s.cases.get(id).map(|c| (**c).clone())),
            Some(a) => Ok(self
                .state_as_of(a)?
                .cases
                .remove(id)
                .map(Arc::unwrap_or_clone)),
        }
    }

    /// The Article 7 compliance report now, or as of an earlier point.
    pub fn report(&self, as_of: Option<AsOf>) -> Result<ComplianceReport, LedgerError> {
        match as_of {
            None => self.with_state(ComplianceReport::build),
            Some(a) => Ok(ComplianceReport::build(&self.state_as_of(a)?)),
        }
    }

    /// Merkle root of the first `size` records.
    pub fn root_at(&self, size: u64) -> Result<Hash, LedgerError> {
        self.check_size(size)?;
        Ok(self.shared.log.root_at(size)?)
    }

    /// Inclusion proof of record `seq` in the tree of `size` records.
    pub fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        self.check_size(size)?;
        if seq >= size {
            return Err(LedgerError::BadQuery(format!(
                "record {seq} is not in a tree of {size} records"
            )));
        }
        Ok(self.shared.log.inclusion_proof(seq, size)?)
    }

    /// Consistency proof between two tree sizes.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, LedgerError> {
        self.check_size(size2)?;
        if size1 > size2 {
            return Err(LedgerError::BadQuery(format!(
                "no consistency proof from {size1} records to fewer ({size2})"
            )));
        }
        // RFC 9162 defines none from the empty tree: every tree extends it.
        if size1 == 0 {
            return Err(LedgerError::BadQuery(
                "no consistency proof from the empty tree (every tree extends it)".into(),
            ));
        }
        Ok(self.shared.log.consistency_proof(size1, size2)?)
    }

    /// Every problem the Agreement's rules find with an unsigned `body` as the next
    /// record, against the durable state now, writing nothing (`coop_treaty::State::
    /// problems`): the author has not signed yet, so the signature is not judged (a zero
    /// one stands in); everything else is, as an append would be — the author's key,
    /// the ledger, the time window, the case and its version, every rule. Empty: an
    /// append of this body, signed, would be accepted now.
    pub fn problems(
        &self,
        body: coop_core::EventBody,
    ) -> Result<Vec<coop_treaty::Violation>, LedgerError> {
        let head = self.head()?;
        let now = self.now();
        let event = coop_core::SignedEvent {
            body,
            signature: coop_core::Signature([0; 64]),
        };
        self.with_state(|s| {
            let record = coop_core::Record {
                seq: s.size,
                prev_chain: head.chain_head,
                received_at: now.max(s.last_time),
                governance: s.governance.head,
                event,
            };
            s.problems(&record)
        })
    }

    /// Stored checkpoint for `size`.
    pub fn checkpoint(&self, size: u64) -> Result<Option<String>, LedgerError> {
        Ok(self.shared.log.checkpoint(size)?)
    }

    /// Tree sizes of every stored checkpoint, ascending.
    pub fn checkpoint_sizes(&self) -> Result<Vec<u64>, LedgerError> {
        Ok(self.shared.log.store().checkpoint_sizes()?)
    }

    /// The keys a checkpoint of `size` records is judged by: the node keys the ledger
    /// names for it, and the witnesses registered before its last record (with their
    /// Parties).
    pub fn checkpoint_keys(&self, size: u64) -> Result<CheckpointKeys, LedgerError> {
        self.with_state(|s| {
            let witnesses = coop_verify::registered_witnesses(s, size.saturating_sub(1));
            CheckpointKeys {
                nodes: coop_verify::node_verifiers(s, size),
                verifiers: witnesses.iter().map(|(v, _)| v.clone()).collect(),
                witnesses,
            }
        })
    }

    pub fn store_checkpoint(&self, note: &str) -> Result<(u64, String), LedgerError> {
        let bad = |m: String| LedgerError::BadQuery(m);
        let text = coop_core::checkpoint::Note::parse(note)
            .map_err(|e| bad(e.to_string()))?
            .text;
        let size = coop_core::checkpoint::Checkpoint::parse_body(&text)
            .map_err(|e| bad(e.to_string()))?
            .size;
        let CheckpointKeys {
            nodes, verifiers, ..
        } = self.checkpoint_keys(size)?;
        let node = coop_verify::node_verifier_of(note, &nodes)
            .ok_or_else(|| bad("the note is not signed by a node key this ledger names".into()))?;
        let new = coop_core::checkpoint::keep_verified(note, &node, &verifiers)
            .map_err(|e| bad(format!("the checkpoint does not verify: {e}")))?;
        // A cosignature's time is the witness's word: it may not lie ahead of this node's
        // clock, nor before the Agreement was signed.
        let now = self.now().0;
        for c in &new.cosigned {
            let ms = c.time.saturating_mul(1000);
            if ms > now.saturating_add(COSIGN_SKEW_MS) {
                return Err(bad(format!(
                    "the cosignature by {} states the time {} s, ahead of this node's clock ({} s) by more than {} s: check the witness's clock",
                    c.name,
                    c.time,
                    now / 1000,
                    COSIGN_SKEW_MS / 1000
                )));
            }
            if ms < AGREEMENT_SIGNED_MS {
                return Err(bad(format!(
                    "the cosignature by {} states the time {} s, before the Agreement was signed (10 October 2024): check the witness's clock",
                    c.name, c.time
                )));
            }
        }
        let mut merged = new.note.clone();
        if let Some(stored) = self.checkpoint(size)? {
            let old = coop_core::checkpoint::keep_verified(&stored, &node, &verifiers)
                .map_err(|e| bad(format!("the stored checkpoint does not verify: {e}")))?;
            if old.note.text != new.note.text {
                return Err(bad(format!(
                    "another checkpoint is stored at size {size}; cosign that one"
                )));
            }
            merged = old.note;
            // The first valid cosignature of each witness is the one kept: a later post
            // (another time, the same witness) neither replaces nor adds to it.
            for line in new.note.signatures.into_iter().skip(1) {
                if !merged
                    .signatures
                    .iter()
                    .any(|l| l.name == line.name && l.key_id == line.key_id)
                {
                    merged.signatures.push(line);
                }
            }
        }
        self.check_size(size)?;
        let text = merged.render();
        match self.shared.log.put_checkpoint(&text) {
            Ok(_) => Ok((size, text)),
            // The note does not match the records: the sender's mistake.
            Err(coop_store::StoreError::Conflict(m)) => Err(bad(m)),
            Err(e) => {
                if !matches!(
                    e,
                    coop_store::StoreError::Full { .. } | coop_store::StoreError::Behind { .. }
                ) {
                    self.shared
                        .fail(&format!("storage failure while storing a checkpoint: {e}"));
                }
                Err(e.into())
            }
        }
    }

    /// This node's checkpoint verifier (its key under the name `coopledger/<ledger id>`),
    /// once the ledger has its genesis. It signs the ledger's checkpoints only if the
    /// ledger names it ([`Ledger::ledger_node_verifier`]).
    pub fn node_verifier(&self) -> Option<NoteVerifier> {
        self.shared.node_verifier()
    }

    /// The verifier of the key the ledger names now for its checkpoints (the genesis's
    /// node key): what every checkpoint of this ledger is checked against.
    pub fn ledger_node_verifier(&self) -> Option<NoteVerifier> {
        self.with_state(coop_verify::node_verifier).ok().flatten()
    }

    /// Whether this node signs this ledger's checkpoints and sequences its events.
    pub fn is_sequencer(&self) -> bool {
        self.with_state(|s| self.shared.signs(s)).unwrap_or(false)
    }

    /// The node's time now (its clock, never before the last record's time).
    pub fn now(&self) -> Timestamp {
        self.with_state(|s| self.shared.now(s))
            .unwrap_or_else(|_| self.shared.config.clock.now())
    }

    /// Whether the genesis marks this ledger as a test ledger.
    pub fn is_test_ledger(&self) -> bool {
        self.with_state(|s| s.test_ledger).unwrap_or(false)
    }

    /// Latest stored checkpoint.
    pub fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, LedgerError> {
        Ok(self.shared.log.latest_checkpoint()?)
    }
}

impl<S: Store + 'static> Drop for Ledger<S> {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coop_core::event::CaseRef;
    use coop_store::SledStore;
    use coop_treaty::Payload;
    use coop_treaty::testkit::{self, case_id, request_to};

    /// Whether the writer's state and the readers' hold one copy of every case and item
    /// (ADR 0021), and how many cases there are.
    fn one_copy<S: Store>(ledger: &Ledger<S>) -> (bool, usize) {
        let readers = ledger.shared.state.read().expect("readers' state");
        let working = ledger.shared.working.lock().expect("working state");
        assert_eq!(readers.size, working.size, "the writer is idle");
        let cases = readers.cases.len() == working.cases.len()
            && readers
                .cases
                .iter()
                .all(|(id, c)| working.cases.get(id).is_some_and(|w| Arc::ptr_eq(c, w)));
        let items = readers
            .register
            .iter()
            .all(|(k, i)| working.register.get(k).is_some_and(|w| Arc::ptr_eq(i, w)));
        (cases && items, readers.cases.len())
    }

    #[test]
    fn the_writer_and_the_readers_hold_one_copy_of_each_case() -> anyhow::Result<()> {
        // Given a ledger in force
        let dir = tempfile::tempdir()?;
        let keys = testkit::keys();
        let mut n = 0u64;
        let mut event = |ledger: Option<LedgerId>, signer: &str, case, payload: &Payload| {
            n += 1;
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&n.to_be_bytes());
            testkit::sign(
                &keys[signer],
                signer,
                ledger,
                EventId(id),
                Timestamp(crate::system_ms()),
                case,
                vec![],
                payload,
            )
        };
        let genesis = event(None, "KZ-MFA", None, &testkit::genesis_payload(&keys))?;
        let (ledger, _) = Ledger::create(
            SledStore::open(dir.path())?,
            genesis,
            testkit::node_key(),
            Config::default(),
        )?;
        let id = ledger.ledger_id();
        for (signer, p) in testkit::constitution(&keys) {
            ledger.submit(event(id, signer, None, &p)?)?;
        }
        // When forty cases are opened, half of them in batches the writer runs ahead with
        let open = || Payload::Request(Box::new(request_to("TM-MVD")));
        let at = |n: u8| {
            Some(CaseRef {
                case_id: case_id(n),
                expected_version: 0,
            })
        };
        for c in 1..=20u8 {
            ledger.submit(event(id, "KZ-MVD", at(c), &open())?)?;
        }
        let batch = (21..=40u8)
            .map(|c| event(id, "KZ-MVD", at(c), &open()))
            .collect::<Result<Vec<_>, _>>()?;
        for r in ledger.submit_batch(batch) {
            r?;
        }
        // Then the readers' state and the writer's hold each case and item once
        assert_eq!(one_copy(&ledger), (true, 40));
        // and so do they after a reopen, which loads one state for both
        ledger.shutdown();
        let ledger = Ledger::open(
            SledStore::open(dir.path())?,
            testkit::node_key(),
            Config::default(),
        )?;
        assert_eq!(one_copy(&ledger), (true, 40));
        Ok(())
    }
}
