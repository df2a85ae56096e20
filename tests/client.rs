//! The Client against a scripted server on a real socket: exact requests, tokens, errors,
//! decoding, pagination and waiting.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cybrid_identity::{
    AttestationState, Client, Error, FailureCode, IdentityRecord, KeyListParams, ListParams,
    PostIdentityRecord, PostVerificationKey, SigningKey, WaitOptions,
};
use serde_json::{Value, json};
use support::{Reply, ScriptedServer, json, raw, token, with_header};

const SECRET: &str = "sup3r-s3cret-value";
const REC: &str = "1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d";
const CUST: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
const CUST2: &str = "c0ffee11c0ffee11c0ffee11c0ffee11";
const KEY: &str = "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d";
const BANK: &str = "b4e5b3a2c1d0e9f8a7b6c5d4e3f2a1b0";

fn record(guid: &str, state: &str) -> Value {
    json!({"guid": guid, "customer_guid": CUST, "type": "attestation",
           "attestation_details": {"state": state, "failure_code": null},
           "created_at": "2023-06-07T14:02:41.123Z", "expired_at": null})
}

fn vkey(guid: &str) -> Value {
    json!({"guid": guid, "bank_guid": BANK, "type": "attestation", "state": "verified", "failure_code": null,
           "algorithm": "RS512", "fingerprint": "SHA256:abc", "created_at": "2023-06-07T14:02:41Z"})
}

/// Answers tokens `tok-1`, `tok-2`, … and hands every other request to `api`.
fn server(
    expires_in: u64,
    api: impl Fn(&support::Recorded, usize) -> Reply + Send + Sync + 'static,
) -> ScriptedServer {
    let tokens = AtomicUsize::new(0);
    ScriptedServer::start(move |req, seq| {
        if req.path() == "/oauth/token" {
            let n = tokens.fetch_add(1, Ordering::SeqCst) + 1;
            return token(&format!("tok-{n}"), expires_in);
        }
        api(req, seq)
    })
}

fn client(s: &ScriptedServer) -> Client {
    Client::builder()
        .base_url(s.url())
        .token_url(s.token_url())
        .client_credentials("my-client", SECRET)
        .user_agent("my-app/1.0")
        .build()
        .unwrap()
}

fn api_requests(s: &ScriptedServer) -> Vec<support::Recorded> {
    s.requests()
        .into_iter()
        .filter(|r| r.path() != "/oauth/token")
        .collect()
}

