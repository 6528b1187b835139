use crate::StoreError;
use crate::error::corrupt;
use crate::store::{Store, WriteBatch};
use coop_core::checkpoint::Checkpoint;
use coop_core::merkle::{self, Blake3Hasher, Frontier, NodeReader, ProofError};
use coop_core::{
    CHAIN_SEED, EventId, Hash, LedgerId, Record, SealedRecord, SignedEvent, Timestamp,
};
use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, RwLock};

/// The state of the log's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// Number of records.
    pub size: u64,
    /// Chain hash after the last record ([`CHAIN_SEED`] when empty).
    pub chain_head: Hash,
    /// Merkle root of all records.
    pub root: Hash,
}

/// Where an appended record landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// Its seq.
    pub seq: u64,
    /// Its Merkle leaf hash.
    pub leaf: Hash,
    /// The chain hash after it.
    pub chain: Hash,
}

struct Writer {
    frontier: Frontier<Blake3Hasher>,
    chain_head: Hash,
    ledger_id: Option<LedgerId>,
    poisoned: bool,
}

/// The verified, append-only log over a [`Store`].
///
/// It owns the rules of the bytes: records continue the chain without gaps, the Merkle
/// nodes and chain hashes stored beside them are the ones the records imply, a checkpoint
/// matches the log at its size, and an event id appears once. It checks the store when it
/// opens, and re-checks every record it reads against the stored leaf hash, since
/// anything read back from disk is untrusted until verified.
///
/// One writer at a time: appends serialise on an internal lock; reads run concurrently.
///
/// Two heads: [`Log::head`] is where the writer appends next (records written, perhaps
/// not yet durable); [`Log::durable_head`] is what has been made durable (fsync'd) and
/// is all a reader may be shown: a record shown before it is durable may be gone after
/// a crash (docs/adr/0014).
pub struct Log<S: Store> {
    store: S,
    writer: Mutex<Writer>,
    durable: RwLock<Head>,
    /// The frontier's edge before each of the last [`EDGES_KEPT`] appends, by the size it
    /// was at: a group commit's receipts are proven from its leaves and the edge before
    /// them, with no read of the store (`prove_group`).
    edges: Mutex<std::collections::VecDeque<(u64, Edge)>>,
}

/// A frontier's edge: its nodes by (level, index).
type Edge = Vec<((u8, u64), Hash)>;

/// Appends whose frontier edge is kept for their receipts.
const EDGES_KEPT: usize = 64;

impl<S: Store> std::fmt::Debug for Log<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log").finish_non_exhaustive()
    }
}

/// Reads Merkle nodes from a store; a missing node means the store is damaged.
struct Nodes<'a, S: Store>(&'a S);

impl<S: Store> NodeReader<Hash> for Nodes<'_, S> {
    type Error = StoreError;
    fn node(&self, level: u8, index: u64) -> Result<Hash, StoreError> {
        self.0.node(level, index)?.ok_or_else(|| {
            corrupt(
                (level == 0).then_some(index),
                format!("Merkle node (level {level}, index {index}) is missing"),
            )
        })
    }
}

/// Nodes from a frontier's edge in memory, the rest from the store.
struct Edged<'a, S: Store> {
    edge: Edge,
    store: Nodes<'a, S>,
}

impl<S: Store> NodeReader<Hash> for Edged<'_, S> {
    type Error = StoreError;
    fn node(&self, level: u8, index: u64) -> Result<Hash, StoreError> {
        match self.edge.iter().find(|(k, _)| *k == (level, index)) {
            Some((_, h)) => Ok(*h),
            None => self.store.node(level, index),
        }
    }
}

fn proof_err(e: ProofError<StoreError>) -> StoreError {
    match e {
        ProofError::Storage(s) => s,
        ProofError::BadRequest(m) => StoreError::Conflict(m.to_owned()),
        ProofError::Invalid(m) => corrupt(None, m),
    }
}

