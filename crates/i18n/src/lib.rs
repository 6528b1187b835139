//! coop-i18n: coopledger's words in the Agreement's languages and English, as Project
//! Fluent messages (`locales/{ru,kk,tk,en}/{console,refusals}.ftl`) compiled into the
//! binary, and a refusal of the Agreement's rules in the reader's language. The key
//! decision: words live apart from every renderer (no HTML, no HTTP), so the CLI, the
//! API and the console say the same thing in the same language. Treaty terms follow the
//! Kazakh text of the Agreement and their standard Russian and Turkmen equivalents; a
//! test fails when any message lacks a translation (and the console's tests, when it uses
//! an id that does not exist).

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

/// A refusal under the Agreement in `lang`: its clause and element in the language's
/// own terms. Free-text details the rules give (a registry or procedure detail) stay as
/// the rules wrote them, inside the translated frame.
pub fn refusal(lang: Lang, v: &coop_treaty::Violation) -> String {
    use coop_treaty::Violation as V;
    let kind = |k: &str| text(lang.word("kind", k));
    let party = |p: &coop_treaty::Party| {
        text(lang.word(
            "party",
            match p {
                coop_treaty::Party::Kz => "kz",
                coop_treaty::Party::Tm => "tm",
            },
        ))
    };
    let language = |l: &coop_treaty::Language| text(lang.word("language", &format!("{l:?}")));
    let hash = |h: &coop_core::Hash| text(h.to_hex());
    let verbatim = |d: &str| text(d.to_owned());
    let said = |d: &coop_treaty::Detail| text(detail(lang, d));
    // The language's own code beside its word, for messages that decline the name
    // ("на туркменском языке", issue 30) by a selector.
    let code = |l: &coop_treaty::Language| text(format!("{l:?}"));
    // Times as people read them (RFC 3339, UTC), not milliseconds since the epoch.
    let when = |ms: u64| text(coop_treaty::rfc3339(coop_core::Timestamp(ms)));
    let (id, args): (&str, Vec<(&'static str, FluentValue<'_>)>) = match v {
        V::MalformedPayload(d) => ("refusal-malformed", vec![("detail", said(d))]),
        V::HiddenText { field, code } => (
            "refusal-hidden-text",
            vec![("field", verbatim(field)), ("code", verbatim(code))],
        ),
        V::Art10_Genesis(d) => ("refusal-art10-genesis", vec![("detail", said(d))]),
        V::GovernanceHead { stated, expected } => (
            "refusal-governance-head",
            vec![
                ("stated", verbatim(stated)),
                ("expected", verbatim(expected)),
            ],
        ),
        V::TimeBackwards { received, previous } => (
            "refusal-time-backwards",
            vec![("received", when(*received)), ("previous", when(*previous))],
        ),
        V::AuthoredOutsideWindow {
            authored,
            received,
            window,
        } => (
            "refusal-authored-window",
            vec![
                ("authored", when(*authored)),
                ("received", when(*received)),
                ("window", num(*window as f64)),
            ],
        ),
        V::AuthoredAhead {
            authored,
            received,
            ahead,
        } => (
            "refusal-authored-ahead",
            vec![
                ("authored", when(*authored)),
                ("received", when(*received)),
                ("ahead", num(*ahead as f64)),
            ],
        ),
        V::NotACaseEvent(k) => ("refusal-not-case-event", vec![("kind", kind(k))]),
        V::AnswersOutsideCase(k) => ("refusal-answers-outside-case", vec![("kind", kind(k))]),
        V::ReservedCaseId => ("refusal-reserved-case-id", vec![]),
        V::Art10_NotConstituted => ("refusal-art10-not-constituted", vec![]),
        V::Art3_UnknownAuthority(a) => ("refusal-art3-unknown", vec![("who", verbatim(a))]),
        V::Art3_KeyNotActive(a) => ("refusal-art3-key-not-active", vec![("who", verbatim(a))]),
        V::Art3_KeyOfAnother { author, owner } => (
            "refusal-art3-key-of-another",
            vec![
                ("author", verbatim(author.as_str())),
                ("owner", verbatim(owner.as_str())),
            ],
        ),
        V::Art3_NotRoot { kind: k, author } => (
            "refusal-art3-not-root",
            vec![("kind", kind(k)), ("who", verbatim(author))],
        ),
        V::Art3_NotCompetentAuthority { kind: k, author } => (
            "refusal-art3-not-competent",
            vec![("kind", kind(k)), ("who", verbatim(author))],
        ),
        V::Art3_Registry(d) => ("refusal-art3", vec![("detail", said(d))]),
        V::Art10_NotInForce => ("refusal-art10-not-in-force", vec![]),
        V::Art10_Terminated(t) => ("refusal-art10-terminated", vec![("at", when(*t))]),
        V::Art10_Procedure(d) => ("refusal-art10", vec![("detail", said(d))]),
        V::Art9_Protocol(d) => ("refusal-art9", vec![("detail", said(d))]),
        V::Art1_2_NoAgreement(d) => ("refusal-art1-2", vec![("detail", said(d))]),
        V::Art1_3_Search(d) => ("refusal-art1-3", vec![("detail", said(d))]),
        V::Art2_Form(d) => ("refusal-art2", vec![("detail", said(d))]),
        V::Art4_1_1MissingRequestedAuthority => ("refusal-art4-1-1", vec![]),
        V::Art4_1_2MissingGrounds(w) => ("refusal-art4-1-2", vec![("what", said(w))]),
        V::Art4_1_3MissingCaseDescription => ("refusal-art4-1-3", vec![]),
        V::Art4_1_4MissingContent => ("refusal-art4-1-4", vec![]),
        V::Art4_1_5MissingDecisionCopy => ("refusal-art4-1-5-missing-copy", vec![]),
        V::Art4_1_5NotCertified(h) => (
            "refusal-art4-1-5-not-certified",
            vec![("document", hash(h))],
        ),
        V::Art4_1_5NotLegalProvision(h) => (
            "refusal-art4-1-5-not-provision",
            vec![("document", hash(h))],
        ),
        V::Art4_1_5MissingLegalProvision => ("refusal-art4-1-5-missing-provision", vec![]),
        V::Art4_1_WrongRecipient(d) => ("refusal-art4-1-recipient", vec![("detail", said(d))]),
        V::Art4_1_Oral(d) => ("refusal-art4-1", vec![("detail", said(d))]),
        V::Art4_2_NotInStateLanguage {
            document,
            language: l,
            own,
        } => (
            "refusal-art4-2-not-state-language",
            vec![
                ("document", hash(document)),
                ("language", language(l)),
                ("own", language(own)),
                ("language-code", code(l)),
                ("own-code", code(own)),
            ],
        ),
        V::Art4_2_MissingTranslation { document, target } => (
            "refusal-art4-2-no-translation",
            vec![
                ("document", hash(document)),
                ("target", language(target)),
                ("target-code", code(target)),
            ],
        ),
        V::Art4_2_Language(d) => ("refusal-art4-2", vec![("detail", said(d))]),
        V::Art4_3_AdditionalInfo(d) => ("refusal-art4-3", vec![("detail", said(d))]),
        V::Art4_4_StateSecret => ("refusal-art4-4", vec![]),
        V::Art4_5_NoGrounds => ("refusal-art4-5", vec![]),
        V::Art4_6_NoReasons(d) => ("refusal-art4-6", vec![("detail", said(d))]),
        V::NoSuchCase => ("refusal-no-such-case", vec![]),
        V::CaseExists => ("refusal-case-exists", vec![]),
        V::CaseRequired(k) => ("refusal-case-required", vec![("kind", kind(k))]),
        V::CaseClosed => ("refusal-case-closed", vec![]),
        V::AlreadyAnswered(d) => ("refusal-already-answered", vec![("detail", said(d))]),
        V::WrongSide(d) => ("refusal-case", vec![("detail", said(d))]),
        V::VersionConflict { expected, actual } => (
            "refusal-version-conflict",
            vec![
                ("expected", num(*expected as f64)),
                ("actual", num(*actual as f64)),
            ],
        ),
        V::UnknownAnswer(d) => ("refusal-unknown-answer", vec![("what", verbatim(d))]),
        V::Art5_Costs(d) => ("refusal-art5", vec![("detail", said(d))]),
        V::Art7_UnknownItem(d) => ("refusal-art7-unknown-item", vec![("item", verbatim(d))]),
        V::Art7_2_PurposeNotPermitted { purpose, provider } => (
            "refusal-art7-2-purpose",
            vec![
                ("purpose", verbatim(purpose)),
                ("provider", party(provider)),
            ],
        ),
        V::Art7_2_NoConsent {
            third_party,
            provider,
            detail: d,
        } => (
            "refusal-art7-2-no-consent",
            vec![
                ("third", verbatim(third_party)),
                ("provider", party(provider)),
                ("detail", said(d)),
            ],
        ),
        V::Art7_2_ConsentNotFromProvider {
            provider,
            signer_party,
        } => (
            "refusal-art7-2-consent-party",
            vec![
                ("provider", party(provider)),
                ("signer", party(signer_party)),
            ],
        ),
        V::Art7_2_ConsentNotPrior { purpose, provider } => (
            "refusal-art7-2-consent-not-prior",
            vec![
                ("purpose", verbatim(purpose)),
                ("provider", party(provider)),
            ],
        ),
        V::Art7_2_NotTheRecipient { recipient, signer } => (
            "refusal-art7-2-not-recipient",
            vec![
                ("recipient", verbatim(recipient.as_str())),
                ("signer", verbatim(signer.as_str())),
            ],
        ),
        V::Art7_Other(d) => ("refusal-art7", vec![("detail", said(d))]),
        V::Art8_Dispute(d) => ("refusal-art8", vec![("detail", said(d))]),
    };
    // English is the rules' own text, exactly (the API's `message` has always carried it).
    if lang == Lang::En {
        return v.to_string();
    }
    lang.ta(id, &args)
}

