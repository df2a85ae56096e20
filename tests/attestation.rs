//! Attestation JWTs: bytes equal to OpenSSL's, a golden token, and every failure code.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cybrid_identity::{
    Attestation, Error, FailureCode, PostVerificationKey, SigningKey, VerifyingKey, attestation,
    dangerous,
};
use serde_json::{Value, json};
use time::OffsetDateTime;

const BANK: &str = "b4e5b3a2c1d0e9f8a7b6c5d4e3f2a1b0";
const CUSTOMER: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
const KID: &str = "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d";
const JTI: &str = "7f2c1f0e-8a9b-4c3d-9e8f-0a1b2c3d4e5f";
const IAT: i64 = 1_700_000_000;
const EXP: i64 = IAT + 365 * 86_400;

/// Made by tests/fixtures: Python assembled the header and claims with
/// `json.dumps(..., separators=(',',':'))`, and the signature is
/// `openssl dgst -sha512 -sign tests/fixtures/sandbox_pkcs8.pem signing_input.txt`.
const GOLDEN_TOKEN: &str = include_str!("fixtures/golden_token.txt");

/// `printf 'cybrid-identity golden signing input' | openssl dgst -sha512 -sign tests/fixtures/sandbox_pkcs8.pem | base64 -w0`
const OPENSSL_SIGNATURE: &str = "Jgn2fMxNECn4sWQJgWRMO10K3s3krUDH6gcqJvEH4hZqWLcABcCwOm3TEWPHmpk/zoq8yllWPvpQVX/NcwoJG4KuXa4m7yNaT8E0nuO/TT5JyCnhBSA71fQAbKtxs3y+7jUJR9KcbP3DsW0Yba/AVW+oWSme+LBNKo2wgEi9U1BTVAJT4ypM1THEna2v4N+lJeVHl8q4rYSf5QcWpIkc0xxY2wSyFh8Aa+uP0eHh/YIVvJ//+vm/i4IXtadujrGAMjk0QnwcyhBRHEgkWYTmwOPJuF75ql+Z5M0ybYCrrTmT5R1ed+JQ35j3HuUXZmGk9WOjRcXM+x7GkICdEDLtaA==";

/// `printf 'wen moon' | openssl dgst -sha512 -sign tests/fixtures/sandbox_pkcs8.pem | base64 -w0`
/// ("wen moon" is the nonce of Cybrid's own key-registration example.)
const OPENSSL_NONCE_SIGNATURE: &str = "iUOEwcMfLiVYdi3RvEkF2F9QtwxA995nuVYC5O81LpoL/KsW2etHMFxm0AgCGnKiuLJ5yOthXsZeGU5m/0VWp3S683cOKQMoE+RnvFfq1AJcMwmfgX1VyszyacMo8FYrrUctKc9UiyEusn4iL/UI1YMTqeQBYLi3PCEVxmsbXcrOVv7H+yF3Pnrb94cJ3R1JygzXxNW9HEmpAMr6pTyd6ghv1rKhiJzvA1WMQ6l0WQg/eqfwIptflO9/Dn4Idafyi35QS+tYWSazcEcm7U4I0Tzw85uOSPfC8e0v17WWQ3LXWuVcwen6hL4Q0q6mlTei0XfN83ga5wlNS2RaR4fkFQ==";

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

#[test]
fn signature_equals_openssl() {
    let sig = SigningKey::sandbox()
        .sign_rs512(b"cybrid-identity golden signing input")
        .unwrap();
    assert_eq!(STANDARD.encode(sig), OPENSSL_SIGNATURE);
}

#[test]
fn golden_token_byte_for_byte() {
    let token = Attestation::new(BANK, CUSTOMER, KID)
        .issued_at(at(IAT))
        .expires_at(at(EXP))
        .jwt_id(JTI)
        .sign(&SigningKey::sandbox())
        .unwrap();
    assert_eq!(token, GOLDEN_TOKEN.trim());
}

#[test]
fn default_expiry_is_365_days_after_iat() {
    let token = Attestation::new(BANK, CUSTOMER, KID)
        .issued_at(at(IAT))
        .jwt_id(JTI)
        .sign(&SigningKey::sandbox())
        .unwrap();
    assert_eq!(token, GOLDEN_TOKEN.trim());
}

