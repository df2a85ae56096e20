//! Today's KYC calls of [`Client`]: the bank and its features, customers, attested identity
//! verifications, and waiting for a verification's final state.
//!
//! The scopes they need (`banks:read`, `customers:read`, `customers:execute`,
//! `identity_verifications:read`, `identity_verifications:execute`) are in [`KYC_SCOPES`];
//! a token without one is refused with a 403 whose message names it.

use super::Client;
use crate::api::kyc;
use crate::error::Error;
use crate::models::{
    Bank, Customer, CustomerList, CustomerListParams, IdentityVerification,
    IdentityVerificationList, ListParams, VerificationListParams,
};
use crate::pages::Pages;
use crate::person::Person;
use crate::wait::{WaitOptions, poll_until_final};

/// The OAuth scopes today's KYC calls need; ask for them with
/// [`crate::ClientBuilder::scopes`] (with [`crate::DEFAULT_SCOPES`] for identity records too).
pub const KYC_SCOPES: [&str; 5] = [
    "banks:read",
    "customers:read",
    "customers:execute",
    "identity_verifications:read",
    "identity_verifications:execute",
];

impl Client {
    /// The bank (`GET /api/banks/{bank_guid}`): its features say which KYC path it attests
    /// with ([`Bank::kyc_paths`]).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a guid that is not one; [`Error::Api`] as Cybrid answers.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// use cybrid_identity::KycPath;
    /// let emu = cybrid_identity::emulator::Emulator::start()?;
    /// let bank = emu.client()?.get_bank(emu.bank_guid())?;
    /// assert!(bank.allows(KycPath::AttestedIdentityVerifications));
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn get_bank(&self, bank_guid: &str) -> Result<Bank, Error> {
        self.inner.execute(&kyc::get_bank(bank_guid)?)
    }

    /// The banks the token sees (`GET /api/banks`, first page): with a bank's own
    /// credentials, its bank. For a program that does not know its bank's guid.
    ///
    /// # Errors
    /// Any error of the call.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// let emu = cybrid_identity::emulator::Emulator::start()?;
    /// let banks = emu.client()?.list_banks()?;
    /// assert_eq!(banks[0].guid.as_deref(), Some(emu.bank_guid()));
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn list_banks(&self) -> Result<Vec<Bank>, Error> {
        #[derive(serde::Deserialize)]
        struct BankList {
            objects: Vec<Bank>,
        }
        let list: BankList = self.inner.execute(&kyc::list_banks())?;
        Ok(list.objects)
    }

    /// Creates an individual customer for `person`, with the bank's `labels` (at most 8, 1 to
    /// 64 characters: its own ids, to find the customer again). Never retried once the
    /// request may have arrived: an [`Error::OutcomeUnknown`] says to list by label first.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad label; any error of the call. The person's values
    /// never appear in one, even when the server quotes them.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// use cybrid_identity::{CustomerListParams, Person};
    /// let emu = cybrid_identity::emulator::Emulator::start()?;
    /// let client = emu.client()?;
    /// let person = Person::from_json(br#"{"name": {"first": "Ada", "last": "Lovelace"},
    ///   "address": {"street": "12 St James's Square", "city": "London", "country_code": "GB"},
    ///   "date_of_birth": "1985-12-10",
    ///   "identification_numbers": [{"type": "passport", "issuing_country_code": "GB", "identification_number": "P1815"}]}"#)?;
    /// let customer = client.create_customer(&person, &["bank-id-42".to_owned()])?;
    /// let found = client.list_customers(&CustomerListParams::new().label("bank-id-42"))?;
    /// assert_eq!(found.objects[0].guid, customer.guid);
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn create_customer(&self, person: &Person, labels: &[String]) -> Result<Customer, Error> {
        self.inner.execute(&kyc::create_customer(person, labels)?)
    }

