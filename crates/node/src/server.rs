//! The HTTP API (docs/API.md): routes, handlers, limits, graceful shutdown, TLS.

mod checkpoints;
mod info;
pub(crate) mod reads;
mod records;
mod submit;

pub(crate) use checkpoints::*;
pub(crate) use info::*;
pub(crate) use records::*;
pub(crate) use submit::*;

use crate::auth::AuthError;
use crate::node::{Need, Node, Reader};
use crate::openapi::Limits;
use crate::wire::{
    BatchAnswer, BatchAnswerV2, BatchItem, BatchJson, CheckpointJson, ConsistencyJson, ErrorBody,
    InclusionJson, InfoJson, MAX_BATCH, RecordJson, RecordsPage,
};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::{Json, Router};
use coop_core::checkpoint::Note;
use coop_core::{CaseId, EventId, Receipt, ReceiptV1, SignedEvent, Timestamp};
use coop_ledger::read::{self, ReadSource as _};
use coop_ledger::{AsOf, LedgerError, SubmitError};
use coop_store::StoreError;
use coop_treaty::State as TreatyState;
use coop_wire::{BodyJson, EventJson};
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// An error answer: a status and a JSON body.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    fn new(status: StatusCode, error: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                error: error.to_owned(),
                clause: None,
                message: message.into(),
            },
        }
    }

    fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        match e {
            AuthError::Unauthenticated(m) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", m)
            }
            AuthError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
        }
    }
}

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> ApiError {
        // The client's mistakes are 4xx; every storage or server fault is 5xx.
        match e {
            LedgerError::BadQuery(m) => ApiError::bad(m),
            LedgerError::NotFound(m) => ApiError::not_found(m),
            LedgerError::Store(s @ StoreError::Full { .. }) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_full",
                s.to_string(),
            ),
            LedgerError::Store(s @ (StoreError::Corrupt { .. } | StoreError::Conflict(_))) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", s.to_string())
            }
            e @ (LedgerError::InvalidHistory { .. } | LedgerError::BadSignature { .. }) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            }
            other => ApiError::unavailable(other.to_string()),
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> ApiError {
        ApiError::of_submit(e, coop_i18n::Lang::En)
    }
}

/// The language a client asked for (`Accept-Language`), for refusals: English unless it
/// asks for Russian, Kazakh or Turkmen.
pub(crate) fn lang_of(headers: &HeaderMap) -> coop_i18n::Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(coop_i18n::Lang::from_accept)
        .unwrap_or(coop_i18n::Lang::En)
}

impl ApiError {
    /// A submission's error; a refusal's message in `lang` (its `clause` stays the
    /// language-neutral reference, e.g. `Art. 4.1(5)`).
    fn of_submit(e: SubmitError, lang: coop_i18n::Lang) -> ApiError {
        match e {
            SubmitError::Refused(v) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                body: ErrorBody {
                    error: "refused".into(),
                    clause: Some(v.clause()),
                    message: format!(
                        "{}; {}",
                        coop_i18n::refusal(lang, &v),
                        lang.t("nothing-written")
                    ),
                },
            },
            SubmitError::Invalid(e) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid",
                format!("invalid event: {e}; nothing was written"),
            ),
            SubmitError::IdReused(id) => ApiError::new(
                StatusCode::CONFLICT,
                "id_reused",
                format!("event id {id} is already used by a different event; nothing was written"),
            ),
            e @ SubmitError::Unavailable(_) => ApiError::unavailable(e.to_string()),
            e @ SubmitError::StorageFull(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_full",
                e.to_string(),
            ),
            e @ SubmitError::MayHaveLanded(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "may_have_landed",
                e.to_string(),
            ),
        }
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;
pub(crate) type Shared = Arc<Node>;

/// Runs blocking ledger work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::unavailable("the request's worker stopped"))?
}

/// The authority the client addressed: HTTP/2's `:authority` (in the URI), else `Host`.
pub(crate) fn authority<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> &'a str {
    uri.authority()
        .map(|a| a.as_str())
        .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()))
        .unwrap_or_default()
}

pub(crate) fn reader(
    node: &Node,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    need: Need,
) -> ApiResult<Reader> {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let req = crate::auth::Request {
        method: method.as_str(),
        authority: authority(uri, headers),
        path: uri.path(),
        query: uri.query(),
    };
    let r = node.authorize(
        &req,
        h(crate::auth::SIGNATURE_INPUT),
        h(crate::auth::SIGNATURE),
        need,
    )?;
    // The access log (Art. 7.1): the request's span names the registered reader.
    tracing::Span::current().record("reader", tracing::field::display(&r.id));
    Ok(r)
}

