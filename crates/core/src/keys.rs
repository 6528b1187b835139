//! Ed25519 keys and signatures, with the strict verdicts an auditor can rely on.
//!
//! Decisions (docs/adr/0002-ed25519-strict.md):
//! - every verdict uses `verify_strict` (no small-order R or A, canonical S);
//! - a public key is *registered* only through [`PublicKey::check`], which refuses
//!   points that do not decompress, encodings that are not canonical (y ≥ p, or the sign
//!   bit set for x = 0), weak (small-order) points, and points with a torsion component
//!   (not in the prime-order subgroup): on such keys Ed25519 libraries disagree, and a
//!   signature accepted here could be refused elsewhere, or the other way round (the
//!   C2SP/CCTV edge-case vectors, `crates/core/tests/vectors/ed25519vectors.json`);
//! - private keys travel as PKCS#8 v1 PEM, optionally encrypted (PBES2: PBKDF2-HMAC-SHA256
//!   with 600,000 iterations + AES-256-CBC, which a browser's WebCrypto opens natively, so
//!   a clerk signs in with the very file `keygen --encrypt` wrote; ADR 0024), so `openssl
//!   pkey` can read them; keys protected with scrypt before are still read; in memory they
//!   are zeroized on drop and `Debug` prints only the public half.

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, KeypairBytes};
use pkcs8::der::pem::LineEnding;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// An Ed25519 public key as 32 bytes. Holding one says nothing about validity: call
/// [`PublicKey::check`] before trusting it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

crate::hex_serde!(PublicKey, 32, "PublicKey");

/// An Ed25519 signature (R || S), 64 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

/// Why a key or a signature was not accepted.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// The 32 bytes are not a point on the curve. Refuse the key.
    #[error("public key {0} is not a valid Ed25519 point")]
    InvalidPoint(String),
    /// The key is a small-order ("weak") point: anyone can forge signatures that verify
    /// under it for some messages. Refuse the key.
    #[error("public key {0} is a weak (small-order) Ed25519 key and cannot be registered")]
    WeakKey(String),
    /// The 32 bytes are a second spelling of a point (y not reduced modulo p, or the
    /// sign bit set where x = 0): libraries disagree on such keys. Refuse the key.
    #[error("public key {0} is not canonically encoded and cannot be registered")]
    NonCanonical(String),
    /// The point has a small-order (torsion) component: cofactored and cofactorless
    /// verifiers give different verdicts on its signatures. Refuse the key.
    #[error(
        "public key {0} is not in the prime-order subgroup (it has a torsion component) and cannot be registered"
    )]
    TorsionComponent(String),
    /// The signature does not verify strictly for this key and message. Refuse the
    /// signed object.
    #[error("signature does not verify (strict Ed25519) for key {0}")]
    BadSignature(String),
    /// The PEM text is not a PKCS#8 Ed25519 private key. Check the file.
    #[error("not a PKCS#8 Ed25519 private key: {0}")]
    BadPem(String),
    /// The key file is encrypted and no passphrase was given. Supply one.
    #[error("the private key is encrypted; a passphrase is required")]
    PassphraseRequired,
    /// Decryption failed: wrong passphrase or damaged file.
    #[error("cannot decrypt the private key (wrong passphrase or damaged file)")]
    WrongPassphrase,
}

impl PublicKey {
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 lower-case hex digits (the key is *not* checked; see
    /// [`PublicKey::check`]).
    pub fn from_hex(s: &str) -> Result<PublicKey, KeyError> {
        crate::hexserde::decode_lower::<32>(s)
            .map(PublicKey)
            .ok_or_else(|| KeyError::InvalidPoint(s.to_owned()))
    }

    /// Decompresses the key and refuses every key on which Ed25519 implementations may
    /// disagree: not a point, not canonically encoded, small order, or with a torsion
    /// component. Every place a key enters (events, genesis, registrations, note
    /// verifier keys) goes through this; verification goes through it too.
    pub fn check(&self) -> Result<ed25519_dalek::VerifyingKey, KeyError> {
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&self.0)
            .map_err(|_| KeyError::InvalidPoint(self.to_hex()))?;
        let point = vk.to_edwards();
        // Decompression reduces y modulo p and ignores the sign of x = 0: re-encoding
        // shows whether these bytes were the one canonical spelling.
        if point.compress().to_bytes() != self.0 {
            return Err(KeyError::NonCanonical(self.to_hex()));
        }
        if vk.is_weak() {
            return Err(KeyError::WeakKey(self.to_hex()));
        }
        if !point.is_torsion_free() {
            return Err(KeyError::TorsionComponent(self.to_hex()));
        }
        Ok(vk)
    }

