//! Walking a listing page by page: [`Pages`], over a fetch closure so that it needs no
//! client to be tested.

use std::fmt;

use crate::error::Error;
use crate::models::{IdentityRecord, ListParams, MAX_PER_PAGE, VerificationKey};

/// Every identity record of a listing; see [`crate::Client::identity_records`].
pub type IdentityRecords = Pages<IdentityRecord>;

/// Every verification key of the bank; see [`crate::Client::verification_keys`].
pub type VerificationKeys = Pages<VerificationKey>;

type FetchPage<T> = Box<dyn FnMut(&ListParams) -> Result<(Vec<T>, u64), Error> + Send>;

/// Every object of a listing, fetched a page at a time (100 a page unless the params say
/// otherwise). Holds one page at a time, stops after the server's `total`, and ends with
/// [`Error::Pagination`] rather than loop if the server sends the same page twice.
pub struct Pages<T> {
    /// What the objects are, for messages: `records`, `keys`.
    noun: &'static str,
    fetch: FetchPage<T>,
    guid_of: fn(&T) -> Option<String>,
    params: ListParams,
    next_page: u32,
    buffer: std::vec::IntoIter<T>,
    yielded: u64,
    total: Option<u64>,
    previous_guids: Option<Vec<Option<String>>>,
    done: bool,
}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("params", &self.params)
            .field("next_page", &self.next_page)
            .field("yielded", &self.yielded)
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

impl<T> Pages<T> {
    /// Pages of `params`, each fetched with `fetch` (objects and the server's total);
    /// `guid_of` tells a repeated page from a new one.
    pub(crate) fn new(
        noun: &'static str,
        params: &ListParams,
        fetch: impl FnMut(&ListParams) -> Result<(Vec<T>, u64), Error> + Send + 'static,
        guid_of: fn(&T) -> Option<String>,
    ) -> Self {
        Pages {
            noun,
            fetch: Box::new(fetch),
            guid_of,
            next_page: params.page.unwrap_or(0),
            params: ListParams {
                per_page: Some(params.per_page.unwrap_or(MAX_PER_PAGE)),
                ..params.clone()
            },
            buffer: Vec::new().into_iter(),
            yielded: 0,
            total: None,
            previous_guids: None,
            done: false,
        }
    }

    fn stop(&mut self, error: Option<Error>) -> Option<Result<T, Error>> {
        self.done = true;
        error.map(Err)
    }
}

impl<T> Iterator for Pages<T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done || self.total.is_some_and(|total| self.yielded >= total) {
                return self.stop(None);
            }
            if let Some(object) = self.buffer.next() {
                self.yielded += 1;
                return Some(Ok(object));
            }
            let params = self.params.clone().page(self.next_page);
            let (objects, total) = match (self.fetch)(&params) {
                Ok(page) => page,
                Err(e) => return self.stop(Some(e)),
            };
            if objects.is_empty() {
                return self.stop(None);
            }
            let guids: Vec<Option<String>> = objects.iter().map(self.guid_of).collect();
            if self.previous_guids.as_ref() == Some(&guids) {
                return self.stop(Some(Error::Pagination(format!(
                    "page {} repeated the {} of page {}; stopped instead of looping",
                    self.next_page,
                    self.noun,
                    self.next_page.saturating_sub(1)
                ))));
            }
            let Some(next_page) = self.next_page.checked_add(1) else {
                return self.stop(Some(Error::Pagination(
                    "the listing has more pages than a page number can count".to_owned(),
                )));
            };
            self.total = Some(total);
            self.previous_guids = Some(guids);
            self.next_page = next_page;
            self.buffer = objects.into_iter();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_where_the_walk_stands() {
        let mut walk = pages(vec![vec![1, 2], vec![3]], 3);
        assert_eq!(walk.next().unwrap().unwrap(), 1);
        assert_eq!(
            format!("{walk:?}"),
            "Pages { params: ListParams { customer_guids: [], page: None, per_page: Some(2) }, next_page: 1, yielded: 1, total: Some(3), .. }"
        );
    }

    fn pages(data: Vec<Vec<u32>>, total: u64) -> Pages<u32> {
        let mut asked = 0;
        Pages::new(
            "numbers",
            &ListParams::new().per_page(2),
            move |p: &ListParams| {
                assert_eq!((p.page, p.per_page), (Some(asked), Some(2)));
                let page = data.get(asked as usize).cloned().unwrap_or_default();
                asked += 1;
                Ok((page, total))
            },
            |n| Some(n.to_string()),
        )
    }

    #[test]
    fn walks_every_page_and_stops_at_the_total() {
        let got: Vec<u32> = pages(vec![vec![1, 2], vec![3, 4], vec![5, 6]], 5)
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, vec![1, 2, 3, 4, 5]);
        let got: Vec<u32> = pages(vec![vec![1, 2], vec![3]], 9)
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, vec![1, 2, 3], "an empty page ends the walk");
    }

    #[test]
    fn a_repeated_page_is_an_error_not_a_loop() {
        let got: Vec<_> = pages(vec![vec![1, 2], vec![1, 2], vec![1, 2]], 100).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[2].as_ref().unwrap_err().to_string(),
            "pagination error: page 1 repeated the numbers of page 0; stopped instead of looping"
        );
    }
}
