//! Waiting for a final state: how long and how often to poll ([`WaitOptions`]), and the poll
//! loop itself, over a fetch closure so that it needs no client to be tested.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::models::{IdentityRecord, VerificationKey};

/// The shortest pause between two polls: a zero interval would poll as fast as the
/// network answers.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(10);

type OnChange = Arc<dyn Fn(&IdentityRecord) + Send + Sync>;
type OnKeyChange = Arc<dyn Fn(&VerificationKey) + Send + Sync>;

/// Settings for waiting until an identity record reaches a final state.
///
/// # Examples
///
/// ```
/// use cybrid_identity::WaitOptions;
/// use std::time::Duration;
/// let options = WaitOptions::default()
///     .timeout(Duration::from_secs(60))
///     .interval(Duration::from_millis(500), Duration::from_secs(5))
///     .on_change(|record| println!("{:?}", record.state()));
/// # let _ = options;
/// ```
#[derive(Clone)]
#[must_use]
pub struct WaitOptions {
    /// Give up after this long. Default 30 s, as Cybrid's own demo does.
    pub timeout: Duration,
    /// The first pause between polls. Default 250 ms.
    pub initial_interval: Duration,
    /// The longest pause between polls; each pause doubles up to it. Default 2 s.
    pub max_interval: Duration,
    on_change: Option<OnChange>,
    on_key_change: Option<OnKeyChange>,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(30),
            initial_interval: Duration::from_millis(250),
            max_interval: Duration::from_secs(2),
            on_change: None,
            on_key_change: None,
        }
    }
}

impl fmt::Debug for WaitOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitOptions")
            .field("timeout", &self.timeout)
            .field("initial_interval", &self.initial_interval)
            .field("max_interval", &self.max_interval)
            .field("on_change", &self.on_change.as_ref().map(|_| "Fn"))
            .field("on_key_change", &self.on_key_change.as_ref().map(|_| "Fn"))
            .finish()
    }
}

impl WaitOptions {
    /// Sets [`WaitOptions::timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let patient = cybrid_identity::WaitOptions::default().timeout(Duration::from_secs(120));
    /// assert_eq!(patient.timeout, Duration::from_secs(120));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the first and the longest pause between polls; neither goes under
    /// [`MIN_POLL_INTERVAL`](crate::MIN_POLL_INTERVAL) (a zero interval would poll as fast as the network answers).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let zero = cybrid_identity::WaitOptions::default().interval(Duration::ZERO, Duration::ZERO);
    /// assert_eq!(zero.initial_interval, cybrid_identity::MIN_POLL_INTERVAL);
    /// ```
    pub fn interval(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_interval = initial.max(MIN_POLL_INTERVAL);
        self.max_interval = max.max(self.initial_interval);
        self
    }

    /// Calls `f` with the record each time its state changes, the first poll included.
    ///
    /// # Examples
    ///
    /// ```
    /// let verbose = cybrid_identity::WaitOptions::default()
    ///     .on_change(|record| eprintln!("{:?} is {:?}", record.guid, record.state()));
    /// # let _ = verbose;
    /// ```
    pub fn on_change(mut self, f: impl Fn(&IdentityRecord) + Send + Sync + 'static) -> Self {
        self.on_change = Some(Arc::new(f));
        self
    }

    /// Calls `f` with the verification key each time its state changes, the first poll
    /// included ([`crate::Client::wait_for_verification_key`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let verbose = cybrid_identity::WaitOptions::default()
    ///     .on_key_change(|key| eprintln!("key {:?} is {:?}", key.guid, key.state));
    /// # let _ = verbose;
    /// ```
    pub fn on_key_change(mut self, f: impl Fn(&VerificationKey) + Send + Sync + 'static) -> Self {
        self.on_key_change = Some(Arc::new(f));
        self
    }

    pub(crate) fn notify_key(&self, key: &VerificationKey) {
        if let Some(f) = &self.on_key_change {
            f(key);
        }
    }

    pub(crate) fn notify(&self, record: &IdentityRecord) {
        if let Some(f) = &self.on_change {
            f(record);
        }
    }

    /// The pause after `current`: doubled, capped at the maximum.
    /// `interval` spread by ±20 %, so that many waiters do not poll in lockstep, and never
    /// under [`MIN_POLL_INTERVAL`].
    pub(crate) fn jittered(&self, interval: Duration) -> Duration {
        let fraction = crate::rand::fraction().unwrap_or(0.5);
        interval
            .mul_f64(0.8 + 0.4 * fraction)
            .max(MIN_POLL_INTERVAL)
    }

    pub(crate) fn next_interval(&self, current: Duration) -> Duration {
        current.saturating_mul(2).min(self.max_interval)
    }
}

