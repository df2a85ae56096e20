//! Attestation JWTs: assembled by hand, signed RS512, and checked the way Cybrid's server
//! checks them.
//!
//! The compact form is `base64url(header) . base64url(claims) . base64url(signature)`, without
//! padding, where the signature is RSASSA-PKCS1-v1_5 with SHA-512 over the first two parts.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use crate::error::Error;
use crate::guid::check as check_guid;
use crate::jws;
use crate::keys::{SigningKey, VerifyingKey};
use crate::models::FailureCode;

/// The longest token Cybrid stores (`attestation_details.token`).
pub const MAX_TOKEN_CHARS: usize = 2048;
/// The only algorithm Cybrid accepts.
pub const ALGORITHM: &str = "RS512";
/// The longest token [`check`] decodes (8 KiB); a longer one is refused unread.
pub const MAX_CHECKED_TOKEN_BYTES: usize = 8 * 1024;
/// How far in the future [`check`] accepts `nbf` and `iat` (clocks drift).
pub const CLOCK_SKEW_SECONDS: i64 = 60;
/// The `aud` claim.
pub const AUDIENCE: &str = "http://api.cybrid.app";
/// How long a token is valid unless [`Attestation::expires_at`] says otherwise, as in
/// Cybrid's own example.
pub const DEFAULT_VALIDITY: Duration = Duration::days(365);

/// The `iss` claim for a bank: `http://api.cybrid.app/banks/{bank_guid}`.
pub fn issuer(bank_guid: &str) -> String {
    format!("{AUDIENCE}/banks/{bank_guid}")
}

/// The `sub` claim for a customer: `http://api.cybrid.app/customers/{customer_guid}`.
pub fn subject(customer_guid: &str) -> String {
    format!("{AUDIENCE}/customers/{customer_guid}")
}

/// Builds and signs one attestation JWT.
///
/// ```
/// use cybrid_identity::{Attestation, SigningKey};
/// let token = Attestation::new(
///     "0f0e0d0c0b0a09080706050403020100",
///     "c0ffee00c0ffee00c0ffee00c0ffee00",
///     "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d",
/// )
/// .sign(&SigningKey::sandbox())?;
/// assert_eq!(token.split('.').count(), 3);
/// # Ok::<_, cybrid_identity::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Attestation {
    bank_guid: String,
    customer_guid: String,
    verification_key_guid: String,
    issued_at: Option<OffsetDateTime>,
    expires_at: Option<OffsetDateTime>,
    jwt_id: Option<String>,
}

impl Attestation {
    /// An attestation by the bank `bank_guid` for its customer `customer_guid`, to be checked
    /// with the verification key `verification_key_guid` (the JWT's `kid`).
    ///
    /// # Examples
    ///
    /// ```
    /// use cybrid_identity::{Attestation, SigningKey};
    /// let token = Attestation::new(
    ///     "0f0e0d0c0b0a09080706050403020100", // bank
    ///     "c0ffee00c0ffee00c0ffee00c0ffee00", // customer
    ///     "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d", // verification key (kid)
    /// )
    /// .sign(&SigningKey::sandbox())?;
    /// assert_eq!(token.split('.').count(), 3);
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn new(
        bank_guid: impl Into<String>,
        customer_guid: impl Into<String>,
        verification_key_guid: impl Into<String>,
    ) -> Self {
        Attestation {
            bank_guid: bank_guid.into(),
            customer_guid: customer_guid.into(),
            verification_key_guid: verification_key_guid.into(),
            issued_at: None,
            expires_at: None,
            jwt_id: None,
        }
    }

    /// The `iat` claim. Default: the time of signing.
    ///
    /// # Examples
    ///
    /// ```
    /// use cybrid_identity::{Attestation, time::OffsetDateTime};
    /// let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    /// let pinned = Attestation::new("0f0e0d0c0b0a09080706050403020100", "c0ffee00c0ffee00c0ffee00c0ffee00", "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d")
    ///     .issued_at(at);
    /// # let _ = pinned;
    /// ```
    pub fn issued_at(mut self, iat: OffsetDateTime) -> Self {
        self.issued_at = Some(iat);
        self
    }

