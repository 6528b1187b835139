//! A ledger directory: the sled store and the node's own signing key.
//!
//! ```text
//! DIR/store/       the store (coop-store): sled/ the database, journal/ the second
//!                  copy of every append it is rebuilt and checked from
//! DIR/node.pem     the node's key (PKCS#8, owner-only): it signs checkpoints and
//!                  receipts if the ledger's genesis names it; a copy kept under another
//!                  key (an import, a follower) signs nothing and takes no appends
//! DIR/leader.vkey  on a follower's copy: the leader's node key, pinned on first contact
//! ```

use crate::keys::{self, OsRng, Passphrase};
use anyhow::{Context as _, anyhow, bail};
use coop_core::{SecretKey, SignedEvent};
use coop_ledger::{Config, Ledger};
use coop_store::{SledStore, Store};
use coop_verify::{Item, Source, VerifyError};
use std::path::{Path, PathBuf};

/// Free space kept on the ledger's disk (`--min-free-mib`), set once by `main`.
static MIN_FREE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Sets the free space every store this process opens keeps (bytes).
pub fn set_min_free(bytes: u64) {
    let _ = MIN_FREE.set(bytes);
}

fn open_store(path: &Path) -> Result<SledStore, coop_store::StoreError> {
    SledStore::open_with(
        path,
        coop_store::SledOptions {
            min_free: MIN_FREE
                .get()
                .copied()
                .unwrap_or(coop_store::DEFAULT_MIN_FREE),
            ..coop_store::SledOptions::default()
        },
    )
}

/// A ledger directory on disk.
#[derive(Clone, Debug)]
pub struct LedgerDir {
    root: PathBuf,
}

impl LedgerDir {
    /// The directory at `root` (nothing is checked yet).
    pub fn new(root: impl Into<PathBuf>) -> LedgerDir {
        LedgerDir { root: root.into() }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.root
    }

    fn store_path(&self) -> PathBuf {
        self.root.join("store")
    }

    fn node_key_path(&self) -> PathBuf {
        self.root.join("node.pem")
    }

    /// Whether a ledger lives here.
    pub fn exists(&self) -> bool {
        self.store_path().is_dir()
    }

    fn require(&self) -> anyhow::Result<()> {
        if !self.exists() {
            bail!(
                "{} holds no ledger (no store/ directory): run `coopledger init` or `coopledger import` first",
                self.root.display()
            );
        }
        Ok(())
    }

    /// The node's key (created when the directory is created).
    pub fn node_key(&self) -> anyhow::Result<SecretKey> {
        keys::load(&self.node_key_path(), &Passphrase::default())
    }

    /// Prepares an empty directory: creates it and the node key (`node_key`, or a new one).
    pub fn prepare(
        &self,
        node_key: Option<SecretKey>,
        rng: &mut OsRng,
    ) -> anyhow::Result<SecretKey> {
        if self.exists() {
            bail!(
                "{} already holds a ledger; choose an empty directory",
                self.root.display()
            );
        }
        std::fs::create_dir_all(&self.root)
            .with_context(|| format!("cannot create {}", self.root.display()))?;
        // An import or init cut short left its node key and no store: the same key goes on.
        let key = match node_key {
            Some(k) => k,
            None if self.node_key_path().exists() => self.node_key()?,
            None => keys::generate(rng),
        };
        if !self.node_key_path().exists() {
            keys::save(&key, &self.node_key_path(), None, rng)?;
        } else if self.node_key()?.public() != key.public() {
            bail!(
                "{} holds another node key; remove it or use another directory",
                self.node_key_path().display()
            );
        }
        Ok(key)
    }

    /// Runs `make`, which fills this (new or empty) directory; if it fails, removes what
    /// it wrote, so the directory is as it was and can be initialised again.
    pub fn create_new<T>(&self, make: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
        let existed = self.root.exists();
        if self.exists() {
            bail!(
                "{} already holds a ledger; choose an empty directory",
                self.root.display()
            );
        }
        let had_key = self.node_key_path().exists();
        let result = make();
        if result.is_err() {
            // The store must be closed before it is removed: `make` dropped it already.
            let _ = std::fs::remove_dir_all(self.store_path());
            let _ = std::fs::remove_file(self.root.join("coopledger.lock"));
            if !had_key {
                let _ = std::fs::remove_file(self.node_key_path());
            }
            if !existed {
                let _ = std::fs::remove_dir(&self.root);
            }
        }
        result
    }

