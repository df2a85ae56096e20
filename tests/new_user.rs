//! What a new user meets, command by command (issue 32): the guide's own steps verify every
//! customer, a signer and a key that do not match stop before any create, `attest --customer`
//! attests once, `keys register` adopts, exit statuses an orchestrator can act on, and a
//! journal and progress that tell the truth.
//!
//! The SoftHSM2 and KMS parts skip with a printed reason where those are not installed;
//! `.ci/run` installs them and sets `CYBRID_REQUIRE_REAL=1`, where a skip fails.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use cybrid_identity::emulator::{Emulator, new_guid};
use cybrid_identity::{
    AttestOptions, AttestationSigner, Book, Error, ListParams, PostVerificationKey,
    SignerKeyProblem, SigningKey, VerifyingKey,
};
use serde_json::Value;

#[path = "support/cli.rs"]
mod cli;
#[path = "support/real.rs"]
mod real;
use cli::*;

fn all_output(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

fn creates(emu: &Emulator) -> u64 {
    emu.stats().count("POST /api/identity_records")
}

fn key_creates(emu: &Emulator) -> u64 {
    emu.stats().count("POST /api/bank_verification_keys")
}

/// A book of `n` customers, one a line, in `dir/book.txt`.
fn plain_book(dir: &Path, n: usize) -> Vec<String> {
    let customers: Vec<String> = (0..n).map(|_| new_guid()).collect();
    std::fs::write(dir.join("book.txt"), customers.join("\n") + "\n").unwrap();
    customers
}

/// Every customer's records, read through the API: (count, all verified).
fn records(emu: &Emulator, customers: &[String]) -> (Vec<usize>, bool) {
    let client = emu.client().unwrap();
    let mut all_verified = true;
    let counts = customers
        .iter()
        .map(|c| {
            let found: Vec<_> = client
                .identity_records(ListParams::new().customer_guid(c))
                .map(Result::unwrap)
                .collect();
            all_verified &= found
                .iter()
                .all(|r| r.state().map(|s| s.as_str()) == Some("verified"));
            found.len()
        })
        .collect();
    (counts, all_verified)
}

/// The `sh` block of the key guide that tries an HSM locally, as printed.
fn guide_softhsm_steps() -> Vec<String> {
    let guide = include_str!("../docs/guide/keys.md");
    let start = guide
        .find("```sh\n  export SOFTHSM2_CONF")
        .expect("the key guide's SoftHSM2 block");
    let block = &guide[start + "```sh\n".len()..];
    let end = block.find("```").unwrap();
    block[..end]
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Runs `lines` in bash in `dir`, with the built `cybrid-identity` first on PATH and the
/// environment that reaches `emu`.
fn bash(emu: &Emulator, dir: &Path, lines: &[String]) -> Output {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = format!("set -e\n{}\n", lines.join("\n"));
    let mut cmd = cli(emu, &[]);
    cmd.env_remove("SOFTHSM2_CONF");
    cmd.env_remove("CYBRID_PKCS11_PIN");
    cmd.env_remove("CYBRID_ATTESTATION_SIGNING_KEY");
    cmd.env_remove("CYBRID_ATTESTATION_KEY_PASSPHRASE");
    let mut bash = Command::new("bash");
    bash.args(["-c", &script])
        .current_dir(dir)
        .env("PATH", path);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => bash.env(k, v),
            None => bash.env_remove(k),
        };
    }
    bash.output().unwrap()
}

/// A 2048-bit key that is not the sandbox's (a fixture: the `ring`-only build makes none).
fn other_key() -> SigningKey {
    SigningKey::from_pem(include_str!("fixtures/other_2048_pkcs1.pem")).unwrap()
}

fn emulator() -> Emulator {
    Emulator::builder()
        .transition(Duration::from_millis(20))
        .start()
        .unwrap()
}

#[test]
fn the_key_guides_softhsm_steps_as_printed_verify_every_customer() {
    if real::softhsm_module().is_none() {
        return;
    }
    let emu = emulator();
    let dir = Scratch::new("guide-hsm");
    let customers = plain_book(&dir.path(""), 20);
    let steps = guide_softhsm_steps();
    assert!(
        steps
            .iter()
            .any(|l| l.starts_with("cybrid-identity attest"))
    );
    let out = bash(&emu, &dir.path(""), &steps);
    assert!(out.status.success(), "{}", all_output(&out));
    let (counts, verified) = records(&emu, &customers);
    assert_eq!(counts, vec![1; 20], "{}", all_output(&out));
    assert!(verified, "{}", all_output(&out));
    assert!(text(&out.stdout).contains("20 customers: 20 verified, 0 failed"));
}

