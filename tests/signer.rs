//! A `Signer` written outside the crate, as a bank would write one for its own signing
//! service: it signs attestations, registers a verification key, and runs a book through the
//! emulator; told to fail, its customers are reported with its words and nothing is created
//! for them, and ten failures in a row stop the book.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cybrid_identity::emulator::{Emulator, new_guid};
use cybrid_identity::{
    AttestOptions, Attestation, AttestationSigner, AttestationState, Book, Error,
    PostVerificationKey, Signer, SigningKey, VerificationKeyState, VerifyingKey, WaitOptions,
    attestation,
};

/// A signer in front of a key of its own: counts its calls, and fails those it is told to.
struct Counting {
    key: SigningKey,
    calls: AtomicUsize,
    /// Fails call `n` (from 1) when `fails(n)`.
    fails: fn(usize) -> bool,
}

impl Counting {
    fn new(key: SigningKey, fails: fn(usize) -> bool) -> Self {
        Counting {
            key,
            calls: AtomicUsize::new(0),
            fails,
        }
    }
}

impl Signer for Counting {
    fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if (self.fails)(call) {
            return Err(Error::Signing("the signing service is unreachable".into()));
        }
        self.key.sign_rs512(message)
    }

    fn verifying_key(&self) -> &VerifyingKey {
        self.key.verifying_key()
    }
}

fn emulator() -> Emulator {
    Emulator::builder()
        .transition(Duration::from_millis(10))
        .start()
        .unwrap()
}

fn options() -> AttestOptions {
    AttestOptions::default()
        .concurrency(4)
        .wait(WaitOptions::default().interval(Duration::from_millis(10), Duration::from_millis(40)))
}

#[test]
fn a_signer_of_our_own_registers_its_key_signs_and_runs_a_book() {
    let emu = emulator();
    let client = emu.client().unwrap();
    let other = std::fs::read_to_string("tests/fixtures/other_2048_pkcs1.pem").unwrap();
    let signer = Arc::new(Counting::new(SigningKey::from_pem(&other).unwrap(), |_| {
        false
    }));
    // Its key registered through the signer: the nonce signed by it.
    let post = PostVerificationKey::new(&*signer, "a nonce").unwrap();
    assert_eq!(signer.calls.load(Ordering::SeqCst), 1);
    let key = client.create_verification_key(&post).unwrap();
    let key = client
        .wait_for_verification_key(key.guid.as_deref().unwrap(), &WaitOptions::default())
        .unwrap();
    assert_eq!(key.state, Some(VerificationKeyState::Verified));
    let kid = key.guid.unwrap();
    // One attestation, checked as the server checks it.
    let customer = new_guid();
    let token = Attestation::new(emu.bank_guid(), &customer, &kid)
        .sign(&*signer)
        .unwrap();
    let expected = attestation::Expected {
        bank_guid: emu.bank_guid(),
        customer_guid: &customer,
        now: cybrid_identity::time::OffsetDateTime::now_utc(),
    };
    assert!(attestation::check(&token, Some(signer.verifying_key()), &expected).is_ok());
    assert_eq!(signer.calls.load(Ordering::SeqCst), 2);
    // A book of 40, every token signed by it.
    let attester = AttestationSigner::new(signer.clone(), emu.bank_guid(), &kid).unwrap();
    let customers: Vec<String> = (0..40).map(|_| new_guid()).collect();
    let summary = Book::new(&client, &attester, options())
        .run(&customers, |outcome, _| {
            let record = &outcome.result.as_ref().unwrap().record;
            assert_eq!(record.state(), Some(&AttestationState::Verified));
        })
        .unwrap();
    assert_eq!((summary.verified, summary.created), (40, 40));
    assert_eq!(
        signer.calls.load(Ordering::SeqCst),
        42,
        "one signature a token"
    );
    assert_eq!(emu.stats().records, 40);
}

