//! The overview and the chart numbers.

use super::*;

/// The ledger at a glance.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Overview {
    /// The ledger id.
    #[schemars(with = "Option<coop_wire::schema::LedgerId>")]
    pub ledger_id: Option<LedgerId>,
    /// Records (at the as-of point).
    pub size: u64,
    /// The genesis marks a test ledger.
    pub test_ledger: bool,
    /// The Agreement is in force at the time described.
    pub in_force: bool,
    /// Cases by status word.
    pub cases_by_status: BTreeMap<&'static str, usize>,
    /// Cases with a deadline overdue.
    pub overdue_cases: usize,
    /// Cases with a dispute.
    pub disputed_cases: usize,
    /// Authorities registered.
    pub authorities: usize,
    /// Article 7 items; uses; onward transfers; breaches.
    pub article7: Article7Counts,
    /// The latest checkpoint: its size and note.
    pub latest_checkpoint: Option<(u64, String)>,
}

/// Article 7 totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Article7Counts {
    /// Items of information transferred.
    pub items: usize,
    /// Uses recorded.
    pub uses: usize,
    /// Onward transfers.
    pub onward: usize,
    /// Breaches found.
    pub breaches: usize,
}

impl Article7Counts {
    /// The totals of a report.
    pub fn of(r: &ComplianceSummary) -> Article7Counts {
        let (items, uses, onward, breaches) = r.counts();
        Article7Counts {
            items,
            uses,
            onward,
            breaches,
        }
    }
}

/// The overview of `at` from `source`, its case counts those `viewer` may see.
pub fn overview(
    source: &dyn ReadSource,
    at: &At,
    viewer: Viewer<'_>,
) -> Result<Overview, LedgerError> {
    let s = &at.state;
    let mut by_status = BTreeMap::new();
    let seen = || s.cases.values().filter(move |c| visible(c, viewer));
    for c in seen() {
        *by_status.entry(c.status.word()).or_insert(0) += 1;
    }
    let latest = source
        .checkpoints()?
        .into_iter()
        .rfind(|(size, _)| *size <= s.size);
    Ok(Overview {
        ledger_id: source.ledger_id(),
        size: s.size,
        test_ledger: s.test_ledger,
        in_force: s.agreement.in_force_at(at.now),
        cases_by_status: by_status,
        overdue_cases: seen().filter(|c| !c.overdue_at(at.now).is_empty()).count(),
        disputed_cases: seen().filter(|c| !c.disputes.is_empty()).count(),
        authorities: s.registry.len(),
        article7: Article7Counts::of(&ComplianceSummary::of(s)),
        latest_checkpoint: latest,
    })
}

/// Numbers per month, for the console's charts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Stats {
    /// Requests per month ("2026-03") by category word.
    pub requests_by_month: BTreeMap<String, BTreeMap<&'static str, usize>>,
    /// Requests per month by requesting Party (`kz`, `tm`).
    pub requests_by_direction: BTreeMap<String, BTreeMap<String, usize>>,
    /// Deadlines per month they fell due: (met on time, late or overdue).
    pub deadline_compliance: BTreeMap<String, (usize, usize)>,
    /// Refusals (in full or in part) by Art. 4.5 ground (`Sovereignty`, `NationalLaw`...;
    /// a refusal may give several).
    pub refusals: BTreeMap<String, usize>,
    /// Information items by direction (`kz-tm`: provided by Kazakhstan's authorities to
    /// Turkmenistan's): items, uses, onward transfers.
    pub article7_flows: BTreeMap<String, (usize, usize, usize)>,
}

/// A Party as a word: `kz` or `tm`.
pub fn party_word(p: Party) -> &'static str {
    match p {
        Party::Kz => "kz",
        Party::Tm => "tm",
    }
}

/// "YYYY-MM" of a time.
pub fn month(t: Timestamp) -> String {
    let days = (t.0 / 86_400_000) as i64;
    // Civil-from-days (H. Hinnant): exact for every date after 1970.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}")
}

/// The chart numbers of `at`; refusal grounds are read from the refusals' records in
/// `source`.
pub fn stats(source: &dyn ReadSource, at: &At, viewer: Viewer<'_>) -> Result<Stats, LedgerError> {
    let s = &at.state;
    let mut st = Stats::default();
    for c in s.cases.values().filter(|c| visible(c, viewer)) {
        let m = month(c.opened_at);
        *st.requests_by_month
            .entry(m.clone())
            .or_default()
            .entry(category_word(&c.category))
            .or_insert(0) += 1;
        *st.requests_by_direction
            .entry(m)
            .or_default()
            .entry(party_word(c.requester_party).to_owned())
            .or_insert(0) += 1;
        for d in &c.deadlines {
            if d.met_at.is_none() && d.due > at.now {
                continue;
            }
            let e = st.deadline_compliance.entry(month(d.due)).or_insert((0, 0));
            if d.overdue_at(at.now) {
                e.1 += 1;
            } else {
                e.0 += 1;
            }
        }
        for t in c.steps.iter().filter(|t| t.kind == "refused") {
            let Some(r) = source.record(t.seq)? else {
                continue;
            };
            if let Ok(d) = coop_treaty::Decoded::of(&r.event)
                && let coop_treaty::Payload::Refused { grounds, .. } = d.payload
            {
                for g in grounds {
                    *st.refusals.entry(format!("{g:?}")).or_insert(0) += 1;
                }
            }
        }
    }
    for item in s.register.values() {
        let to = s
            .registry
            .get(&item.recipient)
            .map_or("?", |r| party_word(r.party));
        let e = st
            .article7_flows
            .entry(format!("{}-{to}", party_word(item.provider_party)))
            .or_insert((0, 0, 0));
        e.0 += 1;
        e.1 += item.uses.len();
        e.2 += item.onward.len();
    }
    Ok(st)
}