/// Polls `fetch` until `is_final` holds, calling `on_change` whenever the `state_of` what it
/// fetched differs from the last, and pausing with `sleep` between polls as `options` says.
/// At the deadline, the last value goes to `timed_out`. A deadline too far to represent
/// (say `Duration::MAX`) means no deadline.
pub(crate) fn poll_until_final<T, S: PartialEq>(
    options: &WaitOptions,
    sleep: &dyn Fn(Duration),
    mut fetch: impl FnMut() -> Result<T, Error>,
    state_of: impl Fn(&T) -> S,
    is_final: impl Fn(&T) -> bool,
    on_change: impl Fn(&T),
    timed_out: impl FnOnce(T) -> Error,
) -> Result<T, Error> {
    let deadline = Instant::now().checked_add(options.timeout);
    let mut interval = options.initial_interval;
    let mut last_state = None;
    loop {
        let value = fetch()?;
        let state = state_of(&value);
        if last_state.as_ref() != Some(&state) {
            on_change(&value);
            last_state = Some(state);
        }
        if is_final(&value) {
            return Ok(value);
        }
        let left = deadline.map_or(Duration::MAX, |d| {
            d.saturating_duration_since(Instant::now())
        });
        if left.is_zero() {
            return Err(timed_out(value));
        }
        // Jittered, so that many waiters started together do not poll in lockstep.
        sleep(options.jittered(interval).min(left));
        interval = options.next_interval(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn intervals_have_a_floor_jitter_stays_within_a_fifth_and_debug_names_the_settings() {
        let zero = WaitOptions::default().interval(Duration::ZERO, Duration::ZERO);
        assert_eq!(
            (zero.initial_interval, zero.max_interval),
            (MIN_POLL_INTERVAL, MIN_POLL_INTERVAL)
        );
        assert_eq!(
            format!("{zero:?}"),
            "WaitOptions { timeout: 30s, initial_interval: 10ms, max_interval: 10ms, on_change: None, on_key_change: None }"
        );
        let with = WaitOptions::default().on_change(|_| ());
        assert!(format!("{with:?}").ends_with("on_change: Some(\"Fn\"), on_key_change: None }"));
        let base = Duration::from_millis(1000);
        let spread: Vec<Duration> = (0..64).map(|_| zero.jittered(base)).collect();
        assert!(
            spread
                .iter()
                .all(|d| (Duration::from_millis(800)..=Duration::from_millis(1200)).contains(d))
        );
        assert!(spread.iter().any(|d| *d < base) && spread.iter().any(|d| *d > base));
        assert_eq!(zero.jittered(Duration::ZERO), MIN_POLL_INTERVAL);
        assert_eq!(
            zero.next_interval(Duration::from_millis(7)),
            MIN_POLL_INTERVAL
        );
        let wide =
            WaitOptions::default().interval(Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(
            wide.next_interval(Duration::from_millis(300)),
            Duration::from_millis(600)
        );
        assert_eq!(
            wide.next_interval(Duration::from_millis(600)),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn each_callback_hears_of_its_own_kind_only() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (records, keys) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (r, k) = (records.clone(), keys.clone());
        let options = WaitOptions::default()
            .on_change(move |_| {
                r.fetch_add(1, Ordering::SeqCst);
            })
            .on_key_change(move |_| {
                k.fetch_add(1, Ordering::SeqCst);
            });
        let key: VerificationKey = serde_json::from_str("{}").unwrap();
        options.notify_key(&key);
        options.notify_key(&key);
        options.notify(&serde_json::from_str("{}").unwrap());
        assert_eq!(
            (records.load(Ordering::SeqCst), keys.load(Ordering::SeqCst)),
            (1, 2)
        );
        assert!(
            format!("{options:?}")
                .ends_with("on_change: Some(\"Fn\"), on_key_change: Some(\"Fn\") }")
        );
    }

    #[test]
    fn polls_until_final_and_reports_each_change_once() {
        let states = RefCell::new(vec![1, 1, 2, 3].into_iter());
        let changes = RefCell::new(Vec::new());
        let pauses = RefCell::new(Vec::new());
        let got = poll_until_final(
            &WaitOptions::default(),
            &|d| pauses.borrow_mut().push(d.as_millis()),
            || Ok(states.borrow_mut().next().unwrap()),
            |s| *s,
            |s| *s == 3,
            |s| changes.borrow_mut().push(*s),
            |_| unreachable!(),
        );
        assert_eq!(got.unwrap(), 3);
        assert_eq!(changes.into_inner(), vec![1, 2, 3]);
        // 250, 500, 1000 ms, each spread by ±20 %.
        let pauses = pauses.into_inner();
        assert_eq!(pauses.len(), 3);
        for (pause, base) in pauses.iter().zip([250u128, 500, 1000]) {
            assert!((base * 4 / 5..=base * 6 / 5).contains(pause), "{pauses:?}");
        }
    }

    #[test]
    fn a_deadline_ends_the_wait_with_the_last_value_and_max_means_none() {
        let options = WaitOptions::default().timeout(Duration::ZERO);
        let err = poll_until_final(
            &options,
            &|_| panic!("no pause"),
            || Ok(7),
            |s| *s,
            |_| false,
            |_| (),
            |last| Error::Pagination(format!("last {last}")),
        );
        assert_eq!(err.unwrap_err().to_string(), "pagination error: last 7");
        let polls = RefCell::new(0);
        let options = WaitOptions::default().timeout(Duration::MAX);
        let got = poll_until_final(
            &options,
            &|_| (),
            || {
                *polls.borrow_mut() += 1;
                Ok(*polls.borrow())
            },
            |s| *s,
            |s| *s == 4,
            |_| (),
            |_| unreachable!(),
        );
        assert_eq!(got.unwrap(), 4);
    }

    #[test]
    fn intervals_back_off_from_250ms_to_2s() {
        let o = WaitOptions::default();
        let mut i = o.initial_interval;
        let mut seen = vec![i];
        for _ in 0..5 {
            i = o.next_interval(i);
            seen.push(i);
        }
        let ms: Vec<u128> = seen.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, vec![250, 500, 1000, 2000, 2000, 2000]);
        assert_eq!(o.timeout, Duration::from_secs(30));
    }
}
