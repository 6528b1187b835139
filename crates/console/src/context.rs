//! The page context every page starts from: language, as-of point, query, and who is signed in (an extractor, so no handler repeats it).

use crate::*;

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
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
}

impl Ctx {
    pub(crate) fn of(
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
    pub(crate) fn open(
        headers: &HeaderMap,
        pairs: Vec<(String, String)>,
        path: &str,
    ) -> Result<Ctx, Fail> {
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

    pub(crate) fn forbid(&self, allowed: bool) -> Result<(), Fail> {
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
    pub(crate) fn list_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
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

/// The address a request came from (`unknown` when the server gives none, as in
/// process): whose share of the sign-in challenges it draws on.
pub(crate) struct Client(pub(crate) String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Client, Self::Rejection> {
        Ok(Client(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string()),
        ))
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
