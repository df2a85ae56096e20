//! Configuration: [`ClientBuilder`], [`Environment`], the environment variables, and the
//! checks a URL must pass before a token is sent to it.

use std::sync::Arc;
use std::time::Duration;

use super::call::SleepFn;
use super::network::{Limits, Network, Routes, read_ca_bundle};
use super::proxy::ProxyChoice;
use super::url::check_url;
use crate::auth::{Credentials, DEFAULT_SCOPES, Secret};
use crate::error::Error;
use crate::retry::RetryPolicy;

/// The default whole-call timeout, retries and their waits included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default time allowed to open a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Retries after a failed first attempt unless told otherwise ([`ClientBuilder::max_retries`]).
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// Idle connections a client keeps per host unless told otherwise.
pub const DEFAULT_IDLE_CONNECTIONS: usize = 64;
/// The default limit on a response body.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;

/// Which Cybrid environment to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Environment {
    /// `https://bank.sandbox.cybrid.app` (the default).
    #[default]
    Sandbox,
    /// `https://bank.production.cybrid.app`.
    Production,
}

impl Environment {
    /// The Bank API base URL.
    pub fn base_url(self) -> &'static str {
        match self {
            Environment::Sandbox => "https://bank.sandbox.cybrid.app",
            Environment::Production => "https://bank.production.cybrid.app",
        }
    }

    /// The OAuth 2.0 token endpoint.
    pub fn token_url(self) -> &'static str {
        match self {
            Environment::Sandbox => "https://id.sandbox.cybrid.app/oauth/token",
            Environment::Production => "https://id.production.cybrid.app/oauth/token",
        }
    }
}

impl std::str::FromStr for Environment {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sandbox" => Ok(Environment::Sandbox),
            "production" => Ok(Environment::Production),
            other => Err(Error::config(format!(
                "unknown environment {other:?}: use \"sandbox\" or \"production\""
            ))),
        }
    }
}

/// Builds a [`Client`](super::Client). Every setting has a default; only credentials are required.
#[derive(Clone, Debug)]
#[must_use]
pub struct ClientBuilder {
    environment: Environment,
    base_url: Option<String>,
    token_url: Option<String>,
    credentials: Option<Credentials>,
    scopes: Vec<String>,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: Option<String>,
    max_body_bytes: u64,
    idle_connections: usize,
    max_retries: u32,
    retry: RetryPolicy,
    sleep: SleepFn,
    network: Network,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            environment: Environment::Sandbox,
            base_url: None,
            token_url: None,
            credentials: None,
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            user_agent: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            idle_connections: DEFAULT_IDLE_CONNECTIONS,
            max_retries: DEFAULT_MAX_RETRIES,
            retry: RetryPolicy::default(),
            sleep: SleepFn(Arc::new(std::thread::sleep)),
            network: Network::default(),
        }
    }
}

