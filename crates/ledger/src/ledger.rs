//! The ledger handle: open or create, submit, query.

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
    /// The state of the durable records: all a reader is shown. A version of the
    /// writer's state, sharing its nodes (ADR 0021), replaced by the syncer.
    pub(crate) state: RwLock<State>,
    /// The writer's state: the durable records and the batches not yet synced.
    pub(crate) working: Mutex<State>,
    /// Whether storage failed, and why: shared with every submission waiting, so that a
    /// wait that runs out marks the ledger failed without the (stuck) writer.
    pub(crate) health: Arc<Health>,
    pub(crate) node_key: Arc<SecretKey>,
    pub(crate) config: Config,
    pub(crate) last_checkpoint: AtomicU64,
    /// The last checkpoint this node signed (a group commit's, or the writer's), stored
    /// or not: the writer stores it rather than sign the same size again.
    last_signed: Mutex<Option<(u64, Arc<str>)>>,
    /// Records covered by the newest snapshot of the state (taken or loaded).
    pub(crate) last_snapshot: AtomicU64,
    pub(crate) metrics: Metrics,
    ledger_id: OnceLock<LedgerId>,
    /// Author keys already decompressed and checked: a ledger's few dozen keys sign
    /// millions of events. Bounded, since anyone may submit an event under any key.
    keys: RwLock<HashMap<PublicKey, CheckedKey>>,
}

/// Most keys kept decompressed; the cache starts over when full.
const KEY_CACHE: usize = 4096;

/// Whether the ledger's storage failed, and why: once it has, the ledger appends nothing
/// more until it is reopened (which re-checks the store and repairs it from its journal).
#[derive(Debug, Default)]
pub(crate) struct Health {
    failed: AtomicBool,
    failure: Mutex<Option<String>>,
}

impl Health {
    /// Stops appending after a storage failure.
    pub(crate) fn fail(&self, why: &str) {
        if !self.failed.swap(true, std::sync::atomic::Ordering::AcqRel) {
            tracing::error!(
                error = why,
                "storage failure: the ledger stops appending until restarted; reads go on"
            );
        }
        if let Ok(mut f) = self.failure.lock()
            && f.is_none()
        {
            *f = Some(why.to_owned());
        }
    }

    /// Whether storage failed.
    pub(crate) fn is_failed(&self) -> bool {
        self.failed.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Why the ledger stopped appending, if it has.
    pub(crate) fn failure(&self) -> Option<String> {
        if !self.is_failed() {
            return None;
        }
        Some(
            self.failure
                .lock()
                .ok()
                .and_then(|f| f.clone())
                .unwrap_or_else(|| "a storage failure".into()),
        )
    }
}

impl<S: Store> Shared<S> {
    /// Stops appending after a storage failure (until a restart, which re-checks the
    /// store and repairs it from its journal).
    pub(crate) fn fail(&self, why: &str) {
        self.health.fail(why);
    }

    /// Why the ledger stopped appending, if it has.
    pub(crate) fn failure(&self) -> Option<String> {
        self.health.failure()
    }

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

    /// This node's checkpoint verifier (its key, named after the origin), once the
    /// ledger has its genesis.
    pub(crate) fn node_verifier(&self) -> Option<NoteVerifier> {
        self.ledger_id()
            .map(|l| coop_core::checkpoint::node_verifier(&l, self.node_key.public()))
    }

    /// Whether this node signs the ledger's checkpoints: configured to, and its key is the
    /// one the ledger names now.
    pub(crate) fn signs(&self, state: &State) -> bool {
        self.config.sign_checkpoints
            && state
                .agreement
                .node_keys_at(state.size)
                .contains(&self.node_key.public())
    }

    /// The node's time now: the clock, but never before the last record's time.
    pub(crate) fn now(&self, state: &State) -> Timestamp {
        self.config.clock.now().max(state.last_time)
    }

    pub(crate) fn ledger_id(&self) -> Option<LedgerId> {
        self.ledger_id.get().copied()
    }

    /// The last checkpoint this node signed: its size and note.
    pub(crate) fn last_signed(&self) -> Option<(u64, Arc<str>)> {
        self.last_signed.lock().ok().and_then(|l| l.clone())
    }

