//! The parts an [`Error`](super::Error) carries: the server's answer, the token endpoint's,
//! the transport's failure, why a key or a body was refused.

use std::fmt;

use crate::models::ErrorResponse;
use crate::redact::escape_controls;

/// Why a success body did not fit its model, in the decoder's words with the server's
/// values left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    message: String,
    eof: bool,
}

impl DecodeError {
    pub(crate) fn from_serde(error: &serde_json::Error) -> Self {
        DecodeError {
            message: crate::redact::without_values(&error.to_string()),
            eof: error.is_eof(),
        }
    }

    /// Whether the body ended before the value did (an answer cut short).
    pub fn is_eof(&self) -> bool {
        self.eof
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::redact::escape_controls(&self.message))
    }
}

impl std::error::Error for DecodeError {}

/// Why a key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyErrorKind {
    /// Not a PEM block, or a PEM block of an unexpected type.
    NotPem,
    /// The key is encrypted with a passphrase.
    Encrypted,
    /// A key, but not RSA.
    NotRsa,
    /// A public key where a private key was needed.
    NotPrivate,
    /// The bytes do not decode as the key they claim to be.
    Malformed,
    /// Shorter than [`crate::keys::MIN_KEY_BITS`].
    TooShort,
    /// Longer than [`crate::keys::MAX_KEY_BITS`].
    TooLong,
    /// An encrypted key whose passphrase is not the one given.
    WrongPassphrase,
    /// The key's holder refused the credentials given for it: a token's wrong or locked
    /// PIN, a cloud KMS refusing the caller's credentials or access to the key.
    Refused,
    /// No key by that name where it was looked for: a token or key label, a KMS key id.
    NotFound,
}

/// A non-success answer from the Bank API.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The parsed `ErrorResponse`, when the body was one.
    pub response: Option<ErrorResponse>,
    /// The request id header (`x-request-id`), when the server sent one: quote it to Cybrid support.
    pub request_id: Option<String>,
    /// The first bytes of a body that was not an `ErrorResponse` (an HTML page from a proxy, …).
    pub body_excerpt: Option<String>,
    /// `Retry-After`, when sent, as the raw header value.
    pub retry_after: Option<String>,
}

/// A failure of the OAuth 2.0 token endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenError {
    /// HTTP status, or `None` when the answer was 200 but unusable.
    pub status: Option<u16>,
    /// The first bytes of the body, with the client secret removed should the server echo it.
    pub body_excerpt: String,
}

/// A request that did not complete.
#[derive(Debug)]
#[non_exhaustive]
pub struct TransportError {
    /// What kind of failure, by where it happened.
    pub kind: TransportErrorKind,
    /// Whether it happened before any byte of the request left this machine (name
    /// resolution, connecting, a proxy, the TLS handshake): then the request had no effect.
    pub before_sending: bool,
    /// `METHOD url` of the request (no query secrets: this crate puts none in URLs).
    pub request: String,
    /// What happened, for people.
    pub message: String,
    /// The underlying error, when there is one.
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The kind of transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The host name did not resolve: nothing was sent.
    Resolve,
    /// The TCP connection could not be made: nothing was sent.
    Connect,
    /// The proxy refused to open a tunnel to the host: nothing was sent.
    Proxy,
    /// The TLS handshake failed (the message says why: an untrusted issuer, a name mismatch,
    /// an expired certificate): nothing was sent.
    Tls,
    /// A timeout ran out ([`TransportError::before_sending`] says whether before sending).
    Timeout,
    /// The connection broke or the answer was not valid HTTP after the request was sent.
    Io,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let api = self;
        write!(f, "the Bank API answered {}", api.status)?;
        if let Some(response) = &api.response {
            write!(
                f,
                " {}: {}",
                escape_controls(&response.message_code),
                escape_controls(&response.error_message)
            )?;
        } else if let Some(body) = &api.body_excerpt {
            if body.is_empty() {
                write!(f, " with an empty body")?;
            } else {
                write!(f, " with a body that is not an ErrorResponse: {body:?}")?;
            }
        }
        if let Some(id) = &api.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let token = self;
        match token.status {
            Some(status) => write!(f, "the token endpoint answered {status}")?,
            None => write!(f, "the token endpoint's answer was unusable")?,
        }
        if !token.body_excerpt.is_empty() {
            write!(f, ": {}", escape_controls(&token.body_excerpt))?;
        }
        // Only a refusal of the credentials is about the credentials; a 503 is not.
        if matches!(token.status, Some(400 | 401)) {
            write!(f, " (check the client id, secret and scopes)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_error(status: Option<u16>) -> String {
        TokenError {
            status,
            body_excerpt: String::new(),
        }
        .to_string()
    }

    #[test]
    fn the_credentials_hint_is_for_refusals_only() {
        for status in [400, 401] {
            assert_eq!(
                token_error(Some(status)),
                format!(
                    "the token endpoint answered {status} (check the client id, secret and scopes)"
                )
            );
        }
        assert_eq!(token_error(Some(503)), "the token endpoint answered 503");
        assert_eq!(
            token_error(None),
            "the token endpoint's answer was unusable"
        );
    }
}

/// Why a signer's tokens would fail against the verification key they name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignerKeyProblem {
    /// The bank has no verification key of that guid.
    NotFound,
    /// The key is not `verified` (`storing`, `pending`, `failed`, …): every token naming it
    /// fails.
    NotVerified {
        /// Its state, as Cybrid sent it.
        state: String,
    },
    /// The key's public half is not the signer's: every token fails `invalid_signature`.
    OtherPublicKey {
        /// The registered key's SHA-256 fingerprint (hex), as Cybrid sent it.
        registered: String,
        /// The signer's SHA-256 fingerprint (hex), as `keys generate` prints it.
        signer: String,
    },
    /// The key belongs to another bank than the one the tokens name: every token fails
    /// `invalid_issuer`.
    OtherBank {
        /// The key's bank.
        registered: String,
        /// The bank the signer names.
        signer: String,
    },
}

/// What [`Error::SignerKey`] says: what is wrong, what every token would do, what to do.
pub(super) fn signer_key_text(
    f: &mut fmt::Formatter<'_>,
    kid: &str,
    problem: &SignerKeyProblem,
) -> fmt::Result {
    match problem {
        SignerKeyProblem::NotFound => write!(
            f,
            "verification key {kid} does not exist at this bank: nothing was created; register the signer's public key (`cybrid-identity keys register`, or Client::create_verification_key) and use its guid"
        ),
        SignerKeyProblem::NotVerified { state } => write!(
            f,
            "verification key {kid} is {state}, not verified: every token naming it would fail, so nothing was created; register a key and wait until it is verified"
        ),
        SignerKeyProblem::OtherPublicKey { registered, signer } => write!(
            f,
            "verification key {kid} is not the signer's public key (registered SHA-256 fingerprint {registered}, the signer's {signer}): every token would fail invalid_signature, so nothing was created; use the guid of the key registered for this signer, or register it"
        ),
        SignerKeyProblem::OtherBank { registered, signer } => write!(
            f,
            "verification key {kid} belongs to bank {registered}, not to bank {signer} that the tokens name: every token would fail invalid_issuer, so nothing was created; sign for the key's bank"
        ),
    }
}
