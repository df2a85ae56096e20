//! How many requests a book keeps in flight: additive increase, multiplicative decrease on
//! the server's 429s, as TCP paces itself. Pure: told of each finished request and when, it
//! answers the current limit.

use std::time::{Duration, Instant};

/// The shortest window of growth. A rate limit counts requests a second (and `Retry-After`
/// counts in seconds): growing faster than once a second would reach past the limit before
/// its bucket could tell.
pub(crate) const MIN_WINDOW: Duration = Duration::from_secs(1);

/// The in-flight limit, between 1 and the configured concurrency.
#[derive(Debug, Clone)]
pub(crate) struct Pace {
    limit: usize,
    max: usize,
    /// Requests finished since the limit last changed.
    since_change: usize,
    /// When the limit last changed (or the first request finished).
    changed_at: Option<Instant>,
    /// Requests finished since the limit was last halved.
    since_halving: usize,
    /// The client's count of 429 answers when last told.
    throttles_seen: u64,
}

impl Pace {
    /// Starts at `max`: a server with room to spare should not be approached slowly.
    pub(crate) fn new(max: usize) -> Self {
        let max = max.max(1);
        Pace {
            limit: max,
            max,
            since_change: 0,
            changed_at: None,
            since_halving: usize::MAX,
            throttles_seen: 0,
        }
    }

    /// The current limit.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// One request finished at `now`; `throttles` is the client's count of 429 answers so far.
    pub(crate) fn finished(&mut self, throttles: u64, now: Instant) {
        let changed_at = *self.changed_at.get_or_insert(now);
        self.since_change = self.since_change.saturating_add(1);
        self.since_halving = self.since_halving.saturating_add(1);
        if throttles > self.throttles_seen {
            self.throttles_seen = throttles;
            // The 429s of requests sent before the last halving are the same signal: halve
            // once per window of requests, not once per answer.
            if self.since_halving >= self.limit {
                self.limit = (self.limit / 2).max(1);
                self.since_halving = 0;
            }
            self.since_change = 0;
            self.changed_at = Some(now);
        } else if self.since_change >= self.limit
            && now.saturating_duration_since(changed_at) >= MIN_WINDOW
        {
            // A window: as many requests as the limit, and at least a second.
            self.limit = (self.limit + 1).min(self.max);
            self.since_change = 0;
            self.changed_at = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_once_per_window_and_grows_by_one_per_clean_window() {
        let t0 = Instant::now();
        let mut pace = Pace::new(32);
        assert_eq!(pace.limit(), 32);
        pace.finished(0, t0 + MIN_WINDOW);
        assert_eq!(pace.limit(), 32, "never above the maximum");
        pace.finished(1, t0);
        assert_eq!(pace.limit(), 16);
        // More 429s from requests already in flight: the same window, no second halving.
        for n in 2..=16 {
            pace.finished(n, t0);
        }
        assert_eq!(pace.limit(), 16);
        pace.finished(17, t0);
        assert_eq!(pace.limit(), 8, "a new window's 429 halves again");
        for _ in 0..8 {
            pace.finished(17, t0);
        }
        assert_eq!(pace.limit(), 8, "8 clean requests, but not a second yet");
        let later = t0 + MIN_WINDOW;
        pace.finished(17, later);
        assert_eq!(
            pace.limit(),
            9,
            "a clean window of 8 and a second grows it by one"
        );
        for _ in 0..8 {
            pace.finished(17, later + MIN_WINDOW);
        }
        assert_eq!(pace.limit(), 9, "9 requests make the next window, not 8");
        pace.finished(17, later + MIN_WINDOW);
        assert_eq!(pace.limit(), 10);
        let mut one = Pace::new(0);
        one.finished(5, t0);
        assert_eq!(one.limit(), 1, "never below one");
    }
}
