//! Governance (Art. 3, 9, 10), signed by a Party's root key: genesis and its acceptance,
//! the registry of authorities, auditors and witnesses, entry into force, termination,
//! protocols.

use super::Ctx;
use crate::model::{DocRole, Language, Party};
use crate::payload::{Payload, Role};
use crate::state::{Handover, KeyGrant, NodeKey, Protocol, Registered, State, Termination};
use crate::time::add_months;
use crate::violation::Violation;
use coop_core::{LedgerId, PublicKey, Timestamp};

pub(super) fn check_genesis(ctx: &Ctx<'_>) -> Result<(), Violation> {
    let Payload::Genesis {
        roots,
        agreement_texts,
        params,
        node_key,
        ..
    } = &ctx.payload
    else {
        return Err(Violation::Art10_Genesis(crate::detail!(
            "genesis-first",
            "the first record of a ledger must be the genesis"
        )));
    };
    let body = &ctx.record.event.body;
    if body.ledger_id.is_some() {
        return Err(Violation::Art10_Genesis(crate::detail!(
            "genesis-names-ledger",
            "the genesis cannot name a ledger: its own hash defines the ledger id"
        )));
    }
    let mut parties: Vec<Party> = roots.iter().map(|r| r.party).collect();
    parties.sort();
    if parties != [Party::Kz, Party::Tm] {
        return Err(Violation::Art10_Genesis(crate::detail!(
            "genesis-roots",
            "the genesis must name exactly one root key for each Party"
        )));
    }
    if roots.first().map(|r| &r.authority) == roots.get(1).map(|r| &r.authority)
        || roots.first().map(|r| r.key) == roots.get(1).map(|r| r.key)
    {
        return Err(Violation::Art10_Genesis(crate::detail!(
            "genesis-roots-differ",
            "the two Parties' roots must have different ids and keys"
        )));
    }
    for r in roots {
        r.key
            .check()
            .map_err(|e| Violation::Art3_Registry(super::unusable_key(&e)))?;
    }
    node_key
        .check()
        .map_err(|e| Violation::Art10_Genesis(super::unusable_key(&e)))?;
    if roots.iter().any(|r| r.key == *node_key) {
        return Err(Violation::Art10_Genesis(crate::detail!(
            "genesis-node-is-root",
            "the node key must not be a root's key: the node signs checkpoints, roots sign governance"
        )));
    }
    super::check_authored(ctx, params.authored_window_ms)?;
    if !roots
        .iter()
        .any(|r| r.authority == body.author.authority && r.key == body.author.key)
    {
        return Err(Violation::Art10_Genesis(crate::detail!(
            "genesis-signer",
            "the genesis must be signed by one of the two roots it names"
        )));
    }
    for lang in [Language::Kk, Language::Tk, Language::Ru] {
        if !agreement_texts
            .iter()
            .any(|d| d.language == lang && d.role == DocRole::Original)
        {
            return Err(Violation::Art10_Genesis(crate::detail!(
                "genesis-lacks-text",
                "the genesis lacks the digest of the Agreement's {lang} text",
                lang = lang
            )));
        }
    }
    Ok(())
}

pub(super) fn fold_genesis(state: &mut State, ctx: &Ctx<'_>) {
    let Payload::Genesis {
        roots,
        agreement_texts,
        params,
        node_key,
        test_ledger,
    } = &ctx.payload
    else {
        return;
    };
    state.test_ledger = *test_ledger;
    state.agreement.node_keys = vec![NodeKey {
        key: *node_key,
        from_size: 0,
        until_size: None,
    }];
    let body = &ctx.record.event.body;
    state.ledger_id = body
        .to_bytes()
        .ok()
        .map(|b| LedgerId::from_genesis_body(&b));
    for r in roots {
        state.registry.insert(
            r.authority.clone(),
            Registered {
                id: r.authority.clone(),
                party: r.party,
                role: Role::Root,
                name: format!("{} root (diplomatic channel)", r.party),
                keys: vec![KeyGrant {
                    key: r.key,
                    from_seq: 0,
                    until_seq: None,
                }],
                retired_at: None,
            },
        );
    }
    state.agreement.proposer = roots
        .iter()
        .find(|r| r.authority == body.author.authority)
        .map(|r| r.party);
    state.agreement.genesis = Some(ctx.evidence.clone());
    state.agreement.texts = agreement_texts.clone();
    state.agreement.genesis_params = params.clone();
}

