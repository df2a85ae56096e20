//! # cybrid-identity
//!
//! Attest your customers' identities to Cybrid's Bank API from synchronous Rust: no async
//! runtime, a handful of dependencies, and no secret ever printed.
//!
//! A bank that ran its own know-your-customer checks vouches for a customer with an
//! *attestation*: an RS512 JWT signed with the bank's RSA key, whose public half the bank
//! registered with Cybrid as a *verification key*. This crate signs those tokens by hand
//! (no JWT library, [`attestation`]), checks them the way Cybrid's server does
//! ([`attestation::check`]), and talks to the API through one blocking [`Client`].
//!
//! ```no_run
//! use cybrid_identity::{Attestation, Client, KeyListParams, PostIdentityRecord, SigningKey, WaitOptions};
//!
//! // CYBRID_CLIENT_ID, CYBRID_CLIENT_SECRET, … (see `Client::from_env`).
//! let client = Client::from_env()?;
//! // The bank's verification key: in the sandbox, the first one is the default key.
//! let keys = client.list_verification_keys(KeyListParams::new())?;
//! let key = keys.objects.first();
//! // A missing guid signs nothing: `sign` refuses it with an `Error::InvalidInput`.
//! let kid = key.and_then(|k| k.guid.as_deref()).unwrap_or_default();
//! let bank = key.and_then(|k| k.bank_guid.as_deref()).unwrap_or_default();
//!
//! let customer = "c0ffee00c0ffee00c0ffee00c0ffee00";
//! // Sandbox only: Cybrid publishes this key. In production: SigningKey::from_env().
//! let token = Attestation::new(bank, customer, kid).sign(&SigningKey::sandbox())?;
//! let record = client.create_identity_record(&PostIdentityRecord::attestation(customer, token))?;
//! let done = client.wait_for(&record, &WaitOptions::default())?;
//! println!("{:?} {:?}", done.state(), done.failure_code());
//! # Ok::<_, cybrid_identity::Error>(())
//! ```
//!
//! Offline, the `emulator` feature serves Cybrid's identity API on loopback (see
//! `cybrid_identity::emulator`), and the `cli` feature builds the `cybrid-identity` command.
//! What is retried and what never is: [`retry`]. Timestamps are [`time::OffsetDateTime`]s of
//! the `time` crate, re-exported as [`cybrid_identity::time`](time). Many customers at once,
//! each attested exactly once however the run is interrupted: [`Book`].
//!
//! # Logs
//!
//! This crate logs through `log` under the target `cybrid_identity`, and no record of it holds
//! a token, the client secret or a JWT. ureq's wire layer is another matter: the target
//! `ureq_proto` writes every request's raw bytes at `trace` (as hex rows), the
//! `Authorization: Bearer …` header included. Cap it wherever you enable `trace`, e.g.
//! `RUST_LOG=trace,ureq_proto=debug`. Request bodies (a [`Person`]'s data in an identity
//! verification) were not among what ureq 3.5 wrote there, as `tests/person_logs.rs` checks;
//! cap the target all the same, as a later ureq may write them.
// `deny`, not `forbid`: one module, `book::hold`, calls `fcntl` for the journal's record
// locks, which neither the standard library nor a crate already compiled wraps safely.
#![deny(unsafe_code)]
// docs.rs builds with `--cfg docsrs`: items behind a feature carry its badge.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

#[cfg(not(any(feature = "rsa", feature = "ring")))]
compile_error!(
    "cybrid-identity needs an RS512 engine: enable the `rsa` feature (the default) or `ring`"
);

mod api;
pub mod attestation;
mod auth;
#[cfg(feature = "aws-kms")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws-kms")))]
pub mod aws;
pub mod book;
mod client;
pub mod dangerous;
#[cfg(feature = "emulator")]
pub mod emulator;
mod error;
mod guid;
pub mod guide;
mod jws;
pub mod keys;
pub mod models;
mod pages;
mod person;
mod rand;
mod redact;
pub mod retry;
#[cfg(test)]
mod scratch;
pub mod signer;
mod sync;
mod wait;

#[cfg(test)]
mod properties;

