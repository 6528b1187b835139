//! Rendering for people: cases, timelines, registry, the Article 7 report. Times are
//! UTC, RFC 3339; hashes are shortened to 16 hex digits where a table needs it (the JSON
//! output always has them whole).

use coop_core::{Hash, Timestamp};
use coop_ledger::read;
use coop_treaty::{
    Case, CaseStatus, ComplianceReport, CrimeCategory, Deadline, Form, Registered, Role, State,
};
use std::fmt::Write as _;

/// What every command says of a test ledger (its genesis marks it one, and its clock may
/// have been moved), on stderr beside what it prints.
pub const TEST_LEDGER: &str = "TEST LEDGER: its genesis marks it as a test ledger and its clock may have been moved; it is evidence of nothing the Parties did";

/// [`TEST_LEDGER`] in the language asked for (`--lang`): the console's own banner.
pub fn test_ledger() -> String {
    match crate::lang() {
        coop_i18n::Lang::En => TEST_LEDGER.to_owned(),
        lang => lang.t("test-ledger"),
    }
}

/// RFC 3339 UTC with milliseconds.
pub fn time(t: Timestamp) -> String {
    humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_millis(t.0))
        .to_string()
}

/// The first 16 hex digits.
pub fn short(h: &Hash) -> String {
    h.to_hex().chars().take(16).collect()
}

/// A status in words.
pub fn status(s: CaseStatus) -> String {
    match s {
        CaseStatus::Open => "open".into(),
        CaseStatus::Acknowledged => "acknowledged".into(),
        CaseStatus::PartlyRefused => "partly refused".into(),
        CaseStatus::Refused => "refused".into(),
        CaseStatus::Executed(coop_treaty::Extent::Full) => "executed".into(),
        CaseStatus::Executed(coop_treaty::Extent::Partial) => "executed in part".into(),
        CaseStatus::Closed => "closed".into(),
    }
}

/// A crime category in words, with its clause.
pub fn category(c: &CrimeCategory) -> String {
    match c {
        CrimeCategory::Other(h) => {
            format!("other crime by mutual agreement (Art. 1.2, {})", short(h))
        }
        other => format!("{other:?} (Art. 1.1)"),
    }
}

fn form(f: &Form) -> String {
    match f {
        Form::ExecuteRequest => "execution of a request (Art. 2.1)".into(),
        Form::ExchangeInformation(k) => format!("exchange of {k:?} information (Art. 2.2)"),
        other => format!("{other:?}"),
    }
}

fn deadline(d: &Deadline, now: Timestamp) -> String {
    let state = match d.met_at {
        Some(m) if m > d.due => format!("met late at {}", time(m)),
        Some(m) => format!("met at {}", time(m)),
        None if now > d.due => "OVERDUE".into(),
        None => "pending".into(),
    };
    format!("{} — due {} — {state}", d.kind.describe(), time(d.due))
}

