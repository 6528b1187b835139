//! The treaty state as bytes, for a node's snapshots (docs/adr/0019): reopening a ledger
//! loads the newest snapshot and replays only the records after it. A snapshot is a cache
//! of what the fold computed, never evidence: the offline verifier replays every record
//! and reads none, and a node uses one only if it covers records its own checkpoint
//! vouches for and the chain hash it was taken at is the store's.
//!
//! Bytes: `SNAPSHOT_VERSION` (one byte), then the state in *parts* (FORMAT.md §10.3): the
//! state without its cases and register, then the cases and the register's items in
//! runs of at most [`PER_PART`], each part a byte string of its own. The parts are
//! independent, so a node decodes them on all its cores ([`Parts`]; this crate has no
//! threads) and assembles them in order. Each is serde in bincode's standard
//! configuration (FORMAT.md §1's, without the 4 MiB limit, which is for untrusted input;
//! a snapshot is large). Not canonical and not hashed into the ledger: the store keeps a
//! blake3 hash beside it to catch a damaged file.

use crate::{Case, Item, State};
use std::sync::Arc;

/// The snapshot encoding's version: a state type that changes shape bumps it, and an
/// older snapshot is then ignored (the ledger replays from record 0, as before). Version
/// 2: a case keeps its steps, not copies of its timeline and documents (ADR 0020).
/// Version 3: the state in parts, decoded in parallel (ADR 0021).
pub const SNAPSHOT_VERSION: u8 = 3;

/// Cases (or items) per part: about 5 MB of bytes at the benchmark's cases, so that a
/// ledger of 10^6 records has a dozen parts of each to share among the cores.
pub const PER_PART: usize = 16_384;

/// A snapshot that cannot be used. The node ignores it and replays every record.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SnapshotError {
    /// Written by another version of the state: replay instead.
    #[error("a snapshot of version {0}, not {SNAPSHOT_VERSION}")]
    Version(u8),
    /// The bytes do not decode to a state (damaged or truncated): replay instead.
    #[error("the snapshot does not decode: {0}")]
    Decode(String),
    /// The state could not be encoded (a bug): no snapshot is taken.
    #[error("the state does not encode: {0}")]
    Encode(String),
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// The state's snapshot bytes, in parts of at most [`PER_PART`] cases or items.
pub fn encode(state: &State) -> Result<Vec<u8>, SnapshotError> {
    encode_in(state, PER_PART)
}

/// [`encode`] with `per_part` cases or items to a part (at least one).
pub fn encode_in(state: &State, per_part: usize) -> Result<Vec<u8>, SnapshotError> {
    let per_part = per_part.max(1);
    // The state without its two large maps (an O(1) copy: ADR 0021).
    let head = State {
        cases: Default::default(),
        register: Default::default(),
        ..state.clone()
    };
    let mut parts = vec![bytes(&head)?];
    let cases: Vec<&Arc<Case>> = state.cases.values().collect();
    for run in cases.chunks(per_part) {
        parts.push(bytes(run)?);
    }
    let case_parts = (parts.len() - 1) as u64;
    let items: Vec<&Arc<Item>> = state.register.values().collect();
    for run in items.chunks(per_part) {
        parts.push(bytes(run)?);
    }
    let mut out = vec![SNAPSHOT_VERSION];
    let framed = (
        case_parts,
        parts.iter().map(|p| Bytes(p)).collect::<Vec<_>>(),
    );
    bincode::serde::encode_into_std_write(&framed, &mut out, config())
        .map_err(|e| SnapshotError::Encode(e.to_string()))?;
    Ok(out)
}

fn bytes<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, SnapshotError> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| SnapshotError::Encode(e.to_string()))
}

/// A byte string through serde (bincode: its length, then its bytes).
struct Bytes<'a>(&'a [u8]);

impl serde::Serialize for Bytes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// A snapshot split into its parts, not yet decoded: [`Parts::decode`] each (in any
/// order, on any thread), then [`Parts::assemble`] them in index order.
#[derive(Debug)]
pub struct Parts<'a> {
    parts: Vec<&'a [u8]>,
    case_parts: usize,
}

/// One decoded part.
#[derive(Debug)]
pub enum Part {
    /// The state without its cases and register (boxed: the runs are small).
    Head(Box<State>),
    /// A run of cases, in id order.
    Cases(Vec<Arc<Case>>),
    /// A run of the register's items, in (case, item) order.
    Items(Vec<Arc<Item>>),
}

