//! Merkle tree tests: RFC 6962 reference vectors (SHA-256), every tree size up to 257
//! with every index and every pair, random larger trees, and a corruption suite in which
//! every valid proof, altered in each way, must be rejected.

// In test code a panic is a failed test, so indexing and expect are fine here.
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use coop_core::Hash;
use coop_core::hash::leaf_hash;
use coop_core::merkle::{
    Blake3Hasher, Frontier, MerkleHasher, NodeReader, Sha256Hasher, consistency_proof,
    inclusion_proof, root_at, verify_consistency, verify_inclusion,
};
use proptest::prelude::*;
use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};

/// An in-memory node store, filled through [`Frontier::push`] as a real store is.
struct Nodes<H: MerkleHasher> {
    map: HashMap<(u8, u64), H::Digest>,
    frontier: Frontier<H>,
    roots: Vec<H::Digest>,
}

impl<H: MerkleHasher> Nodes<H> {
    fn new() -> Self {
        Nodes {
            map: HashMap::new(),
            frontier: Frontier::new(),
            roots: vec![H::empty_root()],
        }
    }
    fn push(&mut self, leaf: H::Digest) {
        let map = &mut self.map;
        self.frontier.push(leaf, |l, i, h| {
            map.insert((l, i), h.clone());
        });
        self.roots.push(self.frontier.root());
    }
}

impl<H: MerkleHasher> NodeReader<H::Digest> for Nodes<H> {
    type Error = String;
    fn node(&self, level: u8, index: u64) -> Result<H::Digest, String> {
        self.map
            .get(&(level, index))
            .cloned()
            .ok_or_else(|| format!("node ({level},{index}) missing"))
    }
}

fn blake_tree(n: u64) -> Nodes<Blake3Hasher> {
    let mut t = Nodes::new();
    for i in 0..n {
        t.push(leaf_hash(&i.to_le_bytes()));
    }
    t
}

// ---------------------------------------------------------------- RFC 6962 vectors

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn sha_tree() -> anyhow::Result<Nodes<Sha256Hasher>> {
    let mut t = Nodes::new();
    for l in LEAVES {
        t.push(Sha256Hasher::leaf(&hex::decode(l)?));
    }
    Ok(t)
}

#[test]
fn rfc6962_roots_for_sizes_0_to_8() -> anyhow::Result<()> {
    let t = sha_tree()?;
    assert_eq!(
        hex::encode(Sha256Hasher::empty_root()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    for (i, want) in ROOTS.iter().enumerate() {
        let size = i as u64 + 1;
        assert_eq!(hex::encode(&t.roots[i + 1]), *want, "frontier root {size}");
        let stored = root_at::<Sha256Hasher, _>(&t, size).map_err(anyhow::Error::msg)?;
        assert_eq!(hex::encode(stored), *want, "stored root {size}");
    }
    Ok(())
}

fn vector_files(kind: &str) -> anyhow::Result<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors/rfc6962")
        .join(kind);
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn b64(v: &serde_json::Value) -> anyhow::Result<Vec<u8>> {
    Ok(B64.decode(v.as_str().unwrap_or(""))?)
}

fn b64_list(v: &serde_json::Value) -> anyhow::Result<Vec<Vec<u8>>> {
    match v.as_array() {
        None => Ok(Vec::new()),
        Some(a) => a.iter().map(b64).collect(),
    }
}

#[test]
fn rfc6962_inclusion_vectors() -> anyhow::Result<()> {
    let files = vector_files("inclusion")?;
    assert!(files.len() > 50, "vectors missing: {}", files.len());
    let tree = sha_tree()?;
    for f in files {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&f)?)?;
        let index = v["leafIdx"].as_u64().unwrap_or(u64::MAX);
        let size = v["treeSize"].as_u64().unwrap_or(u64::MAX);
        let leaf = b64(&v["leafHash"])?;
        let root = b64(&v["root"])?;
        let proof = b64_list(&v["proof"])?;
        let want_err = v["wantErr"].as_bool().unwrap_or(true);
        let got = verify_inclusion::<Sha256Hasher>(index, size, &leaf, &proof, &root);
        assert_eq!(got.is_err(), want_err, "{}: {got:?}", f.display());
        // Where the vector is a valid proof over the reference tree, we must generate
        // exactly the same proof.
        if !want_err && size <= 8 && tree.roots.get(size as usize) == Some(&root) {
            let ours = inclusion_proof::<Sha256Hasher, _>(&tree, index, size)
                .map_err(anyhow::Error::msg)?;
            assert_eq!(ours, proof, "{}: generated proof differs", f.display());
        }
    }
    Ok(())
}

