//! The fault matrix: each row asserts the outcome and what the server saw.
#![cfg(feature = "emulator")]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cybrid_identity::emulator::{Emulator, Fault, FaultKind};
use cybrid_identity::{
    Attestation, Client, ClientBuilder, Error, ListParams, PostIdentityRecord, RetryPolicy,
    SigningKey,
};
use serde_json::json;
use support::{Reply, ScriptedServer, closed_port, token};

const CUSTOMER: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
const RECORDS: &str = "/api/identity_records";
/// How the emulator counts gets of one record: by route template.
const GET_RECORD: &str = "GET /api/identity_records/{identity_record_guid}";

/// Records every pause instead of sleeping, so backoff is asserted exactly and costs nothing.
#[derive(Clone, Default)]
struct Pauses(Arc<Mutex<Vec<Duration>>>);

impl Pauses {
    fn builder(&self, b: ClientBuilder) -> ClientBuilder {
        let log = self.0.clone();
        // Full jitter pinned to its ceiling: waits are exactly 0.5 s, 1 s, 2 s, …
        b.retry_policy(RetryPolicy::default().with_jitter(|| 1.0))
            .sleep_with(move |d| log.lock().unwrap().push(d))
    }
    fn millis(&self) -> Vec<u128> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(Duration::as_millis)
            .collect()
    }
}

fn emulator() -> Emulator {
    Emulator::builder()
        .transition(Duration::from_millis(20))
        .start()
        .unwrap()
}

fn post(emu: &Emulator) -> PostIdentityRecord {
    let token = Attestation::new(emu.bank_guid(), CUSTOMER, emu.verification_key_guid())
        .sign(&SigningKey::sandbox())
        .unwrap();
    PostIdentityRecord::attestation(CUSTOMER, token)
}

/// A record to read, created before any fault is set.
fn seeded(emu: &Emulator) -> String {
    emu.client()
        .unwrap()
        .create_identity_record(&post(emu))
        .unwrap()
        .guid
        .unwrap()
}

/// Gets of records: each test that counts them reads one record, `_record`.
fn gets(emu: &Emulator, _record: &str) -> u64 {
    emu.stats().count(GET_RECORD)
}

#[test]
fn connection_refused_get_is_retried_with_backoff() {
    let port = closed_port();
    let pauses = Pauses::default();
    let client = pauses
        .builder(
            Client::builder()
                .base_url(format!("http://127.0.0.1:{port}"))
                .bearer_token("t"),
        )
        .build()
        .unwrap();
    let err = client
        .get_identity_record("1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d")
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert_eq!(
        pauses.millis(),
        vec![500, 1000],
        "three attempts, two backoffs"
    );
}

#[test]
fn connection_refused_create_is_retried_because_it_was_never_sent() {
    let port = closed_port();
    let server: Arc<Mutex<Option<ScriptedServer>>> = Arc::default();
    let (server2, pauses) = (server.clone(), Arc::new(Mutex::new(Vec::new())));
    let pauses2 = pauses.clone();
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .bearer_token("t")
        .retry_policy(RetryPolicy::default().with_jitter(|| 1.0))
        // The server comes up during the first backoff: the retry finds it.
        .sleep_with(move |d| {
            pauses2.lock().unwrap().push(d);
            server2.lock().unwrap().get_or_insert_with(|| {
                ScriptedServer::start_on(port, |_, _| support::json(201, json!({"guid": "1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d", "attestation_details": {"state": "storing"}})))
            });
        })
        .build()
        .unwrap();
    let created = client
        .create_identity_record(&PostIdentityRecord::attestation(CUSTOMER, "a.b.c"))
        .unwrap();
    assert_eq!(
        created.guid.as_deref(),
        Some("1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d")
    );
    assert_eq!(*pauses.lock().unwrap(), vec![Duration::from_millis(500)]);
    let seen = server
        .lock()
        .unwrap()
        .as_ref()
        .unwrap()
        .count("POST", RECORDS);
    assert_eq!(seen, 1, "exactly one POST reached a server");
}

