"""End to end against a real node on 127.0.0.1: a program that uses only this package and
PyNaCl creates a ledger's genesis, then appends every kind of event of the catalogue —
the constitution, agreements between authorities, a protocol, four cases with requests,
replies, refusals, Article 7 transfers, consents, costs and a dispute, registry changes,
notice of termination and a node handover — singly (as bytes and as JSON) and in batches,
checks every receipt against the node's key, proves inclusion and consistency against
signed checkpoints, reads with signed requests and follows the stream."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nacl.signing
import pytest

from conftest import REPO
from coopledger_client import (PAYLOAD_NAMES, Client, NodeError, ProofError, Receipt, Signer,
                               body, new_id, public_hex, sign, write_pem)

ACTORS = ["KZ-MFA", "TM-MFA", "KZ-MVD", "KZ-KNB", "KZ-AFM", "TM-MVD", "TM-MNS", "KZ-AUDIT",
          "KZ-WITNESS", "TM-WITNESS"]
PURPOSE = "criminal investigation 2025-117"


def binary() -> Path:
    b = Path(os.environ.get("COOPLEDGER_BIN", REPO / "target/debug/coopledger"))
    if not b.exists():
        subprocess.run(["cargo", "build", "-q", "-p", "coop-cli"], cwd=REPO, check=True)
    return b


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- documents (Art. 4.2)

def doc(tag, language, role="Original"):
    return {"digest": f"{tag:02x}" * 32, "size": 1000 + tag, "media_type": "application/pdf",
            "language": language, "role": role}


def translation_of(d, language):
    digest = bytes.fromhex(d["digest"])
    digest = digest[:-1] + bytes([digest[-1] ^ 0xFF])
    return {"digest": digest.hex(), "size": d["size"] + 7, "media_type": d["media_type"],
            "language": language, "role": {"TranslationOf": d["digest"]}}


STATE_LANGUAGE = {"Kz": "Kk", "Tm": "Tk"}
OTHER = {"Kz": "Tm", "Tm": "Kz"}


def written(tag, party):
    original = doc(tag, STATE_LANGUAGE[party])
    return [original, translation_of(original, STATE_LANGUAGE[OTHER[party]])]


def information(n, party):
    return {"item": f"{n:02x}" * 16, "kind": "OperationalReference", "restricted": n % 2 == 0,
            "no_state_secret": True, "documents": written(120 + n, party)}


def request_in(to, language):
    return {
        "elements": {
            "requested_authority": to,
            "grounds": doc(1, language),
            "requesting_service": "Criminal police department",
            "requested_service": "Criminal search department",
            "case_description": doc(2, language),
            "content": doc(3, language),
            "decision_copy": doc(4, language, "CertifiedCopy"),
            "legal_provision": doc(5, language, "LegalProvisionText"),
        },
        "category": "Narcotics", "form": "ExecuteRequest", "wanted_person_search": False,
        "purposes": [PURPOSE], "urgent": False, "oral": False, "documents": [],
        "language_arrangement": None,
    }


def request_to(to):
    r = request_in(to, "Kk")
    e = r["elements"]
    original = doc(10, "Kk")
    r["documents"] = [translation_of(e[k], "Tk") for k in
                      ("grounds", "case_description", "content", "decision_copy", "legal_provision")]
    r["documents"] += [translation_of(original, "Tk"), original]
    return r


# ---------------------------------------------------------------- the ledger and its node

class Ledger:
    """The test's view: keys, the node, and each case's version."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.keys = {a: nacl.signing.SigningKey.generate() for a in ACTORS}
        self.node_key = nacl.signing.SigningKey.generate()
        self.versions = {}
        self.receipts = []
        self.sent = []
        self.kinds = set()

    def genesis(self):
        g = body("KZ-MFA", self.keys["KZ-MFA"], {"Genesis": {
            "roots": [{"party": "Kz", "authority": "KZ-MFA", "key": public_hex(self.keys["KZ-MFA"])},
                      {"party": "Tm", "authority": "TM-MFA", "key": public_hex(self.keys["TM-MFA"])}],
            "agreement_texts": [doc(100, "Kk"), doc(101, "Tk"), doc(102, "Ru")],
            "params": {},
            "node_key": public_hex(self.node_key),
            "test_ledger": False,
        }}, ledger_id=None)
        return sign(g, self.keys["KZ-MFA"])

    def event(self, who, payload, case=None, answers=(), key=None):
        """A signed event, its bytes agreed with the node's /prepare before signing."""
        k = key or self.keys[who]
        version = self.versions.get(case, 0) if case else 0
        b = self.client.body(who, k, payload, case=case, expected_version=version, answers=answers)
        if case:
            self.versions[case] = version + 1
        self.kinds.add(payload if isinstance(payload, str) else next(iter(payload)))
        return self.client.sign_checked(b, k)

    def add(self, who, payload, case=None, answers=(), key=None, as_json=False):
        e = self.event(who, payload, case, answers, key)
        r = self.client.submit(e, as_json=as_json)
        self.receipts.append(r)
        self.sent.append(e)
        return e.event_hash


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("node")
    lg = Ledger(tmp)
    write_pem(lg.node_key, tmp / "node.pem")
    genesis = lg.genesis()
    (tmp / "genesis.bin").write_bytes(genesis.to_bytes())
    init = subprocess.run([str(binary()), "init", "--data", str(tmp / "data"), "--signed-genesis",
                           str(tmp / "genesis.bin"), "--node-key", str(tmp / "node.pem")],
                          capture_output=True, text=True, check=True)
    vkey = init.stdout.rsplit(": ", 1)[-1].strip()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp / "node.log", "w")
    proc = subprocess.Popen([str(binary()), "serve", "--data", str(tmp / "data"), "--listen",
                             f"127.0.0.1:{port}", "--checkpoint-secs", "0.2"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/v1/info", timeout=1).read()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError((tmp / "node.log").read_text())
                time.sleep(0.1)
        lg.client = Client(url, node_vkey=vkey)
        lg.url = url
        lg.kinds.add("Genesis")
        yield lg
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_every_kind_of_event_lands_with_a_checked_receipt(ledger):
    L = ledger
    c = L.client
    assert c.ledger_id() == c.node_key().name.split("/", 1)[1]
    # ---- constitution (Art. 3, 10): GenesisAccepted as JSON, designations as one batch
    L.add("TM-MFA", "GenesisAccepted", as_json=True)
    designations = [
        L.event(root, {"AuthorityDesignated": {"authority": a, "key": public_hex(L.keys[a]), "name": name}})
        for root, a, name in [
            ("KZ-MFA", "KZ-MVD", "Ministry of Internal Affairs of Kazakhstan"),
            ("KZ-MFA", "KZ-KNB", "National Security Committee of Kazakhstan"),
            ("KZ-MFA", "KZ-AFM", "Agency for Financial Monitoring of Kazakhstan"),
            ("TM-MFA", "TM-MVD", "Ministry of Internal Affairs of Turkmenistan"),
            ("TM-MFA", "TM-MNS", "Ministry of National Security of Turkmenistan"),
        ]
    ] + [
        L.event(root, {"ObserverRegistered": {"id": who, "role": role, "key": public_hex(L.keys[who])}})
        for root, who, role in [("KZ-MFA", "KZ-AUDIT", "Auditor"), ("KZ-MFA", "KZ-WITNESS", "Witness"),
                                ("TM-MFA", "TM-WITNESS", "Witness")]
    ]
    answers = c.submit_batch(designations)
    assert all(isinstance(a, Receipt) for a in answers), answers
    assert [a.seq for a in answers] == list(range(answers[0].seq, answers[0].seq + 8))
    L.receipts += answers
    L.sent += designations
    L.add("KZ-MFA", {"InternalProceduresCompleted": {"authorities": ["KZ-MVD", "KZ-KNB", "KZ-AFM"]}})
    L.add("TM-MFA", {"InternalProceduresCompleted": {"authorities": ["TM-MVD", "TM-MNS"]}})
    # ---- agreements between authorities (Art. 1.2, 4.2, 2.3-2.6)
    agreement = L.add("TM-MVD", {"CategoryAgreed": {
        "with": "KZ-MVD", "description": "illegal mining of cryptocurrency with stolen electricity"}})
    proposal = L.add("KZ-KNB", {"LanguageArrangementProposed": {"with": "TM-MNS", "languages": ["Ru"]}})
    arrangement = L.add("TM-MNS", {"LanguageArrangementAccepted": {"proposal": proposal}}, as_json=True)
    L.add("KZ-MVD", {"OtherCooperation": {"form": "ExchangeExperience", "with": "TM-MVD",
                                           "summary": doc(130, "Ru")}})
    # ---- Art. 9: a protocol
    L.add("KZ-MFA", {"ProtocolProposed": {"id": 1, "text": doc(131, "Ru"),
                                           "params": {"refusal_notice_ms": 48 * 3_600_000},
                                           "effective_from": c.now_ms()}})
    L.add("TM-MFA", {"ProtocolAccepted": {"id": 1}})
    L.add("TM-MFA", {"ProtocolProceduresCompleted": {"id": 1}})
    L.add("KZ-MFA", {"ProtocolProceduresCompleted": {"id": 1}})
    # ---- case 1: everything
    c1 = new_id()
    r = request_to("TM-MVD")
    r["category"] = {"Other": agreement}
    request = L.add("KZ-MVD", {"Request": r}, case=c1)
    L.add("TM-MVD", "Acknowledged", case=c1, answers=[request])
    asked = L.add("KZ-MVD", {"AdditionalInfoRequested": {"documents": written(132, "Kz")}}, case=c1,
                  answers=[request])
    L.add("TM-MVD", {"AdditionalInfoProvided": {"information": information(9, "Tm")}}, case=c1, answers=[asked])
    item = "01" * 16
    L.add("TM-MVD", {"InformationTransferred": {
        "item": item, "recipient": "KZ-MVD", "kind": "OperationalSearch", "restricted": True,
        "permitted_purposes": [PURPOSE], "no_state_secret": True, "documents": written(133, "Tm")}}, case=c1)
    L.add("KZ-MVD", {"InformationUsed": {"item": item, "purpose": PURPOSE}}, case=c1)
    interpol = "Interpol General Secretariat"
    asked = L.add("KZ-MVD", {"ConsentRequested": {"item": item, "third_party": interpol, "purposes": []}}, case=c1)
    consent = L.add("TM-MVD", {"ConsentGranted": {"item": item, "third_party": interpol, "purposes": [],
                                                   "documents": written(134, "Tm")}}, case=c1, answers=[asked])
    L.add("KZ-MVD", {"OnwardTransfer": {"item": item, "third_party": interpol, "consent": consent}},
          case=c1, answers=[consent])
    L.add("TM-MVD", {"ConsentDenied": {"item": "09" * 16, "third_party": "a news agency"}}, case=c1)
    L.add("TM-MVD", {"CostRecorded": {"amount_minor": 125_000, "currency": "TMT"}}, case=c1)
    costs = L.add("KZ-MVD", {"CostArrangementProposed": {"terms": doc(135, "Ru")}}, case=c1)
    L.add("TM-MVD", {"CostArrangementAccepted": {"proposal": costs}}, case=c1, answers=[costs])
    L.add("TM-MVD", {"ExecutionReported": {"extent": "Full", "reasons": [], "search_outcome": None,
                                            "results": [information(3, "Tm")]}}, case=c1, answers=[request])
    L.add("KZ-MVD", {"DisputeRaised": {"dispute": 1, "subject": doc(136, "Ru")}}, case=c1)
    L.add("TM-MVD", {"ConsultationHeld": {"dispute": 1, "minutes": doc(137, "Ru")}}, case=c1)
    L.add("KZ-MVD", {"DisputeSettled": {"dispute": 1, "outcome": doc(138, "Ru")}}, case=c1)
    L.add("KZ-MVD", "CaseClosed", case=c1)
    # ---- case 2: an urgent oral request under the Russian-language arrangement
    c2 = new_id()
    r = request_in("TM-MNS", "Ru")
    r.update(urgent=True, oral=True, language_arrangement=arrangement,
             form={"ExchangeInformation": "Forensic"})
    L.add("KZ-KNB", {"Request": r}, case=c2)
    L.add("KZ-KNB", {"OralRequestConfirmed": {"documents": [doc(140, "Ru")]}}, case=c2)
    L.add("TM-MNS", {"Refused": {"extent": "Partial", "grounds": ["NationalLaw"], "reasons": [doc(141, "Ru")]}},
          case=c2)
    L.add("TM-MNS", {"ExecutionReported": {"extent": "Partial", "reasons": [doc(142, "Ru")]}}, case=c2)
    # ---- cases 3 and 4: wanted-person searches (Art. 1.3), as one batch of four events
    batch = []
    for outcome in (None, "Detained"):
        case = new_id()
        r = request_to("TM-MVD")
        r["wanted_person_search"] = True
        batch.append(L.event("KZ-MVD", {"Request": r}, case=case))
        if outcome is None:
            reply = {"Refused": {"extent": "Full", "grounds": ["Sovereignty", "Security"],
                                 "reasons": written(143, "Tm")}}
        else:
            reply = {"ExecutionReported": {"extent": "Full", "search_outcome": outcome}}
        batch.append(L.event("TM-MVD", reply, case=case))
    answers = c.submit_batch(batch)
    assert all(isinstance(a, Receipt) for a in answers), answers
    L.receipts += answers
    L.sent += batch
    # ---- the registry changes (Art. 3)
    knb2 = nacl.signing.SigningKey.generate()
    L.add("KZ-MFA", {"AuthorityKeyChanged": {"authority": "KZ-KNB", "new_key": public_hex(knb2)}})
    L.add("TM-MFA", {"KeyRevoked": {"authority": "TM-MNS", "key": public_hex(L.keys["TM-MNS"])}})
    L.add("KZ-MFA", {"AuthorityRetired": {"authority": "KZ-AFM"}})
    L.add("KZ-KNB", "CaseClosed", case=c2, key=knb2)
    # ---- Art. 10: notice of termination
    L.add("TM-MFA", "TerminationNotice")


def test_a_resent_event_gets_its_first_receipt_and_a_refusal_names_its_article(ledger):
    c = ledger.client
    size = c.info(refresh=True)["size"]
    # The same signed event, resent (as a client that lost the answer would), gets its
    # first receipt and appends nothing; so does a whole batch resent.
    first, receipt = ledger.sent[0], ledger.receipts[0]
    assert c.submit(first).same_record(receipt)
    again = c.submit_batch(ledger.sent[:3])
    assert all(a.same_record(r) for a, r in zip(again, ledger.receipts[:3], strict=True))
    assert c.info(refresh=True)["size"] == size
    # A request missing its decision copy is refused under Art. 4.1(5); nothing written.
    r = request_to("TM-MVD")
    r["elements"]["decision_copy"] = None
    with pytest.raises(NodeError) as refused:
        c.submit(ledger.event("KZ-MVD", {"Request": r}, case=new_id()))
    assert refused.value.status == 422 and refused.value.clause == "Art. 4.1(5)"
    assert c.info(refresh=True)["size"] == size
    # In the language asked for: the clause stays the neutral reference.
    ru = Client(ledger.url, language="ru")
    with pytest.raises(NodeError) as refused:
        ru.submit(ledger.event("KZ-MVD", {"Request": r}, case=new_id()))
    assert refused.value.clause == "Art. 4.1(5)"
    assert "Ст. 4.1(5)" in str(refused.value) and "заверенн" in str(refused.value)
    assert c.info(refresh=True)["size"] == size


def test_a_draft_is_checked_before_it_is_signed_and_nothing_is_written(ledger):
    c = ledger.client
    size = c.info(refresh=True)["size"]
    r = request_to("TM-MVD")
    r["elements"]["decision_copy"]["role"] = "Original"
    body = c.body("KZ-MVD", ledger.keys["KZ-MVD"], {"Request": r}, case=new_id())
    answer = Client(ledger.url, language="ru").check(body)
    assert answer["ok"] is False and answer["size"] == size
    assert answer["problems"][0]["clause"] == "Art. 4.1(5)"
    assert "Ст. 4.1(5)" in answer["problems"][0]["message"]
    assert c.info(refresh=True)["size"] == size
    r["elements"]["decision_copy"]["role"] = "CertifiedCopy"
    body = c.body("KZ-MVD", ledger.keys["KZ-MVD"], {"Request": r}, case=new_id())
    assert c.check(body) == {"ok": True, "size": size, "problems": []}


def test_signed_reads_proofs_and_the_stream(ledger):
    c = Client(ledger.url, signer=Signer("KZ-AUDIT", ledger.keys["KZ-AUDIT"]),
               node_vkey=str(ledger.client.node_key()))
    # Unsigned reads are refused; an auditor's signed read is answered.
    with pytest.raises(NodeError) as e:
        Client(ledger.url)._json("GET", "/v1/authorities")
    assert e.value.status == 401
    assert "KZ-MVD" in c.read("/v1/authorities")
    # The first receipts are in a signed checkpoint (wait for the node's next one).
    receipt = ledger.receipts[5]
    deadline = time.time() + 20
    while True:
        try:
            cp = c.prove_included(receipt)
            break
        except (NodeError, ProofError):
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    # A forged receipt does not verify.
    forged = Receipt(**{**receipt.__dict__, "seq": receipt.seq + 1})
    with pytest.raises(ProofError):
        forged.verify(c.node_key())
    # The receipt alone proves its event in the checkpoint it carries.
    own = receipt.verify(c.node_key(), ledger.sent[5].to_bytes())
    assert own.size > receipt.seq
    # And the node's history since extends that checkpoint.
    if own.size <= cp.size:
        c.prove_consistent(own, cp)
    # Consistency from an earlier checkpoint to the latest.
    sizes = [s for s in range(2, cp.size + 1) if _has_checkpoint(c, s)]
    assert sizes, "the node signed no earlier checkpoint"
    old = c.checkpoint(sizes[0])
    c.prove_consistent(old, cp)
    with pytest.raises(ProofError):
        c.prove_consistent(old.__class__(old.origin, old.size, b"\x00" * 32, old.chain, old.time_ms), cp)
    # The stream gives every record from the start, with its readable event.
    stream = c.stream(0)
    first = [next(stream) for _ in range(3)]
    assert [r["seq"] for r in first] == [0, 1, 2]
    assert "Genesis" in first[0]["event"]["body"]["payload"]
    assert first[1]["event"]["body"]["payload"] == "GenesisAccepted"


def _has_checkpoint(c, size):
    try:
        c.checkpoint(size)
        return True
    except NodeError:
        return False


def test_the_openapi_document_is_valid_openapi_3_1(ledger):
    from openapi_spec_validator import validate
    doc = json.loads(urllib.request.urlopen(f"{ledger.url}/v1/openapi.json").read())
    validate(doc)
    assert json.loads((REPO / "docs/openapi.json").read_text()) == doc


def generated_models(tmp):
    """The pydantic models a common generator (datamodel-code-generator) makes from
    docs/openapi.json: what a client written from the document alone would decode with."""
    import importlib.util
    out = tmp / "coop_models.py"
    subprocess.run([sys.executable, "-m", "datamodel_code_generator", "--input",
                    str(REPO / "docs/openapi.json"), "--input-file-type", "openapi",
                    "--output-model-type", "pydantic_v2.BaseModel", "--output", str(out)],
                   check=True, capture_output=True)
    spec = importlib.util.spec_from_file_location("coop_models", out)
    models = importlib.util.module_from_spec(spec)
    sys.modules["coop_models"] = models
    spec.loader.exec_module(models)
    return models


def test_every_answer_matches_the_published_schema(ledger, tmp_path):
    """The document's schemas are coop-wire's mirrors of the domain types: every JSON
    answer of a ledger holding every kind of event must match its operation's schema,
    or a mirror and its domain type have parted (crates/wire/src/schema); and a client
    generated from the document decodes every one of them."""
    import jsonschema
    import pydantic
    doc = json.loads((REPO / "docs/openapi.json").read_text())
    models = generated_models(tmp_path)
    c = Client(ledger.url, signer=Signer("KZ-AUDIT", ledger.keys["KZ-AUDIT"]))

    def model_of(schema):
        if "$ref" in schema:
            return getattr(models, schema["$ref"].rsplit("/", 1)[-1])
        if schema.get("type") == "array":
            return list[model_of(schema["items"])]
        (value,) = schema["patternProperties"].values()
        return dict[str, model_of(value)]

    def check(template, path, query=None):
        schema = doc["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        answer = c.read(path, query)
        validator = jsonschema.Draft202012Validator({**schema, "components": doc["components"]})
        errors = sorted(validator.iter_errors(answer), key=lambda e: list(e.absolute_path))
        assert not errors, f"{path}?{query or ''}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5])
        decoded = pydantic.TypeAdapter(model_of(schema)).validate_python(answer)
        assert decoded is not None, path
        return answer

    checked = 0
    for template in ["/v1/info", "/v1/authorities", "/v1/article7/report", "/v1/article7/register",
                     "/v1/checkpoints/latest"]:
        check(template, template)
        checked += 1
    cases = check("/v1/cases", "/v1/cases", "limit=1000")
    check("/v2/cases", "/v2/cases", "limit=1000")
    assert cases["cases"], "the ledger has no case"
    for case in cases["cases"]:
        check("/v1/cases/{id}", f"/v1/cases/{case['id']}")
        check("/v1/cases/{id}/timeline", f"/v1/cases/{case['id']}/timeline")
        checked += 2
    page = check("/v1/records", "/v1/records", "from=0&limit=1000")
    for record in page["records"]:
        check("/v1/records/{seq}", f"/v1/records/{record['seq']}")
        check("/v1/events/{id}", f"/v1/events/{record['event']['body']['event_id']}")
        checked += 2
    assert checked > 2 * len(PAYLOAD_NAMES)


def test_last_a_node_handover_and_every_kind_of_event_is_in_the_ledger(ledger):
    """Runs last (pytest keeps file order): after the handover this node no longer
    sequences the ledger."""
    L = ledger
    c = L.client
    size = c.info(refresh=True)["size"]
    L.add("TM-MFA", {"NodeHandoverProposed": {"id": 1, "key": public_hex(nacl.signing.SigningKey.generate()),
                                               "retire_old_from": size + 2}})
    L.add("KZ-MFA", {"NodeHandoverAccepted": {"id": 1}})

    # Every kind of event of the catalogue was appended, each with a checked receipt.
    assert L.kinds == set(PAYLOAD_NAMES)
    assert len(L.receipts) == c.info(refresh=True)["size"] - 1
    assert [r.seq for r in L.receipts] == list(range(1, len(L.receipts) + 1))
