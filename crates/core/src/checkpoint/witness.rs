//! The witness rule: may a witness that last cosigned `old` cosign `new`? One pure
//! function, with a table of cases, that every witness path calls (the follower, and
//! `coopledger checkpoint cosign`). Modelled on cloudflare/azul's witness, which keeps
//! its transition check pure and table-tested.
//!
//! It judges two checkpoints whose signatures the caller has already verified
//! ([`super::verify_checkpoint`]) and the consistency proof between them. It does not
//! check the chain head against records (a consistency proof covers the Merkle tree
//! only): a witness that holds the records (a follower) also compares the root and chain
//! head with its own copy.

use super::statement::Checkpoint;
use crate::hash::Hash;
use crate::merkle::{Blake3Hasher, verify_consistency};

/// Why a witness must not cosign. Every variant except `BadProof` with a proof the
/// witness fetched from somewhere unreliable is evidence of a split view: keep both
/// checkpoints and the proof.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The new checkpoint is for another ledger. Refuse; check the configuration.
    #[error("the checkpoint is for ledger {new}, but this witness follows ledger {old}")]
    OtherLedger {
        /// The ledger cosigned so far.
        old: String,
        /// The ledger of the new checkpoint.
        new: String,
    },
    /// Rollback: the new checkpoint covers fewer records than one already cosigned.
    #[error(
        "rollback: the checkpoint covers {new} records, but this witness already cosigned one covering {old}"
    )]
    Rollback {
        /// Size already cosigned.
        old: u64,
        /// Size offered.
        new: u64,
    },
    /// Two checkpoints of the same size with different roots or chain heads: a fork.
    #[error("fork: two checkpoints of size {size} state different roots or chain heads")]
    SameSizeFork {
        /// The size.
        size: u64,
    },
    /// The consistency proof does not show that the new tree extends the old one (or a
    /// proof was given where none is possible). A fork, unless the proof is simply
    /// damaged: fetch it again before concluding.
    #[error("the checkpoint at {new} is not shown to extend the one cosigned at {old}: {why}")]
    BadProof {
        /// Size already cosigned.
        old: u64,
        /// Size offered.
        new: u64,
        /// Why the proof fails.
        why: String,
    },
    /// The new checkpoint's time is earlier than that of one already cosigned.
    #[error(
        "the checkpoint's time {new} ms is earlier than {old} ms, the time of the one already cosigned"
    )]
    TimeBackwards {
        /// Time of the checkpoint already cosigned.
        old: u64,
        /// Time of the new one.
        new: u64,
    },
}

/// How far ahead of a witness's own clock a checkpoint may be dated and still be cosigned
/// (clock skew): a checkpoint's time is the node's clock, and a witness vouches for it.
pub const CHECKPOINT_AHEAD_MS: u64 = 60_000;

/// Whether `cp` is dated further ahead of a witness's clock `now` than clock skew allows
/// (docs/FORMAT.md §8): such a checkpoint is not cosigned. A test ledger, whose clock may
/// be moved (docs/TREATY.md, Time), is exempt.
pub fn dated_ahead(cp: &Checkpoint, now: crate::Timestamp) -> bool {
    cp.time.0 > now.0.saturating_add(CHECKPOINT_AHEAD_MS)
}

/// Decides whether a witness whose last cosigned checkpoint is `old` (none: it has
/// cosigned nothing of this ledger yet) may cosign `new`, given `proof`, the consistency
/// proof from `old.size` to `new.size`. Both checkpoints' signatures must already be
/// verified. `Ok(())` means: cosign.
pub fn validate_checkpoint_transition(
    old: Option<&Checkpoint>,
    new: &Checkpoint,
    proof: &[Hash],
) -> Result<(), TransitionError> {
    let Some(old) = old else {
        // Nothing to be consistent with yet: trust on first use, as every witness does.
        return no_proof_expected(0, new.size, proof);
    };
    if old.ledger_id != new.ledger_id {
        return Err(TransitionError::OtherLedger {
            old: old.ledger_id.to_string(),
            new: new.ledger_id.to_string(),
        });
    }
    if new.size < old.size {
        return Err(TransitionError::Rollback {
            old: old.size,
            new: new.size,
        });
    }
    if new.time < old.time {
        return Err(TransitionError::TimeBackwards {
            old: old.time.0,
            new: new.time.0,
        });
    }
    if new.size == old.size {
        if new.root != old.root || new.chain_head != old.chain_head {
            return Err(TransitionError::SameSizeFork { size: new.size });
        }
        return no_proof_expected(old.size, new.size, proof);
    }
    if old.size == 0 {
        // Every tree extends the empty one; RFC 9162 has no proof from size 0.
        return no_proof_expected(old.size, new.size, proof);
    }
    verify_consistency::<Blake3Hasher>(old.size, new.size, &old.root, &new.root, proof).map_err(
        |e| TransitionError::BadProof {
            old: old.size,
            new: new.size,
            why: e.to_string(),
        },
    )
}

