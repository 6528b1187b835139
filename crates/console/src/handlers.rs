//! The pages' handlers: parse, one read-model call, render.

use crate::*;

pub(crate) async fn overview(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let l = ctx.lang;
        let ov = read::overview(c.source.as_ref(), &now, ctx.viewer())
            .map_err(|e| Fail::of_ledger(l, e))?;
        let mut stats = read::stats(c.source.as_ref(), &now, ctx.viewer())
            .map_err(|e| Fail::of_ledger(l, e))?;
        if !ctx.reads_register() {
            stats.article7_flows.clear();
        }
        // As of an earlier point: what changed between then and the latest.
        let changes = if ctx.as_of.is_some() {
            let latest = c.source.at(None).map_err(|e| Fail::of_ledger(l, e))?;
            Some((
                latest.state.size,
                read::changes(&now.state, &latest.state, ctx.viewer()),
            ))
        } else {
            None
        };
        let witnessing = c.desk.as_ref().and_then(|d| d.witnessing());
        Ok(page(
            &ctx,
            pages::overview(
                &c,
                &ctx,
                &now,
                &ov,
                &stats,
                changes.as_ref(),
                witnessing.as_ref(),
            ),
        ))
    })
    .await
}

/// The case query of a list page (an unknown parameter or value is a 400 page).
pub(crate) fn case_query(ctx: &Ctx) -> Result<read::CaseQuery, Fail> {
    read::CaseQuery::parse(ctx.list_pairs(), &["as_of", "lang"])
        .map_err(|e| Fail::bad(ctx.lang, e.to_string()))
}

pub(crate) async fn cases(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    ctx.forbid(ctx.reads_cases())?;
    let query = case_query(&ctx)?;
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let list = read::cases(&now, &query, ctx.viewer());
        Ok(page(&ctx, pages::cases(&c, &ctx, &now, &query, &list)))
    })
    .await
}

pub(crate) async fn cases_csv(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    ctx.forbid(ctx.reads_cases())?;
    let mut query = case_query(&ctx)?;
    // A CSV is every matching case, not one page.
    query.offset = 0;
    query.limit = usize::MAX;
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let list = read::cases(&now, &query, ctx.viewer());
        Ok(csv("cases.csv", pages::cases_csv(&c, &ctx, &now, &list)))
    })
    .await
}

pub(crate) fn case_at(c: &Console, ctx: &Ctx, id: &str) -> Result<(At, read::CaseView), Fail> {
    ctx.forbid(ctx.reads_cases())?;
    let id = read::parse_case(id).map_err(|e| Fail::bad(ctx.lang, e.to_string()))?;
    let now = at(c, ctx)?;
    // A case between other authorities answers as one that does not exist: its id
    // tells a competent authority nothing.
    let view = read::case(c.source.as_ref(), &now, &id, ctx.viewer())
        .map_err(|e| Fail::of_ledger(ctx.lang, e))?
        .ok_or_else(|| {
            Fail::not_found(
                ctx.lang,
                ctx.lang
                    .ta("error-no-case", &[("id", i18n::text(id.to_hex()))]),
            )
        })?;
    Ok((now, view))
}

pub(crate) async fn case(
    State(c): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let (now, view) = case_at(&c, &ctx, &id)?;
        let latest = if ctx.as_of.is_some() {
            c.source
                .at(None)
                .map_err(|e| Fail::of_ledger(ctx.lang, e))?
                .state
                .cases
                .remove(&view.case.id)
        } else {
            None
        };
        Ok(page(
            &ctx,
            pages::case(&c, &ctx, &now, &view, latest.as_deref(), false),
        ))
    })
    .await
}

pub(crate) async fn dossier(
    State(c): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let (now, view) = case_at(&c, &ctx, &id)?;
        Ok(page(&ctx, pages::case(&c, &ctx, &now, &view, None, true)))
    })
    .await
}

pub(crate) async fn timeline_csv(
    State(c): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let (now, view) = case_at(&c, &ctx, &id)?;
        Ok(csv(
            &format!("case-{}-timeline.csv", view.case.id.to_hex()),
            pages::timeline_csv(&c, &ctx, &now, &view),
        ))
    })
    .await
}

