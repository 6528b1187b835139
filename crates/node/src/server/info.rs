//! Who the node is and how it stands: health, metrics, info, the OpenAPI document.

use super::*;

/// What a leader's (or a read-only copy's) `/healthz` says: that it is up, and how far
/// each Party's witnesses have cosigned its checkpoints (docs/adr/0026).
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct HealthView {
    /// `ok`.
    pub status: &'static str,
    /// `leader` or `copy`.
    pub role: &'static str,
    /// Records.
    pub size: u64,
    /// How far the witnesses have cosigned.
    pub witnessed: coop_ledger::Witnessing,
    /// How far sled is behind the journal, the write-ahead log (docs/adr/0027).
    pub sled: Option<SledHealth>,
}

/// How far sled is behind the journal: appends and reads never wait for it (what it
/// lacks is read from memory), but a sled that stays behind is an alarm.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct SledHealth {
    /// Records the journal holds that sled has not applied yet.
    pub behind_records: u64,
    /// Batches among them.
    pub behind_batches: u64,
    /// How long the oldest of them has waited (seconds).
    pub behind_seconds: f64,
    /// Why sled stopped applying, if it did (it is rebuilt from the journal by itself).
    pub failed: Option<String>,
    /// Times sled was rebuilt from the journal while the node ran.
    pub rebuilds: u64,
}

impl SledHealth {
    pub(crate) fn of(lag: &coop_store::Lag) -> SledHealth {
        SledHealth {
            behind_records: lag.records,
            behind_batches: lag.batches,
            behind_seconds: lag.oldest_ms as f64 / 1000.0,
            failed: lag.failed.clone(),
            rebuilds: lag.rebuilds,
        }
    }
}

/// A follower's `/healthz`: its sync state, its role, whether storage failed, and how far
/// the witnesses have cosigned the copy it holds.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct FollowerHealth {
    /// The sync state.
    #[serde(flatten)]
    pub sync: crate::sync::SyncView,
    /// `follower`.
    pub role: &'static str,
    /// Why storage failed, once it did (appends of copied records stopped).
    pub storage_failed: Option<String>,
    /// How far the witnesses have cosigned the copy.
    pub witnessed: coop_ledger::Witnessing,
    /// How far sled is behind the journal.
    pub sled: Option<SledHealth>,
}

/// What `/healthz` answers: a leader's or copy's [`HealthView`], or a follower's state.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub(crate) enum Health {
    /// A leader or a read-only copy.
    Node(HealthView),
    /// A follower.
    Follower(FollowerHealth),
}

/// A leader: JSON [`HealthView`], or 503 with the reason once a storage failure stopped
/// appends (reads go on; a restart re-checks the store and repairs it from its journal).
/// A follower: its sync state, with the same `witnessed`.
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
        let witnessed = witnessing(&node).await;
        let body = Health::Follower(FollowerHealth {
            sync: view,
            role: "follower",
            storage_failed: failure,
            witnessed,
            sled: node.ledger.storage_lag().as_ref().map(SledHealth::of),
        });
        return (code, Json(body)).into_response();
    }
    match node.ledger.failure() {
        None => {
            let witnessed = witnessing(&node).await;
            Json(Health::Node(HealthView {
                status: "ok",
                role: if node.ledger.is_sequencer() {
                    "leader"
                } else {
                    "copy"
                },
                size: node.ledger.head().map_or(0, |h| h.size),
                witnessed,
                sled: node.ledger.storage_lag().as_ref().map(SledHealth::of),
            }))
            .into_response()
        }
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

/// How far the witnesses have cosigned (nothing known when the store cannot say).
async fn witnessing(node: &Shared) -> coop_ledger::Witnessing {
    let n = node.clone();
    tokio::task::spawn_blocking(move || n.ledger.witnessing().ok())
        .await
        .ok()
        .flatten()
        .unwrap_or(coop_ledger::Witnessing {
            kz: None,
            tm: None,
            both: None,
            unwitnessed: 0,
        })
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
        crate::metrics::render_witnessing(&mut body, &node.ledger.witnessing()?);
        if let Some(lag) = node.ledger.storage_lag() {
            crate::metrics::render_sled(&mut body, &lag);
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
