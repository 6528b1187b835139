"""The canonical encoding of docs/FORMAT.md §1, §4, §5 and §11, written from that
document: bincode 2 ``standard()`` (little-endian, variable-length integers) over the
types of the payload catalogue.

An event's JSON form (docs/API.md) is what a person or another system writes; this
module turns it into the one byte string the author signs. The payload catalogue is a
table below, in catalogue order: the order *is* the format (a variant's index is its
position), so never reorder it. The golden vectors shared with the Rust encoder
(crates/treaty/tests/vectors/payloads.json) are the check that the two agree.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

# ------------------------------------------------------------------ primitives (§1)


class EncodeError(ValueError):
    """The value does not fit the catalogue: a missing or unknown field, a wrong type,
    an id that breaks §2. Nothing was encoded."""


def varint(v: int) -> bytes:
    """An unsigned integer as bincode's varint: one byte below 251, else a marker and
    2, 4 or 8 little-endian bytes."""
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise EncodeError(f"expected an unsigned integer, got {v!r}")
    if v < 251:
        return bytes([v])
    if v < 1 << 16:
        return b"\xfb" + v.to_bytes(2, "little")
    if v < 1 << 32:
        return b"\xfc" + v.to_bytes(4, "little")
    if v < 1 << 64:
        return b"\xfd" + v.to_bytes(8, "little")
    raise EncodeError(f"{v} does not fit in 64 bits")


def hexbytes(s: Any, n: int) -> bytes:
    """``n`` bytes written as ``2n`` lower-case hex digits."""
    if not isinstance(s, str) or len(s) != 2 * n or not re.fullmatch(r"[0-9a-f]*", s):
        raise EncodeError(f"expected {2 * n} lower-case hex digits, got {s!r}")
    return bytes.fromhex(s)


AUTHORITY_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def authority(s: Any) -> bytes:
    if not isinstance(s, str) or not AUTHORITY_RE.fullmatch(s):
        raise EncodeError(f"{s!r} is not an authority id (1-64 of A-Z a-z 0-9 . _ -)")
    return string(s)


def string(s: Any) -> bytes:
    if not isinstance(s, str):
        raise EncodeError(f"expected a string, got {s!r}")
    b = s.encode("utf-8")
    return varint(len(b)) + b


def boolean(v: Any) -> bytes:
    if not isinstance(v, bool):
        raise EncodeError(f"expected true or false, got {v!r}")
    return b"\x01" if v else b"\x00"


# ------------------------------------------------------------------ the type language
#
# A type is one of:
#   "u64" "u16" "bool" "str" "authority" "h16" "h32" (a Hash, a PublicKey) "h64"
#   ("opt", T)            Option<T>: JSON null or a T
#   ("vec", T)            Vec<T>: a JSON array
#   ("struct", FIELDS)    FIELDS = [(name, T, default)], default MISSING if required
#   ("enum", VARIANTS)    VARIANTS = [(name, T or None)]: a unit variant is the JSON
#                         string "Name"; any other {"Name": value}
#   ("ref", NAME)         a named type from TYPES

MISSING = object()
Type = Any


def S(*fields: Tuple[Any, ...]) -> Tuple[str, List[Tuple[str, Type, Any]]]:
    return ("struct", [(f[0], f[1], f[2] if len(f) > 2 else MISSING) for f in fields])


LANGUAGE = ("enum", [("Kk", None), ("Tk", None), ("Ru", None)])
INFO_KIND = ("enum", [("OperationalSearch", None), ("OperationalReference", None),
                      ("Forensic", None), ("Archival", None)])
CATEGORY_NAMES = ["OrganisedCrime", "TerrorismExtremism", "ProliferationFinancing",
                  "AgainstPerson", "Weapons", "Narcotics", "TraffickingMigration",
                  "Counterfeiting", "CulturalProperty", "Property", "Corruption",
                  "Economic", "MoneyLaundering", "Cyber"]
HOUR = 3_600_000

TYPES: Dict[str, Type] = {
    "Party": ("enum", [("Kz", None), ("Tm", None)]),
    "Language": LANGUAGE,
    "DocRole": ("enum", [("Original", None), ("TranslationOf", "h32"), ("CertifiedCopy", None),
                         ("LegalProvisionText", None)]),
    "DocumentRef": S(("digest", "h32"), ("size", "u64"), ("media_type", "str"),
                     ("language", ("ref", "Language")), ("role", ("ref", "DocRole"))),
    "CrimeCategory": ("enum", [(n, None) for n in CATEGORY_NAMES] + [("Other", "h32")]),
    "InfoKind": INFO_KIND,
    "Form": ("enum", [("ExecuteRequest", None), ("ExchangeInformation", INFO_KIND),
                      ("ExchangeExperience", None), ("ExchangeSpecialists", None),
                      ("ExchangeLegalActs", None), ("Training", None)]),
    "RefusalGround": ("enum", [(n, None) for n in [
        "Sovereignty", "Security", "PublicOrder", "StatePower", "EssentialInterests",
        "NationalLaw", "InternationalObligations"]]),
    "Extent": ("enum", [("Full", None), ("Partial", None)]),
    "SearchOutcome": ("enum", [(n, None) for n in [
        "Found", "Detained", "Arrested", "InformationProvided", "NotFound"]]),
    "Role": ("enum", [("Root", None), ("Competent", None), ("Auditor", None),
                      ("Witness", None)]),
    # Params: every field has a default (the genesis's standard values).
    "Params": S(("oral_confirmation_ms", "u64", 24 * HOUR),
                ("refusal_notice_ms", "u64", 72 * HOUR),
                ("additional_info_ms", "u64", 72 * HOUR),
                ("termination_months", "u64", 6),
                ("authored_window_ms", "u64", 15 * 60 * 1000)),
    "Information": S(("item", "h16"), ("kind", ("ref", "InfoKind")), ("restricted", "bool"),
                     ("no_state_secret", "bool", False),
                     ("documents", ("vec", ("ref", "DocumentRef")), [])),
    "RootKey": S(("party", ("ref", "Party")), ("authority", "authority"), ("key", "h32")),
    "RequestElements": S(
        ("requested_authority", ("opt", "authority")),
        ("grounds", ("opt", ("ref", "DocumentRef"))),
        ("requesting_service", "str"),
        ("requested_service", "str"),
        ("case_description", ("opt", ("ref", "DocumentRef"))),
        ("content", ("opt", ("ref", "DocumentRef"))),
        ("decision_copy", ("opt", ("ref", "DocumentRef"))),
        ("legal_provision", ("opt", ("ref", "DocumentRef")))),
    "Request": S(("elements", ("ref", "RequestElements")), ("category", ("ref", "CrimeCategory")),
                 ("form", ("ref", "Form")), ("wanted_person_search", "bool"),
                 ("purposes", ("vec", "str")), ("urgent", "bool"), ("oral", "bool"),
                 ("documents", ("vec", ("ref", "DocumentRef"))),
                 ("language_arrangement", ("opt", "h32"), None)),
}

DOC = ("ref", "DocumentRef")
DOCS = ("vec", DOC)

#: The payload catalogue (FORMAT.md §11.3), in catalogue order.
CATALOGUE: List[Tuple[str, Optional[Type]]] = [
    ("Genesis", S(("roots", ("vec", ("ref", "RootKey"))), ("agreement_texts", DOCS),
                  ("params", ("ref", "Params")), ("node_key", "h32"),
                  ("test_ledger", "bool"))),
    ("GenesisAccepted", None),
    ("AuthorityDesignated", S(("authority", "authority"), ("key", "h32"), ("name", "str"))),
    ("AuthorityKeyChanged", S(("authority", "authority"), ("new_key", "h32"))),
    ("AuthorityRetired", S(("authority", "authority"))),
    ("KeyRevoked", S(("authority", "authority"), ("key", "h32"))),
    ("ObserverRegistered", S(("id", "authority"), ("role", ("ref", "Role")), ("key", "h32"))),
    ("InternalProceduresCompleted", S(("authorities", ("vec", "authority")))),
    ("TerminationNotice", None),
    ("ProtocolProposed", S(("id", "u64"), ("text", DOC), ("params", ("ref", "Params")),
                           ("effective_from", "u64"))),
    ("ProtocolAccepted", S(("id", "u64"))),
    ("CategoryAgreed", S(("with", "authority"), ("description", "str"))),
    ("Request", ("ref", "Request")),
    ("OralRequestConfirmed", S(("documents", DOCS))),
    ("Acknowledged", None),
    ("AdditionalInfoRequested", S(("documents", DOCS, []))),
    ("AdditionalInfoProvided", S(("information", ("ref", "Information")))),
    ("Refused", S(("extent", ("ref", "Extent")), ("grounds", ("vec", ("ref", "RefusalGround"))),
                  ("reasons", DOCS, []))),
    ("ExecutionReported", S(("extent", ("ref", "Extent")), ("reasons", DOCS, []),
                            ("search_outcome", ("opt", ("ref", "SearchOutcome")), None),
                            ("results", ("vec", ("ref", "Information")), []))),
    ("InformationTransferred", S(("item", "h16"), ("recipient", "authority"),
                                 ("kind", ("ref", "InfoKind")), ("restricted", "bool"),
                                 ("permitted_purposes", ("vec", "str")),
                                 ("no_state_secret", "bool", False), ("documents", DOCS, []))),
    ("InformationUsed", S(("item", "h16"), ("purpose", "str"))),
    ("ConsentRequested", S(("item", "h16"), ("third_party", ("opt", "str")),
                           ("purposes", ("vec", "str")))),
    ("ConsentGranted", S(("item", "h16"), ("third_party", ("opt", "str")),
                         ("purposes", ("vec", "str")), ("documents", DOCS, []))),
    ("ConsentDenied", S(("item", "h16"), ("third_party", ("opt", "str")))),
    ("OnwardTransfer", S(("item", "h16"), ("third_party", "str"), ("consent", "h32"))),
    ("CostRecorded", S(("amount_minor", "u64"), ("currency", "str"))),
    ("CostArrangementProposed", S(("terms", DOC))),
    ("CostArrangementAccepted", S(("proposal", "h32"))),
    ("LanguageArrangementProposed", S(("with", "authority"), ("languages", ("vec", LANGUAGE)))),
    ("LanguageArrangementAccepted", S(("proposal", "h32"))),
    ("DisputeRaised", S(("dispute", "u64"), ("subject", DOC))),
    ("ConsultationHeld", S(("dispute", "u64"), ("minutes", DOC))),
    ("DisputeSettled", S(("dispute", "u64"), ("outcome", DOC))),
    ("OtherCooperation", S(("form", ("ref", "Form")), ("with", "authority"), ("summary", DOC))),
    ("CaseClosed", None),
    ("ProtocolProceduresCompleted", S(("id", "u64"))),
    ("NodeHandoverProposed", S(("id", "u64"), ("key", "h32"),
                               ("retire_old_from", ("opt", "u64"), None))),
    ("NodeHandoverAccepted", S(("id", "u64"))),
]

#: Payload variant names in catalogue order.
PAYLOAD_NAMES: List[str] = [name for name, _ in CATALOGUE]


def _default(d: Any) -> Any:
    # Defaults are values, never shared mutable objects.
    return list(d) if isinstance(d, list) else dict(d) if isinstance(d, dict) else d


def encode(t: Type, v: Any, where: str = "value") -> bytes:
    """``v`` (its JSON form) as type ``t``, canonically."""
    try:
        return _encode(t, v, where)
    except EncodeError:
        raise
    except (TypeError, ValueError, AttributeError) as e:
        raise EncodeError(f"{where}: {e}") from e


def _encode(t: Type, v: Any, where: str) -> bytes:
    if t == "u64" or t == "u16":
        out = varint(v)
        if t == "u16" and v >= 1 << 16:
            raise EncodeError(f"{where}: {v} does not fit in 16 bits")
        return out
    if t == "bool":
        return boolean(v)
    if t == "str":
        return string(v)
    if t == "authority":
        return authority(v)
    if t == "h16":
        return hexbytes(v, 16)
    if t == "h32":
        return hexbytes(v, 32)
    if t == "h64":
        return hexbytes(v, 64)
    kind = t[0]
    if kind == "ref":
        return _encode(TYPES[t[1]], v, where)
    if kind == "opt":
        return b"\x00" if v is None else b"\x01" + _encode(t[1], v, where)
    if kind == "vec":
        if not isinstance(v, list):
            raise EncodeError(f"{where}: expected a list, got {v!r}")
        return varint(len(v)) + b"".join(_encode(t[1], x, f"{where}[{i}]") for i, x in enumerate(v))
    if kind == "struct":
        if not isinstance(v, dict):
            raise EncodeError(f"{where}: expected an object, got {v!r}")
        names = {f[0] for f in t[1]}
        unknown = sorted(set(v) - names)
        if unknown:
            raise EncodeError(f"{where}: unknown field(s) {unknown}")
        out = b""
        for name, ft, default in t[1]:
            if name in v:
                fv = v[name]
            elif default is not MISSING:
                fv = _default(default)
            elif isinstance(ft, tuple) and ft[0] == "opt":
                fv = None  # as serde reads a missing Option field
            else:
                raise EncodeError(f"{where}: missing field {name!r}")
            out += _encode(ft, fv, f"{where}.{name}")
        return out
    if kind == "enum":
        return _enum(t[1], v, where)
    raise EncodeError(f"{where}: unknown type {t!r}")


def _enum(variants: Sequence[Tuple[str, Optional[Type]]], v: Any, where: str) -> bytes:
    if isinstance(v, str):
        name, inner = v, None
    elif isinstance(v, dict) and len(v) == 1:
        ((name, inner),) = v.items()
    else:
        raise EncodeError(f"{where}: expected a variant name or {{name: value}}, got {v!r}")
    for index, (vname, vt) in enumerate(variants):
        if vname != name:
            continue
        if vt is None:
            if not isinstance(v, str):
                raise EncodeError(f"{where}: {name} takes no value; write it as \"{name}\"")
            return varint(index)
        if isinstance(v, str):
            raise EncodeError(f"{where}: {name} needs a value: {{\"{name}\": ...}}")
        return varint(index) + _encode(vt, inner, f"{where}.{name}")
    raise EncodeError(f"{where}: unknown variant {name!r}")


def encode_payload(payload: Union[str, Dict[str, Any]]) -> bytes:
    """A treaty payload (its JSON form: ``"Acknowledged"`` or ``{"Request": {...}}``)."""
    return encode(("enum", CATALOGUE), payload, "payload")


# ------------------------------------------------------------------ event body (§4, §5)

EVENT_FORMAT_VERSION = 2
SIGNATURE_CONTEXT = b"coopledger/event/v2"
MAX_PAYLOAD_LEN = 64 * 1024
MAX_ANSWERS = 64

BODY_FIELDS = ("version", "ledger_id", "event_id", "author", "authored_at", "case", "answers",
               "payload")


def encode_body(body: Dict[str, Any]) -> bytes:
    """An event body (its JSON form, docs/API.md) as the bytes its author signs."""
    if not isinstance(body, dict):
        raise EncodeError(f"expected the body as an object, got {body!r}")
    unknown = sorted(set(body) - set(BODY_FIELDS))
    if unknown:
        raise EncodeError(f"body: unknown field(s) {unknown}")
    for required in ("event_id", "author", "authored_at", "payload"):
        if required not in body:
            raise EncodeError(f"body: missing field {required!r}")
    version = body.get("version", EVENT_FORMAT_VERSION)
    author = body["author"]
    if not isinstance(author, dict) or set(author) != {"authority", "key"}:
        raise EncodeError(f"body.author: expected {{authority, key}}, got {author!r}")
    case = body.get("case")
    answers = body.get("answers", [])
    if not isinstance(answers, list) or len(answers) > MAX_ANSWERS:
        raise EncodeError(f"body.answers: a list of at most {MAX_ANSWERS} hashes")
    payload = encode_payload(body["payload"])
    if len(payload) > MAX_PAYLOAD_LEN:
        raise EncodeError(f"the payload is {len(payload)} bytes; the limit is {MAX_PAYLOAD_LEN}")
    out = encode("u16", version, "body.version")
    out += encode(("opt", "h32"), body.get("ledger_id"), "body.ledger_id")
    out += encode("h16", body["event_id"], "body.event_id")
    out += encode("authority", author["authority"], "body.author.authority")
    out += encode("h32", author["key"], "body.author.key")
    out += encode("u64", body["authored_at"], "body.authored_at")
    if case is None:
        out += b"\x00"
    else:
        if not isinstance(case, dict) or set(case) != {"case_id", "expected_version"}:
            raise EncodeError(f"body.case: expected {{case_id, expected_version}}, got {case!r}")
        out += b"\x01" + encode("h16", case["case_id"], "body.case.case_id")
        out += encode("u64", case["expected_version"], "body.case.expected_version")
    out += varint(len(answers)) + b"".join(encode("h32", a, "body.answers") for a in answers)
    out += varint(len(payload)) + payload
    return out


def signing_message(ledger_id: Optional[str], body_bytes: bytes) -> bytes:
    """What the author signs: ``"coopledger/event/v2" || ledger id (32 zero bytes for a
    genesis) || body``."""
    lid = bytes(32) if ledger_id is None else hexbytes(ledger_id, 32)
    return SIGNATURE_CONTEXT + lid + body_bytes


def encode_batch(events: Sequence[bytes]) -> bytes:
    """Signed events' canonical bytes as a batch (``POST /v1/events:batch`` as
    application/octet-stream): a varint count, then each event."""
    return varint(len(events)) + b"".join(events)


Encoder = Callable[[Any], bytes]
