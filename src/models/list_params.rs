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

impl From<&ListParams> for ListParams {
    fn from(params: &ListParams) -> Self {
        params.clone()
    }
}

/// Page of a verification-key listing. Keys belong to the bank: there is no customer
/// filter, and asking for one does not compile.
///
/// ```
/// use cybrid_identity::KeyListParams;
/// let params = KeyListParams::new().page(0).per_page(25);
/// # let _ = params;
/// ```
///
/// ```compile_fail
/// use cybrid_identity::KeyListParams;
/// let params = KeyListParams::new().customer_guid("c0ffee00c0ffee00c0ffee00c0ffee00");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct KeyListParams {
    pub(crate) page: Option<u32>,
    pub(crate) per_page: Option<u32>,
}

impl KeyListParams {
    /// The server's default page.
    pub fn new() -> Self {
        Self::default()
    }

    /// The page number; the first is 0.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Keys per page, 1 to 100.
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }
}

impl From<&KeyListParams> for KeyListParams {
    fn from(params: &KeyListParams) -> Self {
        params.clone()
    }
}

impl From<KeyListParams> for ListParams {
    fn from(params: KeyListParams) -> Self {
        ListParams {
            customer_guids: Vec::new(),
            page: params.page,
            per_page: params.per_page,
        }
    }
}