#[test]
fn every_call_sends_exactly_the_contract() {
    let s = server(3600, |req, _| match (req.method.as_str(), req.path()) {
        ("POST", "/api/identity_records") => json(201, record(REC, "storing")),
        ("GET", p) if p.starts_with("/api/identity_records/") => json(200, record(REC, "verified")),
        ("GET", "/api/identity_records") => json(
            200,
            json!({"total": 1, "page": 0, "per_page": 25, "objects": [record(REC, "pending")]}),
        ),
        ("POST", "/api/bank_verification_keys") => json(201, vkey(KEY)),
        ("GET", p) if p.starts_with("/api/bank_verification_keys/") => json(200, vkey(KEY)),
        ("GET", "/api/bank_verification_keys") => json(
            200,
            json!({"total": 1, "page": 0, "per_page": 10, "objects": [vkey(KEY)]}),
        ),
        _ => json(
            404,
            json!({"status": 404, "error_message": "no", "message_code": "not_found"}),
        ),
    });
    let c = client(&s);
    let created = c
        .create_identity_record(&PostIdentityRecord::attestation(CUST, "h.p.s"))
        .unwrap();
    assert_eq!(created.state(), Some(&AttestationState::Storing));
    assert_eq!(
        c.get_identity_record(REC).unwrap().state(),
        Some(&AttestationState::Verified)
    );
    let list = c
        .list_identity_records(
            ListParams::new()
                .customer_guid(CUST)
                .customer_guid(CUST2)
                .page(0)
                .per_page(25),
        )
        .unwrap();
    assert_eq!(list.objects.len(), 1);
    let post_key = PostVerificationKey::new(&SigningKey::sandbox(), "wen moon").unwrap();
    assert_eq!(
        c.create_verification_key(&post_key)
            .unwrap()
            .guid
            .as_deref(),
        Some(KEY)
    );
    assert_eq!(
        c.get_verification_key(KEY).unwrap().fingerprint.as_deref(),
        Some("SHA256:abc")
    );
    assert_eq!(
        c.list_verification_keys(KeyListParams::new().per_page(10))
            .unwrap()
            .total,
        1
    );

    let all = s.requests();
    let token_req = &all[0];
    assert_eq!(
        (token_req.method.as_str(), token_req.target.as_str()),
        ("POST", "/oauth/token")
    );
    assert_eq!(token_req.header("content-type"), Some("application/json"));
    assert_eq!(token_req.header("authorization"), None);
    assert_eq!(
        String::from_utf8(token_req.body.clone()).unwrap(),
        format!(
            r#"{{"grant_type":"client_credentials","client_id":"my-client","client_secret":"{SECRET}","scope":"customers:read customers:write banks:read banks:write"}}"#
        )
    );
    assert_eq!(
        s.count("POST", "/oauth/token"),
        1,
        "one token for all six calls"
    );

    let api = api_requests(&s);
    let seen: Vec<(&str, &str)> = api
        .iter()
        .map(|r| (r.method.as_str(), r.target.as_str()))
        .collect();
    let customer_filter =
        format!("/api/identity_records?customer_guid={CUST},{CUST2}&page=0&per_page=25");
    let rec_path = format!("/api/identity_records/{REC}");
    let key_path = format!("/api/bank_verification_keys/{KEY}");
    assert_eq!(
        seen,
        vec![
            ("POST", "/api/identity_records"),
            ("GET", rec_path.as_str()),
            ("GET", customer_filter.as_str()),
            ("POST", "/api/bank_verification_keys"),
            ("GET", key_path.as_str()),
            ("GET", "/api/bank_verification_keys?per_page=10"),
        ]
    );
    let ua = format!("cybrid-identity/{} my-app/1.0", env!("CARGO_PKG_VERSION"));
    for r in &api {
        assert_eq!(
            r.header("authorization"),
            Some("Bearer tok-1"),
            "{}",
            r.target
        );
        assert_eq!(r.header("user-agent"), Some(ua.as_str()));
        assert_eq!(r.header("accept"), Some("application/json"));
        assert_eq!(
            r.header("content-type"),
            if r.method == "POST" {
                Some("application/json")
            } else {
                None
            }
        );
    }
    assert_eq!(
        String::from_utf8(api[0].body.clone()).unwrap(),
        format!(
            r#"{{"customer_guid":"{CUST}","type":"attestation","attestation_details":{{"token":"h.p.s"}}}}"#
        )
    );
    assert_eq!(api[3].json(), serde_json::to_value(&post_key).unwrap());
    assert_eq!(api[3].json()["type"], "attestation");
    // Every request rode one kept-alive connection.
    assert_eq!(s.connections(), 1);
}

#[test]
fn a_bearer_token_is_used_as_is() {
    let s = ScriptedServer::start(|_, _| json(200, record(REC, "verified")));
    let c = Client::builder()
        .base_url(s.url())
        .bearer_token("fixed-token")
        .build()
        .unwrap();
    c.get_identity_record(REC).unwrap();
    let r = &s.requests()[0];
    assert_eq!(r.header("authorization"), Some("Bearer fixed-token"));
    assert_eq!(s.requests().len(), 1);
}

