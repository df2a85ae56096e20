//! `attest --customers`: a whole book through the binary, against an in-process emulator.
//! Every customer ends with exactly one record, however the run is interrupted or rerun.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cybrid_identity::emulator::{Emulator, Fault, FaultKind, new_guid};
use cybrid_identity::{Client, ListParams};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cybrid-identity");

/// A scratch folder removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("cybrid-batch-{name}-{}", new_guid()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn book(dir: &Scratch, n: usize) -> (PathBuf, Vec<String>) {
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
fn cli(emu: &Emulator, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("CYBRID_ACCESS_TOKEN")
        .env_remove("CYBRID_ENVIRONMENT")
        .env("CYBRID_BASE_URL", emu.url())
        .env("CYBRID_TOKEN_URL", emu.token_url())
        .env("CYBRID_CLIENT_ID", emu.client_id())
        .env("CYBRID_CLIENT_SECRET", emu.client_secret());
    cmd
}

/// `attest ARGS --sandbox` against `emu`.
fn attest(emu: &Emulator, args: &[&str]) -> Command {
    let mut cmd = cli(emu, &["attest"]);
    cmd.args(args).arg("--sandbox");
    cmd
}

/// Runs `cmd`, asserting exit 0, and returns its stdout.
fn succeeds(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn journal(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Records per customer, read through the API.
fn records_per_customer(emu: &Emulator, customers: &[String]) -> Vec<usize> {
    let client: Client = emu.client().unwrap();
    customers
        .iter()
        .map(|c| {
            client
                .identity_records(&ListParams::new().customer_guid(c))
                .count()
        })
        .collect()
}

const POSTS: &str = "POST /api/identity_records";

#[test]
fn a_book_of_300_is_attested_once_and_a_rerun_sends_nothing() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(20))
        .start()
        .unwrap();
    let dir = Scratch::new("300");
    let (book, customers) = book(&dir, 300);
    let journal_path = dir.path("journal.jsonl");
    let (b, j) = (book.to_str().unwrap(), journal_path.to_str().unwrap());
    let out = run(&mut attest(
        &emu,
        &["--customers", b, "--concurrency", "16", "--journal", j],
    ));
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).starts_with("300 customers: 300 verified, 0 failed, 0 errors; 0 skipped as verified in the journal, 1 duplicate lines dropped"), "{}", text(&out.stdout));
    assert!(
        out.stderr.is_empty(),
        "stderr is not a terminal: nothing but errors there: {}",
        text(&out.stderr)
    );
    assert_eq!(emu.stats().count(POSTS), 300);
    assert_eq!(emu.stats().records, 300);
    let lines = journal(&journal_path);
    assert_eq!(lines.len(), 300);
    assert!(lines.iter().all(|l| l["state"] == "verified"
        && l["created"] == true
        && l["error"].is_null()
        && l["record_guid"].is_string()));
    let out = run(&mut attest(
        &emu,
        &[
            "--customers",
            b,
            "--concurrency",
            "16",
            "--journal",
            j,
            "--json",
        ],
    ));
    assert!(out.status.success());
    let summary: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(
        (summary["skipped"].as_u64(), summary["customers"].as_u64()),
        (Some(300), Some(300))
    );
    assert_eq!(emu.stats().count(POSTS), 300, "the rerun sent no create");
    assert!(
        records_per_customer(&emu, &customers)
            .iter()
            .all(|n| *n == 1)
    );
}

#[test]
fn a_batch_killed_mid_way_and_rerun_leaves_one_record_each() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(20))
        .latency(Duration::from_millis(20))
        .start()
        .unwrap();
    let dir = Scratch::new("kill");
    let (book, customers) = book(&dir, 300);
    let journal_path = dir.path("journal.jsonl");
    let (b, j) = (book.to_str().unwrap(), journal_path.to_str().unwrap());
    let mut child = attest(
        &emu,
        &["--customers", b, "--concurrency", "16", "--journal", j],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while journal(&journal_path).len() < 60 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no clean-up of any kind
    child.wait().unwrap();
    let finished = journal(&journal_path).len();
    let created_before = emu.stats().count(POSTS);
    assert!(
        (60..300).contains(&finished),
        "killed after {finished} customers"
    );
    let rerun = succeeds(&mut attest(
        &emu,
        &["--customers", b, "--concurrency", "16", "--journal", j],
    ));
    let per_customer = records_per_customer(&emu, &customers);
    assert!(
        per_customer.iter().all(|n| *n == 1),
        "records per customer: {per_customer:?}"
    );
    assert_eq!(emu.stats().records, 300);
    println!(
        "killed after {finished} journal lines and {created_before} creates; rerun: {}",
        rerun.trim()
    );
}

