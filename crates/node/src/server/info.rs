//! Who the node is and how it stands: health, metrics, info, the OpenAPI document.

use super::*;

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
        crate::metrics::render_access(&mut body, &node.console_access.stats());
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

/// The OpenAPI 3.1 description of this API, generated from the Rust types.
pub(crate) async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}
