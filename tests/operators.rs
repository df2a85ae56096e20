//! A book run as operators run it: stopped by SIGTERM as Kubernetes stops a pod, watched
//! through logs with no terminal, and read back through `journal summary` and `journal
//! unfinished`.

use std::collections::HashSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cybrid_identity::emulator::Emulator;
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
    // Creates take 6 s on the server, past the 5 s grace: some are abandoned in flight.
    let emu = emulator_with_slow_creates(6000);
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
    wait_for_creates(&emu, 16);
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
    let emu = emulator_with_slow_creates(150);
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

/// `cybrid-identity journal …` (no emulator needed).
fn journal_command(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cybrid-identity"))
        .arg("journal")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn journal_summary_and_unfinished_count_each_customer_by_its_last_line() {
    let dir = Scratch::new("summary");
    let g = |n: u8| format!("{:032x}", n);
    let outcome = |n: u8, state: &str, code: Option<&str>, error: Option<&str>| {
        serde_json::json!({
            "customer_guid": g(n), "record_guid": null, "state": state, "failure_code": code,
            "created": true, "error": error, "at": "2026-12-07T10:00:05Z",
        })
        .to_string()
        .replace("\"state\":\"\"", "\"state\":null")
    };
    let intent = |n: u8, at: &str| {
        format!(
            r#"{{"intent":"create","customer_guid":"{}","at":"{at}"}}"#,
            g(n)
        )
    };
    let lines = [
        intent(1, "2026-12-07T10:00:00Z"),
        outcome(1, "verified", None, None),
        intent(2, "2026-12-07T10:00:01Z"),
        outcome(2, "failed", Some("jwt_expired"), None),
        intent(3, "2026-12-07T10:00:01Z"),
        outcome(3, "failed", Some("invalid_signature"), None),
        outcome(4, "", None, Some("signing failed: the HSM is gone")),
        // 5: failed once, then in doubt since a later intent.
        outcome(5, "failed", Some("jwt_expired"), None),
        intent(5, "2026-12-07T10:00:02Z"),
        intent(6, "2026-12-07T10:00:03Z"),
        "not a journal line".to_owned(),
        // 7: in doubt, then verified: done.
        intent(7, "2026-12-07T09:59:59Z"),
        outcome(7, "verified", None, None),
    ];
    let mut written = lines.join("\n");
    written.push_str("\n{\"customer_guid\":\"torn"); // a line cut short by a kill
    let path = dir.path("journal.jsonl");
    std::fs::write(&path, &written).unwrap();
    let p = path.to_str().unwrap();
    let out = journal_command(&["summary", p, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["customers"], 7);
    assert_eq!(s["verified"], 2);
    assert_eq!(s["failed"], 2);
    assert_eq!(
        s["failed_by_code"],
        serde_json::json!({"jwt_expired": 1, "invalid_signature": 1})
    );
    assert_eq!(s["errors"], 1);
    assert_eq!(
        s["errors_by_kind"],
        serde_json::json!({"signing failed": 1})
    );
    assert_eq!(s["in_doubt"], 2);
    assert_eq!(s["in_doubt_since"], "2026-12-07T10:00:02Z");
    assert_eq!(
        (s["torn_lines"].as_u64(), s["foreign_lines"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(s["first_at"], "2026-12-07T09:59:59Z");
    assert_eq!(s["last_at"], "2026-12-07T10:00:05Z");
    let plain = journal_command(&["summary", p]);
    assert_eq!(
        text(&plain.stdout).lines().next().unwrap(),
        "7 customers: 2 verified, 2 failed (invalid_signature 1, jwt_expired 1), 1 errors (signing failed 1), 2 in doubt since 2026-12-07T10:00:02Z"
    );
    // The next run's book: every customer of the book not verified, in its order.
    let book_path = dir.path("book.txt");
    let book: Vec<String> = (1..=8).map(g).collect();
    std::fs::write(&book_path, book.join("\n")).unwrap();
    let out = journal_command(&["unfinished", p, "--customers", book_path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected: Vec<String> = [2, 3, 4, 5, 6, 8].into_iter().map(g).collect();
    assert_eq!(text(&out.stdout).lines().collect::<Vec<_>>(), expected);
    // Not a journal: refused as attest refuses it, exit 2.
    std::fs::write(&path, vec![b'x'; 70_000]).unwrap();
    for args in [
        vec!["summary", p],
        vec!["unfinished", p, "--customers", book_path.to_str().unwrap()],
    ] {
        let out = journal_command(&args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("not a journal"));
    }
    let folder = dir.path("");
    let out = journal_command(&["summary", folder.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn journal_summary_reads_a_journal_while_a_run_writes_it() {
    let emu = emulator_with_slow_creates(100);
    let dir = Scratch::new("summarylive");
    let (book, _) = book(&dir, 200);
    let journal_path = dir.path("journal.jsonl");
    let (b, j) = (book.to_str().unwrap(), journal_path.to_str().unwrap());
    let mut child = attest(
        &emu,
        &["--customers", b, "--concurrency", "4", "--journal", j],
    )
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    let mut seen = Vec::new();
    while child.try_wait().unwrap().is_none() {
        let out = journal_command(&["summary", j, "--json"]);
        if out.status.success() {
            let s: Value = serde_json::from_slice(&out.stdout).unwrap();
            let parts = ["verified", "failed", "errors", "in_doubt", "in_progress"]
                .map(|k| s[k].as_u64().unwrap());
            assert_eq!(
                parts.iter().sum::<u64>(),
                s["customers"].as_u64().unwrap(),
                "{s}"
            );
            seen.push(s["verified"].as_u64().unwrap());
            let unfinished = journal_command(&["unfinished", j, "--customers", b]);
            assert!(unfinished.status.success());
            let left = text(&unfinished.stdout).lines().count() as u64;
            assert!(
                left <= 200 - s["verified"].as_u64().unwrap(),
                "{left} left, {s}"
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(child.wait().unwrap().success());
    println!("verified counts seen while it ran: {seen:?}");
    assert!(
        seen.len() >= 3 && seen.windows(2).all(|w| w[0] <= w[1]),
        "{seen:?}"
    );
    let out = journal_command(&["summary", j, "--json"]);
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (s["customers"].as_u64(), s["verified"].as_u64()),
        (Some(200), Some(200))
    );
    let out = journal_command(&["unfinished", j, "--customers", b]);
    assert!(out.status.success() && out.stdout.is_empty());
}
