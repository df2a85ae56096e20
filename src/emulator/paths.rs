//! The emulator's paths as data: each template, the methods it allows, and how a request's
//! path and method are matched to one (404 for an unknown path, 405 with `Allow` for a method
//! the path does not take, `HEAD` wherever `GET` is).

/// What a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Token,
    Records,
    Record,
    Keys,
    Key,
    Banks,
    Bank,
    Customers,
    Customer,
    Verifications,
    Verification,
    Faults,
    Stats,
}

/// Each endpoint's template and methods (`HEAD` is added wherever `GET` is).
const TEMPLATES: &[(Endpoint, &str, &[&str])] = &[
    (Endpoint::Token, "/oauth/token", &["POST"]),
    (Endpoint::Records, "/api/identity_records", &["GET", "POST"]),
    (
        Endpoint::Record,
        "/api/identity_records/{identity_record_guid}",
        &["GET"],
    ),
    (
        Endpoint::Keys,
        "/api/bank_verification_keys",
        &["GET", "POST"],
    ),
    (
        Endpoint::Key,
        "/api/bank_verification_keys/{verification_key_guid}",
        &["GET"],
    ),
    (Endpoint::Banks, "/api/banks", &["GET"]),
    (Endpoint::Bank, "/api/banks/{bank_guid}", &["GET"]),
    (Endpoint::Customers, "/api/customers", &["GET", "POST"]),
    (
        Endpoint::Customer,
        "/api/customers/{customer_guid}",
        &["GET"],
    ),
    (
        Endpoint::Verifications,
        "/api/identity_verifications",
        &["GET", "POST"],
    ),
    (
        Endpoint::Verification,
        "/api/identity_verifications/{identity_verification_guid}",
        &["GET"],
    ),
    (
        Endpoint::Faults,
        "/_emulator/faults",
        &["GET", "POST", "DELETE"],
    ),
    (Endpoint::Stats, "/_emulator/stats", &["GET"]),
];

/// How a request matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Matched<'p> {
    /// A known endpoint and method (`HEAD` reported as `GET`), with the path's guid if any.
    Route(Endpoint, &'static str, Option<&'p str>),
    /// A known path, another method: the methods it allows, for `Allow`.
    MethodNotAllowed(&'static str, String),
    /// No such path.
    NotFound,
}

/// Matches `method` and `path` (trailing slashes ignored).
pub(crate) fn match_route<'p>(method: &str, path: &'p str) -> Matched<'p> {
    let path = path.trim_end_matches('/');
    for (endpoint, template, methods) in TEMPLATES {
        let Some(param) = matches_template(template, path) else {
            continue;
        };
        let method = if method == "HEAD" { "GET" } else { method };
        if methods.contains(&method) {
            let method = methods
                .iter()
                .find(|m| **m == method)
                .copied()
                .unwrap_or("GET");
            return Matched::Route(*endpoint, method, param);
        }
        let mut allow: Vec<&str> = methods.to_vec();
        if allow.contains(&"GET") {
            allow.push("HEAD");
        }
        return Matched::MethodNotAllowed(template, allow.join(", "));
    }
    Matched::NotFound
}

/// `Some(param)` when `path` fits `template` (`param` is the `{..}` segment, if any).
fn matches_template<'p>(template: &str, path: &'p str) -> Option<Option<&'p str>> {
    match template.split_once("/{") {
        None => (template == path).then_some(None),
        Some((prefix, _)) => {
            let rest = path.strip_prefix(prefix)?.strip_prefix('/')?;
            (!rest.is_empty() && !rest.contains('/')).then_some(Some(rest))
        }
    }
}

/// The key a request is counted under in the stats: its method (or `OTHER`) and its
/// template (or `(unknown path)`), so the counters stay few whatever clients send.
pub(crate) fn stats_key(method: &str, path: &str) -> String {
    const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    let method = METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("OTHER");
    let path = path.trim_end_matches('/');
    let template = TEMPLATES
        .iter()
        .find(|(_, template, _)| matches_template(template, path).is_some())
        .map_or("(unknown path)", |(_, template, _)| template);
    format!("{method} {template}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_unknown_paths_and_wrong_methods() {
        let g = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            match_route("GET", &format!("/api/identity_records/{g}")),
            Matched::Route(Endpoint::Record, "GET", Some(g))
        );
        assert_eq!(
            match_route("HEAD", "/api/identity_records/"),
            Matched::Route(Endpoint::Records, "GET", None)
        );
        assert_eq!(
            match_route("DELETE", "/api/identity_records"),
            Matched::MethodNotAllowed("/api/identity_records", "GET, POST, HEAD".into())
        );
        for unknown in [
            "/../../etc/passwd",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/api/identity_records/a/b",
            "/api",
            "/",
        ] {
            assert_eq!(match_route("GET", unknown), Matched::NotFound, "{unknown}");
        }
        assert_eq!(
            stats_key("GET", &format!("/api/identity_records/{g}")),
            "GET /api/identity_records/{identity_record_guid}"
        );
        assert_eq!(
            stats_key("FROB", &"/x".repeat(1000)),
            "OTHER (unknown path)"
        );
    }
}
