//! The emulator's rate limit: a token bucket of N requests, refilled at N a second, as an
//! API gateway keeps one per client.

use std::time::{Duration, Instant};

/// A bucket of `capacity` tokens, refilled at `capacity` a second.
#[derive(Debug)]
pub(crate) struct Bucket {
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket.
    pub(crate) fn new(per_second: u32, now: Instant) -> Self {
        let capacity = f64::from(per_second.max(1));
        Bucket {
            capacity,
            tokens: capacity,
            last: now,
        }
    }

    /// Takes one token; or, when there is none, the whole seconds until there is one (at
    /// least 1: `Retry-After` counts in seconds).
    pub(crate) fn take(&mut self, now: Instant) -> Result<(), u64> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.capacity).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let wait = Duration::from_secs_f64((1.0 - self.tokens) / self.capacity);
        Err(wait
            .as_secs()
            .saturating_add(u64::from(wait.subsec_nanos() > 0))
            .max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_then_its_rate_then_a_retry_after_in_whole_seconds() {
        let t0 = Instant::now();
        let mut bucket = Bucket::new(5, t0);
        for _ in 0..5 {
            assert_eq!(bucket.take(t0), Ok(()));
        }
        assert_eq!(bucket.take(t0), Err(1));
        assert_eq!(bucket.take(t0 + Duration::from_millis(100)), Err(1));
        assert_eq!(
            bucket.take(t0 + Duration::from_millis(200)),
            Ok(()),
            "one token in 200 ms"
        );
        assert_eq!(bucket.take(t0 + Duration::from_millis(210)), Err(1));
        let mut slow = Bucket::new(1, t0);
        assert_eq!(slow.take(t0), Ok(()));
        assert_eq!(slow.take(t0), Err(1));
        assert_eq!(slow.take(t0 + Duration::from_secs(60)), Ok(()));
        assert_eq!(
            slow.take(t0 + Duration::from_secs(60)),
            Err(1),
            "never more than the capacity"
        );
    }
}
