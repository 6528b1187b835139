//! coop-node: coopledger over the network. The HTTP API (axum on tokio) through which
//! agencies append and every registered party reads; the client the CLI and agencies
//! use; and the follower, by which each Party keeps its own verified copy and witnesses
//! the leader's checkpoints.
//!
//! The key design decision: the network adds no trust. An append is authenticated by the
//! event's own signature and judged by the same engine as an embedded ledger; a read is
//! authenticated by a signature of the registered key of whoever asks (after RFC 9421),
//! and limited by its role; and a follower re-verifies every record and checkpoint with
//! `coop-verify`, exactly as an auditor's offline verifier does, before it appends or
//! cosigns anything. With coop-console (the HTML console it serves beside the API), this
//! is where HTTP lives; the JSON wire types are here.

pub mod auth;
pub mod client;
mod console;
mod metrics;
mod node;
pub mod openapi;
mod server;
pub mod sync;
pub mod wire;

pub use client::{Batched, Client, ClientError};
pub use node::{Need, Node, NodeConfig, Reader};
pub use server::{ACCESS_LOG, ApiError, Tls, router, run, run_tls};
pub use sync::{FollowStatus, SyncView};

/// Installs rustls's ring provider as the process default (once; later calls are no-ops).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
