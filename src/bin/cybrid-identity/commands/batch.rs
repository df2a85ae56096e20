//! `attest --customers FILE`: a whole customer book, `--concurrency` workers sharing one
//! client, each customer through `Client::ensure_attested`, a JSON Lines journal that makes a
//! rerun skip what is done, and `--shard K/N` to split a book with no coordination.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, IsTerminal as _, Read as _, Write as _};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cybrid_identity::{AttestationSigner, AttestationState, Client, WaitOptions, is_guid};
use serde_json::{Value, json};

use crate::args::{Args, CliError};
use crate::output::out;

/// The largest customer file read (a million guids is about 33 MB).
const MAX_BOOK_BYTES: u64 = 256 * 1024 * 1024;

/// The customers to attest, after reading, checking, de-duplicating and sharding.
struct Book {
    customers: Vec<String>,
    duplicates: usize,
    other_shards: usize,
}

/// Reads one guid a line (blank lines and `#` comments skipped); every bad line is named.
fn read_book(source: &str) -> Result<Book, CliError> {
    let mut text = String::new();
    let reader: Box<dyn std::io::Read> = if source == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            File::open(source)
                .map_err(|e| CliError::runtime(format!("cannot read {source}: {e}")))?,
        )
    };
    reader
        .take(MAX_BOOK_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| CliError::runtime(format!("cannot read {source}: {e}")))?;
    let (mut customers, mut seen, mut bad, mut duplicates) =
        (Vec::new(), HashSet::new(), Vec::new(), 0);
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !is_guid(line) {
            bad.push(index + 1);
        } else if seen.insert(line.to_ascii_lowercase()) {
            customers.push(line.to_owned());
        } else {
            duplicates += 1;
        }
    }
    if !bad.is_empty() {
        let shown: Vec<String> = bad.iter().take(20).map(ToString::to_string).collect();
        let more = if bad.len() > 20 {
            format!(" and {} more", bad.len() - 20)
        } else {
            String::new()
        };
        return Err(CliError::usage(format!(
            "{source}: line {}{more} is not a guid (32 ASCII letters or digits)",
            shown.join(", line ")
        )));
    }
    Ok(Book {
        customers,
        duplicates,
        other_shards: 0,
    })
}

/// `K/N`: shard K (from 0) of N.
fn parse_shard(text: &str) -> Result<(u64, u64), CliError> {
    let parsed = text
        .split_once('/')
        .and_then(|(k, n)| Some((k.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
        .filter(|(k, n)| (1..=4096).contains(n) && k < n);
    parsed.ok_or_else(|| {
        CliError::usage(format!(
            "--shard takes K/N with 0 <= K < N <= 4096, got {text:?}"
        ))
    })
}

/// The shard of a guid among `n`: FNV-1a (64-bit) of its lowercase ASCII, modulo `n`. Stable
/// across runs, machines and versions, so other tools can compute it too.
pub fn shard_of(guid: &str, n: u64) -> u64 {
    let hash = guid.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0000_0100_0000_01b3)
    });
    hash % n
}

/// Customers the journal shows verified.
fn verified_in(journal: &str) -> Result<HashSet<String>, CliError> {
    let file = match File::open(journal) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(CliError::runtime(format!("cannot read {journal}: {e}"))),
    };
    let mut done = HashSet::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| CliError::runtime(format!("cannot read {journal}: {e}")))?;
        // A line cut short by a killed run does not parse, and is simply not counted.
        if let Ok(entry) = serde_json::from_str::<Value>(&line)
            && entry["state"] == "verified"
            && let Some(customer) = entry["customer_guid"].as_str()
        {
            done.insert(customer.to_ascii_lowercase());
        }
    }
    Ok(done)
}

/// What the workers share.
struct Run {
    client: Client,
    signer: AttestationSigner,
    options: WaitOptions,
    queue: Vec<String>,
    next: AtomicUsize,
    journal: Option<Mutex<File>>,
    tally: Tally,
}

#[derive(Default)]
struct Tally {
    done: AtomicUsize,
    verified: AtomicUsize,
    failed: AtomicUsize,
    errors: AtomicUsize,
    created: AtomicUsize,
}

