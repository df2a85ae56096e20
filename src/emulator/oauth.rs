//! The emulator's OAuth 2.0 server: client-credentials tokens (RFC 6749 §4.4, with Cybrid's
//! JSON body; a form body and HTTP Basic client authentication are accepted too, as the RFC
//! allows), and the bearer and scope check in front of every API route.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use super::http::{Request, Response, form_pairs, percent_decode};
use crate::auth::DEFAULT_SCOPES;
use crate::rand::hex_guid;
use crate::sync::lock;

/// The most live tokens kept: beyond it the oldest is forgotten first, so a client that
/// asks for a token per call cannot grow the emulator without limit.
pub(crate) const MAX_LIVE_TOKENS: usize = 10_000;

/// A granted access token: its scopes as bits of `DEFAULT_SCOPES`, and its expiry.
struct Grant {
    scopes: u8,
    expires: Instant,
}

/// The live tokens, and the order they were granted in (for forgetting the oldest).
#[derive(Default)]
struct Grants {
    by_token: HashMap<String, Grant>,
    order: VecDeque<String>,
}

impl Grants {
    fn insert(&mut self, token: String, grant: Grant, now: Instant) {
        // Forget the expired and, past the cap, the oldest.
        while let Some(oldest) = self.order.front() {
            let expired = self.by_token.get(oldest).is_none_or(|g| g.expires <= now);
            if !expired && self.order.len() < MAX_LIVE_TOKENS {
                break;
            }
            if let Some(oldest) = self.order.pop_front() {
                self.by_token.remove(&oldest);
            }
        }
        self.order.push_back(token.clone());
        self.by_token.insert(token, grant);
    }
}

/// Every scope the emulator grants: the identity records' ([`DEFAULT_SCOPES`], what a
/// token request without `scope` gets) and today's KYC calls'.
pub(crate) const SCOPES: [&str; 8] = [
    "customers:read",
    "customers:write",
    "banks:read",
    "banks:write",
    "customers:execute",
    "identity_verifications:read",
    "identity_verifications:execute",
    "customers:pii:read",
];

fn scope_bit(scope: &str) -> u8 {
    SCOPES
        .iter()
        .position(|s| *s == scope)
        .map_or(0, |i| 1 << i)
}

/// The client the token endpoint knows, and the tokens it granted.
pub(crate) struct OAuth {
    client_id: String,
    client_secret: String,
    token_ttl: Duration,
    grants: Mutex<Grants>,
    requests: AtomicU64,
}

impl OAuth {
    pub(crate) fn new(client_id: String, client_secret: String, token_ttl: Duration) -> Self {
        OAuth {
            client_id,
            client_secret,
            token_ttl,
            grants: Mutex::default(),
            requests: AtomicU64::new(0),
        }
    }

    /// Requests to the token endpoint, granted or not.
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// `POST /oauth/token`.
    pub(crate) fn token(&self, request: &Request) -> Response {
        self.requests.fetch_add(1, Ordering::SeqCst);
        match self.grant(request) {
            Ok(response) | Err(response) => response.header("cache-control", "no-store".to_owned()),
        }
    }

