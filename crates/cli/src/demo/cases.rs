//! The demo's cases, submitted by many agencies at once, and the violations refused.

use super::*;

pub(super) struct RunStats {
    pub(super) events: usize,
    pub(super) elapsed: Duration,
    pub(super) p50: Duration,
    pub(super) p99: Duration,
}

/// Builds and signs the cases on all cores, then submits them through the driver the
/// benchmarks use: 16 submitters, each driving 8 cases at a time and waiting for their
/// receipts, as agencies' systems would.
pub(super) fn run_cases(
    ledger: &Ledger<SledStore>,
    id: LedgerId,
    range: std::ops::Range<u64>,
    pairs: &[Pair<'_>],
    time: u64,
) -> anyhow::Result<RunStats> {
    use rayon::prelude::*;
    let pair_of = |n: u64| -> anyhow::Result<&Pair<'_>> {
        let pair = pairs
            .get((n % pairs.len() as u64) as usize)
            .ok_or_else(|| anyhow!("no pair"))?;
        // The Art. 1.2 pair asks only plain executions.
        Ok(
            if pair.other_crime.is_some() && Kind::of(n) != Kind::Executed {
                pairs.first().ok_or_else(|| anyhow!("no pair"))?
            } else {
                pair
            },
        )
    };
    // First every case up to what relies on a consent landing; then, the consents in the
    // ledger, the rest of those cases signed with the clock of then (Art. 7.2: prior).
    let built: Vec<(u64, CaseBuilder)> = range
        .into_par_iter()
        .map(|n| scenario::case_events(id, n, time, pair_of(n)?).map(|c| (n, c)))
        .collect::<anyhow::Result<_>>()?;
    let mut heads = Vec::with_capacity(built.len());
    let mut waiting = Vec::new();
    for (n, c) in built {
        let mut events = c.events;
        if let Some(split) = c.split {
            events.truncate(split);
            waiting.push((n, split));
        }
        heads.push(events);
    }
    let submit = coop_demo::in_process(ledger);
    let first = coop_demo::drive(&submit, heads, 16, 8)
        .map_err(|e| anyhow!("an event of the scenario was refused: {e}"))?;
    let then = files::now_ms();
    let tails: Vec<Vec<SignedEvent>> = waiting
        .into_par_iter()
        .map(|(n, split)| {
            scenario::case_events_at(id, n, time, Some(then), pair_of(n)?)
                .map(|c| c.events.into_iter().skip(split).collect())
        })
        .collect::<anyhow::Result<_>>()?;
    let second = coop_demo::drive(&submit, tails, 16, 8)
        .map_err(|e| anyhow!("an event of the scenario was refused: {e}"))?;
    let mut latencies = first.latencies;
    latencies.extend(second.latencies);
    latencies.sort();
    Ok(RunStats {
        events: first.events + second.events,
        elapsed: first.elapsed + second.elapsed,
        p50: coop_demo::pct(&latencies, 0.5),
        p99: coop_demo::pct(&latencies, 0.99),
    })
}