/// A read's request line and headers: what its signature covers. Handlers ask it for
/// the reader with what they need (`signed.reader(&node, Need::…)`), one call in place
/// of the method, URI and headers each handler used to take.
pub(crate) struct Signed {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Signed {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Signed, Infallible> {
        Ok(Signed {
            method: parts.method.clone(),
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
        })
    }
}

impl Signed {
    /// The verified reader, if it may read what `need` names.
    fn reader(&self, node: &Node, need: Need) -> ApiResult<Reader> {
        reader(node, &self.method, &self.uri, &self.headers, need)
    }
}

pub(crate) type Params = Query<HashMap<String, String>>;

pub(crate) fn num(q: &HashMap<String, String>, name: &str) -> ApiResult<Option<u64>> {
    q.get(name)
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| ApiError::bad(format!("{name} must be a whole number, not {v:?}")))
        })
        .transpose()
}

/// Refuses a parameter the endpoint does not take (400): a misspelt `as_of` would
/// otherwise answer the latest state as if it were the one asked for.
pub(crate) fn only(q: &HashMap<String, String>, known: &[&str]) -> ApiResult<()> {
    match q.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ApiError::bad(format!(
            "unknown parameter {k:?}; known: {}",
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

pub(crate) fn as_of(q: &HashMap<String, String>) -> ApiResult<Option<AsOf>> {
    if q.contains_key("as_of") && q.contains_key("as_of_time") {
        return Err(ApiError::bad("give as_of or as_of_time, not both"));
    }
    if let Some(seq) = num(q, "as_of")? {
        return Ok(Some(AsOf::Seq(seq)));
    }
    Ok(num(q, "as_of_time")?.map(|t| AsOf::Time(Timestamp(t))))
}

pub(crate) fn parse_case(s: &str) -> ApiResult<CaseId> {
    read::parse_case(s).map_err(|e| ApiError::bad(e.to_string()))
}

/// The router of a node: the API's operations as [`crate::openapi::OPS`] lists them (the
/// one list the OpenAPI document is built from too), each under its limits, and the
/// console.
pub fn router(node: Shared) -> Router {
    let timeout =
        || TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, node.config.timeout);
    let (mut api, mut batch, mut stream) = (Router::new(), Router::new(), Router::new());
    for op in crate::openapi::OPS {
        let method = match op.method {
            "post" => MethodFilter::POST,
            _ => MethodFilter::GET,
        };
        // Every operation refuses a query parameter it does not document (a misspelt
        // `from` must not read from 0, an `as_of` must not be ignored): one rule, from
        // the one table.
        let known = op.query;
        let handler = (op.serve.handler)(method).layer(axum::middleware::from_fn(
            move |req: Request, next: Next| async move {
                match unknown_parameter(req.uri().query(), known) {
                    Some(k) => ApiError::bad(format!(
                        "unknown parameter {k:?}; this operation takes {}",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
                        }
                    ))
                    .into_response(),
                    None => next.run(req).await,
                }
            },
        ));
        match op.serve.limits {
            Limits::Api => api = api.route(op.path, handler),
            Limits::Batch => batch = batch.route(op.path, handler),
            Limits::Stream => stream = stream.route(op.path, handler),
        }
    }
    let limit = node.config.body_limit;
    let api = api
        .layer(timeout())
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit));
    // A batch carries up to MAX_BATCH events: its own, larger body limit.
    let batch_limit = node.config.batch_body_limit;
    let batch = batch
        .layer(timeout())
        .layer(DefaultBodyLimit::max(batch_limit))
        .layer(RequestBodyLimitLayer::new(batch_limit));
    // The console (HTML, behind a login with the registered key) shares the listener.
    let console = coop_console::router(crate::console::for_node(node.clone()));
    let api = api.layer(axum::middleware::from_fn_with_state(
        node.clone(),
        json_limits,
    ));
    let batch = batch.layer(axum::middleware::from_fn_with_state(
        node.clone(),
        json_limits,
    ));
    Router::new()
        .merge(stream)
        .merge(api)
        .merge(batch)
        .with_state(node.clone())
        .merge(console)
        .fallback(|| async { ApiError::not_found("no such endpoint (see docs/API.md)") })
        .layer(axum::middleware::from_fn_with_state(node.clone(), count))
        .layer(axum::middleware::from_fn_with_state(node.clone(), hsts))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(access_span)
                .on_request(())
                .on_response(access_answered)
                .on_body_chunk(())
                .on_eos(())
                .on_failure(access_failed),
        )
}

/// Target of the access log: one line per answered request at `info` (docs/OPERATIONS.md).
pub const ACCESS_LOG: &str = coop_console::ACCESS_LOG;

/// The access log's span for a request: method, path and query, the client's address,
/// and — filled in by the handler — the registered reader, or the author and event id of
/// a submission. Signature headers and bodies are never logged.
pub(crate) fn access_span(req: &Request) -> tracing::Span {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.to_string());
    tracing::info_span!(
        target: ACCESS_LOG,
        "request",
        method = %req.method(),
        uri = %req.uri(),
        peer = peer.as_deref().unwrap_or("-"),
        reader = tracing::field::Empty,
        author = tracing::field::Empty,
        event = tracing::field::Empty,
    )
}

