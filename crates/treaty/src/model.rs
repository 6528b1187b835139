//! The Agreement's vocabulary: Parties, languages, documents, crime categories, forms of
//! cooperation, refusal grounds. Closed lists are enums, so an event cannot name a ground
//! or category the Agreement does not have.

use coop_core::Hash;
use serde::{Deserialize, Serialize};

/// A Party to the Agreement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Party {
    /// The Government of the Republic of Kazakhstan.
    Kz,
    /// The Government of Turkmenistan.
    Tm,
}

impl Party {
    /// The other Party.
    pub fn other(self) -> Party {
        match self {
            Party::Kz => Party::Tm,
            Party::Tm => Party::Kz,
        }
    }

    /// The Party's state language (Art. 4.2).
    pub fn state_language(self) -> Language {
        match self {
            Party::Kz => Language::Kk,
            Party::Tm => Language::Tk,
        }
    }
}

impl std::fmt::Display for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Party::Kz => "Kazakhstan",
            Party::Tm => "Turkmenistan",
        })
    }
}

/// Languages of the Agreement's texts and of documents (Art. 4.2, Art. 10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Language {
    /// Kazakh.
    Kk,
    /// Turkmen.
    Tk,
    /// Russian.
    Ru,
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Language::Kk => "Kazakh",
            Language::Tk => "Turkmen",
            Language::Ru => "Russian",
        })
    }
}

/// What a document is, in relation to the event that carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocRole {
    /// The original text.
    Original,
    /// A translation of the document with this digest.
    TranslationOf(Hash),
    /// A certified copy of a decision or other act (Art. 4.1(5)).
    CertifiedCopy,
    /// The text of a legal provision (Art. 4.1(5)).
    LegalProvisionText,
}

/// A document, by reference only: the ledger proves what was sent without holding it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentRef {
    /// blake3 of the document's bytes.
    pub digest: Hash,
    /// Size in bytes.
    pub size: u64,
    /// Media type, e.g. `application/pdf`.
    pub media_type: String,
    /// Language of the text.
    pub language: Language,
    /// Role.
    pub role: DocRole,
}

/// Crime categories of Art. 1.1, or another crime by mutual agreement (Art. 1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CrimeCategory {
    /// 1.1(1) organised crime.
    OrganisedCrime,
    /// 1.1(2) terrorist and extremist crimes and their financing.
    TerrorismExtremism,
    /// 1.1(3) financing the proliferation of weapons of mass destruction.
    ProliferationFinancing,
    /// 1.1(4) crimes against the person, public health and public morality.
    AgainstPerson,
    /// 1.1(5) crimes with weapons, ammunition, explosives, poisonous, nuclear, biological
    /// or radioactive substances.
    Weapons,
    /// 1.1(6) illicit trafficking in narcotic drugs, psychotropic substances, precursors.
    Narcotics,
    /// 1.1(7) illegal migration, trafficking in persons and organs, exploitation.
    TraffickingMigration,
    /// 1.1(8) counterfeit currency, means of payment, cheques, securities.
    Counterfeiting,
    /// 1.1(9) illicit trade in cultural property.
    CulturalProperty,
    /// 1.1(10) crimes against private property.
    Property,
    /// 1.1(11) corruption crimes.
    Corruption,
    /// 1.1(12) economic crimes.
    Economic,
    /// 1.1(13) laundering of proceeds of crime.
    MoneyLaundering,
    /// 1.1(14) information technology and information security crimes.
    Cyber,
    /// 1.2 another crime, by mutual agreement: the event hash of the other Party's
    /// recorded agreement ([`crate::Payload::CategoryAgreed`]).
    Other(Hash),
}

impl CrimeCategory {
    /// The fourteen categories Art. 1.1 lists, in its order (Art. 1.2's "other" needs the
    /// other Party's recorded agreement, so it is not among them).
    pub const LISTED: [CrimeCategory; 14] = [
        CrimeCategory::OrganisedCrime,
        CrimeCategory::TerrorismExtremism,
        CrimeCategory::ProliferationFinancing,
        CrimeCategory::AgainstPerson,
        CrimeCategory::Weapons,
        CrimeCategory::Narcotics,
        CrimeCategory::TraffickingMigration,
        CrimeCategory::Counterfeiting,
        CrimeCategory::CulturalProperty,
        CrimeCategory::Property,
        CrimeCategory::Corruption,
        CrimeCategory::Economic,
        CrimeCategory::MoneyLaundering,
        CrimeCategory::Cyber,
    ];
}

