//! A [`NodeReader`] for a tree whose newest leaves are in memory: what a group commit
//! needs to prove every record it just wrote. Nodes wholly left of the new leaves come
//! from the base reader (storage), once each; every other node is hashed from the leaves
//! in memory and remembered, so the proofs of a group of `g` records in a tree of `n`
//! cost about `log n` reads and `2g` hashes in all, not `g · log n` reads.

use super::{MerkleHasher, NodeReader};
use std::cell::RefCell;
use std::collections::HashMap;
use std::marker::PhantomData;

/// `base` for the leaves before `first`, `leaves` for `first..first + leaves.len()`.
pub struct WithTail<'a, H: MerkleHasher, R> {
    base: &'a R,
    first: u64,
    leaves: &'a [H::Digest],
    memo: RefCell<HashMap<(u8, u64), H::Digest>>,
    _h: PhantomData<H>,
}

impl<H: MerkleHasher, R> std::fmt::Debug for WithTail<'_, H, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithTail")
            .field("first", &self.first)
            .field("leaves", &self.leaves.len())
            .finish_non_exhaustive()
    }
}

impl<'a, H: MerkleHasher, R: NodeReader<H::Digest>> WithTail<'a, H, R> {
    /// A reader over `base`, with leaves `first..` given.
    pub fn new(base: &'a R, first: u64, leaves: &'a [H::Digest]) -> Self {
        WithTail {
            base,
            first,
            leaves,
            memo: RefCell::new(HashMap::new()),
            _h: PhantomData,
        }
    }

    /// One past the last leaf in memory.
    pub fn end(&self) -> u64 {
        self.first + self.leaves.len() as u64
    }
}

impl<H: MerkleHasher, R: NodeReader<H::Digest>> NodeReader<H::Digest> for WithTail<'_, H, R> {
    type Error = R::Error;

    fn node(&self, level: u8, index: u64) -> Result<H::Digest, R::Error> {
        if let Some(d) = self.memo.borrow().get(&(level, index)) {
            return Ok(d.clone());
        }
        // Leaves [start, end) of this node; a node beyond u64 is never asked for.
        let width = 1u64.checked_shl(u32::from(level)).unwrap_or(u64::MAX);
        let start = index.saturating_mul(width);
        let end = start.saturating_add(width);
        let d = if end <= self.first || start >= self.end() {
            self.base.node(level, index)?
        } else if level == 0 {
            // start is in first..end() here.
            match usize::try_from(start - self.first)
                .ok()
                .and_then(|i| self.leaves.get(i))
            {
                Some(leaf) => leaf.clone(),
                None => self.base.node(level, index)?,
            }
        } else {
            let left = self.node(level - 1, index.saturating_mul(2))?;
            let right = self.node(level - 1, index.saturating_mul(2).saturating_add(1))?;
            H::node(&left, &right)
        };
        self.memo.borrow_mut().insert((level, index), d.clone());
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Hash;
    use crate::merkle::{Blake3Hasher, inclusion_proof, root_at};
    use proptest::prelude::*;

    /// Every perfect node, from all the leaves.
    struct All(Vec<Hash>);
    impl NodeReader<Hash> for All {
        type Error = ();
        fn node(&self, level: u8, index: u64) -> Result<Hash, ()> {
            let w = 1usize << level;
            let s = index as usize * w;
            let leaves = self.0.get(s..s + w).ok_or(())?;
            let mut layer = leaves.to_vec();
            while layer.len() > 1 {
                layer = layer
                    .chunks(2)
                    .map(|p| Blake3Hasher::node(&p[0], &p[1]))
                    .collect();
            }
            Ok(layer[0])
        }
    }

    proptest! {
        /// The proofs and the root made with the tail in memory are those made from
        /// storage alone; the base is never asked for a node right of `first`.
        #[test]
        fn same_proofs_as_from_storage(n in 1u64..300, cut in 0u64..300) {
            let first = cut % n;
            let leaves: Vec<Hash> = (0..n).map(|i| Hash::tagged(0, &[&i.to_be_bytes()])).collect();
            let all = All(leaves.clone());
            let before = All(leaves[..first as usize].to_vec());
            let tail = WithTail::<Blake3Hasher, _>::new(&before, first, &leaves[first as usize..]);
            prop_assert_eq!(root_at::<Blake3Hasher, _>(&tail, n), root_at::<Blake3Hasher, _>(&all, n));
            for i in first..n {
                prop_assert_eq!(
                    inclusion_proof::<Blake3Hasher, _>(&tail, i, n),
                    inclusion_proof::<Blake3Hasher, _>(&all, i, n)
                );
            }
        }
    }
}