#[test]
fn default_jti_is_a_fresh_uuid_v4_and_iat_is_now() {
    let key = SigningKey::sandbox();
    let before = OffsetDateTime::now_utc().unix_timestamp();
    let a =
        dangerous::decode_unverified(&Attestation::new(BANK, CUSTOMER, KID).sign(&key).unwrap())
            .unwrap();
    let b =
        dangerous::decode_unverified(&Attestation::new(BANK, CUSTOMER, KID).sign(&key).unwrap())
            .unwrap();
    let after = OffsetDateTime::now_utc().unix_timestamp();
    let jti = a.claims["jti"].as_str().unwrap();
    assert_ne!(a.claims["jti"], b.claims["jti"]);
    let bytes = jti.as_bytes();
    assert_eq!(jti.len(), 36);
    assert_eq!(bytes[14], b'4', "{jti}");
    assert!(matches!(bytes[19], b'8' | b'9' | b'a' | b'b'), "{jti}");
    let iat = a.claims["iat"].as_i64().unwrap();
    assert!((before..=after).contains(&iat));
    assert_eq!(a.claims["exp"].as_i64().unwrap(), iat + 365 * 86_400);
    assert_eq!(
        a.header,
        json!({"alg": "RS512", "kid": KID})
            .as_object()
            .unwrap()
            .clone()
    );
}

#[test]
fn sign_refuses_bad_input_by_name() {
    let key = SigningKey::sandbox();
    let field = |r: Result<String, Error>| match r {
        Err(Error::InvalidInput { field, .. }) => field,
        other => panic!("expected InvalidInput, got {other:?}"),
    };
    assert_eq!(
        field(Attestation::new("short", CUSTOMER, KID).sign(&key)),
        "bank_guid"
    );
    assert_eq!(
        field(Attestation::new(BANK, "c0ffee00c0ffee00c0ffee00c0ffee0/", KID).sign(&key)),
        "customer_guid"
    );
    assert_eq!(
        field(Attestation::new(BANK, CUSTOMER, "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1dX").sign(&key)),
        "verification_key_guid"
    );
    assert_eq!(
        field(Attestation::new(BANK, CUSTOMER, "é".repeat(16)).sign(&key)),
        "verification_key_guid"
    );
    assert_eq!(
        field(
            Attestation::new(BANK, CUSTOMER, KID)
                .issued_at(at(IAT))
                .expires_at(at(IAT))
                .sign(&key)
        ),
        "expires_at"
    );
    assert_eq!(
        field(Attestation::new(BANK, CUSTOMER, KID).jwt_id("").sign(&key)),
        "jwt_id"
    );
    let err = Attestation::new(BANK, CUSTOMER, KID)
        .issued_at(at(IAT))
        .jwt_id("x".repeat(1200))
        .sign(&key)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid token: the token would be 2307 characters; Cybrid stores at most 2048 (shorten the jti or use a smaller key)"
    );
}

#[test]
fn the_longest_jti_that_fits_makes_a_2048_character_token() {
    let key = SigningKey::sandbox();
    let fits = (1..1100)
        .rev()
        .find(|n| {
            Attestation::new(BANK, CUSTOMER, KID)
                .issued_at(at(IAT))
                .jwt_id("x".repeat(*n))
                .sign(&key)
                .is_ok()
        })
        .unwrap();
    let token = Attestation::new(BANK, CUSTOMER, KID)
        .issued_at(at(IAT))
        .jwt_id("x".repeat(fits))
        .sign(&key)
        .unwrap();
    assert!(token.len() > 2045 && token.len() <= 2048, "{}", token.len());
}

#[test]
fn golden_token_passes_the_check() {
    let key = SigningKey::sandbox();
    let claims = attestation::check(
        GOLDEN_TOKEN.trim(),
        Some(key.verifying_key()),
        &attestation::Expected {
            bank_guid: BANK,
            customer_guid: CUSTOMER,
            now: at(IAT + 10),
        },
    )
    .unwrap();
    assert_eq!(claims.kid, KID);
    assert_eq!(claims.iss, format!("http://api.cybrid.app/banks/{BANK}"));
    assert_eq!(
        claims.sub,
        format!("http://api.cybrid.app/customers/{CUSTOMER}")
    );
    assert_eq!(claims.aud, "http://api.cybrid.app");
    assert_eq!(
        (claims.iat, claims.exp, claims.jti.as_str()),
        (Some(at(IAT)), at(EXP), JTI)
    );
    assert_eq!(
        attestation::key_id(GOLDEN_TOKEN.trim()).as_deref(),
        Some(KID)
    );
}

