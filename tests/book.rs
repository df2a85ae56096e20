//! `Book` against the emulator and a scripted server: what a book costs in requests, how it
//! meets a rate limit, and the client-wide hold of a `Retry-After`.

#[path = "support/scratch.rs"]
mod scratch;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cybrid_identity::emulator::{Emulator, new_guid};
use cybrid_identity::{AttestOptions, AttestationSigner, Book, Client, SigningKey, WaitOptions};

#[path = "support/mod.rs"]
mod support;

fn signer(emu: &Emulator) -> AttestationSigner {
    AttestationSigner::new(
        SigningKey::sandbox(),
        emu.bank_guid(),
        emu.verification_key_guid(),
    )
    .unwrap()
}

/// An emulator whose lifecycle steps last `transition_ms`.
fn emulator(transition_ms: u64) -> Emulator {
    Emulator::builder()
        .transition(Duration::from_millis(transition_ms))
        .start()
        .unwrap()
}

fn api_requests(emu: &Emulator) -> u64 {
    emu.stats()
        .requests
        .iter()
        .filter(|(route, _)| route.contains("/api/"))
        .map(|(_, n)| n)
        .sum()
}

fn options(concurrency: usize) -> AttestOptions {
    AttestOptions::default().concurrency(concurrency).wait(
        WaitOptions::default().interval(Duration::from_millis(50), Duration::from_millis(400)),
    )
}

#[test]
fn a_fresh_book_costs_about_one_request_a_customer_and_a_rerun_one_per_hundred() {
    support::watchdog();
    let emu = Emulator::builder()
        .transition(Duration::from_millis(50))
        .latency(Duration::from_millis(5))
        .start()
        .unwrap();
    let client = emu.client().unwrap();
    let signer = signer(&emu);
    let customers: Vec<String> = (0..250).map(|_| new_guid()).collect();
    let mut finished = Vec::new();
    let mut most_held = 0;
    let summary = Book::new(&client, &signer, options(16))
        .run(
            customers.iter().map(|c| c.to_uppercase()),
            |outcome, progress| {
                assert!(progress.in_flight <= 16, "{progress:?}");
                most_held = most_held.max(progress.held);
                finished.push(outcome.customer_guid.clone());
                assert!(outcome.result.is_ok(), "{:?}", outcome.result);
            },
        )
        .unwrap();
    assert_eq!(
        (summary.customers, summary.verified, summary.created),
        (250, 250, 250)
    );
    finished.sort();
    let mut expected = customers.clone();
    expected.sort();
    assert_eq!(
        finished, expected,
        "each customer reported once, lowercased"
    );
    let fresh = api_requests(&emu);
    assert_eq!(emu.stats().count("POST /api/identity_records"), 250);
    assert!(
        fresh <= 275,
        "{fresh} requests for 250 customers: over 1.10 a customer"
    );
    assert!(
        emu.stats().connections <= 17,
        "{} connections for 16 in flight and the token",
        emu.stats().connections
    );
    assert!(most_held <= 250);
    let mut rerun_held = 0;
    let again = Book::new(&client, &signer, options(16))
        .run(&customers, |outcome, progress| {
            assert!(!outcome.result.as_ref().unwrap().created);
            rerun_held = rerun_held.max(progress.held);
        })
        .unwrap();
    // A rerun of verified customers lists a quarter of the workers' worth of groups at once.
    assert!(rerun_held > 200, "a rerun read only {rerun_held} ahead");
    assert_eq!((again.verified, again.created), (250, 0));
    let rerun = api_requests(&emu) - fresh;
    assert!(
        rerun <= 5,
        "{rerun} requests to rerun 250 verified customers"
    );
}

