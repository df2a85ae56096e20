//! Tokens a second through the `Signer` seam: the key in memory (`SigningKey`) beside a key in
//! SoftHSM2 over PKCS#11 (`Pkcs11Signer`), each at 1 and 8 threads, interleaved in one run.
//!
//! Run: `cargo bench --bench signers --features pkcs11` (SoftHSM2 installed: Debian's
//! `softhsm2`). The bench makes a token store of its own in a temporary folder and runs
//! itself again with `SOFTHSM2_CONF` pointing at it, since SoftHSM2 reads that variable once.

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;

use common::{median, print_machine};
use cybrid_identity::signer::Pkcs11Signer;
use cybrid_identity::{AttestationSigner, SigningKey};

const BANK: &str = "b4e5b3a2c1d0e9f8a7b6c5d4e3f2a1b0";
const KID: &str = "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d";
const CUSTOMER: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
const PIN: &str = "bench-pin-1234";
const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

fn main() {
    if std::env::var_os("SOFTHSM2_CONF").is_none() {
        return run_with_a_token_store();
    }
    print_machine();
    let memory = AttestationSigner::new(SigningKey::sandbox(), BANK, KID).unwrap();
    let hsm = Pkcs11Signer::generate(MODULE, "bench", "bench", PIN, 2048).unwrap();
    let hsm = AttestationSigner::new(hsm, BANK, KID).unwrap();
    let rows = [
        ("SigningKey (in memory)", &memory),
        ("Pkcs11Signer (SoftHSM2)", &hsm),
    ];
    let mut rates = vec![Vec::new(); 4];
    // Rounds interleave the four measurements, so drift on a shared machine hits all alike.
    for _ in 0..3 {
        for (i, (_, signer)) in rows.iter().enumerate() {
            for (j, threads) in [1, 8].into_iter().enumerate() {
                rates[i * 2 + j].push(tokens_per_second(signer, threads, Duration::from_secs(2)));
            }
        }
    }
    println!("| signer | threads | tokens/s (median of 3 × 2 s) | × in-memory, 1 thread |");
    println!("|---|---|---|---|");
    let base = median(rates[0].clone());
    for (i, (name, _)) in rows.iter().enumerate() {
        for (j, threads) in [1, 8].into_iter().enumerate() {
            let rate = median(rates[i * 2 + j].clone());
            println!("| {name} | {threads} | {rate:.0} | {:.2} |", rate / base);
        }
    }
}

/// Whole attestation tokens signed by `threads` threads in `period`, a second.
fn tokens_per_second(signer: &AttestationSigner, threads: usize, period: Duration) -> f64 {
    let (signed, stop) = (AtomicUsize::new(0), AtomicBool::new(false));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    std::hint::black_box(signer.sign_for(CUSTOMER).unwrap());
                    signed.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(period);
        stop.store(true, Ordering::Relaxed);
    });
    signed.into_inner() as f64 / started.elapsed().as_secs_f64()
}

/// Makes a token store with one token, `bench`, and runs this bench again against it.
fn run_with_a_token_store() {
    let dir = std::env::temp_dir().join(format!("cybrid-signers-bench-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.join("tokens").display()
        ),
    )
    .unwrap();
    let init = Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            "bench",
            "--pin",
            PIN,
            "--so-pin",
            PIN,
        ])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("softhsm2-util (Debian's softhsm2) runs");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let status = Command::new(std::env::current_exe().unwrap())
        .args(std::env::args().skip(1))
        .env("SOFTHSM2_CONF", &conf)
        .status()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success());
}
