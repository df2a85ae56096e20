//! The endpoints as pure data: each call becomes an [`ApiRequest`] (checked before anything
//! is sent), and each answer is classified and decoded from bytes. `client` wires them to HTTP.

use crate::attestation::MAX_TOKEN_CHARS;
use crate::error::{ApiError, Error};
use crate::models::{
    ErrorResponse, ListParams, PostIdentityRecord, PostVerificationKey, check_guid,
};
use crate::retry::Method;

/// How many bytes of a body that is not an `ErrorResponse` an error keeps.
pub(crate) const BODY_EXCERPT_BYTES: usize = 512;

/// One request, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiRequest {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Option<Vec<u8>>,
    /// The model the answer decodes into, for error messages.
    pub(crate) what: &'static str,
    /// For creates: how the caller can find out whether a failed create took effect.
    pub(crate) outcome_hint: Option<String>,
}

impl ApiRequest {
    fn get(path: String, what: &'static str) -> Self {
        ApiRequest {
            method: Method::Get,
            path,
            query: Vec::new(),
            body: None,
            what,
            outcome_hint: None,
        }
    }
}

pub(crate) const IDENTITY_RECORDS: &str = "/api/identity_records";
pub(crate) const VERIFICATION_KEYS: &str = "/api/bank_verification_keys";

pub(crate) fn create_identity_record(post: &PostIdentityRecord) -> Result<ApiRequest, Error> {
    check_guid("customer_guid", &post.customer_guid)?;
    if post.record_type != "attestation" {
        return Err(Error::invalid(
            "type",
            format!(
                "Cybrid takes only \"attestation\", got {:?}",
                post.record_type
            ),
        ));
    }
    let chars = post.attestation_details.token.chars().count();
    if chars == 0 || chars > MAX_TOKEN_CHARS {
        return Err(Error::invalid(
            "token",
            format!("must be 1 to {MAX_TOKEN_CHARS} characters, got {chars}"),
        ));
    }
    Ok(ApiRequest {
        method: Method::Post,
        path: IDENTITY_RECORDS.to_owned(),
        query: Vec::new(),
        body: Some(to_json(post)),
        what: "IdentityRecord",
        outcome_hint: Some(format!(
            "the identity record may have been created: before trying again, check with \
             list_identity_records(&ListParams::new().customer_guid(\"{}\"))",
            post.customer_guid
        )),
    })
}

pub(crate) fn get_identity_record(guid: &str) -> Result<ApiRequest, Error> {
    check_guid("identity_record_guid", guid)?;
    Ok(ApiRequest::get(
        format!("{IDENTITY_RECORDS}/{guid}"),
        "IdentityRecord",
    ))
}

pub(crate) fn list_identity_records(params: &ListParams) -> Result<ApiRequest, Error> {
    let mut request = ApiRequest::get(IDENTITY_RECORDS.to_owned(), "IdentityRecordList");
    request.query = params.to_query()?;
    Ok(request)
}

pub(crate) fn create_verification_key(post: &PostVerificationKey) -> Result<ApiRequest, Error> {
    for (field, value, max) in [
        ("public_key", &post.public_key, 6000),
        ("signature", &post.signature, 6000),
        ("nonce", &post.nonce, 256),
    ] {
        let chars = value.chars().count();
        if chars == 0 || chars > max {
            return Err(Error::invalid(
                field,
                format!("must be 1 to {max} characters, got {chars}"),
            ));
        }
    }
    Ok(ApiRequest {
        method: Method::Post,
        path: VERIFICATION_KEYS.to_owned(),
        query: Vec::new(),
        body: Some(to_json(post)),
        what: "VerificationKey",
        outcome_hint: Some(
            "the verification key may have been created: before trying again, check with list_verification_keys".to_owned(),
        ),
    })
}

pub(crate) fn get_verification_key(guid: &str) -> Result<ApiRequest, Error> {
    check_guid("verification_key_guid", guid)?;
    Ok(ApiRequest::get(
        format!("{VERIFICATION_KEYS}/{guid}"),
        "VerificationKey",
    ))
}

pub(crate) fn list_verification_keys(params: &ListParams) -> Result<ApiRequest, Error> {
    if !params.customer_guids().is_empty() {
        return Err(Error::invalid(
            "customer_guid",
            "verification keys cannot be filtered by customer",
        ));
    }
    let mut request = ApiRequest::get(VERIFICATION_KEYS.to_owned(), "VerificationKeyList");
    request.query = params.to_query()?;
    Ok(request)
}

fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // The request models are plain strings and structs: serializing them cannot fail.
    serde_json::to_vec(value).expect("request models serialize")
}

