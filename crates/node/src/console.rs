//! The node's console: the console (coop-console) over the node's own ledger, behind a
//! login with the registered key.

use coop_console::{Console, Shared};
use coop_ledger::AsOf;
use coop_ledger::read::{self, At, ReadSource};
use std::sync::Arc;

/// A node's ledger as the console reads it, with the last few earlier points kept.
struct NodeReads(Arc<crate::Node>, read::AsOfCache);

impl ReadSource for NodeReads {
    fn ledger_id(&self) -> Option<coop_core::LedgerId> {
        self.0.ledger.ledger_id()
    }
    fn size(&self) -> Result<u64, coop_ledger::LedgerError> {
        ReadSource::size(&self.0.ledger)
    }
    fn at(&self, as_of: Option<AsOf>) -> Result<At, coop_ledger::LedgerError> {
        match as_of {
            // A record's point never changes; a time may still be ahead of the ledger.
            Some(a @ AsOf::Seq(_)) => {
                let state = self.1.get_or(a, || self.0.ledger.state_as_of(a))?;
                Ok(At::new(state, as_of, || self.0.ledger.now()))
            }
            _ => self.0.ledger.at(as_of),
        }
    }
    fn checkpoints(&self) -> Result<Vec<(u64, String)>, coop_ledger::LedgerError> {
        ReadSource::checkpoints(&self.0.ledger)
    }
    fn record(&self, seq: u64) -> Result<Option<coop_core::Record>, coop_ledger::LedgerError> {
        ReadSource::record(&self.0.ledger, seq)
    }
    fn registered(&self, id: &coop_core::AuthorityId) -> Option<coop_treaty::Registered> {
        self.0.ledger.registered(id)
    }
}

/// The console of a node (`serve`, `follow`): its own ledger, behind a login with the
/// registered key; the node's names are the hosts a login may be signed for.
pub fn for_node(node: Arc<crate::Node>) -> Shared {
    let label = match node.follow_status() {
        Some(_) => "follower",
        None if node.ledger.is_sequencer() => "leader",
        None => "copy",
    };
    let reach = coop_console::Reach {
        // A node's sign-in is bound to its names (the challenge is signed for the Host):
        // it answers on any, as its API does.
        hosts: None,
        tls: node.config.tls,
        timeout: node.config.timeout,
    };
    let reads = Arc::new(NodeReads(node.clone(), read::AsOfCache::default()));
    Arc::new(Console {
        access: Some(node.console_access.clone()),
        reach,
        source: reads.clone(),
        verdict: None,
        label: label.to_owned(),
        desk: Some(reads),
    })
}

impl coop_console::Drafts for NodeReads {
    fn problems(
        &self,
        body: coop_core::EventBody,
    ) -> Result<Vec<coop_treaty::Violation>, coop_ledger::LedgerError> {
        self.0.ledger.problems(body)
    }

    fn witnessing(&self) -> Option<coop_ledger::Witnessing> {
        self.0.ledger.witnessing().ok()
    }

    fn live(
        &self,
    ) -> (
        tokio::sync::watch::Receiver<u64>,
        tokio::sync::watch::Receiver<bool>,
    ) {
        (self.0.head.subscribe(), self.0.closing.subscribe())
    }
}
