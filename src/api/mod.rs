//! The endpoints as pure data: each call becomes an [`ApiRequest`], checked before anything
//! is sent, and each answer is read by [`answer`]. `client` wires them to HTTP.

mod answer;
pub(crate) mod kyc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

#[cfg(test)]
pub(crate) use answer::decode;
pub(crate) use answer::{Answer, Unusable, read_answer, read_token_answer};

use zeroize::Zeroizing;

use crate::attestation::MAX_TOKEN_CHARS;
use crate::auth::Secret;
use crate::error::Error;
use crate::guid::check as check_guid;
use crate::models::{
    IdentityRecordType, ListParams, MAX_NONCE_CHARS, MAX_PER_PAGE, MAX_PUBLIC_KEY_CHARS,
    MAX_SIGNATURE_CHARS, PostIdentityRecord, PostVerificationKey, VerificationKeyAlgorithm,
    VerificationKeyType,
};
use crate::retry::Method;
use crate::signer::{Signer, sign_checked};

/// One request, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiRequest {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    /// Wiped when dropped: it may carry a person's data.
    pub(crate) body: Option<Zeroizing<Vec<u8>>>,
    /// The model the answer decodes into, for error messages.
    pub(crate) what: &'static str,
    /// For creates: how the caller can find out whether a failed create took effect.
    pub(crate) outcome_hint: Option<String>,
    /// Values sent that a server's answer must not carry into an error (a person's data).
    pub(crate) withhold: Vec<Zeroizing<String>>,
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
            withhold: Vec::new(),
        }
    }

    fn post(path: &str, body: Vec<u8>, what: &'static str, outcome_hint: String) -> Self {
        ApiRequest {
            method: Method::Post,
            path: path.to_owned(),
            query: Vec::new(),
            body: Some(Zeroizing::new(body)),
            what,
            outcome_hint: Some(outcome_hint),
            withhold: Vec::new(),
        }
    }

    /// `base` + path + query, each query value percent-encoded.
    pub(crate) fn url(&self, base: &str) -> String {
        let mut url = format!("{base}{}", self.path);
        for (i, (name, value)) in self.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(name);
            url.push('=');
            // Values were checked to be guids, commas and digits; encode anyway, cheaply.
            for b in value.bytes() {
                if b.is_ascii_alphanumeric() || b == b',' || b == b'-' {
                    url.push(char::from(b));
                } else {
                    url.push_str(&format!("%{b:02X}"));
                }
            }
        }
        url
    }

    /// `METHOD path`, for messages and logs.
    pub(crate) fn label(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }
}

pub(crate) const IDENTITY_RECORDS: &str = "/api/identity_records";
pub(crate) const VERIFICATION_KEYS: &str = "/api/bank_verification_keys";

/// Checks that `value` has 1 to `max` characters. Shared with the emulator, so the client
/// and the emulator refuse the same bodies.
pub(crate) fn check_chars(field: &'static str, value: &str, max: usize) -> Result<(), Error> {
    let chars = value.chars().count();
    if chars == 0 || chars > max {
        return Err(Error::invalid(
            field,
            format!("must be 1 to {max} characters, got {chars}"),
        ));
    }
    Ok(())
}

/// The fields of a verification key body and their limits, for the client and the emulator.
pub(crate) fn check_verification_key_fields(
    public_key: &str,
    signature: &str,
    nonce: &str,
) -> Result<(), Error> {
    check_chars("public_key", public_key, MAX_PUBLIC_KEY_CHARS)?;
    check_chars("signature", signature, MAX_SIGNATURE_CHARS)?;
    check_chars("nonce", nonce, MAX_NONCE_CHARS)
}

pub(crate) fn create_identity_record(post: &PostIdentityRecord) -> Result<ApiRequest, Error> {
    check_guid("customer_guid", &post.customer_guid)?;
    if post.record_type != IdentityRecordType::Attestation {
        return Err(Error::invalid(
            "type",
            format!(
                "Cybrid takes only \"attestation\", got {:?}",
                post.record_type.as_str()
            ),
        ));
    }
    check_chars("token", &post.attestation_details.token, MAX_TOKEN_CHARS)?;
    Ok(ApiRequest::post(
        IDENTITY_RECORDS,
        to_json(post),
        "IdentityRecord",
        format!(
            "the identity record may have been created: before trying again, check with \
             list_identity_records(ListParams::new().customer_guid(\"{}\"))",
            post.customer_guid
        ),
    ))
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
    request.query = list_query(params)?;
    Ok(request)
}

impl PostVerificationKey {
    /// Fills every field from `key` (a [`crate::SigningKey`] or any other [`Signer`]): its
    /// public half, and its signature over `nonce`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty nonce or one over 256 characters;
    /// [`Error::Signing`] if the signer fails, or if its signature does not verify with the
    /// public key it names (checked here, before anything is sent).
    pub fn new<S: Signer + ?Sized>(key: &S, nonce: impl Into<String>) -> Result<Self, Error> {
        let nonce = nonce.into();
        check_chars("nonce", &nonce, MAX_NONCE_CHARS)?;
        let signature = sign_checked(key, nonce.as_bytes())?;
        // A signer that signs wrongly (a KMS asked for the wrong message type, an HSM's key
        // that is not the public key it names) is caught here, by name, rather than by a
        // key that Cybrid marks `failed` after it was registered.
        if !key
            .verifying_key()
            .verify_rs512(nonce.as_bytes(), &signature)
        {
            return Err(Error::Signing(
                "the signer's signature of the nonce does not verify with the public key it                  names: it signs with another key or another message type; nothing was                  registered"
                    .into(),
            ));
        }
        let signature = BASE64.encode(signature);
        Ok(PostVerificationKey {
            public_key: key.verifying_key().to_spki_base64(),
            nonce,
            signature,
            key_type: VerificationKeyType::Attestation,
            algorithm: VerificationKeyAlgorithm::Rs512,
        })
    }
}

