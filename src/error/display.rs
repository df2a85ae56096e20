//! What each error says to a person: what was wrong and, where there is one, what to do.

use std::fmt;

use super::{Error, detail};
use crate::redact::escape_controls;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput { field, reason } => write!(f, "invalid {field}: {reason}"),
            Error::Key { message, .. } => write!(f, "key error: {message}"),
            Error::Signing(message) => write!(f, "signing failed: {message}"),
            Error::Config(message) => write!(f, "configuration error: {message}"),
            Error::Api(api) => api.fmt(f),
            Error::Token(token) => token.fmt(f),
            Error::Transport(t) => write!(f, "{} failed: {}", t.request, t.message),
            // The decoder's own words are this error's `source()`.
            Error::Decode { what, field, .. } => {
                write!(f, "the server's {what} did not fit the model")?;
                if let Some(field) = field {
                    write!(f, " at field `{}`", escape_controls(field))?;
                }
                Ok(())
            }
            Error::BodyTooLarge { limit } => write!(
                f,
                "the response body exceeded the limit of {limit} bytes (raise it with ClientBuilder::max_body_bytes)"
            ),
            Error::InvalidUtf8 { valid_up_to } => {
                write!(
                    f,
                    "the response body is not valid UTF-8 (at byte {valid_up_to})"
                )
            }
            Error::RecordWaitTimedOut { last } => write!(
                f,
                "identity record {} was still {} when the wait's deadline passed",
                last.guid.as_deref().unwrap_or("?"),
                last.state().map_or("without a state", |s| s.as_str())
            ),
            Error::KeyWaitTimedOut { last } => write!(
                f,
                "verification key {} was still {} when the wait's deadline passed",
                last.guid.as_deref().unwrap_or("?"),
                last.state
                    .as_ref()
                    .map_or("without a state", |s| s.as_str())
            ),
            Error::VerificationWaitTimedOut { last } => write!(
                f,
                "identity verification {} was still {} when the wait's deadline passed",
                last.guid.as_deref().unwrap_or("?"),
                last.state
                    .as_ref()
                    .map_or("without a state", |s| s.as_str())
            ),
            Error::Pagination(message) => write!(f, "pagination error: {message}"),
            // The failure itself is this error's `source()`.
            Error::OutcomeUnknown { hint, .. } => f.write_str(hint),
            // The operating system's words are this error's `source()`.
            Error::Journal { path, reason, .. } => write!(f, "journal {path}: {reason}"),
            Error::Stopped(why) => write!(f, "stopped: {why}"),
            Error::SignerKey { kid, problem } => detail::signer_key_text(f, kid, problem),
        }
    }
}
