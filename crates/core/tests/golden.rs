//! Golden vectors: fixed keys and bodies → exact bytes, hashes, signatures, roots and a
//! checkpoint. Any change to an encoding or hash is a format change and fails here.
//!
//! Regenerate (only with a deliberate, documented format change):
//!     COOP_BLESS=1 cargo test -p coop-core --test golden

// In test code a panic is a failed test, so indexing and expect are fine here.
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

use coop_core::checkpoint::{Checkpoint, cosign, sign_checkpoint};
use coop_core::event::{
    Author, CaseRef, EVENT_FORMAT_VERSION, EventBody, SignedEvent, signing_message,
};
use coop_core::merkle::{Blake3Hasher, Frontier, NodeReader, consistency_proof, inclusion_proof};
use coop_core::{
    AuthorityId, CHAIN_SEED, CaseId, EventId, Hash, LedgerId, Record, SecretKey, Timestamp,
};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/golden.txt")
}

struct Nodes(HashMap<(u8, u64), Hash>);
impl NodeReader<Hash> for Nodes {
    type Error = String;
    fn node(&self, l: u8, i: u64) -> Result<Hash, String> {
        self.0
            .get(&(l, i))
            .copied()
            .ok_or_else(|| "missing".to_owned())
    }
}

fn render() -> anyhow::Result<String> {
    let root_kz = SecretKey::from_seed(&[0x01; 32]);
    let authority = SecretKey::from_seed(&[0x02; 32]);
    let node = SecretKey::from_seed(&[0x03; 32]);
    let witness = SecretKey::from_seed(&[0x04; 32]);

    let mut out = String::new();
    let mut put = |k: &str, v: &str| {
        let _ = writeln!(out, "{k} = {v}");
    };
    for (name, k, seed) in [
        ("root_kz", &root_kz, 0x01u8),
        ("authority", &authority, 0x02),
        ("node", &node, 0x03),
        ("witness", &witness, 0x04),
    ] {
        put(&format!("key.{name}.seed"), &hex::encode([seed; 32]));
        put(&format!("key.{name}.public"), &k.public().to_hex());
    }
    for (i, line) in authority.to_pem()?.lines().enumerate() {
        put(&format!("key.authority.pkcs8_pem.{i}"), line);
    }

    let genesis = EventBody {
        version: EVENT_FORMAT_VERSION,
        ledger_id: None,
        event_id: EventId([0xE0; 16]),
        author: Author {
            authority: AuthorityId::new("KZ-ROOT")?,
            key: root_kz.public(),
        },
        authored_at: Timestamp(1_728_554_400_000),
        case: None,
        answers: vec![],
        payload: b"genesis".to_vec(),
    };
    let ledger = LedgerId::from_genesis_body(&genesis.to_bytes()?);
    let mut events = vec![SignedEvent::sign(genesis, &root_kz)?];
    let mut prev_hash = events[0].event_hash()?;
    for n in 1..=3u8 {
        let body = EventBody {
            version: EVENT_FORMAT_VERSION,
            ledger_id: Some(ledger),
            event_id: EventId([n; 16]),
            author: Author {
                authority: AuthorityId::new("KZ-MVD")?,
                key: authority.public(),
            },
            authored_at: Timestamp(1_764_000_000_000 + u64::from(n)),
            case: Some(CaseRef {
                case_id: CaseId([0xCA; 16]),
                expected_version: u64::from(n) - 1,
            }),
            answers: vec![prev_hash],
            payload: vec![n; usize::from(n) * 3],
        };
        let ev = SignedEvent::sign(body, &authority)?;
        prev_hash = ev.event_hash()?;
        events.push(ev);
    }
    put("ledger_id", &ledger.0.to_hex());

    let mut nodes = Nodes(HashMap::new());
    let mut frontier = Frontier::<Blake3Hasher>::new();
    let mut chain = CHAIN_SEED;
    put("chain_seed", &chain.to_hex());
    // The genesis is a governance record (the treaty says which payloads are): every
    // later record states the governance head after it.
    let governance_after_genesis =
        coop_core::hash::governance_link(&Hash::ZERO, 0, &events[0].event_hash()?);
    put(
        "governance.after_genesis",
        &governance_after_genesis.to_hex(),
    );
    for (seq, ev) in events.into_iter().enumerate() {
        let seq = seq as u64;
        let body_bytes = ev.body.to_bytes()?;
        put(&format!("event.{seq}.body"), &hex::encode(&body_bytes));
        put(
            &format!("event.{seq}.signing_message"),
            &hex::encode(signing_message(ev.body.ledger_id.as_ref(), &body_bytes)),
        );
        put(&format!("event.{seq}.signature"), &ev.signature.to_hex());
        put(
            &format!("event.{seq}.event_hash"),
            &ev.event_hash()?.to_hex(),
        );
        put(&format!("event.{seq}.signed"), &hex::encode(ev.to_bytes()?));
        let sealed = Record {
            seq,
            prev_chain: chain,
            received_at: Timestamp(1_764_000_100_000 + seq),
            governance: if seq == 0 {
                Hash::ZERO
            } else {
                governance_after_genesis
            },
            event: ev,
        }
        .seal()?;
        put(&format!("record.{seq}.bytes"), &hex::encode(&sealed.bytes));
        put(&format!("record.{seq}.leaf"), &sealed.leaf.to_hex());
        put(&format!("record.{seq}.chain"), &sealed.chain.to_hex());
        chain = sealed.chain;
        let map = &mut nodes.0;
        frontier.push(sealed.leaf, |l, i, h| {
            map.insert((l, i), *h);
        });
        put(
            &format!("merkle.root.{}", seq + 1),
            &frontier.root().to_hex(),
        );
    }
    put(
        "merkle.root.0",
        &Frontier::<Blake3Hasher>::new().root().to_hex(),
    );
    let proof = inclusion_proof::<Blake3Hasher, _>(&nodes, 2, 4).map_err(anyhow::Error::msg)?;
    put(
        "merkle.inclusion.2_of_4",
        &proof.iter().map(Hash::to_hex).collect::<Vec<_>>().join(","),
    );
    let proof = consistency_proof::<Blake3Hasher, _>(&nodes, 3, 4).map_err(anyhow::Error::msg)?;
    put(
        "merkle.consistency.3_to_4",
        &proof.iter().map(Hash::to_hex).collect::<Vec<_>>().join(","),
    );

    let cp = Checkpoint {
        ledger_id: ledger,
        size: 4,
        root: frontier.root(),
        chain_head: chain,
        time: Timestamp(1_764_000_200_000),
    };
    let note = sign_checkpoint(&cp, &node)?;
    let note = cosign(&note, "witness.kz.example", &witness, 1_764_000_300)?;
    for (i, line) in note.lines().enumerate() {
        put(&format!("checkpoint.note.{i}"), line);
    }

    Ok(format!(
        "# coopledger golden vectors (format v2). Every value is produced by coop-core from\n\
         # the fixed seeds below; docs/FORMAT.md explains each one.\n\
         # Regenerate ONLY for a deliberate, documented format change:\n\
         #     COOP_BLESS=1 cargo test -p coop-core --test golden\n{out}"
    ))
}

