//! The one attempt loop, for API calls and token fetches alike: attempt, ask the retry
//! policy, pause, attempt again, all within the call's deadline.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::api::Unusable;
use crate::error::Error;
use crate::retry::{Decision, Method, Progress, RetryPolicy};

/// How the client pauses between retries and polls (a recorder in tests).
#[derive(Clone)]
pub(crate) struct SleepFn(pub(crate) Arc<dyn Fn(Duration) + Send + Sync>);

impl std::fmt::Debug for SleepFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SleepFn")
    }
}

impl SleepFn {
    pub(crate) fn pause(&self, wait: Duration) {
        (self.0)(wait);
    }
}

/// The outcome of one attempt.
pub(crate) enum Step<T> {
    /// The value asked for.
    Done(T),
    /// Retried if the policy allows and the deadline leaves time; reported otherwise.
    Failed(Unusable),
    /// Sent again at once without counting an attempt (a refused token was renewed).
    Again,
    /// Reported at once: nothing was sent, and no retry would mend it.
    Stop(Error),
}

/// When a call must end: `None` when the timeout is too far to represent (`Duration::MAX`).
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Runs `attempt` until it is done, stops, or the policy gives up; on giving up, returns the
/// last error with how far its attempt got (so a create can say whether it may exist).
pub(crate) fn with_retries<T>(
    policy: &RetryPolicy,
    sleep: &SleepFn,
    method: Method,
    label: &str,
    deadline: Option<Instant>,
    mut attempt: impl FnMut() -> Step<T>,
) -> Result<T, (Error, Progress)> {
    let mut retries = 0;
    loop {
        let (error, setback) = match attempt() {
            Step::Done(value) => return Ok(value),
            Step::Again => continue,
            Step::Stop(error) => return Err((error, Progress::NotSent)),
            Step::Failed(unusable) => unusable,
        };
        match policy.decide(retries, method, &setback, SystemTime::now()) {
            Decision::RetryAfter(wait) if fits_before(wait, deadline) => {
                retries += 1;
                log::info!(
                    target: "cybrid_identity",
                    "retrying {label} ({retries} of {}) in {wait:?} after: {error}",
                    policy.max_retries
                );
                sleep.pause(wait);
            }
            _ => return Err((error, setback.progress)),
        }
    }
}

/// Whether a pause of `wait` ends before `deadline`.
fn fits_before(wait: Duration, deadline: Option<Instant>) -> bool {
    match (deadline, Instant::now().checked_add(wait)) {
        (None, _) => true,
        (Some(deadline), Some(resume)) => resume < deadline,
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::Setback;
    use std::sync::Mutex;

    fn recorder() -> (SleepFn, Arc<Mutex<Vec<Duration>>>) {
        let waits = Arc::new(Mutex::new(Vec::new()));
        let w = waits.clone();
        (SleepFn(Arc::new(move |d| w.lock().unwrap().push(d))), waits)
    }

    fn failed(progress: Progress) -> Step<u8> {
        Step::Failed((Error::Pagination("x".into()), Setback::new(progress)))
    }

    #[test]
    fn retries_as_the_policy_says_then_reports_the_last_progress() {
        let policy = RetryPolicy::default().with_jitter(|| 1.0);
        let (sleep, waits) = recorder();
        let mut n = 0;
        let got = with_retries(
            &policy,
            &sleep,
            Method::Get,
            "GET /t",
            deadline_after(Duration::MAX),
            || {
                n += 1;
                failed(Progress::MaybeSent)
            },
        );
        assert_eq!(got.unwrap_err().1, Progress::MaybeSent);
        assert_eq!(n, 3);
        assert_eq!(
            *waits.lock().unwrap(),
            [Duration::from_millis(500), Duration::from_secs(1)]
        );
    }

    #[test]
    fn again_is_free_stop_is_final_and_a_short_deadline_ends_retries() {
        let policy = RetryPolicy::default().with_jitter(|| 1.0);
        let (sleep, waits) = recorder();
        let mut steps = vec![Step::Done(7), Step::Again, Step::Again]
            .into_iter()
            .rev();
        let got = with_retries(&policy, &sleep, Method::Post, "POST /t", None, || {
            steps.next().unwrap()
        });
        assert_eq!(got.ok(), Some(7));
        let got = with_retries(&policy, &sleep, Method::Get, "GET /t", None, || {
            Step::<u8>::Stop(Error::Pagination("s".into()))
        });
        assert_eq!(got.unwrap_err().1, Progress::NotSent);
        let soon = deadline_after(Duration::from_millis(100));
        let got = with_retries(&policy, &sleep, Method::Get, "GET /t", soon, || {
            failed(Progress::NotSent)
        });
        assert_eq!(got.unwrap_err().1, Progress::NotSent);
        assert!(
            waits.lock().unwrap().is_empty(),
            "a 500 ms pause does not fit in 100 ms"
        );
    }
}
