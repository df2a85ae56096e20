//! `attest --customers FILE`: a whole customer book through the library's [`Book`], with its
//! journal (a write-ahead log that makes a rerun skip what is done and wait out what is in
//! doubt), and `--shard K/N` to split a book with no coordination.

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use cybrid_identity::book::{DEFAULT_SETTLE, Outcome, Progress, Summary};
use cybrid_identity::{
    AttestOptions, AttestationSigner, AttestationState, Attested, Book, Client, Error, Journal,
    WaitOptions,
};
use serde_json::json;

use super::book_file::{BookFile, read_book};
use super::progress_log;
use crate::args::{Args, CliError, error_chain};
use crate::output::out;

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

/// What a batch will do, settled before any request: the book read and checked, the
/// journal read, every number in range.
pub struct Plan {
    book: BookFile,
    journal: Option<Journal>,
    shard: Option<(u64, u64)>,
    pub concurrency: usize,
    settle: Duration,
}

/// Reads and checks everything a batch needs from its flags (exit 2 on a bad line or a file
/// that is not a journal, before any request).
pub fn plan(args: &Args) -> Result<Plan, CliError> {
    let source = args.required("customers")?;
    let concurrency = usize::try_from(args.number("concurrency")?.unwrap_or(8)).unwrap_or(8);
    let book = read_book(source)?;
    if let Some(journal) = args.value("journal")
        && same_file(source, journal)
    {
        return Err(CliError::usage(format!(
            "--journal {journal} is the book itself: a journal is a file of its own (a new one, or one an earlier run wrote)"
        )));
    }
    Plan::of(book, args, concurrency)
}

/// Whether two paths name one file (a link or another spelling of the book included).
fn same_file(a: &str, b: &str) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return a.dev() == b.dev() && a.ino() == b.ino();
        }
    }
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

impl Plan {
    /// The plan for `book`: the journal opened, the shard and settle period read.
    pub fn of(book: BookFile, args: &Args, concurrency: usize) -> Result<Plan, CliError> {
        let settle = args
            .number("settle-s")?
            .map_or(DEFAULT_SETTLE, Duration::from_secs);
        let shard = args.value("shard").map(parse_shard).transpose()?;
        let journal = match args.value("journal") {
            Some(path) => Some(Journal::open(path).map_err(|e| CliError::input(error_chain(&e)))?),
            None => None,
        };
        Ok(Plan {
            book,
            journal,
            shard,
            concurrency,
            settle,
        })
    }
}

/// A plan of one customer through the book (with its journal, if any), waiting as `wait`
/// says: the customer and its result.
pub fn run_one(
    plan: Plan,
    client: &Client,
    signer: &AttestationSigner,
    wait: WaitOptions,
) -> Result<(String, Result<Attested, Error>), CliError> {
    let Plan {
        book,
        journal,
        settle,
        ..
    } = plan;
    let customer = book.customers().next().unwrap_or_default().to_owned();
    let options = AttestOptions::default()
        .concurrency(1)
        .settle(settle)
        .wait(wait);
    let stop = crate::signals::stop_on_signals();
    let mut engine = Book::new(client, signer, options)
        .error_text(journal_text)
        .stop_when(stop);
    if let Some(journal) = &journal {
        engine = engine.journal(journal);
    }
    let mut result = None;
    engine
        .run([customer.as_str()], |outcome, _| {
            result = Some(outcome.result)
        })
        .map_err(stopped)?;
    let result = result.ok_or_else(|| {
        CliError::runtime(format!(
            "the book ended without customer {customer}'s outcome"
        ))
    })?;
    Ok((customer, result))
}

/// How an error reads in the journal: as the CLI prints it, naming the CLI command to check
/// an unknown outcome with.
fn journal_text(e: &Error, customer: &str) -> String {
    super::create_failed_text(e, customer)
}

/// Tallies and the progress line (on stderr, when it is a terminal).
struct Tally {
    skipped: usize,
    other_shards: usize,
    started: Instant,
    shown: Option<Instant>,
    show: bool,
    total: usize,
}

impl Tally {
    fn progress(&mut self, p: &Progress) {
        if !self.show
            || self
                .shown
                .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
        {
            return;
        }
        self.shown = Some(Instant::now());
        let rate = p.done as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        let left = self
            .total
            .saturating_sub(p.done + self.skipped + self.other_shards);
        let eta = if rate > 0.0 {
            format!("{:.0} s", left as f64 / rate)
        } else {
            "?".to_owned()
        };
        let line = format!(
            "{} done  waiting {}  in doubt {}  in flight {}/{}  {rate:.1}/s  ETA {eta}",
            p.done, p.waiting, p.in_doubt, p.in_flight, p.limit
        );
        // Redrawn in place: carriage return, the line cut to the terminal, the rest erased.
        eprint!("\r{}\x1b[K", fit(&line, terminal_width()));
    }
}

/// The terminal's width as the shell exports it (`COLUMNS`), 80 otherwise; one column is
/// left free so that the cursor never wraps.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|c| (20..=1000).contains(c))
        .unwrap_or(80)
        - 1
}

/// `line` cut to `width` characters.
fn fit(line: &str, width: usize) -> &str {
    line.char_indices()
        .nth(width)
        .map_or(line, |(at, _)| &line[..at])
}