#[test]
fn the_key_guides_softhsm_steps_with_another_keys_kid_exit_2_before_any_create() {
    if real::softhsm_module().is_none() {
        return;
    }
    let emu = emulator();
    let dir = Scratch::new("guide-hsm-kid");
    plain_book(&dir.path(""), 5);
    let steps: Vec<String> = guide_softhsm_steps()
        .into_iter()
        .map(|l| {
            if l.starts_with("cybrid-identity attest") {
                format!("{l} --kid {}", emu.verification_key_guid())
            } else {
                l
            }
        })
        .collect();
    let out = bash(&emu, &dir.path(""), &steps);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert_eq!(creates(&emu), 0);
    let stderr = text(&out.stderr);
    // Both fingerprints named, as `keys generate` prints them.
    let sandbox = fingerprint(SigningKey::sandbox().verifying_key());
    assert!(stderr.contains(&sandbox), "{stderr}");
    let generated = text(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("SHA-256 fingerprint: "))
        .unwrap()
        .to_owned();
    assert!(stderr.contains(&generated), "{stderr}");
}

fn fingerprint(key: &VerifyingKey) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(key.to_spki_der())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// `keys generate --out` makes the key with the `rsa` crate.
#[cfg(feature = "rsa")]
#[test]
fn a_generated_key_file_registered_then_used_verifies_every_customer() {
    let emu = emulator();
    let dir = Scratch::new("keyfile");
    let customers = plain_book(&dir.path(""), 10);
    let key = dir.path("k.pem");
    let k = key.to_str().unwrap();
    succeeds(&mut cli(&emu, &["keys", "generate", "--out", k]));
    succeeds(&mut cli(&emu, &["keys", "register", "--key", k]));
    let book = dir.path("book.txt");
    let out = succeeds(&mut cli(
        &emu,
        &["attest", "--customers", book.to_str().unwrap(), "--key", k],
    ));
    assert!(out.contains("10 verified, 0 failed"), "{out}");
    assert_eq!(records(&emu, &customers), (vec![1; 10], true));
}

