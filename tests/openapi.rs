//! The emulator against Cybrid's published OpenAPI document of release v0.71.72: every answer
//! of every identity operation validates against that operation's schema for its status, and
//! bodies the request schemas refuse are refused with a 400 `ErrorResponse`.
//!
//! `tests/fixtures/openapi/identity-schemas.json` was cut from the document once by
//! `tests/fixtures/openapi/extract.py` (the command is in that file).

use std::time::Duration;

use cybrid_identity::emulator::Emulator;
use cybrid_identity::{Attestation, SigningKey};
use serde_json::{Value, json};

const DOCUMENT: &str = include_str!("fixtures/openapi/identity-schemas.json");
const G: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";

struct Spec(Value);

impl Spec {
    fn load() -> Self {
        Spec(serde_json::from_str(DOCUMENT).unwrap())
    }

    fn schema(&self, reference: &str) -> &Value {
        let name = reference.rsplit('/').next().unwrap();
        &self.0["schemas"][name]
    }

    /// Every way `value` breaks `schema`, as `path: why` lines (empty when it validates).
    fn errors(&self, schema: &Value, value: &Value, path: &str) -> Vec<String> {
        if let Some(reference) = schema["$ref"].as_str() {
            return self.errors(self.schema(reference), value, path);
        }
        if value.is_null() {
            return if schema["nullable"] == true {
                vec![]
            } else {
                vec![format!("{path}: null")]
            };
        }
        let mut errors = Vec::new();
        let mut fail = |why: String| errors.push(format!("{path}: {why}"));
        let kind_ok = match schema["type"].as_str() {
            Some("object") => value.is_object(),
            Some("array") => value.is_array(),
            Some("string") => value.is_string(),
            Some("integer") => value.is_u64() || value.is_i64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            _ => true,
        };
        if !kind_ok {
            fail(format!("not a {}: {value}", schema["type"]));
            return errors;
        }
        if let Some(allowed) = schema["enum"].as_array().filter(|a| !a.contains(value)) {
            fail(format!("{value} is not one of {allowed:?}"));
        }
        if let Some(text) = value.as_str() {
            let chars = text.chars().count() as u64;
            if schema["minLength"].as_u64().is_some_and(|min| chars < min)
                || schema["maxLength"].as_u64().is_some_and(|max| chars > max)
            {
                fail(format!("{chars} characters is out of bounds"));
            }
            if schema["format"] == "date-time"
                && time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .is_err()
            {
                fail(format!("{text:?} is not an RFC 3339 date-time"));
            }
        }
        if let Some(n) = value.as_f64()
            && (schema["minimum"].as_f64().is_some_and(|min| n < min)
                || schema["maximum"].as_f64().is_some_and(|max| n > max))
        {
            fail(format!("{n} is out of bounds"));
        }
        let mut nested = Vec::new();
        if let (Some(object), Some(properties)) =
            (value.as_object(), schema["properties"].as_object())
        {
            for name in schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !object.contains_key(name) {
                    nested.push(format!("{path}.{name}: required"));
                }
            }
            for (name, field) in object {
                if let Some(field_schema) = properties.get(name) {
                    nested.extend(self.errors(field_schema, field, &format!("{path}.{name}")));
                }
            }
        }
        if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
            for (i, item) in items.iter().enumerate() {
                nested.extend(self.errors(schema, item, &format!("{path}[{i}]")));
            }
        }
        errors.extend(nested);
        errors
    }

    /// Checks an answer against the operation's schema for its status.
    fn check_answer(&self, operation: &str, status: u16, body: &Value) -> Result<(), String> {
        let responses = &self.0["operations"][operation]["responses"];
        assert!(responses.is_object(), "no operation {operation}");
        let schema = match responses.get(status.to_string()) {
            Some(schema) => schema,
            // A status the document does not list for this operation: still an ErrorResponse.
            None => &json!({"$ref": "#/components/schemas/ErrorResponse"}),
        };
        let errors = self.errors(schema, body, "$");
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{operation} {status}: {errors:#?}\n{body}"))
        }
    }
}

struct Http {
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl Http {
    fn new(emu: &Emulator) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let body = json!({"grant_type": "client_credentials", "client_id": emu.client_id(), "client_secret": emu.client_secret()});
        let mut answer = agent
            .post(&emu.token_url())
            .content_type("application/json")
            .send(body.to_string())
            .unwrap();
        let token: Value =
            serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap();
        Http {
            agent,
            base: emu.url().to_owned(),
            token: token["access_token"].as_str().unwrap().to_owned(),
        }
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let bearer = format!("Bearer {}", token.unwrap_or(&self.token));
        let mut answer = match body {
            Some(body) => self
                .agent
                .post(&url)
                .header("authorization", &bearer)
                .content_type("application/json")
                .send(body.to_string()),
            None if method == "GET" => self.agent.get(&url).header("authorization", &bearer).call(),
            None => unreachable!(),
        }
        .unwrap();
        let status = answer.status().as_u16();
        (
            status,
            serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap(),
        )
    }
}

