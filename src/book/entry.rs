//! [`JournalEntry`]: one line of a book's journal, written and read.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

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
    /// The customer's outcome, or (with a `state` that is not final: `storing`, `pending`)
    /// a create's answer: the record exists and is not final yet.
    Outcome {
        /// The customer.
        customer_guid: String,
        /// The record adopted or created, if any.
        record_guid: Option<String>,
        /// Its state (`verified`, `failed`, …; `storing` where a create was answered and the
        /// record is not final yet), if any.
        state: Option<String>,
        /// Its failure code, if failed.
        failure_code: Option<String>,
        /// Whether this run created it (`None` on an error).
        created: Option<bool>,
        /// What went wrong, if the customer ended with an error.
        error: Option<String>,
        /// The error's kind ([`crate::Error::kind`]: `record_wait_timed_out`, `api`, …), to
        /// group by; `None` in journals of releases before 0.2.
        error_kind: Option<String>,
        /// When it was written (this machine's clock); `None` in journals of releases
        /// before 0.2, whose outcome lines carry no time.
        at: Option<OffsetDateTime>,
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
                error_kind,
                at,
            } => json!({
                "customer_guid": customer_guid,
                "record_guid": record_guid,
                "state": state,
                "failure_code": failure_code,
                "created": created,
                "error": error,
                "error_kind": error_kind,
                "at": at.and_then(|at| at.format(&Rfc3339).ok()),
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
            error_kind: text("error_kind"),
            at: value["at"]
                .as_str()
                .and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok()),
        })
    }

    /// The customer the line is about (lowercase).
    pub fn customer_guid(&self) -> &str {
        match self {
            JournalEntry::Intent { customer_guid, .. }
            | JournalEntry::Outcome { customer_guid, .. } => customer_guid,
        }
    }

    /// When the line was written, if it says.
    pub fn at(&self) -> Option<OffsetDateTime> {
        match self {
            JournalEntry::Intent { at, .. } => Some(*at),
            JournalEntry::Outcome { at, .. } => *at,
        }
    }
}