    /// Reads one customer (its personal data is not kept: see [`Customer`]).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a guid that is not one; [`Error::Api`] with 404 for none.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// use cybrid_identity::{CustomerState, Person};
    /// let emu = cybrid_identity::emulator::Emulator::start()?;
    /// let client = emu.client()?;
    /// let person = Person::from_json(br#"{"name": {"first": "Ada", "last": "Lovelace"},
    ///   "address": {"street": "12 St James's Square", "city": "London", "country_code": "GB"},
    ///   "date_of_birth": "1985-12-10",
    ///   "identification_numbers": [{"type": "passport", "issuing_country_code": "GB", "identification_number": "P1985"}]}"#)?;
    /// let made = client.create_customer(&person, &[])?;
    /// let customer = client.get_customer(made.guid.as_deref().unwrap_or_default())?;
    /// assert_eq!(customer.state, Some(CustomerState::Unverified));
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn get_customer(&self, guid: &str) -> Result<Customer, Error> {
        self.inner.execute(&kyc::get_customer(guid)?)
    }

    /// One page of customers, by guid, label or type.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad filter; any error of the call.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// use cybrid_identity::CustomerListParams;
    /// let emu = cybrid_identity::emulator::Emulator::start()?;
    /// let page = emu.client()?.list_customers(&CustomerListParams::new().label("none-yet").per_page(100))?;
    /// assert_eq!(page.total, 0);
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn list_customers(&self, params: &CustomerListParams) -> Result<CustomerList, Error> {
        self.inner.execute(&kyc::list_customers(params)?)
    }

    /// Every customer `params` selects, page by page (from its `page`, `per_page` a page,
    /// 100 by default), as [`Client::identity_records`] walks records.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// use cybrid_identity::CustomerListParams;
    /// let emu = cybrid_identity::emulator::Emulator::start()?;
    /// let all: Vec<_> = emu.client()?.customers(&CustomerListParams::new()).collect::<Result<_, _>>()?;
    /// assert!(all.is_empty());
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn customers(&self, params: &CustomerListParams) -> Pages<Customer> {
        let (client, filters) = (self.clone(), params.clone());
        Pages::new(
            "customers",
            &paging(params.page, params.per_page),
            move |page: &ListParams| {
                let list = client.list_customers(&CustomerListParams {
                    page: page.page,
                    per_page: page.per_page,
                    ..filters.clone()
                })?;
                Ok((list.objects, list.total))
            },
            |c| c.guid.clone(),
        )
    }

    /// Every identity verification `params` selects, page by page, as
    /// [`Client::customers`] walks customers.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// use cybrid_identity::VerificationListParams;
    /// let emu = cybrid_identity::emulator::Emulator::start()?;
    /// let all = emu.client()?.identity_verifications(&VerificationListParams::new().state("completed"));
    /// assert_eq!(all.count(), 0);
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn identity_verifications(
        &self,
        params: &VerificationListParams,
    ) -> Pages<IdentityVerification> {
        let (client, filters) = (self.clone(), params.clone());
        Pages::new(
            "identity verifications",
            &paging(params.page, params.per_page),
            move |page: &ListParams| {
                let list = client.list_identity_verifications(&VerificationListParams {
                    page: page.page,
                    per_page: page.per_page,
                    ..filters.clone()
                })?;
                Ok((list.objects, list.total))
            },
            |v| v.guid.clone(),
        )
    }

    /// Creates an attested KYC identity verification of `customer_guid` with `person`'s data
    /// (`type: kyc`, `method: attested`). Never retried once the request may have arrived.
    ///
    /// # Errors
    /// As [`Client::create_customer`].
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// use cybrid_identity::{Person, WaitOptions};
    /// let emu = cybrid_identity::emulator::Emulator::builder().transition(std::time::Duration::from_millis(10)).start()?;
    /// let client = emu.client()?;
    /// let person = Person::from_json(br#"{"name": {"first": "Ada", "last": "Lovelace"},
    ///   "address": {"street": "12 St James's Square", "city": "London", "country_code": "GB"},
    ///   "date_of_birth": "1985-12-10",
    ///   "identification_numbers": [{"type": "passport", "issuing_country_code": "GB", "identification_number": "P1815"}]}"#)?;
    /// let customer = client.create_customer(&person, &[])?.guid.unwrap_or_default();
    /// let made = client.create_identity_verification(&customer, &person)?;
    /// let done = client.wait_for_identity_verification(made.guid.as_deref().unwrap_or_default(), &WaitOptions::default())?;
    /// assert!(done.passed());
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn create_identity_verification(
        &self,
        customer_guid: &str,
        person: &Person,
    ) -> Result<IdentityVerification, Error> {
        self.inner
            .execute(&kyc::create_identity_verification(customer_guid, person)?)
    }

