//! Identity records: what a bank submits to vouch for a customer, and what Cybrid answers.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::enums::{AttestationState, FailureCode, IdentityRecordType};

/// An identity record as Cybrid returns it. Every field is optional in the published schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdentityRecord {
    /// The record's guid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    /// The customer it vouches for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_guid: Option<String>,
    /// `attestation`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub record_type: Option<IdentityRecordType>,
    /// State and failure code of an attestation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation_details: Option<AttestationDetails>,
    /// When the record was created.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
    /// When the record expired, if it has.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expired_at: Option<OffsetDateTime>,
}

impl IdentityRecord {
    /// The attestation's state, if the server sent one.
    pub fn state(&self) -> Option<&AttestationState> {
        self.attestation_details.as_ref()?.state.as_ref()
    }

    /// The attestation's failure code, if it failed.
    pub fn failure_code(&self) -> Option<&FailureCode> {
        self.attestation_details.as_ref()?.failure_code.as_ref()
    }

    /// Whether the record reached a state it will not leave on its own (`verified`,
    /// `failed`, `expired`).
    pub fn is_final(&self) -> bool {
        self.state().is_some_and(AttestationState::is_final)
    }
}

/// The attestation part of an [`IdentityRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AttestationDetails {
    /// `storing`, `pending`, `verified`, `failed`, `expired`, or a value unknown to this crate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<AttestationState>,
    /// Why it failed; `None` unless it did.
    #[serde(default)]
    pub failure_code: Option<FailureCode>,
}

/// One page of identity records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdentityRecordList {
    /// How many records match, over all pages.
    pub total: u64,
    /// This page's number (the first is 0).
    pub page: u32,
    /// The page size asked for.
    pub per_page: u32,
    /// The records on this page.
    pub objects: Vec<IdentityRecord>,
}

/// The body of `POST /api/identity_records`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostIdentityRecord {
    /// The customer the attestation vouches for (32 characters).
    pub customer_guid: String,
    /// `attestation`, the only type Cybrid takes (another is refused before sending).
    #[serde(rename = "type")]
    pub record_type: IdentityRecordType,
    /// The signed JWT.
    pub attestation_details: PostAttestationDetails,
}

/// The token part of a [`PostIdentityRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostAttestationDetails {
    /// The compact RS512 JWT (at most 2048 characters).
    pub token: String,
}

impl PostIdentityRecord {
    /// An attestation record for `customer_guid`, carrying `token` (see [`crate::Attestation`]).
    pub fn attestation(customer_guid: impl Into<String>, token: impl Into<String>) -> Self {
        PostIdentityRecord {
            customer_guid: customer_guid.into(),
            record_type: IdentityRecordType::Attestation,
            attestation_details: PostAttestationDetails {
                token: token.into(),
            },
        }
    }
}
