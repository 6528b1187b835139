//! Drafting a request (Art. 4.1) in the console: the form's fields, element by element,
//! read into the treaty's `Request`. The form is a GET form (the page keeps every value
//! it was given, so a clerk fixes one field and checks again); documents arrive as their
//! digests, sizes, types and languages, hashed in the browser (static/digest.js) — never
//! the files.

use coop_core::{AuthorityId, Hash};
use coop_treaty::{
    CaseFilter, CrimeCategory, DocRole, DocumentRef, Form, InfoKind, Language, Purpose, Request,
    RequestElements, category_word,
};

/// The five elements' documents, in Art. 4.1's order: (field, Art. 4.1 item).
pub const ELEMENTS: [(&str, &str); 5] = [
    ("grounds", "Art. 4.1(2)"),
    ("case_description", "Art. 4.1(3)"),
    ("content", "Art. 4.1(4)"),
    ("decision_copy", "Art. 4.1(5)"),
    ("legal_provision", "Art. 4.1(5)"),
];

/// The Art. 1.1 categories a form offers (Art. 1.2's "other" needs the other Party's
/// recorded agreement, cited by hash: an event file for now).
pub const CATEGORIES: [CrimeCategory; 14] = CrimeCategory::LISTED;

/// The Art. 2 forms a request takes, by form word.
pub const FORMS: [(&str, Form); 5] = [
    ("execute", Form::ExecuteRequest),
    (
        "info-OperationalSearch",
        Form::ExchangeInformation(InfoKind::OperationalSearch),
    ),
    (
        "info-OperationalReference",
        Form::ExchangeInformation(InfoKind::OperationalReference),
    ),
    (
        "info-Forensic",
        Form::ExchangeInformation(InfoKind::Forensic),
    ),
    (
        "info-Archival",
        Form::ExchangeInformation(InfoKind::Archival),
    ),
];

/// A field the form could not read: which, and why (shown beside it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// The field's name.
    pub field: String,
    /// What is wrong with it.
    pub why: String,
}

fn language(v: &str) -> Option<Language> {
    match v {
        "Kk" => Some(Language::Kk),
        "Tk" => Some(Language::Tk),
        "Ru" => Some(Language::Ru),
        _ => None,
    }
}

/// A document given as `{name}.digest`, `.size`, `.type`, `.lang`, with `role`; `None`
/// when no digest was given.
pub(crate) fn document(
    get: &dyn Fn(&str) -> Option<String>,
    name: &str,
    role: DocRole,
    bad: &mut Vec<Unreadable>,
) -> Option<DocumentRef> {
    let digest = get(&format!("{name}.digest")).filter(|d| !d.is_empty())?;
    let mut fail = |why: &str| {
        bad.push(Unreadable {
            field: name.to_owned(),
            why: why.to_owned(),
        })
    };
    let Ok(digest) = Hash::from_hex(&digest) else {
        fail("the digest is not 64 lower-case hex digits");
        return None;
    };
    let size = get(&format!("{name}.size"))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let media_type = get(&format!("{name}.type"))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let Some(language) = get(&format!("{name}.lang")).as_deref().and_then(language) else {
        fail("choose the document's language");
        return None;
    };
    Some(DocumentRef {
        digest,
        size,
        media_type,
        language,
        role,
    })
}