    fn grant(&self, request: &Request) -> Result<Response, Response> {
        let fields = token_fields(request)?;
        let basic = request.header("authorization").and_then(basic_credentials);
        let (id, secret) = match (&basic, fields.get("client_id"), fields.get("client_secret")) {
            (Some((id, secret)), _, _) => (id.clone(), secret.clone()),
            (None, Some(id), Some(secret)) => (id.clone(), secret.clone()),
            _ => {
                return Err(oauth_error(
                    400,
                    "invalid_request",
                    "client_id and client_secret are required",
                ));
            }
        };
        match fields.get("grant_type").map(String::as_str) {
            Some("client_credentials") => {}
            Some(_) => {
                return Err(oauth_error(
                    400,
                    "unsupported_grant_type",
                    "only client_credentials is supported",
                ));
            }
            None => {
                return Err(oauth_error(
                    400,
                    "invalid_request",
                    "grant_type is required",
                ));
            }
        }
        if id != self.client_id || secret != self.client_secret {
            return Err(
                oauth_error(401, "invalid_client", "client authentication failed").header(
                    "www-authenticate",
                    "Basic realm=\"cybrid-emulator\"".to_owned(),
                ),
            );
        }
        let scopes: Vec<String> = match fields.get("scope") {
            Some(scope) => scope.split_whitespace().map(str::to_owned).collect(),
            None => DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        };
        if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
            let why = format!("scope {bad:?} is not granted to this client");
            return Err(oauth_error(400, "invalid_scope", &why));
        }
        let token = hex_guid() + &hex_guid();
        let scope = scopes.join(" ");
        let expires = Instant::now().checked_add(self.token_ttl).ok_or_else(|| {
            oauth_error(
                500,
                "server_error",
                "the emulator's token lifetime is too long",
            )
        })?;
        let grant = Grant {
            scopes: scopes.iter().fold(0, |bits, s| bits | scope_bit(s)),
            expires,
        };
        lock(&self.grants).insert(token.clone(), grant, Instant::now());
        Ok(Response::json(
            200,
            &json!({
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_ttl.as_secs(),
                "scope": scope,
                "created_at": time::OffsetDateTime::now_utc().unix_timestamp(),
            }),
        ))
    }

    /// `Ok` when the request carries a live bearer token with `scope`; the 401 or 403
    /// answer otherwise. Expired tokens are forgotten here.
    pub(crate) fn authorize(&self, request: &Request, scope: &str) -> Result<(), Response> {
        let token = request.header("authorization").and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
        let allowed = {
            let grants = lock(&self.grants);
            let now = Instant::now();
            token
                .and_then(|t| grants.by_token.get(t.trim()))
                .filter(|grant| grant.expires > now)
                .map(|grant| grant.scopes & scope_bit(scope) != 0)
        };
        match allowed {
            None => Err(Response::error(
                401,
                "unauthorized",
                "Authentication failed: missing, unknown or expired bearer token",
            )),
            Some(false) => Err(Response::error(
                403,
                "invalid_scope",
                &format!("the token lacks the scope {scope}"),
            )),
            Some(true) => Ok(()),
        }
    }
}

/// The token request's fields, from a form or a JSON body.
fn token_fields(request: &Request) -> Result<BTreeMap<String, String>, Response> {
    let is_form = request
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        return Ok(form_pairs(&String::from_utf8_lossy(&request.body))
            .into_iter()
            .collect());
    }
    match serde_json::from_slice::<BTreeMap<String, Value>>(&request.body) {
        Ok(map) => Ok(map
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
            .collect()),
        Err(_) => Err(oauth_error(
            400,
            "invalid_request",
            "the body is neither JSON nor a form",
        )),
    }
}

fn oauth_error(status: u16, code: &str, description: &str) -> Response {
    Response::json(
        status,
        &json!({"error": code, "error_description": description}),
    )
}

fn basic_credentials(header: &str) -> Option<(String, String)> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((percent_decode(id), percent_decode(secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_and_surplus_tokens_are_forgotten_oldest_first() {
        let mut grants = Grants::default();
        let now = Instant::now();
        let live = now + Duration::from_secs(60);
        grants.insert(
            "old".into(),
            Grant {
                scopes: 1,
                expires: now,
            },
            now,
        );
        grants.insert(
            "a".into(),
            Grant {
                scopes: 1,
                expires: live,
            },
            now + Duration::from_millis(1),
        );
        assert!(
            !grants.by_token.contains_key("old"),
            "expired at the next grant"
        );
        for i in 0..MAX_LIVE_TOKENS + 5 {
            grants.insert(
                format!("t{i}"),
                Grant {
                    scopes: 1,
                    expires: live,
                },
                now,
            );
        }
        assert_eq!(grants.by_token.len(), MAX_LIVE_TOKENS);
        assert!(
            !grants.by_token.contains_key("a")
                && grants
                    .by_token
                    .contains_key(&format!("t{}", MAX_LIVE_TOKENS + 4))
        );
        assert_eq!(scope_bit("banks:read") & scope_bit("customers:read"), 0);
        assert_eq!(scope_bit("nope"), 0);
    }
}
