//! Drafting a request (Art. 4.1), element by element: each element's document chosen and
//! hashed in the browser, its language and translation (Art. 4.2), and every problem the
//! Agreement's rules find shown beside the field it concerns, in the reader's language.

use super::compose::{sign, verdict};
use super::*;
use crate::request::{CATEGORIES, ELEMENTS, FORMS, Unreadable};
use coop_treaty::{DocumentRef, Language, Payload, Request, Violation};

/// The field a problem concerns (`None`: the request as a whole).
fn field_of(v: &Violation, r: &Request) -> Option<String> {
    let e = &r.elements;
    let of_doc = |d: &coop_core::Hash| -> Option<String> {
        let els = [
            ("grounds", &e.grounds),
            ("case_description", &e.case_description),
            ("content", &e.content),
            ("decision_copy", &e.decision_copy),
            ("legal_provision", &e.legal_provision),
        ];
        els.iter()
            .find(|(_, x)| x.as_ref().is_some_and(|x| &x.digest == d))
            .map(|(n, _)| (*n).to_owned())
            .or_else(|| {
                r.documents
                    .iter()
                    .find(|t| &t.digest == d)
                    .and_then(|t| match t.role {
                        coop_treaty::DocRole::TranslationOf(o) => els
                            .iter()
                            .find(|(_, x)| x.as_ref().is_some_and(|x| x.digest == o))
                            .map(|(n, _)| (*n).to_owned()),
                        _ => None,
                    })
            })
    };
    match v {
        Violation::Art4_1_1MissingRequestedAuthority | Violation::Art4_1_WrongRecipient(_) => {
            Some("to".into())
        }
        Violation::Art4_1_2MissingGrounds(w) if w.key().ends_with("service") => {
            Some("services".into())
        }
        Violation::Art4_1_2MissingGrounds(_) => Some("grounds".into()),
        Violation::Art4_1_3MissingCaseDescription => Some("case_description".into()),
        Violation::Art4_1_4MissingContent => Some("content".into()),
        Violation::Art4_1_5MissingDecisionCopy | Violation::Art4_1_5NotCertified(_) => {
            Some("decision_copy".into())
        }
        Violation::Art4_1_5MissingLegalProvision | Violation::Art4_1_5NotLegalProvision(_) => {
            Some("legal_provision".into())
        }
        Violation::Art4_2_NotInStateLanguage { document, .. }
        | Violation::Art4_2_MissingTranslation { document, .. } => of_doc(document),
        Violation::Art7_Other(_) => Some("purposes".into()),
        Violation::HiddenText { field, .. } => {
            ["requesting_service", "requested_service", "purposes"]
                .iter()
                .find(|f| field.contains(*f))
                .map(|f| {
                    if f.ends_with("service") {
                        "services".to_owned()
                    } else {
                        (*f).to_owned()
                    }
                })
        }
        _ => None,
    }
}

/// The problems of one field, as the text beside it (with the id its inputs point to).
fn beside(l: Lang, name: &str, problems: &[(Option<String>, &Violation)]) -> Markup {
    let mine: Vec<&Violation> = problems
        .iter()
        .filter(|(f, _)| f.as_deref() == Some(name))
        .map(|(_, v)| *v)
        .collect();
    html! {
        @if !mine.is_empty() {
            div class="error field-problems" id=(format!("err-{name}")) data-field=(name) {
                @for v in mine { p { strong { (v.clause()) } " — " (coop_i18n::refusal(l, v)) } }
            }
        }
    }
}