impl Run {
    fn work(&self) {
        while let Some(customer) = self.queue.get(self.next.fetch_add(1, Ordering::SeqCst)) {
            let entry = match self
                .client
                .ensure_attested(customer, &self.signer, &self.options)
            {
                Ok(attested) => {
                    let state = attested.record.state();
                    let counter = match state {
                        Some(AttestationState::Verified) => &self.tally.verified,
                        _ => &self.tally.failed,
                    };
                    counter.fetch_add(1, Ordering::SeqCst);
                    if attested.created {
                        self.tally.created.fetch_add(1, Ordering::SeqCst);
                    }
                    json!({"customer_guid": customer, "record_guid": attested.record.guid, "state": state,
                           "failure_code": attested.record.failure_code(), "created": attested.created, "error": null})
                }
                Err(e) => {
                    self.tally.errors.fetch_add(1, Ordering::SeqCst);
                    json!({"customer_guid": customer, "record_guid": null, "state": null, "failure_code": null,
                           "created": null, "error": CliError::from(e).message})
                }
            };
            if let Some(journal) = &self.journal {
                let mut file = journal
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                // One line, flushed, as each customer finishes: a kill loses at most this one.
                let _ = writeln!(file, "{entry}").and_then(|()| file.flush());
            }
            self.tally.done.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// What a batch will do, settled before any request: the book read and checked, sharded,
/// and the customers the journal shows verified taken out.
pub struct Plan {
    queue: Vec<String>,
    counts: Counts,
    journal: Option<Mutex<File>>,
    concurrency: usize,
}

/// Reads and checks everything a batch needs from its flags (exit 2 on a bad line, before
/// any request).
pub fn plan(args: &Args) -> Result<Plan, CliError> {
    let source = args.required("customers")?;
    let concurrency = usize::try_from(args.number("concurrency")?.unwrap_or(8)).unwrap_or(8);
    let shard = args.value("shard").map(parse_shard).transpose()?;
    let mut book = read_book(source)?;
    if let Some((k, n)) = shard {
        let before = book.customers.len();
        book.customers.retain(|c| shard_of(c, n) == k);
        book.other_shards = before - book.customers.len();
    }
    let done = match args.value("journal") {
        Some(journal) => verified_in(journal)?,
        None => HashSet::new(),
    };
    let total = book.customers.len();
    let queue: Vec<String> = book
        .customers
        .into_iter()
        .filter(|c| !done.contains(&c.to_ascii_lowercase()))
        .collect();
    let journal = match args.value("journal") {
        Some(path) => Some(Mutex::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| CliError::runtime(format!("cannot write {path}: {e}")))?,
        )),
        None => None,
    };
    let counts = Counts {
        total,
        skipped: total - queue.len(),
        duplicates: book.duplicates,
        other_shards: book.other_shards,
    };
    Ok(Plan {
        queue,
        counts,
        journal,
        concurrency,
    })
}

/// Runs the plan with its workers; progress on stderr when it is a terminal.
pub fn attest_book(
    args: &Args,
    plan: Plan,
    client: Client,
    signer: AttestationSigner,
) -> Result<ExitCode, CliError> {
    let Plan {
        queue,
        counts,
        journal,
        concurrency,
    } = plan;
    // Polls start sooner than a single attest's: a book spends most of its time waiting.
    let mut options =
        WaitOptions::default().interval(Duration::from_millis(100), Duration::from_secs(2));
    if let Some(secs) = args.number("timeout-s")? {
        options = options.timeout(Duration::from_secs(secs));
    }
    let run = Arc::new(Run {
        client,
        signer,
        options,
        queue,
        next: AtomicUsize::new(0),
        journal,
        tally: Tally::default(),
    });
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency.min(run.queue.len()).max(1))
        .map(|_| {
            let run = run.clone();
            std::thread::spawn(move || run.work())
        })
        .collect();
    let show_progress = std::io::stderr().is_terminal() && !args.json;
    while workers.iter().any(|w| !w.is_finished()) {
        if show_progress {
            progress(&run, started);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for worker in workers {
        worker
            .join()
            .map_err(|_| CliError::runtime("a worker failed"))?;
    }
    if show_progress {
        progress(&run, started);
        eprintln!();
    }
    summary(args, &run, &counts, started)
}

struct Counts {
    total: usize,
    skipped: usize,
    duplicates: usize,
    other_shards: usize,
}

/// One line redrawn: done / total, verified, failed, errors, rate, ETA.
fn progress(run: &Run, started: Instant) {
    let t = &run.tally;
    let done = t.done.load(Ordering::SeqCst);
    let left = run.queue.len().saturating_sub(done);
    let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
    let eta = if rate > 0.0 {
        format!("{:.0} s", left as f64 / rate)
    } else {
        "?".to_owned()
    };
    eprint!(
        "\r{done}/{} customers  verified {}  failed {}  errors {}  {rate:.1}/s  ETA {eta}   ",
        run.queue.len(),
        t.verified.load(Ordering::SeqCst),
        t.failed.load(Ordering::SeqCst),
        t.errors.load(Ordering::SeqCst)
    );
}

fn summary(
    args: &Args,
    run: &Run,
    counts: &Counts,
    started: Instant,
) -> Result<ExitCode, CliError> {
    let t = &run.tally;
    let (verified, failed, errors) = (
        t.verified.load(Ordering::SeqCst),
        t.failed.load(Ordering::SeqCst),
        t.errors.load(Ordering::SeqCst),
    );
    let elapsed = started.elapsed().as_secs_f64();
    if args.json {
        out!(
            "{}",
            json!({"customers": counts.total, "verified": verified, "failed": failed, "errors": errors,
                   "created": t.created.load(Ordering::SeqCst), "skipped": counts.skipped,
                   "duplicates": counts.duplicates, "other_shards": counts.other_shards, "seconds": elapsed})
        );
    } else {
        out!(
            "{} customers: {verified} verified, {failed} failed, {errors} errors; {} skipped as verified in the journal, {} duplicate lines dropped, {} in other shards; {elapsed:.1} s",
            counts.total,
            counts.skipped,
            counts.duplicates,
            counts.other_shards
        );
    }
    Ok(if failed == 0 && errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_cover_every_guid_once() {
        // FNV-1a of "c0ffee…": fixed, so a change of hash cannot slip by.
        assert_eq!(
            shard_of("c0ffee00c0ffee00c0ffee00c0ffee00", 1_000_003),
            shard_of("C0FFEE00C0FFEE00C0FFEE00C0FFEE00", 1_000_003)
        );
        assert_eq!(shard_of("", u64::MAX), 0xcbf2_9ce4_8422_2325);
        assert_eq!(parse_shard("1/3").ok(), Some((1, 3)));
        for bad in ["3/3", "0/0", "x/2", "1", "-1/2", "0/5000"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