impl<S: Store> Log<S> {
    /// Opens the log and checks the store: the last checkpoint must match the stored
    /// chain head and Merkle root at its size, and every record after it must decode
    /// canonically, link to the one before, and hash to the stored leaf, node and chain
    /// values. A damaged store is refused with [`StoreError::Corrupt`] naming the first
    /// bad seq; nothing is repaired or truncated.
    pub fn open(store: S) -> Result<Log<S>, StoreError> {
        let size = store.size()?;
        let checkpoint = match store.latest_checkpoint()? {
            None => None,
            Some((cp_size, note)) => Some((cp_size, Self::checkpoint_body(cp_size, &note)?)),
        };
        let start = checkpoint.as_ref().map_or(0, |(s, _)| *s);
        if start > size {
            return Err(corrupt(
                Some(size),
                format!(
                    "the store holds {size} records but its checkpoint covers {start}: \
                     records from {size} on are missing (truncated store)"
                ),
            ));
        }
        let mut prev = if start == 0 {
            CHAIN_SEED
        } else {
            store
                .chain(start - 1)?
                .ok_or_else(|| corrupt(Some(start - 1), "chain hash is missing"))?
        };
        let mut frontier = Frontier::<Blake3Hasher>::load(&Nodes(&store), start)?;
        if let Some((cp_size, cp)) = &checkpoint {
            if cp.chain_head != prev {
                return Err(corrupt(
                    cp_size.checked_sub(1),
                    format!("chain head differs from the checkpoint at size {cp_size}"),
                ));
            }
            if frontier.root() != cp.root {
                return Err(corrupt(
                    None,
                    format!("Merkle root differs from the checkpoint at size {cp_size}"),
                ));
            }
        }
        let ledger_id = Self::ledger_id_of(&store, checkpoint.as_ref().map(|(_, c)| c.ledger_id))?;
        let mut expected = start;
        for item in store.records(start, size) {
            let (seq, bytes) = item?;
            if seq != expected {
                return Err(corrupt(
                    Some(expected),
                    "record is missing (gap in the log)",
                ));
            }
            let sealed = SealedRecord::from_bytes(seq, bytes)?;
            sealed.check_link(seq, &prev)?;
            Self::check_stored(&store, &sealed, &mut frontier)?;
            prev = sealed.chain;
            expected += 1;
        }
        if expected != size {
            return Err(corrupt(
                Some(expected),
                "record is missing (gap in the log)",
            ));
        }
        tracing::debug!(
            size,
            checked_from = start,
            "ledger store opened and checked"
        );
        let head = Head {
            size,
            chain_head: prev,
            root: frontier.root(),
        };
        Ok(Log {
            store,
            writer: Mutex::new(Writer {
                frontier,
                chain_head: prev,
                ledger_id,
                poisoned: false,
            }),
            durable: RwLock::new(head),
            edges: Mutex::new(std::collections::VecDeque::new()),
        })
    }

    fn checkpoint_body(size: u64, note: &str) -> Result<Checkpoint, StoreError> {
        let text = coop_core::checkpoint::Note::parse(note)
            .map_err(|e| corrupt(None, format!("stored checkpoint {size}: {e}")))?
            .text;
        let cp = Checkpoint::parse_body(&text)
            .map_err(|e| corrupt(None, format!("stored checkpoint {size}: {e}")))?;
        if cp.size != size {
            return Err(corrupt(
                None,
                format!("checkpoint stored under size {size} says {}", cp.size),
            ));
        }
        Ok(cp)
    }

    fn ledger_id_of(
        store: &S,
        from_checkpoint: Option<LedgerId>,
    ) -> Result<Option<LedgerId>, StoreError> {
        let Some(bytes) = store.record(0)? else {
            return Ok(from_checkpoint);
        };
        let rec = SealedRecord::from_bytes(0, bytes)?;
        let id = Self::genesis_ledger_id(&rec.record.event)?;
        if from_checkpoint.is_some_and(|c| c != id) {
            return Err(corrupt(None, "checkpoint belongs to another ledger"));
        }
        Ok(Some(id))
    }

    fn genesis_ledger_id(ev: &SignedEvent) -> Result<LedgerId, StoreError> {
        let body = ev
            .body
            .to_bytes()
            .map_err(|e| corrupt(Some(0), e.to_string()))?;
        Ok(LedgerId::from_genesis_body(&body))
    }

