//! Signing and verification costs, side by side with the bare `rsa` and `ring` calls on the
//! same input, interleaved in one run.
//!
//! Run: `cargo bench --bench signing` (the crate signs with the `rsa` engine) and
//! `cargo bench --bench signing --features ring` (it signs with `ring`). Prints the median of
//! each group in microseconds, `Attestation::sign` against the bare call of the engine it
//! uses, and bare `ring` against bare `rsa`.

use std::hint::black_box;
use std::time::Duration;

mod common;

use common::{median, median_us};
use cybrid_identity::{Attestation, SigningKey, attestation};
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::RandomizedSigner as _;
use sha2::Sha512;
use time::OffsetDateTime;

const PEM: &str = include_str!("../tests/fixtures/sandbox_pkcs8.pem");
const BANK: &str = "b4e5b3a2c1d0e9f8a7b6c5d4e3f2a1b0";
const CUSTOMER: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
const KID: &str = "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d";

fn main() {
    let budget = Duration::from_secs(3);
    let key = SigningKey::sandbox();
    let iat = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    let builder = Attestation::new(BANK, CUSTOMER, KID)
        .issued_at(iat)
        .jwt_id("7f2c1f0e-8a9b-4c3d-9e8f-0a1b2c3d4e5f");
    let token = builder.sign(&key).unwrap();
    let signing_input = token.rsplit_once('.').unwrap().0.to_owned();

    let bare =
        rsa::pkcs1v15::SigningKey::<Sha512>::new(rsa::PrivateKey::from_pkcs8_pem(PEM).unwrap());
    let der = std::fs::read("tests/fixtures/sandbox_pkcs8.der").unwrap();
    let ring_pair = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let random = ring::rand::SystemRandom::new();
    let mut ring_signature = vec![0; ring_pair.public().modulus_len()];

    // Interleave the signing measurements so drift on a shared machine hits all alike.
    let (mut sign, mut raw, mut raw_ring) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        sign.push(median_us(budget / 3, 20, || {
            black_box(builder.sign(black_box(&key)).unwrap());
        }));
        raw.push(median_us(budget / 3, 20, || {
            black_box(
                bare.try_sign_with_rng(&mut getrandom::SysRng, black_box(signing_input.as_bytes()))
                    .unwrap(),
            );
        }));
        raw_ring.push(median_us(budget / 3, 20, || {
            ring_pair
                .sign(
                    &ring::signature::RSA_PKCS1_SHA512,
                    &random,
                    black_box(signing_input.as_bytes()),
                    &mut ring_signature,
                )
                .unwrap();
        }));
    }
    let (sign, raw, raw_ring) = (median(sign), median(raw), median(raw_ring));
    let (engine, engine_raw) = if cfg!(feature = "ring") {
        ("ring", raw_ring)
    } else {
        ("rsa", raw)
    };

    let parse = median_us(budget, 20, || {
        black_box(SigningKey::from_pem(black_box(PEM)).unwrap());
    });
    let now = iat + time::Duration::seconds(10);
    let verify = median_us(budget, 50, || {
        black_box(
            attestation::check(
                black_box(&token),
                Some(key.verifying_key()),
                &attestation::Expected {
                    bank_guid: BANK,
                    customer_guid: CUSTOMER,
                    now,
                },
            )
            .unwrap(),
        );
    });

    // Hostile input: 16 MiB of junk shaped like a token, refused before anything is decoded.
    let junk = format!(
        "{}.{}.{}",
        "e".repeat(1024),
        "x".repeat(16 << 20),
        "s".repeat(342)
    );
    let huge = median_us(budget, 20, || {
        black_box(
            attestation::check(
                black_box(&junk),
                Some(key.verifying_key()),
                &attestation::Expected {
                    bank_guid: BANK,
                    customer_guid: CUSTOMER,
                    now,
                },
            )
            .unwrap_err(),
        );
    });

    println!("group                          median µs   ratio");
    println!(
        "Attestation::sign ({engine:<4})       {sign:>9.1}   {:.3} × bare {engine}",
        sign / engine_raw
    );
    println!("bare rsa sign (same input)     {raw:>9.1}   1.000");
    println!(
        "bare ring sign (same input)    {raw_ring:>9.1}   {:.3} × bare rsa",
        raw_ring / raw
    );
    println!("SigningKey::from_pem (PKCS#8)  {parse:>9.1}");
    println!("attestation::check (verify)    {verify:>9.1}");
    println!("attestation::check (16 MiB)    {huge:>9.3}");
}