pub(crate) async fn article7_page(c: Shared, ctx: Ctx, print: bool) -> Result<Response, Fail> {
    ctx.forbid(ctx.reads_register())?;
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let report = coop_treaty::ComplianceReport::build(&now.state);
        Ok(page(&ctx, pages::article7(&c, &ctx, &now, &report, print)))
    })
    .await
}

pub(crate) async fn article7(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    article7_page(c, ctx, false).await
}

pub(crate) async fn article7_print(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    article7_page(c, ctx, true).await
}

pub(crate) async fn article7_csv(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    ctx.forbid(ctx.reads_register())?;
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let report = coop_treaty::ComplianceReport::build(&now.state);
        Ok(csv(
            "article7.csv",
            pages::article7_csv(&c, &ctx, &now, &report),
        ))
    })
    .await
}

pub(crate) async fn registry(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let rows = read::registry(&now);
        Ok(page(&ctx, pages::registry(&c, &ctx, &now, &rows)))
    })
    .await
}

pub(crate) async fn registry_csv(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let rows = read::registry(&now);
        Ok(csv(
            "registry.csv",
            pages::registry_csv(&c, &ctx, &now, &rows),
        ))
    })
    .await
}

pub(crate) async fn checkpoints(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let list = c
            .source
            .checkpoints()
            .map_err(|e| Fail::of_ledger(ctx.lang, e))?;
        Ok(page(&ctx, pages::checkpoints(&c, &ctx, &now, &list)))
    })
    .await
}

pub(crate) async fn documents(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    ctx.forbid(ctx.reads_cases())?;
    let digest = match ctx.get("digest").map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => Some(
            coop_core::Hash::from_hex(&d.to_ascii_lowercase()).map_err(|_| {
                Fail::bad(
                    ctx.lang,
                    ctx.lang.ta("error-digest", &[("given", i18n::text(d))]),
                )
            })?,
        ),
    };
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let hits = match &digest {
            Some(d) => Some(
                read::documents(c.source.as_ref(), &now, d, ctx.viewer())
                    .map_err(|e| Fail::of_ledger(ctx.lang, e))?,
            ),
            None => None,
        };
        Ok(page(
            &ctx,
            pages::documents(&c, &ctx, &now, digest.as_ref(), hits.as_deref()),
        ))
    })
    .await
}

/// Whose desk a page shows: a signed-in competent authority's own (another's is
/// forbidden); for a root, an auditor or the console without sign-in, the authority
/// chosen with `for=` (`None` until one is). The second value: whether the reader may
/// choose.
fn desk_owner(ctx: &Ctx, now: &At) -> Result<(Option<coop_core::AuthorityId>, bool), Fail> {
    use coop_core::AuthorityId;
    use coop_treaty::Role;
    let chosen = ctx.get("for").filter(|v| !v.is_empty());
    if let Some(w) = ctx.who.as_ref().filter(|w| w.role == Role::Competent) {
        if chosen.is_some_and(|c| c != w.id.as_str()) {
            ctx.forbid(false)?;
        }
        return Ok((Some(w.id.clone()), false));
    }
    let Some(id) = chosen else {
        return Ok((None, true));
    };
    let id = AuthorityId::new(id).map_err(|e| Fail::bad(ctx.lang, e.to_string()))?;
    if now
        .state
        .registry
        .get(&id)
        .is_none_or(|r| r.role != Role::Competent)
    {
        return Err(Fail::bad(
            ctx.lang,
            format!("{id} is not a registered competent authority"),
        ));
    }
    Ok((Some(id), true))
}

pub(crate) async fn inbox(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    ctx.forbid(ctx.reads_cases())?;
    let query = read::DeskQuery::parse(ctx.list_pairs(), &["as_of", "lang", "for"])
        .map_err(|e| Fail::bad(ctx.lang, e.to_string()))?;
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let (me, may_choose) = desk_owner(&ctx, &now)?;
        let list = me.as_ref().map(|m| read::inbox(&now, m, &query));
        Ok(page(
            &ctx,
            pages::inbox(
                &c,
                &ctx,
                &now,
                me.as_ref(),
                &query,
                list.as_ref(),
                may_choose,
            ),
        ))
    })
    .await
}