#[test]
fn golden_vectors_do_not_drift() -> anyhow::Result<()> {
    let now = render()?;
    if std::env::var_os("COOP_BLESS").is_some() {
        std::fs::write(path(), &now)?;
        return Ok(());
    }
    let committed = std::fs::read_to_string(path())?;
    for (i, (a, b)) in committed.lines().zip(now.lines()).enumerate() {
        assert_eq!(a, b, "golden vectors drifted at line {}", i + 1);
    }
    assert_eq!(
        committed.lines().count(),
        now.lines().count(),
        "line count drifted"
    );
    Ok(())
}

fn load() -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path())?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

/// Re-derives the committed values with raw blake3 and ed25519-dalek only, following
/// docs/FORMAT.md rather than coop-core's helpers: what an independent verifier does.
#[test]
fn committed_vectors_check_out_independently() -> anyhow::Result<()> {
    let v = load()?;
    let get = |k: &str| -> anyhow::Result<Vec<u8>> {
        Ok(hex::decode(
            v.get(k).ok_or_else(|| anyhow::anyhow!("missing {k}"))?,
        )?)
    };
    let tagged = |tag: u8, parts: &[&[u8]]| {
        let mut h = blake3::Hasher::new();
        h.update(&[tag]);
        for p in parts {
            h.update(p);
        }
        h.finalize().as_bytes().to_vec()
    };
    let ledger = tagged(0x03, &[&get("event.0.body")?]);
    assert_eq!(ledger, get("ledger_id")?);
    // The governance link after the genesis (seq 0): tag 0x05, head before, seq (8 bytes
    // big-endian), event hash.
    let gov = tagged(
        0x05,
        &[&[0u8; 32], &0u64.to_be_bytes(), &get("event.0.event_hash")?],
    );
    assert_eq!(gov, get("governance.after_genesis")?);
    let mut prev = vec![0u8; 32];
    let mut leaves = Vec::new();
    for seq in 0..4 {
        let body = get(&format!("event.{seq}.body"))?;
        let mut msg = b"coopledger/event/v2".to_vec();
        msg.extend_from_slice(if seq == 0 { &[0u8; 32] } else { &ledger[..] });
        msg.extend_from_slice(&body);
        assert_eq!(msg, get(&format!("event.{seq}.signing_message"))?);
        let pk_hex = if seq == 0 {
            "key.root_kz.public"
        } else {
            "key.authority.public"
        };
        let pk = ed25519_dalek::VerifyingKey::from_bytes(
            &get(pk_hex)?.try_into().map_err(|_| anyhow::anyhow!("pk"))?,
        )?;
        let sig = ed25519_dalek::Signature::from_slice(&get(&format!("event.{seq}.signature"))?)?;
        pk.verify_strict(&msg, &sig)?;
        // The signed event is body || signature (64 raw bytes).
        let mut signed = body.clone();
        signed.extend_from_slice(&sig.to_bytes());
        assert_eq!(signed, get(&format!("event.{seq}.signed"))?);
        assert_eq!(
            tagged(0x04, &[&body]),
            get(&format!("event.{seq}.event_hash"))?
        );
        let rec = get(&format!("record.{seq}.bytes"))?;
        // Record = varint seq || prev chain (32) || varint received_at (9 bytes here:
        // 0xFD and 8 bytes) || governance head (32) || signed event.
        assert_eq!(rec[0], seq as u8);
        assert_eq!(&rec[1..33], &prev[..]);
        assert_eq!(rec[33], 0xFD);
        let head = if seq == 0 { vec![0u8; 32] } else { gov.clone() };
        assert_eq!(&rec[42..74], &head[..]);
        assert_eq!(rec.len(), 74 + signed.len());
        assert!(rec.ends_with(&signed));
        let leaf = tagged(0x00, &[&rec]);
        assert_eq!(leaf, get(&format!("record.{seq}.leaf"))?);
        let chain = tagged(0x02, &[&prev, &leaf]);
        assert_eq!(chain, get(&format!("record.{seq}.chain"))?);
        prev = chain;
        leaves.push(leaf);
    }
    let n = |l: &[u8], r: &[u8]| tagged(0x01, &[l, r]);
    let root4 = n(&n(&leaves[0], &leaves[1]), &n(&leaves[2], &leaves[3]));
    assert_eq!(root4, get("merkle.root.4")?);
    let root3 = n(&n(&leaves[0], &leaves[1]), &leaves[2]);
    assert_eq!(root3, get("merkle.root.3")?);
    assert_eq!(blake3::hash(b"").as_bytes().to_vec(), get("merkle.root.0")?);
    Ok(())
}
