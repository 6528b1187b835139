//! Submitting: the strict signature check on the caller's thread, the queue to the
//! writer, and the bounded wait for the receipt; stopping.

use super::*;

/// A submission on its way: [`Pending::wait`] blocks for the answer.
#[derive(Debug)]
pub struct Pending {
    pub(crate) rx: Receiver<Result<Proven, SubmitError>>,
    pub(crate) ledger: LedgerId,
    pub(crate) event_id: EventId,
    pub(crate) event_hash: Hash,
    pub(crate) health: Arc<Health>,
    pub(crate) timeout: Duration,
}

impl Pending {
    /// Waits until the event is durable and proven in a signed checkpoint; returns its
    /// receipt. The wait is bounded by [`Config::storage_timeout`]: storage that does not
    /// answer by then (a flush that never returns) is a storage failure, and the answer
    /// is that the event may have landed.
    pub fn wait(self) -> Result<Receipt, SubmitError> {
        let answer = match self.rx.recv_timeout(self.timeout) {
            Ok(a) => a,
            Err(RecvTimeoutError::Timeout) => {
                let why = format!(
                    "storage did not answer within {} s (a write or sync that does not return)",
                    self.timeout.as_secs_f64()
                );
                self.health.fail(&why);
                return Err(SubmitError::MayHaveLanded(why));
            }
            // The writer or syncer ended without answering: it had taken the event, so
            // it may have written it.
            Err(RecvTimeoutError::Disconnected) => {
                return Err(SubmitError::MayHaveLanded(
                    "the writer stopped before answering".into(),
                ));
            }
        };
        let Proven {
            landed,
            checkpoint,
            proof,
        } = answer?;
        Ok(Receipt {
            format: coop_core::RECEIPT_FORMAT.to_owned(),
            ledger_id: self.ledger,
            seq: landed.seq,
            event_id: self.event_id,
            event_hash: self.event_hash,
            prev_chain: landed.prev_chain,
            received_at: landed.received_at,
            governance: landed.governance,
            leaf: landed.leaf,
            chain: landed.chain,
            checkpoint: checkpoint.to_string(),
            proof,
        })
    }
}

/// An event whose signature and payload were checked, ready for the writer.
pub(crate) struct Admitted {
    pub(crate) event: SignedEvent,
    pub(crate) decoded: coop_treaty::Decoded,
    pub(crate) receipt_ledger: LedgerId,
}

