//! The command line as a newcomer meets it: numbers out of range, hostile key files, the
//! demo refusing production, `--version`, group help, usage mistakes (exit 2), JSON errors,
//! and the hint after a create whose outcome is unknown. Each runs the binary.

#[path = "support/scratch.rs"]
mod scratch;
use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use cybrid_identity::emulator::{Emulator, Fault, FaultKind};
use serde_json::Value;

#[path = "support/mod.rs"]
mod support;

const BIN: &str = env!("CARGO_BIN_EXE_cybrid-identity");
const G: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn run(args: &[&str], setup: impl FnOnce(&mut Command)) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for var in [
        "CYBRID_ATTESTATION_SIGNING_KEY",
        "CYBRID_CLIENT_ID",
        "CYBRID_CLIENT_SECRET",
        "CYBRID_ACCESS_TOKEN",
        "CYBRID_ENVIRONMENT",
        "CYBRID_BASE_URL",
        "CYBRID_TOKEN_URL",
    ] {
        cmd.env_remove(var);
    }
    setup(&mut cmd);
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Exit code, and stderr as one line (asserting it is one line, without a panic).
fn one_line_failure(out: &Output) -> (i32, String) {
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
    assert!(!err.contains("panicked"), "{err}");
    (out.status.code().unwrap(), err.trim_end().to_owned())
}

fn with_emulator(emu: &Emulator) -> impl FnOnce(&mut Command) + '_ {
    move |cmd| {
        cmd.env("CYBRID_BASE_URL", emu.url())
            .env("CYBRID_TOKEN_URL", emu.token_url())
            .env("CYBRID_CLIENT_ID", emu.client_id())
            .env("CYBRID_CLIENT_SECRET", emu.client_secret());
    }
}

#[test]
fn numbers_out_of_range_are_one_line_usage_errors() {
    let emu = Emulator::start().unwrap();
    let sign = [
        "jwt",
        "sign",
        "--sandbox",
        "--bank",
        G,
        "--customer",
        G,
        "--kid",
        G,
    ];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            [&sign[..], &["--valid-days", "9999999"]].concat(),
            "error: --valid-days takes a number from 1 to 3650, got \"9999999\" (see --help)",
        ),
        (
            vec!["records", "wait", G, "--timeout-s", "18446744073709551615"],
            "error: --timeout-s takes a number from 1 to 86400, got \"18446744073709551615\" (see --help)",
        ),
        (
            vec![
                "attest",
                "--customer",
                G,
                "--sandbox",
                "--timeout-s",
                "18446744073709551615",
            ],
            "error: --timeout-s takes a number from 1 to 86400, got \"18446744073709551615\" (see --help)",
        ),
        (
            vec!["records", "list", "--per-page", "0"],
            "error: --per-page takes a number from 1 to 100, got \"0\" (see --help)",
        ),
        (
            vec!["emulator", "--token-ttl-s", "18446744073709551615"],
            "error: --token-ttl-s takes a number from 1 to 31536000, got \"18446744073709551615\" (see --help)",
        ),
    ];
    for (args, expected) in cases {
        let out = run(&args, with_emulator(&emu));
        assert_eq!(one_line_failure(&out), (2, expected.to_owned()), "{args:?}");
    }
    // The attest above stopped before its first request: nothing was created.
    assert_eq!(emu.stats().count("POST /api/identity_records"), 0);
    assert_eq!(emu.stats().records, 0);
}

