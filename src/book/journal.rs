//! The journal: a write-ahead log of a book's creates and outcomes, one JSON object a line,
//! so that any program (this crate's CLI or another) can resume what another run started.
//!
//! ```text
//! {"intent":"create","customer_guid":"…","at":"2026-12-01T02:00:00.123Z"}
//! {"customer_guid":"…","record_guid":"…","state":"verified","failure_code":null,"created":true,"error":null}
//! ```
//!
//! - An `intent` line is written **before** each create. A customer whose last line is an
//!   intent may have a record the server is still making: a rerun keeps it in doubt until
//!   the settle period has passed since `at`, adopting whatever appears.
//! - A customer whose last line says `"state":"verified"` is done: a rerun skips it.
//! - Each line goes out in one `write` on a file opened for appending, so shards sharing a
//!   journal never interleave within a line. A line cut short by a killed run is completed
//!   with a newline before anything is appended, and ignored when read.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, Read as _, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::Error;
use crate::sync::lock;

/// The longest journal line read (64 KiB): a longer one means the file is not a journal.
pub const MAX_JOURNAL_LINE: usize = 64 * 1024;

/// One line of a journal.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JournalEntry {
    /// A create is about to be sent for this customer.
    Intent {
        /// The customer.
        customer_guid: String,
        /// When (this machine's clock).
        at: OffsetDateTime,
    },
    /// The customer's outcome.
    Outcome {
        /// The customer.
        customer_guid: String,
        /// The record adopted or created, if any.
        record_guid: Option<String>,
        /// Its final state (`verified`, `failed`, …), if any.
        state: Option<String>,
        /// Its failure code, if failed.
        failure_code: Option<String>,
        /// Whether this run created it (`None` on an error).
        created: Option<bool>,
        /// What went wrong, if the customer ended with an error.
        error: Option<String>,
    },
}

impl JournalEntry {
    /// The line, without its newline.
    pub fn to_json(&self) -> String {
        match self {
            JournalEntry::Intent { customer_guid, at } => json!({
                "intent": "create",
                "customer_guid": customer_guid,
                "at": at.format(&Rfc3339).unwrap_or_default(),
            })
            .to_string(),
            JournalEntry::Outcome {
                customer_guid,
                record_guid,
                state,
                failure_code,
                created,
                error,
            } => json!({
                "customer_guid": customer_guid,
                "record_guid": record_guid,
                "state": state,
                "failure_code": failure_code,
                "created": created,
                "error": error,
            })
            .to_string(),
        }
    }

    /// Reads one line; `None` for a line that is not an entry (torn, or another program's).
    pub fn parse(line: &[u8]) -> Option<JournalEntry> {
        let value: Value = serde_json::from_slice(line).ok()?;
        let customer_guid = value["customer_guid"].as_str()?.to_ascii_lowercase();
        let text = |name: &str| value[name].as_str().map(str::to_owned);
        if value["intent"] == "create" {
            let at = OffsetDateTime::parse(value["at"].as_str()?, &Rfc3339).ok()?;
            return Some(JournalEntry::Intent { customer_guid, at });
        }
        Some(JournalEntry::Outcome {
            customer_guid,
            record_guid: text("record_guid"),
            state: text("state"),
            failure_code: text("failure_code"),
            created: value["created"].as_bool(),
            error: text("error"),
        })
    }
}

/// An open journal: what it said when opened, and the file to append to.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    verified: HashSet<String>,
    intents: HashMap<String, OffsetDateTime>,
    ignored_lines: usize,
}