    /// Reads one identity verification.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a guid that is not one; [`Error::Api`] with 404 for none.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// let emu = cybrid_identity::emulator::Emulator::start()?;
    /// let err = emu.client()?.get_identity_verification("0123456789abcdef0123456789abcdef").unwrap_err();
    /// assert_eq!(err.status(), Some(404));
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn get_identity_verification(&self, guid: &str) -> Result<IdentityVerification, Error> {
        self.inner.execute(&kyc::get_identity_verification(guid)?)
    }

    /// One page of identity verifications, by customer (many at once), state or type.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad filter; any error of the call.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// use cybrid_identity::VerificationListParams;
    /// let emu = cybrid_identity::emulator::Emulator::start()?;
    /// let params = VerificationListParams::new().customer_guid("c0ffee00c0ffee00c0ffee00c0ffee00").state("completed");
    /// assert!(emu.client()?.list_identity_verifications(&params)?.objects.is_empty());
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn list_identity_verifications(
        &self,
        params: &VerificationListParams,
    ) -> Result<IdentityVerificationList, Error> {
        self.inner
            .execute(&kyc::list_identity_verifications(params)?)
    }

    /// Polls an identity verification until it is `completed` or `expired`, pausing as
    /// `options` says (its `on_change` is for identity records and is not called here).
    ///
    /// # Errors
    /// [`Error::VerificationWaitTimedOut`] with the last verification seen at the deadline;
    /// any error of [`Client::get_identity_verification`].
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// use cybrid_identity::{Error, IdentityVerificationState, Person, WaitOptions};
    /// use std::time::Duration;
    /// // Verifications that take a minute, a wait of 50 ms: the last state seen comes back.
    /// let emu = cybrid_identity::emulator::Emulator::builder().transition(Duration::from_secs(60)).start()?;
    /// let client = emu.client()?;
    /// let person = Person::from_json(br#"{"name": {"first": "Ada", "last": "Lovelace"},
    ///   "address": {"street": "12 St James's Square", "city": "London", "country_code": "GB"},
    ///   "date_of_birth": "1985-12-10",
    ///   "identification_numbers": [{"type": "passport", "issuing_country_code": "GB", "identification_number": "P1985"}]}"#)?;
    /// let customer = client.create_customer(&person, &[])?.guid.unwrap_or_default();
    /// let made = client.create_identity_verification(&customer, &person)?;
    /// let options = WaitOptions::default().timeout(Duration::from_millis(50));
    /// match client.wait_for_identity_verification(made.guid.as_deref().unwrap_or_default(), &options) {
    ///     Err(Error::VerificationWaitTimedOut { last, .. }) => assert_eq!(last.state, Some(IdentityVerificationState::Storing)),
    ///     other => panic!("{other:?}"),
    /// }
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn wait_for_identity_verification(
        &self,
        guid: &str,
        options: &WaitOptions,
    ) -> Result<IdentityVerification, Error> {
        let sleep = &|wait| self.inner.settings.sleep.pause(wait);
        poll_until_final(
            options,
            sleep,
            || self.get_identity_verification(guid),
            |v| v.state.clone(),
            IdentityVerification::is_final,
            |_| {},
            |last| Error::VerificationWaitTimedOut {
                last: Box::new(last),
            },
        )
    }
}

/// The page and page size of a listing, in the form the pager walks.
fn paging(page: Option<u32>, per_page: Option<u32>) -> ListParams {
    let params = ListParams::new();
    let params = match page {
        Some(page) => params.page(page),
        None => params,
    };
    match per_page {
        Some(per_page) => params.per_page(per_page),
        None => params,
    }
}