/// A refusal's particular in `lang`: its message `detail-<key>` with its arguments in
/// the language's words (English: the rules' own text).
pub fn detail(lang: Lang, d: &coop_treaty::Detail) -> String {
    if lang == Lang::En {
        return d.to_string();
    }
    let args: Vec<(&'static str, FluentValue<'_>)> =
        d.args().iter().map(|(n, a)| (*n, arg(lang, a))).collect();
    lang.ta(&format!("detail-{}", d.key()), &args)
}

/// An argument of a detail as `lang` says it: ids, digests and numbers as written,
/// kinds, Parties and languages in its words, times as RFC 3339.
fn arg(lang: Lang, a: &coop_treaty::Arg) -> FluentValue<'static> {
    use coop_treaty::Arg;
    let language = |l: &coop_treaty::Language| lang.word("language", &format!("{l:?}"));
    match a {
        Arg::Verbatim(s) => text(s.clone()),
        // As text: a number argument would be grouped by the locale (a record "1 234").
        Arg::Num(n) => text(n.to_string()),
        Arg::Kind(k) => text(lang.word("kind", k)),
        Arg::Party(p) => text(lang.word(
            "party",
            match p {
                coop_treaty::Party::Kz => "kz",
                coop_treaty::Party::Tm => "tm",
            },
        )),
        Arg::Language(l) => text(language(l)),
        Arg::Languages(ls) => text(ls.iter().map(language).collect::<Vec<_>>().join(", ")),
        Arg::Time(ms) => text(coop_treaty::rfc3339(coop_core::Timestamp(*ms))),
    }
}

