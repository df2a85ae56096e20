//! Customers as Cybrid returns them. The personal data Cybrid returns with `include_pii`
//! (name, address, date of birth, numbers) is not kept: this model holds none of a person's
//! data, so none can reach a `Debug`, a log or a journal through it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::kyc_enums::{CustomerState, CustomerType};

/// A customer (personal data left out; see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Customer {
    /// The customer's guid.
    #[serde(default)]
    pub guid: Option<String>,
    /// Its bank.
    #[serde(default)]
    pub bank_guid: Option<String>,
    /// `individual` or `business`.
    #[serde(default, rename = "type")]
    pub customer_type: Option<CustomerType>,
    /// `storing`, `unverified`, `verified`, `rejected`, `frozen`, or one this crate does not know.
    #[serde(default)]
    pub state: Option<CustomerState>,
    /// The bank's labels (its own ids for the customer).
    #[serde(default)]
    pub labels: Option<Vec<String>>,
    /// When it was created.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
}

/// One page of customers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerList {
    /// How many there are, over all pages.
    pub total: u64,
    /// This page (from 0).
    pub page: u32,
    /// The page size.
    pub per_page: u32,
    /// The customers of this page.
    pub objects: Vec<Customer>,
}
