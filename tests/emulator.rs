//! The emulator driven through the public Client (and raw HTTP where a user's tool would be).
#![cfg(feature = "emulator")]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cybrid_identity::emulator::{Emulator, Fault, FaultKind};
use cybrid_identity::{
    Attestation, AttestationState, Client, Error, FailureCode, IdentityRecord, KeyListParams,
    ListParams, PostIdentityRecord, PostVerificationKey, SigningKey, VerificationKeyFailureCode,
    VerificationKeyState, WaitOptions,
};
use serde_json::{Value, json};

const CUSTOMER: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
const OTHER: &str = "c0ffee11c0ffee11c0ffee11c0ffee11";

fn fast() -> Emulator {
    Emulator::builder()
        .transition(Duration::from_millis(20))
        .start()
        .unwrap()
}

fn quick_wait() -> WaitOptions {
    WaitOptions::default()
        .timeout(Duration::from_secs(10))
        .interval(Duration::from_millis(10), Duration::from_millis(50))
}

fn sign(emu: &Emulator, customer: &str) -> String {
    Attestation::new(emu.bank_guid(), customer, emu.verification_key_guid())
        .sign(&SigningKey::sandbox())
        .unwrap()
}

fn attest(client: &Client, customer: &str, token: String) -> IdentityRecord {
    let created = client
        .create_identity_record(&PostIdentityRecord::attestation(customer, token))
        .unwrap();
    client
        .wait_for_identity_record(created.guid.as_deref().unwrap(), &quick_wait())
        .unwrap()
}

/// A raw HTTP exchange, as a tool in another language would make it.
fn http(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header("Content-Type", "application/json");
    }
    let mut resp = agent
        .run(req.body(body.unwrap_or("").to_owned()).unwrap())
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn token_for(emu: &Emulator, scope: &str) -> String {
    let body = json!({"grant_type": "client_credentials", "client_id": emu.client_id(), "client_secret": emu.client_secret(), "scope": scope});
    let (status, answer) = http("POST", &emu.token_url(), None, Some(&body.to_string()));
    assert_eq!(status, 200, "{answer}");
    answer["access_token"].as_str().unwrap().to_owned()
}

#[test]
fn the_whole_flow_through_the_public_client() {
    // With the `pending` step of Cybrid's endpoint page; the default is shown below.
    // Steps of 200 ms: polls of at most 50 ms (±20 %) see each one even on a loaded machine.
    let emu = Emulator::builder()
        .transition(Duration::from_millis(200))
        .with_pending(true)
        .start()
        .unwrap();
    let client = emu.client().unwrap();
    let keys = client.list_verification_keys(KeyListParams::new()).unwrap();
    let default_key = &keys.objects[0];
    assert_eq!(
        default_key.guid.as_deref(),
        Some(emu.verification_key_guid())
    );
    assert_eq!(default_key.state, Some(VerificationKeyState::Verified));
    assert_eq!(default_key.bank_guid.as_deref(), Some(emu.bank_guid()));

    let token = sign(&emu, CUSTOMER);
    let created = client
        .create_identity_record(&PostIdentityRecord::attestation(CUSTOMER, token))
        .unwrap();
    assert_eq!(created.state(), Some(&AttestationState::Storing));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let options = quick_wait().on_change(move |r| {
        seen2
            .lock()
            .unwrap()
            .push(r.state().unwrap().as_str().to_owned())
    });
    let done = client
        .wait_for_identity_record(created.guid.as_deref().unwrap(), &options)
        .unwrap();
    assert_eq!(done.state(), Some(&AttestationState::Verified));
    assert_eq!(done.failure_code(), None);
    assert_eq!(
        *seen.lock().unwrap(),
        vec!["storing", "pending", "verified"]
    );
    let listed = client
        .list_identity_records(ListParams::new().customer_guid(CUSTOMER))
        .unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.objects[0].guid, created.guid);
    assert_eq!(emu.stats().records, 1);
    assert_eq!(emu.stats().token_requests, 1);
}