pub(crate) async fn outbox(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    ctx.forbid(ctx.reads_cases())?;
    let offset = match ctx.get("offset").filter(|v| !v.is_empty()) {
        Some(v) => v
            .parse()
            .map_err(|_| Fail::bad(ctx.lang, format!("offset {v:?} is not a number")))?,
        None => 0,
    };
    work(ctx.lang, move || {
        let now = at(&c, &ctx)?;
        let (me, may_choose) = desk_owner(&ctx, &now)?;
        let list = me
            .as_ref()
            .map(|m| read::outbox(&now, m, offset, read::MAX_PAGE));
        Ok(page(
            &ctx,
            pages::outbox(&c, &ctx, &now, me.as_ref(), list.as_ref(), may_choose),
        ))
    })
    .await
}

/// `GET /compose`: the acts outside cases the signed-in key may sign.
pub(crate) async fn acts(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let l = ctx.lang;
    if c.desk.is_none() {
        return Err(Fail::not_found(l, l.t("compose-copy")));
    }
    let Some(role) = ctx
        .who
        .as_ref()
        .map(|w| w.role)
        .filter(|r| matches!(r, coop_treaty::Role::Root | coop_treaty::Role::Competent))
    else {
        ctx.forbid(false)?;
        return Err(Fail::not_found(l, l.t("compose-copy")));
    };
    work(l, move || {
        let now = at(&c, &ctx)?;
        Ok(page(
            &ctx,
            pages::acts(&c, &ctx, &now, role == coop_treaty::Role::Root),
        ))
    })
    .await
}

/// `GET /desk/live`: server-sent events, `event: size` with the ledger's size, at once
/// and each time a record lands, for a signed-in reader's open inbox or outbox, which
/// then fetches itself again (static/console.js). It carries no record: what a reader
/// may see is the page's to decide, under the same checks as any page. It ends when the
/// node closes.
pub(crate) async fn desk_live(State(c): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    ctx.forbid(ctx.reads_cases())?;
    let Some(desk) = c.desk.clone() else {
        return Err(Fail::not_found(ctx.lang, ctx.lang.t("compose-copy")));
    };
    let (head, closing) = desk.live();
    let s = futures_util::stream::unfold(
        (head, closing, true),
        |(mut head, mut closing, first)| async move {
            if !first {
                tokio::select! {
                    changed = head.changed() => if changed.is_err() { return None },
                    _ = closing.changed() => return None,
                }
            }
            if *closing.borrow() {
                return None;
            }
            let size = *head.borrow_and_update();
            let event = Event::default().event("size").data(size.to_string());
            Some((
                Ok::<_, std::convert::Infallible>(event),
                (head, closing, false),
            ))
        },
    );
    Ok(Sse::new(s).keep_alive(KeepAlive::default()).into_response())
}

/// The acts the console drafts, signs and submits (docs/CONSOLE.md): the request and
/// every act of [`crate::act::ACTS`]. Only the genesis is not (`coopledger init`).
pub fn composable() -> impl Iterator<Item = &'static str> {
    std::iter::once("Request").chain(crate::act::kinds())
}

/// Whether the console drafts acts of this kind.
pub fn is_composable(kind: &str) -> bool {
    kind == "Request" || crate::act::fields(kind).is_some()
}

/// Whether an act of this kind is a form to fill before it is judged (any field at all),
/// rather than a confirmation judged at once.
pub fn is_form(kind: &str) -> bool {
    kind == "Request" || crate::act::fields(kind).is_some_and(|f| !f.is_empty())
}

