//! Walks every identity record of a listing, page by page, on the built-in emulator: the
//! iterator holds one page at a time and stops at the server's total.
//!
//! `cargo run --example paginate --features emulator`

use cybrid_identity::emulator::{Emulator, new_guid};
use cybrid_identity::{Attestation, ListParams, PostIdentityRecord, SigningKey};

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emu = Emulator::start()?;
    let client = emu.client()?;
    let customer = new_guid();
    for _ in 0..7 {
        let token = Attestation::new(emu.bank_guid(), &customer, emu.verification_key_guid())
            .sign(&SigningKey::sandbox())?;
        client.create_identity_record(&PostIdentityRecord::attestation(&customer, token))?;
    }
    // Three a page, to show the walk: pages 0, 1 and 2.
    let params = ListParams::new().customer_guid(&customer).per_page(3);
    let mut seen = 0;
    for record in client.identity_records(params) {
        let record = record?;
        seen += 1;
        println!("{seen}: {}", record.guid.as_deref().unwrap_or("?"));
    }
    assert_eq!(seen, 7, "every record, each once");
    println!("{seen} records in 3 pages of at most 3");
    Ok(())
}
