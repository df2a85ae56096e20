//! Bad input never panics: arbitrary bytes, strings and JSON into every decoder and check.
//! (Unit tests, not integration tests: the decoders and checks are internal to the crate.)

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::api::{self, decode};
use crate::guid::check as check_guid;
use crate::{
    ErrorResponse, IdentityRecord, IdentityRecordList, ListParams, SigningKey, VerificationKey,
    VerificationKeyList, VerifyingKey, attestation, dangerous,
};
use proptest::prelude::*;
use serde_json::Value;

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        // Values the models know, so decoding gets past the first field often.
        prop::sample::select(vec![
            "storing",
            "pending",
            "verified",
            "failed",
            "expired",
            "attestation",
            "RS512",
            "2023-06-07T14:02:41.123Z",
            "invalid_key"
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    let keys = prop::sample::select(vec![
        "guid",
        "customer_guid",
        "type",
        "attestation_details",
        "state",
        "failure_code",
        "created_at",
        "expired_at",
        "total",
        "page",
        "per_page",
        "objects",
        "bank_guid",
        "algorithm",
        "fingerprint",
        "status",
        "error_message",
        "message_code",
        "x",
    ]);
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone().prop_map(str::to_owned), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const BANK: &str = "b4e5b3a2c1d0e9f8a7b6c5d4e3f2a1b0";
const CUSTOMER: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";

fn decode_all(bytes: &[u8]) {
    let _ = decode::<IdentityRecord>("IdentityRecord", bytes);
    let _ = decode::<IdentityRecordList>("IdentityRecordList", bytes);
    let _ = decode::<VerificationKey>("VerificationKey", bytes);
    let _ = decode::<VerificationKeyList>("VerificationKeyList", bytes);
    let _ = decode::<ErrorResponse>("ErrorResponse", bytes);
}

fn check_all(token: &str) {
    let key = SigningKey::sandbox();
    let now = time::OffsetDateTime::now_utc();
    let _ = attestation::check(
        token,
        Some(key.verifying_key()),
        &attestation::Expected {
            bank_guid: BANK,
            customer_guid: CUSTOMER,
            now,
        },
    );
    let _ = attestation::check(
        token,
        None,
        &attestation::Expected {
            bank_guid: BANK,
            customer_guid: CUSTOMER,
            now,
        },
    );
    let _ = attestation::key_id(token);
    let _ = dangerous::decode_unverified(token);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn model_decoders_take_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_all(&bytes);
    }

    #[test]
    fn model_decoders_take_arbitrary_json(value in arb_json()) {
        decode_all(value.to_string().as_bytes());
    }

    #[test]
    fn token_checks_take_arbitrary_strings(token in ".{0,300}") {
        check_all(&token);
    }

    #[test]
    fn token_checks_take_arbitrary_bytes_as_tokens(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_all(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn token_checks_take_signed_tokens_with_arbitrary_json(header in arb_json(), claims in arb_json()) {
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let sig = SigningKey::sandbox().sign_rs512(input.as_bytes()).unwrap();
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
        check_all(&token);
        // A well-signed token fails only on its claims: never on its signature.
        let verdict = attestation::check(&token, Some(SigningKey::sandbox().verifying_key()), &attestation::Expected { bank_guid: BANK, customer_guid: CUSTOMER, now: time::OffsetDateTime::now_utc() });
        prop_assert_ne!(verdict.err(), Some(crate::FailureCode::InvalidSignature));
    }

    #[test]
    fn guids_are_exactly_32_ascii_letters_or_digits(s in ".{0,40}|[a-zA-Z0-9]{32}") {
        let ok = s.len() == 32 && s.bytes().all(|b| b.is_ascii_alphanumeric());
        prop_assert_eq!(check_guid("guid", &s).is_ok(), ok);
    }

    #[test]
    fn list_queries_are_never_malformed(customers in prop::collection::vec(".{0,40}|[a-f0-9]{32}", 0..4), page in any::<u32>(), per_page in any::<u32>()) {
        let mut params = ListParams::new().page(page).per_page(per_page);
        for c in &customers {
            params = params.customer_guid(c.as_str());
        }
        if let Ok(request) = api::list_identity_records(&params) {
            for (name, value) in request.query {
                prop_assert!(["customer_guid", "page", "per_page"].contains(&name));
                prop_assert!(!value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b','), "{value:?}");
            }
        }
    }

    #[test]
    fn token_answers_take_any_expires_in(
        number in prop_oneof![
            any::<u64>().prop_map(|n| n.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| f.to_string()),
            "[0-9]{20,40}",
            Just("1e400".to_owned()),
            Just("-0".to_owned()),
        ]
    ) {
        let body = format!(r#"{{"access_token":"t","expires_in":{number}}}"#);
        let answer = api::Answer { status: 200, request_id: None, retry_after: None, body: body.into_bytes() };
        let read = api::read_token_answer(&answer, &crate::auth::Secret::new("s"), std::time::Instant::now());
        // Every JSON whole number that fits a u64 is a usable token, however far its expiry.
        if serde_json::from_str::<u64>(&number).is_ok() {
            prop_assert!(read.is_ok(), "{number}");
        }
    }

    #[test]
    fn key_parsers_take_arbitrary_text(pem in ".{0,200}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        prop_assert!(SigningKey::from_pem(&pem).is_err());
        let pkcs8 = format!("-----BEGIN PRIVATE KEY-----\n{pem}\n-----END PRIVATE KEY-----\n");
        let pkcs1 = format!("-----BEGIN RSA PRIVATE KEY-----\n{pem}\n-----END RSA PRIVATE KEY-----\n");
        prop_assert!(SigningKey::from_pem(&pkcs8).is_err());
        prop_assert!(SigningKey::from_pem(&pkcs1).is_err());
        prop_assert!(SigningKey::from_der(&bytes).is_err());
        prop_assert!(VerifyingKey::from_spki_der(&bytes).is_err());
        prop_assert!(VerifyingKey::from_spki_base64(&pem).is_err());
    }
}
