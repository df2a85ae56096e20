//! What a listing of customers or identity verifications asks for: filters and a page.

/// Filters and a page for [`crate::Client::list_customers`]: by `guid`, `label` (the bank's
/// own ids, many at once), `type`.
///
/// ```
/// let params = cybrid_identity::CustomerListParams::new().label("bank-id-1").label("bank-id-2").per_page(100);
/// # let _ = params;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CustomerListParams {
    /// Customer guids (sent comma separated).
    pub guids: Vec<String>,
    /// Labels (sent comma separated).
    pub labels: Vec<String>,
    /// `individual` or `business`.
    pub customer_type: Option<String>,
    /// The page, from 0.
    pub page: Option<u32>,
    /// Objects a page, 1 to 100.
    pub per_page: Option<u32>,
}

impl CustomerListParams {
    /// No filter, the server's default page.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a customer guid.
    pub fn guid(mut self, guid: impl Into<String>) -> Self {
        self.guids.push(guid.into());
        self
    }
    /// Adds a label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.labels.push(label.into());
        self
    }
    /// Only customers of this type.
    pub fn customer_type(mut self, customer_type: impl Into<String>) -> Self {
        self.customer_type = Some(customer_type.into());
        self
    }
    /// The page, from 0.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }
    /// Objects a page, 1 to 100.
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }
}

/// Filters and a page for [`crate::Client::list_identity_verifications`]: by
/// `customer_guid` (many at once), `state`, `type`.
///
/// ```
/// let params = cybrid_identity::VerificationListParams::new().customer_guid("c0ffee00c0ffee00c0ffee00c0ffee00").state("completed");
/// # let _ = params;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerificationListParams {
    /// Customer guids (sent comma separated).
    pub customer_guids: Vec<String>,
    /// A state (`completed`, …).
    pub state: Option<String>,
    /// A type (`kyc`, …).
    pub verification_type: Option<String>,
    /// The page, from 0.
    pub page: Option<u32>,
    /// Objects a page, 1 to 100.
    pub per_page: Option<u32>,
}

impl VerificationListParams {
    /// No filter, the server's default page.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a customer guid.
    pub fn customer_guid(mut self, guid: impl Into<String>) -> Self {
        self.customer_guids.push(guid.into());
        self
    }
    /// Only verifications in this state.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }
    /// Only verifications of this type.
    pub fn verification_type(mut self, verification_type: impl Into<String>) -> Self {
        self.verification_type = Some(verification_type.into());
        self
    }
    /// The page, from 0.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }
    /// Objects a page, 1 to 100.
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }
}