pub(crate) fn create_verification_key(post: &PostVerificationKey) -> Result<ApiRequest, Error> {
    check_verification_key_fields(&post.public_key, &post.signature, &post.nonce)?;
    Ok(ApiRequest::post(
        VERIFICATION_KEYS,
        to_json(post),
        "VerificationKey",
        "the verification key may have been created: before trying again, check with \
         list_verification_keys"
            .to_owned(),
    ))
}

pub(crate) fn get_verification_key(guid: &str) -> Result<ApiRequest, Error> {
    check_guid("verification_key_guid", guid)?;
    Ok(ApiRequest::get(
        format!("{VERIFICATION_KEYS}/{guid}"),
        "VerificationKey",
    ))
}

pub(crate) fn list_verification_keys(params: &ListParams) -> Result<ApiRequest, Error> {
    if !params.customer_guids.is_empty() {
        return Err(Error::invalid(
            "customer_guid",
            "verification keys cannot be filtered by customer",
        ));
    }
    let mut request = ApiRequest::get(VERIFICATION_KEYS.to_owned(), "VerificationKeyList");
    request.query = list_query(params)?;
    Ok(request)
}

/// The query pairs of a list call in wire order, after checking every value.
fn list_query(params: &ListParams) -> Result<Vec<(&'static str, String)>, Error> {
    let mut query = Vec::with_capacity(3);
    if !params.customer_guids.is_empty() {
        for guid in &params.customer_guids {
            check_guid("customer_guid", guid)?;
        }
        query.push(("customer_guid", params.customer_guids.join(",")));
    }
    if let Some(page) = params.page {
        query.push(("page", page.to_string()));
    }
    if let Some(per_page) = params.per_page {
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(Error::invalid(
                "per_page",
                format!("must be 1 to {MAX_PER_PAGE}, got {per_page}"),
            ));
        }
        query.push(("per_page", per_page.to_string()));
    }
    Ok(query)
}

/// The body of the OAuth 2.0 client-credentials request, in Cybrid's JSON form.
pub(crate) fn token_request_body(
    client_id: &str,
    client_secret: &Secret,
    scopes: &[String],
) -> Zeroizing<Vec<u8>> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        grant_type: &'a str,
        client_id: &'a str,
        client_secret: &'a str,
        scope: String,
    }
    let body = Body {
        grant_type: "client_credentials",
        client_id,
        client_secret: client_secret.expose(),
        scope: scopes.join(" "),
    };
    // Room for the whole body at once (JSON escapes at most 6 bytes a byte), so no smaller
    // buffer holding the secret is freed unwiped while it grows.
    let room = 128 + 6 * (client_id.len() + client_secret.expose().len() + body.scope.len());
    let mut bytes = Zeroizing::new(Vec::with_capacity(room));
    serde_json::to_writer(&mut *bytes, &body).expect("the token request serializes");
    bytes
}

fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // The request models are plain strings and structs: serializing them cannot fail.
    serde_json::to_vec(value).expect("request models serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_record_type_other_than_attestation_is_refused_before_sending() {
        let mut post = PostIdentityRecord::attestation(G, "a.b.c");
        assert_eq!(post.record_type, IdentityRecordType::Attestation);
        post.record_type = IdentityRecordType::from("kyc");
        let err = create_identity_record(&post).err().unwrap();
        assert_eq!(
            err.to_string(),
            "invalid type: Cybrid takes only \"attestation\", got \"kyc\""
        );
    }

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
            String::from_utf8(body.to_vec()).unwrap(),
            format!(
                r#"{{"customer_guid":"{G}","type":"attestation","attestation_details":{{"token":"a.b.c"}}}}"#
            )
        );
    }

    #[test]
    fn token_request_is_cybrids_json() {
        let body = token_request_body("id", &Secret::new("sec"), &["a:b".into(), "c:d".into()]);
        assert_eq!(
            String::from_utf8(body.to_vec()).unwrap(),
            r#"{"grant_type":"client_credentials","client_id":"id","client_secret":"sec","scope":"a:b c:d"}"#
        );
    }

    #[test]
    fn urls_encode_their_queries() {
        let mut request = get_identity_record(G).unwrap();
        request.query = vec![("customer_guid", format!("{G},{G}")), ("x", "a b/é".into())];
        assert_eq!(
            request.url("http://h:1"),
            format!("http://h:1/api/identity_records/{G}?customer_guid={G},{G}&x=a%20b%2F%C3%A9")
        );
        assert_eq!(request.label(), format!("GET /api/identity_records/{G}"));
    }
}
