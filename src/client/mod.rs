//! The blocking [`Client`]: the crate's only network I/O. [`builder`] checks the settings,
//! [`call`] runs the attempt loop, [`transport`] speaks HTTP through ureq.

mod builder;
mod call;
mod resolver;
mod transport;
mod url;

use std::sync::Arc;
use std::time::Instant;

pub use builder::{
    ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT, Environment,
};

use crate::api::{self, ApiRequest, read_answer, read_token_answer};
use crate::auth::{CachedToken, Credentials, Secret, TokenCache};
use crate::error::Error;
use crate::models::{
    IdentityRecord, IdentityRecordList, ListParams, PostIdentityRecord, PostVerificationKey,
    VerificationKey, VerificationKeyList,
};
use crate::pages::{IdentityRecords, Pages};
use crate::retry::Method;
use crate::wait::{WaitOptions, poll_until_final};
use builder::Settings;
use call::{Step, deadline_after, with_retries};
use transport::Outgoing;

impl ClientBuilder {
    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for missing credentials, a malformed URL, or `http://` to a host
    /// that is not loopback.
    pub fn build(self) -> Result<Client, Error> {
        Ok(Client {
            inner: Arc::new(Inner {
                settings: self.settings()?,
                tokens: TokenCache::default(),
            }),
        })
    }
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
    settings: Settings,
    tokens: TokenCache,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The settings print with the secrets redacted.
        f.debug_struct("Client")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
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
        self.bearer(deadline_after(self.inner.settings.timeout))
            .map(|_| ())
    }

    /// The Bank API base URL in use.
    pub fn base_url(&self) -> &str {
        &self.inner.settings.base_url
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
    pub fn identity_records(&self, params: &ListParams) -> IdentityRecords {
        let client = self.clone();
        Pages::new(
            "records",
            params,
            move |page: &ListParams| {
                let list = client.list_identity_records(page)?;
                Ok((list.objects, list.total))
            },
            |record: &IdentityRecord| record.guid.clone(),
        )
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
        let sleep = &|wait| self.inner.settings.sleep.pause(wait);
        poll_until_final(
            options,
            sleep,
            || self.get_identity_record(guid),
            |record| record.state().cloned(),
            IdentityRecord::is_final,
            |record| options.notify(record),
            |last| Error::WaitTimedOut {
                last: Box::new(last),
            },
        )
    }

    /// [`Client::wait_for_identity_record`] for a record a call returned, so that its guid
    /// need not be unwrapped.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a record without a guid; as
    /// [`Client::wait_for_identity_record`] otherwise.
    pub fn wait_for(
        &self,
        record: &IdentityRecord,
        options: &WaitOptions,
    ) -> Result<IdentityRecord, Error> {
        let guid = record
            .guid
            .as_deref()
            .ok_or_else(|| Error::invalid("identity_record_guid", "the record carries no guid"))?;
        self.wait_for_identity_record(guid, options)
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
        let settings = &self.inner.settings;
        let deadline = deadline_after(settings.timeout);
        let url = request.url(&settings.base_url);
        let label = request.label();
        let mut token_renewed = false;
        with_retries(
            &settings.retry,
            &settings.sleep,
            request.method,
            deadline,
            || {
                let token = match self.bearer(deadline) {
                    Ok(token) => token,
                    Err(error) => return Step::Stop(error),
                };
                let out = Outgoing {
                    method: request.method,
                    url: &url,
                    label: &label,
                    token: Some(&token),
                    body: request.body.as_deref(),
                };
                let answer = match settings.transport.exchange(&out, deadline) {
                    Err(error) => return Step::Stop(error),
                    Ok(Err(unusable)) => return Step::Failed(unusable),
                    Ok(Ok(answer)) => answer,
                };
                if answer.status == 401 && !token_renewed && self.renews_tokens() {
                    // The token may have been revoked or expired early: one retry with a new one.
                    self.inner.tokens.invalidate(&token);
                    token_renewed = true;
                    return Step::Again;
                }
                match read_answer(request.what, answer) {
                    Ok(value) => Step::Done(value),
                    Err(unusable) => Step::Failed(unusable),
                }
            },
        )
        .map_err(|(error, progress)| match &request.outcome_hint {
            // A create that may have taken effect must not be sent again blindly.
            Some(hint) if progress.may_have_arrived() => Error::OutcomeUnknown {
                hint: hint.clone(),
                source: Box::new(error),
            },
            _ => error,
        })
    }

    fn renews_tokens(&self) -> bool {
        matches!(
            self.inner.settings.credentials,
            Credentials::ClientCredentials { .. }
        )
    }

    /// The bearer token for the next request: fixed, or cached, or fetched (one thread at a time).
    fn bearer(&self, deadline: Option<Instant>) -> Result<Secret, Error> {
        match &self.inner.settings.credentials {
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

    /// `POST` the client credentials to the token endpoint. Asking for a token twice
    /// creates nothing that matters, so it is retried as a read.
    fn fetch_token(
        &self,
        client_id: &str,
        secret: &Secret,
        deadline: Option<Instant>,
    ) -> Result<CachedToken, Error> {
        let settings = &self.inner.settings;
        let body = api::token_request_body(client_id, secret, &settings.scopes);
        let label = format!("POST {}", settings.token_url);
        let out = Outgoing {
            method: Method::Post,
            url: &settings.token_url,
            label: &label,
            token: None,
            body: Some(&body),
        };
        with_retries(
            &settings.retry,
            &settings.sleep,
            Method::Get,
            deadline,
            || match settings.transport.exchange(&out, deadline) {
                Err(error) => Step::Stop(error),
                Ok(Err(unusable)) => Step::Failed(unusable),
                Ok(Ok(answer)) => match read_token_answer(&answer, secret, Instant::now()) {
                    Ok(token) => Step::Done(token),
                    Err(unusable) => Step::Failed(unusable),
                },
            },
        )
        .map_err(|(error, _)| error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_send_sync_clone() {
        fn assert<T: Send + Sync + Clone>() {}
        assert::<Client>();
    }
}