/// `GET /compose/{kind}?case=ID`: the act drafted for the signed-in authority from the
/// case as it stands now (an act outside cases needs no case; a root's acts are the
/// governance acts), judged by the Agreement's rules (every problem at once), and, when
/// there is none, the exact event and its bytes to sign in the browser.
pub(crate) async fn compose(
    State(c): State<Shared>,
    Path(kind): Path<String>,
    ctx: Ctx,
) -> Result<Response, Fail> {
    let l = ctx.lang;
    let Some(desk) = c.desk.clone() else {
        return Err(Fail::not_found(l, l.t("compose-copy")));
    };
    if !is_composable(&kind) {
        return Err(Fail::not_found(
            l,
            l.ta("compose-not-yet", &[("kind", i18n::text(kind.clone()))]),
        ));
    }
    let role = if crate::act::governance(&kind) {
        coop_treaty::Role::Root
    } else {
        coop_treaty::Role::Competent
    };
    let Some(who) = ctx.who.clone().filter(|w| w.role == role) else {
        ctx.forbid(false)?;
        return Err(Fail::not_found(l, l.t("compose-copy")));
    };
    if ctx.as_of.is_some() {
        return Err(Fail::bad(l, l.t("compose-as-of")));
    }
    if kind == "Request" {
        return compose_request(c, ctx, desk, who).await;
    }
    // A form is read here; only once the clerk asks for a check is it judged.
    let get = |k: &str| ctx.get(k).map(str::to_owned);
    let mut unreadable = Vec::new();
    let form = is_form(&kind);
    let Some(payload) = crate::act::payload(&kind, &get, &mut unreadable) else {
        return Err(Fail::not_found(
            l,
            l.ta("compose-not-yet", &[("kind", i18n::text(kind.clone()))]),
        ));
    };
    let case_id = if crate::act::in_case(&kind) {
        Some(
            read::parse_case(ctx.get("case").unwrap_or_default())
                .map_err(|e| Fail::bad(l, e.to_string()))?,
        )
    } else {
        None
    };
    work(l, move || {
        let now = at(&c, &ctx)?;
        let case = match case_id {
            Some(id) => Some(
                now.state
                    .cases
                    .get(&id)
                    .filter(|k| k.requester == who.id || k.requested == who.id)
                    .ok_or_else(|| Fail::not_found(l, format!("no case {id}")))?
                    .clone(),
            ),
            None => None,
        };
        let key = current_key(l, &now, &who.id)?;
        let mut payload = payload;
        if let (
            coop_treaty::Payload::InformationTransferred {
                recipient,
                permitted_purposes,
                ..
            },
            Some(case),
        ) = (&mut payload, &case)
        {
            // The other side of the case, and the purposes of its request (Art. 7.2).
            *recipient = if case.requester == who.id {
                case.requested.clone()
            } else {
                case.requester.clone()
            };
            permitted_purposes.clone_from(&case.purposes);
        }
        let mut event_id = [0u8; 16];
        getrandom::fill(&mut event_id)
            .map_err(|e| Fail::bad(l, format!("no randomness for an event id: {e}")))?;
        let body = coop_wire::BodyJson {
            version: coop_core::event::EVENT_FORMAT_VERSION,
            ledger_id: c.source.ledger_id(),
            event_id: coop_core::EventId(event_id),
            author: coop_core::Author {
                authority: who.id.clone(),
                key,
            },
            authored_at: now.now,
            case: case.as_ref().map(|k| coop_core::CaseRef {
                case_id: k.id,
                expected_version: k.version,
            }),
            answers: Vec::new(),
            payload,
        };
        // A form is judged once the clerk asks (its first view is empty, not wrong).
        let judged = !form || ctx.get("check").is_some();
        let (problems, prepared) = judge(l, desk.as_ref(), &body, judged, &unreadable)?;
        Ok(page(
            &ctx,
            pages::compose(
                &c,
                &ctx,
                &now,
                case.as_deref(),
                &body,
                pages::Judged {
                    form,
                    checked: judged,
                    unreadable: &unreadable,
                    problems: &problems,
                },
                prepared.as_ref(),
            ),
        ))
    })
    .await
}

