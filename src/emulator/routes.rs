//! Cybrid's identity API, route by route, over the emulator's state.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::bodies::{found, json_object, paging};
use super::faults::{Fault, FaultSet, deliver};
use super::http::{Delivery, Handler, Request, Response, form_pairs};
use super::kyc::Kyc;
use super::limit::Bucket;
use super::oauth::OAuth;
use super::paths::{Endpoint, Matched, match_route, stats_key};
use super::state::Store;
use crate::api::{check_chars, check_verification_key_fields};
use crate::attestation::MAX_TOKEN_CHARS;
use crate::error::Error;
use crate::guid;
use crate::sync::lock;

/// The emulator's counters (`GET /_emulator/stats`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Stats {
    /// Requests seen, by method and path template (`GET /api/identity_records/{identity_record_guid}`).
    pub requests: BTreeMap<String, u64>,
    /// TCP connections accepted.
    pub connections: u64,
    /// Requests to `/oauth/token`, granted or not.
    pub token_requests: u64,
    /// Identity records stored.
    pub records: u64,
    /// Requests answered 429 by the rate limit ([`super::EmulatorBuilder::rate_limit`]).
    #[serde(default)]
    pub throttled: u64,
}

impl Stats {
    /// Requests seen for `METHOD template`, e.g. `POST /api/identity_records`.
    pub fn count(&self, method_and_path: &str) -> u64 {
        self.requests.get(method_and_path).copied().unwrap_or(0)
    }
}

/// What every connection thread shares.
pub(crate) struct Shared {
    store: Mutex<Store>,
    kyc: Mutex<Kyc>,
    pub(crate) faults: FaultSet,
    oauth: OAuth,
    requests: Mutex<BTreeMap<String, u64>>,
    connections: AtomicU64,
    next_request_id: AtomicU64,
    latency: Duration,
    /// The rate limit's bucket, when one is set.
    bucket: Option<Mutex<Bucket>>,
    /// Requests answered 429 by the rate limit.
    throttled: AtomicU64,
}

impl Shared {
    pub(crate) fn new(
        (store, kyc): (Store, Kyc),
        oauth: OAuth,
        latency: Duration,
        rate_limit: Option<u32>,
    ) -> Self {
        Shared {
            store: Mutex::new(store),
            kyc: Mutex::new(kyc),
            faults: FaultSet::default(),
            oauth,
            requests: Mutex::default(),
            connections: AtomicU64::new(0),
            next_request_id: AtomicU64::new(1),
            latency,
            bucket: rate_limit.map(|n| Mutex::new(Bucket::new(n, Instant::now()))),
            throttled: AtomicU64::new(0),
        }
    }

    /// The counters of `GET /_emulator/stats`.
    pub(crate) fn stats(&self) -> Stats {
        Stats {
            requests: lock(&self.requests).clone(),
            connections: self.connections.load(Ordering::SeqCst),
            token_requests: self.oauth.requests(),
            records: lock(&self.store).records.len() as u64,
            throttled: self.throttled.load(Ordering::SeqCst),
        }
    }