fn key_in_use(state: &State, key: &PublicKey) -> bool {
    state
        .registry
        .values()
        .any(|r| r.keys.iter().any(|g| g.key == *key))
        || state.agreement.node_keys.iter().any(|n| n.key == *key)
}

fn new_key(state: &State, key: &PublicKey) -> Result<(), Violation> {
    key.check()
        .map_err(|e| Violation::Art3_Registry(super::unusable_key(&e)))?;
    if key_in_use(state, key) {
        return Err(Violation::Art3_Registry(crate::detail!(
            "key-registered",
            "key {key} is already registered; every key belongs to one party only",
            key = key.to_string()
        )));
    }
    Ok(())
}

fn own_authority<'s>(
    state: &'s State,
    root: &Registered,
    id: &coop_core::AuthorityId,
) -> Result<&'s Registered, Violation> {
    let a = state.authority(id).ok_or_else(|| {
        Violation::Art3_Registry(crate::detail!(
            "not-registered",
            "{id} is not a registered authority",
            id = id
        ))
    })?;
    if a.party != root.party {
        return Err(Violation::Art3_Registry(crate::detail!(
            "register-of-other-party",
            "{root} may change only its own Party's register; {id} belongs to {party}",
            root = &root.id,
            id = id,
            party = a.party
        )));
    }
    if a.role == Role::Root {
        return Err(Violation::Art3_Registry(crate::detail!(
            "is-root",
            "{id} is a root; roots are fixed by the genesis",
            id = id
        )));
    }
    if a.retired_at.is_some() {
        return Err(Violation::Art3_Registry(crate::detail!(
            "retired",
            "{id} has been retired",
            id = id
        )));
    }
    Ok(a)
}

/// Protocol `id`, proposed in this ledger (Art. 9).
fn protocol(
    agreement: &crate::state::Agreement,
    id: u32,
) -> Result<&crate::state::Protocol, Violation> {
    agreement.protocols.get(&id).ok_or_else(|| {
        Violation::Art9_Protocol(crate::detail!(
            "no-such-protocol",
            "there is no protocol {id}",
            id = id
        ))
    })
}