/// The access log's line when a request is answered: status and latency.
pub(crate) fn access_answered(resp: &Response, latency: std::time::Duration, _: &tracing::Span) {
    tracing::info!(
        target: ACCESS_LOG,
        status = resp.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1e3,
        "answered"
    );
}

/// The access log's line when an answer fails (a 5xx, or a stream cut).
pub(crate) fn access_failed(
    failure: tower_http::classify::ServerErrorsFailureClass,
    latency: std::time::Duration,
    _: &tracing::Span,
) {
    tracing::warn!(
        target: ACCESS_LOG,
        failure = %failure,
        latency_ms = latency.as_secs_f64() * 1e3,
        "failed"
    );
}

/// The first query parameter of `query` that `known` does not name.
fn unknown_parameter(query: Option<&str>, known: &[crate::openapi::Param]) -> Option<String> {
    query?
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').map_or(p, |(k, _)| k))
        .find(|k| !known.iter().any(|p| p.name == *k))
        .map(str::to_owned)
}

/// The timeout and body-limit layers answer 408 and 413 with no body; an API client
/// gets every error as the same JSON (`error`, `message`), as docs/openapi.json says.
pub(crate) async fn json_limits(State(node): State<Shared>, req: Request, next: Next) -> Response {
    let batch = req.uri().path().ends_with(":batch");
    let r = next.run(req).await;
    let json = r
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if json {
        return r;
    }
    match r.status() {
        StatusCode::REQUEST_TIMEOUT => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!(
                "the request took longer than {} s and was stopped; an append may have landed: send the same event again to learn its receipt",
                node.config.timeout.as_secs()
            ),
        )
        .into_response(),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the body is larger than this operation takes ({} bytes); nothing was written",
                if batch {
                    node.config.batch_body_limit
                } else {
                    node.config.body_limit
                }
            ),
        )
        .into_response(),
        _ => r,
    }
}

/// Over TLS, every answer tells the browser to use nothing else (HSTS, a year).
pub(crate) async fn hsts(State(node): State<Shared>, req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    if node.config.tls {
        r.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    r
}

/// Counts every answer by route and status. The label is the route as the router
/// matched it (`/v1/cases/{id}`, `/cases/{id}/dossier`): one per route, API and console
/// alike, taken from the router itself rather than from a list kept beside it; a request
/// no route matched is `unmatched`.
pub(crate) async fn count(State(node): State<Shared>, req: Request, next: Next) -> Response {
    let route: Arc<str> = match req.extensions().get::<MatchedPath>() {
        Some(p) => Arc::from(p.as_str()),
        None => Arc::from("unmatched"),
    };
    let resp = next.run(req).await;
    node.http.request(route, resp.status().as_u16());
    resp
}

/// Serves plain HTTP on `listener` until `shutdown` completes; then stops accepting,
/// ends open streams and lets requests in flight finish.
pub async fn run(
    listener: tokio::net::TcpListener,
    node: Shared,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let closing = node.closing.clone();
    // hyper's own connection loop rather than `axum::serve`, which sets no header-read
    // timeout: a connection that sends no complete request headers within the timeout —
    // after it opens, or after its previous answer (idle keep-alive) — is closed.
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(node.config.header_timeout);
    node.fence_signed_reads().await;
    let app = router(node);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: wait a
                    // moment instead of spinning, and keep serving.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                tower::ServiceExt::oneshot(app.clone(), req)
            });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection closed");
            }
        });
    }
    let _ = closing.send(true);
    // Answers in progress may finish; streams end on `closing`.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), graceful.shutdown()).await;
    Ok(())
}

/// TLS certificate and key (PEM).
#[derive(Clone, Debug)]
pub struct Tls {
    /// Certificate chain, PEM.
    pub cert_pem: Vec<u8>,
    /// Private key, PEM.
    pub key_pem: Vec<u8>,
}

/// Serves HTTPS (rustls, ring) on `listener` until `shutdown` completes.
pub async fn run_tls(
    listener: std::net::TcpListener,
    node: Shared,
    tls: Tls,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::install_crypto_provider();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem(tls.cert_pem, tls.key_pem).await?;
    node.fence_signed_reads().await;
    let closing = node.closing.clone();
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        let _ = closing.send(true);
        h.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    listener.set_nonblocking(true)?;
    let mut server = axum_server::from_tcp_rustls(listener, config)?;
    server
        .http_builder()
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(node.config.header_timeout);
    server
        .handle(handle)
        .serve(router(node).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .await
}

#[cfg(test)]
mod tests;