/// A document's fields: the file (hashed in the page), what it hashed to, its language.
pub(super) fn document(
    l: Lang,
    name: &str,
    label: &str,
    d: Option<&DocumentRef>,
    own: Language,
) -> Markup {
    let lang = d.map_or(own, |d| d.language);
    html! {
        div class="doc" {
            p {
                label for=(format!("{name}-file")) { (label) } " "
                // No name: the file is hashed here (static/digest.js) and never sent.
                input type="file" id=(format!("{name}-file")) data-doc=(name) aria-describedby=(format!("err-{} {name}-shown", name.split('.').next().unwrap_or(name)));
                " " code id=(format!("{name}-shown")) { @match d { Some(d) => { (short(&d.digest.to_hex())) "…" }, None => { "—" } } }
            }
            input type="hidden" name=(format!("{name}.digest")) value=(d.map(|d| d.digest.to_hex()).unwrap_or_default());
            input type="hidden" name=(format!("{name}.size")) value=(d.map(|d| d.size).unwrap_or_default());
            input type="hidden" name=(format!("{name}.type")) value=(d.map(|d| d.media_type.clone()).unwrap_or_default());
            p {
                label for=(format!("{name}-lang")) { (l.t("request-language")) } " "
                select name=(format!("{name}.lang")) id=(format!("{name}-lang")) {
                    @for x in [Language::Kk, Language::Tk, Language::Ru] {
                        option value=(format!("{x:?}")) selected[x == lang] { (l.word("language", &format!("{x:?}"))) }
                    }
                }
            }
        }
    }
}

/// One clause of the Agreement, quoted in the reader's language with where it stands and
/// what text it is (the Kazakh original, or a working rendering of it).
pub(super) fn cite(l: Lang, clause: &str) -> Markup {
    html! {
        blockquote class="agreement" lang=(l.code()) {
            p { (l.t(&format!("agreement-{clause}"))) }
            footer { (l.ta("agreement-cite", &[("clause", coop_i18n::text(clause.replace('-', ".").replacen(".oral", "", 1)))])) }
        }
    }
}

/// The clauses an act carries out (`crate::act::clauses`), quoted, folded under one line.
pub(super) fn quote(l: Lang, kind: &str) -> Markup {
    let clauses = crate::act::clauses(kind);
    html! {
        @if !clauses.is_empty() {
            details class="agreement" {
                summary { (l.t("agreement-quote")) }
                @for c in clauses { (cite(l, c)) }
            }
        }
    }
}

