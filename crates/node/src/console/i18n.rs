//! The console's words in the Agreement's languages and English, as Project Fluent
//! messages (`crates/node/locales/{ru,kk,tk,en}/console.ftl`) compiled into the binary.
//! Treaty terms follow the Kazakh text of the Agreement and their standard Russian and
//! Turkmen equivalents; a test fails when any message lacks a translation.

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader as _};
use std::borrow::Cow;
use std::collections::HashMap;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Unicode isolation marks around arguments would end up in HTML, CSV and
        // copied text; the console's arguments are numbers, ids and dates.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language of the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Russian (the Agreement's text that prevails).
    Ru,
    /// Kazakh.
    Kk,
    /// Turkmen.
    Tk,
    /// English.
    En,
}

impl Lang {
    /// Every language, in the order the console offers them.
    pub const ALL: [Lang; 4] = [Lang::Ru, Lang::Kk, Lang::Tk, Lang::En];

    /// The BCP 47 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::Kk => "kk",
            Lang::Tk => "tk",
            Lang::En => "en",
        }
    }

    /// The language's own name for itself.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Ru => "Русский",
            Lang::Kk => "Қазақша",
            Lang::Tk => "Türkmençe",
            Lang::En => "English",
        }
    }

    /// A code (`ru`, `kk-KZ`, `tk`...), if it is one of ours.
    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The best of ours for an `Accept-Language` header (quality values honoured).
    pub fn from_accept(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let Some(lang) = it.next().and_then(Lang::parse) else {
                continue;
            };
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    fn id(self) -> LanguageIdentifier {
        // The four codes are valid language identifiers; parsing cannot fail.
        self.code().parse().unwrap_or_default()
    }

    /// A message (its id, if it has none: the translations' test keeps that from
    /// happening).
    pub fn t(self, key: &str) -> String {
        LOCALES
            .try_lookup(&self.id(), key)
            .unwrap_or_else(|| key.to_owned())
    }

    /// A message with arguments.
    pub fn ta(self, key: &str, args: &[(&'static str, FluentValue<'_>)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'_>> = args
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), v.clone()))
            .collect();
        LOCALES
            .try_lookup_with_args(&self.id(), key, &args)
            .unwrap_or_else(|| key.to_owned())
    }

    /// A word from the ledger (a status, category, event kind, Party...) under its
    /// message id `prefix-word` (spaces become dashes); the word itself if it has none.
    pub fn word(self, prefix: &str, word: &str) -> String {
        let key = format!("{prefix}-{}", word.replace([' ', '_'], "-"));
        let id = self.id();
        LOCALES
            .try_lookup(&id, &key)
            .unwrap_or_else(|| word.to_owned())
    }
}

/// A number argument.
pub fn num(n: impl Into<f64>) -> FluentValue<'static> {
    FluentValue::from(n.into())
}

