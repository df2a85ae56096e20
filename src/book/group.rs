//! A group: up to 100 customers listed together, and when they are next polled.

use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::customer::{Customer, far_future};

/// Customers listed together, and the state of their polling.
#[derive(Default)]
pub(crate) struct Group {
    pub(crate) customers: Vec<Customer>,
    /// A listing of the group is in flight.
    pub(crate) listing: bool,
    /// When the group is next polled, if any customer waits.
    pub(crate) next_poll: Option<Instant>,
    /// The pause before the next poll, doubled after each.
    pub(crate) interval: Duration,
    /// Listings failed in a row.
    pub(crate) list_failures: u32,
}

/// When a journal intent made at `at` stops being in doubt, on this process's clock.
pub(crate) fn settled_at(at: OffsetDateTime, settle: Duration, now: Instant) -> Instant {
    let age = OffsetDateTime::now_utc() - at;
    let age = Duration::try_from(age).unwrap_or(Duration::ZERO);
    let left = settle.saturating_sub(age);
    now.checked_add(left).unwrap_or_else(|| far_future(now))
}
