//! What a list of cases is filtered by: one definition for the command line (`case list`)
//! and the HTTP API (`/v1/cases`), so that both accept the same words and refuse the
//! same unknown ones — an unknown word is an error, never an empty list.

use crate::model::CrimeCategory;
use crate::state::Case;
use coop_core::Timestamp;

/// The status words, as [`CaseStatus::word`] gives them.
pub const STATUS_WORDS: [&str; 6] = [
    "open",
    "acknowledged",
    "partly-refused",
    "refused",
    "executed",
    "closed",
];

/// The category words (Art. 1.1), in the Agreement's order; `other` is Art. 1.2.
pub const CATEGORY_WORDS: [&str; 15] = [
    "organised-crime",
    "terrorism-extremism",
    "proliferation-financing",
    "against-person",
    "weapons",
    "narcotics",
    "trafficking-migration",
    "counterfeiting",
    "cultural-property",
    "property",
    "corruption",
    "economic",
    "money-laundering",
    "cyber",
    "other",
];

/// A filter word that is not one of the known ones. Use one of `expected`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {given:?}: expected one of {}", expected.join(", "))]
pub struct UnknownWord {
    /// Which filter.
    pub what: &'static str,
    /// What was given.
    pub given: String,
    /// The words it accepts.
    pub expected: Vec<&'static str>,
}

/// The word of a category (the filter's spelling).
pub fn category_word(c: &CrimeCategory) -> &'static str {
    let i = match c {
        CrimeCategory::OrganisedCrime => 0,
        CrimeCategory::TerrorismExtremism => 1,
        CrimeCategory::ProliferationFinancing => 2,
        CrimeCategory::AgainstPerson => 3,
        CrimeCategory::Weapons => 4,
        CrimeCategory::Narcotics => 5,
        CrimeCategory::TraffickingMigration => 6,
        CrimeCategory::Counterfeiting => 7,
        CrimeCategory::CulturalProperty => 8,
        CrimeCategory::Property => 9,
        CrimeCategory::Corruption => 10,
        CrimeCategory::Economic => 11,
        CrimeCategory::MoneyLaundering => 12,
        CrimeCategory::Cyber => 13,
        CrimeCategory::Other(_) => 14,
    };
    CATEGORY_WORDS.get(i).copied().unwrap_or("other")
}

/// A case filter; every field left empty matches every case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseFilter {
    /// Only cases with this status word.
    pub status: Option<&'static str>,
    /// Only cases of this category word.
    pub category: Option<&'static str>,
    /// Only cases with a deadline overdue at the time given to [`CaseFilter::matches`].
    pub overdue: bool,
    /// Only cases with a dispute.
    pub disputed: bool,
}

fn known(
    what: &'static str,
    words: &[&'static str],
    given: &str,
) -> Result<&'static str, UnknownWord> {
    // Older spellings stay accepted: the API once compared Debug names case-insensitively
    // ("OrganisedCrime", "organisedcrime").
    let squash = |s: &str| s.replace(['-', '_'], "").to_ascii_lowercase();
    words
        .iter()
        .find(|w| **w == given || squash(w) == squash(given))
        .copied()
        .ok_or_else(|| UnknownWord {
            what,
            given: given.to_owned(),
            expected: words.to_vec(),
        })
}

impl CaseFilter {
    /// Checks a status word.
    pub fn status_word(given: &str) -> Result<&'static str, UnknownWord> {
        known("status", &STATUS_WORDS, given)
    }

    /// Checks a category word.
    pub fn category_word(given: &str) -> Result<&'static str, UnknownWord> {
        known("category", &CATEGORY_WORDS, given)
    }

    /// Checks a yes/no word (`true`/`false`, as query strings carry them).
    pub fn flag(what: &'static str, given: &str) -> Result<bool, UnknownWord> {
        match given {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(UnknownWord {
                what,
                given: given.to_owned(),
                expected: vec!["true", "false"],
            }),
        }
    }

    /// Whether `case` passes, with deadlines judged at `now`.
    pub fn matches(&self, case: &Case, now: Timestamp) -> bool {
        self.status.is_none_or(|s| case.status.word() == s)
            && self
                .category
                .is_none_or(|w| category_word(&case.category) == w)
            && (!self.overdue || !case.overdue_at(now).is_empty())
            && (!self.disputed || !case.disputes.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::CaseStatus;

    #[test]
    fn every_status_word_is_listed() {
        for s in [
            CaseStatus::Open,
            CaseStatus::Acknowledged,
            CaseStatus::PartlyRefused,
            CaseStatus::Refused,
            CaseStatus::Executed(crate::Extent::Full),
            CaseStatus::Closed,
        ] {
            assert_eq!(CaseFilter::status_word(s.word()), Ok(s.word()));
        }
    }

    #[test]
    fn unknown_words_are_errors_that_list_the_known_ones() {
        let e = CaseFilter::status_word("bogus").unwrap_err();
        assert_eq!(e.given, "bogus");
        assert!(e.to_string().contains("partly-refused"), "{e}");
        assert!(CaseFilter::category_word("bogus").is_err());
        assert!(CaseFilter::flag("overdue", "maybe").is_err());
    }

    #[test]
    fn categories_accept_their_word_and_the_old_spelling() {
        assert_eq!(
            CaseFilter::category_word("OrganisedCrime"),
            Ok("organised-crime")
        );
        assert_eq!(CaseFilter::category_word("cyber"), Ok("cyber"));
        assert_eq!(
            category_word(&CrimeCategory::MoneyLaundering),
            "money-laundering"
        );
    }
}
