//! The overview: the ledger, its agreement, its latest checkpoint, the charts, and what changed since an earlier point.

use super::*;

/// The overview page.
pub fn overview(
    c: &Console,
    ctx: &Ctx,
    now: &At,
    ov: &Overview,
    st: &Stats,
    changes: Option<&(u64, Vec<read::CaseChange>)>,
    witnessing: Option<&coop_ledger::Witnessing>,
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
                        dt { (l.t("witnessed")) }
                        dd id="witnessed" class=[v.witnessed_size.is_none().then_some("bad")] {
                            @match v.witnessed_size {
                                Some(n) => { (l.ta("stamp-witnessed", &[("size", num(n as f64))])) }
                                None => { (l.t("stamp-node-word")) }
                            }
                        }
                        dt { (l.t("verified-at")) } dd { (time(Timestamp(v.verified_at))) }
                    }
                }
                None => {
                    p id="verdict" { (l.t("live-node")) }
                    @if let Some(w) = witnessing {
                        dl id="witnessing" {
                            dt { (l.t("witnessed")) }
                            dd id="witnessed" class=[w.both.is_none().then_some("bad")] {
                                @match w.both {
                                    Some(n) => { (l.ta("stamp-witnessed", &[("size", num(n as f64))])) }
                                    None => { (l.t("stamp-node-word")) }
                                }
                                @if w.both.is_some() && w.unwitnessed > 0 {
                                    " " (l.ta("witness-unwitnessed", &[("n", num(w.unwitnessed as f64))]))
                                }
                            }
                            @for (p, size) in [(coop_treaty::Party::Kz, w.kz), (coop_treaty::Party::Tm, w.tm)] {
                                dt { (l.ta("witness-of", &[("party", text(party(l, p)))])) }
                                dd { @match size { Some(s) => { (l.ta("witness-cosigned", &[("size", num(s as f64))])) } None => { (l.t("witness-none")) } } }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="ledger-h" {
            h2 id="ledger-h" { (l.t("ledger")) }
            dl class="facts" {
                dt { (l.t("ledger-id")) } dd { code id="ledger-id" { (ov.ledger_id.map_or_else(|| "-".to_owned(), |i| i.to_string())) } }
                // A bundle holds some records of a longer ledger: said so, with the
                // checkpoint that proves them (it said "Records 2423", "Latest checkpoint:
                // none" under a verdict naming checkpoint 7347).
                @let bundle = c.verdict.as_ref().filter(|v| v.kind == "bundle");
                dt { (l.t("records")) }
                dd id="size" {
                    @match bundle {
                        Some(v) => { (l.ta("bundle-records", &[("held", num(v.records as f64)), ("covered", num(v.checkpoint_size as f64))])) }
                        None => { (ov.size) }
                    }
                }
                dt { (l.t("agreement")) } dd { (if ov.in_force { l.t("in-force") } else { l.t("not-in-force") }) }
                dt { (l.t("authorities")) } dd { a href="/registry" { (ov.authorities) } }
                dt { (l.t("latest-checkpoint")) }
                dd {
                    @match (&ov.latest_checkpoint, bundle) {
                        (Some((size, note)), _) => {
                            (size) " · " (signers(note).join(", "))
                        }
                        (None, Some(v)) => {
                            (v.checkpoint_size) " · " (v.cosigned_by.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "))
                        }
                        (None, None) => (l.t("none")),
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
        (charts::charts(l, st))
    };
    layout(c, ctx, now, &l.t("nav-overview"), "/", false, body)
}
