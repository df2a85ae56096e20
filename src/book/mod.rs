//! Attesting many customers: [`Book`], a reconciler that brings every customer of a book to
//! exactly one attestation in force, whatever the server and the network do.
//!
//! The rules, applied to each listing of a customer's records:
//!
//! - a `verified` record with no `expired_at`, or one in the future, is **in force**: it is
//!   adopted and nothing is created;
//! - a record `storing`, `pending`, or in a state this crate does not know
//!   ([`AttestationState::Unknown`](crate::AttestationState::Unknown)) is **in progress**: it
//!   is waited for (to the wait's deadline) and never duplicated;
//! - only `failed` and `expired` records, or `expired_at` at or before now, leave room for a
//!   new create.
//!
//! A create whose answer was lost ([`Error::OutcomeUnknown`](crate::Error::OutcomeUnknown))
//! puts its customer **in doubt**: a slow server may still apply it. The customer's records
//! are listed again until the settle period ([`AttestOptions::settle`], 60 s by default) has
//! passed; the first new record is adopted, and only a listing sent after the period ended
//! that still shows nothing new lets a create go out again. With a [`Journal`], an `intent`
//! line is written before every create, so a run killed mid-way leaves its creates in doubt
//! for the next run, which waits out the same period from the intent's time.
//!
//! Runs sharing a journal file exclude each other per customer: each customer is held (a
//! record lock on one byte of the journal, see [`Journal::hold`]) from before its first
//! listing until its outcome is written; one held by another run is set aside and taken up
//! when free, after reading what that run wrote, so its record is adopted.
//!
//! Reads are shared: customers are listed up to 100 a call (`customer_guid=a,b,…`), and
//! those in progress or in doubt are polled the same way, one call per group and poll. A
//! customer waiting for its record holds no worker; `concurrency` bounds the requests in
//! flight, and is halved when the server answers 429 and grown by one for each window of
//! requests without one.

mod assess;
mod coordinator;
mod customer;
mod engine;
mod ensure;
mod entry;
mod group;
mod hold;
mod journal;
mod options;
mod pace;
mod report;
mod setup;
mod workers;

pub use entry::JournalEntry;
pub use journal::{Journal, MAX_JOURNAL_LINE};
pub use options::{AttestOptions, DEFAULT_SETTLE, GROUP_SIZE};
pub use report::{Attested, Outcome, Progress, Summary};
pub use setup::{Book, STOP_GRACE};
