//! The keys a ledger names for its checkpoints: the node keys (the genesis's, and later
//! handovers') that sign them, and the witnesses, registered by the Parties' roots, that
//! cosign them. A verifier learns both from the ledger itself; the auditor pins only the
//! first node key.

use coop_core::checkpoint::{Cosignature, Note, NoteVerifier, SigAlg};
use coop_treaty::{Party, Role, State};

/// Verifiers of the node keys that `state`'s ledger names for a checkpoint of `size`
/// records, each named `coopledger/<ledger id>`.
pub fn node_verifiers(state: &State, size: u64) -> Vec<NoteVerifier> {
    let Some(ledger) = state.ledger_id else {
        return Vec::new();
    };
    state
        .agreement
        .node_keys_at(size)
        .into_iter()
        .map(|k| coop_core::checkpoint::node_verifier(&ledger, k))
        .collect()
}

/// The verifier of the node key the ledger names now (for a checkpoint of its size).
pub fn node_verifier(state: &State) -> Option<NoteVerifier> {
    node_verifiers(state, state.size).pop()
}

/// Of `nodes`, the one that signed `note` (whose line it carries).
pub fn node_verifier_of(note: &str, nodes: &[NoteVerifier]) -> Option<NoteVerifier> {
    let parsed = Note::parse(note).ok()?;
    nodes.iter().find(|n| n.find(&parsed).is_some()).cloned()
}

/// Cosignature verifiers of the witnesses registered in `state` whose keys are active
/// for record `at` (the last record a checkpoint covers), with their Party. A witness's
/// key name on a checkpoint is its registered id.
pub fn registered(state: &State, at: u64) -> Vec<(NoteVerifier, Party)> {
    state
        .registry
        .values()
        .filter(|r| r.role == Role::Witness)
        .flat_map(|r| {
            r.keys
                .iter()
                .filter(|g| r.key_active_at(&g.key, at))
                .map(|g| {
                    (
                        NoteVerifier {
                            name: r.id.to_string(),
                            key: g.key,
                            alg: SigAlg::CosignatureV1,
                        },
                        r.party,
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The verifiers alone.
pub(crate) fn verifiers(witnesses: &[(NoteVerifier, Party)]) -> Vec<NoteVerifier> {
    witnesses.iter().map(|(v, _)| v.clone()).collect()
}

/// Names and Parties of the witnesses whose cosignatures verified.
pub(crate) fn cosigners(
    witnesses: &[(NoteVerifier, Party)],
    cosigned: &[Cosignature],
) -> Vec<(String, Party)> {
    cosigned
        .iter()
        .filter_map(|c| {
            witnesses
                .iter()
                .find(|(w, _)| w.name == c.name)
                .map(|(_, p)| (c.name.clone(), *p))
        })
        .collect()
}

/// The witness policy (docs/FORMAT.md §15, docs/adr/0026): a checkpoint is **witnessed**
/// when a witness of **each** Party, registered in the ledger and active for the
/// checkpoint's last record, has cosigned it. It is the same for every ledger, from its
/// genesis on: no record changes it, and leaving out a Party's witness registration makes
/// it unmeetable, never easier. Only a witnessed checkpoint makes a verdict rest on both
/// Parties' word rather than the node's.
pub fn witnessed(cosigned_by: &[(String, Party)]) -> bool {
    [Party::Kz, Party::Tm]
        .iter()
        .all(|p| cosigned_by.iter().any(|(_, q)| q == p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_is_witnessed_only_by_a_witness_of_each_party() {
        let kz = ("KZ-WITNESS".to_owned(), Party::Kz);
        let kz2 = ("KZ-WITNESS-2".to_owned(), Party::Kz);
        let tm = ("TM-WITNESS".to_owned(), Party::Tm);
        assert!(!witnessed(&[]));
        assert!(!witnessed(std::slice::from_ref(&kz)));
        assert!(
            !witnessed(&[kz.clone(), kz2]),
            "two of one Party are not both"
        );
        assert!(witnessed(&[tm.clone(), kz.clone()]));
        assert!(witnessed(&[kz, tm]));
    }
}
