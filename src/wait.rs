//! How long and how often [`crate::Client::wait_for_identity_record`] polls.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::models::IdentityRecord;

type OnChange = Arc<dyn Fn(&IdentityRecord) + Send + Sync>;

/// Settings for waiting until an identity record reaches a final state.
#[derive(Clone)]
pub struct WaitOptions {
    /// Give up after this long. Default 30 s, as Cybrid's own demo does.
    pub timeout: Duration,
    /// The first pause between polls. Default 250 ms.
    pub initial_interval: Duration,
    /// The longest pause between polls; each pause doubles up to it. Default 2 s.
    pub max_interval: Duration,
    on_change: Option<OnChange>,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(30),
            initial_interval: Duration::from_millis(250),
            max_interval: Duration::from_secs(2),
            on_change: None,
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
            .finish()
    }
}

impl WaitOptions {
    /// Sets [`WaitOptions::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the first and the longest pause between polls.
    pub fn interval(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_interval = initial;
        self.max_interval = max.max(initial);
        self
    }

    /// Calls `f` with the record each time its state changes, the first poll included.
    pub fn on_change(mut self, f: impl Fn(&IdentityRecord) + Send + Sync + 'static) -> Self {
        self.on_change = Some(Arc::new(f));
        self
    }

    pub(crate) fn notify(&self, record: &IdentityRecord) {
        if let Some(f) = &self.on_change {
            f(record);
        }
    }

    /// The pause after `current`: doubled, capped at the maximum.
    pub(crate) fn next_interval(&self, current: Duration) -> Duration {
        current.saturating_mul(2).min(self.max_interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
