//! Serde for fixed-size byte values (hashes, keys, signatures, ids): lower-case hex text
//! in human-readable formats (JSON, TOML: event files, the CLI's `--json`, the node's
//! API), and exactly the bytes the derived implementation wrote in binary formats.
//!
//! The binary branch is what the canonical encoding (bincode) sees, so it must never
//! change: it delegates to a derived representation with the type's own name, and the
//! golden vectors (crates/core/tests/vectors/golden.txt) pin the result.

/// Implements `Serialize` and `Deserialize` for `$ty`, a tuple struct around `[u8; $n]`
/// (`$n <= 32`) whose derived serde name was `$name`, as hex text in human-readable formats and as the derived newtype of a
/// byte array otherwise.
#[macro_export]
macro_rules! hex_serde {
    ($ty:ident, $n:literal, $name:literal) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                #[derive(::serde::Serialize)]
                #[serde(rename = $name)]
                struct Repr<'a>(&'a [u8; $n]);
                if s.is_human_readable() {
                    s.serialize_str(&$crate::hexserde::to_hex(&self.0))
                } else {
                    Repr(&self.0).serialize(s)
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(::serde::Deserialize)]
                #[serde(rename = $name)]
                struct Repr([u8; $n]);
                if d.is_human_readable() {
                    let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                    $crate::hexserde::from_hex::<$n>(&s)
                        .map($ty)
                        .map_err(::serde::de::Error::custom)
                } else {
                    <Repr as ::serde::Deserialize>::deserialize(d).map(|r| $ty(r.0))
                }
            }
        }
    };
}

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Exactly `2 * N` hex digits into `N` bytes.
pub fn from_hex<const N: usize>(s: &str) -> Result<[u8; N], String> {
    decode_lower::<N>(s).ok_or_else(|| {
        format!(
            "expected {} lower-case hex digits (0-9, a-f), got {:?}",
            2 * N,
            s
        )
    })
}

/// `N` bytes from exactly `2N` lower-case hex digits: the one rule for every hex value
/// coopledger reads (ids, hashes, keys, signatures; in files, on the command line and
/// over HTTP). Upper case is refused, so one value has one text (docs/FORMAT.md §4).
pub fn decode_lower<const N: usize>(s: &str) -> Option<[u8; N]> {
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use crate::{EventId, Hash, PublicKey, Signature, encoding};

    /// Issue 26, finding 9: an upper-case hex id was accepted (and appended), though the
    /// docs and the schema say lower case. One rule everywhere: refused, by JSON, TOML
    /// and every `from_hex`.
    #[test]
    fn upper_case_hex_is_refused_everywhere() {
        let lower = "ab".repeat(16);
        let upper = "AB".repeat(16);
        let mixed = format!("A{}", &lower[1..]);
        assert!(crate::CaseId::from_hex(&lower).is_ok());
        for bad in [&upper, &mixed] {
            assert!(crate::CaseId::from_hex(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<crate::CaseId>(&format!("\"{bad}\"")).is_err());
            assert!(Hash::from_hex(&bad.repeat(2)).is_err());
            assert!(crate::PublicKey::from_hex(&bad.repeat(2)).is_err());
        }
        assert!(Hash::from_hex(&lower.repeat(2)).is_ok());
    }

    #[test]
    fn json_is_hex_and_round_trips() -> Result<(), Box<dyn std::error::Error>> {
        let h = Hash([0xAB; 32]);
        let j = serde_json::to_string(&h)?;
        assert_eq!(j, format!("\"{}\"", "ab".repeat(32)));
        assert_eq!(serde_json::from_str::<Hash>(&j)?, h);
        let id = EventId([1; 16]);
        assert_eq!(
            serde_json::to_string(&id)?,
            format!("\"{}\"", "01".repeat(16))
        );
        let sig = Signature([7; 64]);
        let j = serde_json::to_string(&sig)?;
        assert_eq!(serde_json::from_str::<Signature>(&j)?, sig);
        assert!(serde_json::from_str::<PublicKey>("\"abc\"").is_err());
        assert!(serde_json::from_str::<Hash>("\"zz\"").is_err());
        Ok(())
    }

    #[test]
    fn binary_form_is_the_raw_bytes() -> Result<(), Box<dyn std::error::Error>> {
        // The canonical encoding of a 32-byte value is the 32 bytes, no length prefix.
        assert_eq!(encoding::encode(&Hash([9; 32]))?, vec![9; 32]);
        assert_eq!(encoding::encode(&Signature([3; 64]))?, vec![3; 64]);
        assert_eq!(encoding::encode(&EventId([5; 16]))?, vec![5; 16]);
        Ok(())
    }
}
