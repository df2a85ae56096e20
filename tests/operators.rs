//! A book run as operators run it: stopped by SIGTERM as Kubernetes stops a pod, watched
//! through logs with no terminal, and read back through `journal summary` and `journal
//! unfinished`.

use std::collections::HashSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cybrid_identity::emulator::{Emulator, Fault, FaultKind};
use cybrid_identity::{Client, ListParams};
use serde_json::Value;

#[path = "support/cli.rs"]
mod cli;
use cli::*;

const POSTS: &str = "POST /api/identity_records";

/// Every record on the server, by customer.
fn records_by_customer(emu: &Emulator) -> std::collections::HashMap<String, usize> {
    let client: Client = emu.client().unwrap();
    let mut counts = std::collections::HashMap::new();
    for record in client.identity_records(ListParams::new().per_page(100)) {
        let record = record.unwrap();
        *counts.entry(record.customer_guid.unwrap()).or_insert(0) += 1;
    }
    counts
}

#[cfg(unix)]
#[test]
fn sigterm_stops_a_slow_book_within_10_s_and_a_rerun_leaves_one_record_each() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(20))
        .start()
        .unwrap();
    // Creates take 6 s on the server, past the 5 s grace: some are abandoned in flight.
    emu.add_fault(
        Fault::new(FaultKind::Delay { ms: 6000 })
            .method("POST")
            .path_prefix("/api/identity_records"),
    )
    .unwrap();
    let dir = Scratch::new("sigterm");
    let (book, customers) = book(&dir, 2000);
    let journal_path = dir.path("journal.jsonl");
    let (b, j) = (book.to_str().unwrap(), journal_path.to_str().unwrap());
    let child = attest(
        &emu,
        &["--customers", b, "--concurrency", "16", "--journal", j],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while emu.stats().count(POSTS) < 16 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let signalled = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let took = signalled.elapsed();
    let stderr = text(&out.stderr);
    println!("exit {:?} after {took:?}: {stderr}", out.status.code());
    assert_eq!(out.status.code(), Some(3), "the stopped status: {stderr}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(
        stderr.contains("SIGTERM: stopped: asked to stop"),
        "{stderr}"
    );
    // Every create that reached the server has its intent line; none went out after.
    let sent = emu.stats().count(POSTS);
    let lines = journal(&journal_path);
    let intents: HashSet<&str> = lines
        .iter()
        .filter(|l| l["intent"] == "create")
        .map(|l| l["customer_guid"].as_str().unwrap())
        .collect();
    assert!(
        intents.len() as u64 >= sent,
        "{} intents, {sent} creates",
        intents.len()
    );
    assert!(sent < 100, "no new create after the signal: {sent}");
    // The abandoned creates land; the rerun waits them out and adopts them.
    emu.clear_faults();
    std::thread::sleep(Duration::from_millis(6500));
    for customer in records_by_customer(&emu).keys() {
        assert!(
            intents.contains(customer.as_str()),
            "a record without an intent line"
        );
    }
    let rerun = attest(
        &emu,
        &[
            "--customers",
            b,
            "--concurrency",
            "16",
            "--journal",
            j,
            "--settle-s",
            "10",
        ],
    )
    .output()
    .unwrap();
    assert!(
        rerun.status.success(),
        "{}{}",
        text(&rerun.stdout),
        text(&rerun.stderr)
    );
    let counts = records_by_customer(&emu);
    assert_eq!(counts.len(), customers.len());
    assert!(counts.values().all(|n| *n == 1), "one record each");
    assert_eq!(emu.stats().count(POSTS), 2000, "no create sent twice");
}

/// Keeps the values of one logfmt line: `name=value` pairs.
fn logfmt(line: &str) -> std::collections::HashMap<String, String> {
    line.split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn with_stderr_in_a_file_progress_is_a_logfmt_line_each_second_or_json() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(20))
        .start()
        .unwrap();
    emu.add_fault(
        Fault::new(FaultKind::Delay { ms: 150 })
            .method("POST")
            .path_prefix("/api/identity_records"),
    )
    .unwrap();
    let dir = Scratch::new("progress");
    let (book, _) = book(&dir, 60);
    let b = book.to_str().unwrap();
    let names = [
        "done",
        "total",
        "verified",
        "failed",
        "in_doubt",
        "in_flight",
        "rate",
    ];
    // 60 creates of 150 ms, 2 at a time: about 4.5 s, so 4 lines or more at one a second.
    let out = attest(
        &emu,
        &[
            "--customers",
            b,
            "--concurrency",
            "2",
            "--progress-every",
            "1",
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success());
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines.len() >= 3, "{stderr}");
    for line in &lines {
        let fields = logfmt(line);
        for name in names {
            assert!(fields.contains_key(name), "{name} in {line}");
        }
        assert_eq!(fields["total"], "60", "{line}");
    }
    let done: Vec<u64> = lines
        .iter()
        .map(|l| logfmt(l)["done"].parse().unwrap())
        .collect();
    assert!(done.windows(2).all(|w| w[0] <= w[1]), "{done:?}");
    // With --json: one JSON object a line, the same names (a book of its own: this one
    // is verified now).
    let other = Scratch::new("progress-json");
    let (book, _) = cli::book(&other, 30);
    let out = attest(
        &emu,
        &[
            "--customers",
            book.to_str().unwrap(),
            "--concurrency",
            "2",
            "--progress-every",
            "1",
            "--json",
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success());
    let stderr = text(&out.stderr);
    assert!(!stderr.is_empty());
    for line in stderr.lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        for name in names {
            assert!(value.get(name).is_some(), "{name} in {line}");
        }
    }
    // 0: none.
    let out = attest(&emu, &["--customers", b, "--progress-every", "0"])
        .output()
        .unwrap();
    assert!(out.status.success() && out.stderr.is_empty());
}
