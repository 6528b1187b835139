//! The desk of a competent authority: its inbox (what the Agreement now asks of it,
//! overdue first) and its outbox (its open requests and what each waits for).

use super::*;
use coop_core::AuthorityId;
use coop_ledger::read::{Act, DEFAULT_PAGE, DeskQuery, Inbox, Outbox};

/// "3 d 4 h", "2 h 5 min", "40 min": a duration as a clerk reads a deadline.
fn span(l: Lang, ms: u64) -> String {
    let min = ms / 60_000;
    let (d, h, m) = (min / 1440, (min % 1440) / 60, min % 60);
    let (ud, uh, um) = (l.t("dur-d"), l.t("dur-h"), l.t("dur-min"));
    if d > 0 {
        format!("{d} {ud} {h} {uh}")
    } else if h > 0 {
        format!("{h} {uh} {m} {um}")
    } else {
        format!("{m} {um}")
    }
}

/// Time left, or overdue by how much, or no time set.
fn left(l: Lang, left_ms: Option<i64>) -> Markup {
    match left_ms {
        Some(ms) if ms < 0 => {
            html! { span class="bad" { (l.ta("desk-overdue-by", &[("time", text(span(l, ms.unsigned_abs())))])) } }
        }
        Some(ms) => {
            html! { (l.ta("desk-time-left", &[("time", text(span(l, ms.unsigned_abs())))])) }
        }
        None => html! { span class="muted" { (l.t("desk-no-time")) } },
    }
}

/// A desk's content, live on a node as it stands now: fetched again by the page each
/// time a record lands (`/desk/live`, static/console.js), announced to screen readers.
fn live(c: &Console, ctx: &Ctx, now: &At, body: Markup) -> Markup {
    let l = ctx.lang;
    let live = c.desk.is_some() && ctx.as_of.is_none();
    html! {
        @if live {
            p id="desk-live" class="muted" role="status" aria-live="polite" data-msg-updated=(l.t("desk-updated")) { (l.t("desk-live")) }
        }
        div id="desk" data-live=[live.then_some("/desk/live")] data-size=(now.state.size) { (body) }
    }
}

/// The form that picks whose desk to show (a root, an auditor, or the console without
/// sign-in, which may look at any authority's).
fn chooser(l: Lang, ctx: &Ctx, now: &At, action: &str, me: Option<&AuthorityId>) -> Markup {
    let competent = now
        .state
        .registry
        .values()
        .filter(|r| r.role == coop_treaty::Role::Competent);
    html! {
        form class="filters" method="get" action=(action) {
            @if !ctx.as_of_text.is_empty() { input type="hidden" name="as_of" value=(ctx.as_of_text); }
            label for="d-for" { (l.t("desk-for")) }
            " "
            select name="for" id="d-for" {
                @for r in competent {
                    option value=(r.id) selected[me == Some(&r.id)] { (r.id) " — " (visible(&r.name)) }
                }
            }
            " "
            button type="submit" id="d-show" { (l.t("desk-show")) }
        }
    }
}

/// The inbox page; `me` is `None` until someone is chosen.
pub fn inbox(
    c: &Console,
    ctx: &Ctx,
    now: &At,
    me: Option<&AuthorityId>,
    q: &DeskQuery,
    page: Option<&Inbox>,
    may_choose: bool,
) -> Markup {
    let l = ctx.lang;
    // The acts this reader may draft here: a signed-in authority's own, on a node.
    let can_act = c.desk.is_some() && !may_choose && ctx.who.is_some();
    let title = match me {
        Some(m) => l.ta("inbox-title", &[("who", text(m.to_string()))]),
        None => l.t("nav-inbox"),
    };
    let link = |offset: usize| paged(ctx, "/inbox", Some(offset));
    let body = html! {
        @if c.desk.is_some() && ctx.as_of.is_none() && ctx.who.as_ref().is_some_and(|w| w.role == coop_treaty::Role::Root) {
            p class="actions" { a href="/compose" id="governance-acts" class="act" { "→ " (l.t("nav-acts")) } }
        }
        @if can_act { p class="actions" { a href="/compose" id="other-acts" class="act" { "→ " (l.t("nav-acts")) } } }
        @if may_choose { (chooser(l, ctx, now, "/inbox", me)) }
        @match (me, page) {
            (Some(m), Some(p)) => {
                form class="filters" method="get" action="/inbox" role="search" {
                    @if may_choose { input type="hidden" name="for" value=(m); }
                    @if !ctx.as_of_text.is_empty() { input type="hidden" name="as_of" value=(ctx.as_of_text); }
                    label for="d-act" { (l.t("desk-filter-act")) }
                    " "
                    select name="act" id="d-act" {
                        option value="" { (l.t("any")) }
                        @for a in Act::ALL { option value=(a.word()) selected[q.act == Some(a)] { (l.word("act", a.word())) } }
                    }
                    " "
                    label { input type="checkbox" name="overdue" value="true" id="d-overdue" checked[q.overdue]; " " (l.t("desk-only-overdue")) }
                    " "
                    button type="submit" id="d-apply" { (l.t("apply")) }
                }
                p id="desk-summary" { (l.ta("desk-summary", &[("total", num(p.total as f64)), ("overdue", num(p.overdue as f64))])) }
                @if p.tasks.is_empty() {
                    p id="desk-empty" { (l.t("desk-empty")) }
                } @else {
                    table id="inbox" {
                        thead { tr {
                            th scope="col" { (l.t("desk-case")) } th scope="col" { (l.t("desk-act")) }
                            th scope="col" { (l.t("desk-article")) } th scope="col" { (l.t("desk-other")) }
                            th scope="col" { (l.t("desk-asked")) } th scope="col" { (l.t("desk-due")) }
                            th scope="col" { (l.t("desk-left")) }
                        } }
                        tbody {
                            @for t in &p.tasks {
                                tr class=[t.overdue.then_some("overdue")] data-act=(t.act.word()) {
                                    td { (case_link(ctx, &t.case)) @if t.urgent { " " span class="urgent" { (l.t("desk-urgent")) } } }
                                    td {
                                        (l.word("act", t.act.word())) @if let Some(i) = t.item { " " code { (short(&i.to_string())) } }
                                        @if can_act {
                                            @for k in t.kinds.iter().filter(|k| crate::handlers::is_composable(k)) {
                                                br;
                                                a class="act" href=(format!("/compose/{k}?case={}", t.case.to_hex())) { "→ " (l.word("compose", k)) }
                                            }
                                        }
                                    }
                                    td { (t.article) }
                                    td { (t.other) }
                                    td { (seq_link(&t.case, t.asked_seq)) " " (time(t.since)) }
                                    td { @if let Some(d) = t.due { (time(d)) } }
                                    td { (left(l, t.left_ms)) }
                                }
                            }
                        }
                    }
                    nav class="pager" aria-label=(l.t("pages")) {
                        @if p.offset > 0 {
                            a rel="prev" id="prev" href=(link(p.offset.saturating_sub(DEFAULT_PAGE))) { "← " (l.t("previous")) }
                        }
                        " "
                        @if let Some(n) = p.next_offset {
                            a rel="next" id="next" href=(link(n)) { (l.t("next")) " →" }
                        }
                    }
                }
            }
            _ => { p { (l.t("desk-choose")) } }
        }
    };
    layout(
        c,
        ctx,
        now,
        &title,
        "/inbox",
        false,
        live(c, ctx, now, body),
    )
}

