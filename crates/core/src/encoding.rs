//! The one canonical encoding of everything that is signed or hashed.
//!
//! bincode `=2.0.1`, `config::standard()` (little-endian, variable-length integers),
//! with a decode limit. Decoding is strict: every input byte must be consumed, and the
//! decoded value must re-encode to exactly the input. That second check is what makes
//! the encoding *canonical*: bincode itself accepts padded varints (e.g. `5` written as
//! `0xFB 0x05 0x00`), out-of-range enum tags it happens to map, and so on; we refuse
//! anything that is not the one byte string our encoder would have produced.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest encoded object we ever decode. Records carry document *digests*, never
/// documents, so even a large event is a few KiB; 4 MiB leaves room without letting a
/// hostile length field allocate.
pub const MAX_ENCODED_LEN: usize = 4 * 1024 * 1024;

type Config = bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<MAX_ENCODED_LEN>,
>;

const fn config() -> Config {
    bincode::config::standard().with_limit::<MAX_ENCODED_LEN>()
}

/// Why bytes could not be accepted as the canonical encoding of a value.
///
/// Every variant means the same thing to a caller: the input is not a valid object and
/// must be refused (HTTP 400, or "corrupt" when read back from disk). The variants
/// exist so the message says *why*.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The input is larger than [`MAX_ENCODED_LEN`].
    #[error("encoded object is {len} bytes; the limit is {MAX_ENCODED_LEN}")]
    TooLarge {
        /// Length of the refused input.
        len: usize,
    },
    /// bincode could not read a value (truncated input, bad tag, invalid UTF-8, a
    /// length field beyond the limit, ...).
    #[error("malformed encoding: {0}")]
    Malformed(String),
    /// A value was read but bytes were left over.
    #[error("{trailing} trailing byte(s) after the encoded object")]
    TrailingBytes {
        /// How many bytes were not consumed.
        trailing: usize,
    },
    /// A value was read, but it is not written the one canonical way (for example an
    /// integer padded to a wider form).
    #[error("non-canonical encoding: the value re-encodes to different bytes")]
    NonCanonical,
}

/// Encoding failure. Only possible if a value exceeds [`MAX_ENCODED_LEN`]; callers
/// building events should treat it as "the event is too large".
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cannot encode object: {0}")]
pub struct EncodeError(String);

impl EncodeError {
    /// An encoding error described in words.
    pub(crate) fn from_message(m: &str) -> EncodeError {
        EncodeError(m.to_owned())
    }
}

/// Encodes `value` canonically.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| EncodeError(e.to_string()))
}

/// Decodes `bytes` as `T`, refusing trailing bytes and any non-canonical form.
/// What bincode found wrong, in words (its `Display` is its `Debug`: `UnexpectedEnd {
/// additional: 1 }`), for people reading a refusal.
fn in_words(e: &bincode::error::DecodeError) -> String {
    use bincode::error::DecodeError as B;
    match e {
        B::UnexpectedEnd { additional } => {
            format!("the bytes end early ({additional} more byte(s) expected): cut short?")
        }
        B::LimitExceeded => "a length beyond the limit".into(),
        B::InvalidIntegerType { .. } => "an integer of the wrong width".into(),
        B::NonZeroTypeIsZero { .. } => "a zero where none may be".into(),
        B::UnexpectedVariant {
            type_name, found, ..
        } => format!("no {type_name} has variant number {found}"),
        B::Utf8 { .. } => "text that is not UTF-8".into(),
        B::InvalidCharEncoding(_) => "a character that is not UTF-8".into(),
        B::InvalidBooleanValue(v) => format!("{v} where a boolean (0 or 1) must be"),
        B::ArrayLengthMismatch { required, found } => {
            format!("{found} items where {required} must be")
        }
        B::OutsideUsizeRange(v) => format!("a length of {v}, beyond what can be held"),
        B::EmptyEnum { type_name } => format!("a value of {type_name}, which has none"),
        B::OtherString(s) => s.clone(),
        B::Other(s) => (*s).to_owned(),
        other => format!("{other}"),
    }
}