    /// Checks the leaf, chain, Merkle nodes and event index stored for `sealed`.
    fn check_stored(
        store: &S,
        sealed: &SealedRecord,
        frontier: &mut Frontier<Blake3Hasher>,
    ) -> Result<(), StoreError> {
        let seq = sealed.record.seq;
        if store.chain(seq)? != Some(sealed.chain) {
            return Err(corrupt(
                Some(seq),
                "stored chain hash does not match the record",
            ));
        }
        let mut bad: Option<StoreError> = None;
        frontier.push(sealed.leaf, |level, index, h| {
            if bad.is_some() {
                return;
            }
            match store.node(level, index) {
                Ok(Some(stored)) if stored == *h => {}
                Ok(_) => {
                    bad = Some(corrupt(
                        Some(seq),
                        format!("stored Merkle node (level {level}, index {index}) does not match the records"),
                    ));
                }
                Err(e) => bad = Some(e),
            }
        });
        if let Some(e) = bad {
            return Err(e);
        }
        if store.seq_of(&sealed.record.event.body.event_id)? != Some(seq) {
            return Err(corrupt(
                Some(seq),
                "event-id index does not point at this record",
            ));
        }
        Ok(())
    }

    /// Closes the log and hands back its store (to reopen it, as after a restart).
    pub fn into_store(self) -> S {
        self.store
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    fn writer(&self) -> Result<MutexGuard<'_, Writer>, StoreError> {
        self.writer.lock().map_err(|_| StoreError::Poisoned)
    }

    /// The log's end: where the next append goes. It may include records written but
    /// not yet durable; what a reader may be shown is [`Log::durable_head`].
    pub fn head(&self) -> Result<Head, StoreError> {
        Ok(Self::head_of(&*self.writer()?))
    }

    fn head_of(w: &Writer) -> Head {
        Head {
            size: w.frontier.size(),
            chain_head: w.chain_head,
            root: w.frontier.root(),
        }
    }

    /// The end of what is durable: every record below it survives a crash.
    pub fn durable_head(&self) -> Result<Head, StoreError> {
        self.durable
            .read()
            .map(|h| *h)
            .map_err(|_| StoreError::Poisoned)
    }

    /// Moves the durable head forward to `head` (never back).
    fn publish(&self, head: Head) -> Result<(), StoreError> {
        let mut d = self.durable.write().map_err(|_| StoreError::Poisoned)?;
        if head.size > d.size {
            *d = head;
        }
        Ok(())
    }

    /// The ledger id (from the genesis record), once there is one.
    pub fn ledger_id(&self) -> Result<Option<LedgerId>, StoreError> {
        Ok(self.writer()?.ledger_id)
    }

    /// Appends signed events in order, each with the governance head the engine states for
    /// it (`Record::governance`: the treaty decides which records are governance),
    /// assigning seq and chain links, atomically and durably: when this returns `Ok`,
    /// every event is on disk; on `Err`, none is acknowledged. `received_at` is the node's
    /// time for the whole batch.
    pub fn append_events(
        &self,
        events: Vec<(SignedEvent, Hash)>,
        received_at: Timestamp,
    ) -> Result<Vec<Appended>, StoreError> {
        Ok(only_appended(self.append_events_with(
            events,
            received_at,
            true,
        )?))
    }

    /// Like [`Log::append_events`], but returns once the batch is written and visible,
    /// before it is durable: the caller must call [`Log::sync`] and acknowledge nothing
    /// until it returns. This lets a writer prepare the next batch while the previous one
    /// is being synced (pipelined group commit).
    pub fn append_events_unsynced(
        &self,
        events: Vec<(SignedEvent, Hash)>,
        received_at: Timestamp,
    ) -> Result<Vec<Appended>, StoreError> {
        Ok(only_appended(self.append_events_with(
            events,
            received_at,
            false,
        )?))
    }