fn no_proof_expected(old: u64, new: u64, proof: &[Hash]) -> Result<(), TransitionError> {
    if proof.is_empty() {
        Ok(())
    } else {
        Err(TransitionError::BadProof {
            old,
            new,
            why: "no consistency proof is possible here, but one was given".into(),
        })
    }
}

#[cfg(test)]
mod ahead {
    use super::*;

    #[test]
    fn a_checkpoint_dated_beyond_clock_skew_is_ahead() {
        let cp = Checkpoint {
            ledger_id: crate::LedgerId(crate::Hash([1; 32])),
            size: 1,
            root: crate::Hash([2; 32]),
            chain_head: crate::Hash([3; 32]),
            time: crate::Timestamp(1_000_000 + CHECKPOINT_AHEAD_MS),
        };
        assert!(!dated_ahead(&cp, crate::Timestamp(1_000_000)));
        assert!(dated_ahead(&cp, crate::Timestamp(999_999)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{LedgerId, Timestamp};
    use crate::merkle::{Frontier, NodeReader, consistency_proof};

    struct Leaves(Vec<Hash>);
    impl NodeReader<Hash> for Leaves {
        type Error = String;
        fn node(&self, level: u8, index: u64) -> Result<Hash, String> {
            if level == 0 {
                return self
                    .0
                    .get(usize::try_from(index).map_err(|e| e.to_string())?)
                    .copied()
                    .ok_or_else(|| "no leaf".to_owned());
            }
            let l = self.node(level - 1, index * 2)?;
            let r = self.node(level - 1, index * 2 + 1)?;
            Ok(crate::hash::node_hash(&l, &r))
        }
    }

    /// A ledger of `n` leaves (`fork` changes leaf 5 and later), its checkpoint at
    /// `size`, and the leaves.
    fn tree(n: u64, fork: bool) -> Leaves {
        Leaves(
            (0..n)
                .map(|i| {
                    let tag = if fork && i >= 5 { 0xF0 } else { 0 };
                    crate::hash::leaf_hash(&[tag, i as u8])
                })
                .collect(),
        )
    }

    fn cp(leaves: &Leaves, size: u64, time: u64) -> Checkpoint {
        let mut f = Frontier::<Blake3Hasher>::new();
        for l in leaves.0.iter().take(size as usize) {
            f.push(*l, |_, _, _| {});
        }
        Checkpoint {
            ledger_id: LedgerId(Hash([1; 32])),
            size,
            root: f.root(),
            chain_head: Hash([size as u8; 32]),
            time: Timestamp(time),
        }
    }

    fn proof(leaves: &Leaves, a: u64, b: u64) -> Vec<Hash> {
        consistency_proof::<Blake3Hasher, _>(leaves, a, b).unwrap_or_default()
    }

    #[test]
    fn the_witness_rule_table() {
        let honest = tree(20, false);
        let forked = tree(20, true);
        let good = proof(&honest, 8, 13);
        let mut bad_proof = good.clone();
        if let Some(h) = bad_proof.first_mut() {
            h.0[0] ^= 1;
        }
        let mut other_ledger = cp(&honest, 13, 20);
        other_ledger.ledger_id = LedgerId(Hash([2; 32]));
        let mut same_root_other_head = cp(&honest, 8, 20);
        same_root_other_head.chain_head = Hash([0xEE; 32]);
        type Case = (
            &'static str,
            Option<Checkpoint>,
            Checkpoint,
            Vec<Hash>,
            Result<(), fn(&TransitionError) -> bool>,
        );
        let cases: Vec<Case> = vec![
            ("first checkpoint", None, cp(&honest, 8, 10), vec![], Ok(())),
            (
                "first checkpoint with a proof",
                None,
                cp(&honest, 8, 10),
                good.clone(),
                Err(|e| matches!(e, TransitionError::BadProof { .. })),
            ),
            (
                "good extension",
                Some(cp(&honest, 8, 10)),
                cp(&honest, 13, 20),
                good.clone(),
                Ok(()),
            ),
            (
                "the same checkpoint again",
                Some(cp(&honest, 8, 10)),
                cp(&honest, 8, 10),
                vec![],
                Ok(()),
            ),
            (
                "re-signed later at the same size",
                Some(cp(&honest, 8, 10)),
                cp(&honest, 8, 30),
                vec![],
                Ok(()),
            ),
            (
                "rollback",
                Some(cp(&honest, 13, 10)),
                cp(&honest, 8, 20),
                vec![],
                Err(|e| matches!(e, TransitionError::Rollback { old: 13, new: 8 })),
            ),
            (
                "same-size fork",
                Some(cp(&honest, 8, 10)),
                cp(&forked, 8, 20),
                vec![],
                Err(|e| matches!(e, TransitionError::SameSizeFork { size: 8 })),
            ),
            (
                "same size, same root, another chain head",
                Some(cp(&honest, 8, 10)),
                same_root_other_head,
                vec![],
                Err(|e| matches!(e, TransitionError::SameSizeFork { size: 8 })),
            ),
            (
                "fork below the old size, honest proof of the old tree",
                Some(cp(&honest, 8, 10)),
                cp(&forked, 13, 20),
                good.clone(),
                Err(|e| matches!(e, TransitionError::BadProof { .. })),
            ),
            (
                "fork, with the forked tree's own proof",
                Some(cp(&honest, 8, 10)),
                cp(&forked, 13, 20),
                proof(&forked, 8, 13),
                Err(|e| matches!(e, TransitionError::BadProof { .. })),
            ),
            (
                "damaged proof",
                Some(cp(&honest, 8, 10)),
                cp(&honest, 13, 20),
                bad_proof,
                Err(|e| matches!(e, TransitionError::BadProof { .. })),
            ),
            (
                "empty proof for a real extension",
                Some(cp(&honest, 8, 10)),
                cp(&honest, 13, 20),
                vec![],
                Err(|e| matches!(e, TransitionError::BadProof { .. })),
            ),
            (
                "proof for the wrong sizes",
                Some(cp(&honest, 8, 10)),
                cp(&honest, 13, 20),
                proof(&honest, 7, 13),
                Err(|e| matches!(e, TransitionError::BadProof { .. })),
            ),
            (
                "another ledger",
                Some(cp(&honest, 8, 10)),
                other_ledger,
                good.clone(),
                Err(|e| matches!(e, TransitionError::OtherLedger { .. })),
            ),
            (
                "time goes backwards",
                Some(cp(&honest, 8, 10)),
                cp(&honest, 13, 9),
                good.clone(),
                Err(|e| matches!(e, TransitionError::TimeBackwards { old: 10, new: 9 })),
            ),
            (
                "from the empty tree",
                Some(cp(&honest, 0, 10)),
                cp(&honest, 13, 20),
                vec![],
                Ok(()),
            ),
            (
                "a proof where the same size needs none",
                Some(cp(&honest, 8, 10)),
                cp(&honest, 8, 10),
                good,
                Err(|e| matches!(e, TransitionError::BadProof { .. })),
            ),
        ];
        for (what, old, new, proof, want) in cases {
            let got = validate_checkpoint_transition(old.as_ref(), &new, &proof);
            match (&got, want) {
                (Ok(()), Ok(())) => {}
                (Err(e), Err(is)) if is(e) => {}
                _ => panic!("{what}: got {got:?}"),
            }
        }
    }
}
