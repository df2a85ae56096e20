//! Key loading: PKCS#8 and PKCS#1, each refusal, and redaction.

use cybrid_identity::{Error, KeyErrorKind, SigningKey, VerifyingKey};

const PKCS8: &str = include_str!("fixtures/sandbox_pkcs8.pem");
const PKCS1: &str = include_str!("fixtures/sandbox_pkcs1.pem");
const ENCRYPTED: &str = include_str!("fixtures/sandbox_encrypted.pem");
const RSA1024: &str = include_str!("fixtures/rsa1024_pkcs1.pem");
const EC: &str = include_str!("fixtures/ec_p256_pkcs8.pem");
/// `openssl pkey -in tests/fixtures/sandbox_pkcs8.pem -pubout -outform DER | base64 -w0`
const SANDBOX_SPKI_B64: &str = include_str!("fixtures/sandbox_spki.b64");

fn kind(result: Result<SigningKey, Error>) -> (KeyErrorKind, String) {
    match result {
        Err(Error::Key { kind, message, .. }) => (kind, message),
        other => panic!("expected a key error, got {other:?}"),
    }
}

#[test]
fn pkcs8_and_pkcs1_load_the_same_key() {
    let a = SigningKey::from_pem(PKCS8).unwrap();
    let b = SigningKey::from_pem(PKCS1).unwrap();
    assert_eq!(a.bits(), 2048);
    assert_eq!(
        a.verifying_key().to_spki_base64(),
        b.verifying_key().to_spki_base64()
    );
    assert_eq!(a.verifying_key().to_spki_base64(), SANDBOX_SPKI_B64.trim());
}

#[test]
fn the_built_in_sandbox_key_is_the_published_one() {
    assert_eq!(
        SigningKey::sandbox().verifying_key().to_spki_base64(),
        SANDBOX_SPKI_B64.trim()
    );
}

#[test]
fn der_loads_both_encodings() {
    use base64::Engine as _;
    let body = |pem: &str| -> Vec<u8> {
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
    };
    let a = SigningKey::from_der(&body(PKCS8)).unwrap();
    let b = SigningKey::from_der(&body(PKCS1)).unwrap();
    assert_eq!(a.verifying_key(), b.verifying_key());
    let (kind, _) = kind(SigningKey::from_der(b"not der at all"));
    assert_eq!(kind, KeyErrorKind::Malformed);
}

#[test]
fn encrypted_keys_are_refused_by_name() {
    let (kind, message) = kind(SigningKey::from_pem(ENCRYPTED));
    assert_eq!(kind, KeyErrorKind::Encrypted);
    assert!(message.contains("encrypted"), "{message}");
    let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    assert_eq!(
        self::kind(SigningKey::from_pem(legacy)).0,
        KeyErrorKind::Encrypted
    );
}

#[test]
fn non_rsa_keys_are_refused_by_name() {
    let (kind, message) = kind(SigningKey::from_pem(EC));
    assert_eq!(kind, KeyErrorKind::NotRsa, "{message}");
    assert!(message.contains("not an RSA private key"), "{message}");
    let sec1 = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
    assert_eq!(
        self::kind(SigningKey::from_pem(sec1)).0,
        KeyErrorKind::NotRsa
    );
}

#[test]
fn short_keys_are_refused_with_their_size() {
    let (kind, message) = kind(SigningKey::from_pem(RSA1024));
    assert_eq!(kind, KeyErrorKind::TooShort);
    assert_eq!(
        message,
        "the RSA key has 1024 bits; at least 2048 are required"
    );
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for input in [
        "",
        "hello",
        "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
        "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
        "-----BEGIN ",
        "-----BEGIN X-----",
    ] {
        assert!(SigningKey::from_pem(input).is_err(), "{input:?}");
    }
    let (kind, _) = kind(SigningKey::from_pem(
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ));
    assert_eq!(kind, KeyErrorKind::NotPrivate);
}

#[test]
fn debug_shows_no_key_material() {
    assert_eq!(
        format!("{:?}", SigningKey::sandbox()),
        "SigningKey { bits: 2048, private: [redacted] }"
    );
    assert_eq!(
        format!("{:#?}", SigningKey::sandbox()),
        "SigningKey { bits: 2048, private: [redacted] }"
    );
}