/// The parts of a snapshot's bytes.
pub fn parts(bytes: &[u8]) -> Result<Parts<'_>, SnapshotError> {
    let (&version, rest) = bytes
        .split_first()
        .ok_or_else(|| SnapshotError::Decode("empty".into()))?;
    if version != SNAPSHOT_VERSION {
        return Err(SnapshotError::Version(version));
    }
    let ((case_parts, parts), used): ((u64, Vec<&[u8]>), usize) =
        bincode::serde::borrow_decode_from_slice(rest, config())
            .map_err(|e| SnapshotError::Decode(e.to_string()))?;
    left_over(rest.len(), used)?;
    let case_parts = usize::try_from(case_parts)
        .ok()
        .filter(|c| *c < parts.len())
        .ok_or_else(|| {
            SnapshotError::Decode(format!(
                "{case_parts} parts of cases in {} parts",
                parts.len()
            ))
        })?;
    Ok(Parts { parts, case_parts })
}

fn left_over(len: usize, used: usize) -> Result<(), SnapshotError> {
    if used != len {
        return Err(SnapshotError::Decode(format!(
            "{} bytes left over",
            len - used
        )));
    }
    Ok(())
}

fn part_of<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, SnapshotError> {
    let (value, used) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| SnapshotError::Decode(e.to_string()))?;
    left_over(bytes.len(), used)?;
    Ok(value)
}

impl Parts<'_> {
    /// How many parts there are (at least one: the head).
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Never: a snapshot has at least its head.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Decodes part `i`; every byte of it must decode.
    pub fn decode(&self, i: usize) -> Result<Part, SnapshotError> {
        let bytes = self
            .parts
            .get(i)
            .ok_or_else(|| SnapshotError::Decode(format!("no part {i}")))?;
        Ok(match i {
            0 => Part::Head(Box::new(part_of(bytes)?)),
            i if i <= self.case_parts => Part::Cases(part_of(bytes)?),
            _ => Part::Items(part_of(bytes)?),
        })
    }

    /// The state from its decoded parts, in index order: the head, the runs of cases,
    /// the runs of items. Each run must continue the one before in strictly increasing
    /// key order (a repeated or misplaced case would otherwise vanish into the map).
    pub fn assemble(&self, parts: Vec<Part>) -> Result<State, SnapshotError> {
        let wrong = |what: &str| SnapshotError::Decode(what.to_owned());
        if parts.len() != self.parts.len() {
            return Err(wrong("parts missing"));
        }
        let mut parts = parts.into_iter();
        let Some(Part::Head(state)) = parts.next() else {
            return Err(wrong("the first part is not the state's head"));
        };
        let mut state = *state;
        if !state.cases.is_empty() || !state.register.is_empty() {
            return Err(wrong("the head holds cases"));
        }
        let mut cases = Vec::new();
        let mut items = Vec::new();
        for (i, part) in parts.enumerate() {
            match part {
                Part::Cases(run) if i < self.case_parts => cases.extend(run),
                Part::Items(run) if i >= self.case_parts => items.extend(run),
                _ => return Err(wrong("a part out of place")),
            }
        }
        if !cases
            .iter()
            .zip(cases.iter().skip(1))
            .all(|(a, b)| a.id < b.id)
        {
            return Err(wrong("cases out of order or repeated"));
        }
        if !items
            .iter()
            .zip(items.iter().skip(1))
            .all(|(a, b)| (a.case, a.id) < (b.case, b.id))
        {
            return Err(wrong("items out of order or repeated"));
        }
        state.cases = cases.into_iter().map(|c| (c.id, c)).collect();
        state.register = items.into_iter().map(|i| ((i.case, i.id), i)).collect();
        Ok(state)
    }
}

