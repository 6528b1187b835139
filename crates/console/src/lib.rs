//! coop-console: the ledger in a browser for auditors, Article 8 consultations and agency
//! clerks, in Russian, Kazakh, Turkmen and English (the words: coop-i18n).
//!
//! Key decisions: pages are rendered on the server (maud) from the read model
//! (`coop_ledger::read`), the same typed views the CLI and the JSON API show, so a page
//! never says something the API would not; a few lines of JavaScript (served from
//! `/static`, never inline: the Content-Security-Policy allows no inline script) only
//! compute a dropped file's digest upload and start printing. No CDN, no build chain.
//! Over a verified copy (`coopledger console PATH`) every page and every printout or CSV
//! states the ledger id and the checkpoint the copy was verified against, and when.

mod access;
mod pages;

pub use access::{Access, LoginError, Who, login_message};
use coop_i18n as i18n;
pub use coop_i18n::{Lang, refusal};

/// Target of the access log (the node's too): one line per answered request, and the
/// console's sign-ins.
pub const ACCESS_LOG: &str = "coopledger::access";

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use coop_ledger::AsOf;
use coop_ledger::read::{self, At, ReadSource, Verdict};
use std::sync::Arc;

/// Every event kind the catalogue names, for the translations' test.
pub const KINDS: [&str; 38] = coop_treaty::Payload::KINDS;

/// What the console shows: a source of reads and, for a verified copy, the verdict.
pub struct Console {
    /// The reads.
    pub source: Arc<dyn ReadSource>,
    /// What verification established (`None`: a live node's own ledger).
    pub verdict: Option<Verdict>,
    /// What was opened (a path), shown in the header.
    pub label: String,
    /// On a node: who may read what (a login with the registered key). `None`: the
    /// console over a copy the local auditor verified, open to whoever runs it.
    pub access: Option<Arc<Access>>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// The console, shared by its handlers.
pub type Shared = Arc<Console>;

type Pairs = Query<Vec<(String, String)>>;

/// Largest file "check a document" hashes.
const MAX_DOCUMENT: usize = 256 * 1024 * 1024;

/// The console's router (mounted at `/`).
pub fn router(console: Shared) -> Router {
    Router::new()
        .route("/", get(overview))
        .route("/cases", get(cases))
        .route("/cases.csv", get(cases_csv))
        .route("/cases/{id}", get(case))
        .route("/cases/{id}/dossier", get(dossier))
        .route("/cases/{id}/timeline.csv", get(timeline_csv))
        .route("/article7", get(article7))
        .route("/article7/print", get(article7_print))
        .route("/article7.csv", get(article7_csv))
        .route("/registry", get(registry))
        .route("/registry.csv", get(registry_csv))
        .route("/checkpoints", get(checkpoints))
        .route("/documents", get(documents))
        .route(
            "/documents/digest",
            post(digest).layer(DefaultBodyLimit::max(MAX_DOCUMENT)),
        )
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/static/console.css", get(css))
        .route("/static/console.js", get(js))
        .with_state(console)
}

/// Serves the console on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    console: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(console))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The request's language and as-of point, and the query for the page.
pub(crate) struct Ctx {
    pub lang: Lang,
    /// Set when the language came from `?lang=` (remembered in a cookie).
    pub chosen: bool,
    pub as_of: Option<AsOf>,
    /// The as-of text as given.
    pub as_of_text: String,
    pub pairs: Vec<(String, String)>,
    /// The path, for the language links.
    pub path: String,
    /// Who is signed in (on a node).
    pub who: Option<Who>,
}

/// The value of cookie `name`.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
}

impl Ctx {
    fn of(
        c: &Console,
        headers: &HeaderMap,
        pairs: Vec<(String, String)>,
        path: &str,
    ) -> Result<Ctx, Fail> {
        let mut ctx = Ctx::open(headers, pairs, path)?;
        if let Some(access) = &c.access {
            let who = cookie(headers, "coop_session").and_then(|t| {
                access.session(t, |id| {
                    c.source
                        .registered(id)
                        .and_then(|r| r.current_key().copied())
                })
            });
            match who {
                Some(w) => {
                    // The access log names who read the page, as for signed reads.
                    tracing::Span::current().record("reader", tracing::field::display(&w.id));
                    ctx.who = Some(w);
                }
                None => {
                    return Err(Fail {
                        status: StatusCode::SEE_OTHER,
                        lang: ctx.lang,
                        message: format!("/login?next={}", enc(path)),
                    });
                }
            }
        }
        Ok(ctx)
    }

