//! What is retried, and how long to wait first. Pure: given a failure, decide.
//!
//! - A GET (get, list, a wait's poll) is retried on connection failures, timeouts, broken or
//!   truncated answers, and the statuses 429, 500, 502, 503, 504.
//! - A POST (a create) is retried **only** when the request provably never left this machine:
//!   the connection was refused, the host did not resolve, the TLS handshake failed. Once
//!   the request may have reached the server, retrying could create a second record, so the
//!   error goes to the caller instead ([`crate::Error::OutcomeUnknown`]).
//! - 401 is handled by the client (one retry with a fresh token); other 4xx never are.
//!
//! Waits are exponential with full jitter (a random fraction of `min(cap, base × 2^attempt)`),
//! unless the server sent `Retry-After`, which is honoured up to a maximum.
//!
//! The public part is [`RetryPolicy`] and its builders; how one attempt's failure is
//! described to the policy (`Setback`, `Progress`) stays inside the crate, so it can
//! change without breaking callers.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use time::OffsetDateTime;
use time::macros::format_description;

/// The retry settings of a client: build one from [`RetryPolicy::default`] with the
/// `with_*` methods and hand it to [`crate::ClientBuilder::retry_policy`].
#[derive(Clone)]
#[must_use]
pub struct RetryPolicy {
    /// How many times a call may be retried after its first attempt (0: never).
    pub(crate) max_retries: u32,
    /// The first backoff ceiling.
    base_delay: Duration,
    /// The largest backoff ceiling.
    max_delay: Duration,
    /// The longest `Retry-After` honoured; a longer one is cut to this.
    max_retry_after: Duration,
    jitter: Arc<dyn Fn() -> f64 + Send + Sync>,
}

impl Default for RetryPolicy {
    /// 2 retries (3 attempts), backoff from 0.5 s capped at 5 s, `Retry-After` up to 20 s.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(20),
            jitter: Arc::new(default_jitter),
        }
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_retries", &self.max_retries)
            .field("base_delay", &self.base_delay)
            .field("max_delay", &self.max_delay)
            .field("max_retry_after", &self.max_retry_after)
            .finish_non_exhaustive()
    }
}

impl RetryPolicy {
    /// Sets how many retries follow a failed first attempt (0: none). A client takes the
    /// figure from `ClientBuilder::max_retries`, its one place.
    pub(crate) fn with_max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Sets the first backoff ceiling and the largest one.
    pub fn with_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self
    }

    /// Sets the longest `Retry-After` honoured.
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Replaces the jitter source: a function returning a fraction in `[0, 1)`. Tests pass a
    /// constant to make every wait exact.
    #[doc(hidden)]
    pub fn with_jitter(mut self, jitter: impl Fn() -> f64 + Send + Sync + 'static) -> Self {
        self.jitter = Arc::new(jitter);
        self
    }

    /// Decides what to do after attempt number `attempt` (0 for the first) failed.
    /// How long every request of the client holds after a 429 that said `Retry-After:
    /// value`: the server's figure, up to the policy's maximum.
    pub(crate) fn hold_after(&self, value: &str, now: SystemTime) -> Option<Duration> {
        parse_retry_after(value, now).map(|after| after.min(self.max_retry_after))
    }

    pub(crate) fn decide(
        &self,
        attempt: u32,
        method: Method,
        setback: &Setback,
        now: SystemTime,
    ) -> Decision {
        if !setback.is_retryable(method) {
            return Decision::GiveUp;
        }
        if attempt >= self.max_retries {
            return Decision::GiveUp;
        }
        if let Some(after) = setback
            .retry_after
            .as_deref()
            .and_then(|v| parse_retry_after(v, now))
        {
            return Decision::RetryAfter(after.min(self.max_retry_after));
        }
        let ceiling = self
            .base_delay
            .saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
            .min(self.max_delay);
        let fraction = (self.jitter)().clamp(0.0, 1.0);
        Decision::RetryAfter(ceiling.mul_f64(fraction))
    }
}

/// The HTTP methods this crate sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// Reads: safe to repeat.
    Get,
    /// Creates: repeating one that arrived would create a second object.
    Post,
}

