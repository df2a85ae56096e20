//! # cybrid-identity
//!
//! Attest your customers' identities to Cybrid's Bank API from synchronous Rust.
//!
//! A bank that ran its own know-your-customer checks vouches for a customer with an
//! *attestation*: an RS512 JWT signed with the bank's RSA key, whose public half the bank
//! registered with Cybrid as a *verification key*. This crate signs those tokens by hand
//! (no JWT library), checks them the way Cybrid's server does, and talks to the API.
//!
//! ```
//! use cybrid_identity::{Attestation, SigningKey, PostIdentityRecord};
//!
//! let key = SigningKey::sandbox(); // sandbox only: its private half is public
//! let token = Attestation::new(
//!     "0f0e0d0c0b0a09080706050403020100", // your bank's guid
//!     "c0ffee00c0ffee00c0ffee00c0ffee00", // the customer's guid
//!     "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d", // the verification key's guid (the JWT's kid)
//! )
//! .sign(&key)?;
//! let body = PostIdentityRecord::attestation("c0ffee00c0ffee00c0ffee00c0ffee00", token);
//! # let _ = body;
//! # Ok::<_, cybrid_identity::Error>(())
//! ```
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
mod resolver;
pub mod retry;
mod wait;

pub use attestation::{Attestation, Claims};
pub use auth::DEFAULT_SCOPES;
pub use client::{
    Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT,
    Environment, IdentityRecords,
};
pub use error::{ApiError, Error, KeyErrorKind, TokenError, TransportError, TransportErrorKind};
pub use keys::{SigningKey, VerifyingKey};
pub use models::{
    AttestationDetails, AttestationState, ErrorResponse, FailureCode, IdentityRecord,
    IdentityRecordList, ListParams, PostIdentityRecord, PostVerificationKey, VerificationKey,
    VerificationKeyFailureCode, VerificationKeyList, VerificationKeyState,
};
pub use retry::RetryPolicy;
pub use wait::WaitOptions;