fn craft(header: &Value, claims: &Value, key: &SigningKey) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key.sign_rs512(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[test]
fn every_failure_code_end_to_end() {
    let emu = fast();
    let client = emu.client().unwrap();
    let key = SigningKey::sandbox();
    let other = SigningKey::from_pem(include_str!("fixtures/other_2048_pkcs1.pem")).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = json!({"alg": "RS512", "kid": emu.verification_key_guid()});
    let claims = json!({
        "iss": format!("http://api.cybrid.app/banks/{}", emu.bank_guid()),
        "aud": "http://api.cybrid.app",
        "sub": format!("http://api.cybrid.app/customers/{CUSTOMER}"),
        "iat": now, "exp": now + 3600, "jti": "e2e-jti",
    });
    let with = |name: &str, value: Option<Value>| {
        let mut c = claims.clone();
        match value {
            Some(v) => c[name] = v,
            None => {
                c.as_object_mut().unwrap().remove(name);
            }
        }
        c
    };
    let cases: Vec<(FailureCode, String)> = vec![
        (
            FailureCode::InvalidKey,
            craft(
                &json!({"alg": "RS512", "kid": "ffffffffffffffffffffffffffffffff"}),
                &claims,
                &key,
            ),
        ),
        (
            FailureCode::InvalidAlgorithm,
            craft(
                &json!({"alg": "RS256", "kid": emu.verification_key_guid()}),
                &claims,
                &key,
            ),
        ),
        (
            FailureCode::InvalidSignature,
            craft(&header, &claims, &other),
        ),
        (
            FailureCode::InvalidIssuer,
            craft(
                &header,
                &with(
                    "iss",
                    Some(json!(
                        "http://api.cybrid.app/banks/00000000000000000000000000000000"
                    )),
                ),
                &key,
            ),
        ),
        (
            FailureCode::InvalidAudience,
            craft(
                &header,
                &with("aud", Some(json!("http://example.com"))),
                &key,
            ),
        ),
        (FailureCode::InvalidSubject, sign(&emu, OTHER)),
        (
            FailureCode::JwtExpired,
            craft(&header, &with("exp", Some(json!(now - 1))), &key),
        ),
        (
            FailureCode::MissingJti,
            craft(&header, &with("jti", None), &key),
        ),
        (
            FailureCode::MissingKeyid,
            craft(&json!({"alg": "RS512"}), &claims, &key),
        ),
    ];
    for (expected, token) in cases {
        let done = attest(&client, CUSTOMER, token);
        assert_eq!(done.state(), Some(&AttestationState::Failed), "{expected}");
        assert_eq!(done.failure_code(), Some(&expected));
    }
}

#[test]
fn a_verified_record_reads_expired_once_its_token_expires() {
    let emu = fast();
    let client = emu.client().unwrap();
    let now = time::OffsetDateTime::now_utc();
    let token = Attestation::new(emu.bank_guid(), CUSTOMER, emu.verification_key_guid())
        .issued_at(now)
        .expires_at(now + time::Duration::seconds(2))
        .sign(&SigningKey::sandbox())
        .unwrap();
    let done = attest(&client, CUSTOMER, token);
    assert_eq!(done.state(), Some(&AttestationState::Verified));
    std::thread::sleep(Duration::from_millis(2100));
    let later = client
        .get_identity_record(done.guid.as_deref().unwrap())
        .unwrap();
    assert_eq!(later.state(), Some(&AttestationState::Expired));
    assert!(later.expired_at.is_some());
}

#[test]
fn the_default_lifecycle_never_shows_pending() {
    // The published model of v0.71.72: storing, then a final state.
    let emu = Emulator::builder()
        .transition(Duration::from_millis(30))
        .start()
        .unwrap();
    let client = emu.client().unwrap();
    let created = client
        .create_identity_record(&PostIdentityRecord::attestation(
            CUSTOMER,
            sign(&emu, CUSTOMER),
        ))
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let options = quick_wait()
        .interval(Duration::from_millis(5), Duration::from_millis(5))
        .on_change(move |r| {
            seen2
                .lock()
                .unwrap()
                .push(r.state().unwrap().as_str().to_owned())
        });
    client
        .wait_for_identity_record(created.guid.as_deref().unwrap(), &options)
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), vec!["storing", "verified"]);
}