impl Journal {
    /// Opens (or creates, mode 0600: it holds server text) the journal at `path` and reads
    /// it: each customer's last line decides whether it is done or in doubt.
    ///
    /// # Errors
    /// [`Error::Journal`] when `path` is not a regular file, cannot be read or written, or
    /// holds a line longer than [`MAX_JOURNAL_LINE`].
    pub fn open(path: impl AsRef<Path>) -> Result<Journal, Error> {
        let path = path.as_ref().to_path_buf();
        let fail = |reason: String, source| Error::journal(&path, reason, source);
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .map_err(|e| fail("cannot open it".into(), Some(e)))?;
        // Asked of the open file, not the path, so it cannot change in between.
        let meta = file
            .metadata()
            .map_err(|e| fail("cannot read it".into(), Some(e)))?;
        if !meta.is_file() {
            return Err(fail(
                "not a regular file (a journal must be one)".into(),
                None,
            ));
        }
        let mut journal = Journal {
            path: path.clone(),
            file: Mutex::new(file),
            verified: HashSet::new(),
            intents: HashMap::new(),
            ignored_lines: 0,
        };
        let torn = journal.read()?;
        if torn {
            // A killed run's last line: end it, so the next line starts on its own.
            journal.write_bytes(b"\n")?;
        }
        Ok(journal)
    }

    /// Reads every line through the bound; whether the last one lacked its newline.
    fn read(&mut self) -> Result<bool, Error> {
        let file = lock(&self.file)
            .try_clone()
            .map_err(|e| Error::journal(&self.path, "cannot read it".into(), Some(e)))?;
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        let mut number = 0usize;
        loop {
            line.clear();
            number += 1;
            let limit = u64::try_from(MAX_JOURNAL_LINE).unwrap_or(u64::MAX) + 1;
            let read = (&mut reader)
                .take(limit)
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::journal(&self.path, "cannot read it".into(), Some(e)))?;
            if read == 0 {
                return Ok(false);
            }
            let ended = line.last() == Some(&b'\n');
            if !ended && line.len() > MAX_JOURNAL_LINE {
                return Err(Error::journal(
                    &self.path,
                    format!("line {number} is longer than {MAX_JOURNAL_LINE} bytes: not a journal"),
                    None,
                ));
            }
            if !ended {
                // The last line, cut short by a kill: not an entry.
                self.ignored_lines += 1;
                return Ok(true);
            }
            match JournalEntry::parse(&line) {
                Some(entry) => self.take(entry),
                None => self.ignored_lines += usize::from(line.len() > 1),
            }
        }
    }

    fn take(&mut self, entry: JournalEntry) {
        match entry {
            JournalEntry::Intent { customer_guid, at } => {
                self.verified.remove(&customer_guid);
                self.intents.insert(customer_guid, at);
            }
            JournalEntry::Outcome {
                customer_guid,
                state,
                ..
            } => {
                self.intents.remove(&customer_guid);
                if state.as_deref() == Some("verified") {
                    self.verified.insert(customer_guid);
                } else {
                    self.verified.remove(&customer_guid);
                }
            }
        }
    }

    /// Whether the customer's last line says verified.
    pub fn is_verified(&self, customer_guid: &str) -> bool {
        self.verified.contains(&customer_guid.to_ascii_lowercase())
    }

    /// When a create was about to be sent for the customer, if that is its last line.
    pub fn intent(&self, customer_guid: &str) -> Option<OffsetDateTime> {
        self.intents
            .get(&customer_guid.to_ascii_lowercase())
            .copied()
    }

    /// Customers whose last line is an intent.
    pub fn in_doubt(&self) -> usize {
        self.intents.len()
    }

    /// Lines that were not entries (a torn last line, blank or foreign lines).
    pub fn ignored_lines(&self) -> usize {
        self.ignored_lines
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one entry as one line, in one `write`.
    ///
    /// # Errors
    /// [`Error::Journal`] when the write fails (a full disk, a removed volume): the entry
    /// is not in the journal, and a book stops rather than go on without it.
    pub fn append(&self, entry: &JournalEntry) -> Result<(), Error> {
        let mut line = entry.to_json().into_bytes();
        line.push(b'\n');
        self.write_bytes(&line)
    }

    fn write_bytes(&self, bytes: &[u8]) -> Result<(), Error> {
        let mut file = lock(&self.file);
        let cannot = |e| Error::journal(&self.path, "cannot write to it".into(), Some(e));
        write_once(&mut *file, bytes).map_err(cannot)
    }
}

