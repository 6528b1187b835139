"""coopledger-client: build, sign and submit events to a coopledger node, and check what
it answers (docs/INTEGRATION.md). The canonical encoding is this package's own,
written from docs/FORMAT.md and checked against the golden vectors the Rust encoder
shares."""

from .client import Client, NodeError, Signer
from .encoding import PAYLOAD_NAMES, EncodeError, encode_batch, encode_body, encode_payload, signing_message
from .events import Event, body, new_id, sign
from .keys import load_pem, pem_of, public_hex, write_pem
from .proofs import Checkpoint, ProofError, Receipt, Vkey, verify_checkpoint, verify_consistency, verify_inclusion

__all__ = [
    "Client", "NodeError", "Signer", "PAYLOAD_NAMES", "EncodeError", "encode_batch",
    "encode_body", "encode_payload", "signing_message", "Event", "body", "new_id", "sign",
    "load_pem", "pem_of", "public_hex", "write_pem", "Checkpoint", "ProofError", "Receipt",
    "Vkey", "verify_checkpoint", "verify_consistency", "verify_inclusion",
]
