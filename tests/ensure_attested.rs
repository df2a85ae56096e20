//! `Client::ensure_attested` against the emulator: an attestation in force or in progress is
//! adopted with no create, and a create whose answer was lost is reconciled by listing, so
//! each customer ends with exactly one record (the emulator's stats count the creates).

use std::time::Duration;

use cybrid_identity::emulator::{Emulator, Fault, FaultKind, new_guid};
use cybrid_identity::{
    AttestOptions, AttestationSigner, AttestationState, Client, ListParams, PostIdentityRecord,
    SigningKey, WaitOptions,
};

const POSTS: &str = "POST /api/identity_records";

fn setup(
    builder: cybrid_identity::emulator::EmulatorBuilder,
) -> (Emulator, Client, AttestationSigner) {
    let emu = builder.start().unwrap();
    let client = emu.client().unwrap();
    let signer = AttestationSigner::new(
        SigningKey::sandbox(),
        emu.bank_guid(),
        emu.verification_key_guid(),
    )
    .unwrap();
    (emu, client, signer)
}

/// A fault on creates: `times` of them, or every one.
fn on_creates(emu: &Emulator, kind: FaultKind, times: Option<u32>) {
    let fault = Fault::new(kind)
        .method("POST")
        .path_prefix("/api/identity_records");
    let fault = match times {
        Some(n) => fault.times(n),
        None => fault,
    };
    emu.add_fault(fault).unwrap();
}

/// Quick polls, and a settle period that fits a test.
fn quick() -> AttestOptions {
    AttestOptions::default()
        .settle(Duration::from_millis(300))
        .wait(WaitOptions::default().interval(Duration::from_millis(10), Duration::from_millis(20)))
}

/// Runs `f` on a thread and fails the test if it has not finished within 20 s: a loop that
/// sends creates again and again must end the test in seconds, not hang it.
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("did not finish within 20 s")
}

fn records_of(client: &Client, customer: &str) -> usize {
    client
        .list_identity_records(ListParams::new().customer_guid(customer))
        .unwrap()
        .objects
        .len()
}

#[test]
fn a_verified_record_is_adopted_with_no_create() {
    support::watchdog();
    let (emu, client, signer) = setup(Emulator::builder().transition(Duration::from_millis(10)));
    let customer = new_guid();
    let first = client
        .ensure_attested(&customer, &signer, &quick())
        .unwrap();
    assert!(first.created);
    assert_eq!(first.record.state(), Some(&AttestationState::Verified));
    let again = client
        .ensure_attested(&customer, &signer, &quick())
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.record.guid, first.record.guid);
    assert_eq!(
        emu.stats().count(POSTS),
        1,
        "the second call created nothing"
    );
}

#[test]
fn a_pending_record_is_waited_for_with_no_create() {
    support::watchdog();
    let (emu, client, signer) = setup(
        Emulator::builder()
            .transition(Duration::from_millis(150))
            .with_pending(true),
    );
    let customer = new_guid();
    let token = signer.sign_for(&customer).unwrap();
    let created = client
        .create_identity_record(&PostIdentityRecord::attestation(&customer, token))
        .unwrap();
    std::thread::sleep(Duration::from_millis(170));
    assert_eq!(
        client
            .get_identity_record(created.guid.as_deref().unwrap())
            .unwrap()
            .state(),
        Some(&AttestationState::Pending)
    );
    let attested = client
        .ensure_attested(&customer, &signer, &quick())
        .unwrap();
    assert!(!attested.created);
    assert_eq!(attested.record.guid, created.guid);
    assert_eq!(attested.record.state(), Some(&AttestationState::Verified));
    assert_eq!(emu.stats().count(POSTS), 1, "only the setup's create");
}

#[test]
fn a_create_dropped_after_it_was_stored_is_adopted() {
    support::watchdog();
    let (emu, client, signer) = setup(Emulator::builder().transition(Duration::from_millis(10)));
    on_creates(&emu, FaultKind::Drop, Some(1));
    let customer = new_guid();
    let attested = client
        .ensure_attested(&customer, &signer, &quick())
        .unwrap();
    assert!(attested.created);
    assert_eq!(attested.record.state(), Some(&AttestationState::Verified));
    assert_eq!(emu.stats().count(POSTS), 1, "one create in all");
    assert_eq!(records_of(&client, &customer), 1);
}

