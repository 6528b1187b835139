//! The Article 7 compliance report: for each information item, the chain of evidence
//! (event hashes, signers, the consent each use or onward transfer relied on) showing
//! that Article 7 held — or the first event that broke it.
//!
//! The report does not trust the register's own bookkeeping: it re-checks each use and
//! onward transfer against the transfer's permitted purposes and the providing Party's
//! consents, by position in the ledger.

use crate::model::{ItemId, Party, Purpose};
use crate::state::{Evidence, Item, State};
use coop_core::{AuthorityId, CaseId, Hash};

/// A pointer into the ledger.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Link {
    /// Record seq.
    pub seq: u64,
    /// Event hash.
    pub event_hash: Hash,
    /// Signer.
    pub signer: AuthorityId,
}

impl From<&Evidence> for Link {
    fn from(e: &Evidence) -> Link {
        Link {
            seq: e.seq,
            event_hash: e.event_hash,
            signer: e.signer().clone(),
        }
    }
}

/// The evidence for one item.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ItemReport {
    /// The item.
    pub item: ItemId,
    /// Its case.
    pub case: CaseId,
    /// Provider and its Party.
    pub provider: (AuthorityId, Party),
    /// Recipient.
    pub recipient: AuthorityId,
    /// Art. 7.1 restricted access.
    pub restricted: bool,
    /// The transfer.
    pub transfer: Link,
    /// Each use: purpose, the use, and the consent it relied on (none: the purpose was
    /// the request's).
    pub uses: Vec<(Purpose, Link, Option<Link>)>,
    /// Each onward transfer: third party, the transfer, the consent relied on.
    pub onward: Vec<(String, Link, Link)>,
    /// `None` if Article 7 held; otherwise the first breaking event and what is wrong.
    // Boxed: most items hold, and the report keeps an entry per item (the JSON is the
    // same).
    pub breach: Option<Box<(Link, String)>>,
}

/// The report over all items.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct ComplianceReport {
    /// Records covered.
    pub size: u64,
    /// One entry per item, in item-id order.
    pub items: Vec<ItemReport>,
}

impl ComplianceReport {
    /// Builds the report from a state.
    pub fn build(state: &State) -> ComplianceReport {
        ComplianceReport {
            size: state.size,
            items: state
                .register
                .values()
                .map(|i| item_report(state, i))
                .collect(),
        }
    }

    /// Whether Article 7 held for every item.
    pub fn held(&self) -> bool {
        self.items.iter().all(|i| i.breach.is_none())
    }

    /// Counts: items, uses, onward transfers, items where Article 7 broke.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let mut t = Tally::default();
        for i in &self.items {
            t.add(i);
        }
        t.counts()
    }
}

/// The report in numbers, with the entries of the items where Article 7 broke: what the
/// offline verifier keeps and the overview shows. Built one item at a time, so that a
/// ledger's whole report (an entry per item: 60 MiB at 10^6 records) is never held
/// beside its state just to be counted.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct ComplianceSummary {
    /// Records covered.
    pub size: u64,
    /// Items of information transferred.
    pub items: usize,
    /// Uses recorded.
    pub uses: usize,
    /// Onward transfers.
    pub onward: usize,
    /// The report's entries for the items where Article 7 broke, in item-id order.
    pub broken: Vec<ItemReport>,
}

impl ComplianceSummary {
    /// The summary of [`ComplianceReport::build`]`(state)`, item by item.
    pub fn of(state: &State) -> ComplianceSummary {
        let mut t = Tally::default();
        let mut broken = Vec::new();
        for i in state.register.values() {
            let r = item_report(state, i);
            t.add(&r);
            if r.breach.is_some() {
                broken.push(r);
            }
        }
        ComplianceSummary {
            size: state.size,
            items: t.items,
            uses: t.uses,
            onward: t.onward,
            broken,
        }
    }

    /// Whether Article 7 held for every item.
    pub fn held(&self) -> bool {
        self.broken.is_empty()
    }

    /// Counts: items, uses, onward transfers, items where Article 7 broke (as
    /// [`ComplianceReport::counts`]).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        (self.items, self.uses, self.onward, self.broken.len())
    }
}

/// What [`ComplianceReport::counts`] and [`ComplianceSummary`] count, in one place.
#[derive(Default)]
struct Tally {
    items: usize,
    uses: usize,
    onward: usize,
    broken: usize,
}

impl Tally {
    fn add(&mut self, r: &ItemReport) {
        self.items += 1;
        self.uses += r.uses.len();
        self.onward += r.onward.len();
        self.broken += usize::from(r.breach.is_some());
    }

    fn counts(&self) -> (usize, usize, usize, usize) {
        (self.items, self.uses, self.onward, self.broken)
    }
}

fn party_of(state: &State, id: &AuthorityId) -> Option<Party> {
    state.authority(id).map(|r| r.party)
}

fn item_report(state: &State, item: &Item) -> ItemReport {
    let provider = item.provider_party;
    // Consents of the providing Party for this item, by position.
    let consents: Vec<_> = item
        .consents
        .iter()
        .filter(|c| c.granted && party_of(state, c.evidence.signer()) == Some(provider))
        .collect();
    let mut breaches: Vec<(Link, String)> = Vec::new();
    // At their length: the report holds an entry per item, most with one use.
    let mut uses = Vec::with_capacity(item.uses.len());
    for u in &item.uses {
        let by_consent = consents
            .iter()
            .find(|c| c.evidence.seq < u.evidence.seq && c.purposes.contains(&u.purpose));
        let ok = item.permitted.contains(&u.purpose) || by_consent.is_some();
        if !ok {
            breaches.push((
                Link::from(&u.evidence),
                format!(
                    "use for \"{}\", a purpose neither requested nor consented to",
                    u.purpose.0
                ),
            ));
        }
        if party_of(state, u.evidence.signer()) == Some(provider) {
            breaches.push((
                Link::from(&u.evidence),
                "use recorded by the providing Party".into(),
            ));
        }
        uses.push((
            u.purpose.clone(),
            Link::from(&u.evidence),
            if item.permitted.contains(&u.purpose) {
                None
            } else {
                by_consent.map(|c| Link::from(&c.evidence))
            },
        ));
    }
    let mut onward = Vec::with_capacity(item.onward.len());
    for o in &item.onward {
        let good = o.consent.seq < o.evidence.seq
            && party_of(state, o.consent.signer()) == Some(provider)
            && consents.iter().any(|c| {
                c.evidence.event_hash == o.consent.event_hash
                    && c.third_party.as_deref() == Some(o.third_party.as_str())
            });
        if !good {
            breaches.push((
                Link::from(&o.evidence),
                format!(
                    "onward transfer to {} without a prior written consent of {provider} covering it",
                    o.third_party
                ),
            ));
        }
        onward.push((
            o.third_party.clone(),
            Link::from(&o.evidence),
            Link::from(&o.consent),
        ));
    }
    breaches.sort_by_key(|(l, _)| l.seq);
    ItemReport {
        item: item.id,
        case: item.case,
        provider: (item.provider.clone(), provider),
        recipient: item.recipient.clone(),
        restricted: item.restricted,
        transfer: Link::from(&item.transfer),
        uses,
        onward,
        breach: breaches.into_iter().next().map(Box::new),
    }
}
