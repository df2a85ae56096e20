//! [`Client::ensure_attested`]: a book of one customer. Cybrid's create takes no
//! idempotency key, so whether a create whose answer was lost took effect is found by
//! listing the customer's records until the settle period is over, never by comparing clocks.

use super::options::AttestOptions;
use super::report::Attested;
use super::setup::Book;
use crate::client::Client;
use crate::error::Error;
use crate::guid;
use crate::signer::AttestationSigner;

impl Client {
    /// Makes sure `customer_guid` has an attestation in force, creating one only when needed.
    ///
    /// The rules of [`Book`] for one customer: a `verified` record not expired is adopted;
    /// one `storing`, `pending` or in a state this crate does not know is waited for and
    /// adopted; only when every record is `failed` or `expired` (or there is none) is a token
    /// signed with `signer` and a record created. A create whose answer was lost leaves the
    /// customer in doubt for `options.settle`: the first new record is adopted, and the create
    /// is sent again only when a listing after that period still shows none, at most as many
    /// times as the client's retries allow.
    ///
    /// Limit: this call keeps no journal, so two processes attesting the same customer at the
    /// same instant can each create a record; run one customer in one place at a time, or use
    /// a [`Book`] with a [`Journal`](crate::Journal), which holds each customer against other
    /// runs sharing that journal.
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// use cybrid_identity::emulator::{Emulator, new_guid};
    /// use cybrid_identity::{AttestOptions, AttestationSigner, AttestationState, SigningKey};
    /// use std::time::Duration;
    ///
    /// let emu = Emulator::builder().transition(Duration::from_millis(20)).start()?;
    /// let client = emu.client()?;
    /// let signer = AttestationSigner::new(SigningKey::sandbox(), emu.bank_guid(), emu.verification_key_guid())?;
    /// let customer = new_guid();
    /// let first = client.ensure_attested(&customer, &signer, &AttestOptions::default())?;
    /// assert!(first.created);
    /// assert_eq!(first.record.state(), Some(&AttestationState::Verified));
    /// let again = client.ensure_attested(&customer, &signer, &AttestOptions::default())?;
    /// assert!(!again.created, "the record in force is adopted");
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a customer guid that is not one; any error of the list
    /// and create calls; [`Error::RecordWaitTimedOut`] when the record is not final by the wait's
    /// deadline; the last [`Error::OutcomeUnknown`] if every create's outcome stayed
    /// unknown and no record appeared.
    pub fn ensure_attested(
        &self,
        customer_guid: &str,
        signer: &AttestationSigner,
        options: &AttestOptions,
    ) -> Result<Attested, Error> {
        guid::check("customer_guid", customer_guid)?;
        let options = options.clone().concurrency(1);
        let mut result = None;
        Book::new(self, signer, options).run([customer_guid], |outcome, _| {
            result = Some(outcome.result);
        })?;
        result.unwrap_or_else(|| {
            Err(Error::config(
                "the book ended without this customer's outcome",
            ))
        })
    }
}
