//! Drafting an act: the draft the console made from the case, what the Agreement's rules
//! say of it (every problem at once, each with its article), and — when nothing is wrong
//! — the exact event, signed in the browser with the clerk's own key and submitted.

use super::*;
use crate::act::Field;
use coop_core::AuthorityId;
use coop_treaty::{Case, DocRole, DocumentRef, Language, Violation};

/// Where a draft stands: a form still to fill (an act with documents), whether it was
/// checked, and what could not be read and what the rules say.
#[derive(Clone, Copy, Debug)]
pub struct Judged<'a> {
    /// The act is a form (documents, grounds) rather than a confirmation.
    pub form: bool,
    /// The draft was judged (a confirmation always is; a form once the clerk asks).
    pub checked: bool,
    /// Fields the form could not read.
    pub unreadable: &'a [crate::request::Unreadable],
    /// What the rules say.
    pub problems: &'a [Violation],
}

/// The compose page of one act: in a case (`case`) or outside any (an arrangement, a
/// root's governance act).
pub fn compose(
    c: &Console,
    ctx: &Ctx,
    now: &At,
    case: Option<&Case>,
    body: &coop_wire::BodyJson,
    judged: Judged<'_>,
    prepared: Option<&coop_wire::Prepared>,
) -> Markup {
    let l = ctx.lang;
    let kind = body.payload.name();
    let title = l.word("compose", kind);
    let me = &body.author.authority;
    let party = now.state.registry.get(me).map(|a| a.party);
    let own = party.map_or(Language::Ru, |p| p.state_language());
    let other = party.map_or(Language::Ru, |p| p.other().state_language());
    // The payload's members as the form shows them (what the clerk gave, kept across checks).
    let value = serde_json::to_value(&body.payload).unwrap_or_default();
    let cur = value.get(kind).cloned().unwrap_or_default();
    let fields = crate::act::fields(kind).unwrap_or(&[]);
    let form = html! {
        @for f in fields { (field(l, now, case, me, kind, *f, &cur, own, other)) }
    };
    let main = html! {
        @if let Some(case) = case {
            p { (l.t("desk-case")) " " (case_link(ctx, &case.id)) " · " (case_status(l, case.status))
                " · " (case.requester) " → " (case.requested) }
        }
        p class="explain" { (l.t(&format!("compose-help-{kind}"))) }
        (super::request::quote(l, kind))
        @if judged.form {
            script type="module" src="/static/digest.js" {}
            form method="get" action=(format!("/compose/{kind}")) id="request-form" data-draft=(kind)
                data-msg-hashing=(l.t("documents-hashing")) data-msg-restored=(l.t("compose-draft-restored")) data-msg-saved=(l.t("compose-draft-saved")) {
                @if let Some(case) = case { input type="hidden" name="case" value=(case.id.to_hex()); }
                input type="hidden" name="check" value="1";
                (form)
                (form_actions(l))
            }
        }
        @if judged.checked {
            @if !judged.unreadable.is_empty() {
                ul class="error" id="unreadable" { @for u in judged.unreadable { li { code { (u.field) } " — " (u.why) } } }
            }
            (verdict(l, judged.problems))
            (sign(l, now, body, prepared, case.map(|k| &k.id)))
        }
    };
    layout(c, ctx, now, &title, "/inbox", false, main)
}

/// `/compose`: the acts outside cases the signed-in key may sign — a competent
/// authority's arrangements and new requests, a root's governance acts.
pub fn acts(c: &Console, ctx: &Ctx, now: &At, root: bool) -> Markup {
    let l = ctx.lang;
    let kinds: Vec<&str> = if root {
        crate::act::kinds()
            .filter(|k| crate::act::governance(k))
            .collect()
    } else {
        std::iter::once("Request")
            .chain(
                crate::act::kinds()
                    .filter(|k| !crate::act::in_case(k) && !crate::act::governance(k)),
            )
            .collect()
    };
    let main = html! {
        p class="explain" { (l.t("acts-explain")) }
        ul id="acts" {
            @for kind in kinds {
                li { a class="act" href=(format!("/compose/{kind}")) { "→ " (l.word("compose", kind)) } }
            }
        }
    };
    layout(c, ctx, now, &l.t("acts-title"), "/inbox", false, main)
}