    /// The `exp` claim. Default: `iat` + 365 days.
    ///
    /// # Examples
    ///
    /// ```
    /// use cybrid_identity::{Attestation, time::{Duration, OffsetDateTime}};
    /// let short = Attestation::new("0f0e0d0c0b0a09080706050403020100", "c0ffee00c0ffee00c0ffee00c0ffee00", "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d")
    ///     .expires_at(OffsetDateTime::now_utc() + Duration::days(30));
    /// # let _ = short;
    /// ```
    pub fn expires_at(mut self, exp: OffsetDateTime) -> Self {
        self.expires_at = Some(exp);
        self
    }

    /// The `jti` claim. Default: a random UUID v4.
    ///
    /// # Examples
    ///
    /// ```
    /// let fixed = cybrid_identity::Attestation::new("0f0e0d0c0b0a09080706050403020100", "c0ffee00c0ffee00c0ffee00c0ffee00", "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d")
    ///     .jwt_id("batch-7-customer-42");
    /// # let _ = fixed;
    /// ```
    pub fn jwt_id(mut self, jti: impl Into<String>) -> Self {
        self.jwt_id = Some(jti.into());
        self
    }

    /// Assembles and signs the token with `key`, returning its compact form.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a guid that is not 32 ASCII letters or digits, an empty
    /// `jti`, `exp` not after `iat`, or a token longer than 2048 characters;
    /// [`Error::Signing`] if the random source fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use cybrid_identity::{Attestation, SigningKey, attestation};
    /// let (bank, customer) = ("0f0e0d0c0b0a09080706050403020100", "c0ffee00c0ffee00c0ffee00c0ffee00");
    /// let key = SigningKey::sandbox();
    /// let token = Attestation::new(bank, customer, "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d").sign(&key)?;
    /// let now = cybrid_identity::time::OffsetDateTime::now_utc();
    /// assert!(attestation::check(&token, Some(key.verifying_key()), bank, customer, now).is_ok());
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn sign(&self, key: &SigningKey) -> Result<String, Error> {
        check_guid("bank_guid", &self.bank_guid)?;
        check_guid("customer_guid", &self.customer_guid)?;
        check_guid("verification_key_guid", &self.verification_key_guid)?;
        let iat = self.issued_at.unwrap_or_else(OffsetDateTime::now_utc);
        let exp = match self.expires_at {
            Some(exp) => exp,
            None => iat.checked_add(DEFAULT_VALIDITY).ok_or_else(|| {
                Error::invalid("issued_at", "iat + 365 days is past the year 9999")
            })?,
        };
        if exp.unix_timestamp() <= iat.unix_timestamp() {
            return Err(Error::invalid(
                "expires_at",
                format!(
                    "exp ({}) must be after iat ({})",
                    exp.unix_timestamp(),
                    iat.unix_timestamp()
                ),
            ));
        }
        let jti = match &self.jwt_id {
            Some(jti) if jti.is_empty() => {
                return Err(Error::invalid("jwt_id", "the jti claim must not be empty"));
            }
            Some(jti) => jti.clone(),
            None => crate::rand::uuid_v4()
                .ok_or_else(|| Error::Signing("the random source failed".to_owned()))?,
        };

        let header = format!(
            r#"{{"alg":"{ALGORITHM}","kid":"{}"}}"#,
            self.verification_key_guid
        );
        let claims = format!(
            r#"{{"iss":"{}","aud":"{AUDIENCE}","sub":"{}","iat":{},"exp":{},"jti":{}}}"#,
            issuer(&self.bank_guid),
            subject(&self.customer_guid),
            iat.unix_timestamp(),
            exp.unix_timestamp(),
            Value::String(jti),
        );

        // The length is known before signing, so an oversized token costs no RSA operation.
        let length =
            b64_len(header.len()) + 1 + b64_len(claims.len()) + 1 + b64_len(key.signature_len());
        check_token_length(length)?;
        let mut token = String::with_capacity(length);
        B64URL.encode_string(header, &mut token);
        token.push('.');
        B64URL.encode_string(claims, &mut token);
        let signature = key.sign_rs512(token.as_bytes())?;
        token.push('.');
        B64URL.encode_string(signature, &mut token);
        Ok(token)
    }
}