/// A text argument.
pub fn text(s: impl Into<String>) -> FluentValue<'static> {
    FluentValue::from(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn ids(lang: Lang) -> BTreeSet<String> {
        let path = format!(
            "{}/locales/{}/console.ftl",
            env!("CARGO_MANIFEST_DIR"),
            lang.code()
        );
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        text.lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_owned()))
            .collect()
    }

    /// Every message id used anywhere in the console's sources (`.t("…")`, `.ta("…"`),
    /// and every ledger word the console translates.
    fn used() -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let dir = format!("{}/src/console", env!("CARGO_MANIFEST_DIR"));
        for file in ["mod.rs", "pages.rs"] {
            let src = std::fs::read_to_string(format!("{dir}/{file}")).unwrap_or_default();
            for pat in [".t(", ".ta("] {
                for (i, _) in src.match_indices(pat) {
                    let rest = src.get(i + pat.len()..).unwrap_or_default().trim_start();
                    // Only literal ids: `.t(key)` with a variable is checked where the
                    // words come from (below).
                    if let Some(rest) = rest.strip_prefix('"')
                        && let Some(end) = rest.find('"')
                    {
                        let id = rest.get(..end).unwrap_or_default();
                        if id
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                        {
                            out.insert(id.to_owned());
                        }
                    }
                }
            }
        }
        for w in coop_treaty::STATUS_WORDS {
            out.insert(format!("status-{w}"));
        }
        for w in coop_treaty::CATEGORY_WORDS {
            out.insert(format!("category-{w}"));
        }
        for w in super::super::KINDS {
            out.insert(format!("kind-{}", w.replace(' ', "-")));
        }
        for w in ["kz", "tm"] {
            out.insert(format!("party-{w}"));
        }
        for w in ["Root", "Competent", "Auditor", "Witness"] {
            out.insert(format!("role-{w}"));
        }
        for w in ["OralConfirmation", "AdditionalInfo", "ReasonsNotice"] {
            out.insert(format!("deadline-{w}"));
        }
        for w in [
            "ExecuteRequest",
            "ExchangeInformation",
            "ExchangeExperience",
            "ExchangeSpecialists",
            "ExchangeLegalActs",
            "Training",
        ] {
            out.insert(format!("form-{w}"));
        }
        for w in [
            "OperationalSearch",
            "OperationalReference",
            "Forensic",
            "Archival",
        ] {
            out.insert(format!("info-{w}"));
        }
        for w in ["met", "late", "overdue", "pending"] {
            out.insert(format!("dl-{w}"));
        }
        for w in ["Kk", "Tk", "Ru"] {
            out.insert(format!("language-{w}"));
        }
        for w in [
            "Sovereignty",
            "Security",
            "PublicOrder",
            "StatePower",
            "EssentialInterests",
            "NationalLaw",
            "InternationalObligations",
        ] {
            out.insert(format!("ground-{w}"));
        }
        out
    }

    #[test]
    fn every_message_has_every_translation_and_every_used_id_exists() {
        let en = ids(Lang::En);
        assert!(en.len() > 100, "the English messages did not load");
        let used = used();
        let missing_en: Vec<_> = used.difference(&en).collect();
        assert!(
            missing_en.is_empty(),
            "used but not defined: {missing_en:?}"
        );
        for lang in Lang::ALL {
            let have = ids(lang);
            let missing: Vec<_> = en.difference(&have).collect();
            let extra: Vec<_> = have.difference(&en).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}: missing {missing:?}, not in English {extra:?}",
                lang.code()
            );
            // And the file parses: a message with a syntax error would not be loaded.
            let path = format!(
                "{}/locales/{}/console.ftl",
                env!("CARGO_MANIFEST_DIR"),
                lang.code()
            );
            let src = std::fs::read_to_string(&path).unwrap_or_default();
            if let Err((_, errors)) = fluent_templates::fluent_bundle::FluentResource::try_new(src)
            {
                panic!("{}: {errors:?}", lang.code());
            }
        }
    }

    /// Single-line values, by id.
    fn values(lang: Lang) -> BTreeMap<String, String> {
        let path = format!(
            "{}/locales/{}/console.ftl",
            env!("CARGO_MANIFEST_DIR"),
            lang.code()
        );
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        text.lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .filter_map(|l| {
                l.split_once('=')
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            })
            .collect()
    }

    /// A copy of the English file passes the id check; this catches it: a message the
    /// same as the English one is untranslated, unless it is a word both use.
    #[test]
    fn no_message_is_left_in_english() {
        const SAME: [&str; 2] = ["role-Auditor", "signed-in-as"];
        let en = values(Lang::En);
        for lang in [Lang::Ru, Lang::Kk, Lang::Tk] {
            let have = values(lang);
            let same: Vec<&String> = have
                .iter()
                .filter(|(k, v)| {
                    !v.is_empty()
                        && !v.ends_with("->")
                        && en.get(*k) == Some(v)
                        && !SAME.contains(&k.as_str())
                })
                .map(|(k, _)| k)
                .collect();
            assert!(same.is_empty(), "{}: untranslated {same:?}", lang.code());
        }
    }

    #[test]
    fn accept_language_picks_the_best_of_ours() {
        assert_eq!(Lang::from_accept("kk-KZ,kk;q=0.9,ru;q=0.8"), Some(Lang::Kk));
        assert_eq!(Lang::from_accept("de, ru;q=0.5, en;q=0.7"), Some(Lang::En));
        assert_eq!(Lang::from_accept("tk"), Some(Lang::Tk));
        assert_eq!(Lang::from_accept("de, fr"), None);
        assert_eq!(Lang::from_accept("ru;q=0"), None);
    }

    #[test]
    fn words_translate_and_arguments_are_not_isolated() {
        assert_eq!(Lang::Ru.word("status", "refused"), "Отказано");
        assert_eq!(Lang::Kk.word("party", "kz"), "Қазақстан");
        let s = Lang::En.ta("cases-total", &[("count", num(3))]);
        assert!(s.contains('3') && !s.contains('\u{2068}'), "{s}");
    }
}
