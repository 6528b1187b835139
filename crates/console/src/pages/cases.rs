//! The case list and its CSV.

use super::*;

/// The case list.
pub fn cases(c: &Console, ctx: &Ctx, now: &At, q: &CaseQuery, page: &CasePage) -> Markup {
    let l = ctx.lang;
    let authorities: Vec<&coop_treaty::Registered> = now
        .state
        .registry
        .values()
        .filter(|r| r.role == coop_treaty::Role::Competent)
        .collect();
    // The same query, another offset: for the pager and the CSV link.
    let link = |path: &str, offset: Option<usize>| paged(ctx, path, offset);
    let sel = |v: Option<&str>, w: &str| v == Some(w);
    let from = if page.cases.is_empty() {
        0
    } else {
        page.offset + 1
    };
    let to = page.offset + page.cases.len();
    let body = html! {
        form class="filters" method="get" action="/cases" role="search" {
            @if !ctx.as_of_text.is_empty() { input type="hidden" name="as_of" value=(ctx.as_of_text); }
            label { (l.t("filter-status")) " "
                select name="status" id="f-status" {
                    option value="" { (l.t("any")) }
                    @for w in STATUS_WORDS { option value=(w) selected[sel(q.filter.status, w)] { (l.word("status", w)) } }
                }
            }
            label { (l.t("filter-category")) " "
                select name="category" id="f-category" {
                    option value="" { (l.t("any")) }
                    @for w in CATEGORY_WORDS { option value=(w) selected[sel(q.filter.category, w)] { (l.word("category", w)) } }
                }
            }
            label { (l.t("filter-authority")) " "
                select name="authority" id="f-authority" {
                    option value="" { (l.t("any")) }
                    @for r in &authorities {
                        option value=(r.id) selected[q.authority.as_ref() == Some(&r.id)] { (r.id) " — " (super::visible(&r.name)) }
                    }
                }
            }
            label { input type="checkbox" name="overdue" value="true" id="f-overdue" checked[q.filter.overdue]; " " (l.t("filter-overdue")) }
            label { input type="checkbox" name="disputed" value="true" id="f-disputed" checked[q.filter.disputed]; " " (l.t("filter-disputed")) }
            label { (l.t("search")) " " input type="search" name="q" id="f-q" value=(q.search.as_deref().unwrap_or("")); }
            button type="submit" id="f-apply" { (l.t("apply")) }
            " " a href="/cases" { (l.t("clear")) }
        }
        p id="count" { (l.ta("cases-shown", &[("from", num(from as f64)), ("to", num(to as f64)), ("total", num(page.total as f64))])) }
        @if page.cases.is_empty() {
            // Said, not left as an empty table (issue 30).
            p id="cases-none" role="status" { (l.t("cases-none")) " " a href="/cases" { (l.t("clear")) } }
        }
        table id="cases" hidden[page.cases.is_empty()] {
            thead {
                tr {
                    th scope="col" { (l.t("case")) } th scope="col" { (l.t("status")) } th scope="col" { (l.t("category")) }
                    th scope="col" { (l.t("requester")) } th scope="col" { (l.t("requested")) } th scope="col" { (l.t("opened")) }
                    th scope="col" { (l.t("events")) } th scope="col" { (l.t("overdue")) } th scope="col" { (l.t("disputes")) }
                }
            }
            tbody {
                @for r in &page.cases {
                    tr {
                        td { (case_link(ctx, &r.id)) @if r.urgent { " " span class="urgent" { (l.t("urgent")) } } }
                        td { (status(l, r.status)) }
                        td { (l.word("category", r.category)) }
                        td { (r.requester) " (" (party(l, r.requester_party)) ")" }
                        td { (r.requested) }
                        td { (time(r.opened_at)) }
                        td { (r.events) }
                        td class=[(r.overdue > 0).then_some("bad")] { (r.overdue) }
                        td { (r.disputes) }
                    }
                }
            }
        }
        nav class="pager" aria-label=(l.t("pages")) {
            @if page.offset > 0 {
                a rel="prev" id="prev" href=(link("/cases", Some(page.offset.saturating_sub(page.limit)))) { "← " (l.t("previous")) }
            }
            " "
            @if let Some(n) = page.next_offset {
                a rel="next" id="next" href=(link("/cases", Some(n))) { (l.t("next")) " →" }
            }
        }
        p { a href=(link("/cases.csv", None)) id="csv" download { (l.t("download-csv")) } }
    };
    layout(c, ctx, now, &l.t("nav-cases"), "/cases", false, body)
}

/// CSV of a case list.
pub fn cases_csv(c: &Console, ctx: &Ctx, now: &At, page: &CasePage) -> String {
    let mut w = Csv::new(c, ctx.lang, now);
    w.row(&[
        "case",
        "status",
        "category",
        "requester",
        "requester_party",
        "requested",
        "urgent",
        "opened_at",
        "events",
        "last_at",
        "overdue",
        "disputes",
    ]);
    for r in &page.cases {
        w.row(&[
            &r.id.to_hex(),
            r.status,
            r.category,
            r.requester.as_str(),
            party_word(r.requester_party),
            r.requested.as_str(),
            if r.urgent { "yes" } else { "no" },
            &time(r.opened_at),
            &r.events.to_string(),
            &time(r.last_at),
            &r.overdue.to_string(),
            &r.disputes.to_string(),
        ]);
    }
    w.finish()
}
