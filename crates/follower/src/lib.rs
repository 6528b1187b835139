//! coop-follower: a Party's own verified copy of the leader's ledger, and its witness;
//! apart from the API server, which it uses to serve its copy (coop-node) and to reach
//! the leader (its client).
//!
//! It pulls the leader's records (and follows its live stream), verifies every one with
//! `coop_verify::Incremental` exactly as the offline verifier does, and appends it to the
//! local copy only then. For every new leader checkpoint it checks the node signature
//! (against the pinned leader key), consistency with the last checkpoint it cosigned (a
//! proof from the leader, checked against the roots), and that the root equals the one
//! its own records give; then it cosigns it with its witness key, posts the cosignature
//! to the leader and keeps the cosigned note. If the leader shows a history that is not
//! an extension of the local one — a fork, a rewritten record, a rollback — it stops,
//! writes the evidence (both checkpoints and the failing proof) to a directory, and says
//! so plainly.

use coop_core::checkpoint::{
    Checkpoint, Note, NoteVerifier, SigAlg, cosign, own_cosignature, validate_checkpoint_transition,
};
use coop_core::{AuthorityId, SecretKey};
use coop_node::wire::RecordJson;
use coop_node::{Client, ClientError, Node};
use coop_verify::Incremental;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How a follower runs.
#[derive(Clone)]
pub struct FollowerConfig {
    /// The ledger's first node key, pinned: the genesis must name it (every later
    /// checkpoint is checked against the node keys the ledger itself names).
    pub leader_key: NoteVerifier,
    /// The witness's registered id and key: it signs reads and cosignatures.
    pub witness: (AuthorityId, Arc<SecretKey>),
    /// Where fork evidence is written.
    pub evidence_dir: PathBuf,
    /// How often the leader's checkpoint is checked.
    pub poll: Duration,
    /// Records per page when catching up.
    pub page: u64,
    /// Longest wait between attempts to reach a lost leader (the wait doubles from
    /// `poll` up to this, and starts again once the leader answers).
    pub retry_max: Duration,
}

impl std::fmt::Debug for FollowerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FollowerConfig")
            .field("leader_key", &self.leader_key.to_vkey())
            .field("witness", &self.witness.0)
            .finish_non_exhaustive()
    }
}

/// Why the follower stopped.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The leader showed a history that is not an extension of this copy (a fork, a
    /// rewritten record, a rollback). The evidence is in `evidence`. Do not follow this
    /// leader until the Parties have looked at it.
    #[error(
        "FORK DETECTED: {what}. The leader's history is not an extension of this copy; evidence kept in {evidence}"
    )]
    Fork {
        /// What was seen.
        what: String,
        /// The evidence directory.
        evidence: String,
    },
    /// The leader served a record or checkpoint that does not verify (bad signature,
    /// a record the Agreement forbids). The evidence is in `evidence`.
    #[error(
        "the leader served something that does not verify: {what}; evidence kept in {evidence}"
    )]
    Invalid {
        /// What was seen.
        what: String,
        /// The evidence directory.
        evidence: String,
    },
    /// The leader could not be reached or refused a request. Retry later.
    #[error("leader: {0}")]
    Leader(#[from] ClientError),
    /// The local copy failed (storage). Stop and check the data directory.
    #[error("local copy: {0}")]
    Local(String),
    /// The follower was started so that it would be unsafe: fix what it names and
    /// start it again.
    #[error("{0}")]
    Setup(String),
}

/// The `host:port` a client names the leader by, from its base URL (lower case; the
/// scheme's default port when none is given), as a signed read's `@authority` has it.
fn leader_authority(base: &str) -> String {
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let host = rest
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let port_given = host
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        && !host.ends_with(']');
    if port_given {
        host
    } else if scheme.eq_ignore_ascii_case("https") {
        format!("{host}:443")
    } else {
        format!("{host}:80")
    }
}

