//! Every act the console drafts besides the request (that one is `crate::request`): the
//! fields of each kind's form, read into its payload by one function and shown by one
//! page (`pages::compose`).
//!
//! Key decision: a kind is a list of fields ([`ACTS`]). Each field reads its inputs into
//! the payload's member in the catalogue's JSON form, and the payload is then read from
//! that JSON by the catalogue's own serde — the form the API takes (docs/API.md) — so the
//! console cannot build a payload a client of the API could not. A field it cannot read
//! is named beside the field, and nothing is signed until every field reads.

use crate::request::Unreadable;
use coop_core::Hash;
use coop_treaty::{DocRole, DocumentRef, Payload};
use serde_json::{Map, Value, json};

/// One field of an act's form: which member of the payload it fills, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `item`: an Art. 7 item of the case (chosen from the case's items).
    Item,
    /// `purpose`: one purpose (Art. 7.2).
    Purpose,
    /// `purposes`: further purposes, one per line (Art. 7.2).
    Purposes,
    /// `third_party`: the third party an item would go to (Art. 7.2); whether it must be
    /// named.
    ThirdParty {
        /// It must be named (an onward transfer); otherwise it may be left empty.
        required: bool,
    },
    /// `extent`: full or partial.
    Extent,
    /// `grounds`: Art. 4.5's closed list.
    Grounds,
    /// A list of documents under this member: an original and its translation (Art. 4.2).
    Docs(&'static str),
    /// One document under this member.
    Doc(&'static str),
    /// An information transfer's own members: the item, its Art. 2.2 kind, Art. 7.1's
    /// restriction, Art. 4.4's declaration and its documents; the recipient and the
    /// permitted purposes come from the case.
    Transfer,
    /// `information`: an item provided as additional information (Art. 4.3).
    Information,
    /// `results`: the information an execution provides (none or one item).
    Results,
    /// `search_outcome`: Art. 1.3's outcome of a wanted-person search.
    SearchOutcome,
    /// An earlier record this one cites, by its event hash: (member, its payload name).
    Cites(&'static str, &'static str),
    /// `dispute`: the dispute's number within the case (Art. 8).
    Dispute,
    /// `amount_minor` (Art. 5), entered in major units with up to two decimals.
    Amount,
    /// `currency`: ISO 4217.
    Currency,
    /// An authority's id under this member.
    Authority(&'static str),
    /// `authorities`: the competent authorities notified (Art. 3, 10), one per line.
    Authorities,
    /// A public key under this member (64 hex digits).
    Key(&'static str),
    /// Free text under this member.
    Text(&'static str),
    /// `role`: auditor or witness.
    Role,
    /// A whole number under this member (a protocol's or a handover's id).
    Number(&'static str),
    /// `retire_old_from`: the checkpoint size from which earlier node keys sign nothing.
    RetireFrom,
    /// `params`: the rule parameters a protocol sets (Art. 9).
    Params,
    /// `effective_from`: the date a protocol asks to enter into force (00:00 UTC).
    EffectiveFrom,
    /// `languages`: the languages an arrangement agrees (Art. 4.2).
    Languages,
    /// `form`: the form of other cooperation (Art. 2.3–2.6).
    Form,
}

use Field as F;

/// Every act the console drafts besides the request, by payload name, with its fields in
/// the order the form shows them. Genesis is `coopledger init`'s (it constitutes the
/// ledger, before there is a console to sign in to).
pub const ACTS: [(&str, &[Field]); 36] = [
    ("Acknowledged", &[]),
    ("CaseClosed", &[]),
    ("OralRequestConfirmed", &[F::Docs("documents")]),
    ("AdditionalInfoRequested", &[F::Docs("documents")]),
    ("AdditionalInfoProvided", &[F::Information]),
    ("Refused", &[F::Extent, F::Grounds, F::Docs("reasons")]),
    (
        "ExecutionReported",
        &[F::Extent, F::SearchOutcome, F::Results, F::Docs("reasons")],
    ),
    ("InformationTransferred", &[F::Transfer]),
    ("InformationUsed", &[F::Item, F::Purpose]),
    (
        "ConsentRequested",
        &[F::Item, F::ThirdParty { required: false }, F::Purposes],
    ),
    (
        "ConsentGranted",
        &[
            F::Item,
            F::ThirdParty { required: false },
            F::Purposes,
            F::Docs("documents"),
        ],
    ),
    (
        "ConsentDenied",
        &[F::Item, F::ThirdParty { required: false }],
    ),
    (
        "OnwardTransfer",
        &[
            F::Item,
            F::ThirdParty { required: true },
            F::Cites("consent", "ConsentGranted"),
        ],
    ),
    ("CostRecorded", &[F::Amount, F::Currency]),
    ("CostArrangementProposed", &[F::Doc("terms")]),
    (
        "CostArrangementAccepted",
        &[F::Cites("proposal", "CostArrangementProposed")],
    ),
    ("DisputeRaised", &[F::Dispute, F::Doc("subject")]),
    ("ConsultationHeld", &[F::Dispute, F::Doc("minutes")]),
    ("DisputeSettled", &[F::Dispute, F::Doc("outcome")]),
    (
        "CategoryAgreed",
        &[F::Authority("with"), F::Text("description")],
    ),
    (
        "LanguageArrangementProposed",
        &[F::Authority("with"), F::Languages],
    ),
    (
        "LanguageArrangementAccepted",
        &[F::Cites("proposal", "LanguageArrangementProposed")],
    ),
    (
        "OtherCooperation",
        &[F::Form, F::Authority("with"), F::Doc("summary")],
    ),
    ("GenesisAccepted", &[]),
    (
        "AuthorityDesignated",
        &[F::Authority("authority"), F::Key("key"), F::Text("name")],
    ),
    (
        "AuthorityKeyChanged",
        &[F::Authority("authority"), F::Key("new_key")],
    ),
    ("AuthorityRetired", &[F::Authority("authority")]),
    ("KeyRevoked", &[F::Authority("authority"), F::Key("key")]),
    (
        "ObserverRegistered",
        &[F::Authority("id"), F::Role, F::Key("key")],
    ),
    ("InternalProceduresCompleted", &[F::Authorities]),
    ("TerminationNotice", &[]),
    (
        "ProtocolProposed",
        &[F::Number("id"), F::Doc("text"), F::Params, F::EffectiveFrom],
    ),
    ("ProtocolAccepted", &[F::Number("id")]),
    ("ProtocolProceduresCompleted", &[F::Number("id")]),
    (
        "NodeHandoverProposed",
        &[F::Number("id"), F::Key("key"), F::RetireFrom],
    ),
    ("NodeHandoverAccepted", &[F::Number("id")]),
];

/// The fields of an act the console drafts (`None`: it drafts no such act).
pub fn fields(kind: &str) -> Option<&'static [Field]> {
    ACTS.iter().find(|(k, _)| *k == kind).map(|(_, f)| *f)
}

/// The catalogue's short name of a payload name ("ConsentGranted" → "consent granted").
pub fn short_kind(name: &str) -> &'static str {
    Payload::NAMES
        .iter()
        .position(|n| *n == name)
        .and_then(|i| Payload::KINDS.get(i))
        .copied()
        .unwrap_or("?")
}

/// Whether an act of this kind belongs to a case (names it in the event's `case`).
pub fn in_case(kind: &str) -> bool {
    !governance(kind)
        && !matches!(
            kind,
            "CategoryAgreed"
                | "LanguageArrangementProposed"
                | "LanguageArrangementAccepted"
                | "OtherCooperation"
        )
}

/// Whether an act of this kind is a Party root's (governance) rather than a competent
/// authority's.
pub fn governance(kind: &str) -> bool {
    matches!(
        kind,
        "GenesisAccepted"
            | "AuthorityDesignated"
            | "AuthorityKeyChanged"
            | "AuthorityRetired"
            | "KeyRevoked"
            | "ObserverRegistered"
            | "InternalProceduresCompleted"
            | "TerminationNotice"
            | "ProtocolProposed"
            | "ProtocolAccepted"
            | "ProtocolProceduresCompleted"
            | "NodeHandoverProposed"
            | "NodeHandoverAccepted"
    )
}

/// The kinds of [`ACTS`] with their `in_case` and `governance`, for the index of acts.
pub fn kinds() -> impl Iterator<Item = &'static str> {
    ACTS.iter().map(|(k, _)| *k)
}

/// The clauses of the Agreement an act of `kind` carries out, quoted on its form in the
/// reader's language (the `agreement-{clause}` messages; the Kazakh is the original's
/// text, the others working renderings of it, which each says).
pub fn clauses(kind: &str) -> &'static [&'static str] {
    match kind {
        "Request" => &["4-1", "4-2"],
        "OralRequestConfirmed" => &["4-1-oral", "4-2"],
        "AdditionalInfoRequested" => &["4-3", "4-2"],
        "AdditionalInfoProvided" => &["4-3", "4-4", "7-1"],
        "Refused" => &["4-5", "4-6"],
        "ExecutionReported" => &["4-6", "1-3", "4-4"],
        "InformationTransferred" => &["4-4", "7-1", "7-2"],
        "InformationUsed" | "ConsentRequested" | "ConsentGranted" | "ConsentDenied"
        | "OnwardTransfer" => &["7-2"],
        "CostRecorded" | "CostArrangementProposed" | "CostArrangementAccepted" => &["5"],
        "DisputeRaised" | "ConsultationHeld" | "DisputeSettled" => &["8"],
        "CategoryAgreed" => &["1-2"],
        "LanguageArrangementProposed" | "LanguageArrangementAccepted" => &["4-2"],
        "OtherCooperation" => &["2"],
        "AuthorityDesignated" | "AuthorityKeyChanged" | "AuthorityRetired" | "KeyRevoked" => &["3"],
        "InternalProceduresCompleted" => &["3", "10"],
        "TerminationNotice" => &["10"],
        "ProtocolProposed" | "ProtocolAccepted" | "ProtocolProceduresCompleted" => &["9", "10"],
        _ => &[],
    }
}

/// Every clause quoted anywhere (the kinds' and the request's elements'): the
/// translations' test holds each language to it.
#[cfg(test)]
pub const QUOTED: [&str; 22] = [
    "1-2", "1-3", "2", "3", "4-1", "4-1-1", "4-1-2", "4-1-3", "4-1-4", "4-1-5", "4-1-oral", "4-2",
    "4-3", "4-4", "4-5", "4-6", "5", "7-1", "7-2", "8", "9", "10",
];

/// The inputs of a form, by name.
pub type Get<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The payload of an act of `kind` the form's inputs describe (`None`: the console drafts
/// no such act); what could not be read goes to `bad`, and the payload then holds a
/// placeholder there (which is never signed: a draft with an unreadable field is not).
pub fn payload(kind: &str, get: Get<'_>, bad: &mut Vec<Unreadable>) -> Option<Payload> {
    let fields = fields(kind)?;
    let value = if fields.is_empty() {
        Value::String(kind.to_owned())
    } else {
        let mut m = Map::new();
        for f in fields {
            read(*f, get, &mut m, bad);
        }
        json!({ kind: m })
    };
    match serde_json::from_value(value) {
        Ok(p) => Some(p),
        Err(e) => {
            // Every field writes a value of its member's type: this is a defect of the
            // table above, named rather than hidden.
            bad.push(Unreadable {
                field: kind.to_owned(),
                why: format!("the form does not make a {kind}: {e}"),
            });
            None
        }
    }
}

fn unreadable(bad: &mut Vec<Unreadable>, field: &str, why: &str) {
    bad.push(Unreadable {
        field: field.to_owned(),
        why: why.to_owned(),
    });
}

fn text(get: Get<'_>, k: &str) -> String {
    get(k).unwrap_or_default().trim().to_owned()
}

fn lines(get: Get<'_>, k: &str) -> Vec<String> {
    text(get, k)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// An item id read from `name` (kept across checks or chosen), or a new random one.
fn item(get: Get<'_>, name: &str, bad: &mut Vec<Unreadable>) -> Value {
    Value::String(crate::request::item_named(get, name, bad).to_string())
}

/// An item of information's members under `prefix` (`""` or `"res."`).
fn information(get: Get<'_>, prefix: &str, bad: &mut Vec<Unreadable>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("item".into(), item(get, &format!("{prefix}item"), bad));
    m.insert(
        "kind".into(),
        to_json(&crate::request::info_kind(
            get(&format!("{prefix}kind")).as_deref(),
        )),
    );
    m.insert(
        "restricted".into(),
        Value::Bool(get(&format!("{prefix}restricted")).as_deref() == Some("true")),
    );
    m.insert(
        "no_state_secret".into(),
        Value::Bool(get(&format!("{prefix}no_state_secret")).as_deref() == Some("true")),
    );
    m.insert(
        "documents".into(),
        to_json(&crate::request::documents(
            get,
            &format!("{prefix}doc"),
            bad,
        )),
    );
    m
}

/// A hash of 64 hex digits read from `name`, or a placeholder and a complaint.
fn hash(get: Get<'_>, name: &str, missing: &str, bad: &mut Vec<Unreadable>) -> Value {
    let v = text(get, name).to_ascii_lowercase();
    match Hash::from_hex(&v) {
        Ok(h) => Value::String(h.to_hex()),
        Err(_) => {
            unreadable(
                bad,
                name,
                if v.is_empty() {
                    missing
                } else {
                    "a record's hash is 64 hex digits"
                },
            );
            Value::String(Hash::ZERO.to_hex())
        }
    }
}

fn number(get: Get<'_>, name: &str, bad: &mut Vec<Unreadable>) -> Value {
    match text(get, name).parse::<u32>() {
        Ok(n) => json!(n),
        Err(_) => {
            unreadable(bad, name, "a whole number");
            json!(0)
        }
    }
}

/// An amount in major units with up to two decimals ("1500", "1500.5", "1500.50"), in
/// minor units.
pub fn amount_minor(v: &str) -> Option<u64> {
    let v = v.trim().replace([' ', '\u{a0}'], "").replace(',', ".");
    let (whole, frac) = v.split_once('.').unwrap_or((&v, ""));
    if whole.is_empty() || frac.len() > 2 || !whole.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let cents = format!("{frac:0<2}").parse::<u64>().ok()?;
    whole
        .parse::<u64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)
}

/// The members of the rule parameters, as a protocol's form names them (`params.{name}`).
pub const PARAMS: [&str; 5] = [
    "oral_confirmation_ms",
    "refusal_notice_ms",
    "additional_info_ms",
    "termination_months",
    "authored_window_ms",
];

fn read(f: Field, get: Get<'_>, m: &mut Map<String, Value>, bad: &mut Vec<Unreadable>) {
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    match f {
        F::Item => put("item", item(get, "item", bad)),
        F::Purpose => put("purpose", Value::String(text(get, "purpose"))),
        F::Purposes => put("purposes", to_json(&lines(get, "purposes"))),
        F::ThirdParty { required } => {
            let t = text(get, "third_party");
            if t.is_empty() && required {
                unreadable(bad, "third_party", "name the third party");
            }
            put(
                "third_party",
                if t.is_empty() && !required {
                    Value::Null
                } else {
                    Value::String(t)
                },
            );
        }
        F::Extent => put(
            "extent",
            Value::String(if get("extent").as_deref() == Some("Partial") {
                "Partial".into()
            } else {
                "Full".into()
            }),
        ),
        F::Grounds => put(
            "grounds",
            to_json(
                &crate::request::GROUNDS
                    .into_iter()
                    .filter(|g| get(&format!("ground.{g:?}")).as_deref() == Some("true"))
                    .collect::<Vec<_>>(),
            ),
        ),
        F::Docs(member) => put(member, to_json(&crate::request::documents(get, "doc", bad))),
        F::Doc(member) => {
            let d = crate::request::document(get, "doc", DocRole::Original, bad);
            if d.is_none() && text(get, "doc.digest").is_empty() {
                unreadable(bad, "doc", "choose the document");
            }
            put(
                member,
                to_json(&d.unwrap_or_else(|| DocumentRef {
                    digest: Hash::ZERO,
                    size: 0,
                    media_type: "application/octet-stream".into(),
                    language: coop_treaty::Language::Ru,
                    role: DocRole::Original,
                })),
            );
        }
        F::Transfer => {
            for (k, v) in information(get, "", bad) {
                put(&k, v);
            }
            // Filled from the case by the handler (the other side, the request's purposes).
            put("recipient", Value::String("-".into()));
            put("permitted_purposes", json!([]));
        }
        F::Information => put("information", Value::Object(information(get, "", bad))),
        F::Results => {
            let given = get("res.include").as_deref() == Some("true")
                || !text(get, "res.doc.digest").is_empty();
            put(
                "results",
                if given {
                    json!([Value::Object(information(get, "res.", bad))])
                } else {
                    json!([])
                },
            );
        }
        F::SearchOutcome => put(
            "search_outcome",
            match text(get, "search_outcome").as_str() {
                o @ ("Found" | "Detained" | "Arrested" | "InformationProvided" | "NotFound") => {
                    Value::String(o.into())
                }
                _ => Value::Null,
            },
        ),
        F::Cites(member, _) => put(
            member,
            hash(get, member, "choose the record this one answers", bad),
        ),
        F::Dispute => put("dispute", number(get, "dispute", bad)),
        F::Amount => {
            let a = amount_minor(&text(get, "amount"));
            if a.is_none() {
                unreadable(
                    bad,
                    "amount",
                    "an amount in whole units with up to two decimals, e.g. 1500.50",
                );
            }
            put("amount_minor", json!(a.unwrap_or(0)));
        }
        F::Currency => put(
            "currency",
            Value::String(text(get, "currency").to_ascii_uppercase()),
        ),
        F::Authority(member) => {
            let t = text(get, member);
            if let Err(e) = coop_core::AuthorityId::new(t.clone()) {
                unreadable(bad, member, &e.to_string());
                put(member, Value::String("-".into()));
            } else {
                put(member, Value::String(t));
            }
        }
        F::Authorities => {
            let mut ids = Vec::new();
            for t in lines(get, "authorities") {
                match coop_core::AuthorityId::new(t.clone()) {
                    Ok(_) => ids.push(t),
                    Err(e) => unreadable(bad, "authorities", &e.to_string()),
                }
            }
            put("authorities", to_json(&ids));
        }
        F::Key(member) => {
            let t = text(get, member).to_ascii_lowercase();
            match coop_core::PublicKey::from_hex(&t) {
                Ok(k) => put(member, Value::String(k.to_hex())),
                Err(_) => {
                    unreadable(
                        bad,
                        member,
                        "a public key is 64 hex digits (coopledger keygen prints it)",
                    );
                    put(member, Value::String(Hash::ZERO.to_hex()));
                }
            }
        }
        F::Text(member) => put(member, Value::String(text(get, member))),
        F::Role => put(
            "role",
            Value::String(if get("role").as_deref() == Some("Witness") {
                "Witness".into()
            } else {
                "Auditor".into()
            }),
        ),
        F::Number(member) => put(member, number(get, member, bad)),
        F::RetireFrom => {
            let t = text(get, "retire_old_from");
            put(
                "retire_old_from",
                if t.is_empty() {
                    Value::Null
                } else if let Ok(n) = t.parse::<u64>() {
                    json!(n)
                } else {
                    unreadable(bad, "retire_old_from", "a checkpoint size: a whole number");
                    Value::Null
                },
            );
        }
        F::Params => {
            let mut p = Map::new();
            for name in PARAMS {
                let key = format!("params.{name}");
                let t = text(get, &key);
                if t.is_empty() {
                    continue; // left out: the default (docs/FORMAT.md §11)
                }
                match t.parse::<u64>() {
                    Ok(n) if name != "termination_months" || u32::try_from(n).is_ok() => {
                        p.insert(name.into(), json!(n));
                    }
                    _ => unreadable(bad, &key, "a whole number"),
                }
            }
            put("params", Value::Object(p));
        }
        F::EffectiveFrom => {
            let t = text(get, "effective_from");
            let ms = humantime::parse_rfc3339(&format!("{t}T00:00:00Z"))
                .ok()
                .and_then(|s| s.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|d| u64::try_from(d.as_millis()).ok());
            if ms.is_none() {
                unreadable(bad, "effective_from", "a date, YYYY-MM-DD");
            }
            put("effective_from", json!(ms.unwrap_or(0)));
        }
        F::Languages => put(
            "languages",
            to_json(
                &["Kk", "Tk", "Ru"]
                    .into_iter()
                    .filter(|x| get(&format!("lang.{x}")).as_deref() == Some("true"))
                    .collect::<Vec<_>>(),
            ),
        ),
        F::Form => put(
            "form",
            Value::String(
                match text(get, "form").as_str() {
                    f @ ("ExchangeSpecialists" | "ExchangeLegalActs" | "Training") => f,
                    _ => "ExchangeExperience",
                }
                .into(),
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn every_kind_of_the_table_reads_into_its_payload_from_an_empty_form() {
        // Given an empty form, when each act is read, then each gives its payload (with
        // what is missing named), never a defect of the table.
        for (kind, _) in ACTS {
            let mut bad = Vec::new();
            let p = payload(kind, &form(&[]), &mut bad);
            let p = p.unwrap_or_else(|| panic!("{kind}: {bad:?}"));
            assert_eq!(p.name(), kind);
            assert!(
                bad.iter().all(|b| !b.why.contains("does not make")),
                "{kind}: {bad:?}"
            );
        }
        assert!(fields("Genesis").is_none() && fields("Request").is_none());
    }

    #[test]
    fn a_filled_form_reads_exactly_what_it_says() {
        let d = "ab".repeat(32);
        let get = form(&[
            ("item", "00112233445566778899aabbccddeeff"),
            ("third_party", " Interpol NCB Ankara "),
            ("consent", &d),
        ]);
        let mut bad = Vec::new();
        let p = payload("OnwardTransfer", &get, &mut bad).unwrap();
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(
            p,
            Payload::OnwardTransfer {
                item: coop_treaty::ItemId([
                    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
                    0xdd, 0xee, 0xff
                ]),
                third_party: "Interpol NCB Ankara".into(),
                consent: Hash::from_hex(&d).unwrap(),
            }
        );
        let mut bad = Vec::new();
        let p = payload(
            "CostRecorded",
            &form(&[("amount", "1 500,5"), ("currency", "kzt")]),
            &mut bad,
        )
        .unwrap();
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(
            p,
            Payload::CostRecorded {
                amount_minor: 150_050,
                currency: "KZT".into()
            }
        );
    }

    #[test]
    fn what_cannot_be_read_is_named_by_its_field() {
        let mut bad = Vec::new();
        payload(
            "AuthorityKeyChanged",
            &form(&[("authority", "KZ-MVD"), ("new_key", "not hex")]),
            &mut bad,
        )
        .unwrap();
        assert_eq!(
            bad.iter().map(|b| b.field.as_str()).collect::<Vec<_>>(),
            ["new_key"]
        );
        for bad_amount in ["", "1.234", "-5", "1e3", "12.a"] {
            assert_eq!(amount_minor(bad_amount), None, "{bad_amount}");
        }
        assert_eq!(amount_minor("7"), Some(700));
    }
}