/// The request the form's fields describe, and the fields it could not read. A field
/// left empty is an element left out: the rules name it.
pub fn from_form(get: &dyn Fn(&str) -> Option<String>) -> (Request, Vec<Unreadable>) {
    let mut bad = Vec::new();
    let text = |k: &str| get(k).unwrap_or_default().trim().to_owned();
    let requested_authority = match text("to") {
        t if t.is_empty() => None,
        t => match AuthorityId::new(t) {
            Ok(id) => Some(id),
            Err(e) => {
                bad.push(Unreadable {
                    field: "to".into(),
                    why: e.to_string(),
                });
                None
            }
        },
    };
    let category = CaseFilter::category_word(&text("category"))
        .ok()
        .and_then(|w| CATEGORIES.into_iter().find(|c| category_word(c) == w))
        .unwrap_or(CrimeCategory::OrganisedCrime);
    let form = FORMS
        .iter()
        .find(|(w, _)| *w == text("form"))
        .map_or(Form::ExecuteRequest, |(_, f)| *f);
    let mut elements = RequestElements {
        requested_authority,
        grounds: None,
        requesting_service: text("requesting_service"),
        requested_service: text("requested_service"),
        case_description: None,
        content: None,
        decision_copy: None,
        legal_provision: None,
    };
    let mut translations = Vec::new();
    for (name, _) in ELEMENTS {
        let role = match name {
            "decision_copy" if get("decision_copy.certified").as_deref() == Some("true") => {
                DocRole::CertifiedCopy
            }
            "legal_provision" => DocRole::LegalProvisionText,
            _ => DocRole::Original,
        };
        let d = document(get, name, role, &mut bad);
        if let Some(original) = &d
            && let Some(t) = document(
                get,
                &format!("{name}.tr"),
                DocRole::TranslationOf(original.digest),
                &mut bad,
            )
        {
            translations.push(t);
        }
        match name {
            "grounds" => elements.grounds = d,
            "case_description" => elements.case_description = d,
            "content" => elements.content = d,
            "decision_copy" => elements.decision_copy = d,
            _ => elements.legal_provision = d,
        }
    }
    let request = Request {
        elements,
        category,
        wanted_person_search: false,
        purposes: text("purposes")
            .lines()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Purpose(p.into()))
            .collect(),
        urgent: get("urgent").as_deref() == Some("true"),
        oral: false,
        form,
        documents: translations,
        language_arrangement: None,
    };
    (request, bad)
}

/// A document and its translation given as `{name}.*` and `{name}.tr.*` (the other
/// documents' acts: a refusal's reasons, an oral request's written confirmation), in the
/// order the event lists them; what could not be read goes to `bad`.
pub fn documents(
    get: &dyn Fn(&str) -> Option<String>,
    name: &str,
    bad: &mut Vec<Unreadable>,
) -> Vec<DocumentRef> {
    let mut out = Vec::new();
    if let Some(d) = document(get, name, DocRole::Original, bad) {
        if let Some(t) = document(
            get,
            &format!("{name}.tr"),
            DocRole::TranslationOf(d.digest),
            bad,
        ) {
            out.push(t);
        }
        out.push(d);
    }
    out
}

/// Art. 4.5's grounds, by their names.
pub const GROUNDS: [coop_treaty::RefusalGround; 7] = [
    coop_treaty::RefusalGround::Sovereignty,
    coop_treaty::RefusalGround::Security,
    coop_treaty::RefusalGround::PublicOrder,
    coop_treaty::RefusalGround::StatePower,
    coop_treaty::RefusalGround::EssentialInterests,
    coop_treaty::RefusalGround::NationalLaw,
    coop_treaty::RefusalGround::InternationalObligations,
];

/// An item of information's id: the form's input `name` (kept across checks, or chosen
/// from the case's items), or a new random one.
pub fn item_named(
    get: &dyn Fn(&str) -> Option<String>,
    name: &str,
    bad: &mut Vec<Unreadable>,
) -> coop_treaty::ItemId {
    if let Some(h) = get(name).filter(|h| !h.is_empty()) {
        match hex::decode(&h)
            .ok()
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
        {
            Some(b) => return coop_treaty::ItemId(b),
            None => bad.push(Unreadable {
                field: name.into(),
                why: "an item id is 32 hex digits".into(),
            }),
        }
    }
    let mut b = [0u8; 16];
    if let Err(e) = getrandom::fill(&mut b) {
        bad.push(Unreadable {
            field: name.into(),
            why: format!("no randomness for a new item id: {e}"),
        });
    }
    coop_treaty::ItemId(b)
}

/// The Art. 2.2 kind named in a form (operational-search information by default).
pub fn info_kind(v: Option<&str>) -> InfoKind {
    match v {
        Some("OperationalReference") => InfoKind::OperationalReference,
        Some("Forensic") => InfoKind::Forensic,
        Some("Archival") => InfoKind::Archival,
        _ => InfoKind::OperationalSearch,
    }
}
