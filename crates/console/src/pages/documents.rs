//! "Check a document": where a digest appears in the cases the reader may see.

use super::*;

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
        script type="module" src="/static/digest.js" {}
        p class="explain" { (l.t("documents-explain")) }
        form method="get" action="/documents" id="doc-form" data-msg-hashing=(l.t("documents-hashing")) {
            @if !ctx.as_of_text.is_empty() { input type="hidden" name="as_of" value=(ctx.as_of_text); }
            p {
                label for="doc-file" { (l.t("documents-file")) } " "
                // No name: the file is hashed in the page (static/digest.js) and never sent.
                input type="file" id="doc-file";
            }
            p id="doc-status" role="status" aria-live="polite" {}
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
                        p { (case::doc_role(l, &h.document.role)) " · " (l.word("language", &format!("{:?}", h.document.language))) " · " (super::visible(&h.document.media_type)) " · " (h.document.size) }
                        ul {
                            @for t in &h.cited_by {
                                li { (seq_link(&h.case, t.evidence.seq)) " " (l.word("kind", t.kind)) " — " (t.evidence.signer()) ", " (time(t.evidence.at)) }
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
