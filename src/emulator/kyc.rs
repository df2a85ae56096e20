//! Today's KYC path on the emulator: the bank and its features, customers, and attested
//! identity verifications moving `storing` → `reviewing` → `completed` on the emulator's
//! transition time.
//!
//! Choices where Cybrid's pages are silent, so that a client meets what it would meet
//! there: a create on a path the bank's features lack is refused `403` with
//! `message_code` `unsupported_feature` (403 is among the create's documented answers, and
//! a rerun cannot change a bank's features); a body that lacks what `attested` requires is
//! refused `422` `invalid_parameter` naming the field (checked by the same code the client
//! checks a person with). The emulator keeps no personal data: a customer is stored with
//! its type, labels and state only, so `include_pii` returns nothing more.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::bodies::{found, json_object};
use super::http::{Request, Response, form_pairs};
use super::state::{now_millis as now, rfc3339};
use crate::api::kyc::{MAX_LABELS, check_label};
use crate::person::Person;

/// The features a bank has when none are chosen: both KYC paths, so every flow works.
pub const DEFAULT_BANK_FEATURES: [&str; 2] =
    ["attestation_identity_records", "kyc_identity_verifications"];

struct CustomerRow {
    guid: String,
    created_at: OffsetDateTime,
    labels: Vec<String>,
}

struct VerificationRow {
    guid: String,
    customer_guid: String,
    created: Instant,
    created_at: OffsetDateTime,
    fails: bool,
}

/// The bank, its customers and verifications.
pub(crate) struct Kyc {
    bank_guid: String,
    features: Vec<String>,
    transition: Duration,
    customers: Vec<CustomerRow>,
    verifications: Vec<VerificationRow>,
}

impl Kyc {
    pub(crate) fn new(bank_guid: String, features: Vec<String>, transition: Duration) -> Self {
        Kyc {
            bank_guid,
            features,
            transition,
            customers: Vec::new(),
            verifications: Vec::new(),
        }
    }

    /// Whether the bank has `feature` (any version of identity records for that one).
    pub(crate) fn has(&self, feature: &str) -> bool {
        self.features
            .iter()
            .any(|f| f == feature || f.strip_prefix(feature).is_some_and(|v| v.starts_with("_v")))
    }

    /// The refusal of a create on a path the bank lacks, if it does.
    pub(crate) fn refuse_without(&self, feature: &str) -> Option<Response> {
        (!self.has(feature)).then(|| {
            Response::error(
                403,
                "unsupported_feature",
                &format!("the bank does not have the {feature} feature"),
            )
        })
    }

    fn bank_view(&self) -> Value {
        json!({
            "guid": self.bank_guid, "organization_guid": self.bank_guid,
            "name": "Emulated bank", "type": "sandbox", "features": self.features,
            "created_at": "2023-06-07T14:02:41.000Z",
        })
    }

    pub(crate) fn bank(&self, guid: &str) -> Response {
        if guid != self.bank_guid {
            return Response::error(404, "not_found", &format!("bank {guid} not found"));
        }
        Response::json(200, &self.bank_view())
    }

    /// The banks a bank's token sees: its own.
    pub(crate) fn banks(&self) -> Response {
        page_of(std::iter::once(self.bank_view()), 1, 0, 10)
    }

