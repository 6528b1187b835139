//! The client that agencies, witnesses and the CLI use to talk to a node: submit signed
//! events, read with signed requests, follow the live stream, and check what the node
//! says (receipts, proofs) instead of trusting it. Blocking: callers are command-line
//! tools and the follower's own thread.

use crate::auth;
use crate::wire::{
    BatchAnswerV2, CheckpointJson, ConsistencyJson, ErrorBody, InclusionJson, InfoJson, RecordJson,
    RecordsPage,
};
use coop_core::checkpoint::{Checkpoint, NoteVerifier, verify_checkpoint};
use coop_core::merkle::{Blake3Hasher, verify_consistency, verify_inclusion};
use coop_core::{AuthorityId, PublicKey, Receipt, ReceiptChecker, SecretKey, SignedEvent};
use std::io::BufRead as _;
use std::sync::Arc;
use std::time::Duration;

/// What went wrong talking to a node.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node refused the event under the Agreement (HTTP 422); nothing was written.
    /// Fix the event.
    #[error("refused: {message}")]
    Refused {
        /// The clause, e.g. `Art. 7.2`.
        clause: Option<String>,
        /// In words.
        message: String,
    },
    /// The node answered with another error status; the body says why.
    #[error("the node answered {status} ({error}): {message}")]
    Http {
        /// HTTP status.
        status: u16,
        /// The error word of the body.
        error: String,
        /// In words.
        message: String,
    },
    /// The node could not be reached or the answer could not be read. Retry later.
    #[error("cannot talk to the node: {0}")]
    Transport(String),
    /// The node's answer does not verify (receipt signature, proof). Do not trust it.
    #[error("the node's answer does not verify: {0}")]
    Unverified(String),
}

impl ClientError {
    /// Whether the same request may be sent again and could get another answer: the
    /// node was not reached or did not answer in time, or cannot append for now (503:
    /// unavailable, storage full, storage failed while the event was written). For an
    /// append, retrying is safe only with the same signed event (its id is what makes
    /// the retry land once).
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Transport(_) => true,
            ClientError::Http { status, .. } => matches!(status, 408 | 502 | 503 | 504),
            ClientError::Refused { .. } | ClientError::Unverified(_) => false,
        }
    }

    /// Whether an append that failed this way may nevertheless have landed: the answer
    /// was lost, or the node's storage failed while writing it.
    pub fn may_have_landed(&self) -> bool {
        match self {
            ClientError::Transport(_) => true,
            ClientError::Http { status, error, .. } => {
                *status == 408 || *status == 504 || error == "may_have_landed"
            }
            ClientError::Refused { .. } | ClientError::Unverified(_) => false,
        }
    }
}

fn transport(e: impl std::fmt::Display) -> ClientError {
    ClientError::Transport(e.to_string())
}

/// One event's outcome in a batch: its receipt, or why it has none.
pub type Batched = Result<Receipt, ClientError>;

/// A client of one node. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::blocking::Client,
    streaming: reqwest::blocking::Client,
    base: String,
    /// `host[:port]` of `base`, as the `Host` header names it: what reads are signed for.
    authority: String,
    signer: Option<(AuthorityId, Arc<SecretKey>)>,
    /// The node's ledger id (hex), learned from `/v1/info` at the first signed read.
    ledger: Arc<std::sync::OnceLock<String>>,
    /// `Accept-Language` for appends: the language of refusals (`ru`, `kk`, `tk`, `en`).
    language: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("signer", &self.signer.as_ref().map(|(id, _)| id))
            .finish()
    }
}

fn nonce() -> Result<String, ClientError> {
    let mut n = [0u8; 16];
    getrandom::fill(&mut n).map_err(|e| transport(format!("no randomness for a nonce: {e}")))?;
    Ok(hex::encode(n))
}

fn now_secs() -> u64 {
    crate::node::now_secs()
}

