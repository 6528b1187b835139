//! coop-fuzz: mutation fuzzing, on stable Rust, of every decoder that takes bytes from
//! outside: records, signed events, treaty payloads, export files, evidence bundles,
//! checkpoint notes and cosignatures, verifier keys, signed-request headers, and events
//! in JSON. Each target starts from real inputs (the fixture ledger's records, its
//! export, a bundle of one of its cases, its cosigned checkpoints, real signed requests)
//! and mutates them: bit flips, interesting bytes, inserted, deleted, duplicated and
//! spliced ranges, huge varints. A target must never panic, and whatever a canonical
//! decoder accepts must re-encode to exactly the input.
//!
//! The key decision (docs/adr/0013): coverage-guided fuzzers (cargo-fuzz, cargo-afl) need
//! nightly or an instrumenting toolchain that CI would have to build; mutating real,
//! structured inputs reaches deep into the decoders on stable, in a bounded run CI can
//! afford, with the same seed giving the same run. A crash is saved to a file; files
//! under `tools/fuzz/regressions/<target>/` are replayed by `cargo test`.

// A fuzz target reports a broken invariant by panicking: that is what the driver catches.
#![allow(clippy::panic)]

use coop_core::checkpoint::{
    Checkpoint, Note, NoteVerifier, SigAlg, cosign, keep_verified, verify_checkpoint,
};
use coop_core::{LedgerId, SealedRecord, SignedEvent};
use coop_treaty::Payload;
use coop_treaty::testkit::{self, fixture};
use std::sync::OnceLock;

/// A fuzz target: a name, its seed inputs, and the function that must not panic.
#[derive(Clone, Copy)]
pub struct Target {
    /// Its name (also the regression directory's).
    pub name: &'static str,
    /// What it feeds.
    pub about: &'static str,
    /// Runs one input.
    pub run: fn(&[u8]),
    /// Real inputs to start from.
    pub seeds: fn() -> Vec<Vec<u8>>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Every target.
pub fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "record",
            about: "SealedRecord::from_bytes, body slicing, payload decoding",
            run: run_record,
            seeds: seed_records,
        },
        Target {
            name: "event",
            about: "SignedEvent::from_bytes and strict verification",
            run: run_event,
            seeds: seed_events,
        },
        Target {
            name: "payload",
            about: "Payload::from_bytes and what the rules read",
            run: run_payload,
            seeds: seed_payloads,
        },
        Target {
            name: "export",
            about: "ExportReader and the whole offline verifier",
            run: run_export,
            seeds: seed_export,
        },
        Target {
            name: "bundle",
            about: "Bundle::from_bytes and verify_bundle",
            run: run_bundle,
            seeds: seed_bundle,
        },
        Target {
            name: "note",
            about: "signed notes, checkpoint bodies, verify_checkpoint, keep_verified, cosign",
            run: run_note,
            seeds: seed_notes,
        },
        Target {
            name: "vkey",
            about: "NoteVerifier::from_vkey",
            run: run_vkey,
            seeds: seed_vkeys,
        },
        Target {
            name: "request",
            about: "RFC 9421 Signature-Input and Signature headers (parse and verify)",
            run: run_request,
            seeds: seed_requests,
        },
        Target {
            name: "json",
            about: "events in JSON (EventJson, BodyJson, prepare: the node's JSON append and prepare), payloads in JSON",
            run: run_json,
            seeds: seed_json,
        },
        Target {
            name: "batch",
            about: "a batch of signed events as canonical bytes (POST /v1/events:batch)",
            run: run_batch,
            seeds: seed_batch,
        },
    ]
}

// ------------------------------------------------------------------ the fixture

struct Material {
    ledger: LedgerId,
    records: Vec<Vec<u8>>,
    events: Vec<Vec<u8>>,
    payloads: Vec<Vec<u8>>,
    export: Vec<u8>,
    bundle: Vec<u8>,
    notes: Vec<String>,
    node: NoteVerifier,
    witnesses: Vec<NoteVerifier>,
}

