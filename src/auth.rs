//! OAuth 2.0 client credentials: the secret, the token cache, and one refresh at a time.

use std::fmt;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::error::Error;

/// The scopes asked for when none are set: everything the identity calls need.
pub const DEFAULT_SCOPES: [&str; 4] = [
    "customers:read",
    "customers:write",
    "banks:read",
    "banks:write",
];

/// The longest a token is refreshed ahead of its expiry.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// A string that must never be printed: a client secret or an access token.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself; the only way to see it.
    pub fn expose(&self) -> &str {
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
pub enum Credentials {
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

/// The body of the token request, in Cybrid's JSON form.
pub(crate) fn token_request_body(
    client_id: &str,
    client_secret: &Secret,
    scopes: &[String],
) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        grant_type: &'a str,
        client_id: &'a str,
        client_secret: &'a str,
        scope: String,
    }
    let body = Body {
        grant_type: "client_credentials",
        client_id,
        client_secret: client_secret.expose(),
        scope: scopes.join(" "),
    };
    // Serializing strings into JSON cannot fail.
    serde_json::to_vec(&body).expect("a struct of strings serializes")
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
    /// `expires_in` seconds from `received`, refreshed a tenth of its life early (at most a
    /// minute early), so a call never starts with a token about to lapse.
    pub(crate) fn new(value: Secret, expires_in: Option<u64>, received: Instant) -> Self {
        let refresh_at = expires_in.map(|secs| {
            let life = Duration::from_secs(secs);
            received + life - (life / 10).min(MAX_REFRESH_MARGIN)
        });
        CachedToken { value, refresh_at }
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
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
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
                let mut state = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
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
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.token.as_ref().is_some_and(|t| t.value == *rejected) {
            state.token = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(!format!("{t:?}").contains("tok\""));
    }

    #[test]
    fn refresh_margin_is_a_tenth_capped_at_a_minute() {
        let now = Instant::now();
        let t = CachedToken::new(Secret::new("a"), Some(10), now);
        assert_eq!(t.refresh_at, Some(now + Duration::from_secs(9)));
        let t = CachedToken::new(Secret::new("a"), Some(3600), now);
        assert_eq!(t.refresh_at, Some(now + Duration::from_secs(3540)));
        let t = CachedToken::new(Secret::new("a"), None, now);
        assert!(t.fresh_at(now + Duration::from_secs(1_000_000)));
    }

    #[test]
    fn token_request_is_cybrids_json() {
        let body = token_request_body("id", &Secret::new("sec"), &["a:b".into(), "c:d".into()]);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"grant_type":"client_credentials","client_id":"id","client_secret":"sec","scope":"a:b c:d"}"#
        );
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