#[test]
fn rfc6962_consistency_vectors() -> anyhow::Result<()> {
    let files = vector_files("consistency")?;
    assert!(files.len() > 50, "vectors missing: {}", files.len());
    let tree = sha_tree()?;
    for f in files {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&f)?)?;
        let size1 = v["size1"].as_u64().unwrap_or(u64::MAX);
        let size2 = v["size2"].as_u64().unwrap_or(u64::MAX);
        let root1 = b64(&v["root1"])?;
        let root2 = b64(&v["root2"])?;
        let proof = b64_list(&v["proof"])?;
        let want_err = v["wantErr"].as_bool().unwrap_or(true);
        let got = verify_consistency::<Sha256Hasher>(size1, size2, &root1, &root2, &proof);
        assert_eq!(got.is_err(), want_err, "{}: {got:?}", f.display());
        if !want_err && size2 <= 8 && tree.roots.get(size2 as usize) == Some(&root2) {
            let ours = consistency_proof::<Sha256Hasher, _>(&tree, size1, size2)
                .map_err(anyhow::Error::msg)?;
            assert_eq!(ours, proof, "{}: generated proof differs", f.display());
        }
    }
    Ok(())
}

// ------------------------------------------------ every size, every index, every pair

const MAX: u64 = 257;

#[test]
fn every_inclusion_proof_up_to_257_verifies() -> anyhow::Result<()> {
    let t = blake_tree(MAX);
    for size in 1..=MAX {
        let root = &t.roots[size as usize];
        assert_eq!(
            &root_at::<Blake3Hasher, _>(&t, size).map_err(anyhow::Error::msg)?,
            root
        );
        for index in 0..size {
            let p =
                inclusion_proof::<Blake3Hasher, _>(&t, index, size).map_err(anyhow::Error::msg)?;
            let leaf = t.node(0, index).map_err(anyhow::Error::msg)?;
            verify_inclusion::<Blake3Hasher>(index, size, &leaf, &p, root)
                .map_err(|e| anyhow::anyhow!("{index}/{size}: {e}"))?;
        }
    }
    Ok(())
}

#[test]
fn every_consistency_proof_up_to_257_verifies() -> anyhow::Result<()> {
    let t = blake_tree(MAX);
    for size2 in 1..=MAX {
        for size1 in 1..=size2 {
            let p = consistency_proof::<Blake3Hasher, _>(&t, size1, size2)
                .map_err(anyhow::Error::msg)?;
            verify_consistency::<Blake3Hasher>(
                size1,
                size2,
                &t.roots[size1 as usize],
                &t.roots[size2 as usize],
                &p,
            )
            .map_err(|e| anyhow::anyhow!("{size1}->{size2}: {e}"))?;
        }
    }
    Ok(())
}

#[test]
fn frontier_reloads_from_stored_nodes() -> anyhow::Result<()> {
    let t = blake_tree(MAX);
    for size in 0..=MAX {
        let f = Frontier::<Blake3Hasher>::load(&t, size).map_err(anyhow::Error::msg)?;
        assert_eq!(f.size(), size);
        assert_eq!(f.root(), t.roots[size as usize]);
    }
    Ok(())
}

#[test]
fn bad_proof_requests_are_errors() {
    let t = blake_tree(10);
    assert!(inclusion_proof::<Blake3Hasher, _>(&t, 10, 10).is_err());
    assert!(consistency_proof::<Blake3Hasher, _>(&t, 0, 5).is_err());
    assert!(consistency_proof::<Blake3Hasher, _>(&t, 6, 5).is_err());
    // A store missing nodes is an error, not a wrong answer.
    let empty = Nodes::<Blake3Hasher>::new();
    assert!(root_at::<Blake3Hasher, _>(&empty, 3).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_proofs_in_large_trees(size in 1u64..3000, a in any::<u64>(), b in any::<u64>()) {
        let t = blake_tree(size);
        let root = t.frontier.root();
        let index = a % size;
        let p = inclusion_proof::<Blake3Hasher, _>(&t, index, size).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let leaf = leaf_hash(&index.to_le_bytes());
        prop_assert!(verify_inclusion::<Blake3Hasher>(index, size, &leaf, &p, &root).is_ok());
        let size1 = 1 + b % size;
        let c = consistency_proof::<Blake3Hasher, _>(&t, size1, size).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(verify_consistency::<Blake3Hasher>(size1, size, &t.roots[size1 as usize], &root, &c).is_ok());
    }
}

// ------------------------------------------------------------------ corruption suite

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut out = *h;
    out.0[(bit / 8) % 32] ^= 1 << (bit % 8);
    out
}

/// Every way the suite alters a proof: (description, altered proof list).
fn altered_lists(proof: &[Hash], extra: &[Hash]) -> Vec<(String, Vec<Hash>)> {
    let mut out = Vec::new();
    let junk = Hash([0xAA; 32]);
    for (i, _) in proof.iter().enumerate() {
        let mut p = proof.to_vec();
        p.remove(i);
        out.push((format!("element {i} removed"), p));
        let mut p = proof.to_vec();
        p[i] = flip(&p[i], i * 7 + 3);
        out.push((format!("element {i} bit-flipped"), p));
        let mut p = proof.to_vec();
        p.insert(i, junk);
        out.push((format!("element added at {i}"), p));
        let mut p = proof.to_vec();
        p.insert(i, proof[i]);
        out.push((format!("element {i} duplicated"), p));
    }
    for (k, e) in extra.iter().chain([&junk]).enumerate() {
        let mut p = vec![*e];
        p.extend_from_slice(proof);
        out.push((format!("bytes added before ({k})"), p));
        let mut p = proof.to_vec();
        p.push(*e);
        out.push((format!("bytes added after ({k})"), p));
    }
    out
}