    /// Makes every append that returned before this call durable, moves the durable head
    /// to it, and returns it. After a failure the log is poisoned until reopened, as for
    /// a failed append.
    pub fn sync(&self) -> Result<Head, StoreError> {
        // Everything written before this point is covered by the sync below.
        let head = self.head()?;
        if let Err(e) = self.store.sync() {
            if let Ok(mut w) = self.writer.lock() {
                w.poisoned = true;
            }
            tracing::error!(error = %e, "sync failed; log poisoned until reopened");
            return Err(e);
        }
        self.publish(head)?;
        Ok(head)
    }

    /// Whether the log is poisoned (a write or sync failed; reopen before appending).
    pub fn is_poisoned(&self) -> bool {
        self.writer.lock().map_or(true, |w| w.poisoned)
    }

    /// [`Log::append_events_unsynced`], returning each record as written with where it
    /// landed (the engine proves them in its group commit's checkpoint once durable,
    /// without copying the events).
    pub fn append_events_unsynced_records(
        &self,
        events: Vec<(SignedEvent, Hash)>,
        received_at: Timestamp,
    ) -> Result<Vec<(Appended, Record)>, StoreError> {
        self.append_events_with(events, received_at, false)
    }

    fn append_events_with(
        &self,
        events: Vec<(SignedEvent, Hash)>,
        received_at: Timestamp,
        durable: bool,
    ) -> Result<Vec<(Appended, Record)>, StoreError> {
        let mut w = self.writer()?;
        let mut prev = w.chain_head;
        let mut sealed = Vec::with_capacity(events.len());
        for (seq, (event, governance)) in (w.frontier.size()..).zip(events) {
            let s = Record {
                seq,
                prev_chain: prev,
                received_at,
                governance,
                event,
            }
            .seal()
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
            prev = s.chain;
            sealed.push(s);
        }
        self.append_locked(&mut w, sealed, durable)
    }

    /// Appends records that already carry their seq and chain links (import, follower).
    /// They must continue the log exactly.
    pub fn append_records(&self, records: Vec<SealedRecord>) -> Result<Vec<Appended>, StoreError> {
        let mut w = self.writer()?;
        Ok(only_appended(self.append_locked(&mut w, records, true)?))
    }

    /// [`Log::append_records`], written but not yet durable (a bulk rebuild or import
    /// that syncs once at the end).
    pub fn append_records_unsynced(
        &self,
        records: Vec<SealedRecord>,
    ) -> Result<Vec<Appended>, StoreError> {
        let mut w = self.writer()?;
        Ok(only_appended(self.append_locked(&mut w, records, false)?))
    }