impl ClientBuilder {
    /// A builder with every default (the same as [`Client::builder`](super::Client::builder)).
    ///
    /// ```
    /// use cybrid_identity::ClientBuilder;
    /// let client = ClientBuilder::new().bearer_token("token").build()?;
    /// assert_eq!(client.base_url(), "https://bank.sandbox.cybrid.app");
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sandbox or production (default: sandbox). Sets both URLs unless they are set explicitly.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// Any Bank API base: the emulator, a proxy. `http://` is accepted only for loopback hosts.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The OAuth 2.0 token endpoint. `http://` is accepted only for loopback hosts.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// Authenticate with OAuth 2.0 client credentials; tokens are fetched and refreshed as needed.
    pub fn client_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.credentials = Some(Credentials::ClientCredentials {
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret),
        });
        self
    }

    /// Authenticate with a bearer token obtained elsewhere; it is never refreshed.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::BearerToken(Secret::new(token)));
        self
    }

    /// The scopes to ask for. Default: `customers:read customers:write banks:read banks:write`.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The most one call may take, from connect to last byte, retries and waits included.
    /// Default 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The most opening one connection may take. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Appended to the `User-Agent` after `cybrid-identity/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The largest response body read, error bodies and token answers included. Default 4 MiB.
    pub fn max_body_bytes(mut self, limit: u64) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Idle connections kept open per host for reuse (default 64). Set it to at least the
    /// number of threads sharing the client (a [`crate::Book`]'s concurrency): with fewer, a
    /// connection is closed after each call past the limit and a new one opened (over TLS,
    /// a handshake each).
    pub fn max_idle_connections(mut self, connections: usize) -> Self {
        self.idle_connections = connections;
        self
    }

    /// How many times a failed call may be retried (default 2; 0 turns retries off).
    /// See [`crate::retry`] for what is retried.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Replaces the retry policy's waits (backoff, `Retry-After` cap, jitter). How many
    /// retries is set in one place only, [`ClientBuilder::max_retries`], whichever of the
    /// two is called last.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Replaces how the client pauses between retries and polls (default: `std::thread::sleep`).
    /// A test hook: tests record waits instead of sleeping.
    #[doc(hidden)]
    pub fn sleep_with(mut self, sleep: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        self.sleep = SleepFn(Arc::new(sleep));
        self
    }

    /// Trusts exactly the certificates of this PEM bundle instead of the bundled roots: a
    /// corporate root CA (behind a TLS-intercepting proxy), or the system's bundle
    /// (`/etc/ssl/certs/ca-certificates.crt`). [`ClientBuilder::build`](super::ClientBuilder::build)
    /// fails if it holds no certificate.
    pub fn root_certificates_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.network.roots_pem = Some(pem.as_ref().to_vec());
        self
    }

    /// Sends every request but those to loopback hosts through this proxy (`http://`,
    /// `https://`, `socks4://` or `socks5://host:port`, credentials in the URL allowed and
    /// never printed), instead of the environment's.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.network.proxy = ProxyChoice::Url(url.into());
        self
    }

    /// Connects directly, whatever `HTTPS_PROXY`, `HTTP_PROXY` or `ALL_PROXY` say.
    pub fn no_proxy(mut self) -> Self {
        self.network.proxy = ProxyChoice::Direct;
        self
    }

    /// A builder configured from variables looked up with `get` (see [`Client::from_env`](super::Client::from_env)).
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable that is missing or wrong.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let mut builder = ClientBuilder::default();
        if let Some(env) = get("CYBRID_ENVIRONMENT") {
            builder = builder.environment(
                env.parse()
                    .map_err(|e: Error| e.context("CYBRID_ENVIRONMENT"))?,
            );
        }
        if let Some(url) = get("CYBRID_BASE_URL") {
            builder = builder.base_url(url);
        }
        if let Some(url) = get("CYBRID_TOKEN_URL") {
            builder = builder.token_url(url);
        }
        if let Some(path) = get("CYBRID_CA_BUNDLE") {
            builder = builder.root_certificates_pem(read_ca_bundle(&path)?);
        }
        if let Some(scopes) = get("CYBRID_SCOPES") {
            builder = builder.scopes(
                scopes
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|s| !s.is_empty()),
            );
        }
        builder = match (
            get("CYBRID_ACCESS_TOKEN"),
            get("CYBRID_CLIENT_ID"),
            get("CYBRID_CLIENT_SECRET"),
        ) {
            (Some(token), _, _) => builder.bearer_token(token),
            (None, Some(id), Some(secret)) => builder.client_credentials(id, secret),
            (None, Some(_), None) => {
                return Err(Error::config(
                    "CYBRID_CLIENT_ID is set but CYBRID_CLIENT_SECRET is not",
                ));
            }
            (None, None, Some(_)) => {
                return Err(Error::config(
                    "CYBRID_CLIENT_SECRET is set but CYBRID_CLIENT_ID is not",
                ));
            }
            (None, None, None) => {
                return Err(Error::config(
                    "no credentials: set CYBRID_CLIENT_ID and CYBRID_CLIENT_SECRET, or CYBRID_ACCESS_TOKEN",
                ));
            }
        };
        Ok(builder)
    }

    /// Checks every setting and builds the agent: what a `Client` is made of.
    pub(crate) fn settings(self) -> Result<Settings, Error> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::config(
                "no credentials: call client_credentials(id, secret) or bearer_token(token)",
            )
        })?;
        let base_url = check_url(
            "base_url",
            self.base_url
                .as_deref()
                .unwrap_or(self.environment.base_url()),
        )?;
        let token_url = check_url(
            "token_url",
            self.token_url
                .as_deref()
                .unwrap_or(self.environment.token_url()),
        )?;
        if self.timeout.is_zero() {
            return Err(Error::config("timeout must be more than zero"));
        }
        let user_agent = match &self.user_agent {
            Some(extra) => format!("cybrid-identity/{} {extra}", env!("CARGO_PKG_VERSION")),
            None => format!("cybrid-identity/{}", env!("CARGO_PKG_VERSION")),
        };
        let routes = self.network.routes(
            &base_url,
            &token_url,
            &Limits {
                timeout: self.timeout,
                connect_timeout: self.connect_timeout,
                user_agent: &user_agent,
                max_body_bytes: self.max_body_bytes,
                idle_connections: self.idle_connections.max(1),
            },
        )?;
        Ok(Settings {
            routes,
            base_url,
            token_url,
            credentials,
            scopes: self.scopes,
            timeout: self.timeout,
            retry: self.retry.with_max_retries(self.max_retries),
            sleep: self.sleep,
        })
    }
}