/// A follower over a local node.
pub struct Follower {
    node: Arc<Node>,
    client: Client,
    config: FollowerConfig,
    verifier: Incremental,
    /// The last checkpoint this witness cosigned: (checkpoint, note).
    last_cosigned: Option<(Checkpoint, String)>,
    /// What the operator sees of the leader (`/healthz`, `/metrics`).
    status: Arc<coop_node::FollowStatus>,
}

/// The newest checkpoint in the copy (of at most `size` records) that carries a
/// cosignature of this witness that verifies.
fn own_last_cosigned(
    node: &Node,
    me: &NoteVerifier,
    size: u64,
) -> Result<Option<Checkpoint>, FollowError> {
    let ledger = node.ledger();
    for s in ledger.checkpoint_sizes().map_err(local)?.into_iter().rev() {
        if s > size {
            continue;
        }
        if let Some(note) = ledger.checkpoint(s).map_err(local)?
            && let Ok(Some((cp, _))) = own_cosignature(&note, me)
            && cp.size == s
        {
            return Ok(Some(cp));
        }
    }
    Ok(None)
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("size", &self.verifier.size())
            .finish_non_exhaustive()
    }
}

fn local(e: impl std::fmt::Display) -> FollowError {
    FollowError::Local(e.to_string())
}

impl Follower {
    /// A follower of the leader `client` talks to, keeping its copy in `node` (a
    /// follower node). Nothing is asked of the leader here: a follower starts while its
    /// leader is down.
    ///
    /// The local copy is checked again first. Records up to the last checkpoint this
    /// witness cosigned are replayed without their signature checks
    /// ([`Incremental::resume`]): its own cosignature, checked here, says it verified
    /// them, and their replay must give that checkpoint's root exactly. Records after it
    /// are verified in full. Without such a checkpoint (or if the replay does not give
    /// it) the whole copy is verified from record 0.
    pub fn new(
        node: Arc<Node>,
        client: Client,
        config: FollowerConfig,
    ) -> Result<Follower, FollowError> {
        // A signed read names the node it is for (`@authority`), and the follower checks
        // nonces only against what it saw itself: answering to its leader's name, it
        // would accept a read already used at the leader.
        let leader = leader_authority(client.base());
        if let Some(name) = node.answers_to().iter().find(|a| **a == leader) {
            return Err(FollowError::Setup(format!(
                "this follower would answer signed reads made for its leader ({name}): a read \
                 captured at the leader could be replayed here. Give the follower a name of \
                 its own (--authority), never the leader's"
            )));
        }
        let status = node.follow_status().cloned().unwrap_or_else(|| {
            Arc::new(coop_node::FollowStatus::new(
                config.poll.max(Duration::from_secs(10)),
            ))
        });
        let me = NoteVerifier {
            name: config.witness.0.to_string(),
            key: config.witness.1.public(),
            alg: SigAlg::CosignatureV1,
        };
        let size = node.ledger().head().map_err(local)?.size;
        let pins = vec![config.leader_key.clone()];
        let mut verifier = match own_last_cosigned(&node, &me, size)? {
            Some(cp) => {
                let chunks = (0..cp.size).step_by(4096).map(|start| {
                    let end = (start + 4096).min(cp.size);
                    node.ledger()
                        .records(start, end)
                        .map(|rs| rs.into_iter().map(|r| r.bytes).collect())
                        .map_err(|e| coop_verify::VerifyError::Input(e.to_string()))
                });
                match Incremental::resume(pins.clone(), chunks, &cp) {
                    Ok(v) => {
                        tracing::info!(
                            resumed_at = cp.size,
                            size,
                            "resumed from the last checkpoint this witness cosigned"
                        );
                        v
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot resume from the last cosigned checkpoint; verifying the copy from record 0");
                        Incremental::new(pins)
                    }
                }
            }
            None => Incremental::new(pins),
        };
        let mut start = verifier.size();
        while start < size {
            let end = (start + 4096).min(size);
            let bytes = node
                .ledger()
                .records(start, end)
                .map_err(local)?
                .into_iter()
                .map(|r| r.bytes)
                .collect();
            verifier
                .feed(bytes)
                .map_err(|e| FollowError::Local(format!("the local copy does not verify: {e}")))?;
            start = end;
        }
        let mut f = Follower {
            node,
            client,
            config,
            verifier,
            last_cosigned: None,
            status,
        };
        f.last_cosigned = f.find_last_cosigned()?;
        if let Some((c, _)) = &f.last_cosigned {
            f.status.cosigned(c.size);
        }
        Ok(f)
    }

