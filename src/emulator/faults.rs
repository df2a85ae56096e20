//! Faults on demand: which requests they hit, what they do, how often.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::http::{Delivery, Response};
use crate::sync::lock;

/// Faults set at once, at most: each is matched against every request.
pub const MAX_FAULTS: usize = 1000;
/// The longest `method` or `path_prefix` of a fault, in bytes.
pub const MAX_FAULT_TEXT: usize = 1024;
/// The longest `delay` fault: 10 minutes.
pub const MAX_DELAY_MS: u64 = 600_000;

/// One fault: which requests it hits and what it does to them.
///
/// Over HTTP: `POST /_emulator/faults` with, for example,
/// `{"method":"GET","path_prefix":"/api/identity_records","kind":"status","status":503,"retry_after_s":1,"times":2}`.
/// Posted as `Content-Type: application/json`; at most [`MAX_FAULTS`] at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fault {
    /// Only requests with this method (any, when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests whose path starts with this (any, when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// What it does.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many requests it hits before it is spent (every matching request, when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// The chance, from 0 to 1, that it hits a matching request (always, when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

/// What a fault does to a request it hits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer with this status and an `ErrorResponse`, without handling the request.
    Status {
        /// The status to answer with.
        status: u16,
        /// A `Retry-After` header, in seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_s: Option<u64>,
    },
    /// Wait this long, then handle the request normally.
    Delay {
        /// Milliseconds to wait.
        ms: u64,
    },
    /// Handle the request (a create takes effect), then close the connection without answering.
    Drop,
    /// Close the connection without handling the request or answering: nothing takes effect,
    /// though the client cannot tell this from [`FaultKind::Drop`].
    Reset,
    /// Handle the request, then send the head and only the first half of the body, and close.
    Truncate,
    /// Answer 502 with an HTML page, as a load balancer would, without handling the request.
    Html,
}

impl Fault {
    /// A fault of `kind` for every request.
    pub fn new(kind: FaultKind) -> Self {
        Fault {
            method: None,
            path_prefix: None,
            kind,
            times: None,
            rate: None,
        }
    }

    /// Only requests with `method`.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    /// Only requests whose path starts with `prefix`.
    pub fn path_prefix(mut self, prefix: &str) -> Self {
        self.path_prefix = Some(prefix.to_owned());
        self
    }

    /// Spent after hitting `times` requests.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    /// Hits a matching request with probability `rate`.
    pub fn rate(mut self, rate: f64) -> Self {
        self.rate = Some(rate);
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p))
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        if let Some(rate) = self.rate.filter(|r| !(0.0..=1.0).contains(r)) {
            return Err(format!("rate must be from 0 to 1, got {rate}"));
        }
        for (name, value) in [("method", &self.method), ("path_prefix", &self.path_prefix)] {
            if value.as_ref().is_some_and(|v| v.len() > MAX_FAULT_TEXT) {
                return Err(format!("{name} must be at most {MAX_FAULT_TEXT} bytes"));
            }
        }
        if let FaultKind::Delay { ms } = self.kind
            && ms > MAX_DELAY_MS
        {
            return Err(format!(
                "delay must be at most {MAX_DELAY_MS} ms (10 minutes), got {ms}"
            ));
        }
        if self.times == Some(0) {
            return Err("times must be 1 or more (leave it out for every request)".to_owned());
        }
        if let FaultKind::Status { status, .. } = self.kind
            && (!(200..=599).contains(&status) || !Response::status_allows_body(status))
        {
            return Err(format!(
                "status must be from 200 to 599 and allow a body (not 204 or 304), got {status}"
            ));
        }
        Ok(())
    }

    /// A fault from its JSON form, refusing any field it does not know (a typo such as
    /// `"path"` for `"path_prefix"` would otherwise widen the fault to every route).
    pub(crate) fn from_json(body: &[u8]) -> Result<Fault, String> {
        let fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(body).map_err(|e| format!("not a JSON object: {e}"))?;
        let kind_fields: &[&str] = match fields.get("kind").and_then(serde_json::Value::as_str) {
            Some("status") => &["status", "retry_after_s"],
            Some("delay") => &["ms"],
            _ => &[],
        };
        let common = ["method", "path_prefix", "kind", "times", "rate"];
        if let Some(unknown) = fields
            .keys()
            .find(|k| !common.contains(&k.as_str()) && !kind_fields.contains(&k.as_str()))
        {
            return Err(format!(
                "unknown field {unknown:?}: a fault takes {}, {}",
                common.join(", "),
                kind_fields.join(", ")
            ));
        }
        let fault: Fault = serde_json::from_value(serde_json::Value::Object(fields))
            .map_err(|e| format!("not a fault: {e}"))?;
        fault.check()?;
        Ok(fault)
    }
}

/// The active faults, first match wins.
#[derive(Debug, Default)]
pub(crate) struct FaultSet {
    faults: Mutex<Vec<Fault>>,
}