#[test]
fn the_token_is_refreshed_before_it_expires() {
    let s = server(1, |_, _| json(200, record(REC, "verified")));
    let c = client(&s);
    c.get_identity_record(REC).unwrap();
    c.get_identity_record(REC).unwrap();
    assert_eq!(s.count("POST", "/oauth/token"), 1);
    // A 1 s token is refreshed after 0.9 s, before the server would refuse it.
    std::thread::sleep(Duration::from_millis(950));
    c.get_identity_record(REC).unwrap();
    assert_eq!(s.count("POST", "/oauth/token"), 2);
    let auth: Vec<_> = api_requests(&s)
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(auth, vec!["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]);
}

#[test]
fn a_401_renews_the_token_once_and_retries() {
    let s = server(3600, |req, _| {
        if req.header("authorization") == Some("Bearer tok-1") {
            json(
                401,
                json!({"status": 401, "error_message": "expired", "message_code": "unauthorized"}),
            )
        } else {
            json(200, record(REC, "verified"))
        }
    });
    let c = client(&s);
    c.get_identity_record(REC).unwrap();
    assert_eq!(s.count("POST", "/oauth/token"), 2);
    assert_eq!(s.count("GET", "/api/"), 2);

    // A server that refuses every token: one renewal, then the 401 reaches the caller.
    let s = server(3600, |_, _| {
        json(
            401,
            json!({"status": 401, "error_message": "no", "message_code": "unauthorized"}),
        )
    });
    let c = client(&s);
    let err = c.get_identity_record(REC).unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(s.count("POST", "/oauth/token"), 2);
    assert_eq!(s.count("GET", "/api/"), 2);
}

#[test]
fn eight_threads_share_one_token_fetch() {
    let tokens = Arc::new(AtomicUsize::new(0));
    let t2 = tokens.clone();
    let s = ScriptedServer::start(move |req, _| {
        if req.path() == "/oauth/token" {
            t2.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(200));
            return token("tok-1", 3600);
        }
        json(200, record(REC, "verified"))
    });
    let c = client(&s);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || c.get_identity_record(REC).unwrap())
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(tokens.load(Ordering::SeqCst), 1);
    assert_eq!(s.count("GET", "/api/identity_records/"), 8);
}

