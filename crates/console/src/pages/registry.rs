//! The registry of authorities and keys, its CSV, and the checkpoints.

use super::*;

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
                        td { (super::visible(&r.name)) }
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
        // The node's key name (85 characters) is said once, not on every row.
        @if let Some(id) = c.source.ledger_id() {
            p id="checkpoints-origin" { (l.ta("checkpoints-origin", &[("origin", text(format!("coopledger/{id}")))])) }
        }
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
                        td { (signers(note).into_iter().map(|s| if s.starts_with("coopledger/") { l.t("signer-node") } else { s }).collect::<Vec<_>>().join(", ")) }
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