#[test]
fn ten_percent_of_creates_dropped_leave_one_verified_record_each() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(20))
        .start()
        .unwrap();
    emu.add_fault(
        Fault::new(FaultKind::Drop)
            .method("POST")
            .path_prefix("/api/identity_records")
            .rate(0.1),
    )
    .unwrap();
    let dir = Scratch::new("drops");
    let (book, customers) = book(&dir, 200);
    let printed = succeeds(&mut attest(
        &emu,
        &["--customers", book.to_str().unwrap(), "--concurrency", "16"],
    ));
    assert!(
        printed.starts_with("200 customers: 200 verified"),
        "{printed}"
    );
    assert!(
        records_per_customer(&emu, &customers)
            .iter()
            .all(|n| *n == 1)
    );
    assert_eq!(emu.stats().records, 200);
    assert_eq!(
        emu.stats().count(POSTS),
        200,
        "a dropped create took effect and was adopted, never resent"
    );
}

#[test]
fn three_shards_cover_a_book_exactly_once() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(10))
        .start()
        .unwrap();
    let dir = Scratch::new("shards");
    let (book, customers) = book(&dir, 90);
    let mut seen: Vec<HashSet<String>> = Vec::new();
    for k in 0..3 {
        let journal_path = dir.path(&format!("journal-{k}.jsonl"));
        let shard = format!("{k}/3");
        let out = run(&mut attest(
            &emu,
            &[
                "--customers",
                book.to_str().unwrap(),
                "--shard",
                &shard,
                "--journal",
                journal_path.to_str().unwrap(),
            ],
        ));
        assert!(out.status.success(), "{}", text(&out.stderr));
        seen.push(
            journal(&journal_path)
                .iter()
                .map(|l| l["customer_guid"].as_str().unwrap().to_owned())
                .collect(),
        );
    }
    let all: HashSet<String> = customers.iter().cloned().collect();
    assert_eq!(
        seen.iter().map(HashSet::len).sum::<usize>(),
        90,
        "no customer in two shards"
    );
    assert_eq!(
        seen.iter().flatten().cloned().collect::<HashSet<_>>(),
        all,
        "every customer in one"
    );
    assert!(
        seen.iter().all(|s| !s.is_empty()),
        "{:?}",
        seen.iter().map(HashSet::len).collect::<Vec<_>>()
    );
}

#[test]
fn a_bad_line_stops_the_batch_before_any_request() {
    let emu = Emulator::start().unwrap();
    let dir = Scratch::new("bad");
    let path = dir.path("book.txt");
    std::fs::write(
        &path,
        format!("{}\nnot-a-guid\n\n# fine\n{}x\n", new_guid(), new_guid()),
    )
    .unwrap();
    let out = run(&mut attest(&emu, &["--customers", path.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("line 2, line 5 is not a guid"), "{err}");
    assert_eq!(emu.stats().requests.len(), 0, "no request at all");
}

#[test]
fn keys_generate_then_register_then_attest_with_that_key() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(10))
        .start()
        .unwrap();
    let dir = Scratch::new("keys");
    let key = dir.path("bank.pem");
    let k = key.to_str().unwrap();
    let printed = succeeds(Command::new(BIN).args(["keys", "generate", "--out", k]));
    assert!(
        printed.contains("public key: MIIBIjAN") && printed.contains("SHA-256 fingerprint: "),
        "{printed}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let again = run(Command::new(BIN).args(["keys", "generate", "--out", k]));
    assert_eq!(
        again.status.code(),
        Some(2),
        "never overwritten: {}",
        text(&again.stderr)
    );
    let kid = succeeds(&mut cli(&emu, &["keys", "register", "--key", k]))
        .trim()
        .to_owned();
    assert!(cybrid_identity::is_guid(&kid), "{kid}");
    let customer = new_guid();
    let args = ["attest", "--customer", &customer, "--key", k, "--kid", &kid];
    let printed = succeeds(&mut cli(&emu, &args));
    assert!(printed.contains("state verified"), "{printed}");
}