    /// The context of a page anyone may open (the login page).
    fn open(headers: &HeaderMap, pairs: Vec<(String, String)>, path: &str) -> Result<Ctx, Fail> {
        let given = pairs
            .iter()
            .find(|(k, _)| k == "lang")
            .map(|(_, v)| v.as_str());
        let chosen = given.and_then(Lang::parse);
        let cookie = cookie(headers, "coop_lang").and_then(Lang::parse);
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept);
        let lang = chosen.or(cookie).or(accept).unwrap_or(Lang::En);
        if given.is_some() && chosen.is_none() {
            return Err(Fail::bad(lang, lang.t("error-lang")));
        }
        let as_of_text = pairs
            .iter()
            .find(|(k, _)| k == "as_of")
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default();
        let as_of = if as_of_text.is_empty() {
            None
        } else {
            Some(read::parse_as_of(&as_of_text).map_err(|e| Fail::bad(lang, e.to_string()))?)
        };
        Ok(Ctx {
            lang,
            chosen: chosen.is_some(),
            as_of,
            as_of_text,
            pairs,
            path: path.to_owned(),
            who: None,
        })
    }

    /// The id whose cases alone this reader may see (`None`: every case).
    pub fn viewer(&self) -> Option<&coop_core::AuthorityId> {
        self.who.as_ref().and_then(Who::viewer)
    }

    /// Whether this reader may read cases.
    pub fn reads_cases(&self) -> bool {
        self.who.as_ref().is_none_or(Who::reads_cases)
    }

    /// Whether this reader may read the Article 7 register.
    pub fn reads_register(&self) -> bool {
        self.who.as_ref().is_none_or(Who::reads_register)
    }

    fn forbid(&self, allowed: bool) -> Result<(), Fail> {
        if allowed {
            Ok(())
        } else {
            Err(Fail {
                status: StatusCode::FORBIDDEN,
                lang: self.lang,
                message: self.lang.t("error-forbidden"),
            })
        }
    }

    /// A query value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The query pairs for a case list (what `CaseQuery` reads).
    fn list_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `?as_of=…` to carry the as-of point into links (empty when there is none).
    pub fn as_of_query(&self) -> String {
        if self.as_of_text.is_empty() {
            String::new()
        } else {
            format!("as_of={}", enc(&self.as_of_text))
        }
    }
}

/// The page context as an extractor: the language, the as-of point and the query pairs,
/// and (on a node) the signed-in person, or a redirect to the login page. Every page's
/// handler starts from it, so none repeats the prologue.
impl axum::extract::FromRequestParts<Shared> for Ctx {
    type Rejection = Fail;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        c: &Shared,
    ) -> Result<Ctx, Fail> {
        let pairs = Query::<Vec<(String, String)>>::from_request_parts(parts, c)
            .await
            .map(|Query(q)| q)
            .map_err(|e| Fail::bad(Lang::En, e.body_text()))?;
        Ctx::of(c, &parts.headers, pairs, parts.uri.path())
    }
}

/// Percent-encodes a query value.
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A page that could not be shown, in the reader's language.
pub(crate) struct Fail {
    status: StatusCode,
    lang: Lang,
    message: String,
}

impl Fail {
    fn bad(lang: Lang, message: String) -> Fail {
        Fail {
            status: StatusCode::BAD_REQUEST,
            lang,
            message,
        }
    }

    fn not_found(lang: Lang, message: String) -> Fail {
        Fail {
            status: StatusCode::NOT_FOUND,
            lang,
            message,
        }
    }

    fn unavailable(lang: Lang, message: String) -> Fail {
        Fail {
            status: StatusCode::SERVICE_UNAVAILABLE,
            lang,
            message,
        }
    }

