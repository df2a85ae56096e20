//! Walking a listing page by page: [`IdentityRecords`].

use std::fmt;

use crate::client::Client;
use crate::error::Error;
use crate::models::{IdentityRecord, ListParams};

/// Per-page size unless the params say otherwise: the largest Cybrid serves.
const PER_PAGE: i64 = 100;

/// Every identity record of a listing, fetched a page at a time; see [`Client::identity_records`].
pub struct IdentityRecords {
    client: Client,
    params: ListParams,
    next_page: i64,
    buffer: std::vec::IntoIter<IdentityRecord>,
    yielded: u64,
    total: Option<u64>,
    previous_guids: Option<Vec<Option<String>>>,
    done: bool,
}

impl fmt::Debug for IdentityRecords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityRecords")
            .field("params", &self.params)
            .field("next_page", &self.next_page)
            .field("yielded", &self.yielded)
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

impl Iterator for IdentityRecords {
    type Item = Result<IdentityRecord, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done || self.total.is_some_and(|total| self.yielded >= total) {
                self.done = true;
                return None;
            }
            if let Some(record) = self.buffer.next() {
                self.yielded += 1;
                return Some(Ok(record));
            }
            let params = self.params.clone().page(self.next_page);
            let page = match self.client.list_identity_records(&params) {
                Ok(page) => page,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            let guids: Vec<Option<String>> = page.objects.iter().map(|r| r.guid.clone()).collect();
            if page.objects.is_empty() {
                self.done = true;
                return None;
            }
            if self.previous_guids.as_ref() == Some(&guids) {
                self.done = true;
                return Some(Err(Error::Pagination(format!(
                    "page {} repeated the records of page {}; stopped instead of looping",
                    self.next_page,
                    self.next_page - 1
                ))));
            }
            self.total = Some(page.total);
            self.previous_guids = Some(guids);
            self.next_page += 1;
            self.buffer = page.objects.into_iter();
        }
    }
}

impl IdentityRecords {
    pub(crate) fn new(client: Client, params: ListParams) -> Self {
        let per_page = params.get_per_page().unwrap_or(PER_PAGE);
        IdentityRecords {
            client,
            next_page: params.get_page().unwrap_or(0),
            params: params.per_page(per_page),
            buffer: Vec::new().into_iter(),
            yielded: 0,
            total: None,
            previous_guids: None,
            done: false,
        }
    }
}
