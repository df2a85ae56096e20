//! Wire types: what travels to and from Cybrid's identity API, and nothing else (requests
//! are built and answers decoded in the crate's `api` module).
//!
//! Unknown JSON fields are ignored, missing optional fields are `None`, and every enum that
//! comes from the server keeps values it does not know in `Unknown(String)`.

#[macro_use]
mod enums;
mod bank;
mod customer;
mod error_response;
mod identity_record;
mod identity_verification;
mod kyc_enums;
mod kyc_params;
mod list_params;
mod verification_key;

pub use bank::{Bank, KycPath};
pub use customer::{Customer, CustomerList};
pub use identity_verification::{IdentityVerification, IdentityVerificationList};
pub use kyc_enums::{
    BankFeature, CustomerState, CustomerType, IdentificationNumberType, IdentityVerificationMethod,
    IdentityVerificationOutcome, IdentityVerificationState, IdentityVerificationType,
};
pub use kyc_params::{CustomerListParams, VerificationListParams};

pub use enums::{
    AttestationState, FailureCode, IdentityRecordType, VerificationKeyAlgorithm,
    VerificationKeyFailureCode, VerificationKeyState, VerificationKeyType,
};
pub use error_response::ErrorResponse;
pub use identity_record::{
    AttestationDetails, IdentityRecord, IdentityRecordList, PostAttestationDetails,
    PostIdentityRecord,
};
pub use list_params::{KeyListParams, ListParams, MAX_PER_PAGE};
pub use verification_key::{
    MAX_NONCE_CHARS, PostVerificationKey, VerificationKey, VerificationKeyList,
};
pub use verification_key::{MAX_PUBLIC_KEY_CHARS, MAX_SIGNATURE_CHARS};
