//! coop-treaty: the Agreement between Kazakhstan and Turkmenistan on cooperation in
//! combating crime, as code. Pure: no I/O, no clock, no threads.
//!
//! The event catalogue ([`Payload`]) types every request, reply, refusal, transfer and
//! governance act; [`validate`] decides whether a record may follow a [`State`], naming
//! the article and element when it may not ([`Violation`]); [`apply`] folds an accepted
//! record into the projections (agreement status, authority registry, cases, Article 7
//! register). The key design decision: the state is a pure fold over records, so
//! replaying records `0..n` gives exactly the state the live ledger had after record
//! `n - 1` — that is how the engine enforces the Agreement, how the auditor re-checks it
//! offline, and how a dispute consultation sees a case as it stood at any point. The
//! state's collections are persistent maps (ADR 0021): a clone is O(1) and shares every
//! case until one changes, so a node holds one state for its writer and its readers.

mod detail;
mod draft;
mod filter;
mod model;
mod payload;
mod report;
mod rules;
pub mod snapshot;
mod state;
#[cfg(feature = "testkit")]
pub mod testkit;
mod text;
mod time;
pub use time::rfc3339;
mod violation;

pub use detail::{Arg, Detail, kind};
pub use draft::Draft;
pub use filter::{CATEGORY_WORDS, CaseFilter, STATUS_WORDS, UnknownWord, category_word};
pub use model::{
    CrimeCategory, DocRole, DocumentRef, Extent, Form, InfoKind, Information, ItemId, Language,
    Params, Party, Purpose, RefusalGround, SearchOutcome,
};
pub use payload::{Payload, Request, RequestElements, Role, RootKey};
pub use report::{ComplianceReport, ComplianceSummary, ItemReport, Link};
pub use rules::{
    AUTHORED_AHEAD_MS, Decoded, Reads, author_key, bundle_seqs, case_documents, documents_of,
    is_case_event, reads,
};
pub use state::{
    Agreement, Case, CaseStatus, Cases, CategoryAgreement, Consent, ConsentDecision, Cost,
    CostArrangement, Deadline, DeadlineKind, Dispute, Evidence, Governance, Handover, Item,
    KeyGrant, LanguageArrangement, Map, NodeKey, Onward, Protocol, Register, Registered, SignedBy,
    State, Step, StepKind, Termination, TimelineEntry, Use, UseBasis,
};
pub use text::{hidden_text, is_hidden};
pub use time::add_months;
pub use violation::Violation;
