//! Cybrid's identity API, route by route, over the emulator's state.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use super::faults::{Fault, FaultKind, FaultSet};
use super::http::{Delivery, Handler, Request, Response};
use super::state::{Grant, Store, new_guid};
use crate::attestation::MAX_TOKEN_CHARS;
use crate::auth::DEFAULT_SCOPES;
use crate::models::{GUID_LEN, MAX_PER_PAGE};

/// What every connection thread shares.
pub(crate) struct Shared {
    pub(crate) store: Mutex<Store>,
    pub(crate) faults: FaultSet,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) token_ttl: Duration,
    requests: Mutex<BTreeMap<String, u64>>,
    connections: AtomicU64,
    token_requests: AtomicU64,
    next_request_id: AtomicU64,
}

impl Shared {
    pub(crate) fn new(
        store: Store,
        client_id: String,
        client_secret: String,
        token_ttl: Duration,
    ) -> Self {
        Shared {
            store: Mutex::new(store),
            faults: FaultSet::default(),
            client_id,
            client_secret,
            token_ttl,
            requests: Mutex::default(),
            connections: AtomicU64::new(0),
            token_requests: AtomicU64::new(0),
            next_request_id: AtomicU64::new(1),
        }
    }

    pub(crate) fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The counters of `GET /_emulator/stats`.
    pub(crate) fn stats(&self) -> Value {
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        json!({
            "requests": requests,
            "connections": self.connections.load(Ordering::SeqCst),
            "token_requests": self.token_requests.load(Ordering::SeqCst),
            "records": self.store().records.len(),
        })
    }

    fn route(&self, request: &Request) -> Response {
        let path = request.path.trim_end_matches('/');
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let method = request.method.as_str();
        match (method, segments.as_slice()) {
            ("POST", ["oauth", "token"]) => self.token(request),
            ("POST", ["api", "identity_records"]) => {
                self.with_scope(request, "customers:write", || self.create_record(request))
            }
            ("GET", ["api", "identity_records"]) => {
                self.with_scope(request, "customers:read", || self.list_records(request))
            }
            ("GET", ["api", "identity_records", guid]) => {
                self.with_scope(request, "customers:read", || self.get_record(guid))
            }
            ("POST", ["api", "bank_verification_keys"]) => {
                self.with_scope(request, "banks:write", || self.create_key(request))
            }
            ("GET", ["api", "bank_verification_keys"]) => {
                self.with_scope(request, "banks:read", || self.list_keys(request))
            }
            ("GET", ["api", "bank_verification_keys", guid]) => {
                self.with_scope(request, "banks:read", || self.get_key(guid))
            }
            ("POST", ["_emulator", "faults"]) => self.add_fault(request),
            ("DELETE", ["_emulator", "faults"]) => {
                self.faults.clear();
                Response::json(200, &json!({"faults": []}))
            }
            ("GET", ["_emulator", "faults"]) => {
                Response::json(200, &json!({"faults": self.faults.list()}))
            }
            ("GET", ["_emulator", "stats"]) => Response::json(200, &self.stats()),
            (
                _,
                ["oauth", "token"]
                | ["api", "identity_records" | "bank_verification_keys", ..]
                | ["_emulator", ..],
            ) => error(
                405,
                "method_not_allowed",
                &format!("{method} is not allowed on {path}"),
            ),
            _ => error(404, "not_found", &format!("no route for {method} {path}")),
        }
    }

    /// RFC 6749 §4.4 with Cybrid's JSON body; a form body and HTTP Basic client
    /// authentication are accepted too, as RFC 6749 allows.
    fn token(&self, request: &Request) -> Response {
        self.token_requests.fetch_add(1, Ordering::SeqCst);
        let is_form = request
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
        let fields: BTreeMap<String, String> = if is_form {
            form_pairs(&String::from_utf8_lossy(&request.body))
                .into_iter()
                .collect()
        } else {
            match serde_json::from_slice::<BTreeMap<String, Value>>(&request.body) {
                Ok(map) => map
                    .into_iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
                    .collect(),
                Err(_) => {
                    return oauth_error(
                        400,
                        "invalid_request",
                        "the body is neither JSON nor a form",
                    );
                }
            }
        };
        let basic = request.header("authorization").and_then(basic_credentials);
        let (id, secret) = match (&basic, fields.get("client_id"), fields.get("client_secret")) {
            (Some((id, secret)), _, _) => (id.clone(), secret.clone()),
            (None, Some(id), Some(secret)) => (id.clone(), secret.clone()),
            _ => {
                return oauth_error(
                    400,
                    "invalid_request",
                    "client_id and client_secret are required",
                );
            }
        };
        match fields.get("grant_type").map(String::as_str) {
            Some("client_credentials") => {}
            Some(_) => {
                return oauth_error(
                    400,
                    "unsupported_grant_type",
                    "only client_credentials is supported",
                );
            }
            None => return oauth_error(400, "invalid_request", "grant_type is required"),
        }
        if id != self.client_id || secret != self.client_secret {
            return oauth_error(401, "invalid_client", "client authentication failed").header(
                "www-authenticate",
                "Basic realm=\"cybrid-emulator\"".to_owned(),
            );
        }
        let scopes: Vec<String> = match fields.get("scope") {
            Some(scope) => scope.split_whitespace().map(str::to_owned).collect(),
            None => DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        };
        if let Some(bad) = scopes
            .iter()
            .find(|s| !DEFAULT_SCOPES.contains(&s.as_str()))
        {
            return oauth_error(
                400,
                "invalid_scope",
                &format!("scope {bad:?} is not granted to this client"),
            );
        }
        let token = new_guid() + &new_guid();
        let scope = scopes.join(" ");
        self.store().tokens.insert(
            token.clone(),
            Grant {
                scopes,
                expires: Instant::now() + self.token_ttl,
            },
        );
        Response::json(
            200,
            &json!({
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_ttl.as_secs(),
                "scope": scope,
                "created_at": time::OffsetDateTime::now_utc().unix_timestamp(),
            }),
        )
        .header("cache-control", "no-store".to_owned())
    }

