//! Query parameters of the list calls, checked before anything is sent.

/// The largest page Cybrid serves.
pub const MAX_PER_PAGE: u32 = 100;

/// Filter and page of a list call.
///
/// Values are checked when the request is built (`per_page` 1..=100, guids of 32 letters or
/// digits), so a bad value is an [`crate::Error::InvalidInput`] before any request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct ListParams {
    pub(crate) customer_guids: Vec<String>,
    pub(crate) page: Option<u32>,
    pub(crate) per_page: Option<u32>,
}

impl ListParams {
    /// No filter; the server's default page.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only records of this customer; call again to add more customers (identity records only).
    pub fn customer_guid(mut self, guid: impl Into<String>) -> Self {
        self.customer_guids.push(guid.into());
        self
    }

    /// The page number; the first is 0.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Records per page, 1 to 100.
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// The customer filter.
    pub fn customer_guids(&self) -> &[String] {
        &self.customer_guids
    }
}
