//! One case: its parties, deadlines, documents, Article 7 items and timeline; the printable dossier; the timeline's CSV.

use super::*;

fn dl_state(l: Lang, s: DeadlineState) -> Markup {
    let w = match s {
        DeadlineState::Met => "met",
        DeadlineState::Late => "late",
        DeadlineState::Overdue => "overdue",
        DeadlineState::Pending => "pending",
    };
    html! { span class={ "dl dl-" (w) } { (l.word("dl", w)) } }
}

/// The subject document of the dispute raised at record `seq`, read from that record.
fn dispute_subject(c: &Console, seq: u64) -> Option<coop_core::Hash> {
    let r = c.source.record(seq).ok()??;
    match coop_treaty::Payload::from_bytes(&r.event.body.payload).ok()? {
        coop_treaty::Payload::DisputeRaised { subject, .. } => Some(subject.digest),
        _ => None,
    }
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
    // On paper every digest and hash is whole: a printout is checked against a document
    // or a record by them (issue 30: the dossier cut them to 16 digits).
    let digest = |h: &coop_core::Hash| -> Markup {
        if dossier {
            html! { code class="whole" { (h.to_hex()) } }
        } else {
            hash_cell(h)
        }
    };
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
                a href={ "/cases/" (hex) "/letter" @if !aq.is_empty() { "?" (aq) } } id="letter" { (l.t("letter-title")) }
                " · "
                a href={ "/cases/" (hex) "/timeline.csv" @if !aq.is_empty() { "?" (aq) } } download { (l.t("download-csv")) }
            }
        }
        @if !dossier && ctx.as_of.is_none() && c.desk.is_some()
            && ctx.who.as_ref().is_some_and(|w| w.role == coop_treaty::Role::Competent && (w.id == k.requester || w.id == k.requested)) {
            details class="acts" id="case-acts" {
                summary { (l.t("case-acts")) }
                ul {
                    @for kind in crate::act::kinds().filter(|k| crate::act::in_case(k)) {
                        li { a class="act" href=(format!("/compose/{kind}?case={hex}")) { "→ " (l.word("compose", kind)) } }
                    }
                }
            }
        }
        @if dossier {
            p id="dossier-printed" { (l.ta("dossier-printed", &[("when", text(time(now.now)))])) }
        }
        dl class="facts" id="case-facts" {
            dt { (l.t("case")) } dd { code id="case-id" { (hex) } }
            dt { (l.t("status")) } dd id="case-status" { (case_status(l, k.status)) " (" (l.ta("version", &[("n", num(k.version as f64))])) ")" }
            dt { (l.t("category")) } dd { (l.word("category", coop_treaty::category_word(&k.category))) }
            dt { (l.t("requester")) } dd { (k.requester) " (" (party(l, k.requester_party)) ")" }
            dt { (l.t("requested")) } dd { (k.requested) " (" (party(l, k.requested_party())) ")" }
            dt { (l.t("opened")) } dd { (time(k.opened_at)) }
            dt { (l.t("form")) } dd { (form(l, &k.form)) }
            @if k.urgent { dt { (l.t("urgent")) } dd { (l.t("yes")) } }
            @if k.oral { dt { (l.t("oral")) } dd { (if k.confirmed { l.t("oral-confirmed") } else { l.t("oral-unconfirmed") }) } }
            dt { (l.t("purposes")) } dd { @for p in &k.purposes { span class="purpose" { (super::visible(&p.0)) } " " } }
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
                            td { (t.evidence.signer()) }
                            td { (digest(&t.evidence.event_hash)) }
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
                                td { a href={ "/documents?digest=" (d.digest.to_hex()) } { (digest(&d.digest)) } }
                                td { (doc_role(l, &d.role)) }
                                td { (l.word("language", &format!("{:?}", d.language))) }
                                td { (super::visible(&d.media_type)) }
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
                    thead { tr { th { "№" } th { (l.t("dispute-raised")) } th { (l.t("dispute-subject")) } th { (l.t("consultations")) } th { (l.t("dispute-settled")) } } }
                    tbody {
                        @for (n, d) in &k.disputes {
                            tr {
                                td { (n) }
                                td { a href={ "#r" (d.raised.seq) } { "#" (d.raised.seq) } " " (d.raised.signer()) }
                                // What the dispute is about: the document its record names.
                                td class="subject" {
                                    @if let Some(subject) = dispute_subject(c, d.raised.seq) {
                                        a href={ "/documents?digest=" (subject.to_hex()) } { (digest(&subject)) }
                                    }
                                }
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
                ul { @for cost in &k.costs { li { (party(l, cost.party)) ": " (cost.amount_minor / 100) "." (format!("{:02}", cost.amount_minor % 100)) " " (super::visible(&cost.currency)) " " a href={ "#r" (cost.seq) } { "#" (cost.seq) } } } }
            }
        }
        @if !items.is_empty() {
            section aria-labelledby="items-h" {
                h2 id="items-h" { (l.t("nav-article7")) }
                (items_table(l, now, &items))
            }
        }
    };
    // An Art. 8 annex is signed by both sides' representatives.
    let body = html! {
        (body)
        @if dossier {
            section id="dossier-signatures" aria-labelledby="sign-h" {
                h2 id="sign-h" { (l.t("dossier-signatures")) }
                @for p in [coop_treaty::Party::Kz, coop_treaty::Party::Tm] {
                    div class="signature" {
                        p { strong { (party(l, p)) } }
                        p { (l.t("dossier-sign-name")) " ______________________________" }
                        p { (l.t("dossier-sign-position")) " ______________________________" }
                        p { (l.t("dossier-sign-signature")) " ____________________  " (l.t("dossier-sign-date")) " ____________" }
                    }
                }
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

pub(super) fn doc_role(l: Lang, r: &coop_treaty::DocRole) -> String {
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

/// CSV of a case's timeline.
pub fn timeline_csv(c: &Console, ctx: &Ctx, now: &At, v: &CaseView) -> String {
    let mut w = Csv::new(c, ctx.lang, now);
    w.row(&["seq", "time", "event", "signer", "key", "event_hash"]);
    for t in &v.case.timeline {
        w.row(&[
            &t.evidence.seq.to_string(),
            &time(t.evidence.at),
            t.kind,
            t.evidence.signer().as_str(),
            &t.evidence.key().to_hex(),
            &t.evidence.event_hash.to_hex(),
        ]);
    }
    w.finish()
}