impl Client {
    /// A client of the node at `base` (`http://127.0.0.1:8080`); `signer` signs reads.
    /// `root_pem` adds a trusted certificate (a node with a self-signed TLS certificate).
    pub fn new(
        base: &str,
        signer: Option<(AuthorityId, Arc<SecretKey>)>,
        root_pem: Option<&[u8]>,
    ) -> Result<Client, ClientError> {
        crate::install_crypto_provider();
        let build = |timeout: Option<Duration>| -> Result<reqwest::blocking::Client, ClientError> {
            let mut b = reqwest::blocking::Client::builder()
                .timeout(timeout)
                .connect_timeout(Duration::from_secs(10))
                .no_proxy();
            if let Some(pem) = root_pem {
                b = b.add_root_certificate(reqwest::Certificate::from_pem(pem).map_err(transport)?);
            }
            b.build().map_err(transport)
        };
        let url = reqwest::Url::parse(base)
            .map_err(|e| transport(format!("{base:?} is not a URL: {e}")))?;
        let host = url
            .host_str()
            .ok_or_else(|| transport(format!("{base:?} names no host")))?;
        // The Host header carries the port only when it is not the scheme's default.
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        }
        .to_ascii_lowercase();
        Ok(Client {
            http: build(Some(Duration::from_secs(60)))?,
            streaming: build(None)?,
            base: base.trim_end_matches('/').to_owned(),
            authority,
            signer,
            ledger: Arc::new(std::sync::OnceLock::new()),
            language: None,
        })
    }

    /// The `Signature-Input` and `Signature` headers of a request to this node, signed now
    /// with a fresh nonce by this client's signer (for curl: `coopledger sign-request`).
    pub fn sign_headers(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
    ) -> Result<(String, String), ClientError> {
        let (id, key) = self
            .signer
            .as_ref()
            .ok_or_else(|| ClientError::Transport("this client has no key to sign with".into()))?;
        let ledger = self.ledger_tag()?;
        Ok(auth::sign_request(
            &auth::Request {
                method,
                authority: &self.authority,
                path,
                query,
            },
            &auth::Signer {
                keyid: id,
                key,
                ledger: &ledger,
            },
            now_secs(),
            &nonce()?,
        ))
    }

    /// The ledger id (hex) reads are signed for: asked of the node once.
    fn ledger_tag(&self) -> Result<String, ClientError> {
        if let Some(l) = self.ledger.get() {
            return Ok(l.clone());
        }
        let id = self
            .info()?
            .ledger_id
            .map(|h| h.to_hex())
            .ok_or_else(|| ClientError::Transport("the node has no ledger yet".into()))?;
        Ok(self.ledger.get_or_init(|| id).clone())
    }

    fn get(
        &self,
        client: &reqwest::blocking::Client,
        path: &str,
        query: Option<&str>,
    ) -> Result<reqwest::blocking::Response, ClientError> {
        let url = match query {
            Some(q) => format!("{}{path}?{q}", self.base),
            None => format!("{}{path}", self.base),
        };
        let mut req = client.get(url);
        if self.signer.is_some() {
            let (input, sig) = self.sign_headers("GET", path, query)?;
            req = req
                .header(auth::SIGNATURE_INPUT, input)
                .header(auth::SIGNATURE, sig);
        }
        let resp = req.send().map_err(transport)?;
        check(resp)
    }

    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: Option<&str>,
    ) -> Result<T, ClientError> {
        self.get(&self.http, path, query)?.json().map_err(transport)
    }

    /// The node's address.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Any signed GET, as JSON (cases, register, report, authorities...).
    pub fn read(&self, path: &str, query: Option<&str>) -> Result<serde_json::Value, ClientError> {
        self.get_json(path, query)
    }

    /// Any signed GET, as bytes (an evidence bundle).
    pub fn read_bytes(&self, path: &str, query: Option<&str>) -> Result<Vec<u8>, ClientError> {
        Ok(self
            .get(&self.http, path, query)?
            .bytes()
            .map_err(transport)?
            .to_vec())
    }

    /// Who the node is (unsigned).
    pub fn info(&self) -> Result<InfoJson, ClientError> {
        let resp = self
            .http
            .get(format!("{}/v1/info", self.base))
            .send()
            .map_err(transport)?;
        check(resp)?.json().map_err(transport)
    }

    /// Asks for refusals in `code` (`ru`, `kk`, `tk` or `en`: `Accept-Language`).
    pub fn with_language(mut self, code: &str) -> Client {
        self.language = Some(code.to_owned());
        self
    }

    /// The `Accept-Language` header, if a language was asked for.
    fn language(&self, r: reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder {
        match &self.language {
            Some(l) => r.header(reqwest::header::ACCEPT_LANGUAGE, l.as_str()),
            None => r,
        }
    }

    /// Every problem the node's rules find with `body` as the next record, writing
    /// nothing (`POST /v1/events/check`), in the language asked for.
    pub fn check(
        &self,
        body: &coop_core::EventBody,
    ) -> Result<crate::wire::CheckJson, ClientError> {
        let json = coop_wire::BodyJson::of(body)
            .map_err(|e| transport(format!("cannot write the body as JSON: {e}")))?;
        let resp = self
            .language(self.http.post(format!("{}/v1/events/check", self.base)))
            .json(&json)
            .send()
            .map_err(transport)?;
        check(resp)?.json().map_err(transport)
    }

    /// Appends a signed event; the node answers only once it is durable.
    pub fn submit(&self, event: &SignedEvent) -> Result<Receipt, ClientError> {
        let bytes = event
            .to_bytes()
            .map_err(|e| transport(format!("cannot encode the event: {e}")))?;
        let resp = self
            .language(self.http.post(format!("{}/v2/events", self.base)))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes)
            .send()
            .map_err(transport)?;
        check(resp)?.json().map_err(transport)
    }

    /// [`Client::submit`], then checks the receipt: signed by `node`, for this event.
    pub fn submit_checked(
        &self,
        event: &SignedEvent,
        node: &PublicKey,
    ) -> Result<Receipt, ClientError> {
        let r = self.submit(event)?;
        check_receipt(&r, event, node)?;
        Ok(r)
    }

    /// [`Client::submit_checked`], retried with the *same* signed event while the answer
    /// is unknown or the node cannot append for now (no connection, a timeout, 408, 503)
    /// until `patience` has passed. Safe because the event id is fixed in the signed
    /// event: if an earlier try landed, the retry returns its receipt and appends
    /// nothing. `each_retry` is told why each retry happens. Any other answer (a
    /// receipt, a refusal, a conflict) ends the loop.
    pub fn submit_until_answered(
        &self,
        event: &SignedEvent,
        node: &PublicKey,
        patience: Duration,
        mut each_retry: impl FnMut(&ClientError),
    ) -> Result<Receipt, ClientError> {
        let start = std::time::Instant::now();
        let mut pause = Duration::from_millis(100);
        loop {
            match self.submit_checked(event, node) {
                Err(e) if e.is_retryable() && start.elapsed() + pause <= patience => {
                    each_retry(&e);
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                other => return other,
            }
        }
    }

    /// Appends many signed events in one request (`POST /v2/events:batch`, canonical
    /// bytes): the node judges them in order as if each were submitted alone and answers
    /// each one, once every event that landed is durable. The outer `Err` means the batch
    /// got no answer (retry the same batch: events that landed return their first
    /// receipts); each inner result is one event's receipt or why it has none.
    pub fn submit_batch(&self, events: &[SignedEvent]) -> Result<Vec<Batched>, ClientError> {
        let bytes = coop_core::encoding::encode(events)
            .map_err(|e| transport(format!("cannot encode the batch: {e}")))?;
        let resp = self
            .language(self.http.post(format!("{}/v2/events:batch", self.base)))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes)
            .send()
            .map_err(transport)?;
        let answer: BatchAnswerV2 = check(resp)?.json().map_err(transport)?;
        if answer.results.len() != events.len() {
            return Err(ClientError::Unverified(format!(
                "{} answers to a batch of {} events",
                answer.results.len(),
                events.len()
            )));
        }
        Ok(answer
            .results
            .into_iter()
            .map(|item| match (item.receipt, item.error) {
                (Some(r), None) if item.status == 200 => Ok(r),
                (_, Some(e)) => Err(error_of(item.status, e)),
                _ => Err(ClientError::Unverified(format!(
                    "an answer with status {} and neither a receipt nor an error",
                    item.status
                ))),
            })
            .collect())
    }

    /// [`Client::submit_batch`], then checks every receipt: its checkpoint signed by
    /// `node` (each distinct checkpoint once), the record proven in it, for its event. A
    /// receipt that does not verify becomes that event's error.
    pub fn submit_batch_checked(
        &self,
        events: &[SignedEvent],
        node: &PublicKey,
    ) -> Result<Vec<Batched>, ClientError> {
        let mut checker = ReceiptChecker::new(*node);
        Ok(self
            .submit_batch(events)?
            .into_iter()
            .zip(events)
            .map(|(a, ev)| a.and_then(|r| check_receipt_with(&r, ev, &mut checker).map(|()| r)))
            .collect())
    }

    /// A page of records from `from`.
    pub fn records(&self, from: u64, limit: u64) -> Result<RecordsPage, ClientError> {
        self.get_json("/v1/records", Some(&format!("from={from}&limit={limit}")))
    }

    /// The latest checkpoint, if any.
    pub fn latest_checkpoint(&self) -> Result<Option<CheckpointJson>, ClientError> {
        match self.get_json("/v1/checkpoints/latest", None) {
            Ok(c) => Ok(Some(c)),
            Err(ClientError::Http { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The checkpoint at `size`.
    pub fn checkpoint(&self, size: u64) -> Result<CheckpointJson, ClientError> {
        self.get_json(&format!("/v1/checkpoints/{size}"), None)
    }

    /// Posts a witness's cosigned checkpoint note.
    pub fn post_cosignature(&self, size: u64, note: &str) -> Result<CheckpointJson, ClientError> {
        let resp = self
            .http
            .post(format!("{}/v1/checkpoints/{size}/cosignatures", self.base))
            .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(note.to_owned())
            .send()
            .map_err(transport)?;
        check(resp)?.json().map_err(transport)
    }

    /// An inclusion proof of record `seq` in the tree of `size` records.
    pub fn inclusion(&self, seq: u64, size: u64) -> Result<InclusionJson, ClientError> {
        self.get_json(
            "/v1/proofs/inclusion",
            Some(&format!("seq={seq}&size={size}")),
        )
    }

    /// A consistency proof between two sizes.
    pub fn consistency(&self, from: u64, to: u64) -> Result<ConsistencyJson, ClientError> {
        self.get_json(
            "/v1/proofs/consistency",
            Some(&format!("from={from}&to={to}")),
        )
    }

    /// Proves that `receipt`'s record is in the ledger the node's latest checkpoint
    /// states: the checkpoint verifies with `node`, and the inclusion proof against its
    /// root. Returns the checkpoint.
    pub fn prove_included(
        &self,
        receipt: &Receipt,
        node: &NoteVerifier,
    ) -> Result<Checkpoint, ClientError> {
        let cp = self
            .latest_checkpoint()?
            .ok_or_else(|| ClientError::Unverified("the node has no checkpoint yet".into()))?;
        let cp = verify_checkpoint(&cp.note, node, &[])
            .map_err(|e| ClientError::Unverified(format!("checkpoint: {e}")))?
            .checkpoint;
        if receipt.seq >= cp.size {
            return Err(ClientError::Unverified(format!(
                "the latest checkpoint ({}) does not cover record {} yet",
                cp.size, receipt.seq
            )));
        }
        let p = self.inclusion(receipt.seq, cp.size)?;
        if p.leaf != receipt.leaf {
            return Err(ClientError::Unverified(
                "the proof is for another leaf".into(),
            ));
        }
        verify_inclusion::<Blake3Hasher>(receipt.seq, cp.size, &receipt.leaf, &p.proof, &cp.root)
            .map_err(|e| ClientError::Unverified(format!("inclusion proof: {e}")))?;
        Ok(cp)
    }

    /// Proves that the ledger the node shows now extends the one `receipt` was proven
    /// in: the receipt verifies (its checkpoint signed by `node`, its record in it), the
    /// node's latest checkpoint verifies, and a consistency proof leads from the
    /// receipt's tree to the latest (or, for the moment the latest stored is older, from
    /// the latest to the receipt's). Returns the latest checkpoint. A failure is evidence:
    /// two checkpoints the node signed that do not extend one another.
    pub fn prove_receipt_kept(
        &self,
        receipt: &Receipt,
        node: &PublicKey,
    ) -> Result<Checkpoint, ClientError> {
        let old = receipt
            .verify(node)
            .map_err(|e| ClientError::Unverified(format!("receipt: {e}")))?;
        let latest = self
            .latest_checkpoint()?
            .ok_or_else(|| ClientError::Unverified("the node has no checkpoint".into()))?;
        let verifier = coop_core::checkpoint::node_verifier(&receipt.ledger_id, *node);
        let new = verify_checkpoint(&latest.note, &verifier, &[])
            .map_err(|e| ClientError::Unverified(format!("checkpoint: {e}")))?
            .checkpoint;
        // The node stores a checkpoint on its own schedule; one signed for a group commit
        // may be newer than the latest stored for a moment. Either way the smaller tree
        // must extend into the larger.
        if new.size < old.size {
            self.prove_consistent(&new, &old)?;
        } else {
            self.prove_consistent(&old, &new)?;
        }
        Ok(new)
    }

    /// Checks that the tree of `old` extends into that of `new` (both verified checkpoints).
    pub fn prove_consistent(&self, old: &Checkpoint, new: &Checkpoint) -> Result<(), ClientError> {
        if old.size == 0 || old.size == new.size {
            return if old.size == new.size && old.root != new.root {
                Err(ClientError::Unverified(
                    "two checkpoints of one size with different roots".into(),
                ))
            } else {
                Ok(())
            };
        }
        let p = self.consistency(old.size, new.size)?;
        verify_consistency::<Blake3Hasher>(old.size, new.size, &old.root, &new.root, &p.proof)
            .map_err(|e| ClientError::Unverified(format!("consistency proof: {e}")))
    }

    /// Follows the live stream from `from`: every record, then each new one as it lands.
    /// The iterator ends when the node closes the stream.
    pub fn stream(&self, from: u64) -> Result<Stream, ClientError> {
        let resp = self.get(&self.streaming, "/v1/stream", Some(&format!("from={from}")))?;
        Ok(Stream {
            lines: std::io::BufReader::new(resp),
        })
    }
}

/// The headers that sign a `method` request of the full `url` with `signer` (what
/// `coopledger sign-request` prints for curl).
pub fn sign_url(
    url: &str,
    method: &str,
    signer: (AuthorityId, Arc<SecretKey>),
    root_pem: Option<&[u8]>,
) -> Result<(String, String), ClientError> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| transport(format!("{url:?} is not a URL: {e}")))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| transport(format!("{url:?} names no host")))?;
    let base = match parsed.port() {
        Some(p) => format!("{}://{host}:{p}", parsed.scheme()),
        None => format!("{}://{host}", parsed.scheme()),
    };
    let client = Client::new(&base, Some(signer), root_pem)?;
    client.sign_headers(method, parsed.path(), parsed.query())
}

