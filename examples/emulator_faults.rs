//! The emulator's faults on demand: a create whose answer is lost after the server stored
//! it, seen first through the raw call (the outcome is unknown) and then through
//! `ensure_attested`, which lists, finds the record and adopts it instead of creating a
//! second one.
//!
//! `cargo run --example emulator_faults --features emulator`

use std::time::Duration;

use cybrid_identity::emulator::{Emulator, Fault, FaultKind, new_guid};
use cybrid_identity::{
    AttestOptions, Attestation, AttestationSigner, PostIdentityRecord, SigningKey,
};

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(20))
        .start()?;
    let client = emu.client()?;
    let creates = || {
        Fault::new(FaultKind::Drop)
            .method("POST")
            .path_prefix("/api/identity_records")
    };

    // The raw call: stored, then the connection closes before the answer.
    emu.add_fault(creates().times(1))?;
    let customer = new_guid();
    let token = Attestation::new(emu.bank_guid(), &customer, emu.verification_key_guid())
        .sign(&SigningKey::sandbox())?;
    let err = client
        .create_identity_record(&PostIdentityRecord::attestation(&customer, token))
        .expect_err("the answer was dropped");
    assert!(err.is_outcome_unknown());
    println!("raw create: {err}");
    println!("records on the server: {}", emu.stats().records);

    // The same fault under ensure_attested: one create, one record, adopted.
    emu.add_fault(creates().times(1))?;
    let signer = AttestationSigner::new(
        SigningKey::sandbox(),
        emu.bank_guid(),
        emu.verification_key_guid(),
    )?;
    let other = new_guid();
    let options = AttestOptions::default().settle(Duration::from_secs(5));
    let attested = client.ensure_attested(&other, &signer, &options)?;
    let state = attested.record.state().map_or("?", |s| s.as_str());
    println!(
        "ensure_attested: {state}, created by this call: {}",
        attested.created
    );
    let posts = emu.stats().count("POST /api/identity_records");
    assert_eq!(posts, 2, "one create each, none sent twice");
    Ok(())
}