/// Everything a client was built with, checked. `Debug` shows no secret: the credentials
/// print redacted.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) routes: Routes,
    pub(crate) base_url: String,
    pub(crate) token_url: String,
    pub(crate) credentials: Credentials,
    pub(crate) scopes: Vec<String>,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) sleep: SleepFn,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_retries_is_set_in_one_place_whatever_the_order() {
        let policy = RetryPolicy::default;
        let retries = |b: ClientBuilder| b.bearer_token("t").settings().unwrap().retry.max_retries;
        assert_eq!(
            retries(ClientBuilder::new().max_retries(5).retry_policy(policy())),
            5
        );
        assert_eq!(
            retries(ClientBuilder::new().retry_policy(policy()).max_retries(5)),
            5
        );
        assert_eq!(retries(ClientBuilder::new()), DEFAULT_MAX_RETRIES);
    }

    #[test]
    fn environment_urls() {
        assert_eq!(
            Environment::Sandbox.base_url(),
            "https://bank.sandbox.cybrid.app"
        );
        assert_eq!(
            Environment::Production.token_url(),
            "https://id.production.cybrid.app/oauth/token"
        );
        assert_eq!(
            "Production".parse::<Environment>().unwrap(),
            Environment::Production
        );
        assert!("staging".parse::<Environment>().is_err());
    }

    #[test]
    fn from_vars_reads_every_variable() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let b = ClientBuilder::from_vars(vars(&[
            ("CYBRID_ENVIRONMENT", "production"),
            ("CYBRID_CLIENT_ID", "id"),
            ("CYBRID_CLIENT_SECRET", "s3cr3t"),
            ("CYBRID_SCOPES", "customers:read, banks:read"),
        ]))
        .unwrap();
        assert_eq!(b.environment, Environment::Production);
        assert_eq!(b.scopes, vec!["customers:read", "banks:read"]);
        let client = b.build().unwrap();
        assert_eq!(client.base_url(), "https://bank.production.cybrid.app");
        assert!(!format!("{client:?}").contains("s3cr3t"));
        let b = ClientBuilder::from_vars(vars(&[
            ("CYBRID_ACCESS_TOKEN", "tok"),
            ("CYBRID_BASE_URL", "http://127.0.0.1:9"),
        ]))
        .unwrap();
        assert!(matches!(b.credentials, Some(Credentials::BearerToken(_))));
        let err = ClientBuilder::from_vars(vars(&[])).unwrap_err().to_string();
        assert!(
            err.contains("CYBRID_CLIENT_ID and CYBRID_CLIENT_SECRET, or CYBRID_ACCESS_TOKEN"),
            "{err}"
        );
        let err = ClientBuilder::from_vars(vars(&[("CYBRID_CLIENT_ID", "id")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("CYBRID_CLIENT_SECRET is not"), "{err}");
        let err = ClientBuilder::from_vars(vars(&[
            ("CYBRID_ENVIRONMENT", "x"),
            ("CYBRID_ACCESS_TOKEN", "t"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("CYBRID_ENVIRONMENT"), "{err}");
    }
}