    /// Remembers a checkpoint this node signed (never one smaller than the last).
    pub(crate) fn set_last_signed(&self, size: u64, note: Arc<str>) {
        if let Ok(mut l) = self.last_signed.lock()
            && l.as_ref().is_none_or(|(s, _)| *s <= size)
        {
            *l = Some((size, note));
        }
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
        Ok(Some(Landed::of(&rec.record, rec.leaf, rec.chain)))
    }
}

/// A submission on its way: [`Pending::wait`] blocks for the answer.
#[derive(Debug)]
pub struct Pending {
    rx: Receiver<Result<Proven, SubmitError>>,
    ledger: LedgerId,
    event_id: EventId,
    event_hash: Hash,
    health: Arc<Health>,
    timeout: Duration,
}

impl Pending {
    /// Waits until the event is durable and proven in a signed checkpoint; returns its
    /// receipt. The wait is bounded by [`Config::storage_timeout`]: storage that does not
    /// answer by then (a flush that never returns) is a storage failure, and the answer
    /// is that the event may have landed.
    pub fn wait(self) -> Result<Receipt, SubmitError> {
        let answer = match self.rx.recv_timeout(self.timeout) {
            Ok(a) => a,
            Err(RecvTimeoutError::Timeout) => {
                let why = format!(
                    "storage did not answer within {} s (a write or sync that does not return)",
                    self.timeout.as_secs_f64()
                );
                self.health.fail(&why);
                return Err(SubmitError::MayHaveLanded(why));
            }
            // The writer or syncer ended without answering: it had taken the event, so
            // it may have written it.
            Err(RecvTimeoutError::Disconnected) => {
                return Err(SubmitError::MayHaveLanded(
                    "the writer stopped before answering".into(),
                ));
            }
        };
        let Proven {
            landed,
            checkpoint,
            proof,
        } = answer?;
        Ok(Receipt {
            format: coop_core::RECEIPT_FORMAT.to_owned(),
            ledger_id: self.ledger,
            seq: landed.seq,
            event_id: self.event_id,
            event_hash: self.event_hash,
            prev_chain: landed.prev_chain,
            received_at: landed.received_at,
            governance: landed.governance,
            leaf: landed.leaf,
            chain: landed.chain,
            checkpoint: checkpoint.to_string(),
            proof,
        })
    }
}

/// An event whose signature and payload were checked, ready for the writer.
struct Admitted {
    event: SignedEvent,
    decoded: coop_treaty::Decoded,
    receipt_ledger: LedgerId,
}

/// The keys a checkpoint is judged by ([`Ledger::checkpoint_keys`]).
pub(crate) struct CheckpointKeys {
    /// The node keys the ledger names for it.
    pub(crate) nodes: Vec<NoteVerifier>,
    /// The registered witnesses' keys.
    pub(crate) verifiers: Vec<NoteVerifier>,
    /// The same, each with its Party.
    pub(crate) witnesses: Vec<(NoteVerifier, coop_treaty::Party)>,
}

/// Folds a stored record into `state` on a replay: a record the rules refuse means the
/// stored history is not a valid one.
fn replay_step(state: &mut State, r: &SealedRecord) -> Result<(), LedgerError> {
    state
        .step(&r.record)
        .map_err(|violation| LedgerError::InvalidHistory {
            seq: r.record.seq,
            violation,
        })
}

/// A thread of the engine, and word of its end (std's join cannot wait for a bounded
/// time).
struct Worker {
    name: &'static str,
    handle: JoinHandle<()>,
    done: Receiver<()>,
}

impl Worker {
    fn spawn(name: &'static str, f: impl FnOnce() + Send + 'static) -> Option<Worker> {
        let (tx, done) = crossbeam_channel::bounded(1);
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                f();
                let _ = tx.send(());
            })
            .ok()
            .map(|handle| Worker { name, handle, done })
    }

    /// Joins the thread if it ends within `bound`; otherwise leaves it (stuck in storage)
    /// and marks storage failed.
    fn join_within(self, bound: Duration, health: &Health) {
        match self.done.recv_timeout(bound) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                let _ = self.handle.join();
            }
            Err(RecvTimeoutError::Timeout) => {
                health.fail(&format!(
                    "the {} did not stop within {} s (stuck in storage)",
                    self.name,
                    bound.as_secs_f64()
                ));
                tracing::error!(
                    thread = self.name,
                    "left behind at shutdown: it waits on storage that does not answer"
                );
            }
        }
    }
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

