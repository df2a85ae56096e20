//! `attest --customers`: a whole book through the binary, against an in-process emulator.
//! Every customer ends with exactly one record, however the run is interrupted or rerun.

use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cybrid_identity::emulator::{Emulator, Fault, FaultKind, new_guid};
use serde_json::Value;

#[path = "support/mod.rs"]
mod support;

#[path = "support/cli.rs"]
mod cli;
use cli::*;

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
    assert!(text(&out.stdout).starts_with("300 customers: 300 verified, 0 failed, 0 errors, 300 created; 0 skipped as verified in the journal, 1 duplicate lines dropped"), "{}", text(&out.stdout));
    assert!(
        out.stderr.is_empty(),
        "stderr is not a terminal: nothing but errors there: {}",
        text(&out.stderr)
    );
    assert_eq!(emu.stats().count(POSTS), 300);
    assert_eq!(emu.stats().records, 300);
    let (intents, lines): (Vec<Value>, Vec<Value>) = journal(&journal_path)
        .into_iter()
        .partition(|l| l["intent"] == "create");
    assert_eq!(intents.len(), 300, "an intent before each create");
    let (answers, lines): (Vec<Value>, Vec<Value>) = lines.into_iter().partition(is_answer);
    assert_eq!(answers.len(), 300, "each create's answer as it came");
    assert!(
        answers
            .iter()
            .all(|l| l["created"] == true && l["record_guid"].is_string())
    );
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
    // Creates whose intent was written but that never reached the server stay in doubt
    // for the settle period: a short one keeps the test short.
    let rerun = succeeds(&mut attest(
        &emu,
        &[
            "--customers",
            b,
            "--concurrency",
            "16",
            "--journal",
            j,
            "--settle-s",
            "2",
        ],
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
    assert!(
        err.contains("line 2 is not a guid (32 ASCII letters or digits); line 5 is not a guid"),
        "{err}"
    );
    assert_eq!(emu.stats().requests.len(), 0, "no request at all");
}

// `keys generate --out` makes the key with the `rsa` crate; a `ring`-only build makes none.
#[cfg(feature = "rsa")]
#[test]
fn keys_generate_then_register_then_attest_with_that_key() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(10))
        .start()
        .unwrap();
    let dir = Scratch::new("keys");
    let key = dir.path("bank.pem");
    let k = key.to_str().unwrap();
    let printed = succeeds(std::process::Command::new(BIN).args(["keys", "generate", "--out", k]));
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
    let again = run(std::process::Command::new(BIN).args(["keys", "generate", "--out", k]));
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

/// Lines of the journal that are outcomes (not intents).
/// The journal's outcome lines: neither an intent nor a create's answer (a record written
/// as `storing` the moment its create was answered).
fn outcomes(path: &Path) -> Vec<Value> {
    journal(path)
        .into_iter()
        .filter(|l| l["intent"].is_null() && !is_answer(l))
        .collect()
}

/// A create's answer: the record made, not final yet.
fn is_answer(line: &Value) -> bool {
    line["error"].is_null() && matches!(line["state"].as_str(), Some("storing" | "pending"))
}