/// One outcome and the book's progress, in the counts the log line reports.
fn count(counts: &progress_log::Shared, outcome: &Outcome, progress: &Progress) {
    let mut counts = counts.lock().unwrap_or_else(PoisonError::into_inner);
    counts.done += 1;
    match &outcome.result {
        Ok(a) if a.record.state() == Some(&AttestationState::Verified) => counts.verified += 1,
        Ok(_) => counts.failed += 1,
        Err(_) => counts.errors += 1,
    }
    counts.in_doubt = progress.in_doubt;
    counts.in_flight = progress.in_flight;
    counts.waiting = progress.waiting;
}

/// How the book attests: the plan's numbers, and polls sooner than a single attest's (a
/// book spends most of its time waiting).
fn options(args: &Args, concurrency: usize, settle: Duration) -> Result<AttestOptions, CliError> {
    let mut wait =
        WaitOptions::default().interval(Duration::from_millis(100), Duration::from_secs(2));
    if let Some(secs) = args.number("timeout-s")? {
        wait = wait.timeout(Duration::from_secs(secs));
    }
    Ok(AttestOptions::default()
        .concurrency(concurrency)
        .settle(settle)
        .wait(wait))
}

/// A book that stopped before its end, with the signal that stopped it if one did: exit 3;
/// or one that could not start (the signer's key not the one registered): exit 2.
fn stopped(e: Error) -> CliError {
    if e.is_permanent() {
        return CliError::from(e);
    }
    let why = match crate::signals::received() {
        Some(signal) => format!("{signal}: {}", error_chain(&e)),
        None => error_chain(&e),
    };
    CliError::stopped(format!(
        "the batch stopped before its end: {why}; customers not yet reported were left as they were (a rerun with the same journal resumes them)"
    ))
}

/// Runs the plan; a summary line at the end.
pub fn attest_book(
    args: &Args,
    plan: Plan,
    client: &Client,
    signer: &AttestationSigner,
) -> Result<ExitCode, CliError> {
    let Plan {
        book,
        journal,
        shard,
        concurrency,
        settle,
    } = plan;
    let options = options(args, concurrency, settle)?;
    let mut tally = Tally {
        skipped: 0,
        other_shards: 0,
        started: Instant::now(),
        shown: None,
        show: std::io::stderr().is_terminal() && !args.json,
        total: book.guids.len(),
    };
    let (mut skipped, mut other_shards) = (0usize, 0usize);
    let counts = progress_log::Shared::default();
    let live = std::sync::Arc::new(std::sync::Mutex::new(Progress::default()));
    // Outside a terminal, a line for the log every --progress-every seconds (30 by default).
    let every = args.number("progress-every")?.unwrap_or(30);
    let logger = (!std::io::stderr().is_terminal() && every > 0).then(|| {
        let total = book
            .customers()
            .filter(|c| shard.is_none_or(|(k, n)| shard_of(c, n) == k))
            .count();
        let every = Duration::from_secs(every);
        progress_log::Logger::start(every, total, args.json, counts.clone(), live.clone())
    });
    let customers = book.customers().filter(|c| {
        let mine = shard.is_none_or(|(k, n)| shard_of(c, n) == k);
        other_shards += usize::from(!mine);
        let done = mine && journal.as_ref().is_some_and(|j| j.is_verified(c));
        skipped += usize::from(done);
        if done {
            let mut counts = counts.lock().unwrap_or_else(PoisonError::into_inner);
            counts.done += 1;
            counts.verified += 1;
        }
        mine && !done
    });
    let stop = crate::signals::stop_on_signals();
    let mut engine = Book::new(client, signer, options)
        .error_text(journal_text)
        .stop_when(stop)
        .progress_to(&live);
    if let Some(journal) = &journal {
        engine = engine.journal(journal);
    }
    let result = engine.run(customers, |outcome: Outcome, progress: &Progress| {
        if let Err(e) = &outcome.result {
            log::debug!(target: "cybrid_identity", "customer {}: {e}", outcome.customer_guid);
        }
        count(&counts, &outcome, progress);
        tally.progress(progress);
    });
    drop(logger);
    (tally.skipped, tally.other_shards) = (skipped, other_shards);
    if tally.show {
        // Cleared: the summary line (stdout) says what the progress line said, and more.
        eprint!("\r\x1b[K");
    }
    let summary = result.map_err(stopped)?;
    print_summary(args, &summary, &tally, book.duplicates);
    Ok(if summary.failed == 0 && summary.errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_summary(args: &Args, s: &Summary, tally: &Tally, duplicates: usize) {
    let elapsed = tally.started.elapsed().as_secs_f64();
    let customers = s.customers + tally.skipped;
    if args.json {
        out!(
            "{}",
            json!({"customers": customers, "verified": s.verified, "failed": s.failed, "errors": s.errors,
                   "errors_by_kind": s.errors_by_kind,
                   "created": s.created, "skipped": tally.skipped,
                   "duplicates": duplicates, "other_shards": tally.other_shards, "seconds": elapsed})
        );
    } else {
        let kinds: Vec<String> = s
            .errors_by_kind
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect();
        let kinds = if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", kinds.join(", "))
        };
        out!(
            "{customers} customers: {} verified, {} failed, {} errors{kinds}, {} created; {} skipped as verified in the journal, {duplicates} duplicate lines dropped, {} in other shards; {elapsed:.1} s",
            s.verified,
            s.failed,
            s.errors,
            s.created,
            tally.skipped,
            tally.other_shards
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_fits_the_terminal() {
        assert_eq!(fit("0123456789", 4), "0123");
        assert_eq!(fit("0123", 10), "0123");
        assert_eq!(fit("éé", 1), "é");
    }

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
