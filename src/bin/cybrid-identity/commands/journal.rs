//! `journal summary` and `journal unfinished`: a book's journal as a report, and as the book
//! of the next run. Read-only (nothing is created or appended), line by line through the
//! same 64 KiB bound as `attest`, one small entry a customer, so a journal of any size reads
//! in bounded memory per customer, also while a run is appending to it.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::ExitCode;

use cybrid_identity::book::{JournalEntry, MAX_JOURNAL_LINE};
use cybrid_identity::time::OffsetDateTime;
use cybrid_identity::time::format_description::well_known::Rfc3339;
use serde_json::json;

use super::book_file::read_book;
use super::key_source::open_key_file;
use crate::args::{Args, CliError, Command, Flag};
use crate::output::out;

pub const SUMMARY: Command = Command {
    name: "journal summary",
    summary: "a journal as a report: customers by last state, in doubt since when, lines torn",
    operand: Some("FILE"),
    flags: &[],
    about: "Each customer counted once, by its last line: verified, failed (by failure code),\n\
            errors (by kind: `record_wait_timed_out`, `api`, …), in doubt (a create's intent\n\
            with no answer after it, and since when), created and not final (a create's\n\
            answer, the record still storing or pending). Also the first and last line's\n\
            time and the lines that are not entries (torn by a kill, or foreign).\n\
            Safe while a run writes the journal. Exit 2 for a file that is not a journal.",
    run: summary,
};

pub const UNFINISHED: Command = Command {
    name: "journal unfinished",
    summary: "the book's guids not verified in the journal, one a line: the next run's book",
    operand: Some("FILE"),
    flags: &[Flag::value(
        "customers",
        "BOOK",
        "the book the journal's runs attested (one guid a line)",
    )
    .required()],
    about: "In the book's order (sorted, each once). Exit 2 for a file that is not a journal\n\
            or a book with a bad line.",
    run: unfinished,
};

/// A customer's last line, kept small: indexes into the report's names.
#[derive(Debug, Clone, Copy)]
enum Last {
    Verified,
    /// A final state other than verified, by its failure code (or state).
    Failed(usize),
    /// An error, by its kind.
    Error(usize),
    /// An intent with no outcome after it, since then.
    InDoubt(OffsetDateTime),
    /// A create answered with a record not final yet.
    InProgress,
}

/// The final states of an identity record: any other state in an outcome line is a create's
/// answer, written before the record was final.
const FINAL: [&str; 3] = ["verified", "failed", "expired"];

/// What a journal says, read to its end as it stands.
#[derive(Debug, Default)]
struct Read {
    customers: HashMap<String, Last>,
    /// Failure codes and error kinds, each once; `Last` points into it.
    names: Vec<String>,
    lines: usize,
    /// Lines that are entries.
    entries: usize,
    foreign: usize,
    /// Lines no run of this crate wrote (not even the start of a JSON object).
    alien: usize,
    torn: usize,
    first_at: Option<OffsetDateTime>,
    last_at: Option<OffsetDateTime>,
}

impl Read {
    fn name(&mut self, name: &str) -> usize {
        match self.names.iter().position(|n| n == name) {
            Some(at) => at,
            None => {
                self.names.push(name.to_owned());
                self.names.len() - 1
            }
        }
    }

    fn take(&mut self, entry: JournalEntry) {
        if let Some(at) = entry.at() {
            self.first_at = Some(self.first_at.map_or(at, |first| first.min(at)));
            self.last_at = Some(self.last_at.map_or(at, |last| last.max(at)));
        }
        let last = match &entry {
            JournalEntry::Intent { at, .. } => Last::InDoubt(*at),
            JournalEntry::Outcome { state, .. } if state.as_deref() == Some("verified") => {
                Last::Verified
            }
            // An error first: a wait that timed out names its record's (not final) state.
            JournalEntry::Outcome {
                error: Some(text),
                error_kind,
                ..
            } => {
                let kind = error_kind.as_deref().unwrap_or_else(|| kind_of(text));
                Last::Error(self.name(kind))
            }
            JournalEntry::Outcome {
                state: Some(state),
                failure_code,
                ..
            } if FINAL.contains(&state.as_str()) => {
                Last::Failed(self.name(failure_code.as_deref().unwrap_or(state)))
            }
            // A create's answer, the record not final yet: it exists, nothing is in doubt.
            JournalEntry::Outcome { state: Some(_), .. } => Last::InProgress,
            JournalEntry::Outcome { .. } => Last::Error(self.name("no error text")),
            _ => return,
        };
        self.customers
            .insert(entry.customer_guid().to_owned(), last);
    }
}

/// An error's kind in a journal of a release before 0.2, which wrote no `error_kind`: its
/// words up to the first colon (`signing failed`, `API error 422 …`).
fn kind_of(text: &str) -> &str {
    let head = text.split(':').next().unwrap_or(text).trim();
    match head.char_indices().nth(80) {
        Some((at, _)) => &head[..at],
        None => head,
    }
}