#[test]
fn killed_while_every_create_is_slow_on_the_server_then_rerun_at_once_one_record_each() {
    // Every create takes 2 s on the server, applied at its end: a kill in between leaves
    // creates that land after the killed process is gone.
    let emu = emulator_with_slow_creates(2000);
    let dir = Scratch::new("slowkill");
    let (book, customers) = book(&dir, 24);
    let journal_path = dir.path("journal.jsonl");
    let (b, j) = (book.to_str().unwrap(), journal_path.to_str().unwrap());
    let mut child = attest(
        &emu,
        &["--customers", b, "--concurrency", "8", "--journal", j],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    // Killed once eight creates have reached the server (counted as they arrive, two
    // seconds before the server applies them).
    wait_for_creates(&emu, 8);
    child.kill().unwrap();
    child.wait().unwrap();
    let lines = journal(&journal_path);
    assert!(
        lines.len() >= 8 && lines.iter().all(|l| l["intent"] == "create"),
        "killed with creates in flight and none finished: {lines:?}"
    );
    assert_eq!(emu.stats().records, 0, "none has landed yet");
    let in_flight = emu.stats().count(POSTS);
    let rerun = succeeds(&mut attest(
        &emu,
        &[
            "--customers",
            b,
            "--concurrency",
            "8",
            "--journal",
            j,
            "--settle-s",
            "15",
        ],
    ));
    // Let any create still sleeping in the emulator land before counting.
    std::thread::sleep(Duration::from_millis(2200));
    let per_customer = records_per_customer(&emu, &customers);
    assert!(
        per_customer.iter().all(|n| *n == 1),
        "records per customer: {per_customer:?}"
    );
    assert_eq!(emu.stats().count(POSTS), 24, "no create sent twice");
    // The creates in flight at the kill were adopted when they landed, not sent again.
    assert!(
        rerun.contains(&format!("{} created", 24 - in_flight)),
        "{in_flight} in flight at the kill; rerun: {rerun}"
    );
    println!(
        "{} intents before the kill; rerun: {}",
        lines.len(),
        rerun.trim()
    );
}

#[test]
fn a_book_past_the_old_256_mib_cut_is_read_in_full() {
    use std::io::Write as _;
    let emu = Emulator::builder()
        .transition(Duration::from_millis(10))
        .start()
        .unwrap();
    let dir = Scratch::new("cut");
    let path = dir.path("big.txt");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    // 256 MiB of comment lines (4,095 bytes each), then one customer after the old cut.
    let comment = format!("#{}\n", "x".repeat(4094));
    let mut written = 0u64;
    while written <= 256 * 1024 * 1024 {
        file.write_all(comment.as_bytes()).unwrap();
        written += comment.len() as u64;
    }
    let customer = new_guid();
    writeln!(file, "{customer}").unwrap();
    file.flush().unwrap();
    drop(file);
    let out = succeeds(&mut attest(&emu, &["--customers", path.to_str().unwrap()]));
    assert!(out.starts_with("1 customers: 1 verified"), "{out}");
    assert_eq!(records_per_customer(&emu, &[customer]), [1]);
    // And a bad line past the cut refuses the whole book, by number, before any request.
    let lines = written / comment.len() as u64;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    writeln!(file, "nothex").unwrap();
    let before = emu.stats().requests.values().sum::<u64>();
    let out = run(&mut attest(&emu, &["--customers", path.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(2));
    let line = lines + 2;
    assert!(
        text(&out.stderr).contains(&format!("line {line} is not a guid")),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(emu.stats().requests.values().sum::<u64>(), before);
}

#[test]
fn a_torn_journal_line_is_completed_and_ignored() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(10))
        .start()
        .unwrap();
    let dir = Scratch::new("torn");
    let (book, customers) = book(&dir, 3);
    let journal_path = dir.path("journal.jsonl");
    let torn = format!("{{\"customer_guid\":\"{}\",\"state\":\"verif", customers[0]);
    std::fs::write(&journal_path, &torn).unwrap();
    succeeds(&mut attest(
        &emu,
        &[
            "--customers",
            book.to_str().unwrap(),
            "--journal",
            journal_path.to_str().unwrap(),
        ],
    ));
    let text = std::fs::read_to_string(&journal_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0], torn,
        "the torn line stays as it was, ended by a newline"
    );
    assert!(
        lines[1..]
            .iter()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "every line after it whole: {lines:?}"
    );
    assert_eq!(
        outcomes(&journal_path).len(),
        3,
        "the torn line did not count as verified"
    );
    assert_eq!(emu.stats().count(POSTS), 3);
}

#[test]
fn a_journal_that_is_not_one_is_refused_before_any_request() {
    let emu = Emulator::start().unwrap();
    let dir = Scratch::new("notjournal");
    let (book, _) = book(&dir, 2);
    let long = dir.path("long.jsonl");
    std::fs::write(&long, vec![b'x'; 70 * 1024]).unwrap();
    for (journal, expect) in [
        (
            long.to_str().unwrap(),
            "line 1 is longer than 65536 bytes: not a journal",
        ),
        ("/dev/zero", "not a regular file"),
    ] {
        let out = run(&mut attest(
            &emu,
            &["--customers", book.to_str().unwrap(), "--journal", journal],
        ));
        assert_eq!(out.status.code(), Some(2), "{journal}");
        assert!(text(&out.stderr).contains(expect), "{}", text(&out.stderr));
    }
    assert_eq!(emu.stats().requests.len(), 0, "no request at all");
}

#[test]
fn a_full_disk_stops_the_batch_with_exit_3() {
    let dir = Scratch::new("full");
    let mount = dir.path("small");
    let Some(_tmpfs) = support::Tmpfs::mount(&mount, "8k") else {
        return;
    };
    let emu = Emulator::builder()
        .transition(Duration::from_millis(10))
        .start()
        .unwrap();
    let (book, _) = book(&dir, 200);
    let journal_path = mount.join("journal.jsonl");
    let out = run(&mut attest(
        &emu,
        &[
            "--customers",
            book.to_str().unwrap(),
            "--journal",
            journal_path.to_str().unwrap(),
        ],
    ));
    assert_eq!(out.status.code(), Some(3), "stopped: {}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("the batch stopped before its end: journal")
            && err.contains("cannot write to it"),
        "{err}"
    );
    let written = std::fs::metadata(&journal_path).unwrap().len();
    assert!(written <= 8192, "{written}");
    assert!(
        emu.stats().count(POSTS) < 200,
        "no create goes out once its intent cannot be written"
    );
    // Each create that went out has its whole intent line in the journal, even the one
    // whose line the disk could hold only part of. Whole: with its newline (a line the disk
    // took all of but the newline is a failed write, and its create was not sent).
    let written = std::fs::read_to_string(&journal_path).unwrap();
    let intents = written
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["intent"] == "create")
        .count();
    assert_eq!(emu.stats().count(POSTS), intents as u64, "{written}");
}

