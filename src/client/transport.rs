//! The ureq adapter: one HTTP exchange on the shared agent, and where a failure happened
//! (before the request left, or after), decided here once.

use std::time::{Duration, Instant};

use ureq::http;

use super::resolver::CachingResolver;
use super::stage::{BeforeRequest, MarkingConnector, describe};
use crate::api::{Answer, Unusable};
use crate::auth::Secret;
use crate::error::{Error, TransportError, TransportErrorKind};
use crate::retry::{Method, Progress, Setback};

/// A first attempt that starts within this of the call's start runs under the agent's
/// timeout (the call's own) instead of a per-request one.
const SAME_DEADLINE_SLACK: Duration = Duration::from_millis(1);
/// The longest timeout handed to ureq, which adds its timeouts to an `Instant`.
const MAX_UREQ_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// The agent and the limits every exchange runs under.
pub(crate) struct Transport {
    agent: ureq::Agent,
    timeout: Duration,
    max_body_bytes: u64,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("timeout", &self.timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

/// One request of an attempt.
pub(crate) struct Outgoing<'a> {
    pub(crate) method: Method,
    pub(crate) url: &'a str,
    /// `METHOD path`, for messages.
    pub(crate) label: &'a str,
    pub(crate) token: Option<&'a Secret>,
    pub(crate) body: Option<&'a [u8]>,
}

/// What the agent is built with.
pub(crate) struct TransportOptions<'a> {
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) user_agent: &'a str,
    pub(crate) max_body_bytes: u64,
    pub(crate) idle_connections: usize,
    pub(crate) proxy: Option<ureq::Proxy>,
    pub(crate) tls: ureq::tls::TlsConfig,
}

impl Transport {
    /// An agent with every timeout set (ureq sets none), the proxy and TLS roots chosen, the
    /// crate's resolver cache, and the connector that marks failures before sending.
    pub(crate) fn new(options: TransportOptions<'_>) -> Self {
        let config = ureq::Agent::config_builder()
            // Error statuses carry Cybrid's ErrorResponse: read them rather than lose them.
            .http_status_as_error(false)
            // ureq sets no timeouts; a call without one could hang a build script forever.
            // ureq adds them to an `Instant`, so a caller's `Duration::MAX` is cut to a year.
            .timeout_connect(Some(options.connect_timeout.min(MAX_UREQ_TIMEOUT)))
            .timeout_global(Some(options.timeout.min(MAX_UREQ_TIMEOUT)))
            .user_agent(options.user_agent)
            .accept("application/json")
            // The API does not redirect; a redirect is shown to the caller, not followed.
            .max_redirects(0)
            .max_redirects_will_error(false)
            // ureq keeps 3 idle connections per host; a client shared by more threads than
            // that would close and reopen connections on every call.
            .max_idle_connections_per_host(options.idle_connections)
            .max_idle_connections(options.idle_connections.saturating_mul(2))
            // Chosen by the builder for this agent's host (never the environment's as ureq
            // reads it: see `proxy`).
            .proxy(options.proxy)
            .tls_config(options.tls)
            .build();
        Transport {
            agent: ureq::Agent::with_parts(
                config,
                MarkingConnector::default(),
                CachingResolver::default(),
            ),
            timeout: options.timeout.min(MAX_UREQ_TIMEOUT),
            max_body_bytes: options.max_body_bytes,
        }
    }

