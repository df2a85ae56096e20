//! The blocking [`Client`]: the crate's only network I/O.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ureq::http;

use crate::api::{self, ApiRequest};
use crate::auth::{
    CachedToken, Credentials, DEFAULT_SCOPES, Secret, TokenCache, TokenResponse, token_request_body,
};
use crate::error::{Error, TokenError, TransportError, TransportErrorKind};
use crate::models::{
    self, IdentityRecord, IdentityRecordList, ListParams, PostIdentityRecord, PostVerificationKey,
    VerificationKey, VerificationKeyList,
};
use crate::pages::IdentityRecords;
use crate::resolver::CachingResolver;
use crate::retry::{Decision, Failure, FailureKind, Method, RetryPolicy};
use crate::wait::WaitOptions;

/// The default whole-call timeout, retries and their waits included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default time allowed to open a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default limit on a response body.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;
/// A first attempt that starts within this of the call's start runs under the agent's
/// timeout (the call's own) instead of a per-request one.
const SAME_DEADLINE_SLACK: Duration = Duration::from_millis(1);
/// Idle connections kept per host, so a client shared by several threads reuses them.
const IDLE_CONNECTIONS_PER_HOST: usize = 16;

/// Which Cybrid environment to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

type SleepFn = Arc<dyn Fn(Duration) + Send + Sync>;

/// Builds a [`Client`]. Every setting has a default; only credentials are required.
#[derive(Clone)]
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
    retry: RetryPolicy,
    sleep: SleepFn,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("environment", &self.environment)
            .field("base_url", &self.base_url)
            .field("token_url", &self.token_url)
            .field("credentials", &self.credentials)
            .field("scopes", &self.scopes)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
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
            retry: RetryPolicy::default(),
            sleep: Arc::new(std::thread::sleep),
        }
    }
}

impl ClientBuilder {
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

    /// How many times a failed call may be retried (default 2; 0 turns retries off).
    /// See [`crate::retry`] for what is retried.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    /// Replaces the whole retry policy (backoff, `Retry-After` cap, jitter).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Replaces how the client pauses between retries and polls (default: `std::thread::sleep`).
    /// Tests use it to record waits instead of sleeping.
    pub fn sleep_with(mut self, sleep: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        self.sleep = Arc::new(sleep);
        self
    }

    /// A builder configured from variables looked up with `get` (see [`Client::from_env`]).
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

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for missing credentials, a malformed URL, or `http://` to a host
    /// that is not loopback.
    pub fn build(self) -> Result<Client, Error> {
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
        let config = ureq::Agent::config_builder()
            // Error statuses carry Cybrid's ErrorResponse: read them rather than lose them.
            .http_status_as_error(false)
            // ureq sets no timeouts; a call without one could hang a build script forever.
            .timeout_connect(Some(self.connect_timeout))
            .timeout_global(Some(self.timeout))
            .user_agent(user_agent.as_str())
            .accept("application/json")
            // The API does not redirect; a redirect is shown to the caller, not followed.
            .max_redirects(0)
            .max_redirects_will_error(false)
            // ureq keeps 3 idle connections per host; a client shared by more threads than
            // that would close and reopen connections on every call.
            .max_idle_connections_per_host(IDLE_CONNECTIONS_PER_HOST)
            .max_idle_connections(IDLE_CONNECTIONS_PER_HOST * 2)
            .build();
        Ok(Client {
            inner: Arc::new(Inner {
                agent: ureq::Agent::with_parts(
                    config,
                    ureq::unversioned::transport::DefaultConnector::default(),
                    CachingResolver::default(),
                ),
                base_url,
                token_url,
                credentials,
                scopes: self.scopes,
                tokens: TokenCache::default(),
                timeout: self.timeout,
                connect_timeout: self.connect_timeout,
                max_body_bytes: self.max_body_bytes,
                retry: self.retry,
                sleep: self.sleep,
                user_agent,
            }),
        })
    }
}

