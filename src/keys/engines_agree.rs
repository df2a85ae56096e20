//! The two engines make the same bytes: RSASSA-PKCS1-v1_5 is deterministic, so `ring` and
//! the `rsa` crate must sign every message alike, with every size of key, and each must
//! accept the other's signatures.

use super::{SigningKey, encoding, engine_ring, engine_rsa};

fn both(key: &SigningKey) -> (engine_rsa::Private, engine_ring::Private, Vec<u8>) {
    let pkcs1 = encoding::pkcs1_of_pkcs8(&key.pkcs8).unwrap();
    let bits = key.bits();
    let public = encoding::public_of_private(pkcs1).unwrap();
    (
        engine_rsa::Private::from_pkcs1_der(pkcs1, bits).unwrap(),
        engine_ring::Private::from_pkcs1_der(pkcs1, bits).unwrap(),
        public,
    )
}

#[test]
fn two_hundred_messages_sign_byte_for_byte_alike_with_each_key_size() {
    let keys = [
        SigningKey::sandbox(),
        SigningKey::generate(3072).unwrap(),
        SigningKey::generate(4096).unwrap(),
    ];
    for key in &keys {
        let (rsa, ring, public) = both(key);
        let rsa_public = engine_rsa::Public::from_pkcs1_der(&public).unwrap();
        let ring_public = engine_ring::Public::from_pkcs1_der(&public).unwrap();
        for n in 0..200u32 {
            // Messages of every length up to a few blocks of SHA-512, and some longer.
            let message: Vec<u8> = (0..n * 7).map(|i| (i % 251) as u8).collect();
            let (a, b) = (rsa.sign(&message).unwrap(), ring.sign(&message).unwrap());
            assert_eq!(a, b, "{}-bit key, message {n}", key.bits());
            assert!(rsa_public.verify(&message, &b) && ring_public.verify(&message, &a));
        }
        assert_eq!(
            ring.sign(b"m").unwrap(),
            key.sign_rs512(b"m").unwrap(),
            "the key signs with ring when both are on"
        );
    }
}

#[test]
fn ring_refuses_to_sign_with_a_key_over_4096_bits_and_says_so() {
    let big = std::fs::read_to_string("tests/fixtures/rsa8192.pem");
    let Ok(big) = big else {
        // Generated once: an 8192-bit key takes minutes to make in a debug build.
        panic!(
            "tests/fixtures/rsa8192.pem is missing (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:8192)"
        );
    };
    let error = SigningKey::from_pem(&big).expect_err("refused");
    assert_eq!(
        error.to_string(),
        "key error: the RSA key has 8192 bits; the ring engine signs with 4096 at most (build with the `rsa` feature instead, or use a key of 2048 to 4096 bits)"
    );
}