/// Reads the journal at `path` as `attest` would refuse it: not a regular file, or a line
/// over 64 KiB, is not a journal (exit 2).
fn read_lines(path: &str) -> Result<Read, CliError> {
    let cannot = |e: std::io::Error| CliError::runtime(format!("cannot read {path}: {e}"));
    let file = open_key_file(path).map_err(cannot)?;
    if !file.metadata().map_err(cannot)?.is_file() {
        return Err(CliError::usage(format!(
            "journal {path}: not a regular file (a journal must be one)"
        )));
    }
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut report = Read::default();
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        let limit = u64::try_from(MAX_JOURNAL_LINE).unwrap_or(u64::MAX) + 1;
        let read = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut line)
            .map_err(cannot)?;
        if read == 0 {
            return Ok(report);
        }
        if line.last() != Some(&b'\n') {
            if line.len() > MAX_JOURNAL_LINE {
                return Err(CliError::usage(format!(
                    "journal {path}: line {} is longer than {MAX_JOURNAL_LINE} bytes: not a journal",
                    report.lines + 1
                )));
            }
            // The last line, cut short by a kill (or still being written).
            report.torn += 1;
            return Ok(report);
        }
        report.lines += 1;
        match JournalEntry::parse(&line) {
            Some(entry) => {
                report.entries += 1;
                report.take(entry);
            }
            None => {
                report.foreign += usize::from(line.len() > 1);
                let text = line.trim_ascii();
                report.alien += usize::from(!text.is_empty() && !text.starts_with(b"{"));
            }
        }
    }
}

/// Reads the journal at `path`, refusing a file none of whose lines is an entry (a book, a
/// log, `/etc/passwd`): exit 2, as `attest --journal` refuses it.
fn read(path: &str) -> Result<Read, CliError> {
    let report = read_lines(path)?;
    if report.entries == 0 && report.alien > 0 {
        return Err(CliError::input(format!(
            "journal {path}: holds no journal line: not a journal"
        )));
    }
    Ok(report)
}

fn time(at: Option<OffsetDateTime>) -> Option<String> {
    at.and_then(|at| at.format(&Rfc3339).ok())
}

fn summary(args: &Args) -> Result<ExitCode, CliError> {
    let path = args.operand();
    let report = read(path)?;
    let (mut verified, mut failed, mut errors, mut doubt, mut in_progress) =
        (0usize, BTreeMap::new(), BTreeMap::new(), 0usize, 0usize);
    let mut doubt_since: Option<OffsetDateTime> = None;
    for last in report.customers.values() {
        match *last {
            Last::Verified => verified += 1,
            Last::Failed(code) => *failed.entry(report.names[code].as_str()).or_insert(0usize) += 1,
            Last::Error(kind) => *errors.entry(report.names[kind].as_str()).or_insert(0usize) += 1,
            Last::InDoubt(at) => {
                doubt += 1;
                doubt_since = Some(doubt_since.map_or(at, |since| since.min(at)));
            }
            Last::InProgress => in_progress += 1,
        }
    }
    let failed_total: usize = failed.values().sum();
    let errors_total: usize = errors.values().sum();
    if args.json {
        out!(
            "{}",
            json!({
                "customers": report.customers.len(), "verified": verified,
                "failed": failed_total, "failed_by_code": failed,
                "errors": errors_total, "errors_by_kind": errors,
                "in_doubt": doubt, "in_doubt_since": time(doubt_since),
                "in_progress": in_progress,
                "lines": report.lines, "foreign_lines": report.foreign, "torn_lines": report.torn,
                "first_at": time(report.first_at), "last_at": time(report.last_at),
            })
        );
        return Ok(ExitCode::SUCCESS);
    }
    let list = |counts: &BTreeMap<&str, usize>| {
        let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    };
    out!(
        "{} customers: {verified} verified, {failed_total} failed{}, {errors_total} errors{}, {doubt} in doubt{}{}",
        report.customers.len(),
        list(&failed),
        list(&errors),
        time(doubt_since)
            .map(|t| format!(" since {t}"))
            .unwrap_or_default(),
        if in_progress > 0 {
            format!(", {in_progress} created and not final yet")
        } else {
            String::new()
        }
    );
    out!(
        "{} lines from {} to {}; {} torn, {} foreign",
        report.lines + report.torn,
        time(report.first_at).unwrap_or_else(|| "?".into()),
        time(report.last_at).unwrap_or_else(|| "?".into()),
        report.torn,
        report.foreign
    );
    Ok(ExitCode::SUCCESS)
}

fn unfinished(args: &Args) -> Result<ExitCode, CliError> {
    let report = read(args.operand())?;
    let book = read_book(args.required("customers")?)?;
    for customer in book.customers() {
        if !matches!(report.customers.get(customer), Some(Last::Verified)) {
            out!("{customer}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