fn material() -> &'static Material {
    static M: OnceLock<Material> = OnceLock::new();
    M.get_or_init(build_material)
}

fn build_material() -> Material {
    // The fixture is deterministic and valid (its own tests hold it): an error here is a
    // broken build, not an input.
    let f = fixture::ledger().unwrap_or_else(|e| unreachable!("fixture: {e}"));
    let ledger = f.ledger_id().unwrap_or(LedgerId(coop_core::Hash::ZERO));
    let node = coop_core::checkpoint::node_verifier(&ledger, testkit::node_key().public());
    let keys = testkit::keys();
    let witnesses = ["KZ-WITNESS", "TM-WITNESS"]
        .iter()
        .filter_map(|w| {
            keys.get(*w).map(|k| NoteVerifier {
                name: (*w).to_owned(),
                key: k.public(),
                alg: SigAlg::CosignatureV1,
            })
        })
        .collect();
    let records: Vec<Vec<u8>> = f.records.iter().map(|r| r.bytes.clone()).collect();
    let events = f
        .records
        .iter()
        .filter_map(|r| r.record.event.to_bytes().ok())
        .collect();
    let payloads = f
        .records
        .iter()
        .map(|r| r.record.event.body.payload.clone())
        .collect();
    let mut w = coop_verify::ExportWriter::new(Vec::new(), &[node.to_vkey()])
        .unwrap_or_else(|e| unreachable!("{e}"));
    for item in f.items() {
        let _ = match item {
            Ok(r) => w.record(r),
            Err(n) => w.checkpoint(n),
        };
    }
    let export = w.finish().map(|(b, _)| b).unwrap_or_default();
    let bundle = bundle_of(&f, &node).unwrap_or_default();
    Material {
        ledger,
        records,
        events,
        payloads,
        export,
        bundle,
        notes: f.checkpoints.iter().map(|(_, n)| n.clone()).collect(),
        node,
        witnesses,
    }
}

