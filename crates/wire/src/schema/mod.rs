//! The JSON Schemas of the domain's values, defined here so that the pure crates need
//! no schema library (ARCHITECTURE.md invariant 2).
//!
//! Each type below mirrors one domain type field for field, with the same name, doc
//! comments and serde attributes, and exists only to derive its schema: values are
//! never built from them. A wire view that shows a domain value names the mirror with
//! `#[schemars(with = "coop_wire::schema::Case")]`. Three checks keep mirror and domain
//! type one: the committed docs/openapi.json (generated from these schemas, compared
//! byte for byte by `coop-node`'s tests), this crate's tests (the JSON of every value
//! of the fixture ledger validates against its schema), and Schemathesis against a
//! running node (the API's answers against the document).

// Mirrors are never built: they have no values to debug or read.
#![allow(dead_code, missing_debug_implementations)]

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use std::borrow::Cow;

mod core;
mod treaty_model;
mod treaty_payload;
mod treaty_report;
mod treaty_state;

pub use self::core::*;
pub use self::treaty_model::*;
pub use self::treaty_payload::*;
pub use self::treaty_report::*;
pub use self::treaty_state::*;

/// The JSON Schema of `n` bytes written as lower-case hex (what coop-core's
/// human-readable serde writes and reads, docs/FORMAT.md §19).
pub fn hex_schema(n: usize) -> Schema {
    json_schema!({
        "type": "string",
        "pattern": format!("^[0-9a-f]{{{}}}$", 2 * n),
        "description": format!("{n} bytes, lower-case hex ({} digits)", 2 * n),
    })
}

/// A fixed-size byte value written as hex: its schema name and length.
macro_rules! hex_value {
    ($(#[$doc:meta])* $name:ident, $n:literal) => {
        $(#[$doc])*
        #[derive(serde::Serialize)]
        pub struct $name;
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                hex_schema($n)
            }
        }
    };
}

hex_value!(
    /// `coop_core::Hash`: a blake3 digest.
    Hash,
    32
);
hex_value!(
    /// `coop_core::PublicKey`: an Ed25519 public key.
    PublicKey,
    32
);
hex_value!(
    /// `coop_core::Signature`: an Ed25519 signature.
    Signature,
    64
);
hex_value!(
    /// `coop_core::EventId`: an event's idempotency key.
    EventId,
    16
);
hex_value!(
    /// `coop_core::CaseId`: a case's id.
    CaseId,
    16
);
hex_value!(
    /// `coop_treaty::ItemId`: an item of information's id.
    ItemId,
    16
);

/// `coop_core::AuthorityId`: a registered party's id.
#[derive(serde::Serialize)]
pub struct AuthorityId;

impl JsonSchema for AuthorityId {
    fn schema_name() -> Cow<'static, str> {
        "AuthorityId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[A-Za-z0-9._-]{1,64}$",
            "description": "A registered party's id: 1 to 64 characters from A-Z a-z 0-9 . _ -",
        })
    }
}