/// The request form, and once checked, what the rules say and the signing.
#[allow(clippy::too_many_arguments)] // a page and the draft's parts
pub fn request_form(
    c: &Console,
    ctx: &Ctx,
    now: &At,
    body: &coop_wire::BodyJson,
    case: &coop_core::CaseId,
    checked: bool,
    unreadable: &[Unreadable],
    problems: &[Violation],
    prepared: Option<&coop_wire::Prepared>,
) -> Markup {
    let l = ctx.lang;
    let Payload::Request(r) = &body.payload else {
        return html! {};
    };
    let author = now.state.registry.get(&body.author.authority);
    let party = author.map(|a| a.party);
    let own = party.map_or(Language::Ru, |p| p.state_language());
    let other = party.map_or(Language::Ru, |p| p.other().state_language());
    let tr = |name: &str| -> Option<&DocumentRef> {
        let original = match name {
            "grounds" => r.elements.grounds.as_ref(),
            "case_description" => r.elements.case_description.as_ref(),
            "content" => r.elements.content.as_ref(),
            "decision_copy" => r.elements.decision_copy.as_ref(),
            _ => r.elements.legal_provision.as_ref(),
        }?;
        r.documents
            .iter()
            .find(|t| t.role == coop_treaty::DocRole::TranslationOf(original.digest))
    };
    let el = |name: &str| match name {
        "grounds" => r.elements.grounds.as_ref(),
        "case_description" => r.elements.case_description.as_ref(),
        "content" => r.elements.content.as_ref(),
        "decision_copy" => r.elements.decision_copy.as_ref(),
        _ => r.elements.legal_provision.as_ref(),
    };
    let label = |name: &str| match name {
        "grounds" => l.t("letter-e2"),
        "case_description" => l.t("letter-e3"),
        "content" => l.t("letter-e4"),
        "decision_copy" => l.t("letter-e5-copy"),
        _ => l.t("letter-e5-provision"),
    };
    let tied: Vec<(Option<String>, &Violation)> =
        problems.iter().map(|v| (field_of(v, r), v)).collect();
    let others = now.state.registry.values().filter(|a| {
        a.role == coop_treaty::Role::Competent && a.retired_at.is_none() && Some(a.party) != party
    });
    let to = r.elements.requested_authority.as_ref();
    let text = |k: &str| ctx.get(k).unwrap_or_default().to_owned();
    let main = html! {
        script type="module" src="/static/digest.js" {}
        p class="explain" { (l.t("compose-help-Request")) }
        (quote(l, "Request"))
        form method="get" action="/compose/Request" id="request-form" data-draft="Request"
            data-msg-hashing=(l.t("documents-hashing")) data-msg-restored=(l.t("compose-draft-restored")) data-msg-saved=(l.t("compose-draft-saved")) {
            input type="hidden" name="case" value=(case.to_hex());
            input type="hidden" name="check" value="1";
            fieldset {
                legend { "1) " (l.t("letter-e1")) }
                (cite(l, "4-1-1"))
                label for="f-to" { (l.t("letter-e1")) } " "
                select name="to" id="f-to" aria-describedby="err-to" {
                    option value="" { "—" }
                    @for a in others { option value=(a.id) selected[to == Some(&a.id)] { (a.id) " — " (visible(&a.name)) } }
                }
                (beside(l, "to", &tied))
            }
            fieldset {
                legend { "2) " (l.t("letter-e2-services")) }
                (cite(l, "4-1-2"))
                p {
                    label for="f-requesting" { (l.t("request-requesting")) } " "
                    input type="text" name="requesting_service" id="f-requesting" value=(text("requesting_service")) aria-describedby="err-services";
                }
                p {
                    label for="f-requested" { (l.t("request-requested")) } " "
                    input type="text" name="requested_service" id="f-requested" value=(text("requested_service")) aria-describedby="err-services";
                }
                (beside(l, "services", &tied))
            }
            @for (name, clause) in ELEMENTS {
                fieldset id=(format!("el-{name}")) {
                    legend { (clause) ": " (label(name)) }
                    @if !matches!(name, "grounds" | "legal_provision") {
                        (cite(l, match name { "case_description" => "4-1-3", "content" => "4-1-4", _ => "4-1-5" }))
                    }
                    (document(l, name, &l.t("request-file"), el(name), own))
                    @if name == "decision_copy" {
                        p { label { input type="checkbox" name="decision_copy.certified" value="true" id="f-certified"
                            checked[el(name).is_some_and(|d| d.role == coop_treaty::DocRole::CertifiedCopy)]; " " (l.t("request-certified")) } }
                    }
                    (document(l, &format!("{name}.tr"), &l.t("request-translation"), tr(name), other))
                    (beside(l, name, &tied))
                }
            }
            fieldset {
                legend { (l.t("category")) ", " (l.t("request-form-label")) ", " (l.t("purposes")) }
                p {
                    label for="f-category" { (l.t("category")) } " "
                    select name="category" id="f-category" {
                        @for cat in CATEGORIES {
                            @let w = coop_treaty::category_word(&cat);
                            option value=(w) selected[r.category == cat] { (l.word("category", w)) }
                        }
                    }
                }
                p {
                    label for="f-form" { (l.t("request-form-label")) } " "
                    select name="form" id="f-form" {
                        @for (w, f) in FORMS {
                            @let word = match f { coop_treaty::Form::ExchangeInformation(k) => format!("info-{k:?}"), other => format!("form-{other:?}") };
                            option value=(w) selected[r.form == f] { (l.t(&word)) }
                        }
                    }
                }
                p {
                    label for="f-purposes" { (l.t("purposes")) } " "
                    textarea name="purposes" id="f-purposes" rows="3" aria-describedby="err-purposes f-purposes-hint" {
                        @for p in &r.purposes { (p.0) "\n" }
                    }
                    " " span id="f-purposes-hint" class="muted" { (l.t("request-purposes-hint")) }
                }
                (beside(l, "purposes", &tied))
                p { label { input type="checkbox" name="urgent" value="true" id="f-urgent" checked[r.urgent]; " " (l.t("letter-urgent")) } }
            }
            (super::compose::form_actions(l))
        }
        @if checked {
            @if !unreadable.is_empty() {
                ul class="error" id="unreadable" { @for u in unreadable { li { code { (u.field) } " — " (u.why) } } }
            }
            (verdict(l, problems))
            (sign(l, now, body, prepared, Some(case)))
        }
    };
    layout(
        c,
        ctx,
        now,
        &l.word("compose", "Request"),
        "/outbox",
        false,
        main,
    )
}