#[test]
fn two_503s_then_200_succeeds_on_the_third_attempt() {
    let emu = emulator();
    let guid = seeded(&emu);
    emu.add_fault(
        Fault::new(FaultKind::Status {
            status: 503,
            retry_after_s: None,
        })
        .method("GET")
        .path_prefix(RECORDS)
        .times(2),
    )
    .unwrap();
    let pauses = Pauses::default();
    let client = pauses.builder(emu.client_builder()).build().unwrap();
    client.get_identity_record(&guid).unwrap();
    assert_eq!(gets(&emu, &guid), 3);
    assert_eq!(pauses.millis(), vec![500, 1000]);
}

#[test]
fn a_429_with_retry_after_is_waited_out() {
    let emu = emulator();
    let guid = seeded(&emu);
    emu.add_fault(
        Fault::new(FaultKind::Status {
            status: 429,
            retry_after_s: Some(1),
        })
        .method("GET")
        .times(1),
    )
    .unwrap();
    let client = emu.client().unwrap();
    let started = Instant::now();
    client.get_identity_record(&guid).unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(gets(&emu, &guid), 2);
}

#[test]
fn a_503_on_create_goes_to_the_caller_unretried() {
    let emu = emulator();
    emu.add_fault(
        Fault::new(FaultKind::Status {
            status: 503,
            retry_after_s: None,
        })
        .method("POST")
        .path_prefix(RECORDS),
    )
    .unwrap();
    let pauses = Pauses::default();
    let err = pauses
        .builder(emu.client_builder())
        .build()
        .unwrap()
        .create_identity_record(&post(&emu))
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert_eq!(err.status(), Some(503));
    assert!(
        err.to_string()
            .contains("the identity record may have been created"),
        "{err}"
    );
    assert_eq!(emu.stats().count("POST /api/identity_records"), 1);
    assert_eq!(emu.stats().records, 0);
    assert!(pauses.millis().is_empty());
}

#[test]
fn a_create_dropped_after_reading_says_the_record_may_exist() {
    let emu = emulator();
    emu.add_fault(
        Fault::new(FaultKind::Drop)
            .method("POST")
            .path_prefix(RECORDS),
    )
    .unwrap();
    let pauses = Pauses::default();
    let err = pauses
        .builder(emu.client_builder())
        .build()
        .unwrap()
        .create_identity_record(&post(&emu))
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert!(
        err.to_string().contains(&format!(
            "list_identity_records(ListParams::new().customer_guid(\"{CUSTOMER}\"))"
        )),
        "{err}"
    );
    assert_eq!(emu.stats().count("POST /api/identity_records"), 1);
    assert_eq!(
        emu.stats().records,
        1,
        "the emulator handled it before dropping: it exists, once"
    );
    assert!(pauses.millis().is_empty());
}

#[test]
fn a_get_dropped_after_reading_is_retried() {
    let emu = emulator();
    let guid = seeded(&emu);
    emu.add_fault(Fault::new(FaultKind::Drop).method("GET").times(1))
        .unwrap();
    let pauses = Pauses::default();
    pauses
        .builder(emu.client_builder())
        .build()
        .unwrap()
        .get_identity_record(&guid)
        .unwrap();
    assert_eq!(gets(&emu, &guid), 2);
    assert_eq!(pauses.millis(), vec![500]);
}

#[test]
fn a_truncated_body_is_retried_then_reported() {
    let emu = emulator();
    let guid = seeded(&emu);
    emu.add_fault(Fault::new(FaultKind::Truncate).method("GET").times(1))
        .unwrap();
    let pauses = Pauses::default();
    let client = pauses.builder(emu.client_builder()).build().unwrap();
    client.get_identity_record(&guid).unwrap();
    assert_eq!(gets(&emu, &guid), 2);

    emu.add_fault(Fault::new(FaultKind::Truncate).method("GET"))
        .unwrap();
    let err = client.get_identity_record(&guid).unwrap_err();
    assert!(
        matches!(err, Error::Transport(_) | Error::Decode { .. }),
        "{err:?}"
    );
    assert_eq!(gets(&emu, &guid), 5, "then three more attempts");
}

#[test]
fn a_proxys_502_page_is_retried_then_reported_with_its_status() {
    let emu = emulator();
    let guid = seeded(&emu);
    emu.add_fault(Fault::new(FaultKind::Html).method("GET"))
        .unwrap();
    let pauses = Pauses::default();
    let err = pauses
        .builder(emu.client_builder())
        .build()
        .unwrap()
        .get_identity_record(&guid)
        .unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert!(err.error_response().is_none());
    assert_eq!(gets(&emu, &guid), 3);
}