    /// What this follower knows of its leader (shared with its node's `/healthz`).
    pub fn status(&self) -> &Arc<coop_node::FollowStatus> {
        &self.status
    }

    fn me(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.config.witness.0.to_string(),
            key: self.config.witness.1.public(),
            alg: SigAlg::CosignatureV1,
        }
    }

    /// The latest local checkpoint that carries this witness's cosignature.
    fn find_last_cosigned(&self) -> Result<Option<(Checkpoint, String)>, FollowError> {
        let ledger = self.node.ledger();
        for s in ledger.checkpoint_sizes().map_err(local)?.into_iter().rev() {
            let nodes = coop_verify::node_verifiers(self.verifier.state(), s);
            if let Some(n) = ledger.checkpoint(s).map_err(local)?
                && let Ok(v) = coop_verify::verify_by_any(&n, &nodes, &[self.me()])
                && !v.cosigned.is_empty()
            {
                return Ok(Some((v.checkpoint, n)));
            }
        }
        Ok(None)
    }

    /// Records in the local copy.
    pub fn size(&self) -> u64 {
        self.verifier.size()
    }

    /// The last checkpoint this witness cosigned.
    pub fn last_cosigned(&self) -> Option<&Checkpoint> {
        self.last_cosigned.as_ref().map(|(c, _)| c)
    }

    /// Writes fork or invalidity evidence; returns its directory.
    fn evidence(
        &self,
        what: &str,
        theirs: Option<&str>,
        proof: Option<serde_json::Value>,
    ) -> String {
        let dir = self.config.evidence_dir.join(format!(
            "evidence-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
        ));
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("what.txt"), format!("{what}\n"))?;
            if let Some((_, n)) = &self.last_cosigned {
                std::fs::write(dir.join("ours.checkpoint"), n)?;
            }
            if let Some(t) = theirs {
                std::fs::write(dir.join("theirs.checkpoint"), t)?;
            }
            if let Some(p) = proof {
                std::fs::write(
                    dir.join("proof.json"),
                    serde_json::to_string_pretty(&p).unwrap_or_default(),
                )?;
            }
            Ok(())
        };
        if let Err(e) = write() {
            tracing::error!(error = %e, "cannot write the evidence");
        }
        dir.display().to_string()
    }

    fn fork(
        &self,
        what: String,
        theirs: Option<&str>,
        proof: Option<serde_json::Value>,
    ) -> FollowError {
        let evidence = self.evidence(&what, theirs, proof);
        FollowError::Fork { what, evidence }
    }

    /// Verifies and appends records (canonical bytes) that continue the local copy.
    fn take(&mut self, records: Vec<RecordJson>) -> Result<usize, FollowError> {
        if records.is_empty() {
            return Ok(0);
        }
        let first = records.first().map_or(0, |r| r.seq);
        let bytes = records
            .iter()
            .map(RecordJson::record_bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| FollowError::Invalid {
                evidence: self.evidence(&e, None, None),
                what: e,
            })?;
        let at = self.verifier.size();
        // The first new record must sit right after the copy and link to its chain head:
        // otherwise the leader's history is not an extension of the one verified here.
        let continues = bytes.first().is_some_and(|b| {
            coop_core::SealedRecord::from_bytes(at, b.clone()).is_ok_and(|r| {
                r.record.seq == at && r.record.prev_chain == self.verifier.chain_head()
            })
        });
        if !continues {
            return Err(self.fork(
                format!(
                    "the leader's record {first} does not continue the verified copy of {at} records (it does not link to its chain head {}): the leader's history before it differs",
                    self.verifier.chain_head()
                ),
                None,
                None,
            ));
        }
        match self.verifier.feed(bytes) {
            Ok(sealed) => {
                let n = sealed.len();
                self.node.ledger().replicate(sealed).map_err(local)?;
                self.node.notify_head();
                Ok(n)
            }
            Err(e) => {
                let what = format!("records from {first} do not verify: {e}");
                Err(FollowError::Invalid {
                    evidence: self.evidence(&what, None, None),
                    what,
                })
            }
        }
    }

    /// Pulls records until the local copy has `target` (or the leader has no more).
    fn pull_to(&mut self, target: u64) -> Result<usize, FollowError> {
        let mut n = 0;
        while self.verifier.size() < target {
            let want = (target - self.verifier.size()).min(self.config.page);
            let page = self.client.records(self.verifier.size(), want)?;
            self.status.heard(page.size);
            if page.records.is_empty() {
                break;
            }
            n += self.take(page.records)?;
        }
        Ok(n)
    }

    /// One round: catch up to the leader's latest checkpoint, verify it (node key the
    /// ledger names, the witness rule against the last one cosigned, equality with the
    /// local records), cosign it, then pull whatever the leader has beyond it. Returns the
    /// records appended.
    pub fn step(&mut self) -> Result<usize, FollowError> {
        let mut appended = 0;
        if let Some(cp) = self.client.latest_checkpoint()? {
            appended += self.checkpoint(&cp.note)?;
        }
        // Beyond the checkpoint: the records the leader has now.
        let size = self.client.records(self.verifier.size(), 1)?.size;
        self.status.heard(size);
        appended += self.pull_to(size)?;
        Ok(appended)
    }

    /// Verifies a note of the leader against the node keys the ledger names at its size
    /// (as far as the verified copy knows them), and with every registered witness.
    fn verify_note(&self, note: &str) -> Result<Checkpoint, String> {
        let text = Note::parse(note).map_err(|e| e.to_string())?.text;
        let size = Checkpoint::parse_body(&text)
            .map_err(|e| e.to_string())?
            .size;
        let state = self.verifier.state();
        let nodes = coop_verify::node_verifiers(state, size);
        let witnesses: Vec<NoteVerifier> =
            coop_verify::registered_witnesses(state, size.saturating_sub(1))
                .into_iter()
                .map(|(v, _)| v)
                .collect();
        coop_verify::verify_by_any(note, &nodes, &witnesses)
            .map(|v| v.checkpoint)
            .map_err(|e| e.to_string())
    }

    fn checkpoint(&mut self, note: &str) -> Result<usize, FollowError> {
        // The signature is judged with the node keys the ledger names at the note's size;
        // the verified copy knows them unless a handover lies in records it has not
        // pulled yet: then it catches up first (records are verified one by one whatever
        // the note says) and judges the note after.
        let mut appended = 0;
        let cp = match self.verify_note(note) {
            Ok(cp) => cp,
            Err(first) => {
                let claimed = Note::parse(note)
                    .ok()
                    .and_then(|n| Checkpoint::parse_body(&n.text).ok());
                let retry = match &claimed {
                    Some(c) if c.size > self.verifier.size() => {
                        appended += self.pull_to(c.size)?;
                        if self.verifier.size() < c.size {
                            return Ok(appended); // not all served yet; next round
                        }
                        self.verify_note(note)
                    }
                    _ => Err(first),
                };
                match retry {
                    Ok(cp) => cp,
                    Err(e) => {
                        let what = format!(
                            "the leader's latest checkpoint is not signed by a node key the ledger names: {e}"
                        );
                        return Err(FollowError::Invalid {
                            evidence: self.evidence(&what, Some(note), None),
                            what,
                        });
                    }
                }
            }
        };
        self.status.saw_checkpoint(cp.size);
        // The witness rule (coop_core::checkpoint::validate_checkpoint_transition), the same
        // one `coopledger checkpoint cosign` applies, before anything else is pulled.
        let old = self.last_cosigned.as_ref().map(|(c, _)| c.clone());
        let proof = match &old {
            Some(o) if cp.size > o.size && o.size > 0 => {
                self.client.consistency(o.size, cp.size)?.proof
            }
            _ => Vec::new(),
        };
        if let Err(e) = validate_checkpoint_transition(old.as_ref(), &cp, &proof) {
            let evidence = old.as_ref().map(|o| {
                serde_json::json!({
                    "from": o.size, "to": cp.size,
                    "root_from (cosigned by this witness)": o.root,
                    "root_to (the leader's)": cp.root,
                    "proof": proof, "failure": e.to_string(),
                })
            });
            return Err(self.fork(e.to_string(), Some(note), evidence));
        }
        appended += self.pull_to(cp.size)?;
        if self.verifier.size() < cp.size {
            return Ok(appended); // the leader has not served them all yet; next round
        }
        // The checkpoint must state what the local, verified records give.
        let local_root = self.node.ledger().root_at(cp.size).map_err(local)?;
        let local_chain = match cp.size.checked_sub(1) {
            None => coop_core::CHAIN_SEED,
            Some(last) => self
                .node
                .ledger()
                .record(last)
                .map_err(local)?
                .map(|r| r.chain)
                .ok_or_else(|| local("a verified record is missing"))?,
        };
        if local_root != cp.root || local_chain != cp.chain_head {
            return Err(self.fork(
                format!(
                    "the leader's checkpoint at {} states root {} but the verified records give {}",
                    cp.size, cp.root, local_root
                ),
                Some(note),
                None,
            ));
        }
        if old.as_ref().is_some_and(|c| c.size == cp.size) {
            return Ok(appended);
        }
        // A checkpoint dated ahead of this witness's clock is not vouched for (a test
        // ledger's clock may be moved): it waits, and `witnessing` says "behind".
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let test_ledger = self.node.ledger().is_test_ledger();
        if !test_ledger && coop_core::checkpoint::dated_ahead(&cp, coop_core::Timestamp(now_ms)) {
            tracing::warn!(
                size = cp.size,
                time = cp.time.0,
                now = now_ms,
                "the leader's checkpoint is dated ahead of this witness's clock: not cosigned"
            );
            return Ok(appended);
        }
        // Cosign, post to the leader, keep the note with every signature that verifies.
        let (id, key) = &self.config.witness;
        // Only a witness the ledger registers may cosign: another key's cosignature would
        // be dropped by every verifier (it exited 0 after a warning; issue 30).
        let registered =
            coop_verify::registered_witnesses(self.verifier.state(), cp.size.saturating_sub(1))
                .iter()
                .any(|(w, _)| w.name == id.as_str() && w.key == key.public());
        if !registered {
            return Err(FollowError::Setup(format!(
                "{id} is not a witness the ledger registers with this key (at checkpoint {}): a follower cosigns as one of the Parties' registered witnesses; start it with a witness's id and key (`coopledger authorities` lists them)",
                cp.size
            )));
        }
        let now = now_ms / 1000;
        let mine = cosign(note, id.as_str(), key, now).map_err(local)?;
        if let Err(e) = self.client.post_cosignature(cp.size, &mine) {
            tracing::warn!(error = %e, "the leader did not take the cosignature; keeping it locally");
        }
        let (_, kept) = self.node.ledger().store_checkpoint(&mine).map_err(local)?;
        tracing::info!(size = cp.size, root = %cp.root, "checkpoint verified and cosigned");
        self.status.cosigned(cp.size);
        self.last_cosigned = Some((cp, kept));
        Ok(appended)
    }

    /// Follows until `stop` is set: rounds every `poll`, and between them the live stream,
    /// whose records are verified and appended as they arrive.
    pub fn run(&mut self, stop: &AtomicBool) -> Result<(), FollowError> {
        let size = Arc::new(AtomicU64::new(self.verifier.size()));
        let (tx, rx) = std::sync::mpsc::sync_channel::<RecordJson>(4096);
        let stream_client = self.client.clone();
        let stream_stop = Arc::new(AtomicBool::new(false));
        let (s_size, s_stop) = (size.clone(), stream_stop.clone());
        let streamer = std::thread::spawn(move || {
            while !s_stop.load(Ordering::Relaxed) {
                match stream_client.stream(s_size.load(Ordering::Relaxed)) {
                    Ok(stream) => {
                        for r in stream {
                            let Ok(r) = r else { break };
                            if tx.send(r).is_err() || s_stop.load(Ordering::Relaxed) {
                                return;
                            }
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "stream unavailable; polling"),
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        });
        let mut wait = self.config.poll;
        let result = (|| {
            while !stop.load(Ordering::Relaxed) {
                // A leader that cannot be reached (restarting, killed, a network cut) is
                // tried again, the wait doubling up to `retry_max`, until it answers or
                // the follower is told to stop: only a fork, an invalid record or a
                // failure of the local copy ends the follower.
                match self.step() {
                    Ok(_) => {
                        if wait > self.config.poll {
                            tracing::info!(size = self.verifier.size(), "the leader answers again");
                        }
                        wait = self.config.poll;
                    }
                    Err(FollowError::Leader(e)) => {
                        self.status.lost(&e.to_string());
                        tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "cannot reach the leader; retrying");
                        sleep_unless(stop, wait);
                        wait = (wait * 2).min(self.config.retry_max.max(self.config.poll));
                        continue;
                    }
                    Err(e) => return Err(e),
                }
                size.store(self.verifier.size(), Ordering::Relaxed);
                let until = Instant::now() + self.config.poll;
                while let Some(left) = until.checked_duration_since(Instant::now()) {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let first = match rx.recv_timeout(left.min(Duration::from_millis(200))) {
                        Ok(r) => r,
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                    };
                    let mut batch = vec![first];
                    while let Ok(r) = rx.try_recv() {
                        batch.push(r);
                        if batch.len() >= 1024 {
                            break;
                        }
                    }
                    // Only what continues the copy; a gap is filled by the next round.
                    let next = self.verifier.size();
                    let contiguous: Vec<RecordJson> = batch
                        .into_iter()
                        .skip_while(|r| r.seq < next)
                        .enumerate()
                        .take_while(|(i, r)| r.seq == next + *i as u64)
                        .map(|(_, r)| r)
                        .collect();
                    self.take(contiguous)?;
                    size.store(self.verifier.size(), Ordering::Relaxed);
                }
            }
            Ok(())
        })();
        stream_stop.store(true, Ordering::Relaxed);
        drop(rx);
        // The streaming thread ends at its next record or reconnect; it is not joined so
        // that an idle stream cannot hold up the stop.
        drop(streamer);
        result
    }
}

/// Sleeps for `d`, waking early once `stop` is set.
fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let until = Instant::now() + d;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
}

#[cfg(test)]
mod tests {
    use super::leader_authority;

    #[test]
    fn the_leaders_name_is_what_a_signed_read_for_it_names() {
        assert_eq!(leader_authority("http://127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(leader_authority("http://Node.KZ:8080/"), "node.kz:8080");
        assert_eq!(leader_authority("https://node.kz"), "node.kz:443");
        assert_eq!(leader_authority("http://node.kz/v1"), "node.kz:80");
        assert_eq!(leader_authority("http://[::1]:9000"), "[::1]:9000");
        assert_eq!(leader_authority("http://[::1]"), "[::1]:80");
    }
}
