//! The blocking [`Client`]: the crate's only network I/O. [`builder`] checks the settings,
//! [`call`] runs the attempt loop, [`transport`] speaks HTTP through ureq.

mod builder;
mod call;
mod keys;
mod kyc;
mod network;
mod proxy;
mod resolver;
mod session;
mod stage;
mod transport;
mod url;

use std::sync::Arc;

pub use builder::{
    ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_CONNECTIONS, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, Environment,
};
pub use kyc::KYC_SCOPES;

use crate::api;
use crate::error::Error;
use crate::models::{IdentityRecord, IdentityRecordList, ListParams, PostIdentityRecord};
use crate::pages::{IdentityRecords, Pages};
use crate::wait::{WaitOptions, poll_until_final};
use session::Session;

/// One page of a listing: its objects and the server's total.
type ListPage<T> = fn(&Client, &ListParams) -> Result<(Vec<T>, u64), Error>;

impl ClientBuilder {
    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for missing credentials, a malformed URL, or `http://` to a host
    /// that is not loopback.
    ///
    /// # Examples
    ///
    /// ```
    /// use cybrid_identity::{Client, Environment};
    /// let client = Client::builder()
    ///     .environment(Environment::Sandbox)
    ///     .client_credentials("my-client-id", "my-client-secret")
    ///     .build()?;
    /// assert_eq!(client.base_url(), "https://bank.sandbox.cybrid.app");
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn build(self) -> Result<Client, Error> {
        Ok(Client {
            inner: Arc::new(Session::new(self.settings()?)),
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
    inner: Arc<Session>,
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
    ///
    /// # Examples
    ///
    /// ```
    /// let client = cybrid_identity::Client::builder().bearer_token("a-token").build()?;
    /// # let _ = client;
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
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
    /// | `CYBRID_CA_BUNDLE` | path of a PEM bundle of root certificates to trust instead of the bundled ones |
    ///
    /// Proxies come from `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (see
    /// [`ClientBuilder::proxy`]).
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable that is missing or wrong.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// // CYBRID_CLIENT_ID and CYBRID_CLIENT_SECRET set; CYBRID_ENVIRONMENT=production or not.
    /// let client = cybrid_identity::Client::from_env()?;
    /// # let _ = client;
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_vars(|name| std::env::var(name).ok())?.build()
    }

    /// Fetches an access token now, so that wrong credentials fail here rather than on the
    /// first call. Calls fetch tokens on their own; this is never required.
    ///
    /// # Errors
    /// [`Error::Token`] when the token endpoint refuses; transport errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # let emu = cybrid_identity::emulator::Emulator::builder().transition(std::time::Duration::from_millis(10)).start()?;
    /// # let client = emu.client()?;
    /// client.authenticate()?; // fails here, not at the first call, if the credentials are wrong
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn authenticate(&self) -> Result<(), Error> {
        self.inner.authenticate()
    }

    /// How many times a failed call may be retried.
    pub(crate) fn max_retries(&self) -> u32 {
        self.inner.settings.retry.max_retries
    }

    /// How many 429 answers this client (and its clones) has met: a book paces itself by it.
    pub(crate) fn throttled_answers(&self) -> u64 {
        self.inner.throttled_answers()
    }

    /// The Bank API base URL in use.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = cybrid_identity::Client::builder().bearer_token("t").build()?;
    /// assert_eq!(client.base_url(), "https://bank.sandbox.cybrid.app");
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # let emu = cybrid_identity::emulator::Emulator::builder().transition(std::time::Duration::from_millis(10)).start()?;
    /// # let client = emu.client()?;
    /// # let customer = cybrid_identity::emulator::new_guid();
    /// # let token = cybrid_identity::Attestation::new(emu.bank_guid(), &customer, emu.verification_key_guid()).sign(&cybrid_identity::SigningKey::sandbox())?;
    /// use cybrid_identity::{AttestationState, PostIdentityRecord};
    /// let record = client.create_identity_record(&PostIdentityRecord::attestation(&customer, token))?;
    /// assert_eq!(record.state(), Some(&AttestationState::Storing));
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn create_identity_record(
        &self,
        record: &PostIdentityRecord,
    ) -> Result<IdentityRecord, Error> {
        let request = api::create_identity_record(record)?;
        self.inner.execute(&request)
    }

    /// Reads one identity record.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed guid; [`Error::Api`] with status 404 for an unknown one.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # let emu = cybrid_identity::emulator::Emulator::builder().transition(std::time::Duration::from_millis(10)).start()?;
    /// # let client = emu.client()?;
    /// # let customer = cybrid_identity::emulator::new_guid();
    /// # let token = cybrid_identity::Attestation::new(emu.bank_guid(), &customer, emu.verification_key_guid()).sign(&cybrid_identity::SigningKey::sandbox())?;
    /// # let created = client.create_identity_record(&cybrid_identity::PostIdentityRecord::attestation(&customer, token))?;
    /// let guid = created.guid.as_deref().unwrap_or_default();
    /// let record = client.get_identity_record(guid)?;
    /// assert_eq!(record.customer_guid.as_deref(), Some(customer.as_str()));
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn get_identity_record(&self, guid: &str) -> Result<IdentityRecord, Error> {
        let request = api::get_identity_record(guid)?;
        self.inner.execute(&request)
    }

    /// Reads one page of identity records.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for bad params, checked before sending.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # let emu = cybrid_identity::emulator::Emulator::builder().transition(std::time::Duration::from_millis(10)).start()?;
    /// # let client = emu.client()?;
    /// use cybrid_identity::ListParams;
    /// let customer = "c0ffee00c0ffee00c0ffee00c0ffee00";
    /// let page = client.list_identity_records(ListParams::new().customer_guid(customer).per_page(25))?;
    /// assert_eq!(page.total, 0);
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn list_identity_records(
        &self,
        params: impl Into<ListParams>,
    ) -> Result<IdentityRecordList, Error> {
        let request = api::list_identity_records(&params.into())?;
        self.inner.execute(&request)
    }

    /// Every identity record matching `params`, page by page (100 a page unless `params`
    /// says otherwise). Holds one page at a time, stops after the server's `total`, and
    /// ends with an error rather than loop if the server sends the same page twice.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # let emu = cybrid_identity::emulator::Emulator::builder().transition(std::time::Duration::from_millis(10)).start()?;
    /// # let client = emu.client()?;
    /// use cybrid_identity::ListParams;
    /// for record in client.identity_records(ListParams::new().per_page(100)) {
    ///     let record = record?;
    ///     println!("{:?} {:?}", record.guid, record.state());
    /// }
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn identity_records(&self, params: impl Into<ListParams>) -> IdentityRecords {
        self.walk(
            "records",
            &params.into(),
            |client, page| {
                let list = client.list_identity_records(page)?;
                Ok((list.objects, list.total))
            },
            |record| record.guid.clone(),
        )
    }

    /// A pager over `list`, one page at a time, on a clone of this client.
    fn walk<T: 'static>(
        &self,
        noun: &'static str,
        params: &ListParams,
        list: ListPage<T>,
        guid_of: fn(&T) -> Option<String>,
    ) -> Pages<T> {
        let client = self.clone();
        Pages::new(
            noun,
            params,
            move |page: &ListParams| list(&client, page),
            guid_of,
        )
    }

    /// Polls an identity record until it is `verified`, `failed` or `expired`, pausing
    /// between polls as `options` says and calling its `on_change` on each new state.
    ///
    /// # Errors
    /// [`Error::RecordWaitTimedOut`] carrying the last record seen when the deadline passes;
    /// any error of [`Client::get_identity_record`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # let emu = cybrid_identity::emulator::Emulator::builder().transition(std::time::Duration::from_millis(10)).start()?;
    /// # let client = emu.client()?;
    /// # let customer = cybrid_identity::emulator::new_guid();
    /// # let token = cybrid_identity::Attestation::new(emu.bank_guid(), &customer, emu.verification_key_guid()).sign(&cybrid_identity::SigningKey::sandbox())?;
    /// # let created = client.create_identity_record(&cybrid_identity::PostIdentityRecord::attestation(&customer, token))?;
    /// use cybrid_identity::{AttestationState, WaitOptions};
    /// use std::time::Duration;
    /// let guid = created.guid.as_deref().unwrap_or_default();
    /// let options = WaitOptions::default().timeout(Duration::from_secs(30));
    /// let done = client.wait_for_identity_record(guid, &options)?;
    /// assert_eq!(done.state(), Some(&AttestationState::Verified));
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
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
            |last| Error::RecordWaitTimedOut {
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
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # let emu = cybrid_identity::emulator::Emulator::builder().transition(std::time::Duration::from_millis(10)).start()?;
    /// # let client = emu.client()?;
    /// # let customer = cybrid_identity::emulator::new_guid();
    /// # let token = cybrid_identity::Attestation::new(emu.bank_guid(), &customer, emu.verification_key_guid()).sign(&cybrid_identity::SigningKey::sandbox())?;
    /// use cybrid_identity::{PostIdentityRecord, WaitOptions};
    /// let created = client.create_identity_record(&PostIdentityRecord::attestation(&customer, token))?;
    /// let done = client.wait_for(&created, &WaitOptions::default())?;
    /// assert!(done.is_final());
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
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
