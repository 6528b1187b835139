//! Keys and documents: `keygen`, `digest`, `sign-request`.

use super::*;
use crate::keys::Passphrase;

/// `keygen`: a new key (or the key in `from`), saved as PKCS#8 PEM (encrypted when
/// asked).
pub(super) fn keygen(
    out: &Path,
    encrypt: bool,
    from: Option<&Path>,
    pass: &Passphrase,
) -> anyhow::Result<()> {
    let mut rng = OsRng::new()?;
    let key = match from {
        Some(f) => keys::load(f, pass)?,
        None => keys::generate(&mut rng),
    };
    let phrase = if encrypt {
        Some(pass.get()?.ok_or_else(|| {
            anyhow!(
                "--encrypt needs a passphrase: set {} or give --passphrase-env / --passphrase-file",
                keys::DEFAULT_PASSPHRASE_ENV
            )
        })?)
    } else {
        None
    };
    keys::save(&key, out, phrase.as_ref().map(|p| p.as_slice()), &mut rng)?;
    println!("{}", key.public().to_hex());
    eprintln!(
        "wrote {}{}",
        out.display(),
        if encrypt { " (encrypted)" } else { "" }
    );
    Ok(())
}

/// `digest`: a document's digest, size, media type, language and role as an event
/// file names it.
pub(super) fn digest(
    file: &Path,
    language: &str,
    role: &str,
    media_type: &str,
) -> anyhow::Result<()> {
    let language = match language {
        "kk" => Language::Kk,
        "tk" => Language::Tk,
        _ => Language::Ru,
    };
    let role = match role {
        "original" => DocRole::Original,
        "certified-copy" => DocRole::CertifiedCopy,
        "legal-provision" => DocRole::LegalProvisionText,
        other => match other.strip_prefix("translation-of:") {
            Some(h) => DocRole::TranslationOf(
                coop_core::Hash::from_hex(h)
                    .context("translation-of needs a 64-digit hex digest")?,
            ),
            None => bail!("unknown role {other:?}"),
        },
    };
    let d = crate::files::digest_file(file, media_type, language, role)?;
    println!("{}", serde_json::to_string_pretty(&d)?);
    Ok(())
}

/// `sign-request`: the RFC 9421 headers of a signed read, for curl.
pub(super) fn sign_request(
    key: &Path,
    id: &str,
    method: &str,
    url: &str,
    ca_cert: Option<&Path>,
    pass: &Passphrase,
) -> anyhow::Result<()> {
    let key = std::sync::Arc::new(keys::load(key, pass)?);
    let ca = ca_cert.map(std::fs::read).transpose()?;
    let (input, sig) =
        crate::net::sign_request(url, method, &AuthorityId::new(id)?, key, ca.as_deref())?;
    println!("Signature-Input: {input}");
    println!("Signature: {sig}");
    Ok(())
}
