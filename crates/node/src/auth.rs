//! Signed requests, after HTTP Message Signatures (RFC 9421) with Ed25519.
//!
//! A reader signs the request's method, path and query with the key it has registered in
//! the ledger, with a creation time and a random nonce:
//!
//! ```text
//! Signature-Input: sig1=("@method" "@path" "@query");created=1764100000;nonce="9f…";keyid="KZ-AUDIT";alg="ed25519"
//! Signature: sig1=:<base64 of the Ed25519 signature over the signature base>:
//! ```
//!
//! The signature base is RFC 9421's (§2.5): one line per component,
//! `"@method": GET`, `"@path": /v1/cases/…`, `"@query": ?as_of=5` (`?` when there is no
//! query), then `"@signature-params": <the inner list and its parameters>`, lines joined
//! by `\n`, no final newline. The node refuses a request whose time is outside its skew
//! window or whose nonce it has already seen within that window (no replay of a captured
//! request), whose key is not the current key of a registered party (401), or whose
//! party may not read what it asks (403).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use coop_core::{AuthorityId, PublicKey, SecretKey, Signature};
use std::collections::{HashMap, VecDeque};

/// Header carrying the signed components and parameters.
pub const SIGNATURE_INPUT: &str = "signature-input";
/// Header carrying the signature.
pub const SIGNATURE: &str = "signature";
const COMPONENTS: &str = r#"("@method" "@path" "@query")"#;

/// The `@query` component: `?` and the query, or `?` alone.
fn query_component(query: Option<&str>) -> String {
    format!("?{}", query.unwrap_or_default())
}

/// The `@signature-params` value.
pub fn signature_params(created: u64, nonce: &str, keyid: &str) -> String {
    format!(r#"{COMPONENTS};created={created};nonce="{nonce}";keyid="{keyid}";alg="ed25519""#)
}

/// The signature base (RFC 9421 §2.5) of a request.
pub fn signature_base(method: &str, path: &str, query: Option<&str>, params: &str) -> String {
    format!(
        "\"@method\": {}\n\"@path\": {path}\n\"@query\": {}\n\"@signature-params\": {params}",
        method.to_ascii_uppercase(),
        query_component(query)
    )
}

/// The two headers that sign a request, for a client.
pub fn sign_request(
    method: &str,
    path: &str,
    query: Option<&str>,
    keyid: &AuthorityId,
    key: &SecretKey,
    created: u64,
    nonce: &str,
) -> (String, String) {
    let params = signature_params(created, nonce, keyid.as_str());
    let base = signature_base(method, path, query, &params);
    let sig = key.sign(base.as_bytes());
    (
        format!("sig1={params}"),
        format!("sig1=:{}:", B64.encode(sig.0)),
    )
}

/// Why a signed request was refused. `Unauthenticated` is 401, `Forbidden` is 403.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// No signature, a malformed one, an unknown or inactive key, a bad signature, a time
    /// outside the window or a replayed nonce. Sign the request with a registered key.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// A registered party asking for what its role does not allow.
    #[error("forbidden: {0}")]
    Forbidden(String),
}

fn unauth(m: impl Into<String>) -> AuthError {
    AuthError::Unauthenticated(m.into())
}

/// What a `Signature-Input` header states.
#[derive(Debug, PartialEq, Eq)]
pub struct SignedParams {
    /// The exact `@signature-params` value.
    pub params: String,
    /// Creation time, seconds since the epoch.
    pub created: u64,
    /// The nonce.
    pub nonce: String,
    /// The signer's registered id.
    pub keyid: String,
}

fn quoted<'a>(params: &'a str, name: &str) -> Option<&'a str> {
    let start = params.find(&format!(";{name}=\""))? + name.len() + 3;
    let rest = params.get(start..)?;
    rest.get(..rest.find('"')?)
}

/// Parses our subset of RFC 9421: one signature labelled `sig1`, over exactly
/// `("@method" "@path" "@query")`, with `created`, `nonce`, `keyid` and `alg="ed25519"`.
pub fn parse(input: &str, signature: &str) -> Result<(SignedParams, Signature), AuthError> {
    let params = input
        .trim()
        .strip_prefix("sig1=")
        .ok_or_else(|| unauth("Signature-Input must label its signature sig1"))?;
    if !params.starts_with(COMPONENTS) {
        return Err(unauth(
            "the signature must cover (\"@method\" \"@path\" \"@query\")",
        ));
    }
    if !params.contains(r#";alg="ed25519""#) {
        return Err(unauth("the signature algorithm must be ed25519"));
    }
    let created = params
        .split(';')
        .find_map(|p| p.strip_prefix("created="))
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| unauth("the signature has no creation time"))?;
    let nonce = quoted(params, "nonce")
        .filter(|n| !n.is_empty() && n.len() <= 64)
        .ok_or_else(|| unauth("the signature has no nonce"))?
        .to_owned();
    let keyid = quoted(params, "keyid")
        .ok_or_else(|| unauth("the signature has no keyid"))?
        .to_owned();
    let sig_b64 = signature
        .trim()
        .strip_prefix("sig1=:")
        .and_then(|s| s.strip_suffix(':'))
        .ok_or_else(|| unauth("Signature must be sig1=:<base64>:"))?;
    let raw = B64
        .decode(sig_b64)
        .map_err(|_| unauth("the signature is not base64"))?;
    let sig = <[u8; 64]>::try_from(raw.as_slice())
        .map_err(|_| unauth("the signature is not 64 bytes"))?;
    Ok((
        SignedParams {
            params: params.to_owned(),
            created,
            nonce,
            keyid,
        },
        Signature(sig),
    ))
}

