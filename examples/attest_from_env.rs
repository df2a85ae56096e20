//! Attests one customer against Cybrid (or the emulator), configured the way a deployed
//! program is: everything from the environment.
//!
//! ```text
//! CYBRID_CLIENT_ID=… CYBRID_CLIENT_SECRET=… CYBRID_ATTESTATION_SIGNING_KEY="$(cat bank.pem)" \
//! CYBRID_BANK_GUID=… CYBRID_VERIFICATION_KEY_GUID=… \
//!   cargo run --example attest_from_env -- CUSTOMER_GUID
//! ```
//!
//! A record already in force is adopted, one in progress waited for: run it twice and the
//! second run creates nothing.

use cybrid_identity::{AttestOptions, AttestationSigner, Client, SigningKey};

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let customer = std::env::args()
        .nth(1)
        .ok_or("usage: attest_from_env CUSTOMER_GUID")?;
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let client = Client::from_env()?;
    let signer = AttestationSigner::new(
        SigningKey::from_env()?,
        var("CYBRID_BANK_GUID")?,
        var("CYBRID_VERIFICATION_KEY_GUID")?,
    )?;
    let attested = client.ensure_attested(&customer, &signer, &AttestOptions::default())?;
    println!(
        "customer {customer}: record {} is {} ({})",
        attested.record.guid.as_deref().unwrap_or("?"),
        attested.record.state().map_or("?", |s| s.as_str()),
        if attested.created {
            "created now"
        } else {
            "adopted"
        }
    );
    Ok(())
}
