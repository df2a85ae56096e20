//! Runs that share a journal, started together as operators start them (a cron that fires
//! while the last run goes on, a second terminal, shards beside a whole-book run): each
//! customer gets one record, however the runs' timing falls.

use std::process::Stdio;
use std::time::Duration;

use cybrid_identity::emulator::Emulator;
use serde_json::Value;

#[path = "support/cli.rs"]
mod cli;
use cli::*;

/// Starts one `attest --json` run a set of flags, all at once; waits for them and returns
/// each one's summary, asserting exit 0.
fn run_together(emu: &Emulator, runs: &[Vec<String>]) -> Vec<Value> {
    let children: Vec<_> = runs
        .iter()
        .map(|flags| {
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            let mut cmd = attest(emu, &flags);
            cmd.arg("--json")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
            serde_json::from_str(text(&out.stdout).trim()).unwrap()
        })
        .collect()
}

fn flags(book: &str, journal: &str, extra: &[&str]) -> Vec<String> {
    [
        "--customers",
        book,
        "--journal",
        journal,
        "--concurrency",
        "16",
    ]
    .iter()
    .chain(extra)
    .map(|s| (*s).to_owned())
    .collect()
}

/// `runs` whole-book runs of one book of 500 and one journal, at once.
fn whole_book_runs_at_once(runs: usize) {
    let emu = emulator_with_slow_creates(300);
    let dir = Scratch::new(&format!("together{runs}"));
    let (book, customers) = book(&dir, 500);
    let journal = dir.path("journal.jsonl");
    let (b, j) = (book.to_str().unwrap(), journal.to_str().unwrap());
    let summaries = run_together(&emu, &vec![flags(b, j, &[]); runs]);
    let created: Vec<u64> = summaries
        .iter()
        .map(|s| s["created"].as_u64().unwrap())
        .collect();
    let per_customer = records_per_customer(&emu, &customers);
    let twice = per_customer.iter().filter(|n| **n > 1).count();
    println!("{runs} runs at once: created {created:?}, {twice} customers with two records");
    assert_eq!(twice, 0, "customers with two records or more");
    assert!(per_customer.iter().all(|n| *n == 1), "{per_customer:?}");
    assert_eq!(
        created.iter().sum::<u64>(),
        500,
        "created per run: {created:?}"
    );
    for summary in &summaries {
        assert_eq!(
            summary["verified"], 500,
            "each run ends with every customer verified: {summary}"
        );
    }
    assert_eq!(emu.stats().records, 500);
}

#[test]
fn two_runs_of_one_book_and_journal_at_once_create_once_each() {
    whole_book_runs_at_once(2);
}

#[test]
fn four_runs_of_one_book_and_journal_at_once_create_once_each() {
    whole_book_runs_at_once(4);
}

#[test]
fn two_shards_and_a_whole_book_run_at_once_create_once_each() {
    let emu = emulator_with_slow_creates(300);
    let dir = Scratch::new("shardsandwhole");
    let (book, customers) = book(&dir, 300);
    let journal = dir.path("journal.jsonl");
    let (b, j) = (book.to_str().unwrap(), journal.to_str().unwrap());
    let summaries = run_together(
        &emu,
        &[
            flags(b, j, &["--shard", "0/2"]),
            flags(b, j, &["--shard", "1/2"]),
            flags(b, j, &[]),
        ],
    );
    let per_customer = records_per_customer(&emu, &customers);
    let created: Vec<u64> = summaries
        .iter()
        .map(|s| s["created"].as_u64().unwrap())
        .collect();
    println!("shards and a whole run: created {created:?}");
    assert!(per_customer.iter().all(|n| *n == 1), "{per_customer:?}");
    assert_eq!(created.iter().sum::<u64>(), 300, "{created:?}");
    assert_eq!(
        summaries[2]["verified"], 300,
        "the whole run adopts the shards' records"
    );
}

/// A run killed while its creates are still on the server, and a `Book` in this process whose
/// journal was opened before that run wrote a line: the book reads the other run's intents
/// when it takes those customers, waits for the creates to land and adopts them.
#[test]
fn a_book_reads_what_a_killed_run_wrote_after_its_journal_was_opened() {
    use cybrid_identity::{AttestOptions, AttestationSigner, Book, Journal, SigningKey};
    // Every create takes 2 s on the server, applied at its end.
    let emu = emulator_with_slow_creates(2000);
    let dir = Scratch::new("killedbeside");
    let (book, customers) = book(&dir, 24);
    let path = dir.path("journal.jsonl");
    let mine = Journal::open(&path).unwrap();
    let (b, j) = (book.to_str().unwrap(), path.to_str().unwrap());
    let mut other = attest(
        &emu,
        &["--customers", b, "--concurrency", "8", "--journal", j],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    wait_for_creates(&emu, 8);
    other.kill().unwrap();
    other.wait().unwrap();
    let in_flight = emu.stats().count(POSTS);
    assert_eq!(emu.stats().records, 0, "none has landed yet");
    assert_eq!(mine.in_doubt(), 0, "opened before the other run wrote");
    let client = emu.client().unwrap();
    let signer = AttestationSigner::new(
        SigningKey::sandbox(),
        emu.bank_guid(),
        emu.verification_key_guid(),
    )
    .unwrap();
    let options = AttestOptions::default()
        .concurrency(8)
        .settle(Duration::from_secs(15));
    let summary = Book::new(&client, &signer, options)
        .journal(&mine)
        .run(customers.iter().cloned(), |_, _| {})
        .unwrap();
    std::thread::sleep(Duration::from_millis(2200));
    let per_customer = records_per_customer(&emu, &customers);
    assert!(per_customer.iter().all(|n| *n == 1), "{per_customer:?}");
    assert_eq!(emu.stats().count(POSTS), 24, "no create sent twice");
    assert_eq!(
        summary.created as u64,
        24 - in_flight,
        "the killed run's creates adopted"
    );
    assert_eq!(summary.verified, 24);
}

const POSTS: &str = "POST /api/identity_records";
