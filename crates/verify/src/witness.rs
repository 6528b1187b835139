//! Witness cosignatures, judged against the witnesses the ledger itself registers.

use coop_core::checkpoint::{Cosignature, NoteVerifier, SigAlg};
use coop_treaty::{Party, Role, State};

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
