//! A short-lived cache of resolved addresses in front of ureq's resolver.
//!
//! ureq resolves the host before every request, even one that then reuses a pooled
//! connection, and when a timeout is set it does so on a freshly spawned thread, so that the
//! lookup can be abandoned at the deadline. Measured here, that thread cost a loopback GET
//! about 30 to 50 µs, a third of the whole call (see README, Performance). Caching the answer
//! for a few seconds keeps the timeout on the lookups that happen and removes them from the
//! calls in between.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::config::Config;

use super::stage::before_request;
use crate::sync::lock;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a resolved address is reused: short, so DNS changes (fail-over) reach the client
/// within seconds.
const TTL: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub(crate) struct CachingResolver {
    inner: DefaultResolver,
    cache: Mutex<HashMap<String, (ResolvedSocketAddrs, Instant)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or(""),
            uri.authority().map_or("", |a| a.as_str())
        );
        let now = Instant::now();
        {
            let cache = lock(&self.cache);
            if let Some((addrs, at)) = cache.get(&key)
                && now.duration_since(*at) < TTL
            {
                return Ok(addrs.clone());
            }
        }
        // A name that did not resolve stopped the request before it left.
        let addrs = self
            .inner
            .resolve(uri, config, timeout)
            .map_err(before_request)?;
        let mut cache = lock(&self.cache);
        cache.retain(|_, (_, at)| now.duration_since(*at) < TTL);
        cache.insert(key, (addrs.clone(), now));
        Ok(addrs)
    }
}