#[test]
fn a_rate_limited_book_ends_with_one_record_each() {
    support::watchdog();
    let emu = Emulator::builder()
        .transition(Duration::from_millis(20))
        .rate_limit(20)
        .start()
        .unwrap();
    let client = emu.client().unwrap();
    let signer = signer(&emu);
    let customers: Vec<String> = (0..60).map(|_| new_guid()).collect();
    let mut limits = Vec::new();
    let summary = Book::new(&client, &signer, options(8))
        .run(&customers, |outcome, progress| {
            assert!(outcome.result.is_ok(), "{:?}", outcome.result);
            limits.push(progress.limit);
        })
        .unwrap();
    assert_eq!(summary.verified, 60);
    let stats = emu.stats();
    assert!(stats.throttled > 0, "the limit was met");
    assert_eq!(stats.records, 60, "one record each");
    assert!(
        limits.iter().any(|l| *l < 8),
        "the book paced itself: {limits:?}"
    );
}

#[test]
fn a_retry_after_holds_every_thread_of_the_client() {
    support::watchdog();
    use support::{ScriptedServer, json, token, with_header};
    const REC: &str = "0123456789abcdef0123456789abcdef";
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let log = arrivals.clone();
    let server = ScriptedServer::start(move |req, _| {
        if req.path() == "/oauth/token" {
            return token("tok", 3600);
        }
        let mut seen = log.lock().unwrap();
        seen.push(Instant::now());
        if seen.len() == 1 {
            let refusal = json(
                429,
                serde_json::json!({"status": 429, "error_message": "slow down", "message_code": "rate_limited"}),
            );
            return with_header(refusal, "retry-after", "1");
        }
        json(
            200,
            serde_json::json!({"guid": REC, "attestation_details": {"state": "verified"}}),
        )
    });
    let client = Client::builder()
        .base_url(server.url())
        .token_url(server.token_url())
        .client_credentials("id", "secret")
        .build()
        .unwrap();
    client.authenticate().unwrap();
    let first = {
        let client = client.clone();
        std::thread::spawn(move || client.get_identity_record(REC))
    };
    while arrivals.lock().unwrap().is_empty() {
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(50));
    // Another thread's call, after the 429: it waits out the same second.
    client.get_identity_record(REC).unwrap();
    first.join().unwrap().unwrap();
    let seen = arrivals.lock().unwrap();
    assert_eq!(seen.len(), 3, "the 429, its retry, the other thread's call");
    for later in &seen[1..] {
        let gap = later.duration_since(seen[0]);
        assert!(
            gap >= Duration::from_millis(950),
            "a request {gap:?} after the 429"
        );
    }
}

#[test]
fn a_journal_intent_keeps_its_customer_in_doubt_for_the_settle_period() {
    support::watchdog();
    use cybrid_identity::book::JournalEntry;
    let emu = emulator(10);
    let client = emu.client().unwrap();
    let signer = signer(&emu);
    let dir = scratch::TempDir::new("book-intent");
    let path = dir.join("journal.jsonl");
    let customer = new_guid();
    let journal = cybrid_identity::Journal::open(&path).unwrap();
    journal
        .append(&JournalEntry::Intent {
            customer_guid: customer.clone(),
            at: cybrid_identity::time::OffsetDateTime::now_utc(),
        })
        .unwrap();
    drop(journal);
    let journal = cybrid_identity::Journal::open(&path).unwrap();
    assert_eq!(journal.in_doubt(), 1);
    // The earlier run's create lands 300 ms later: adopted, not duplicated.
    let late = {
        let (client, signer, customer) = (client.clone(), signer.clone(), customer.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            let post = cybrid_identity::PostIdentityRecord::attestation(
                &customer,
                signer.sign_for(&customer).unwrap(),
            );
            client.create_identity_record(&post).unwrap()
        })
    };
    let started = Instant::now();
    let mut outcome = None;
    Book::new(&client, &signer, options(2).settle(Duration::from_secs(5)))
        .journal(&journal)
        .run([customer.as_str()], |o, _| outcome = Some(o))
        .unwrap();
    let landed = late.join().unwrap();
    let attested = outcome.unwrap().result.unwrap();
    assert_eq!(
        attested.record.guid, landed.guid,
        "the late record was adopted"
    );
    assert!(!attested.created, "this run created nothing");
    assert_eq!(emu.stats().count("POST /api/identity_records"), 1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "adopted before the period ended"
    );
}

