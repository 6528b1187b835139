//! A cryptographically strong generator from a 32-byte seed: blake3's extendable output,
//! keyed with the seed. coop-core draws no randomness of its own; callers seed this from
//! the operating system (the CLI) or with a fixed value (tests).

use zeroize::Zeroizing;

/// Randomness for key generation, PEM encryption salts and ids.
pub struct XofRng(blake3::OutputReader);

impl std::fmt::Debug for XofRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("XofRng")
    }
}

impl XofRng {
    /// A generator keyed with `seed` (which the caller should then forget).
    pub fn from_seed(seed: Zeroizing<[u8; 32]>) -> XofRng {
        XofRng(blake3::Hasher::new_keyed(&seed).finalize_xof())
    }

    /// Fills `out` with the next bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        self.0.fill(out);
    }
}

impl rand_core::TryRng for XofRng {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.0.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.0.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.0.fill(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for XofRng {}