#[test]
fn a_create_dropped_before_it_was_stored_is_sent_again() {
    support::watchdog();
    let (emu, client, signer) = setup(Emulator::builder().transition(Duration::from_millis(10)));
    on_creates(&emu, FaultKind::Reset, Some(1));
    let customer = new_guid();
    let (c, s, who) = (client.clone(), signer.clone(), customer.clone());
    let attested = within(move || c.ensure_attested(&who, &s, &quick())).unwrap();
    assert!(attested.created);
    assert_eq!(
        emu.stats().count(POSTS),
        2,
        "the lost create, then the one that took"
    );
    assert_eq!(records_of(&client, &customer), 1, "one record in all");
    assert_eq!(emu.stats().records, 1);
}

#[test]
fn creates_lost_every_time_end_with_the_unknown_outcome() {
    support::watchdog();
    let (emu, client, signer) = setup(Emulator::builder().transition(Duration::from_millis(10)));
    on_creates(&emu, FaultKind::Reset, None);
    let (c, s) = (client.clone(), signer.clone());
    let err = within(move || c.ensure_attested(&new_guid(), &s, &quick())).unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    // The client's default of 2 retries: 3 creates, none of which took effect.
    assert_eq!(emu.stats().count(POSTS), 3);
    assert_eq!(emu.stats().records, 0);
    assert!(
        client
            .ensure_attested("not-a-guid", &signer, &quick())
            .is_err()
    );
}

/// A client whose calls give up after `timeout`, on the emulator.
fn impatient(emu: &Emulator, timeout: Duration) -> Client {
    emu.client_builder().timeout(timeout).build().unwrap()
}

#[test]
fn a_create_still_running_on_the_server_when_the_client_gave_up_ends_with_one_record() {
    support::watchdog();
    let (emu, _, signer) = setup(Emulator::builder().transition(Duration::from_millis(10)));
    // The server takes 1.5 s to handle the create; the client gives up after 0.5 s. The
    // listing right after shows nothing yet: the record lands a second later.
    on_creates(&emu, FaultKind::Delay { ms: 1500 }, Some(1));
    let client = impatient(&emu, Duration::from_millis(500));
    let customer = new_guid();
    let started = std::time::Instant::now();
    let attested = client
        .ensure_attested(&customer, &signer, &quick().settle(Duration::from_secs(4)))
        .unwrap();
    assert!(attested.created);
    assert_eq!(attested.record.state(), Some(&AttestationState::Verified));
    assert_eq!(emu.stats().count(POSTS), 1, "no second create");
    assert_eq!(records_of(&client, &customer), 1);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "adopted as soon as it appeared, not at the settle period's end"
    );
}

#[test]
fn without_a_settle_period_the_same_slow_create_is_duplicated() {
    support::watchdog();
    // What the settle period is for: the rule "not in the list yet means never happened"
    // makes two records of one slow create.
    let (emu, _, signer) = setup(Emulator::builder().transition(Duration::from_millis(10)));
    on_creates(&emu, FaultKind::Delay { ms: 1000 }, Some(1));
    let client = impatient(&emu, Duration::from_millis(300));
    let customer = new_guid();
    client
        .ensure_attested(&customer, &signer, &quick().settle(Duration::ZERO))
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(emu.stats().count(POSTS), 2);
    assert_eq!(records_of(&client, &customer), 2);
}

#[test]
fn a_create_refused_for_certain_returns_at_once_with_one_post() {
    support::watchdog();
    let (emu, client, signer) = setup(Emulator::builder().transition(Duration::from_millis(10)));
    on_creates(
        &emu,
        FaultKind::Status {
            status: 400,
            retry_after_s: None,
        },
        None,
    );
    let err = client
        .ensure_attested(
            &new_guid(),
            &signer,
            &quick().settle(Duration::from_secs(60)),
        )
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(!err.is_outcome_unknown());
    assert_eq!(emu.stats().count(POSTS), 1);
}