/// The state a snapshot holds, its parts decoded one after another; all of its bytes
/// must decode.
pub fn decode(bytes: &[u8]) -> Result<State, SnapshotError> {
    let p = parts(bytes)?;
    let decoded = (0..p.len())
        .map(|i| p.decode(i))
        .collect::<Result<Vec<_>, _>>()?;
    p.assemble(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_state_round_trips_and_damage_is_refused() {
        let f = crate::testkit::fixture::ledger().expect("fixture");
        let state = State::replay(f.records.iter().map(|r| &r.record)).expect("replay");
        let bytes = encode(&state).expect("encode");
        assert_eq!(decode(&bytes).expect("decode"), state);
        assert!(matches!(
            decode(&bytes[..bytes.len() - 1]),
            Err(SnapshotError::Decode(_))
        ));
        let mut other = bytes.clone();
        other[0] = SNAPSHOT_VERSION + 1;
        assert_eq!(
            decode(&other),
            Err(SnapshotError::Version(SNAPSHOT_VERSION + 1))
        );
        let mut longer = bytes;
        longer.push(0);
        assert!(matches!(decode(&longer), Err(SnapshotError::Decode(_))));
    }

    /// The state's persistent maps and lists (ADR 0021) encode as `BTreeMap` and `Vec` do,
    /// and shared values (`Arc`) as the values themselves, as FORMAT.md §10.3 says of the
    /// head's maps. Guards an upgrade of `imbl` too.
    #[test]
    fn persistent_maps_and_shared_values_encode_as_plain_ones() {
        let bytes = |v: &dyn erased::Encode| v.bytes();
        let pairs: Vec<(u32, String)> = (0..40u32)
            .rev()
            .map(|i| (i * 1000, format!("value {i}")))
            .collect();
        let plain: std::collections::BTreeMap<_, _> = pairs.iter().cloned().collect();
        let persistent: crate::state::Map<u32, String> = pairs.iter().cloned().collect();
        assert_eq!(bytes(&plain), bytes(&persistent));
        let shared: crate::state::Map<u32, std::sync::Arc<String>> = pairs
            .iter()
            .map(|(k, v)| (*k, std::sync::Arc::new(v.clone())))
            .collect();
        assert_eq!(bytes(&plain), bytes(&shared));
        let list: Vec<_> = pairs.to_vec();
        let vector: imbl::Vector<_> = pairs.iter().cloned().collect();
        assert_eq!(bytes(&list), bytes(&vector));
        assert_ne!(bytes(&list), bytes(&plain), "a list and a map differ");
    }

    #[test]
    fn parts_decode_in_any_order_and_assemble_only_in_theirs() {
        let f = crate::testkit::fixture::ledger().expect("fixture");
        let state = State::replay(f.records.iter().map(|r| &r.record)).expect("replay");
        assert!(state.cases.len() >= 3 && !state.register.is_empty());
        // Given the fixture's state in parts of one case or item each
        let bytes = encode_in(&state, 1).expect("encode");
        let p = parts(&bytes).expect("parts");
        assert_eq!(p.len(), 1 + state.cases.len() + state.register.len());
        // When they are decoded last to first (as threads may finish)
        let mut decoded: Vec<(usize, Part)> = (0..p.len())
            .rev()
            .map(|i| (i, p.decode(i).expect("a part decodes")))
            .collect();
        decoded.sort_by_key(|(i, _)| *i);
        let in_order: Vec<Part> = decoded.into_iter().map(|(_, part)| part).collect();
        // Then, put back in order, they are the state
        assert_eq!(p.assemble(in_order).expect("assembles"), state);
        assert_eq!(decode(&bytes).expect("decode"), state);
        // and two runs of cases swapped, or a run missing, are refused
        let mut swapped: Vec<Part> = (0..p.len()).map(|i| p.decode(i).expect("part")).collect();
        swapped.swap(1, 2);
        assert_eq!(
            p.assemble(swapped).map(|_| ()),
            Err(SnapshotError::Decode(
                "cases out of order or repeated".into()
            ))
        );
        let mut short: Vec<Part> = (0..p.len()).map(|i| p.decode(i).expect("part")).collect();
        short.pop();
        assert!(p.assemble(short).is_err());
        // and so is a run of items where cases belong
        let mut misplaced: Vec<Part> = (0..p.len()).map(|i| p.decode(i).expect("part")).collect();
        let last = misplaced.len() - 1;
        misplaced.swap(1, last);
        assert_eq!(
            p.assemble(misplaced).map(|_| ()),
            Err(SnapshotError::Decode("a part out of place".into()))
        );
    }

    #[test]
    fn a_version_2_snapshot_is_ignored_not_misread() {
        let f = crate::testkit::fixture::ledger().expect("fixture");
        let state = State::replay(f.records.iter().map(|r| &r.record)).expect("replay");
        // Version 2's bytes: the whole state through serde, after the version byte.
        let mut v2 = vec![2u8];
        v2.extend(bincode::serde::encode_to_vec(&state, config()).expect("encodes"));
        assert_eq!(decode(&v2), Err(SnapshotError::Version(2)));
    }

    mod erased {
        /// Anything serde can write, as bincode's standard bytes.
        pub trait Encode {
            fn bytes(&self) -> Vec<u8>;
        }
        impl<T: serde::Serialize> Encode for T {
            fn bytes(&self) -> Vec<u8> {
                bincode::serde::encode_to_vec(self, bincode::config::standard()).expect("encodes")
            }
        }
    }
}
