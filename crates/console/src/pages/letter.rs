//! The request letter (issue 27, item 5): a recorded request as a print-ready letter
//! with every Art. 4.1 element, in the requesting authority's state language, beside the
//! skeleton of its translation into the other Party's (Art. 4.2). What the UNODC Request
//! Writer calls "the complete request for final editing and signature"; the ledger's
//! record is the authority, the letter its readable form, whose digest the clerk attaches
//! once it is saved.

use super::*;
use coop_treaty::{DocumentRef, Party, Request};

/// The language a Party's letters are written in (its state language, Art. 4.2).
fn state_lang(p: Party) -> Lang {
    match p {
        Party::Kz => Lang::Kk,
        Party::Tm => Lang::Tk,
    }
}

fn doc(l: Lang, d: Option<&DocumentRef>) -> Markup {
    match d {
        None => html! { span class="bad" { (l.t("letter-missing")) } },
        Some(d) => html! {
            (case::doc_role(l, &d.role)) ", " (l.word("language", &format!("{:?}", d.language)))
            ", " (visible(&d.media_type)) ", " (d.size) " B"
            br; code { (d.digest.to_hex()) }
        },
    }
}

/// One column of the letter, in `l`.
fn column(l: Lang, view: &CaseView, r: &Request, seq: u64, hash: &str) -> Markup {
    let e = &r.elements;
    let c = &view.case;
    html! {
        section class="letter" lang=(l.code()) {
            h2 { (l.t("letter-title")) }
            p { (l.ta("letter-intro", &[("requester", text(c.requester.to_string())), ("requested", text(c.requested.to_string()))])) }
            dl {
                dt { "1) " (l.t("letter-e1")) } dd { @match &e.requested_authority { Some(a) => (a), None => span class="bad" { (l.t("letter-missing")) } } }
                dt { "2) " (l.t("letter-e2")) } dd { (doc(l, e.grounds.as_ref())) }
                dt { "2) " (l.t("letter-e2-services")) } dd { (visible(&e.requesting_service)) " → " (visible(&e.requested_service)) }
                dt { "3) " (l.t("letter-e3")) } dd { (doc(l, e.case_description.as_ref())) }
                dt { "4) " (l.t("letter-e4")) } dd { (doc(l, e.content.as_ref())) }
                dt { "5) " (l.t("letter-e5-copy")) } dd { (doc(l, e.decision_copy.as_ref())) }
                dt { "5) " (l.t("letter-e5-provision")) } dd { (doc(l, e.legal_provision.as_ref())) }
                dt { (l.t("category")) } dd { (l.word("category", coop_treaty::category_word(&r.category))) }
                dt { (l.t("purposes")) } dd { @for p in &r.purposes { div { (visible(&p.0)) } } }
                @if r.urgent { dt { (l.t("desk-urgent")) } dd { (l.t("letter-urgent")) } }
                @if r.oral { dt { (l.t("letter-oral")) } dd { (l.t("letter-oral-text")) } }
            }
            p class="muted" { (l.ta("letter-record", &[("seq", num(seq as f64)), ("hash", text(hash.to_owned()))])) }
            p class="signature" { (l.t("letter-signature")) }
        }
    }
}

/// The letter of a case's request: the author's language first, then the other's.
pub fn letter(
    c: &Console,
    ctx: &Ctx,
    now: &At,
    view: &CaseView,
    request: &Request,
    seq: u64,
    hash: &str,
) -> Markup {
    let own = state_lang(view.case.requester_party);
    let other = state_lang(view.case.requester_party.other());
    let body = html! {
        p class="actions" { button type="button" id="print" { (ctx.lang.t("print-now")) } }
        p class="explain" { (ctx.lang.t("letter-explain")) }
        div class="letters" {
            (column(own, view, request, seq, hash))
            (column(other, view, request, seq, hash))
        }
    };
    layout(
        c,
        ctx,
        now,
        &ctx.lang.t("letter-title"),
        "/cases",
        true,
        body,
    )
}
