//! Signing in with the person's own key (a signed challenge), and out.

use crate::*;

/// The login form's fields.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct LoginForm {
    id: String,
    challenge: String,
    /// Base64 (standard) of the 64-byte Ed25519 signature.
    signature: String,
    #[serde(default)]
    next: String,
}

pub(crate) async fn login_page(
    State(c): State<Shared>,
    Client(client): Client,
    headers: HeaderMap,
    Query(q): Pairs,
) -> Response {
    let r = async {
        let ctx = Ctx::open(&headers, q, "/login")?;
        let Some(access) = &c.access else {
            return Ok::<Response, Fail>(redirect("/"));
        };
        let challenge = access
            .challenge(&client)
            .map_err(|e| Fail::unavailable(ctx.lang, e.to_string()))?;
        let next = safe_next(ctx.get("next").unwrap_or("/"));
        Ok(page(&ctx, pages::login(&ctx, &challenge, &next, None)))
    };
    r.await.unwrap_or_else(IntoResponse::into_response)
}

/// Only a path of this console: never another site.
pub(crate) fn safe_next(next: &str) -> String {
    // A path of ours, in plain characters: browsers drop tabs and newlines from URLs
    // ("/\t/evil.example" would become "//evil.example"), so anything but these is refused.
    let plain = next
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-_.?=&%~".contains(&b));
    if plain && next.starts_with('/') && !next.starts_with("//") {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

pub(crate) fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    secure(&mut r);
    r
}

pub(crate) async fn login(
    State(c): State<Shared>,
    Client(client): Client,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    use base64::Engine as _;
    let lang = Ctx::open(&headers, Vec::new(), "/login").map_or(Lang::En, |c| c.lang);
    let Some(access) = &c.access else {
        return redirect("/");
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let sig = base64::engine::general_purpose::STANDARD
        .decode(form.signature.trim())
        .unwrap_or_default();
    let outcome = access.login(host, form.id.trim(), &form.challenge, &sig, |id| {
        let r = c.source.registered(id)?;
        Some((r.role, *r.current_key()?))
    });
    match outcome {
        Ok((token, who)) => {
            tracing::info!(target: ACCESS_LOG, reader = %who.id, "console login");
            let mut r = redirect(&safe_next(&form.next));
            if let Ok(v) = HeaderValue::from_str(&format!(
                "coop_session={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
                access::SESSION_TTL.as_secs(),
                if c.reach.tls { "; Secure" } else { "" }
            )) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) => {
            tracing::info!(target: ACCESS_LOG, id = %form.id, "console login refused: {e}");
            let ctx = match Ctx::open(&headers, Vec::new(), "/login") {
                Ok(ctx) => ctx,
                Err(f) => return f.into_response(),
            };
            let challenge = access.challenge(&client).unwrap_or_default();
            let mut r = page(
                &ctx,
                pages::login(
                    &ctx,
                    &challenge,
                    &safe_next(&form.next),
                    Some(&login_error(lang, &e)),
                ),
            );
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            r
        }
    }
}

/// A refused login in the reader's language.
pub(crate) fn login_error(l: Lang, e: &LoginError) -> String {
    match e {
        LoginError::Challenge => l.t("login-error-challenge"),
        LoginError::Host => l.t("login-error-host"),
        LoginError::Unknown(id) => l.ta("login-error-unknown", &[("id", i18n::text(id.clone()))]),
        LoginError::Signature(id) => {
            l.ta("login-error-signature", &[("id", i18n::text(id.clone()))])
        }
        LoginError::Busy => l.t("login-error-busy"),
    }
}

pub(crate) async fn logout(State(c): State<Shared>, headers: HeaderMap) -> Response {
    if let (Some(access), Some(t)) = (&c.access, cookie(&headers, "coop_session")) {
        access.logout(t);
    }
    let mut r = redirect("/login");
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("coop_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r
}
