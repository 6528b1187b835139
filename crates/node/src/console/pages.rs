//! The console's pages (maud: HTML checked at compile time and escaped by default) and
//! CSV exports. Every page and export carries the verification stamp.

use super::i18n::{Lang, num, text};
use super::{Console, Ctx, enc};
use coop_core::{Hash, Timestamp};
use coop_ledger::AsOf;
use coop_ledger::read::{
    self, At, AuthorityRow, CasePage, CaseQuery, CaseView, DeadlineState, DocumentHit, Overview,
    Stats, party_word,
};
use coop_treaty::{CATEGORY_WORDS, ComplianceReport, STATUS_WORDS};
use maud::{DOCTYPE, Markup, html};

/// A time as people read it: `2026-03-01 12:00:00 UTC`.
pub fn time(t: Timestamp) -> String {
    let s = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(t.0),
    )
    .to_string();
    format!("{} UTC", s.trim_end_matches('Z').replacen('T', " ", 1))
}

/// The first 16 hex digits, for tables (the full value is in the title).
fn short(h: &str) -> &str {
    h.get(..16).unwrap_or(h)
}

fn hash_cell(h: &Hash) -> Markup {
    let hex = h.to_hex();
    html! { code title=(hex) { (short(&hex)) "…" } }
}

fn status(l: Lang, w: &str) -> Markup {
    html! { span class={ "status status-" (w) } { (l.word("status", w)) } }
}

fn role(l: Lang, r: coop_treaty::Role) -> String {
    l.word("role", &format!("{r:?}"))
}

fn party(l: Lang, p: coop_treaty::Party) -> String {
    l.word("party", party_word(p))
}

fn case_link(ctx: &Ctx, id: &coop_core::CaseId) -> Markup {
    let hex = id.to_hex();
    let q = ctx.as_of_query();
    let href = if q.is_empty() {
        format!("/cases/{hex}")
    } else {
        format!("/cases/{hex}?{q}")
    };
    html! { a href=(href) { code { (short(&hex)) } } }
}

/// The statement that ties a page, a printout or an export to a verified state.
fn stamp_text(c: &Console, l: Lang, now: &At) -> String {
    let id = c
        .source
        .ledger_id()
        .map_or_else(|| "-".to_owned(), |i| i.to_string());
    match &c.verdict {
        Some(v) => {
            let cosigners: Vec<String> = v.cosigned_by.iter().map(|(n, _)| n.clone()).collect();
            l.ta(
                "stamp-verified",
                &[
                    ("ledger", text(id)),
                    ("size", num(v.checkpoint_size as f64)),
                    ("root", text(v.checkpoint_root.to_hex())),
                    (
                        "cosigners",
                        text(if cosigners.is_empty() {
                            l.t("none")
                        } else {
                            cosigners.join(", ")
                        }),
                    ),
                    ("when", text(time(Timestamp(v.verified_at)))),
                    ("records", num(v.records as f64)),
                    ("shown", num(now.state.size as f64)),
                ],
            )
        }
        None => l.ta(
            "stamp-live",
            &[("ledger", text(id)), ("shown", num(now.state.size as f64))],
        ),
    }
}

/// What the page shows: the latest state or an earlier one.
fn as_of_text(l: Lang, now: &At) -> Option<String> {
    match now.as_of? {
        AsOf::Seq(seq) => Some(l.ta(
            "asof-record",
            &[("seq", num(seq as f64)), ("time", text(time(now.now)))],
        )),
        AsOf::Time(t) => Some(l.ta(
            "asof-time",
            &[
                ("time", text(time(t))),
                ("size", num(now.state.size as f64)),
            ],
        )),
    }
}

fn layout(
    c: &Console,
    ctx: &Ctx,
    now: &At,
    title: &str,
    active: &str,
    print: bool,
    body: Markup,
) -> Markup {
    let l = ctx.lang;
    let nav = [
        ("/", l.t("nav-overview")),
        ("/cases", l.t("nav-cases")),
        ("/article7", l.t("nav-article7")),
        ("/registry", l.t("nav-registry")),
        ("/checkpoints", l.t("nav-checkpoints")),
        ("/documents", l.t("nav-documents")),
    ];
    let aq = ctx.as_of_query();
    let with_as_of = |href: &str| {
        if aq.is_empty() {
            href.to_owned()
        } else {
            format!("{href}?{aq}")
        }
    };
    let lang_href = |to: Lang| {
        let mut q: Vec<String> = ctx
            .pairs
            .iter()
            .filter(|(k, _)| k != "lang")
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        q.push(format!("lang={}", to.code()));
        format!("{}?{}", ctx.path, q.join("&"))
    };
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — coopledger" }
                link rel="stylesheet" href="/static/console.css";
                script src="/static/console.js" defer {}
            }
            body class=[print.then_some("print")] {
                a class="skip" href="#main" { (l.t("skip")) }
                header class="top" {
                    div class="brand" {
                        a href=(with_as_of("/")) { "coopledger" }
                        span class="label" { (c.label) }
                    }
                    nav aria-label=(l.t("nav-label")) {
                        ul {
                            @for (href, name) in nav {
                                li {
                                    a href=(with_as_of(href))
                                        aria-current=[(href == active).then_some("page")] { (name) }
                                }
                            }
                        }
                    }
                    ul class="langs" aria-label=(l.t("languages")) {
                        @for to in Lang::ALL {
                            li {
                                a href=(lang_href(to)) hreflang=(to.code()) lang=(to.code())
                                    aria-current=[(to == l).then_some("true")] { (to.name()) }
                            }
                        }
                    }
                    @if let Some(w) = &ctx.who {
                        form class="who" method="post" action="/logout" {
                            span id="who" { (l.ta("signed-in-as", &[("id", text(w.id.to_string())), ("role", text(role(l, w.role)))])) }
                            " " button type="submit" id="logout" { (l.t("logout")) }
                        }
                    }
                    form class="asof" method="get" action=(ctx.path) {
                        label for="as_of" { (l.t("asof-label")) }
                        input id="as_of" name="as_of" type="text" value=(ctx.as_of_text)
                            placeholder=(l.t("asof-placeholder"));
                        button type="submit" { (l.t("asof-go")) }
                        @if ctx.as_of.is_some() {
                            a href=(ctx.path) { (l.t("asof-latest")) }
                        }
                    }
                }
                @if now.state.test_ledger {
                    p class="banner test" role="note" { (l.t("test-ledger")) }
                }
                @if let Some(a) = as_of_text(l, now) {
                    p class="banner asof-banner" role="note" { (a) }
                }
                main id="main" {
                    h1 { (title) }
                    @if print {
                        p class="noprint" {
                            button type="button" id="print" { (l.t("print-now")) }
                        }
                    }
                    (body)
                }
                footer {
                    p class="stamp" id="stamp" { (stamp_text(c, l, now)) }
                }
            }
        }
    }
}