/// Length of unpadded Base64 for `n` bytes.
fn b64_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// The claims of a token that passed [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claims {
    /// The header's `kid`: the verification key's guid.
    pub kid: String,
    /// `iss`.
    pub iss: String,
    /// `aud`.
    pub aud: String,
    /// `sub`.
    pub sub: String,
    /// `iat`, when present (Cybrid does not require it to pass).
    pub iat: Option<i64>,
    /// `exp`, seconds since the epoch.
    pub exp: i64,
    /// `jti`.
    pub jti: String,
}

/// A compact JWS's header and claims, decoded but not verified.
pub(crate) struct RawToken {
    pub(crate) header: Option<Map<String, Value>>,
    pub(crate) claims: Option<Map<String, Value>>,
}

pub(crate) fn split_token(token: &str) -> Option<RawToken> {
    let parts = jws::segments(token)?;
    Some(RawToken {
        header: jws::object(parts.header),
        claims: jws::object(parts.claims),
    })
}

/// The `kid` header of a token, unverified: which key to look up before calling [`check`].
pub fn key_id(token: &str) -> Option<String> {
    let header = split_token(token)?.header?;
    header.get("kid")?.as_str().map(str::to_owned)
}

/// Checks a token the way Cybrid's server does, and returns its claims or the failure code
/// the server would record.
///
/// `key` is the verification key registered under the token's `kid` ([`key_id`]), or `None`
/// when the bank has no usable key by that guid. `now` is the current time.
///
/// When several things are wrong, the first of these wins: `invalid_key`,
/// `invalid_algorithm` (also for a token over [`MAX_CHECKED_TOKEN_BYTES`], a header that does
/// not decode, one with a key twice, or one with `crit`), `invalid_signature`,
/// `invalid_issuer` (also for claims that do not decode or hold a key twice),
/// `invalid_audience`, `invalid_subject`, `jwt_expired` (also for a missing `exp`, and for
/// `nbf` or `iat` more than [`CLOCK_SKEW_SECONDS`] in the future), `missing_jti`,
/// `missing_keyid`. The codes beyond Cybrid's own reasons are this crate's choice: Cybrid
/// documents the codes, not which it gives for these.
///
/// The signature is verified over the header and claims bytes before the claims are parsed.
///
/// ```
/// use cybrid_identity::{Attestation, SigningKey, attestation, FailureCode};
/// let key = SigningKey::sandbox();
/// let (bank, customer, kid) = ("0f0e0d0c0b0a09080706050403020100", "c0ffee00c0ffee00c0ffee00c0ffee00", "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d");
/// let token = Attestation::new(bank, customer, kid).sign(&key)?;
/// let now = time::OffsetDateTime::now_utc();
/// assert!(attestation::check(&token, Some(key.verifying_key()), bank, customer, now).is_ok());
/// assert_eq!(
///     attestation::check(&token, Some(key.verifying_key()), bank, "deadbeefdeadbeefdeadbeefdeadbeef", now),
///     Err(FailureCode::InvalidSubject)
/// );
/// # Ok::<_, cybrid_identity::Error>(())
/// ```
pub fn check(
    token: &str,
    key: Option<&VerifyingKey>,
    bank_guid: &str,
    customer_guid: &str,
    now: OffsetDateTime,
) -> Result<Claims, FailureCode> {
    let key = key.ok_or(FailureCode::InvalidKey)?;
    // Bounded before anything is decoded: a token is 2,048 characters at most where it is
    // made, and junk of any size costs no more than this.
    if token.len() > MAX_CHECKED_TOKEN_BYTES {
        return Err(FailureCode::InvalidAlgorithm);
    }
    let parts = jws::segments(token).ok_or(FailureCode::InvalidAlgorithm)?;
    let header = jws::object(parts.header).ok_or(FailureCode::InvalidAlgorithm)?;
    if header.get("alg").and_then(Value::as_str) != Some(ALGORITHM) {
        return Err(FailureCode::InvalidAlgorithm);
    }
    // RFC 7515 §4.1.11: a critical extension we do not know must be refused, and we know none.
    if header.contains_key("crit") {
        return Err(FailureCode::InvalidAlgorithm);
    }
    let signature = jws::bytes(parts.signature).ok_or(FailureCode::InvalidSignature)?;
    if !key.verify_rs512(parts.signing_input.as_bytes(), &signature) {
        return Err(FailureCode::InvalidSignature);
    }
    // Only a genuine token's claims are parsed.
    let claims = jws::object(parts.claims).ok_or(FailureCode::InvalidIssuer)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);

    let iss = text("iss")
        .filter(|iss| *iss == issuer(bank_guid))
        .ok_or(FailureCode::InvalidIssuer)?;
    // RFC 7519 allows `aud` to be an array; it passes when it holds the audience.
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == AUDIENCE,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(AUDIENCE)),
        _ => false,
    };
    if !aud_ok {
        return Err(FailureCode::InvalidAudience);
    }
    let sub = text("sub")
        .filter(|sub| *sub == subject(customer_guid))
        .ok_or(FailureCode::InvalidSubject)?;
    let exp = check_times(&claims, now)?;
    let jti = text("jti")
        .filter(|jti| !jti.is_empty())
        .ok_or(FailureCode::MissingJti)?;
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .filter(|kid| !kid.is_empty())
        .ok_or(FailureCode::MissingKeyid)?
        .to_owned();
    Ok(Claims {
        kid,
        iss,
        aud: AUDIENCE.to_owned(),
        sub,
        iat: claims.get("iat").and_then(numeric_date),
        exp,
        jti,
    })
}