/// The first bytes of a body, for an error message. Never lossy: a body that is not UTF-8
/// is described, not mangled.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let cut = &body[..body.len().min(BODY_EXCERPT_BYTES)];
    let text = match std::str::from_utf8(cut) {
        Ok(text) => text,
        // A multi-byte character cut at the boundary is still text.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&cut[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return format!("({} bytes, not UTF-8)", body.len()),
    };
    let mut text = text.trim().to_owned();
    if body.len() > cut.len() {
        text.push('…');
    }
    text
}

/// A non-success answer as an [`ApiError`]: its `ErrorResponse` when the body is one,
/// otherwise the first bytes of the body.
pub(crate) fn api_error(
    status: u16,
    request_id: Option<String>,
    retry_after: Option<String>,
    body: &[u8],
) -> ApiError {
    let response = serde_json::from_slice::<ErrorResponse>(body).ok();
    let body_excerpt = if response.is_some() {
        None
    } else {
        Some(excerpt(body))
    };
    ApiError {
        status,
        response,
        request_id,
        body_excerpt,
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn paths_and_queries() {
        assert_eq!(
            get_identity_record(G).unwrap().path,
            format!("/api/identity_records/{G}")
        );
        assert_eq!(
            get_verification_key(G).unwrap().path,
            format!("/api/bank_verification_keys/{G}")
        );
        let list = list_identity_records(
            &ListParams::new()
                .customer_guid(G)
                .customer_guid(G.to_uppercase())
                .page(2)
                .per_page(25),
        )
        .unwrap();
        assert_eq!(
            list.query,
            vec![
                ("customer_guid", format!("{G},{}", G.to_uppercase())),
                ("page", "2".into()),
                ("per_page", "25".into())
            ]
        );
        assert!(
            list_identity_records(&ListParams::new())
                .unwrap()
                .query
                .is_empty()
        );
    }

    #[test]
    fn nothing_can_be_smuggled_into_a_path() {
        for bad in [
            "../../oauth/token/xxxxxxxxxxxxxxxxxxx",
            "0123456789abcdef0123456789abcde?",
            "0123456789abcdef0123456789abcde%",
            "",
            "0123456789abcdef0123456789abcdef0",
        ] {
            assert!(
                matches!(
                    get_identity_record(bad),
                    Err(Error::InvalidInput {
                        field: "identity_record_guid",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn list_bounds_are_checked_before_sending() {
        let field = |p: ListParams| match list_identity_records(&p) {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(ListParams::new().page(-1)), "page");
        assert_eq!(field(ListParams::new().per_page(0)), "per_page");
        assert_eq!(field(ListParams::new().per_page(101)), "per_page");
        assert_eq!(
            field(ListParams::new().customer_guid("a,b")),
            "customer_guid"
        );
        assert!(list_identity_records(&ListParams::new().per_page(100).page(0)).is_ok());
        assert!(list_verification_keys(&ListParams::new().customer_guid(G)).is_err());
    }

    #[test]
    fn create_checks_the_body() {
        assert!(create_identity_record(&PostIdentityRecord::attestation(G, "t")).is_ok());
        assert!(create_identity_record(&PostIdentityRecord::attestation(G, "")).is_err());
        assert!(
            create_identity_record(&PostIdentityRecord::attestation(G, "t".repeat(2049))).is_err()
        );
        assert!(create_identity_record(&PostIdentityRecord::attestation("nope", "t")).is_err());
        let body = create_identity_record(&PostIdentityRecord::attestation(G, "a.b.c"))
            .unwrap()
            .body
            .unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            format!(
                r#"{{"customer_guid":"{G}","type":"attestation","attestation_details":{{"token":"a.b.c"}}}}"#
            )
        );
    }

    #[test]
    fn error_bodies() {
        let e = api_error(
            400,
            None,
            None,
            br#"{"status":400,"error_message":"bad","message_code":"invalid_parameter","extra":1}"#,
        );
        assert_eq!(e.response.unwrap().message_code, "invalid_parameter");
        let e = api_error(502, None, None, b"<html><body>Bad Gateway</body></html>");
        assert_eq!(
            e.body_excerpt.as_deref(),
            Some("<html><body>Bad Gateway</body></html>")
        );
        assert_eq!(excerpt(&[0xff, 0xfe, b'a']), "(3 bytes, not UTF-8)");
        let long = "é".repeat(600);
        let cut = excerpt(long.as_bytes());
        assert!(
            cut.ends_with('…') && cut.chars().count() == 257,
            "{}",
            cut.chars().count()
        );
    }
}
