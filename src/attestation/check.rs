//! [`check`]: a token judged the way Cybrid's server judges it, and what it must say.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::jws;
use crate::keys::VerifyingKey;
use crate::models::FailureCode;

/// The only algorithm Cybrid accepts.
pub const ALGORITHM: &str = "RS512";
/// The longest token [`check`] decodes (8 KiB); a longer one is refused unread.
pub const MAX_CHECKED_TOKEN_BYTES: usize = 8 * 1024;
/// How far in the future [`check`] accepts `nbf` and `iat` (clocks drift).
pub const CLOCK_SKEW_SECONDS: i64 = 60;
/// The `aud` claim.
pub const AUDIENCE: &str = "http://api.cybrid.app";

/// The `iss` claim for a bank: `http://api.cybrid.app/banks/{bank_guid}`.
pub fn issuer(bank_guid: &str) -> String {
    format!("{AUDIENCE}/banks/{bank_guid}")
}

/// The `sub` claim for a customer: `http://api.cybrid.app/customers/{customer_guid}`.
pub fn subject(customer_guid: &str) -> String {
    format!("{AUDIENCE}/customers/{customer_guid}")
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
    pub iat: Option<OffsetDateTime>,
    /// `exp`.
    pub exp: OffsetDateTime,
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
/// assert!(attestation::check(&token, Some(key.verifying_key()), &attestation::Expected { bank_guid: bank, customer_guid: customer, now }).is_ok());
/// assert_eq!(
///     attestation::check(&token, Some(key.verifying_key()), &attestation::Expected { bank_guid: bank, customer_guid: "deadbeefdeadbeefdeadbeefdeadbeef", now }),
///     Err(FailureCode::InvalidSubject)
/// );
/// # Ok::<_, cybrid_identity::Error>(())
/// ```
pub fn check(
    token: &str,
    key: Option<&VerifyingKey>,
    expected: &Expected<'_>,
) -> Result<Claims, FailureCode> {
    let Expected {
        bank_guid,
        customer_guid,
        now,
    } = *expected;
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
        iat: claims
            .get("iat")
            .and_then(numeric_date)
            .and_then(|at| OffsetDateTime::from_unix_timestamp(at).ok()),
        exp,
        jti,
    })
}

/// `exp` in the future; `nbf` and `iat`, when present, not beyond the skew allowed.
fn check_times(
    claims: &Map<String, Value>,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, FailureCode> {
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
    // A date past year 9999 is no date a program can act on.
    OffsetDateTime::from_unix_timestamp(exp).map_err(|_| FailureCode::JwtExpired)
}

/// What a token must say to pass [`check`], by name, so that the bank and the customer
/// cannot be swapped silently: the bank it must be issued by, the customer it must be about,
/// and the time `exp`, `nbf` and `iat` are judged at.
///
/// # Examples
///
/// ```
/// use cybrid_identity::attestation::Expected;
/// let expected = Expected {
///     bank_guid: "0f0e0d0c0b0a09080706050403020100",
///     customer_guid: "c0ffee00c0ffee00c0ffee00c0ffee00",
///     now: cybrid_identity::time::OffsetDateTime::now_utc(),
/// };
/// # let _ = expected;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected<'a> {
    /// The bank whose `iss` the token must carry.
    pub bank_guid: &'a str,
    /// The customer whose `sub` the token must carry.
    pub customer_guid: &'a str,
    /// The current time.
    pub now: OffsetDateTime,
}

/// A NumericDate: whole seconds, though RFC 7519 also allows a fraction (truncated here).
fn numeric_date(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
}
