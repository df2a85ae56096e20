//! Cybrid's identity API on loopback, for developing and testing offline (feature `emulator`).
//!
//! It keeps state, checks attestation JWTs with the same [`crate::attestation::check`] users
//! pre-flight with, moves records from `storing` to `verified` or `failed` (and `expired`
//! once a verified token's `exp` passes; `pending` between them with
//! [`EmulatorBuilder::with_pending`]), and injects faults on demand.
//!
//! ```
//! use cybrid_identity::emulator::Emulator;
//! use cybrid_identity::{Attestation, AttestationState, PostIdentityRecord, SigningKey, WaitOptions};
//! use std::time::Duration;
//!
//! let emu = Emulator::builder().transition(Duration::from_millis(20)).start()?;
//! let client = emu.client()?;
//! let customer = "c0ffee00c0ffee00c0ffee00c0ffee00";
//! let token = Attestation::new(emu.bank_guid(), customer, emu.verification_key_guid())
//!     .sign(&SigningKey::sandbox())?;
//! let record = client.create_identity_record(&PostIdentityRecord::attestation(customer, token))?;
//! let done = client.wait_for(&record, &WaitOptions::default())?;
//! assert_eq!(done.state(), Some(&AttestationState::Verified));
//! # Ok::<_, cybrid_identity::Error>(())
//! ```

mod bodies;
mod faults;
mod http;
mod kyc;
mod limit;
mod oauth;
mod paths;
mod read;
mod routes;
mod server;
mod state;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

pub use faults::{Fault, FaultKind, MAX_DELAY_MS, MAX_FAULT_TEXT, MAX_FAULTS};
pub use routes::Stats;

use crate::client::{Client, ClientBuilder};
use crate::error::Error;
use crate::keys::SigningKey;
use crate::rand::hex_guid;
use oauth::OAuth;
use routes::Shared;
use state::{Lifecycle, Store};

/// A fresh random guid of Cybrid's shape (32 lowercase hex digits): for test customers and
/// objects. Not for secrets.
pub fn new_guid() -> String {
    hex_guid()
}

/// Builds an [`Emulator`].
#[derive(Debug, Clone)]
#[must_use]
pub struct EmulatorBuilder {
    port: u16,
    transition: Duration,
    token_ttl: Duration,
    with_pending: bool,
    latency: Duration,
    expiry_on_verify: bool,
    rate_limit: Option<u32>,
    bank_guid: Option<String>,
    credentials: Option<(String, String)>,
    bank_features: Vec<String>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            port: 0,
            transition: Duration::from_millis(200),
            token_ttl: Duration::from_secs(3600),
            with_pending: false,
            latency: Duration::ZERO,
            expiry_on_verify: false,
            rate_limit: None,
            bank_guid: None,
            credentials: None,
            bank_features: kyc::DEFAULT_BANK_FEATURES
                .iter()
                .map(|f| (*f).to_owned())
                .collect(),
        }
    }
}

impl EmulatorBuilder {
    /// The loopback port to listen on (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How long each lifecycle step takes (`storing`, then `pending`). Default 200 ms.
    pub fn transition(mut self, transition: Duration) -> Self {
        self.transition = transition;
        self
    }

    /// The `expires_in` of issued tokens (default one hour, rounded down to whole seconds);
    /// the emulator refuses a token with 401 once it has passed.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Adds the `pending` step that Cybrid's endpoint page describes: records then go
    /// `storing` → `pending` → final. Off by default, as in the published model of release
    /// v0.71.72 (`storing`, `expired`, `verified`, `failed`), whose generated clients (Cybrid's
    /// own Python client of that release among them) reject any other value.
    pub fn with_pending(mut self, with: bool) -> Self {
        self.with_pending = with;
        self
    }

    /// Delays every answer (the emulator's own `/_emulator/` routes excepted) by `latency`,
    /// so that programs are measured as over a real network. Default: none.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Sets a verified record's `expired_at` to its token's `exp` (default: `null` until
    /// the record expires). Cybrid's document calls `expired_at` "the datetime the record
    /// is expired at"; a server may fill it at verification, and a client must then still
    /// take the record as in force until that time.
    pub fn expiry_on_verify(mut self, on: bool) -> Self {
        self.expiry_on_verify = on;
        self
    }

    /// Serves at most `n` API requests a second (a token bucket of `n`, full at the start);
    /// past it, 429 with `Retry-After` in whole seconds, and the request has no effect. The
    /// token endpoint and the emulator's own routes are not limited.
    pub fn rate_limit(mut self, n: u32) -> Self {
        self.rate_limit = Some(n.max(1));
        self
    }

    /// The bank's guid (default: random).
    pub fn bank_guid(mut self, guid: impl Into<String>) -> Self {
        self.bank_guid = Some(guid.into());
        self
    }

    /// Fixed client credentials (default: random).
    pub fn client_credentials(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.credentials = Some((id.into(), secret.into()));
        self
    }

