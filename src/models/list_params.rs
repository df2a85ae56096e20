//! Query parameters of the list calls, checked before anything is sent.

use super::check_guid;
use crate::error::Error;

/// The largest page Cybrid serves.
pub const MAX_PER_PAGE: i64 = 100;

/// Filter and page of a list call.
///
/// Values are checked when the request is built (`page` >= 0, `per_page` 1..=100, guids of
/// 32 letters or digits), so a bad value is an [`Error::InvalidInput`] before any request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    customer_guids: Vec<String>,
    page: Option<i64>,
    per_page: Option<i64>,
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
    pub fn page(mut self, page: i64) -> Self {
        self.page = Some(page);
        self
    }

    /// Records per page, 1 to 100.
    pub fn per_page(mut self, per_page: i64) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// The page asked for, if any.
    pub fn get_page(&self) -> Option<i64> {
        self.page
    }

    /// The page size asked for, if any.
    pub fn get_per_page(&self) -> Option<i64> {
        self.per_page
    }

    /// The customer filter.
    pub fn customer_guids(&self) -> &[String] {
        &self.customer_guids
    }

    /// The query pairs in wire order, after checking every value.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first bad value.
    pub fn to_query(&self) -> Result<Vec<(&'static str, String)>, Error> {
        let mut query = Vec::with_capacity(3);
        if !self.customer_guids.is_empty() {
            for guid in &self.customer_guids {
                check_guid("customer_guid", guid)?;
            }
            query.push(("customer_guid", self.customer_guids.join(",")));
        }
        if let Some(page) = self.page {
            if page < 0 {
                return Err(Error::invalid(
                    "page",
                    format!("must be 0 or more, got {page}"),
                ));
            }
            query.push(("page", page.to_string()));
        }
        if let Some(per_page) = self.per_page {
            if !(1..=MAX_PER_PAGE).contains(&per_page) {
                return Err(Error::invalid(
                    "per_page",
                    format!("must be 1 to {MAX_PER_PAGE}, got {per_page}"),
                ));
            }
            query.push(("per_page", per_page.to_string()));
        }
        Ok(query)
    }
}
