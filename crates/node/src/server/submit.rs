//! Appends: one event or a batch, as canonical bytes or JSON, receipts v1 and v2, and prepare.

use super::*;

/// Appends a signed event: `application/json` (the event with hex fields) or
/// `application/octet-stream` (its canonical bytes). The event's own signature is the
/// authentication.
pub(crate) async fn append_one(
    node: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResult<Receipt> {
    takes_appends(node)?;
    let event: SignedEvent = if is_json(headers) {
        let json: EventJson = serde_json::from_slice(body)
            .map_err(|e| not_decoded(headers, body, "a signed event", e))?;
        json.to_event().map_err(|e| invalid(e.to_string()))?
    } else {
        SignedEvent::from_bytes(body)
            .map_err(|e| not_decoded(headers, body, "a signed event", e))?
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
pub(crate) fn takes_appends(node: &Node) -> ApiResult<()> {
    match &node.leader {
        Some(leader) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "follower",
            format!("this node is a follower; submit to the leader at {leader}"),
        )),
        None => Ok(()),
    }
}

pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// What is wrong with a body that did not decode as `what`, said to a person: an empty
/// body, JSON sent without its content type, or what the decoder found (in words).
fn not_decoded(
    headers: &HeaderMap,
    body: &[u8],
    what: &str,
    e: impl std::fmt::Display,
) -> ApiError {
    if body.iter().all(u8::is_ascii_whitespace) {
        return invalid(format!(
            "the body is empty: send {what} as JSON (Content-Type: application/json) or as canonical bytes (application/octet-stream)"
        ));
    }
    if !is_json(headers) && body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let sent = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map_or_else(
                || "no Content-Type".to_owned(),
                |v| format!("Content-Type {v}"),
            );
        return invalid(format!(
            "the body is JSON but came with {sent}: send it with Content-Type: application/json"
        ));
    }
    invalid(format!("not {what}: {e}"))
}

/// 400 `invalid`: the body is not an event (or a batch of them).
pub(crate) fn invalid(why: impl std::fmt::Display) -> ApiError {
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

pub(crate) async fn append_batch(
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
            .map_err(|e| not_decoded(headers, body, "a canonical list of signed events", e))?
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

pub(crate) fn too_many(n: usize) -> ApiError {
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
) -> ApiResult<Json<coop_wire::Prepared>> {
    let (json, body) = draft(&node, &body)?;
    // Bytes to sign are prepared only for the author's own, active key (the rules' own
    // Art. 3 check): another authority's key is named as its owner's.
    if node.ledger.ledger_id().is_some() {
        let who = node
            .ledger
            .with_state(|s| coop_treaty::author_key(s, &body.author, s.size).err())?;
        if let Some(v) = who {
            return Err(ApiError::bad(v.to_string()));
        }
    }
    json.prepare()
        .map(Json)
        .map_err(|e| ApiError::bad(e.to_string()))
}

/// `POST /v1/events/check`: every problem the Agreement's rules find with an unsigned
/// body as the next record, each with its clause and a message in the reader's
/// language; nothing is written (docs/API.md).
pub(crate) async fn check(
    State(node): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<crate::wire::CheckJson>> {
    let (_, body) = draft(&node, &body)?;
    let lang = lang_of(&headers);
    blocking(move || {
        let size = node.ledger.head()?.size;
        let problems = node.ledger.problems(body)?;
        Ok(Json(crate::wire::CheckJson {
            ok: problems.is_empty(),
            size,
            problems: problems
                .iter()
                .map(|v| crate::wire::ProblemJson {
                    clause: v.clause(),
                    message: coop_i18n::refusal(lang, v),
                })
                .collect(),
        }))
    })
    .await
}

/// An unsigned body in JSON, checked as an append would check it before its signature
/// and the rules: its version, its ledger, its author's id and key, its size.
fn draft(node: &Shared, body: &[u8]) -> ApiResult<(BodyJson, coop_core::EventBody)> {
    let json: BodyJson = serde_json::from_slice(body)
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
    Ok((json, body))
}