impl<S: Store + 'static> Ledger<S> {
    pub(crate) fn sender(&self) -> Result<&Sender<Job>, SubmitError> {
        self.tx
            .as_ref()
            .ok_or_else(|| SubmitError::Unavailable("the ledger is shutting down".into()))
    }

    /// Verifies the event's signature strictly (on the caller's thread, so that many
    /// submitters use all cores) and queues it.
    pub fn submit_async(&self, event: SignedEvent) -> Result<Pending, SubmitError> {
        let admitted = self.admit(event)?;
        self.enqueue(admitted)
    }

    /// Submits many events as if each were submitted alone, one after another, in the
    /// given order: signatures are checked in parallel, then the events are queued in
    /// order, so an event may depend on one before it in the same batch. Not atomic: each
    /// event gets its own answer (a receipt once durable, or why nothing was written for
    /// it), and a refused event does not stop the ones after it.
    pub fn submit_batch(&self, events: Vec<SignedEvent>) -> Vec<Result<Receipt, SubmitError>> {
        let admitted: Vec<Result<Admitted, SubmitError>> =
            events.into_par_iter().map(|e| self.admit(e)).collect();
        let pending: Vec<Result<Pending, SubmitError>> = admitted
            .into_iter()
            .map(|a| a.and_then(|a| self.enqueue(a)))
            .collect();
        pending
            .into_iter()
            .map(|p| p.and_then(Pending::wait))
            .collect()
    }

    /// What does not depend on the ledger's state: the sequencer check, the signature,
    /// the payload decode and the event hash.
    pub(crate) fn admit(&self, event: SignedEvent) -> Result<Admitted, SubmitError> {
        let ledger = self.shared.ledger_id();
        if ledger.is_some()
            && !self
                .with_state(|s| self.shared.signs(s) || self.names_me(s, &event))
                .unwrap_or(false)
        {
            return Err(SubmitError::Unavailable(
                "this node does not sequence this ledger (its key is not the node key the ledger names, or it is a follower): submit to the ledger's node".into(),
            ));
        }
        // The body is encoded once, for the signature, the event hash and the receipt.
        let body = event.body.to_bytes().map_err(|e| {
            self.shared.metrics.refused("invalid");
            SubmitError::Invalid(e.into())
        })?;
        let checked = self.shared.checked_key(&event.body.author.key);
        let verdict = match &checked {
            Ok(k) => event.verify_body_bytes(ledger.as_ref(), k, &body),
            Err(e) => Err(EventError::Signature(e.clone())),
        };
        if let Err(e) = verdict {
            self.shared.metrics.refused("invalid");
            return Err(SubmitError::Invalid(e));
        }
        // Decoding and hashing do not depend on the state: do them here, in parallel,
        // rather than on the writer.
        let decoded = coop_treaty::Decoded::of_body_bytes(&event, &body).map_err(|v| {
            self.shared.metrics.refused(&v.clause());
            SubmitError::Refused(v)
        })?;
        // The genesis names no ledger: its own body defines the id.
        let receipt_ledger = event
            .body
            .ledger_id
            .unwrap_or_else(|| LedgerId::from_genesis_body(&body));
        Ok(Admitted {
            event,
            decoded,
            receipt_ledger,
        })
    }

    /// Queues an admitted event for the writer, which judges it against the state.
    pub(crate) fn enqueue(&self, admitted: Admitted) -> Result<Pending, SubmitError> {
        let Admitted {
            event,
            decoded,
            receipt_ledger,
        } = admitted;
        let (event_id, event_hash) = (event.body.event_id, decoded.event_hash);
        if let Some(why) = self.shared.failure() {
            return Err(SubmitError::Unavailable(format!(
                "{why}; the ledger appends nothing until it is restarted"
            )));
        }
        let (tx, rx) = crossbeam_channel::bounded(1);
        let timeout = self.shared.config.storage_timeout;
        // A full queue waits for the writer, but not for ever: a writer stuck on storage
        // takes nothing more.
        self.sender()?
            .send_timeout(Job::Submit(event, decoded, tx), timeout)
            .map_err(|e| match e {
                SendTimeoutError::Timeout(_) => SubmitError::Unavailable(format!(
                    "the writer took no submission for {} s (storage does not answer)",
                    timeout.as_secs_f64()
                )),
                SendTimeoutError::Disconnected(_) => {
                    SubmitError::Unavailable("the writer has stopped".into())
                }
            })?;
        Ok(Pending {
            rx,
            ledger: receipt_ledger,
            event_id,
            event_hash,
            health: Arc::clone(&self.shared.health),
            timeout,
        })
    }

    /// Whether `event` is a step of a node handover to this node's key: the one thing a
    /// node appends before the ledger names it (`coopledger promote`, on a follower's copy
    /// whose leader is lost). The rules judge it as any other event: both Parties' roots
    /// must sign the proposal and the acceptance.
    pub(crate) fn names_me(&self, state: &State, event: &SignedEvent) -> bool {
        if !self.shared.config.sign_checkpoints {
            return false; // a follower's copy: `promote` makes it a node first
        }
        let me = self.shared.node_key.public();
        match coop_treaty::Payload::from_bytes(&event.body.payload) {
            Ok(coop_treaty::Payload::NodeHandoverProposed { key, .. }) => key == me,
            Ok(coop_treaty::Payload::NodeHandoverAccepted { id }) => state
                .agreement
                .handovers
                .get(&id)
                .is_some_and(|h| h.key == me),
            _ => false,
        }
    }

    /// Appends an event and waits for its receipt. When this returns `Ok`, the event is
    /// durable; on [`SubmitError::MayHaveLanded`] it may be, and a retry of the same
    /// event returns its first receipt if it is; on any other `Err` nothing was written.
    pub fn submit(&self, event: SignedEvent) -> Result<Receipt, SubmitError> {
        self.submit_async(event)?.wait()
    }

    /// Signs and stores a checkpoint of the current head now (or returns the latest one
    /// if nothing was appended since).
    pub fn checkpoint_now(&self) -> Result<String, SubmitError> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let timeout = self.shared.config.storage_timeout;
        self.sender()?
            .send_timeout(Job::Checkpoint(tx), timeout)
            .map_err(|_| SubmitError::Unavailable("the writer takes no request".into()))?;
        rx.recv_timeout(timeout).map_err(|_| {
            SubmitError::Unavailable(format!(
                "no checkpoint within {} s (storage does not answer)",
                timeout.as_secs_f64()
            ))
        })?
    }

    /// Stops the writer after the queued submissions, signing a final checkpoint.
    pub fn shutdown(mut self) {
        self.stop();
    }

    pub(crate) fn stop(&mut self) {
        self.tx = None;
        // The writer finishes the queue and drops its end of the syncer's channel; the
        // syncer then answers the last batches and stops. Each gets the storage bound
        // for every batch still queued, at least once: a thread stuck in a write or
        // sync that never returns is left behind (and ends with the process), so that
        // stopping always ends.
        let bound = self.shared.config.storage_timeout.saturating_mul(2);
        for w in [self.writer.take(), self.syncer.take()]
            .into_iter()
            .flatten()
        {
            w.join_within(bound, &self.shared.health);
        }
    }
}