#[test]
fn every_altered_inclusion_proof_is_rejected() -> anyhow::Result<()> {
    let t = blake_tree(MAX);
    let mut checked = 0u64;
    for size in 1..=MAX {
        let root = t.roots[size as usize];
        // Every index for small trees, a spread of indices above (the suite is quadratic).
        let step = if size <= 64 { 1 } else { 7 };
        for index in (0..size).step_by(step) {
            let leaf = t.node(0, index).map_err(anyhow::Error::msg)?;
            let proof =
                inclusion_proof::<Blake3Hasher, _>(&t, index, size).map_err(anyhow::Error::msg)?;
            let ok = |i: u64, s: u64, l: &Hash, p: &[Hash], r: &Hash| {
                verify_inclusion::<Blake3Hasher>(i, s, l, p, r).is_ok()
            };
            let mut bad: Vec<(String, bool)> = Vec::new();
            for (what, p) in altered_lists(&proof, &[leaf, root]) {
                bad.push((what, ok(index, size, &leaf, &p, &root)));
            }
            for i2 in [index.wrapping_sub(1), index + 1, index ^ 2, index + size] {
                if i2 != index {
                    bad.push((
                        format!("wrong index {i2}"),
                        ok(i2, size, &leaf, &proof, &root),
                    ));
                }
            }
            for s2 in [size * 2, size / 2, 0] {
                if s2 != size {
                    bad.push((
                        format!("wrong size {s2}"),
                        ok(index, s2, &leaf, &proof, &root),
                    ));
                }
            }
            bad.push((
                "wrong leaf".into(),
                ok(index, size, &flip(&leaf, 5), &proof, &root),
            ));
            bad.push((
                "wrong root".into(),
                ok(index, size, &leaf, &proof, &flip(&root, 9)),
            ));
            if size > 1 {
                bad.push((
                    "leaf and root swapped".into(),
                    ok(index, size, &root, &proof, &leaf),
                ));
            }
            for (what, accepted) in bad {
                assert!(!accepted, "inclusion {index}/{size}: {what} was accepted");
                checked += 1;
            }
        }
    }
    assert!(checked > 50_000, "suite too small: {checked}");
    Ok(())
}

#[test]
fn every_altered_consistency_proof_is_rejected() -> anyhow::Result<()> {
    let t = blake_tree(MAX);
    let mut checked = 0u64;
    for size2 in 1..=MAX {
        let step = if size2 <= 64 { 1 } else { 5 };
        for size1 in (1..=size2).step_by(step) {
            let r1 = t.roots[size1 as usize];
            let r2 = t.roots[size2 as usize];
            let proof = consistency_proof::<Blake3Hasher, _>(&t, size1, size2)
                .map_err(anyhow::Error::msg)?;
            let ok = |a: u64, b: u64, x: &Hash, y: &Hash, p: &[Hash]| {
                verify_consistency::<Blake3Hasher>(a, b, x, y, p).is_ok()
            };
            let mut bad: Vec<(String, bool)> = Vec::new();
            for (what, p) in altered_lists(&proof, &[r1, r2]) {
                bad.push((what, ok(size1, size2, &r1, &r2, &p)));
            }
            for s in [size1 - 1, size1 * 2, size1 / 2] {
                if s != size1 {
                    bad.push((
                        format!("wrong first size {s}"),
                        ok(s, size2, &r1, &r2, &proof),
                    ));
                }
            }
            for s in [size2 * 2, size2 / 2] {
                if s != size2 {
                    bad.push((
                        format!("wrong second size {s}"),
                        ok(size1, s, &r1, &r2, &proof),
                    ));
                }
            }
            if r1 != r2 {
                bad.push(("roots swapped".into(), ok(size1, size2, &r2, &r1, &proof)));
            }
            bad.push((
                "wrong first root".into(),
                ok(size1, size2, &flip(&r1, 3), &r2, &proof),
            ));
            bad.push((
                "wrong second root".into(),
                ok(size1, size2, &r1, &flip(&r2, 3), &proof),
            ));
            for (what, accepted) in bad {
                assert!(
                    !accepted,
                    "consistency {size1}->{size2}: {what} was accepted"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 50_000, "suite too small: {checked}");
    Ok(())
}

#[test]
fn infallible_error_type_is_usable() {
    // verify_* return ProofError<Infallible>; make sure it formats for callers.
    let e = verify_inclusion::<Blake3Hasher>(1, 1, &Hash::ZERO, &[], &Hash::ZERO)
        .err()
        .map(|e: coop_core::merkle::ProofError<Infallible>| e.to_string());
    assert!(e.is_some_and(|s| s.contains("index")));
}