#[test]
fn a_trickling_body_is_cut_off_by_the_timeout() {
    let s = ScriptedServer::start(|_, _| Reply::Trickle {
        every: Duration::from_millis(100),
        count: 100,
    });
    let client = Client::builder()
        .base_url(s.url())
        .bearer_token("t")
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client
        .get_identity_record("1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d")
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert_eq!(
        s.count("GET", RECORDS),
        1,
        "the whole call's deadline leaves no time for a retry"
    );
}

#[test]
fn the_token_endpoint_is_retried_after_a_500() {
    let calls = AtomicUsize::new(0);
    let s = ScriptedServer::start(move |req, _| {
        if req.path() == "/oauth/token" {
            return if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                support::raw(500, "text/plain", b"oops")
            } else {
                token("tok", 3600)
            };
        }
        support::json(
            200,
            json!({"total": 0, "page": 0, "per_page": 10, "objects": []}),
        )
    });
    let pauses = Pauses::default();
    let client = pauses
        .builder(
            Client::builder()
                .base_url(s.url())
                .token_url(s.token_url())
                .client_credentials("id", "secret"),
        )
        .build()
        .unwrap();
    client.list_identity_records(ListParams::new()).unwrap();
    assert_eq!(s.count("POST", "/oauth/token"), 2);
    assert_eq!(s.count("GET", RECORDS), 1);
    assert_eq!(pauses.millis(), vec![500]);
}

#[test]
fn an_expired_token_is_refreshed_once() {
    let emu = emulator();
    let guid = seeded(&emu);
    let client = emu.client().unwrap();
    client.get_identity_record(&guid).unwrap();
    let before = emu.stats().token_requests;
    emu.add_fault(
        Fault::new(FaultKind::Status {
            status: 401,
            retry_after_s: None,
        })
        .method("GET")
        .times(1),
    )
    .unwrap();
    client.get_identity_record(&guid).unwrap();
    assert_eq!(
        emu.stats().token_requests - before,
        1,
        "the token endpoint is called once for the refresh"
    );
    assert_eq!(
        gets(&emu, &guid),
        3,
        "the first call, the refused one, the retry"
    );
}

#[test]
fn invalid_utf8_in_a_body_is_an_error_not_replaced() {
    let s = ScriptedServer::start(|_, _| Reply::Http {
        status: 200,
        headers: vec![],
        body: b"{\"guid\":\"\xff\xfe\"}".to_vec(),
    });
    let err = Client::builder()
        .base_url(s.url())
        .bearer_token("t")
        .build()
        .unwrap()
        .get_identity_record("1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d")
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidUtf8 { valid_up_to: 9, .. }),
        "{err:?}"
    );
    assert_eq!(s.count("GET", RECORDS), 1);
}

#[test]
fn the_body_limit_guards_token_and_error_bodies_too() {
    let s = ScriptedServer::start(|req, _| {
        if req.path() == "/oauth/token" {
            Reply::Huge { len: 300_000 }
        } else {
            support::json(200, json!({}))
        }
    });
    let c = Client::builder()
        .base_url(s.url())
        .token_url(s.token_url())
        .client_credentials("id", "secret")
        .max_body_bytes(100_000)
        .build()
        .unwrap();
    assert!(matches!(
        c.get_identity_record("1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d"),
        Err(Error::BodyTooLarge { limit: 100_000, .. })
    ));
    assert_eq!(s.count("POST", "/oauth/token"), 1);

    let big_error = format!(
        "{{\"status\":500,\"error_message\":\"{}\",\"message_code\":\"x\"}}",
        "e".repeat(200_000)
    );
    let s = ScriptedServer::start(move |_, _| {
        support::raw(500, "application/json", big_error.as_bytes())
    });
    let c = Client::builder()
        .base_url(s.url())
        .bearer_token("t")
        .max_body_bytes(100_000)
        .max_retries(0)
        .build()
        .unwrap();
    assert!(matches!(
        c.get_identity_record("1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d"),
        Err(Error::BodyTooLarge { .. })
    ));
}

