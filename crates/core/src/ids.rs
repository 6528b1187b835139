//! Identifiers and time: small value types with one encoding each.

use crate::hash::{Hash, tag};
use serde::{Deserialize, Serialize};

/// Identity of a ledger: `blake3(0x03 || genesis body bytes)`. Every non-genesis event
/// carries it inside its signed body, so an event signed for one ledger can never be
/// replayed into another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct LedgerId(pub crate::hash::Hash);

impl LedgerId {
    /// Derives the ledger id from the canonical bytes of the genesis event's body.
    pub fn from_genesis_body(genesis_body_bytes: &[u8]) -> LedgerId {
        LedgerId(Hash::tagged(tag::LEDGER_ID, &[genesis_body_bytes]))
    }
}

impl std::fmt::Display for LedgerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

macro_rules! id128 {
    ($(#[$doc:meta])* $name:ident, $serde_name:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; 16]);

        $crate::hex_serde!($name, 16, $serde_name);

        impl $name {
            /// Lower-case hex (32 digits).
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
            /// Parses 32 lower-case hex digits.
            pub fn from_hex(s: &str) -> Result<Self, IdParseError> {
                $crate::hexserde::decode_lower::<16>(s)
                    .map(Self)
                    .ok_or(IdParseError)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
    };
}

id128!(
    /// 128-bit event id chosen by the author: the idempotency key of a submission.
    EventId,
    "EventId"
);
id128!(
    /// 128-bit case id: groups the events of one request and everything that follows it.
    CaseId,
    "CaseId"
);

/// Text that is not a 128-bit id. Refuse the input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a 128-bit id (expected 32 lower-case hex digits, 0-9 a-f)")]
pub struct IdParseError;

/// Milliseconds since 1970-01-01T00:00:00Z (UTC, leap seconds ignored). Supplied by the
/// caller: core never reads a clock.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
/// In JSON: a number of milliseconds.
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Whole seconds (rounded down), as C2SP cosignatures count time.
    pub fn as_secs(&self) -> u64 {
        self.0 / 1000
    }
}

/// Name of a competent authority, root or other registered party, e.g. `KZ-MVD` or
/// `TM-ROOT`. 1 to 64 characters from `A-Z a-z 0-9 . _ -` (docs/FORMAT.md §2), checked
/// wherever one is made: [`AuthorityId::new`], and every decode (canonical bytes, JSON,
/// TOML), so an id that breaks the rule cannot enter an event, a payload or a file.
///
/// Held inline (`SmolStr`: up to 23 bytes without a heap allocation, which every id of
/// the fixtures and of the Parties' registers is): the treaty state holds an id in every
/// case, item and piece of evidence (ADR 0020). Its bytes and its order are the string's.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct AuthorityId(smol_str::SmolStr);

impl<'de> Deserialize<'de> for AuthorityId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<AuthorityId, D::Error> {
        /// Reads the id from a borrowed string where the format has one (bincode from a
        /// slice), so decoding an id allocates nothing; checks it either way.
        struct Id;
        impl serde::de::Visitor<'_> for Id {
            type Value = AuthorityId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an authority id (1-64 characters from A-Z a-z 0-9 . _ -)")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<AuthorityId, E> {
                AuthorityId::checked(s).map_err(E::custom)
            }
        }
        d.deserialize_str(Id)
    }
}

impl TryFrom<String> for AuthorityId {
    type Error = AuthorityIdError;
    fn try_from(s: String) -> Result<AuthorityId, AuthorityIdError> {
        AuthorityId::checked(&s)
    }
}

/// A string that cannot be an authority id. Refuse the input; the message says why.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid authority id {0:?}: use 1-64 characters from A-Z a-z 0-9 . _ -")]
pub struct AuthorityIdError(pub String);

impl AuthorityId {
    /// Longest accepted id, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Checks and wraps an authority id.
    pub fn new(s: impl AsRef<str>) -> Result<AuthorityId, AuthorityIdError> {
        AuthorityId::checked(s.as_ref())
    }

    fn checked(s: &str) -> Result<AuthorityId, AuthorityIdError> {
        if Self::is_valid(s) {
            Ok(AuthorityId(smol_str::SmolStr::new(s)))
        } else {
            Err(AuthorityIdError(s.to_owned()))
        }
    }

    /// Whether `s` satisfies the authority-id rule.
    pub fn is_valid(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::fmt::Display for AuthorityId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_ids() {
        assert!(AuthorityId::new("KZ-MVD").is_ok());
        assert!(AuthorityId::new("tm.mns_1").is_ok());
        assert!(AuthorityId::new("").is_err());
        assert!(AuthorityId::new("KZ MVD").is_err());
        assert!(AuthorityId::new("Қ").is_err());
        assert!(AuthorityId::new("x".repeat(65)).is_err());
        assert!(AuthorityId::new("x".repeat(64)).is_ok());
    }

    /// Held inline or not (up to 23 bytes, or more), an id's bytes are its string's, in
    /// canonical bytes and in JSON, and ids order as their strings do.
    #[test]
    fn an_authority_ids_bytes_and_order_are_its_strings() -> Result<(), Box<dyn std::error::Error>>
    {
        let short = "KZ-MVD".to_owned();
        let long = "x".repeat(64);
        for s in [&short, &long] {
            let id = AuthorityId::new(s)?;
            assert_eq!(crate::encoding::encode(&id)?, crate::encoding::encode(s)?);
            assert_eq!(serde_json::to_string(&id)?, serde_json::to_string(s)?);
            assert_eq!(
                crate::encoding::decode::<AuthorityId>(&crate::encoding::encode(s)?)?,
                id
            );
            assert_eq!(
                serde_json::from_str::<AuthorityId>(&serde_json::to_string(s)?)?,
                id
            );
        }
        let mut ids = [
            AuthorityId::new(&long)?,
            AuthorityId::new("TM-MVD")?,
            AuthorityId::new(&short)?,
        ];
        ids.sort();
        let strings: Vec<&str> = ids.iter().map(AuthorityId::as_str).collect();
        assert_eq!(strings, ["KZ-MVD", "TM-MVD", long.as_str()]);
        Ok(())
    }

    #[test]
    fn authority_ids_are_checked_when_decoded() -> Result<(), Box<dyn std::error::Error>> {
        // Canonical bytes: a String (varint length, then UTF-8).
        for bad in ["KZ NEW", "", "Қ-MVD", &"x".repeat(65)] {
            let bytes = crate::encoding::encode(&bad.to_owned())?;
            assert!(
                crate::encoding::decode::<AuthorityId>(&bytes).is_err(),
                "{bad:?} decoded"
            );
        }
        let good = crate::encoding::encode(&"KZ-MVD".to_owned())?;
        assert_eq!(
            crate::encoding::decode::<AuthorityId>(&good)?,
            AuthorityId::new("KZ-MVD")?
        );
        // The encoding of an id is that of its text.
        assert_eq!(crate::encoding::encode(&AuthorityId::new("KZ-MVD")?)?, good);
        Ok(())
    }

    #[test]
    fn id_hex_round_trip() -> Result<(), IdParseError> {
        let id = EventId([0xAB; 16]);
        assert_eq!(EventId::from_hex(&id.to_hex())?, id);
        assert_eq!(CaseId::from_hex("zz"), Err(IdParseError));
        Ok(())
    }
}