/// Art. 2.2's four kinds of information.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InfoKind {
    /// Operational-search information.
    OperationalSearch,
    /// Operational-reference information.
    OperationalReference,
    /// Forensic (criminalistic) information.
    Forensic,
    /// Archival information.
    Archival,
}

/// Forms of cooperation (Art. 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Form {
    /// 2.1 executing requests.
    ExecuteRequest,
    /// 2.2 exchanging information of one kind.
    ExchangeInformation(InfoKind),
    /// 2.3 exchanging experience.
    ExchangeExperience,
    /// 2.4 exchanging specialists and research results.
    ExchangeSpecialists,
    /// 2.5 exchanging normative legal acts.
    ExchangeLegalActs,
    /// 2.6 assistance in training.
    Training,
}

/// Grounds for refusal: Art. 4.5's closed list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RefusalGround {
    /// Could harm sovereignty.
    Sovereignty,
    /// Could harm security.
    Security,
    /// Could harm public order.
    PublicOrder,
    /// Could harm the norms of organisation and functioning of state power.
    StatePower,
    /// Could harm other essential interests.
    EssentialInterests,
    /// Would contradict national law.
    NationalLaw,
    /// Would contradict obligations under international agreements.
    InternationalObligations,
}

/// Full or partial (refusal, execution).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Extent {
    /// Whole.
    Full,
    /// In part.
    Partial,
}

/// Outcome of a wanted-person search (Art. 1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SearchOutcome {
    /// The person was found.
    Found,
    /// The person was detained.
    Detained,
    /// The person was arrested.
    Arrested,
    /// Information about the person was provided.
    InformationProvided,
    /// The person was not found.
    NotFound,
}

/// A purpose for which information may be used (Art. 7.2), named by the request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Purpose(pub smol_str::SmolStr);

/// Id of one item of transferred information (the Article 7 register's key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(pub [u8; 16]);

coop_core::hex_serde!(ItemId, 16, "ItemId");

impl std::fmt::Display for ItemId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Rule parameters, set in the genesis and changed by protocols (Art. 9). Durations in
/// milliseconds. "Immediately" and "as soon as possible" become these deadlines. In an
/// input file, a parameter left out takes its default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct Params {
    /// Art. 4.1: an oral request must be confirmed in writing within this time.
    pub oral_confirmation_ms: u64,
    /// Art. 4.6: reasons for refusal or partial execution are notified within this time
    /// of the request ("immediately").
    pub refusal_notice_ms: u64,
    /// Art. 4.3: additional information is provided within this time ("immediately").
    pub additional_info_ms: u64,
    /// Art. 10: termination takes effect this many calendar months after the notice is
    /// received.
    pub termination_months: u32,
    /// Time: an event's `authored_at` may differ from the node's receive time by at most
    /// this much, either way. It keeps authors from back-dating (an onward transfer
    /// "authored" before the consent it cites) or future-dating what they sign.
    pub authored_window_ms: u64,
}

impl Default for Params {
    fn default() -> Self {
        const HOUR: u64 = 3_600_000;
        Params {
            oral_confirmation_ms: 24 * HOUR,
            refusal_notice_ms: 72 * HOUR,
            additional_info_ms: 72 * HOUR,
            termination_months: 6,
            authored_window_ms: 15 * 60 * 1000,
        }
    }
}

/// One item of information an event provides (Art. 2.2, 4.4, 7): every event that
/// carries information declares it this way, and each creates an item of the Article 7
/// register, whichever event carried it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Information {
    /// Item id, unique within the case (the Art. 7 register's key, with the case).
    pub item: ItemId,
    /// Art. 2.2 kind.
    pub kind: InfoKind,
    /// Art. 7.1: restricted access under the provider's law.
    pub restricted: bool,
    /// Art. 4.4: explicit declaration that it holds no state secret. Absent from an
    /// input file, it is `false`, and the event is refused under Art. 4.4.
    #[serde(default)]
    pub no_state_secret: bool,
    /// The information itself, by reference, with its translation (Art. 4.2).
    #[serde(default)]
    pub documents: Vec<DocumentRef>,
}
