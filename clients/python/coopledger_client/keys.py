"""Ed25519 private keys as `coopledger keygen` writes them: unencrypted PKCS#8 PEM
(RFC 8410). Encrypted keys need a PKCS#8 library; decrypt them first."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Union

import nacl.signing

# DER of an Ed25519 PrivateKeyInfo up to the 32-byte seed (RFC 8410 §7).
_PREFIX_V1 = bytes.fromhex("302e020100300506032b657004220420")


class KeyError_(ValueError):
    """The file is not an unencrypted Ed25519 PKCS#8 key."""


def load_pem(path: Union[str, Path]) -> nacl.signing.SigningKey:
    text = Path(path).read_text()
    if "ENCRYPTED" in text:
        raise KeyError_(f"{path} is encrypted: decrypt it first (openssl pkcs8)")
    body = "".join(l for l in text.splitlines() if l and not l.startswith("-----"))
    der = base64.b64decode(body)
    # v1, or v2 with the public key appended (RFC 5958): the seed is the OCTET STRING
    # inside the privateKey OCTET STRING, after the Ed25519 OID 1.3.101.112.
    oid = der.find(bytes.fromhex("06032b6570"))
    i = der.find(bytes.fromhex("04220420"))
    if oid < 0 or i < oid:
        raise KeyError_(f"{path} is not an Ed25519 PKCS#8 key")
    seed = der[i + 4:i + 36]
    if len(seed) != 32:
        raise KeyError_(f"{path}: truncated key")
    return nacl.signing.SigningKey(seed)


def pem_of(key: nacl.signing.SigningKey) -> str:
    der = _PREFIX_V1 + bytes(key)
    b64 = base64.b64encode(der).decode()
    return f"-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n"


def write_pem(key: nacl.signing.SigningKey, path: Union[str, Path]) -> None:
    """Writes the key owner-only; never overwrites."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(pem_of(key))


def public_hex(key: nacl.signing.SigningKey) -> str:
    return bytes(key.verify_key).hex()
