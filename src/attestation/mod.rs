//! Attestation JWTs: assembled by hand, signed RS512, and checked the way Cybrid's server
//! checks them.
//!
//! The compact form is `base64url(header) . base64url(claims) . base64url(signature)`, without
//! padding, where the signature is RSASSA-PKCS1-v1_5 with SHA-512 over the first two parts.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

mod check;

pub(crate) use check::split_token;
pub use check::{
    ALGORITHM, AUDIENCE, CLOCK_SKEW_SECONDS, Claims, Expected, MAX_CHECKED_TOKEN_BYTES, check,
    issuer, key_id, subject,
};

use crate::error::Error;
use crate::guid::check as check_guid;
use crate::signer::{Signer, sign_checked};

/// The longest token Cybrid stores (`attestation_details.token`).
pub const MAX_TOKEN_CHARS: usize = 2048;
/// How long a token is valid unless [`Attestation::expires_at`] says otherwise, as in
/// Cybrid's own example.
pub const DEFAULT_VALIDITY: Duration = Duration::days(365);

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

    /// Assembles and signs the token with `key` (a [`crate::SigningKey`] or any other
    /// [`Signer`]), returning its compact form.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a guid that is not 32 ASCII letters or digits, an empty
    /// `jti`, `exp` not after `iat`, or a token longer than 2048 characters;
    /// [`Error::Signing`] if the signer fails (for a key in memory: the random source), or
    /// answers with a signature of the wrong length.
    ///
    /// # Examples
    ///
    /// ```
    /// use cybrid_identity::{Attestation, SigningKey, attestation};
    /// let (bank, customer) = ("0f0e0d0c0b0a09080706050403020100", "c0ffee00c0ffee00c0ffee00c0ffee00");
    /// let key = SigningKey::sandbox();
    /// let token = Attestation::new(bank, customer, "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d").sign(&key)?;
    /// let now = cybrid_identity::time::OffsetDateTime::now_utc();
    /// assert!(attestation::check(&token, Some(key.verifying_key()), &attestation::Expected { bank_guid: bank, customer_guid: customer, now }).is_ok());
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn sign<S: Signer + ?Sized>(&self, key: &S) -> Result<String, Error> {
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
        let length = b64_len(header.len())
            + 1
            + b64_len(claims.len())
            + 1
            + b64_len(key.verifying_key().bits() / 8);
        check_token_length(length)?;
        let mut token = String::with_capacity(length);
        B64URL.encode_string(header, &mut token);
        token.push('.');
        B64URL.encode_string(claims, &mut token);
        let signature = sign_checked(key, token.as_bytes())?;
        token.push('.');
        B64URL.encode_string(signature, &mut token);
        Ok(token)
    }
}

/// Length of unpadded Base64 for `n` bytes.
fn b64_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
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