/// Writes `bytes` in one `write` call, and finishes them if that call wrote only a part.
fn write_once(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    // One call: with O_APPEND the kernel places the whole line at the end at once.
    let written = out.write(bytes)?;
    if written < bytes.len() {
        // Only a full disk writes part of a line; finish it so the next starts anew.
        out.write_all(&bytes[written..])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("cybrid-journal-{name}-{}", crate::rand::hex_guid()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("journal.jsonl")
    }

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn each_customers_last_line_decides_and_a_torn_line_is_completed() {
        let path = scratch("last");
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let verified = format!(
            r#"{{"customer_guid":"{}","record_guid":"r","state":"verified","failure_code":null,"created":true,"error":null}}"#,
            A.to_uppercase()
        );
        let intent = JournalEntry::Intent {
            customer_guid: B.into(),
            at,
        }
        .to_json();
        std::fs::write(
            &path,
            format!("{verified}\n{intent}\n{{\"customer_guid\":\"{B}\",\"st"),
        )
        .unwrap();
        let journal = Journal::open(&path).unwrap();
        assert!(journal.is_verified(A), "read case-insensitively");
        assert_eq!(journal.intent(B), Some(at), "the torn line is ignored");
        assert_eq!(journal.ignored_lines(), 1);
        journal
            .append(&JournalEntry::Intent {
                customer_guid: A.into(),
                at,
            })
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[2], format!("{{\"customer_guid\":\"{B}\",\"st"));
        assert_eq!(
            lines[3],
            format!(r#"{{"at":"2027-01-15T08:00:00Z","customer_guid":"{A}","intent":"create"}}"#)
        );
        drop(journal);
        let again = Journal::open(&path).unwrap();
        assert!(
            !again.is_verified(A),
            "an intent after verified puts it in doubt"
        );
        assert_eq!(again.intent(A), Some(at));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let fresh = scratch("mode");
            drop(Journal::open(&fresh).unwrap());
            let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn blank_lines_are_skipped_and_foreign_ones_counted() {
        let path = scratch("foreign");
        // Three blank lines and two foreign ones, so counting the blank ones instead shows.
        std::fs::write(&path, "\nnot json\n\n\n{\"x\":1}\n").unwrap();
        let journal = Journal::open(&path).unwrap();
        assert_eq!(
            journal.ignored_lines(),
            2,
            "two foreign lines; blank lines are not lines"
        );
        assert_eq!(journal.in_doubt(), 0);
    }

    /// A disk that takes at most `room` bytes a call, recording each call's size.
    struct Cramped {
        room: usize,
        calls: Vec<usize>,
        got: Vec<u8>,
    }

    impl Write for Cramped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.room);
            self.calls.push(n);
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_line_is_one_write_and_a_short_write_is_finished() {
        let line = b"{\"customer_guid\":\"a\"}\n";
        let mut roomy = Cramped {
            room: 4096,
            calls: vec![],
            got: vec![],
        };
        write_once(&mut roomy, line).unwrap();
        assert_eq!(
            (roomy.calls, roomy.got.as_slice()),
            (vec![line.len()], &line[..])
        );
        let mut cramped = Cramped {
            room: 10,
            calls: vec![],
            got: vec![],
        };
        write_once(&mut cramped, line).unwrap();
        assert_eq!(
            (cramped.calls, cramped.got.as_slice()),
            (vec![10, 10, 2], &line[..])
        );
    }

    #[test]
    fn a_long_line_or_a_device_is_not_a_journal() {
        let path = scratch("long");
        std::fs::write(&path, vec![b'x'; MAX_JOURNAL_LINE + 1]).unwrap();
        let message = Journal::open(&path).unwrap_err().to_string();
        assert!(
            message.contains("line 1 is longer than 65536 bytes"),
            "{message}"
        );
        std::fs::write(&path, vec![b'x'; MAX_JOURNAL_LINE]).unwrap();
        assert_eq!(Journal::open(&path).unwrap().ignored_lines(), 1);
        #[cfg(unix)]
        {
            let message = Journal::open("/dev/zero").unwrap_err().to_string();
            assert!(message.contains("not a regular file"), "{message}");
        }
    }
}
