use super::{MerkleHasher, NodeReader};

/// The right edge of a Merkle tree of `size` leaves: one perfect subtree per set bit of
/// `size`, largest first. Appending a leaf merges equal-height subtrees; every merge
/// completes a perfect node that storage keeps for proofs.
#[derive(Clone, Debug, PartialEq)]
pub struct Frontier<H: MerkleHasher> {
    size: u64,
    /// `(level, hash)`, levels strictly decreasing.
    edge: Vec<(u8, H::Digest)>,
}

impl<H: MerkleHasher> Default for Frontier<H> {
    fn default() -> Self {
        Frontier {
            size: 0,
            edge: Vec::new(),
        }
    }
}

impl<H: MerkleHasher> Frontier<H> {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds the frontier of a tree of `size` leaves from stored perfect nodes
    /// (one read per set bit of `size`).
    pub fn load<R: NodeReader<H::Digest>>(reader: &R, size: u64) -> Result<Self, R::Error> {
        let mut edge = Vec::new();
        let mut start = 0u64;
        for level in (0..64u8).rev() {
            let width = 1u64 << level;
            if size & width != 0 {
                edge.push((level, reader.node(level, start >> level)?));
                start += width;
            }
        }
        Ok(Frontier { size, edge })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The roots of the perfect subtrees the frontier keeps, as `(level, index, digest)`:
    /// every node left of `size` that a proof or a root of a larger tree reads (the rest
    /// of such a tree is to the right of `size`).
    pub fn edge(&self) -> impl Iterator<Item = (u8, u64, &H::Digest)> + '_ {
        let mut start = 0u64;
        self.edge.iter().map(move |(level, d)| {
            let index = start >> level;
            start += 1u64 << level;
            (*level, index, d)
        })
    }

    /// Appends a leaf hash; calls `completed(level, index, hash)` for every perfect node
    /// this completes, the leaf itself (level 0) included.
    pub fn push(&mut self, leaf: H::Digest, mut completed: impl FnMut(u8, u64, &H::Digest)) {
        let index = self.size;
        completed(0, index, &leaf);
        let mut level = 0u8;
        let mut acc = leaf;
        while let Some((l, _)) = self.edge.last() {
            if *l != level {
                break;
            }
            let Some((_, left)) = self.edge.pop() else {
                break;
            };
            acc = H::node(&left, &acc);
            level += 1;
            completed(level, index >> level, &acc);
        }
        self.edge.push((level, acc));
        self.size += 1;
    }

    /// Root of the current tree.
    pub fn root(&self) -> H::Digest {
        let mut it = self.edge.iter().rev();
        let Some((_, last)) = it.next() else {
            return H::empty_root();
        };
        it.fold(last.clone(), |acc, (_, left)| H::node(left, &acc))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::hash::Hash;
    use crate::merkle::Blake3Hasher;
    use std::collections::HashMap;

    /// Records the nodes a load reads.
    struct Nodes(HashMap<(u8, u64), Hash>);
    impl NodeReader<Hash> for Nodes {
        type Error = ();
        fn node(&self, level: u8, index: u64) -> Result<Hash, ()> {
            self.0.get(&(level, index)).copied().ok_or(())
        }
    }

    #[test]
    fn the_edge_is_the_nodes_a_load_reads() {
        let mut f = Frontier::<Blake3Hasher>::new();
        let mut all = HashMap::new();
        for i in 0..300u64 {
            let edge: HashMap<(u8, u64), Hash> = f.edge().map(|(l, i, d)| ((l, i), *d)).collect();
            let loaded = Frontier::<Blake3Hasher>::load(&Nodes(edge), f.size()).unwrap();
            assert_eq!((loaded.size(), loaded.root()), (f.size(), f.root()));
            f.push(Hash::tagged(0, &[&i.to_be_bytes()]), |l, i, h| {
                all.insert((l, i), *h);
            });
            for (l, i, d) in f.edge() {
                assert_eq!(all.get(&(l, i)), Some(d));
            }
        }
    }
}
