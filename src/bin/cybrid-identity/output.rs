//! What the command line prints: records and keys for people or as JSON lines, and errors
//! as one line (or one JSON object with `--json`) on stderr.

use std::fmt::Write as _;
use std::io::Write as _;

use cybrid_identity::{IdentityRecord, VerificationKey};
use serde_json::json;

use crate::args::CliError;

/// `println!` that ends the program quietly when stdout is closed (`| head`), instead of
/// panicking on a broken pipe.
/// Prints a line on stdout. A closed stdout (`| head`, `| true`) is not an error of the
/// command: the line is dropped and the command goes on, so its exit status still tells its
/// outcome.
macro_rules! out {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
pub(crate) use out;

/// A value as one JSON line. The models serialize to plain maps; should one ever fail, the
/// program says so instead of printing an empty line.
pub fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string(value) {
        Ok(line) => out!("{line}"),
        Err(e) => out!(
            "{}",
            json!({"error": format!("could not serialize the answer: {e}")})
        ),
    }
}

/// One line about a record.
/// Server text as it may be printed: control characters escaped (`\u{1b}`), so a value
/// holding an escape sequence is shown, not obeyed by the terminal.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

pub fn describe_record(r: &IdentityRecord) -> String {
    let mut line = format!(
        "identity record {}  customer {}  state {}",
        r.guid.as_deref().unwrap_or("?"),
        r.customer_guid.as_deref().unwrap_or("?"),
        r.state().map_or("?", |s| s.as_str())
    );
    if let Some(code) = r.failure_code() {
        let _ = write!(line, "  failure_code {code}");
    }
    clean(&line)
}

pub fn print_record(r: &IdentityRecord, json: bool) {
    if json {
        print_json(r);
    } else {
        out!("{}", describe_record(r));
    }
}

pub fn print_key(k: &VerificationKey, json: bool) {
    if json {
        print_json(k);
        return;
    }
    let mut line = format!(
        "verification key {}  bank {}  state {}",
        k.guid.as_deref().unwrap_or("?"),
        k.bank_guid.as_deref().unwrap_or("?"),
        k.state.as_ref().map_or("?", |s| s.as_str())
    );
    if let Some(code) = &k.failure_code {
        let _ = write!(line, "  failure_code {code}");
    }
    out!("{}", clean(&line));
}

/// Writes `e` on stderr: `error: …` on one line, or one JSON object with `--json`.
pub fn report(e: &CliError, json: bool) {
    let line = clean(&e.message.replace('\n', " "));
    if json {
        let mut object = json!({"error": line});
        for (key, value) in [
            ("status", e.status.map(|s| json!(s))),
            ("message_code", e.message_code.as_ref().map(|c| json!(c))),
            ("request_id", e.request_id.as_ref().map(|r| json!(r))),
        ] {
            if let Some(value) = value {
                object[key] = value;
            }
        }
        eprintln!("{object}");
    } else {
        eprintln!("error: {line}");
    }
}