/// One case in full.
pub fn case(c: &read::CaseDetail, now: Timestamp) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "case {}", c.id);
    let _ = writeln!(
        s,
        "  {} ({}) -> {} ({})",
        c.requester,
        c.requester_party,
        c.requested,
        c.requested_party()
    );
    let _ = writeln!(
        s,
        "  status:    {} (version {})",
        status(c.status),
        c.version
    );
    let _ = writeln!(s, "  category:  {}", category(&c.category));
    let _ = writeln!(s, "  form:      {}", form(&c.form));
    let _ = writeln!(s, "  opened:    {}", time(c.opened_at));
    let mut flags = Vec::new();
    if c.urgent {
        flags.push("urgent".to_owned());
    }
    if c.oral {
        flags.push(if c.confirmed {
            "oral, confirmed in writing".to_owned()
        } else {
            "oral, NOT confirmed in writing".to_owned()
        });
    }
    if c.wanted_person_search {
        flags.push(format!(
            "wanted-person search (Art. 1.3){}",
            c.search_outcome
                .map(|o| format!(": {o:?}"))
                .unwrap_or_default()
        ));
    }
    if !flags.is_empty() {
        let _ = writeln!(s, "  notes:     {}", flags.join("; "));
    }
    let purposes: Vec<&str> = c.purposes.iter().map(|p| p.0.as_str()).collect();
    let _ = writeln!(s, "  purposes:  {}", purposes.join("; "));
    for d in &c.deadlines {
        let _ = writeln!(s, "  deadline:  {}", deadline(d, now));
    }
    let _ = writeln!(
        s,
        "  documents: {} referenced (by digest)",
        c.documents.len()
    );
    if c.costs.is_empty() {
        let _ = writeln!(s, "  costs:     none recorded");
    }
    for cost in &c.costs {
        let _ = writeln!(
            s,
            "  cost:      {} {} {} (record {})",
            cost.party,
            cost.amount_minor as f64 / 100.0,
            cost.currency,
            cost.seq
        );
    }
    let _ = writeln!(
        s,
        "  Art. 5:    {}",
        if c.default_costs() {
            "each Party bears its own costs"
        } else {
            "a cost arrangement agreed by both Parties applies"
        }
    );
    for (n, d) in &c.disputes {
        let _ = writeln!(
            s,
            "  dispute {n}: raised at record {} by {}; {} consultation(s); {}",
            d.raised.seq,
            d.raised.signer(),
            d.consultations.len(),
            d.settled
                .as_ref()
                .map_or("not settled".to_owned(), |e| format!(
                    "settled at record {}",
                    e.seq
                ))
        );
    }
    let _ = writeln!(s, "  events:    {}", c.steps.len());
    s
}

/// One line per case.
pub fn case_line(c: &Case, now: Timestamp) -> String {
    let overdue = c.overdue_at(now).len();
    format!(
        "{}  {:<8} -> {:<8}  {:<16}  v{:<3} {}{}",
        c.id,
        c.requester,
        c.requested,
        status(c.status),
        c.version,
        match &c.category {
            CrimeCategory::Other(_) => "Other (Art. 1.2)".to_owned(),
            other => format!("{other:?}"),
        },
        if overdue > 0 {
            format!("  [{overdue} overdue]")
        } else {
            String::new()
        }
    )
}

/// A case's timeline.
pub fn timeline(c: &read::CaseDetail) -> String {
    let mut s = format!("timeline of case {}\n", c.id);
    for t in &c.timeline {
        let _ = writeln!(
            s,
            "  #{:<7} {}  {:<34} {:<10} {}",
            t.evidence.seq,
            time(t.evidence.at),
            t.kind,
            t.evidence.signer().as_str(),
            short(&t.evidence.event_hash)
        );
    }
    s
}

/// The registry.
pub fn authorities(state: &State) -> String {
    let mut s = String::new();
    let a = &state.agreement;
    let _ = writeln!(
        s,
        "Agreement: {}",
        a.in_force_from()
            .map_or("not in force yet".to_owned(), |t| format!(
                "in force from {}",
                time(t)
            ))
    );
    if let Some(t) = &a.termination {
        let _ = writeln!(
            s,
            "Termination: notice by {} received {}; no new request from {} (Art. 10)",
            t.by,
            time(t.received_at),
            time(t.effective_at)
        );
    }
    for (id, p) in &a.protocols {
        let _ = writeln!(
            s,
            "Protocol {id}: {}",
            p.in_force_from().map_or_else(
                || "not in force (acceptance and both Parties' procedures needed)".to_owned(),
                |t| format!("in force from {}", time(t))
            )
        );
    }
    for r in state.registry.values() {
        let _ = writeln!(s, "{}", registered(r));
    }
    s
}

