//! The C2SP/CCTV Ed25519 edge-case vectors (tests/vectors/ed25519vectors.json): every
//! flagged vector is refused — its key by `PublicKey::check` (the gate every registered
//! key passes) or its signature by strict verification — and the one plain vector is
//! accepted. On flagged inputs Ed25519 libraries disagree; we refuse them all, so no
//! verdict here can be contradicted by another conforming verifier.

#![allow(clippy::indexing_slicing, clippy::expect_used, clippy::unwrap_used)]

use coop_core::checkpoint::{NoteVerifier, SigAlg};
use coop_core::{KeyError, PublicKey, Signature};
use std::collections::BTreeMap;

struct Vector {
    key: PublicKey,
    sig: Signature,
    msg: String,
    flags: Vec<String>,
}

fn vectors() -> Vec<Vector> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/ed25519vectors.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut sig = [0u8; 64];
            hex::decode_to_slice(e["sig"].as_str().unwrap(), &mut sig).unwrap();
            Vector {
                key: PublicKey::from_hex(e["key"].as_str().unwrap()).unwrap(),
                sig: Signature(sig),
                msg: e["msg"].as_str().unwrap().to_owned(),
                flags: e["flags"]
                    .as_array()
                    .map(|f| f.iter().map(|x| x.as_str().unwrap().to_owned()).collect())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

#[test]
fn every_flagged_vector_is_refused_and_the_plain_one_accepted() {
    let all = vectors();
    assert_eq!(all.len(), 914);
    let mut plain = 0;
    for (i, v) in all.iter().enumerate() {
        let verdict = v.key.verify(v.msg.as_bytes(), &v.sig);
        if v.flags.is_empty() {
            plain += 1;
            assert_eq!(verdict, Ok(()), "vector {i} (no flags) refused");
        } else {
            assert!(verdict.is_err(), "vector {i} {:?} accepted", v.flags);
        }
    }
    assert_eq!(plain, 1);
}

#[test]
fn keys_with_a_torsion_component_or_a_second_spelling_are_refused() {
    // One verdict per distinct key; a key is acceptable only if some vector's flags say
    // nothing about A.
    let mut keys: BTreeMap<[u8; 32], Vec<String>> = BTreeMap::new();
    for v in vectors() {
        keys.entry(v.key.0)
            .or_default()
            .extend(v.flags.iter().filter(|f| f.ends_with("_A")).cloned());
    }
    assert_eq!(keys.len(), 22);
    let mut accepted = 0;
    let mut torsion = 0;
    for (k, a_flags) in &keys {
        let key = PublicKey(*k);
        let verdict = key.check();
        if a_flags.is_empty() {
            assert!(verdict.is_ok(), "{key}: clean key refused: {verdict:?}");
            accepted += 1;
        } else {
            assert!(verdict.is_err(), "{key} {a_flags:?} accepted");
        }
        if matches!(verdict, Err(KeyError::TorsionComponent(_))) {
            torsion += 1;
        }
        // The same gate guards verifier keys of signed notes.
        for alg in [SigAlg::Ed25519, SigAlg::CosignatureV1] {
            let vkey = NoteVerifier {
                name: "w".into(),
                key,
                alg,
            }
            .to_vkey();
            assert_eq!(
                NoteVerifier::from_vkey(&vkey).is_ok(),
                a_flags.is_empty(),
                "{vkey}"
            );
        }
    }
    assert!(accepted >= 1);
    // The mixed-order keys the audit found registrable.
    assert!(torsion >= 7, "{torsion} torsioned keys");
}
