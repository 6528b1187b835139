//! The sign-in page: the challenge the browser signs with the person's key.

use super::*;

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
                        data-msg-nocrypto=(l.t("login-no-webcrypto")) data-msg-passphrase=(l.t("login-passphrase-needed"))
                        data-msg-opening=(l.t("login-opening")) data-msg-wrong-passphrase=(l.t("login-wrong-passphrase"))
                        data-msg-scrypt=(l.t("login-scrypt")) data-msg-unsupported=(l.t("login-unsupported"))
                        data-msg-signing=(l.t("login-signing")) {
                        p {
                            label for="login-id" { (l.t("login-id")) } " "
                            input id="login-id" name="id" type="text" required autocomplete="username" placeholder="KZ-AUDIT";
                        }
                        (key_fields(l))
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

/// The person's key file and its passphrase, as the sign-in and the signing of an act
/// ask for them. Neither field has a name: the page reads them, and sends neither.
pub(super) fn key_fields(l: Lang) -> Markup {
    html! {
        p {
            label for="key-file" { (l.t("login-key")) } " "
            input id="key-file" type="file" accept=".pem,.key" required;
        }
        p {
            label for="key-pass" { (l.t("login-passphrase")) } " "
            input id="key-pass" type="password" autocomplete="current-password" aria-describedby="key-pass-hint";
            " " span id="key-pass-hint" class="muted" { (l.t("login-passphrase-hint")) }
        }
    }
}
