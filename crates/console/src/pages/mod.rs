//! The console's pages (maud: HTML checked at compile time and escaped by default) and
//! CSV exports, a file a page. Every page and export carries the verification stamp.
//! This file: what every page shares (the layout, the stamp, cells, CSV).

use crate::{Console, Ctx, enc};
use coop_core::{Hash, Timestamp};
use coop_i18n::{Lang, num, text};
use coop_ledger::AsOf;
use coop_ledger::read::{
    self, At, AuthorityRow, CasePage, CaseQuery, CaseView, DeadlineState, DocumentHit, Overview,
    Stats, party_word,
};
use coop_treaty::{CATEGORY_WORDS, ComplianceReport, STATUS_WORDS};
use maud::{DOCTYPE, Markup, html};

mod article7;
mod case;
mod cases;
mod charts;
mod compose;
mod desk;
mod documents;
mod letter;
mod login;
mod overview;
mod registry;
mod request;

pub use article7::{article7, article7_csv};
pub use case::{case, timeline_csv};
pub use cases::{cases, cases_csv};
pub use compose::{Judged, acts, compose};
pub use desk::{inbox, outbox};
pub use documents::documents;
pub use letter::letter;
pub use login::login;
pub use overview::overview;
pub use registry::{checkpoints, registry, registry_csv};
pub use request::request_form;

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

/// A case's status as the CLI and the bundle verifier say it: an execution in part is
/// "executed in part" (the one word `executed` covers both for filters).
fn case_status(l: Lang, s: coop_treaty::CaseStatus) -> Markup {
    match s {
        coop_treaty::CaseStatus::Executed(coop_treaty::Extent::Partial) => {
            html! { span class="status status-executed" { (l.t("status-executed-partial")) } }
        }
        other => status(l, other.word()),
    }
}

fn role(l: Lang, r: coop_treaty::Role) -> String {
    l.word("role", &format!("{r:?}"))
}

fn party(l: Lang, p: coop_treaty::Party) -> String {
    l.word("party", party_word(p))
}

/// `path` with the page's query but its offset (and language), at `offset`: the pager's
/// and the CSV link's target.
fn paged(ctx: &Ctx, path: &str, offset: Option<usize>) -> String {
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
            // Whose word it rests on (docs/adr/0026): both Parties' witnesses', as far as
            // they cosigned; the node's alone for the rest.
            let word = match (v.witnessed_size, v.on_node_word) {
                (Some(n), false) => l.ta("stamp-witnessed", &[("size", num(n as f64))]),
                (Some(n), true) => l.ta("stamp-witnessed-part", &[("size", num(n as f64))]),
                (None, _) => l.t("stamp-node-word"),
            };
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
            ) + " "
                + &word
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
        ("/inbox", l.t("nav-inbox")),
        ("/outbox", l.t("nav-outbox")),
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
                // The way on, from any error (the 403 page had only "Overview").
                nav class="top" aria-label=(l.t("nav-label")) id="error-nav" {
                    a href="/" { (l.t("nav-overview")) } " · "
                    a href="/inbox" { (l.t("nav-inbox")) } " · "
                    a href="/cases" { (l.t("nav-cases")) } " · "
                    a href="/documents" { (l.t("nav-documents")) } " · "
                    a href="/login" { (l.t("error-sign-in-again")) }
                }
                main id="main" {
                    h1 { (l.t("error-title")) " " (status) }
                    p class="error" role="alert" { (message) }
                    @if status == 403 { p id="error-why" { (l.t("error-forbidden-help")) } }
                }
            }
        }
    }
}

/// The names that signed a checkpoint note (the node's and the witnesses').
fn signers(note: &str) -> Vec<String> {
    coop_core::checkpoint::Note::parse(note)
        .map(|n| n.signatures.into_iter().map(|s| s.name).collect())
        .unwrap_or_default()
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
                // RFC 4180. Control and bidirectional-override characters are shown as
                // their code, so a cell reads as what it holds (and a leading TAB or CR,
                // on OWASP's list of formula starts, becomes text); a leading = + - @ is
                // neutralised so that a spreadsheet does not run a cell as a formula.
                let c = visible(c);
                let c = if c.starts_with(['=', '+', '-', '@']) {
                    format!("'{c}")
                } else {
                    c
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

/// `s` with every control character but a line break, and every character that
/// reorders text (bidirectional overrides and isolates, the marks), written as its code
/// (`<U+202E>`): what a reader sees is what the ledger holds.
pub(crate) fn visible(s: &str) -> String {
    // The rules' predicate (coop_treaty::is_hidden): what they refuse in new records is
    // what a page or CSV writes as its code in any old one.
    let hidden = |c: char| c != '\n' && coop_treaty::is_hidden(c);
    if !s.chars().any(hidden) {
        return s.to_owned();
    }
    s.chars()
        .map(|c| {
            if hidden(c) {
                format!("<U+{:04X}>", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
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
                                div { (seq_link(&i.case, u.evidence.seq)) " «" (visible(&u.purpose.0)) "» "
                                    @match &u.basis {
                                        coop_treaty::UseBasis::Permitted => (l.t("a7-permitted")),
                                        coop_treaty::UseBasis::Consent(e) => { (l.t("a7-consent")) " " (seq_link(&i.case, e.seq)) },
                                    }
                                }
                            }
                        }
                        td {
                            @for o in &i.onward {
                                div { (seq_link(&i.case, o.evidence.seq)) " → " (visible(&o.third_party)) "; " (l.t("a7-consent")) " " (seq_link(&i.case, o.consent.seq)) }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 26, finding 8: cells starting with TAB or CR were not neutralised (OWASP's
    /// list has them), and right-to-left overrides, NUL and BOM were written raw.
    #[test]
    fn csv_cells_cannot_run_as_formulas_or_hide_what_they_hold() {
        let mut csv = Csv(String::new());
        csv.row(&["\t=cmd()", "\r=1+1", "=SUM(A1)", "-2", "plain"]);
        csv.row(&["abc\u{202e}fdp.exe", "a\0b", "\u{feff}x", "two\nlines"]);
        let out = csv.finish();
        let mut lines = out.split("\r\n");
        let first = lines.next().unwrap_or_default();
        assert_eq!(first, "<U+0009>=cmd(),<U+000D>=1+1,'=SUM(A1),'-2,plain");
        let second: String = lines.collect::<Vec<_>>().join("\r\n");
        assert!(
            second.starts_with("abc<U+202E>fdp.exe,a<U+0000>b,<U+FEFF>x,\"two\nlines\""),
            "{second}"
        );
    }
}
