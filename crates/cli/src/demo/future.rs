//! The demo's future: a copy whose clock moves, deadlines overdue, and a notice of termination taking effect.

use super::*;

/// Step 10: on a copy whose (test) clock moves, deadlines overdue three days on, and a
/// notice of termination taking effect six months later: a new request refused under
/// Art. 10, an open case still answered. `(id, cases, events)`: the ledger, the number
/// of cases so far and of the demo's one-off events (for fresh ids).
pub(super) fn future(
    root: &std::path::Path,
    cast: &Cast,
    pair: &Pair<'_>,
    (id, cases, events_so_far): (LedgerId, u64, u64),
    st: &mut Steps,
) -> anyhow::Result<()> {
    st.say("\n10. The future, on a copy (DIR/future): this is a TEST LEDGER, and only a ledger whose genesis says so lets its clock be moved.");
    let future = LedgerDir::new(root.join("future"));
    copy_tree(&root.join("store"), &future.path().join("store"))?;
    std::fs::copy(root.join("node.pem"), future.path().join("node.pem"))?;
    let clock = coop_ledger::TestClock::new();
    let ledger = future.open_with(|c| c.clock = clock.clone())?;
    let mut gov = Gov {
        ledger: &ledger,
        id,
        n: events_so_far,
    };
    let day = 24 * 3_600_000;
    clock.advance(3 * day);
    let now = ledger.now();
    let overdue: Vec<coop_treaty::Case> = ledger.with_state(|s| {
        s.cases
            .values()
            .filter(|c| !c.overdue_at(now).is_empty())
            .map(|c| (**c).clone())
            .collect()
    })?;
    if let Some(c) = overdue.first() {
        st.say(&format!(
            "   three days later ({}), {} cases are overdue, e.g. case {}: {}",
            show::time(now),
            overdue.len(),
            c.id,
            c.overdue_at(now).first().map_or("", |d| d.kind.describe())
        ));
    }
    st.say("   Art. 10: Kazakhstan gives notice of termination.");
    gov.submit(&cast.kz_root, Payload::TerminationNotice)?;
    let effective = ledger
        .with_state(|s| s.agreement.termination.clone())?
        .map(|t| t.effective_at)
        .ok_or_else(|| anyhow!("the termination was not recorded"))?;
    st.say(&format!(
        "   the Agreement stays in force until {} (six months after the notice)",
        show::time(effective)
    ));
    let last_day = effective
        .0
        .saturating_sub(day)
        .saturating_sub(ledger.now().0);
    clock.advance(last_day);
    let new_request = |gov: &mut Gov<'_>, n: u64| -> anyhow::Result<SignedEvent> {
        let r = scenario::request(n, pair, Kind::Executed, false);
        gov.event(
            pair.requester,
            &Payload::Request(Box::new(r)),
            Some(CaseRef {
                case_id: scenario::case_id(id, n),
                expected_version: 0,
            }),
        )
    };
    let last = cases + 1;
    let ev = new_request(&mut gov, last)?;
    ledger
        .submit(ev)
        .map_err(|e| anyhow!("the last-day request was refused: {e}"))?;
    st.say(&format!(
        "   {}: a new request, the day before termination takes effect, is accepted",
        show::time(ledger.now())
    ));
    clock.advance(day + 60_000);
    let before = ledger.head()?;
    match ledger.submit(new_request(&mut gov, last + 1)?) {
        Err(SubmitError::Refused(v)) => st.say(&format!(
            "   {}: a new request is refused: {v}; nothing was written",
            show::time(ledger.now())
        )),
        other => bail!("a request after termination was not refused: {other:?}"),
    }
    if ledger.head()? != before {
        bail!("a refused request changed the ledger");
    }
    let ack = gov.event(
        pair.requested,
        &Payload::Acknowledged,
        Some(CaseRef {
            case_id: scenario::case_id(id, last),
            expected_version: 1,
        }),
    )?;
    ledger
        .submit(ack)
        .map_err(|e| anyhow!("the open case could not be answered: {e}"))?;
    st.say(
        "   the case opened on the last day is still answered: cases open before termination go on",
    );
    // Later commands on the copy see its moved time.
    future.set_test_clock(ledger.now().0.saturating_sub(files::now_ms()))?;
    ledger.shutdown();
    st.done("the future: deadlines and termination");

    Ok(())
}

/// What the demo prints at the end: timings, what an auditor pins (even with --quiet),
/// and where to go on.
pub(super) struct Closing<'a> {
    pub(super) root: &'a std::path::Path,
    pub(super) kept: bool,
    pub(super) quiet: bool,
    pub(super) id: LedgerId,
    pub(super) vkey: &'a coop_core::checkpoint::NoteVerifier,
    pub(super) export: &'a std::path::Path,
    pub(super) bundle: &'a std::path::Path,
    pub(super) case: &'a coop_core::CaseId,
    pub(super) raised: u64,
}

impl Closing<'_> {
    pub(super) fn print(&self, st: &Steps, size: u64, cases: u32, refused: usize) {
        let Closing {
            root,
            kept,
            quiet,
            id,
            vkey,
            export,
            bundle,
            case,
            raised,
        } = *self;
        let total = st.started.elapsed();
        st.say(&format!(
            "\nDone in {total:.2?}: {} records, {} cases, {refused} violations refused.",
            size, cases
        ));
        if !quiet {
            println!("timings:");
            for (what, t) in &st.timings {
                println!("  {what:<36} {t:>10.2?}");
            }
        }
        // Even with --quiet: what an auditor pins, and where the ledger is.
        println!("ledger {id}");
        println!("node checkpoint key {}", vkey.to_vkey());
        if !kept {
            println!(
                "the ledger was in a temporary directory, now removed; run `coopledger demo --data DIR` to keep it and follow the README's tour"
            );
            return;
        }
        let d = root.display();
        println!(
            "ledger directory {d}: the node key is in {d}/node.vkey, the tour's files in {d}/tour/"
        );
        if !quiet {
            println!("\nTry, on this ledger (the README's tour has more):");
            println!("  coopledger case list --data {d} --disputed");
            println!("  coopledger case timeline {case} --data {d}");
            println!("  coopledger case show {case} --data {d} --as-of {raised}");
            println!("  coopledger report --data {d} --format markdown");
            println!(
                "  coopledger verify {} --node-key {d}/node.vkey",
                export.display()
            );
            println!("  coopledger verify {} --as-of {raised}", bundle.display());
        }
    }
}
