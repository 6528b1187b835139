//! The running node: the ledger, who may read what, the head notifier for streams, and
//! the HTTP counters.

use crate::auth::{self, AuthError, ReplayCache};
use crate::metrics::HttpMetrics;
use coop_core::{AuthorityId, CaseId};
use coop_ledger::Ledger;
use coop_store::SledStore;
use coop_treaty::{Party, Role};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// Settings of the HTTP side.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Signed requests are accepted within this many seconds of the node's clock.
    pub skew_secs: u64,
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// Largest `POST /v1/events:batch` body.
    pub batch_body_limit: usize,
    /// Longest time a request (other than a stream) may take.
    pub timeout: Duration,
    /// Longest time a client may take to send a request's headers, counted from the
    /// moment the connection opens or its previous answer ends: slow-header (slowloris)
    /// and idle keep-alive connections are closed after it.
    pub header_timeout: Duration,
    /// Most records in one page.
    pub page_limit: u64,
    /// The names (`host:port`, lower case) clients reach this node by. A signed read
    /// names the authority it was signed for; one signed for any other name was meant for
    /// another node and is refused. Empty: every signed read is refused (fail closed), so
    /// `serve` fills it from the address it listens on (or `--authority`).
    pub authorities: Vec<String>,
    /// Served over TLS: every answer carries HSTS and the console's session cookie is
    /// `Secure`.
    pub tls: bool,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            skew_secs: 300,
            body_limit: 256 * 1024,
            batch_body_limit: coop_core::encoding::MAX_ENCODED_LEN,
            timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            page_limit: 1000,
            authorities: Vec::new(),
            tls: false,
        }
    }
}

impl NodeConfig {
    /// The names clients may use for a node listening on `addr`: the address itself,
    /// and `localhost:<port>` for a loopback address. An unspecified address (0.0.0.0)
    /// gives none: name the node with `--authority`.
    pub fn authorities_for(addr: std::net::SocketAddr) -> Vec<String> {
        let mut out = Vec::new();
        if addr.ip().is_unspecified() {
            return out;
        }
        out.push(addr.to_string().to_ascii_lowercase());
        if addr.ip().is_loopback() {
            out.push(format!("localhost:{}", addr.port()));
        }
        out
    }
}

/// A reader whose signed request verified.
#[derive(Clone, Debug)]
pub struct Reader {
    /// Its registered id.
    pub id: AuthorityId,
    /// Its Party.
    pub party: Party,
    /// Its role.
    pub role: Role,
    /// The key it signed with (its current key when it asked).
    pub key: coop_core::PublicKey,
}

impl Reader {
    /// The cases this reader may see (`None`: every case).
    pub fn viewer(&self) -> Option<&AuthorityId> {
        coop_ledger::read::viewer_of(self.role, &self.id)
    }
}

/// What a request asks to read.
#[derive(Clone, Copy, Debug)]
pub enum Need {
    /// Records, the stream, checkpoints, proofs, the registry: any registered party.
    Ledger,
    /// One case (its state, timeline or bundle): roots and auditors; a competent
    /// authority for its own cases. Witnesses are refused.
    Case(CaseId),
    /// The list of cases: as for one case, filtered for a competent authority.
    Cases,
    /// The Article 7 register and report: roots and auditors.
    Register,
}

/// The node.
pub struct Node {
    pub(crate) ledger: Ledger<SledStore>,
    pub(crate) config: NodeConfig,
    pub(crate) head: watch::Sender<u64>,
    /// Set when the server shuts down, to end open streams.
    pub(crate) closing: watch::Sender<bool>,
    pub(crate) http: HttpMetrics,
    /// The console's logins and sessions: the node's, so that every router over it
    /// (and every connection) shares them.
    pub(crate) console_access: Arc<coop_console::Access>,
    replay: Mutex<ReplayCache>,
    /// `Some(url)` on a follower: appends go to the leader.
    pub(crate) leader: Option<String>,
    /// On a follower: what it knows of its leader (for `/healthz` and `/metrics`).
    pub(crate) follow: Option<Arc<crate::sync::FollowStatus>>,
    /// When this node started (seconds): signed requests made before are refused, since
    /// the nonces seen before a restart are forgotten. Serving moves it to the first
    /// whole second after the listener opens ([`Node::fence_signed_reads`]).
    started: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("leader", &self.leader)
            .finish_non_exhaustive()
    }
}

