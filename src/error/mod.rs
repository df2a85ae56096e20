//! The crate's one error type.

mod detail;
mod display;
mod kind;

pub use detail::{
    ApiError, DecodeError, KeyErrorKind, SignerKeyProblem, TokenError, TransportError,
    TransportErrorKind,
};

use crate::models::{ErrorResponse, IdentityRecord, VerificationKey};

/// Everything that can go wrong in this crate.
///
/// Messages say what was wrong and, where there is one, what to do. No variant ever holds
/// a client secret, an access token or private-key material.
///
/// # Examples
///
/// Matching on what a program can act on:
///
/// ```
/// # #[cfg(feature = "emulator")] {
/// # use cybrid_identity::emulator::{Emulator, Fault, FaultKind};
/// # let emu = Emulator::start()?;
/// # let client = emu.client_builder().max_retries(0).build()?;
/// # let customer = cybrid_identity::emulator::new_guid();
/// # let token = cybrid_identity::Attestation::new(emu.bank_guid(), &customer, emu.verification_key_guid()).sign(&cybrid_identity::SigningKey::sandbox())?;
/// # emu.add_fault(Fault::new(FaultKind::Drop).method("POST").path_prefix("/api/identity_records"))?;
/// use cybrid_identity::PostIdentityRecord;
/// match client.create_identity_record(&PostIdentityRecord::attestation(&customer, token)) {
///     Ok(record) => println!("created {:?}", record.guid),
///     // The request may have reached Cybrid: list the customer's records before creating again.
///     Err(e) if e.is_outcome_unknown() => println!("unknown: {e}"),
///     Err(e) if e.status() == Some(400) => {
///         let response = e.error_response();
///         println!("refused: {:?}", response.map(|r| &r.message_code));
///     }
///     Err(e) => return Err(e),
/// }
/// # }
/// # Ok::<_, cybrid_identity::Error>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An argument was refused before anything was signed or sent.
    #[non_exhaustive]
    InvalidInput {
        /// Which argument (`"customer_guid"`, `"per_page"`, …).
        field: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// A key could not be read or used.
    #[non_exhaustive]
    Key {
        /// The kind of problem, for programs that branch on it.
        kind: KeyErrorKind,
        /// What was wrong, for people.
        message: String,
    },
    /// Signing failed: the operating system's random source did not answer, or a
    /// [`Signer`](crate::Signer) could not sign (a device gone, a wrong PIN, a service that
    /// refused), in the signer's words and never with a secret.
    Signing(String),
    /// The client or a key was configured wrongly (a missing variable, an `http://` URL, …).
    Config(String),
    /// The Bank API answered with a status that is not a success.
    Api(Box<ApiError>),
    /// The OAuth 2.0 token endpoint refused or failed.
    Token(Box<TokenError>),
    /// The request did not complete: connection, timeout or I/O failure.
    Transport(Box<TransportError>),
    /// A success response's body did not fit the model.
    #[non_exhaustive]
    Decode {
        /// What was being decoded (`"IdentityRecord"`, …).
        what: &'static str,
        /// The JSON key whose value did not fit, when it could be found.
        field: Option<String>,
        /// The decoder's words, which name the expected type and the position but not the
        /// value the server sent (it may echo a header: a token).
        source: DecodeError,
    },
    /// A response body was larger than the configured limit.
    #[non_exhaustive]
    BodyTooLarge {
        /// The limit in bytes ([`crate::ClientBuilder::max_body_bytes`]).
        limit: u64,
    },
    /// A response body was not valid UTF-8.
    #[non_exhaustive]
    InvalidUtf8 {
        /// The byte offset of the first invalid sequence.
        valid_up_to: usize,
    },
    /// [`crate::Client::wait_for_identity_record`] reached its deadline before a final state.
    #[non_exhaustive]
    RecordWaitTimedOut {
        /// The last record seen.
        last: Box<IdentityRecord>,
    },
    /// [`crate::Client::wait_for_verification_key`] reached its deadline before a final state.
    #[non_exhaustive]
    KeyWaitTimedOut {
        /// The last key seen.
        last: Box<VerificationKey>,
    },
    /// [`crate::Client::wait_for_identity_verification`] reached its deadline before a final
    /// state.
    #[non_exhaustive]
    VerificationWaitTimedOut {
        /// The last verification seen.
        last: Box<crate::models::IdentityVerification>,
    },
    /// The server's pagination did not add up (for example, it sent the same page twice).
    Pagination(String),
    /// A create call failed after its request may have reached the server, so the object
    /// may exist. It was deliberately not retried: a retry could create a duplicate.
    #[non_exhaustive]
    OutcomeUnknown {
        /// What to do to find out whether the object exists.
        hint: String,
        /// The failure itself.
        source: Box<Error>,
    },
    /// A book's journal could not be used: not a journal, or a write failed.
    #[non_exhaustive]
    Journal {
        /// The journal's path.
        path: String,
        /// What was wrong.
        reason: String,
        /// The operating system's error, if there was one.
        source: Option<std::io::Error>,
    },
    /// The verification key a signer's tokens name would make every token fail: it does
    /// not exist, is not `verified`, is another public key, or is another bank's. Found
    /// before anything was created ([`crate::Client::check_signer`], and a [`crate::Book`]
    /// before its first create); fix the signer or the key, a rerun alone will not.
    #[non_exhaustive]
    SignerKey {
        /// The verification key's guid (the tokens' `kid`).
        kid: String,
        /// What is wrong.
        problem: SignerKeyProblem,
    },
    /// A book was asked to stop ([`crate::Book::stop_when`]) and did: nothing new was sent,
    /// what was in flight was finished or, past the grace period, abandoned with its intent
    /// in the journal for the next run.
    Stopped(String),
}

