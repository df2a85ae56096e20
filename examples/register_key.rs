//! Registers a bank's public key as a verification key and waits until Cybrid has verified
//! it: what a bank does once, before its first attestation.
//!
//! ```text
//! CYBRID_CLIENT_ID=… CYBRID_CLIENT_SECRET=… cargo run --example register_key -- bank.pem
//! ```
//!
//! Prints the key's guid: the `kid` of every token signed with the key.

use cybrid_identity::{Client, PostVerificationKey, SigningKey, VerificationKeyState, WaitOptions};

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: register_key KEY.pem")?;
    let key = SigningKey::from_pem(&std::fs::read_to_string(&path)?)?;
    let client = Client::from_env()?;
    let nonce = format!("register {path}");
    let created = client.create_verification_key(&PostVerificationKey::new(&key, nonce)?)?;
    let guid = created.guid.ok_or("the server sent a key without a guid")?;
    let options = WaitOptions::default().on_key_change(|k| eprintln!("key is {:?}", k.state));
    let done = client.wait_for_verification_key(&guid, &options)?;
    match done.state {
        Some(VerificationKeyState::Verified) => println!("{guid}"),
        state => return Err(format!("key {guid} ended {state:?}: {:?}", done.failure_code).into()),
    }
    Ok(())
}