    fn of_ledger(lang: Lang, e: coop_ledger::LedgerError) -> Fail {
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
fn secure(r: &mut Response) {
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

fn html(status: StatusCode, body: String) -> Response {
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
fn page(ctx: &Ctx, markup: maud::Markup) -> Response {
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

fn csv(name: &str, body: String) -> Response {
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
async fn work<T: Send + 'static>(
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
fn at(c: &Console, ctx: &Ctx) -> Result<At, Fail> {
    c.source
        .at(ctx.as_of)
        .map_err(|e| Fail::of_ledger(ctx.lang, e))
}

async fn overview(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let l = ctx.lang;
        let ov = read::overview(c.source.as_ref(), &now, ctx.viewer())
            .map_err(|e| Fail::of_ledger(l, e))?;
        let mut stats = read::stats(c.source.as_ref(), &now, ctx.viewer())
            .map_err(|e| Fail::of_ledger(l, e))?;
        if !ctx.reads_register() {
            stats.article7_flows.clear();
        }
        // As of an earlier point: what changed between then and the latest.
        let changes = if ctx.as_of.is_some() {
            let latest = c.source.at(None).map_err(|e| Fail::of_ledger(l, e))?;
            Some((
                latest.state.size,
                read::changes(&now.state, &latest.state, ctx.viewer()),
            ))
        } else {
            None
        };
        Ok(page(
            &ctx,
            pages::overview(&c, &ctx, &now, &ov, &stats, changes.as_ref()),
        ))
    })
    .await
}

/// The case query of a list page (an unknown parameter or value is a 400 page).
fn case_query(ctx: &Ctx) -> Result<read::CaseQuery, Fail> {
    read::CaseQuery::parse(ctx.list_pairs(), &["as_of", "lang"])
        .map_err(|e| Fail::bad(ctx.lang, e.to_string()))
}

async fn cases(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    ctx.forbid(ctx.reads_cases())?;
    let query = case_query(&ctx)?;
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let list = read::cases(&now, &query, ctx.viewer());
        Ok(page(&ctx, pages::cases(&c, &ctx, &now, &query, &list)))
    })
    .await
}

async fn cases_csv(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    ctx.forbid(ctx.reads_cases())?;
    let mut query = case_query(&ctx)?;
    // A CSV is every matching case, not one page.
    query.offset = 0;
    query.limit = usize::MAX;
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let list = read::cases(&now, &query, ctx.viewer());
        Ok(csv("cases.csv", pages::cases_csv(&c, &ctx, &now, &list)))
    })
    .await
}

fn case_at(c: &Console, ctx: &Ctx, id: &str) -> Result<(At, read::CaseView), Fail> {
    ctx.forbid(ctx.reads_cases())?;
    let id = read::parse_case(id).map_err(|e| Fail::bad(ctx.lang, e.to_string()))?;
    let now = at(c, ctx)?;
    // A case between other authorities answers as one that does not exist: its id
    // tells a competent authority nothing.
    let view = read::case(c.source.as_ref(), &now, &id, ctx.viewer())
        .map_err(|e| Fail::of_ledger(ctx.lang, e))?
        .ok_or_else(|| {
            Fail::not_found(
                ctx.lang,
                ctx.lang
                    .ta("error-no-case", &[("id", i18n::text(id.to_hex()))]),
            )
        })?;
    Ok((now, view))
}

async fn case(State(c): State<Shared>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let (now, view) = case_at(&c, &ctx, &id)?;
        let latest = if ctx.as_of.is_some() {
            c.source
                .at(None)
                .map_err(|e| Fail::of_ledger(ctx.lang, e))?
                .state
                .cases
                .remove(&view.case.id)
        } else {
            None
        };
        Ok(page(
            &ctx,
            pages::case(&c, &ctx, &now, &view, latest.as_deref(), false),
        ))
    })
    .await
}

async fn dossier(
    State(c): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let (now, view) = case_at(&c, &ctx, &id)?;
        Ok(page(&ctx, pages::case(&c, &ctx, &now, &view, None, true)))
    })
    .await
}