/// Checks a receipt against the event it is for: the checkpoint it carries is signed by
/// `node`, the record rebuilt from the event is proven in it (FORMAT.md §12).
pub fn check_receipt(
    r: &Receipt,
    event: &SignedEvent,
    node: &PublicKey,
) -> Result<(), ClientError> {
    check_receipt_with(r, event, &mut ReceiptChecker::new(*node))
}

/// [`check_receipt`] for many receipts of one node: each distinct checkpoint is verified
/// once.
pub fn check_receipt_with(
    r: &Receipt,
    event: &SignedEvent,
    checker: &mut ReceiptChecker,
) -> Result<(), ClientError> {
    checker
        .check(r, Some(event))
        .map(|_| ())
        .map_err(|e| ClientError::Unverified(format!("receipt: {e}")))
}

/// Turns an error status into a [`ClientError`] with the node's explanation.
fn check(resp: reqwest::blocking::Response) -> Result<reqwest::blocking::Response, ClientError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let text = resp.text().unwrap_or_default();
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(b) => error_of(status.as_u16(), b),
        Err(_) => ClientError::Http {
            status: status.as_u16(),
            error: "unknown".into(),
            message: text,
        },
    })
}

/// The error a status and the node's error body stand for.
fn error_of(status: u16, b: ErrorBody) -> ClientError {
    if status == 422 {
        ClientError::Refused {
            clause: b.clause,
            message: b.message,
        }
    } else {
        ClientError::Http {
            status,
            error: b.error,
            message: b.message,
        }
    }
}

/// The records of a live stream (server-sent events).
pub struct Stream {
    lines: std::io::BufReader<reqwest::blocking::Response>,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").finish_non_exhaustive()
    }
}

impl Iterator for Stream {
    type Item = Result<RecordJson, ClientError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut data = String::new();
        loop {
            let mut line = String::new();
            match self.lines.read_line(&mut line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(transport(e))),
            }
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if data.is_empty() {
                    continue; // a keep-alive or an event without data
                }
                return Some(serde_json::from_str(&data).map_err(transport));
            }
            if let Some(d) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(d.strip_prefix(' ').unwrap_or(d));
            }
            // "id:", "event:" and ":" comment lines carry nothing the JSON does not.
        }
    }
}