fn registered(r: &Registered) -> String {
    let role = match r.role {
        Role::Root => "root (diplomatic channel)",
        Role::Competent => "competent authority",
        Role::Auditor => "auditor",
        Role::Witness => "witness",
    };
    let keys: Vec<String> = r
        .keys
        .iter()
        .map(|g| {
            format!(
                "{} from #{}{}",
                g.key.to_hex().chars().take(16).collect::<String>(),
                g.from_seq,
                g.until_seq
                    .map(|u| format!(" until #{u}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    format!(
        "{:<12} {:<13} {:<26} {}{}\n{:>14}keys: {}",
        r.id.as_str(),
        r.party.to_string(),
        role,
        r.name,
        r.retired_at
            .map(|s| format!(" (retired at #{s})"))
            .unwrap_or_default(),
        "",
        keys.join(", ")
    )
}

/// The Article 7 report as text or Markdown.
pub fn report(r: &ComplianceReport, markdown: bool) -> String {
    let (items, uses, onward, breaches) = r.counts();
    let consents = r
        .items
        .iter()
        .flat_map(|i| i.uses.iter())
        .filter(|u| u.2.is_some())
        .count();
    let mut s = String::new();
    if markdown {
        let _ = writeln!(s, "# Article 7 compliance report\n");
        let _ = writeln!(s, "Records covered: {}\n", r.size);
        let _ = writeln!(
            s,
            "| items | uses | uses relying on consent | onward transfers | breaches |\n|---|---|---|---|---|\n| {items} | {uses} | {consents} | {onward} | {breaches} |\n"
        );
        let _ = writeln!(
            s,
            "**Article 7 {}.**\n",
            if r.held() {
                "held for every item"
            } else {
                "was broken"
            }
        );
        let _ = writeln!(
            s,
            "| item | case | provider | recipient | restricted | transfer | uses | onward (consent) | verdict |\n|---|---|---|---|---|---|---|---|---|"
        );
        for i in &r.items {
            let onward: Vec<String> = i
                .onward
                .iter()
                .map(|(t, l, c)| format!("{t} #{} (consent #{})", l.seq, c.seq))
                .collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} ({}) | {} | {} | #{} | {} | {} | {} |",
                i.item,
                i.case,
                i.provider.0,
                i.provider.1,
                i.recipient,
                if i.restricted { "yes" } else { "no" },
                i.transfer.seq,
                i.uses.len(),
                if onward.is_empty() {
                    "—".into()
                } else {
                    onward.join("; ")
                },
                match i.breach.as_deref() {
                    None => "held".to_owned(),
                    Some((l, why)) => format!("BROKEN at #{}: {why}", l.seq),
                }
            );
        }
        return s;
    }
    let _ = writeln!(s, "Article 7 compliance report over {} records", r.size);
    let _ = writeln!(
        s,
        "  {items} information items; {uses} uses ({consents} relying on a consent of the providing Party); {onward} onward transfers"
    );
    if r.held() {
        let _ = writeln!(
            s,
            "  Article 7 held for every item: every use had a permitted purpose or a prior consent, every onward transfer a prior written consent of the providing Party."
        );
    } else {
        let _ = writeln!(s, "  Article 7 was BROKEN for {breaches} item(s):");
        for i in r.items.iter().filter(|i| i.breach.is_some()) {
            if let Some((l, why)) = i.breach.as_deref() {
                let _ = writeln!(
                    s,
                    "    item {} (case {}): record #{} signed by {}: {why}",
                    i.item, i.case, l.seq, l.signer
                );
            }
        }
    }
    for i in r.items.iter().filter(|i| !i.onward.is_empty()) {
        for (third, l, c) in &i.onward {
            let _ = writeln!(
                s,
                "  onward: item {} -> {third} at #{} relied on consent #{} signed by {} ({})",
                i.item, l.seq, c.seq, c.signer, i.provider.1
            );
        }
    }
    s
}

/// A receipt that verified against the node's key (`cp`, its checkpoint), for a person:
/// where the event landed and the signed tree it is proven in.
pub fn receipt(r: &coop_core::Receipt, cp: &coop_core::Checkpoint) -> String {
    format!(
        "appended at record {seq} (receipt checked against the node's key)\n  event id    {id}\n  event hash  {eh}\n  leaf        {leaf}\n  chain       {chain}\n  proven in the checkpoint of {size} records (root {root}, signed by the node at {t}) with {n} hashes\n",
        seq = r.seq,
        id = r.event_id,
        eh = r.event_hash,
        leaf = r.leaf,
        chain = r.chain,
        size = cp.size,
        root = cp.root,
        t = time(cp.time),
        n = r.proof.len(),
    )
}