/// Seconds since the epoch.
pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Node {
    /// A leader node over `ledger`.
    pub fn new(ledger: Ledger<SledStore>, config: NodeConfig) -> Arc<Node> {
        Node::build(ledger, config, None)
    }

    /// A follower's node: it serves reads; appends go to `leader`; `status` (kept up by
    /// the follower, coop-follower) is what its `/healthz` and `/metrics` report.
    pub fn follower(
        ledger: Ledger<SledStore>,
        config: NodeConfig,
        leader: String,
        status: Arc<crate::sync::FollowStatus>,
    ) -> Arc<Node> {
        Node::build(ledger, config, Some((leader, status)))
    }

    /// The names this node answers signed reads for (`host:port`, lower case).
    pub fn answers_to(&self) -> &[String] {
        &self.config.authorities
    }

    /// What a follower knows of its leader (`None` on a leader).
    pub fn follow_status(&self) -> Option<&Arc<crate::sync::FollowStatus>> {
        self.follow.as_ref()
    }

    fn build(
        ledger: Ledger<SledStore>,
        config: NodeConfig,
        follow: Option<(String, Arc<crate::sync::FollowStatus>)>,
    ) -> Arc<Node> {
        let (leader, follow) = follow.unzip();
        let size = ledger.head().map_or(0, |h| h.size);
        let (head, _) = watch::channel(size);
        let (closing, _) = watch::channel(false);
        Arc::new(Node {
            console_access: Arc::new(coop_console::Access::new(config.authorities.clone())),
            ledger,
            config,
            head,
            closing,
            http: HttpMetrics::default(),
            replay: Mutex::new(ReplayCache::default()),
            leader,
            follow,
            started: std::sync::atomic::AtomicU64::new(now_secs()),
        })
    }

    /// Waits for the next whole second and refuses every signed request made before it.
    /// `created` counts whole seconds, so a request signed in the second this node
    /// started — perhaps before it, and already used at the node this one replaced, whose
    /// nonces are forgotten — cannot be told from one signed after: none is accepted.
    /// The servers ([`crate::server::run`], [`crate::server::run_tls`]) call it before
    /// they answer anything, so the wait (under a second) is at start-up, and a client
    /// that waited for the node to answer signs in a second it accepts.
    pub async fn fence_signed_reads(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let next = now.as_secs() + 1;
        tokio::time::sleep(std::time::Duration::from_secs(next) - now).await;
        self.started
            .fetch_max(next, std::sync::atomic::Ordering::SeqCst);
    }

    /// The ledger.
    pub fn ledger(&self) -> &Ledger<SledStore> {
        &self.ledger
    }

    /// Tells streams that the ledger grew.
    pub fn notify_head(&self) {
        if let Ok(h) = self.ledger.head() {
            self.head.send_if_modified(|s| {
                let grew = h.size > *s;
                *s = (*s).max(h.size);
                grew
            });
        }
    }

    /// Whether the reader's key is still its current key (a revoked, changed or retired
    /// key stops reading at once, open streams included).
    pub fn still_current(&self, reader: &Reader) -> bool {
        self.ledger
            .with_state(|s| {
                s.authority(&reader.id)
                    .and_then(|r| r.current_key().copied())
                    == Some(reader.key)
            })
            .unwrap_or(false)
    }

    /// Authenticates a signed read and checks its right to `need`.
    pub fn authorize(
        &self,
        req: &auth::Request<'_>,
        input: Option<&str>,
        signature: Option<&str>,
        need: Need,
    ) -> Result<Reader, AuthError> {
        let (Some(input), Some(signature)) = (input, signature) else {
            return Err(AuthError::Unauthenticated(
                "this read needs a request signed by a registered key (Signature-Input and Signature headers)".into(),
            ));
        };
        let (params, sig) = auth::parse(input, signature)?;
        let ledger = self
            .ledger
            .ledger_id()
            .map(|l| l.to_string())
            .unwrap_or_default();
        if params.tag != ledger {
            return Err(AuthError::Unauthenticated(format!(
                "the request was signed for ledger {}, not for this node's ledger {ledger}",
                params.tag
            )));
        }
        let authority = req.authority.to_ascii_lowercase();
        if !self.config.authorities.contains(&authority) {
            return Err(AuthError::Unauthenticated(format!(
                "the request was signed for {authority:?}, which is not this node (it answers to {})",
                if self.config.authorities.is_empty() {
                    "no name: configure --authority".to_owned()
                } else {
                    self.config.authorities.join(", ")
                }
            )));
        }
        if params.created < self.started.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(AuthError::Unauthenticated(
                "the request was signed before this node started; sign a new one".into(),
            ));
        }
        let id = AuthorityId::new(params.keyid.clone())
            .map_err(|e| AuthError::Unauthenticated(e.to_string()))?;
        let found = self
            .ledger
            .with_state(|s| {
                s.authority(&id)
                    .and_then(|r| r.current_key().map(|k| (*k, r.party, r.role)))
            })
            .map_err(|e| AuthError::Unauthenticated(e.to_string()))?;
        let Some((key, party, role)) = found else {
            return Err(AuthError::Unauthenticated(format!(
                "{id} is not a registered party with an active key"
            )));
        };
        let now = now_secs();
        auth::verify(req, &params, &sig, &key, now, self.config.skew_secs)?;
        let fresh = self.replay.lock().is_ok_and(|mut c| {
            c.fresh(
                &params.keyid,
                &params.nonce,
                params.created,
                now,
                self.config.skew_secs,
            )
        });
        if !fresh {
            return Err(AuthError::Unauthenticated(
                "this signed request was already used (replay)".into(),
            ));
        }
        let reader = Reader {
            id,
            party,
            role,
            key,
        };
        self.allowed(&reader, need)?;
        Ok(reader)
    }

    fn allowed(&self, r: &Reader, need: Need) -> Result<(), AuthError> {
        let all = matches!(r.role, Role::Root | Role::Auditor);
        let forbid = |what: &str| {
            Err(AuthError::Forbidden(format!(
                "{} ({:?}) may not read {what}",
                r.id, r.role
            )))
        };
        match need {
            Need::Ledger => Ok(()),
            Need::Register if all => Ok(()),
            Need::Register => forbid("the Article 7 register"),
            Need::Cases if all || r.role == Role::Competent => Ok(()),
            Need::Cases => forbid("cases"),
            Need::Case(_) if all => Ok(()),
            Need::Case(c) if r.role == Role::Competent => {
                let party_to = self
                    .ledger
                    .with_state(|s| {
                        s.cases
                            .get(&c)
                            .map(|c| c.requester == r.id || c.requested == r.id)
                    })
                    .map_err(|e| AuthError::Forbidden(e.to_string()))?;
                match party_to {
                    Some(true) => Ok(()),
                    // An unknown case is a 404, answered by the handler.
                    None => Ok(()),
                    Some(false) => forbid("a case between other authorities"),
                }
            }
            Need::Case(_) => forbid("cases"),
        }
    }
}
