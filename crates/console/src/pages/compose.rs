//! Drafting an act: the draft the console made from the case, what the Agreement's rules
//! say of it (every problem at once, each with its article), and — when nothing is wrong
//! — the exact event, signed in the browser with the clerk's own key and submitted.

use super::*;
use coop_treaty::{Case, Violation};

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

/// The compose page of one act in one case.
pub fn compose(
    c: &Console,
    ctx: &Ctx,
    now: &At,
    case: &Case,
    body: &coop_wire::BodyJson,
    judged: Judged<'_>,
    prepared: Option<&coop_wire::Prepared>,
) -> Markup {
    let l = ctx.lang;
    let kind = body.payload.name();
    let title = l.word("compose", kind);
    let author = now
        .state
        .registry
        .get(&body.author.authority)
        .map(|a| a.party);
    let own = author.map_or(coop_treaty::Language::Ru, |p| p.state_language());
    let other = author.map_or(coop_treaty::Language::Ru, |p| p.other().state_language());
    use coop_treaty::Payload as P;
    let docs: Vec<&coop_treaty::DocumentRef> = match &body.payload {
        P::Refused { reasons, .. } => reasons.iter().collect(),
        P::OralRequestConfirmed { documents }
        | P::AdditionalInfoRequested { documents }
        | P::InformationTransferred { documents, .. } => documents.iter().collect(),
        P::AdditionalInfoProvided { information } => information.documents.iter().collect(),
        _ => Vec::new(),
    };
    // An item of information: (id, kind, restricted, declared free of state secrets).
    let info = match &body.payload {
        P::AdditionalInfoProvided { information: i } => {
            Some((i.item, i.kind, i.restricted, i.no_state_secret))
        }
        P::InformationTransferred {
            item,
            kind,
            restricted,
            no_state_secret,
            ..
        } => Some((*item, *kind, *restricted, *no_state_secret)),
        _ => None,
    };
    // For a use: the items of this case received by this authority, and the purposes.
    let received: Vec<&coop_treaty::Item> = now
        .state
        .register
        .values()
        .map(|i| &**i)
        .filter(|i| i.case == case.id && i.recipient == body.author.authority)
        .collect();
    let original = docs
        .iter()
        .find(|d| !matches!(d.role, coop_treaty::DocRole::TranslationOf(_)))
        .copied();
    let translation = docs
        .iter()
        .find(|d| matches!(d.role, coop_treaty::DocRole::TranslationOf(_)))
        .copied();
    let main = html! {
        p { (l.t("desk-case")) " " (case_link(ctx, &case.id)) " · " (status(l, case.status.word()))
            " · " (case.requester) " → " (case.requested) }
        p class="explain" { (l.t(&format!("compose-help-{kind}"))) }
        @if judged.form {
            script type="module" src="/static/digest.js" {}
            form method="get" action=(format!("/compose/{kind}")) id="request-form" data-msg-hashing=(l.t("documents-hashing")) {
                input type="hidden" name="case" value=(case.id.to_hex());
                input type="hidden" name="check" value="1";
                @if let coop_treaty::Payload::Refused { extent, grounds, .. } = &body.payload {
                    fieldset {
                        legend { "Art. 4.5: " (l.t("compose-grounds")) }
                        @for g in crate::request::GROUNDS {
                            p { label { input type="checkbox" name=(format!("ground.{g:?}")) value="true" checked[grounds.contains(&g)];
                                " " (l.word("ground", &format!("{g:?}"))) } }
                        }
                        p {
                            label for="f-extent" { (l.t("compose-extent")) } " "
                            select name="extent" id="f-extent" {
                                option value="Full" selected[*extent == coop_treaty::Extent::Full] { (l.t("compose-extent-full")) }
                                option value="Partial" selected[*extent == coop_treaty::Extent::Partial] { (l.t("compose-extent-partial")) }
                            }
                        }
                    }
                }
                @if let Some((item, info_kind, restricted, declared)) = info {
                    fieldset {
                        legend { "Art. 2.2, 4.4, 7.1: " (l.t("compose-information")) }
                        input type="hidden" name="item" value=(item.to_string());
                        p {
                            label for="f-kind" { (l.t("compose-info-kind")) } " "
                            select name="kind" id="f-kind" {
                                @for k in [coop_treaty::InfoKind::OperationalSearch, coop_treaty::InfoKind::OperationalReference, coop_treaty::InfoKind::Forensic, coop_treaty::InfoKind::Archival] {
                                    option value=(format!("{k:?}")) selected[k == info_kind] { (l.t(&format!("info-{k:?}"))) }
                                }
                            }
                        }
                        p { label { input type="checkbox" name="restricted" value="true" id="f-restricted" checked[restricted]; " " (l.t("compose-restricted")) } }
                        p { label { input type="checkbox" name="no_state_secret" value="true" id="f-no-secret" checked[declared]; " " (l.t("compose-no-state-secret")) } }
                    }
                }
                @if let P::InformationUsed { item, purpose } = &body.payload {
                    fieldset {
                        legend { "Art. 7.2: " (l.t("compose-use")) }
                        p {
                            label for="f-item" { (l.t("compose-item")) } " "
                            select name="item" id="f-item" {
                                @for i in &received {
                                    option value=(i.id.to_string()) selected[i.id == *item] { (short(&i.id.to_string())) "… (" (l.t(&format!("info-{:?}", i.kind))) ")" }
                                }
                            }
                        }
                        p {
                            label for="f-purpose" { (l.t("compose-purpose")) } " "
                            input type="text" name="purpose" id="f-purpose" list="f-purposes" value=(purpose.0);
                            datalist id="f-purposes" { @for p in &case.purposes { option value=(p.0) {} } }
                        }
                    }
                }
                @if !matches!(&body.payload, P::InformationUsed { .. }) {
                    fieldset {
                        legend { (l.t(&format!("compose-docs-{kind}"))) }
                        (super::request::document(l, "doc", &l.t("request-file"), original, own))
                        (super::request::document(l, "doc.tr", &l.t("request-translation"), translation, other))
                    }
                }
                p id="request-status" role="status" aria-live="polite" {}
                button type="submit" id="request-check" { (l.t("request-check")) }
            }
        }
        @if judged.checked {
            @if !judged.unreadable.is_empty() {
                ul class="error" id="unreadable" { @for u in judged.unreadable { li { code { (u.field) } " — " (u.why) } } }
            }
            (verdict(l, judged.problems))
            (sign(l, now, body, prepared, &case.id))
        }
    };
    layout(c, ctx, now, &title, "/inbox", false, main)
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
    case: &coop_core::CaseId,
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
                p { a href=(format!("/cases/{}", case.to_hex())) id="receipt-case" { (l.t("compose-to-case")) } " · " a href="/inbox" { (l.t("nav-inbox")) } }
            }
        } @else {
            p id="compose-blocked" { (l.t("compose-blocked")) }
        }
    }
}