#[test]
fn a_signer_with_no_registered_key_exits_2_naming_keys_register_with_its_flags() {
    let emu = emulator();
    let dir = Scratch::new("unregistered");
    plain_book(&dir.path(""), 3);
    let key = dir.path("k.pem");
    let k = key.to_str().unwrap();
    std::fs::write(&key, include_str!("fixtures/other_2048_pkcs1.pem")).unwrap();
    let book = dir.path("book.txt");
    let out = run(&mut cli(
        &emu,
        &["attest", "--customers", book.to_str().unwrap(), "--key", k],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(
        text(&out.stderr).contains(&format!("cybrid-identity keys register --key {k}")),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(creates(&emu), 0);
}

#[test]
fn a_bank_that_is_not_the_keys_bank_exits_2_before_any_create() {
    let emu = emulator();
    let dir = Scratch::new("bank");
    plain_book(&dir.path(""), 3);
    let book = dir.path("book.txt");
    let other = new_guid();
    let out = run(&mut attest(
        &emu,
        &["--customers", book.to_str().unwrap(), "--bank", &other],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(text(&out.stderr).contains(&other), "{}", text(&out.stderr));
    assert_eq!(creates(&emu), 0);
    let out = run(&mut attest(
        &emu,
        &["--customer", &new_guid(), "--bank", &other],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert_eq!(creates(&emu), 0);
}

#[test]
fn a_book_and_ensure_attested_refuse_a_signer_that_is_not_the_keys_before_any_create() {
    let emu = emulator();
    let client = emu.client().unwrap();
    let other = other_key();
    let other_fp = fingerprint(other.verifying_key());
    let signer =
        AttestationSigner::new(other, emu.bank_guid(), emu.verification_key_guid()).unwrap();
    let err = client
        .ensure_attested(&new_guid(), &signer, &AttestOptions::default())
        .unwrap_err();
    match &err {
        Error::SignerKey {
            kid,
            problem: SignerKeyProblem::OtherPublicKey { signer, registered },
            ..
        } => {
            assert_eq!(kid, emu.verification_key_guid());
            assert_eq!(signer, &other_fp);
            assert_eq!(
                registered,
                &fingerprint(SigningKey::sandbox().verifying_key())
            );
        }
        other => panic!("{other:?}"),
    }
    let customers: Vec<String> = (0..5).map(|_| new_guid()).collect();
    let mut outcomes = 0;
    let err = Book::new(&client, &signer, AttestOptions::default())
        .run(customers, |_, _| outcomes += 1)
        .unwrap_err();
    assert!(matches!(err, Error::SignerKey { .. }), "{err:?}");
    // The wrong bank, with the right key.
    let wrong_bank = AttestationSigner::new(
        SigningKey::sandbox(),
        new_guid(),
        emu.verification_key_guid(),
    )
    .unwrap();
    let err = client
        .ensure_attested(&new_guid(), &wrong_bank, &AttestOptions::default())
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::SignerKey {
                problem: SignerKeyProblem::OtherBank { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(creates(&emu), 0);
    // The right signer: one check a run, then the creates.
    let good = AttestationSigner::new(
        SigningKey::sandbox(),
        emu.bank_guid(),
        emu.verification_key_guid(),
    )
    .unwrap();
    let before = emu
        .stats()
        .count("GET /api/bank_verification_keys/{verification_key_guid}");
    let customers: Vec<String> = (0..5).map(|_| new_guid()).collect();
    let summary = Book::new(&client, &good, AttestOptions::default())
        .run(customers, |_, _| {})
        .unwrap();
    assert_eq!(summary.verified, 5);
    assert_eq!(
        emu.stats()
            .count("GET /api/bank_verification_keys/{verification_key_guid}")
            - before,
        1
    );
}

#[test]
fn attest_customer_adopts_the_record_in_force_on_every_later_run() {
    let emu = emulator();
    let customer = new_guid();
    for _ in 0..3 {
        succeeds(&mut attest(&emu, &["--customer", &customer]));
    }
    assert_eq!(creates(&emu), 1);
    // An uppercase guid is the same customer, as a book line of it is.
    let upper = new_guid().to_ascii_uppercase();
    succeeds(&mut attest(&emu, &["--customer", &upper]));
    let dir = Scratch::new("upper");
    std::fs::write(dir.path("book.txt"), upper.to_ascii_lowercase() + "\n").unwrap();
    succeeds(&mut attest(
        &emu,
        &["--customers", dir.path("book.txt").to_str().unwrap()],
    ));
    assert_eq!(creates(&emu), 2);
    assert_eq!(
        records(&emu, &[upper.to_ascii_lowercase()]),
        (vec![1], true)
    );
    // With a journal: intent and outcome lines, as a book of one writes them.
    let journal = dir.path("run.jsonl");
    let c = new_guid();
    succeeds(&mut attest(
        &emu,
        &["--customer", &c, "--journal", journal.to_str().unwrap()],
    ));
    let lines = cli::journal(&journal);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["intent"], "create");
    assert_eq!(lines.last().unwrap()["state"], "verified");
}

#[test]
fn keys_register_twice_adopts_the_verified_key() {
    let emu = emulator();
    let dir = Scratch::new("register");
    let key = dir.path("k.pem");
    let k = key.to_str().unwrap();
    std::fs::write(&key, include_str!("fixtures/other_2048_pkcs1.pem")).unwrap();
    let first = succeeds(&mut cli(&emu, &["keys", "register", "--key", k]));
    let second = succeeds(&mut cli(&emu, &["keys", "register", "--key", k]));
    assert_eq!(first.trim(), second.trim());
    assert_eq!(key_creates(&emu), 1);
    // The sandbox key is the emulator's own registered key: adopted at once.
    let sandbox = succeeds(&mut cli(&emu, &["keys", "register", "--sandbox"]));
    assert_eq!(sandbox.trim(), emu.verification_key_guid());
    assert_eq!(key_creates(&emu), 1);
}

/// A signer whose signatures do not verify with the public key it names.
struct Crooked(SigningKey, SigningKey);

impl cybrid_identity::Signer for Crooked {
    fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.1.sign_rs512(message)
    }
    fn verifying_key(&self) -> &VerifyingKey {
        self.0.verifying_key()
    }
}

#[test]
fn a_signer_that_signs_wrongly_is_named_before_a_key_is_registered() {
    let emu = emulator();
    let crooked = Crooked(other_key(), SigningKey::sandbox());
    let err = PostVerificationKey::new(&crooked, "nonce 1").unwrap_err();
    assert!(matches!(err, Error::Signing(_)), "{err:?}");
    assert!(err.to_string().contains("does not verify"), "{err}");
    assert_eq!(key_creates(&emu), 0);
}

/// `cmd`'s exit status and output, asserting it is `code`.
fn exits(code: i32, cmd: &mut Command) -> String {
    let out = run(cmd);
    let all = all_output(&out);
    assert_eq!(out.status.code(), Some(code), "{all}");
    all
}

#[test]
fn what_a_rerun_cannot_fix_exits_2() {
    let emu = emulator();
    let dir = Scratch::new("exit2");
    let customer = new_guid();
    let attest_with = |flags: &[&str]| {
        let mut cmd = cli(&emu, &["attest", "--customer", &customer]);
        cmd.args(flags);
        cmd
    };
    // An unreadable key file, a garbage one.
    let missing = dir.path("missing.pem");
    exits(2, &mut attest_with(&["--key", missing.to_str().unwrap()]));
    let garbage = dir.path("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN PRIVATE KEY-----\nnot a key\n").unwrap();
    exits(2, &mut attest_with(&["--key", garbage.to_str().unwrap()]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let locked = dir.path("locked.pem");
        std::fs::write(
            &locked,
            SigningKey::sandbox().to_pkcs8_pem().unwrap().as_bytes(),
        )
        .unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        // Root reads any file: only a non-root run can see this one refused.
        if std::fs::read(&locked).is_err() {
            exits(2, &mut attest_with(&["--key", locked.to_str().unwrap()]));
        }
    }
    // An EC key and a 1024-bit key.
    for (name, pem) in [
        ("ec.pem", include_str!("fixtures/ec_p256_pkcs8.pem")),
        ("rsa1024.pem", include_str!("fixtures/rsa1024_pkcs1.pem")),
    ] {
        let path = dir.path(name);
        std::fs::write(&path, pem).unwrap();
        exits(2, &mut attest_with(&["--key", path.to_str().unwrap()]));
    }
    // An encrypted key with no passphrase, and with the wrong one.
    let encrypted = dir.path("enc.pem");
    let pem = SigningKey::sandbox()
        .to_encrypted_pkcs8_pem(b"the right passphrase")
        .unwrap();
    std::fs::write(&encrypted, pem.as_bytes()).unwrap();
    let e = encrypted.to_str().unwrap();
    exits(2, &mut attest_with(&["--key", e]));
    let mut wrong = attest_with(&["--key", e]);
    wrong.env("CYBRID_ATTESTATION_KEY_PASSPHRASE", "the wrong passphrase");
    exits(2, &mut wrong);
    // A --kid that does not exist, one that is failed.
    exits(2, &mut attest_with(&["--sandbox", "--kid", &new_guid()]));
    let failed = failed_key(&emu);
    exits(2, &mut attest_with(&["--sandbox", "--kid", &failed]));
    // Client credentials the token endpoint refuses.
    let mut refused = attest_with(&["--sandbox"]);
    refused.env("CYBRID_CLIENT_SECRET", "not-the-secret-5b1c");
    let said = exits(2, &mut refused);
    assert!(!said.contains("not-the-secret-5b1c"), "{said}");
    // A bogus environment, an unreadable CA bundle.
    let mut bogus = attest_with(&["--sandbox"]);
    bogus.env("CYBRID_ENVIRONMENT", "bogus");
    exits(2, &mut bogus);
    let mut bundle = attest_with(&["--sandbox"]);
    bundle.env("CYBRID_CA_BUNDLE", dir.path("no-such-bundle.pem"));
    exits(2, &mut bundle);
    assert_eq!(creates(&emu), 0);
}

/// A verification key of the emulator's bank that failed (its nonce's signature is wrong).
fn failed_key(emu: &Emulator) -> String {
    let client = emu.client().unwrap();
    let key = other_key();
    let mut post = PostVerificationKey::new(&key, "a nonce").unwrap();
    post.signature = PostVerificationKey::new(&SigningKey::sandbox(), "a nonce")
        .unwrap()
        .signature;
    let made = client.create_verification_key(&post).unwrap();
    let guid = made.guid.unwrap();
    let done = client
        .wait_for_verification_key(&guid, &Default::default())
        .unwrap();
    assert_eq!(done.state.as_ref().map(|s| s.as_str()), Some("failed"));
    guid
}

#[test]
fn a_wrong_pkcs11_pin_exits_2() {
    let Some(module) = real::softhsm_module() else {
        return;
    };
    let emu = emulator();
    let dir = Scratch::new("pin");
    std::fs::create_dir_all(dir.path("tokens")).unwrap();
    let conf = dir.path("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.path("tokens").display()
        ),
    )
    .unwrap();
    let init = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args(["--init-token", "--free", "--label", "bank", "--pin", "1234"])
        .args(["--so-pin", "5678"])
        .output()
        .unwrap();
    assert!(init.status.success());
    let hsm = |pin: &str, cmd: &[&str]| {
        let mut c = cli(&emu, cmd);
        c.env("SOFTHSM2_CONF", &conf)
            .env("CYBRID_PKCS11_PIN", pin)
            .args(["--pkcs11-module", module.to_str().unwrap()])
            .args(["--pkcs11-token", "bank", "--pkcs11-key", "attestation"]);
        c
    };
    succeeds(&mut hsm("1234", &["keys", "generate"]));
    let said = exits(2, &mut hsm("9999", &["attest", "--customer", &new_guid()]));
    assert!(!said.contains("9999"), "{said}");
    // A token label that is not there names the flag as typed.
    let mut c = cli(&emu, &["attest", "--customer", &new_guid()]);
    c.env("SOFTHSM2_CONF", &conf)
        .env("CYBRID_PKCS11_PIN", "1234")
        .args(["--pkcs11-module", module.to_str().unwrap()])
        .args(["--pkcs11-token", "nope", "--pkcs11-key", "attestation"]);
    let said = exits(2, &mut c);
    assert!(said.contains("--pkcs11-token"), "{said}");
    assert!(!said.contains("pkcs11_token"), "{said}");
}

#[test]
fn records_wait_on_a_failed_record_exits_1() {
    let emu = emulator();
    let customer = new_guid();
    // Signed for another bank: the record fails `invalid_issuer`.
    let token =
        cybrid_identity::Attestation::new(new_guid(), &customer, emu.verification_key_guid())
            .sign(&SigningKey::sandbox())
            .unwrap();
    let made = succeeds(&mut cli(
        &emu,
        &[
            "records",
            "create",
            "--customer",
            &customer,
            "--token",
            &token,
            "--json",
        ],
    ));
    let guid = serde_json::from_str::<Value>(made.lines().next().unwrap()).unwrap()["guid"]
        .as_str()
        .unwrap()
        .to_owned();
    let said = exits(1, &mut cli(&emu, &["records", "wait", &guid]));
    assert!(said.contains("failed"), "{said}");
}

#[test]
fn after_sigterm_every_answered_create_has_an_outcome_line() {
    // Creates take 2 s on the server: answered within the 5 s grace.
    let emu = emulator_with_slow_creates(2_000);
    let dir = Scratch::new("sigterm-answered");
    plain_book(&dir.path(""), 4);
    let journal = dir.path("run.jsonl");
    let child = attest(
        &emu,
        &[
            "--customers",
            dir.path("book.txt").to_str().unwrap(),
            "--journal",
            journal.to_str().unwrap(),
            "--concurrency",
            "4",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    wait_for_creates(&emu, 4);
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", all_output(&out));
    let summary =
        run(Command::new(BIN).args(["journal", "summary", journal.to_str().unwrap(), "--json"]));
    let s: Value = serde_json::from_slice(&summary.stdout).unwrap();
    assert_eq!(s["in_doubt"], 0, "{s}");
    let lines = cli::journal(&journal);
    let outcomes: Vec<&Value> = lines.iter().filter(|l| l.get("intent").is_none()).collect();
    assert_eq!(outcomes.len(), 4, "{lines:?}");
    assert!(
        outcomes.iter().all(|l| l["record_guid"].is_string()),
        "{lines:?}"
    );
}

#[test]
fn a_wait_that_times_out_counts_its_create_and_errors_are_grouped_by_kind() {
    // Records stay `storing` for 60 s: each wait of 1 s times out.
    let emu = Emulator::builder()
        .transition(Duration::from_secs(60))
        .start()
        .unwrap();
    let dir = Scratch::new("timeouts");
    plain_book(&dir.path(""), 3);
    let journal = dir.path("run.jsonl");
    let out = run(&mut attest(
        &emu,
        &[
            "--customers",
            dir.path("book.txt").to_str().unwrap(),
            "--journal",
            journal.to_str().unwrap(),
            "--timeout-s",
            "1",
            "--json",
        ],
    ));
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let run_summary: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(run_summary["created"], 3, "{run_summary}");
    assert_eq!(run_summary["errors"], 3);
    assert_eq!(
        run_summary["errors_by_kind"],
        serde_json::json!({"record_wait_timed_out": 3}),
        "{run_summary}"
    );
    let lines = cli::journal(&journal);
    // Each create's answer (`storing`), then the outcome: the wait's error, naming the record.
    let outcomes: Vec<&Value> = lines.iter().filter(|l| l["error"].is_string()).collect();
    assert_eq!(outcomes.len(), 3, "{lines:?}");
    for o in &outcomes {
        assert_eq!(o["error_kind"], "record_wait_timed_out", "{o}");
        assert!(o["record_guid"].is_string(), "{o}");
        assert_eq!(o["created"], true, "{o}");
    }
    let summary =
        run(Command::new(BIN).args(["journal", "summary", journal.to_str().unwrap(), "--json"]));
    let s: Value = serde_json::from_slice(&summary.stdout).unwrap();
    assert_eq!(
        s["errors_by_kind"],
        serde_json::json!({"record_wait_timed_out": 3}),
        "{s}"
    );
}

#[test]
fn a_file_that_is_not_a_journal_and_the_book_itself_are_refused() {
    let dir = Scratch::new("not-a-journal");
    let passwd = dir.path("passwd");
    std::fs::write(
        &passwd,
        "root:x:0:0:root:/root:/bin/bash\nbin:x:1:1::/:/bin/false\n",
    )
    .unwrap();
    let out = run(Command::new(BIN).args(["journal", "summary", passwd.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    let emu = emulator();
    plain_book(&dir.path(""), 2);
    let book = dir.path("book.txt");
    let before = std::fs::read(&book).unwrap();
    let b = book.to_str().unwrap();
    let out = run(&mut attest(&emu, &["--customers", b, "--journal", b]));
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert_eq!(std::fs::read(&book).unwrap(), before);
    let out = run(&mut attest(
        &emu,
        &["--customers", b, "--journal", passwd.to_str().unwrap()],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert_eq!(creates(&emu), 0);
    // An empty file is a new journal.
    let empty = dir.path("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    succeeds(&mut attest(
        &emu,
        &["--customers", b, "--journal", empty.to_str().unwrap()],
    ));
}

#[test]
fn progress_counts_what_is_in_flight_before_the_first_outcome() {
    let emu = emulator_with_slow_creates(4_000);
    let dir = Scratch::new("progress-early");
    plain_book(&dir.path(""), 5);
    let started = Instant::now();
    let out = run(&mut attest(
        &emu,
        &[
            "--customers",
            dir.path("book.txt").to_str().unwrap(),
            "--progress-every",
            "1",
        ],
    ));
    assert!(out.status.success(), "{}", all_output(&out));
    assert!(started.elapsed() >= Duration::from_secs(4));
    let stderr = text(&out.stderr);
    let early: Vec<&str> = stderr.lines().filter(|l| l.contains(" done=0 ")).collect();
    assert!(early.len() >= 2, "{stderr}");
    assert!(
        early.iter().any(|l| l.contains(" in_flight=5 ")),
        "{stderr}"
    );
}

#[test]
fn jwt_verify_without_a_key_suggests_public_key_not_pkcs11() {
    let out = run(Command::new(BIN)
        .args([
            "jwt",
            "verify",
            "x.y.z",
            "--bank",
            &new_guid(),
            "--customer",
            &new_guid(),
        ])
        .env_remove("CYBRID_ATTESTATION_SIGNING_KEY"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--public-key"), "{stderr}");
    assert!(!stderr.contains("pkcs11"), "{stderr}");
}

#[test]
fn the_guides_say_what_the_program_does() {
    let book = include_str!("../docs/guide/book.md");
    assert!(
        !book.contains("journal write exits 1") && !book.contains("cannot be written exits 1"),
        "book.md: a failed journal write exits 3"
    );
    let emulator = include_str!("../docs/guide/emulator.md");
    assert!(
        !emulator.contains("`demo` turns `--with-pending` on")
            && !emulator.contains("demo turns --with-pending on"),
        "emulator.md: demo does not turn --with-pending on"
    );
    // The README's example compiles as a reader copies it: no hidden lines, a main.
    let readme = include_str!("../README.md");
    let start = readme.find("```rust\n").unwrap() + "```rust\n".len();
    let example = &readme[start..][..readme[start..].find("```").unwrap()];
    assert!(example.lines().all(|l| !l.starts_with("# ")), "{example}");
    assert!(example.contains("fn main()"), "{example}");
}