/// Assembles a token from arbitrary header and claims JSON, signed with `key`.
fn craft(header: &Value, claims: &Value, key: &SigningKey) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key.sign_rs512(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn good_claims() -> Value {
    json!({
        "iss": format!("http://api.cybrid.app/banks/{BANK}"),
        "aud": "http://api.cybrid.app",
        "sub": format!("http://api.cybrid.app/customers/{CUSTOMER}"),
        "iat": IAT, "exp": EXP, "jti": JTI,
    })
}

fn with(mut v: Value, key: &str, value: Option<Value>) -> Value {
    match value {
        Some(value) => v[key] = value,
        None => {
            v.as_object_mut().unwrap().remove(key);
        }
    }
    v
}

fn verdict(token: &str, vk: Option<&VerifyingKey>) -> Result<(), FailureCode> {
    attestation::check(
        token,
        vk,
        &attestation::Expected {
            bank_guid: BANK,
            customer_guid: CUSTOMER,
            now: at(IAT + 10),
        },
    )
    .map(|_| ())
}

#[test]
fn every_failure_code_from_a_crafted_token() {
    let key = SigningKey::sandbox();
    let other = SigningKey::from_pem(include_str!("fixtures/other_2048_pkcs1.pem")).unwrap();
    let vk = Some(key.verifying_key());
    let header = json!({"alg": "RS512", "kid": KID});
    let good = craft(&header, &good_claims(), &key);
    assert_eq!(verdict(&good, vk), Ok(()));

    assert_eq!(verdict(&good, None), Err(FailureCode::InvalidKey));
    assert_eq!(
        verdict(
            &craft(&json!({"alg": "RS256", "kid": KID}), &good_claims(), &key),
            vk
        ),
        Err(FailureCode::InvalidAlgorithm)
    );
    assert_eq!(
        verdict(
            &craft(&json!({"alg": "none", "kid": KID}), &good_claims(), &key),
            vk
        ),
        Err(FailureCode::InvalidAlgorithm)
    );
    assert_eq!(
        verdict(&craft(&header, &good_claims(), &other), vk),
        Err(FailureCode::InvalidSignature)
    );
    assert_eq!(
        verdict(
            &craft(
                &header,
                &with(
                    good_claims(),
                    "iss",
                    Some(json!(
                        "http://api.cybrid.app/banks/00000000000000000000000000000000"
                    ))
                ),
                &key
            ),
            vk
        ),
        Err(FailureCode::InvalidIssuer)
    );
    assert_eq!(
        verdict(&craft(&header, &with(good_claims(), "iss", None), &key), vk),
        Err(FailureCode::InvalidIssuer)
    );
    assert_eq!(
        verdict(
            &craft(
                &header,
                &with(good_claims(), "aud", Some(json!("https://api.cybrid.app"))),
                &key
            ),
            vk
        ),
        Err(FailureCode::InvalidAudience)
    );
    assert_eq!(
        verdict(
            &craft(
                &header,
                &with(
                    good_claims(),
                    "aud",
                    Some(json!(["x", "http://api.cybrid.app"]))
                ),
                &key
            ),
            vk
        ),
        Ok(())
    );
    assert_eq!(
        verdict(
            &craft(
                &header,
                &with(
                    good_claims(),
                    "aud",
                    Some(json!(["x", "https://api.cybrid.app"]))
                ),
                &key
            ),
            vk
        ),
        Err(FailureCode::InvalidAudience),
        "an array without the audience"
    );
    assert_eq!(
        verdict(
            &craft(
                &header,
                &with(
                    good_claims(),
                    "sub",
                    Some(json!(
                        "http://api.cybrid.app/customers/ffffffffffffffffffffffffffffffff"
                    ))
                ),
                &key
            ),
            vk
        ),
        Err(FailureCode::InvalidSubject)
    );
    assert_eq!(
        verdict(
            &craft(
                &header,
                &with(good_claims(), "exp", Some(json!(IAT + 10))),
                &key
            ),
            vk
        ),
        Err(FailureCode::JwtExpired)
    );
    assert_eq!(
        verdict(
            &craft(
                &header,
                &with(good_claims(), "exp", Some(json!(IAT + 11))),
                &key
            ),
            vk
        ),
        Ok(())
    );
    assert_eq!(
        verdict(&craft(&header, &with(good_claims(), "exp", None), &key), vk),
        Err(FailureCode::JwtExpired)
    );
    assert_eq!(
        verdict(&craft(&header, &with(good_claims(), "jti", None), &key), vk),
        Err(FailureCode::MissingJti)
    );
    assert_eq!(
        verdict(
            &craft(&header, &with(good_claims(), "jti", Some(json!(""))), &key),
            vk
        ),
        Err(FailureCode::MissingJti)
    );
    assert_eq!(
        verdict(&craft(&json!({"alg": "RS512"}), &good_claims(), &key), vk),
        Err(FailureCode::MissingKeyid)
    );
}

#[test]
fn precedence_when_several_things_are_wrong() {
    let key = SigningKey::sandbox();
    let other = SigningKey::from_pem(include_str!("fixtures/other_2048_pkcs1.pem")).unwrap();
    let vk = Some(key.verifying_key());
    let all_bad_claims = json!({"iss": "x", "aud": "y", "sub": "z", "exp": 1});
    let no_kid_rs256 = json!({"alg": "RS256"});
    assert_eq!(
        verdict(&craft(&no_kid_rs256, &all_bad_claims, &other), None),
        Err(FailureCode::InvalidKey)
    );
    assert_eq!(
        verdict(&craft(&no_kid_rs256, &all_bad_claims, &other), vk),
        Err(FailureCode::InvalidAlgorithm)
    );
    let no_kid = json!({"alg": "RS512"});
    assert_eq!(
        verdict(&craft(&no_kid, &all_bad_claims, &other), vk),
        Err(FailureCode::InvalidSignature)
    );
    assert_eq!(
        verdict(&craft(&no_kid, &all_bad_claims, &key), vk),
        Err(FailureCode::InvalidIssuer)
    );
    let c = with(
        all_bad_claims.clone(),
        "iss",
        Some(good_claims()["iss"].clone()),
    );
    assert_eq!(
        verdict(&craft(&no_kid, &c, &key), vk),
        Err(FailureCode::InvalidAudience)
    );
    let c = with(c, "aud", Some(good_claims()["aud"].clone()));
    assert_eq!(
        verdict(&craft(&no_kid, &c, &key), vk),
        Err(FailureCode::InvalidSubject)
    );
    let c = with(c, "sub", Some(good_claims()["sub"].clone()));
    assert_eq!(
        verdict(&craft(&no_kid, &c, &key), vk),
        Err(FailureCode::JwtExpired)
    );
    let c = with(c, "exp", Some(json!(EXP)));
    assert_eq!(
        verdict(&craft(&no_kid, &c, &key), vk),
        Err(FailureCode::MissingJti)
    );
    let c = with(c, "jti", Some(json!(JTI)));
    assert_eq!(
        verdict(&craft(&no_kid, &c, &key), vk),
        Err(FailureCode::MissingKeyid)
    );
}

#[test]
fn malformed_tokens_get_codes_not_panics() {
    let key = SigningKey::sandbox();
    let vk = Some(key.verifying_key());
    for token in [
        "",
        ".",
        "..",
        "a.b.c",
        "a.b.c.d",
        "eyJhbGciOiJSUzUxMiJ9..",
        "%%%.%%%.%%%",
    ] {
        assert!(verdict(token, vk).is_err(), "{token:?}");
        assert!(dangerous::decode_unverified(token).is_err() || token.starts_with("eyJ"));
    }
    let golden = GOLDEN_TOKEN.trim();
    let (input, _) = golden.rsplit_once('.').unwrap();
    assert_eq!(
        verdict(&format!("{input}.!!!"), vk),
        Err(FailureCode::InvalidSignature)
    );
    assert_eq!(
        verdict(&format!("{input}."), vk),
        Err(FailureCode::InvalidSignature)
    );
}

#[test]
fn post_verification_key_signs_the_nonce_like_openssl() {
    let key = SigningKey::sandbox();
    let post = PostVerificationKey::new(&key, "wen moon").unwrap();
    assert_eq!(post.signature, OPENSSL_NONCE_SIGNATURE);
    assert_eq!(
        post.public_key,
        include_str!("fixtures/sandbox_spki.b64").trim()
    );
    assert_eq!(
        (
            post.nonce.as_str(),
            post.key_type.as_str(),
            post.algorithm.as_str()
        ),
        ("wen moon", "attestation", "RS512")
    );
    let wire = serde_json::to_value(&post).unwrap();
    assert_eq!(wire["type"], "attestation");
    assert_eq!(wire["algorithm"], "RS512");
    assert_eq!(
        serde_json::from_value::<PostVerificationKey>(wire).unwrap(),
        post
    );
    assert!(PostVerificationKey::new(&key, "").is_err());
    assert!(PostVerificationKey::new(&key, "n".repeat(257)).is_err());
    assert!(PostVerificationKey::new(&key, "n".repeat(256)).is_ok());
}

/// Assembles a token from raw header and claims text (duplicate keys and all), signed.
fn craft_raw(header: &str, claims: &str, key: &SigningKey) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let sig = key.sign_rs512(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[test]
fn a_token_of_exactly_the_checked_bound_is_read_and_a_byte_more_is_not() {
    let key = SigningKey::sandbox();
    let vk = Some(key.verifying_key());
    let signature = URL_SAFE_NO_PAD.encode(key.sign_rs512(b"x").unwrap()).len();
    let length = |header: &Value, claims: &Value| {
        URL_SAFE_NO_PAD.encode(header.to_string()).len()
            + URL_SAFE_NO_PAD.encode(claims.to_string()).len()
            + signature
            + 2
    };
    // Base64 cannot make every length: a `typ` of 3 or 4 letters shifts the ones it can.
    let headers = [
        json!({"alg": "RS512", "kid": KID}),
        json!({"alg": "RS512", "kid": KID, "typ": "JWT"}),
        json!({"alg": "RS512", "kid": KID, "typ": "JOSE"}),
    ];
    let token_of = |size: usize| {
        for header in &headers {
            for pad in 4000..7000 {
                let claims = with(good_claims(), "pad", Some(json!("x".repeat(pad))));
                if length(header, &claims) == size {
                    return craft(header, &claims, &key);
                }
            }
        }
        panic!("no token of {size} bytes");
    };
    let bound = attestation::MAX_CHECKED_TOKEN_BYTES;
    let at = token_of(bound);
    assert_eq!(at.len(), bound);
    assert_eq!(verdict(&at, vk), Ok(()));
    let over = token_of(bound + 1);
    assert_eq!(over.len(), bound + 1);
    assert_eq!(verdict(&over, vk), Err(FailureCode::InvalidAlgorithm));
}

#[test]
fn genuine_but_hostile_tokens_are_refused() {
    let key = SigningKey::sandbox();
    let vk = Some(key.verifying_key());
    let header = json!({"alg": "RS512", "kid": KID});
    // 16 MiB, correctly signed: refused by its size alone, before anything is decoded.
    let huge = craft(
        &header,
        &with(good_claims(), "pad", Some(json!("x".repeat(16 << 20)))),
        &key,
    );
    assert_eq!(verdict(&huge, vk), Err(FailureCode::InvalidAlgorithm));
    let fits = craft(
        &header,
        &with(good_claims(), "pad", Some(json!("x".repeat(5000)))),
        &key,
    );
    assert!(fits.len() <= attestation::MAX_CHECKED_TOKEN_BYTES);
    assert_eq!(verdict(&fits, vk), Ok(()), "under 8 KiB is read");

    // One key twice: a reader taking the first would see `none`.
    let claims = good_claims().to_string();
    let twice = craft_raw(
        &format!(r#"{{"alg":"none","alg":"RS512","kid":"{KID}"}}"#),
        &claims,
        &key,
    );
    assert_eq!(verdict(&twice, vk), Err(FailureCode::InvalidAlgorithm));
    let sub_twice = claims.replacen(
        '{',
        r#"{"sub":"http://api.cybrid.app/customers/someone-else","#,
        1,
    );
    let twice = craft_raw(&header.to_string(), &sub_twice, &key);
    assert_eq!(verdict(&twice, vk), Err(FailureCode::InvalidIssuer));

    // A critical extension this checker does not know.
    let crit = json!({"alg": "RS512", "kid": KID, "crit": ["exp"]});
    assert_eq!(
        verdict(&craft(&crit, &good_claims(), &key), vk),
        Err(FailureCode::InvalidAlgorithm)
    );

    // Not before, and issued at, in the future: the checker's now is IAT + 10.
    for name in ["nbf", "iat"] {
        let later = |secs: i64| {
            craft(
                &header,
                &with(good_claims(), name, Some(json!(IAT + secs))),
                &key,
            )
        };
        assert_eq!(
            verdict(&later(70), vk),
            Ok(()),
            "{name} within 60 s of skew"
        );
        assert_eq!(
            verdict(&later(71), vk),
            Err(FailureCode::JwtExpired),
            "{name} 61 s ahead"
        );
        let text = craft(
            &header,
            &with(good_claims(), name, Some(json!("soon"))),
            &key,
        );
        assert_eq!(
            verdict(&text, vk),
            Err(FailureCode::JwtExpired),
            "{name} not a number"
        );
    }

    // FailureCode is an error type: `?` takes it into a Box<dyn Error>.
    fn boxed(token: &str, vk: Option<&VerifyingKey>) -> Result<(), Box<dyn std::error::Error>> {
        attestation::check(
            token,
            vk,
            &attestation::Expected {
                bank_guid: BANK,
                customer_guid: CUSTOMER,
                now: at(IAT + 10),
            },
        )?;
        Ok(())
    }
    assert_eq!(
        boxed(&huge, vk).unwrap_err().to_string(),
        "invalid_algorithm"
    );
}
