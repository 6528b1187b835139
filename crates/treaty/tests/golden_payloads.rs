//! Golden vectors for every treaty payload variant (tests/vectors/payloads.json): its
//! catalogue index and name, its JSON form, its canonical bytes, and a signed event that
//! carries it (body bytes, event hash, signature). Taken from the fixture ledger, whose
//! events are deterministic. Reordering a variant or a field, or changing a type, changes
//! the bytes and fails here; so does a JSON form that drifts.
//!
//! Regenerate ONLY for a deliberate, documented format change:
//!     COOP_BLESS=1 cargo test -p coop-treaty --test golden_payloads

#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

use coop_treaty::Payload;
use coop_treaty::testkit::fixture;
use std::path::PathBuf;

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/payloads.json")
}

fn render() -> serde_json::Value {
    let f = fixture::ledger().expect("fixture");
    let mut out = Vec::new();
    for (index, name) in Payload::NAMES.iter().enumerate() {
        let r = f
            .records
            .iter()
            .find(|r| {
                Payload::from_bytes(&r.record.event.body.payload).is_ok_and(|p| p.name() == *name)
            })
            .unwrap_or_else(|| panic!("the fixture has no {name}"));
        let ev = &r.record.event;
        let p = Payload::from_bytes(&ev.body.payload).unwrap();
        out.push(serde_json::json!({
            "index": index,
            "name": name,
            "kind": p.kind(),
            "governance": p.is_governance(),
            "json": serde_json::to_value(&p).unwrap(),
            "payload": hex::encode(&ev.body.payload),
            "event": {
                "seq": r.record.seq,
                "signer": ev.body.author.authority,
                "key": ev.body.author.key,
                "body": hex::encode(ev.body.to_bytes().unwrap()),
                "event_hash": ev.event_hash().unwrap(),
                "signature": ev.signature,
                // The event as JSON (docs/API.md): what other languages' encoders start from.
                "json": coop_wire::EventJson::of(ev).unwrap(),
            },
        }));
    }
    serde_json::json!({
        "about": "coopledger treaty payload golden vectors, format v2 (docs/FORMAT.md §11). Generated from the fixture ledger (coop_treaty::testkit::fixture) by crates/treaty/tests/golden_payloads.rs; regenerate only for a deliberate, documented format change: COOP_BLESS=1 cargo test -p coop-treaty --test golden_payloads",
        "ledger_id": f.ledger_id().unwrap(),
        "vectors": out,
    })
}

#[test]
fn payload_vectors_do_not_drift() {
    let now = serde_json::to_string_pretty(&render()).unwrap() + "\n";
    if std::env::var_os("COOP_BLESS").is_some() {
        std::fs::write(path(), &now).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path()).expect("committed vectors");
    for (i, (a, b)) in committed.lines().zip(now.lines()).enumerate() {
        assert_eq!(a, b, "payload vectors drifted at line {}", i + 1);
    }
    assert_eq!(committed.lines().count(), now.lines().count());
}

/// The committed vectors, read back: each payload's bytes decode to its JSON form and
/// re-encode to the same bytes, start with its index, and sit in its event's body; the
/// event hash is blake3(0x04 || body); the signature verifies strictly.
#[test]
fn committed_payload_vectors_check_out() {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path()).expect("committed")).unwrap();
    let vectors = v["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), Payload::NAMES.len());
    let ledger = hex::decode(v["ledger_id"].as_str().unwrap()).unwrap();
    for (i, e) in vectors.iter().enumerate() {
        let bytes = hex::decode(e["payload"].as_str().unwrap()).unwrap();
        let p = Payload::from_bytes(&bytes).unwrap();
        let from_json: Payload = serde_json::from_value(e["json"].clone()).unwrap();
        assert_eq!(p, from_json, "{}", e["name"]);
        assert_eq!(p.to_bytes().unwrap(), bytes);
        // The event's JSON form encodes to the event's body and signature.
        let ej: coop_wire::EventJson = serde_json::from_value(e["event"]["json"].clone()).unwrap();
        let signed = ej.to_event().unwrap();
        assert_eq!(
            hex::encode(signed.body.to_bytes().unwrap()),
            e["event"]["body"].as_str().unwrap(),
            "{}",
            e["name"]
        );
        assert_eq!(
            serde_json::to_value(signed.signature).unwrap(),
            e["event"]["signature"]
        );
        assert_eq!(e["index"].as_u64(), Some(i as u64));
        assert_eq!(bytes[0] as usize, i, "variant index of {}", e["name"]);
        assert_eq!(e["name"].as_str(), Some(Payload::NAMES[i]));
        // The JSON form names the variant as the catalogue does.
        let json_name = match &e["json"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Object(m) => m.keys().next().unwrap().clone(),
            other => panic!("{other}"),
        };
        assert_eq!(json_name, Payload::NAMES[i]);
        let body = hex::decode(e["event"]["body"].as_str().unwrap()).unwrap();
        assert!(body.ends_with(&bytes), "the body ends with its payload");
        let mut h = blake3::Hasher::new();
        h.update(&[0x04]);
        h.update(&body);
        assert_eq!(
            hex::encode(h.finalize().as_bytes()),
            e["event"]["event_hash"].as_str().unwrap()
        );
        let key = coop_core::PublicKey::from_hex(e["event"]["key"].as_str().unwrap()).unwrap();
        let mut sig = [0u8; 64];
        hex::decode_to_slice(e["event"]["signature"].as_str().unwrap(), &mut sig).unwrap();
        let mut msg = b"coopledger/event/v2".to_vec();
        msg.extend_from_slice(if i == 0 { &[0u8; 32] } else { &ledger[..] });
        msg.extend_from_slice(&body);
        key.verify(&msg, &coop_core::Signature(sig)).unwrap();
    }
}

/// `Payload::variant` (a match, no encoding) is the encoding's own variant index for every
/// payload of the fixture, which holds every variant; kinds read back by name.
#[test]
fn the_variant_without_encoding_is_the_encodings_index() {
    let f = fixture::ledger().expect("fixture");
    let mut seen = std::collections::BTreeSet::new();
    for r in &f.records {
        let p = Payload::from_bytes(&r.record.event.body.payload).unwrap();
        assert_eq!(p.variant() as u32, p.index().unwrap(), "{}", p.name());
        assert_eq!(Payload::kind_named(p.kind()), Some(p.kind()));
        seen.insert(p.variant());
    }
    assert_eq!(seen.len(), Payload::NAMES.len());
    let mut kinds = Payload::KINDS.to_vec();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(
        kinds.len(),
        Payload::KINDS.len(),
        "two variants share a kind"
    );
}
