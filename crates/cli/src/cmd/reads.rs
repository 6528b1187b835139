//! The reads (`case show`, `case list`, `case timeline`, `report`, `authorities`,
//! `proof`): parse, one call to the read model (coop_ledger::read) or the ledger, render.

use super::*;

/// Runs `f` on the read model's view of case `case` as it stood at `as_of` in the
/// ledger at `data`.
fn with_case(
    data: PathBuf,
    case: &str,
    as_of: &AsOfArg,
    f: impl FnOnce(&read::CaseView) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let id = parse_case(case)?;
    let ledger = LedgerDir::new(data).open()?;
    let at = at(&ledger, as_of)?;
    let view = read::case(&ledger, &at, &id, None)?
        .ok_or_else(|| anyhow!("no case {id} at that point"))?;
    f(&view)
}

pub(super) fn case(c: CaseCmd) -> anyhow::Result<()> {
    match c {
        CaseCmd::Show {
            data,
            case,
            as_of,
            json,
        } => {
            with_case(data.data, &case, &as_of, |v| {
                if json {
                    // The API's `/v1/cases/{id}` answer: the same view.
                    println!("{}", serde_json::to_string_pretty(v)?);
                } else {
                    println!(
                        "as of record {} ({})",
                        v.as_of_size.saturating_sub(1),
                        show::time(v.now)
                    );
                    print!("{}", show::case(&v.case, v.now));
                }
                Ok(())
            })?;
        }
        CaseCmd::List {
            data,
            as_of,
            status,
            category,
            overdue,
            disputed,
            authority,
            search,
            offset,
            limit,
            json,
        } => {
            // Clap has checked the words against the same lists; the filter is built
            // by the read model's own checks so that both agree.
            let query = read::CaseQuery {
                filter: coop_treaty::CaseFilter {
                    status: status
                        .as_deref()
                        .map(coop_treaty::CaseFilter::status_word)
                        .transpose()?,
                    category: category
                        .as_deref()
                        .map(coop_treaty::CaseFilter::category_word)
                        .transpose()?,
                    overdue,
                    disputed,
                },
                authority: authority.map(coop_core::AuthorityId::new).transpose()?,
                search,
                offset,
                // The CLI pages without the API's cap; 0 would mean the default.
                limit: limit.max(1),
            };
            let ledger = LedgerDir::new(data.data).open()?;
            let at = at(&ledger, &as_of)?;
            let page = read::cases(&at, &query, None);
            if json {
                println!("{}", serde_json::to_string_pretty(&page)?);
            } else {
                for row in &page.cases {
                    if let Some(c) = at.state.cases.get(&row.id) {
                        println!("{}", show::case_line(c, at.now));
                    }
                }
                println!(
                    "{} case(s){}",
                    page.total,
                    match (page.offset, page.next_offset) {
                        (0, Some(_)) => format!(", first {} shown (--limit)", page.cases.len()),
                        (0, None) => String::new(),
                        (from, _) => format!(", {} shown from {from} (--offset)", page.cases.len()),
                    }
                );
            }
        }
        CaseCmd::Timeline {
            data,
            case,
            as_of,
            json,
        } => {
            with_case(data.data, &case, &as_of, |v| {
                if json {
                    println!("{}", serde_json::to_string_pretty(&v.case.timeline)?);
                } else {
                    print!("{}", show::timeline(&v.case));
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// `report`: the Article 7 compliance report.
pub(super) fn report(
    data: PathBuf,
    as_of: &AsOfArg,
    format: &str,
    json: bool,
) -> anyhow::Result<()> {
    let ledger = LedgerDir::new(data).open()?;
    let r = ledger.report(as_of_of(as_of)?)?;
    match (json, format) {
        (true, _) | (_, "json") => println!("{}", serde_json::to_string_pretty(&r)?),
        (_, "markdown") => print!("{}", show::report(&r, true)),
        _ => print!("{}", show::report(&r, false)),
    }
    Ok(())
}

/// `authorities`: the registry.
pub(super) fn authorities(data: PathBuf, as_of: &AsOfArg, json: bool) -> anyhow::Result<()> {
    let ledger = LedgerDir::new(data).open()?;
    let state = at(&ledger, as_of)?.state;
    if json {
        println!("{}", serde_json::to_string_pretty(&state.registry)?);
    } else {
        print!("{}", show::authorities(&state));
    }
    Ok(())
}

pub(super) fn proof(p: ProofCmd) -> anyhow::Result<()> {
    match p {
        ProofCmd::Inclusion {
            data,
            seq,
            size,
            json,
        } => {
            let ledger = LedgerDir::new(data.data).open()?;
            let size = match size {
                Some(s) => s,
                None => default_size(&ledger)?,
            };
            let rec = ledger
                .record(seq)?
                .ok_or_else(|| anyhow!("the ledger has no record {seq}"))?;
            let proof = ledger.inclusion_proof(seq, size)?;
            let root = ledger.root_at(size)?;
            verify_inclusion::<Blake3Hasher>(seq, size, &rec.leaf, &proof, &root)
                .map_err(|e| anyhow!("the proof does not verify: {e}"))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "seq": seq, "size": size, "leaf": rec.leaf, "root": root, "proof": proof
                    }))?
                );
            } else {
                println!("record {seq} in the tree of {size} records (proof checked)");
                println!("  leaf  {}", rec.leaf);
                println!("  root  {root}");
                for (i, h) in proof.iter().enumerate() {
                    println!("  [{i}]   {h}");
                }
            }
        }
        ProofCmd::Consistency {
            data,
            from,
            to,
            json,
        } => {
            let ledger = LedgerDir::new(data.data).open()?;
            let to = match to {
                Some(t) => t,
                None => default_size(&ledger)?,
            };
            let proof = ledger.consistency_proof(from, to)?;
            let (r1, r2) = (ledger.root_at(from)?, ledger.root_at(to)?);
            verify_consistency::<Blake3Hasher>(from, to, &r1, &r2, &proof)
                .map_err(|e| anyhow!("the proof does not verify: {e}"))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "from": from, "to": to, "root_from": r1, "root_to": r2, "proof": proof
                    }))?
                );
            } else {
                println!(
                    "the tree of {from} records is a prefix of the tree of {to} (proof checked)"
                );
                println!("  root at {from}: {r1}");
                println!("  root at {to}: {r2}");
                for (i, h) in proof.iter().enumerate() {
                    println!("  [{i}] {h}");
                }
            }
        }
    }
    Ok(())
}

/// The latest checkpoint's size, or the head's.
fn default_size(ledger: &Ledger<SledStore>) -> anyhow::Result<u64> {
    Ok(match ledger.latest_checkpoint()? {
        Some((s, _)) => s,
        None => ledger.head()?.size,
    })
}
