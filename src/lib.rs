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
//! use cybrid_identity::{Attestation, Client, ListParams, PostIdentityRecord, SigningKey, WaitOptions};
//!
//! // CYBRID_CLIENT_ID, CYBRID_CLIENT_SECRET, … (see `Client::from_env`).
//! let client = Client::from_env()?;
//! // The bank's verification key: in the sandbox, the first one is the default key.
//! let key = client.list_verification_keys(&ListParams::new())?.objects.remove(0);
//! let (kid, bank) = (key.guid.unwrap(), key.bank_guid.unwrap());
//!
//! let customer = "c0ffee00c0ffee00c0ffee00c0ffee00";
//! // Sandbox only: Cybrid publishes this key. In production: SigningKey::from_env().
//! let token = Attestation::new(&bank, customer, &kid).sign(&SigningKey::sandbox())?;
//! let record = client.create_identity_record(&PostIdentityRecord::attestation(customer, token))?;
//! let done = client.wait_for_identity_record(record.guid.as_deref().unwrap(), &WaitOptions::default())?;
//! println!("{:?} {:?}", done.state(), done.failure_code());
//! # Ok::<_, cybrid_identity::Error>(())
//! ```
//!
//! Offline, the `emulator` feature serves Cybrid's identity API on loopback (see
//! `cybrid_identity::emulator`), and the `cli` feature builds the `cybrid-identity` command.
//! What is retried and what never is: [`retry`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
pub mod attestation;
mod auth;
mod client;
pub mod dangerous;
#[cfg(feature = "emulator")]
pub mod emulator;
mod error;
pub mod keys;
pub mod models;
mod pages;
mod resolver;
pub mod retry;
mod wait;

pub use attestation::{Attestation, Claims};
pub use auth::DEFAULT_SCOPES;
pub use client::{
    Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT,
    Environment,
};
pub use error::{ApiError, Error, KeyErrorKind, TokenError, TransportError, TransportErrorKind};
pub use keys::{SigningKey, VerifyingKey};
pub use models::{
    AttestationDetails, AttestationState, ErrorResponse, FailureCode, IdentityRecord,
    IdentityRecordList, ListParams, PostIdentityRecord, PostVerificationKey, VerificationKey,
    VerificationKeyFailureCode, VerificationKeyList, VerificationKeyState,
};
pub use pages::IdentityRecords;
pub use retry::RetryPolicy;
pub use wait::WaitOptions;