    fn route(&self, request: &Request) -> Response {
        let api =
            |scope: &str, handle: &dyn Fn() -> Response| match self.oauth.authorize(request, scope)
            {
                Ok(()) => handle(),
                Err(refusal) => refusal,
            };
        let (endpoint, method, param) = match match_route(&request.method, &request.path) {
            Matched::Route(endpoint, method, param) => {
                (endpoint, method, param.unwrap_or_default())
            }
            Matched::MethodNotAllowed(template, allow) => {
                let why = format!("{} is not allowed on {template}", request.method);
                return Response::error(405, "method_not_allowed", &why).header("allow", allow);
            }
            Matched::NotFound => {
                return Response::error(
                    404,
                    "not_found",
                    &format!("no route for {}", request.path),
                );
            }
        };
        match (endpoint, method) {
            (Endpoint::Token, _) => self.oauth.token(request),
            (Endpoint::Records, "POST") => api("customers:write", &|| {
                let refused = lock(&self.kyc).refuse_without("attestation_identity_records");
                refused.unwrap_or_else(|| self.create_record(request))
            }),
            (Endpoint::Records, _) => api("customers:read", &|| self.list_records(request)),
            (Endpoint::Record, _) => api("customers:read", &|| self.get_record(param)),
            (Endpoint::Keys, "POST") => api("banks:write", &|| self.create_key(request)),
            (Endpoint::Keys, _) => api("banks:read", &|| self.list_keys(request)),
            (Endpoint::Key, _) => api("banks:read", &|| self.get_key(param)),
            (Endpoint::Banks, _) => api("banks:read", &|| lock(&self.kyc).banks()),
            (Endpoint::Bank, _) => api("banks:read", &|| lock(&self.kyc).bank(param)),
            (Endpoint::Customers, "POST") => api("customers:execute", &|| {
                lock(&self.kyc).create_customer(request)
            }),
            (Endpoint::Customers, _) => api("customers:read", &|| {
                let kyc = lock(&self.kyc);
                paged(request, |p, n| kyc.list_customers(request, p, n))
            }),
            (Endpoint::Customer, _) => {
                api("customers:read", &|| lock(&self.kyc).get_customer(param))
            }
            (Endpoint::Verifications, "POST") => api("identity_verifications:execute", &|| {
                let mut kyc = lock(&self.kyc);
                kyc.refuse_without("kyc_identity_verifications")
                    .unwrap_or_else(|| kyc.create_verification(request))
            }),
            (Endpoint::Verifications, _) => api("identity_verifications:read", &|| {
                let kyc = lock(&self.kyc);
                paged(request, |p, n| kyc.list_verifications(request, p, n))
            }),
            (Endpoint::Verification, _) => api("identity_verifications:read", &|| {
                lock(&self.kyc).get_verification(param)
            }),
            (Endpoint::Faults, "POST") => self.add_fault(request),
            (Endpoint::Faults, "DELETE") => {
                self.faults.clear();
                Response::json(200, &json!({"faults": []}))
            }
            (Endpoint::Faults, _) => Response::json(200, &json!({"faults": self.faults.list()})),
            (Endpoint::Stats, _) => Response::json(200, &self.stats()),
        }
    }

    fn create_record(&self, request: &Request) -> Response {
        let body = match json_object(request) {
            Ok(body) => body,
            Err(response) => return response,
        };
        let Some(customer_guid) = body.get("customer_guid").and_then(Value::as_str) else {
            return Response::error(400, "invalid_parameter", "customer_guid is required");
        };
        if let Err(refusal) = required_value(&body, "type", "attestation") {
            return refusal;
        }
        let Some(token) = body
            .get("attestation_details")
            .and_then(|d| d.get("token"))
            .and_then(Value::as_str)
        else {
            return Response::error(
                400,
                "invalid_parameter",
                "attestation_details.token is required",
            );
        };
        let checked = guid::check("customer_guid", customer_guid)
            .and_then(|()| check_chars("attestation_details.token", token, MAX_TOKEN_CHARS));
        if let Err(e) = checked {
            return invalid(&e);
        }
        let view = lock(&self.store).add_record(customer_guid, token);
        Response::json(201, &view)
    }

    fn get_record(&self, guid: &str) -> Response {
        let store = lock(&self.store);
        let record = store.records.iter().find(|r| r.guid == guid);
        found(
            record.map(|r| store.record_view(r, Instant::now())),
            "identity record",
            guid,
        )
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
        let store = lock(&self.store);
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
            .skip(page.saturating_mul(per_page))
            .take(per_page)
            .map(|r| store.record_view(r, now))
            .collect();
        Response::json(
            200,
            &json!({"total": matching.len(), "page": page, "per_page": per_page, "objects": objects}),
        )
    }

    fn create_key(&self, request: &Request) -> Response {
        let body = match json_object(request) {
            Ok(body) => body,
            Err(response) => return response,
        };
        let field = |name: &str| body.get(name).and_then(Value::as_str);
        let (Some(public_key), Some(nonce), Some(signature)) =
            (field("public_key"), field("nonce"), field("signature"))
        else {
            return Response::error(
                400,
                "invalid_parameter",
                "public_key, nonce and signature are required",
            );
        };
        if let Err(e) = check_verification_key_fields(public_key, signature, nonce) {
            return invalid(&e);
        }
        for (name, only) in [("type", "attestation"), ("algorithm", "RS512")] {
            if let Err(refusal) = required_value(&body, name, only) {
                return refusal;
            }
        }
        let algorithm = field("algorithm").unwrap_or("RS512");
        let view = lock(&self.store).add_key(public_key, nonce, signature, algorithm);
        Response::json(201, &view)
    }

    fn get_key(&self, guid: &str) -> Response {
        let store = lock(&self.store);
        let key = store.keys.iter().find(|k| k.guid == guid);
        found(
            key.map(|k| store.key_view(k, Instant::now())),
            "verification key",
            guid,
        )
    }