/// `exp` in the future; `nbf` and `iat`, when present, not beyond the skew allowed.
fn check_times(claims: &Map<String, Value>, now: OffsetDateTime) -> Result<i64, FailureCode> {
    let exp = claims
        .get("exp")
        .and_then(numeric_date)
        .ok_or(FailureCode::JwtExpired)?;
    if exp <= now.unix_timestamp() {
        return Err(FailureCode::JwtExpired);
    }
    // Not valid yet, or issued in the future, beyond the clock skew allowed.
    let latest = now.unix_timestamp().saturating_add(CLOCK_SKEW_SECONDS);
    for name in ["nbf", "iat"] {
        if let Some(value) = claims.get(name) {
            let at = numeric_date(value).ok_or(FailureCode::JwtExpired)?;
            if at > latest {
                return Err(FailureCode::JwtExpired);
            }
        }
    }
    Ok(exp)
}

/// A NumericDate: whole seconds, though RFC 7519 also allows a fraction (truncated here).
fn numeric_date(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
}

/// A token of `length` characters fits `attestation_details.token` (1..=2048).
fn check_token_length(length: usize) -> Result<(), Error> {
    if length > MAX_TOKEN_CHARS {
        return Err(Error::invalid(
            "token",
            format!(
                "the token would be {length} characters; Cybrid stores at most {MAX_TOKEN_CHARS} (shorten the jti or use a smaller key)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_bound_is_2048_inclusive() {
        // A whole token's length only reaches some values (base64 of the fixed header and
        // a 256-byte signature), so the bound itself is pinned here.
        assert!(check_token_length(2048).is_ok());
        assert!(check_token_length(2049).is_err());
    }

    #[test]
    fn b64_len_matches_the_encoder() {
        for n in 0..50 {
            assert_eq!(b64_len(n), B64URL.encode(vec![0u8; n]).len());
        }
    }
}