// The README's Rust examples compile and run as doctests, so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// What a 1.0 does not promise stays out of reach. The retry policy's internals:
///
/// ```compile_fail
/// use cybrid_identity::retry::Decision;
/// ```
/// ```compile_fail
/// use cybrid_identity::retry::Method;
/// ```
/// ```compile_fail
/// use cybrid_identity::retry::Failure;
/// ```
/// ```compile_fail
/// use cybrid_identity::retry::FailureKind;
/// ```
/// ```compile_fail
/// let _ = cybrid_identity::retry::parse_retry_after("1", std::time::SystemTime::now());
/// ```
///
/// The decoders and checks:
///
/// ```compile_fail
/// let _ = cybrid_identity::models::decode::<cybrid_identity::IdentityRecord>("IdentityRecord", b"{}");
/// ```
/// ```compile_fail
/// let _ = cybrid_identity::models::check_guid("guid", "x");
/// ```
///
/// Models that will grow cannot be built field by field, even with every field named:
///
/// ```compile_fail
/// let _ = cybrid_identity::IdentityRecord {
///     guid: None,
///     customer_guid: None,
///     record_type: None,
///     attestation_details: None,
///     created_at: None,
///     expired_at: None,
/// };
/// ```
///
/// A builder dropped unused is a mistake the compiler names (`#[must_use]`):
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// fn main() {
///     cybrid_identity::Client::builder().max_retries(0);
/// }
/// ```
/// ```compile_fail
/// #![deny(unused_must_use)]
/// fn main() {
///     cybrid_identity::WaitOptions::default().timeout(std::time::Duration::from_secs(1));
/// }
/// ```
///
/// A `match` on an enum that may grow needs a wildcard; without one it does not compile:
///
/// ```compile_fail
/// use cybrid_identity::Environment;
/// fn name(e: Environment) -> &'static str {
///     match e {
///         Environment::Sandbox => "sandbox",
///         Environment::Production => "production",
///     }
/// }
/// ```
/// ```
/// use cybrid_identity::Environment;
/// fn name(e: Environment) -> &'static str {
///     match e {
///         Environment::Sandbox => "sandbox",
///         Environment::Production => "production",
///         _ => "another",
///     }
/// }
/// assert_eq!(name(Environment::Production), "production");
/// ```
///
/// `time` comes with the crate:
///
/// ```
/// use cybrid_identity::time::OffsetDateTime;
/// let iat: OffsetDateTime = OffsetDateTime::now_utc();
/// let _ = cybrid_identity::Attestation::new("b", "c", "k").issued_at(iat);
/// ```
#[cfg(doctest)]
struct PublicApiLimits;

/// The `time` crate this crate's timestamps come in ([`Attestation::issued_at`],
/// [`IdentityRecord::created_at`]): re-exported so that callers use exactly this version
/// without adding `time` to their own `Cargo.toml`.
pub use time;

/// The wrapper that wipes a value when it is dropped ([`SigningKey::to_pkcs8_pem`] returns
/// one), re-exported so callers need no `zeroize` of their own.
pub use zeroize::Zeroizing;

pub use attestation::{Attestation, Claims};
pub use auth::DEFAULT_SCOPES;
pub use book::{AttestOptions, Attested, Book, Journal};
pub use client::{
    Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_CONNECTIONS,
    DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, Environment, KYC_SCOPES,
};
/// This crate's `Result`: `Result<T>` for `Result<T, cybrid_identity::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use error::{
    ApiError, DecodeError, Error, KeyErrorKind, TokenError, TransportError, TransportErrorKind,
};
pub use guid::is_guid;
pub use keys::{SigningKey, VerifyingKey};
pub use models::{
    AttestationDetails, AttestationState, Bank, BankFeature, Customer, CustomerList,
    CustomerListParams, CustomerState, CustomerType, ErrorResponse, FailureCode, IdentityRecord,
    IdentityRecordList, IdentityVerification, IdentityVerificationList, IdentityVerificationMethod,
    IdentityVerificationOutcome, IdentityVerificationState, IdentityVerificationType,
    KeyListParams, KycPath, ListParams, PostIdentityRecord, PostVerificationKey, VerificationKey,
    VerificationKeyFailureCode, VerificationKeyList, VerificationKeyState, VerificationListParams,
};
pub use pages::{IdentityRecords, Pages, VerificationKeys};
pub use person::{MAX_PERSON_FILE_BYTES, Person};
pub use retry::RetryPolicy;
pub use signer::{AttestationSigner, Signer, SignerKeyProblem};
pub use wait::{MIN_POLL_INTERVAL, WaitOptions};