/// The outbox page; `me` is `None` until someone is chosen.
pub fn outbox(
    c: &Console,
    ctx: &Ctx,
    now: &At,
    me: Option<&AuthorityId>,
    page: Option<&Outbox>,
    may_choose: bool,
) -> Markup {
    let l = ctx.lang;
    let title = match me {
        Some(m) => l.ta("outbox-title", &[("who", text(m.to_string()))]),
        None => l.t("nav-outbox"),
    };
    let can_act = c.desk.is_some() && !may_choose && ctx.who.is_some();
    let body = html! {
        @if can_act { p class="actions" {
            a href="/compose/Request" id="new-request" class="act" { "→ " (l.word("compose", "Request")) }
            " · " a href="/compose" id="other-acts" { (l.t("nav-acts")) }
        } }
        @if may_choose { (chooser(l, ctx, now, "/outbox", me)) }
        @match (me, page) {
            (Some(m), Some(p)) => {
                @if p.requests.is_empty() {
                    p id="desk-empty" { (l.t("outbox-empty")) }
                } @else {
                    table id="outbox" {
                        thead { tr {
                            th scope="col" { (l.t("desk-case")) } th scope="col" { (l.t("desk-other")) }
                            th scope="col" { (l.t("desk-status")) } th scope="col" { (l.t("desk-opened")) }
                            th scope="col" { (l.t("desk-waits-for")) }
                        } }
                        tbody {
                            @for w in &p.requests {
                                tr class=[w.waits_for.iter().any(|x| x.overdue).then_some("overdue")] {
                                    td { (case_link(ctx, &w.case)) @if w.urgent { " " span class="urgent" { (l.t("desk-urgent")) } } }
                                    td { (w.requested) }
                                    td { (status(l, w.status)) }
                                    td { (time(w.opened_at)) }
                                    td {
                                        // The requesting side's own acts in its case (Art. 4.3, 7.2).
                                        @if can_act {
                                            a class="act" href=(format!("/compose/AdditionalInfoRequested?case={}", w.case.to_hex())) { "→ " (l.word("compose", "AdditionalInfoRequested")) }
                                            @if now.state.register.values().any(|i| i.case == w.case && &i.recipient == m) {
                                                br;
                                                a class="act" href=(format!("/compose/InformationUsed?case={}", w.case.to_hex())) { "→ " (l.word("compose", "InformationUsed")) }
                                            }
                                            br;
                                        }
                                        @if w.waits_for.is_empty() { (l.t("desk-answered")) }
                                        @for x in &w.waits_for {
                                            div {
                                                (l.word("act", x.act.word())) " (" (x.article) ") — "
                                                @if &x.by == m { (l.t("desk-by-us")) } @else { (x.by) }
                                                @if let Some(d) = x.due {
                                                    " · " (l.t("desk-due")) " " (time(d))
                                                    @if x.overdue { " " span class="bad" { (l.t("overdue")) } }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            _ => { p { (l.t("desk-choose")) } }
        }
    };
    layout(
        c,
        ctx,
        now,
        &title,
        "/outbox",
        false,
        live(c, ctx, now, body),
    )
}
