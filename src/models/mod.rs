//! Wire types: what travels to and from Cybrid's identity API, and their pure decoders.
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
pub use list_params::{ListParams, MAX_PER_PAGE};
pub use verification_key::{
    MAX_NONCE_CHARS, PostVerificationKey, VerificationKey, VerificationKeyList,
};

use crate::error::Error;

/// The length of every Cybrid guid.
pub const GUID_LEN: usize = 32;

/// Checks that `value` is a Cybrid guid: exactly 32 ASCII letters or digits. Nothing else can
/// then be smuggled into a URL path or a JWT claim.
///
/// # Errors
/// [`Error::InvalidInput`] naming `field`.
pub fn check_guid(field: &'static str, value: &str) -> Result<(), Error> {
    if value.len() == GUID_LEN && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(());
    }
    let shown: String = value.chars().take(40).collect();
    Err(Error::invalid(
        field,
        format!(
            "a guid is {GUID_LEN} ASCII letters or digits, got {} characters: {shown:?}",
            value.chars().count()
        ),
    ))
}

/// Decodes a JSON body into `T`; `what` names the model in the error.
///
/// # Errors
/// [`Error::Decode`], whose message names the field that did not fit.
pub fn decode<T: serde::de::DeserializeOwned>(what: &'static str, body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|source| Error::Decode {
        what,
        field: field_near(body, &source),
        source,
    })
}

/// The JSON key whose value the decoder stopped in, found by scanning back from the error's
/// position. serde_json names missing fields but not mistyped ones; this names both.
fn field_near(body: &[u8], error: &serde_json::Error) -> Option<String> {
    if error.line() == 0 {
        return None;
    }
    let mut offset = 0usize;
    for (index, line) in body.split(|b| *b == b'\n').enumerate() {
        if index + 1 == error.line() {
            offset += error.column().min(line.len());
            break;
        }
        offset += line.len() + 1;
    }
    let before = body.get(..offset.min(body.len()))?;
    // Walk back to the last `"key"` followed by optional spaces and a colon.
    let mut end = before.len();
    while end > 0 {
        end -= 1;
        if before[end] != b':' {
            continue;
        }
        let mut quote_end = end;
        while quote_end > 0 && before[quote_end - 1].is_ascii_whitespace() {
            quote_end -= 1;
        }
        if quote_end == 0 || before[quote_end - 1] != b'"' {
            continue;
        }
        let key_end = quote_end - 1;
        let key_start = before[..key_end].iter().rposition(|b| *b == b'"')? + 1;
        return std::str::from_utf8(&before[key_start..key_end])
            .ok()
            .map(str::to_owned);
    }
    None
}
