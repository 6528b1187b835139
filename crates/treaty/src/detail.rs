//! What exactly a refusal found, structured so that every language can say it.
//!
//! Many refusals name their clause and then a particular: "dispute 3 is already
//! settled", "protocol 7 is not accepted yet". Written as English text, that particular
//! stayed English inside a Russian, Kazakh or Turkmen refusal (issue 30). A [`Detail`]
//! is instead a message key and typed arguments: the rules' English is rendered here (the
//! `Display` every log and the API's English message show), and each other language
//! renders the same key and arguments from its own messages (`coop-i18n`,
//! `detail-<key>`), its words for the event kinds, Parties and languages the arguments
//! name.
//!
//! Key decision: the English template stays beside the rule that refuses ([`detail!`]),
//! so a rule and its words are read together; the translations' test finds every key
//! in the rules' source and checks each language has it, with the same arguments.

use crate::model::{Language, Party};
use std::fmt;

/// A refusal's particular: a message key, the rules' English and the arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    key: &'static str,
    en: String,
    args: Vec<(&'static str, Arg)>,
}

impl Detail {
    /// A detail; [`detail!`] builds it with its English from a template.
    pub fn new(key: &'static str, en: String, args: Vec<(&'static str, Arg)>) -> Detail {
        Detail { key, en, args }
    }

    /// The message key (`detail-<key>` in each language's messages).
    pub fn key(&self) -> &'static str {
        self.key
    }

    /// The arguments, by the names the messages use.
    pub fn args(&self) -> &[(&'static str, Arg)] {
        &self.args
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

/// An argument of a detail, typed by how a language says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Said as written in every language: an authority's id, a key, a digest, an event
    /// hash, a purpose or third party as the record states it, a currency code.
    Verbatim(String),
    /// A number (a record's position, a size, a protocol or dispute number).
    Num(u64),
    /// An event kind, as the catalogue names it (`"request"`): each language its word.
    Kind(&'static str),
    /// A Party: each language its name.
    Party(Party),
    /// A language of the Agreement: each language its name.
    Language(Language),
    /// Languages, listed: each language its names.
    Languages(Vec<Language>),
    /// A time (ms since the Unix epoch), said as RFC 3339.
    Time(u64),
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Verbatim(s) => f.write_str(s),
            Arg::Num(n) => write!(f, "{n}"),
            Arg::Kind(k) => f.write_str(k),
            Arg::Party(p) => write!(f, "{p}"),
            Arg::Language(l) => write!(f, "{l}"),
            Arg::Time(ms) => f.write_str(&crate::time::rfc3339(coop_core::Timestamp(*ms))),
            Arg::Languages(ls) => {
                let names: Vec<String> = ls.iter().map(|l| l.to_string()).collect();
                f.write_str(&names.join(", "))
            }
        }
    }
}

impl From<u64> for Arg {
    fn from(n: u64) -> Arg {
        Arg::Num(n)
    }
}
impl From<usize> for Arg {
    fn from(n: usize) -> Arg {
        Arg::Num(n as u64)
    }
}
impl From<u32> for Arg {
    fn from(n: u32) -> Arg {
        Arg::Num(u64::from(n))
    }
}
impl From<Party> for Arg {
    fn from(p: Party) -> Arg {
        Arg::Party(p)
    }
}
impl From<Language> for Arg {
    fn from(l: Language) -> Arg {
        Arg::Language(l)
    }
}
impl From<&[Language]> for Arg {
    fn from(ls: &[Language]) -> Arg {
        Arg::Languages(ls.to_vec())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Verbatim(s)
    }
}
impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Verbatim(s.to_owned())
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Verbatim(s.clone())
    }
}
impl From<&coop_core::AuthorityId> for Arg {
    fn from(a: &coop_core::AuthorityId) -> Arg {
        Arg::Verbatim(a.to_string())
    }
}
impl From<coop_core::Hash> for Arg {
    fn from(h: coop_core::Hash) -> Arg {
        Arg::Verbatim(h.to_hex())
    }
}
impl From<&coop_core::Hash> for Arg {
    fn from(h: &coop_core::Hash) -> Arg {
        Arg::Verbatim(h.to_hex())
    }
}

/// An event kind as an argument (said in each language's word for it).
pub fn kind(k: &'static str) -> Arg {
    Arg::Kind(k)
}

/// A [`Detail`]: `detail!("key", "English with {name}", name = value, ...)`. Every
/// placeholder is a named argument (the translations' test reads them from here), and
/// each value becomes an [`Arg`] by `From`.
#[macro_export]
macro_rules! detail {
    ($key:literal, $en:literal $(, $name:ident = $val:expr)* $(,)?) => {{
        $(let $name: $crate::Arg = ::core::convert::From::from($val);)*
        $crate::Detail::new($key, format!($en $(, $name = $name)*), vec![$((stringify!($name), $name)),*])
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detail_says_its_english_and_keeps_its_arguments() {
        let d = detail!(
            "dispute-settled",
            "dispute {dispute} is already settled by {party}",
            dispute = 3u64,
            party = Party::Tm
        );
        assert_eq!(
            d.to_string(),
            "dispute 3 is already settled by Turkmenistan"
        );
        assert_eq!(d.key(), "dispute-settled");
        assert_eq!(
            d.args(),
            &[("dispute", Arg::Num(3)), ("party", Arg::Party(Party::Tm))]
        );
    }
}
