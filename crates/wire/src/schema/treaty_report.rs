//! Mirrors of coop-treaty's report.rs (the Article 7 compliance report), for their schemas only.

use super::*;

/// A pointer into the ledger.
#[derive(JsonSchema, serde::Serialize)]
pub struct Link {
    /// Record seq.
    pub seq: u64,
    /// Event hash.
    pub event_hash: Hash,
    /// Signer.
    pub signer: AuthorityId,
}

/// The evidence for one item.
#[derive(JsonSchema, serde::Serialize)]
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
#[derive(JsonSchema, serde::Serialize)]
pub struct ComplianceReport {
    /// Records covered.
    pub size: u64,
    /// One entry per item, in item-id order.
    pub items: Vec<ItemReport>,
}

/// The report in numbers, with the entries of the items where Article 7 broke: what the
/// offline verifier keeps and the overview shows. Built one item at a time, so that a
/// ledger's whole report (an entry per item: 60 MiB at 10^6 records) is never held
/// beside its state just to be counted.
#[derive(JsonSchema, serde::Serialize)]
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