impl<S: Store + 'static> Ledger<S> {
    fn start(
        log: Log<S>,
        state: State,
        node_key: SecretKey,
        config: Config,
        snapshot: u64,
    ) -> Ledger<S> {
        let last_cp = log.latest_checkpoint().ok().flatten().map_or(0, |(s, _)| s);
        let ledger_id = OnceLock::new();
        if let Some(id) = state.ledger_id {
            let _ = ledger_id.set(id);
        }
        let (tx, rx): (Sender<Job>, Receiver<Job>) = crossbeam_channel::bounded(config.queue);
        let shared = Arc::new(Shared {
            log,
            working: Mutex::new(state.clone()),
            health: Arc::new(Health::default()),
            state: RwLock::new(state),
            node_key: Arc::new(node_key),
            config,
            last_checkpoint: AtomicU64::new(last_cp),
            last_signed: Mutex::new(None),
            last_snapshot: AtomicU64::new(snapshot),
            metrics: Metrics::default(),
            ledger_id,
            keys: RwLock::new(HashMap::new()),
        });
        let (sync_tx, sync_rx) = crossbeam_channel::unbounded();
        let s = Arc::clone(&shared);
        let syncer = Worker::spawn("coopledger-syncer", move || engine::run_syncer(s, sync_rx));
        let s = Arc::clone(&shared);
        let writer = Worker::spawn("coopledger-writer", move || engine::run(s, rx, sync_tx));
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
        match coop_treaty::Payload::from_bytes(&genesis.body.payload) {
            Ok(coop_treaty::Payload::Genesis {
                node_key: named,
                test_ledger,
                ..
            }) => {
                if named != node_key.public() {
                    return Err(LedgerError::Setup(format!(
                        "the genesis names the node key {named}, but this node's key is {}: create the ledger with the key the genesis names",
                        node_key.public()
                    )));
                }
                check_clock(&config, test_ledger)?;
            }
            _ => {
                return Err(LedgerError::Genesis(
                    "the first event must be a genesis".into(),
                ));
            }
        }
        let ledger = Ledger::start(log, State::default(), node_key, config, 0);
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
        Ok(Ledger::start(log, State::default(), node_key, config, 0))
    }

    /// Appends records sequenced by another node (a follower's replication), after the
    /// caller verified them (coop-verify): they are checked again here — linked, in
    /// order, allowed by the rules — folded into the state and written durably. On error
    /// nothing is written.
    pub fn replicate(&self, records: Vec<SealedRecord>) -> Result<(), LedgerError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut working =
            self.shared.working.lock().map_err(|_| {
                LedgerError::Unavailable("the writer's state lock is poisoned".into())
            })?;
        // Judge the whole batch on a copy: a refusal must leave the state as it was. (An
        // O(1) copy: it shares the state's nodes until the rules change them; ADR 0021.)
        let mut next = working.clone();
        for r in &records {
            let invalid = |violation| LedgerError::InvalidHistory {
                seq: r.record.seq,
                violation,
            };
            next.step(&r.record).map_err(invalid)?;
        }
        if let Err(e) = self.shared.log.append_records(records) {
            if !matches!(e, coop_store::StoreError::Full { .. }) {
                self.shared.fail(&format!("storage failure: {e}"));
            }
            return Err(e.into());
        }
        // Durable (append_records synced): show it to readers.
        drop(engine::publish(&self.shared, next.clone()));
        *working = next;
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
        // signed. A checkpoint by another key (a follower's or an imported copy) vouches
        // for nothing here: then every signature is re-verified.
        let ledger_id = log.ledger_id()?;
        let mut verified_to = 0;
        if let (Some((size, note)), Some(l)) = (log.latest_checkpoint()?, ledger_id) {
            let v = coop_core::checkpoint::node_verifier(&l, node_key.public());
            // Or the follower's own cosignature on it (it cosigns only what it verified);
            // the log checked the checkpoint's root against the records when it opened.
            let vouched = config.vouched_by.as_ref().is_some_and(|w| {
                matches!(
                    coop_core::checkpoint::own_cosignature(&note, w),
                    Ok(Some((cp, _))) if cp.size == size && cp.ledger_id == l
                )
            });
            match verify_checkpoint(&note, &v, &[]) {
                Ok(_) => verified_to = size,
                Err(_) if vouched => verified_to = size,
                Err(e) => tracing::info!(
                    error = %e,
                    "the latest checkpoint is not this node's; re-verifying every signature"
                ),
            }
        }
        // The newest snapshot of the state, if this node's own checkpoint covers it (its
        // records were verified before it was signed) and it was taken on this history;
        // else every record is replayed. The offline verifier never reads one.
        let (mut state, snapshot) = match load_snapshot(&log, verified_to) {
            Some(s) => {
                let seq = s.size;
                (s, seq)
            }
            None => (State::default(), 0),
        };
        const CHUNK: u64 = 8192;
        let mut start = snapshot;
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
                replay_step(&mut state, r)?;
            }
            start = end;
        }
        check_clock(&config, state.test_ledger)?;
        tracing::info!(
            size = head.size,
            from_snapshot = snapshot,
            replayed = head.size - snapshot,
            "ledger opened and replayed"
        );
        Ok(Ledger::start(log, state, node_key, config, snapshot))
    }

    fn sender(&self) -> Result<&Sender<Job>, SubmitError> {
        self.tx
            .as_ref()
            .ok_or_else(|| SubmitError::Unavailable("the ledger is shutting down".into()))
    }

    /// Verifies the event's signature strictly (on the caller's thread, so that many
    /// submitters use all cores) and queues it.
    pub fn submit_async(&self, event: SignedEvent) -> Result<Pending, SubmitError> {
        let admitted = self.admit(event)?;
        self.enqueue(admitted)
    }

    /// Submits many events as if each were submitted alone, one after another, in the
    /// given order: signatures are checked in parallel, then the events are queued in
    /// order, so an event may depend on one before it in the same batch. Not atomic: each
    /// event gets its own answer (a receipt once durable, or why nothing was written for
    /// it), and a refused event does not stop the ones after it.
    pub fn submit_batch(&self, events: Vec<SignedEvent>) -> Vec<Result<Receipt, SubmitError>> {
        let admitted: Vec<Result<Admitted, SubmitError>> =
            events.into_par_iter().map(|e| self.admit(e)).collect();
        let pending: Vec<Result<Pending, SubmitError>> = admitted
            .into_iter()
            .map(|a| a.and_then(|a| self.enqueue(a)))
            .collect();
        pending
            .into_iter()
            .map(|p| p.and_then(Pending::wait))
            .collect()
    }

    /// What does not depend on the ledger's state: the sequencer check, the signature,
    /// the payload decode and the event hash.
    fn admit(&self, event: SignedEvent) -> Result<Admitted, SubmitError> {
        let ledger = self.shared.ledger_id();
        if ledger.is_some()
            && !self
                .with_state(|s| self.shared.signs(s) || self.names_me(s, &event))
                .unwrap_or(false)
        {
            return Err(SubmitError::Unavailable(
                "this node does not sequence this ledger (its key is not the node key the ledger names, or it is a follower): submit to the ledger's node".into(),
            ));
        }
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
        Ok(Admitted {
            event,
            decoded,
            receipt_ledger,
        })
    }

    /// Queues an admitted event for the writer, which judges it against the state.
    fn enqueue(&self, admitted: Admitted) -> Result<Pending, SubmitError> {
        let Admitted {
            event,
            decoded,
            receipt_ledger,
        } = admitted;
        let (event_id, event_hash) = (event.body.event_id, decoded.event_hash);
        if let Some(why) = self.shared.failure() {
            return Err(SubmitError::Unavailable(format!(
                "{why}; the ledger appends nothing until it is restarted"
            )));
        }
        let (tx, rx) = crossbeam_channel::bounded(1);
        let timeout = self.shared.config.storage_timeout;
        // A full queue waits for the writer, but not for ever: a writer stuck on storage
        // takes nothing more.
        self.sender()?
            .send_timeout(Job::Submit(event, decoded, tx), timeout)
            .map_err(|e| match e {
                SendTimeoutError::Timeout(_) => SubmitError::Unavailable(format!(
                    "the writer took no submission for {} s (storage does not answer)",
                    timeout.as_secs_f64()
                )),
                SendTimeoutError::Disconnected(_) => {
                    SubmitError::Unavailable("the writer has stopped".into())
                }
            })?;
        Ok(Pending {
            rx,
            ledger: receipt_ledger,
            event_id,
            event_hash,
            health: Arc::clone(&self.shared.health),
            timeout,
        })
    }

    /// Whether `event` is a step of a node handover to this node's key: the one thing a
    /// node appends before the ledger names it (`coopledger promote`, on a follower's copy
    /// whose leader is lost). The rules judge it as any other event: both Parties' roots
    /// must sign the proposal and the acceptance.
    fn names_me(&self, state: &State, event: &SignedEvent) -> bool {
        if !self.shared.config.sign_checkpoints {
            return false; // a follower's copy: `promote` makes it a node first
        }
        let me = self.shared.node_key.public();
        match coop_treaty::Payload::from_bytes(&event.body.payload) {
            Ok(coop_treaty::Payload::NodeHandoverProposed { key, .. }) => key == me,
            Ok(coop_treaty::Payload::NodeHandoverAccepted { id }) => state
                .agreement
                .handovers
                .get(&id)
                .is_some_and(|h| h.key == me),
            _ => false,
        }
    }

    /// Appends an event and waits for its receipt. When this returns `Ok`, the event is
    /// durable; on [`SubmitError::MayHaveLanded`] it may be, and a retry of the same
    /// event returns its first receipt if it is; on any other `Err` nothing was written.
    pub fn submit(&self, event: SignedEvent) -> Result<Receipt, SubmitError> {
        self.submit_async(event)?.wait()
    }

    /// Signs and stores a checkpoint of the current head now (or returns the latest one
    /// if nothing was appended since).
    pub fn checkpoint_now(&self) -> Result<String, SubmitError> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let timeout = self.shared.config.storage_timeout;
        self.sender()?
            .send_timeout(Job::Checkpoint(tx), timeout)
            .map_err(|_| SubmitError::Unavailable("the writer takes no request".into()))?;
        rx.recv_timeout(timeout).map_err(|_| {
            SubmitError::Unavailable(format!(
                "no checkpoint within {} s (storage does not answer)",
                timeout.as_secs_f64()
            ))
        })?
    }

    /// Stops the writer after the queued submissions, signing a final checkpoint.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.tx = None;
        // The writer finishes the queue and drops its end of the syncer's channel; the
        // syncer then answers the last batches and stops. Each gets the storage bound
        // for every batch still queued, at least once: a thread stuck in a write or
        // sync that never returns is left behind (and ends with the process), so that
        // stopping always ends.
        let bound = self.shared.config.storage_timeout.saturating_mul(2);
        for w in [self.writer.take(), self.syncer.take()]
            .into_iter()
            .flatten()
        {
            w.join_within(bound, &self.shared.health);
        }
    }

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

    /// The keys a checkpoint of `size` records is judged by: the node keys the ledger
    /// names for it, and the witnesses registered before its last record (with their
    /// Parties).
    pub(crate) fn checkpoint_keys(&self, size: u64) -> Result<CheckpointKeys, LedgerError> {
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
            for line in new.note.signatures.into_iter().skip(1) {
                merged
                    .signatures
                    .retain(|l| !(l.name == line.name && l.key_id == line.key_id));
                merged.signatures.push(line);
            }
        }
        self.check_size(size)?;
        let text = merged.render();
        match self.shared.log.put_checkpoint(&text) {
            Ok(_) => Ok((size, text)),
            // The note does not match the records: the sender's mistake.
            Err(coop_store::StoreError::Conflict(m)) => Err(bad(m)),
            Err(e) => {
                if !matches!(e, coop_store::StoreError::Full { .. }) {
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

/// The state of the newest usable snapshot: one covering at most `verified_to` records (a
/// checkpoint this node vouches for covers them), taken when the store's chain hash at
/// its seq was the one it names, whose bytes decode to a state of exactly that size. A
/// snapshot that fails any of these is logged and not used.
fn load_snapshot<S: Store>(log: &Log<S>, verified_to: u64) -> Option<State> {
    let snap = match log.store().latest_snapshot() {
        Ok(Some(s)) => s,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(error = %e, "snapshots could not be read; replaying every record");
            return None;
        }
    };
    let why = if snap.seq == 0 || snap.seq > verified_to {
        format!(
            "it covers {} records, but this node's checkpoint vouches for {verified_to}",
            snap.seq
        )
    } else {
        match log.store().chain(snap.seq - 1) {
            Ok(Some(c)) if c == snap.chain => match decode_snapshot(&snap.bytes) {
                Ok(state) if state.size == snap.seq => {
                    tracing::info!(seq = snap.seq, "loaded the state's snapshot");
                    return Some(state);
                }
                Ok(state) => format!(
                    "it holds a state of {} records, not {}",
                    state.size, snap.seq
                ),
                Err(e) => e.to_string(),
            },
            Ok(_) => "it was taken on another history (its chain hash is not the store's)".into(),
            Err(e) => e.to_string(),
        }
    };
    tracing::warn!(seq = snap.seq, why = %why, "a snapshot is not used; replaying every record");
    None
}

/// A snapshot's state, its parts decoded on all cores (the treaty crate has no threads;
/// it splits and assembles, docs/adr/0021).
fn decode_snapshot(bytes: &[u8]) -> Result<State, coop_treaty::snapshot::SnapshotError> {
    let parts = coop_treaty::snapshot::parts(bytes)?;
    let decoded = (0..parts.len())
        .into_par_iter()
        .map(|i| parts.decode(i))
        .collect::<Result<Vec<_>, _>>()?;
    parts.assemble(decoded)
}

/// Only a test ledger accepts a clock other than the system's.
fn check_clock(config: &Config, test_ledger: bool) -> Result<(), LedgerError> {
    if !config.clock.is_system() && !test_ledger {
        return Err(LedgerError::Setup(
            "this clock can be moved, and only a ledger whose genesis marks it a test ledger accepts one; a ledger the Parties rely on runs on the system clock".into(),
        ));
    }
    Ok(())
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