/// The end of every drafting form: its status line (hashing, a restored draft), "check
/// against the Agreement", and the draft kept in the browser or forgotten.
pub(super) fn form_actions(l: Lang) -> Markup {
    html! {
        p id="request-status" role="status" aria-live="polite" {}
        button type="submit" id="request-check" { (l.t("request-check")) }
        " "
        button type="button" id="draft-save" { (l.t("compose-draft-save")) }
        " "
        button type="button" id="draft-forget" { (l.t("compose-draft-forget")) }
    }
}

/// The documents a member holds (an original and its translation), from the draft.
fn docs_of(cur: &serde_json::Value, member: &str) -> Vec<DocumentRef> {
    match cur.get(member) {
        Some(v @ serde_json::Value::Array(_)) => {
            serde_json::from_value(v.clone()).unwrap_or_default()
        }
        Some(v @ serde_json::Value::Object(_)) => serde_json::from_value::<DocumentRef>(v.clone())
            .ok()
            .filter(|d| d.digest != coop_core::Hash::ZERO)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

fn original(docs: &[DocumentRef]) -> Option<&DocumentRef> {
    docs.iter()
        .find(|d| !matches!(d.role, DocRole::TranslationOf(_)))
}

fn translation(docs: &[DocumentRef]) -> Option<&DocumentRef> {
    docs.iter()
        .find(|d| matches!(d.role, DocRole::TranslationOf(_)))
}

fn str_of<'a>(cur: &'a serde_json::Value, member: &str) -> &'a str {
    cur.get(member).and_then(|v| v.as_str()).unwrap_or_default()
}

/// The record choices a citing field offers: (event hash, what it is).
fn citable(now: &At, case: Option<&Case>, me: &AuthorityId, of: &str) -> Vec<(String, String)> {
    if of == "LanguageArrangementProposed" {
        return now
            .state
            .language_arrangements
            .values()
            .filter(|a| &a.with == me && a.accepted.is_none())
            .map(|a| {
                let langs: Vec<String> = a.languages.iter().map(|x| format!("{x:?}")).collect();
                (
                    a.proposal.event_hash.to_hex(),
                    format!("{} · {}", a.proposer, langs.join(", ")),
                )
            })
            .collect();
    }
    let kind = crate::act::short_kind(of);
    case.map(|k| {
        k.steps
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| {
                (
                    s.event_hash.to_hex(),
                    format!("#{} · {}", s.seq, time(s.at)),
                )
            })
            .collect()
    })
    .unwrap_or_default()
}

