//! Signed requests, after HTTP Message Signatures (RFC 9421) with Ed25519.
//!
//! A reader signs the request's method, authority (host and port), path and query with
//! the key it has registered in the ledger, with a creation time, a random nonce and the
//! ledger's id as the tag:
//!
//! ```text
//! Signature-Input: sig1=("@method" "@authority" "@path" "@query");created=1764100000;nonce="9f…";keyid="KZ-AUDIT";alg="ed25519";tag="<ledger id, 64 hex>"
//! Signature: sig1=:<base64 of the Ed25519 signature over the signature base>:
//! ```
//!
//! The signature base is RFC 9421's (§2.5): one line per component,
//! `"@method": GET`, `"@authority": 127.0.0.1:8080`, `"@path": /v1/cases/…`,
//! `"@query": ?as_of=5` (`?` when there is no query), then `"@signature-params": <the
//! inner list and its parameters>`, lines joined by `\n`, no final newline. The node
//! refuses a request signed for another ledger (tag) or another node (authority: the
//! node checks it against the names it answers to, not against the `Host` header alone,
//! which a replayer sets at will), made before the node started (the nonce cache is in
//! memory), outside its skew window, or with a nonce already seen within that window —
//! so a captured request is accepted nowhere else, at no other time; whose key is not the
//! current key of a registered party (401); or whose party may not read what it asks
//! (403).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use coop_core::{AuthorityId, PublicKey, SecretKey, Signature};
use std::collections::{HashMap, VecDeque};

/// Header carrying the signed components and parameters.
pub const SIGNATURE_INPUT: &str = "signature-input";
/// Header carrying the signature.
pub const SIGNATURE: &str = "signature";
const COMPONENTS: &str = r#"("@method" "@authority" "@path" "@query")"#;

/// The `@query` component: `?` and the query, or `?` alone.
fn query_component(query: Option<&str>) -> String {
    format!("?{}", query.unwrap_or_default())
}

/// The `@signature-params` value: `tag` is the ledger id (64 hex digits).
pub fn signature_params(created: u64, nonce: &str, keyid: &str, tag: &str) -> String {
    format!(
        r#"{COMPONENTS};created={created};nonce="{nonce}";keyid="{keyid}";alg="ed25519";tag="{tag}""#
    )
}

/// The signed parts of a request.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// `GET`, `POST`...
    pub method: &'a str,
    /// `host:port` as the client addressed the node (RFC 9421 `@authority`, lower case).
    pub authority: &'a str,
    /// The path, e.g. `/v1/cases/ab`.
    pub path: &'a str,
    /// The query without `?`, if any.
    pub query: Option<&'a str>,
}

/// The signature base (RFC 9421 §2.5) of a request.
pub fn signature_base(req: &Request<'_>, params: &str) -> String {
    format!(
        "\"@method\": {}\n\"@authority\": {}\n\"@path\": {}\n\"@query\": {}\n\"@signature-params\": {params}",
        req.method.to_ascii_uppercase(),
        req.authority.to_ascii_lowercase(),
        req.path,
        query_component(req.query)
    )
}

/// Who signs a request, and for which ledger.
#[derive(Clone, Copy, Debug)]
pub struct Signer<'a> {
    /// The registered id.
    pub keyid: &'a AuthorityId,
    /// Its key.
    pub key: &'a SecretKey,
    /// The ledger the request is for (its id in hex).
    pub ledger: &'a str,
}

/// The two headers that sign a request, for a client.
pub fn sign_request(
    req: &Request<'_>,
    signer: &Signer<'_>,
    created: u64,
    nonce: &str,
) -> (String, String) {
    let params = signature_params(created, nonce, signer.keyid.as_str(), signer.ledger);
    let base = signature_base(req, &params);
    let sig = signer.key.sign(base.as_bytes());
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
    /// The ledger it was signed for (hex).
    pub tag: String,
}

fn quoted<'a>(params: &'a str, name: &str) -> Option<&'a str> {
    let start = params.find(&format!(";{name}=\""))? + name.len() + 3;
    let rest = params.get(start..)?;
    rest.get(..rest.find('"')?)
}

