//! A book of 1,000 signed in AWS KMS (moto on loopback, another process, with IAM
//! authentication on, so every request's SigV4 signature is checked) beside the same book
//! signed with the key in memory, at concurrency 16, in one run against the emulator.
//!
//! Run: `cargo bench --bench kms --features cli` (moto installed: `pip install 'moto[server]'`).
//! Prints customers a second, tokens signed a second and `Sign` calls per token.

use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;

use cybrid_identity::aws::AwsKmsSigner;
use cybrid_identity::emulator::{Emulator, new_guid};
use cybrid_identity::{
    AttestOptions, AttestationSigner, Book, Error, PostVerificationKey, Signer, SigningKey,
    VerifyingKey, WaitOptions,
};

const BOOK: usize = 1000;

/// Counts signatures.
struct Counting<S>(S, AtomicUsize);

impl<S: Signer> Signer for Counting<S> {
    fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.sign_rs512(message)
    }
    fn verifying_key(&self) -> &VerifyingKey {
        self.0.verifying_key()
    }
}

fn main() {
    common::print_machine();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut moto = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 with moto (pip install 'moto[server]')");
    let url = format!("http://127.0.0.1:{port}");
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(100));
    }
    let made = Command::new("python3")
        .args(["tests/support/moto.py", &url, "iam"])
        .output()
        .unwrap();
    let made: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    let text = |k: &str| made[k].as_str().unwrap().to_owned();
    let vars = [
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL", url.clone()),
        ("AWS_ACCESS_KEY_ID", text("access_key_id")),
        ("AWS_SECRET_ACCESS_KEY", text("secret_access_key")),
        // moto 5.2 does not implement MessageType DIGEST.
        ("CYBRID_AWS_KMS_MESSAGE_TYPE", "RAW".to_owned()),
    ];
    let kms = AwsKmsSigner::from_vars(&text("key_id"), |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    let rows: [(&str, Arc<dyn Signer>); 2] = [
        ("SigningKey (in memory)", Arc::new(SigningKey::sandbox())),
        ("AwsKmsSigner (moto)", Arc::new(kms)),
    ];
    println!("| signer | customers | seconds | customers/s | tokens/s | Sign calls/token |");
    println!("|---|---|---|---|---|---|");
    for (name, signer) in rows {
        let emu = Emulator::builder()
            .transition(Duration::from_millis(50))
            .latency(Duration::from_millis(20))
            .start()
            .unwrap();
        let client = emu.client().unwrap();
        let counting = Arc::new(Counting(signer, AtomicUsize::new(0)));
        let post = PostVerificationKey::new(&*counting, "bench").unwrap();
        let key = client.create_verification_key(&post).unwrap();
        let key = client
            .wait_for_verification_key(key.guid.as_deref().unwrap(), &WaitOptions::default())
            .unwrap();
        counting.1.store(0, Ordering::SeqCst);
        let signer =
            AttestationSigner::new(counting.clone(), emu.bank_guid(), key.guid.unwrap()).unwrap();
        let customers: Vec<String> = (0..BOOK).map(|_| new_guid()).collect();
        let started = Instant::now();
        let summary = Book::new(&client, &signer, AttestOptions::default().concurrency(16))
            .run(&customers, |_, _| {})
            .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        let signed = counting.1.load(Ordering::SeqCst);
        assert_eq!(summary.verified, BOOK, "{name}: every customer verified");
        println!(
            "| {name} | {BOOK} | {seconds:.1} | {:.0} | {:.0} | {:.2} |",
            BOOK as f64 / seconds,
            signed as f64 / seconds,
            signed as f64 / BOOK as f64
        );
    }
    let _ = moto.kill();
    let _ = moto.wait();
}