#[test]
fn from_env_reads_the_variable_and_names_it_in_errors() {
    // One test touches the variable, so no other test races it.
    // SAFETY-free: set_var is safe in edition 2024 only inside `unsafe`; we avoid it by
    // running the check in a child process.
    let exe = std::env::current_exe().unwrap();
    if std::env::var("CYBRID_KEYS_TEST_CHILD").is_ok() {
        return;
    }
    let run = |value: Option<&str>| {
        let mut cmd = std::process::Command::new(&exe);
        cmd.args([
            "--exact",
            "from_env_child",
            "--nocapture",
            "--include-ignored",
        ]);
        cmd.env("CYBRID_KEYS_TEST_CHILD", "1");
        match value {
            Some(v) => cmd.env("CYBRID_ATTESTATION_SIGNING_KEY", v),
            None => cmd.env_remove("CYBRID_ATTESTATION_SIGNING_KEY"),
        };
        let out = cmd.output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(run(Some(PKCS1)).contains("FROM_ENV=ok bits=2048"));
    let missing = run(None);
    assert!(
        missing.contains(
            "FROM_ENV=err configuration error: CYBRID_ATTESTATION_SIGNING_KEY is not set"
        ),
        "{missing}"
    );
    let bad = run(Some("garbage"));
    assert!(
        bad.contains(
            "FROM_ENV=err key error: CYBRID_ATTESTATION_SIGNING_KEY: expected a PEM block"
        ),
        "{bad}"
    );
}

#[test]
#[ignore = "run by from_env_reads_the_variable_and_names_it_in_errors in a child process"]
fn from_env_child() {
    match SigningKey::from_env() {
        Ok(key) => println!("FROM_ENV=ok bits={}", key.bits()),
        Err(e) => println!("FROM_ENV=err {e}"),
    }
}

#[test]
fn verifying_key_round_trips_through_spki() {
    let vk = VerifyingKey::from_spki_base64(SANDBOX_SPKI_B64).unwrap();
    assert_eq!(&vk, SigningKey::sandbox().verifying_key());
    assert_eq!(VerifyingKey::from_spki_der(&vk.to_spki_der()).unwrap(), vk);
    assert!(VerifyingKey::from_spki_base64("%%%").is_err());
    assert!(VerifyingKey::from_spki_der(&[0x30, 0x00]).is_err());
}

#[cfg(feature = "rsa")]
#[test]
fn generated_keys_round_trip_through_pkcs8_pem_and_sign() {
    let started = std::time::Instant::now();
    let key = SigningKey::generate(2048).unwrap();
    println!("generated a 2048-bit key in {:?}", started.elapsed());
    assert_eq!(key.bits(), 2048);
    // The PEM is wiped when dropped: the type says so, and this line would not compile
    // if `to_pkcs8_pem` went back to a plain `String`.
    let pem: cybrid_identity::Zeroizing<String> = key.to_pkcs8_pem().unwrap();
    assert!(
        pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "{}",
        pem.as_str()
    );
    let again = SigningKey::from_pem(&pem).unwrap();
    assert_eq!(again.verifying_key(), key.verifying_key());
    let signature = again.sign_rs512(b"nonce").unwrap();
    assert!(key.verifying_key().verify_rs512(b"nonce", &signature));
    assert_ne!(
        key.verifying_key(),
        SigningKey::generate(2048).unwrap().verifying_key()
    );
    assert!(format!("{key:?}").contains("[redacted]"));
    for bits in [1024, 2047, 8192] {
        assert!(matches!(
            SigningKey::generate(bits),
            Err(cybrid_identity::Error::InvalidInput { field: "bits", .. })
        ));
    }
    // The sandbox key exports to the same PKCS#8 text that OpenSSL wrote.
    let sandbox = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sandbox_pkcs8.pem"
    ))
    .unwrap();
    assert_eq!(
        SigningKey::sandbox().to_pkcs8_pem().unwrap().trim(),
        sandbox.trim()
    );
}
