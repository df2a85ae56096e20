//! The HTTP under the AWS calls: one `ureq` agent with every timeout set, bodies read
//! through a limit, and the calls that are safe to repeat (a `Sign`, a `GetPublicKey`)
//! repeated after throttling, a 5xx or a connection that failed, with backoff and jitter.

use std::time::Duration;

use ureq::Agent;

use crate::error::{Error, KeyErrorKind};

/// An answer: status, the request id AWS gives it, the body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) request_id: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// The largest AWS answer read (a `GetPublicKey` is about 1 KiB).
const MAX_BODY: u64 = 1 << 20;
/// Attempts of one call.
pub(crate) const ATTEMPTS: u32 = 4;

/// The agent all AWS calls share.
#[derive(Clone)]
pub(crate) struct Http {
    agent: Agent,
}

impl Http {
    pub(crate) fn new() -> Self {
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(15)))
            .user_agent(concat!("cybrid-identity/", env!("CARGO_PKG_VERSION")))
            .build();
        Http {
            agent: config.new_agent(),
        }
    }

    /// The agent for the machine's own endpoints (instance metadata, the container
    /// agent): a 1 s connect timeout, so that a laptop without them does not hang.
    pub(crate) fn metadata() -> Self {
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(1)))
            .timeout_global(Some(Duration::from_secs(5)))
            .user_agent(concat!("cybrid-identity/", env!("CARGO_PKG_VERSION")))
            .build();
        Http {
            agent: config.new_agent(),
        }
    }

    /// A `GET` or `PUT` (no body) with `headers`.
    pub(crate) fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, Error> {
        if method == "POST" {
            return self.post(url, headers, body);
        }
        let sent = if method == "PUT" {
            let mut request = self.agent.put(url);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            request.send(body)
        } else {
            let mut request = self.agent.get(url);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            request.call()
        };
        let response =
            sent.map_err(|e| Error::Signing(format!("{url} could not be reached: {e}")))?;
        read(response)
    }

    /// One POST: `headers` as given (lowercase names), `x-amz-date` … set by the caller.
    pub(crate) fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, Error> {
        let mut request = self.agent.post(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send(body)
            .map_err(|e| Error::Signing(format!("AWS could not be reached at {url}: {e}")))?;
        read(response)
    }
}

/// An answer's status, request id and body (read through the limit).
fn read(mut response: ureq::http::Response<ureq::Body>) -> Result<Answer, Error> {
    let status = response.status().as_u16();
    let request_id = response
        .headers()
        .get("x-amzn-requestid")
        .or_else(|| response.headers().get("x-amz-request-id"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| Error::Signing(format!("AWS's answer could not be read: {e}")))?;
    Ok(Answer {
        status,
        request_id,
        body,
    })
}

/// Whether an answer is worth another try: throttled, or the service's own failure.
pub(crate) fn is_transient(answer: &Answer, code: Option<&str>) -> bool {
    answer.status >= 500
        || answer.status == 429
        || matches!(
            code,
            Some(
                "ThrottlingException"
                    | "Throttling"
                    | "RequestLimitExceeded"
                    | "KMSInternalException"
            )
        )
}

/// The pause before attempt `attempt` (from 1): 100 ms doubling, capped at 2 s, with full
/// jitter so that many threads throttled together do not come back together.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let cap = Duration::from_millis(100)
        .saturating_mul(1 << attempt.min(5))
        .min(Duration::from_secs(2));
    cap.mul_f64(crate::rand::fraction().unwrap_or(0.5))
}

/// AWS's refusal, in AWS's words: its error code, message and request id.
pub(crate) fn aws_error(
    call: &str,
    answer: &Answer,
    code: Option<String>,
    message: Option<String>,
) -> Error {
    let code = code.unwrap_or_else(|| format!("HTTP {}", answer.status));
    let message = message.map(|m| format!(": {m}")).unwrap_or_default();
    let id = answer
        .request_id
        .as_deref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default();
    let text = format!("{call} refused: {code}{message}{id}");
    // What a retry would only repeat: no such key, or credentials or a policy that refuse
    // this caller. The rest (throttling, a service error, an expired session) may pass later.
    match code.as_str() {
        "NotFoundException" => Error::key(KeyErrorKind::NotFound, text),
        "AccessDeniedException"
        | "AccessDenied"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "InvalidClientTokenId"
        | "DisabledException"
        | "KMSInvalidStateException"
        | "InvalidKeyUsageException" => Error::key(KeyErrorKind::Refused, text),
        _ => Error::Signing(text),
    }
}