    fn with_scope(
        &self,
        request: &Request,
        scope: &str,
        handle: impl FnOnce() -> Response,
    ) -> Response {
        let token = request.header("authorization").and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
        let allowed = {
            let mut store = self.store();
            let now = Instant::now();
            store.tokens.retain(|_, grant| grant.expires > now);
            token
                .and_then(|t| store.tokens.get(t.trim()))
                .map(|grant| grant.scopes.iter().any(|s| s == scope))
        };
        match allowed {
            None => error(
                401,
                "unauthorized",
                "Authentication failed: missing, unknown or expired bearer token",
            ),
            Some(false) => error(
                403,
                "invalid_scope",
                &format!("the token lacks the scope {scope}"),
            ),
            Some(true) => handle(),
        }
    }

    fn create_record(&self, request: &Request) -> Response {
        let body: Value = match serde_json::from_slice(&request.body) {
            Ok(Value::Object(map)) => Value::Object(map),
            _ => return error(400, "invalid_json", "the body is not a JSON object"),
        };
        let Some(customer_guid) = body.get("customer_guid").and_then(Value::as_str) else {
            return error(400, "invalid_parameter", "customer_guid is required");
        };
        if customer_guid.chars().count() != GUID_LEN {
            return error(
                400,
                "invalid_parameter",
                "customer_guid must be 32 characters",
            );
        }
        match body.get("type") {
            None | Some(Value::Null) => {}
            Some(Value::String(t)) if t == "attestation" => {}
            Some(_) => return error(400, "invalid_parameter", "type must be attestation"),
        }
        let Some(token) = body
            .pointer("/attestation_details/token")
            .and_then(Value::as_str)
        else {
            return error(
                400,
                "invalid_parameter",
                "attestation_details.token is required",
            );
        };
        let chars = token.chars().count();
        if chars == 0 || chars > MAX_TOKEN_CHARS {
            return error(
                400,
                "invalid_parameter",
                &format!("attestation_details.token must be 1 to {MAX_TOKEN_CHARS} characters"),
            );
        }
        let view = self.store().add_record(customer_guid, token);
        Response::json(201, &view)
    }

    fn get_record(&self, guid: &str) -> Response {
        let store = self.store();
        match store.records.iter().find(|r| r.guid == guid) {
            Some(r) => Response::json(200, &store.record_view(r, Instant::now())),
            None => error(
                404,
                "not_found",
                &format!("identity record {guid} not found"),
            ),
        }
    }

