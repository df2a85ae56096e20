//! Which proxy a request goes through: the one set on the builder, none, or the
//! environment's, read the way Go's `net/http` reads it. A loopback target never goes
//! through a proxy, so the emulator works whatever the environment says.

use std::fmt;

use super::url::{host_of, is_loopback};

/// How the client picks a proxy.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) enum ProxyChoice {
    /// `HTTPS_PROXY` / `https_proxy` for https targets, `HTTP_PROXY` / `http_proxy` for http
    /// ones, `ALL_PROXY` / `all_proxy` for either, minus the hosts of `NO_PROXY`.
    #[default]
    Environment,
    /// This proxy, for every target but loopback.
    Url(String),
    /// No proxy at all.
    Direct,
}

impl fmt::Debug for ProxyChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyChoice::Environment => f.write_str("Environment"),
            ProxyChoice::Url(url) => f
                .debug_tuple("Url")
                .field(&redact_credentials(url))
                .finish(),
            ProxyChoice::Direct => f.write_str("Direct"),
        }
    }
}

/// The proxy URL for `target` (a URL the builder checked), reading variables with `var`.
pub(crate) fn proxy_for(
    target: &str,
    choice: &ProxyChoice,
    var: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let host = host_of(target);
    if is_loopback(host) {
        return None;
    }
    match choice {
        ProxyChoice::Direct => None,
        ProxyChoice::Url(url) => Some(url.clone()),
        ProxyChoice::Environment => {
            let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
            let https = target
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
            let names: [&str; 4] = if https {
                ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
            } else {
                ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
            };
            let proxy = names.iter().find_map(|name| var(name))?;
            let no_proxy = var("NO_PROXY")
                .or_else(|| var("no_proxy"))
                .unwrap_or_default();
            (!bypasses(&no_proxy, host)).then_some(proxy)
        }
    }
}

/// Whether `host` matches `NO_PROXY`: `*`, the host itself, or a domain it is under
/// (`example.com` and `.example.com` both cover `api.example.com`). Ports are ignored.
fn bypasses(no_proxy: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    no_proxy
        .split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.trim_start_matches('[');
            let entry = match entry.rsplit_once(':') {
                // `host:port`, not an IPv6 address.
                Some((name, port))
                    if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    name
                }
                _ => entry.trim_end_matches(']'),
            };
            let domain = entry.trim_start_matches('.').to_ascii_lowercase();
            host == domain || host.ends_with(&format!(".{domain}"))
        })
}

/// A proxy URL with its credentials, if any, replaced: for `Debug` and errors.
pub(crate) fn redact_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "[not a URL]".to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://[redacted]@{host}{}", &rest[end..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_environment_is_read_by_scheme_and_loopback_never_proxied() {
        let vars = env(&[
            ("HTTPS_PROXY", "http://s:1"),
            ("http_proxy", "http://p:2"),
            ("NO_PROXY", "internal.example, .corp"),
        ]);
        let choice = ProxyChoice::Environment;
        assert_eq!(
            proxy_for("https://bank.sandbox.cybrid.app", &choice, &vars).as_deref(),
            Some("http://s:1")
        );
        assert_eq!(
            proxy_for("http://example.com", &choice, &vars).as_deref(),
            Some("http://p:2")
        );
        for direct in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
            "https://internal.example",
            "https://a.b.corp",
        ] {
            assert_eq!(proxy_for(direct, &choice, &vars), None, "{direct}");
        }
        // Lowercase http_proxy is for http targets only; ALL_PROXY is for both.
        let vars = env(&[("http_proxy", "http://p:2")]);
        assert_eq!(
            proxy_for("https://bank.sandbox.cybrid.app", &choice, &vars),
            None
        );
        let vars = env(&[("ALL_PROXY", "socks5://s:3"), ("NO_PROXY", "*")]);
        assert_eq!(proxy_for("https://x.example", &choice, &vars), None);
        let vars = env(&[("ALL_PROXY", "socks5://s:3"), ("NO_PROXY", "x.example:443")]);
        assert_eq!(
            proxy_for("https://y.example", &choice, &vars).as_deref(),
            Some("socks5://s:3")
        );
        assert_eq!(proxy_for("https://x.example", &choice, &vars), None);
    }

    #[test]
    fn set_proxies_and_direct_ignore_the_environment() {
        let vars = env(&[("HTTPS_PROXY", "http://s:1")]);
        let set = ProxyChoice::Url("http://u:p@corp:3128".into());
        assert_eq!(
            proxy_for("https://x.example", &set, &vars).as_deref(),
            Some("http://u:p@corp:3128")
        );
        assert_eq!(proxy_for("http://127.0.0.1:9", &set, &vars), None);
        assert_eq!(
            proxy_for("https://x.example", &ProxyChoice::Direct, &vars),
            None
        );
        assert_eq!(format!("{set:?}"), "Url(\"http://[redacted]@corp:3128\")");
        assert_eq!(
            redact_credentials("socks5://corp:1080"),
            "socks5://corp:1080"
        );
    }
}
