//! Creating and opening a ledger: replay (from a snapshot when one serves), the engine's
//! threads, and stopping them within a bound.

use super::*;

/// Folds a stored record into `state` on a replay: a record the rules refuse means the
/// stored history is not a valid one.
pub(crate) fn replay_step(state: &mut State, r: &SealedRecord) -> Result<(), LedgerError> {
    state
        .step(&r.record)
        .map_err(|violation| LedgerError::InvalidHistory {
            seq: r.record.seq,
            violation,
        })
}

/// A thread of the engine, and word of its end (std's join cannot wait for a bounded
/// time).
pub(crate) struct Worker {
    pub(crate) name: &'static str,
    pub(crate) handle: JoinHandle<()>,
    pub(crate) done: Receiver<()>,
}

impl Worker {
    pub(crate) fn spawn(name: &'static str, f: impl FnOnce() + Send + 'static) -> Option<Worker> {
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
    pub(crate) fn join_within(self, bound: Duration, health: &Health) {
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

impl<S: Store + 'static> Ledger<S> {
    pub(crate) fn start(
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
            if !matches!(
                e,
                coop_store::StoreError::Full { .. } | coop_store::StoreError::Behind { .. }
            ) {
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
}

/// The state of the newest usable snapshot: one covering at most `verified_to` records (a
/// checkpoint this node vouches for covers them), taken when the store's chain hash at
/// its seq was the one it names, whose bytes decode to a state of exactly that size. A
/// snapshot that fails any of these is logged and not used.
pub(crate) fn load_snapshot<S: Store>(log: &Log<S>, verified_to: u64) -> Option<State> {
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
pub(crate) fn decode_snapshot(bytes: &[u8]) -> Result<State, coop_treaty::snapshot::SnapshotError> {
    let parts = coop_treaty::snapshot::parts(bytes)?;
    let decoded = (0..parts.len())
        .into_par_iter()
        .map(|i| parts.decode(i))
        .collect::<Result<Vec<_>, _>>()?;
    parts.assemble(decoded)
}

/// Only a test ledger accepts a clock other than the system's.
pub(crate) fn check_clock(config: &Config, test_ledger: bool) -> Result<(), LedgerError> {
    if !config.clock.is_system() && !test_ledger {
        return Err(LedgerError::Setup(
            "this clock can be moved, and only a ledger whose genesis marks it a test ledger accepts one; a ledger the Parties rely on runs on the system clock".into(),
        ));
    }
    Ok(())
}
