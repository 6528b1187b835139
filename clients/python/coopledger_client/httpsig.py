"""Signed reads: RFC 9421 HTTP Message Signatures with Ed25519, exactly as the node
expects them (docs/API.md, "Who may read what")."""

from __future__ import annotations

import base64
import os
import time
from typing import Dict, Optional

import nacl.signing

COMPONENTS = '("@method" "@authority" "@path" "@query")'


def signature_params(created: int, nonce: str, keyid: str, ledger_id: str) -> str:
    return f'{COMPONENTS};created={created};nonce="{nonce}";keyid="{keyid}";alg="ed25519";tag="{ledger_id}"'


def signature_base(method: str, authority: str, path: str, query: Optional[str], params: str) -> str:
    return (f'"@method": {method.upper()}\n"@authority": {authority.lower()}\n'
            f'"@path": {path}\n"@query": ?{query or ""}\n"@signature-params": {params}')


def sign_request(key: nacl.signing.SigningKey, keyid: str, ledger_id: str, method: str,
                 authority: str, path: str, query: Optional[str] = None,
                 created: Optional[int] = None, nonce: Optional[str] = None) -> Dict[str, str]:
    """The two headers of a signed request. A nonce is single-use: sign each request
    anew."""
    params = signature_params(int(time.time()) if created is None else created,
                              nonce or os.urandom(16).hex(), keyid, ledger_id)
    sig = key.sign(signature_base(method, authority, path, query, params).encode()).signature
    return {"Signature-Input": f"sig1={params}",
            "Signature": f"sig1=:{base64.b64encode(sig).decode()}:"}
