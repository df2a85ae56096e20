//! Verification keys: the public halves of the keys a bank signs attestations with.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::enums::{
    VerificationKeyAlgorithm, VerificationKeyFailureCode, VerificationKeyState, VerificationKeyType,
};
/// The longest nonce Cybrid accepts.
pub const MAX_NONCE_CHARS: usize = 256;
/// The longest `public_key` Cybrid accepts (Base64 characters).
pub const MAX_PUBLIC_KEY_CHARS: usize = 6000;
/// The longest `signature` Cybrid accepts (Base64 characters).
pub const MAX_SIGNATURE_CHARS: usize = 6000;

/// A verification key as Cybrid returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
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

impl VerificationKey {
    /// Whether the key reached a state it will not leave on its own (`verified`, `failed`).
    pub fn is_final(&self) -> bool {
        self.state
            .as_ref()
            .is_some_and(VerificationKeyState::is_final)
    }
}

/// One page of verification keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VerificationKeyList {
    /// How many keys there are, over all pages.
    pub total: u64,
    /// This page's number (the first is 0).
    pub page: u32,
    /// The page size asked for.
    pub per_page: u32,
    /// The keys on this page.
    pub objects: Vec<VerificationKey>,
}

/// The body of `POST /api/bank_verification_keys`: a public key and proof of its private half.
/// Built by `PostVerificationKey::new`, which signs the nonce (in the crate's `api` module,
/// where request bodies are built and checked).
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
    pub key_type: VerificationKeyType,
    /// `RS512`.
    pub algorithm: VerificationKeyAlgorithm,
}
