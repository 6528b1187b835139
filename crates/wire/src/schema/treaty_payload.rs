//! Mirrors of coop-treaty's payload.rs (the event catalogue), for their schemas only.

use super::*;

/// A Party's root (diplomatic-channel) key, as named in the genesis.
#[derive(JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RootKey {
    /// The Party.
    pub party: Party,
    /// Registered id of its root, e.g. `KZ-MFA`.
    pub authority: AuthorityId,
    /// Its key.
    pub key: PublicKey,
}

/// What kind of registered party a key belongs to.
#[derive(JsonSchema, serde::Serialize)]
pub enum Role {
    /// A Party's root (diplomatic channel).
    Root,
    /// A competent authority (Art. 3).
    Competent,
    /// An auditor.
    Auditor,
    /// A witness that cosigns checkpoints.
    Witness,
}

/// The Art. 4.1 elements of a request. Optional fields are optional only so that a
/// missing one is refused with the element named rather than as an undecodable event.
#[derive(JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequestElements {
    /// 4.1(1) the requested authority.
    pub requested_authority: Option<AuthorityId>,
    /// 4.1(2) the reasoned statement of grounds.
    pub grounds: Option<DocumentRef>,
    /// 4.1(2) the requesting service.
    pub requesting_service: String,
    /// 4.1(2) the requested service.
    pub requested_service: String,
    /// 4.1(3) description of the case.
    pub case_description: Option<DocumentRef>,
    /// 4.1(4) content of the request and information needed to execute it.
    pub content: Option<DocumentRef>,
    /// 4.1(5) certified copy of the decision or other act.
    pub decision_copy: Option<DocumentRef>,
    /// 4.1(5) text of the legal provision it was issued under.
    pub legal_provision: Option<DocumentRef>,
}

/// A request (Art. 4.1); opens a case.
#[derive(JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The five elements.
    pub elements: RequestElements,
    /// Art. 1 category.
    pub category: CrimeCategory,
    /// Art. 2 form.
    pub form: Form,
    /// Art. 1.3: this is a wanted-person search.
    pub wanted_person_search: bool,
    /// Purposes the information may serve (Art. 7.2); at least one.
    pub purposes: Vec<Purpose>,
    /// Urgent execution needed to stop, prevent or solve a crime (Art. 4.1).
    pub urgent: bool,
    /// Prior oral request, to be confirmed in writing (Art. 4.1).
    pub oral: bool,
    /// Documents sent with the request (originals and translations, Art. 4.2). An oral
    /// request may carry none until confirmed.
    pub documents: Vec<DocumentRef>,
    /// Art. 4.2 "unless the competent authorities agree otherwise": the event hash of
    /// the acceptance ([`Payload::LanguageArrangementAccepted`]) of a language
    /// arrangement between the two authorities that this case uses. The case's
    /// documents are then judged by it. A citation, not a lookup: the rules read only
    /// what an event names (docs/FORMAT.md §11).
    #[serde(default)]
    pub language_arrangement: Option<Hash>,
}