#[test]
fn key_files_are_read_through_a_limit_and_taken_by_content() {
    let started = Instant::now();
    let out = run(
        &[
            "jwt",
            "sign",
            "--key",
            "/dev/zero",
            "--bank",
            G,
            "--customer",
            G,
            "--kid",
            G,
        ],
        |_| {},
    );
    assert_eq!(
        one_line_failure(&out),
        (
            2,
            "error: /dev/zero is not a regular file (a FIFO, a device or a directory): pass the key file itself (see --help)".to_owned()
        )
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "read for {:?}",
        started.elapsed()
    );
    let dir = scratch::TempDir::new("keyfiles");
    let big = dir.join("big.pem");
    std::fs::write(&big, vec![b'A'; 70 * 1024]).unwrap();
    let big = big.to_str().unwrap();
    let out = run(
        &[
            "jwt",
            "sign",
            "--key",
            big,
            "--bank",
            G,
            "--customer",
            G,
            "--kid",
            G,
        ],
        |_| {},
    );
    assert_eq!(
        one_line_failure(&out),
        (
            2,
            format!("error: {big}: more than 65536 bytes: not a key file")
        )
    );
    // A FIFO would block an open for reading until a writer came: refused at once instead.
    let fifo = dir.join("key.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let started = Instant::now();
    let out = run(
        &[
            "jwt",
            "sign",
            "--key",
            fifo.to_str().unwrap(),
            "--bank",
            G,
            "--customer",
            G,
            "--kid",
            G,
        ],
        |_| {},
    );
    let (code, line) = one_line_failure(&out);
    assert_eq!(code, 2);
    assert!(line.contains("key.fifo is not a regular file"), "{line}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "blocked for {:?}",
        started.elapsed()
    );
    // A key others can read: used, with a warning that says what to run.
    use std::os::unix::fs::PermissionsExt as _;
    let shared = dir.join("shared.pem");
    std::fs::copy(format!("{FIXTURES}/sandbox_pkcs8.pem"), &shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
    let shared = shared.to_str().unwrap();
    let out = run(
        &[
            "jwt",
            "sign",
            "--key",
            shared,
            "--bank",
            G,
            "--customer",
            G,
            "--kid",
            G,
        ],
        |_| {},
    );
    assert!(out.status.success());
    assert_eq!(
        text(&out.stderr).trim_end(),
        format!(
            "warning: {shared} is readable by group or others (mode 0644): run `chmod 600 {shared}`"
        )
    );
    std::fs::set_permissions(shared, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(
        &[
            "jwt",
            "sign",
            "--key",
            shared,
            "--bank",
            G,
            "--customer",
            G,
            "--kid",
            G,
        ],
        |_| {},
    );
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        text(&out.stderr)
    );
    // DER, PKCS#8 and PKCS#1, whatever the file is called: the same token as the PEM key.
    let jti = ["--jti", "j-1", "--valid-days", "1"];
    let sign = |key: &str| {
        let out = run(
            &[
                &[
                    "jwt",
                    "sign",
                    "--key",
                    key,
                    "--bank",
                    G,
                    "--customer",
                    G,
                    "--kid",
                    G,
                ][..],
                &jti[..],
            ]
            .concat(),
            |_| {},
        );
        assert!(out.status.success(), "{key}: {}", text(&out.stderr));
        let token = text(&out.stdout);
        // The claims (iat, exp) may differ by a second between runs; the header never does.
        token.split('.').next().unwrap().to_owned()
    };
    let pem = sign(&format!("{FIXTURES}/sandbox_pkcs8.pem"));
    for der in ["sandbox_pkcs8.der", "sandbox_pkcs1.der"] {
        assert_eq!(sign(&format!("{FIXTURES}/{der}")), pem, "{der}");
    }
    let out = run(
        &[
            "jwt",
            "verify",
            "x.y.z",
            "--bank",
            G,
            "--customer",
            G,
            "--key",
            &format!("{FIXTURES}/sandbox_pkcs1.der"),
        ],
        |_| {},
    );
    assert_eq!(
        text(&out.stdout).trim(),
        "failed: invalid_algorithm",
        "{}",
        text(&out.stderr)
    );
    let out = run(
        &[
            "keys",
            "create",
            "--key",
            &format!("{FIXTURES}/golden_token.txt"),
        ],
        |_| {},
    );
    let (code, line) = one_line_failure(&out);
    assert_eq!(code, 2, "not a key: a rerun cannot fix it");
    assert!(
        line.starts_with(&format!("error: {FIXTURES}/golden_token.txt: key error:")),
        "{line}"
    );
}

#[test]
fn the_demo_refuses_production_before_any_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = run(&["demo"], |cmd| {
        cmd.env("CYBRID_ENVIRONMENT", "production")
            .env("CYBRID_CLIENT_ID", "id")
            .env("CYBRID_CLIENT_SECRET", "secret")
            .env("CYBRID_CUSTOMER_GUID", G)
            .env("CYBRID_BASE_URL", format!("http://127.0.0.1:{port}"))
            .env(
                "CYBRID_TOKEN_URL",
                format!("http://127.0.0.1:{port}/oauth/token"),
            );
    });
    let (code, line) = one_line_failure(&out);
    assert_eq!(code, 2);
    assert!(
        line.contains("does not run against production") && line.contains("sandbox key"),
        "{line}"
    );
    let mut connections = 0;
    while listener.accept().is_ok() {
        connections += 1;
    }
    assert_eq!(connections, 0, "the demo connected before refusing");
}

#[test]
fn version_group_help_and_usage_mistakes() {
    let out = run(&["--version"], |_| {});
    assert_eq!(
        text(&out.stdout),
        format!("cybrid-identity {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(text(&run(&["-V"], |_| {}).stdout), text(&out.stdout));
    for (group, subs) in [
        ("jwt", &["sign", "inspect", "verify"][..]),
        ("records", &["create", "get", "list", "wait"]),
        ("keys", &["create", "get", "list"]),
    ] {
        let out = run(&[group, "--help"], |_| {});
        assert!(out.status.success());
        let help = text(&out.stdout);
        for sub in subs {
            assert!(
                help.lines()
                    .any(|l| l.trim_start().starts_with(sub) && l.len() > sub.len() + 8),
                "{group} --help lacks {sub}: {help}"
            );
        }
    }
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["records", "get", "notaguid"],
            "error: GUID takes a guid (32 ASCII letters or digits), got \"notaguid\" (see --help)",
        ),
        (
            vec!["jwt", "inspect", "a.b.c", "--port", "1"],
            "error: --port does not apply to this command (see --help)",
        ),
        (
            vec![
                "jwt",
                "verify",
                "a.b.c",
                "--bank",
                G,
                "--customer",
                G,
                "--sandbox",
                "--public-key",
                "AAAA",
            ],
            "error: --public-key excludes --key and --sandbox (see --help)",
        ),
        (
            vec![
                "jwt",
                "sign",
                "--key",
                "k",
                "--sandbox",
                "--bank",
                G,
                "--customer",
                G,
                "--kid",
                G,
            ],
            "error: --key and --sandbox exclude each other (see --help)",
        ),
        (
            vec!["records", "get"],
            "error: GUID is required (see --help)",
        ),
        (
            vec!["records", "get", G, G],
            "error: unexpected argument \"c0ffee00c0ffee00c0ffee00c0ffee00\" (see --help)",
        ),
        (
            vec!["records", "get", G, "--customer", G],
            "error: --customer does not apply to this command (see --help)",
        ),
        (
            vec!["records", "list", "--page", "1", "--page", "2"],
            "error: --page was given twice (see --help)",
        ),
        (
            vec!["records"],
            "error: records needs a subcommand (see --help)",
        ),
    ];
    let emu = Emulator::start().unwrap();
    for (args, expected) in cases {
        let out = run(&args, with_emulator(&emu));
        assert_eq!(one_line_failure(&out), (2, expected.to_owned()), "{args:?}");
    }
    assert_eq!(
        emu.stats().requests.len(),
        0,
        "no usage mistake reached the server"
    );
}

#[test]
fn json_errors_are_one_object_on_stderr() {
    let out = run(&["records", "get", "notaguid", "--json"], |_| {});
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err: Value = serde_json::from_str(text(&out.stderr).trim()).unwrap();
    assert_eq!(
        err["error"],
        "GUID takes a guid (32 ASCII letters or digits), got \"notaguid\" (see --help)"
    );
    // An answer from the server carries its status, code and request id.
    let emu = Emulator::start().unwrap();
    let out = run(&["--json", "records", "get", G], with_emulator(&emu));
    assert_eq!(
        out.status.code(),
        Some(2),
        "no such record: a rerun cannot fix it"
    );
    let err: Value = serde_json::from_str(text(&out.stderr).trim()).unwrap();
    assert_eq!(
        (err["status"].as_u64(), err["message_code"].as_str()),
        (Some(404), Some("not_found"))
    );
    assert!(
        err["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("emu-")),
        "{err}"
    );
    assert!(err["error"].as_str().unwrap().contains("404"), "{err}");
}

#[test]
fn a_create_whose_answer_was_lost_is_adopted_not_sent_again() {
    let emu = Emulator::builder()
        .transition(std::time::Duration::from_millis(20))
        .start()
        .unwrap();
    emu.add_fault(
        Fault::new(FaultKind::Drop)
            .method("POST")
            .path_prefix("/api/identity_records")
            .times(1),
    )
    .unwrap();
    // `attest --customer` is a book of one: the customer is listed until the record the
    // dropped create made appears, and that record is adopted.
    let out = run(
        &["attest", "--customer", G, "--sandbox"],
        with_emulator(&emu),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("created identity record"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        emu.stats().records,
        1,
        "the dropped create took effect, once"
    );
    assert_eq!(emu.stats().count("POST /api/identity_records"), 1);
}

// `keys generate --out` makes the key with the `rsa` crate; a `ring`-only build makes none.
#[cfg(feature = "rsa")]
#[test]
fn a_key_that_cannot_be_written_whole_leaves_no_file() {
    let dir = std::env::temp_dir().join(format!("cybrid-keygen-{}", std::process::id()));
    // A one-page tmpfs, filled: the key's PEM (about 1.7 KB) cannot be written.
    let Some(tmpfs) = support::Tmpfs::mount(&dir, "4k") else {
        return;
    };
    let filled = std::fs::write(dir.join("filler"), vec![0u8; 4096]);
    let out_path = dir.join("bank.pem");
    let out = run(
        &["keys", "generate", "--out", out_path.to_str().unwrap()],
        |_| {},
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|name| name != "filler")
        .collect();
    drop(tmpfs);
    let _ = std::fs::remove_dir_all(&dir);
    filled.unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("No space left on device"),
        "{}",
        text(&out.stderr)
    );
    assert!(left.is_empty(), "nothing left behind: {left:?}");
}