/// Tries events that break the Agreement; each must be refused with its article and
/// change nothing. Returns how many were refused.
pub(super) fn violations(
    ledger: &Ledger<SledStore>,
    gov: &mut Gov<'_>,
    cast: &Cast,
    revoked: &Actor,
    revoked_at: u64,
    st: &mut Steps,
) -> anyhow::Result<usize> {
    let [kz_mvd, kz_knb, _] = &cast.kz;
    let [tm_mvd, _, _] = &cast.tm;
    // An open case of KZ-MVD -> TM-MVD with an item that TM-MVD provided.
    let (case, item) = ledger
        .with_state(|s| {
            s.register
                .values()
                .find(|i| i.provider == tm_mvd.id && i.recipient == kz_mvd.id)
                .map(|i| (i.case, i.id))
        })?
        .ok_or_else(|| anyhow!("no item to misuse"))?;
    let version = ledger
        .with_state(|s| s.cases.get(&case).map(|c| c.version))?
        .ok_or_else(|| anyhow!("case missing"))?;
    let at = |v| {
        Some(CaseRef {
            case_id: case,
            expected_version: v,
        })
    };
    let pair = Pair {
        requester: kz_mvd,
        requested: tm_mvd,
        arranged: None,
        other_crime: None,
    };
    let mut no_decision = scenario::request(9_999_001, &pair, Kind::Executed, false);
    no_decision.elements.decision_copy = None;
    let mut same_party = scenario::request(9_999_002, &pair, Kind::Executed, false);
    same_party.elements.requested_authority = Some(kz_knb.id.clone());
    let new_case = |n: u64| {
        Some(CaseRef {
            case_id: CaseBuilder::new(gov.id, n, 0).case,
            expected_version: 0,
        })
    };
    let attempts: Vec<(String, &Actor, Payload, Option<CaseRef>)> = vec![
        (
            "a request without the certified copy of the decision".to_owned(),
            kz_mvd,
            Payload::Request(Box::new(no_decision)),
            new_case(9_999_001),
        ),
        (
            "a request to an authority of the requester's own Party".to_owned(),
            kz_mvd,
            Payload::Request(Box::new(same_party)),
            new_case(9_999_002),
        ),
        (
            "KZ-MVD uses TM-MVD's information for a purpose the request did not state".to_owned(),
            kz_mvd,
            Payload::InformationUsed {
                item,
                purpose: Purpose("tax audit of a private company".into()),
            },
            at(version),
        ),
        (
            "KZ-MVD passes TM-MVD's information to a third party without consent".to_owned(),
            kz_mvd,
            Payload::OnwardTransfer {
                item,
                third_party: "a foreign news agency".into(),
                consent: Hash([7; 32]),
            },
            at(version),
        ),
        (
            "KZ-MVD 'consents' to passing on information that Turkmenistan provided".to_owned(),
            kz_mvd,
            Payload::ConsentGranted {
                item,
                third_party: Some("a foreign news agency".into()),
                purposes: vec![],
                documents: vec![doc("self-granted consent", Language::Kk, DocRole::Original)],
            },
            at(version),
        ),
        (
            format!("an event signed with TM-GPO's key, revoked at record {revoked_at}"),
            revoked,
            Payload::Refused {
                extent: coop_treaty::Extent::Full,
                grounds: vec![RefusalGround::Security],
                reasons: vec![doc("reasons", Language::Tk, DocRole::Original)],
            },
            at(version),
        ),
        (
            "an event that expects an old version of the case (someone else answered first)"
                .to_owned(),
            tm_mvd,
            Payload::CostRecorded {
                amount_minor: 100,
                currency: "TMT".into(),
            },
            at(version.saturating_sub(1)),
        ),
    ];
    let mut refused = 0;
    for (what, by, payload, case_ref) in attempts {
        let before = ledger.head()?;
        let cases_before = ledger.with_state(|s| s.cases.get(&case).cloned())?;
        let ev = gov.event(by, &payload, case_ref)?;
        match ledger.submit(ev) {
            Err(SubmitError::Refused(v)) => {
                let after = ledger.head()?;
                let cases_after = ledger.with_state(|s| s.cases.get(&case).cloned())?;
                if after != before || cases_after != cases_before {
                    bail!("a refused event changed the ledger: {what}");
                }
                refused += 1;
                st.say(&format!("   REFUSED {what}:\n      {v}"));
            }
            Ok(r) => bail!(
                "the ledger accepted a violation ({what}) at record {}",
                r.seq
            ),
            Err(e) => bail!("unexpected error for {what}: {e}"),
        }
    }
    st.say(&format!(
        "   the ledger still has {} records, the same head, the same cases",
        ledger.head()?.size
    ));
    Ok(refused)
}
