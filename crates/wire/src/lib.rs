//! coop-wire: coopledger's JSON forms, kept out of the pure crates. The JSON form of an
//! event ([`BodyJson`], [`EventJson`], [`Prepared`]: what a client in any language
//! signs from) and the JSON Schemas of every domain value the API, the CLI's `--json`
//! and the published schemas show ([`schema`]).
//!
//! Key decision: the domain (coop-core, coop-treaty) keeps its serde derives, because
//! they are also its canonical bincode encoding, but knows nothing of JSON Schema or
//! JSON; everything JSON-specific is here, depending on the domain and never the
//! reverse (ADR 0023). A change to a domain type that would change the API's JSON is
//! caught here, by the schema checks (see [`schema`]), not discovered by a client.

mod event;
pub mod schema;

pub use event::{BodyJson, EventJson, JsonEventError, Prepared};
