//! One customer's way through a book: its phase, and what each listing or create answer
//! moves it to. Pure: records, answers and clocks in, the next phase out.

use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::assess::{Found, assess, in_progress};
use crate::error::Error;
use crate::models::IdentityRecord;

/// Where a customer stands.
#[derive(Debug)]
pub(crate) enum Phase {
    /// Not listed yet.
    New,
    /// Room for a create: waiting for a worker.
    Queued,
    /// A create in flight.
    Creating,
    /// A record not yet final, polled until it is or the wait's deadline passes.
    Watching {
        guid: String,
        since: Instant,
        last: Box<IdentityRecord>,
    },
    /// A create may still take effect: listed until `until`, adopting the first new record.
    InDoubt {
        /// The records seen before the create (`None`: not known, as after a journal intent).
        seen: Option<Vec<String>>,
        until: Instant,
    },
    /// Finished and reported.
    Done,
}

/// A customer and what the book knows of it.
#[derive(Debug)]
pub(crate) struct Customer {
    pub(crate) guid: String,
    pub(crate) phase: Phase,
    /// Whether this run sent a create that the record may come from.
    pub(crate) created: bool,
    /// Creates that may still be sent.
    pub(crate) creates_left: u32,
    /// Creates refused with 429 after the client's own retries.
    pub(crate) throttled: u32,
    /// The records of the last listing.
    pub(crate) known: Vec<String>,
    /// The error of the last create of unknown outcome.
    pub(crate) unknown: Option<Error>,
}

/// What a step decided, beyond the new phase.
#[derive(Debug)]
pub(crate) enum Step {
    /// Nothing to report.
    Continue,
    /// The customer is finished with this result.
    Finished(Result<IdentityRecord, Error>),
    /// A watched record changed state (for `WaitOptions::on_change`).
    Changed(IdentityRecord),
}

impl Customer {
    pub(crate) fn new(guid: String, creates: u32, doubt_until: Option<Instant>) -> Self {
        let phase = match doubt_until {
            Some(until) => Phase::InDoubt { seen: None, until },
            None => Phase::New,
        };
        Customer {
            guid,
            phase,
            created: false,
            creates_left: creates,
            throttled: 0,
            known: Vec::new(),
            unknown: None,
        }
    }

    /// Whether a poll of the group should include this customer.
    pub(crate) fn is_listed(&self) -> bool {
        matches!(
            self.phase,
            Phase::New | Phase::Watching { .. } | Phase::InDoubt { .. }
        )
    }

    fn watch(&mut self, record: &IdentityRecord, now: Instant) -> Step {
        match &record.guid {
            Some(guid) => {
                self.phase = Phase::Watching {
                    guid: guid.clone(),
                    since: now,
                    last: Box::new(record.clone()),
                };
                Step::Changed(record.clone())
            }
            // A record we cannot name cannot be polled: its outcome is what we have.
            None => self.finish(Ok(record.clone())),
        }
    }

    pub(crate) fn finish(&mut self, result: Result<IdentityRecord, Error>) -> Step {
        self.phase = Phase::Done;
        Step::Finished(result)
    }

    /// Room for a create: queued, or finished if no create may be sent any more.
    fn room(&mut self) -> Step {
        if self.creates_left == 0 {
            let error = self.unknown.take().unwrap_or_else(|| {
                Error::config("no create left for this customer and no record appeared")
            });
            return self.finish(Err(error));
        }
        self.phase = Phase::Queued;
        Step::Continue
    }

    /// A listing sent at `sent` showed these records of the customer (newest first).
    pub(crate) fn listed(
        &mut self,
        records: &[IdentityRecord],
        sent: Instant,
        now: Instant,
        wall: OffsetDateTime,
        wait: Duration,
    ) -> Step {
        let guids: Vec<String> = records.iter().filter_map(|r| r.guid.clone()).collect();
        let step = match &mut self.phase {
            Phase::New => match assess(records, wall) {
                Found::InForce(record) => self.finish(Ok(record.clone())),
                Found::InProgress(record) => self.watch(record, now),
                Found::Room => self.room(),
            },
            Phase::InDoubt { seen, until } => {
                let until = *until;
                let new = seen.as_ref().and_then(|seen| {
                    records
                        .iter()
                        .find(|r| r.guid.as_ref().is_some_and(|g| !seen.contains(g)))
                });
                match (assess(records, wall), new) {
                    (Found::InForce(record), _) => self.finish(Ok(record.clone())),
                    (Found::InProgress(record), _) => self.watch(record, now),
                    // A new record already final: the create took effect, and failed.
                    (Found::Room, Some(record)) => self.finish(Ok(record.clone())),
                    // Only a listing sent after the settle period may say "never happened".
                    (Found::Room, None) if sent >= until => self.room(),
                    (Found::Room, None) => {
                        if seen.is_none() {
                            *seen = Some(guids.clone());
                        }
                        Step::Continue
                    }
                }
            }
            Phase::Watching { guid, since, last } => {
                let record = records.iter().find(|r| r.guid.as_ref() == Some(guid));
                let changed = record.filter(|r| r.state() != last.state()).cloned();
                if let Some(record) = record {
                    **last = record.clone();
                }
                match record {
                    Some(record) if !in_progress(record) => self.finish(Ok(record.clone())),
                    _ if now.saturating_duration_since(*since) >= wait => {
                        let last = last.clone();
                        self.finish(Err(Error::RecordWaitTimedOut { last }))
                    }
                    _ => changed.map_or(Step::Continue, Step::Changed),
                }
            }
            Phase::Queued | Phase::Creating | Phase::Done => Step::Continue,
        };
        self.known = guids;
        step
    }

    /// The create's answer.
    pub(crate) fn create_answered(
        &mut self,
        answer: Result<IdentityRecord, Error>,
        now: Instant,
        settle: Duration,
    ) -> Step {
        match answer {
            // The answer carries the state: no poll straight after it.
            Ok(record) if in_progress(&record) => self.watch(&record, now),
            Ok(record) => self.finish(Ok(record)),
            Err(e) if e.is_outcome_unknown() => {
                self.unknown = Some(e);
                // `Instant + Duration` on a caller's setting: a settle past any clock is
                // taken as the farthest instant we can name.
                let until = now.checked_add(settle).unwrap_or_else(|| far_future(now));
                self.phase = Phase::InDoubt {
                    seen: Some(self.known.clone()),
                    until,
                };
                Step::Continue
            }
            // Refused before it was processed: it never happened, and may go out again.
            Err(e) if e.status() == Some(429) && self.throttled < MAX_THROTTLED => {
                self.throttled += 1;
                self.creates_left += 1;
                self.phase = Phase::Queued;
                Step::Continue
            }
            Err(e) => self.finish(Err(e)),
        }
    }
}

/// Creates of one customer refused with 429 (after the client's own retries) before it ends
/// with the error.
const MAX_THROTTLED: u32 = 8;

/// The farthest instant after `now` that the platform can represent, found by halving.
pub(crate) fn far_future(now: Instant) -> Instant {
    let mut step = Duration::from_secs(u64::MAX / 4);
    let mut at = now;
    while step > Duration::from_secs(1) {
        if let Some(later) = at.checked_add(step) {
            at = later;
        }
        step /= 2;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_far_future_is_centuries_ahead() {
        let now = Instant::now();
        let far = far_future(now);
        let century = Duration::from_secs(100 * 365 * 24 * 3600);
        assert!(far.saturating_duration_since(now) >= century);
        // Within a few seconds of what the platform can hold: one more second may not fit.
        assert!(far.checked_add(Duration::from_secs(1 << 40)).is_none());
    }
}
