//! How many requests a book keeps in flight: additive increase, multiplicative decrease on
//! the server's 429s, as TCP paces itself. Pure: told of each finished request, it answers
//! the current limit.

/// The in-flight limit, between 1 and the configured concurrency.
#[derive(Debug, Clone)]
pub(crate) struct Pace {
    limit: usize,
    max: usize,
    /// Requests finished since the limit last changed.
    since_change: usize,
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
            since_halving: usize::MAX,
            throttles_seen: 0,
        }
    }

    /// The current limit.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// One request finished; `throttles` is the client's count of 429 answers so far.
    pub(crate) fn finished(&mut self, throttles: u64) {
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
        } else if self.since_change >= self.limit {
            self.limit = (self.limit + 1).min(self.max);
            self.since_change = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_once_per_window_and_grows_by_one_per_clean_window() {
        let mut pace = Pace::new(32);
        assert_eq!(pace.limit(), 32);
        pace.finished(0);
        assert_eq!(pace.limit(), 32, "never above the maximum");
        pace.finished(1);
        assert_eq!(pace.limit(), 16);
        // More 429s from requests already in flight: the same window, no second halving.
        for n in 2..=16 {
            pace.finished(n);
        }
        assert_eq!(pace.limit(), 16);
        pace.finished(17);
        assert_eq!(pace.limit(), 8, "a new window's 429 halves again");
        for _ in 0..7 {
            pace.finished(17);
        }
        assert_eq!(pace.limit(), 8);
        pace.finished(17);
        assert_eq!(pace.limit(), 9, "a clean window of 8 grows it by one");
        let mut one = Pace::new(0);
        one.finished(5);
        assert_eq!(one.limit(), 1, "never below one");
    }
}