/// Refuses URLs that would send a bearer token in clear text across a network, and URLs
/// with credentials, queries or fragments. Returns the URL without a trailing slash.
fn check_url(name: &str, url: &str) -> Result<String, Error> {
    let url = url.trim();
    let bad = |why: &str| Error::config(format!("{name} {url:?}: {why}"));
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("expected https://host[:port][/path]"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if rest.contains(['?', '#']) {
        return Err(bad("a query or fragment is not allowed"));
    }
    if authority.contains('@') {
        return Err(bad("credentials in the URL are not allowed"));
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    if host.is_empty() {
        return Err(bad("the host is missing"));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(bad(
                "http:// is allowed only for loopback hosts (127.0.0.1, ::1, localhost), so a bearer \
                 token never crosses a network in clear text; use https://",
            ));
        }
        _ => {
            return Err(bad(
                "the scheme must be https:// (or http:// to a loopback host)",
            ));
        }
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A blocking client for Cybrid's identity-record and verification-key endpoints.
///
/// Cheap to clone (one shared connection pool and token cache); `Send + Sync`.
///
/// ```no_run
/// use cybrid_identity::{Client, Environment, ListParams};
/// let client = Client::builder()
///     .environment(Environment::Sandbox)
///     .client_credentials("my-client-id", "my-client-secret")
///     .build()?;
/// let page = client.list_identity_records(&ListParams::new().per_page(25))?;
/// println!("{} records", page.total);
/// # Ok::<_, cybrid_identity::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    agent: ureq::Agent,
    base_url: String,
    token_url: String,
    credentials: Credentials,
    scopes: Vec<String>,
    tokens: TokenCache,
    timeout: Duration,
    connect_timeout: Duration,
    max_body_bytes: u64,
    retry: RetryPolicy,
    sleep: SleepFn,
    user_agent: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("base_url", &i.base_url)
            .field("token_url", &i.token_url)
            .field("credentials", &i.credentials)
            .field("scopes", &i.scopes)
            .field("timeout", &i.timeout)
            .field("connect_timeout", &i.connect_timeout)
            .field("max_body_bytes", &i.max_body_bytes)
            .field("retry", &i.retry)
            .field("user_agent", &i.user_agent)
            .finish()
    }
}

/// One attempt's result, before the retry decision.
enum Attempt {
    /// A status and a body read within the limit.
    Answer {
        status: u16,
        request_id: Option<String>,
        retry_after: Option<String>,
        body: Vec<u8>,
    },
    /// No complete answer.
    Failed { error: Error, kind: FailureKind },
}

impl Client {
    /// A builder with every default.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment:
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `CYBRID_ENVIRONMENT` | `sandbox` (default) or `production` |
    /// | `CYBRID_BASE_URL` | Bank API base, overriding the environment's |
    /// | `CYBRID_TOKEN_URL` | OAuth token endpoint, overriding the environment's |
    /// | `CYBRID_ACCESS_TOKEN` | a bearer token; if set, the client id and secret are not used |
    /// | `CYBRID_CLIENT_ID`, `CYBRID_CLIENT_SECRET` | OAuth 2.0 client credentials |
    /// | `CYBRID_SCOPES` | scopes, separated by spaces or commas |
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable that is missing or wrong.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_vars(|name| std::env::var(name).ok())?.build()
    }

    /// Fetches an access token now, so that wrong credentials fail here rather than on the
    /// first call. Calls fetch tokens on their own; this is never required.
    ///
    /// # Errors
    /// [`Error::Token`] when the token endpoint refuses; transport errors.
    pub fn authenticate(&self) -> Result<(), Error> {
        self.bearer(Instant::now() + self.inner.timeout).map(|_| ())
    }

    /// The Bank API base URL in use.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Creates an attestation identity record (`POST /api/identity_records`).
    ///
    /// Never retried once the request may have reached the server: on such a failure the
    /// error is [`Error::OutcomeUnknown`], saying how to check whether the record exists.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before sending; [`Error::Api`] for 400/401/403; transport and
    /// decode errors as documented on [`Error`].
    pub fn create_identity_record(
        &self,
        record: &PostIdentityRecord,
    ) -> Result<IdentityRecord, Error> {
        let request = api::create_identity_record(record)?;
        self.execute(&request)
    }

    /// Reads one identity record.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed guid; [`Error::Api`] with status 404 for an unknown one.
    pub fn get_identity_record(&self, guid: &str) -> Result<IdentityRecord, Error> {
        let request = api::get_identity_record(guid)?;
        self.execute(&request)
    }

    /// Reads one page of identity records.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for bad params, checked before sending.
    pub fn list_identity_records(&self, params: &ListParams) -> Result<IdentityRecordList, Error> {
        let request = api::list_identity_records(params)?;
        self.execute(&request)
    }

    /// Every identity record matching `params`, page by page (100 a page unless `params`
    /// says otherwise). Holds one page at a time, stops after the server's `total`, and
    /// ends with an error rather than loop if the server sends the same page twice.
    pub fn identity_records(&self, params: ListParams) -> IdentityRecords {
        IdentityRecords::new(self.clone(), params)
    }

    /// Polls an identity record until it is `verified`, `failed` or `expired`, pausing
    /// between polls as `options` says and calling its `on_change` on each new state.
    ///
    /// # Errors
    /// [`Error::WaitTimedOut`] carrying the last record seen when the deadline passes;
    /// any error of [`Client::get_identity_record`].
    pub fn wait_for_identity_record(
        &self,
        guid: &str,
        options: &WaitOptions,
    ) -> Result<IdentityRecord, Error> {
        let deadline = Instant::now() + options.timeout;
        let mut interval = options.initial_interval;
        let mut last_state = None;
        loop {
            let record = self.get_identity_record(guid)?;
            let state = record.state().cloned();
            if last_state.as_ref() != Some(&state) {
                options.notify(&record);
                last_state = Some(state.clone());
            }
            if state.as_ref().is_some_and(|s| s.is_final()) {
                return Ok(record);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::WaitTimedOut {
                    last: Box::new(record),
                });
            }
            (self.inner.sleep)(interval.min(deadline - now));
            interval = options.next_interval(interval);
        }
    }

    /// Registers a verification key (`POST /api/bank_verification_keys`); build the body with
    /// [`PostVerificationKey::new`]. Never retried once the request may have arrived.
    ///
    /// # Errors
    /// As [`Client::create_identity_record`].
    pub fn create_verification_key(
        &self,
        key: &PostVerificationKey,
    ) -> Result<VerificationKey, Error> {
        let request = api::create_verification_key(key)?;
        self.execute(&request)
    }

    /// Reads one verification key.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed guid; [`Error::Api`] with status 404 for an unknown one.
    pub fn get_verification_key(&self, guid: &str) -> Result<VerificationKey, Error> {
        let request = api::get_verification_key(guid)?;
        self.execute(&request)
    }

    /// Reads one page of verification keys (in Cybrid's sandbox, the first is the default key).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for bad params (a customer filter, which keys do not take).
    pub fn list_verification_keys(
        &self,
        params: &ListParams,
    ) -> Result<VerificationKeyList, Error> {
        let request = api::list_verification_keys(params)?;
        self.execute(&request)
    }

    /// Sends `request` with retries, within the client's timeout, and decodes the answer.
    fn execute<T: serde::de::DeserializeOwned>(&self, request: &ApiRequest) -> Result<T, Error> {
        let inner = &self.inner;
        let deadline = Instant::now() + inner.timeout;
        let url = self.url(request);
        let label = format!("{} {}", method_name(request.method), request.path);
        let mut attempt = 0;
        let mut token_renewed = false;
        loop {
            let token = self.bearer(deadline)?;
            let outcome = self.send(
                request.method,
                &url,
                &label,
                Some(&token),
                request.body.as_deref(),
                deadline,
            )?;
            let (error, failure) = match outcome {
                Attempt::Answer { status, body, .. } if (200..300).contains(&status) => {
                    match models::decode::<T>(request.what, &body) {
                        Ok(value) => return Ok(value),
                        // A body cut short is a broken answer, not a different model: retry a GET.
                        Err(error) if matches!(&error, Error::Decode { source, .. } if source.is_eof()) => {
                            (error, Failure::new(FailureKind::MaybeSent))
                        }
                        Err(error) => return Err(self.unknown_outcome(request, error, true)),
                    }
                }
                Attempt::Answer { status: 401, .. }
                    if !token_renewed
                        && matches!(inner.credentials, Credentials::ClientCredentials { .. }) =>
                {
                    // The token may have been revoked or expired early: one retry with a new one.
                    inner.tokens.invalidate(&token);
                    token_renewed = true;
                    continue;
                }
                Attempt::Answer {
                    status,
                    request_id,
                    retry_after,
                    body,
                } => {
                    let error = Error::Api(Box::new(api::api_error(
                        status,
                        request_id,
                        retry_after.clone(),
                        &body,
                    )));
                    (
                        error,
                        Failure {
                            kind: FailureKind::Status(status),
                            retry_after,
                        },
                    )
                }
                Attempt::Failed { error, kind } => (error, Failure::new(kind)),
            };
            if !self.pause_before_retry(&mut attempt, request.method, &failure, deadline) {
                let may_have_arrived = match failure.kind {
                    FailureKind::NotSent => false,
                    FailureKind::MaybeSent | FailureKind::Answered => true,
                    // The server refused it: nothing was created.
                    FailureKind::Status(status) => !(400..500).contains(&status),
                };
                return Err(self.unknown_outcome(request, error, may_have_arrived));
            }
        }
    }

    /// Asks the retry policy about a failed attempt; if it says retry and the wait fits
    /// before `deadline`, waits, counts the attempt and returns `true`.
    fn pause_before_retry(
        &self,
        attempt: &mut u32,
        method: Method,
        failure: &Failure,
        deadline: Instant,
    ) -> bool {
        match self
            .inner
            .retry
            .decide(*attempt, method, failure, SystemTime::now())
        {
            Decision::RetryAfter(wait) if Instant::now() + wait < deadline => {
                (self.inner.sleep)(wait);
                *attempt += 1;
                true
            }
            _ => false,
        }
    }

    /// Wraps the failure of a create that may have taken effect in [`Error::OutcomeUnknown`].
    fn unknown_outcome(&self, request: &ApiRequest, error: Error, may_have_arrived: bool) -> Error {
        match (&request.outcome_hint, may_have_arrived) {
            (Some(hint), true) => Error::OutcomeUnknown {
                hint: hint.clone(),
                source: Box::new(error),
            },
            _ => error,
        }
    }

    fn url(&self, request: &ApiRequest) -> String {
        let mut url = format!("{}{}", self.inner.base_url, request.path);
        for (i, (name, value)) in request.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(name);
            url.push('=');
            // Values were checked to be guids, commas and digits; encode anyway, cheaply.
            for b in value.bytes() {
                if b.is_ascii_alphanumeric() || b == b',' || b == b'-' {
                    url.push(char::from(b));
                } else {
                    url.push_str(&format!("%{b:02X}"));
                }
            }
        }
        url
    }

    /// The bearer token for the next request: fixed, or cached, or fetched (one thread at a time).
    fn bearer(&self, deadline: Instant) -> Result<Secret, Error> {
        match &self.inner.credentials {
            Credentials::BearerToken(token) => Ok(token.clone()),
            Credentials::ClientCredentials {
                client_id,
                client_secret,
            } => self
                .inner
                .tokens
                .get(|| self.fetch_token(client_id, client_secret, deadline)),
        }
    }

    /// `POST` the client credentials to the token endpoint, retrying what a GET would retry:
    /// asking for a token twice creates nothing that matters.
    fn fetch_token(
        &self,
        client_id: &str,
        secret: &Secret,
        deadline: Instant,
    ) -> Result<CachedToken, Error> {
        let inner = &self.inner;
        let body = token_request_body(client_id, secret, &inner.scopes);
        let label = format!("POST {}", inner.token_url);
        let redact = |text: String| text.replace(secret.expose(), "[redacted]");
        let mut attempt = 0;
        loop {
            let (error, failure) = match self.send(
                Method::Post,
                &inner.token_url,
                &label,
                None,
                Some(&body),
                deadline,
            )? {
                Attempt::Answer { status, body, .. } if (200..300).contains(&status) => {
                    return match serde_json::from_slice::<TokenResponse>(&body) {
                        Ok(token) if !token.access_token.is_empty() => Ok(CachedToken::new(
                            Secret::new(token.access_token),
                            token.expires_in,
                            Instant::now(),
                        )),
                        _ => Err(Error::Token(Box::new(TokenError {
                            status: None,
                            body_excerpt: format!(
                                "status {status} but no access_token in the answer: {}",
                                redact(api::excerpt(&body)).replace(|c: char| c.is_control(), " ")
                            ),
                        }))),
                    };
                }
                Attempt::Answer {
                    status,
                    retry_after,
                    body,
                    ..
                } => {
                    let error = Error::Token(Box::new(TokenError {
                        status: Some(status),
                        body_excerpt: redact(api::excerpt(&body)),
                    }));
                    (
                        error,
                        Failure {
                            kind: FailureKind::Status(status),
                            retry_after,
                        },
                    )
                }
                Attempt::Failed { error, kind } => (error, Failure::new(kind)),
            };
            // Asking for a token twice creates nothing: retried as a read.
            if !self.pause_before_retry(&mut attempt, Method::Get, &failure, deadline) {
                return Err(error);
            }
        }
    }

    /// One HTTP exchange, bounded by `deadline`, body read up to the limit. `Err` only for a
    /// request that cannot be built, which no retry would mend.
    fn send(
        &self,
        method: Method,
        url: &str,
        label: &str,
        token: Option<&Secret>,
        body: Option<&[u8]>,
        deadline: Instant,
    ) -> Result<Attempt, Error> {
        let inner = &self.inner;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Ok(Attempt::Failed {
                error: transport(
                    label,
                    TransportErrorKind::Timeout,
                    format!("the call's timeout of {:?} ran out", inner.timeout),
                    None,
                ),
                kind: FailureKind::NotSent,
            });
        }
        let mut builder = http::Request::builder()
            .method(method_name(method))
            .uri(url);
        if let Some(token) = token {
            builder = builder.header("Authorization", format!("Bearer {}", token.expose()));
        }
        // A request without a body is sent without one: an empty body would add a
        // `content-length: 0` header and ureq's separate body write to every GET.
        let sent = match body {
            Some(bytes) => {
                let request = builder
                    .header("Content-Type", "application/json")
                    .body(bytes);
                self.run(label, request, remaining)?
            }
            None => self.run(label, builder.body(()), remaining)?,
        };
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => return Ok(failed(label, e)),
        };
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = response.status().as_u16();
        let request_id = header("x-request-id").or_else(|| header("request-id"));
        let retry_after = header("retry-after");
        Ok(
            match response
                .body_mut()
                .with_config()
                .limit(inner.max_body_bytes)
                .read_to_vec()
            {
                // JSON is UTF-8; a success body that is not would otherwise be mangled or
                // misreported as a model mismatch. Error bodies keep their status instead.
                Ok(body) => match std::str::from_utf8(&body) {
                    Err(e) if (200..300).contains(&status) => Attempt::Failed {
                        error: Error::InvalidUtf8 {
                            valid_up_to: e.valid_up_to(),
                        },
                        kind: FailureKind::Answered,
                    },
                    _ => Attempt::Answer {
                        status,
                        request_id,
                        retry_after,
                        body,
                    },
                },
                Err(ureq::Error::BodyExceedsLimit(_)) => Attempt::Failed {
                    error: Error::BodyTooLarge {
                        limit: inner.max_body_bytes,
                    },
                    // Asking again would read the same oversized body.
                    kind: FailureKind::Answered,
                },
                Err(e) => failed(label, e),
            },
        )
    }
}

