//! What the ledger's writer, syncer and readers share: the log, the two versions of the
//! state, the node key, whether storage failed.

use super::*;

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
    pub(crate) last_signed: Mutex<Option<(u64, Arc<str>)>>,
    /// Records covered by the newest snapshot of the state (taken or loaded).
    pub(crate) last_snapshot: AtomicU64,
    pub(crate) metrics: Metrics,
    pub(crate) ledger_id: OnceLock<LedgerId>,
    /// Author keys already decompressed and checked: a ledger's few dozen keys sign
    /// millions of events. Bounded, since anyone may submit an event under any key.
    pub(crate) keys: RwLock<HashMap<PublicKey, CheckedKey>>,
}

/// Most keys kept decompressed; the cache starts over when full.
const KEY_CACHE: usize = 4096;

/// Whether the ledger's storage failed, and why: once it has, the ledger appends nothing
/// more until it is reopened (which re-checks the store and repairs it from its journal).
#[derive(Debug, Default)]
pub(crate) struct Health {
    pub(crate) failed: AtomicBool,
    pub(crate) failure: Mutex<Option<String>>,
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

/// The keys a checkpoint is judged by ([`Ledger::checkpoint_keys`]).
#[derive(Debug)]
pub struct CheckpointKeys {
    /// The node keys the ledger names for it.
    pub nodes: Vec<NoteVerifier>,
    /// The registered witnesses' keys.
    pub verifiers: Vec<NoteVerifier>,
    /// The same, each with its Party.
    pub witnesses: Vec<(NoteVerifier, coop_treaty::Party)>,
}