    pub(crate) fn create_customer(&mut self, request: &Request) -> Response {
        let body = match json_object(request) {
            Ok(body) => body,
            Err(refusal) => return refusal,
        };
        if body.get("type").and_then(Value::as_str) != Some("individual") {
            return unprocessable("type: only individual customers are emulated");
        }
        let labels: Vec<String> = match body.get("labels") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if items.len() <= MAX_LABELS => {
                let labels: Option<Vec<String>> = items
                    .iter()
                    .map(|l| l.as_str().map(str::to_owned))
                    .collect();
                match labels {
                    Some(labels) if labels.iter().all(|l| check_label(l).is_ok()) => labels,
                    _ => return unprocessable("labels: each 1 to 64 characters, no comma"),
                }
            }
            Some(_) => return unprocessable("labels: at most 8"),
        };
        let row = CustomerRow {
            guid: crate::rand::hex_guid(),
            created_at: now(),
            labels,
        };
        let view = self.customer_view(&row);
        self.customers.push(row);
        Response::json(201, &view)
    }

    pub(crate) fn get_customer(&self, guid: &str) -> Response {
        let row = self.customers.iter().find(|c| c.guid == guid);
        found(row.map(|r| self.customer_view(r)), "customer", guid)
    }

    pub(crate) fn list_customers(
        &self,
        request: &Request,
        page: usize,
        per_page: usize,
    ) -> Response {
        let query = form_pairs(&request.query);
        let list = |name: &str| -> Option<Vec<String>> {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.split(',').map(str::to_owned).collect())
        };
        let (guids, labels) = (list("guid"), list("label"));
        let matching: Vec<&CustomerRow> = self
            .customers
            .iter()
            .rev()
            .filter(|c| guids.as_ref().is_none_or(|g| g.contains(&c.guid)))
            .filter(|c| {
                labels
                    .as_ref()
                    .is_none_or(|l| c.labels.iter().any(|x| l.contains(x)))
            })
            .collect();
        page_of(
            matching.iter().map(|c| self.customer_view(c)),
            matching.len(),
            page,
            per_page,
        )
    }

    pub(crate) fn create_verification(&mut self, request: &Request) -> Response {
        let body = match json_object(request) {
            Ok(body) => body,
            Err(refusal) => return refusal,
        };
        let text = |k: &str| body.get(k).and_then(Value::as_str);
        if text("type") != Some("kyc") || text("method") != Some("attested") {
            return unprocessable("type and method: only kyc, attested verifications are emulated");
        }
        let Some(customer_guid) = text("customer_guid").map(str::to_owned) else {
            return unprocessable("customer_guid is required");
        };
        if !self.customers.iter().any(|c| c.guid == customer_guid) {
            return Response::error(
                404,
                "not_found",
                &format!("customer {customer_guid} not found"),
            );
        }
        // The same checks as the client's: what `attested` requires, named, never quoted.
        // The person's data: read once, and wiped with the tree it came in.
        let body = Value::Object(body);
        let bytes = zeroize::Zeroizing::new(body.to_string());
        crate::person::wipe(body);
        let person = match Person::from_json(bytes.as_bytes()) {
            Ok(person) => person,
            Err(crate::error::Error::InvalidInput { field, reason }) => {
                return unprocessable(&format!("{field}: {reason}"));
            }
            Err(_) => return unprocessable("not a person"),
        };
        let row = VerificationRow {
            guid: crate::rand::hex_guid(),
            customer_guid,
            created: Instant::now(),
            created_at: now(),
            fails: person
                .expected_behaviours
                .iter()
                .any(|b| b == "failed_immediately"),
        };
        let view = self.verification_view(&row, Instant::now());
        self.verifications.push(row);
        Response::json(201, &view)
    }

    pub(crate) fn get_verification(&self, guid: &str) -> Response {
        let row = self.verifications.iter().find(|v| v.guid == guid);
        let view = row.map(|r| self.verification_view(r, Instant::now()));
        found(view, "identity verification", guid)
    }

    pub(crate) fn list_verifications(
        &self,
        request: &Request,
        page: usize,
        per_page: usize,
    ) -> Response {
        let query = form_pairs(&request.query);
        let get = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let customers: Option<Vec<String>> =
            get("customer_guid").map(|v| v.split(',').map(str::to_owned).collect());
        let (state, kind) = (get("state"), get("type"));
        let now = Instant::now();
        let views: Vec<Value> = self
            .verifications
            .iter()
            .rev()
            .filter(|v| {
                customers
                    .as_ref()
                    .is_none_or(|c| c.contains(&v.customer_guid))
            })
            .map(|v| self.verification_view(v, now))
            .filter(|v| state.as_ref().is_none_or(|s| v["state"] == s.as_str()))
            .filter(|_| kind.as_deref().is_none_or(|k| k == "kyc"))
            .collect();
        let total = views.len();
        page_of(views.into_iter(), total, page, per_page)
    }

    fn customer_view(&self, row: &CustomerRow) -> Value {
        let now = Instant::now();
        let passed = self
            .verifications
            .iter()
            .filter(|v| v.customer_guid == row.guid)
            .any(|v| self.verification_view(v, now)["outcome"] == "passed");
        json!({
            "guid": row.guid, "bank_guid": self.bank_guid, "type": "individual",
            "state": if passed { "verified" } else { "unverified" },
            "labels": row.labels, "created_at": rfc3339(row.created_at),
        })
    }

    fn verification_view(&self, row: &VerificationRow, now: Instant) -> Value {
        let age = now.saturating_duration_since(row.created);
        let step = self.transition;
        let (state, outcome, codes): (&str, Option<&str>, Option<Vec<&str>>) = if age < step {
            ("storing", None, None)
        } else if age < step.saturating_mul(2) {
            ("reviewing", None, None)
        } else if row.fails {
            ("completed", Some("failed"), Some(vec!["requested_failure"]))
        } else {
            ("completed", Some("passed"), Some(vec![]))
        };
        json!({
            "guid": row.guid, "type": "kyc", "method": "attested",
            "customer_guid": row.customer_guid, "state": state, "outcome": outcome,
            "failure_codes": codes, "created_at": rfc3339(row.created_at),
        })
    }
}

fn page_of(
    views: impl Iterator<Item = Value>,
    total: usize,
    page: usize,
    per_page: usize,
) -> Response {
    let objects: Vec<Value> = views
        .skip(page.saturating_mul(per_page))
        .take(per_page)
        .collect();
    Response::json(
        200,
        &json!({"total": total, "page": page, "per_page": per_page, "objects": objects}),
    )
}

fn unprocessable(why: &str) -> Response {
    Response::error(422, "invalid_parameter", why)
}
