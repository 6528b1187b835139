//! Why an event is refused: one variant per rule, each naming its clause and the missing
//! or wrong element in words a clerk understands. A refused event changes nothing.

use crate::detail::Detail;
use crate::model::{Language, Party};
use coop_core::AuthorityId;

/// A refusal. `Display` gives the clause first ("Art. 4.1(5): ..."); [`Violation::clause`]
/// gives it alone (for metrics and API bodies).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(non_camel_case_types)] // the names carry the clause numbers
pub enum Violation {
    // ---- the event itself ----
    /// The payload is not a canonical treaty payload.
    #[error("Format: the event's payload is not a valid treaty event ({0})")]
    MalformedPayload(Detail),
    /// A payload string holds a character a reader cannot see or that reorders the text
    /// (a control character, a bidirectional override or mark, the BOM): two people could
    /// read the record differently. Type the text again without it.
    #[error(
        "Format: the field {field} holds the character {code}, which a reader cannot see or which reorders the text around it (a control or bidirectional character); type the text again without it"
    )]
    HiddenText {
        /// The field, as the JSON form names it (`Request.purposes[0]`).
        field: String,
        /// The character, as `U+202E`.
        code: String,
    },
    /// The first record must be the genesis, and only the first.
    #[error("Art. 10: {0}")]
    Art10_Genesis(Detail),
    /// The record's governance head is not the one its predecessors give: a governance
    /// record was left out of this copy, or the record was made for another history.
    #[error(
        "Record: the record states the governance head {stated}, but the governance records before it give {expected}: a governance record is missing from this copy, or the record belongs to another history"
    )]
    GovernanceHead {
        /// What the record states.
        stated: String,
        /// What the governance records before it give.
        expected: String,
    },
    /// The node's receive time went backwards.
    #[error(
        "Time: the record was received at {}, before the previous record ({}); records' times never decrease",
        t(*.received),
        t(*.previous)
    )]
    TimeBackwards {
        /// This record's receive time.
        received: u64,
        /// The previous record's.
        previous: u64,
    },
    /// The author's clock is too far from the node's.
    #[error(
        "Time: the event says it was authored at {} but reached the node at {}, more than the {window} ms the Parties allow (authored_window_ms); sign it again with the right time",
        t(*.authored),
        t(*.received)
    )]
    AuthoredOutsideWindow {
        /// `authored_at`.
        authored: u64,
        /// `received_at`.
        received: u64,
        /// The window.
        window: u64,
    },
    /// `authored_at` ahead of the node's clock by more than clock skew.
    #[error(
        "Time: the event says it was authored at {}, ahead of the node's clock ({}) by more than the {ahead} ms of clock skew allowed; check your computer's clock and sign it again",
        t(*.authored),
        t(*.received)
    )]
    AuthoredAhead {
        /// `authored_at`.
        authored: u64,
        /// `received_at`.
        received: u64,
        /// The skew allowed.
        ahead: u64,
    },
    /// An event outside any case names one.
    #[error("Case: {} event belongs to no case; it must not name one", article(.0))]
    NotACaseEvent(&'static str),
    /// An event that may not answer earlier events does.
    #[error(
        "Case: {} event cannot answer earlier events; only events inside a case answer, and only earlier events of the same case",
        article(.0)
    )]
    AnswersOutsideCase(&'static str),
    /// The all-zero case id.
    #[error(
        "Case: the case id 00000000000000000000000000000000 is reserved; choose a random 128-bit id"
    )]
    ReservedCaseId,
    /// Nothing but the other root's acceptance may follow an unaccepted genesis.
    #[error(
        "Art. 10: the Agreement's ledger is not constituted yet: the other Party's root must first accept the genesis"
    )]
    Art10_NotConstituted,

    // ---- Art. 3: who may sign ----
    /// The author is not registered.
    #[error("Art. 3: {0} is not a registered authority of either Party")]
    Art3_UnknownAuthority(String),
    /// The author's key is not an active key of that authority here.
    #[error(
        "Art. 3: the key that signed is not an active key of {0} at this point of the ledger (never registered, changed, revoked or retired)"
    )]
    Art3_KeyNotActive(String),
    /// The key that signed is registered to another authority.
    #[error(
        "Art. 3: the key that signed is registered to {owner}, not to {author}: sign with {author}'s own key"
    )]
    Art3_KeyOfAnother {
        /// The author the event names.
        author: AuthorityId,
        /// Whose key it is.
        owner: AuthorityId,
    },
    /// Governance needs a Party's root (diplomatic-channel) key.
    #[error(
        "Art. 3: {} event must be signed by a Party's root (diplomatic-channel) key; {author} is not a root",
        article(.kind)
    )]
    Art3_NotRoot {
        /// Event kind.
        kind: &'static str,
        /// Who signed.
        author: String,
    },
    /// Cooperation needs a competent authority's key.
    #[error("Art. 3: {} event must be signed by a competent authority; {author} is not one", article(.kind))]
    Art3_NotCompetentAuthority {
        /// Event kind.
        kind: &'static str,
        /// Who signed.
        author: String,
    },
    /// Bad designation (duplicate id, weak key, other Party's authority...).
    #[error("Art. 3: {0}")]
    Art3_Registry(Detail),

    // ---- Art. 9 / 10: force ----
    /// Cooperation before entry into force.
    #[error(
        "Art. 10: the Agreement is not in force yet: it enters into force when the last notification of completed internal procedures is received"
    )]
    Art10_NotInForce,
    /// A new request after termination took effect.
    #[error(
        "Art. 10: the Agreement was terminated with effect from {}; no new request can be made",
        t(*.0)
    )]
    Art10_Terminated(u64),
    /// Other Art. 10 procedure errors (duplicate notification...).
    #[error("Art. 10: {0}")]
    Art10_Procedure(Detail),
    /// A protocol error.
    #[error("Art. 9: {0}")]
    Art9_Protocol(Detail),

    // ---- Art. 1 / 2 ----
    /// Category "other" without the other Party's recorded agreement.
    #[error(
        "Art. 1.2: a request for another crime needs the other Party's recorded agreement ({0})"
    )]
    Art1_2_NoAgreement(Detail),
    /// Wanted-person search outcome on a case that is not one.
    #[error("Art. 1.3: {0}")]
    Art1_3_Search(Detail),
    /// Form of cooperation misused.
    #[error("Art. 2: {0}")]
    Art2_Form(Detail),

    // ---- Art. 4 ----
    /// 4.1(1) missing.
    #[error("Art. 4.1(1): the request does not name the requested authority")]
    Art4_1_1MissingRequestedAuthority,
    /// 4.1(2) missing.
    #[error("Art. 4.1(2): the request lacks {0}")]
    Art4_1_2MissingGrounds(Detail),
    /// 4.1(3) missing.
    #[error("Art. 4.1(3): the request lacks a description of the case that prompted it")]
    Art4_1_3MissingCaseDescription,
    /// 4.1(4) missing.
    #[error("Art. 4.1(4): the request lacks its content and the information needed to execute it")]
    Art4_1_4MissingContent,
    /// 4.1(5) missing decision copy.
    #[error("Art. 4.1(5): the request lacks a certified copy of the decision or other act")]
    Art4_1_5MissingDecisionCopy,
    /// Art. 4.1(5): the decision copy is not a certified copy.
    #[error(
        "Art. 4.1(5): the copy of the decision ({0}) is not marked as a certified copy; the Agreement asks for a certified copy"
    )]
    Art4_1_5NotCertified(coop_core::Hash),
    /// Art. 4.1(5): the legal-provision slot holds another kind of document.
    #[error(
        "Art. 4.1(5): the document given as the legal provision ({0}) is not the text of a legal provision"
    )]
    Art4_1_5NotLegalProvision(coop_core::Hash),
    /// 4.1(5) missing legal provision.
    #[error(
        "Art. 4.1(5): the request lacks the text of the legal provision the decision was issued under"
    )]
    Art4_1_5MissingLegalProvision,
    /// Requested authority is not the other Party's.
    #[error("Art. 4.1: the request must go to a competent authority of the other Party; {0}")]
    Art4_1_WrongRecipient(Detail),
    /// Oral-request rule.
    #[error("Art. 4.1: {0}")]
    Art4_1_Oral(Detail),
    /// Missing original in the state language.
    /// Art. 4.2: a document is not drawn up in the author's state language.
    #[error(
        "Art. 4.2: document {document} is in {language}; communications are drawn up in {own}, the author's state language (unless the authorities agreed other languages)"
    )]
    Art4_2_NotInStateLanguage {
        /// The document's digest.
        document: coop_core::Hash,
        /// Its language.
        language: Language,
        /// The author's state language.
        own: Language,
    },
    /// Art. 4.2: a document lacks its translation.
    #[error(
        "Art. 4.2: document {document} is not accompanied by a translation into {target} (the other Party's language) or Russian"
    )]
    Art4_2_MissingTranslation {
        /// The document's digest.
        document: coop_core::Hash,
        /// The other Party's state language.
        target: Language,
    },
    /// Documents outside an agreed language arrangement.
    #[error("Art. 4.2: {0}")]
    Art4_2_Language(Detail),
    /// Additional information rule.
    #[error("Art. 4.3: {0}")]
    Art4_3_AdditionalInfo(Detail),
    /// State secret not excluded.
    #[error(
        "Art. 4.4: the information provided does not declare that it contains no state secret; state secrets are not exchanged under the Agreement"
    )]
    Art4_4_StateSecret,
    /// Refusal without grounds.
    #[error("Art. 4.5: a refusal must give at least one ground from Article 4.5's list")]
    Art4_5_NoGrounds,
    /// Refusal or partial execution without reasons.
    #[error("Art. 4.6: {0} must state its reasons")]
    Art4_6_NoReasons(Detail),

    // ---- case lifecycle ----
    /// The case does not exist.
    #[error("Case: there is no request for this case")]
    NoSuchCase,
    /// The case already exists.
    #[error("Case: a request for this case already exists")]
    CaseExists,
    /// The event names no case but needs one.
    #[error("Case: {} event must name its case", article(.0))]
    CaseRequired(&'static str),
    /// The case is closed.
    #[error("Case: the case is closed")]
    CaseClosed,
    /// A second final answer.
    #[error("Case: the request has already been answered ({0})")]
    AlreadyAnswered(Detail),
    /// Wrong side of the case.
    #[error("Case: {0}")]
    WrongSide(Detail),
    /// Optimistic concurrency.
    #[error(
        "Case: the event expects case version {expected}, but the case is at version {actual}; reload the case and try again"
    )]
    VersionConflict {
        /// What the event expected.
        expected: u64,
        /// Where the case is.
        actual: u64,
    },
    /// A causal link to an event that is not in this case.
    #[error("Case: the event answers {0}, which is not an earlier event of this case")]
    UnknownAnswer(String),

    // ---- Art. 5 ----
    /// Cost rule.
    #[error("Art. 5: {0}")]
    Art5_Costs(Detail),

    // ---- Art. 7 ----
    /// Unknown item.
    #[error("Art. 7: no information item {0} was transferred in this case")]
    Art7_UnknownItem(String),
    /// Use for a purpose that is not permitted.
    #[error(
        "Art. 7.2: information may not be used for \"{purpose}\": that purpose was not stated in the request, and no consent of the providing Party ({provider}) covers it"
    )]
    Art7_2_PurposeNotPermitted {
        /// The declared purpose.
        purpose: String,
        /// The providing Party.
        provider: Party,
    },
    /// A use for a purpose a consent covers, written before that consent was given.
    #[error(
        "Art. 7.2: a consent of the providing Party ({provider}) covers \"{purpose}\", but it was given after this use was written: the consent must be prior (write the use again, now)"
    )]
    Art7_2_ConsentNotPrior {
        /// The declared purpose.
        purpose: String,
        /// The providing Party.
        provider: Party,
    },
    /// Onward transfer without prior consent.
    #[error(
        "Art. 7.2: information may not be passed to {third_party} without the prior written consent of the providing Party ({provider}); {detail}"
    )]
    Art7_2_NoConsent {
        /// The third party.
        third_party: String,
        /// The providing Party.
        provider: Party,
        /// What is wrong with the consent referred to.
        detail: Detail,
    },
    /// Consent by the wrong Party.
    #[error(
        "Art. 7.2: consent must come from the providing Party ({provider}); a consent signed by {signer_party}'s authority is not a consent"
    )]
    Art7_2_ConsentNotFromProvider {
        /// The providing Party.
        provider: Party,
        /// Who signed.
        signer_party: Party,
    },
    /// Another authority than the one an item was transferred to acts on it.
    #[error(
        "Art. 7.2: only {recipient}, to which the information was transferred, uses it, asks for consent to it or passes it on; {signer} did not receive it"
    )]
    Art7_2_NotTheRecipient {
        /// The authority the item was transferred to.
        recipient: AuthorityId,
        /// Who signed.
        signer: AuthorityId,
    },
    /// Other Art. 7 rule (item already exists...).
    #[error("Art. 7: {0}")]
    Art7_Other(Detail),

    // ---- Art. 8 ----
    /// Dispute rule.
    #[error("Art. 8: {0}")]
    Art8_Dispute(Detail),
}

/// A time of a refusal, as people read it.
fn t(ms: u64) -> String {
    crate::time::rfc3339(coop_core::Timestamp(ms))
}

/// "a request", "an authority designated" (issue 30: "a authority designated event").
fn article(kind: &str) -> String {
    let an = kind
        .chars()
        .next()
        .is_some_and(|c| matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u'));
    format!("{} {kind}", if an { "an" } else { "a" })
}

impl Violation {
    /// The clause, e.g. `"Art. 4.1(5)"`.
    pub fn clause(&self) -> String {
        let s = self.to_string();
        s.split(':').next().unwrap_or_default().to_owned()
    }
}

#[cfg(test)]
mod article_tests {
    #[test]
    fn an_event_kind_takes_its_article() {
        let v = super::Violation::Art3_NotRoot {
            kind: "authority designated",
            author: "KZ-MVD".into(),
        };
        assert!(
            v.to_string()
                .starts_with("Art. 3: an authority designated event"),
            "{v}"
        );
        assert_eq!(
            super::Violation::CaseRequired("request").to_string(),
            "Case: a request event must name its case"
        );
    }
}
