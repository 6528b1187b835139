//! The ledger handle: open or create, submit, query.

use crate::config::Config;
use crate::engine::{self, Job, Landed};
use crate::error::{LedgerError, SubmitError};
use crate::metrics::Metrics;
use coop_core::checkpoint::{NoteVerifier, SigAlg, verify_checkpoint};
use coop_core::{
    CaseId, CheckedKey, EventError, EventId, Hash, KeyError, LedgerId, PublicKey, Receipt,
    SealedRecord, SecretKey, SignedEvent, Timestamp,
};
use coop_store::{Head, Log, Store};
use coop_treaty::{Case, ComplianceReport, State};
use crossbeam_channel::{Receiver, Sender};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, OnceLock, RwLock};
use std::thread::JoinHandle;

/// Milliseconds since the epoch from the system clock (0 if the clock is before 1970).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A point in the ledger's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsOf {
    /// Just after record `seq`.
    Seq(u64),
    /// After every record the node received at or before this time.
    Time(Timestamp),
}

pub(crate) struct Shared<S: Store> {
    pub(crate) log: Log<S>,
    pub(crate) state: RwLock<State>,
    pub(crate) node_key: Arc<SecretKey>,
    pub(crate) config: Config,
    pub(crate) failed: AtomicBool,
    pub(crate) last_checkpoint: AtomicU64,
    pub(crate) metrics: Metrics,
    ledger_id: OnceLock<LedgerId>,
    /// Author keys already decompressed and checked: a ledger's few dozen keys sign
    /// millions of events. Bounded, since anyone may submit an event under any key.
    keys: RwLock<HashMap<PublicKey, CheckedKey>>,
}

/// Most keys kept decompressed; the cache starts over when full.
const KEY_CACHE: usize = 4096;

impl<S: Store> Shared<S> {
    /// `key`, decompressed and checked (once, then from the cache).
    pub(crate) fn checked_key(&self, key: &PublicKey) -> Result<CheckedKey, KeyError> {
        if let Some(k) = self.keys.read().ok().and_then(|m| m.get(key).copied()) {
            return Ok(k);
        }
        let k = key.checked()?;
        if let Ok(mut m) = self.keys.write() {
            if m.len() >= KEY_CACHE {
                m.clear();
            }
            m.insert(*key, k);
        }
        Ok(k)
    }

    pub(crate) fn node_verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.config.node_name.clone(),
            key: self.node_key.public(),
            alg: SigAlg::Ed25519,
        }
    }

    pub(crate) fn ledger_id(&self) -> Option<LedgerId> {
        self.ledger_id.get().copied()
    }

    pub(crate) fn set_ledger_id(&self, id: Option<LedgerId>) {
        if let Some(id) = id {
            let _ = self.ledger_id.set(id);
        }
    }

    /// Where an event already in the ledger landed (idempotent resubmission), or
    /// `IdReused` if its id is taken by a different body.
    pub(crate) fn existing(&self, event: &SignedEvent) -> Result<Option<Landed>, SubmitError> {
        let unavailable = |e: coop_store::StoreError| SubmitError::Unavailable(e.to_string());
        let Some(seq) = self.log.seq_of(&event.body.event_id).map_err(unavailable)? else {
            return Ok(None);
        };
        let rec = self
            .log
            .record(seq)
            .map_err(unavailable)?
            .ok_or_else(|| SubmitError::Unavailable(format!("record {seq} vanished")))?;
        if rec.record.event.body != event.body {
            return Err(SubmitError::IdReused(event.body.event_id.to_hex()));
        }
        Ok(Some(Landed {
            seq,
            leaf: rec.leaf,
            chain: rec.chain,
        }))
    }
}

/// A submission on its way: [`Pending::wait`] blocks for the answer and signs the receipt
/// on the caller's thread.
#[derive(Debug)]
pub struct Pending {
    rx: Receiver<Result<Landed, SubmitError>>,
    ledger: LedgerId,
    event_id: EventId,
    event_hash: Hash,
    node_key: Arc<SecretKey>,
}

impl Pending {
    /// Waits for the writer, then signs the receipt.
    pub fn wait(self) -> Result<Receipt, SubmitError> {
        let landed = self
            .rx
            .recv()
            .map_err(|_| SubmitError::Unavailable("the writer has stopped".into()))??;
        Ok(Receipt::sign(
            self.ledger,
            landed.seq,
            self.event_id,
            self.event_hash,
            landed.leaf,
            landed.chain,
            &self.node_key,
        ))
    }
}

