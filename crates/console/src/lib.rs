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
mod act;
mod answer;
mod context;
mod handlers;
mod pages;
mod request;
mod signin;

use answer::*;
use context::cookie;
pub(crate) use context::{Client, Ctx, enc};
use handlers::*;
pub use handlers::{composable, is_composable, is_form};
use signin::*;

pub use access::{Access, AccessStats, LoginError, Who, login_message};
use coop_i18n as i18n;
pub use coop_i18n::{Lang, refusal};

/// Target of the access log (the node's too): one line per answered request, and the
/// console's sign-ins.
pub const ACCESS_LOG: &str = "coopledger::access";

use axum::Router;
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
    /// How it may be reached: the hosts it answers as, TLS, the request timeout.
    pub reach: Reach,
    /// On a node: the Agreement's rules over its state now, for drafts (`None`: a
    /// verified copy, which takes no acts).
    pub desk: Option<Arc<dyn Drafts>>,
}

/// What the console's drafting needs of a node: the rules' judgement of an unsigned
/// draft against its state now ([`coop_ledger::Ledger::problems`]), writing nothing.
pub trait Drafts: Send + Sync {
    /// Every problem with `body` as the next record (empty: it would be accepted).
    fn problems(
        &self,
        body: coop_core::EventBody,
    ) -> Result<Vec<coop_treaty::Violation>, coop_ledger::LedgerError>;

    /// How far each Party's witnesses have cosigned the node's checkpoints (the
    /// overview shows it; `None`: the store cannot say now).
    fn witnessing(&self) -> Option<coop_ledger::Witnessing>;

    /// The ledger's size, announced each time a record lands, and whether the node is
    /// closing (which ends every live page's stream, so that it may stop): what keeps an
    /// open inbox or outbox live (`/desk/live`).
    fn live(
        &self,
    ) -> (
        tokio::sync::watch::Receiver<u64>,
        tokio::sync::watch::Receiver<bool>,
    );
}

/// How the console may be reached (docs/OPERATIONS.md, "Security").
#[derive(Clone, Debug)]
pub struct Reach {
    /// The `Host` values it answers to (`host:port`, lower case); any other is refused
    /// (421), so that a page the reader visits cannot reach a console on loopback by
    /// DNS rebinding. `None`: any (a node, whose sign-in is bound to its names; or a
    /// console explicitly opened to the network).
    pub hosts: Option<Vec<String>>,
    /// Served over TLS: the session cookie is `Secure` and every answer carries HSTS.
    pub tls: bool,
    /// Longest time a request may take (a body trickled in is cut off with 408).
    pub timeout: std::time::Duration,
}

impl Default for Reach {
    fn default() -> Self {
        Reach {
            hosts: None,
            tls: false,
            timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// Largest body of a console request other than "check a document" (the sign-in form
/// and sign-out are a few hundred bytes).
pub const FORM_LIMIT: usize = 16 * 1024;

/// The guard in front of every console route: only the hosts it answers as; state-
/// changing requests only from its own pages (`Sec-Fetch-Site`, else `Origin`: no
/// cross-site login or logout); HSTS over TLS.
async fn guard(
    State(c): State<Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if let Some(hosts) = &c.reach.hosts
        && !hosts.contains(&host)
    {
        let mut r = (
            StatusCode::MISDIRECTED_REQUEST,
            format!("this console answers only as {}", hosts.join(", ")),
        )
            .into_response();
        answer::secure(&mut r);
        return r;
    }
    if !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) && cross_site(req.headers(), &host)
    {
        let mut r = (
            StatusCode::FORBIDDEN,
            "refused: a request from another site (the console's forms are sent from its own pages)",
        )
            .into_response();
        answer::secure(&mut r);
        return r;
    }
    let mut r = next.run(req).await;
    if c.reach.tls {
        r.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    r
}

/// Whether a request was sent by another site: the browser's `Sec-Fetch-Site` says so,
/// or (older browsers) its `Origin` names another host than the one asked.
fn cross_site(headers: &HeaderMap, host: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => false,
        Some(origin) => {
            let authority = origin
                .split_once("://")
                .map_or("", |(_, rest)| rest)
                .trim_end_matches('/')
                .to_ascii_lowercase();
            authority != host
        }
    }
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

/// The console's router (mounted at `/`), behind its guard, its timeout and its body
/// limits.
pub fn router(console: Shared) -> Router {
    let timeout = console.reach.timeout;
    Router::new()
        .route("/", get(overview))
        .route("/inbox", get(inbox))
        .route("/outbox", get(outbox))
        .route("/compose", get(acts))
        .route("/compose/{kind}", get(compose))
        .route("/desk/live", get(desk_live))
        .route("/cases", get(cases))
        .route("/cases.csv", get(cases_csv))
        .route("/cases/{id}", get(case))
        .route("/cases/{id}/dossier", get(dossier))
        .route("/cases/{id}/letter", get(letter))
        .route("/cases/{id}/timeline.csv", get(timeline_csv))
        .route("/article7", get(article7))
        .route("/article7/print", get(article7_print))
        .route("/article7.csv", get(article7_csv))
        .route("/registry", get(registry))
        .route("/registry.csv", get(registry_csv))
        .route("/checkpoints", get(checkpoints))
        .route("/documents", get(documents))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/static/console.css", get(css))
        .route("/static/console.js", get(js))
        .route("/static/digest.js", get(digest_js))
        .route("/static/receipt.js", get(receipt_js))
        .route("/static/noble/{file}", get(noble))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .route_layer(axum::middleware::from_fn_with_state(console.clone(), guard))
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

async fn css() -> Response {
    static_file("text/css; charset=utf-8", include_str!("console.css"))
}

async fn js() -> Response {
    static_file("text/javascript; charset=utf-8", include_str!("console.js"))
}

async fn digest_js() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("static/digest.js"),
    )
}

async fn receipt_js() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("static/receipt.js"),
    )
}

