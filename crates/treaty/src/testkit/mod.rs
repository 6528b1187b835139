//! Deterministic fixtures for tests, tools and the benchmark (feature `testkit`): the two
//! Parties' roots and their competent authorities, an auditor and two witnesses, with keys
//! from fixed seeds; builders for documents and complete requests; and a small ledger
//! that uses every payload variant ([`fixture`]). Never use these keys for anything real.

pub mod fixture;

use crate::model::{
    CrimeCategory, DocRole, DocumentRef, Form, ItemId, Language, Params, Party, Purpose,
};
use crate::payload::{Payload, Request, RequestElements, RootKey};
use coop_core::event::CaseRef;
use coop_core::{
    AuthorityId, CaseId, EventError, EventId, Hash, LedgerId, SecretKey, SignedEvent, Timestamp,
};
use std::collections::BTreeMap;

/// Fixture actors: name → (Party, seed). Roots first.
pub const ACTORS: [(&str, Party, u8); 10] = [
    ("KZ-MFA", Party::Kz, 1),
    ("TM-MFA", Party::Tm, 2),
    ("KZ-MVD", Party::Kz, 3),
    ("KZ-KNB", Party::Kz, 4),
    ("TM-MVD", Party::Tm, 5),
    ("TM-MNS", Party::Tm, 6),
    ("KZ-AUDIT", Party::Kz, 7),
    ("TM-WITNESS", Party::Tm, 8),
    ("KZ-WITNESS", Party::Kz, 10),
    ("KZ-AFM", Party::Kz, 12),
];

/// Authority id from a literal known to be valid.
pub fn id(s: &str) -> AuthorityId {
    AuthorityId::new(s).unwrap_or_else(|e| unreachable!("fixture id: {e}"))
}

/// The fixture keys by actor name.
pub fn keys() -> BTreeMap<String, SecretKey> {
    ACTORS
        .iter()
        .map(|(n, _, seed)| ((*n).to_owned(), SecretKey::from_seed(&[*seed; 32])))
        .collect()
}

/// A document reference with a digest made of `tag`.
pub fn doc(tag: u8, language: Language, role: DocRole) -> DocumentRef {
    DocumentRef {
        digest: Hash([tag; 32]),
        size: 1000 + u64::from(tag),
        media_type: "application/pdf".into(),
        language,
        role,
    }
}

/// The translation of `d` into `language` (its digest: `d`'s with the last byte
/// flipped).
pub fn translation_of(d: &DocumentRef, language: Language) -> DocumentRef {
    let mut digest = d.digest;
    if let Some(last) = digest.0.last_mut() {
        *last ^= 0xFF;
    }
    DocumentRef {
        digest,
        size: d.size + 7,
        media_type: d.media_type.clone(),
        language,
        role: DocRole::TranslationOf(d.digest),
    }
}

/// A communication written by `from`'s authority as Art. 4.2 asks: an original in its
/// state language (digest made of `tag`) and its translation into the other Party's.
pub fn written(tag: u8, from: Party) -> Vec<DocumentRef> {
    let original = doc(tag, from.state_language(), DocRole::Original);
    let translation = translation_of(&original, from.other().state_language());
    vec![original, translation]
}

/// Case id `n` (all bytes `n`).
pub fn case_id(n: u8) -> CaseId {
    CaseId([n; 16])
}

/// Item id `n`.
pub fn item(n: u8) -> ItemId {
    ItemId([n; 16])
}

/// A purpose.
pub fn purpose(s: &str) -> Purpose {
    Purpose(s.into())
}

/// The purpose fixture requests state.
pub const PURPOSE: &str = "criminal investigation 2025-117";

/// A complete, valid request from a KZ authority to `to` (a TM authority): its five
/// elements (Art. 4.1) and a covering letter in Kazakh, each with its Turkmen translation
/// (Art. 4.2).
pub fn request_to(to: &str) -> Request {
    let mut r = request_in(to, Language::Kk);
    let original = doc(10, Language::Kk, DocRole::Original);
    r.documents = [
        &r.elements.grounds,
        &r.elements.case_description,
        &r.elements.content,
        &r.elements.decision_copy,
        &r.elements.legal_provision,
    ]
    .into_iter()
    .flatten()
    .map(|d| translation_of(d, Language::Tk))
    .chain([translation_of(&original, Language::Tk), original])
    .collect();
    r
}