/// A running ledger: the single writer thread and the read side.
pub struct Ledger<S: Store + 'static> {
    shared: Arc<Shared<S>>,
    tx: Option<Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    syncer: Option<JoinHandle<()>>,
}

impl<S: Store + 'static> std::fmt::Debug for Ledger<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("ledger_id", &self.shared.ledger_id())
            .finish_non_exhaustive()
    }
}

impl<S: Store + 'static> Ledger<S> {
    fn start(log: Log<S>, state: State, node_key: SecretKey, config: Config) -> Ledger<S> {
        let last_cp = log.latest_checkpoint().ok().flatten().map_or(0, |(s, _)| s);
        let ledger_id = OnceLock::new();
        if let Some(id) = state.ledger_id {
            let _ = ledger_id.set(id);
        }
        let (tx, rx): (Sender<Job>, Receiver<Job>) = crossbeam_channel::bounded(config.queue);
        let shared = Arc::new(Shared {
            log,
            state: RwLock::new(state),
            node_key: Arc::new(node_key),
            config,
            failed: AtomicBool::new(false),
            last_checkpoint: AtomicU64::new(last_cp),
            metrics: Metrics::default(),
            ledger_id,
            keys: RwLock::new(HashMap::new()),
        });
        let (sync_tx, sync_rx) = crossbeam_channel::unbounded();
        let s = Arc::clone(&shared);
        let syncer = std::thread::Builder::new()
            .name("coopledger-syncer".into())
            .spawn(move || engine::run_syncer(s, sync_rx))
            .ok();
        let s = Arc::clone(&shared);
        let writer = std::thread::Builder::new()
            .name("coopledger-writer".into())
            .spawn(move || engine::run(s, rx, sync_tx))
            .ok();
        Ledger {
            shared,
            tx: Some(tx),
            writer,
            syncer,
        }
    }

    /// Creates a ledger in an empty store from a signed genesis event.
    pub fn create(
        store: S,
        genesis: SignedEvent,
        node_key: SecretKey,
        config: Config,
    ) -> Result<(Ledger<S>, Receipt), LedgerError> {
        let log = Log::open(store)?;
        if log.head()?.size != 0 {
            return Err(LedgerError::Setup(
                "the store already holds a ledger; open it instead".into(),
            ));
        }
        let ledger = Ledger::start(log, State::default(), node_key, config);
        let receipt = ledger
            .submit(genesis)
            .map_err(|e| LedgerError::Genesis(e.to_string()))?;
        Ok((ledger, receipt))
    }

    /// An empty ledger to be filled by replication ([`Ledger::replicate`]): a follower's
    /// copy of another node's ledger, record for record.
    pub fn empty(store: S, node_key: SecretKey, config: Config) -> Result<Ledger<S>, LedgerError> {
        let log = Log::open(store)?;
        if log.head()?.size != 0 {
            return Err(LedgerError::Setup(
                "the store already holds a ledger; open it instead".into(),
            ));
        }
        Ok(Ledger::start(log, State::default(), node_key, config))
    }

    /// Appends records sequenced by another node (a follower's replication), after the
    /// caller verified them (coop-verify): they are checked again here — linked, in
    /// order, allowed by the rules — folded into the state and written durably. On error
    /// nothing is written.
    pub fn replicate(&self, records: Vec<SealedRecord>) -> Result<(), LedgerError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut state = self
            .shared
            .state
            .write()
            .map_err(|_| LedgerError::BadQuery("state lock poisoned".into()))?;
        // Judge the whole batch on a copy: a refusal must leave the state as it was.
        let mut next = state.clone();
        for r in &records {
            next.step(&r.record)
                .map_err(|violation| LedgerError::InvalidHistory {
                    seq: r.record.seq,
                    violation,
                })?;
        }
        self.shared.log.append_records(records)?;
        self.shared.set_ledger_id(next.ledger_id);
        *state = next;
        Ok(())
    }

    /// Stores a checkpoint note of another node (a follower keeping the leader's
    /// checkpoints) after the caller verified it; the store checks that its body matches
    /// the records.
    pub fn store_foreign_checkpoint(&self, note: &str) -> Result<(), LedgerError> {
        self.shared
            .log
            .put_checkpoint(note)
            .map_err(|e| LedgerError::BadQuery(e.to_string()))?;
        Ok(())
    }

    /// Opens an existing ledger: checks the store (coop-store), that the latest
    /// checkpoint is signed by `node_key`, the signatures of every record after it, and
    /// replays every record through the Agreement's rules to rebuild the state.
    pub fn open(store: S, node_key: SecretKey, config: Config) -> Result<Ledger<S>, LedgerError> {
        let log = Log::open(store)?;
        let head = log.head()?;
        if head.size == 0 {
            return Err(LedgerError::Setup(
                "the store holds no ledger; create it first".into(),
            ));
        }
        // Records covered by a checkpoint this node signed itself were verified before it
        // signed. A checkpoint by another key (an imported copy of another node's ledger)
        // vouches for nothing here: then every signature is re-verified.
        let mut verified_to = 0;
        if let Some((size, note)) = log.latest_checkpoint()? {
            let v = NoteVerifier {
                name: config.node_name.clone(),
                key: node_key.public(),
                alg: SigAlg::Ed25519,
            };
            match verify_checkpoint(&note, &v, &[]) {
                Ok(_) => verified_to = size,
                Err(e) => tracing::warn!(
                    error = %e,
                    "the latest checkpoint is not this node's; re-verifying every signature"
                ),
            }
        }
        let ledger_id = log.ledger_id()?;
        let mut state = State::default();
        const CHUNK: u64 = 8192;
        let mut start = 0;
        while start < head.size {
            let end = (start + CHUNK).min(head.size);
            let chunk: Vec<SealedRecord> = log.records(start, end).collect::<Result<_, _>>()?;
            // Records the node's own signed checkpoint covers were verified before it
            // signed; the tail after it is re-verified here, on all cores.
            if end > verified_to {
                chunk
                    .par_iter()
                    .filter(|r| r.record.seq >= verified_to)
                    .try_for_each(|r| {
                        let l = if r.record.seq == 0 { None } else { ledger_id };
                        r.record.event.verify(l.as_ref()).map_err(|error| {
                            LedgerError::BadSignature {
                                seq: r.record.seq,
                                error,
                            }
                        })
                    })?;
            }
            for r in &chunk {
                state
                    .step(&r.record)
                    .map_err(|violation| LedgerError::InvalidHistory {
                        seq: r.record.seq,
                        violation,
                    })?;
            }
            start = end;
        }
        tracing::info!(size = head.size, "ledger opened and replayed");
        Ok(Ledger::start(log, state, node_key, config))
    }

    fn sender(&self) -> Result<&Sender<Job>, SubmitError> {
        self.tx
            .as_ref()
            .ok_or_else(|| SubmitError::Unavailable("the ledger is shutting down".into()))
    }

    /// Verifies the event's signature strictly (on the caller's thread, so that many
    /// submitters use all cores) and queues it.
    pub fn submit_async(&self, event: SignedEvent) -> Result<Pending, SubmitError> {
        let ledger = self.shared.ledger_id();
        // The body is encoded once, for the signature, the event hash and the receipt.
        let body = event.body.to_bytes().map_err(|e| {
            self.shared.metrics.refused("invalid");
            SubmitError::Invalid(e.into())
        })?;
        let checked = self.shared.checked_key(&event.body.author.key);
        let verdict = match &checked {
            Ok(k) => event.verify_body_bytes(ledger.as_ref(), k, &body),
            Err(e) => Err(EventError::Signature(e.clone())),
        };
        if let Err(e) = verdict {
            self.shared.metrics.refused("invalid");
            return Err(SubmitError::Invalid(e));
        }
        // Decoding and hashing do not depend on the state: do them here, in parallel,
        // rather than on the writer.
        let decoded = coop_treaty::Decoded::of_body_bytes(&event, &body).map_err(|v| {
            self.shared.metrics.refused(&v.clause());
            SubmitError::Refused(v)
        })?;
        // The genesis names no ledger: its own body defines the id.
        let receipt_ledger = event
            .body
            .ledger_id
            .unwrap_or_else(|| LedgerId::from_genesis_body(&body));
        let (event_id, event_hash) = (event.body.event_id, decoded.event_hash);
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.sender()?
            .send(Job::Submit(event, decoded, tx))
            .map_err(|_| SubmitError::Unavailable("the writer has stopped".into()))?;
        Ok(Pending {
            rx,
            ledger: receipt_ledger,
            event_id,
            event_hash,
            node_key: Arc::clone(&self.shared.node_key),
        })
    }

    /// Appends an event and waits for its receipt. When this returns `Ok`, the event is
    /// durable; on `Err` nothing was written.
    pub fn submit(&self, event: SignedEvent) -> Result<Receipt, SubmitError> {
        self.submit_async(event)?.wait()
    }

    /// Signs and stores a checkpoint of the current head now (or returns the latest one
    /// if nothing was appended since).
    pub fn checkpoint_now(&self) -> Result<String, SubmitError> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.sender()?
            .send(Job::Checkpoint(tx))
            .map_err(|_| SubmitError::Unavailable("the writer has stopped".into()))?;
        rx.recv()
            .map_err(|_| SubmitError::Unavailable("the writer has stopped".into()))?
    }

    /// Stops the writer after the queued submissions, signing a final checkpoint.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.tx = None;
        // The writer finishes the queue and drops its end of the syncer's channel; the
        // syncer then answers the last batches and stops.
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
        if let Some(s) = self.syncer.take() {
            let _ = s.join();
        }
    }

    /// The ledger id.
    pub fn ledger_id(&self) -> Option<LedgerId> {
        self.shared.ledger_id()
    }

    /// The node's public key (checkpoints and receipts).
    pub fn node_key(&self) -> PublicKey {
        self.shared.node_key.public()
    }

    /// The log's head.
    pub fn head(&self) -> Result<Head, LedgerError> {
        Ok(self.shared.log.head()?)
    }

    /// Engine counters.
    pub fn metrics(&self) -> crate::metrics::Snapshot {
        self.shared.metrics.snapshot()
    }

    /// Record `seq`, checked against its stored leaf hash.
    pub fn record(&self, seq: u64) -> Result<Option<SealedRecord>, LedgerError> {
        Ok(self.shared.log.record(seq)?)
    }

    /// The record holding event `id`.
    pub fn record_by_event_id(&self, id: &EventId) -> Result<Option<SealedRecord>, LedgerError> {
        match self.shared.log.seq_of(id)? {
            Some(seq) => self.record(seq),
            None => Ok(None),
        }
    }

    /// Records `start..end`.
    pub fn records(&self, start: u64, end: u64) -> Result<Vec<SealedRecord>, LedgerError> {
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
            .map_err(|_| LedgerError::BadQuery("state lock poisoned".into()))?;
        Ok(f(&s))
    }

    /// The state as of an earlier point, rebuilt by replaying records from 0 (the fold
    /// is pure, so this is exactly the state the ledger had then).
    pub fn state_as_of(&self, as_of: AsOf) -> Result<State, LedgerError> {
        let size = self.head()?.size;
        let end = match as_of {
            AsOf::Seq(seq) if seq >= size => {
                return Err(LedgerError::BadQuery(format!(
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
            state
                .step(&r.record)
                .map_err(|violation| LedgerError::InvalidHistory {
                    seq: r.record.seq,
                    violation,
                })?;
        }
        Ok(state)
    }

    /// A case now, or as of an earlier point.
    pub fn case(&self, id: &CaseId, as_of: Option<AsOf>) -> Result<Option<Case>, LedgerError> {
        match as_of {
            None => self.with_state(|s| s.cases.get(id).cloned()),
            Some(a) => Ok(self.state_as_of(a)?.cases.get(id).cloned()),
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
        Ok(self.shared.log.root_at(size)?)
    }

    /// Inclusion proof of record `seq` in the tree of `size` records.
    pub fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        Ok(self.shared.log.inclusion_proof(seq, size)?)
    }

    /// Consistency proof between two tree sizes.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, LedgerError> {
        Ok(self.shared.log.consistency_proof(size1, size2)?)
    }

    /// Stored checkpoint for `size`.
    pub fn checkpoint(&self, size: u64) -> Result<Option<String>, LedgerError> {
        Ok(self.shared.log.checkpoint(size)?)
    }

    /// Tree sizes of every stored checkpoint, ascending.
    pub fn checkpoint_sizes(&self) -> Result<Vec<u64>, LedgerError> {
        Ok(self.shared.log.store().checkpoint_sizes()?)
    }

    /// Stores a checkpoint note that carries more signatures (witness cosignatures) than
    /// the one stored for its size. The node's own signature must verify, and the body
    /// must match the ledger at that size; the cosignatures are the caller's to check
    /// (against the witnesses the ledger registers). Returns the checkpoint's size.
    pub fn store_cosigned(&self, note: &str) -> Result<u64, LedgerError> {
        let cp = verify_checkpoint(note, &self.shared.node_verifier(), &[])
            .map_err(|e| LedgerError::BadQuery(format!("not this node's checkpoint: {e}")))?
            .checkpoint;
        if self.checkpoint(cp.size)?.is_none() {
            return Err(LedgerError::BadQuery(format!(
                "this node signed no checkpoint at size {}",
                cp.size
            )));
        }
        self.shared
            .log
            .put_checkpoint(note)
            .map_err(|e| LedgerError::BadQuery(e.to_string()))?;
        Ok(cp.size)
    }

    /// The node's checkpoint verifier key (C2SP signed-note form).
    pub fn node_verifier(&self) -> NoteVerifier {
        self.shared.node_verifier()
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