impl FaultSet {
    /// Adds a fault, unless [`MAX_FAULTS`] are set already.
    pub(crate) fn add(&self, fault: Fault) -> Result<(), String> {
        let mut faults = self.lock();
        if faults.len() >= MAX_FAULTS {
            return Err(format!(
                "{MAX_FAULTS} faults are set already: clear them (DELETE /_emulator/faults) first"
            ));
        }
        faults.push(fault);
        Ok(())
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    pub(crate) fn list(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    /// The fault that hits this request, if any, spending one of its `times`.
    pub(crate) fn take(&self, method: &str, path: &str) -> Option<FaultKind> {
        let mut faults = self.lock();
        let index = faults
            .iter()
            .position(|f| f.matches(method, path) && f.rate.is_none_or(|r| chance() < r))?;
        let kind = faults[index].kind.clone();
        if let Some(times) = &mut faults[index].times {
            *times = times.saturating_sub(1);
            if *times == 0 {
                faults.remove(index);
            }
        }
        Some(kind)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        lock(&self.faults)
    }
}

/// A random draw for `rate`; without a random source, a rated fault never fires.
fn chance() -> f64 {
    crate::rand::fraction().unwrap_or(1.0)
}

/// The 502 page a load balancer sends.
const HTML_502: &[u8] = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";

/// How a request that `fault` hits is answered: `handle` is the route (run or not, as the
/// fault says), `stamp` adds the headers every emulator answer carries.
pub(crate) fn deliver(
    fault: Option<FaultKind>,
    handle: impl FnOnce() -> Response,
    stamp: impl FnOnce(Response) -> Response,
) -> Delivery {
    match fault {
        None => Delivery::Whole(stamp(handle())),
        Some(FaultKind::Delay { ms }) => {
            std::thread::sleep(Duration::from_millis(ms));
            Delivery::Whole(stamp(handle()))
        }
        Some(FaultKind::Status {
            status,
            retry_after_s,
        }) => {
            let mut response = Response::error(
                status,
                "injected_fault",
                "injected by the emulator's fault settings",
            );
            if let Some(secs) = retry_after_s {
                response = response.header("retry-after", secs.to_string());
            }
            Delivery::Whole(stamp(response))
        }
        // A load balancer's page: none of the emulator's own headers.
        Some(FaultKind::Html) => Delivery::Whole(Response {
            status: 502,
            content_type: "text/html",
            headers: Vec::new(),
            body: HTML_502.to_vec(),
        }),
        Some(FaultKind::Drop) => {
            handle();
            Delivery::Drop
        }
        Some(FaultKind::Reset) => Delivery::Drop,
        Some(FaultKind::Truncate) => Delivery::Truncated(stamp(handle())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_json_parses() {
        let f: Fault = serde_json::from_str(
            r#"{"method":"GET","path_prefix":"/api/identity_records","kind":"status","status":503,"retry_after_s":1,"times":2}"#,
        )
        .unwrap();
        assert_eq!(
            f,
            Fault::new(FaultKind::Status {
                status: 503,
                retry_after_s: Some(1)
            })
            .method("GET")
            .path_prefix("/api/identity_records")
            .times(2)
        );
        let f: Fault = serde_json::from_str(r#"{"kind":"delay","ms":20}"#).unwrap();
        assert_eq!(f.kind, FaultKind::Delay { ms: 20 });
        for kind in ["drop", "truncate", "html"] {
            let f: Fault = serde_json::from_str(&format!(r#"{{"kind":"{kind}"}}"#)).unwrap();
            assert_eq!(serde_json::to_value(&f).unwrap()["kind"], kind);
        }
        assert!(serde_json::from_str::<Fault>(r#"{"kind":"explode"}"#).is_err());
    }

    #[test]
    fn times_are_spent_and_matching_is_by_method_and_prefix() {
        let set = FaultSet::default();
        set.add(
            Fault::new(FaultKind::Drop)
                .method("post")
                .path_prefix("/api/identity_records")
                .times(2),
        )
        .unwrap();
        assert_eq!(set.take("GET", "/api/identity_records"), None);
        assert_eq!(set.take("POST", "/api/bank_verification_keys"), None);
        assert_eq!(
            set.take("POST", "/api/identity_records"),
            Some(FaultKind::Drop)
        );
        assert_eq!(
            set.take("POST", "/api/identity_records/x"),
            Some(FaultKind::Drop)
        );
        assert_eq!(set.take("POST", "/api/identity_records"), None);
        assert!(set.list().is_empty());
        set.add(Fault::new(FaultKind::Html).rate(0.0)).unwrap();
        assert_eq!(set.take("GET", "/"), None);
        set.clear();
        set.add(Fault::new(FaultKind::Html).rate(1.0)).unwrap();
        assert_eq!(set.take("GET", "/"), Some(FaultKind::Html));
    }
}
