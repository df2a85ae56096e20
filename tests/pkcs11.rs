//! The bank's key in an HSM, against SoftHSM2 (Debian's `softhsm2`), each test in a token
//! directory of its own: made in the token by `keys generate --pkcs11-…` (sensitive, never
//! extractable, as `pkcs11-tool` lists it), registered by `keys register --pkcs11-…`, and a
//! book of 200 attested at concurrency 8 with every token signed in the HSM; bad input
//! refused before any request, the PIN in no output; signing from many threads at once.
//!
//! Without SoftHSM2 these tests print why they skip; `.ci/run` installs it and sets
//! `CYBRID_REQUIRE_REAL=1`, so there a missing module fails them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cybrid_identity::emulator::Emulator;
use serde_json::Value;

#[path = "support/cli.rs"]
mod cli;
#[path = "support/real.rs"]
mod real;
use cli::*;

const PIN: &str = "bank-pin-4242";
const WRONG_PIN: &str = "wrong-pin-7319";

/// A SoftHSM2 token store of its own, with one token labelled `bank`.
struct Token {
    dir: Scratch,
    module: PathBuf,
}

impl Token {
    fn new(name: &str) -> Option<Token> {
        let module = real::softhsm_module()?;
        let dir = Scratch::new(&format!("hsm-{name}"));
        std::fs::create_dir_all(dir.path("tokens")).unwrap();
        std::fs::write(
            dir.path("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.path("tokens").display()
            ),
        )
        .unwrap();
        let token = Token { dir, module };
        let out = token
            .tool("softhsm2-util")
            .args(["--init-token", "--free", "--label", "bank", "--pin", PIN])
            .args(["--so-pin", "so-pin-5678"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        Some(token)
    }

    fn conf(&self) -> PathBuf {
        self.dir.path("softhsm2.conf")
    }

    /// A command that sees this token store.
    fn tool(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("SOFTHSM2_CONF", self.conf());
        cmd
    }

    /// `cybrid-identity ARGS --pkcs11-module … --pkcs11-token bank --pkcs11-key KEY`, with
    /// `pin`, against `emu`.
    fn cli(&self, emu: &Emulator, args: &[&str], key: &str, pin: &str) -> Command {
        self.cli_at(emu, args, (self.module.to_str().unwrap(), "bank", key), pin)
    }

    /// As [`Token::cli`], with the module, token and key given.
    fn cli_at(
        &self,
        emu: &Emulator,
        args: &[&str],
        (module, token, key): (&str, &str, &str),
        pin: &str,
    ) -> Command {
        let mut cmd = cli(emu, args);
        cmd.env("SOFTHSM2_CONF", self.conf())
            .env("CYBRID_PKCS11_PIN", pin)
            .args(["--pkcs11-module", module])
            .args(["--pkcs11-token", token, "--pkcs11-key", key]);
        cmd
    }

    /// A key pair made by `pkcs11-tool` (for the kinds this crate would not make).
    fn pkcs11_tool_keypair(&self, key_type: &str, label: &str) {
        let out = self
            .tool("pkcs11-tool")
            .args(["--module", self.module.to_str().unwrap()])
            .args([
                "--token-label",
                "bank",
                "--login",
                "--pin",
                PIN,
                "--keypairgen",
            ])
            .args(["--key-type", key_type, "--label", label])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
}

fn all_output(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

fn requests(emu: &Emulator) -> u64 {
    emu.stats().requests.values().sum()
}

#[test]
fn a_key_made_in_softhsm_registers_and_attests_a_book_of_200() {
    let Some(token) = Token::new("book") else {
        return;
    };
    if !real::available("pkcs11-tool (Debian's opensc)", real::runs("pkcs11-tool")) {
        return;
    }
    let emu = Emulator::builder()
        .transition(std::time::Duration::from_millis(20))
        .start()
        .unwrap();
    let made = token
        .cli(&emu, &["keys", "generate", "--json"], "attestation", PIN)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", all_output(&made));
    let made: Value = serde_json::from_slice(&made.stdout).unwrap();
    assert_eq!(made["bits"], 2048);
    assert_eq!(made["pkcs11_key"], "attestation");
    // The private key lives in the token, sensitive and never extractable.
    let listed = token
        .tool("pkcs11-tool")
        .args(["--module", token.module.to_str().unwrap()])
        .args([
            "--token-label",
            "bank",
            "--login",
            "--pin",
            PIN,
            "--list-objects",
        ])
        .output()
        .unwrap();
    let listed = text(&listed.stdout);
    println!("{listed}");
    let private = listed
        .split("Private Key Object")
        .nth(1)
        .expect("a private key object");
    assert!(
        private.contains("sensitive, always sensitive, never extractable"),
        "{listed}"
    );
    assert!(private.contains("Usage:      sign\n"), "{listed}");
    // A second key of the same label is refused, and nothing is made.
    let again = token
        .cli(&emu, &["keys", "generate"], "attestation", PIN)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "{}", all_output(&again));
    // Registered with the public half it printed.
    let registered = token
        .cli(&emu, &["keys", "register", "--json"], "attestation", PIN)
        .output()
        .unwrap();
    assert!(registered.status.success(), "{}", all_output(&registered));
    let registered: Value = serde_json::from_slice(&registered.stdout).unwrap();
    let kid = registered["guid"].as_str().unwrap().to_owned();
    let key = emu.client().unwrap().get_verification_key(&kid).unwrap();
    assert_eq!(
        key.state,
        Some(cybrid_identity::VerificationKeyState::Verified)
    );
    // A book of 200, every token signed in the HSM at concurrency 8: the emulator checks
    // each signature with the registered key.
    let dir = Scratch::new("hsm-book");
    let (book, customers) = book(&dir, 200);
    let out = token
        .cli(
            &emu,
            &[
                "attest",
                "--customers",
                book.to_str().unwrap(),
                "--concurrency",
                "8",
                "--kid",
                &kid,
                "--json",
            ],
            "attestation",
            PIN,
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", all_output(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    println!("{summary}");
    assert_eq!(
        (summary["verified"].as_u64(), summary["created"].as_u64()),
        (Some(200), Some(200))
    );
    let per_customer = records_per_customer(&emu, &customers);
    assert!(per_customer.iter().all(|n| *n == 1), "{per_customer:?}");
    assert!(!all_output(&out).contains(PIN));
}

#[test]
fn bad_pkcs11_input_is_refused_before_any_request_and_the_pin_is_never_printed() {
    let Some(token) = Token::new("bad") else {
        return;
    };
    let emu = Emulator::start().unwrap();
    let made = token
        .cli(&emu, &["keys", "generate"], "attestation", PIN)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", all_output(&made));
    token.pkcs11_tool_keypair("EC:prime256v1", "ec");
    token.pkcs11_tool_keypair("rsa:1024", "short");
    let customer = "c0ffee00c0ffee00c0ffee00c0ffee00";
    let attest = |key: &str, pin: &str| {
        token
            .cli(&emu, &["attest", "--customer", customer], key, pin)
            .output()
            .unwrap()
    };
    let cases: [(&str, Output, i32, &str); 4] = [
        (
            "a wrong PIN",
            attest("attestation", WRONG_PIN),
            // Not retried by an orchestrator: each retry is one more failed login.
            2,
            "the token refused the PIN (CKR_PIN_INCORRECT)",
        ),
        (
            "an unknown key label",
            attest("nope", PIN),
            2,
            r#"no private key labelled "nope" in the token; its private keys: "#,
        ),
        ("an EC key", attest("ec", PIN), 2, "not RSA"),
        (
            "a 1024-bit key",
            attest("short", PIN),
            2,
            "has 1024 bits; at least 2048 are required",
        ),
    ];
    for (what, out, code, says) in &cases {
        let all = all_output(out);
        assert_eq!(out.status.code(), Some(*code), "{what}: {all}");
        assert!(all.contains(says), "{what}: {all}");
        assert!(
            !all.contains(PIN) && !all.contains(WRONG_PIN),
            "{what}: {all}"
        );
    }
    let unknown_key = all_output(&cases[1].1);
    for label in ["\"attestation\"", "\"ec\"", "\"short\""] {
        assert!(unknown_key.contains(label), "{unknown_key}");
    }
    let module = token.module.to_str().unwrap();
    let out = token
        .cli_at(
            &emu,
            &["attest", "--customer", customer],
            (module, "vault", "attestation"),
            PIN,
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        all_output(&out).contains(r#"no token labelled "vault"; the tokens: "bank""#),
        "{}",
        all_output(&out)
    );
    for module in ["/nonexistent/libpkcs11.so", "/bin/sh"] {
        let out = token
            .cli_at(
                &emu,
                &["attest", "--customer", customer],
                (module, "bank", "attestation"),
                PIN,
            )
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
        assert!(all_output(&out).contains(module), "{}", all_output(&out));
    }
    assert_eq!(requests(&emu), 0, "not one request, not even for a token");
}

#[test]
fn a_pkcs11_signer_signs_from_many_threads_at_once() {
    let Some(token) = Token::new("threads") else {
        return;
    };
    let emu = Emulator::start().unwrap();
    let made = token
        .cli(&emu, &["keys", "generate"], "threads", PIN)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", all_output(&made));
    // In a child process: SoftHSM2 reads SOFTHSM2_CONF once, when the module starts.
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "pkcs11_threads_child",
            "--include-ignored",
            "--nocapture",
        ])
        .env("SOFTHSM2_CONF", token.conf())
        .env("CYBRID_PKCS11_MODULE", &token.module)
        .env("CYBRID_PKCS11_PIN", PIN)
        .output()
        .unwrap();
    let all = all_output(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("signed 64 on 8 threads, every one verified"),
        "{all}"
    );
}

#[test]
#[ignore = "run by a_pkcs11_signer_signs_from_many_threads_at_once in a child process"]
fn pkcs11_threads_child() {
    use cybrid_identity::Signer;
    use cybrid_identity::signer::Pkcs11Signer;
    let module = std::env::var("CYBRID_PKCS11_MODULE").unwrap();
    let pin = std::env::var("CYBRID_PKCS11_PIN").unwrap();
    let hsm = Pkcs11Signer::open(Path::new(&module), "bank", "threads", &pin).unwrap();
    assert_eq!(
        format!("{hsm:?}"),
        r#"Pkcs11Signer { token: "bank", key: "threads", bits: 2048, pin: "[redacted]" }"#
    );
    let barrier = std::sync::Barrier::new(8);
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let (hsm, barrier) = (&hsm, &barrier);
            scope.spawn(move || {
                barrier.wait();
                for n in 0..8 {
                    let message = format!("thread {thread} message {n}");
                    let signature = hsm.sign_rs512(message.as_bytes()).unwrap();
                    assert!(
                        hsm.verifying_key()
                            .verify_rs512(message.as_bytes(), &signature)
                    );
                }
            });
        }
    });
    println!("signed 64 on 8 threads, every one verified");
}