/// Parses our subset of RFC 9421: one signature labelled `sig1`, over exactly
/// `("@method" "@authority" "@path" "@query")`, with `created`, `nonce`, `keyid`,
/// `alg="ed25519"` and `tag` (the ledger id).
pub fn parse(input: &str, signature: &str) -> Result<(SignedParams, Signature), AuthError> {
    let params = input
        .trim()
        .strip_prefix("sig1=")
        .ok_or_else(|| unauth("Signature-Input must label its signature sig1"))?;
    if !params.starts_with(COMPONENTS) {
        return Err(unauth(
            "the signature must cover (\"@method\" \"@authority\" \"@path\" \"@query\")",
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
    let tag = quoted(params, "tag")
        .ok_or_else(|| unauth("the signature has no tag (the ledger id it is for)"))?
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
            tag,
        },
        Signature(sig),
    ))
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
    let base = signature_base(req, &p.params);
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
        let req = |method, authority, path, query| Request {
            method,
            authority,
            path,
            query,
        };
        let good = req("GET", "127.0.0.1:8080", "/v1/cases/ab", Some("as_of=5"));
        let signer = Signer {
            keyid: &id,
            key: &key(),
            ledger: "ab",
        };
        let (input, sig) = sign_request(&good, &signer, 1000, "n1");
        let (p, s) = parse(&input, &sig)?;
        assert_eq!(p.keyid, "KZ-AUDIT");
        assert_eq!(p.tag, "ab");
        verify(&good, &p, &s, &key().public(), 1010, 300)?;
        // Another path, query, method, authority, key or time.
        for other in [
            req("GET", "127.0.0.1:8080", "/v1/cases/ac", Some("as_of=5")),
            req("GET", "127.0.0.1:8080", "/v1/cases/ab", None),
            req("POST", "127.0.0.1:8080", "/v1/cases/ab", Some("as_of=5")),
            req("GET", "127.0.0.1:8081", "/v1/cases/ab", Some("as_of=5")),
        ] {
            assert!(verify(&other, &p, &s, &key().public(), 1010, 300).is_err());
        }
        let other = SecretKey::from_seed(&[4; 32]).public();
        assert!(verify(&good, &p, &s, &other, 1010, 300).is_err());
        assert!(verify(&good, &p, &s, &key().public(), 1400, 300).is_err());
        // A different created time or ledger inside the signed params breaks the signature.
        for (from, to) in [
            ("created=1000", "created=1350"),
            ("tag=\"ab\"", "tag=\"cd\""),
        ] {
            let forged = input.replace(from, to);
            let (p2, s2) = parse(&forged, &sig)?;
            assert!(verify(&good, &p2, &s2, &key().public(), 1010, 300).is_err());
        }
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
                r#"sig1=("@method" "@path" "@query");created=1;nonce="a";keyid="k";alg="ed25519";tag="t""#,
                "sig1=:AA==:",
            ),
            (
                r#"sig1=("@method" "@authority" "@path" "@query");created=x;nonce="a";keyid="k";alg="ed25519";tag="t""#,
                "sig1=:AA==:",
            ),
            (
                r#"sig1=("@method" "@authority" "@path" "@query");created=1;keyid="k";alg="ed25519";tag="t""#,
                "sig1=:AA==:",
            ),
            (
                r#"sig1=("@method" "@authority" "@path" "@query");created=1;nonce="a";keyid="k";alg="rsa";tag="t""#,
                "sig1=:AA==:",
            ),
            (
                r#"sig1=("@method" "@authority" "@path" "@query");created=1;nonce="a";keyid="k";alg="ed25519";tag="t""#,
                "sig1=:!!:",
            ),
            (
                r#"sig1=("@method" "@authority" "@path" "@query");created=1;nonce="a";keyid="k";alg="ed25519";tag="t""#,
                "sig1=:AA==:",
            ),
            (
                r#"sig1=("@method" "@authority" "@path" "@query");created=1;nonce="a";keyid="k";alg="ed25519""#,
                "sig1=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==:",
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