/// The signed parts of a request.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// `GET`, `POST`...
    pub method: &'a str,
    /// The path, e.g. `/v1/cases/ab`.
    pub path: &'a str,
    /// The query without `?`, if any.
    pub query: Option<&'a str>,
}

/// Verifies the signature over the request with `key`, and the time window.
pub fn verify(
    req: &Request<'_>,
    p: &SignedParams,
    sig: &Signature,
    key: &PublicKey,
    now: u64,
    skew_secs: u64,
) -> Result<(), AuthError> {
    if p.created + skew_secs < now || p.created > now + skew_secs {
        return Err(unauth(format!(
            "the signature was made at {} but the node's time is {now}: outside the {skew_secs} s window",
            p.created
        )));
    }
    let base = signature_base(req.method, req.path, req.query, &p.params);
    key.verify(base.as_bytes(), sig)
        .map_err(|_| unauth(format!("the signature does not verify for {}", p.keyid)))
}

/// Nonces seen within the skew window, to refuse a replayed request.
#[derive(Debug, Default)]
pub struct ReplayCache {
    seen: HashMap<(String, String), u64>,
    order: VecDeque<(u64, (String, String))>,
}

impl ReplayCache {
    /// Records `(keyid, nonce)` made at `created`; `false` if it was already seen.
    /// Entries older than the window are forgotten (a request that old is refused by its
    /// time anyway).
    pub fn fresh(&mut self, keyid: &str, nonce: &str, created: u64, now: u64, window: u64) -> bool {
        while let Some((t, _)) = self.order.front() {
            if *t + 2 * window >= now {
                break;
            }
            if let Some((_, k)) = self.order.pop_front() {
                self.seen.remove(&k);
            }
        }
        let k = (keyid.to_owned(), nonce.to_owned());
        if self.seen.contains_key(&k) {
            return false;
        }
        self.seen.insert(k.clone(), created);
        self.order.push_back((now, k));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_seed(&[3; 32])
    }

    #[test]
    fn signed_requests_verify_and_any_change_is_refused() -> Result<(), AuthError> {
        let id = AuthorityId::new("KZ-AUDIT").map_err(|e| unauth(e.to_string()))?;
        let (input, sig) = sign_request(
            "GET",
            "/v1/cases/ab",
            Some("as_of=5"),
            &id,
            &key(),
            1000,
            "n1",
        );
        let (p, s) = parse(&input, &sig)?;
        assert_eq!(p.keyid, "KZ-AUDIT");
        let req = |method, path, query| Request {
            method,
            path,
            query,
        };
        let good = req("GET", "/v1/cases/ab", Some("as_of=5"));
        verify(&good, &p, &s, &key().public(), 1010, 300)?;
        // Another path, query, method, key or time.
        for other in [
            req("GET", "/v1/cases/ac", Some("as_of=5")),
            req("GET", "/v1/cases/ab", None),
            req("POST", "/v1/cases/ab", Some("as_of=5")),
        ] {
            assert!(verify(&other, &p, &s, &key().public(), 1010, 300).is_err());
        }
        let other = SecretKey::from_seed(&[4; 32]).public();
        assert!(verify(&good, &p, &s, &other, 1010, 300).is_err());
        assert!(verify(&good, &p, &s, &key().public(), 1400, 300).is_err());
        // A different created time inside the signed params breaks the signature.
        let forged = input.replace("created=1000", "created=1350");
        let (p2, s2) = parse(&forged, &sig)?;
        assert!(verify(&good, &p2, &s2, &key().public(), 1360, 300).is_err());
        Ok(())
    }

    #[test]
    fn malformed_headers_are_refused_cleanly() {
        for (i, s) in [
            ("", ""),
            ("sig2=(\"@method\")", "sig1=:AA==:"),
            (
                r#"sig1=("@method");created=1;nonce="a";keyid="k";alg="ed25519""#,
                "sig1=:AA==:",
            ),
            (
                r#"sig1=("@method" "@path" "@query");created=x;nonce="a";keyid="k";alg="ed25519""#,
                "sig1=:AA==:",
            ),
            (
                r#"sig1=("@method" "@path" "@query");created=1;keyid="k";alg="ed25519""#,
                "sig1=:AA==:",
            ),
            (
                r#"sig1=("@method" "@path" "@query");created=1;nonce="a";keyid="k";alg="rsa""#,
                "sig1=:AA==:",
            ),
            (
                r#"sig1=("@method" "@path" "@query");created=1;nonce="a";keyid="k";alg="ed25519""#,
                "sig1=:!!:",
            ),
            (
                r#"sig1=("@method" "@path" "@query");created=1;nonce="a";keyid="k";alg="ed25519""#,
                "sig1=:AA==:",
            ),
        ] {
            assert!(parse(i, s).is_err(), "{i:?} {s:?}");
        }
    }

    #[test]
    fn a_nonce_is_accepted_once() {
        let mut c = ReplayCache::default();
        assert!(c.fresh("K", "n", 100, 100, 300));
        assert!(!c.fresh("K", "n", 100, 101, 300));
        assert!(c.fresh("K", "m", 100, 101, 300));
        assert!(c.fresh("L", "n", 100, 101, 300));
        // Long after, the entry is forgotten (and the time check refuses such a request).
        assert!(c.fresh("K", "n", 2000, 2000, 300));
    }
}
