//! A bank as `GET /api/banks/{bank_guid}` returns it: above all, its features, which say
//! which KYC path it attests with.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::kyc_enums::BankFeature;

/// A bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Bank {
    /// The bank's guid.
    #[serde(default)]
    pub guid: Option<String>,
    /// Its organization's guid.
    #[serde(default)]
    pub organization_guid: Option<String>,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// `sandbox` or `production`.
    #[serde(default, rename = "type")]
    pub bank_type: Option<String>,
    /// The features Cybrid enabled for it.
    #[serde(default)]
    pub features: Vec<BankFeature>,
    /// When it was created.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
}

/// One of Cybrid's two ways for a bank to vouch for its customer's KYC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KycPath {
    /// Identity records: a JWT signed with the bank's registered key (any version of the
    /// `attestation_identity_records` feature).
    AttestationIdentityRecords,
    /// Attested identity verifications: the person's data sent to Cybrid
    /// (`kyc_identity_verifications`).
    AttestedIdentityVerifications,
}

impl KycPath {
    /// The feature that enables it, as the bank's `features` name it.
    ///
    /// ```
    /// assert_eq!(cybrid_identity::KycPath::AttestedIdentityVerifications.feature(), "kyc_identity_verifications");
    /// ```
    pub fn feature(self) -> &'static str {
        match self {
            KycPath::AttestationIdentityRecords => "attestation_identity_records",
            KycPath::AttestedIdentityVerifications => "kyc_identity_verifications",
        }
    }
}

impl Bank {
    /// Whether the bank's features allow `path`.
    ///
    /// ```
    /// use cybrid_identity::{Bank, KycPath};
    /// let bank: Bank = serde_json::from_str(r#"{"features": ["kyc_identity_verifications", "something_new"]}"#).unwrap();
    /// assert!(bank.allows(KycPath::AttestedIdentityVerifications));
    /// assert!(!bank.allows(KycPath::AttestationIdentityRecords));
    /// ```
    pub fn allows(&self, path: KycPath) -> bool {
        self.features.iter().any(|f| match path {
            KycPath::AttestationIdentityRecords => matches!(
                f,
                BankFeature::AttestationIdentityRecords
                    | BankFeature::AttestationIdentityRecordsV2
                    | BankFeature::AttestationIdentityRecordsV3
            ),
            KycPath::AttestedIdentityVerifications => {
                matches!(f, BankFeature::KycIdentityVerifications)
            }
        })
    }

    /// The KYC paths the bank's features allow, identity records first.
    ///
    /// ```
    /// use cybrid_identity::{Bank, KycPath};
    /// let bank: Bank = serde_json::from_str(r#"{"features": ["attestation_identity_records_v2", "kyc_identity_verifications"]}"#).unwrap();
    /// assert_eq!(bank.kyc_paths(), [KycPath::AttestationIdentityRecords, KycPath::AttestedIdentityVerifications]);
    /// ```
    pub fn kyc_paths(&self) -> Vec<KycPath> {
        [
            KycPath::AttestationIdentityRecords,
            KycPath::AttestedIdentityVerifications,
        ]
        .into_iter()
        .filter(|p| self.allows(*p))
        .collect()
    }
}