#[test]
fn max_retries_zero_turns_retries_off() {
    let emu = emulator();
    let guid = seeded(&emu);
    emu.add_fault(
        Fault::new(FaultKind::Status {
            status: 503,
            retry_after_s: None,
        })
        .method("GET")
        .times(1),
    )
    .unwrap();
    let err = emu
        .client_builder()
        .max_retries(0)
        .build()
        .unwrap()
        .get_identity_record(&guid)
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(gets(&emu, &guid), 1);
}

#[test]
fn no_arrangement_of_faults_makes_a_create_produce_two_records() {
    let emu = emulator();
    let kinds = [
        FaultKind::Status {
            status: 503,
            retry_after_s: None,
        },
        FaultKind::Status {
            status: 500,
            retry_after_s: None,
        },
        FaultKind::Status {
            status: 429,
            retry_after_s: Some(0),
        },
        FaultKind::Drop,
        FaultKind::Truncate,
        FaultKind::Html,
        FaultKind::Status {
            status: 401,
            retry_after_s: None,
        },
    ];
    for kind in &kinds {
        emu.add_fault(
            Fault::new(kind.clone())
                .method("POST")
                .path_prefix(RECORDS)
                .rate(0.12),
        )
        .unwrap();
    }
    let client = Pauses::default()
        .builder(emu.client_builder())
        .build()
        .unwrap();
    let signing = SigningKey::sandbox();
    let mut customers = Vec::new();
    for i in 0..120 {
        let customer = format!("{i:032x}");
        let token = Attestation::new(emu.bank_guid(), &customer, emu.verification_key_guid())
            .sign(&signing)
            .unwrap();
        let _ = client.create_identity_record(&PostIdentityRecord::attestation(&customer, token));
        customers.push(customer);
    }
    emu.clear_faults();
    let posts = emu.stats().count("POST /api/identity_records");
    for customer in &customers {
        let n = client
            .list_identity_records(ListParams::new().customer_guid(customer))
            .unwrap()
            .total;
        assert!(n <= 1, "customer {customer} has {n} records");
    }
    // Only a refused token (401) may repeat a POST, and a 401 creates nothing.
    assert!(
        emu.stats().records <= 120 && posts >= 120,
        "{posts} POSTs, {} records",
        emu.stats().records
    );
}

#[test]
fn eight_threads_250_calls_each_under_token_expiry_and_5_percent_503s() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(20))
        .token_ttl(Duration::from_secs(2))
        .start()
        .unwrap();
    let guid = seeded(&emu);
    let tokens_before = emu.stats().token_requests;
    emu.add_fault(
        Fault::new(FaultKind::Status {
            status: 503,
            retry_after_s: None,
        })
        .path_prefix("/api/")
        .rate(0.05),
    )
    .unwrap();
    // Up to 6 attempts with millisecond backoff: at a 5 % failure rate, six in a row is 1.6e-8.
    let client = emu
        .client_builder()
        .max_retries(5)
        .retry_policy(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let created = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let (client, guid, created) = (client.clone(), guid.clone(), created.clone());
            let post = post(&emu);
            std::thread::spawn(move || {
                for i in 0..250 {
                    if i % 50 == 0 {
                        // A few creates among the reads: failures are allowed, duplicates are not.
                        if client.create_identity_record(&post).is_ok() {
                            created.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    client
                        .get_identity_record(&guid)
                        .unwrap_or_else(|e| panic!("thread {t} call {i}: {e}"));
                    // Spread the calls over a few token lifetimes.
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stats = emu.stats();
    let fetches = stats.token_requests - tokens_before;
    // A 2 s token is refreshed every 1.8 s: one fetch per expiry, not per thread.
    let expected = (elapsed / 1.8).ceil() as u64;
    println!(
        "{fetches} token fetches in {elapsed:.1} s; {} GETs; {} creates succeeded of 40; {} records",
        stats.count(GET_RECORD),
        created.load(Ordering::SeqCst),
        stats.records
    );
    assert!(
        fetches <= expected + 1,
        "{fetches} token fetches in {elapsed:.1} s"
    );
    assert!(
        elapsed > 2.0 && fetches >= 1,
        "the test spans at least one expiry: {elapsed:.1} s"
    );
    assert!(stats.count(GET_RECORD) >= 2000);
    // Every successful create stored exactly one record; failed ones (503) stored none.
    assert_eq!(stats.records as usize, 1 + created.load(Ordering::SeqCst));
    assert_eq!(stats.count("POST /api/identity_records") as usize, 1 + 40);
}