/// One field of an act's form, with the value the draft holds.
#[allow(clippy::too_many_arguments)] // a field and what it is drawn from
fn field(
    l: Lang,
    now: &At,
    case: Option<&Case>,
    me: &AuthorityId,
    kind: &str,
    f: Field,
    cur: &serde_json::Value,
    own: Language,
    other: Language,
) -> Markup {
    // The items of the case this authority holds or provided (Art. 7's register).
    let items: Vec<&coop_treaty::Item> = case
        .map(|k| {
            now.state
                .register
                .values()
                .map(|i| &**i)
                .filter(|i| i.case == k.id && (&i.recipient == me || &i.provider == me))
                .collect()
        })
        .unwrap_or_default();
    match f {
        Field::Item => {
            let chosen = str_of(cur, "item");
            html! {
                p {
                    label for="f-item" { (l.t("compose-item")) } " "
                    select name="item" id="f-item" {
                        @for i in &items {
                            option value=(i.id.to_string()) selected[i.id.to_string() == chosen] {
                                (short(&i.id.to_string())) "… (" (l.t(&format!("info-{:?}", i.kind))) ", " (i.provider) " → " (i.recipient) ")"
                            }
                        }
                    }
                    @if items.is_empty() { " " span class="muted" { (l.t("compose-no-items")) } }
                }
            }
        }
        Field::Purpose => html! {
            p {
                label for="f-purpose" { (l.t("compose-purpose")) } " "
                input type="text" name="purpose" id="f-purpose" list="f-purposes" value=(str_of(cur, "purpose"));
                datalist id="f-purposes" { @if let Some(k) = case { @for p in &k.purposes { option value=(p.0) {} } } }
            }
        },
        Field::Purposes => {
            let given: Vec<String> = cur
                .get("purposes")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            html! {
                p {
                    label for="f-purposes" { (l.t("compose-purposes")) } " "
                    textarea name="purposes" id="f-purposes" rows="3" aria-describedby="f-purposes-hint" { (given.join("\n")) }
                    " " span id="f-purposes-hint" class="muted" { (l.t("request-purposes-hint")) }
                }
            }
        }
        Field::ThirdParty { required } => html! {
            p {
                label for="f-third-party" { (l.t("compose-third-party")) } " "
                input type="text" name="third_party" id="f-third-party" required[required] value=(str_of(cur, "third_party")) aria-describedby="f-third-party-hint";
                " " span id="f-third-party-hint" class="muted" { @if required { (l.t("compose-third-party-required")) } @else { (l.t("compose-third-party-optional")) } }
            }
        },
        Field::Extent => {
            let partial = str_of(cur, "extent") == "Partial";
            html! {
                p {
                    label for="f-extent" { (l.t("compose-extent")) } " "
                    select name="extent" id="f-extent" {
                        option value="Full" selected[!partial] { (l.t("compose-extent-full")) }
                        option value="Partial" selected[partial] { (l.t("compose-extent-partial")) }
                    }
                }
            }
        }
        Field::Grounds => {
            let grounds: Vec<coop_treaty::RefusalGround> = cur
                .get("grounds")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            html! {
                fieldset {
                    legend { "Art. 4.5: " (l.t("compose-grounds")) }
                    @for g in crate::request::GROUNDS {
                        p { label { input type="checkbox" name=(format!("ground.{g:?}")) value="true" checked[grounds.contains(&g)];
                            " " (l.word("ground", &format!("{g:?}"))) } }
                    }
                }
            }
        }
        Field::Docs(member) => {
            let docs = docs_of(cur, member);
            html! {
                fieldset {
                    legend { (l.t(&format!("compose-docs-{kind}"))) }
                    (super::request::document(l, "doc", &l.t("request-file"), original(&docs), own))
                    (super::request::document(l, "doc.tr", &l.t("request-translation"), translation(&docs), other))
                }
            }
        }
        Field::Doc(member) => {
            let docs = docs_of(cur, member);
            html! {
                fieldset {
                    legend { (l.t(&format!("compose-docs-{kind}"))) }
                    (super::request::document(l, "doc", &l.t("request-file"), original(&docs), own))
                }
            }
        }
        Field::Transfer => info(l, "", cur, own, other),
        Field::Information => info(
            l,
            "",
            cur.get("information").unwrap_or(&serde_json::Value::Null),
            own,
            other,
        ),
        Field::Results => {
            let first = cur.get("results").and_then(|r| r.get(0));
            html! {
                fieldset {
                    legend { "Art. 4.4, 7: " (l.t("compose-results")) }
                    p { label { input type="checkbox" name="res.include" value="true" id="f-res-include" checked[first.is_some()]; " " (l.t("compose-results-include")) } }
                    (info(l, "res.", first.unwrap_or(&serde_json::Value::Null), own, other))
                }
            }
        }
        Field::SearchOutcome => {
            let chosen = str_of(cur, "search_outcome");
            html! {
                p {
                    label for="f-search-outcome" { (l.t("compose-search-outcome")) } " "
                    select name="search_outcome" id="f-search-outcome" {
                        option value="" { "—" }
                        @for o in ["Found", "Detained", "Arrested", "InformationProvided", "NotFound"] {
                            option value=(o) selected[o == chosen] { (l.t(&format!("outcome-{o}"))) }
                        }
                    }
                }
            }
        }
        Field::Cites(member, of) => {
            let chosen = str_of(cur, member);
            let choices = citable(now, case, me, of);
            html! {
                p {
                    label for=(format!("f-{member}")) { (l.t(&format!("compose-cites-{member}"))) } " "
                    select name=(member) id=(format!("f-{member}")) {
                        @for (h, what) in &choices {
                            option value=(h) selected[h == chosen] { (short(h)) "… " (what) }
                        }
                    }
                    @if choices.is_empty() { " " span class="muted" { (l.t("compose-nothing-to-cite")) } }
                }
            }
        }
        Field::Dispute => {
            let disputes: Vec<u32> = case
                .map(|k| {
                    k.disputes
                        .iter()
                        .filter(|(_, d)| d.settled.is_none())
                        .map(|(n, _)| *n)
                        .collect()
                })
                .unwrap_or_default();
            let next = case
                .and_then(|k| k.disputes.keys().max().copied())
                .map_or(1, |n| n.saturating_add(1));
            let chosen = cur
                .get("dispute")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            html! {
                p {
                    label for="f-dispute" { (l.t("compose-dispute")) } " "
                    @if kind == "DisputeRaised" {
                        input type="number" min="1" name="dispute" id="f-dispute" value=(if chosen == 0 { u64::from(next) } else { chosen });
                    } @else {
                        select name="dispute" id="f-dispute" {
                            @for n in &disputes { option value=(n) selected[u64::from(*n) == chosen] { "№ " (n) } }
                        }
                        @if disputes.is_empty() { " " span class="muted" { (l.t("compose-no-disputes")) } }
                    }
                }
            }
        }
        Field::Amount => {
            let minor = cur
                .get("amount_minor")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            html! {
                p {
                    label for="f-amount" { (l.t("compose-amount")) } " "
                    input type="text" inputmode="decimal" name="amount" id="f-amount" aria-describedby="f-amount-hint"
                        value=(if minor == 0 { String::new() } else { format!("{}.{:02}", minor / 100, minor % 100) });
                    " " span id="f-amount-hint" class="muted" { (l.t("compose-amount-hint")) }
                }
            }
        }
        Field::Currency => html! {
            p {
                label for="f-currency" { (l.t("compose-currency")) } " "
                input type="text" name="currency" id="f-currency" list="f-currencies" maxlength="3" size="4"
                    value=(match str_of(cur, "currency") { "" => if own == Language::Kk { "KZT" } else { "TMT" }, c => c });
                datalist id="f-currencies" { @for c in ["KZT", "TMT", "RUB", "USD", "EUR"] { option value=(c) {} } }
            }
        },
        Field::Authority(member) => {
            // Those the member may name: the other Party's competent authorities for an
            // arrangement, the Party's own for its root's acts.
            let mine = now.state.registry.get(me).map(|r| r.party);
            let options: Vec<&AuthorityId> = now
                .state
                .registry
                .values()
                .filter(|r| match member {
                    "with" => Some(r.party) != mine && r.role == coop_treaty::Role::Competent,
                    _ => Some(r.party) == mine && r.role != coop_treaty::Role::Root,
                })
                .map(|r| &r.id)
                .collect();
            let list = format!("f-{member}-list");
            html! {
                p {
                    label for=(format!("f-{member}")) { (l.t(&format!("compose-authority-{member}"))) } " "
                    input type="text" name=(member) id=(format!("f-{member}")) list=(list) value=(match str_of(cur, member) { "-" => "", v => v });
                    datalist id=(list) { @for o in &options { option value=(o) {} } }
                }
            }
        }
        Field::Authorities => {
            let given: Vec<String> = cur
                .get("authorities")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            let mine = now.state.registry.get(me).map(|r| r.party);
            let default: Vec<String> = now
                .state
                .registry
                .values()
                .filter(|r| {
                    Some(r.party) == mine
                        && r.role == coop_treaty::Role::Competent
                        && r.retired_at.is_none()
                })
                .map(|r| r.id.to_string())
                .collect();
            html! {
                p {
                    label for="f-authorities" { (l.t("compose-authorities")) } " "
                    textarea name="authorities" id="f-authorities" rows="4" { (if given.is_empty() { default } else { given }.join("\n")) }
                }
            }
        }
        Field::Key(member) => html! {
            p {
                label for=(format!("f-{member}")) { (l.t(&format!("compose-key-{member}"))) } " "
                input type="text" name=(member) id=(format!("f-{member}")) size="66" spellcheck="false" aria-describedby=(format!("f-{member}-hint"))
                    value=(match str_of(cur, member) { v if v == coop_core::Hash::ZERO.to_hex() => "", v => v });
                " " span id=(format!("f-{member}-hint")) class="muted" { (l.t("compose-key-hint")) }
            }
        },
        Field::Text(member) => html! {
            p {
                label for=(format!("f-{member}")) { (l.t(&format!("compose-text-{member}"))) } " "
                input type="text" name=(member) id=(format!("f-{member}")) size="60" value=(str_of(cur, member));
            }
        },
        Field::Role => {
            let witness = str_of(cur, "role") == "Witness";
            html! {
                p {
                    label for="f-role" { (l.t("compose-role")) } " "
                    select name="role" id="f-role" {
                        option value="Auditor" selected[!witness] { (role(l, coop_treaty::Role::Auditor)) }
                        option value="Witness" selected[witness] { (role(l, coop_treaty::Role::Witness)) }
                    }
                }
            }
        }
        Field::Number(member) => {
            let n = cur
                .get(member)
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            // The ids the ledger already knows: a protocol's or a handover's.
            let known: Vec<u32> = if kind.starts_with("NodeHandover") {
                now.state.agreement.handovers.keys().copied().collect()
            } else {
                now.state.agreement.protocols.keys().copied().collect()
            };
            let value = if n == 0 && kind.ends_with("Proposed") {
                u64::from(known.iter().max().map_or(1, |m| m.saturating_add(1)))
            } else {
                n
            };
            html! {
                p {
                    label for=(format!("f-{member}")) { (l.t(&format!("compose-number-{kind}"))) } " "
                    input type="number" min="0" name=(member) id=(format!("f-{member}")) list="f-known" value=(value);
                    datalist id="f-known" { @for k in &known { option value=(k) {} } }
                }
            }
        }
        Field::RetireFrom => html! {
            p {
                label for="f-retire" { (l.t("compose-retire-from")) } " "
                input type="number" min="0" name="retire_old_from" id="f-retire" aria-describedby="f-retire-hint"
                    value=(cur.get("retire_old_from").and_then(serde_json::Value::as_u64).map(|n| n.to_string()).unwrap_or_default());
                " " span id="f-retire-hint" class="muted" { (l.t("compose-retire-from-hint")) }
            }
        },
        Field::Params => {
            let current =
                serde_json::to_value(now.state.agreement.params_at(now.now)).unwrap_or_default();
            let given = cur.get("params");
            html! {
                fieldset {
                    legend { "Art. 9: " (l.t("compose-params")) }
                    @for name in crate::act::PARAMS {
                        p {
                            label for=(format!("f-{name}")) { (l.t(&format!("param-{name}"))) } " "
                            input type="number" min="0" name=(format!("params.{name}")) id=(format!("f-{name}"))
                                value=(given.and_then(|g| g.get(name)).or_else(|| current.get(name)).and_then(serde_json::Value::as_u64).map(|n| n.to_string()).unwrap_or_default());
                        }
                    }
                }
            }
        }
        Field::EffectiveFrom => {
            let ms = cur
                .get("effective_from")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            let date = if ms == 0 {
                String::new()
            } else {
                time(coop_core::Timestamp(ms))
                    .get(..10)
                    .unwrap_or_default()
                    .to_owned()
            };
            html! {
                p {
                    label for="f-effective" { (l.t("compose-effective-from")) } " "
                    input type="date" name="effective_from" id="f-effective" value=(date);
                }
            }
        }
        Field::Languages => {
            let given: Vec<Language> = cur
                .get("languages")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            html! {
                fieldset {
                    legend { "Art. 4.2: " (l.t("compose-languages")) }
                    @for x in [Language::Kk, Language::Tk, Language::Ru] {
                        p { label { input type="checkbox" name=(format!("lang.{x:?}")) value="true" checked[given.contains(&x)]; " " (l.word("language", &format!("{x:?}"))) } }
                    }
                }
            }
        }
        Field::Form => {
            let chosen = str_of(cur, "form");
            html! {
                p {
                    label for="f-form" { (l.t("request-form-label")) } " "
                    select name="form" id="f-form" {
                        @for w in ["ExchangeExperience", "ExchangeSpecialists", "ExchangeLegalActs", "Training"] {
                            option value=(w) selected[w == chosen] { (l.word("form", w)) }
                        }
                    }
                }
            }
        }
    }
}