#[test]
fn a_one_second_token_is_fetched_once_per_expiry_under_eight_threads() {
    let s = server(1, |_, _| json(200, record(REC, "verified")));
    let c = client(&s);
    let start = Instant::now();
    let calls = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (c, calls) = (c.clone(), calls.clone());
            std::thread::spawn(move || {
                while start.elapsed() < Duration::from_secs(3) {
                    c.get_identity_record(REC).unwrap();
                    calls.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let fetches = s.count("POST", "/oauth/token");
    let elapsed = start.elapsed().as_secs_f64();
    // Refreshed every 0.9 s: ceil(elapsed / 0.9) fetches, never one per thread or per call.
    let expected = (elapsed / 0.9).ceil() as usize;
    println!(
        "{fetches} token fetches for {} calls by 8 threads in {elapsed:.2} s (one per 0.9 s: {expected})",
        calls.load(Ordering::SeqCst)
    );
    assert!(
        calls.load(Ordering::SeqCst) > 100,
        "{} calls",
        calls.load(Ordering::SeqCst)
    );
    assert!(
        fetches == expected || fetches + 1 == expected,
        "{fetches} token fetches in {elapsed:.2} s (expected {expected})"
    );
}

#[test]
fn a_400_keeps_the_error_response() {
    let s = server(3600, |_, _| {
        with_header(
            json(
                400,
                json!({"status": 400, "error_message": "customer_guid is invalid", "message_code": "invalid_parameter"}),
            ),
            "x-request-id",
            "req-123",
        )
    });
    let err = client(&s)
        .create_identity_record(&PostIdentityRecord::attestation(CUST, "t"))
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(
        err.error_response().unwrap().message_code,
        "invalid_parameter"
    );
    assert_eq!(err.request_id(), Some("req-123"));
    assert!(!err.is_outcome_unknown(), "a 400 means nothing was created");
    assert_eq!(
        err.to_string(),
        "the Bank API answered 400 invalid_parameter: customer_guid is invalid (request id req-123)"
    );
    assert_eq!(s.count("POST", "/api/"), 1);
}

#[test]
fn a_502_html_page_keeps_status_and_excerpt() {
    let page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let s = server(3600, move |_, _| raw(502, "text/html", page));
    let c = Client::builder()
        .base_url(s.url())
        .token_url(s.token_url())
        .client_credentials("id", SECRET)
        .max_retries(0)
        .build()
        .unwrap();
    let err = c.get_identity_record(REC).unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert!(err.error_response().is_none());
    match &err {
        Error::Api(api) => assert_eq!(
            api.body_excerpt.as_deref(),
            Some(std::str::from_utf8(page).unwrap())
        ),
        other => panic!("{other:?}"),
    }
    let s = server(3600, |_, _| raw(500, "text/plain", b""));
    let c = Client::builder()
        .base_url(s.url())
        .token_url(s.token_url())
        .client_credentials("id", SECRET)
        .max_retries(0)
        .build()
        .unwrap();
    let err = c.get_identity_record(REC).unwrap_err();
    assert_eq!(
        (err.status(), err.to_string().as_str()),
        (Some(500), "the Bank API answered 500 with an empty body")
    );
}

#[test]
fn a_body_over_the_limit_is_a_clear_error() {
    let s = server(3600, |_, _| Reply::Huge {
        len: 2 * 1024 * 1024,
    });
    let c = Client::builder()
        .base_url(s.url())
        .token_url(s.token_url())
        .client_credentials("id", SECRET)
        .max_body_bytes(64 * 1024)
        .build()
        .unwrap();
    let err = c.get_identity_record(REC).unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit: 65536, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the response body exceeded the limit of 65536 bytes (raise it with ClientBuilder::max_body_bytes)"
    );
    assert_eq!(
        s.count("GET", "/api/"),
        1,
        "not retried: the same body would come back"
    );
}

#[test]
fn a_success_that_does_not_fit_names_the_field() {
    let s = server(3600, |_, _| {
        json(
            200,
            json!({"total": "many", "page": 0, "per_page": 1, "objects": []}),
        )
    });
    let err = client(&s)
        .list_identity_records(ListParams::new())
        .unwrap_err();
    match &err {
        Error::Decode { what, field, .. } => assert_eq!(
            (*what, field.as_deref()),
            ("IdentityRecordList", Some("total"))
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("the server's IdentityRecordList did not fit the model at field `total`"),
        "{err}"
    );
    let s = server(3600, |_, _| {
        json(200, json!({"page": 0, "per_page": 1, "objects": []}))
    });
    let err = client(&s)
        .list_identity_records(ListParams::new())
        .unwrap_err();
    // The decoder's words are the error's source, not repeated in its own message.
    let source = std::error::Error::source(&err).map(ToString::to_string);
    assert!(
        source
            .as_deref()
            .is_some_and(|s| s.contains("missing field `total`")),
        "{source:?}"
    );
    assert!(!err.to_string().contains("missing field"), "{err}");
}

#[test]
fn unknown_values_extra_fields_and_nulls_round_trip() {
    let body = json!({
        "guid": REC, "customer_guid": CUST, "type": "document_scan",
        "attestation_details": {"state": "reviewing", "failure_code": "face_mismatch", "new_field": [1, 2]},
        "created_at": "2023-06-07T14:02:41.123Z", "expired_at": null, "brand_new": {"x": 1}
    });
    let s = server(3600, move |_, _| json(200, body.clone()));
    let rec = client(&s).get_identity_record(REC).unwrap();
    assert_eq!(
        rec.state(),
        Some(&AttestationState::Unknown("reviewing".into()))
    );
    assert_eq!(
        rec.failure_code(),
        Some(&FailureCode::Unknown("face_mismatch".into()))
    );
    assert_eq!(rec.expired_at, None);
    let out: Value = serde_json::from_str(&serde_json::to_string(&rec).unwrap()).unwrap();
    assert_eq!(out["type"], "document_scan");
    assert_eq!(out["attestation_details"]["state"], "reviewing");
    assert_eq!(out["attestation_details"]["failure_code"], "face_mismatch");
    assert_eq!(out["created_at"], "2023-06-07T14:02:41.123Z");

    let known: IdentityRecord = serde_json::from_value(json!({"attestation_details": {"state": "expired", "failure_code": null}, "expired_at": "2024-01-01T00:00:00Z"})).unwrap();
    assert_eq!(known.state(), Some(&AttestationState::Expired));
    assert!(known.state().unwrap().is_final());
    assert!(known.expired_at.is_some());
    let empty: IdentityRecord = serde_json::from_value(json!({})).unwrap();
    assert_eq!(empty.state(), None);
    for code in [
        "invalid_key",
        "invalid_algorithm",
        "invalid_signature",
        "invalid_issuer",
        "invalid_audience",
        "invalid_subject",
        "jwt_expired",
        "missing_jti",
        "missing_keyid",
    ] {
        let parsed: FailureCode = serde_json::from_value(json!(code)).unwrap();
        assert!(!matches!(parsed, FailureCode::Unknown(_)), "{code}");
        assert_eq!(serde_json::to_value(&parsed).unwrap(), json!(code));
    }
}

fn paged(total: usize, repeat_from: Option<u64>) -> ScriptedServer {
    server(3600, move |req, _| {
        let q = req
            .target
            .split_once('?')
            .map(|(_, q)| q.to_owned())
            .unwrap_or_default();
        let get = |k: &str| {
            q.split('&')
                .find_map(|p| p.strip_prefix(&format!("{k}=")))
                .and_then(|v| v.parse::<u64>().ok())
        };
        let (mut page, per_page) = (get("page").unwrap_or(0), get("per_page").unwrap_or(10));
        if let Some(from) = repeat_from {
            page = page.min(from);
        }
        let objects: Vec<Value> = (page * per_page..((page + 1) * per_page).min(total as u64))
            .map(|i| record(&format!("{i:032}"), "verified"))
            .collect();
        json(
            200,
            json!({"total": total, "page": page, "per_page": per_page, "objects": objects}),
        )
    })
}

#[test]
fn the_iterator_walks_three_pages_and_stops_at_total() {
    let s = paged(25, None);
    let guids: Vec<String> = client(&s)
        .identity_records(ListParams::new().per_page(10))
        .map(|r| r.unwrap().guid.unwrap())
        .collect();
    assert_eq!(guids.len(), 25);
    assert_eq!(guids[0], format!("{:032}", 0));
    assert_eq!(guids[24], format!("{:032}", 24));
    let targets: Vec<String> = api_requests(&s).iter().map(|r| r.target.clone()).collect();
    assert_eq!(
        targets,
        vec![
            "/api/identity_records?page=0&per_page=10",
            "/api/identity_records?page=1&per_page=10",
            "/api/identity_records?page=2&per_page=10",
        ]
    );
}

#[test]
fn the_iterator_stops_with_an_error_on_a_repeated_page() {
    let s = paged(1000, Some(1));
    let results: Vec<_> = client(&s)
        .identity_records(ListParams::new().per_page(10))
        .collect();
    assert_eq!(results.len(), 21);
    assert!(results[..20].iter().all(Result::is_ok));
    let err = results[20].as_ref().unwrap_err();
    assert!(matches!(err, Error::Pagination(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "pagination error: page 2 repeated the records of page 1; stopped instead of looping"
    );
    assert_eq!(s.count("GET", "/api/"), 3);
}

#[test]
fn wait_polls_with_backoff_and_reports_each_state() {
    let states = ["storing", "storing", "pending", "pending", "verified"];
    let s = server(3600, move |_, seq| {
        json(200, record(REC, states[(seq - 1).min(4)]))
    });
    let slept = Arc::new(Mutex::new(Vec::new()));
    let slept2 = slept.clone();
    let c = Client::builder()
        .base_url(s.url())
        .token_url(s.token_url())
        .client_credentials("id", SECRET)
        .sleep_with(move |d| slept2.lock().unwrap().push(d))
        .build()
        .unwrap();
    let changes = Arc::new(Mutex::new(Vec::new()));
    let changes2 = changes.clone();
    let options = WaitOptions::default().on_change(move |r| {
        changes2
            .lock()
            .unwrap()
            .push(r.state().unwrap().to_string())
    });
    let done = c.wait_for_identity_record(REC, &options).unwrap();
    assert_eq!(done.state(), Some(&AttestationState::Verified));
    assert_eq!(
        *changes.lock().unwrap(),
        vec!["storing", "pending", "verified"]
    );
    let ms: Vec<u128> = slept
        .lock()
        .unwrap()
        .iter()
        .map(Duration::as_millis)
        .collect();
    // 250, 500, 1000, 2000 ms, each spread by ±20 % so that waiters do not poll in lockstep.
    assert_eq!(ms.len(), 4, "{ms:?}");
    for (pause, base) in ms.iter().zip([250u128, 500, 1000, 2000]) {
        assert!((base * 4 / 5..=base * 6 / 5).contains(pause), "{ms:?}");
    }
}

#[test]
fn wait_gives_up_at_its_deadline_with_the_last_record() {
    let s = server(3600, |_, _| json(200, record(REC, "pending")));
    let c = client(&s);
    let start = Instant::now();
    let err = c
        .wait_for_identity_record(
            REC,
            &WaitOptions::default()
                .timeout(Duration::from_millis(300))
                .interval(Duration::from_millis(50), Duration::from_millis(100)),
        )
        .unwrap_err();
    let elapsed = start.elapsed();
    match &err {
        Error::RecordWaitTimedOut { last, .. } => {
            assert_eq!(last.state(), Some(&AttestationState::Pending))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!("identity record {REC} was still pending when the wait's deadline passed")
    );
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
}

#[test]
fn no_secret_in_debug_display_or_errors() {
    let s = server(3600, |_, _| {
        json(
            403,
            json!({"status": 403, "error_message": "scope", "message_code": "invalid_scope"}),
        )
    });
    let c = client(&s);
    let err = c.get_identity_record(REC).unwrap_err();
    for text in [
        format!("{c:?}"),
        format!("{err:?}"),
        err.to_string(),
        format!("{:?}", Client::builder().client_credentials("id", SECRET)),
    ] {
        assert!(!text.contains(SECRET), "{text}");
        assert!(!text.contains("tok-1"), "{text}");
    }
    assert!(format!("{c:?}").contains("client_secret: [redacted]"));
    let bearer = Client::builder()
        .base_url(s.url())
        .bearer_token("bearer-xyz")
        .build()
        .unwrap();
    assert!(!format!("{bearer:?}").contains("bearer-xyz"));
}

#[test]
fn a_failing_token_endpoint_is_its_own_error_without_the_secret() {
    // A careless endpoint that echoes the request: the secret must still not surface.
    let s = ScriptedServer::start(|req, _| {
        raw(
            401,
            "application/json",
            format!(
                "{{\"error\":\"invalid_client\",\"echo\":{}}}",
                String::from_utf8_lossy(&req.body)
            )
            .as_bytes(),
        )
    });
    let err = client(&s).get_identity_record(REC).unwrap_err();
    assert!(matches!(err, Error::Token(_)), "{err:?}");
    assert_eq!(err.status(), Some(401));
    let text = format!("{err} {err:?}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(
        text.contains("invalid_client") && text.contains("[redacted]"),
        "{text}"
    );
    assert_eq!(s.count("GET", "/"), 0, "no API call without a token");
}

#[test]
fn bad_arguments_never_reach_the_network() {
    let s = server(3600, |_, _| json(200, record(REC, "verified")));
    let c = client(&s);
    assert!(matches!(
        c.get_identity_record("../oauth/token"),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        c.list_identity_records(ListParams::new().per_page(101)),
        Err(Error::InvalidInput {
            field: "per_page",
            ..
        })
    ));
    assert!(matches!(
        c.list_identity_records(ListParams::new().per_page(0)),
        Err(Error::InvalidInput {
            field: "per_page",
            ..
        })
    ));
    assert!(matches!(
        c.create_identity_record(&PostIdentityRecord::attestation("x", "t")),
        Err(Error::InvalidInput { .. })
    ));
    assert!(s.requests().is_empty());
    assert!(
        Client::builder()
            .base_url("http://example.com")
            .bearer_token("t")
            .build()
            .is_err()
    );
    assert!(Client::builder().bearer_token("t").build().is_ok());
    assert!(matches!(Client::builder().build(), Err(Error::Config(_))));
}