pub(super) fn check(state: &State, ctx: &Ctx<'_>, root: &Registered) -> Result<(), Violation> {
    let agreement = &state.agreement;
    match &ctx.payload {
        Payload::Genesis { .. } => Err(Violation::Art10_Genesis(crate::detail!(
            "genesis-exists",
            "this ledger already has its genesis"
        ))),
        Payload::GenesisAccepted => {
            if agreement.accepted.is_some() {
                return Err(Violation::Art10_Genesis(crate::detail!(
                    "genesis-accepted",
                    "the genesis is already accepted"
                )));
            }
            if agreement.proposer == Some(root.party) {
                return Err(Violation::Art10_Genesis(crate::detail!(
                    "genesis-accepted-by-proposer",
                    "the genesis must be accepted by the other Party's root"
                )));
            }
            Ok(())
        }
        Payload::AuthorityDesignated {
            authority,
            key,
            name,
        } => {
            if state.authority(authority).is_some() {
                return Err(Violation::Art3_Registry(crate::detail!(
                    "authority-registered",
                    "{id} is already registered",
                    id = authority
                )));
            }
            if name.trim().is_empty() {
                return Err(Violation::Art3_Registry(crate::detail!(
                    "authority-unnamed",
                    "a designated authority needs its name"
                )));
            }
            new_key(state, key)
        }
        Payload::AuthorityKeyChanged {
            authority,
            new_key: k,
        } => {
            own_authority(state, root, authority)?;
            new_key(state, k)
        }
        Payload::AuthorityRetired { authority } => {
            own_authority(state, root, authority).map(|_| ())
        }
        Payload::KeyRevoked { authority, key } => {
            let a = own_authority(state, root, authority)?;
            if !a.key_active_at(key, ctx.seq()) {
                return Err(Violation::Art3_Registry(crate::detail!(
                    "key-not-active",
                    "{key} is not an active key of {authority}",
                    key = key.to_string(),
                    authority = authority
                )));
            }
            Ok(())
        }
        Payload::ObserverRegistered { id, role, key } => {
            if !matches!(role, Role::Auditor | Role::Witness) {
                return Err(Violation::Art3_Registry(crate::detail!(
                    "observer-role",
                    "only auditors and witnesses are registered this way"
                )));
            }
            if state.authority(id).is_some() {
                return Err(Violation::Art3_Registry(crate::detail!(
                    "authority-registered",
                    "{id} is already registered",
                    id = id
                )));
            }
            new_key(state, key)
        }
        Payload::InternalProceduresCompleted { authorities } => {
            if agreement.procedures.contains_key(&root.party) {
                return Err(Violation::Art10_Procedure(crate::detail!(
                    "procedures-notified",
                    "{party} has already notified completion of its internal procedures",
                    party = root.party
                )));
            }
            for a in authorities {
                let ok = state
                    .authority(a)
                    .is_some_and(|r| r.party == root.party && r.role == Role::Competent);
                if !ok {
                    return Err(Violation::Art3_Registry(crate::detail!(
                        "notification-lists-other",
                        "the notification lists {id}, which is not a designated competent authority of {party}",
                        id = a,
                        party = root.party
                    )));
                }
            }
            if authorities.is_empty() {
                return Err(Violation::Art3_Registry(crate::detail!(
                    "notification-empty",
                    "the notification must list the Party's competent authorities"
                )));
            }
            Ok(())
        }
        Payload::TerminationNotice => {
            if agreement.termination.is_some() {
                return Err(Violation::Art10_Procedure(crate::detail!(
                    "termination-given",
                    "notice of termination has already been given"
                )));
            }
            if agreement.in_force_from().is_none() {
                return Err(Violation::Art10_Procedure(crate::detail!(
                    "termination-not-in-force",
                    "the Agreement is not in force, so it cannot be terminated"
                )));
            }
            Ok(())
        }
        Payload::ProtocolProposed { id, .. } => {
            if agreement.protocols.contains_key(id) {
                return Err(Violation::Art9_Protocol(crate::detail!(
                    "protocol-proposed",
                    "protocol {id} was already proposed",
                    id = *id
                )));
            }
            Ok(())
        }
        Payload::ProtocolProceduresCompleted { id } => {
            let p = protocol(agreement, *id)?;
            if p.accepted.is_none() {
                return Err(Violation::Art9_Protocol(crate::detail!(
                    "protocol-not-accepted",
                    "protocol {id} is not accepted yet: internal procedures follow the Parties' agreement on it",
                    id = *id
                )));
            }
            if p.procedures.contains_key(&root.party) {
                return Err(Violation::Art9_Protocol(crate::detail!(
                    "protocol-procedures-notified",
                    "{party} already notified completing its internal procedures for protocol {id}",
                    party = root.party,
                    id = *id
                )));
            }
            Ok(())
        }
        Payload::NodeHandoverProposed {
            id,
            key,
            retire_old_from,
        } => {
            if agreement.handovers.contains_key(id) {
                return Err(Violation::Art3_Registry(crate::detail!(
                    "handover-proposed",
                    "node handover {id} was already proposed",
                    id = *id
                )));
            }
            if let Some(r) = retire_old_from
                && *r <= ctx.seq() + 1
            {
                return Err(Violation::Art3_Registry(crate::detail!(
                    "handover-retires-too-early",
                    "node handover {id}: the old node keys may be retired from size {earliest} at the earliest (the acceptance comes after this record), not {asked}",
                    id = *id,
                    earliest = ctx.seq() + 2,
                    asked = *r
                )));
            }
            new_key(state, key)
        }
        Payload::NodeHandoverAccepted { id } => {
            let h = agreement.handovers.get(id).ok_or_else(|| {
                Violation::Art3_Registry(crate::detail!(
                    "no-such-handover",
                    "there is no node handover {id}",
                    id = *id
                ))
            })?;
            if h.accepted.is_some() {
                return Err(Violation::Art3_Registry(crate::detail!(
                    "handover-accepted",
                    "node handover {id} is already accepted",
                    id = *id
                )));
            }
            if h.proposer == root.party {
                return Err(Violation::Art3_Registry(crate::detail!(
                    "handover-accepted-by-proposer",
                    "a node handover must be accepted by the other Party's root"
                )));
            }
            // Checkpoints already stored (of sizes up to this record's seq) must stay
            // valid: the old keys can be retired only after them.
            if let Some(r) = h.retire_old_from
                && r <= ctx.seq()
            {
                return Err(Violation::Art3_Registry(crate::detail!(
                    "handover-passed",
                    "node handover {id} retires the old node keys from size {size}, which the ledger has passed: propose it again",
                    id = *id,
                    size = r
                )));
            }
            new_key(state, &h.key)
        }
        Payload::ProtocolAccepted { id } => {
            let p = protocol(agreement, *id)?;
            if p.accepted.is_some() {
                return Err(Violation::Art9_Protocol(crate::detail!(
                    "protocol-accepted",
                    "protocol {id} is already accepted",
                    id = *id
                )));
            }
            if p.proposer == root.party {
                return Err(Violation::Art9_Protocol(crate::detail!(
                    "protocol-accepted-by-proposer",
                    "a protocol must be accepted by the other Party's root"
                )));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn grant(seq: u64, key: PublicKey) -> KeyGrant {
    // A key registered by record `seq` signs from the next record on.
    KeyGrant {
        key,
        from_seq: seq + 1,
        until_seq: None,
    }
}

pub(super) fn fold(state: &mut State, ctx: &Ctx<'_>, party: Option<Party>) {
    let Some(party) = party else { return };
    let seq = ctx.seq();
    match &ctx.payload {
        Payload::GenesisAccepted => state.agreement.accepted = Some(ctx.evidence.clone()),
        Payload::AuthorityDesignated {
            authority,
            key,
            name,
        } => {
            state.registry.insert(
                authority.clone(),
                Registered {
                    id: authority.clone(),
                    party,
                    role: Role::Competent,
                    name: name.clone(),
                    keys: vec![grant(seq, *key)],
                    retired_at: None,
                },
            );
        }
        Payload::AuthorityKeyChanged { authority, new_key } => {
            if let Some(a) = state.registry.get_mut(authority) {
                for g in a.keys.iter_mut().filter(|g| g.until_seq.is_none()) {
                    g.until_seq = Some(seq + 1);
                }
                a.keys.push(grant(seq, *new_key));
            }
        }
        Payload::AuthorityRetired { authority } => {
            if let Some(a) = state.registry.get_mut(authority) {
                a.retired_at = Some(seq + 1);
            }
        }
        Payload::KeyRevoked { authority, key } => {
            if let Some(a) = state.registry.get_mut(authority) {
                for g in a
                    .keys
                    .iter_mut()
                    .filter(|g| g.key == *key && g.until_seq.is_none())
                {
                    g.until_seq = Some(seq + 1);
                }
            }
        }
        Payload::ObserverRegistered { id, role, key } => {
            state.registry.insert(
                id.clone(),
                Registered {
                    id: id.clone(),
                    party,
                    role: *role,
                    name: id.to_string(),
                    keys: vec![grant(seq, *key)],
                    retired_at: None,
                },
            );
        }
        Payload::InternalProceduresCompleted { .. } => {
            state
                .agreement
                .procedures
                .insert(party, ctx.evidence.clone());
        }
        Payload::TerminationNotice => {
            let months = state.params_at(ctx.at()).termination_months;
            state.agreement.termination = Some(Termination {
                by: party,
                received_at: ctx.at(),
                effective_at: add_months(ctx.at(), months),
            });
        }
        Payload::ProtocolProposed {
            id,
            params,
            effective_from,
            ..
        } => {
            state.agreement.protocols.insert(
                *id,
                Protocol {
                    proposer: party,
                    params: params.clone(),
                    effective_from: Timestamp(*effective_from),
                    proposed: ctx.evidence.clone(),
                    accepted: None,
                    procedures: Default::default(),
                },
            );
        }
        Payload::ProtocolAccepted { id } => {
            if let Some(p) = state.agreement.protocols.get_mut(id) {
                p.accepted = Some(ctx.evidence.clone());
            }
        }
        Payload::NodeHandoverProposed {
            id,
            key,
            retire_old_from,
        } => {
            state.agreement.handovers.insert(
                *id,
                Handover {
                    proposer: party,
                    key: *key,
                    retire_old_from: *retire_old_from,
                    proposed: ctx.evidence.clone(),
                    accepted: None,
                },
            );
        }
        Payload::NodeHandoverAccepted { id } => {
            let agreement = &mut state.agreement;
            if let Some(h) = agreement.handovers.get_mut(id) {
                h.accepted = Some(ctx.evidence.clone());
                if let Some(r) = h.retire_old_from {
                    for k in agreement
                        .node_keys
                        .iter_mut()
                        .filter(|k| k.until_size.is_none())
                    {
                        k.until_size = Some(r);
                    }
                }
                // A checkpoint that covers this record may be signed with the new key.
                agreement.node_keys.push(NodeKey {
                    key: h.key,
                    from_size: seq + 1,
                    until_size: None,
                });
            }
        }
        Payload::ProtocolProceduresCompleted { id } => {
            if let Some(p) = state.agreement.protocols.get_mut(id) {
                p.procedures.insert(party, ctx.evidence.clone());
            }
        }
        _ => {}
    }
}