#[test]
fn an_old_failed_record_is_never_taken_for_the_new_one() {
    support::watchdog();
    let (emu, client, signer) = setup(Emulator::builder().transition(Duration::from_millis(10)));
    let customer = new_guid();
    // A failed record from before (a token for another bank).
    let foreign = AttestationSigner::new(
        SigningKey::sandbox(),
        new_guid(),
        emu.verification_key_guid(),
    )
    .unwrap();
    let old = client
        .create_identity_record(&PostIdentityRecord::attestation(
            &customer,
            foreign.sign_for(&customer).unwrap(),
        ))
        .unwrap();
    let old = client.wait_for(&old, &WaitOptions::default()).unwrap();
    assert_eq!(old.state(), Some(&AttestationState::Failed));
    // The next create is lost before it is stored: after the settle period, sent again.
    on_creates(&emu, FaultKind::Reset, Some(1));
    let attested = client
        .ensure_attested(&customer, &signer, &quick())
        .unwrap();
    assert!(attested.created);
    assert_ne!(attested.record.guid, old.guid);
    assert_eq!(attested.record.state(), Some(&AttestationState::Verified));
    assert_eq!(
        emu.stats().count(POSTS),
        3,
        "the old one, the lost one, the one that took"
    );
    assert_eq!(records_of(&client, &customer), 2);
}

#[test]
fn a_verified_record_with_a_future_expiry_is_in_force() {
    support::watchdog();
    let (emu, client, signer) = setup(
        Emulator::builder()
            .transition(Duration::from_millis(10))
            .expiry_on_verify(true),
    );
    let customer = new_guid();
    let first = client
        .ensure_attested(&customer, &signer, &quick())
        .unwrap();
    assert!(
        first.record.expired_at.is_some(),
        "the emulator set expired_at at verification"
    );
    let again = client
        .ensure_attested(&customer, &signer, &quick())
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.record.guid, first.record.guid);
    assert_eq!(emu.stats().count(POSTS), 1, "0 creates for the second call");
}

#[path = "support/mod.rs"]
mod support;

#[test]
fn a_record_in_a_state_this_crate_does_not_know_is_waited_for_never_duplicated() {
    support::watchdog();
    use support::{ScriptedServer, json, token};
    const CUSTOMER: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
    let server = ScriptedServer::start(|req, _| {
        if req.path() == "/oauth/token" {
            return token("tok", 3600);
        }
        let record = serde_json::json!({
            "guid": "0123456789abcdef0123456789abcdef", "customer_guid": CUSTOMER,
            "type": "attestation", "attestation_details": {"state": "reviewing", "failure_code": null},
            "created_at": "2026-11-30T10:00:00.000Z", "expired_at": null});
        json(
            200,
            serde_json::json!({"total": 1, "page": 0, "per_page": 100, "objects": [record]}),
        )
    });
    let client = Client::builder()
        .base_url(server.url())
        .token_url(server.token_url())
        .client_credentials("id", "secret")
        .build()
        .unwrap();
    let signer = AttestationSigner::new(
        SigningKey::sandbox(),
        "0f0e0d0c0b0a09080706050403020100",
        "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d",
    )
    .unwrap();
    let options = quick().wait(
        WaitOptions::default()
            .timeout(Duration::from_millis(300))
            .interval(Duration::from_millis(20), Duration::from_millis(40)),
    );
    let err = client
        .ensure_attested(CUSTOMER, &signer, &options)
        .unwrap_err();
    assert!(
        matches!(&err, cybrid_identity::Error::RecordWaitTimedOut { last, .. } if last.state().map(|s| s.as_str()) == Some("reviewing")),
        "{err}"
    );
    assert_eq!(
        server.count("POST", "/api/identity_records"),
        0,
        "0 creates"
    );
    assert!(
        server.count("GET", "/api/identity_records") >= 2,
        "it was polled"
    );
}

#[test]
fn each_state_of_the_record_is_reported_once() {
    support::watchdog();
    let (_emu, client, signer) = setup(
        Emulator::builder()
            .transition(Duration::from_millis(200))
            .with_pending(true),
    );
    let states = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = states.clone();
    let options = quick().wait(
        WaitOptions::default()
            .interval(Duration::from_millis(10), Duration::from_millis(20))
            .on_change(move |r| seen.lock().unwrap().push(r.state().unwrap().to_string())),
    );
    let attested = client
        .ensure_attested(&new_guid(), &signer, &options)
        .unwrap();
    assert_eq!(attested.record.state(), Some(&AttestationState::Verified));
    assert_eq!(*states.lock().unwrap(), ["storing", "pending", "verified"]);
}

/// A scripted Cybrid: listings empty, creates answered by `create` (given the create's
/// number, from 0), and the client that talks to it (no retries of its own).
fn scripted(
    create: impl Fn(usize) -> support::Reply + Send + Sync + 'static,
) -> (support::ScriptedServer, Client, AttestationSigner) {
    scripted_with_retries(0, create)
}

