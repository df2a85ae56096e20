//! `Client::ensure_attested` against the emulator: an attestation in force or in progress is
//! adopted with no create, and a create whose answer was lost is reconciled by listing, so
//! each customer ends with exactly one record (the emulator's stats count the creates).

use std::time::Duration;

use cybrid_identity::emulator::{Emulator, Fault, FaultKind, new_guid};
use cybrid_identity::{
    AttestationSigner, AttestationState, Client, ListParams, PostIdentityRecord, SigningKey,
    WaitOptions,
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

fn quick() -> WaitOptions {
    WaitOptions::default().interval(Duration::from_millis(10), Duration::from_millis(20))
}

fn records_of(client: &Client, customer: &str) -> usize {
    client
        .list_identity_records(&ListParams::new().customer_guid(customer))
        .unwrap()
        .objects
        .len()
}

#[test]
fn a_verified_record_is_adopted_with_no_create() {
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
    let (emu, client, signer) = setup(Emulator::builder().transition(Duration::from_millis(10)));
    on_creates(&emu, FaultKind::Reset, Some(1));
    let customer = new_guid();
    let attested = client
        .ensure_attested(&customer, &signer, &quick())
        .unwrap();
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
    let (emu, client, signer) = setup(Emulator::builder().transition(Duration::from_millis(10)));
    on_creates(&emu, FaultKind::Reset, None);
    let err = client
        .ensure_attested(&new_guid(), &signer, &quick())
        .unwrap_err();
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
