//! Checkpoints, cosignatures, and inclusion and consistency proofs.

use super::*;

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
        let keys = node.ledger.checkpoint_keys(size)?;
        let v = coop_verify::verify_by_any(&posted, &keys.nodes, &keys.verifiers).map_err(|e| {
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

/// A proof the ledger refuses to make is not there (404); a storage fault stays a 5xx.
fn no_such_proof(e: LedgerError) -> ApiError {
    match e {
        LedgerError::BadQuery(m) => ApiError::not_found(m),
        e => e.into(),
    }
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
        // A well-formed question the ledger has no answer to (a size it signed no
        // checkpoint for, a seq not below it): no such proof.
        let proof = node
            .ledger
            .inclusion_proof(seq, size)
            .map_err(no_such_proof)?;
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
            .map_err(no_such_proof)?;
        Ok(Json(ConsistencyJson { from, to, proof }))
    })
    .await
}
