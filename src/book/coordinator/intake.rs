//! Taking customers from the book: a group at a time, each held against other runs sharing
//! the journal (or set aside while another run holds it), with what the journal says of it
//! read afresh before anything is decided.

use std::time::{Duration, Instant};

use super::{Run, list_job};
use crate::book::customer::Customer;
use crate::book::group::{Group, settled_at};
use crate::book::journal::Journal;
use crate::book::options::GROUP_SIZE;
use crate::book::report::{Outcome, Progress};

/// Groups held at once (customers being listed, created or waited for), bounding memory
/// whatever the book's size.
pub(super) const MAX_GROUPS: usize = 1024;
/// How long a customer held by another run sharing the journal is set aside before it is
/// tried again (the other run's create and wait take about as long).
const HELD_ELSEWHERE_RETRY: Duration = Duration::from_millis(500);

impl<R: FnMut(Outcome, &Progress)> Run<'_, '_, R> {
    /// Takes customers from the book, a group at a time, while the work at hand would not
    /// keep every worker busy.
    pub(super) fn refill(&mut self, customers: &mut dyn Iterator<Item = String>) {
        // Enough listings ahead that a rerun (all in force) lists a quarter of the workers'
        // worth of groups at once, and a fresh book always has creates waiting.
        let concurrency = self.book.options.concurrency;
        let enough = concurrency
            .saturating_mul(2)
            .max(GROUP_SIZE.saturating_mul((concurrency / 4).max(1)));
        let now = Instant::now();
        while self.groups.len() < MAX_GROUPS && self.backlog() < enough {
            let mut batch: Vec<String> = Vec::with_capacity(GROUP_SIZE);
            while batch.len() < GROUP_SIZE {
                let Some(customer) = self.next_customer(customers, now) else {
                    break;
                };
                // One bad guid would fail its whole group's listing: it is refused alone.
                if let Err(e) = crate::guid::check("customer_guid", &customer) {
                    self.finish(customer, Err(e), false);
                    continue;
                }
                // A customer given twice while the first is still held is taken once: two
                // at once would each find no record and each create one.
                if self.held.contains(&customer) {
                    continue;
                }
                match self.book.journal.map_or(Ok(true), |j| j.hold(&customer)) {
                    Ok(true) => {
                        self.held.insert(customer.clone());
                        batch.push(customer);
                    }
                    // Another run is at it: its outcome is adopted when it lets go.
                    Ok(false) => {
                        let again = now.checked_add(HELD_ELSEWHERE_RETRY).unwrap_or(now);
                        self.elsewhere.push_back((customer, again));
                    }
                    Err(e) => {
                        self.fatal = Some(e);
                        return;
                    }
                }
            }
            if batch.is_empty() {
                break;
            }
            // What other runs wrote of these customers before letting go of them (an
            // intent still in doubt, above all) is read before anything is decided.
            if let Some(Err(e)) = self.book.journal.map(Journal::refresh) {
                self.fatal = Some(e);
                return;
            }
            let creates = self.book.client.max_retries().saturating_add(1);
            let now = Instant::now();
            let settle = self.book.options.settle;
            let group = Group {
                customers: batch
                    .into_iter()
                    .map(|guid| {
                        let doubt = self.book.journal.and_then(|j| j.intent(&guid));
                        let until = doubt.map(|at| settled_at(at, settle, now));
                        Customer::new(guid, creates, until)
                    })
                    .collect(),
                interval: self.book.options.wait.initial_interval,
                listing: true,
                ..Group::default()
            };
            let id = self.next_group;
            self.next_group += 1;
            self.unlisted += group.customers.len();
            self.lists.push_back(list_job(id, &group));
            self.groups.insert(id, group);
        }
    }

    /// The next customer to take: one set aside whose time has come, else the book's next
    /// (lowercase); `None` when neither has one now.
    fn next_customer(
        &mut self,
        customers: &mut dyn Iterator<Item = String>,
        now: Instant,
    ) -> Option<String> {
        if self.elsewhere.front().is_some_and(|(_, at)| *at <= now) {
            return self.elsewhere.pop_front().map(|(customer, _)| customer);
        }
        if self.exhausted {
            return None;
        }
        let next = customers.next().map(|c| c.to_ascii_lowercase());
        self.exhausted = next.is_none();
        next
    }
}
