//! One client's session with Cybrid: its settings, its token cache, and each call taken
//! through the attempt loop (token first, then the request, then the answer read), logged
//! under the `cybrid_identity` target without a token, secret or JWT.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use super::builder::Settings;
use super::call::{Step, deadline_after, with_retries};
use super::transport::Outgoing;
use crate::api::{self, ApiRequest, read_answer, read_token_answer};
use crate::auth::{CachedToken, Credentials, Secret, TokenCache};
use crate::error::Error;
use crate::retry::Method;
use crate::sync::lock;

/// The log target of every record this crate writes.
pub(crate) const LOG_TARGET: &str = "cybrid_identity";

/// What a client shares between its clones.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) settings: Settings,
    tokens: TokenCache,
    /// Until when every request waits, after a 429 with `Retry-After`: the server's limit is
    /// the client's, not one thread's.
    hold_until: Mutex<Option<Instant>>,
    /// 429 answers met so far.
    throttled: AtomicU64,
}

impl Session {
    pub(crate) fn new(settings: Settings) -> Self {
        Session {
            settings,
            tokens: TokenCache::default(),
            hold_until: Mutex::new(None),
            throttled: AtomicU64::new(0),
        }
    }

    pub(crate) fn throttled_answers(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }

    /// Waits out a hold set by a 429, within the call's deadline.
    fn wait_out_hold(&self, deadline: Option<Instant>) {
        let Some(until) = *lock(&self.hold_until) else {
            return;
        };
        let now = Instant::now();
        let pause = until.saturating_duration_since(now);
        let pause = deadline.map_or(pause, |d| pause.min(d.saturating_duration_since(now)));
        if !pause.is_zero() {
            self.settings.sleep.pause(pause);
        }
    }

    /// A 429: counted, and its `Retry-After` held by every thread of this client.
    fn throttled_by(&self, retry_after: Option<&str>) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        let hold = retry_after.and_then(|v| self.settings.retry.hold_after(v, SystemTime::now()));
        let Some(until) = hold.and_then(|h| Instant::now().checked_add(h)) else {
            return;
        };
        let mut held = lock(&self.hold_until);
        if held.is_none_or(|h| h < until) {
            *held = Some(until);
        }
    }

    /// A token now, or the error of getting one.
    pub(crate) fn authenticate(&self) -> Result<(), Error> {
        self.bearer(deadline_after(self.settings.timeout))
            .map(|_| ())
    }

    /// Sends `request` with retries, within the client's timeout, and decodes the answer.
    pub(crate) fn execute<T: serde::de::DeserializeOwned>(
        &self,
        request: &ApiRequest,
    ) -> Result<T, Error> {
        let settings = &self.settings;
        let deadline = deadline_after(settings.timeout);
        let url = request.url(&settings.base_url);
        let label = request.label();
        let mut token_renewed = false;
        let mut attempt = 0u32;
        let attempt_once = || {
            attempt = attempt.saturating_add(1);
            let token = match self.bearer(deadline) {
                Ok(token) => token,
                Err(error) => return Step::Stop(error),
            };
            let out = Outgoing {
                method: request.method,
                url: &url,
                label: &label,
                token: Some(&token),
                body: request.body.as_ref().map(|b| b.as_slice()),
            };
            self.wait_out_hold(deadline);
            let started = Instant::now();
            let answer = match settings.routes.api.exchange(&out, deadline) {
                Err(error) => return Step::Stop(error),
                Ok(Err(unusable)) => return Step::Failed(unusable),
                Ok(Ok(answer)) => answer,
            };
            log::debug!(
                target: LOG_TARGET,
                "{label}: {} in {:?} (attempt {attempt}, x-request-id {})",
                answer.status,
                started.elapsed(),
                answer.request_id.as_deref().unwrap_or("none")
            );
            if answer.status == 429 {
                self.throttled_by(answer.retry_after.as_deref());
            }
            if answer.status == 401 && !token_renewed && self.renews_tokens() {
                // The token may have been revoked or expired early: one retry with a new one.
                log::info!(target: LOG_TARGET, "{label}: 401, renewing the access token and sending again");
                self.tokens.invalidate(&token);
                token_renewed = true;
                return Step::Again;
            }
            // The token, the client secret, and what the request carried of a person.
            let mut secrets: Vec<&str> = self.secrets(&token).to_vec();
            secrets.extend(request.withhold.iter().map(|s| s.as_str()));
            match read_answer(request.what, answer, &secrets) {
                Ok(value) => Step::Done(value),
                Err((error, setback)) => Step::Failed((error.redact(&secrets), setback)),
            }
        };
        with_retries(
            &settings.retry,
            &settings.sleep,
            request.method,
            &label,
            deadline,
            attempt_once,
        )
        .map_err(|(error, progress)| match &request.outcome_hint {
            // A create that may have taken effect must not be sent again blindly.
            Some(hint) if progress.may_have_arrived() => {
                log::warn!(target: LOG_TARGET, "{label}: {error}; {hint}");
                Error::OutcomeUnknown {
                    hint: hint.clone(),
                    source: Box::new(error),
                }
            }
            _ => error,
        })
    }

    /// What a server must never see printed back: the token sent, the client secret.
    fn secrets<'s>(&'s self, token: &'s Secret) -> [&'s str; 2] {
        let secret = match &self.settings.credentials {
            Credentials::ClientCredentials { client_secret, .. } => client_secret.expose(),
            Credentials::BearerToken(_) => "",
        };
        [token.expose(), secret]
    }

    fn renews_tokens(&self) -> bool {
        matches!(
            self.settings.credentials,
            Credentials::ClientCredentials { .. }
        )
    }

    /// The bearer token for the next request: fixed, or cached, or fetched (one thread at a time).
    fn bearer(&self, deadline: Option<Instant>) -> Result<Secret, Error> {
        match &self.settings.credentials {
            Credentials::BearerToken(token) => Ok(token.clone()),
            Credentials::ClientCredentials {
                client_id,
                client_secret,
            } => self
                .tokens
                .get(|| self.fetch_token(client_id, client_secret, deadline)),
        }
    }

    /// `POST` the client credentials to the token endpoint. Asking for a token twice
    /// creates nothing that matters, so it is retried as a read.
    fn fetch_token(
        &self,
        client_id: &str,
        secret: &Secret,
        deadline: Option<Instant>,
    ) -> Result<CachedToken, Error> {
        let settings = &self.settings;
        let body = api::token_request_body(client_id, secret, &settings.scopes);
        let label = format!("POST {}", settings.token_url);
        let out = Outgoing {
            method: Method::Post,
            url: &settings.token_url,
            label: &label,
            token: None,
            body: Some(&body),
        };
        log::info!(target: LOG_TARGET, "fetching an access token from {}", settings.token_url);
        let token = with_retries(
            &settings.retry,
            &settings.sleep,
            Method::Get,
            &label,
            deadline,
            || match settings.routes.token.exchange(&out, deadline) {
                Err(error) => Step::Stop(error),
                Ok(Err(unusable)) => Step::Failed(unusable),
                Ok(Ok(answer)) => match read_token_answer(&answer, secret, Instant::now()) {
                    Ok(token) => Step::Done(token),
                    Err(unusable) => Step::Failed(unusable),
                },
            },
        )
        .map_err(|(error, _)| error)?;
        log::info!(target: LOG_TARGET, "access token received ({})", token.lifetime());
        Ok(token)
    }
}
