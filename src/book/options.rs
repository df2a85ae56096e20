//! How a book attests: concurrency, the settle period, the wait.

use std::time::Duration;

use crate::wait::WaitOptions;

/// Customers listed in one call: Cybrid's largest page, and a URL of about 3,300 bytes.
pub const GROUP_SIZE: usize = 100;

/// How a [`Book`](crate::Book) (and [`crate::Client::ensure_attested`]) attests.
///
/// ```
/// use cybrid_identity::{AttestOptions, WaitOptions};
/// use std::time::Duration;
/// let options = AttestOptions::default()
///     .concurrency(32)
///     .settle(Duration::from_secs(120))
///     .wait(WaitOptions::default().timeout(Duration::from_secs(60)));
/// assert_eq!(options.concurrency, 32);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
#[must_use]
pub struct AttestOptions {
    /// Requests in flight at most (1 or more; 8 by default).
    pub concurrency: usize,
    /// How long a create of unknown outcome may still take effect on the server; 60 s by
    /// default. Only after it has passed with no new record is a create sent again.
    pub settle: Duration,
    /// How long to wait for each record's final state, and how often to poll.
    pub wait: WaitOptions,
}

impl Default for AttestOptions {
    fn default() -> Self {
        AttestOptions {
            concurrency: 8,
            settle: DEFAULT_SETTLE,
            wait: WaitOptions::default(),
        }
    }
}

/// The settle period's default: a create that has not landed a minute after its answer was
/// lost is taken as never applied.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(60);

impl AttestOptions {
    /// Requests in flight at most (0 is taken as 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The settle period (see the [module docs](crate::book)).
    pub fn settle(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }

    /// The wait for each record's final state.
    pub fn wait(mut self, wait: WaitOptions) -> Self {
        self.wait = wait;
        self
    }
}
