//! Wire types: what travels to and from Cybrid's identity API, and nothing else (requests
//! are built and answers decoded in the crate's `api` module).
//!
//! Unknown JSON fields are ignored, missing optional fields are `None`, and every enum that
//! comes from the server keeps values it does not know in `Unknown(String)`.

mod enums;
mod error_response;
mod identity_record;
mod list_params;
mod verification_key;

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