impl Error {
    pub(crate) fn key(kind: KeyErrorKind, message: impl Into<String>) -> Self {
        Error::Key {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config(message.into())
    }

    pub(crate) fn journal(
        path: &std::path::Path,
        reason: String,
        source: Option<std::io::Error>,
    ) -> Self {
        Error::Journal {
            path: path.display().to_string(),
            reason,
            source,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field,
            reason: reason.into(),
        }
    }

    /// Replaces every occurrence of each secret in the text this error carries from a
    /// server (error messages, body excerpts), should the server echo a request back.
    pub(crate) fn redact(self, secrets: &[&str]) -> Self {
        let clean = |text: &mut String| {
            *text = crate::redact::redact(text, secrets);
            crate::redact::redact_tail(text, secrets);
        };
        match self {
            Error::Api(mut api) => {
                if let Some(response) = &mut api.response {
                    clean(&mut response.error_message);
                    clean(&mut response.message_code);
                }
                if let Some(excerpt) = &mut api.body_excerpt {
                    clean(excerpt);
                }
                Error::Api(api)
            }
            Error::Token(mut token) => {
                clean(&mut token.body_excerpt);
                Error::Token(token)
            }
            Error::OutcomeUnknown { hint, source } => Error::OutcomeUnknown {
                hint,
                source: Box::new(source.redact(secrets)),
            },
            other => other,
        }
    }

    /// Prefixes a key or configuration message with where the value came from.
    pub(crate) fn context(self, ctx: &str) -> Self {
        match self {
            Error::Key { kind, message } => Error::Key {
                kind,
                message: format!("{ctx}: {message}"),
            },
            Error::Config(message) => Error::Config(format!("{ctx}: {message}")),
            other => other,
        }
    }

    fn innermost(&self) -> &Error {
        match self {
            Error::OutcomeUnknown { source, .. } => source.innermost(),
            other => other,
        }
    }

    /// The HTTP status of a Bank API or token-endpoint answer, if the error is one.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # use cybrid_identity::emulator::{Emulator, Fault, FaultKind};
    /// # let emu = Emulator::start()?;
    /// # let client = emu.client_builder().max_retries(0).build()?;
    /// let err = client.get_identity_record("0123456789abcdef0123456789abcdef").unwrap_err();
    /// assert_eq!(err.status(), Some(404));
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self.innermost() {
            Error::Api(api) => Some(api.status),
            Error::Token(token) => token.status,
            _ => None,
        }
    }

