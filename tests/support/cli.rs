//! Running the binary against an emulator: a scratch folder, a customer book, the
//! `attest` command with the environment that reaches the emulator, and what came of it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cybrid_identity::emulator::{Emulator, Fault, FaultKind, new_guid};
use cybrid_identity::{Client, ListParams};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_cybrid-identity");

/// A scratch folder removed at the end.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("cybrid-batch-{name}-{}", new_guid()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn book(dir: &Scratch, n: usize) -> (PathBuf, Vec<String>) {
    let customers: Vec<String> = (0..n).map(|_| new_guid()).collect();
    let mut text = String::from("# a customer book\n\n");
    for c in &customers {
        text.push_str(c);
        text.push('\n');
    }
    text.push_str(&customers[0]); // a duplicate, dropped
    text.push('\n');
    let path = dir.path("book.txt");
    std::fs::write(&path, text).unwrap();
    (path, customers)
}

/// `cybrid-identity ARGS` with the environment that reaches `emu`.
pub fn cli(emu: &Emulator, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("CYBRID_ACCESS_TOKEN")
        .env_remove("CYBRID_ENVIRONMENT")
        .env("CYBRID_BASE_URL", emu.url())
        .env("CYBRID_TOKEN_URL", emu.token_url())
        .env("CYBRID_CLIENT_ID", emu.client_id())
        .env("CYBRID_CLIENT_SECRET", emu.client_secret())
        // No test may reach the instance metadata service's link-local address: the AWS
        // credential chain ends there, so it is switched off unless a test points it at
        // loopback.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env_remove("AWS_PROFILE")
        // Nor read this machine's own AWS profiles: a test that wants one writes its own.
        .env(
            "AWS_CONFIG_FILE",
            "/nonexistent/cybrid-identity-tests/aws-config",
        )
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/cybrid-identity-tests/aws-credentials",
        );
    cmd
}

/// `attest ARGS --sandbox` against `emu`.
pub fn attest(emu: &Emulator, args: &[&str]) -> Command {
    let mut cmd = cli(emu, &["attest"]);
    cmd.args(args).arg("--sandbox");
    cmd
}

/// Runs `cmd`, asserting exit 0, and returns its stdout.
pub fn succeeds(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn journal(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Records per customer, read through the API.
pub fn records_per_customer(emu: &Emulator, customers: &[String]) -> Vec<usize> {
    let client: Client = emu.client().unwrap();
    customers
        .iter()
        .map(|c| {
            client
                .identity_records(ListParams::new().customer_guid(c))
                .count()
        })
        .collect()
}

/// An emulator (records final 20 ms after their create) whose every create takes `ms` on the
/// server, applied at its end: long enough for runs to overlap, or for a kill to land while
/// creates are still on their way.
pub fn emulator_with_slow_creates(ms: u64) -> Emulator {
    let emu = Emulator::builder()
        .transition(std::time::Duration::from_millis(20))
        .start()
        .unwrap();
    emu.add_fault(
        Fault::new(FaultKind::Delay { ms })
            .method("POST")
            .path_prefix("/api/identity_records"),
    )
    .unwrap();
    emu
}

/// Waits (30 s at most) until `n` creates have reached the emulator, counted as they arrive,
/// before a slow server applies them.
pub fn wait_for_creates(emu: &Emulator, n: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while emu.stats().count("POST /api/identity_records") < n
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
