//! The HTTP API (docs/API.md): routes, handlers, limits, graceful shutdown, TLS.

pub(crate) mod reads;

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
use coop_treaty::{BodyJson, EventJson, State as TreatyState};
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
fn lang_of(headers: &HeaderMap) -> coop_i18n::Lang {
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
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::unavailable("the request's worker stopped"))?
}

/// The authority the client addressed: HTTP/2's `:authority` (in the URI), else `Host`.
fn authority<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> &'a str {
    uri.authority()
        .map(|a| a.as_str())
        .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()))
        .unwrap_or_default()
}

fn reader(
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

fn num(q: &HashMap<String, String>, name: &str) -> ApiResult<Option<u64>> {
    q.get(name)
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| ApiError::bad(format!("{name} must be a whole number, not {v:?}")))
        })
        .transpose()
}

/// Refuses a parameter the endpoint does not take (400): a misspelt `as_of` would
/// otherwise answer the latest state as if it were the one asked for.
fn only(q: &HashMap<String, String>, known: &[&str]) -> ApiResult<()> {
    match q.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ApiError::bad(format!(
            "unknown parameter {k:?}; known: {}",
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

fn as_of(q: &HashMap<String, String>) -> ApiResult<Option<AsOf>> {
    if q.contains_key("as_of") && q.contains_key("as_of_time") {
        return Err(ApiError::bad("give as_of or as_of_time, not both"));
    }
    if let Some(seq) = num(q, "as_of")? {
        return Ok(Some(AsOf::Seq(seq)));
    }
    Ok(num(q, "as_of_time")?.map(|t| AsOf::Time(Timestamp(t))))
}

fn parse_case(s: &str) -> ApiResult<CaseId> {
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
        let handler = (op.serve.handler)(method);
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
    Router::new()
        .merge(stream)
        .merge(api)
        .merge(batch)
        .with_state(node.clone())
        .merge(console)
        .fallback(|| async { ApiError::not_found("no such endpoint (see docs/API.md)") })
        .layer(axum::middleware::from_fn_with_state(node.clone(), count))
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
fn access_span(req: &Request) -> tracing::Span {
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
fn access_answered(resp: &Response, latency: std::time::Duration, _: &tracing::Span) {
    tracing::info!(
        target: ACCESS_LOG,
        status = resp.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1e3,
        "answered"
    );
}

/// The access log's line when an answer fails (a 5xx, or a stream cut).
fn access_failed(
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

/// Counts every answer by route and status. The label is the route as the router
/// matched it (`/v1/cases/{id}`, `/cases/{id}/dossier`): one per route, API and console
/// alike, taken from the router itself rather than from a list kept beside it; a request
/// no route matched is `unmatched`.
async fn count(State(node): State<Shared>, req: Request, next: Next) -> Response {
    let route: Arc<str> = match req.extensions().get::<MatchedPath>() {
        Some(p) => Arc::from(p.as_str()),
        None => Arc::from("unmatched"),
    };
    let resp = next.run(req).await;
    node.http.request(route, resp.status().as_u16());
    resp
}

/// `ok`, or 503 with the reason once a storage failure stopped appends (reads go on; a
/// restart re-checks the store and repairs it from its journal).
pub(crate) async fn health(State(node): State<Shared>) -> Response {
    // A follower says how it stands with its leader: 200 while it hears from it, 503 once
    // the leader has been silent longer than its limit (reads of the copy go on).
    if let Some(status) = &node.follow {
        let size = node.ledger.head().map_or(0, |h| h.size);
        let view = status.view(size);
        let failure = node.ledger.failure();
        let code = match (view.state, &failure) {
            (_, Some(_)) | ("leader_unreachable", _) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::OK,
        };
        let mut body = serde_json::to_value(&view).unwrap_or_default();
        if let Some(o) = body.as_object_mut() {
            o.insert("role".into(), "follower".into());
            o.insert("storage_failed".into(), failure.into());
        }
        return (code, Json(body)).into_response();
    }
    match node.ledger.failure() {
        None => "ok".into_response(),
        Some(why) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_failed",
            format!(
                "appends stopped after a storage failure ({why}); reads go on: restart the node"
            ),
        )
        .into_response(),
    }
}

pub(crate) async fn metrics(State(node): State<Shared>) -> ApiResult<Response> {
    blocking(move || {
        let size = node.ledger.head()?.size;
        let age = node
            .ledger
            .latest_checkpoint()?
            .and_then(|(_, n)| Note::parse(&n).ok())
            .and_then(|n| coop_core::Checkpoint::parse_body(&n.text).ok())
            .map(|cp| (crate::node::now_secs() as f64 - cp.time.0 as f64 / 1000.0).max(0.0));
        let mut body = node.http.render(&node.ledger.metrics(), size, age);
        if let Some(status) = &node.follow {
            crate::metrics::render_follow(&mut body, &status.view(size));
        }
        Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response())
    })
    .await
}

pub(crate) async fn info(State(node): State<Shared>) -> ApiResult<Json<InfoJson>> {
    Ok(Json(InfoJson {
        ledger_id: node.ledger.ledger_id().map(|l| l.0),
        node_vkey: node
            .ledger
            .ledger_node_verifier()
            .map(|v| v.to_vkey())
            .unwrap_or_default(),
        genesis_node_vkey: node
            .ledger
            .with_state(|s| {
                s.ledger_id
                    .zip(s.agreement.node_keys.first())
                    .map(|(l, k)| coop_core::checkpoint::node_verifier(&l, k.key).to_vkey())
            })?
            .unwrap_or_default(),
        size: node.ledger.head()?.size,
        role: if node.leader.is_some() {
            "follower"
        } else if node.ledger.is_sequencer() {
            "leader"
        } else {
            "copy"
        }
        .into(),
        test_ledger: node.ledger.is_test_ledger(),
        time_ms: node.ledger.now().0,
    }))
}

/// Appends a signed event: `application/json` (the event with hex fields) or
/// `application/octet-stream` (its canonical bytes). The event's own signature is the
/// authentication.
async fn append_one(node: &Shared, headers: &HeaderMap, body: &Bytes) -> ApiResult<Receipt> {
    takes_appends(node)?;
    let event: SignedEvent = if is_json(headers) {
        let json: EventJson = serde_json::from_slice(body)
            .map_err(|e| invalid(format!("not a signed event: {e}")))?;
        json.to_event().map_err(|e| invalid(e.to_string()))?
    } else {
        SignedEvent::from_bytes(body).map_err(|e| invalid(e.to_string()))?
    };
    let span = tracing::Span::current();
    span.record(
        "author",
        tracing::field::display(&event.body.author.authority),
    );
    span.record("event", tracing::field::display(event.body.event_id));
    let started = Instant::now();
    let n = node.clone();
    let lang = lang_of(headers);
    let receipt = blocking(move || {
        n.ledger
            .submit(event)
            .map_err(|e| ApiError::of_submit(e, lang))
    })
    .await?;
    node.http.append(started.elapsed());
    node.notify_head();
    Ok(receipt)
}

/// `POST /v2/events`: [`append_one`], answered with the receipt that proves inclusion
/// (FORMAT.md §12).
pub(crate) async fn submit(
    State(node): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Receipt>> {
    append_one(&node, &headers, &body).await.map(Json)
}

/// `POST /v1/events`: [`append_one`], answered with a v1 receipt (the node's signature
/// over where the event landed), the shape v1 clients read (API.md, "Views and
/// versions").
pub(crate) async fn submit_v1(
    State(node): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<ReceiptV1>> {
    let r = append_one(&node, &headers, &body).await?;
    Ok(Json(node.ledger.receipt_v1(&r)))
}

/// 409 `follower` on a follower: appends go to the leader.
fn takes_appends(node: &Node) -> ApiResult<()> {
    match &node.leader {
        Some(leader) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "follower",
            format!("this node is a follower; submit to the leader at {leader}"),
        )),
        None => Ok(()),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// 400 `invalid`: the body is not an event (or a batch of them).
fn invalid(why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid",
        format!("{why}; nothing was written"),
    )
}

/// Appends many signed events, judged in order as if each were submitted alone, one
/// after another (docs/API.md): `application/json` ([`BatchJson`]) or
/// `application/octet-stream` (the canonical encoding of the list: a varint count, then
/// each signed event's bytes). Not atomic: each event is answered on its own; the answer
/// comes once every event that landed is durable.
pub(crate) async fn submit_batch(
    State(node): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<BatchAnswerV2>> {
    append_batch(&node, &headers, &body).await.map(Json)
}

/// `POST /v1/events:batch`: [`submit_batch`] with v1 receipts.
pub(crate) async fn submit_batch_v1(
    State(node): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<BatchAnswer>> {
    let a = append_batch(&node, &headers, &body).await?;
    Ok(Json(BatchAnswer {
        landed: a.landed,
        failed: a.failed,
        results: a
            .results
            .into_iter()
            .map(|i| BatchItem {
                status: i.status,
                receipt: i.receipt.map(|r| node.ledger.receipt_v1(&r)),
                error: i.error,
            })
            .collect(),
    }))
}

async fn append_batch(
    node: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResult<BatchAnswerV2> {
    takes_appends(node)?;
    let events: Vec<SignedEvent> = if is_json(headers) {
        let batch: BatchJson = serde_json::from_slice(body)
            .map_err(|e| invalid(format!("not a batch of signed events: {e}")))?;
        if batch.events.len() > MAX_BATCH {
            return Err(too_many(batch.events.len()));
        }
        batch
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                e.to_event()
                    .map_err(|e| invalid(format!("event {i} of the batch: {e}")))
            })
            .collect::<ApiResult<_>>()?
    } else {
        coop_core::encoding::decode::<Vec<SignedEvent>>(body)
            .map_err(|e| invalid(format!("not a canonical list of signed events: {e}")))?
    };
    if events.len() > MAX_BATCH {
        return Err(too_many(events.len()));
    }
    tracing::Span::current().record("event", tracing::field::display(events.len()));
    let started = Instant::now();
    let n = node.clone();
    let answers = blocking(move || Ok(n.ledger.submit_batch(events))).await?;
    let per = started.elapsed() / u32::try_from(answers.len().max(1)).unwrap_or(u32::MAX);
    let mut landed = 0;
    let results: Vec<BatchItem<Receipt>> = answers
        .into_iter()
        .map(|a| match a {
            Ok(receipt) => {
                landed += 1;
                node.http.append(per);
                BatchItem {
                    status: 200,
                    receipt: Some(receipt),
                    error: None,
                }
            }
            Err(e) => {
                let e = ApiError::of_submit(e, lang_of(headers));
                BatchItem {
                    status: e.status.as_u16(),
                    receipt: None,
                    error: Some(e.body),
                }
            }
        })
        .collect();
    node.notify_head();
    Ok(BatchAnswer {
        landed,
        failed: results.len() - landed,
        results,
    })
}

fn too_many(n: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_many",
        format!("a batch carries at most {MAX_BATCH} events, not {n}; nothing was written"),
    )
}

/// The canonical bytes to sign for an unsigned event in JSON, and its event hash
/// (docs/API.md): a client with only an Ed25519 library signs `signing_message`. The
/// body is checked as an append would check it before the signature: its version, its
/// ledger, its author's id and key, its size.
pub(crate) async fn prepare(
    State(node): State<Shared>,
    body: Bytes,
) -> ApiResult<Json<coop_treaty::Prepared>> {
    let json: BodyJson = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("not an event body: {e}")))?;
    let body = json.to_body().map_err(|e| ApiError::bad(e.to_string()))?;
    body.check_shape()
        .map_err(|e| ApiError::bad(e.to_string()))?;
    body.author
        .key
        .checked()
        .map_err(|e| ApiError::bad(format!("the author's key: {e}")))?;
    let ours = node.ledger.ledger_id();
    if body.ledger_id.is_some() && body.ledger_id != ours {
        return Err(ApiError::bad(format!(
            "the body names ledger {}, not this node's {}",
            body.ledger_id.map(|l| l.to_string()).unwrap_or_default(),
            ours.map(|l| l.to_string())
                .unwrap_or_else(|| "(none yet)".into())
        )));
    }
    if body.ledger_id.is_none() && ours.is_some() {
        return Err(ApiError::bad(
            "the body names no ledger (only a genesis does): set ledger_id from /v1/info",
        ));
    }
    json.prepare()
        .map(Json)
        .map_err(|e| ApiError::bad(e.to_string()))
}

/// The OpenAPI 3.1 description of this API, generated from the Rust types.
pub(crate) async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

pub(crate) async fn event_by_id(
    State(node): State<Shared>,
    signed: Signed,
    Path(id): Path<String>,
) -> ApiResult<Json<RecordJson>> {
    signed.reader(&node, Need::Ledger)?;
    let id = EventId::from_hex(&id).map_err(|_| ApiError::bad("an event id is 32 hex digits"))?;
    blocking(move || {
        node.ledger
            .record_by_event_id(&id)?
            .map(|r| Json(RecordJson::of(&r)))
            .ok_or_else(|| ApiError::not_found(format!("no event {id}")))
    })
    .await
}

pub(crate) async fn records(
    State(node): State<Shared>,
    signed: Signed,
    Query(q): Params,
) -> ApiResult<Json<RecordsPage>> {
    signed.reader(&node, Need::Ledger)?;
    let from = num(&q, "from")?.unwrap_or(0);
    let limit = num(&q, "limit")?
        .unwrap_or(node.config.page_limit)
        .clamp(1, node.config.page_limit);
    blocking(move || {
        let size = node.ledger.head()?.size;
        let end = from.saturating_add(limit).min(size);
        let records = if from < end {
            node.ledger
                .records(from, end)?
                .iter()
                .map(RecordJson::of)
                .collect()
        } else {
            Vec::new()
        };
        Ok(Json(RecordsPage {
            records,
            next: (end < size).then_some(end),
            size,
        }))
    })
    .await
}

pub(crate) async fn record(
    State(node): State<Shared>,
    signed: Signed,
    Path(seq): Path<String>,
) -> ApiResult<Json<RecordJson>> {
    signed.reader(&node, Need::Ledger)?;
    let seq: u64 = seq
        .parse()
        .map_err(|_| ApiError::bad("a seq is a whole number"))?;
    blocking(move || {
        node.ledger
            .record(seq)?
            .map(|r| Json(RecordJson::of(&r)))
            .ok_or_else(|| ApiError::not_found(format!("no record {seq}")))
    })
    .await
}

/// Server-sent events: every record from `from` (or after `Last-Event-ID`), then each new
/// one as it lands. Event type `record`, id = seq, data = the record's JSON.
pub(crate) async fn stream(
    State(node): State<Shared>,
    signed: Signed,
    Query(q): Params,
) -> ApiResult<Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>>> {
    let who = signed.reader(&node, Need::Ledger)?;
    // A reconnecting reader's `Last-Event-ID` is the seq it saw last: a whole number,
    // and the stream resumes after it (the last possible seq has nothing after it).
    let resume = match signed.headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .and_then(|s| s.checked_add(1))
                .ok_or_else(|| {
                    ApiError::bad(
                        "Last-Event-ID is the seq of a record: a whole number below 2^64 - 1",
                    )
                })?,
        ),
    };
    let from = match resume {
        Some(s) => s,
        None => num(&q, "from")?.unwrap_or(0),
    };
    let head = node.head.subscribe();
    let closing = node.closing.subscribe();
    struct Cursor {
        node: Shared,
        who: Reader,
        next: u64,
        head: watch::Receiver<u64>,
        closing: watch::Receiver<bool>,
        buf: VecDeque<Event>,
    }
    let start = Cursor {
        node,
        who,
        next: from,
        head,
        closing,
        buf: VecDeque::new(),
    };
    let s = futures_util::stream::unfold(start, |mut c| async move {
        loop {
            if *c.closing.borrow() {
                return None;
            }
            // Every change of the ledger may revoke the reader's key: a revoked, changed
            // or retired key stops reading at once (docs/adr/0010).
            if !c.node.still_current(&c.who) {
                return None;
            }
            if let Some(ev) = c.buf.pop_front() {
                return Some((Ok(ev), c));
            }
            let size = *c.head.borrow_and_update();
            if c.next < size {
                let (n, next) = (c.node.clone(), c.next);
                let end = (next + 256).min(size);
                let got = tokio::task::spawn_blocking(move || n.ledger.records(next, end)).await;
                let Ok(Ok(records)) = got else { return None };
                for r in &records {
                    let data = serde_json::to_string(&RecordJson::of(r)).ok()?;
                    c.buf.push_back(
                        Event::default()
                            .event("record")
                            .id(r.record.seq.to_string())
                            .data(data),
                    );
                }
                c.next = end;
                continue;
            }
            tokio::select! {
                changed = c.head.changed() => if changed.is_err() { return None },
                _ = c.closing.changed() => return None,
            }
        }
    });
    Ok(Sse::new(s).keep_alive(KeepAlive::default()))
}

pub(crate) async fn latest_checkpoint(
    State(node): State<Shared>,
    signed: Signed,
) -> ApiResult<Json<CheckpointJson>> {
    signed.reader(&node, Need::Ledger)?;
    blocking(move || {
        node.ledger
            .latest_checkpoint()?
            .map(|(size, note)| Json(CheckpointJson { size, note }))
            .ok_or_else(|| ApiError::not_found("no checkpoint yet"))
    })
    .await
}

pub(crate) async fn checkpoint(
    State(node): State<Shared>,
    signed: Signed,
    Path(size): Path<String>,
) -> ApiResult<Json<CheckpointJson>> {
    signed.reader(&node, Need::Ledger)?;
    let size: u64 = size
        .parse()
        .map_err(|_| ApiError::bad("a size is a whole number"))?;
    blocking(move || {
        node.ledger
            .checkpoint(size)?
            .map(|note| Json(CheckpointJson { size, note }))
            .ok_or_else(|| ApiError::not_found(format!("no checkpoint at size {size}")))
    })
    .await
}

/// A witness posts a checkpoint note carrying its cosignature. The node keeps only the
/// lines that verify (its own signature and the cosignatures of witnesses the ledger
/// registers), so nobody can fill a checkpoint with lines that crowd out the Parties' real
/// cosignatures, and stores them with those it had.
pub(crate) async fn cosign(
    State(node): State<Shared>,
    Path(size): Path<String>,
    body: Bytes,
) -> ApiResult<Json<CheckpointJson>> {
    if let Some(leader) = &node.leader {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "follower",
            format!("this node is a follower; cosign the leader's checkpoints at {leader}"),
        ));
    }
    let size: u64 = size
        .parse()
        .map_err(|_| ApiError::bad("a size is a whole number"))?;
    let posted =
        String::from_utf8(body.to_vec()).map_err(|_| ApiError::bad("a note is UTF-8 text"))?;
    blocking(move || {
        if node.ledger.checkpoint(size)?.is_none() {
            return Err(ApiError::not_found(format!("no checkpoint at size {size}")));
        }
        let unauthenticated =
            |m: String| ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", m);
        let (nodes, witnesses) = node.ledger.with_state(|s| {
            (
                coop_verify::node_verifiers(s, size),
                coop_verify::registered_witnesses(s, size.saturating_sub(1)),
            )
        })?;
        let verifiers: Vec<_> = witnesses.iter().map(|(v, _)| v.clone()).collect();
        let v = coop_verify::verify_by_any(&posted, &nodes, &verifiers).map_err(|e| {
            unauthenticated(format!("the cosigned checkpoint does not verify: {e}"))
        })?;
        if v.checkpoint.size != size {
            return Err(ApiError::bad("the note is for another size"));
        }
        if v.cosigned.is_empty() {
            return Err(unauthenticated(
                "the note carries no cosignature of a witness registered in the ledger".into(),
            ));
        }
        let (_, note) = node.ledger.store_checkpoint(&posted)?;
        Ok(Json(CheckpointJson { size, note }))
    })
    .await
}