/// The evidence bundle of the fixture's case 2, against its last checkpoint.
fn bundle_of(f: &fixture::Fixture, node: &NoteVerifier) -> Option<Vec<u8>> {
    use coop_core::merkle::{Blake3Hasher, NodeReader, inclusion_proof};
    struct Leaves(Vec<coop_core::Hash>);
    impl NodeReader<coop_core::Hash> for Leaves {
        type Error = ();
        fn node(&self, level: u8, index: u64) -> Result<coop_core::Hash, ()> {
            if level == 0 {
                return self
                    .0
                    .get(usize::try_from(index).map_err(|_| ())?)
                    .copied()
                    .ok_or(());
            }
            let l = self.node(level - 1, index * 2)?;
            let r = self.node(level - 1, index * 2 + 1)?;
            Ok(coop_core::hash::node_hash(&l, &r))
        }
    }
    let leaves = Leaves(f.records.iter().map(|r| r.leaf).collect());
    let (size, note) = f.checkpoints.last()?;
    let case = testkit::case_id(2);
    let seqs = coop_treaty::bundle_seqs(&f.state, &case, *size, |s| {
        f.records
            .get(usize::try_from(s).ok()?)
            .map(|r| r.record.clone())
    })?;
    let entries = seqs
        .iter()
        .map(|s| {
            Some(coop_verify::BundleEntry {
                record: f.records.get(usize::try_from(*s).ok()?)?.bytes.clone(),
                proof: inclusion_proof::<Blake3Hasher, _>(&leaves, *s, *size).ok()?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let b = coop_verify::Bundle {
        case,
        checkpoint: note.clone(),
        entries,
    };
    coop_verify::verify_bundle(&b, Some(node)).ok()?;
    b.to_bytes().ok()
}

// ------------------------------------------------------------------ seeds

fn seed_records() -> Vec<Vec<u8>> {
    material().records.clone()
}
fn seed_events() -> Vec<Vec<u8>> {
    material().events.clone()
}
fn seed_payloads() -> Vec<Vec<u8>> {
    material().payloads.clone()
}
fn seed_export() -> Vec<Vec<u8>> {
    vec![material().export.clone()]
}
fn seed_bundle() -> Vec<Vec<u8>> {
    vec![material().bundle.clone()]
}
fn seed_notes() -> Vec<Vec<u8>> {
    material()
        .notes
        .iter()
        .map(|n| n.as_bytes().to_vec())
        .collect()
}
fn seed_vkeys() -> Vec<Vec<u8>> {
    let m = material();
    std::iter::once(&m.node)
        .chain(&m.witnesses)
        .map(|v| v.to_vkey().into_bytes())
        .collect()
}
fn seed_requests() -> Vec<Vec<u8>> {
    let keys = testkit::keys();
    let ledger = material().ledger.to_string();
    let Some(key) = keys.get("KZ-AUDIT") else {
        return Vec::new();
    };
    let id = testkit::id("KZ-AUDIT");
    [
        ("/v1/records", Some("from=0&limit=5")),
        ("/v1/cases/ab", None),
    ]
    .iter()
    .map(|(path, query)| {
        let (input, sig) = coop_node::auth::sign_request(
            &coop_node::auth::Request {
                method: "GET",
                authority: "127.0.0.1:8080",
                path,
                query: *query,
            },
            &coop_node::auth::Signer {
                keyid: &id,
                key,
                ledger: &ledger,
            },
            1_764_100_000,
            "9f0e",
        );
        let mut b = input.into_bytes();
        b.push(0);
        b.extend_from_slice(sig.as_bytes());
        b
    })
    .collect()
}
fn seed_json() -> Vec<Vec<u8>> {
    let f = fixture::ledger().unwrap_or_else(|e| unreachable!("fixture: {e}"));
    f.records
        .iter()
        .take(40)
        .filter_map(|r| {
            coop_wire::EventJson::of(&r.record.event)
                .ok()
                .and_then(|j| serde_json::to_vec(&j).ok())
        })
        .collect()
}

fn seed_batch() -> Vec<Vec<u8>> {
    let f = fixture::ledger().unwrap_or_else(|e| unreachable!("fixture: {e}"));
    let events: Vec<SignedEvent> = f.records.iter().map(|r| r.record.event.clone()).collect();
    events
        .chunks(7)
        .filter_map(|c| coop_core::encoding::encode(c).ok())
        .collect()
}

// ------------------------------------------------------------------ targets

/// A canonical decoder's contract: what it accepts re-encodes to exactly the input.
fn canonical<T>(input: &[u8], decoded: &T, encode: impl Fn(&T) -> Option<Vec<u8>>) {
    if encode(decoded).as_deref() != Some(input) {
        panic!("accepted bytes that do not re-encode identically");
    }
}

fn run_record(data: &[u8]) {
    if let Ok(s) = SealedRecord::from_bytes(0, data.to_vec()) {
        canonical(data, &s.record, |r| r.to_bytes().ok());
        if let Ok(body) = s.body_bytes()
            && s.record.event.body.to_bytes().ok().as_deref() != Some(body)
        {
            panic!("the body slice is not the body's encoding");
        }
        let _ = coop_treaty::Decoded::of(&s.record.event);
        let _ = s.record.event.verify(Some(&material().ledger));
    }
}

fn run_event(data: &[u8]) {
    if let Ok(e) = SignedEvent::from_bytes(data) {
        canonical(data, &e, |e| e.to_bytes().ok());
        let _ = e.verify(None);
        let _ = e.verify(Some(&material().ledger));
        let _ = e.event_hash();
    }
}

fn run_payload(data: &[u8]) {
    if let Ok(p) = Payload::from_bytes(data) {
        canonical(data, &p, |p| p.to_bytes().ok());
        let _ = p.name();
        let body = coop_core::testkit::body(None, 1);
        let _ = coop_treaty::reads(&body, &p);
        let _ = serde_json::to_string(&p);
    }
}

fn run_export(data: &[u8]) {
    if let Ok(mut r) = coop_verify::ExportReader::new(data) {
        let _ = coop_verify::verify(
            &mut r,
            &coop_verify::Options {
                chunk: 16,
                ..coop_verify::Options::default()
            },
            &mut coop_verify::Quiet,
        );
    }
}

fn run_bundle(data: &[u8]) {
    if let Ok(b) = coop_verify::Bundle::from_bytes(data) {
        let _ = coop_verify::verify_bundle(&b, Some(&material().node));
        let _ = coop_verify::verify_bundle(&b, None);
    }
}

fn run_note(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let m = material();
    if let Ok(n) = Note::parse(text) {
        let _ = Checkpoint::parse_body(&n.text);
        let again = n.render();
        if Note::parse(&again).ok().as_ref() != Some(&n) {
            panic!("a parsed note does not parse back from its rendering");
        }
    }
    let _ = verify_checkpoint(text, &m.node, &m.witnesses);
    if let Ok(v) = keep_verified(text, &m.node, &m.witnesses)
        && verify_checkpoint(&v.note.render(), &m.node, &m.witnesses).is_err()
    {
        panic!("what keep_verified keeps does not verify");
    }
    let keys = testkit::keys();
    if let Some(k) = keys.get("KZ-WITNESS") {
        let _ = cosign(text, "KZ-WITNESS", k, 1_764_100_000);
    }
}

fn run_vkey(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(v) = NoteVerifier::from_vkey(s)
        && v.to_vkey() != s
    {
        panic!("an accepted vkey does not render back to itself");
    }
}

fn run_request(data: &[u8]) {
    let (input, sig) = match data.iter().position(|b| *b == 0) {
        Some(i) => data.split_at(i),
        None => (data, &[][..]),
    };
    let (Ok(input), Ok(sig)) = (
        std::str::from_utf8(input),
        std::str::from_utf8(sig.get(1..).unwrap_or_default()),
    ) else {
        return;
    };
    if let Ok((params, signature)) = coop_node::auth::parse(input, sig) {
        let keys = testkit::keys();
        if let Some(k) = keys.get("KZ-AUDIT") {
            let _ = coop_node::auth::verify(
                &coop_node::auth::Request {
                    method: "GET",
                    authority: "127.0.0.1:8080",
                    path: "/v1/records",
                    query: Some("from=0&limit=5"),
                },
                &params,
                &signature,
                &k.public(),
                1_764_100_000,
                300,
            );
        }
    }
}

fn run_json(data: &[u8]) {
    if let Ok(j) = serde_json::from_slice::<coop_wire::EventJson>(data)
        && let Ok(e) = j.to_event()
    {
        let _ = e.verify(Some(&material().ledger));
        // JSON converts to one event: shown again as JSON, it converts to the same bytes.
        let again = coop_wire::EventJson::of(&e).and_then(|k| k.to_event());
        if again.ok().and_then(|a| a.to_bytes().ok()) != e.to_bytes().ok() {
            panic!("an event's JSON does not convert back to the same bytes");
        }
    }
    if let Ok(b) = serde_json::from_slice::<coop_wire::BodyJson>(data)
        && let Ok(p) = b.prepare()
        && b.to_body()
            .ok()
            .and_then(|body| body.to_bytes().ok())
            .map(hex::encode)
            != Some(p.body)
    {
        panic!("prepare's bytes are not the body's");
    }
    if let Ok(p) = serde_json::from_slice::<Payload>(data) {
        let _ = p.to_bytes().map(|b| Payload::from_bytes(&b));
    }
}

fn run_batch(data: &[u8]) {
    if let Ok(events) = coop_core::encoding::decode::<Vec<SignedEvent>>(data) {
        canonical(data, &events, |e| coop_core::encoding::encode(e).ok());
        for e in events.iter().take(4) {
            let _ = e.verify(Some(&material().ledger));
        }
    }
}

// ------------------------------------------------------------------ mutation

/// A small deterministic generator (splitmix64): the same seed, the same run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }
}

/// Bytes that decoders treat specially: varint prefixes, booleans, zero, all ones.
const INTERESTING: [u8; 9] = [0x00, 0x01, 0x02, 0x7F, 0x80, 0xFB, 0xFC, 0xFD, 0xFF];

/// One to four mutations of `input`, splicing from `pool` at times.
pub fn mutate(input: &[u8], pool: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = out.len();
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                if let Some(b) = out.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 if len > 0 => {
                let i = rng.below(len);
                let v = INTERESTING.get(rng.below(INTERESTING.len())).copied();
                if let (Some(b), Some(v)) = (out.get_mut(i), v) {
                    *b = v;
                }
            }
            2 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                out.splice(at..at, bytes);
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(16)).min(len);
                out.drain(a..b);
            }
            4 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(32)).min(len);
                let chunk: Vec<u8> = out.get(a..b).map(<[u8]>::to_vec).unwrap_or_default();
                let at = rng.below(out.len() + 1);
                out.splice(at..at, chunk);
            }
            5 => {
                // A huge or non-minimal varint.
                let at = rng.below(len + 1);
                let mut v = vec![0xFD];
                v.extend_from_slice(&rng.next_u64().to_le_bytes());
                out.splice(at..at, v);
            }
            6 if !pool.is_empty() => {
                let other = pool
                    .get(rng.below(pool.len()))
                    .map_or(&[][..], Vec::as_slice);
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + 1 + rng.below(64)).min(other.len());
                    let at = rng.below(len + 1);
                    let end = (at + rng.below(64)).min(len);
                    out.splice(at..end, other.get(a..b).unwrap_or_default().iter().copied());
                }
            }
            7 if len > 0 => out.truncate(rng.below(len)),
            8 if len > 1 => {
                let a = rng.below(len);
                let b = rng.below(len);
                out.swap(a, b);
            }
            _ => {
                if let Some(b) = out.last_mut() {
                    *b = b.wrapping_add(1);
                }
            }
        }
    }
    out
}