    fn list_keys(&self, request: &Request) -> Response {
        let (page, per_page) = match paging(&form_pairs(&request.query)) {
            Ok(p) => p,
            Err(response) => return response,
        };
        let store = lock(&self.store);
        let now = Instant::now();
        // Oldest first, so the sandbox's default key leads, as in Cybrid's sandbox.
        let objects: Vec<Value> = store
            .keys
            .iter()
            .skip(page.saturating_mul(per_page))
            .take(per_page)
            .map(|k| store.key_view(k, now))
            .collect();
        Response::json(
            200,
            &json!({"total": store.keys.len(), "page": page, "per_page": per_page, "objects": objects}),
        )
    }

    fn add_fault(&self, request: &Request) -> Response {
        // A page the developer visits can post a form (text/plain, no preflight), never JSON.
        let json = request
            .header("content-type")
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Response::error(
                415,
                "unsupported_media_type",
                "a fault is posted as Content-Type: application/json",
            );
        }
        match Fault::from_json(&request.body).and_then(|fault| {
            self.faults.add(fault.clone())?;
            Ok(fault)
        }) {
            Ok(fault) => Response::json(201, &fault),
            Err(why) => Response::error(400, "invalid_parameter", &why),
        }
    }
}

/// Whether a `Host` header names this machine: `localhost` (or a name under it), an
/// address in 127.0.0.0/8, or `[::1]`, with any port. Anything else reached a loopback
/// server through a name that resolved here on purpose (DNS rebinding).
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let host = host.trim();
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        }),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    name.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

impl Handler for Shared {
    fn handle(&self, request: Request) -> Delivery {
        if let Some(host) = request.header("host")
            && !is_loopback_host(host)
        {
            return Delivery::Whole(Response::error(
                403,
                "forbidden_host",
                "the emulator answers only requests addressed to a loopback name or address",
            ));
        }
        *lock(&self.requests)
            .entry(stats_key(&request.method, &request.path))
            .or_default() += 1;
        let request_id = format!(
            "emu-{}",
            self.next_request_id.fetch_add(1, Ordering::Relaxed)
        );
        if request.path.starts_with("/_emulator/") {
            return Delivery::Whole(self.route(&request));
        }
        if let Some(bucket) = &self.bucket
            && request.path.starts_with("/api/")
            && let Err(seconds) = lock(bucket).take(Instant::now())
        {
            // Refused before anything is looked at: the request has no effect.
            self.throttled.fetch_add(1, Ordering::SeqCst);
            let why = "more requests a second than this client's rate limit allows";
            let response = Response::error(429, "rate_limited", why)
                .header("retry-after", seconds.to_string())
                .header("x-request-id", request_id);
            if !self.latency.is_zero() {
                std::thread::sleep(self.latency);
            }
            return Delivery::Whole(response);
        }
        let fault = self.faults.take(&request.method, &request.path);
        let delivery = deliver(
            fault,
            || self.route(&request),
            |response| response.header("x-request-id", request_id.clone()),
        );
        // As over a real network, every answer (the emulator's own excepted) comes this
        // late; the request itself took effect at once, as it would have on arrival.
        if !self.latency.is_zero() {
            std::thread::sleep(self.latency);
        }
        delivery
    }

    fn connection_accepted(&self) {
        self.connections.fetch_add(1, Ordering::SeqCst);
    }
}

/// A required field that the published schema allows one value for.
fn required_value(
    body: &serde_json::Map<String, Value>,
    name: &str,
    only: &str,
) -> Result<(), Response> {
    match body.get(name) {
        Some(Value::String(value)) if value == only => Ok(()),
        None => Err(Response::error(
            400,
            "invalid_parameter",
            &format!("{name} is required (\"{only}\")"),
        )),
        Some(_) => Err(Response::error(
            400,
            "invalid_parameter",
            &format!("{name} must be \"{only}\""),
        )),
    }
}

/// The 400 for a value the crate's own checks refuse (the client refuses it the same way).
fn invalid(e: &Error) -> Response {
    Response::error(400, "invalid_parameter", &e.to_string())
}

/// The answer of a listing, with its page read from the query (a 400 for a bad one).
fn paged(request: &Request, list: impl FnOnce(usize, usize) -> Response) -> Response {
    match paging(&form_pairs(&request.query)) {
        Ok((page, per_page)) => list(page, per_page),
        Err(refusal) => refusal,
    }
}
