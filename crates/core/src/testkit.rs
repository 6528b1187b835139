//! Deterministic fixtures for tests and tools (feature `testkit`): keys from fixed seeds
//! and numbered events, so a crashed child process and its parent can regenerate the
//! very same signed events. Never use these keys for anything real.

use crate::event::{Author, EVENT_FORMAT_VERSION, EventBody, SignedEvent};
use crate::{AuthorityId, EventError, EventId, LedgerId, SecretKey, Timestamp};

/// The fixture author key (seed 42).
pub fn author_key() -> SecretKey {
    SecretKey::from_seed(&[42; 32])
}

/// The fixture node key (seed 7), for checkpoints.
pub fn node_key() -> SecretKey {
    SecretKey::from_seed(&[7; 32])
}

/// Event id `n` (big-endian in the first 8 bytes).
pub fn event_id(n: u64) -> EventId {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&n.to_be_bytes());
    EventId(id)
}

/// Body of fixture event `n`; `ledger` is `None` only for the genesis (n = 0).
pub fn body(ledger: Option<LedgerId>, n: u64) -> EventBody {
    EventBody {
        version: EVENT_FORMAT_VERSION,
        ledger_id: ledger,
        event_id: event_id(n),
        author: Author {
            authority: AuthorityId::new("KZ-ROOT")
                .unwrap_or_else(|_| unreachable!("valid literal")),
            key: author_key().public(),
        },
        authored_at: Timestamp(1_000 + n),
        case: None,
        answers: vec![],
        payload: n.to_le_bytes().to_vec(),
    }
}

/// The fixture genesis event and the ledger id it defines.
pub fn genesis() -> Result<(SignedEvent, LedgerId), EventError> {
    let b = body(None, 0);
    let ledger = LedgerId::from_genesis_body(&b.to_bytes()?);
    Ok((SignedEvent::sign(b, &author_key())?, ledger))
}

/// Fixture events `from .. from + count` for `ledger`.
pub fn events(ledger: LedgerId, from: u64, count: u64) -> Result<Vec<SignedEvent>, EventError> {
    let key = author_key();
    (from..from + count)
        .map(|n| SignedEvent::sign(body(Some(ledger), n), &key))
        .collect()
}