    /// The bank's features (`GET /api/banks/{bank_guid}`), which choose its KYC path:
    /// `attestation_identity_records` (identity records; `_v2`, `_v3` too) and/or
    /// `kyc_identity_verifications` (attested identity verifications). Default: both. A
    /// create on a path the bank lacks is refused 403 `unsupported_feature`.
    ///
    /// ```
    /// use cybrid_identity::KycPath;
    /// let emu = cybrid_identity::emulator::Emulator::builder().bank_features(["kyc_identity_verifications"]).start()?;
    /// let bank = emu.client()?.get_bank(emu.bank_guid())?;
    /// assert_eq!(bank.kyc_paths(), [KycPath::AttestedIdentityVerifications]);
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn bank_features<I, S>(mut self, features: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.bank_features = features.into_iter().map(Into::into).collect();
        self
    }

    /// Binds `127.0.0.1` and starts serving on background threads.
    ///
    /// # Errors
    /// [`Error::Config`] when the port cannot be bound.
    pub fn start(self) -> Result<Emulator, Error> {
        let bank_guid = self.bank_guid.unwrap_or_else(new_guid);
        let (client_id, client_secret) = self
            .credentials
            .unwrap_or_else(|| (new_guid(), new_guid() + &new_guid()));
        let verification_key_guid = new_guid();
        let lifecycle = Lifecycle {
            transition: self.transition,
            with_pending: self.with_pending,
            expiry_on_verify: self.expiry_on_verify,
        };
        let store = Store::new(
            bank_guid.clone(),
            lifecycle,
            verification_key_guid.clone(),
            SigningKey::sandbox().verifying_key().clone(),
        );
        let oauth = OAuth::new(client_id.clone(), client_secret.clone(), self.token_ttl);
        let kyc = kyc::Kyc::new(bank_guid.clone(), self.bank_features, self.transition);
        let shared = Arc::new(Shared::new(
            (store, kyc),
            oauth,
            self.latency,
            self.rate_limit,
        ));
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let server = server::Server::start(addr, shared.clone())
            .map_err(|e| Error::config(format!("the emulator could not listen on {addr}: {e}")))?;
        let url = format!("http://{}", server.addr());
        Ok(Emulator {
            server,
            shared,
            url,
            bank_guid,
            client_id,
            client_secret,
            verification_key_guid,
        })
    }
}

/// A running emulator. Dropping it stops it and frees its port.
pub struct Emulator {
    server: server::Server,
    shared: Arc<Shared>,
    url: String,
    bank_guid: String,
    client_id: String,
    client_secret: String,
    verification_key_guid: String,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("url", &self.url)
            .field("bank_guid", &self.bank_guid)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// A builder with every default.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// An emulator with every default.
    ///
    /// # Errors
    /// As [`EmulatorBuilder::start`].
    pub fn start() -> Result<Emulator, Error> {
        EmulatorBuilder::default().start()
    }

    /// The Bank API base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The OAuth 2.0 token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.url)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.server.addr().port()
    }

    /// The emulated bank's guid (the `iss` of its tokens).
    pub fn bank_guid(&self) -> &str {
        &self.bank_guid
    }

    /// The client id the token endpoint accepts.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The client secret the token endpoint accepts (not printed by `Debug`).
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    /// The pre-registered verification key: the public half of [`SigningKey::sandbox`],
    /// first in the key list, as in Cybrid's sandbox.
    pub fn verification_key_guid(&self) -> &str {
        &self.verification_key_guid
    }

    /// A client builder pointed at this emulator with its credentials.
    pub fn client_builder(&self) -> ClientBuilder {
        // Every scope the emulator grants: identity records' and today's KYC calls'.
        Client::builder()
            .base_url(self.url())
            .token_url(self.token_url())
            .client_credentials(self.client_id(), self.client_secret())
            .scopes(oauth::SCOPES)
    }

    /// A client for this emulator.
    ///
    /// # Errors
    /// As [`ClientBuilder::build`].
    pub fn client(&self) -> Result<Client, Error> {
        self.client_builder().build()
    }

    /// The one-line JSON description a program needs to use the emulator.
    pub fn connection_json(&self) -> String {
        serde_json::json!({
            "url": self.url,
            "token_url": self.token_url(),
            "bank_guid": self.bank_guid,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "verification_key_guid": self.verification_key_guid,
        })
        .to_string()
    }

    /// Adds a fault (the same as `POST /_emulator/faults`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a rate outside 0..=1, `times` of 0, or a status outside
    /// 200..=599 or one that allows no body (204, 304).
    pub fn add_fault(&self, fault: Fault) -> Result<(), Error> {
        fault.check().map_err(|why| Error::invalid("fault", why))?;
        self.shared
            .faults
            .add(fault)
            .map_err(|why| Error::invalid("fault", why))
    }

    /// Removes every fault (the same as `DELETE /_emulator/faults`).
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// The counters (the same as `GET /_emulator/stats`).
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }
}
