//! An event to sign: the one builder of event bodies, shared by the CLI (event files, the
//! genesis, a handover), the demo and the test kit, so that every signed event is made
//! the same way (FORMAT.md §4, §5).

use crate::payload::Payload;
use coop_core::event::{Author, CaseRef, EVENT_FORMAT_VERSION, EventBody, EventError};
use coop_core::{AuthorityId, EventId, Hash, LedgerId, SecretKey, SignedEvent, Timestamp};

/// What an author states in an event; [`Draft::sign`] makes the signed event.
#[derive(Clone, Debug)]
pub struct Draft<'p> {
    /// The author's registered id.
    pub signer: AuthorityId,
    /// The ledger (`None` only for a genesis).
    pub ledger: Option<LedgerId>,
    /// The event id (the idempotency key).
    pub event_id: EventId,
    /// The author's clock.
    pub at: Timestamp,
    /// The case and the version the author saw.
    pub case: Option<CaseRef>,
    /// Event hashes of the case's events this one answers.
    pub answers: Vec<Hash>,
    /// The treaty event.
    pub payload: &'p Payload,
}

impl Draft<'_> {
    /// A draft with no case and no answers.
    pub fn new(
        signer: AuthorityId,
        ledger: Option<LedgerId>,
        event_id: EventId,
        at: Timestamp,
        payload: &Payload,
    ) -> Draft<'_> {
        Draft {
            signer,
            ledger,
            event_id,
            at,
            case: None,
            answers: Vec::new(),
            payload,
        }
    }

    /// Signs it with `key` (whose public key the body names as the author's).
    pub fn sign(self, key: &SecretKey) -> Result<SignedEvent, EventError> {
        let body = EventBody {
            version: EVENT_FORMAT_VERSION,
            ledger_id: self.ledger,
            event_id: self.event_id,
            author: Author {
                authority: self.signer,
                key: key.public(),
            },
            authored_at: self.at,
            case: self.case,
            answers: self.answers,
            payload: self.payload.to_bytes()?,
        };
        SignedEvent::sign(body, key)
    }
}