#[test]
fn a_zero_interval_is_raised_to_the_floor_and_key_waits_report_changes() {
    support::watchdog();
    let emu = emulator(300);
    let client = emu.client().unwrap();
    let signer = signer(&emu);
    let customer = new_guid();
    let post = cybrid_identity::PostIdentityRecord::attestation(
        &customer,
        signer.sign_for(&customer).unwrap(),
    );
    let record = client.create_identity_record(&post).unwrap();
    let zero = WaitOptions::default().interval(Duration::ZERO, Duration::ZERO);
    let before = emu
        .stats()
        .count("GET /api/identity_records/{identity_record_guid}");
    client.wait_for(&record, &zero).unwrap();
    let polls = emu
        .stats()
        .count("GET /api/identity_records/{identity_record_guid}")
        - before;
    // 300 ms at one poll every 8 ms at the fastest (10 ms less a fifth), and the last one.
    assert!(polls <= 40, "{polls} polls in 300 ms");
    let key = cybrid_identity::PostVerificationKey::new(&SigningKey::sandbox(), "nonce").unwrap();
    let key = client.create_verification_key(&key).unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let options = WaitOptions::default()
        .interval(Duration::from_millis(20), Duration::from_millis(40))
        .on_key_change(move |k| {
            log.lock()
                .unwrap()
                .push(k.state.as_ref().unwrap().to_string())
        });
    client
        .wait_for_verification_key(key.guid.as_deref().unwrap(), &options)
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), ["storing", "verified"]);
}

#[test]
fn records_that_fail_are_counted_as_failed_and_reported_with_their_code() {
    use cybrid_identity::{AttestationState, FailureCode};
    support::watchdog();
    let emu = emulator(10);
    // A signer that names the registered key but signs with another (a broken HSM, say):
    // the book's check of the key passes, and the emulator fails each record with
    // `invalid_signature`. (One for another bank is stopped before any create.)
    struct Crooked(SigningKey, SigningKey);
    impl cybrid_identity::Signer for Crooked {
        fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, cybrid_identity::Error> {
            self.1.sign_rs512(message)
        }
        fn verifying_key(&self) -> &cybrid_identity::VerifyingKey {
            self.0.verifying_key()
        }
    }
    let other = SigningKey::from_pem(include_str!("fixtures/other_2048_pkcs1.pem")).unwrap();
    let wrong_bank = AttestationSigner::new(
        Crooked(SigningKey::sandbox(), other),
        emu.bank_guid(),
        emu.verification_key_guid(),
    )
    .unwrap();
    let customers: Vec<String> = (0..3).map(|_| new_guid()).collect();
    let mut codes = Vec::new();
    let summary = Book::new(&emu.client().unwrap(), &wrong_bank, options(2))
        .run(&customers, |outcome, _| {
            let record = outcome.result.unwrap().record;
            assert_eq!(record.state(), Some(&AttestationState::Failed));
            codes.push(record.failure_code().cloned());
        })
        .unwrap();
    assert_eq!(
        (
            summary.customers,
            summary.verified,
            summary.failed,
            summary.errors,
            summary.created
        ),
        (3, 0, 3, 0, 3)
    );
    assert_eq!(codes, vec![Some(FailureCode::InvalidSignature); 3]);
}

#[test]
fn a_book_holds_only_what_its_workers_need_and_never_the_whole_book() {
    support::watchdog();
    let emu = emulator(10);
    let client = emu.client().unwrap();
    let signer = signer(&emu);
    let customers: Vec<String> = (0..600).map(|_| new_guid()).collect();
    let mut most_held = 0;
    let summary = Book::new(&client, &signer, options(2))
        .run(&customers, |_, progress| {
            most_held = most_held.max(progress.held)
        })
        .unwrap();
    assert_eq!(summary.verified, 600);
    // The read-ahead holds one group being created and the next one listed (two hundred);
    // customers whose records are still being watched come on top, more of them the faster
    // tokens are signed (with `ring`, about a third more: 299-330 in six runs). Never the
    // whole book.
    assert!(
        most_held <= 400,
        "held {most_held} of 600 customers at once"
    );
}

