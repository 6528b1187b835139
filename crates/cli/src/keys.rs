//! Private keys on disk (PKCS#8 PEM, optionally encrypted) and the OS randomness they
//! are made from. Passphrases come from an environment variable or a file, never from
//! the command line, where other users of the machine could read them.

use anyhow::{Context as _, bail};
use coop_core::SecretKey;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Environment variable read for a passphrase when none is named.
pub const DEFAULT_PASSPHRASE_ENV: &str = "COOPLEDGER_PASSPHRASE";

/// Where a passphrase comes from.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Passphrase {
    /// Read the passphrase from this environment variable [default: COOPLEDGER_PASSPHRASE].
    #[arg(long, value_name = "VAR", global = true)]
    pub passphrase_env: Option<String>,
    /// Read the passphrase from the first line of this file.
    #[arg(
        long,
        value_name = "FILE",
        global = true,
        conflicts_with = "passphrase_env"
    )]
    pub passphrase_file: Option<PathBuf>,
}

impl Passphrase {
    /// The passphrase, if one is configured (a named variable must be set).
    pub fn get(&self) -> anyhow::Result<Option<Zeroizing<Vec<u8>>>> {
        if let Some(f) = &self.passphrase_file {
            let text = Zeroizing::new(
                std::fs::read_to_string(f)
                    .with_context(|| format!("cannot read passphrase file {}", f.display()))?,
            );
            let line = text.lines().next().unwrap_or_default();
            if line.is_empty() {
                bail!("passphrase file {} is empty", f.display());
            }
            return Ok(Some(Zeroizing::new(line.as_bytes().to_vec())));
        }
        let (var, named) = match &self.passphrase_env {
            Some(v) => (v.as_str(), true),
            None => (DEFAULT_PASSPHRASE_ENV, false),
        };
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Some(Zeroizing::new(v.into_bytes()))),
            _ if named => bail!("environment variable {var} is not set or empty"),
            _ => Ok(None),
        }
    }
}

/// The generator keys and ids come from, seeded from the operating system.
pub struct OsRng(coop_core::rng::XofRng);

impl OsRng {
    /// Seeds from the operating system.
    pub fn new() -> anyhow::Result<OsRng> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut_slice())
            .map_err(|e| anyhow::anyhow!("the operating system's random generator failed: {e}"))?;
        Ok(OsRng(coop_core::rng::XofRng::from_seed(seed)))
    }

    /// 16 random bytes (event, case and item ids).
    pub fn id16(&mut self) -> [u8; 16] {
        let mut out = [0u8; 16];
        self.0.fill(&mut out);
        out
    }

    /// The underlying generator, for key generation and PEM encryption.
    pub fn rng(&mut self) -> &mut coop_core::rng::XofRng {
        &mut self.0
    }
}

/// A new random key.
pub fn generate(rng: &mut OsRng) -> SecretKey {
    SecretKey::generate(rng.rng())
}

/// Writes `key` as PKCS#8 PEM (encrypted when `pass` is given), readable only by the
/// owner. Refuses to overwrite a file.
pub fn save(
    key: &SecretKey,
    path: &Path,
    pass: Option<&[u8]>,
    rng: &mut OsRng,
) -> anyhow::Result<()> {
    let pem = match pass {
        Some(p) => key.to_encrypted_pem(p, rng.rng())?,
        None => key.to_pem()?,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| {
        format!(
            "cannot create key file {} (does it exist already?)",
            path.display()
        )
    })?;
    // A key written in part (a full disk) is no key: nothing is left behind.
    let written = std::io::Write::write_all(&mut f, pem.as_bytes()).and_then(|()| f.sync_all());
    if let Err(e) = written {
        drop(f);
        let _ = std::fs::remove_file(path);
        return Err(e).with_context(|| {
            format!(
                "cannot write key file {} (nothing was left behind)",
                path.display()
            )
        });
    }
    Ok(())
}

/// Loads a private key; asks `pass` for a passphrase only if the file is encrypted.
pub fn load(path: &Path, pass: &Passphrase) -> anyhow::Result<SecretKey> {
    let pem = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read key file {}", path.display()))?,
    );
    // An empty file (a keygen cut short by a full disk, say) is named as such, not as the
    // PEM parser's complaint about its preamble.
    if pem
        .trim_matches(|c: char| c.is_whitespace() || c == '\0')
        .is_empty()
    {
        bail!(
            "key file {} is empty: it holds no key; make one with coopledger keygen",
            path.display()
        );
    }
    if !pem.contains("-----BEGIN ") {
        bail!(
            "key file {} is not a key file (a PKCS#8 PEM file, as coopledger keygen writes)",
            path.display()
        );
    }
    let encrypted = pem.contains("ENCRYPTED PRIVATE KEY");
    let phrase = if encrypted { pass.get()? } else { None };
    if encrypted && phrase.is_none() {
        bail!(
            "key file {} is encrypted: set {DEFAULT_PASSPHRASE_ENV}, or give --passphrase-env or --passphrase-file",
            path.display()
        );
    }
    SecretKey::from_pem(&pem, phrase.as_ref().map(|p| p.as_slice()))
        .with_context(|| format!("cannot load key file {}", path.display()))
}
