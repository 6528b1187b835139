//! The case and Article 7 reads: each handler checks the signed reader, calls the read
//! model (coop_ledger::read) once and answers its typed view as JSON.

use super::*;

/// The case query of `/v1/cases` and `/v2/cases`: an unknown parameter or value is
/// refused (400), never answered with an empty list.
fn case_query(q: &HashMap<String, String>) -> ApiResult<read::CaseQuery> {
    // The console's forms send a blank field for "any"; an API client leaves the
    // parameter out, so a blank value here is a mistake (a template that lost its value).
    if let Some(k) = q.iter().find(|(_, v)| v.is_empty()).map(|(k, _)| k) {
        return Err(ApiError::bad(format!(
            "{k} is empty: give a value, or leave the parameter out to mean any"
        )));
    }
    read::CaseQuery::parse(
        q.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &["as_of", "as_of_time"],
    )
    .map_err(|e| ApiError::bad(e.to_string()))
}

/// `GET /v1/cases?status=&category=&overdue=&disputed=&authority=&q=&offset=&limit=&as_of=`:
/// full case projections, every match unless `limit` is given (v1's contract); a
/// competent authority sees its own cases.
pub(crate) async fn cases(
    State(node): State<Shared>,
    signed: Signed,
    Query(q): Params,
) -> ApiResult<Json<serde_json::Value>> {
    let r = signed.reader(&node, Need::Cases)?;
    let at = as_of(&q)?;
    let query = case_query(&q)?;
    blocking(move || {
        let at = node.ledger.at(at)?;
        let all = read::matching(&at, &query, r.viewer());
        let limit = if query.limit == 0 {
            usize::MAX
        } else {
            query.limit
        };
        let (page, total, next_offset) = read::page_of(all, query.offset, limit);
        let cases = page
            .into_iter()
            .map(|c| read::detail(&node.ledger, c))
            .collect::<Result<Vec<_>, _>>()?;
        to_json(&crate::wire::CasesV1 {
            as_of_size: at.state.size,
            total,
            offset: query.offset,
            next_offset,
            cases,
        })
    })
    .await
}

/// `GET /v2/cases`, the same parameters: one page (50 by default, at most 1000) of typed
/// rows (coop_ledger::read::CasePage).
pub(crate) async fn cases_v2(
    State(node): State<Shared>,
    signed: Signed,
    Query(q): Params,
) -> ApiResult<Json<serde_json::Value>> {
    let r = signed.reader(&node, Need::Cases)?;
    let at = as_of(&q)?;
    let query = case_query(&q)?;
    blocking(move || {
        let at = node.ledger.at(at)?;
        to_json(&read::cases(&at, &query, r.viewer()))
    })
    .await
}

/// `/v1/cases/{id}` (the case, its deadlines judged, what is overdue) and
/// `/v1/cases/{id}/timeline`, as of `?as_of=SEQ` or `?as_of_time=MS`.
pub(crate) async fn case(
    State(node): State<Shared>,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult<Json<serde_json::Value>> {
    let id = parse_case(&id)?;
    signed.reader(&node, Need::Case(id))?;
    only(&q, &["as_of", "as_of_time"])?;
    let at = as_of(&q)?;
    let timeline_only = signed.uri.path().ends_with("/timeline");
    blocking(move || {
        let at = node.ledger.at(at)?;
        let missing = || ApiError::not_found(format!("no case {id} at that point"));
        // Access to the case was checked above (Need::Case); the view needs no viewer.
        if timeline_only {
            to_json(&read::timeline(&node.ledger, &at, &id, None)?.ok_or_else(missing)?)
        } else {
            to_json(&read::case(&node.ledger, &at, &id, None)?.ok_or_else(missing)?)
        }
    })
    .await
}

pub(crate) async fn bundle(
    State(node): State<Shared>,
    signed: Signed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_case(&id)?;
    signed.reader(&node, Need::Case(id))?;
    blocking(move || {
        if node.ledger.with_state(|s| s.cases.contains_key(&id))? {
            let made = node.ledger.evidence_bundle(&id)?;
            let bytes = made
                .bundle
                .to_bytes()
                .map_err(|e| ApiError::unavailable(e.to_string()))?;
            Ok((
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                )],
                bytes,
            )
                .into_response())
        } else {
            Err(ApiError::not_found(format!("no case {id}")))
        }
    })
    .await
}

pub(crate) async fn register(
    State(node): State<Shared>,
    signed: Signed,
) -> ApiResult<Json<serde_json::Value>> {
    signed.reader(&node, Need::Register)?;
    state_json(node, |s| {
        let items: crate::wire::RegisterJson<'_> = s.register.values().map(|i| &**i).collect();
        serde_json::to_value(items)
    })
    .await
}

pub(crate) async fn report(
    State(node): State<Shared>,
    signed: Signed,
    Query(q): Params,
) -> ApiResult<Json<serde_json::Value>> {
    signed.reader(&node, Need::Register)?;
    only(&q, &["as_of", "as_of_time"])?;
    let at = as_of(&q)?;
    blocking(move || {
        let r = node.ledger.report(at)?;
        to_json(&crate::wire::ReportJson {
            held: r.held(),
            report: &r,
        })
    })
    .await
}

pub(crate) async fn authorities(
    State(node): State<Shared>,
    signed: Signed,
    Query(q): Params,
) -> ApiResult<Json<serde_json::Value>> {
    signed.reader(&node, Need::Ledger)?;
    let at = as_of(&q)?;
    blocking(move || {
        // The registry as it stood at a point (keys valid then, authorities retired
        // since), or now.
        let now = node.ledger.at(at)?;
        serde_json::to_value(&now.state.registry)
            .map(Json)
            .map_err(|e| ApiError::unavailable(e.to_string()))
    })
    .await
}

/// A typed view as a JSON answer (views borrow from a state that does not outlive the
/// handler's closure).
fn to_json<T: serde::Serialize>(view: &T) -> ApiResult<Json<serde_json::Value>> {
    serde_json::to_value(view)
        .map(Json)
        .map_err(|e| ApiError::unavailable(e.to_string()))
}

/// A JSON view of part of the live state.
async fn state_json(
    node: Shared,
    view: fn(&TreatyState) -> serde_json::Result<serde_json::Value>,
) -> ApiResult<Json<serde_json::Value>> {
    blocking(move || {
        node.ledger
            .with_state(view)?
            .map(Json)
            .map_err(|e| ApiError::unavailable(e.to_string()))
    })
    .await
}