/// An item of information's fields (Art. 2.2 kind, 7.1 restriction, 4.4 declaration,
/// its documents) under `prefix`, from the draft's `cur`.
fn info(l: Lang, prefix: &str, cur: &serde_json::Value, own: Language, other: Language) -> Markup {
    let id = |n: &str| format!("f-{}{n}", prefix.replace('.', "-"));
    let kind = str_of(cur, "kind");
    let flag = |n: &str| {
        cur.get(n)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    let docs = docs_of(cur, "documents");
    let item = str_of(cur, "item");
    html! {
        fieldset {
            legend { "Art. 2.2, 4.4, 7.1: " (l.t("compose-information")) }
            input type="hidden" name=(format!("{prefix}item")) value=(item);
            p {
                label for=(id("kind")) { (l.t("compose-info-kind")) } " "
                select name=(format!("{prefix}kind")) id=(id("kind")) {
                    @for k in ["OperationalSearch", "OperationalReference", "Forensic", "Archival"] {
                        option value=(k) selected[k == kind] { (l.t(&format!("info-{k}"))) }
                    }
                }
            }
            p { label { input type="checkbox" name=(format!("{prefix}restricted")) value="true" id=(id("restricted")) checked[flag("restricted")]; " " (l.t("compose-restricted")) } }
            p { label { input type="checkbox" name=(format!("{prefix}no_state_secret")) value="true" id=(if prefix.is_empty() { "f-no-secret".to_owned() } else { id("no-secret") }) checked[flag("no_state_secret")]; " " (l.t("compose-no-state-secret")) } }
            (super::request::document(l, &format!("{prefix}doc"), &l.t("request-file"), original(&docs), own))
            (super::request::document(l, &format!("{prefix}doc.tr"), &l.t("request-translation"), translation(&docs), other))
        }
    }
}

/// What the rules say of a draft: nothing wrong, or every problem with its article.
pub(super) fn verdict(l: Lang, problems: &[Violation]) -> Markup {
    html! {
        @if problems.is_empty() {
            p id="compose-ok" class="ok" { (l.t("compose-ok")) }
        } @else {
            section aria-labelledby="problems-h" {
                h2 id="problems-h" { (l.ta("compose-problems", &[("count", num(problems.len() as f64))])) }
                ul id="problems" {
                    @for (i, v) in problems.iter().enumerate() {
                        li id=(format!("problem-{i}")) data-clause=(v.clause()) { strong { (v.clause()) } " — " (coop_i18n::refusal(l, v)) }
                    }
                }
            }
        }
    }
}

/// The exact event, and — when the rules find nothing wrong — the form that signs it
/// in the browser with the clerk's key, submits it and verifies the receipt.
pub(super) fn sign(
    l: Lang,
    now: &At,
    body: &coop_wire::BodyJson,
    prepared: Option<&coop_wire::Prepared>,
    case: Option<&coop_core::CaseId>,
) -> Markup {
    let readable = serde_json::to_string_pretty(body).unwrap_or_default();
    let body_json = serde_json::to_string(body).unwrap_or_default();
    // The node keys the ledger names, each for its sizes: what the receipt's checkpoint
    // must be signed with (verified in the browser, static/receipt.js).
    let node_keys = serde_json::to_string(
        &now.state
            .agreement
            .node_keys
            .iter()
            .map(|k| {
                serde_json::json!({
                    "key": k.key.to_hex(),
                    "from_size": k.from_size,
                    "until_size": k.until_size,
                })
            })
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    html! {
        section aria-labelledby="event-h" {
            h2 id="event-h" { (l.t("compose-event")) }
            p { (l.t("compose-event-explain")) }
            pre id="event-json" { code { (readable) } }
        }
        @if let Some(p) = prepared {
            form id="sign-form" data-body=(body_json) data-signing-message=(p.signing_message)
                data-body-bytes=(p.body) data-node-keys=(node_keys)
                data-msg-verified=(l.t("compose-receipt-verified")) data-msg-unverified=(l.t("compose-receipt-unverified"))
                data-event-hash=(p.event_hash.to_hex()) data-key=(body.author.key.to_hex())
                data-msg-nocrypto=(l.t("login-no-webcrypto")) data-msg-passphrase=(l.t("login-passphrase-needed"))
                data-msg-opening=(l.t("login-opening")) data-msg-wrong-passphrase=(l.t("login-wrong-passphrase"))
                data-msg-scrypt=(l.t("login-scrypt")) data-msg-unsupported=(l.t("login-unsupported"))
                data-msg-not-yours=(l.t("compose-not-your-key")) data-msg-signing=(l.t("compose-signing"))
                data-msg-landed=(l.t("compose-landed")) data-msg-mismatch=(l.t("compose-receipt-mismatch")) {
                (super::login::key_fields(l))
                button type="submit" id="sign-submit" { (l.t("compose-sign")) }
            }
            p id="sign-status" role="status" aria-live="polite" {}
            section id="receipt" aria-labelledby="receipt-h" hidden {
                h2 id="receipt-h" { (l.t("compose-receipt")) }
                dl {
                    dt { (l.t("compose-seq")) } dd id="receipt-seq" {}
                    dt { (l.t("compose-event-hash")) } dd { code id="receipt-event-hash" {} }
                    dt { (l.t("compose-checkpoint")) } dd id="receipt-checkpoint" {}
                }
                p id="receipt-verified" role="status" {}
                p {
                    @if let Some(case) = case { a href=(format!("/cases/{}", case.to_hex())) id="receipt-case" { (l.t("compose-to-case")) } " · " }
                    a href="/inbox" { (l.t("nav-inbox")) }
                }
            }
        } @else {
            p id="compose-blocked" { (l.t("compose-blocked")) }
        }
    }
}