pub fn decode<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    if bytes.len() > MAX_ENCODED_LEN {
        return Err(DecodeError::TooLarge { len: bytes.len() });
    }
    let (value, read): (T, usize) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| DecodeError::Malformed(in_words(&e)))?;
    if read != bytes.len() {
        return Err(DecodeError::TrailingBytes {
            trailing: bytes.len().saturating_sub(read),
        });
    }
    let again = encode(&value).map_err(|_| DecodeError::NonCanonical)?;
    if again != bytes {
        return Err(DecodeError::NonCanonical);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Sample {
        n: u64,
        flag: bool,
        items: Vec<u8>,
        name: String,
    }

    fn sample() -> Sample {
        Sample {
            n: 5,
            flag: true,
            items: vec![1, 2, 3],
            name: "kz".into(),
        }
    }

    #[test]
    fn round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let bytes = encode(&sample())?;
        assert_eq!(decode::<Sample>(&bytes)?, sample());
        Ok(())
    }

    #[test]
    fn small_integers_take_one_byte() -> Result<(), Box<dyn std::error::Error>> {
        // Pins the varint choice: 5u64 is one byte, 250 is one byte, 251 needs three.
        assert_eq!(encode(&5u64)?, vec![5]);
        assert_eq!(encode(&250u64)?, vec![250]);
        assert_eq!(encode(&251u64)?, vec![0xFB, 251, 0]);
        Ok(())
    }

    #[test]
    fn padded_integer_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let mut bytes = encode(&sample())?;
        // n = 5 is encoded as the single byte 0x05; write it as a u16 varint instead.
        assert_eq!(bytes.first(), Some(&5));
        bytes.splice(0..1, [0xFB, 5, 0]);
        assert_eq!(decode::<Sample>(&bytes), Err(DecodeError::NonCanonical));
        Ok(())
    }

    #[test]
    fn trailing_byte_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let mut bytes = encode(&sample())?;
        bytes.push(0);
        assert_eq!(
            decode::<Sample>(&bytes),
            Err(DecodeError::TrailingBytes { trailing: 1 })
        );
        Ok(())
    }

    #[test]
    fn invalid_bool_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let mut bytes = encode(&sample())?;
        if let Some(b) = bytes.get_mut(1) {
            *b = 2;
        }
        assert!(matches!(
            decode::<Sample>(&bytes),
            Err(DecodeError::Malformed(_))
        ));
        Ok(())
    }

    #[test]
    fn huge_length_is_a_clean_error() -> Result<(), Box<dyn std::error::Error>> {
        // A Vec<u8> / String length field of u64::MAX: varint tag 0xFD + 8 bytes.
        let mut bytes = vec![5u8, 1u8, 0xFD];
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            decode::<Sample>(&bytes),
            Err(DecodeError::Malformed(_))
        ));
        let mut s = vec![0xFDu8];
        s.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            decode::<String>(&s),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            decode::<Vec<u8>>(&s),
            Err(DecodeError::Malformed(_))
        ));
        Ok(())
    }

    #[test]
    fn oversized_input_is_refused_before_parsing() {
        let bytes = vec![0u8; MAX_ENCODED_LEN + 1];
        assert_eq!(
            decode::<Vec<u8>>(&bytes),
            Err(DecodeError::TooLarge {
                len: MAX_ENCODED_LEN + 1
            })
        );
    }

    #[test]
    fn truncated_input_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let bytes = encode(&sample())?;
        for cut in 0..bytes.len() {
            let prefix = bytes.get(..cut).unwrap_or_default();
            assert!(
                decode::<Sample>(prefix).is_err(),
                "prefix of {cut} accepted"
            );
        }
        Ok(())
    }
}
