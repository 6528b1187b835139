//! The case reads (`case show`, `case list`, `case timeline`): parse, one call to the
//! read model (coop_ledger::read), render.

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