    fn append_locked(
        &self,
        w: &mut Writer,
        records: Vec<SealedRecord>,
        durable: bool,
    ) -> Result<Vec<(Appended, Record)>, StoreError> {
        if w.poisoned {
            return Err(StoreError::Poisoned);
        }
        if records.is_empty() {
            return Ok(Vec::new());
        }
        // Work on a copy of the frontier: the real one moves only after the write.
        let mut frontier = w.frontier.clone();
        let mut prev = w.chain_head;
        let mut ledger_id = w.ledger_id;
        let mut batch = WriteBatch::default();
        let mut ids = HashSet::with_capacity(records.len());
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let seq = frontier.size();
            r.check_link(seq, &prev)
                .map_err(|e| StoreError::Conflict(e.to_string()))?;
            let id = r.record.event.body.event_id;
            if !ids.insert(id) || self.store.seq_of(&id)?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "event id {id} is already in the ledger"
                )));
            }
            if seq == 0 {
                ledger_id = Some(Self::genesis_ledger_id(&r.record.event)?);
            }
            frontier.push(r.leaf, |l, i, h| batch.nodes.push(((l, i), *h)));
            prev = r.chain;
            out.push((
                Appended {
                    seq,
                    leaf: r.leaf,
                    chain: r.chain,
                },
                r.record,
            ));
            batch.records.push((seq, r.bytes, r.chain, id));
        }
        // Refused before anything is written when the disk is nearly full: not a failure
        // of the store, so the log is not poisoned and appends resume once there is room.
        self.store.check_room(batch_bytes(&batch))?;
        let written = if durable {
            self.store.write(&batch)
        } else {
            self.store.write_unsynced(&batch)
        };
        if let Err(e) = written {
            // The disk may or may not hold the batch now; only a reopen (which re-checks
            // the store) can tell. Refuse to guess.
            w.poisoned = true;
            tracing::error!(error = %e, "append failed; log poisoned until reopened");
            return Err(e);
        }
        if let Ok(mut edges) = self.edges.lock() {
            if edges.len() >= EDGES_KEPT {
                edges.pop_front();
            }
            let edge = w.frontier.edge().map(|(l, i, d)| ((l, i), *d)).collect();
            edges.push_back((w.frontier.size(), edge));
        }
        w.frontier = frontier;
        w.chain_head = prev;
        w.ledger_id = ledger_id;
        if durable {
            self.publish(Self::head_of(w))?;
        }
        Ok(out)
    }

    /// Stores a signed checkpoint note. Its body must describe this log at its size
    /// (ledger id, root, chain head); its signatures are the caller's business.
    pub fn put_checkpoint(&self, note: &str) -> Result<Checkpoint, StoreError> {
        let mut w = self.writer()?;
        if w.poisoned {
            return Err(StoreError::Poisoned);
        }
        let text = coop_core::checkpoint::Note::parse(note)
            .map_err(|e| StoreError::Conflict(e.to_string()))?
            .text;
        let cp = Checkpoint::parse_body(&text).map_err(|e| StoreError::Conflict(e.to_string()))?;
        let size = w.frontier.size();
        if cp.size > size {
            return Err(StoreError::Conflict(format!(
                "checkpoint covers {} records; the log has {size}",
                cp.size
            )));
        }
        if w.ledger_id != Some(cp.ledger_id) {
            return Err(StoreError::Conflict(
                "checkpoint is for another ledger".into(),
            ));
        }
        let chain = if cp.size == 0 {
            CHAIN_SEED
        } else {
            self.store
                .chain(cp.size - 1)?
                .ok_or_else(|| corrupt(Some(cp.size - 1), "chain hash is missing"))?
        };
        // Not `self.root_at`: that takes the writer lock we already hold.
        let root =
            merkle::root_at::<Blake3Hasher, _>(&Nodes(&self.store), cp.size).map_err(proof_err)?;
        if chain != cp.chain_head || root != cp.root {
            return Err(StoreError::Conflict(format!(
                "checkpoint does not match the log at size {}",
                cp.size
            )));
        }
        let batch = WriteBatch {
            checkpoints: vec![(cp.size, note.to_owned())],
            ..WriteBatch::default()
        };
        self.store.check_room(batch_bytes(&batch))?;
        if let Err(e) = self.store.write(&batch) {
            w.poisoned = true;
            tracing::error!(error = %e, "storing a checkpoint failed; log poisoned until reopened");
            return Err(e);
        }
        // The write synced everything written before it, records included.
        self.publish(Self::head_of(&w))?;
        Ok(cp)
    }

    /// Record `seq`, decoded and checked against its stored leaf hash.
    pub fn record(&self, seq: u64) -> Result<Option<SealedRecord>, StoreError> {
        let Some(bytes) = self.store.record(seq)? else {
            return Ok(None);
        };
        self.checked(seq, bytes).map(Some)
    }

    fn checked(&self, seq: u64, bytes: Vec<u8>) -> Result<SealedRecord, StoreError> {
        let sealed = SealedRecord::from_bytes(seq, bytes)?;
        if sealed.record.seq != seq {
            return Err(corrupt(
                Some(seq),
                format!("record says it is seq {}", sealed.record.seq),
            ));
        }
        if Nodes(&self.store).node(0, seq)? != sealed.leaf {
            return Err(corrupt(
                Some(seq),
                "record bytes do not match the stored leaf hash",
            ));
        }
        Ok(sealed)
    }

    /// Records `start..end` (clamped to the log's size), each checked as in
    /// [`Log::record`].
    pub fn records(
        &self,
        start: u64,
        end: u64,
    ) -> impl Iterator<Item = Result<SealedRecord, StoreError>> + '_ {
        let mut expected = start;
        self.store.records(start, end).map(move |item| {
            let (seq, bytes) = item?;
            if seq != expected {
                return Err(corrupt(
                    Some(expected),
                    "record is missing (gap in the log)",
                ));
            }
            expected += 1;
            self.checked(seq, bytes)
        })
    }

    /// Seq of the record holding event `id`.
    pub fn seq_of(&self, id: &EventId) -> Result<Option<u64>, StoreError> {
        self.store.seq_of(id)
    }

    /// Merkle root of the first `size` records.
    pub fn root_at(&self, size: u64) -> Result<Hash, StoreError> {
        if size > self.head()?.size {
            return Err(StoreError::Conflict(format!(
                "the log has fewer than {size} records"
            )));
        }
        merkle::root_at::<Blake3Hasher, _>(&Nodes(&self.store), size).map_err(proof_err)
    }

    /// Inclusion proof of record `index` in the tree of `size` records.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        if size > self.head()?.size {
            return Err(StoreError::Conflict(format!(
                "the log has fewer than {size} records"
            )));
        }
        merkle::inclusion_proof::<Blake3Hasher, _>(&Nodes(&self.store), index, size)
            .map_err(proof_err)
    }

    /// The root of the tree of `first + tail.len()` records and the inclusion proof of each
    /// of `seqs` in it, given the leaves from `first` on (a group commit's, still in
    /// memory): the nodes left of `first` are read once each, the rest hashed in memory
    /// (`coop_core::merkle::WithTail`), so a group's proofs cost about `log n` reads in
    /// all. A seq before `first` is proven from storage as any other.
    pub fn prove_group(
        &self,
        first: u64,
        tail: &[Hash],
        seqs: &[u64],
    ) -> Result<(Hash, Vec<Vec<Hash>>), StoreError> {
        let size = first + tail.len() as u64;
        if size > self.head()?.size {
            return Err(StoreError::Conflict(format!(
                "the log has fewer than {size} records"
            )));
        }
        // The nodes left of `first` that the proofs read are the frontier's edge at
        // `first` (`Frontier::edge`): from memory when an append of this log began there.
        let edge = self.edges.lock().ok().and_then(|e| {
            e.iter()
                .rev()
                .find(|(size, _)| *size == first)
                .map(|(_, edge)| edge.clone())
        });
        let nodes = Edged {
            edge: edge.unwrap_or_default(),
            store: Nodes(&self.store),
        };
        let reader = merkle::WithTail::<Blake3Hasher, _>::new(&nodes, first, tail);
        let root = merkle::root_at::<Blake3Hasher, _>(&reader, size).map_err(proof_err)?;
        let proofs = seqs
            .iter()
            .map(|&seq| merkle::inclusion_proof::<Blake3Hasher, _>(&reader, seq, size))
            .collect::<Result<_, _>>()
            .map_err(proof_err)?;
        Ok((root, proofs))
    }

    /// Consistency proof from the tree of `size1` records to that of `size2`.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, StoreError> {
        if size2 > self.head()?.size {
            return Err(StoreError::Conflict(format!(
                "the log has fewer than {size2} records"
            )));
        }
        merkle::consistency_proof::<Blake3Hasher, _>(&Nodes(&self.store), size1, size2)
            .map_err(proof_err)
    }

    /// The stored checkpoint note for `size`.
    pub fn checkpoint(&self, size: u64) -> Result<Option<String>, StoreError> {
        self.store.checkpoint(size)
    }

    /// The latest stored checkpoint note.
    pub fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError> {
        self.store.latest_checkpoint()
    }

    /// Re-checks the whole store from record 0 (what [`Log::open`] does for the tail
    /// only), and every stored checkpoint against the records.
    pub fn verify_all(&self) -> Result<Head, StoreError> {
        let head = self.head()?;
        let mut frontier = Frontier::<Blake3Hasher>::new();
        let mut prev = CHAIN_SEED;
        let cps = self.store.checkpoint_sizes()?;
        let mut next_cp = cps.iter().peekable();
        let mut expected = 0u64;
        let check_cp = |size: u64,
                        frontier: &Frontier<Blake3Hasher>,
                        chain: &Hash|
         -> Result<(), StoreError> {
            let note = self
                .store
                .checkpoint(size)?
                .ok_or_else(|| corrupt(None, format!("checkpoint {size} vanished")))?;
            let cp = Self::checkpoint_body(size, &note)?;
            if cp.root != frontier.root() || cp.chain_head != *chain {
                return Err(corrupt(
                    size.checked_sub(1),
                    format!("checkpoint {size} does not match the records"),
                ));
            }
            Ok(())
        };
        while next_cp.peek().is_some_and(|s| **s == 0) {
            check_cp(0, &frontier, &prev)?;
            next_cp.next();
        }
        for item in self.store.records(0, head.size) {
            let (seq, bytes) = item?;
            if seq != expected {
                return Err(corrupt(
                    Some(expected),
                    "record is missing (gap in the log)",
                ));
            }
            let sealed = SealedRecord::from_bytes(seq, bytes)?;
            sealed.check_link(seq, &prev)?;
            Self::check_stored(&self.store, &sealed, &mut frontier)?;
            prev = sealed.chain;
            expected += 1;
            while next_cp.peek().is_some_and(|s| **s == expected) {
                check_cp(expected, &frontier, &prev)?;
                next_cp.next();
            }
        }
        if let Some(s) = next_cp.next() {
            return Err(corrupt(
                Some(head.size),
                format!("checkpoint {s} is beyond the last record"),
            ));
        }
        if expected != head.size || frontier.root() != head.root || prev != head.chain_head {
            return Err(corrupt(Some(expected), "records do not add up to the head"));
        }
        Ok(head)
    }
}

