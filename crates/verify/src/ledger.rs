//! Verifying a whole ledger, streamed in order.
//!
//! Work is split so that both cores stay busy and memory stays flat in the number of
//! records: items are read in chunks; each chunk is *prepared* in parallel (decode, hash,
//! strict signature check, payload decode) while the previous chunk is *applied* in order
//! on one thread (position, chain link, Merkle frontier, the Agreement's rules,
//! checkpoints). Only two chunks are in memory at a time; the treaty state grows with
//! the number of cases and information items, not with the number of records read.

use crate::error::VerifyError;
use coop_core::checkpoint::{
    Checkpoint, CheckpointError, Note, NoteError, NoteVerifier, SigAlg, VerifiedCheckpoint,
    verify_checkpoint,
};
use coop_core::merkle::{Blake3Hasher, Frontier};
use coop_core::{
    CHAIN_SEED, CheckedKey, EventError, Hash, KeyError, LedgerId, LinkError, PublicKey,
    SealedRecord,
};
use coop_treaty::{ComplianceSummary, Decoded, Party, State, Violation};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::collections::HashMap;

/// One item of a ledger, as a source delivers it. Records come in seq order from 0; a
/// checkpoint comes right after the record that completes its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// Canonical record bytes (untrusted).
    Record(Vec<u8>),
    /// A signed checkpoint note (untrusted).
    Checkpoint(String),
}

/// Where the items come from: an export file ([`crate::ExportReader`]) or a ledger
/// directory (adapted by the CLI, which may know the store).
pub trait Source {
    /// The next item, or `None` at the end.
    fn next_item(&mut self) -> Result<Option<Item>, VerifyError>;
    /// Number of records, if known in advance (for progress).
    fn total(&self) -> Option<u64> {
        None
    }
    /// What the source skipped, in words, once read to the end: a journal's torn tail
    /// (docs/FORMAT.md §10.2). A verifier says what it did not read.
    fn skipped(&self) -> Option<String> {
        None
    }
}

/// Callbacks during verification. Each record is passed on only after it passed every
/// check, so an importer can append it as it goes.
pub trait Observer {
    /// `done` records verified of `total` (if known).
    fn progress(&mut self, _done: u64, _total: Option<u64>) {}
    /// A record that passed every check. Returning an error stops verification.
    fn record(&mut self, _record: &SealedRecord) -> Result<(), String> {
        Ok(())
    }
    /// A checkpoint that verified and matches the records before it.
    fn checkpoint(&mut self, _note: &str) -> Result<(), String> {
        Ok(())
    }
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct Quiet;
impl Observer for Quiet {}

/// What the auditor brings.
#[derive(Clone, Debug)]
pub struct Options {
    /// The node key the auditor pins (any one of these): the ledger's genesis must name
    /// it. Every checkpoint is checked against the node keys the ledger itself names at
    /// its size (the genesis's first). Empty: the genesis's key is taken as the ledger
    /// states it, and [`Verified::node_key_pinned`] says so.
    pub nodes: Vec<NoteVerifier>,
    /// Checkpoints the auditor holds from elsewhere (a witness, an earlier audit): each
    /// must be signed by the node key and match the ledger at its size. One beyond the
    /// ledger's end shows that records were removed from the end.
    pub known_checkpoints: Vec<String>,
    /// Records per chunk (memory is about two chunks).
    pub chunk: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            nodes: Vec::new(),
            known_checkpoints: Vec::new(),
            chunk: 1024,
        }
    }
}

/// A checkpoint that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointSeen {
    /// What it states.
    pub checkpoint: Checkpoint,
    /// Registered witnesses whose cosignatures verified: (witness id, its Party).
    pub cosigned_by: Vec<(String, Party)>,
    /// Whether it came from the auditor ([`Options::known_checkpoints`]) rather than
    /// from the source.
    pub external: bool,
}