#[test]
fn a_customers_error_is_written_to_the_journal_whole() {
    use cybrid_identity::emulator::{Fault, FaultKind};
    support::watchdog();
    let emu = emulator(10);
    emu.add_fault(
        Fault::new(FaultKind::Status {
            status: 400,
            retry_after_s: None,
        })
        .method("POST")
        .path_prefix("/api/identity_records"),
    )
    .unwrap();
    let dir = scratch::TempDir::new("book-error");
    let journal = cybrid_identity::Journal::open(dir.join("journal.jsonl")).unwrap();
    let customer = new_guid();
    let summary = Book::new(&emu.client().unwrap(), &signer(&emu), options(2))
        .journal(&journal)
        .run([customer.as_str()], |_, _| ())
        .unwrap();
    assert_eq!(summary.errors, 1);
    let text = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap();
    let outcome: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let error = outcome["error"].as_str().unwrap();
    assert!(
        error.starts_with(
            "the Bank API answered 400 injected_fault: injected by the emulator's fault settings (request id emu-"
        ),
        "{text}"
    );
}

#[test]
fn a_customer_given_twice_at_once_is_attested_once() {
    support::watchdog();
    let emu = emulator(10);
    let customer = new_guid();
    let twice = [
        customer.clone(),
        customer.to_uppercase(),
        "not-a-guid".to_owned(),
        customer.clone(),
    ];
    let mut refused = Vec::new();
    let summary = Book::new(&emu.client().unwrap(), &signer(&emu), options(4))
        .run(twice, |outcome, _| {
            if let Err(e) = outcome.result {
                refused.push((outcome.customer_guid, e.to_string()));
            }
        })
        .unwrap();
    assert_eq!(
        (summary.customers, summary.created, summary.errors),
        (2, 1, 1)
    );
    // A guid that is not one is refused alone; its group is listed and attested.
    assert_eq!(refused.len(), 1);
    assert!(
        refused[0].1.starts_with("invalid customer_guid"),
        "{refused:?}"
    );
    assert_eq!(emu.stats().count("POST /api/identity_records"), 1);
}

#[test]
fn a_book_asked_to_stop_sends_nothing_new_and_ends_stopped() {
    use std::sync::atomic::{AtomicBool, Ordering};
    support::watchdog();
    let emu = emulator(10);
    let client = emu.client().unwrap();
    let signer = signer(&emu);
    let customers: Vec<String> = (0..300).map(|_| new_guid()).collect();
    // Asked before it starts: not one request.
    let stop = AtomicBool::new(true);
    let mut reported = 0;
    let error = Book::new(&client, &signer, options(4))
        .stop_when(&stop)
        .run(&customers, |_, _| reported += 1)
        .unwrap_err();
    assert!(
        matches!(error, cybrid_identity::Error::Stopped(_)),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "stopped: asked to stop; every request in flight was finished and its outcome written"
    );
    assert_eq!((reported, api_requests(&emu)), (0, 0));
    // Asked after five outcomes: what was in flight finishes, nothing new goes out.
    let stop = AtomicBool::new(false);
    let mut reported = 0;
    let error = Book::new(&client, &signer, options(4))
        .stop_when(&stop)
        .run(&customers, |_, _| {
            reported += 1;
            if reported == 5 {
                stop.store(true, Ordering::SeqCst);
            }
        })
        .unwrap_err();
    assert!(
        matches!(error, cybrid_identity::Error::Stopped(_)),
        "{error}"
    );
    let created = emu.stats().count("POST /api/identity_records");
    assert!((5..300).contains(&reported), "{reported} reported");
    assert!(created < 300, "{created} creates: the book went on");
}