#[test]
fn error_shapes_401_403_404_400() {
    let emu = fast();
    let url = emu.url().to_owned();
    let (status, body) = http("GET", &format!("{url}/api/identity_records"), None, None);
    assert_eq!(
        (status, body["message_code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = http(
        "GET",
        &format!("{url}/api/identity_records"),
        Some("made-up"),
        None,
    );
    assert_eq!(status, 401);

    let read_only = token_for(&emu, "customers:read");
    let client = Client::builder()
        .base_url(&url)
        .bearer_token(&read_only)
        .build()
        .unwrap();
    let err = client
        .create_identity_record(&PostIdentityRecord::attestation(CUSTOMER, "a.b.c"))
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.error_response().unwrap().message_code, "invalid_scope");
    assert!(!err.is_outcome_unknown());
    assert_eq!(
        client
            .list_verification_keys(KeyListParams::new())
            .unwrap_err()
            .status(),
        Some(403)
    );

    let client = emu.client().unwrap();
    let err = client
        .get_identity_record("0123456789abcdef0123456789abcdef")
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.error_response().unwrap().message_code, "not_found");
    assert!(err.request_id().unwrap().starts_with("emu-"));
    assert_eq!(
        client
            .get_verification_key("0123456789abcdef0123456789abcdef")
            .unwrap_err()
            .status(),
        Some(404)
    );

    let writer = token_for(&emu, "customers:write customers:read");
    let post = |body: &str| {
        http(
            "POST",
            &format!("{url}/api/identity_records"),
            Some(&writer),
            Some(body),
        )
    };
    for bad in [
        "{not json".to_owned(),
        json!({"customer_guid": "short", "type": "attestation", "attestation_details": {"token": "a"}}).to_string(),
        json!({"customer_guid": CUSTOMER, "type": "attestation", "attestation_details": {"token": "t".repeat(2049)}}).to_string(),
        json!({"customer_guid": CUSTOMER, "type": "document", "attestation_details": {"token": "a"}}).to_string(),
        json!({"customer_guid": CUSTOMER, "type": "attestation"}).to_string(),
    ] {
        let (status, body) = post(&bad);
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["status"], 400);
        assert!(body["error_message"].is_string() && body["message_code"].is_string());
    }
    for q in ["page=-1", "per_page=0", "per_page=101", "page=x"] {
        let (status, _) = http(
            "GET",
            &format!("{url}/api/identity_records?{q}"),
            Some(&writer),
            None,
        );
        assert_eq!(status, 400, "{q}");
    }
    assert_eq!(emu.stats().records, 0);
}

#[test]
fn the_token_endpoint_follows_rfc_6749() {
    let emu = fast();
    let url = emu.token_url();
    let json_body = |id: &str, secret: &str, grant: &str| {
        json!({"grant_type": grant, "client_id": id, "client_secret": secret}).to_string()
    };
    let (status, body) = http(
        "POST",
        &url,
        None,
        Some(&json_body(
            emu.client_id(),
            emu.client_secret(),
            "client_credentials",
        )),
    );
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(
        body["scope"],
        "customers:read customers:write banks:read banks:write"
    );
    let (status, body) = http(
        "POST",
        &url,
        None,
        Some(&json_body(emu.client_id(), "wrong", "client_credentials")),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = http(
        "POST",
        &url,
        None,
        Some(&json_body(emu.client_id(), emu.client_secret(), "password")),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, body) = http("POST", &url, None, Some(&json!({"grant_type": "client_credentials", "client_id": emu.client_id(), "client_secret": emu.client_secret(), "scope": "admin:all"}).to_string()));
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, body) = http("POST", &url, None, Some("{}"));
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );

    // The form encoding works too.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent
        .post(&url)
        .send_form([
            ("grant_type", "client_credentials"),
            ("client_id", emu.client_id()),
            ("client_secret", emu.client_secret()),
            ("scope", "customers:read"),
        ])
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["scope"], "customers:read");
}

#[test]
fn expired_tokens_are_refused_and_the_client_renews() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(20))
        .token_ttl(Duration::from_secs(1))
        .start()
        .unwrap();
    let client = emu.client().unwrap();
    client.list_identity_records(ListParams::new()).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    client.list_identity_records(ListParams::new()).unwrap();
    assert_eq!(emu.stats().token_requests, 2);
}