    /// Creates the ledger from a signed genesis.
    pub fn create(
        &self,
        genesis: SignedEvent,
        node_key: SecretKey,
        config: Config,
    ) -> anyhow::Result<(Ledger<SledStore>, coop_core::Receipt)> {
        let store = open_store(&self.store_path())?;
        Ledger::create(store, genesis, node_key, config).map_err(Into::into)
    }

    fn leader_path(&self) -> PathBuf {
        self.root.join("leader.vkey")
    }

    /// The pinned checkpoint key of the leader, if this directory is a follower's copy.
    pub fn leader_vkey(&self) -> anyhow::Result<Option<String>> {
        match std::fs::read_to_string(self.leader_path()) {
            Ok(t) => Ok(Some(t.trim().to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => {
                Err(e).with_context(|| format!("cannot read {}", self.leader_path().display()))
            }
        }
    }

    /// Marks this directory as a follower's copy of the leader whose key is `vkey`.
    pub fn set_leader_vkey(&self, vkey: &str) -> anyhow::Result<()> {
        std::fs::write(self.leader_path(), format!("{vkey}\n"))
            .with_context(|| format!("cannot write {}", self.leader_path().display()))
    }

    /// The engine settings for this directory: a follower's copy never signs checkpoints
    /// of its own (they would replace the leader's); a test ledger's clock is moved by the
    /// offset in `DIR/test-clock` (`coopledger clock`), which any other ledger refuses.
    pub fn config(&self) -> anyhow::Result<Config> {
        let mut c = Config {
            sign_checkpoints: self.leader_vkey()?.is_none(),
            ..Config::default()
        };
        if let Some(offset) = self.test_clock()? {
            c.clock = coop_ledger::TestClock::with_offset(offset);
        }
        Ok(c)
    }

    fn test_clock_path(&self) -> PathBuf {
        self.root.join("test-clock")
    }

    /// The offset (ms) `coopledger clock` moved this test ledger's clock by, if any.
    pub fn test_clock(&self) -> anyhow::Result<Option<u64>> {
        let path = self.test_clock_path();
        match std::fs::read_to_string(&path) {
            Ok(t) => {
                let v: toml::Table = toml::from_str(&t)
                    .with_context(|| format!("{} is not a test-clock file", path.display()))?;
                let ms = v
                    .get("offset_ms")
                    .and_then(toml::Value::as_integer)
                    .and_then(|i| u64::try_from(i).ok())
                    .with_context(|| format!("{} has no offset_ms", path.display()))?;
                Ok(Some(ms))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Saves the test ledger's clock offset (read when the ledger is next opened).
    pub fn set_test_clock(&self, offset_ms: u64) -> anyhow::Result<()> {
        let path = self.test_clock_path();
        std::fs::write(
            &path,
            format!(
                "# coopledger clock: this TEST LEDGER's clock runs this far ahead of the system's.\noffset_ms = {offset_ms}\n"
            ),
        )
        .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Opens the ledger (checks the store, replays every record through the rules).
    pub fn open(&self) -> anyhow::Result<Ledger<SledStore>> {
        self.open_with(|_| {})
    }

    /// [`LedgerDir::open`] with adjusted engine settings.
    pub fn open_with(&self, adjust: impl FnOnce(&mut Config)) -> anyhow::Result<Ledger<SledStore>> {
        self.require()?;
        let store = open_store(&self.store_path())?;
        let mut config = self.config()?;
        adjust(&mut config);
        let ledger = Ledger::open(store, self.node_key()?, config).map_err(|e| {
            if self.test_clock_path().exists() {
                anyhow!(
                    "{e} ({} moves the clock: only a test ledger accepts it; remove the file)",
                    self.test_clock_path().display()
                )
            } else {
                anyhow!(e)
            }
        })?;
        if ledger.is_test_ledger() {
            eprintln!("{}", crate::show::test_ledger());
        }
        Ok(ledger)
    }

    /// Opens a follower's copy, or starts an empty one to be filled by replication.
    /// `witness` is the follower's own key: its cosignature on the latest checkpoint
    /// vouches for the records it covers, which are then not re-verified on opening.
    pub fn open_or_empty(
        &self,
        rng: &mut OsRng,
        witness: Option<coop_core::checkpoint::NoteVerifier>,
    ) -> anyhow::Result<Ledger<SledStore>> {
        if self.exists() && open_store(&self.store_path())?.size()? > 0 {
            return self.open_with(|c| c.vouched_by = witness);
        }
        if !self.root.join("node.pem").exists() {
            self.prepare(None, rng)?;
        }
        let store = open_store(&self.store_path())?;
        Ok(Ledger::empty(store, self.node_key()?, self.config()?)?)
    }

    /// Opens (creating) the store of a directory made by [`LedgerDir::prepare`], for an
    /// import that appends verified records to it.
    /// Where an import builds the store before it is moved in as `store/` (an import
    /// cut short leaves no ledger, only this, which the next import removes).
    pub fn importing_path(&self) -> PathBuf {
        self.root.join("store.importing")
    }

    /// A new store at [`LedgerDir::importing_path`] (a stale one removed first).
    pub fn importing_store(&self) -> anyhow::Result<SledStore> {
        let path = self.importing_path();
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
        Ok(open_store(&path)?)
    }

    /// Moves the finished import's store in place: from here the directory holds a ledger.
    pub fn finish_import(&self) -> anyhow::Result<()> {
        let from = self.importing_path();
        std::fs::rename(&from, self.store_path())
            .with_context(|| format!("cannot move {} into place", from.display()))?;
        // The rename is durable once the directory is.
        std::fs::File::open(&self.root)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot sync {}", self.root.display()))
    }

    /// The first record (the genesis) of the ledger here, read from the journal without
    /// opening sled or taking the lock; `None` if no ledger or no record is here yet.
    pub fn first_record(&self) -> anyhow::Result<Option<Vec<u8>>> {
        if !self.exists() {
            return Ok(None);
        }
        let mut items = coop_store::JournalItems::open(&self.store_path())?;
        while let Some(item) = items.next()? {
            if let coop_store::JournalItem::Record(_, bytes) = item {
                return Ok(Some(bytes));
            }
        }
        Ok(None)
    }

    /// The records of the directory's store when it opens as the node would open it (which
    /// checks sled against the journal and catches it up); `None` when it does not.
    pub fn healthy(&self) -> anyhow::Result<Option<u64>> {
        self.require()?;
        Ok(open_store(&self.store_path())
            .ok()
            .and_then(|s| coop_store::Store::size(&s).ok()))
    }

    /// Rebuilds the directory's sled database from its journal (`coopledger repair`).
    pub fn repair(&self) -> anyhow::Result<coop_store::Repaired> {
        self.require()?;
        Ok(SledStore::repair(self.store_path())?)
    }
}

/// A ledger directory read from its store's journal, as a verification source: every
/// record and checkpoint, re-checked by the verifier. sled is never opened and the lock
/// is not taken: it writes nothing, and works while a node serves the directory (what
/// the node has written by then; a write in progress ends the reading).
pub struct JournalSource {
    items: coop_store::JournalItems,
}

impl JournalSource {
    /// A source over the journal of `dir`. A damaged journal is a failed verification
    /// (`Ok(Err(_))`: exit 3, like any tampered input), not an error of the command.
    pub fn new(dir: &LedgerDir) -> anyhow::Result<Result<JournalSource, VerifyError>> {
        dir.require()?;
        Ok(match coop_store::JournalItems::open(&dir.store_path()) {
            Ok(items) => Ok(JournalSource { items }),
            Err(e @ coop_store::StoreError::Corrupt { .. }) => {
                Err(VerifyError::Input(format!("the journal: {e}")))
            }
            Err(e) => return Err(e.into()),
        })
    }
}

impl Source for JournalSource {
    fn next_item(&mut self) -> Result<Option<Item>, VerifyError> {
        Ok(
            match self
                .items
                .next()
                .map_err(|e| VerifyError::Input(format!("the journal: {e}")))?
            {
                Some(coop_store::JournalItem::Record(_, bytes)) => Some(Item::Record(bytes)),
                Some(coop_store::JournalItem::Checkpoint(note)) => Some(Item::Checkpoint(note)),
                None => None,
            },
        )
    }

    fn total(&self) -> Option<u64> {
        None
    }

    fn skipped(&self) -> Option<String> {
        self.items.torn_tail().map(ToString::to_string)
    }
}