/// A ledger that verified.
#[derive(Clone, Debug)]
pub struct Verified {
    /// Its id.
    pub ledger_id: LedgerId,
    /// Records.
    pub size: u64,
    /// Merkle root of all records.
    pub root: Hash,
    /// Chain hash after the last record.
    pub chain_head: Hash,
    /// Every checkpoint checked, in order.
    pub checkpoints: Vec<CheckpointSeen>,
    /// The node keys the ledger names (checkpoints were checked against them).
    pub node_keys: Vec<NoteVerifier>,
    /// Whether the auditor pinned the genesis's node key ([`Options::nodes`]) or took it
    /// as the ledger states it.
    pub node_key_pinned: bool,
    /// Strict signature checks made.
    pub signatures: u64,
    /// The state after the last record (every projection).
    pub state: State,
    /// The Article 7 report, recomputed: its counts and the entries of the items where
    /// it broke. The whole report is `ComplianceReport::build(&state)`, built when it is
    /// to be shown (held beside the state, it was a sixth of the verifier's peak).
    pub report: ComplianceSummary,
    /// The witnessed prefix: the last checkpoint that meets the witness policy
    /// ([`crate::witnessed`]: cosigned by a witness of each Party), with the state and
    /// the Article 7 report as of it — what a verdict resting on both Parties' word
    /// covers. `None`: no checkpoint meets it, and the records rest on the node's word
    /// alone.
    pub witnessed: Option<Witnessed>,
    /// What the source skipped ([`Source::skipped`]): a journal's torn tail.
    pub skipped: Option<String>,
}

/// The ledger as of its last witnessed checkpoint.
#[derive(Clone, Debug)]
pub struct Witnessed {
    /// The checkpoint (cosigned by a witness of each Party).
    pub checkpoint: CheckpointSeen,
    /// The state after its last record.
    pub state: State,
    /// The Article 7 report as of it.
    pub report: ComplianceSummary,
}

impl Verified {
    /// Records after the last witnessed checkpoint (all of them when there is none):
    /// valid, but not part of a verdict that rests on both Parties' word.
    pub fn unwitnessed(&self) -> u64 {
        self.size
            - self
                .witnessed
                .as_ref()
                .map_or(0, |w| w.checkpoint.checkpoint.size)
    }

    /// Records after the last checkpoint: present and valid, but not yet covered by a
    /// signed statement of the node.
    pub fn uncovered(&self) -> u64 {
        self.size
            - self
                .checkpoints
                .iter()
                .map(|c| c.checkpoint.size)
                .max()
                .unwrap_or(0)
    }
}

/// A record prepared in parallel: everything about it that does not depend on what came
/// before.
struct Prepared {
    pos: u64,
    sealed: Result<SealedRecord, LinkError>,
    signature: Result<(), EventError>,
    decoded: Result<Decoded, Violation>,
}

enum Prep {
    Record(Box<Prepared>),
    Checkpoint(String),
}