    /// The server's `ErrorResponse`, if it sent one.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # use cybrid_identity::emulator::{Emulator, Fault, FaultKind};
    /// # let emu = Emulator::start()?;
    /// # let client = emu.client_builder().max_retries(0).build()?;
    /// let err = client.get_identity_record("0123456789abcdef0123456789abcdef").unwrap_err();
    /// assert_eq!(err.error_response().map(|r| r.message_code.as_str()), Some("not_found"));
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn error_response(&self) -> Option<&ErrorResponse> {
        match self.innermost() {
            Error::Api(api) => api.response.as_ref(),
            _ => None,
        }
    }

    /// The server's request id, if it sent one.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # use cybrid_identity::emulator::{Emulator, Fault, FaultKind};
    /// # let emu = Emulator::start()?;
    /// # let client = emu.client_builder().max_retries(0).build()?;
    /// let err = client.get_identity_record("0123456789abcdef0123456789abcdef").unwrap_err();
    /// println!("quote this to Cybrid support: {:?}", err.request_id());
    /// assert!(err.request_id().is_some());
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn request_id(&self) -> Option<&str> {
        match self.innermost() {
            Error::Api(api) => api.request_id.as_deref(),
            _ => None,
        }
    }

    /// Whether a timeout ran out: a call's, or a wait's deadline
    /// ([`Error::RecordWaitTimedOut`], [`Error::KeyWaitTimedOut`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # use cybrid_identity::emulator::{Emulator, Fault, FaultKind};
    /// # let emu = Emulator::start()?;
    /// # let client = emu.client_builder().max_retries(0).build()?;
    /// # emu.add_fault(Fault::new(FaultKind::Delay { ms: 500 }))?;
    /// let impatient = emu.client_builder().timeout(std::time::Duration::from_millis(100)).max_retries(0).build()?;
    /// let err = impatient.get_identity_record("0123456789abcdef0123456789abcdef").unwrap_err();
    /// assert!(err.is_timeout(), "{err}");
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn is_timeout(&self) -> bool {
        match self.innermost() {
            Error::Transport(t) => t.kind == TransportErrorKind::Timeout,
            Error::RecordWaitTimedOut { .. }
            | Error::KeyWaitTimedOut { .. }
            | Error::VerificationWaitTimedOut { .. } => true,
            _ => false,
        }
    }

    /// Whether the request never left this machine: the name did not resolve, the
    /// connection or a proxy's tunnel could not be made, or the TLS handshake failed. Such a
    /// request had no effect; a create may be sent again.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = cybrid_identity::Client::builder()
    ///     .base_url("http://127.0.0.1:9") // nothing listens on the discard port
    ///     .bearer_token("t")
    ///     .max_retries(0)
    ///     .build()?;
    /// let err = client.get_identity_record("0123456789abcdef0123456789abcdef").unwrap_err();
    /// assert!(err.is_connect() && !err.is_outcome_unknown());
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn is_connect(&self) -> bool {
        matches!(self.innermost(), Error::Transport(t) if t.before_sending)
    }

    /// Whether a create call may have taken effect despite this error (see [`Error::OutcomeUnknown`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # use cybrid_identity::emulator::{Emulator, Fault, FaultKind};
    /// # let emu = Emulator::start()?;
    /// # let client = emu.client_builder().max_retries(0).build()?;
    /// # let customer = cybrid_identity::emulator::new_guid();
    /// # let token = cybrid_identity::Attestation::new(emu.bank_guid(), &customer, emu.verification_key_guid()).sign(&cybrid_identity::SigningKey::sandbox())?;
    /// emu.add_fault(Fault::new(FaultKind::Drop).method("POST").path_prefix("/api/identity_records"))?; // stored, then the answer is lost
    /// let post = cybrid_identity::PostIdentityRecord::attestation(&customer, token);
    /// let err = client.create_identity_record(&post).unwrap_err();
    /// assert!(err.is_outcome_unknown()); // and indeed the record exists:
    /// assert_eq!(emu.stats().records, 1);
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Error::OutcomeUnknown { .. })
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Decode { source, .. } => Some(source),
            Error::Transport(t) => t
                .source
                .as_deref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            Error::OutcomeUnknown { source, .. } => Some(source.as_ref()),
            Error::Journal { source, .. } => source
                .as_ref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