#[test]
fn every_answer_validates_against_the_published_document() {
    let spec = Spec::load();
    assert_eq!(spec.0["info"], "v0.71.72");
    let emu = Emulator::builder()
        .transition(Duration::from_millis(30))
        .start()
        .unwrap();
    let http = Http::new(&emu);
    let key = SigningKey::sandbox();
    let good = Attestation::new(emu.bank_guid(), G, emu.verification_key_guid())
        .sign(&key)
        .unwrap();
    let bad = Attestation::new(G, G, emu.verification_key_guid())
        .sign(&key)
        .unwrap();
    let soon = time::OffsetDateTime::now_utc();
    let expiring = Attestation::new(emu.bank_guid(), G, emu.verification_key_guid())
        .issued_at(soon - time::Duration::seconds(10))
        .expires_at(soon + time::Duration::seconds(1))
        .sign(&key)
        .unwrap();
    let mut checked = 0;
    let mut check = |operation: &str, (status, body): (u16, Value)| {
        spec.check_answer(operation, status, &body)
            .unwrap_or_else(|e| panic!("{e}"));
        checked += 1;
        body
    };
    let record = |token: &str| json!({"customer_guid": G, "type": "attestation", "attestation_details": {"token": token}});
    let mut guids = Vec::new();
    for token in [&good, &bad, &expiring] {
        let created = check(
            "POST /api/identity_records",
            http.call("POST", "/api/identity_records", Some(&record(token)), None),
        );
        assert_eq!(
            created["attestation_details"]["state"], "storing",
            "the published model's first state"
        );
        guids.push(created["guid"].as_str().unwrap().to_owned());
    }
    check(
        "POST /api/identity_records",
        http.call(
            "POST",
            "/api/identity_records",
            Some(&json!({"customer_guid": G})),
            None,
        ),
    );
    check(
        "POST /api/identity_records",
        http.call(
            "POST",
            "/api/identity_records",
            Some(&record(&good)),
            Some("nope"),
        ),
    );
    // Every state on the way: storing now, final later, expired once the token's exp passes.
    let mut states = std::collections::BTreeSet::new();
    for _ in 0..40 {
        for guid in &guids {
            let body = check(
                "GET /api/identity_records/{identity_record_guid}",
                http.call("GET", &format!("/api/identity_records/{guid}"), None, None),
            );
            states.insert(
                body["attestation_details"]["state"]
                    .as_str()
                    .unwrap_or("none")
                    .to_owned(),
            );
        }
        check(
            "GET /api/identity_records",
            http.call(
                "GET",
                &format!("/api/identity_records?customer_guid={G}&per_page=2&page=1"),
                None,
                None,
            ),
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        states,
        ["expired", "failed", "storing", "verified"]
            .map(str::to_owned)
            .into_iter()
            .collect(),
        "{states:?}"
    );
    check(
        "GET /api/identity_records/{identity_record_guid}",
        http.call(
            "GET",
            &format!("/api/identity_records/{}", "0".repeat(32)),
            None,
            None,
        ),
    );
    check(
        "GET /api/identity_records",
        http.call("GET", "/api/identity_records?per_page=101", None, None),
    );
    let registration = cybrid_identity::PostVerificationKey::new(&key, "nonce").unwrap();
    let registration = serde_json::to_value(&registration).unwrap();
    let created = check(
        "POST /api/bank_verification_keys",
        http.call(
            "POST",
            "/api/bank_verification_keys",
            Some(&registration),
            None,
        ),
    );
    let bad_key = json!({"public_key": "AAAA", "nonce": "n", "signature": "AAAA", "type": "attestation", "algorithm": "RS512"});
    let failing = check(
        "POST /api/bank_verification_keys",
        http.call("POST", "/api/bank_verification_keys", Some(&bad_key), None),
    );
    std::thread::sleep(Duration::from_millis(100));
    for guid in [&created["guid"], &failing["guid"]] {
        check(
            "GET /api/bank_verification_keys/{verification_key_guid}",
            http.call(
                "GET",
                &format!("/api/bank_verification_keys/{}", guid.as_str().unwrap()),
                None,
                None,
            ),
        );
    }
    check(
        "GET /api/bank_verification_keys",
        http.call("GET", "/api/bank_verification_keys", None, None),
    );
    check(
        "GET /api/bank_verification_keys",
        http.call("GET", "/api/bank_verification_keys", None, Some("nope")),
    );
    println!("{checked} answers validated against the document");
}

#[test]
fn bodies_the_request_schemas_refuse_are_refused() {
    let spec = Spec::load();
    let emu = Emulator::start().unwrap();
    let http = Http::new(&emu);
    let schema = json!({"$ref": "#/components/schemas/PostIdentityRecord"});
    let valid = json!({"customer_guid": G, "type": "attestation", "attestation_details": {"token": "a.b.c"}});
    assert!(spec.errors(&schema, &valid, "$").is_empty());
    // Each field in turn: missing, of the wrong type, out of its enum or length.
    let mut refused = 0;
    for (field, wrong) in [
        ("customer_guid", Value::Null),
        ("customer_guid", json!(7)),
        ("customer_guid", json!("short")),
        ("customer_guid", json!(format!("{G}0"))),
        ("type", Value::Null),
        ("type", json!("document")),
        ("type", json!(["attestation"])),
        ("attestation_details", Value::Null),
        ("attestation_details", json!({"token": ""})),
        ("attestation_details", json!({"token": "t".repeat(2049)})),
        ("attestation_details", json!({"token": 5})),
        ("attestation_details", json!("a.b.c")),
    ] {
        let mut body = valid.clone();
        match wrong {
            Value::Null => {
                body.as_object_mut().unwrap().remove(field);
            }
            wrong => body[field] = wrong,
        }
        // The test's own check first: the document does refuse this body…
        let why = spec.errors(&schema, &body, "$");
        assert!(!why.is_empty(), "{body}");
        // …and so does the emulator, with an ErrorResponse.
        let (status, answer) = http.call("POST", "/api/identity_records", Some(&body), None);
        assert_eq!(status, 400, "{body}: {answer}");
        spec.check_answer("POST /api/identity_records", status, &answer)
            .unwrap();
        refused += 1;
    }
    assert_eq!(emu.stats().records, 0);
    let (status, _) = http.call("POST", "/api/identity_records", Some(&valid), None);
    assert_eq!(status, 201);
    println!("{refused} refused bodies");
}