pub(crate) async fn inclusion(
    State(node): State<Shared>,
    signed: Signed,
    Query(q): Params,
) -> ApiResult<Json<InclusionJson>> {
    signed.reader(&node, Need::Ledger)?;
    let seq = num(&q, "seq")?.ok_or_else(|| ApiError::bad("give seq"))?;
    let size = num(&q, "size")?.ok_or_else(|| ApiError::bad("give size"))?;
    blocking(move || {
        let leaf = node
            .ledger
            .record(seq)?
            .ok_or_else(|| ApiError::not_found(format!("no record {seq}")))?
            .leaf;
        let proof = node
            .ledger
            .inclusion_proof(seq, size)
            .map_err(|e| ApiError::bad(e.to_string()))?;
        Ok(Json(InclusionJson {
            seq,
            size,
            leaf,
            proof,
        }))
    })
    .await
}

pub(crate) async fn consistency(
    State(node): State<Shared>,
    signed: Signed,
    Query(q): Params,
) -> ApiResult<Json<ConsistencyJson>> {
    signed.reader(&node, Need::Ledger)?;
    let from = num(&q, "from")?.ok_or_else(|| ApiError::bad("give from"))?;
    let to = num(&q, "to")?.ok_or_else(|| ApiError::bad("give to"))?;
    blocking(move || {
        let proof = node
            .ledger
            .consistency_proof(from, to)
            .map_err(|e| ApiError::bad(e.to_string()))?;
        Ok(Json(ConsistencyJson { from, to, proof }))
    })
    .await
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
