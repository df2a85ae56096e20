//! What a book reports of itself while it runs: the phase counts, taken at most every
//! 100 ms, and handed to [`Book::progress_to`](crate::Book::progress_to)'s reader.

use std::time::{Duration, Instant};

use super::Run;
use crate::book::customer::Phase;
use crate::book::report::{Outcome, Progress};

impl<R: FnMut(Outcome, &Progress)> Run<'_, '_, R> {
    /// Takes the phase counts afresh, at most every 100 ms (counting walks every customer
    /// held), and hands them to [`crate::Book::progress_to`]'s reader: called as each customer
    /// finishes and on every turn of the coordinator's loop, so the counts move while
    /// nothing finishes.
    pub(super) fn publish_progress(&mut self) {
        if self
            .counted_at
            .is_some_and(|at| at.elapsed() < Duration::from_millis(100))
        {
            // What costs nothing to count is always current.
            self.progress.done = self.summary.customers;
            self.progress.in_flight = self.in_flight;
            self.progress.limit = self.pace.limit();
            self.progress.held = self.held.len();
            self.progress.elsewhere = self.elsewhere.len();
        } else {
            self.progress = self.snapshot();
            self.counted_at = Some(Instant::now());
        }
        if let Some(live) = self.book.live {
            *crate::sync::lock(live) = self.progress.clone();
        }
    }

    pub(super) fn snapshot(&self) -> Progress {
        let customers = self.groups.values().flat_map(|g| &g.customers);
        let (mut in_doubt, mut waiting) = (0, 0);
        for c in customers {
            match c.phase {
                Phase::InDoubt { .. } => in_doubt += 1,
                Phase::Watching { .. } => waiting += 1,
                _ => {}
            }
        }
        Progress {
            done: self.summary.customers,
            in_flight: self.in_flight,
            limit: self.pace.limit(),
            in_doubt,
            waiting,
            held: self.held.len(),
            elsewhere: self.elsewhere.len(),
        }
    }
}
