//! The sled store's record segments: the records of one append, in one value.
//!
//! A sled key costs several microseconds to write whatever its size, so records are not
//! stored a key each: each append writes one *segment* (the records, each with its leaf
//! and chain hash) and one *id list* (their event ids, for the in-memory event-id index
//! rebuilt on open). docs/FORMAT.md §10 gives the layout:
//!
//! ```text
//! segment  = count (u32 BE) || offset[count] (u32 BE, from the start of the entries)
//!            || entry*            entry = leaf (32) || chain (32) || record bytes
//! id list  = event id (16) * count
//! ```

use crate::StoreError;
use crate::error::corrupt;
use coop_core::{EventId, Hash};

/// One stored record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub leaf: Hash,
    pub chain: Hash,
    pub id: EventId,
    pub bytes: Vec<u8>,
}

/// Encodes entries as a segment value and an id-list value.
pub(crate) fn encode(entries: &[Entry]) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
    let too_big = || StoreError::Conflict("a segment larger than 4 GiB".into());
    let count = u32::try_from(entries.len()).map_err(|_| too_big())?;
    let body: usize = entries.iter().map(|e| 64 + e.bytes.len()).sum();
    let mut v = Vec::with_capacity(4 + 4 * entries.len() + body);
    v.extend_from_slice(&count.to_be_bytes());
    let mut off = 0usize;
    for e in entries {
        v.extend_from_slice(&u32::try_from(off).map_err(|_| too_big())?.to_be_bytes());
        off += 64 + e.bytes.len();
    }
    let mut ids = Vec::with_capacity(16 * entries.len());
    for e in entries {
        v.extend_from_slice(&e.leaf.0);
        v.extend_from_slice(&e.chain.0);
        v.extend_from_slice(&e.bytes);
        ids.extend_from_slice(&e.id.0);
    }
    Ok((v, ids))
}

/// A stored segment, read in place.
pub(crate) struct View<'a> {
    first: u64,
    v: &'a [u8],
    count: usize,
    entries_at: usize,
}

fn u32_at(v: &[u8], at: usize) -> Option<usize> {
    v.get(at..at + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_be_bytes(b) as usize)
}

impl<'a> View<'a> {
    /// Parses the header of the segment that starts at record `first`.
    pub fn parse(first: u64, v: &'a [u8]) -> Result<View<'a>, StoreError> {
        let bad = || corrupt(Some(first), "stored record segment is malformed");
        let count = u32_at(v, 0).ok_or_else(bad)?;
        let entries_at = 4usize
            .checked_add(count.checked_mul(4).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        if entries_at > v.len() {
            return Err(bad());
        }
        Ok(View {
            first,
            v,
            count,
            entries_at,
        })
    }

    /// Number of records in it.
    pub fn count(&self) -> u64 {
        self.count as u64
    }

    /// Whether it holds record `seq`.
    pub fn holds(&self, seq: u64) -> bool {
        seq >= self.first && seq - self.first < self.count()
    }

    /// Record `seq` (which it must hold): (leaf, chain, bytes).
    pub fn get(&self, seq: u64) -> Result<(Hash, Hash, &'a [u8]), StoreError> {
        let bad = || corrupt(Some(seq), "stored record segment is malformed");
        let i = usize::try_from(seq.checked_sub(self.first).ok_or_else(bad)?).map_err(|_| bad())?;
        if i >= self.count {
            return Err(bad());
        }
        let start = self.entries_at + u32_at(self.v, 4 + 4 * i).ok_or_else(bad)?;
        let end = if i + 1 == self.count {
            self.v.len()
        } else {
            self.entries_at + u32_at(self.v, 4 + 4 * (i + 1)).ok_or_else(bad)?
        };
        let e = self
            .v
            .get(start..end)
            .filter(|e| e.len() >= 64)
            .ok_or_else(bad)?;
        let (leaf, rest) = e.split_at(32);
        let (chain, bytes) = rest.split_at(32);
        Ok((
            Hash::from_slice(leaf).map_err(|_| bad())?,
            Hash::from_slice(chain).map_err(|_| bad())?,
            bytes,
        ))
    }

    /// All its records as owned entries, with their ids from `ids`.
    #[cfg(test)]
    pub fn entries(&self, ids: &[u8]) -> Result<Vec<Entry>, StoreError> {
        (0..self.count())
            .map(|i| {
                let seq = self.first + i;
                let (leaf, chain, bytes) = self.get(seq)?;
                Ok(Entry {
                    leaf,
                    chain,
                    id: id_at(ids, i as usize).ok_or_else(|| {
                        corrupt(
                            Some(seq),
                            "stored event-id list is shorter than its segment",
                        )
                    })?,
                    bytes: bytes.to_vec(),
                })
            })
            .collect()
    }
}

/// The `i`-th event id of an id list.
pub(crate) fn id_at(ids: &[u8], i: usize) -> Option<EventId> {
    ids.get(16 * i..16 * i + 16)
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(EventId)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u8, len: usize) -> Entry {
        Entry {
            leaf: Hash([n; 32]),
            chain: Hash([n.wrapping_add(1); 32]),
            id: EventId([n; 16]),
            bytes: vec![n; len],
        }
    }

    #[test]
    fn segments_round_trip_and_refuse_damage() -> Result<(), StoreError> {
        let entries = vec![entry(1, 10), entry(2, 0), entry(3, 700)];
        let (v, ids) = encode(&entries)?;
        let s = View::parse(40, &v)?;
        assert_eq!(s.count(), 3);
        assert!(s.holds(42) && !s.holds(43) && !s.holds(39));
        assert_eq!(s.get(41)?, (Hash([2; 32]), Hash([3; 32]), &[][..]));
        assert_eq!(s.entries(&ids)?, entries);
        assert!(s.get(43).is_err());
        // A cut anywhere before the last record's bytes breaks the framing; a cut inside
        // them leaves a shorter record, which the log's leaf-hash check refuses.
        for cut in 0..v.len() - 700 {
            let r = View::parse(40, &v[..cut]).and_then(|s| s.entries(&ids));
            assert!(r.is_err(), "cut at {cut}");
        }
        Ok(())
    }
}