#[test]
fn a_customer_whose_token_could_not_be_signed_is_reported_and_nothing_is_created() {
    let emu = emulator();
    let client = emu.client().unwrap();
    // Every third signature fails: never ten in a row, so the book goes on.
    let signer = Counting::new(SigningKey::sandbox(), |call| call % 3 == 0);
    let attester =
        AttestationSigner::new(signer, emu.bank_guid(), emu.verification_key_guid()).unwrap();
    let customers: Vec<String> = (0..30).map(|_| new_guid()).collect();
    let mut refused = Vec::new();
    let summary = Book::new(&client, &attester, options().concurrency(1))
        .run(&customers, |outcome, _| {
            if let Err(e) = outcome.result {
                refused.push(e.to_string());
            }
        })
        .unwrap();
    assert_eq!(refused.len(), 10);
    assert!(
        refused
            .iter()
            .all(|e| e == "signing failed: the signing service is unreachable"),
        "{refused:?}"
    );
    assert_eq!((summary.verified, summary.errors), (20, 10));
    assert_eq!(
        emu.stats().records,
        20,
        "no record for a token never signed"
    );
    assert_eq!(emu.stats().count("POST /api/identity_records"), 20);
}

#[test]
fn ten_signing_failures_in_a_row_stop_the_book() {
    let emu = emulator();
    let client = emu.client().unwrap();
    let signer = Arc::new(Counting::new(SigningKey::sandbox(), |_| true));
    let attester =
        AttestationSigner::new(signer.clone(), emu.bank_guid(), emu.verification_key_guid())
            .unwrap();
    let customers: Vec<String> = (0..200).map(|_| new_guid()).collect();
    let mut reported = 0;
    let error = Book::new(&client, &attester, options().concurrency(1))
        .run(&customers, |outcome, _| {
            assert!(matches!(outcome.result, Err(Error::Signing(_))));
            reported += 1;
        })
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "signing failed: 10 tokens in a row could not be signed, the book stops (the last: the signing service is unreachable)"
    );
    assert_eq!(reported, 10, "each failed customer reported, then no more");
    assert_eq!(signer.calls.load(Ordering::SeqCst), 10);
    assert_eq!(emu.stats().records, 0);
}

#[test]
fn ten_refusals_of_the_signer_in_a_row_stop_the_book_too() {
    /// A signer that refuses every time as a KMS refuses a caller (an `Error::Key`).
    struct Refusing(SigningKey);
    impl Signer for Refusing {
        fn sign_rs512(&self, _message: &[u8]) -> Result<Vec<u8>, Error> {
            // An `Error::Key`, as the crate's own refusals are (a wrong PIN, AccessDenied).
            SigningKey::from_pem("not a key").map(|_| Vec::new())
        }
        fn verifying_key(&self) -> &cybrid_identity::VerifyingKey {
            self.0.verifying_key()
        }
    }
    let emu = emulator();
    let client = emu.client().unwrap();
    let attester = AttestationSigner::new(
        Refusing(SigningKey::sandbox()),
        emu.bank_guid(),
        emu.verification_key_guid(),
    )
    .unwrap();
    let customers: Vec<String> = (0..50).map(|_| new_guid()).collect();
    let mut reported = 0;
    let error = Book::new(&client, &attester, options().concurrency(1))
        .run(&customers, |outcome, _| {
            assert!(matches!(outcome.result, Err(Error::Key { .. })));
            reported += 1;
        })
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("signing failed: 10 tokens in a row could not be signed, the book stops (the last: key error:"),
        "{error}"
    );
    assert_eq!(reported, 10);
    assert_eq!(emu.stats().records, 0);
}

#[test]
fn a_signature_of_the_wrong_length_is_refused_before_it_is_sent() {
    struct Short(SigningKey);
    impl Signer for Short {
        fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
            let mut signature = self.0.sign_rs512(message)?;
            signature.pop();
            Ok(signature)
        }
        fn verifying_key(&self) -> &VerifyingKey {
            self.0.verifying_key()
        }
    }
    let error = Attestation::new(new_guid(), new_guid(), new_guid())
        .sign(&Short(SigningKey::sandbox()))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "signing failed: the signer returned 255 bytes where its 2048-bit key signs 256"
    );
    let boxed: Box<dyn Signer> = Box::new(Short(SigningKey::sandbox()));
    assert!(PostVerificationKey::new(&boxed, "n").is_err());
}
