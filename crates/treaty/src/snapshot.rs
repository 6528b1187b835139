//! The treaty state as bytes, for a node's snapshots (docs/adr/0019): reopening a ledger
//! loads the newest snapshot and replays only the records after it. A snapshot is a cache
//! of what the fold computed, never evidence: the offline verifier replays every record
//! and reads none, and a node uses one only if it covers records its own checkpoint
//! vouches for and the chain hash it was taken at is the store's.
//!
//! Bytes: `SNAPSHOT_VERSION` (one byte), then the state through serde in bincode's
//! standard configuration (FORMAT.md §1's, without the 4 MiB limit, which is for
//! untrusted input; a snapshot is large). Not canonical and not hashed into the ledger:
//! the store keeps a blake3 hash beside it to catch a damaged file.

use crate::State;

/// The snapshot encoding's version: a state type that changes shape bumps it, and an
/// older snapshot is then ignored (the ledger replays from record 0, as before). Version
/// 2: a case keeps its steps, not copies of its timeline and documents (ADR 0020).
pub const SNAPSHOT_VERSION: u8 = 2;

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

/// The state's snapshot bytes.
pub fn encode(state: &State) -> Result<Vec<u8>, SnapshotError> {
    let mut out = vec![SNAPSHOT_VERSION];
    bincode::serde::encode_into_std_write(state, &mut out, bincode::config::standard())
        .map_err(|e| SnapshotError::Encode(e.to_string()))?;
    Ok(out)
}

/// The state a snapshot holds; all of its bytes must decode.
pub fn decode(bytes: &[u8]) -> Result<State, SnapshotError> {
    let (&version, rest) = bytes
        .split_first()
        .ok_or_else(|| SnapshotError::Decode("empty".into()))?;
    if version != SNAPSHOT_VERSION {
        return Err(SnapshotError::Version(version));
    }
    let (state, used): (State, usize) =
        bincode::serde::decode_from_slice(rest, bincode::config::standard())
            .map_err(|e| SnapshotError::Decode(e.to_string()))?;
    if used != rest.len() {
        return Err(SnapshotError::Decode(format!(
            "{} bytes left over",
            rest.len() - used
        )));
    }
    Ok(state)
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
}
