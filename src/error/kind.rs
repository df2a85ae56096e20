//! What kind of error it is: a short name to group by, and whether a rerun unchanged may
//! pass (the command line's exit statuses are decided by it).

use super::Error;

impl Error {
    /// Whether doing the same again, unchanged, cannot succeed: the input, the
    /// configuration, a key, the credentials, a signer's registration or the request itself
    /// is wrong, and a person must change something first. An orchestrator should not retry
    /// these (the command line exits 2 for them); a token or device that locks after
    /// failed logins (a wrong PIN) is one more reason not to.
    ///
    /// `false` for what may pass on a later try: transport failures, throttling and server
    /// errors, unknown outcomes, timeouts, a signer that failed to answer, a stop.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// let emu = cybrid_identity::emulator::Emulator::start()?;
    /// let refused = emu.client_builder().client_credentials(emu.client_id(), "not the secret").build()?;
    /// let err = refused.list_verification_keys(cybrid_identity::KeyListParams::new()).unwrap_err();
    /// assert!(err.is_permanent(), "{err}");
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn is_permanent(&self) -> bool {
        match self {
            Error::InvalidInput { .. }
            | Error::Key { .. }
            | Error::Config(_)
            | Error::SignerKey { .. } => true,
            // The request itself is refused (bad fields, no such object, not allowed): the
            // same request is refused again. 408, 409, 429 and 5xx may pass later.
            Error::Api(api) => matches!(api.status, 400 | 401 | 403 | 404 | 405 | 410 | 422),
            // The token endpoint refusing the client's credentials (or their scopes).
            Error::Token(token) => matches!(token.status, Some(400 | 401 | 403)),
            Error::Signing(_)
            | Error::Transport(_)
            | Error::Decode { .. }
            | Error::BodyTooLarge { .. }
            | Error::InvalidUtf8 { .. }
            | Error::RecordWaitTimedOut { .. }
            | Error::KeyWaitTimedOut { .. }
            | Error::VerificationWaitTimedOut { .. }
            | Error::Pagination(_)
            | Error::OutcomeUnknown { .. }
            | Error::Journal { .. }
            | Error::Stopped(_) => false,
        }
    }

    /// The error's kind, one short `snake_case` word a program can group by (a book's
    /// journal and summaries count errors by it): `invalid_input`, `key`, `signing`,
    /// `config`, `api`, `token`, `transport`, `decode`, `body_too_large`, `invalid_utf8`,
    /// `record_wait_timed_out`, `key_wait_timed_out`, `verification_wait_timed_out`, `pagination`, `outcome_unknown`,
    /// `journal`, `signer_key`, `stopped`. Never holds a value from the error.
    ///
    /// ```
    /// let err = cybrid_identity::Attestation::new("x", "y", "z").sign(&cybrid_identity::SigningKey::sandbox()).unwrap_err();
    /// assert_eq!(err.kind(), "invalid_input");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidInput { .. } => "invalid_input",
            Error::Key { .. } => "key",
            Error::Signing(_) => "signing",
            Error::Config(_) => "config",
            Error::Api(_) => "api",
            Error::Token(_) => "token",
            Error::Transport(_) => "transport",
            Error::Decode { .. } => "decode",
            Error::BodyTooLarge { .. } => "body_too_large",
            Error::InvalidUtf8 { .. } => "invalid_utf8",
            Error::RecordWaitTimedOut { .. } => "record_wait_timed_out",
            Error::KeyWaitTimedOut { .. } => "key_wait_timed_out",
            Error::VerificationWaitTimedOut { .. } => "verification_wait_timed_out",
            Error::Pagination(_) => "pagination",
            Error::OutcomeUnknown { .. } => "outcome_unknown",
            Error::Journal { .. } => "journal",
            Error::SignerKey { .. } => "signer_key",
            Error::Stopped(_) => "stopped",
        }
    }
}