/// About how many bytes a batch takes on disk: twice its payload (sled and the journal)
/// plus the Merkle nodes and framing.
fn batch_bytes(b: &WriteBatch) -> u64 {
    let records: usize = b
        .records
        .iter()
        .map(|(_, bytes, _, _)| bytes.len() + 96)
        .sum();
    let notes: usize = b.checkpoints.iter().map(|(_, n)| n.len() + 32).sum();
    (2 * (records + notes) + 40 * b.nodes.len()) as u64
}

fn only_appended(v: Vec<(Appended, Record)>) -> Vec<Appended> {
    v.into_iter().map(|(a, _)| a).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::MemStore;
    use crate::conformance::Failing;
    use coop_core::Timestamp;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A group commit's receipts are proven from its leaves and the frontier's edge before
    /// them, with no read of the store (issue 29: every read of sled is a hand-off to a
    /// reader thread), and they are the proofs the store gives.
    #[test]
    fn a_group_is_proven_without_reading_the_store() {
        let log = Log::open(Failing {
            inner: MemStore::new(),
            fail_at: 0,
            writes: AtomicUsize::new(0),
            node_reads: AtomicUsize::new(0),
        })
        .unwrap();
        let (g, ledger) = coop_core::testkit::genesis().unwrap();
        log.append_events(vec![(g, Hash::ZERO)], Timestamp(1))
            .unwrap();
        let mut next = 1;
        for n in [5u64, 1, 12, 33, 2, 64, 7] {
            let evs = coop_core::testkit::events(ledger, next, n)
                .unwrap()
                .into_iter()
                .map(|e| (e, Hash::ZERO))
                .collect();
            let appended = log.append_events(evs, Timestamp(next)).unwrap();
            let tail: Vec<Hash> = appended.iter().map(|a| a.leaf).collect();
            let seqs: Vec<u64> = appended.iter().map(|a| a.seq).collect();
            let before = log.store().node_reads.load(Ordering::SeqCst);
            let (root, proofs) = log.prove_group(next, &tail, &seqs).unwrap();
            assert_eq!(
                log.store().node_reads.load(Ordering::SeqCst),
                before,
                "read the store"
            );
            let size = next + n;
            assert_eq!(root, log.root_at(size).unwrap());
            for (seq, proof) in seqs.iter().zip(proofs) {
                assert_eq!(proof, log.inclusion_proof(*seq, size).unwrap());
            }
            next = size;
        }
    }
}
