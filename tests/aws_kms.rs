//! AWS KMS as the bank's signer, against moto (PyPI `moto[server]`) on loopback with IAM
//! authentication on (`INITIAL_NO_AUTH_ACTION_COUNT`), so that a wrong signature is refused
//! as AWS refuses it: a key made in moto, registered with the emulator, a book of 100 with
//! every token signed in KMS; a wrong secret refused before any create; web identity through
//! moto's STS.
//!
//! Without moto these tests print why they skip; `.ci/run` installs it and sets
//! `CYBRID_REQUIRE_REAL=1`, so there a missing moto fails them.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cybrid_identity::aws::AwsKmsSigner;
use cybrid_identity::emulator::{Emulator, new_guid};
use cybrid_identity::{
    AttestOptions, Attestation, AttestationSigner, Book, Error, PostVerificationKey, Signer,
    VerificationKeyState, VerifyingKey, WaitOptions,
};

#[path = "support/cli.rs"]
mod cli;
#[path = "support/moto_server.rs"]
mod moto_server;
#[path = "support/real.rs"]
mod real;
use moto_server::Moto;

/// moto 5.2 does not implement `MessageType: DIGEST` (it hashes the digest again, as if it
/// were the message): against it the signer sends the signing input itself. The DIGEST body
/// is held to SHA-512's bytes by a unit test of `aws::kms`.
fn moto_signs_raw() -> (&'static str, String) {
    ("CYBRID_AWS_KMS_MESSAGE_TYPE", "RAW".to_owned())
}

/// The variables an AWS SDK would read, as pairs.
fn vars(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    }
}

/// Counts the signatures a signer makes.
struct Counting<S>(S, AtomicUsize);

impl<S: Signer> Signer for Counting<S> {
    fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.sign_rs512(message)
    }
    fn verifying_key(&self) -> &VerifyingKey {
        self.0.verifying_key()
    }
}

#[test]
fn a_kms_key_registers_and_signs_a_book_of_100() {
    let Some(moto) = Moto::start(true) else {
        return;
    };
    let made = moto.setup("iam");
    let text = |k: &str| made[k].as_str().unwrap().to_owned();
    let env = vec![
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL", moto.url.clone()),
        ("AWS_ACCESS_KEY_ID", text("access_key_id")),
        ("AWS_SECRET_ACCESS_KEY", text("secret_access_key")),
        moto_signs_raw(),
    ];
    let kms = AwsKmsSigner::from_vars(&text("key_id"), vars(env)).unwrap();
    let shown = format!("{kms:?}");
    assert!(!shown.contains(&text("secret_access_key")), "{shown}");
    let kms = Arc::new(Counting(kms, AtomicUsize::new(0)));
    let emu = Emulator::builder()
        .transition(Duration::from_millis(20))
        .start()
        .unwrap();
    let client = emu.client().unwrap();
    let post = PostVerificationKey::new(&*kms, "a nonce signed in KMS").unwrap();
    let key = client.create_verification_key(&post).unwrap();
    let key = client
        .wait_for_verification_key(key.guid.as_deref().unwrap(), &WaitOptions::default())
        .unwrap();
    assert_eq!(key.state, Some(VerificationKeyState::Verified));
    let signer = AttestationSigner::new(kms.clone(), emu.bank_guid(), key.guid.unwrap()).unwrap();
    let customers: Vec<String> = (0..100).map(|_| new_guid()).collect();
    let started = Instant::now();
    let summary = Book::new(&client, &signer, AttestOptions::default().concurrency(16))
        .run(&customers, |outcome, _| {
            assert!(outcome.result.is_ok(), "{:?}", outcome.result);
        })
        .unwrap();
    println!(
        "100 customers attested with KMS signatures in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!((summary.verified, summary.created), (100, 100));
    assert_eq!(
        kms.1.load(Ordering::SeqCst),
        101,
        "one Sign a token, and the nonce's"
    );
    assert_eq!(emu.stats().records, 100);
}

fn cli_output(cmd: &mut Command) -> (Option<i32>, String) {
    let out = cmd.output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), all)
}

