//! Prints an attestation JWT signed with Cybrid's sandbox key, and the pre-flight verdict.
//!
//! `cargo run --example sign_sandbox_token [BANK_GUID CUSTOMER_GUID KEY_GUID]`

use cybrid_identity::{Attestation, SigningKey, attestation};

fn main() -> Result<(), cybrid_identity::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (bank, customer, kid) = match args.as_slice() {
        [b, c, k] => (b.as_str(), c.as_str(), k.as_str()),
        _ => (
            "b4e5b3a2c1d0e9f8a7b6c5d4e3f2a1b0",
            "c0ffee00c0ffee00c0ffee00c0ffee00",
            "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d",
        ),
    };
    let key = SigningKey::sandbox();
    let token = Attestation::new(bank, customer, kid).sign(&key)?;
    println!("{token}");
    let now = time::OffsetDateTime::now_utc();
    match attestation::check(
        &token,
        Some(key.verifying_key()),
        &attestation::Expected {
            bank_guid: bank,
            customer_guid: customer,
            now,
        },
    ) {
        Ok(claims) => eprintln!(
            "pre-flight: passes (jti {}, expires {})",
            claims.jti, claims.exp
        ),
        Err(code) => eprintln!("pre-flight: Cybrid would record failure code {code}"),
    }
    Ok(())
}