impl Client {
    /// Runs one built request on the shared agent with the call's remaining time.
    fn run<S: ureq::AsSendBody>(
        &self,
        label: &str,
        request: Result<http::Request<S>, http::Error>,
        remaining: Duration,
    ) -> Result<Result<http::Response<ureq::Body>, ureq::Error>, Error> {
        let request = request
            .map_err(|e| Error::config(format!("{label}: the request could not be built ({e})")))?;
        let agent = &self.inner.agent;
        // The agent's own global timeout is the whole call's; only a later attempt, with less
        // time left, needs a request-level copy of the configuration to carry a shorter one.
        if remaining + SAME_DEADLINE_SLACK >= self.inner.timeout {
            return Ok(agent.run(request));
        }
        let request = agent
            .configure_request(request)
            .timeout_global(Some(remaining))
            .build();
        Ok(agent.run(request))
    }
}

fn method_name(method: Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Post => "POST",
    }
}

fn transport(
    label: &str,
    kind: TransportErrorKind,
    message: String,
    source: Option<ureq::Error>,
) -> Error {
    Error::Transport(Box::new(TransportError {
        kind,
        request: label.to_owned(),
        message,
        source: source.map(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
    }))
}

/// Sorts a ureq error into what it means for the caller and for retrying.
fn failed(label: &str, e: ureq::Error) -> Attempt {
    use std::io::ErrorKind as Io;
    let (kind, failure, message) = match &e {
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                Io::ConnectionRefused
                    | Io::HostUnreachable
                    | Io::NetworkUnreachable
                    | Io::NetworkDown
                    | Io::AddrNotAvailable
            ) =>
        {
            (
                TransportErrorKind::Connect,
                FailureKind::NotSent,
                format!("could not connect ({io})"),
            )
        }
        ureq::Error::HostNotFound => (
            TransportErrorKind::Connect,
            FailureKind::NotSent,
            "the host name did not resolve".to_owned(),
        ),
        ureq::Error::ConnectionFailed => (
            TransportErrorKind::Connect,
            FailureKind::NotSent,
            "could not connect".to_owned(),
        ),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => (
            TransportErrorKind::Connect,
            FailureKind::NotSent,
            format!("the TLS handshake failed ({e})"),
        ),
        ureq::Error::Timeout(which @ (ureq::Timeout::Resolve | ureq::Timeout::Connect)) => (
            TransportErrorKind::Timeout,
            FailureKind::NotSent,
            format!("timed out before connecting ({which})"),
        ),
        ureq::Error::Timeout(which) => (
            TransportErrorKind::Timeout,
            FailureKind::MaybeSent,
            format!("timed out ({which})"),
        ),
        other => (
            TransportErrorKind::Io,
            FailureKind::MaybeSent,
            format!("the connection failed ({other})"),
        ),
    };
    Attempt::Failed {
        error: transport(label, kind, message, Some(e)),
        kind: failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_refuse_clear_text_off_loopback() {
        for ok in [
            "https://bank.sandbox.cybrid.app",
            "http://127.0.0.1:8080",
            "http://localhost:1/",
            "http://[::1]:9",
            "http://127.3.2.1",
        ] {
            assert!(check_url("base_url", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://bank.sandbox.cybrid.app",
            "http://10.0.0.1",
            "http://127.0.0.1.evil.com",
            "ftp://x",
            "bank.sandbox.cybrid.app",
            "https://u:p@host",
            "https://host/?q=1",
            "https://",
        ] {
            assert!(
                matches!(check_url("base_url", bad), Err(Error::Config(_))),
                "{bad}"
            );
        }
        assert_eq!(
            check_url("b", "http://127.0.0.1:8/").unwrap(),
            "http://127.0.0.1:8"
        );
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

    #[test]
    fn client_is_send_sync_clone() {
        fn assert<T: Send + Sync + Clone>() {}
        assert::<Client>();
    }
}
