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
use std::io::{BufRead as _, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use time::OffsetDateTime;

use super::entry::JournalEntry;
use super::hold::Holds;
use crate::error::Error;
use crate::sync::lock;

/// The longest journal line read (64 KiB): a longer one means the file is not a journal.
pub const MAX_JOURNAL_LINE: usize = 64 * 1024;

/// An open journal: what it says (read when opened, and again as a book takes customers,
/// since other runs may be writing it too), the file to append to, and the customers this
/// opening holds against other runs.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// Appends go through `&File` (one `write` a line); reads use positioned reads, so
    /// neither moves the other's place.
    file: File,
    /// Held while a line is written, so that a short write is finished before another starts.
    writing: Mutex<()>,
    state: Mutex<State>,
}

/// What the journal said, as far as it has been read.
#[derive(Debug, Default)]
struct State {
    verified: HashSet<String>,
    intents: HashMap<String, OffsetDateTime>,
    ignored_lines: usize,
    /// Bytes read, up to the end of the last whole line.
    read_to: u64,
    /// Whole lines read.
    lines: usize,
    /// Of them, journal entries.
    entries: usize,
    /// Lines (a cut-short last one too) that no run of this crate could have written: not
    /// blank, and not even the start of a JSON object.
    foreign: usize,
    holds: Holds,
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
        let journal = Journal {
            path: path.clone(),
            file,
            writing: Mutex::new(()),
            state: Mutex::new(State::default()),
        };
        let torn = journal.read_on()?;
        {
            // Before anything is written to it: a file of other lines (a book, a log,
            // `/etc/passwd`) is no journal, and appending to it would damage it.
            let state = lock(&journal.state);
            if state.entries == 0 && state.foreign > 0 {
                return Err(fail(
                    "holds no journal line: not a journal (name a new file, or a journal an earlier run wrote)".into(),
                    None,
                ));
            }
        }
        if torn {
            // A killed run's last line: end it, so the next line starts on its own (and is
            // then read, and counted, as a line that is not an entry).
            journal.write_bytes(b"\n")?;
            journal.read_on()?;
        }
        Ok(journal)
    }

    /// Reads the lines written since the last read (by this run or another sharing the
    /// file), so that what a customer's last line says is current. A book calls it after
    /// taking customers, before deciding anything about them.
    ///
    /// # Errors
    /// [`Error::Journal`] when the file cannot be read or holds a line longer than
    /// [`MAX_JOURNAL_LINE`].
    pub fn refresh(&self) -> Result<(), Error> {
        self.read_on().map(|_torn| ())
    }

    /// Reads every whole line past the last one read; whether bytes with no newline follow
    /// them (a line cut short by a kill, or one being written: left to the next read).
    fn read_on(&self) -> Result<bool, Error> {
        let mut state = lock(&self.state);
        let cannot = |e| Error::journal(&self.path, "cannot read it".into(), Some(e));
        let mut reader = BufReader::new(ReadAt {
            file: &self.file,
            at: state.read_to,
        });
        let mut line = Vec::new();
        let limit = u64::try_from(MAX_JOURNAL_LINE).unwrap_or(u64::MAX) + 1;
        loop {
            line.clear();
            let read = (&mut reader)
                .take(limit)
                .read_until(b'\n', &mut line)
                .map_err(cannot)?;
            if read == 0 {
                return Ok(false);
            }
            if line.last() != Some(&b'\n') {
                state.foreign += usize::from(is_foreign(&line));
                if line.len() > MAX_JOURNAL_LINE {
                    let number = state.lines + 1;
                    return Err(Error::journal(
                        &self.path,
                        format!(
                            "line {number} is longer than {MAX_JOURNAL_LINE} bytes: not a journal"
                        ),
                        None,
                    ));
                }
                return Ok(true);
            }
            state.read_to = state.read_to.saturating_add(read as u64);
            state.lines += 1;
            match JournalEntry::parse(&line) {
                Some(entry) => {
                    state.entries += 1;
                    state.take(entry);
                }
                None => {
                    state.ignored_lines += usize::from(line.len() > 1);
                    state.foreign += usize::from(is_foreign(&line));
                }
            }
        }
    }

    /// Whether the customer's last line read says verified.
    pub fn is_verified(&self, customer_guid: &str) -> bool {
        lock(&self.state)
            .verified
            .contains(&customer_guid.to_ascii_lowercase())
    }

    /// When a create was about to be sent for the customer, if that is its last line read.
    pub fn intent(&self, customer_guid: &str) -> Option<OffsetDateTime> {
        lock(&self.state)
            .intents
            .get(&customer_guid.to_ascii_lowercase())
            .copied()
    }

    /// Customers whose last line read is an intent.
    pub fn in_doubt(&self) -> usize {
        lock(&self.state).intents.len()
    }

    /// Lines read that were not entries (a torn line, foreign lines; blank lines are not
    /// counted).
    pub fn ignored_lines(&self) -> usize {
        lock(&self.state).ignored_lines
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Holds the customer against every other run using this journal file (any process on
    /// this machine, or another opening in this one) until [`Journal::release`]:
    /// `Ok(false)` when another run holds it. A book holds each customer from before its
    /// first listing until its outcome is written, so two runs never act on one customer
    /// at once; one that finds a customer held sets it aside and comes back to it.
    ///
    /// Held on Unix with a record lock on one byte of the file (see the crate's docs on
    /// running books at once); the kernel lets go of a killed run's holds. On other systems
    /// this always holds and excludes nothing.
    ///
    /// # Errors
    /// [`Error::Journal`] when the file takes no record locks (some network filesystems):
    /// keep the journal on a local disk.
    pub fn hold(&self, customer_guid: &str) -> Result<bool, Error> {
        lock(&self.state)
            .holds
            .try_take(&self.file, customer_guid)
            .map_err(|e| {
                Error::journal(
                    &self.path,
                    "cannot lock a customer in it (keep the journal on a local disk)".into(),
                    Some(e),
                )
            })
    }

    /// Lets other runs take the customer again (what [`Journal::hold`] took).
    ///
    /// # Errors
    /// [`Error::Journal`] when the lock could not be released; closing the journal
    /// releases it all the same.
    pub fn release(&self, customer_guid: &str) -> Result<(), Error> {
        lock(&self.state)
            .holds
            .release(&self.file, customer_guid)
            .map_err(|e| {
                Error::journal(&self.path, "cannot unlock a customer in it".into(), Some(e))
            })
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
        let _writing = lock(&self.writing);
        let cannot = |e| Error::journal(&self.path, "cannot write to it".into(), Some(e));
        write_once(&mut &self.file, bytes).map_err(cannot)
    }
}

/// Whether `line` is one no run of this crate wrote: not blank, and not the start of a
/// JSON object (a journal line cut short by a kill still starts with `{`).
fn is_foreign(line: &[u8]) -> bool {
    let text = line.trim_ascii();
    !text.is_empty() && !text.starts_with(b"{")
}

impl State {
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
}

/// Reads `file` from `at` on with positioned reads: the appending side moves the shared
/// file offset, so a read never relies on it.
struct ReadAt<'f> {
    file: &'f File,
    at: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_at(self.file, buf, self.at)?;
        #[cfg(windows)]
        let read = std::os::windows::fs::FileExt::seek_read(self.file, buf, self.at)?;
        #[cfg(not(any(unix, windows)))]
        let read = {
            use std::io::Seek as _;
            let mut file = self.file;
            file.seek(std::io::SeekFrom::Start(self.at))?;
            file.read(buf)?
        };
        self.at = self.at.saturating_add(read as u64);
        Ok(read)
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
mod tests;