/// The vendored blake3 of @noble/hashes (static/noble/MANIFEST pins each file).
pub(crate) const NOBLE: [(&str, &str); 6] = [
    ("blake3.js", include_str!("static/noble/blake3.js")),
    ("blake2.js", include_str!("static/noble/blake2.js")),
    ("_md.js", include_str!("static/noble/_md.js")),
    ("_blake.js", include_str!("static/noble/_blake.js")),
    ("_u64.js", include_str!("static/noble/_u64.js")),
    ("utils.js", include_str!("static/noble/utils.js")),
];

async fn noble(Path(file): Path<String>) -> Response {
    match NOBLE.iter().find(|(name, _)| *name == file) {
        Some((_, body)) => static_file("text/javascript; charset=utf-8", body),
        None => StatusCode::NOT_FOUND.into_response(),
    }
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
        let mut files = Vec::new();
        for d in [dir.clone(), format!("{dir}/pages")] {
            let entries = std::fs::read_dir(&d).expect("the console's sources");
            files.extend(
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                    .map(|p| p.display().to_string()),
            );
        }
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
        for a in coop_ledger::read::Act::ALL {
            out.insert(format!("act-{}", a.word()));
        }
        for k in crate::handlers::composable() {
            out.insert(format!("compose-{k}"));
            out.insert(format!("compose-help-{k}"));
        }
        for (k, fields) in crate::act::ACTS {
            for f in fields {
                use crate::act::Field as F;
                match *f {
                    F::Docs(_) | F::Doc(_) => {
                        out.insert(format!("compose-docs-{k}"));
                    }
                    F::Cites(m, _) => {
                        out.insert(format!("compose-cites-{m}"));
                    }
                    F::Authority(m) => {
                        out.insert(format!("compose-authority-{m}"));
                    }
                    F::Key(m) => {
                        out.insert(format!("compose-key-{m}"));
                    }
                    F::Text(m) => {
                        out.insert(format!("compose-text-{m}"));
                    }
                    F::Number(_) => {
                        out.insert(format!("compose-number-{k}"));
                    }
                    _ => {}
                }
            }
        }
        for c in crate::act::QUOTED {
            out.insert(format!("agreement-{c}"));
        }
        for p in crate::act::PARAMS {
            out.insert(format!("param-{p}"));
        }
        for o in [
            "Found",
            "Detained",
            "Arrested",
            "InformationProvided",
            "NotFound",
        ] {
            out.insert(format!("outcome-{o}"));
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

#[cfg(test)]
mod pinned {
    use super::NOBLE;

    /// The vendored hash library is, byte for byte, what static/noble/MANIFEST pins (the
    /// npm tarball of @noble/hashes 2.4.0, whose integrity the manifest records): a file
    /// changed by hand, or a new version dropped in without a new manifest, fails here.
    #[test]
    fn the_vendored_blake3_is_the_pinned_one() {
        use sha2::Digest as _;
        let manifest = include_str!("static/noble/MANIFEST");
        let pinned: Vec<(&str, &str)> = manifest
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once("  "))
            .map(|(h, f)| (f, h))
            .collect();
        assert!(manifest.contains("@noble/hashes 2.4.0"));
        for (file, body) in NOBLE {
            let want = pinned
                .iter()
                .find(|(f, _)| *f == file)
                .unwrap_or_else(|| panic!("{file} is not in the manifest"))
                .1;
            let got = hex::encode(sha2::Sha256::digest(body.as_bytes()));
            assert_eq!(got, want, "{file} differs from the pinned file");
        }
        assert_eq!(
            pinned.len(),
            NOBLE.len() + 1,
            "every pinned file is served (and LICENSE)"
        );
    }
}
