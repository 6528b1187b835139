//! The event-id index: event id → seq, in memory, rebuilt from the stored id lists on
//! open (ADR 0011).

use super::*;

/// Shards of the event-id index (`IdIndex::shard_of` takes four bits).
const ID_SHARDS: usize = 16;

/// The event-id index: event id → seq, in shards by a mix of the id's bytes, so that a reopen
/// builds the shards on all cores. Built as one map, the index of 10^6 ids was a third of
/// a store's open: each insert a cache miss and a SipHash. The shards keep std's keyed
/// SipHash: ids are chosen by clients, and a client that puts all its ids in one shard
/// only makes that shard's build slower.
#[derive(Default)]
pub(super) struct IdIndex(Vec<HashMap<EventId, u64>>);

impl std::fmt::Debug for IdIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: usize = self.0.iter().map(HashMap::len).sum();
        write!(f, "IdIndex({ids} ids)")
    }
}

impl IdIndex {
    /// The shard of an id: all its bytes folded and mixed (clients choose ids, and many
    /// count, so that any one byte of theirs may be the same in every id: the benchmark's
    /// put all its ids in one shard by their first byte).
    fn shard_of(id: &EventId) -> usize {
        let (a, b) = id.0.split_at(8);
        let half = |h: &[u8]| u64::from_le_bytes(h.try_into().unwrap_or_default());
        let mixed = (half(a) ^ half(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // The top four bits: ID_SHARDS is 16.
        (mixed >> 60) as usize
    }

    pub(super) fn get(&self, id: &EventId) -> Option<u64> {
        self.0.get(Self::shard_of(id))?.get(id).copied()
    }

    pub(super) fn insert(&mut self, id: EventId, seq: u64) {
        if self.0.is_empty() {
            self.0.resize_with(ID_SHARDS, HashMap::new);
        }
        if let Some(shard) = self.0.get_mut(Self::shard_of(&id)) {
            shard.insert(id, seq);
        }
    }

    /// Forgets the id of record `seq` (a damage test's removal).
    #[cfg(test)]
    pub(super) fn forget_seq(&mut self, seq: u64) {
        for shard in &mut self.0 {
            shard.retain(|_, s| *s != seq);
        }
    }
}

/// The event-id index, from every stored id list: the lists are read in one pass and
/// their ids sorted into shards, then the shards' maps are built on all cores.
pub(super) fn load_ids(tree: &sled::Tree) -> Result<IdIndex, StoreError> {
    let ids = key(kind::IDS, 0)..=key(kind::IDS, u64::MAX);
    // The ids of each shard, with their seqs.
    type Part = Vec<(EventId, u64)>;
    let mut parts: Vec<Part> = vec![Vec::new(); ID_SHARDS];
    for r in tree.range(ids) {
        // Each segment read from sled is a storage call an open's watcher counts
        // (`watch.rs`): loading the ids of a large ledger is long, not stalled.
        crate::faults::count_call();
        let (k, v) = r.map_err(sled_err)?;
        let first = seq_from_key(&k)?;
        let mut i = 0usize;
        while let Some(id) = segment::id_at(&v, i) {
            if let Some(part) = parts.get_mut(IdIndex::shard_of(&id)) {
                part.push((id, first + i as u64));
            }
            i += 1;
        }
    }
    // A thread a core (the store has no pool), each building a run of the shards; their
    // ids are spread evenly (`shard_of`), so the runs are of equal work.
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, ID_SHARDS);
    let shards = std::thread::scope(|scope| {
        let mut running = Vec::with_capacity(threads);
        for run in parts.chunks_mut(ID_SHARDS.div_ceil(threads)) {
            let t = std::thread::Builder::new()
                .name("coop-store-ids".into())
                .spawn_scoped(scope, move || {
                    run.iter_mut()
                        .map(|part| {
                            // Sized once: grown by doubling, a map is rehashed at every
                            // power of two.
                            let mut map = HashMap::with_capacity(part.len());
                            map.extend(std::mem::take(part));
                            map
                        })
                        .collect::<Vec<_>>()
                })
                .map_err(|e| {
                    StoreError::Io(format!(
                        "cannot start a thread to build the event-id index: {e}; nothing was changed"
                    ))
                })?;
            running.push(t);
        }
        // Joined in order: the runs' shards, concatenated, are the shards in order.
        let mut shards = Vec::with_capacity(ID_SHARDS);
        for t in running {
            shards.extend(t.join().map_err(|_| {
                StoreError::Io(
                    "a thread building the event-id index failed; nothing was changed".into(),
                )
            })?);
        }
        Ok::<_, StoreError>(shards)
    })?;
    Ok(IdIndex(shards))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids as a client that counts makes them: the same in all bytes but the last few.
    fn id(n: u32) -> EventId {
        let mut b = [0u8; 16];
        b[12..].copy_from_slice(&n.to_be_bytes());
        EventId(b)
    }

    /// The sharded index answers as one map would: each id to its seq, an unknown id to
    /// nothing, a forgotten seq's id to nothing; and the index loaded from the stored id
    /// lists is the one the writes built.
    #[test]
    fn the_event_id_index_in_shards_is_one_map() -> anyhow::Result<()> {
        let mut index = IdIndex::default();
        assert_eq!(index.get(&id(1)), None);
        for n in 0..5000u32 {
            index.insert(id(n), u64::from(n));
        }
        // Counted ids spread evenly over the shards (each holds 5000/16 = 312.5 on
        // average): a reopen builds them on all cores.
        for shard in &index.0 {
            assert!((200..=430).contains(&shard.len()), "{}", shard.len());
        }
        for n in 0..5000u32 {
            assert_eq!(index.get(&id(n)), Some(u64::from(n)));
        }
        assert_eq!(index.get(&id(5000)), None);
        index.forget_seq(17);
        assert_eq!(index.get(&id(17)), None);
        assert_eq!(index.get(&id(18)), Some(18));

        let dir = tempfile::tempdir()?;
        let db = sled::Config::new()
            .temporary(true)
            .path(dir.path())
            .open()?;
        let tree = db.open_tree("ledger")?;
        let mut first = 0u32;
        for len in [1u32, 7, 300, 2, 1000] {
            let mut ids = Vec::new();
            for n in first..first + len {
                ids.extend_from_slice(&id(n).0);
            }
            tree.insert(key(kind::IDS, u64::from(first)), ids)?;
            first += len;
        }
        let loaded = load_ids(&tree)?;
        assert_eq!(loaded.0.len(), ID_SHARDS);
        for n in 0..first {
            assert_eq!(loaded.get(&id(n)), Some(u64::from(n)), "id {n}");
        }
        assert_eq!(loaded.get(&id(first)), None);
        Ok(())
    }
}