/// `GET /cases/{id}/letter`: the case's request as a print-ready letter (Art. 4.1), read
/// from the request's own record.
pub(crate) async fn letter(
    State(c): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    work(ctx.lang, move || {
        let l = ctx.lang;
        let (now, view) = case_at(&c, &ctx, &id)?;
        let first =
            view.case.steps.first().ok_or_else(|| {
                Fail::not_found(l, format!("case {} has no request", view.case.id))
            })?;
        let record = c
            .source
            .record(first.seq)
            .map_err(|e| Fail::of_ledger(l, e))?
            .ok_or_else(|| Fail::not_found(l, format!("record {} is not held", first.seq)))?;
        let request = match coop_treaty::Payload::from_bytes(&record.event.body.payload) {
            Ok(coop_treaty::Payload::Request(r)) => r,
            _ => {
                return Err(Fail::not_found(
                    l,
                    format!("case {} opens with no request", view.case.id),
                ));
            }
        };
        Ok(page(
            &ctx,
            pages::letter(
                &c,
                &ctx,
                &now,
                &view,
                &request,
                first.seq,
                &first.event_hash.to_hex(),
            ),
        ))
    })
    .await
}

/// `GET /compose/Request`: the request form, element by element; with `check`, the draft
/// its fields describe judged by the rules (every problem beside its field) and, when
/// nothing is wrong, the exact event to sign. The case id is chosen once and kept.
async fn compose_request(
    c: Shared,
    ctx: Ctx,
    desk: Arc<dyn Drafts>,
    who: crate::access::Who,
) -> Result<Response, Fail> {
    let l = ctx.lang;
    work(l, move || {
        let now = at(&c, &ctx)?;
        let checked = ctx.get("check").is_some();
        let get = |k: &str| ctx.get(k).map(str::to_owned);
        let (request, unreadable) = crate::request::from_form(&get);
        let key = current_key(l, &now, &who.id)?;
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh)
            .map_err(|e| Fail::bad(l, format!("no randomness for the ids: {e}")))?;
        let (mut case_bytes, mut event_bytes) = ([0u8; 16], [0u8; 16]);
        case_bytes.copy_from_slice(&fresh[..16]);
        event_bytes.copy_from_slice(&fresh[16..]);
        let case_id = match ctx.get("case").filter(|v| !v.is_empty()) {
            Some(h) => read::parse_case(h).map_err(|e| Fail::bad(l, e.to_string()))?,
            None => coop_core::CaseId(case_bytes),
        };
        let body = coop_wire::BodyJson {
            version: coop_core::event::EVENT_FORMAT_VERSION,
            ledger_id: c.source.ledger_id(),
            event_id: coop_core::EventId(event_bytes),
            author: coop_core::Author {
                authority: who.id.clone(),
                key,
            },
            authored_at: now.now,
            case: Some(coop_core::CaseRef {
                case_id,
                expected_version: 0,
            }),
            answers: Vec::new(),
            payload: coop_treaty::Payload::Request(Box::new(request)),
        };
        let (problems, prepared) = judge(l, desk.as_ref(), &body, checked, &unreadable)?;
        Ok(page(
            &ctx,
            pages::request_form(
                &c,
                &ctx,
                &now,
                &body,
                &case_id,
                checked,
                &unreadable,
                &problems,
                prepared.as_ref(),
            ),
        ))
    })
    .await
}

/// The key the ledger registers for `who` now: the author key of every draft.
fn current_key(
    l: i18n::Lang,
    now: &At,
    who: &coop_core::AuthorityId,
) -> Result<coop_core::PublicKey, Fail> {
    now.state
        .registry
        .get(who)
        .and_then(|r| r.current_key().copied())
        .ok_or_else(|| Fail::bad(l, format!("{who} has no current key")))
}

/// A draft judged by the rules (when `asked`: a form's first view is empty, not wrong),
/// and, when nothing is wrong and every field was read, the bytes to sign.
fn judge(
    l: i18n::Lang,
    desk: &dyn Drafts,
    body: &coop_wire::BodyJson,
    asked: bool,
    unreadable: &[crate::request::Unreadable],
) -> Result<(Vec<coop_treaty::Violation>, Option<coop_wire::Prepared>), Fail> {
    if !asked {
        return Ok((Vec::new(), None));
    }
    let canonical = body.to_body().map_err(|e| Fail::bad(l, e.to_string()))?;
    let problems = desk
        .problems(canonical)
        .map_err(|e| Fail::of_ledger(l, e))?;
    let prepared = if problems.is_empty() && unreadable.is_empty() {
        Some(body.prepare().map_err(|e| Fail::bad(l, e.to_string()))?)
    } else {
        None
    };
    Ok((problems, prepared))
}
