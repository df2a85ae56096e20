//! Encrypted PKCS#8 keys as OpenSSL writes them (PBKDF2-HMAC-SHA256 with AES-256-CBC, and
//! scrypt), read with their passphrase; a wrong passphrase named as such; and the encrypted
//! keys this crate writes, read back by `openssl pkey`.

#[path = "support/scratch.rs"]
mod scratch;
use std::path::Path;
use std::process::Command;

use cybrid_identity::{Error, KeyErrorKind, SigningKey};

#[path = "support/real.rs"]
mod real;

const BIN: &str = env!("CARGO_BIN_EXE_cybrid-identity");
const BANK: &str = "0f0e0d0c0b0a09080706050403020100";
const CUSTOMER: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
const KID: &str = "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d";

const PASSPHRASE: &[u8] = b"cybrid test passphrase";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("tests/fixtures/encrypted/{name}")).unwrap()
}

fn kind(result: Result<SigningKey, Error>) -> (KeyErrorKind, String) {
    match result {
        Err(Error::Key { kind, message, .. }) => (kind, message),
        other => panic!("expected a key error, got {other:?}"),
    }
}

#[test]
fn keys_openssl_encrypted_each_way_are_the_sandbox_key() {
    let sandbox = SigningKey::sandbox();
    for name in [
        "genpkey-aes-256-cbc.pem",
        "pkcs8-v2-aes-256-cbc.pem",
        "pkcs8-scrypt.pem",
    ] {
        let key = SigningKey::from_pem_with_passphrase(&fixture(name), PASSPHRASE)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(key.verifying_key(), sandbox.verifying_key(), "{name}");
        // Deterministic signatures: the same key signs the same bytes.
        assert_eq!(
            key.sign_rs512(b"m").unwrap(),
            sandbox.sign_rs512(b"m").unwrap()
        );
    }
}

#[test]
fn a_wrong_passphrase_is_named_and_a_plain_reader_says_how_to_read_it() {
    for name in ["pkcs8-v2-aes-256-cbc.pem", "pkcs8-scrypt.pem"] {
        let (kind, message) = kind(SigningKey::from_pem_with_passphrase(
            &fixture(name),
            b"not the passphrase",
        ));
        assert_eq!(kind, KeyErrorKind::WrongPassphrase, "{name}");
        assert_eq!(
            message,
            "the passphrase does not decrypt this key (or the key file is damaged)"
        );
        let (kind, message) = self::kind(SigningKey::from_pem(&fixture(name)));
        assert_eq!(kind, KeyErrorKind::Encrypted);
        assert!(
            message.contains("CYBRID_ATTESTATION_KEY_PASSPHRASE"),
            "{message}"
        );
    }
    let (kind, message) = kind(SigningKey::from_pem_with_passphrase(
        &fixture("traditional-aes256.pem"),
        PASSPHRASE,
    ));
    assert_eq!(kind, KeyErrorKind::Encrypted);
    assert!(
        message.contains("openssl pkcs8 -topk8 -v2 aes-256-cbc"),
        "{message}"
    );
    // A plain key needs no passphrase, and a given one is not in the way.
    let plain = std::fs::read_to_string("tests/fixtures/sandbox_pkcs8.pem").unwrap();
    assert!(SigningKey::from_pem_with_passphrase(&plain, PASSPHRASE).is_ok());
}

