//! OAuth 2.0 client credentials: the secret, the token cache, and one refresh at a time.

use std::fmt;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::sync::lock;

/// The scopes asked for when none are set: everything the identity calls need.
pub const DEFAULT_SCOPES: [&str; 4] = [
    "customers:read",
    "customers:write",
    "banks:read",
    "banks:write",
];

/// The longest a token is refreshed ahead of its expiry.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// The longest lifetime believed: `expires_in` comes from a server, and a huge value must
/// neither overflow an `Instant` nor keep a token forever.
const MAX_TOKEN_LIFE: Duration = Duration::from_secs(365 * 24 * 3600);

/// A string that must never be printed: a client secret or an access token.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(Zeroizing<String>);

/// The value is wiped when the secret is dropped (its one field is `Zeroizing`).
impl zeroize::ZeroizeOnDrop for Secret {}

impl Secret {
    /// Wraps a secret value (moved in, not copied).
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The value itself; the only way to see it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How the client authenticates.
#[derive(Clone, Debug)]
pub(crate) enum Credentials {
    /// OAuth 2.0 client credentials: tokens are fetched and refreshed as needed.
    ClientCredentials {
        /// The client id (not secret, but shown only in part).
        client_id: String,
        /// The client secret.
        client_secret: Secret,
    },
    /// A fixed bearer token, used as is and never refreshed.
    BearerToken(Secret),
}

/// RFC 6749's token response (Cybrid also sends `created_at`, ignored here).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    #[serde(default)]
    pub(crate) token_type: Option<String>,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// A token and when to stop using it.
#[derive(Clone, Debug)]
pub(crate) struct CachedToken {
    pub(crate) value: Secret,
    /// When to fetch a new one: a margin before the server's expiry.
    refresh_at: Option<Instant>,
}

impl CachedToken {
    /// `expires_in` seconds from `received` (a year at most), refreshed a tenth of its life
    /// early (at most a minute early), so a call never starts with a token about to lapse.
    pub(crate) fn new(value: Secret, expires_in: Option<u64>, received: Instant) -> Self {
        let refresh_at = expires_in.map(|secs| {
            let life = Duration::from_secs(secs).min(MAX_TOKEN_LIFE);
            let use_for = life - (life / 10).min(MAX_REFRESH_MARGIN);
            // Should even a year not fit in this platform's `Instant`, refresh now.
            received.checked_add(use_for).unwrap_or(received)
        });
        CachedToken { value, refresh_at }
    }

    /// How long it is used, for logs (never the token).
    pub(crate) fn lifetime(&self) -> String {
        match self.refresh_at {
            Some(at) => format!(
                "used for {} s",
                at.saturating_duration_since(Instant::now()).as_secs()
            ),
            None => "no expiry given".to_owned(),
        }
    }

    fn fresh_at(&self, now: Instant) -> bool {
        self.refresh_at.is_none_or(|at| now < at)
    }
}

#[derive(Default)]
struct CacheState {
    token: Option<CachedToken>,
    refreshing: bool,
}

/// The token cache. However many threads ask at once, one fetches and the rest wait for it.
#[derive(Default)]
pub(crate) struct TokenCache {
    state: Mutex<CacheState>,
    refreshed: Condvar,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCache { .. }")
    }
}