#[test]
fn the_exit_status_tells_a_failed_batch_even_with_stdout_closed() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(10))
        .start()
        .unwrap();
    emu.add_fault(
        Fault::new(FaultKind::Status {
            status: 400,
            retry_after_s: None,
        })
        .method("POST")
        .path_prefix("/api/identity_records"),
    )
    .unwrap();
    let dir = Scratch::new("pipe");
    let (book, _) = book(&dir, 3);
    let mut child = attest(&emu, &["--customers", book.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // `| true`: the reader is gone before anything is printed
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

#[test]
fn mixed_case_guids_are_one_customer_with_one_record() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(10))
        .start()
        .unwrap();
    let dir = Scratch::new("case");
    let customer = new_guid();
    let path = dir.path("book.txt");
    std::fs::write(&path, format!("{}\n{customer}\n", customer.to_uppercase())).unwrap();
    let out = succeeds(&mut attest(&emu, &["--customers", path.to_str().unwrap()]));
    assert!(out.starts_with("1 customers: 1 verified"), "{out}");
    assert!(out.contains("1 duplicate lines dropped"), "{out}");
    assert_eq!(emu.stats().count(POSTS), 1);
}

#[test]
fn a_kid_that_is_not_verified_or_a_bad_bank_makes_no_record() {
    use cybrid_identity::{PostVerificationKey, SigningKey};
    let emu = Emulator::builder()
        .transition(Duration::from_millis(10))
        .start()
        .unwrap();
    let client = emu.client().unwrap();
    let mut post = PostVerificationKey::new(&SigningKey::sandbox(), "nonce-1").unwrap();
    post.nonce = "another nonce".into(); // the signature no longer matches
    let key = client.create_verification_key(&post).unwrap();
    let kid = key.guid.unwrap();
    std::thread::sleep(Duration::from_millis(30));
    let dir = Scratch::new("kid");
    let (book, _) = book(&dir, 3);
    let out = run(&mut attest(
        &emu,
        &["--customers", book.to_str().unwrap(), "--kid", &kid],
    ));
    assert_eq!(out.status.code(), Some(2), "a rerun cannot fix it");
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("verification key {kid} is failed, not verified: every token naming it would fail, so nothing was created")),
        "{err}"
    );
    assert_eq!(emu.stats().count(POSTS), 0);
    let before = emu.stats().requests.values().sum::<u64>();
    let out = run(&mut attest(
        &emu,
        &["--customers", book.to_str().unwrap(), "--bank", "nothex"],
    ));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--bank"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        emu.stats().requests.values().sum::<u64>(),
        before,
        "refused before any request"
    );
}

#[test]
fn an_unknown_outcome_in_the_journal_names_the_cli_command_to_check() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(10))
        .start()
        .unwrap();
    emu.add_fault(
        Fault::new(FaultKind::Reset)
            .method("POST")
            .path_prefix("/api/identity_records"),
    )
    .unwrap();
    let dir = Scratch::new("unknown");
    let (book, customers) = book(&dir, 1);
    let journal_path = dir.path("journal.jsonl");
    let out = run(&mut attest(
        &emu,
        &[
            "--customers",
            book.to_str().unwrap(),
            "--journal",
            journal_path.to_str().unwrap(),
            "--settle-s",
            "0",
        ],
    ));
    assert_eq!(out.status.code(), Some(1));
    let lines = outcomes(&journal_path);
    let error = lines[0]["error"].as_str().unwrap();
    assert!(
        error.contains(&format!(
            "check with `cybrid-identity records list --customer {}`",
            customers[0]
        )),
        "{error}"
    );
    assert_eq!(
        emu.stats().count(POSTS),
        3,
        "sent again only after each settle period"
    );
}

#[test]
fn shards_running_at_once_share_one_journal_line_by_line() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(10))
        .start()
        .unwrap();
    let dir = Scratch::new("sharedjournal");
    let (book, customers) = book(&dir, 90);
    let journal_path = dir.path("journal.jsonl");
    let (b, j) = (book.to_str().unwrap(), journal_path.to_str().unwrap());
    let children: Vec<_> = (0..3)
        .map(|k| {
            attest(
                &emu,
                &[
                    "--customers",
                    b,
                    "--shard",
                    &format!("{k}/3"),
                    "--journal",
                    j,
                ],
            )
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let text = std::fs::read_to_string(&journal_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        270,
        "an intent, the create's answer and an outcome for each of 90"
    );
    assert!(
        lines
            .iter()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "no two lines interleaved"
    );
    let done: HashSet<String> = outcomes(&journal_path)
        .iter()
        .map(|l| l["customer_guid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(done, customers.iter().cloned().collect());
}
