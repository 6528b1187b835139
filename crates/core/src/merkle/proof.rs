//! Proof generation (RFC 9162 §2.1.3.1, §2.1.4.1) over a [`NodeReader`], and
//! verification (§2.1.3.2, §2.1.4.2) as pure functions.

use super::{MerkleHasher, NodeReader, split};

/// Why a proof could not be made or does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError<E> {
    /// The index or sizes asked for do not fit the tree. Fix the request (HTTP 400).
    #[error("invalid proof request: {0}")]
    BadRequest(&'static str),
    /// Storage failed while reading node hashes.
    #[error("storage error while building a proof: {0}")]
    Storage(E),
    /// The proof does not verify: the claimed relation does not hold, or the proof is
    /// malformed. Do not trust the claim.
    #[error("proof does not verify: {0}")]
    Invalid(&'static str),
}

/// Root hash of the first `size` leaves.
pub fn root_at<H, R>(reader: &R, size: u64) -> Result<H::Digest, ProofError<R::Error>>
where
    H: MerkleHasher,
    R: NodeReader<H::Digest>,
{
    if size == 0 {
        return Ok(H::empty_root());
    }
    subtree::<H, R>(reader, 0, size)
}

/// MTH(D[start:end]). `start` is always a multiple of the largest power of two ≤ the
/// width, so the left part of every split is a stored perfect node.
fn subtree<H, R>(reader: &R, start: u64, end: u64) -> Result<H::Digest, ProofError<R::Error>>
where
    H: MerkleHasher,
    R: NodeReader<H::Digest>,
{
    let n = end - start;
    if n.is_power_of_two() && start.is_multiple_of(n) {
        let level = n.trailing_zeros() as u8;
        return reader
            .node(level, start >> level)
            .map_err(ProofError::Storage);
    }
    let k = split(n);
    let left = subtree::<H, R>(reader, start, start + k)?;
    let right = subtree::<H, R>(reader, start + k, end)?;
    Ok(H::node(&left, &right))
}

/// Inclusion proof of leaf `index` in the tree of `size` leaves (audit path, leaf end
/// first).
pub fn inclusion_proof<H, R>(
    reader: &R,
    index: u64,
    size: u64,
) -> Result<Vec<H::Digest>, ProofError<R::Error>>
where
    H: MerkleHasher,
    R: NodeReader<H::Digest>,
{
    if index >= size {
        return Err(ProofError::BadRequest(
            "leaf index must be below the tree size",
        ));
    }
    let mut out = Vec::new();
    path::<H, R>(reader, index, 0, size, &mut out)?;
    Ok(out)
}

fn path<H, R>(
    reader: &R,
    m: u64,
    start: u64,
    end: u64,
    out: &mut Vec<H::Digest>,
) -> Result<(), ProofError<R::Error>>
where
    H: MerkleHasher,
    R: NodeReader<H::Digest>,
{
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < start + k {
        path::<H, R>(reader, m, start, start + k, out)?;
        out.push(subtree::<H, R>(reader, start + k, end)?);
    } else {
        path::<H, R>(reader, m, start + k, end, out)?;
        out.push(subtree::<H, R>(reader, start, start + k)?);
    }
    Ok(())
}

/// Consistency proof between the trees of `size1` and `size2` leaves
/// (0 < size1 ≤ size2; empty when the sizes are equal).
pub fn consistency_proof<H, R>(
    reader: &R,
    size1: u64,
    size2: u64,
) -> Result<Vec<H::Digest>, ProofError<R::Error>>
where
    H: MerkleHasher,
    R: NodeReader<H::Digest>,
{
    if size1 == 0 || size1 > size2 {
        return Err(ProofError::BadRequest(
            "consistency needs 0 < first size <= second size",
        ));
    }
    let mut out = Vec::new();
    if size1 < size2 {
        subproof::<H, R>(reader, size1, 0, size2, true, &mut out)?;
    }
    Ok(out)
}

fn subproof<H, R>(
    reader: &R,
    m: u64,
    start: u64,
    end: u64,
    whole: bool,
    out: &mut Vec<H::Digest>,
) -> Result<(), ProofError<R::Error>>
where
    H: MerkleHasher,
    R: NodeReader<H::Digest>,
{
    let n = end - start;
    if m == n {
        if !whole {
            out.push(subtree::<H, R>(reader, start, end)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof::<H, R>(reader, m, start, start + k, whole, out)?;
        out.push(subtree::<H, R>(reader, start + k, end)?);
    } else {
        subproof::<H, R>(reader, m - k, start + k, end, false, out)?;
        out.push(subtree::<H, R>(reader, start, start + k)?);
    }
    Ok(())
}

/// Which side of the path a proof hash stands on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// The hash is the left sibling: `node(hash, path)`.
    Left,
    /// The hash is the right sibling: `node(path, hash)`.
    Right,
}

/// How a walk along a proof failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Walk {
    /// Hashes were left after the path reached the root.
    Longer,
    /// The path had not reached the root when the hashes ran out.
    Shorter,
}

/// The walk both RFC 9162 verifications share (§2.1.3.2 and §2.1.4.2): from the node
/// indices `f_n` and `s_n`, each proof hash is a left or a right sibling, and the indices
/// move up as the RFC says. `step` combines each hash; the path must end at the root
/// exactly when the hashes end.
fn walk<D>(
    mut f_n: u64,
    mut s_n: u64,
    proof: &[D],
    mut step: impl FnMut(&D, Side),
) -> Result<(), Walk> {
    for c in proof {
        if s_n == 0 {
            return Err(Walk::Longer);
        }
        if f_n & 1 == 1 || f_n == s_n {
            step(c, Side::Left);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            step(c, Side::Right);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(Walk::Shorter);
    }
    Ok(())
}

/// Verifies that `leaf` is leaf `index` of the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion<H: MerkleHasher>(
    index: u64,
    size: u64,
    leaf: &H::Digest,
    proof: &[H::Digest],
    root: &H::Digest,
) -> Result<(), ProofError<std::convert::Infallible>> {
    if index >= size {
        return Err(ProofError::Invalid("leaf index is not below the tree size"));
    }
    if !H::well_formed(leaf) {
        return Err(ProofError::Invalid("leaf hash has the wrong length"));
    }
    let mut r = leaf.clone();
    walk(index, size - 1, proof, |p, side| {
        r = match side {
            Side::Left => H::node(p, &r),
            Side::Right => H::node(&r, p),
        }
    })
    .map_err(|e| {
        ProofError::Invalid(match e {
            Walk::Longer => "proof is longer than the path",
            Walk::Shorter => "proof is shorter than the path",
        })
    })?;
    if r != *root {
        return Err(ProofError::Invalid(
            "computed root differs from the given root",
        ));
    }
    Ok(())
}

/// Verifies that the tree of `size1` leaves with root `root1` is a prefix of the tree of
/// `size2` leaves with root `root2`. `size1 = 0` is refused: every tree extends the empty
/// tree, so such a check proves nothing and is almost always a caller's mistake.
pub fn verify_consistency<H: MerkleHasher>(
    size1: u64,
    size2: u64,
    root1: &H::Digest,
    root2: &H::Digest,
    proof: &[H::Digest],
) -> Result<(), ProofError<std::convert::Infallible>> {
    if size1 > size2 {
        return Err(ProofError::Invalid("first tree is larger than the second"));
    }
    if size1 == 0 {
        return Err(ProofError::Invalid(
            "consistency with the empty tree proves nothing",
        ));
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::Invalid("equal sizes need an empty proof"));
        }
        if root1 != root2 {
            return Err(ProofError::Invalid("equal sizes but different roots"));
        }
        return Ok(());
    }
    let mut path: Vec<H::Digest> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(root1.clone());
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::Invalid("empty proof for different sizes"));
    };
    if proof.is_empty() {
        return Err(ProofError::Invalid("empty proof for different sizes"));
    }
    let mut f_n = size1 - 1;
    let mut s_n = size2 - 1;
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let mut fr = first.clone();
    let mut sr = first.clone();
    walk(f_n, s_n, rest, |c, side| match side {
        Side::Left => {
            fr = H::node(c, &fr);
            sr = H::node(c, &sr);
        }
        Side::Right => sr = H::node(&sr, c),
    })
    .map_err(|e| {
        ProofError::Invalid(match e {
            Walk::Longer => "proof is longer than needed",
            Walk::Shorter => "proof is shorter than needed",
        })
    })?;
    if fr != *root1 {
        return Err(ProofError::Invalid("proof does not lead to the first root"));
    }
    if sr != *root2 {
        return Err(ProofError::Invalid(
            "proof does not lead to the second root",
        ));
    }
    Ok(())
}