    /// One HTTP exchange, bounded by `deadline`, the body read up to the limit. The outer
    /// `Err` is a request that cannot be built, which no retry would mend.
    pub(crate) fn exchange(
        &self,
        out: &Outgoing<'_>,
        deadline: Option<Instant>,
    ) -> Result<Result<Answer, Unusable>, Error> {
        let remaining = deadline.map_or(self.timeout, |d| {
            d.saturating_duration_since(Instant::now())
        });
        if remaining.is_zero() {
            let message = format!("the call's timeout of {:?} ran out", self.timeout);
            let error =
                transport_error(out.label, TransportErrorKind::Timeout, true, message, None);
            return Ok(Err((error, Setback::new(Progress::NotSent))));
        }
        let mut builder = http::Request::builder()
            .method(out.method.as_str())
            .uri(out.url);
        if let Some(token) = out.token {
            // Wiped once the request has copied it.
            let value = zeroize::Zeroizing::new(format!("Bearer {}", token.expose()));
            builder = builder.header("Authorization", value.as_str());
        }
        // A request without a body is sent without one: an empty body would add a
        // `content-length: 0` header and ureq's separate body write to every GET.
        let sent = match out.body {
            Some(bytes) => {
                let request = builder
                    .header("Content-Type", "application/json")
                    .body(bytes);
                self.run(out.label, request, remaining)?
            }
            None => self.run(out.label, builder.body(()), remaining)?,
        };
        Ok(sent
            .and_then(|response| self.read(response))
            .map_err(|e| classify(out.label, e)))
    }

    /// Runs one built request with the call's remaining time.
    fn run<S: ureq::AsSendBody>(
        &self,
        label: &str,
        request: Result<http::Request<S>, http::Error>,
        remaining: Duration,
    ) -> Result<Result<http::Response<ureq::Body>, ureq::Error>, Error> {
        let request = request
            .map_err(|e| Error::config(format!("{label}: the request could not be built ({e})")))?;
        // The agent's own global timeout is the whole call's; only a later attempt, with less
        // time left, needs a request-level copy of the configuration to carry a shorter one.
        if remaining.saturating_add(SAME_DEADLINE_SLACK) >= self.timeout {
            return Ok(self.agent.run(request));
        }
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(remaining))
            .build();
        Ok(self.agent.run(request))
    }

    /// The status, the headers that matter and the body, within the limit.
    fn read(&self, mut response: http::Response<ureq::Body>) -> Result<Answer, ureq::Error> {
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
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body_bytes)
            .read_to_vec()?;
        Ok(Answer {
            status,
            request_id,
            retry_after,
            body,
        })
    }
}

fn transport_error(
    label: &str,
    kind: TransportErrorKind,
    before_sending: bool,
    message: String,
    source: Option<ureq::Error>,
) -> Error {
    Error::Transport(Box::new(TransportError {
        kind,
        before_sending,
        request: label.to_owned(),
        message,
        source: source.map(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
    }))
}

/// Sorts a ureq error into what it means for the caller and for retrying. The message is
/// ours alone; ureq's error is the `source()`.
fn classify(label: &str, e: ureq::Error) -> Unusable {
    let e = match e {
        ureq::Error::BodyExceedsLimit(limit) => {
            // Asking again would read the same oversized body.
            let error = Error::BodyTooLarge { limit };
            return (error, Setback::new(Progress::AnswerWouldRepeat));
        }
        ureq::Error::Other(inner) if inner.is::<BeforeRequest>() => {
            match inner.downcast::<BeforeRequest>() {
                Ok(marked) => return unsent(label, marked.0),
                Err(inner) => ureq::Error::Other(inner),
            }
        }
        e @ (ureq::Error::HostNotFound
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect)) => {
            return unsent(label, e);
        }
        e => e,
    };
    let (kind, message) = match &e {
        ureq::Error::Timeout(which) => (
            TransportErrorKind::Timeout,
            format!("timed out ({which}) after the request was sent"),
        ),
        _ => (
            TransportErrorKind::Io,
            "the connection failed after the request was sent: it may have arrived".to_owned(),
        ),
    };
    (
        transport_error(label, kind, false, message, Some(e)),
        Setback::new(Progress::MaybeSent),
    )
}

/// A failure before the request was sent: retried unless it cannot heal.
fn unsent(label: &str, e: ureq::Error) -> Unusable {
    let found = describe(&e);
    let progress = if found.may_heal {
        Progress::NotSent
    } else {
        Progress::CannotSend
    };
    (
        transport_error(label, found.kind, true, found.message, Some(e)),
        Setback::new(progress),
    )
}