    /// Strict verification of `signature` over `message`.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), KeyError> {
        self.checked()?.verify(message, signature)
    }

    /// The key decompressed and checked once ([`PublicKey::check`]), for verifying many
    /// signatures by the same key without paying for decompression each time.
    pub fn checked(&self) -> Result<CheckedKey, KeyError> {
        Ok(CheckedKey {
            key: *self,
            vk: self.check()?,
        })
    }
}

/// A public key that decompressed and is not weak. Verdicts are the same as
/// [`PublicKey::verify`]'s: `verify_strict`, always.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckedKey {
    key: PublicKey,
    vk: ed25519_dalek::VerifyingKey,
}

impl CheckedKey {
    /// The key.
    pub fn public(&self) -> PublicKey {
        self.key
    }

    /// Strict verification of `signature` over `message`.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), KeyError> {
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.vk
            .verify_strict(message, &sig)
            .map_err(|_| KeyError::BadSignature(self.key.to_hex()))
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Signature {
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({})", self.to_hex())
    }
}

// serde implements arrays only up to 32 elements; a signature is written as a 64-tuple of
// bytes, which bincode encodes as 64 raw bytes (no length prefix). Human-readable formats
// get hex, as for the other byte values (crate::hexserde).
impl Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        if s.is_human_readable() {
            return s.serialize_str(&self.to_hex());
        }
        let mut t = s.serialize_tuple(64)?;
        for b in &self.0 {
            t.serialize_element(b)?;
        }
        t.end()
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            return crate::hexserde::from_hex::<64>(&s)
                .map(Signature)
                .map_err(serde::de::Error::custom);
        }
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Signature;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("64 signature bytes")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Signature, A::Error> {
                let mut out = [0u8; 64];
                for (i, slot) in out.iter_mut().enumerate() {
                    *slot = a
                        .next_element()?
                        .ok_or_else(|| serde::de::Error::invalid_length(i, &self))?;
                }
                Ok(Signature(out))
            }
        }
        d.deserialize_tuple(64, V)
    }
}

/// An Ed25519 private key. Zeroized on drop; `Debug` shows only the public key.
pub struct SecretKey {
    inner: ed25519_dalek::SigningKey,
}

