//! Writing over stored records, to test that damage is found (in-crate tests only: a
//! store never writes over a record).

use super::*;

impl SledStore {
    /// The whole segment holding `seq`, as owned entries.
    fn segment_entries(&self, seq: u64) -> Result<Option<(u64, Vec<segment::Entry>)>, StoreError> {
        let Some((first, v)) = self.segment(seq)? else {
            return Ok(None);
        };
        let ids = self
            .tree()?
            .get(key(kind::IDS, first))
            .map_err(io)?
            .ok_or_else(|| {
                corrupt(
                    Some(first),
                    "the event-id list of a record segment is missing",
                )
            })?;
        Ok(Some((
            first,
            segment::View::parse(first, &v)?.entries(&ids)?,
        )))
    }

    /// Removes a record, bypassing every check, to test that damage is detected: its
    /// segment is split around it.
    #[doc(hidden)]
    pub fn damage_record(&self, seq: u64) -> Result<(), StoreError> {
        // What waits for sled goes there first: the damage is to sled.
        self.settle(Duration::from_secs(30));
        let Some((first, entries)) = self.segment_entries(seq)? else {
            return Ok(());
        };
        let at = usize::try_from(seq - first).map_err(io)?;
        let (before, after) = entries.split_at(at);
        let after = after.get(1..).unwrap_or_default();
        let mut ops = Ops::new();
        put_segment(&mut ops, first, before)?;
        put_segment(&mut ops, seq + 1, after)?;
        let mut batch = sled::Batch::default();
        batch.remove(&key(kind::RECORD, first));
        batch.remove(&key(kind::IDS, first));
        for (k, v) in ops {
            batch.insert(k, v);
        }
        self.tree()?.apply_batch(batch).map_err(io)?;
        if let Ok(mut ids) = self.ids.write() {
            ids.forget_seq(seq);
        }
        self.sync()
    }
}

impl SledStore {
    /// Writes `e` over stored record `seq` (or into the hole a removed record left).
    pub(super) fn overwrite(
        &self,
        touched: &mut BTreeMap<u64, Vec<segment::Entry>>,
        seq: u64,
        e: segment::Entry,
    ) -> Result<(), StoreError> {
        if !self.rewrite(touched, seq, |old| *old = e.clone())? {
            // A hole left by a removed record: a segment of its own.
            touched.insert(seq, vec![e]);
        }
        Ok(())
    }

    /// Replaces the leaf hash stored with record `seq`.
    pub(super) fn overwrite_leaf(
        &self,
        touched: &mut BTreeMap<u64, Vec<segment::Entry>>,
        seq: u64,
        leaf: Hash,
    ) -> Result<(), StoreError> {
        self.rewrite(touched, seq, |old| old.leaf = leaf)?;
        Ok(())
    }

    /// Applies `f` to stored record `seq` in `touched` (loading its segment first);
    /// `false` if no segment holds it.
    fn rewrite(
        &self,
        touched: &mut BTreeMap<u64, Vec<segment::Entry>>,
        seq: u64,
        f: impl FnOnce(&mut segment::Entry),
    ) -> Result<bool, StoreError> {
        let held = touched
            .range(..=seq)
            .next_back()
            .is_some_and(|(first, es)| seq - first < es.len() as u64);
        if !held {
            match self.segment_entries(seq)? {
                Some((first, es)) => {
                    touched.insert(first, es);
                }
                None => return Ok(false),
            }
        }
        let slot = touched
            .range_mut(..=seq)
            .next_back()
            .and_then(|(first, es)| es.get_mut(usize::try_from(seq - first).ok()?));
        match slot {
            Some(e) => {
                f(e);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
