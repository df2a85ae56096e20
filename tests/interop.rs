//! Tokens from this crate verify with an independent JWT library (jsonwebtoken, on RustCrypto).

use cybrid_identity::{Attestation, SigningKey};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    iat: i64,
    exp: i64,
    jti: String,
}

#[test]
fn jsonwebtoken_verifies_our_tokens_with_the_sandbox_public_key() {
    let bank = "b4e5b3a2c1d0e9f8a7b6c5d4e3f2a1b0";
    let customer = "c0ffee00c0ffee00c0ffee00c0ffee00";
    let kid = "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d";
    let token = Attestation::new(bank, customer, kid)
        .sign(&SigningKey::sandbox())
        .unwrap();

    let der = SigningKey::sandbox().verifying_key().to_spki_der();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        SigningKey::sandbox().verifying_key().to_spki_base64()
    );
    assert!(!der.is_empty());
    let key = DecodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::RS512);
    validation.set_audience(&["http://api.cybrid.app"]);
    validation.set_issuer(&[format!("http://api.cybrid.app/banks/{bank}")]);
    validation.sub = Some(format!("http://api.cybrid.app/customers/{customer}"));
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);

    let header = decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS512);
    assert_eq!(header.kid.as_deref(), Some(kid));
    let data = decode::<Claims>(&token, &key, &validation).unwrap();
    assert_eq!(data.claims.aud, "http://api.cybrid.app");
    assert_eq!(
        data.claims.iss,
        format!("http://api.cybrid.app/banks/{bank}")
    );
    assert_eq!(
        data.claims.sub,
        format!("http://api.cybrid.app/customers/{customer}")
    );
    assert_eq!(data.claims.exp - data.claims.iat, 365 * 86_400);
    assert_eq!(data.claims.jti.len(), 36);

    // And it refuses a token whose signature we broke, so the check above means something.
    let mut broken = token.clone();
    let last = broken.pop().unwrap();
    broken.push(if last == 'A' { 'B' } else { 'A' });
    assert!(decode::<Claims>(&broken, &key, &validation).is_err());
}