/// An error page.
pub fn error(l: Lang, status: u16, message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                title { (l.t("error-title")) " " (status) " — coopledger" }
                link rel="stylesheet" href="/static/console.css";
            }
            body {
                main id="main" {
                    h1 { (l.t("error-title")) " " (status) }
                    p class="error" role="alert" { (message) }
                    p { a href="/" { (l.t("nav-overview")) } }
                }
            }
        }
    }
}

const PALETTE: [&str; 15] = [
    "#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d5a97", "#2e4057", "#c36f09",
    "#7d8491", "#a23b72", "#3b8ea5", "#f18f01", "#4f772d", "#6c464f", "#99a1a6",
];

/// The segments of one stacked bar, bottom up: (series, value, top y, height), the
/// tallest bar `h - 16` high.
fn stack(segs: &[(usize, usize)], h: usize, max: usize) -> Vec<(usize, usize, usize, usize)> {
    let mut y = h;
    segs.iter()
        .map(|&(k, n)| {
            let bh = n * (h - 16) / max.max(1);
            y = y.saturating_sub(bh);
            (k, n, y, bh)
        })
        .collect()
}

/// A stacked bar chart (one bar per month) in inline SVG, with its numbers in a table
/// beside it for screen readers and for copying.
fn bars(
    l: Lang,
    id: &str,
    title: &str,
    rows: &[(String, Vec<(usize, usize)>)],
    legend: &[String],
) -> Markup {
    let max = rows
        .iter()
        .map(|(_, segs)| segs.iter().map(|(_, n)| n).sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (w, h, pad) = (640usize, 200usize, 24usize);
    let slot = (w - pad) / rows.len().max(1);
    let bar = slot.saturating_sub(4).clamp(2, 48);
    html! {
        figure class="chart" id=(id) {
            figcaption { (title) }
            @if rows.is_empty() {
                p { (l.t("chart-empty")) }
            } @else {
                svg viewBox={ "0 0 " (w) " " (h + 30) } role="img" aria-label=(title)
                    xmlns="http://www.w3.org/2000/svg" {
                    line x1=(pad) y1=(h) x2=(w) y2=(h) stroke="#888" {}
                    text x="0" y="12" font-size="11" { (max) }
                    @for (i, (label, segs)) in rows.iter().enumerate() {
                        @let x = pad + i * slot + 2;
                        @for (k, n, y, bh) in stack(segs, h, max) {
                            rect x=(x) y=(y) width=(bar) height=(bh)
                                fill=(PALETTE.get(k % PALETTE.len()).copied().unwrap_or("#888")) {
                                title { (label) ": " (legend.get(k).map_or("", String::as_str)) " — " (n) }
                            }
                        }
                        @if rows.len() <= 12 || i % (rows.len() / 12 + 1) == 0 {
                            text x=(x) y=(h + 14) font-size="10" { (label) }
                        }
                    }
                }
                ul class="legend" {
                    @for (k, name) in legend.iter().enumerate() {
                        @if rows.iter().any(|(_, segs)| segs.iter().any(|(s, _)| *s == k)) {
                            li {
                                svg width="10" height="10" aria-hidden="true" {
                                    rect width="10" height="10"
                                        fill=(PALETTE.get(k % PALETTE.len()).copied().unwrap_or("#888")) {}
                                }
                                " " (name)
                            }
                        }
                    }
                }
                details {
                    summary { (l.t("chart-numbers")) }
                    table {
                        thead { tr { th { (l.t("month")) } @for name in legend { th { (name) } } } }
                        tbody {
                            @for (label, segs) in rows {
                                tr {
                                    th scope="row" { (label) }
                                    @for k in 0..legend.len() {
                                        td { (segs.iter().find(|(s, _)| *s == k).map_or(0, |(_, n)| *n)) }
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

/// Per month, each count under its series' position in `keys` (the legend's order).
fn series<K: AsRef<str>>(
    per_month: &std::collections::BTreeMap<String, std::collections::BTreeMap<K, usize>>,
    keys: &[&str],
) -> Vec<(String, Vec<(usize, usize)>)> {
    per_month
        .iter()
        .map(|(m, per)| {
            let segs = per
                .iter()
                .filter_map(|(k, n)| Some((keys.iter().position(|x| *x == k.as_ref())?, *n)))
                .collect();
            (m.clone(), segs)
        })
        .collect()
}

fn charts(l: Lang, st: &Stats) -> Markup {
    let cat_legend: Vec<String> = CATEGORY_WORDS
        .iter()
        .map(|w| l.word("category", w))
        .collect();
    let by_cat = series(&st.requests_by_month, &CATEGORY_WORDS);
    let parties = ["kz", "tm"];
    let dir_legend: Vec<String> = parties
        .iter()
        .map(|p| l.ta("chart-from", &[("party", text(l.word("party", p)))]))
        .collect();
    let by_dir = series(&st.requests_by_direction, &parties);
    let dl_legend = vec![l.t("dl-met"), l.t("dl-late")];
    let dl: Vec<(String, Vec<(usize, usize)>)> = st
        .deadline_compliance
        .iter()
        .map(|(m, (ok, late))| (m.clone(), vec![(0, *ok), (1, *late)]))
        .collect();
    let grounds: Vec<(String, usize)> = st
        .refusals
        .iter()
        .map(|(g, n)| (l.word("ground", g), *n))
        .collect();
    let gmax = grounds.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    html! {
        section class="charts" aria-labelledby="charts-h" {
            h2 id="charts-h" { (l.t("charts")) }
            (bars(l, "chart-category", &l.t("chart-by-category"), &by_cat, &cat_legend))
            (bars(l, "chart-direction", &l.t("chart-by-direction"), &by_dir, &dir_legend))
            (bars(l, "chart-deadlines", &l.t("chart-deadlines"), &dl, &dl_legend))
            figure class="chart" id="chart-refusals" {
                figcaption { (l.t("chart-refusals")) }
                @if grounds.is_empty() { p { (l.t("chart-empty")) } }
                table class="hbars" {
                    tbody {
                        @for (g, n) in &grounds {
                            tr {
                                th scope="row" { (g) }
                                td { meter min="0" max=(gmax) value=(n) {} " " (n) }
                            }
                        }
                    }
                }
            }
            figure class="chart" id="chart-flows" {
                figcaption { (l.t("chart-flows")) }
                table {
                    thead { tr { th { (l.t("direction")) } th { (l.t("a7-items")) } th { (l.t("a7-uses")) } th { (l.t("a7-onward")) } } }
                    tbody {
                        @for (dir, (items, uses, onward)) in &st.article7_flows {
                            @let (from, to) = dir.split_once('-').unwrap_or((dir.as_str(), "?"));
                            tr {
                                th scope="row" { (l.word("party", from)) " → " (l.word("party", to)) }
                                td { (items) } td { (uses) } td { (onward) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The overview page.
pub fn overview(
    c: &Console,
    ctx: &Ctx,
    now: &At,
    ov: &Overview,
    st: &Stats,
    changes: Option<&(u64, Vec<read::CaseChange>)>,
) -> Markup {
    let l = ctx.lang;
    let total: usize = ov.cases_by_status.values().sum();
    let body = html! {
        section class="verdict" aria-labelledby="verdict-h" {
            h2 id="verdict-h" { (l.t("verdict")) }
            @match &c.verdict {
                Some(v) => {
                    p class="ok" id="verdict" {
                        strong { (l.t("verified")) } " "
                        (l.ta("verdict-text", &[
                            ("kind", text(if v.kind == "bundle" { l.t("kind-of-bundle") } else { l.t("kind-of-ledger") })),
                            ("records", num(v.records as f64)),
                            ("signatures", num(v.signatures as f64)),
                        ]))
                    }
                    dl {
                        dt { (l.t("checkpoint")) } dd { (v.checkpoint_size) " · " (hash_cell(&v.checkpoint_root)) }
                        dt { (l.t("cosigned-by")) }
                        dd {
                            @if v.cosigned_by.is_empty() { (l.t("none")) }
                            @for (n, p) in &v.cosigned_by { span class="signer" { (n) " (" (party(l, *p)) ")" } " " }
                        }
                        dt { (l.t("node-key")) }
                        dd { (if v.node_key_pinned { l.t("node-key-pinned") } else { l.t("node-key-stated") }) }
                        dt { (l.t("uncovered")) } dd { (v.uncovered) }
                        dt { (l.t("verified-at")) } dd { (time(Timestamp(v.verified_at))) }
                    }
                }
                None => p id="verdict" { (l.t("live-node")) }
            }
        }
        section aria-labelledby="ledger-h" {
            h2 id="ledger-h" { (l.t("ledger")) }
            dl class="facts" {
                dt { (l.t("ledger-id")) } dd { code id="ledger-id" { (ov.ledger_id.map_or_else(|| "-".to_owned(), |i| i.to_string())) } }
                dt { (l.t("records")) } dd id="size" { (ov.size) }
                dt { (l.t("agreement")) } dd { (if ov.in_force { l.t("in-force") } else { l.t("not-in-force") }) }
                dt { (l.t("authorities")) } dd { a href="/registry" { (ov.authorities) } }
                dt { (l.t("latest-checkpoint")) }
                dd {
                    @match &ov.latest_checkpoint {
                        Some((size, note)) => {
                            (size) " · " (signers(note).join(", "))
                        }
                        None => (l.t("none")),
                    }
                }
            }
        }
        section aria-labelledby="cases-h" {
            h2 id="cases-h" { (l.t("nav-cases")) " (" (total) ")" }
            table class="counts" {
                tbody {
                    @for w in STATUS_WORDS {
                        tr {
                            th scope="row" { (status(l, w)) }
                            td { a href={ "/cases?status=" (w) } { (ov.cases_by_status.get(w).copied().unwrap_or(0)) } }
                        }
                    }
                    tr { th scope="row" { (l.t("filter-overdue")) } td { a href="/cases?overdue=true" { (ov.overdue_cases) } } }
                    tr { th scope="row" { (l.t("filter-disputed")) } td { a href="/cases?disputed=true" { (ov.disputed_cases) } } }
                }
            }
        }
        section aria-labelledby="a7-h" {
            h2 id="a7-h" { (l.t("nav-article7")) }
            p id="a7-summary" class=(if ov.article7.breaches == 0 { "ok" } else { "bad" }) {
                (l.ta("a7-summary", &[
                    ("items", num(ov.article7.items as f64)),
                    ("uses", num(ov.article7.uses as f64)),
                    ("onward", num(ov.article7.onward as f64)),
                    ("breaches", num(ov.article7.breaches as f64)),
                ]))
            }
        }
        @if let Some((latest, ch)) = changes {
            section aria-labelledby="changes-h" {
                h2 id="changes-h" { (l.ta("changes-since", &[("count", num(ch.len() as f64)), ("latest", num(*latest as f64))])) }
                table id="changes" {
                    thead { tr { th { (l.t("case")) } th { (l.t("status-then")) } th { (l.t("status-now")) } th { (l.t("new-events")) } } }
                    tbody {
                        @for x in ch.iter().take(500) {
                            tr {
                                td { a href={ "/cases/" (x.id.to_hex()) } { code { (short(&x.id.to_hex())) } } }
                                td { @match x.status_then { Some(s) => (status(l, s)), None => (l.t("not-yet")) } }
                                td { (status(l, x.status_now)) }
                                td { (x.new_events) }
                            }
                        }
                    }
                }
            }
        }
        (charts(l, st))
    };
    layout(c, ctx, now, &l.t("nav-overview"), "/", false, body)
}

/// The names that signed a checkpoint note (the node's and the witnesses').
fn signers(note: &str) -> Vec<String> {
    coop_core::checkpoint::Note::parse(note)
        .map(|n| n.signatures.into_iter().map(|s| s.name).collect())
        .unwrap_or_default()
}

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
    let link = |path: &str, offset: Option<usize>| {
        let mut parts: Vec<String> = ctx
            .pairs
            .iter()
            .filter(|(k, _)| k != "offset" && k != "lang")
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        if let Some(o) = offset {
            parts.push(format!("offset={o}"));
        }
        if parts.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", parts.join("&"))
        }
    };
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
                        option value=(r.id) selected[q.authority.as_ref() == Some(&r.id)] { (r.id) " — " (r.name) }
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
        table id="cases" {
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

/// A CSV export: the stamp first, as `#` comment lines, then the header and rows.
struct Csv(String);

impl Csv {
    fn new(c: &Console, l: Lang, now: &At) -> Csv {
        let mut s = String::new();
        for line in stamp_text(c, l, now).lines() {
            s.push_str("# ");
            s.push_str(line);
            s.push('\n');
        }
        Csv(s)
    }

    fn row(&mut self, cells: &[&str]) {
        let quoted: Vec<String> = cells
            .iter()
            .map(|c| {
                // RFC 4180; a leading = + - @ is neutralised so that a spreadsheet does
                // not run a cell as a formula.
                let c = if c.starts_with(['=', '+', '-', '@']) {
                    format!("'{c}")
                } else {
                    (*c).to_owned()
                };
                if c.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c
                }
            })
            .collect();
        self.0.push_str(&quoted.join(","));
        self.0.push_str("\r\n");
    }

    fn finish(self) -> String {
        self.0
    }
}

fn dl_state(l: Lang, s: DeadlineState) -> Markup {
    let w = match s {
        DeadlineState::Met => "met",
        DeadlineState::Late => "late",
        DeadlineState::Overdue => "overdue",
        DeadlineState::Pending => "pending",
    };
    html! { span class={ "dl dl-" (w) } { (l.word("dl", w)) } }
}

/// A case page, or its print-ready dossier.
pub fn case(
    c: &Console,
    ctx: &Ctx,
    now: &At,
    v: &CaseView,
    latest: Option<&coop_treaty::Case>,
    dossier: bool,
) -> Markup {
    let l = ctx.lang;
    let k = &v.case;
    let hex = k.id.to_hex();
    let aq = ctx.as_of_query();
    let items: Vec<&coop_treaty::Item> = now
        .state
        .register
        .values()
        .map(|i| &**i)
        .filter(|i| i.case == k.id)
        .collect();
    let body = html! {
        @if let Some(latest) = latest {
            p class="banner" id="since" {
                (l.ta("case-since", &[
                    ("events", num((latest.version - k.version) as f64)),
                    ("status", text(l.word("status", latest.status.word()))),
                ]))
                " " a href={ "/cases/" (hex) } { (l.t("asof-latest")) }
            }
        }
        @if !dossier {
            p class="actions" {
                a href={ "/cases/" (hex) "/dossier" @if !aq.is_empty() { "?" (aq) } } id="dossier" { (l.t("print-dossier")) }
                " · "
                a href={ "/cases/" (hex) "/timeline.csv" @if !aq.is_empty() { "?" (aq) } } download { (l.t("download-csv")) }
            }
        }
        dl class="facts" id="case-facts" {
            dt { (l.t("case")) } dd { code id="case-id" { (hex) } }
            dt { (l.t("status")) } dd id="case-status" { (status(l, k.status.word())) " (" (l.ta("version", &[("n", num(k.version as f64))])) ")" }
            dt { (l.t("category")) } dd { (l.word("category", coop_treaty::category_word(&k.category))) }
            dt { (l.t("requester")) } dd { (k.requester) " (" (party(l, k.requester_party)) ")" }
            dt { (l.t("requested")) } dd { (k.requested) " (" (party(l, k.requested_party())) ")" }
            dt { (l.t("opened")) } dd { (time(k.opened_at)) }
            dt { (l.t("form")) } dd { (form(l, &k.form)) }
            @if k.urgent { dt { (l.t("urgent")) } dd { (l.t("yes")) } }
            @if k.oral { dt { (l.t("oral")) } dd { (if k.confirmed { l.t("oral-confirmed") } else { l.t("oral-unconfirmed") }) } }
            dt { (l.t("purposes")) } dd { @for p in &k.purposes { span class="purpose" { (p.0) } " " } }
            @if let Some(f) = &k.final_answer {
                dt { (l.t("final-answer")) } dd { a href={ "#r" (f.seq) } { "#" (f.seq) } " " (time(f.at)) }
            }
        }
        section aria-labelledby="deadlines-h" {
            h2 id="deadlines-h" { (l.t("deadlines")) }
            @if v.deadlines.is_empty() { p { (l.t("none")) } } @else {
                table id="deadlines" {
                    thead { tr { th { (l.t("deadline")) } th { (l.t("opened-by")) } th { (l.t("due")) } th { (l.t("met-at")) } th { (l.t("standing")) } } }
                    tbody {
                        @for d in &v.deadlines {
                            tr {
                                td { (l.word("deadline", &format!("{:?}", d.kind))) }
                                td { a href={ "#r" (d.opened_seq) } { "#" (d.opened_seq) } }
                                td { (time(d.due)) }
                                td { @if let Some(m) = d.met_at { (time(m)) } @else { "—" } }
                                td { (dl_state(l, d.state)) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="timeline-h" {
            h2 id="timeline-h" { (l.t("timeline")) }
            table id="timeline" {
                thead { tr { th { (l.t("record")) } th { (l.t("time")) } th { (l.t("event")) } th { (l.t("signer")) } th { (l.t("event-hash")) } @if !dossier { th { (l.t("asof-label")) } } } }
                tbody {
                    @for t in &k.timeline {
                        tr id={ "r" (t.evidence.seq) } {
                            td { "#" (t.evidence.seq) }
                            td { (time(t.evidence.at)) }
                            td { (l.word("kind", t.kind)) }
                            td { (t.evidence.signer) }
                            td { (hash_cell(&t.evidence.event_hash)) }
                            @if !dossier {
                                td { a class="asof-link" href={ "/cases/" (hex) "?as_of=" (t.evidence.seq) } { (l.t("asof-here")) } }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="docs-h" {
            h2 id="docs-h" { (l.t("documents")) }
            @if k.documents.is_empty() { p { (l.t("none")) } } @else {
                table id="documents" {
                    thead { tr { th { (l.t("digest")) } th { (l.t("role")) } th { (l.t("language")) } th { (l.t("media-type")) } th { (l.t("size")) } } }
                    tbody {
                        @for d in &k.documents {
                            tr {
                                td { a href={ "/documents?digest=" (d.digest.to_hex()) } { (hash_cell(&d.digest)) } }
                                td { (doc_role(l, &d.role)) }
                                td { (l.word("language", &format!("{:?}", d.language))) }
                                td { (d.media_type) }
                                td { (d.size) }
                            }
                        }
                    }
                }
            }
        }
        @if !k.disputes.is_empty() {
            section aria-labelledby="disputes-h" {
                h2 id="disputes-h" { (l.t("disputes")) }
                table id="disputes" {
                    thead { tr { th { "№" } th { (l.t("dispute-raised")) } th { (l.t("consultations")) } th { (l.t("dispute-settled")) } } }
                    tbody {
                        @for (n, d) in &k.disputes {
                            tr {
                                td { (n) }
                                td { a href={ "#r" (d.raised.seq) } { "#" (d.raised.seq) } " " (d.raised.signer) }
                                td { @for e in &d.consultations { a href={ "#r" (e.seq) } { "#" (e.seq) } " " } }
                                td { @match &d.settled { Some(e) => { a href={ "#r" (e.seq) } { "#" (e.seq) } }, None => (l.t("not-yet")) } }
                            }
                        }
                    }
                }
            }
        }
        @if !k.costs.is_empty() || k.cost_arrangement.is_some() {
            section aria-labelledby="costs-h" {
                h2 id="costs-h" { (l.t("costs")) }
                p { (if k.default_costs() { l.t("costs-default") } else { l.t("costs-arranged") }) }
                ul { @for cost in &k.costs { li { (party(l, cost.party)) ": " (cost.amount_minor / 100) "." (format!("{:02}", cost.amount_minor % 100)) " " (cost.currency) " " a href={ "#r" (cost.seq) } { "#" (cost.seq) } } } }
            }
        }
        @if !items.is_empty() {
            section aria-labelledby="items-h" {
                h2 id="items-h" { (l.t("nav-article7")) }
                (items_table(l, now, &items))
            }
        }
    };
    let title = l.ta("case-title", &[("id", text(short(&hex).to_owned()))]);
    layout(c, ctx, now, &title, "/cases", dossier, body)
}

/// An Art. 2 form of cooperation in words.
fn form(l: Lang, f: &coop_treaty::Form) -> String {
    match f {
        coop_treaty::Form::ExchangeInformation(kind) => format!(
            "{}: {}",
            l.word("form", "ExchangeInformation"),
            l.word("info", &format!("{kind:?}"))
        ),
        other => l.word("form", &format!("{other:?}")),
    }
}

fn doc_role(l: Lang, r: &coop_treaty::DocRole) -> String {
    match r {
        coop_treaty::DocRole::Original => l.t("doc-original"),
        coop_treaty::DocRole::TranslationOf(h) => l.ta(
            "doc-translation",
            &[("of", text(short(&h.to_hex()).to_owned()))],
        ),
        coop_treaty::DocRole::CertifiedCopy => l.t("doc-certified-copy"),
        coop_treaty::DocRole::LegalProvisionText => l.t("doc-legal-provision"),
    }
}

/// Information items (Art. 7) with their evidence chains.
fn items_table(l: Lang, now: &At, items: &[&coop_treaty::Item]) -> Markup {
    let report = ComplianceReport::build(&now.state);
    html! {
        table class="items" {
            thead { tr { th { (l.t("a7-item")) } th { (l.t("provider")) } th { (l.t("recipient")) } th { (l.t("a7-transfer")) } th { (l.t("a7-uses")) } th { (l.t("a7-onward")) } th { (l.t("a7-verdict")) } } }
            tbody {
                @for i in items {
                    @let r = report.items.iter().find(|r| r.item == i.id && r.case == i.case);
                    tr {
                        td { code { (hex::encode(i.id.0)) } @if i.restricted { " " span class="restricted" { (l.t("restricted")) } } }
                        td { (i.provider) " (" (party(l, i.provider_party)) ")" }
                        td { (i.recipient) }
                        td { (seq_link(&i.case, i.transfer.seq)) " " (l.word("kind", i.carried_by)) }
                        td {
                            @for u in &i.uses {
                                div { (seq_link(&i.case, u.evidence.seq)) " «" (u.purpose.0) "» "
                                    @match &u.basis {
                                        coop_treaty::UseBasis::Permitted => (l.t("a7-permitted")),
                                        coop_treaty::UseBasis::Consent(e) => { (l.t("a7-consent")) " " (seq_link(&i.case, e.seq)) },
                                    }
                                }
                            }
                        }
                        td {
                            @for o in &i.onward {
                                div { (seq_link(&i.case, o.evidence.seq)) " → " (o.third_party) "; " (l.t("a7-consent")) " " (seq_link(&i.case, o.consent.seq)) }
                            }
                        }
                        td {
                            @match r.and_then(|r| r.breach.as_deref()) {
                                Some((link, why)) => span class="bad breach" { (l.t("a7-breach")) " " (seq_link(&i.case, link.seq)) ": " (why) },
                                None => span class="ok" { (l.t("a7-held")) },
                            }
                        }
                    }
                }
            }
        }
    }
}

fn seq_link(case: &coop_core::CaseId, seq: u64) -> Markup {
    html! { a href={ "/cases/" (case.to_hex()) "#r" (seq) } { "#" (seq) } }
}

/// CSV of a case's timeline.
pub fn timeline_csv(c: &Console, ctx: &Ctx, now: &At, v: &CaseView) -> String {
    let mut w = Csv::new(c, ctx.lang, now);
    w.row(&["seq", "time", "event", "signer", "key", "event_hash"]);
    for t in &v.case.timeline {
        w.row(&[
            &t.evidence.seq.to_string(),
            &time(t.evidence.at),
            t.kind,
            t.evidence.signer.as_str(),
            &t.evidence.key.to_hex(),
            &t.evidence.event_hash.to_hex(),
        ]);
    }
    w.finish()
}

/// The Article 7 page (paginated, optionally only breaches), or its print-ready report.
pub fn article7(c: &Console, ctx: &Ctx, now: &At, r: &ComplianceReport, print: bool) -> Markup {
    let l = ctx.lang;
    let only_breaches = ctx.get("breaches") == Some("true");
    let all: Vec<&coop_treaty::Item> = now
        .state
        .register
        .values()
        .map(|i| &**i)
        .filter(|i| {
            !only_breaches
                || r.items
                    .iter()
                    .any(|x| x.item == i.id && x.case == i.case && x.breach.is_some())
        })
        .collect();
    let per = 100;
    let offset: usize = ctx
        .get("offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(0)
        .min(all.len());
    let shown: Vec<&coop_treaty::Item> = if print {
        all.clone()
    } else {
        all.iter().skip(offset).take(per).copied().collect()
    };
    let (items, uses, onward, breaches) = r.counts();
    let body = html! {
        p id="a7-summary" class=(if breaches == 0 { "ok" } else { "bad" }) {
            (l.ta("a7-summary", &[("items", num(items as f64)), ("uses", num(uses as f64)), ("onward", num(onward as f64)), ("breaches", num(breaches as f64))]))
        }
        p class="explain" { (l.t("a7-explain")) }
        @if !print {
            p class="actions" {
                a href="/article7/print" id="a7-print" { (l.t("print-report")) } " · "
                a href="/article7.csv" download { (l.t("download-csv")) } " · "
                @if only_breaches { a href="/article7" { (l.t("a7-all")) } } @else { a href="/article7?breaches=true" id="a7-breaches" { (l.t("a7-only-breaches")) } }
            }
        }
        (items_table(l, now, &shown))
        @if !print {
            nav class="pager" aria-label=(l.t("pages")) {
                @if offset > 0 { a rel="prev" href={ "/article7?offset=" (offset.saturating_sub(per)) @if only_breaches { "&breaches=true" } } { "← " (l.t("previous")) } }
                " "
                @if offset + per < all.len() { a rel="next" href={ "/article7?offset=" (offset + per) @if only_breaches { "&breaches=true" } } { (l.t("next")) " →" } }
            }
        }
    };
    layout(c, ctx, now, &l.t("a7-title"), "/article7", print, body)
}

/// CSV of the Article 7 report: one row per use or onward transfer (an item with
/// neither has one row).
pub fn article7_csv(c: &Console, ctx: &Ctx, now: &At, r: &ComplianceReport) -> String {
    let mut w = Csv::new(c, ctx.lang, now);
    w.row(&[
        "item",
        "case",
        "provider",
        "provider_party",
        "recipient",
        "restricted",
        "transfer_seq",
        "what",
        "purpose_or_third_party",
        "seq",
        "consent_seq",
        "breach",
    ]);
    for i in &r.items {
        let base = [
            hex::encode(i.item.0),
            i.case.to_hex(),
            i.provider.0.to_string(),
            party_word(i.provider.1).to_owned(),
            i.recipient.to_string(),
            (if i.restricted { "yes" } else { "no" }).to_owned(),
            i.transfer.seq.to_string(),
        ];
        let breach = i
            .breach
            .as_deref()
            .map(|(l, why)| format!("#{}: {why}", l.seq))
            .unwrap_or_default();
        let mut rows: Vec<[String; 5]> = Vec::new();
        for (p, u, consent) in &i.uses {
            rows.push([
                "use".into(),
                p.0.clone(),
                u.seq.to_string(),
                consent
                    .as_ref()
                    .map(|c| c.seq.to_string())
                    .unwrap_or_default(),
                breach.clone(),
            ]);
        }
        for (third, t, consent) in &i.onward {
            rows.push([
                "onward".into(),
                third.clone(),
                t.seq.to_string(),
                consent.seq.to_string(),
                breach.clone(),
            ]);
        }
        if rows.is_empty() {
            rows.push([
                "transfer".into(),
                String::new(),
                String::new(),
                String::new(),
                breach.clone(),
            ]);
        }
        for extra in rows {
            let cells: Vec<&str> = base
                .iter()
                .chain(extra.iter())
                .map(String::as_str)
                .collect();
            w.row(&cells);
        }
    }
    w.finish()
}

/// The registry page.
pub fn registry(c: &Console, ctx: &Ctx, now: &At, rows: &[AuthorityRow]) -> Markup {
    let l = ctx.lang;
    let body = html! {
        p class="actions" { a href="/registry.csv" download { (l.t("download-csv")) } }
        table id="registry" {
            thead { tr { th { (l.t("authority")) } th { (l.t("name")) } th { (l.t("party")) } th { (l.t("role")) } th { (l.t("keys")) } th { (l.t("retired")) } th { (l.t("nav-cases")) } } }
            tbody {
                @for r in rows {
                    tr id={ "a-" (r.id) } {
                        td { code { (r.id) } }
                        td { (r.name) }
                        td { (party(l, r.party)) }
                        td { (role(l, r.role)) }
                        td {
                            @for k in &r.keys {
                                div { code title=(k.key.to_hex()) { (short(&k.key.to_hex())) "…" } " "
                                    (l.ta("key-valid", &[("from", num(k.from_seq as f64)), ("until", text(k.until_seq.map_or_else(|| "…".to_owned(), |u| format!("#{u}"))))]))
                                }
                            }
                        }
                        td { @if let Some(s) = r.retired_at { "#" (s) } }
                        td { @if r.cases > 0 { a href={ "/cases?authority=" (r.id) } { (r.cases) } } @else { "0" } }
                    }
                }
            }
        }
    };
    layout(c, ctx, now, &l.t("nav-registry"), "/registry", false, body)
}

/// CSV of the registry: one row per key.
pub fn registry_csv(c: &Console, ctx: &Ctx, now: &At, rows: &[AuthorityRow]) -> String {
    let mut w = Csv::new(c, ctx.lang, now);
    w.row(&[
        "authority",
        "name",
        "party",
        "role",
        "key",
        "from_seq",
        "until_seq",
        "retired_at",
        "cases",
    ]);
    for r in rows {
        for k in &r.keys {
            w.row(&[
                r.id.as_str(),
                &r.name,
                party_word(r.party),
                &format!("{:?}", r.role).to_lowercase(),
                &k.key.to_hex(),
                &k.from_seq.to_string(),
                &k.until_seq.map(|u| u.to_string()).unwrap_or_default(),
                &r.retired_at.map(|u| u.to_string()).unwrap_or_default(),
                &r.cases.to_string(),
            ]);
        }
    }
    w.finish()
}

/// The checkpoints page.
pub fn checkpoints(c: &Console, ctx: &Ctx, now: &At, list: &[(u64, String)]) -> Markup {
    let l = ctx.lang;
    let body = html! {
        p class="explain" { (l.t("checkpoints-explain")) }
        table id="checkpoints" {
            thead { tr { th { (l.t("size")) } th { (l.t("root")) } th { (l.t("time")) } th { (l.t("signed-by")) } } }
            tbody {
                @for (size, note) in list.iter().rev() {
                    @let body = coop_core::checkpoint::Note::parse(note).ok()
                        .and_then(|n| coop_core::checkpoint::Checkpoint::parse_body(&n.text).ok());
                    tr {
                        td { (size) }
                        td { @if let Some(b) = &body { (hash_cell(&b.root)) } }
                        td { @if let Some(b) = &body { (time(b.time)) } }
                        td { (signers(note).join(", ")) }
                    }
                }
            }
        }
        details {
            summary { (l.t("checkpoint-latest-note")) }
            @if let Some((_, note)) = list.last() { pre { (note) } }
        }
    };
    layout(
        c,
        ctx,
        now,
        &l.t("nav-checkpoints"),
        "/checkpoints",
        false,
        body,
    )
}

/// "Check a document".
pub fn documents(
    c: &Console,
    ctx: &Ctx,
    now: &At,
    digest: Option<&Hash>,
    hits: Option<&[DocumentHit]>,
) -> Markup {
    let l = ctx.lang;
    let body = html! {
        p class="explain" { (l.t("documents-explain")) }
        form method="get" action="/documents" id="doc-form" {
            @if !ctx.as_of_text.is_empty() { input type="hidden" name="as_of" value=(ctx.as_of_text); }
            p {
                label for="doc-file" { (l.t("documents-file")) } " "
                input type="file" id="doc-file" data-digest-url="/documents/digest";
            }
            p id="drop" class="drop" tabindex="0" { (l.t("documents-drop")) }
            p {
                label for="digest" { (l.t("digest")) } " "
                input type="text" id="digest" name="digest" size="70" pattern="[0-9a-fA-F]{64}"
                    value=(digest.map(Hash::to_hex).unwrap_or_default());
                " " button type="submit" { (l.t("documents-check")) }
            }
        }
        @if let (Some(d), Some(hits)) = (digest, hits) {
            section aria-labelledby="hits-h" {
                h2 id="hits-h" { (l.ta("documents-hits", &[("count", num(hits.len() as f64)), ("digest", text(short(&d.to_hex()).to_owned()))])) }
                @if hits.is_empty() { p id="no-hits" { (l.t("documents-none")) } }
                @for h in hits {
                    div class="hit" {
                        h3 { (l.t("case")) " " (case_link(ctx, &h.case)) }
                        p { (doc_role(l, &h.document.role)) " · " (l.word("language", &format!("{:?}", h.document.language))) " · " (h.document.media_type) " · " (h.document.size) }
                        ul {
                            @for t in &h.cited_by {
                                li { (seq_link(&h.case, t.evidence.seq)) " " (l.word("kind", t.kind)) " — " (t.evidence.signer) ", " (time(t.evidence.at)) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(
        c,
        ctx,
        now,
        &l.t("nav-documents"),
        "/documents",
        false,
        body,
    )
}

/// The login page of a node's console.
pub fn login(ctx: &Ctx, challenge: &str, next: &str, error: Option<&str>) -> Markup {
    let l = ctx.lang;
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (l.t("login-title")) " — coopledger" }
                link rel="stylesheet" href="/static/console.css";
                script src="/static/console.js" defer {}
            }
            body {
                header class="top" {
                    div class="brand" { "coopledger" }
                    ul class="langs" aria-label=(l.t("languages")) {
                        @for to in Lang::ALL {
                            li {
                                a href={ "/login?lang=" (to.code()) "&next=" (enc(next)) } hreflang=(to.code()) lang=(to.code())
                                    aria-current=[(to == l).then_some("true")] { (to.name()) }
                            }
                        }
                    }
                }
                main id="main" {
                    h1 { (l.t("login-title")) }
                    p class="explain" { (l.t("login-explain")) }
                    @if let Some(e) = error { p class="error" role="alert" id="login-error" { (e) } }
                    form id="login-form" method="post" action="/login" data-challenge=(challenge)
                        data-msg-nocrypto=(l.t("login-no-webcrypto")) data-msg-encrypted=(l.t("login-encrypted"))
                        data-msg-signing=(l.t("login-signing")) {
                        p {
                            label for="login-id" { (l.t("login-id")) } " "
                            input id="login-id" name="id" type="text" required autocomplete="username" placeholder="KZ-AUDIT";
                        }
                        p {
                            label for="key-file" { (l.t("login-key")) } " "
                            // No name: the file is read by the page and is never sent.
                            input id="key-file" type="file" accept=".pem,.key" required;
                        }
                        input type="hidden" name="challenge" value=(challenge);
                        input type="hidden" name="signature" id="login-signature" value="";
                        input type="hidden" name="next" value=(next);
                        button type="submit" id="login-submit" { (l.t("login-submit")) }
                    }
                    p id="login-status" role="status" aria-live="polite" {}
                }
                footer { p { (l.t("login-footnote")) } }
            }
        }
    }
}
