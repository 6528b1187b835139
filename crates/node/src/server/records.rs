//! Records: by event id, in ranges, one by seq, and the live stream.

use super::*;

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
    let max = node.config.page_limit;
    let limit = match num(&q, "limit")? {
        None => max,
        Some(n) if (1..=max).contains(&n) => n,
        Some(n) => return Err(ApiError::bad(format!("limit {n} is not from 1 to {max}"))),
    };
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
