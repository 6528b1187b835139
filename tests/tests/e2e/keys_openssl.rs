//! Our PKCS#8 PEM private keys must be readable by `openssl pkey`, plain and encrypted,
//! and keys written by `openssl genpkey` must be readable by us.

use anyhow::{Context as _, bail};
use coop_core::SecretKey;
use std::process::Command;

fn openssl(args: &[&str]) -> anyhow::Result<Vec<u8>> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .context("running openssl (install the Debian package openssl)")?;
    if !out.status.success() {
        bail!(
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out.stdout)
}

/// The raw public key openssl derives from a private key file (last 32 bytes of the
/// SubjectPublicKeyInfo DER).
fn openssl_public(path: &str, pass: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let passin = pass.map(|p| format!("pass:{p}"));
    let mut args = vec!["pkey", "-in", path, "-pubout", "-outform", "DER"];
    if let Some(p) = &passin {
        args.extend(["-passin", p.as_str()]);
    }
    let der = openssl(&args)?;
    Ok(der
        .get(der.len().saturating_sub(32)..)
        .unwrap_or_default()
        .to_vec())
}

#[test]
fn openssl_reads_our_keys_and_we_read_its() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut rng = getrandom::SysRng;
    let sk = SecretKey::generate(&mut rand_core_shim::Rng(&mut rng));
    let plain = dir.path().join("plain.pem");
    std::fs::write(&plain, sk.to_pem()?.as_bytes())?;
    assert_eq!(
        openssl_public(&plain.to_string_lossy(), None)?,
        sk.public().0
    );

    let enc = dir.path().join("enc.pem");
    std::fs::write(
        &enc,
        sk.to_encrypted_pem(b"s3cret phrase", &mut rand_core_shim::Rng(&mut rng))?
            .as_bytes(),
    )?;
    assert_eq!(
        openssl_public(&enc.to_string_lossy(), Some("s3cret phrase"))?,
        sk.public().0
    );
    assert!(openssl_public(&enc.to_string_lossy(), Some("wrong")).is_err());

    let theirs = dir.path().join("openssl.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "ed25519",
        "-out",
        &theirs.to_string_lossy(),
    ])?;
    let ours = SecretKey::from_pem(&std::fs::read_to_string(&theirs)?, None)?;
    assert_eq!(
        openssl_public(&theirs.to_string_lossy(), None)?,
        ours.public().0
    );
    Ok(())
}

/// `SysRng` is fallible (`TryCryptoRng`); key generation wants an infallible
/// `CryptoRng`. A failing OS RNG is not something a test can recover from.
mod rand_core_shim {
    pub struct Rng<'a>(pub &'a mut getrandom::SysRng);
    impl getrandom::rand_core::TryRng for Rng<'_> {
        type Error = std::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(self.0.try_next_u32().expect("OS random number generator"))
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(self.0.try_next_u64().expect("OS random number generator"))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            self.0
                .try_fill_bytes(dst)
                .expect("OS random number generator");
            Ok(())
        }
    }
    impl getrandom::rand_core::TryCryptoRng for Rng<'_> {}
}