/// What a bounded run found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Inputs run.
    pub runs: u64,
    /// Inputs that made the target panic, with the panic message.
    pub crashes: Vec<(Vec<u8>, String)>,
}

/// Runs `target` on mutations of its seeds until `deadline` or `max_runs`, whichever
/// comes first; panics are caught and collected.
pub fn fuzz(target: &Target, seed: u64, deadline: std::time::Instant, max_runs: u64) -> Outcome {
    let seeds = (target.seeds)();
    let mut corpus = seeds.clone();
    let mut rng = Rng::new(seed ^ hash_name(target.name));
    let mut out = Outcome::default();
    // The seeds themselves first: real inputs must pass.
    for s in &seeds {
        run_one(target, s, &mut out);
    }
    while out.runs < max_runs && std::time::Instant::now() < deadline {
        let Some(base) = corpus.get(rng.below(corpus.len())) else {
            break;
        };
        let input = mutate(base, &seeds, &mut rng);
        run_one(target, &input, &mut out);
        // Keep a few mutants so mutations compound (bounded, to stay near real input).
        if corpus.len() < 256 && rng.below(16) == 0 {
            corpus.push(input);
        }
    }
    out
}

fn run_one(target: &Target, input: &[u8], out: &mut Outcome) {
    out.runs += 1;
    if let Err(e) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (target.run)(input))) {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        out.crashes.push((input.to_vec(), msg));
    }
}

fn hash_name(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