async fn timeline_csv(
    State(c): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let (now, view) = case_at(&c, &ctx, &id)?;
        Ok(csv(
            &format!("case-{}-timeline.csv", view.case.id.to_hex()),
            pages::timeline_csv(&c, &ctx, &now, &view),
        ))
    })
    .await
}

async fn article7_page(c: Shared, ctx: Ctx, print: bool) -> Result<Response, Fail> {
    ctx.forbid(ctx.reads_register())?;
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let report = coop_treaty::ComplianceReport::build(&now.state);
        Ok(page(&ctx, pages::article7(&c, &ctx, &now, &report, print)))
    })
    .await
}

async fn article7(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    article7_page(c, ctx, false).await
}

async fn article7_print(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    article7_page(c, ctx, true).await
}

async fn article7_csv(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    ctx.forbid(ctx.reads_register())?;
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let report = coop_treaty::ComplianceReport::build(&now.state);
        Ok(csv(
            "article7.csv",
            pages::article7_csv(&c, &ctx, &now, &report),
        ))
    })
    .await
}

async fn registry(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let rows = read::registry(&now);
        Ok(page(&ctx, pages::registry(&c, &ctx, &now, &rows)))
    })
    .await
}

async fn registry_csv(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let rows = read::registry(&now);
        Ok(csv(
            "registry.csv",
            pages::registry_csv(&c, &ctx, &now, &rows),
        ))
    })
    .await
}

async fn checkpoints(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let list = c
            .source
            .checkpoints()
            .map_err(|e| Fail::of_ledger(ctx.lang, e))?;
        Ok(page(&ctx, pages::checkpoints(&c, &ctx, &now, &list)))
    })
    .await
}

async fn documents(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    ctx.forbid(ctx.reads_cases())?;
    let digest = match ctx.get("digest").map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => Some(
            coop_core::Hash::from_hex(&d.to_ascii_lowercase()).map_err(|_| {
                Fail::bad(
                    ctx.lang,
                    ctx.lang.ta("error-digest", &[("given", i18n::text(d))]),
                )
            })?,
        ),
    };
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let hits = match &digest {
            Some(d) => Some(
                read::documents(c.source.as_ref(), &now, d, ctx.viewer())
                    .map_err(|e| Fail::of_ledger(ctx.lang, e))?,
            ),
            None => None,
        };
        Ok(page(
            &ctx,
            pages::documents(&c, &ctx, &now, digest.as_ref(), hits.as_deref()),
        ))
    })
    .await
}

/// The blake3 digest (hex) of the posted bytes: what "check a document" looks up. The
/// file is hashed and dropped; nothing is kept.
async fn digest(_: Ctx, body: Bytes) -> Response {
    let mut r = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        blake3::hash(&body).to_hex().to_string(),
    )
        .into_response();
    secure(&mut r);
    r
}

/// The login form's fields.
#[derive(Debug, serde::Deserialize)]
struct LoginForm {
    id: String,
    challenge: String,
    /// Base64 (standard) of the 64-byte Ed25519 signature.
    signature: String,
    #[serde(default)]
    next: String,
}

async fn login_page(State(c): State<Shared>, headers: HeaderMap, Query(q): Pairs) -> Response {
    let r = async {
        let ctx = Ctx::open(&headers, q, "/login")?;
        let Some(access) = &c.access else {
            return Ok::<Response, Fail>(redirect("/"));
        };
        let challenge = access
            .challenge()
            .map_err(|e| Fail::unavailable(ctx.lang, e.to_string()))?;
        let next = safe_next(ctx.get("next").unwrap_or("/"));
        Ok(page(&ctx, pages::login(&ctx, &challenge, &next, None)))
    };
    r.await.unwrap_or_else(IntoResponse::into_response)
}

/// Only a path of this console: never another site.
fn safe_next(next: &str) -> String {
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

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    secure(&mut r);
    r
}