impl TokenCache {
    /// A fresh token: the cached one, or one from `fetch`, called by one thread at a time.
    pub(crate) fn get(
        &self,
        fetch: impl FnOnce() -> Result<CachedToken, Error>,
    ) -> Result<Secret, Error> {
        let mut state = lock(&self.state);
        loop {
            if let Some(token) = state.token.as_ref().filter(|t| t.fresh_at(Instant::now())) {
                return Ok(token.value.clone());
            }
            if !state.refreshing {
                break;
            }
            state = self
                .refreshed
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
        state.refreshing = true;
        drop(state);

        // Clear the flag even if `fetch` panics, or every other thread would wait forever.
        struct Done<'a>(&'a TokenCache, Option<CachedToken>);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                let mut state = lock(&self.0.state);
                state.refreshing = false;
                if let Some(token) = self.1.take() {
                    state.token = Some(token);
                }
                self.0.refreshed.notify_all();
            }
        }
        let mut done = Done(self, None);
        let token = fetch()?;
        let value = token.value.clone();
        done.1 = Some(token);
        Ok(value)
    }

    /// Forgets `rejected` after the API refused it, unless another thread already replaced it.
    pub(crate) fn invalidate(&self, rejected: &Secret) {
        let mut state = lock(&self.state);
        if state.token.as_ref().is_some_and(|t| t.value == *rejected) {
            state.token = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client secret, the access token (cached, and as the token answer's field moves
    /// into it) are `Secret`s: wiped on drop. Compile-time: this fails to build if not.
    #[test]
    fn secrets_are_wiped_on_drop() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<Secret>();
        wiped_on_drop::<Zeroizing<String>>();
        let secret = Secret::new("s3cr3t");
        assert_eq!(secret.expose(), "s3cr3t");
    }

    #[test]
    fn secrets_never_print() {
        assert_eq!(format!("{:?}", Secret::new("s3cr3t")), "[redacted]");
        let creds = Credentials::ClientCredentials {
            client_id: "id".into(),
            client_secret: Secret::new("s3cr3t"),
        };
        assert_eq!(
            format!("{creds:?}"),
            r#"ClientCredentials { client_id: "id", client_secret: [redacted] }"#
        );
        let t = TokenResponse {
            access_token: "tok".into(),
            token_type: None,
            expires_in: Some(3),
        };
        assert_eq!(
            format!("{t:?}"),
            r#"TokenResponse { access_token: "[redacted]", token_type: None, expires_in: Some(3) }"#
        );
        assert_eq!(format!("{:?}", TokenCache::default()), "TokenCache { .. }");
    }

    #[test]
    fn refresh_margin_is_a_tenth_capped_at_a_minute() {
        let now = Instant::now();
        let t = CachedToken::new(Secret::new("a"), Some(10), now);
        assert_eq!(t.refresh_at, Some(now + Duration::from_secs(9)));
        let t = CachedToken::new(Secret::new("a"), Some(3600), now);
        assert_eq!(t.refresh_at, Some(now + Duration::from_secs(3540)));
        // A year at most (365 days), less the minute's margin.
        let t = CachedToken::new(Secret::new("a"), Some(u64::MAX), now);
        assert_eq!(
            t.refresh_at,
            Some(now + Duration::from_secs(31_536_000 - 60))
        );
        let t = CachedToken::new(Secret::new("a"), None, now);
        assert!(t.fresh_at(now + Duration::from_secs(1_000_000)));
    }

    #[test]
    fn a_token_is_fresh_until_its_refresh_time_and_logs_show_how_long() {
        let now = Instant::now();
        let t = CachedToken::new(Secret::new("a"), Some(10), now);
        let at = now + Duration::from_secs(9);
        assert!(t.fresh_at(at - Duration::from_millis(1)));
        assert!(!t.fresh_at(at), "stale from its refresh time on");
        let hour = CachedToken::new(Secret::new("a"), Some(3600), Instant::now());
        // 3,540 s from when it was received, counted down by the time this test took.
        let shown = hour.lifetime();
        assert!(
            matches!(shown.as_str(), "used for 3539 s" | "used for 3540 s"),
            "{shown}"
        );
        let forever = CachedToken::new(Secret::new("a"), None, now);
        assert_eq!(forever.lifetime(), "no expiry given");
    }

    /// A cache that never stored its token or never cleared its flag would hang its callers:
    /// this fails in seconds instead.
    #[test]
    fn a_fetch_is_stored_and_wakes_the_thread_waiting_for_it() {
        use std::sync::{Arc, mpsc};
        let cache = Arc::new(TokenCache::default());
        let (sent, got) = mpsc::channel();
        let (started, fetching) = mpsc::channel();
        let (c, s) = (cache.clone(), sent.clone());
        std::thread::spawn(move || {
            let token = c.get(|| {
                started.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(200));
                Ok(CachedToken::new(Secret::new("one"), None, Instant::now()))
            });
            s.send(token.map(|t| t.expose().to_owned())).unwrap();
        });
        fetching.recv_timeout(Duration::from_secs(10)).unwrap();
        // Asks while the first fetch is under way: waits for it rather than fetch again.
        std::thread::spawn(move || {
            let token = cache.get(|| panic!("fetched twice"));
            sent.send(token.map(|t| t.expose().to_owned())).unwrap();
        });
        for _ in 0..2 {
            let token = got
                .recv_timeout(Duration::from_secs(10))
                .expect("a caller hung");
            assert_eq!(token.unwrap(), "one");
        }
    }

    #[test]
    fn invalidate_only_drops_the_rejected_token() {
        let cache = TokenCache::default();
        let first = cache
            .get(|| Ok(CachedToken::new(Secret::new("one"), None, Instant::now())))
            .unwrap();
        cache.invalidate(&Secret::new("other"));
        assert_eq!(cache.get(|| panic!("must reuse")).unwrap(), first);
        cache.invalidate(&first);
        let second = cache
            .get(|| Ok(CachedToken::new(Secret::new("two"), None, Instant::now())))
            .unwrap();
        assert_eq!(second.expose(), "two");
    }
}
