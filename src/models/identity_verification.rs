//! Identity verifications as Cybrid returns them (`GET /api/identity_verifications`).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::kyc_enums::{
    IdentityVerificationMethod, IdentityVerificationOutcome, IdentityVerificationState,
    IdentityVerificationType,
};

/// An identity verification. It holds no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdentityVerification {
    /// Its guid.
    #[serde(default)]
    pub guid: Option<String>,
    /// `kyc`, `bank_account`, `counterparty`.
    #[serde(default, rename = "type")]
    pub verification_type: Option<IdentityVerificationType>,
    /// `attested`, `id_and_selfie`, ….
    #[serde(default)]
    pub method: Option<IdentityVerificationMethod>,
    /// The customer verified.
    #[serde(default)]
    pub customer_guid: Option<String>,
    /// `storing`, `waiting`, `pending`, `reviewing`, `expired`, `completed`.
    #[serde(default)]
    pub state: Option<IdentityVerificationState>,
    /// `passed` or `failed`, once completed.
    #[serde(default)]
    pub outcome: Option<IdentityVerificationOutcome>,
    /// Why it failed (an open list: `requested_failure`, `compliance_rejection`, …).
    #[serde(default)]
    pub failure_codes: Option<Vec<String>>,
    /// When it was created.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
}

impl IdentityVerification {
    /// Whether it reached a state it will not leave (`completed`, `expired`).
    ///
    /// ```
    /// let v: cybrid_identity::IdentityVerification = serde_json::from_str(r#"{"state": "reviewing"}"#).unwrap();
    /// assert!(!v.is_final());
    /// let v: cybrid_identity::IdentityVerification = serde_json::from_str(r#"{"state": "something_new"}"#).unwrap();
    /// assert!(!v.is_final(), "an unknown state is waited for");
    /// ```
    pub fn is_final(&self) -> bool {
        self.state
            .as_ref()
            .is_some_and(IdentityVerificationState::is_final)
    }

    /// Whether it completed and passed.
    ///
    /// ```
    /// let v: cybrid_identity::IdentityVerification = serde_json::from_str(r#"{"state": "completed", "outcome": "failed", "failure_codes": ["requested_failure"]}"#).unwrap();
    /// assert!(!v.passed() && v.is_final());
    /// ```
    pub fn passed(&self) -> bool {
        self.state == Some(IdentityVerificationState::Completed)
            && self.outcome == Some(IdentityVerificationOutcome::Passed)
    }
}

/// One page of identity verifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdentityVerificationList {
    /// How many there are, over all pages.
    pub total: u64,
    /// This page (from 0).
    pub page: u32,
    /// The page size.
    pub per_page: u32,
    /// The verifications of this page.
    pub objects: Vec<IdentityVerification>,
}
