//! [`Client::ensure_attested`]: attesting made idempotent by reconciliation. Cybrid's create
//! takes no idempotency key, so whether a create whose answer was lost took effect is found
//! by listing the customer's records before and after it, never by comparing clocks.

use super::Client;
use crate::error::Error;
use crate::guid;
use crate::models::{AttestationState, IdentityRecord, ListParams, PostIdentityRecord};
use crate::signer::AttestationSigner;
use crate::wait::WaitOptions;

/// The outcome of [`Client::ensure_attested`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attested {
    /// The customer's record, in a final state (or verified and in force).
    pub record: IdentityRecord,
    /// Whether this call created it (`false`: an existing record was adopted).
    pub created: bool,
}

/// What the customer's records say before anything is created.
enum Found {
    /// A verified record that has not expired.
    InForce(IdentityRecord),
    /// A record still `storing` or `pending`: its outcome is awaited.
    InProgress(IdentityRecord),
    /// Nothing to adopt.
    Nothing,
}

fn assess(records: &[IdentityRecord]) -> Found {
    let in_force = records
        .iter()
        .find(|r| r.state() == Some(&AttestationState::Verified) && r.expired_at.is_none());
    if let Some(record) = in_force {
        return Found::InForce(record.clone());
    }
    let in_progress = records.iter().find(|r| {
        matches!(
            r.state(),
            Some(AttestationState::Storing | AttestationState::Pending)
        )
    });
    in_progress.map_or(Found::Nothing, |r| Found::InProgress(r.clone()))
}

impl Client {
    /// Makes sure `customer_guid` has an attestation in force, creating one only when needed.
    ///
    /// 1. Lists the customer's records. A `verified` record that has not expired is adopted
    ///    (nothing created); one still `storing` or `pending` is waited for and adopted.
    /// 2. Otherwise signs a fresh token with `signer`, creates a record and waits for its
    ///    final state.
    /// 3. If the create's outcome is unknown (its answer was lost), lists again: a record that
    ///    was not there before is adopted; if none appeared, the create did not take effect
    ///    and is sent again, at most as many times as the client's retries allow.
    ///
    /// Limit: two processes attesting the same customer at the same instant can each create
    /// a record; run one customer in one place at a time (the CLI's batch does).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a customer guid that is not one; any error of the list,
    /// create and wait calls; the last [`Error::OutcomeUnknown`] if every create's outcome
    /// stayed unknown and no record appeared.
    pub fn ensure_attested(
        &self,
        customer_guid: &str,
        signer: &AttestationSigner,
        options: &WaitOptions,
    ) -> Result<Attested, Error> {
        guid::check("customer_guid", customer_guid)?;
        let before = self.records_of(customer_guid)?;
        match assess(&before) {
            Found::InForce(record) => {
                return Ok(Attested {
                    record,
                    created: false,
                });
            }
            Found::InProgress(record) => {
                let record = self.wait_for(&record, options)?;
                return Ok(Attested {
                    record,
                    created: false,
                });
            }
            Found::Nothing => {}
        }
        let mut creates_left = self.max_retries().saturating_add(1);
        loop {
            let post =
                PostIdentityRecord::attestation(customer_guid, signer.sign_for(customer_guid)?);
            let unknown = match self.create_identity_record(&post) {
                Ok(created) => {
                    let record = self.wait_for(&created, options)?;
                    return Ok(Attested {
                        record,
                        created: true,
                    });
                }
                Err(e) if e.is_outcome_unknown() => e,
                Err(e) => return Err(e),
            };
            let after = self.records_of(customer_guid)?;
            if let Some(new) = after
                .iter()
                .find(|r| !before.iter().any(|b| b.guid == r.guid))
            {
                log::info!(target: "cybrid_identity", "customer {customer_guid}: the create's answer was lost but it took effect; adopting record {}", new.guid.as_deref().unwrap_or("?"));
                let record = self.wait_for(new, options)?;
                return Ok(Attested {
                    record,
                    created: true,
                });
            }
            creates_left -= 1;
            if creates_left == 0 {
                return Err(unknown);
            }
            log::info!(target: "cybrid_identity", "customer {customer_guid}: the create did not take effect; sending it again");
        }
    }

    /// Every record of one customer.
    fn records_of(&self, customer_guid: &str) -> Result<Vec<IdentityRecord>, Error> {
        self.identity_records(&ListParams::new().customer_guid(customer_guid))
            .collect()
    }
}
