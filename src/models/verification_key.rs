//! Verification keys: the public halves of the keys a bank signs attestations with.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::enums::{
    VerificationKeyAlgorithm, VerificationKeyFailureCode, VerificationKeyState, VerificationKeyType,
};
use crate::error::Error;
use crate::keys::SigningKey;

/// The longest nonce Cybrid accepts.
pub const MAX_NONCE_CHARS: usize = 256;

/// A verification key as Cybrid returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationKey {
    /// The key's guid: the `kid` of the JWTs it verifies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    /// The bank it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_guid: Option<String>,
    /// `attestation`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub key_type: Option<VerificationKeyType>,
    /// `storing`, `pending`, `verified`, `failed`, or a value unknown to this crate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<VerificationKeyState>,
    /// Why it failed; `None` unless it did.
    #[serde(default)]
    pub failure_code: Option<VerificationKeyFailureCode>,
    /// `RS512`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<VerificationKeyAlgorithm>,
    /// The key's fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// When the key was created.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
}

/// One page of verification keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationKeyList {
    /// How many keys there are, over all pages.
    pub total: u64,
    /// This page's number (the first is 0).
    pub page: u64,
    /// The page size asked for.
    pub per_page: u64,
    /// The keys on this page.
    pub objects: Vec<VerificationKey>,
}

/// The body of `POST /api/bank_verification_keys`: a public key and proof of its private half.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostVerificationKey {
    /// DER SubjectPublicKeyInfo, standard Base64.
    pub public_key: String,
    /// Any string of 1 to 256 characters.
    pub nonce: String,
    /// RSASSA-PKCS1-v1_5 with SHA-512 over the nonce's bytes, standard Base64.
    pub signature: String,
    /// `attestation`.
    #[serde(rename = "type")]
    pub key_type: String,
    /// `RS512`.
    pub algorithm: String,
}

impl PostVerificationKey {
    /// Fills every field from `key`: its public half, and its signature over `nonce`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty nonce or one over 256 characters;
    /// [`Error::Signing`] if the random source for blinding fails.
    pub fn new(key: &SigningKey, nonce: impl Into<String>) -> Result<Self, Error> {
        let nonce = nonce.into();
        let chars = nonce.chars().count();
        if chars == 0 || chars > MAX_NONCE_CHARS {
            return Err(Error::invalid(
                "nonce",
                format!("must be 1 to {MAX_NONCE_CHARS} characters, got {chars}"),
            ));
        }
        let signature = BASE64.encode(key.sign_rs512(nonce.as_bytes())?);
        Ok(PostVerificationKey {
            public_key: key.verifying_key().to_spki_base64(),
            nonce,
            signature,
            key_type: "attestation".to_owned(),
            algorithm: "RS512".to_owned(),
        })
    }
}