/// Whether a message `id` is defined (in English, the language every message has, and
/// a test checks every other has it too).
pub fn defines(id: &str) -> bool {
    const ENGLISH: [&str; 3] = [
        include_str!("../locales/en/console.ftl"),
        include_str!("../locales/en/details.ftl"),
        include_str!("../locales/en/refusals.ftl"),
    ];
    ENGLISH.iter().flat_map(|f| f.lines()).any(|l| {
        l.split_once('=')
            .is_some_and(|(k, _)| !l.starts_with([' ', '#', '.']) && k.trim() == id)
    })
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

    /// Issue 30: calques in the Russian console ("Дайджест", "Положение", "Сведение") where
    /// the field says "хеш", "соблюдение срока", "единица информации".
    #[test]
    fn the_russian_console_uses_the_fields_own_words() {
        let ru = include_str!("../locales/ru/console.ftl");
        for calque in ["Дайджест", "дайджест", "Сведение", "= Положение"]
        {
            assert!(!ru.contains(calque), "{calque}");
        }
        assert_eq!(Lang::Ru.t("digest"), "Хеш (blake3)");
    }
    use std::collections::{BTreeMap, BTreeSet};

    /// Every .ftl file of a language, concatenated.
    fn source(lang: Lang) -> String {
        let dir = format!("{}/locales/{}", env!("CARGO_MANIFEST_DIR"), lang.code());
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "ftl"))
            .collect();
        files.sort();
        assert_eq!(
            files.len(),
            3,
            "{dir}: console.ftl, details.ftl and refusals.ftl"
        );
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap_or_default() + "\n")
            .collect()
    }

    /// The ids of `lang`'s messages.
    pub(crate) fn ids(lang: Lang) -> BTreeSet<String> {
        let text = source(lang);
        text.lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_owned()))
            .collect()
    }

    #[test]
    fn every_message_has_every_translation() {
        let en = ids(Lang::En);
        assert!(en.len() > 100, "the English messages did not load");
        assert!(en.iter().all(|id| defines(id)));
        assert!(!defines("no-such-message") && !defines("message"));
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
            if let Err((_, errors)) =
                fluent_templates::fluent_bundle::FluentResource::try_new(source(lang))
            {
                panic!("{}: {errors:?}", lang.code());
            }
        }
    }

    /// Single-line values, by id.
    fn values(lang: Lang) -> BTreeMap<String, String> {
        let text = source(lang);
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
        // "min" is also Turkmen for minutes.
        const SAME: [&str; 3] = ["role-Auditor", "signed-in-as", "dur-min"];
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

    /// A detail as the rules give one.
    fn dd() -> coop_treaty::Detail {
        coop_treaty::detail!(
            "dispute-settled",
            "dispute {dispute} is already settled",
            dispute = 3u64
        )
    }

    /// One of every refusal the rules give.
    fn every_violation() -> Vec<coop_treaty::Violation> {
        use coop_treaty::{Language, Party, Violation as V};
        let h = coop_core::Hash::ZERO;
        let d = || "KZ-MVD".to_owned();
        vec![
            V::MalformedPayload(dd()),
            V::Art10_Genesis(dd()),
            V::GovernanceHead {
                stated: d(),
                expected: d(),
            },
            V::TimeBackwards {
                received: 2,
                previous: 3,
            },
            V::AuthoredOutsideWindow {
                authored: 1,
                received: 2,
                window: 3,
            },
            V::NotACaseEvent("genesis"),
            V::AnswersOutsideCase("genesis"),
            V::ReservedCaseId,
            V::Art10_NotConstituted,
            V::Art3_UnknownAuthority(d()),
            V::Art3_KeyNotActive(d()),
            V::Art3_NotRoot {
                kind: "genesis",
                author: d(),
            },
            V::Art3_NotCompetentAuthority {
                kind: "request",
                author: d(),
            },
            V::Art3_Registry(dd()),
            V::Art10_NotInForce,
            V::Art10_Terminated(5),
            V::Art10_Procedure(dd()),
            V::Art9_Protocol(dd()),
            V::Art1_2_NoAgreement(dd()),
            V::Art1_3_Search(dd()),
            V::Art2_Form(dd()),
            V::Art4_1_1MissingRequestedAuthority,
            V::Art4_1_2MissingGrounds(coop_treaty::detail!(
                "lacks-grounds",
                "a reasoned statement of its grounds"
            )),
            V::Art4_1_3MissingCaseDescription,
            V::Art4_1_4MissingContent,
            V::Art4_1_5MissingDecisionCopy,
            V::Art4_1_5NotCertified(h),
            V::Art4_1_5NotLegalProvision(h),
            V::Art4_1_5MissingLegalProvision,
            V::Art4_1_WrongRecipient(dd()),
            V::Art4_1_Oral(dd()),
            V::Art4_2_NotInStateLanguage {
                document: h,
                language: Language::Ru,
                own: Language::Kk,
            },
            V::Art4_2_MissingTranslation {
                document: h,
                target: Language::Tk,
            },
            V::Art4_2_Language(dd()),
            V::Art4_3_AdditionalInfo(dd()),
            V::Art4_4_StateSecret,
            V::Art4_5_NoGrounds,
            V::Art4_6_NoReasons(coop_treaty::detail!("reasons-refusal", "a refusal")),
            V::NoSuchCase,
            V::CaseExists,
            V::CaseRequired("acknowledged"),
            V::CaseClosed,
            V::AlreadyAnswered(dd()),
            V::WrongSide(dd()),
            V::VersionConflict {
                expected: 1,
                actual: 2,
            },
            V::UnknownAnswer(h.to_hex()),
            V::Art5_Costs(dd()),
            V::Art7_UnknownItem("7".into()),
            V::Art7_2_PurposeNotPermitted {
                purpose: d(),
                provider: Party::Kz,
            },
            V::Art7_2_NoConsent {
                third_party: d(),
                provider: Party::Tm,
                detail: dd(),
            },
            V::Art7_2_ConsentNotFromProvider {
                provider: Party::Kz,
                signer_party: Party::Tm,
            },
            V::Art7_2_ConsentNotPrior {
                purpose: d(),
                provider: Party::Tm,
            },
            V::Art7_2_NotTheRecipient {
                recipient: coop_core::AuthorityId::new("KZ-MVD").unwrap_or_else(|e| panic!("{e}")),
                signer: coop_core::AuthorityId::new("KZ-KNB").unwrap_or_else(|e| panic!("{e}")),
            },
            V::Art3_KeyOfAnother {
                author: coop_core::AuthorityId::new("KZ-MVD").unwrap_or_else(|e| panic!("{e}")),
                owner: coop_core::AuthorityId::new("TM-MVD").unwrap_or_else(|e| panic!("{e}")),
            },
            V::AuthoredAhead {
                authored: 2,
                received: 1,
                ahead: 5000,
            },
            V::Art7_Other(dd()),
            V::Art8_Dispute(dd()),
        ]
    }

    /// Words that are English and no word of Russian, Kazakh or Turkmen: one of them in a
    /// refusal read in those languages is English left inside (issue 30).
    const ENGLISH: &[&str] = &[
        "the",
        "is",
        "are",
        "not",
        "of",
        "an",
        "and",
        "or",
        "to",
        "from",
        "by",
        "in",
        "this",
        "that",
        "must",
        "was",
        "were",
        "has",
        "have",
        "been",
        "be",
        "case",
        "request",
        "consent",
        "event",
        "record",
        "records",
        "nothing",
        "written",
        "already",
        "there",
        "no",
        "information",
        "authority",
        "party",
        "key",
        "document",
        "dispute",
        "protocol",
        "node",
        "handover",
        "ledger",
        "genesis",
        "purpose",
        "purposes",
        "refusal",
        "refused",
        "cannot",
        "only",
        "which",
        "with",
        "its",
        "it",
        "for",
        "at",
        "on",
        "partial",
        "execution",
        "search",
        "agreement",
        "arrangement",
        "language",
        "item",
        "test",
        "comes",
        "given",
        "answered",
        "accepted",
        "registered",
        "retired",
        "kazakhstan",
        "turkmenistan",
        "kazakh",
        "turkmen",
        "russian",
        "final",
        "answer",
        "detail",
    ];

    /// The English words in `text`.
    fn english_in(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphabetic())
            .map(str::to_lowercase)
            .filter(|w| ENGLISH.contains(&w.as_str()))
            .collect()
    }

    /// One `detail!(key, template, name = value, ...)` of the rules: its key, template
    /// and argument names, read from the source.
    struct Site {
        file: String,
        key: String,
        template: String,
        names: Vec<String>,
    }

    /// Every `detail!` in the crates whose refusals people read.
    fn sites() -> Vec<Site> {
        let root = format!("{}/..", env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![
            std::path::PathBuf::from(format!("{root}/treaty/src")),
            std::path::PathBuf::from(format!("{root}/verify/src")),
        ];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs")
                    && !p.ends_with("treaty/src/detail.rs")
                {
                    files.push(p);
                }
            }
        }
        let mut out = Vec::new();
        for f in files {
            let src = std::fs::read_to_string(&f).unwrap();
            let mut rest = src.as_str();
            while let Some(at) = rest.find("detail!(") {
                rest = &rest[at + "detail!(".len()..];
                // The call's arguments at its top level, up to its closing parenthesis
                // (strings and nested calls skipped).
                let (mut depth, mut in_str, mut esc) = (1, false, false);
                let mut args = vec![String::new()];
                for c in rest.chars() {
                    match (in_str, esc, c) {
                        (true, true, _) => esc = false,
                        (true, false, '\\') => esc = true,
                        (true, false, '"') => in_str = false,
                        (true, false, _) => {}
                        (false, _, '"') => in_str = true,
                        (false, _, '(' | '[' | '{') => depth += 1,
                        (false, _, ')' | ']' | '}') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        (false, _, ',') if depth == 1 => {
                            args.push(String::new());
                            continue;
                        }
                        _ => {}
                    }
                    if let Some(a) = args.last_mut() {
                        a.push(c);
                    }
                }
                let literal = |a: Option<&String>| {
                    a.map(|a| a.trim())
                        .filter(|a| a.starts_with('"') && a.ends_with('"') && a.len() >= 2)
                        .map(|a| a[1..a.len() - 1].replace("\\\"", "\""))
                };
                let (Some(key), Some(template)) = (literal(args.first()), literal(args.get(1)))
                else {
                    continue;
                };
                let names = args
                    .iter()
                    .skip(2)
                    .filter_map(|a| a.split_once('=').map(|(n, _)| n.trim().to_owned()))
                    .filter(|n| !n.is_empty())
                    .collect();
                out.push(Site {
                    file: f.display().to_string(),
                    key,
                    template,
                    names,
                });
            }
        }
        out
    }

    /// The `{name}` placeholders of a template, or the `{ $name }` variables of a message.
    fn placeholders(text: &str, open: &str) -> BTreeSet<String> {
        text.split(open)
            .skip(1)
            .filter_map(|p| {
                let name: String = p
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                (!name.is_empty()).then_some(name)
            })
            .collect()
    }

    /// Issue 30: every particular a refusal names is a message in every language with
    /// the arguments the rule gives it, and the English message is the rule's own text.
    #[test]
    fn every_detail_of_the_rules_has_its_message_with_its_arguments() {
        let sites = sites();
        assert!(sites.len() > 90, "the rules' details were not found");
        for s in &sites {
            let names: BTreeSet<String> = s.names.iter().cloned().collect();
            assert_eq!(
                placeholders(&s.template, "{"),
                names,
                "{} {}: every placeholder is a named argument, and only those",
                s.file,
                s.key
            );
            let id = format!("detail-{}", s.key);
            for lang in Lang::ALL {
                let v = values(lang);
                let Some(message) = v.get(&id) else {
                    panic!("{}: no message {id}", lang.code());
                };
                let used = placeholders(message, "{ $");
                assert!(
                    used.is_subset(&names),
                    "{} {id}: {used:?} beyond the rule's {names:?}",
                    lang.code()
                );
            }
            // The English message says what the rule says.
            let args: Vec<(&'static str, FluentValue<'_>)> = s
                .names
                .iter()
                .map(|n| (&*n.clone().leak(), text(format!("<{n}>"))))
                .collect();
            let mut expected = s.template.clone();
            for n in &s.names {
                expected = expected.replace(&format!("{{{n}}}"), &format!("<{n}>"));
            }
            assert_eq!(Lang::En.ta(&id, &args), expected, "{}", s.file);
        }
    }

    /// Issue 30: a refusal read in Russian, Kazakh or Turkmen has no English word left in
    /// it — not in its frame, not in any particular the rules can give.
    #[test]
    fn no_english_word_is_left_in_a_refusal() {
        let sample = |lang: Lang, names: &[String]| -> Vec<(&'static str, FluentValue<'static>)> {
            names
                .iter()
                .map(|n| (&*n.clone().leak(), text(format!("KZ-MVD-{}", lang.code()))))
                .collect()
        };
        for lang in [Lang::Ru, Lang::Kk, Lang::Tk] {
            for v in every_violation() {
                let said = format!("{}; {}", refusal(lang, &v), lang.t("nothing-written"));
                let words = english_in(&said);
                assert!(words.is_empty(), "{}: {words:?} in {said}", lang.code());
            }
            for s in sites() {
                let said = lang.ta(&format!("detail-{}", s.key), &sample(lang, &s.names));
                let words = english_in(&said);
                assert!(words.is_empty(), "{}: {words:?} in {said}", lang.code());
            }
            for id in [
                "nothing-written-size",
                "nothing-written-size-changed",
                "refused-label",
                "test-ledger",
                "submitting-event",
                "resending-event",
            ] {
                let said = lang.ta(
                    id,
                    &[
                        ("size", text("7")),
                        ("id", text("4fed10eb")),
                        ("copy", text("x.json")),
                    ],
                );
                assert!(english_in(&said).is_empty(), "{}: {said}", lang.code());
            }
        }
        // The check sees English where it is.
        assert_eq!(
            english_in("Ст. 7: dispute 3 is already settled"),
            ["dispute", "is", "already"]
        );
    }

    /// Issue 30: a language's name declined as the sentence needs ("на туркменском
    /// языке"), not the dictionary form after a preposition.
    #[test]
    fn a_language_is_named_in_the_case_the_sentence_needs() {
        let v = coop_treaty::Violation::Art4_2_NotInStateLanguage {
            document: coop_core::Hash::ZERO,
            language: coop_treaty::Language::Tk,
            own: coop_treaty::Language::Kk,
        };
        let ru = refusal(Lang::Ru, &v);
        assert!(ru.contains("составлен на туркменском языке"), "{ru}");
        assert!(ru.contains("автора — казахском"), "{ru}");
        let kk = refusal(Lang::Kk, &v);
        assert!(kk.contains("түрікмен тілінде жасалған"), "{kk}");
        let missing = coop_treaty::Violation::Art4_2_MissingTranslation {
            document: coop_core::Hash::ZERO,
            target: coop_treaty::Language::Tk,
        };
        let ru = refusal(Lang::Ru, &missing);
        assert!(ru.contains("(туркменский) или на русский"), "{ru}");
        assert!(refusal(Lang::Tk, &missing).contains("türkmen diline"));
    }

    /// Every refusal has its message in every language; English is the rules' own text.
    #[test]
    fn every_refusal_reads_in_every_language() {
        for v in every_violation() {
            let en = refusal(Lang::En, &v);
            assert_eq!(en, v.to_string());
            for lang in [Lang::Ru, Lang::Kk, Lang::Tk] {
                let t = refusal(lang, &v);
                assert!(
                    !t.starts_with("refusal-"),
                    "{}: {v:?} has no message",
                    lang.code()
                );
                assert_ne!(t, en, "{}: {v:?} is not translated", lang.code());
            }
        }
        assert_eq!(
            every_violation().len(),
            57,
            "a new Violation needs its messages"
        );
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
