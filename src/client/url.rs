//! The checks a URL must pass before a bearer token is sent to it.

use std::net::IpAddr;

use crate::error::Error;

/// Refuses URLs that would send a bearer token in clear text across a network, and URLs
/// with credentials, queries or fragments. Returns the URL without a trailing slash.
pub(crate) fn check_url(name: &str, url: &str) -> Result<String, Error> {
    let url = url.trim();
    let bad = |why: &str| Error::config(format!("{name} {url:?}: {why}"));
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("expected https://host[:port][/path]"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if rest.contains(['?', '#']) {
        return Err(bad("a query or fragment is not allowed"));
    }
    if authority.contains('@') {
        return Err(bad("credentials in the URL are not allowed"));
    }
    let host = host_of(url);
    if host.is_empty() {
        return Err(bad("the host is missing"));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(bad(
                "http:// is allowed only for loopback hosts (127.0.0.1, ::1, localhost), so a bearer \
                 token never crosses a network in clear text; use https://",
            ));
        }
        _ => {
            return Err(bad(
                "the scheme must be https:// (or http:// to a loopback host)",
            ));
        }
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// The host of `scheme://host[:port]/…`, without brackets around an IPv6 address.
pub(crate) fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    }
}

pub(crate) fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_refuse_clear_text_off_loopback() {
        for ok in [
            "https://bank.sandbox.cybrid.app",
            "http://127.0.0.1:8080",
            "http://localhost:1/",
            "http://[::1]:9",
            "http://127.3.2.1",
        ] {
            assert!(check_url("base_url", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://bank.sandbox.cybrid.app",
            "http://10.0.0.1",
            "http://127.0.0.1.evil.com",
            "ftp://x",
            "bank.sandbox.cybrid.app",
            "https://u:p@host",
            "https://host/?q=1",
            "https://",
        ] {
            assert!(
                matches!(check_url("base_url", bad), Err(Error::Config(_))),
                "{bad}"
            );
        }
        assert_eq!(
            check_url("b", "http://127.0.0.1:8/").unwrap(),
            "http://127.0.0.1:8"
        );
    }
}