/// Decodes, hashes and (with `signatures`) checks the signature of each item, on all
/// cores. Without `signatures` the records must be bound by a root the caller checked
/// before ([`Incremental::resume`]).
fn prepare(
    items: Vec<Item>,
    first_pos: u64,
    ledger: Option<LedgerId>,
    signatures: bool,
) -> Vec<Prep> {
    enum Raw {
        Record(u64, Box<Result<SealedRecord, LinkError>>),
        Checkpoint(String),
    }
    // Positions of the records in this chunk.
    let mut pos = first_pos;
    let numbered: Vec<(Option<u64>, Item)> = items
        .into_iter()
        .map(|i| match i {
            Item::Record(_) => {
                pos += 1;
                (Some(pos - 1), i)
            }
            Item::Checkpoint(_) => (None, i),
        })
        .collect();
    let raw: Vec<Raw> = numbered
        .into_par_iter()
        .map(|(p, item)| match item {
            Item::Record(bytes) => {
                let pos = p.unwrap_or_default();
                Raw::Record(pos, Box::new(SealedRecord::from_bytes(pos, bytes)))
            }
            Item::Checkpoint(n) => Raw::Checkpoint(n),
        })
        .collect();
    // The genesis defines the ledger id that every later event must carry.
    let ledger = ledger.or_else(|| {
        raw.iter().find_map(|r| match r {
            Raw::Record(0, r) => r
                .as_ref()
                .as_ref()
                .ok()?
                .record
                .event
                .body
                .to_bytes()
                .ok()
                .map(|b| LedgerId::from_genesis_body(&b)),
            _ => None,
        })
    });
    // A ledger has a few dozen keys and millions of signatures: decompress and check each
    // key once per chunk, not once per signature. Verdicts are unchanged (verify_strict).
    let mut keys: HashMap<PublicKey, Result<CheckedKey, KeyError>> = HashMap::new();
    for r in &raw {
        if let Raw::Record(_, r) = r
            && let Ok(s) = r.as_ref()
        {
            let k = s.record.event.body.author.key;
            keys.entry(k).or_insert_with(|| k.checked());
        }
    }
    raw.into_par_iter()
        .map(|r| match r {
            Raw::Checkpoint(n) => Prep::Checkpoint(n),
            Raw::Record(pos, sealed) => {
                let sealed = *sealed;
                let (signature, decoded) = match &sealed {
                    Ok(s) => {
                        let expect = if pos == 0 { None } else { ledger };
                        let ev = &s.record.event;
                        // The body's bytes are in the record's: no second encoding for
                        // the signature and the event hash.
                        match s.body_bytes() {
                            Ok(body) if !signatures => (Ok(()), Decoded::of_body_bytes(ev, body)),
                            Ok(body) => {
                                let signature = match keys.get(&ev.body.author.key) {
                                    Some(Ok(k)) => ev.verify_body_bytes(expect.as_ref(), k, body),
                                    Some(Err(e)) => Err(EventError::Signature(e.clone())),
                                    None => ev.verify(expect.as_ref()),
                                };
                                (signature, Decoded::of_body_bytes(ev, body))
                            }
                            Err(e) => (Err(EventError::Encode(e)), Decoded::of(ev)),
                        }
                    }
                    // The record itself did not decode: that is what is reported, not this.
                    Err(_) => (
                        Ok(()),
                        Err(Violation::MalformedPayload(coop_treaty::detail!(
                            "record-unreadable",
                            "the record cannot be read"
                        ))),
                    ),
                };
                Prep::Record(Box::new(Prepared {
                    pos,
                    sealed,
                    signature,
                    decoded,
                }))
            }
        })
        .collect()
}

/// Verifies a checkpoint signed by any one of `nodes` (the first whose signature line it
/// carries), with the given witnesses.
pub fn verify_by_any(
    note: &str,
    nodes: &[NoteVerifier],
    witnesses: &[NoteVerifier],
) -> Result<VerifiedCheckpoint, CheckpointError> {
    let parsed = Note::parse(note)?;
    let node = nodes
        .iter()
        .find(|n| n.find(&parsed).is_some())
        .or_else(|| nodes.first())
        .ok_or_else(|| {
            NoteError::Malformed(
                "the ledger names no node key to check the checkpoint against".into(),
            )
        })?;
    verify_checkpoint(note, node, witnesses)
}