impl SecretKey {
    /// A new random key; the randomness comes from the caller.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> SecretKey {
        SecretKey {
            inner: ed25519_dalek::SigningKey::generate(rng),
        }
    }

    /// The key whose RFC 8032 seed is `seed`. For fixtures and golden vectors.
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        SecretKey {
            inner: ed25519_dalek::SigningKey::from_bytes(seed),
        }
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.inner.verifying_key().to_bytes())
    }

    /// Signs `message` (deterministic, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> Signature {
        use ed25519_dalek::Signer;
        Signature(self.inner.sign(message).to_bytes())
    }

    /// Unencrypted PKCS#8 v1 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        let der = self.pkcs8_der()?;
        der.to_pem("PRIVATE KEY", LineEnding::LF)
            .map_err(|e| KeyError::BadPem(e.to_string()))
    }

    /// PBKDF2 iterations of an encrypted key: OWASP's figure for PBKDF2-HMAC-SHA256
    /// (2023), about half a second in a browser.
    pub const PBKDF2_ITERATIONS: u32 = 600_000;

    /// Encrypted PKCS#8 PEM (`-----BEGIN ENCRYPTED PRIVATE KEY-----`): PBES2 with
    /// PBKDF2-HMAC-SHA256 ([`Self::PBKDF2_ITERATIONS`]) and AES-256-CBC, what WebCrypto
    /// decrypts without any library (scrypt it lacks); salt and IV come from `rng`.
    pub fn to_encrypted_pem<R: CryptoRng>(
        &self,
        passphrase: &[u8],
        rng: &mut R,
    ) -> Result<Zeroizing<String>, KeyError> {
        let der = self.pkcs8_der()?;
        let info = pkcs8::PrivateKeyInfoRef::try_from(der.as_bytes())
            .map_err(|e| KeyError::BadPem(e.to_string()))?;
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        rng.fill_bytes(&mut salt);
        rng.fill_bytes(&mut iv);
        let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
            Self::PBKDF2_ITERATIONS,
            &salt,
            iv,
        )
        .map_err(|e| KeyError::BadPem(e.to_string()))?;
        let enc = info
            .encrypt_with_params(params, passphrase)
            .map_err(|e| KeyError::BadPem(e.to_string()))?;
        enc.to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .map_err(|e| KeyError::BadPem(e.to_string()))
    }

    /// Reads a PKCS#8 PEM private key, encrypted or not. `passphrase` is required for an
    /// encrypted key and ignored otherwise.
    pub fn from_pem(pem: &str, passphrase: Option<&[u8]>) -> Result<SecretKey, KeyError> {
        let inner = if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            let pass = passphrase.ok_or(KeyError::PassphraseRequired)?;
            ed25519_dalek::SigningKey::from_pkcs8_encrypted_pem(pem, pass).map_err(|e| match e {
                pkcs8::Error::EncryptedPrivateKey(_) => KeyError::WrongPassphrase,
                other => KeyError::BadPem(other.to_string()),
            })?
        } else {
            ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
                .map_err(|e| KeyError::BadPem(e.to_string()))?
        };
        Ok(SecretKey { inner })
    }

    fn pkcs8_der(&self) -> Result<pkcs8::SecretDocument, KeyError> {
        // v1 (seed only) is what `openssl genpkey` writes and every reader accepts.
        let kp = KeypairBytes {
            secret_key: self.inner.to_bytes(),
            public_key: None,
        };
        let der = kp
            .to_pkcs8_der()
            .map_err(|e| KeyError::BadPem(e.to_string()));
        drop(kp);
        der
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SecretKey(public: {}, secret: <redacted>)",
            self.public().to_hex()
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Deterministic test randomness; never used outside tests.
    pub(crate) fn test_rng(seed: &[u8]) -> crate::rng::XofRng {
        crate::rng::XofRng::from_seed(zeroize::Zeroizing::new(*blake3::hash(seed).as_bytes()))
    }

    #[test]
    fn sign_and_verify_strict() {
        let sk = SecretKey::from_seed(&[1; 32]);
        let sig = sk.sign(b"hello");
        assert_eq!(sk.public().verify(b"hello", &sig), Ok(()));
        assert!(matches!(
            sk.public().verify(b"hellO", &sig),
            Err(KeyError::BadSignature(_))
        ));
    }

    #[test]
    fn weak_keys_are_refused() {
        // The identity point (y = 1) has order 1; this encoding is small-order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(
            PublicKey(identity).check(),
            Err(KeyError::WeakKey(_))
        ));
        // A point of order 8 (from the well-known list of small-order points).
        let order8 =
            hex_literal("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a");
        assert!(matches!(
            PublicKey(order8).check(),
            Err(KeyError::WeakKey(_))
        ));
    }

    #[test]
    fn signature_under_weak_key_is_refused_even_if_it_would_verify_leniently() {
        // With A = identity and R = identity, S = 0 satisfies the cofactored and the
        // cofactorless equations for every message; strict verification must refuse it.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut sig = [0u8; 64];
        sig[0] = 1; // R = identity, S = 0
        assert!(PublicKey(identity).verify(b"any", &Signature(sig)).is_err());
    }

    #[test]
    fn non_canonical_s_is_refused() {
        let sk = SecretKey::from_seed(&[2; 32]);
        let mut sig = sk.sign(b"m");
        // S + L (the group order) is the same scalar in lenient verifiers; strict refuses.
        let l: [u8; 32] =
            hex_literal("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
        let mut carry = 0u16;
        for (s_byte, l_byte) in sig.0[32..].iter_mut().zip(l) {
            let sum = u16::from(*s_byte) + u16::from(l_byte) + carry;
            *s_byte = (sum & 0xff) as u8;
            carry = sum >> 8;
        }
        assert!(sk.public().verify(b"m", &sig).is_err());
    }

    #[test]
    fn invalid_point_is_refused() {
        // y = 2 is not on the curve.
        let mut bad = [0u8; 32];
        bad[0] = 2;
        assert!(matches!(
            PublicKey(bad).check(),
            Err(KeyError::InvalidPoint(_))
        ));
    }

    #[test]
    fn pem_round_trip_plain_and_encrypted() -> Result<(), KeyError> {
        let sk = SecretKey::from_seed(&[3; 32]);
        let pem = sk.to_pem()?;
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert_eq!(SecretKey::from_pem(&pem, None)?.public(), sk.public());

        let mut rng = test_rng(b"pem");
        let enc = sk.to_encrypted_pem(b"correct horse", &mut rng)?;
        assert!(enc.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        // PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC: what a browser opens (ADR 0024).
        let (_, doc) =
            pkcs8::SecretDocument::from_pem(&enc).map_err(|e| KeyError::BadPem(e.to_string()))?;
        let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(doc.as_bytes())
            .map_err(|e| KeyError::BadPem(e.to_string()))?;
        let pbes2 = info
            .encryption_algorithm
            .pbes2()
            .ok_or_else(|| KeyError::BadPem("not PBES2".into()))?;
        let pbkdf2 = pbes2
            .kdf
            .pbkdf2()
            .ok_or_else(|| KeyError::BadPem("not PBKDF2".into()))?;
        assert_eq!(pbkdf2.iteration_count, SecretKey::PBKDF2_ITERATIONS);
        assert_eq!(pbes2.encryption.oid(), pkcs8::pkcs5::pbes2::AES_256_CBC_OID);
        // A key protected with scrypt before (the earlier default) is still read.
        let der = sk.pkcs8_der()?;
        let old = pkcs8::PrivateKeyInfoRef::try_from(der.as_bytes())
            .map_err(|e| KeyError::BadPem(e.to_string()))?
            .encrypt_with_rng(&mut rng, b"correct horse")
            .map_err(|e| KeyError::BadPem(e.to_string()))?
            .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .map_err(|e| KeyError::BadPem(e.to_string()))?;
        assert_eq!(
            SecretKey::from_pem(&old, Some(b"correct horse"))?.public(),
            sk.public()
        );
        assert_eq!(
            SecretKey::from_pem(&enc, Some(b"correct horse"))?.public(),
            sk.public()
        );
        assert!(matches!(
            SecretKey::from_pem(&enc, None),
            Err(KeyError::PassphraseRequired)
        ));
        assert!(matches!(
            SecretKey::from_pem(&enc, Some(b"wrong")),
            Err(KeyError::WrongPassphrase)
        ));
        assert!(matches!(
            SecretKey::from_pem(
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                None
            ),
            Err(KeyError::BadPem(_))
        ));
        Ok(())
    }

    #[test]
    fn debug_never_prints_the_secret() -> Result<(), KeyError> {
        let seed = [0x5a; 32];
        let sk = SecretKey::from_seed(&seed);
        let shown = format!("{sk:?}");
        assert!(shown.contains("redacted"));
        assert!(!shown.contains(&hex::encode(seed)));
        assert!(!shown.contains("5a5a5a"));
        Ok(())
    }

    pub(crate) fn hex_literal<const N: usize>(s: &str) -> [u8; N] {
        let mut out = [0u8; N];
        let ok = hex::decode_to_slice(s, &mut out).is_ok();
        assert!(ok, "bad hex literal in test");
        out
    }
}
