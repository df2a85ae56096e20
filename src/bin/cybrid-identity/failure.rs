//! [`CliError`]: a failure as the command line reports it: one line, an exit code, and what
//! a program reading `--json` may branch on.

use cybrid_identity::Error;

/// The exit status of a run stopped before its end: retry it (a rerun resumes it).
pub const STOPPED: u8 = 3;

/// A failure for the user: one line, the exit code, and what a program may want to branch on.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub code: u8,
    pub status: Option<u16>,
    pub message_code: Option<String>,
    pub request_id: Option<String>,
}

impl CliError {
    /// A usage mistake: exit 2.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            message: format!("{} (see --help)", message.into()),
            code: 2,
            status: None,
            message_code: None,
            request_id: None,
        }
    }

    /// Something went wrong while running: exit 1.
    pub fn runtime(message: impl Into<String>) -> Self {
        CliError {
            code: 1,
            ..CliError::usage("")
        }
        .with_message(message)
    }

    /// Input that cannot work (a key file that is not a key, a journal that is not one):
    /// exit 2, as a usage mistake, without pointing at `--help`.
    pub fn input(message: impl Into<String>) -> Self {
        CliError {
            code: 2,
            ..CliError::runtime(message)
        }
    }

    /// A run stopped before its end (a journal it cannot write, listings failing, its
    /// signer gone, a signal): exit 3, so that an orchestrator can retry it and not a usage
    /// mistake. A rerun with the same journal resumes it.
    pub fn stopped(message: impl Into<String>) -> Self {
        CliError {
            code: STOPPED,
            ..CliError::runtime(message)
        }
    }

    fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }
}

/// An error and each of its sources on one line, joined by `": "`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        // Each layer of the error says only its own part (the library follows the Rust API
        // guidelines); a person reads the whole chain on one line.
        CliError {
            message: flags_as_typed(&e, error_chain(&e)),
            code: exit_code(&e),
            status: e.status(),
            message_code: e.error_response().map(|r| r.message_code.clone()),
            request_id: e.request_id().map(str::to_owned),
        }
    }
}

/// The exit status of an error, decided here and nowhere else: 3 for a run stopped before
/// its end (a rerun resumes it), 2 for what a rerun cannot fix (the library's
/// [`Error::is_permanent`]: input, configuration, a key, credentials, a signer's
/// registration), 1 for the rest (a rerun may help).
pub fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Stopped(_) => STOPPED,
        e if e.is_permanent() => 2,
        _ => 1,
    }
}

/// The library names an argument by its Rust name (`pkcs11_token`); the command line names
/// the flag the user typed (`--pkcs11-token`).
fn flags_as_typed(e: &Error, message: String) -> String {
    const FLAGS: &[(&str, &str)] = &[
        ("pkcs11_module", "--pkcs11-module"),
        ("pkcs11_token", "--pkcs11-token"),
        ("pkcs11_key", "--pkcs11-key"),
        ("aws_kms_key", "--aws-kms-key"),
        ("key_id", "--aws-kms-key"),
        ("bits", "--bits"),
        ("nonce", "--nonce"),
        ("per_page", "--per-page"),
        ("page", "--page"),
        ("verification_key_guid", "--kid"),
        ("bank_guid", "--bank"),
    ];
    let Error::InvalidInput { field, .. } = e else {
        return message;
    };
    match FLAGS.iter().find(|(name, _)| name == field) {
        Some((name, flag)) => {
            message.replacen(&format!("invalid {name}:"), &format!("invalid {flag}:"), 1)
        }
        None => message,
    }
}

impl From<lexopt::Error> for CliError {
    fn from(e: lexopt::Error) -> Self {
        CliError::usage(e.to_string())
    }
}