/// Every payload, in catalogue order.
#[derive(JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub enum Payload {
    // ---- governance, signed by a root key ----
    /// Constitutes the ledger: both roots, the Agreement's texts, rule parameters, the
    /// node key that signs its checkpoints. Signed by one of the roots.
    Genesis {
        /// Both Parties' root keys.
        roots: Vec<RootKey>,
        /// Digests of the Agreement's texts (Kazakh, Turkmen, Russian).
        agreement_texts: Vec<DocumentRef>,
        /// Rule parameters.
        params: Params,
        /// The key that signs this ledger's checkpoints (and receipts), under the key
        /// name `coopledger/<ledger id>`. Verifiers learn it from the ledger itself.
        node_key: PublicKey,
        /// A test or demonstration ledger: only such a ledger lets its node's clock be
        /// moved, and every view of it says "TEST LEDGER". Never true for a ledger the
        /// Parties rely on.
        test_ledger: bool,
    },
    /// The other root accepts the genesis.
    GenesisAccepted,
    /// Art. 3: a Party designates a competent authority with a signing key.
    AuthorityDesignated {
        /// Its id.
        authority: AuthorityId,
        /// Its key.
        key: PublicKey,
        /// Its name in words.
        name: String,
    },
    /// Art. 3: an authority's key is replaced (the old key is retired from here on).
    AuthorityKeyChanged {
        /// The authority.
        authority: AuthorityId,
        /// The new key.
        new_key: PublicKey,
    },
    /// Art. 3: an authority is retired; its keys sign nothing from here on.
    AuthorityRetired {
        /// The authority.
        authority: AuthorityId,
    },
    /// A key is revoked from here on (earlier records stay valid).
    KeyRevoked {
        /// Whose key.
        authority: AuthorityId,
        /// The key.
        key: PublicKey,
    },
    /// An auditor or witness is registered by a root.
    ObserverRegistered {
        /// Its id.
        id: AuthorityId,
        /// Auditor or witness.
        role: Role,
        /// Its key.
        key: PublicKey,
    },
    /// Art. 10: the signing root's Party notifies completion of internal procedures.
    InternalProceduresCompleted {
        /// The list of competent authorities notified with it (Art. 3).
        authorities: Vec<AuthorityId>,
    },
    /// Art. 10: the signing root's Party gives notice of termination.
    TerminationNotice,
    /// Art. 9: a protocol proposed by the signing root.
    ProtocolProposed {
        /// Protocol id.
        id: u32,
        /// Its text.
        text: DocumentRef,
        /// New parameters.
        params: Params,
        /// Requested entry into force (ms since the epoch).
        effective_from: u64,
    },
    /// Art. 9: the other root accepts a protocol.
    ProtocolAccepted {
        /// Protocol id.
        id: u32,
    },

    // ---- cooperation, signed by a competent authority ----
    /// Art. 1.2: the signing authority's Party agrees to cooperate on another crime with
    /// the named authority of the other Party.
    CategoryAgreed {
        /// The other Party's authority.
        with: AuthorityId,
        /// The crime, in words.
        description: String,
    },
    /// Art. 4.1: a request; opens the case named in the event's `case`.
    Request(Box<Request>),
    /// Art. 4.1: written confirmation of a prior oral request.
    OralRequestConfirmed {
        /// The written request and translations.
        documents: Vec<DocumentRef>,
    },
    /// The requested authority acknowledges the request.
    Acknowledged,
    /// Art. 4.3: the requesting authority asks for additional information.
    AdditionalInfoRequested {
        /// What is asked, with its translation (Art. 4.2).
        #[serde(default)]
        documents: Vec<DocumentRef>,
    },
    /// Art. 4.3: the requested authority provides it. It is information like any other
    /// (Art. 4.4, 7): it declares no state secret and becomes an Art. 7 item.
    AdditionalInfoProvided {
        /// The information provided.
        information: Information,
    },
    /// Art. 4.5/4.6: the requested authority refuses.
    Refused {
        /// Full or partial.
        extent: Extent,
        /// Grounds from Art. 4.5's closed list.
        grounds: Vec<RefusalGround>,
        /// Art. 4.6 reasons, with their translation (Art. 4.2); required (absent from an
        /// input file: none, refused under Art. 4.6).
        #[serde(default)]
        reasons: Vec<DocumentRef>,
    },
    /// The requested authority reports execution.
    ExecutionReported {
        /// Full or partial.
        extent: Extent,
        /// Art. 4.6 reasons, with their translation (Art. 4.2); required for partial
        /// execution.
        #[serde(default)]
        reasons: Vec<DocumentRef>,
        /// Art. 1.3 outcome, for a wanted-person search.
        search_outcome: Option<SearchOutcome>,
        /// Information the execution provides to the requesting authority, each an Art. 7
        /// item (Art. 4.4 applies to each).
        #[serde(default)]
        results: Vec<Information>,
    },
    /// Information transferred between the Parties' authorities in this case.
    InformationTransferred {
        /// Item id (the Art. 7 register key).
        item: ItemId,
        /// Receiving authority (the other Party).
        recipient: AuthorityId,
        /// Art. 2.2 kind.
        kind: InfoKind,
        /// Art. 7.1: restricted access under the provider's law.
        restricted: bool,
        /// Art. 7.2: purposes it may serve (those of the request).
        permitted_purposes: Vec<Purpose>,
        /// Art. 4.4: explicit declaration that it holds no state secret (absent from an
        /// input file: `false`, refused under Art. 4.4).
        #[serde(default)]
        no_state_secret: bool,
        /// The information itself, by reference, with its translation (Art. 4.2).
        #[serde(default)]
        documents: Vec<DocumentRef>,
    },
    /// Art. 7.2: the recipient uses an item for a purpose.
    InformationUsed {
        /// The item.
        item: ItemId,
        /// The purpose.
        purpose: Purpose,
    },
    /// Art. 7.2: the recipient asks the provider's consent.
    ConsentRequested {
        /// The item.
        item: ItemId,
        /// A third party to pass it to, if that is what is asked.
        third_party: Option<String>,
        /// Further purposes asked for.
        purposes: Vec<Purpose>,
    },
    /// Art. 7.2: the providing Party's authority gives written consent.
    ConsentGranted {
        /// The item.
        item: ItemId,
        /// Third party it may be passed to, if any.
        third_party: Option<String>,
        /// Further purposes allowed.
        purposes: Vec<Purpose>,
        /// The written consent, with its translation (Art. 4.2).
        #[serde(default)]
        documents: Vec<DocumentRef>,
    },
    /// Art. 7.2: the providing Party's authority refuses consent.
    ConsentDenied {
        /// The item.
        item: ItemId,
        /// The third party refused, if any.
        third_party: Option<String>,
    },
    /// Art. 7.2: the recipient passes an item to a third party.
    OnwardTransfer {
        /// The item.
        item: ItemId,
        /// The third party.
        third_party: String,
        /// Event hash of the consent relied on.
        consent: Hash,
    },
    /// Art. 5: a cost incurred by the signing authority's Party in this case.
    CostRecorded {
        /// Amount in minor units.
        amount_minor: u64,
        /// ISO 4217 code.
        currency: String,
    },
    /// Art. 5: one side proposes a cost arrangement for this case.
    CostArrangementProposed {
        /// Its terms.
        terms: DocumentRef,
    },
    /// Art. 5: the other side accepts it.
    CostArrangementAccepted {
        /// Event hash of the proposal.
        proposal: Hash,
    },
    /// Art. 4.2: the signing authority proposes other languages with an authority of the
    /// other Party.
    LanguageArrangementProposed {
        /// The other authority.
        with: AuthorityId,
        /// Languages agreed for their communications.
        languages: Vec<Language>,
    },
    /// Art. 4.2: the other authority accepts.
    LanguageArrangementAccepted {
        /// Event hash of the proposal.
        proposal: Hash,
    },
    /// Art. 8: a dispute about this case is raised.
    DisputeRaised {
        /// Dispute number within the case.
        dispute: u32,
        /// What it is about.
        subject: DocumentRef,
    },
    /// Art. 8: a consultation was held.
    ConsultationHeld {
        /// Dispute number.
        dispute: u32,
        /// Minutes.
        minutes: DocumentRef,
    },
    /// Art. 8: the dispute is settled.
    DisputeSettled {
        /// Dispute number.
        dispute: u32,
        /// Outcome.
        outcome: DocumentRef,
    },
    /// Art. 2.3–2.6: another form of cooperation took place.
    OtherCooperation {
        /// The form (not request execution or information exchange).
        form: Form,
        /// The other Party's authority.
        with: AuthorityId,
        /// What was done.
        summary: DocumentRef,
    },
    /// The case is closed.
    CaseClosed,
    /// Art. 9 → 10: the signing root's Party notifies completion of its internal
    /// procedures for an accepted protocol. The protocol enters into force when both
    /// Parties have (and not before the date it asks for).
    ProtocolProceduresCompleted {
        /// Protocol id.
        id: u32,
    },
    /// Node handover (format 2.1): the signing root proposes that the ledger go on under a
    /// new node key — its node lost or replaced — and, optionally, that the node keys
    /// before it sign no checkpoint from a given size on.
    NodeHandoverProposed {
        /// Handover id.
        id: u32,
        /// The new node key.
        key: PublicKey,
        /// From this checkpoint size on, the node keys named before may no longer sign
        /// (it must leave room for the acceptance: larger than the proposal's seq + 1).
        retire_old_from: Option<u64>,
    },
    /// Node handover: the other Party's root accepts it. The new key signs checkpoints
    /// from the size just after this record.
    NodeHandoverAccepted {
        /// Handover id.
        id: u32,
    },
    // New variants go here, at the end: an index never changes (docs/FORMAT.md §11).
}
