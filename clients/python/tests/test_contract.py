"""Contract tests: Schemathesis against a real node, from docs/openapi.json alone.

Every operation of docs/openapi.json is called with requests generated from its schema —
valid ones and, for each, ones that break it — against a node serving the demo ledger
(every kind of event), each signed read signed the documented way (RFC 9421, as
docs/API.md says) by the auditor. The checks: no 5xx (`not_a_server_error`), every status
and content type documented (`status_code_conformance`, `content_type_conformance`),
every answer matching its schema (`response_schema_conformance`), anything that breaks
the schema refused (`negative_data_rejection`), and anything that keeps it accepted
(`positive_data_acceptance`), with one exception said below. Bounded: a fixed number of
examples per operation, derandomized from a seed (COOP_CONTRACT_SEED), so a run is
repeatable and takes a known time.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               positive_data_acceptance,
                                               response_schema_conformance,
                                               status_code_conformance)

from conftest import REPO
from coopledger_client import load_pem
from coopledger_client.httpsig import sign_request

EXAMPLES = int(os.environ.get("COOP_CONTRACT_EXAMPLES", "25"))
SEED = int(os.environ.get("COOP_CONTRACT_SEED", "20241010"))

schema = schemathesis.openapi.from_path(str(REPO / "docs/openapi.json"))

# The stream never ends (its answer is read as it comes, not as a document).
schema = schema.exclude(path="/v1/stream")


def binary() -> Path:
    return Path(os.environ.get("COOPLEDGER_BIN", REPO / "target/debug/coopledger"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    def __init__(self, url: str, ledger_id: str, key_dir: Path):
        self.url = url
        self.authority = urllib.parse.urlsplit(url).netloc.lower()
        self.ledger_id = ledger_id
        self.auditor = load_pem(key_dir / "KZ-AUDIT.pem")


@pytest.fixture(scope="module")
def node():
    tmp = Path(tempfile.mkdtemp(prefix="coop-contract-"))
    data = tmp / "ledger"
    subprocess.run([str(binary()), "demo", "--quiet", "--data", str(data)], check=True,
                   capture_output=True)
    url = f"http://127.0.0.1:{free_port()}"
    log = open(tmp / "node.log", "w")
    proc = subprocess.Popen([str(binary()), "serve", "--data", str(data), "--listen",
                             url.removeprefix("http://")], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while True:
            try:
                info = urllib.request.urlopen(f"{url}/v1/info", timeout=1).read()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError((tmp / "node.log").read_text())
                time.sleep(0.1)
        import json
        yield Node(url, json.loads(info)["ledger_id"], data / "keys")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


class SignedRead(requests.auth.AuthBase):
    """Signs the request exactly as it goes out: its method, the node's authority, and
    the path and query of the final URL (after Schemathesis and requests encoded them).

    Schemathesis fills the two security headers the document declares with placeholders,
    or leaves one out to test that the node refuses the request without it. A request
    with both gets a real signature in their place; one without stays unsigned."""

    def __init__(self, node: Node):
        self.node = node

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if "Signature" not in r.headers or "Signature-Input" not in r.headers:
            return r
        u = urllib.parse.urlsplit(r.url)
        r.headers.update(sign_request(self.node.auditor, "KZ-AUDIT", self.node.ledger_id,
                                      r.method, self.node.authority, u.path, u.query or None))
        return r


def signed_read_was_accepted(ctx, response, case):
    """A signed operation must never answer 401 to our signature: a 401 would mean the
    signing (or the document's description of it) is wrong, and would make every other
    check of that operation pass without testing anything."""
    sent = response.request.headers
    if "Signature" in sent and "Signature-Input" in sent and response.status_code == 401:
        raise AssertionError(f"the node refused the documented signature: {response.text[:300]}")


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]

# Appends and cosignatures are authenticated by a signature inside the body (an event's
# author, a witness's cosignature), and a draft to prepare or check must name this
# ledger and a registered author's real key: a body a schema can describe is none of
# those, so "valid data is accepted" cannot hold there. Everything else must accept it.
SELF_SIGNED = {"/v1/events", "/v2/events", "/v1/events:batch", "/v2/events:batch",
               "/v1/events/prepare", "/v1/events/check",
               "/v1/checkpoints/{size}/cosignatures"}


@schema.parametrize()
@hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(hypothesis.HealthCheck))
@hypothesis.seed(SEED)
def test_every_operation_keeps_its_documented_contract(case, node):
    # `as_of` and `as_of_time` together are refused (docs/API.md: one point, not two); a
    # schema of separate parameters cannot say "not both", so a valid case keeps one.
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if positive and case.query and "as_of" in case.query and "as_of_time" in case.query:
        del case.query["as_of_time"]
    checks = list(CHECKS)
    if case.operation.path not in SELF_SIGNED:
        checks.append(positive_data_acceptance)
    auth = SignedRead(node) if case.operation.definition.raw.get("security") else None
    case.call_and_validate(base_url=node.url, checks=checks,
                           additional_checks=[signed_read_was_accepted], auth=auth,
                           timeout=30)