#[test]
fn the_key_this_crate_encrypts_is_read_back_and_refuses_an_empty_passphrase() {
    let key = SigningKey::sandbox();
    let pem = key.to_encrypted_pkcs8_pem(PASSPHRASE).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    assert!(!pem.contains("MIIEv"), "no plain PKCS#8 inside");
    let again = SigningKey::from_pem_with_passphrase(&pem, PASSPHRASE).unwrap();
    assert_eq!(again.verifying_key(), key.verifying_key());
    assert!(matches!(
        key.to_encrypted_pkcs8_pem(b""),
        Err(Error::InvalidInput { .. })
    ));
}

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Fresh keys from the `openssl` command, each scheme, and ours read by `openssl pkey`.
#[test]
fn fresh_openssl_keys_are_read_and_openssl_reads_ours() {
    if !real::openssl() {
        return;
    }
    let dir = scratch::TempDir::new("enc");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let pass = "pass:cybrid test passphrase";
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-aes-256-cbc",
        "-pass",
        pass,
        "-out",
        &path("genpkey.pem"),
    ]);
    openssl(&[
        "pkcs8",
        "-topk8",
        "-scrypt",
        "-in",
        &path("genpkey.pem"),
        "-passin",
        pass,
        "-passout",
        pass,
        "-out",
        &path("scrypt.pem"),
    ]);
    let public = openssl(&[
        "pkey",
        "-in",
        &path("genpkey.pem"),
        "-passin",
        pass,
        "-pubout",
        "-outform",
        "DER",
    ]);
    for name in ["genpkey.pem", "scrypt.pem"] {
        let pem = std::fs::read_to_string(path(name)).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let key = SigningKey::from_pem_with_passphrase(&pem, PASSPHRASE).unwrap();
        assert_eq!(key.verifying_key().to_spki_der(), public, "{name}");
    }
    // Ours, read by OpenSSL with the passphrase (and refused without the right one).
    let key = SigningKey::from_pem_with_passphrase(
        &std::fs::read_to_string(path("genpkey.pem")).unwrap(),
        PASSPHRASE,
    )
    .unwrap();
    std::fs::write(
        path("ours.pem"),
        key.to_encrypted_pkcs8_pem(PASSPHRASE).unwrap(),
    )
    .unwrap();
    let theirs = openssl(&[
        "pkey",
        "-in",
        &path("ours.pem"),
        "-passin",
        pass,
        "-pubout",
        "-outform",
        "DER",
    ]);
    assert_eq!(theirs, key.verifying_key().to_spki_der());
    let wrong = Command::new("openssl")
        .args([
            "pkey",
            "-in",
            &path("ours.pem"),
            "-passin",
            "pass:wrong",
            "-noout",
        ])
        .output()
        .unwrap();
    assert!(!wrong.status.success());

    // The command line: `jwt sign --key` with the passphrase from the environment signs
    // with each of OpenSSL's keys; the token verifies with OpenSSL's public half.
    let sign = |key: &str, passphrase: Option<&str>| {
        let mut cmd = Command::new(BIN);
        cmd.args([
            "jwt",
            "sign",
            "--bank",
            BANK,
            "--customer",
            CUSTOMER,
            "--kid",
            KID,
        ])
        .args(["--key", key])
        .env_remove("CYBRID_ATTESTATION_KEY_PASSPHRASE");
        if let Some(p) = passphrase {
            cmd.env("CYBRID_ATTESTATION_KEY_PASSPHRASE", p);
        }
        cmd.output().unwrap()
    };
    let public = cybrid_identity::VerifyingKey::from_spki_der(&public).unwrap();
    for name in ["genpkey.pem", "scrypt.pem"] {
        let out = sign(&path(name), Some("cybrid test passphrase"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = String::from_utf8(out.stdout).unwrap();
        let expected = cybrid_identity::attestation::Expected {
            bank_guid: BANK,
            customer_guid: CUSTOMER,
            now: cybrid_identity::time::OffsetDateTime::now_utc(),
        };
        assert!(
            cybrid_identity::attestation::check(token.trim(), Some(&public), &expected).is_ok(),
            "{name}"
        );
        // A wrong passphrase, or none: non-zero, no token, the passphrase never echoed.
        for passphrase in [Some("not it"), None] {
            let out = sign(&path(name), passphrase);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{stderr}");
            assert!(out.stdout.is_empty(), "no token printed");
            assert!(!stderr.contains("not it"), "{stderr}");
            let says = if passphrase.is_some() {
                "the passphrase does not decrypt this key"
            } else {
                "CYBRID_ATTESTATION_KEY_PASSPHRASE"
            };
            assert!(stderr.contains(says), "{stderr}");
        }
    }
    // `--passphrase-file` reads the first line of a file.
    std::fs::write(path("pass.txt"), "cybrid test passphrase\n").unwrap();
    let out = Command::new(BIN)
        .args([
            "jwt",
            "sign",
            "--bank",
            BANK,
            "--customer",
            CUSTOMER,
            "--kid",
            KID,
        ])
        .args([
            "--key",
            &path("scrypt.pem"),
            "--passphrase-file",
            &path("pass.txt"),
        ])
        .env_remove("CYBRID_ATTESTATION_KEY_PASSPHRASE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    keys_generate_encrypts(&path);
}

/// `keys generate --encrypt` writes a key `openssl pkey` reads with the passphrase; a build
/// whose only engine is `ring` makes no keys and says what to use instead.
fn keys_generate_encrypts(path: &dyn Fn(&str) -> String) {
    let pass = "pass:cybrid test passphrase";
    if cfg!(not(feature = "rsa")) {
        let out = Command::new(BIN)
            .args(["keys", "generate", "--encrypt", "--out", &path("made.pem")])
            .env(
                "CYBRID_ATTESTATION_KEY_PASSPHRASE",
                "cybrid test passphrase",
            )
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("openssl genpkey") && stderr.contains("--pkcs11-module"),
            "{stderr}"
        );
        return;
    }
    // `keys generate --encrypt` writes a key `openssl pkey` reads with the passphrase.
    let out = Command::new(BIN)
        .args(["keys", "generate", "--encrypt", "--out", &path("made.pem")])
        .env(
            "CYBRID_ATTESTATION_KEY_PASSPHRASE",
            "cybrid test passphrase",
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("wrote an encrypted 2048-bit private key to "),
        "{stdout}"
    );
    let made = std::fs::read_to_string(path("made.pem")).unwrap();
    assert!(made.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let theirs = openssl(&[
        "pkey",
        "-in",
        &path("made.pem"),
        "-passin",
        pass,
        "-pubout",
        "-outform",
        "DER",
    ]);
    let printed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("public key: "))
        .unwrap();
    assert_eq!(
        cybrid_identity::VerifyingKey::from_spki_der(&theirs)
            .unwrap()
            .to_spki_base64(),
        printed
    );
    let without = Command::new(BIN)
        .args(["keys", "generate", "--encrypt", "--out", &path("none.pem")])
        .env_remove("CYBRID_ATTESTATION_KEY_PASSPHRASE")
        .output()
        .unwrap();
    assert_eq!(without.status.code(), Some(2));
    assert!(!Path::new(&path("none.pem")).exists());
}