    fn list_records(&self, request: &Request) -> Response {
        let query = form_pairs(&request.query);
        let (page, per_page) = match paging(&query) {
            Ok(p) => p,
            Err(response) => return response,
        };
        let customers: Option<Vec<String>> =
            query
                .iter()
                .find(|(k, _)| k == "customer_guid")
                .map(|(_, v)| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                });
        let store = self.store();
        let now = Instant::now();
        // Newest first.
        let matching: Vec<_> = store
            .records
            .iter()
            .rev()
            .filter(|r| {
                customers
                    .as_ref()
                    .is_none_or(|c| c.contains(&r.customer_guid))
            })
            .collect();
        let objects: Vec<Value> = matching
            .iter()
            .skip(page * per_page)
            .take(per_page)
            .map(|r| store.record_view(r, now))
            .collect();
        Response::json(
            200,
            &json!({"total": matching.len(), "page": page, "per_page": per_page, "objects": objects}),
        )
    }

    fn create_key(&self, request: &Request) -> Response {
        let body: Value = match serde_json::from_slice(&request.body) {
            Ok(Value::Object(map)) => Value::Object(map),
            _ => return error(400, "invalid_json", "the body is not a JSON object"),
        };
        let field = |name: &str| body.get(name).and_then(Value::as_str);
        let (Some(public_key), Some(nonce), Some(signature)) =
            (field("public_key"), field("nonce"), field("signature"))
        else {
            return error(
                400,
                "invalid_parameter",
                "public_key, nonce and signature are required",
            );
        };
        for (name, value, max) in [
            ("public_key", public_key, 6000),
            ("signature", signature, 6000),
            ("nonce", nonce, 256),
        ] {
            let chars = value.chars().count();
            if chars == 0 || chars > max {
                return error(
                    400,
                    "invalid_parameter",
                    &format!("{name} must be 1 to {max} characters"),
                );
            }
        }
        if field("type").is_some_and(|t| t != "attestation") {
            return error(400, "invalid_parameter", "type must be attestation");
        }
        let algorithm = field("algorithm").unwrap_or("RS512");
        let view = self
            .store()
            .add_key(public_key, nonce, signature, algorithm);
        Response::json(201, &view)
    }

    fn get_key(&self, guid: &str) -> Response {
        let store = self.store();
        match store.keys.iter().find(|k| k.guid == guid) {
            Some(k) => Response::json(200, &store.key_view(k, Instant::now())),
            None => error(
                404,
                "not_found",
                &format!("verification key {guid} not found"),
            ),
        }
    }

    fn list_keys(&self, request: &Request) -> Response {
        let (page, per_page) = match paging(&form_pairs(&request.query)) {
            Ok(p) => p,
            Err(response) => return response,
        };
        let store = self.store();
        let now = Instant::now();
        // Oldest first, so the sandbox's default key leads, as in Cybrid's sandbox.
        let objects: Vec<Value> = store
            .keys
            .iter()
            .skip(page * per_page)
            .take(per_page)
            .map(|k| store.key_view(k, now))
            .collect();
        Response::json(
            200,
            &json!({"total": store.keys.len(), "page": page, "per_page": per_page, "objects": objects}),
        )
    }

    fn add_fault(&self, request: &Request) -> Response {
        match serde_json::from_slice::<Fault>(&request.body) {
            Ok(fault) => match fault.check() {
                Ok(()) => {
                    self.faults.add(fault.clone());
                    Response::json(201, &json!(fault))
                }
                Err(why) => error(400, "invalid_parameter", &why),
            },
            Err(e) => error(400, "invalid_parameter", &format!("not a fault: {e}")),
        }
    }
}

impl Handler for Shared {
    fn handle(&self, request: Request) -> Delivery {
        let key = format!("{} {}", request.method, request.path);
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default() += 1;
        let request_id = format!(
            "emu-{}",
            self.next_request_id.fetch_add(1, Ordering::Relaxed)
        );
        let stamp = |response: Response| response.header("x-request-id", request_id.clone());
        let fault = if request.path.starts_with("/_emulator/") {
            None
        } else {
            self.faults.take(&request.method, &request.path)
        };
        match fault {
            None => Delivery::Whole(stamp(self.route(&request))),
            Some(FaultKind::Delay { ms }) => {
                std::thread::sleep(Duration::from_millis(ms));
                Delivery::Whole(stamp(self.route(&request)))
            }
            Some(FaultKind::Status { status, retry_after_s }) => {
                let mut response = error(status, "injected_fault", "injected by the emulator's fault settings");
                if let Some(secs) = retry_after_s {
                    response = response.header("retry-after", secs.to_string());
                }
                Delivery::Whole(stamp(response))
            }
            Some(FaultKind::Html) => Delivery::Whole(Response {
                status: 502,
                content_type: "text/html",
                headers: Vec::new(),
                body: b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n".to_vec(),
            }),
            Some(FaultKind::Drop) => {
                self.route(&request);
                Delivery::Drop
            }
            Some(FaultKind::Truncate) => Delivery::Truncated(stamp(self.route(&request))),
        }
    }

    fn connection_accepted(&self) {
        self.connections.fetch_add(1, Ordering::SeqCst);
    }
}

fn error(status: u16, code: &str, message: &str) -> Response {
    Response::json(
        status,
        &json!({"status": status, "error_message": message, "message_code": code}),
    )
}

fn oauth_error(status: u16, code: &str, description: &str) -> Response {
    Response::json(
        status,
        &json!({"error": code, "error_description": description}),
    )
    .header("cache-control", "no-store".to_owned())
}

fn paging(query: &[(String, String)]) -> Result<(usize, usize), Response> {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let page = match get("page") {
        None => 0,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| error(400, "invalid_parameter", "page must be an integer >= 0"))?,
    };
    let per_page = match get("per_page") {
        None => 10,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PER_PAGE as usize).contains(n))
            .ok_or_else(|| {
                error(
                    400,
                    "invalid_parameter",
                    "per_page must be an integer from 1 to 100",
                )
            })?,
    };
    Ok((page, per_page))
}

/// `a=1&b=x%2Cy` → pairs, percent-decoded (`+` as space, as forms use).
fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| char::from(c).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        // Two hex digits make one byte: hi * 16 + lo is at most 255.
                        out.push((hi * 16 + lo) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Cb+c"), "a,b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(
            form_pairs("customer_guid=a%2Cb&page=1&x"),
            vec![
                ("customer_guid".into(), "a,b".into()),
                ("page".into(), "1".into()),
                ("x".into(), String::new())
            ]
        );
    }
}