/// A complete request to `to` whose element documents are all in `language` and which
/// carries no other document: what two authorities' language arrangement allows
/// (Art. 4.2), or, untranslated, what Art. 4.2 refuses.
pub fn request_in(to: &str, language: Language) -> Request {
    Request {
        elements: RequestElements {
            requested_authority: Some(id(to)),
            grounds: Some(doc(1, language, DocRole::Original)),
            requesting_service: "Criminal police department".into(),
            requested_service: "Criminal search department".into(),
            case_description: Some(doc(2, language, DocRole::Original)),
            content: Some(doc(3, language, DocRole::Original)),
            decision_copy: Some(doc(4, language, DocRole::CertifiedCopy)),
            legal_provision: Some(doc(5, language, DocRole::LegalProvisionText)),
        },
        category: CrimeCategory::Narcotics,
        form: Form::ExecuteRequest,
        wanted_person_search: false,
        purposes: vec![purpose(PURPOSE)],
        urgent: false,
        oral: false,
        documents: Vec::new(),
        language_arrangement: None,
    }
}

/// The genesis payload: both roots, the three texts, default parameters.
pub fn genesis_payload(keys: &BTreeMap<String, SecretKey>) -> Payload {
    let root = |name: &str, party| RootKey {
        party,
        authority: id(name),
        key: keys
            .get(name)
            .map(SecretKey::public)
            .unwrap_or(coop_core::PublicKey([0; 32])),
    };
    Payload::Genesis {
        roots: vec![root("KZ-MFA", Party::Kz), root("TM-MFA", Party::Tm)],
        agreement_texts: vec![
            doc(100, Language::Kk, DocRole::Original),
            doc(101, Language::Tk, DocRole::Original),
            doc(102, Language::Ru, DocRole::Original),
        ],
        params: Params::default(),
        node_key: node_key().public(),
        test_ledger: false,
    }
}

/// [`genesis_payload`] marked as a test ledger: its node's clock may be moved (fixtures,
/// benchmarks, time-travel tests).
pub fn test_genesis_payload(keys: &BTreeMap<String, SecretKey>) -> Payload {
    let mut g = genesis_payload(keys);
    if let Payload::Genesis { test_ledger, .. } = &mut g {
        *test_ledger = true;
    }
    g
}

/// The fixture node key (seed 9): signs the fixture ledgers' checkpoints.
pub fn node_key() -> SecretKey {
    SecretKey::from_seed(&[9; 32])
}

/// The governance events that follow the genesis and bring the Agreement into force:
/// acceptance, four designations, both notifications. `(signer, payload)` in order.
pub fn constitution(keys: &BTreeMap<String, SecretKey>) -> Vec<(&'static str, Payload)> {
    let mut out = vec![("TM-MFA", Payload::GenesisAccepted)];
    for (root, a, name) in [
        (
            "KZ-MFA",
            "KZ-MVD",
            "Ministry of Internal Affairs of Kazakhstan",
        ),
        (
            "KZ-MFA",
            "KZ-KNB",
            "National Security Committee of Kazakhstan",
        ),
        (
            "TM-MFA",
            "TM-MVD",
            "Ministry of Internal Affairs of Turkmenistan",
        ),
        (
            "TM-MFA",
            "TM-MNS",
            "Ministry of National Security of Turkmenistan",
        ),
    ] {
        if let Some(k) = keys.get(a) {
            out.push((
                root,
                Payload::AuthorityDesignated {
                    authority: id(a),
                    key: k.public(),
                    name: name.into(),
                },
            ));
        }
    }
    out.push((
        "KZ-MFA",
        Payload::InternalProceduresCompleted {
            authorities: vec![id("KZ-MVD"), id("KZ-KNB")],
        },
    ));
    out.push((
        "TM-MFA",
        Payload::InternalProceduresCompleted {
            authorities: vec![id("TM-MVD"), id("TM-MNS")],
        },
    ));
    out
}

/// Signs `payload` as `signer` (whose key is `key`), with [`crate::Draft`].
#[allow(clippy::too_many_arguments)] // the tests' shorthand for a Draft
pub fn sign(
    key: &SecretKey,
    signer: &str,
    ledger: Option<LedgerId>,
    event_id: EventId,
    at: Timestamp,
    case: Option<CaseRef>,
    answers: Vec<Hash>,
    payload: &Payload,
) -> Result<SignedEvent, EventError> {
    crate::Draft {
        signer: id(signer),
        ledger,
        event_id,
        at,
        case,
        answers,
        payload,
    }
    .sign(key)
}