impl Method {
    /// The method as sent on the wire.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// How far a failed attempt got: this decides whether sending it again is safe and useful.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// The request never left this machine: refused, DNS, a proxy, the TLS handshake.
    NotSent,
    /// The request never left, and would fail the same way again (a refused certificate).
    CannotSend,
    /// A timeout, reset, broken or truncated answer: the request may have arrived.
    MaybeSent,
    /// The server answered with this status.
    Status(u16),
    /// The server answered, and asking again would bring the same answer (a body over the
    /// limit, a success body that is not UTF-8 or does not fit the model).
    AnswerWouldRepeat,
}

impl Progress {
    /// Whether the request may have taken effect on the server. A 4xx is the server refusing
    /// it: nothing was created.
    pub(crate) fn may_have_arrived(self) -> bool {
        match self {
            Progress::NotSent | Progress::CannotSend => false,
            Progress::MaybeSent | Progress::AnswerWouldRepeat => true,
            Progress::Status(status) => !(400..500).contains(&status),
        }
    }
}

/// One failed attempt, as the retry policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Setback {
    /// How far the attempt got.
    pub(crate) progress: Progress,
    /// The `Retry-After` header, when the server sent one.
    pub(crate) retry_after: Option<String>,
}

impl Setback {
    /// A setback without `Retry-After`.
    pub(crate) fn new(progress: Progress) -> Self {
        Setback {
            progress,
            retry_after: None,
        }
    }