async fn login(
    State(c): State<Shared>,
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
                "coop_session={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                access::SESSION_TTL.as_secs()
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
            let challenge = access.challenge().unwrap_or_default();
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
fn login_error(l: Lang, e: &LoginError) -> String {
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

async fn logout(State(c): State<Shared>, headers: HeaderMap) -> Response {
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

async fn css() -> Response {
    static_file("text/css; charset=utf-8", include_str!("console.css"))
}

async fn js() -> Response {
    static_file("text/javascript; charset=utf-8", include_str!("console.js"))
}

fn static_file(kind: &'static str, body: &'static str) -> Response {
    let mut r = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(kind))],
        body,
    )
        .into_response();
    secure(&mut r);
    r
}

#[cfg(test)]
mod tests {
    use super::safe_next;
    use std::collections::BTreeSet;

    /// Every message id used anywhere in the console's sources (`.t("…")`, `.ta("…"`),
    /// and every ledger word the console translates.
    fn used() -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let dir = format!("{}/src", env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![format!("{dir}/lib.rs")];
        let pages = std::fs::read_dir(format!("{dir}/pages")).expect("src/pages");
        files.extend(pages.flatten().map(|e| e.path().display().to_string()));
        assert!(files.len() > 5, "the pages were not found: {files:?}");
        for file in files {
            let src = std::fs::read_to_string(&file).unwrap_or_default();
            for pat in [".t(", ".ta("] {
                for (i, _) in src.match_indices(pat) {
                    let rest = src.get(i + pat.len()..).unwrap_or_default().trim_start();
                    // Only literal ids: `.t(key)` with a variable is checked where the
                    // words come from (below).
                    if let Some(rest) = rest.strip_prefix('"')
                        && let Some(end) = rest.find('"')
                    {
                        let id = rest.get(..end).unwrap_or_default();
                        if id
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                        {
                            out.insert(id.to_owned());
                        }
                    }
                }
            }
        }
        for w in coop_treaty::STATUS_WORDS {
            out.insert(format!("status-{w}"));
        }
        for w in coop_treaty::CATEGORY_WORDS {
            out.insert(format!("category-{w}"));
        }
        for w in super::KINDS {
            out.insert(format!("kind-{}", w.replace(' ', "-")));
        }
        for w in ["kz", "tm"] {
            out.insert(format!("party-{w}"));
        }
        for w in ["Root", "Competent", "Auditor", "Witness"] {
            out.insert(format!("role-{w}"));
        }
        for w in ["OralConfirmation", "AdditionalInfo", "ReasonsNotice"] {
            out.insert(format!("deadline-{w}"));
        }
        for w in [
            "ExecuteRequest",
            "ExchangeInformation",
            "ExchangeExperience",
            "ExchangeSpecialists",
            "ExchangeLegalActs",
            "Training",
        ] {
            out.insert(format!("form-{w}"));
        }
        for w in [
            "OperationalSearch",
            "OperationalReference",
            "Forensic",
            "Archival",
        ] {
            out.insert(format!("info-{w}"));
        }
        for w in ["met", "late", "overdue", "pending"] {
            out.insert(format!("dl-{w}"));
        }
        for w in ["Kk", "Tk", "Ru"] {
            out.insert(format!("language-{w}"));
        }
        for w in [
            "Sovereignty",
            "Security",
            "PublicOrder",
            "StatePower",
            "EssentialInterests",
            "NationalLaw",
            "InternationalObligations",
        ] {
            out.insert(format!("ground-{w}"));
        }
        out
    }

    /// Every message id the console uses (literally, or as a ledger word it translates)
    /// is defined.
    #[test]
    fn every_message_the_console_uses_exists() {
        let missing: Vec<String> = used()
            .into_iter()
            .filter(|id| !coop_i18n::defines(id))
            .collect();
        assert!(missing.is_empty(), "used but not defined: {missing:?}");
    }

    /// After a sign-in the console goes to `next`: only ever a path of its own.
    #[test]
    fn next_is_only_ever_a_path_of_the_console() {
        for ok in [
            "/",
            "/cases",
            "/cases?status=open&offset=50",
            "/cases/0a1b?as_of=12",
        ] {
            assert_eq!(safe_next(ok), ok);
        }
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\t/evil.example",
            "/\\evil.example",
            "/\n/evil.example",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