/// The genesis's node key must be one the auditor pinned (if any).
fn check_pin(state: &State, pins: &[NoteVerifier]) -> Result<(), VerifyError> {
    if pins.is_empty() {
        return Ok(());
    }
    let named = crate::keys::node_verifiers(state, 0);
    if named.iter().any(|n| pins.contains(n)) {
        return Ok(());
    }
    Err(VerifyError::record(
        0,
        format!(
            "the genesis names the node key {}, not the one you pinned ({}): this is not the ledger you expect",
            named
                .first()
                .map_or_else(|| "(none)".to_owned(), NoteVerifier::to_vkey),
            pins.iter()
                .map(NoteVerifier::to_vkey)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

/// The ledger id that the genesis in a prepared chunk defines, if the chunk holds it.
fn genesis_ledger_id(chunk: &[Prep]) -> Option<LedgerId> {
    chunk.iter().find_map(|p| match p {
        Prep::Record(r) if r.pos == 0 => r
            .sealed
            .as_ref()
            .ok()
            .and_then(|s| s.record.event.body.to_bytes().ok())
            .map(|b| LedgerId::from_genesis_body(&b)),
        _ => None,
    })
}

/// The in-order part of verification.
struct Applier {
    state: State,
    frontier: Frontier<Blake3Hasher>,
    chain: Hash,
    ledger_id: Option<LedgerId>,
    /// The node keys the auditor pinned (the genesis must name one).
    pins: Vec<NoteVerifier>,
    known: BTreeMap<u64, Vec<String>>,
    checkpoints: Vec<CheckpointSeen>,
    /// The last checkpoint that meets the witness policy, and the state as of it (a
    /// persistent map's clone: it shares all but what changes after).
    witnessed: Option<(CheckpointSeen, State)>,
    signatures: u64,
    /// A chain break at this record, waiting for the next record to tell which of the
    /// two was altered; with the chain hash the broken record itself implies.
    broken: Option<(u64, Hash)>,
}

impl Applier {
    fn size(&self) -> u64 {
        self.frontier.size()
    }

    fn apply(&mut self, p: Prep, observer: &mut dyn Observer) -> Result<(), VerifyError> {
        match p {
            Prep::Checkpoint(note) => {
                if self.broken.is_some() {
                    return Ok(());
                }
                self.check_checkpoint(&note, false)?;
                observer.checkpoint(&note).map_err(VerifyError::Stopped)
            }
            Prep::Record(r) => self.record(*r, observer),
        }
    }

    fn record(&mut self, p: Prepared, observer: &mut dyn Observer) -> Result<(), VerifyError> {
        let pos = p.pos;
        let sealed = p.sealed.map_err(|e| match e {
            LinkError::Decode { source, .. } => VerifyError::record(
                pos,
                format!("the bytes are not a canonical record ({source})"),
            ),
            other => VerifyError::record(pos, other),
        })?;
        if let Some((k, chain_k)) = self.broken.take() {
            // Record k did not link to record k-1. If this record links to record k, then
            // record k is intact and record k-1 was altered after it was sequenced (its
            // bytes no longer give the chain hash record k carries); otherwise record k's
            // own link field was altered.
            return Err(if sealed.record.prev_chain == chain_k {
                VerifyError::record(
                    k - 1,
                    format!(
                        "the record was altered after it was sequenced: its bytes no longer hash to the chain link that record {k} carries"
                    ),
                )
            } else {
                VerifyError::record(
                    k,
                    "the record's previous-chain field was altered: it links to neither its predecessor nor its successor",
                )
            });
        }
        match sealed.check_link(pos, &self.chain) {
            Ok(()) => {}
            Err(LinkError::BrokenChain { .. }) if pos > 0 => {
                self.broken = Some((pos, sealed.chain));
                return Ok(());
            }
            Err(LinkError::WrongSeq { found, .. }) => {
                return Err(VerifyError::record(
                    pos,
                    format!(
                        "the record at position {pos} says it is record {found} (a record was dropped, duplicated or moved)"
                    ),
                ));
            }
            Err(e) => return Err(VerifyError::record(pos, e)),
        }
        p.signature.map_err(|e| {
            VerifyError::record(pos, format!("the event's signature is not valid: {e}"))
        })?;
        self.signatures += 1;
        let decoded = p
            .decoded
            .map_err(|v| VerifyError::record(pos, format!("not allowed by the Agreement: {v}")))?;
        self.state
            .step_decoded(&sealed.record, &decoded)
            .map_err(|v| VerifyError::record(pos, format!("not allowed by the Agreement: {v}")))?;
        if pos == 0 {
            self.ledger_id = self.state.ledger_id;
            check_pin(&self.state, &self.pins)?;
        }
        self.frontier.push(sealed.leaf, |_, _, _| {});
        self.chain = sealed.chain;
        observer.record(&sealed).map_err(VerifyError::Stopped)?;
        let size = self.size();
        if let Some(notes) = self.known.remove(&size) {
            for n in notes {
                self.check_checkpoint(&n, true)?;
            }
        }
        Ok(())
    }

    fn check_checkpoint(&mut self, note: &str, external: bool) -> Result<(), VerifyError> {
        let size = self.size();
        let whose = if external {
            "the auditor's checkpoint"
        } else {
            "checkpoint"
        };
        let nodes = crate::keys::node_verifiers(&self.state, size);
        let witnesses = crate::keys::registered(&self.state, size.saturating_sub(1));
        let v = verify_by_any(note, &nodes, &crate::keys::verifiers(&witnesses))
            .map_err(|e| VerifyError::checkpoint(size, format!("{whose} does not verify: {e}")))?;
        let cp = v.checkpoint;
        if cp.time < self.state.last_time {
            return Err(VerifyError::checkpoint(
                size,
                format!(
                    "{whose} is dated {} ms, before its last record ({} ms)",
                    cp.time.0, self.state.last_time.0
                ),
            ));
        }
        if cp.size != size {
            return Err(VerifyError::checkpoint(
                cp.size,
                format!("{whose} for size {} appears after record {}", cp.size, size),
            ));
        }
        // Checkpoint times never run backwards (the node's clock, as witnesses hold it).
        if let Some(prev) = self
            .checkpoints
            .iter()
            .filter(|c| c.checkpoint.size < size)
            .max_by_key(|c| c.checkpoint.time)
            && cp.time < prev.checkpoint.time
        {
            return Err(VerifyError::checkpoint(
                size,
                format!(
                    "{whose} is dated {} ms, before the checkpoint at size {} ({} ms): checkpoint times never run backwards",
                    cp.time.0, prev.checkpoint.size, prev.checkpoint.time.0
                ),
            ));
        }
        if Some(cp.ledger_id) != self.ledger_id {
            return Err(VerifyError::checkpoint(
                size,
                format!("{whose} is for another ledger ({})", cp.ledger_id),
            ));
        }
        if cp.root != self.frontier.root() {
            return Err(VerifyError::checkpoint(
                size,
                format!(
                    "{whose} states Merkle root {}, but the records give {}",
                    cp.root,
                    self.frontier.root()
                ),
            ));
        }
        let chain = if size == 0 { CHAIN_SEED } else { self.chain };
        if cp.chain_head != chain {
            return Err(VerifyError::checkpoint(
                size,
                format!(
                    "{whose} states chain head {}, but the records give {chain}",
                    cp.chain_head
                ),
            ));
        }
        let cosigned_by = crate::keys::cosigners(&witnesses, &v.cosigned);
        let seen = CheckpointSeen {
            checkpoint: cp,
            cosigned_by,
            external,
        };
        if crate::keys::witnessed(&seen.cosigned_by)
            && self
                .witnessed
                .as_ref()
                .is_none_or(|(w, _)| w.checkpoint.size < size)
        {
            self.witnessed = Some((seen.clone(), self.state.clone()));
        }
        self.checkpoints.push(seen);
        Ok(())
    }
}

/// Verifies a whole ledger from `source` (see the crate docs for what is checked).
/// Returns at the first failure, naming its seq; never panics on any input.
pub fn verify(
    source: &mut (dyn Source + Send),
    options: &Options,
    observer: &mut dyn Observer,
) -> Result<Verified, VerifyError> {
    let nodes = options.nodes.clone();
    let pinned = !nodes.is_empty();
    if nodes.iter().any(|n| n.alg != SigAlg::Ed25519) {
        return Err(VerifyError::Input(
            "a node key must be an Ed25519 (type 0x01) verifier key".into(),
        ));
    }
    let mut known: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for note in &options.known_checkpoints {
        let text = Note::parse(note)
            .map_err(|e| VerifyError::Input(format!("a checkpoint you gave is malformed: {e}")))?
            .text;
        let cp = Checkpoint::parse_body(&text)
            .map_err(|e| VerifyError::Input(format!("a checkpoint you gave is malformed: {e}")))?;
        if cp.size == 0 {
            return Err(VerifyError::Input(
                "a checkpoint of the empty ledger proves nothing; give a later one".into(),
            ));
        }
        known.entry(cp.size).or_default().push(note.clone());
    }
    let total = source.total();
    let chunk = options.chunk.max(1);
    let mut applier = Applier {
        state: State::default(),
        frontier: Frontier::new(),
        chain: CHAIN_SEED,
        ledger_id: None,
        pins: nodes,
        known,
        checkpoints: Vec::new(),
        witnessed: None,
        signatures: 0,
        broken: None,
    };
    // Three stages, each on its own thread, joined by short bounded queues (memory is a
    // few chunks whatever the ledger's size): the reader, the preparer (which spreads
    // each chunk over the rayon pool, so both cores verify signatures), and this thread,
    // which applies prepared chunks in order.
    // The reader thread borrows the source for the scope only: it is asked afterwards what
    // it skipped.
    let reading: &mut (dyn Source + Send) = &mut *source;
    std::thread::scope(|scope| -> Result<(), VerifyError> {
        let (items_tx, items_rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(2);
        let (prep_tx, prep_rx) = std::sync::mpsc::sync_channel::<Vec<Prep>>(2);
        let reader = scope.spawn(move || -> Result<(), VerifyError> {
            loop {
                let mut items = Vec::with_capacity(chunk);
                let mut records = 0;
                while records < chunk {
                    match reading.next_item()? {
                        Some(i) => {
                            records += usize::from(matches!(i, Item::Record(_)));
                            items.push(i);
                        }
                        None => break,
                    }
                }
                let done = items.is_empty();
                // The applier stopped (a failure): stop reading.
                if done || items_tx.send(items).is_err() {
                    return Ok(());
                }
            }
        });
        scope.spawn(move || {
            let mut next_pos = 0u64;
            let mut ledger: Option<LedgerId> = None;
            for items in items_rx {
                let n = items
                    .iter()
                    .filter(|i| matches!(i, Item::Record(_)))
                    .count() as u64;
                let prepared = prepare(items, next_pos, ledger, true);
                ledger = ledger.or_else(|| genesis_ledger_id(&prepared));
                next_pos += n;
                if prep_tx.send(prepared).is_err() {
                    return;
                }
            }
        });
        for chunk in prep_rx {
            for p in chunk {
                applier.apply(p, observer)?;
            }
            observer.progress(applier.size(), total);
        }
        reader
            .join()
            .map_err(|_| VerifyError::Input("the reader stopped unexpectedly".into()))?
    })?;
    if let Some((k, _)) = applier.broken {
        return Err(VerifyError::record(
            k,
            format!(
                "the record does not link to record {}: one of the two was altered",
                k - 1
            ),
        ));
    }
    let skipped = source.skipped();
    let size = applier.size();
    if let Some((&beyond, _)) = applier.known.iter().next() {
        return Err(VerifyError::Truncated {
            size,
            what: format!(
                "a checkpoint you hold covers {beyond} records: records {size} to {} are missing",
                beyond - 1
            ),
        });
    }
    let ledger_id = applier
        .ledger_id
        .ok_or_else(|| VerifyError::Input("the ledger is empty (no genesis record)".into()))?;
    let report = ComplianceSummary::of(&applier.state);
    let witnessed = applier.witnessed.take().map(|(checkpoint, state)| {
        // As of the last record, the report is the one just made.
        let report = if checkpoint.checkpoint.size == size {
            report.clone()
        } else {
            ComplianceSummary::of(&state)
        };
        Witnessed {
            checkpoint,
            state,
            report,
        }
    });
    let node_keys = applier
        .state
        .agreement
        .node_keys
        .iter()
        .map(|k| coop_core::checkpoint::node_verifier(&ledger_id, k.key))
        .collect();
    Ok(Verified {
        ledger_id,
        size,
        root: applier.frontier.root(),
        chain_head: applier.chain,
        checkpoints: applier.checkpoints,
        node_keys,
        node_key_pinned: pinned,
        signatures: applier.signatures,
        state: applier.state,
        report,
        witnessed,
        skipped,
    })
}

/// Collects the records that passed, for [`Incremental::feed`].
struct Collect(Vec<SealedRecord>);
impl Observer for Collect {
    fn record(&mut self, r: &SealedRecord) -> Result<(), String> {
        self.0.push(r.clone());
        Ok(())
    }
}

/// The verifier a batch at a time, for a follower that receives records as they come:
/// the same checks as [`verify`], in the same order, with the state kept between batches.
/// After an error, discard it: the history it was checking is not trustworthy.
#[derive(Debug)]
pub struct Incremental {
    applier: Applier,
}

impl std::fmt::Debug for Applier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Applier")
            .field("size", &self.frontier.size())
            .finish_non_exhaustive()
    }
}

impl Incremental {
    /// A verifier at the start of a ledger whose genesis must name one of `pins` as its
    /// node key (none: whatever it names).
    pub fn new(pins: Vec<NoteVerifier>) -> Incremental {
        Incremental {
            applier: Applier {
                state: State::default(),
                frontier: Frontier::new(),
                chain: CHAIN_SEED,
                ledger_id: None,
                pins,
                known: BTreeMap::new(),
                checkpoints: Vec::new(),
                witnessed: None,
                signatures: 0,
                broken: None,
            },
        }
    }

    /// The size of the last checkpoint checked here that meets the witness policy
    /// ([`crate::witnessed`]), if any.
    pub fn witnessed_size(&self) -> Option<u64> {
        self.applier
            .witnessed
            .as_ref()
            .map(|(c, _)| c.checkpoint.size)
    }

    /// Verifies the next records (canonical bytes, continuing at [`Incremental::size`])
    /// on all cores, and returns them sealed, in order.
    pub fn feed(&mut self, records: Vec<Vec<u8>>) -> Result<Vec<SealedRecord>, VerifyError> {
        let a = &mut self.applier;
        let items = records.into_iter().map(Item::Record).collect();
        let prepared = prepare(items, a.frontier.size(), a.ledger_id, true);
        let mut out = Collect(Vec::new());
        for p in prepared {
            a.apply(p, &mut out)?;
        }
        if let Some((k, _)) = a.broken {
            return Err(VerifyError::record(
                k,
                format!(
                    "the record does not link to record {}: the history is not the one verified so far",
                    k.saturating_sub(1)
                ),
            ));
        }
        Ok(out.0)
    }

    /// Resumes from records this verifier's owner verified before, as far as a checkpoint
    /// it verified and signed then (a witness's own cosignature): `records` (0 to
    /// `known.size`, canonical bytes) go through every check except the signature checks,
    /// and must give exactly `known`'s root and chain head — which bind every byte of
    /// them, signatures included. Records after it are then fed with [`Incremental::feed`].
    /// A follower restarting this way replays its copy instead of re-verifying millions
    /// of signatures.
    pub fn resume(
        pins: Vec<NoteVerifier>,
        records: impl IntoIterator<Item = Result<Vec<Vec<u8>>, VerifyError>>,
        known: &Checkpoint,
    ) -> Result<Incremental, VerifyError> {
        let mut v = Incremental::new(pins);
        for chunk in records {
            let a = &mut v.applier;
            let items = chunk?.into_iter().map(Item::Record).collect();
            let prepared = prepare(items, a.frontier.size(), a.ledger_id, false);
            for p in prepared {
                a.apply(p, &mut Quiet)?;
            }
            if a.frontier.size() > known.size {
                return Err(VerifyError::Input(format!(
                    "more than the {} records the checkpoint covers were given",
                    known.size
                )));
            }
        }
        if v.applier.broken.is_some()
            || v.size() != known.size
            || v.root() != known.root
            || v.chain_head() != known.chain_head
        {
            return Err(VerifyError::Input(format!(
                "the records do not give the checkpoint at size {} (root {}): they are not the ones verified before",
                known.size, known.root
            )));
        }
        Ok(v)
    }

    /// Checks a checkpoint at the current size, as [`verify`] does (node signature,
    /// ledger, root, chain head, registered witnesses' cosignatures).
    pub fn checkpoint(&mut self, note: &str) -> Result<CheckpointSeen, VerifyError> {
        self.applier.check_checkpoint(note, false)?;
        self.applier
            .checkpoints
            .last()
            .cloned()
            .ok_or_else(|| VerifyError::Input("the checkpoint was not recorded".into()))
    }

    /// Records verified so far.
    pub fn size(&self) -> u64 {
        self.applier.frontier.size()
    }

    /// Merkle root of the records verified so far.
    pub fn root(&self) -> Hash {
        self.applier.frontier.root()
    }

    /// Chain hash after the last record verified.
    pub fn chain_head(&self) -> Hash {
        self.applier.chain
    }

    /// The ledger id, once the genesis is verified.
    pub fn ledger_id(&self) -> Option<LedgerId> {
        self.applier.ledger_id
    }

    /// The state after the records verified so far.
    pub fn state(&self) -> &State {
        &self.applier.state
    }
}
