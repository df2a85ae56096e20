//! Escape hatches that skip verification. Nothing here proves a token genuine.

use serde_json::{Map, Value};

use crate::attestation::split_token;
use crate::error::Error;

/// A JWT's header and claims, decoded **without checking the signature**.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnverifiedToken {
    /// The header (`alg`, `kid`, …).
    pub header: Map<String, Value>,
    /// The claims (`iss`, `sub`, …).
    pub claims: Map<String, Value>,
}

/// Decodes a compact JWT's header and claims without verifying anything: for display and
/// debugging only. Use [`crate::attestation::check`] to decide whether a token is good.
///
/// # Errors
/// [`Error::InvalidInput`] when the token is not three dot-separated Base64url parts whose
/// first two are JSON objects.
pub fn decode_unverified(token: &str) -> Result<UnverifiedToken, Error> {
    let raw = split_token(token.trim())
        .ok_or_else(|| Error::invalid("token", "a compact JWT has three parts separated by '.'"))?;
    let header = raw
        .header
        .ok_or_else(|| Error::invalid("token", "the header is not Base64url of a JSON object"))?;
    let claims = raw
        .claims
        .ok_or_else(|| Error::invalid("token", "the claims are not Base64url of a JSON object"))?;
    Ok(UnverifiedToken { header, claims })
}
