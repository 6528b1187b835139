//! What a page answers: HTML with the security headers, CSV, a page that could not be shown (in the reader's language), and work off the async threads.

use crate::*;

/// A page that could not be shown, in the reader's language.
pub(crate) struct Fail {
    pub(crate) status: StatusCode,
    pub(crate) lang: Lang,
    pub(crate) message: String,
}

impl Fail {
    pub(crate) fn bad(lang: Lang, message: String) -> Fail {
        Fail {
            status: StatusCode::BAD_REQUEST,
            lang,
            message,
        }
    }

    pub(crate) fn not_found(lang: Lang, message: String) -> Fail {
        Fail {
            status: StatusCode::NOT_FOUND,
            lang,
            message,
        }
    }

    pub(crate) fn unavailable(lang: Lang, message: String) -> Fail {
        Fail {
            status: StatusCode::SERVICE_UNAVAILABLE,
            lang,
            message,
        }
    }

    pub(crate) fn of_ledger(lang: Lang, e: coop_ledger::LedgerError) -> Fail {
        match e {
            coop_ledger::LedgerError::BadQuery(m) => Fail::bad(lang, m),
            coop_ledger::LedgerError::NotFound(m) => Fail::not_found(lang, m),
            other => Fail {
                status: StatusCode::SERVICE_UNAVAILABLE,
                lang,
                message: other.to_string(),
            },
        }
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        if self.status == StatusCode::SEE_OTHER {
            let mut r = StatusCode::SEE_OTHER.into_response();
            if let Ok(v) = HeaderValue::from_str(&self.message) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            secure(&mut r);
            return r;
        }
        let body = pages::error(self.lang, self.status.as_u16(), &self.message);
        let mut r = html(self.status, body.into_string());
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

/// The security headers every console answer carries: no inline script or style, no
/// framing, no referrer (case ids are in the URLs), nothing cached.
pub(crate) fn secure(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut r = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        body,
    )
        .into_response();
    secure(&mut r);
    r
}

/// A page, remembering a language chosen with `?lang=` (a cookie: SameSite=Strict).
pub(crate) fn page(ctx: &Ctx, markup: maud::Markup) -> Response {
    let mut r = html(StatusCode::OK, markup.into_string());
    if ctx.chosen
        && let Ok(v) = HeaderValue::from_str(&format!(
            "coop_lang={}; Path=/; SameSite=Strict; Max-Age=31536000",
            ctx.lang.code()
        ))
    {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

pub(crate) fn csv(name: &str, body: String) -> Response {
    let mut r = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response();
    secure(&mut r);
    r
}

/// Runs `f` off the async threads (replays and page building are CPU work).
pub(crate) async fn work<T: Send + 'static>(
    lang: Lang,
    f: impl FnOnce() -> Result<T, Fail> + Send + 'static,
) -> Result<T, Fail> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(Fail {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            message: e.to_string(),
        })
    })
}

/// The state at the page's as-of point.
pub(crate) fn at(c: &Console, ctx: &Ctx) -> Result<At, Fail> {
    c.source
        .at(ctx.as_of)
        .map_err(|e| Fail::of_ledger(ctx.lang, e))
}