    /// Whether a request of `method` that failed like this may be sent again.
    fn is_retryable(&self, method: Method) -> bool {
        match (self.progress, method) {
            // A 429 refuses the request before it is processed: even a create may go again.
            (Progress::NotSent | Progress::Status(429), _) => true,
            (Progress::MaybeSent, Method::Get) => true,
            (Progress::Status(status), Method::Get) => {
                matches!(status, 429 | 500 | 502 | 503 | 504)
            }
            (Progress::CannotSend | Progress::AnswerWouldRepeat, _) | (_, Method::Post) => false,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Report the failure.
    GiveUp,
}

/// `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, format)
        .ok()?
        .assume_utc();
    let now = OffsetDateTime::from(now);
    Some(if at > now {
        (at - now).try_into().ok()?
    } else {
        Duration::ZERO
    })
}

/// The default jitter: should the random source fail, waiting the full ceiling is safe.
fn default_jitter() -> f64 {
    crate::rand::fraction().unwrap_or(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::default().with_jitter(|| 1.0)
    }

    #[test]
    fn get_retries_on_transient_statuses_only() {
        let now = SystemTime::now();
        for status in [429, 500, 502, 503, 504] {
            assert_eq!(
                policy().decide(0, Method::Get, &Setback::new(Progress::Status(status)), now),
                Decision::RetryAfter(Duration::from_millis(500)),
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 409, 422, 501] {
            assert_eq!(
                policy().decide(0, Method::Get, &Setback::new(Progress::Status(status)), now),
                Decision::GiveUp
            );
        }
    }

    #[test]
    fn post_retries_only_when_never_sent_or_refused_with_429() {
        let now = SystemTime::now();
        for kind in [Progress::NotSent, Progress::Status(429)] {
            assert_eq!(
                policy().decide(0, Method::Post, &Setback::new(kind), now),
                Decision::RetryAfter(Duration::from_millis(500)),
                "{kind:?}"
            );
        }
        let limited = Setback {
            progress: Progress::Status(429),
            retry_after: Some("30".into()),
        };
        assert_eq!(
            policy().decide(0, Method::Post, &limited, now),
            Decision::RetryAfter(Duration::from_secs(20)),
            "Retry-After, up to the maximum"
        );
        assert_eq!(policy().hold_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            policy().hold_after("99", now),
            Some(Duration::from_secs(20))
        );
        assert_eq!(policy().hold_after("soon", now), None);
        for kind in [
            Progress::MaybeSent,
            Progress::Status(503),
            Progress::Status(500),
        ] {
            assert_eq!(
                policy().decide(0, Method::Post, &Setback::new(kind), now),
                Decision::GiveUp,
                "{kind:?}"
            );
        }
    }

    #[test]
    fn backoff_doubles_to_the_cap_with_full_jitter() {
        let now = SystemTime::now();
        let f = Setback::new(Progress::MaybeSent);
        let p = RetryPolicy {
            max_retries: 10,
            ..policy()
        };
        let waits: Vec<_> = (0..6).map(|a| p.decide(a, Method::Get, &f, now)).collect();
        let ms = |m| Decision::RetryAfter(Duration::from_millis(m));
        assert_eq!(
            waits,
            vec![ms(500), ms(1000), ms(2000), ms(4000), ms(5000), ms(5000)]
        );
        let half = RetryPolicy {
            max_retries: 10,
            ..RetryPolicy::default().with_jitter(|| 0.5)
        };
        assert_eq!(half.decide(2, Method::Get, &f, now), ms(1000));
        assert_eq!(p.decide(10, Method::Get, &f, now), Decision::GiveUp);
        let unbounded = RetryPolicy {
            max_retries: u32::MAX,
            ..policy()
        };
        assert_eq!(
            unbounded.decide(u32::MAX - 1, Method::Get, &f, now),
            ms(5000)
        );
    }

    #[test]
    fn max_retries_zero_turns_retries_off() {
        let p = RetryPolicy {
            max_retries: 0,
            ..policy()
        };
        assert_eq!(
            p.decide(
                0,
                Method::Get,
                &Setback::new(Progress::NotSent),
                SystemTime::now()
            ),
            Decision::GiveUp
        );
    }

    #[test]
    fn retry_after_seconds_and_dates_are_honoured_and_capped() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        let with = |v: &str| Setback {
            progress: Progress::Status(503),
            retry_after: Some(v.into()),
        };
        assert_eq!(
            policy().decide(0, Method::Get, &with("1"), now),
            Decision::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(
            policy().decide(0, Method::Get, &with("3600"), now),
            Decision::RetryAfter(Duration::from_secs(20))
        );
        assert_eq!(
            policy().decide(0, Method::Get, &with("Sun, 06 Nov 1994 08:49:42 GMT"), now),
            Decision::RetryAfter(Duration::from_secs(5))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:30 GMT", now),
            Some(Duration::ZERO)
        );
        // Unparseable: fall back to backoff.
        assert_eq!(
            policy().decide(0, Method::Get, &with("soon"), now),
            Decision::RetryAfter(Duration::from_millis(500))
        );
    }

    #[test]
    fn the_builders_set_what_they_name_and_keep_the_rest() {
        let now = SystemTime::now();
        let lost = Setback::new(Progress::MaybeSent);
        let p = RetryPolicy::default()
            .with_max_retries(5)
            .with_backoff(Duration::from_millis(100), Duration::from_millis(300))
            .with_max_retry_after(Duration::from_secs(2))
            .with_jitter(|| 1.0);
        let waits: Vec<_> = (0..6)
            .map(|a| p.decide(a, Method::Get, &lost, now))
            .collect();
        let ms = |m| Decision::RetryAfter(Duration::from_millis(m));
        assert_eq!(
            waits,
            [
                ms(100),
                ms(200),
                ms(300),
                ms(300),
                ms(300),
                Decision::GiveUp
            ]
        );
        let limited = Setback {
            progress: Progress::Status(429),
            retry_after: Some("30".into()),
        };
        assert_eq!(p.decide(0, Method::Get, &limited, now), ms(2000));
        // A maximum under the base is raised to it.
        let flat = RetryPolicy::default()
            .with_backoff(Duration::from_millis(400), Duration::from_millis(10))
            .with_jitter(|| 1.0);
        assert_eq!(flat.decide(1, Method::Get, &lost, now), ms(400));
    }

    #[test]
    fn the_default_jitter_spreads_waits_over_the_whole_range() {
        let now = SystemTime::now();
        let lost = Setback::new(Progress::MaybeSent);
        let waits: Vec<Duration> = (0..64)
            .map(
                |_| match RetryPolicy::default().decide(0, Method::Get, &lost, now) {
                    Decision::RetryAfter(wait) => wait,
                    Decision::GiveUp => panic!("a first retry is allowed"),
                },
            )
            .collect();
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(500)));
        // 64 draws of a uniform fraction: all zero, all the same, or none under half has a
        // chance far below one in 10^18.
        assert!(waits.iter().any(|w| *w > Duration::ZERO));
        assert!(waits.iter().any(|w| *w != waits[0]));
        assert!(waits.iter().any(|w| *w < Duration::from_millis(250)));
    }

    #[test]
    fn debug_shows_the_settings_and_not_the_jitter_function() {
        let p = RetryPolicy::default().with_max_retries(4);
        assert_eq!(
            format!("{p:?}"),
            "RetryPolicy { max_retries: 4, base_delay: 500ms, max_delay: 5s, max_retry_after: 20s, .. }"
        );
    }
}