#[test]
fn verification_keys_are_checked_with_their_nonce_signature() {
    let emu = fast();
    let client = emu.client().unwrap();
    let key = SigningKey::from_pem(include_str!("fixtures/other_2048_pkcs1.pem")).unwrap();
    let wait_final = |guid: &str| {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let k = client.get_verification_key(guid).unwrap();
            if matches!(
                k.state,
                Some(VerificationKeyState::Verified | VerificationKeyState::Failed)
            ) || Instant::now() > deadline
            {
                return k;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let good = client
        .create_verification_key(&PostVerificationKey::new(&key, "wen moon").unwrap())
        .unwrap();
    assert_eq!(good.state, Some(VerificationKeyState::Storing));
    let good = wait_final(good.guid.as_deref().unwrap());
    assert_eq!(
        (good.state, good.failure_code),
        (Some(VerificationKeyState::Verified), None)
    );
    assert_eq!(good.fingerprint.as_ref().map(String::len), Some(64));

    let mut forged = PostVerificationKey::new(&key, "wen moon").unwrap();
    forged.nonce = "something else".into();
    let bad = wait_final(
        client
            .create_verification_key(&forged)
            .unwrap()
            .guid
            .as_deref()
            .unwrap(),
    );
    assert_eq!(
        bad.failure_code,
        Some(VerificationKeyFailureCode::InvalidSignature)
    );

    let mut garbage = PostVerificationKey::new(&key, "wen moon").unwrap();
    garbage.public_key = "AAAA".into();
    let bad = wait_final(
        client
            .create_verification_key(&garbage)
            .unwrap()
            .guid
            .as_deref()
            .unwrap(),
    );
    assert_eq!(
        bad.failure_code,
        Some(VerificationKeyFailureCode::InvalidPublicKey)
    );

    let listed = client.list_verification_keys(KeyListParams::new()).unwrap();
    assert_eq!(listed.total, 4);
    assert_eq!(
        listed.objects[0].guid.as_deref(),
        Some(emu.verification_key_guid())
    );

    // A token signed with the new key verifies under the new key's guid.
    let token = Attestation::new(emu.bank_guid(), CUSTOMER, good.guid.as_deref().unwrap())
        .sign(&key)
        .unwrap();
    assert_eq!(
        attest(&client, CUSTOMER, token).state(),
        Some(&AttestationState::Verified)
    );
}

#[test]
fn list_filters_and_pages_250_records_newest_first() {
    let emu = fast();
    let client = emu.client().unwrap();
    let (a, b) = (sign(&emu, CUSTOMER), sign(&emu, OTHER));
    let mut created = Vec::new();
    for i in 0..250 {
        let (customer, token) = if i % 5 == 0 {
            (OTHER, &b)
        } else {
            (CUSTOMER, &a)
        };
        created.push(
            client
                .create_identity_record(&PostIdentityRecord::attestation(customer, token.clone()))
                .unwrap()
                .guid
                .unwrap(),
        );
    }
    let all: Vec<String> = client
        .identity_records(ListParams::new())
        .map(|r| r.unwrap().guid.unwrap())
        .collect();
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(all, newest_first);
    assert_eq!(
        emu.stats().count("GET /api/identity_records"),
        3,
        "100 + 100 + 50"
    );
    let page = client
        .list_identity_records(ListParams::new().customer_guid(OTHER).per_page(100))
        .unwrap();
    assert_eq!((page.total, page.objects.len()), (50, 50));
    assert!(
        page.objects
            .iter()
            .all(|r| r.customer_guid.as_deref() == Some(OTHER))
    );
    let both = client
        .list_identity_records(
            ListParams::new()
                .customer_guid(OTHER)
                .customer_guid(CUSTOMER)
                .page(2)
                .per_page(100),
        )
        .unwrap();
    assert_eq!((both.total, both.page, both.objects.len()), (250, 2, 50));
    let beyond = client
        .list_identity_records(ListParams::new().page(9).per_page(100))
        .unwrap();
    assert_eq!((beyond.total, beyond.objects.len()), (250, 0));
}

#[test]
fn eight_threads_share_one_client() {
    let emu = fast();
    let client = emu.client().unwrap();
    let token = sign(&emu, CUSTOMER);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (client, token) = (client.clone(), token.clone());
            std::thread::spawn(move || {
                for _ in 0..10 {
                    let r = client
                        .create_identity_record(&PostIdentityRecord::attestation(
                            CUSTOMER,
                            token.clone(),
                        ))
                        .unwrap();
                    client
                        .get_identity_record(r.guid.as_deref().unwrap())
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let stats = emu.stats();
    assert_eq!(stats.records, 80);
    assert_eq!(stats.count("POST /api/identity_records"), 80);
    assert_eq!(stats.token_requests, 1);
    assert!(
        stats.connections <= 9,
        "connections are pooled: {}",
        stats.connections
    );
}

fn add_fault_over_http(emu: &Emulator, fault: Value) {
    let (status, echoed) = http(
        "POST",
        &format!("{}/_emulator/faults", emu.url()),
        None,
        Some(&fault.to_string()),
    );
    assert_eq!(status, 201, "{echoed}");
}

fn no_retry_client(emu: &Emulator) -> Client {
    emu.client_builder()
        .max_retries(0)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

#[test]
fn each_fault_kind_set_over_http_reaches_the_client() {
    let emu = fast();
    let client = no_retry_client(&emu);
    let guid = client
        .create_identity_record(&PostIdentityRecord::attestation(
            CUSTOMER,
            sign(&emu, CUSTOMER),
        ))
        .unwrap()
        .guid
        .unwrap();

    add_fault_over_http(
        &emu,
        json!({"method": "GET", "path_prefix": "/api/identity_records", "kind": "status", "status": 503, "retry_after_s": 1, "times": 1}),
    );
    let err = client.get_identity_record(&guid).unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.error_response().unwrap().message_code, "injected_fault");
    match &err {
        Error::Api(api) => assert_eq!(api.retry_after.as_deref(), Some("1")),
        other => panic!("{other:?}"),
    }

    add_fault_over_http(&emu, json!({"kind": "delay", "ms": 2500, "times": 1}));
    let started = Instant::now();
    let err = client.get_identity_record(&guid).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    add_fault_over_http(&emu, json!({"kind": "drop", "times": 1}));
    let err = client.get_identity_record(&guid).unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(!err.is_connect() && !err.is_timeout());

    add_fault_over_http(&emu, json!({"kind": "truncate", "times": 1}));
    let err = client.get_identity_record(&guid).unwrap_err();
    assert!(
        matches!(err, Error::Transport(_) | Error::Decode { .. }),
        "{err:?}"
    );

    add_fault_over_http(&emu, json!({"kind": "html", "times": 1}));
    let err = client.get_identity_record(&guid).unwrap_err();
    assert_eq!(err.status(), Some(502));
    match &err {
        Error::Api(api) => assert!(
            api.body_excerpt
                .as_deref()
                .unwrap()
                .contains("502 Bad Gateway")
        ),
        other => panic!("{other:?}"),
    }

    // All spent: the next call succeeds, and stats saw every attempt.
    client.get_identity_record(&guid).unwrap();
    let (status, stats) = http("GET", &format!("{}/_emulator/stats", emu.url()), None, None);
    assert_eq!(status, 200);
    // Counted by route template, so the counters stay few whatever paths clients send.
    assert_eq!(
        stats["requests"]["GET /api/identity_records/{identity_record_guid}"],
        6
    );
    assert_eq!(stats["records"], 1);
    assert_eq!(stats["token_requests"], 1);
    assert!(
        stats["connections"].as_u64().unwrap() >= 4,
        "drop, truncate and timeout each cost a connection"
    );

    add_fault_over_http(&emu, json!({"kind": "html"}));
    let (status, _) = http(
        "DELETE",
        &format!("{}/_emulator/faults", emu.url()),
        None,
        None,
    );
    assert_eq!(status, 200);
    client.get_identity_record(&guid).unwrap();
    let (status, body) = http(
        "POST",
        &format!("{}/_emulator/faults", emu.url()),
        None,
        Some(r#"{"kind":"status","status":42}"#),
    );
    assert_eq!(
        (status, body["message_code"].as_str()),
        (400, Some("invalid_parameter"))
    );
}

#[test]
fn a_dropped_create_reports_an_unknown_outcome_and_never_duplicates() {
    let emu = fast();
    let client = emu.client().unwrap();
    emu.add_fault(
        Fault::new(FaultKind::Drop)
            .method("POST")
            .path_prefix("/api/identity_records")
            .times(1),
    )
    .unwrap();
    let err = client
        .create_identity_record(&PostIdentityRecord::attestation(
            CUSTOMER,
            sign(&emu, CUSTOMER),
        ))
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert!(err.to_string().contains(&format!("the identity record may have been created: before trying again, check with list_identity_records(ListParams::new().customer_guid(\"{CUSTOMER}\"))")), "{err}");
    let stats = emu.stats();
    assert_eq!(stats.count("POST /api/identity_records"), 1);
    assert_eq!(stats.records, 1);
    assert_eq!(
        client
            .list_identity_records(ListParams::new().customer_guid(CUSTOMER))
            .unwrap()
            .total,
        1
    );
}

#[test]
fn dropping_the_emulator_frees_its_port() {
    let emu = fast();
    let port = emu.port();
    let client = emu.client().unwrap();
    client.list_identity_records(ListParams::new()).unwrap();
    drop(emu);
    let err = client.list_identity_records(ListParams::new()).unwrap_err();
    assert!(
        err.is_connect() || matches!(err, Error::Transport(_) | Error::Token(_)),
        "{err:?}"
    );
    let again = Emulator::builder().port(port).start().unwrap();
    assert_eq!(again.port(), port);
}

#[test]
fn debug_hides_the_emulators_secret() {
    let emu = fast();
    let text = format!("{emu:?}");
    assert!(!text.contains(emu.client_secret()), "{text}");
    let line: Value = serde_json::from_str(&emu.connection_json()).unwrap();
    assert_eq!(line["client_secret"], emu.client_secret());
    assert_eq!(line["url"], emu.url());
}
