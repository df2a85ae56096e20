//! What a book reports: each customer's [`Outcome`], the [`Progress`] as they finish, the
//! [`Summary`] at the end, and how an outcome is written in the journal.

use time::OffsetDateTime;

use super::entry::JournalEntry;
use crate::error::Error;
use crate::models::IdentityRecord;

/// The outcome of [`Client::ensure_attested`](crate::Client::ensure_attested) and of each customer of a [`Book`](super::Book).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attested {
    /// The customer's record, in a final state (or verified and in force).
    pub record: IdentityRecord,
    /// Whether this call created it (`false`: an existing record was adopted).
    pub created: bool,
}

/// One customer's outcome, reported as it finishes.
#[derive(Debug)]
#[non_exhaustive]
pub struct Outcome {
    /// The customer (lowercase).
    pub customer_guid: String,
    /// Its record in a final state (or in force), or why there is none.
    pub result: Result<Attested, Error>,
}

/// Where the book stands, as each outcome is reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Customers finished.
    pub done: usize,
    /// Requests in flight.
    pub in_flight: usize,
    /// The in-flight limit, as adapted to the server's 429s.
    pub limit: usize,
    /// Customers whose create may still take effect.
    pub in_doubt: usize,
    /// Customers whose record is not final yet.
    pub waiting: usize,
    /// Customers taken from the book and not yet reported: what the book holds in memory.
    pub held: usize,
    /// Customers set aside because another run sharing the journal holds them.
    pub elsewhere: usize,
}

/// The book's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Customers reported.
    pub customers: usize,
    /// Of them, verified (in force).
    pub verified: usize,
    /// Of them, with a record in another final state (`failed`, `expired`).
    pub failed: usize,
    /// Of them, ended by an error.
    pub errors: usize,
    /// Records this run created (or adopted after sending a create), also those whose
    /// customer then ended with an error (a wait that timed out).
    pub created: usize,
    /// The customers ended by an error, counted by [`Error::kind`].
    pub errors_by_kind: std::collections::BTreeMap<&'static str, usize>,
}

/// An error and each of its sources, joined by `": "`.
pub(crate) fn chain_text(error: &Error, _customer: &str) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The journal line of an outcome; `created`: whether this run sent a create that the
/// record may come from (also when the customer ended with an error after it was answered).
pub(crate) fn entry_of(
    outcome: &Outcome,
    created: bool,
    error_text: fn(&Error, &str) -> String,
) -> JournalEntry {
    match &outcome.result {
        Ok(attested) => answered(&outcome.customer_guid, &attested.record, attested.created),
        Err(e) => {
            // A record that exists but did not become final in time is named, so that the
            // next run (and a reader) knows a create took effect.
            let last = match e {
                Error::RecordWaitTimedOut { last } => Some(last.as_ref()),
                _ => None,
            };
            JournalEntry::Outcome {
                customer_guid: outcome.customer_guid.clone(),
                record_guid: last.and_then(|r| r.guid.clone()),
                state: last.and_then(|r| r.state()).map(|s| s.as_str().to_owned()),
                failure_code: None,
                created: last.map(|_| created),
                error: Some(error_text(e, &outcome.customer_guid)),
                error_kind: Some(e.kind().to_owned()),
                at: Some(OffsetDateTime::now_utc()),
            }
        }
    }
}

/// The line of a record as it stands: adopted or created, final or (a create's answer) not.
pub(crate) fn answered(
    customer_guid: &str,
    record: &IdentityRecord,
    created: bool,
) -> JournalEntry {
    JournalEntry::Outcome {
        customer_guid: customer_guid.to_owned(),
        record_guid: record.guid.clone(),
        state: record.state().map(|s| s.as_str().to_owned()),
        failure_code: record.failure_code().map(|c| c.as_str().to_owned()),
        created: Some(created),
        error: None,
        error_kind: None,
        at: Some(OffsetDateTime::now_utc()),
    }
}