fn scripted_with_retries(
    retries: u32,
    create: impl Fn(usize) -> support::Reply + Send + Sync + 'static,
) -> (support::ScriptedServer, Client, AttestationSigner) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let creates = AtomicUsize::new(0);
    let server =
        support::ScriptedServer::start(move |req, _| match (req.method.as_str(), req.path()) {
            (_, "/oauth/token") => support::token("tok", 3600),
            ("GET", path) if path.starts_with("/api/bank_verification_keys/") => {
                support::sandbox_key(
                    "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d",
                    "0f0e0d0c0b0a09080706050403020100",
                )
            }
            ("POST", _) => create(creates.fetch_add(1, Ordering::SeqCst)),
            _ => support::json(
                200,
                serde_json::json!({"total": 0, "page": 0, "per_page": 100, "objects": []}),
            ),
        });
    let client = Client::builder()
        .base_url(server.url())
        .token_url(server.token_url())
        .client_credentials("id", "secret")
        .max_retries(retries)
        .retry_policy(
            cybrid_identity::RetryPolicy::default()
                .with_backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
        .build()
        .unwrap();
    let signer = AttestationSigner::new(
        SigningKey::sandbox(),
        "0f0e0d0c0b0a09080706050403020100",
        "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d",
    )
    .unwrap();
    (server, client, signer)
}

const SCRIPTED_CUSTOMER: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";

fn scripted_record(state: &str) -> support::Reply {
    support::json(
        201,
        serde_json::json!({"guid": "0123456789abcdef0123456789abcdef", "customer_guid": SCRIPTED_CUSTOMER,
                           "type": "attestation", "attestation_details": {"state": state, "failure_code": null}}),
    )
}

#[test]
fn a_create_answered_final_needs_no_poll() {
    support::watchdog();
    let (server, client, signer) = scripted(|_| scripted_record("verified"));
    let attested = client
        .ensure_attested(SCRIPTED_CUSTOMER, &signer, &quick())
        .unwrap();
    assert_eq!(attested.record.state(), Some(&AttestationState::Verified));
    assert_eq!(server.count("POST", "/api/identity_records"), 1);
    assert_eq!(
        server.count("GET", "/api/identity_records"),
        1,
        "the first listing only: the create's answer was final"
    );
}

/// A 429 that asks for no wait.
fn refused_with_429() -> support::Reply {
    support::with_header(
        support::json(
            429,
            serde_json::json!({"status": 429, "error_message": "slow down", "message_code": "rate_limited"}),
        ),
        "retry-after",
        "0",
    )
}

#[test]
fn a_create_refused_with_429_is_sent_again_at_most_eight_times() {
    support::watchdog();
    let refused = refused_with_429;
    // Three refusals, then the create goes through: one record, four creates.
    let (server, client, signer) = scripted(move |n| {
        if n < 3 {
            refused()
        } else {
            scripted_record("verified")
        }
    });
    let attested = client
        .ensure_attested(SCRIPTED_CUSTOMER, &signer, &quick())
        .unwrap();
    assert!(attested.created);
    assert_eq!(server.count("POST", "/api/identity_records"), 4);
    // Refused every time: the ninth refusal ends the customer with the 429.
    let (server, client, signer) = scripted(move |_| refused());
    let err = client
        .ensure_attested(SCRIPTED_CUSTOMER, &signer, &quick())
        .unwrap_err();
    assert_eq!(err.status(), Some(429), "{err}");
    assert_eq!(server.count("POST", "/api/identity_records"), 9);
}

#[test]
fn a_create_refused_with_429_does_not_use_up_the_creates_a_lost_answer_may_need() {
    support::watchdog();
    let refused = refused_with_429;
    // One retry in the client: each refusal costs two POSTs. Three refusals (six POSTs),
    // then every create's answer is lost: the client's two creates go out, each followed by
    // its settle period, and the last unknown outcome is the customer's.
    let (server, client, signer) = scripted_with_retries(1, move |n| {
        if n < 6 {
            refused()
        } else {
            support::Reply::Drop
        }
    });
    let err = client
        .ensure_attested(SCRIPTED_CUSTOMER, &signer, &quick())
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert_eq!(server.count("POST", "/api/identity_records"), 8);
}
