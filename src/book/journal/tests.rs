//! The journal's own tests: lines read and written, what is refused, short writes.

use super::*;

fn scratch(name: &str) -> crate::scratch::ScratchFile {
    crate::scratch::ScratchFile::new(&format!("journal-{name}"), "journal.jsonl")
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
    let entry = r#"{"customer_guid":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","state":"verified"}"#;
    std::fs::write(&path, format!("\nnot json\n\n\n{{\"x\":1}}\n{entry}\n")).unwrap();
    let journal = Journal::open(&path).unwrap();
    assert_eq!(
        journal.ignored_lines(),
        2,
        "two foreign lines; blank lines are not lines"
    );
    assert_eq!(journal.in_doubt(), 0);
    assert!(journal.is_verified("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

#[test]
fn a_file_with_no_journal_line_is_refused_and_left_as_it_was() {
    let path = scratch("alien");
    for text in [
        "root:x:0:0:root:/root:/bin/bash\nbin:x:1:1::/:/bin/false\n",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    ] {
        std::fs::write(&path, text).unwrap();
        let message = Journal::open(&path).unwrap_err().to_string();
        assert!(message.contains("holds no journal line"), "{message}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
    // Empty, blank, or a run's first line cut short by a kill: a journal.
    for text in ["", "\n\n", "{\"intent\":\"cre"] {
        std::fs::write(&path, text).unwrap();
        assert!(Journal::open(&path).is_ok(), "{text:?}");
    }
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
    // Under the bound, but no journal line either.
    std::fs::write(&path, vec![b'x'; MAX_JOURNAL_LINE]).unwrap();
    let message = Journal::open(&path).unwrap_err().to_string();
    assert!(message.contains("holds no journal line"), "{message}");
    let mut torn = vec![b'{'; 1];
    torn.extend(vec![b'x'; MAX_JOURNAL_LINE - 1]);
    std::fs::write(&path, &torn).unwrap();
    assert_eq!(Journal::open(&path).unwrap().ignored_lines(), 1);
    #[cfg(unix)]
    {
        let message = Journal::open("/dev/zero").unwrap_err().to_string();
        assert!(message.contains("not a regular file"), "{message}");
    }
}
