//! Reading a customer book: one guid a line, of any size, read in full or refused by line
//! before any request, and kept compactly (32 bytes a customer: ten million in 320 MB).

use std::fs::File;
use std::io::{BufRead as _, BufReader, Read};

use cybrid_identity::is_guid;

use crate::args::CliError;

/// The longest line read: far past any guid with spaces and a comment, and a bound on what
/// a file without newlines (`/dev/zero`) can make us hold.
const MAX_LINE: usize = 4096;
/// Bad lines named in the message; the rest are counted.
const NAMED: usize = 20;

/// A book's customers, lowercased (Cybrid's guids are lowercase hex: one customer, one
/// spelling), sorted and each once.
pub struct BookFile {
    pub guids: Vec<[u8; 32]>,
    pub duplicates: usize,
}

impl BookFile {
    /// The customers as strings, in order.
    pub fn customers(&self) -> impl Iterator<Item = &str> {
        // Only ASCII was stored, so every entry is UTF-8.
        self.guids
            .iter()
            .map(|g| std::str::from_utf8(g).unwrap_or_default())
    }
}

/// Reads `source` (a path, or `-` for standard input): blank lines, `#` comments and a
/// leading byte-order mark skipped; every other line must be a guid.
pub fn read_book(source: &str) -> Result<BookFile, CliError> {
    let cannot = |e: std::io::Error| CliError::runtime(format!("cannot read {source}: {e}"));
    let (reader, size): (Box<dyn Read>, u64) = if source == "-" {
        (Box::new(std::io::stdin()), 0)
    } else {
        let file = File::open(source).map_err(cannot)?;
        let size = file.metadata().map_err(cannot)?.len();
        (Box::new(file), size)
    };
    // A line holds at least a guid and its newline: room for every customer at once, so
    // the list never doubles (and never holds two copies) while it grows.
    let capacity = usize::try_from(size / 33 + 1).unwrap_or(usize::MAX);
    let mut guids: Vec<[u8; 32]> = Vec::new();
    guids
        .try_reserve_exact(capacity)
        .map_err(|_| CliError::runtime(format!("{source}: too large for this machine's memory")))?;
    let mut bad = Vec::new();
    let mut bad_count = 0usize;
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut line = Vec::with_capacity(128);
    let mut number = 0usize;
    loop {
        line.clear();
        number += 1;
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(cannot)?;
        if read == 0 {
            break;
        }
        if line.len() > MAX_LINE && line.last() != Some(&b'\n') {
            return Err(CliError::usage(format!(
                "{source}: line {number} is longer than {MAX_LINE} bytes: not a book of guids"
            )));
        }
        let bytes = if number == 1 {
            line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&line)
        } else {
            &line
        };
        let problem = match std::str::from_utf8(bytes).map(str::trim) {
            Err(_) => Some("is not UTF-8"),
            Ok(text) if text.is_empty() || text.starts_with('#') => None,
            Ok(text) if is_guid(text) => {
                let mut guid = [0u8; 32];
                guid.copy_from_slice(text.as_bytes());
                guid.make_ascii_lowercase();
                guids.push(guid);
                None
            }
            Ok(_) => Some("is not a guid (32 ASCII letters or digits)"),
        };
        if let Some(problem) = problem {
            bad_count += 1;
            if bad.len() < NAMED {
                bad.push(format!("line {number} {problem}"));
            }
        }
    }
    if bad_count > 0 {
        let more = bad_count - bad.len();
        let more = if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        };
        return Err(CliError::usage(format!(
            "{source}: {}{more}",
            bad.join("; ")
        )));
    }
    guids.sort_unstable();
    let before = guids.len();
    guids.dedup();
    Ok(BookFile {
        duplicates: before - guids.len(),
        guids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book_of(text: &[u8]) -> Result<BookFile, CliError> {
        // A folder of this call's own, removed with what is in it (tests run in parallel).
        let dir = std::env::temp_dir().join(format!(
            "cybrid-book-{}-{}",
            std::process::id(),
            cybrid_identity::emulator::new_guid()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.txt", text.len()));
        std::fs::write(&path, text).unwrap();
        let got = read_book(path.to_str().unwrap());
        let _ = std::fs::remove_dir_all(&dir);
        got
    }

    const G: &str = "d97f0000000000000000000000000000";

    #[test]
    fn cases_fold_a_bom_is_skipped_and_each_customer_counts_once() {
        let text = format!(
            "\u{feff}{}\r\n# comment\n\n  {G}  \nAB{}\n",
            G.to_uppercase(),
            &G[2..]
        );
        let book = book_of(text.as_bytes()).unwrap();
        let customers: Vec<&str> = book.customers().collect();
        assert_eq!(customers, ["ab7f0000000000000000000000000000", G]);
        assert_eq!(book.duplicates, 1);
    }

    #[test]
    fn bad_lines_are_named_by_number() {
        let text = [format!("{G}\nnothex\n{G}").as_bytes(), b"\xff\n"].concat();
        let message = book_of(&text).err().unwrap().message;
        assert!(
            message
                .contains("line 2 is not a guid (32 ASCII letters or digits); line 3 is not UTF-8"),
            "{message}"
        );
        let many: String = (0..25).map(|_| "x\n").collect();
        let message = book_of(many.as_bytes()).err().unwrap().message;
        assert!(
            message.contains("line 20 is not a guid (32 ASCII letters or digits); and 5 more"),
            "{message}"
        );
        let message = book_of(&[b'a'; MAX_LINE + 1]).err().unwrap().message;
        assert!(
            message.contains("line 1 is longer than 4096 bytes: not a book of guids"),
            "{message}"
        );
        assert_eq!(book_of(&[b' '; MAX_LINE]).unwrap().guids.len(), 0);
    }
}
