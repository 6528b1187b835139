//! The Article 7 register and compliance report, and its CSV.

use super::*;

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
                p.0.to_string(),
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