#[test]
fn a_wrong_secret_a_key_of_the_wrong_kind_or_no_credentials_send_nothing_to_cybrid() {
    let Some(moto) = Moto::start(true) else {
        return;
    };
    let made = moto.setup("iam");
    let text = |k: &str| made[k].as_str().unwrap().to_owned();
    let emu = Emulator::start().unwrap();
    let attest = |key: &str, secret: Option<&str>| {
        let mut cmd = cli::cli(
            &emu,
            &[
                "attest",
                "--customer",
                "c0ffee00c0ffee00c0ffee00c0ffee00",
                "--aws-kms-key",
                key,
            ],
        );
        cmd.env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", &moto.url)
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
            .env_remove("AWS_ROLE_ARN");
        match secret {
            Some(secret) => cmd
                .env("AWS_ACCESS_KEY_ID", text("access_key_id"))
                .env("AWS_SECRET_ACCESS_KEY", secret),
            None => cmd
                .env_remove("AWS_ACCESS_KEY_ID")
                .env_remove("AWS_SECRET_ACCESS_KEY"),
        };
        cli_output(&mut cmd)
    };
    let wrong_secret = "wrongwrongwrongwrongwrongwrongwrongwrong";
    let (code, all) = attest(&text("key_id"), Some(wrong_secret));
    println!("{all}");
    // A wrong secret is refused the same way on every try: not for an orchestrator to retry.
    assert_eq!(code, Some(2), "{all}");
    assert!(all.contains("AWS KMS GetPublicKey refused: "), "{all}");
    assert!(!all.contains(wrong_secret));
    // A key that does not exist: exit 2 too.
    let (code, all) = attest("alias/no-such-key", Some(&text("secret_access_key")));
    assert_eq!(code, Some(2), "{all}");
    assert!(all.contains("NotFoundException"), "{all}");
    let (code, all) = attest(&text("key_id"), None);
    assert_eq!(code, Some(2), "{all}");
    assert!(
        all.contains("AWS_ACCESS_KEY_ID") && all.contains("AWS_WEB_IDENTITY_TOKEN_FILE"),
        "{all}"
    );
    let secret = text("secret_access_key");
    let (code, all) = attest(&text("ecc_key_id"), Some(&secret));
    assert_eq!(code, Some(2), "{all}");
    assert!(all.contains("ECC_NIST_P256 is not an RSA key"), "{all}");
    let (code, all) = attest(&text("encrypt_key_id"), Some(&secret));
    assert_eq!(code, Some(2), "{all}");
    assert!(all.contains("its usage is ENCRYPT_DECRYPT"), "{all}");
    assert!(!all.contains(&secret));
    let requests: u64 = emu.stats().requests.values().sum();
    assert_eq!(requests, 0, "nothing reached Cybrid");
}

#[test]
fn web_identity_credentials_come_from_sts_and_sign() {
    let Some(moto) = Moto::start(false) else {
        return;
    };
    let made = moto.setup("plain");
    let dir = cli::Scratch::new("webidentity");
    let token_file = dir.path("token");
    std::fs::write(
        &token_file,
        "eyJhbGciOiJSUzI1NiJ9.a-service-account-token.sig\n",
    )
    .unwrap();
    let env = vec![
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL", moto.url.clone()),
        (
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            token_file.to_str().unwrap().to_owned(),
        ),
        (
            "AWS_ROLE_ARN",
            "arn:aws:iam::123456789012:role/cybrid-attest".to_owned(),
        ),
        ("AWS_ROLE_SESSION_NAME", "attest-book-0".to_owned()),
        moto_signs_raw(),
    ];
    let kms = AwsKmsSigner::from_vars(made["key_id"].as_str().unwrap(), vars(env)).unwrap();
    let (bank, customer, kid) = (new_guid(), new_guid(), new_guid());
    let token = Attestation::new(&bank, &customer, &kid).sign(&kms).unwrap();
    let expected = cybrid_identity::attestation::Expected {
        bank_guid: &bank,
        customer_guid: &customer,
        now: cybrid_identity::time::OffsetDateTime::now_utc(),
    };
    assert!(
        cybrid_identity::attestation::check(&token, Some(kms.verifying_key()), &expected).is_ok()
    );
}
