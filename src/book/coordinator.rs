//! The coordinator: the one thread that holds every customer's phase, takes the workers'
//! answers, and decides what is sent next, so no lock guards a decision.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::customer::{Phase, Step, far_future};
use super::entry::JournalEntry;
use super::group::Group;
use super::pace::Pace;
use super::report::{Attested, Outcome, Progress, Summary, entry_of};
use super::setup::{Book, STOP_GRACE};
use super::workers::{Job, Reply};
use crate::error::Error;
use crate::models::{AttestationState, IdentityRecord};

/// Failed listings of one group (after the client's own retries) before the book stops.
const MAX_LIST_FAILURES: u32 = 3;

/// The coordinator's state.
pub(crate) struct Run<'b, 'a, R> {
    book: &'b Book<'a>,
    report: R,
    groups: BTreeMap<u64, Group>,
    next_group: u64,
    lists: VecDeque<Job>,
    creates: VecDeque<(u64, usize)>,
    in_flight: usize,
    pace: Pace,
    exhausted: bool,
    fatal: Option<Error>,
    progress: Progress,
    /// When `progress`'s phase counts were last taken.
    counted_at: Option<Instant>,
    /// Customers whose first listing has not come back.
    unlisted: usize,
    /// The customers held (taken and not yet reported), to take each once at a time.
    held: std::collections::HashSet<String>,
    /// Creates in a row whose token could not be signed.
    signing_failures: u32,
    /// When the book was asked to stop.
    stopping: Option<Instant>,
    /// Whether the signer's verification key was checked (before the first create).
    signer_checked: bool,
    /// Customers another run sharing the journal holds, and when to try each again.
    elsewhere: VecDeque<(String, Instant)>,
    pub(crate) summary: Summary,
}

impl<'b, 'a, R: FnMut(Outcome, &Progress)> Run<'b, 'a, R> {
    pub(crate) fn new(book: &'b Book<'a>, report: R) -> Self {
        Run {
            book,
            report,
            groups: BTreeMap::new(),
            next_group: 0,
            lists: VecDeque::new(),
            creates: VecDeque::new(),
            in_flight: 0,
            pace: Pace::new(book.options.concurrency),
            exhausted: false,
            fatal: None,
            progress: Progress::default(),
            counted_at: None,
            unlisted: 0,
            held: std::collections::HashSet::new(),
            signing_failures: 0,
            stopping: None,
            signer_checked: false,
            elsewhere: VecDeque::new(),
            summary: Summary::default(),
        }
    }

    pub(crate) fn drive(
        &mut self,
        customers: &mut dyn Iterator<Item = String>,
        jobs: &Sender<Job>,
        replies: &Receiver<Reply>,
    ) -> Result<(), Error> {
        // Asked to stop: looked at at least this often.
        let heed = if self.book.stop.is_some() {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(1)
        };
        loop {
            self.heed_stop();
            self.publish_progress();
            if self.fatal.is_none() {
                self.refill(customers);
                self.fire_timers(Instant::now());
                self.dispatch(jobs);
            }
            if self.in_flight == 0 && (self.fatal.is_some() || self.finished()) {
                break;
            }
            if self.stopping.is_some_and(|at| at.elapsed() >= STOP_GRACE) {
                // What is still in flight is abandoned: each create's intent is written.
                self.fatal = Some(Error::Stopped(format!(
                    "asked to stop; {} requests still in flight after {} s were abandoned (the journal's intents let the next run resume them)",
                    self.in_flight,
                    STOP_GRACE.as_secs()
                )));
                break;
            }
            let wait = self
                .next_timer()
                .map_or(heed, |at| at.saturating_duration_since(Instant::now()));
            match replies.recv_timeout(wait.min(heed)) {
                Ok(reply) => self.take(reply),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.publish_progress();
        // A book stopped short lets other runs have what it still holds.
        if let Some(journal) = self.book.journal {
            for customer in self.held.drain() {
                let _ = journal.release(&customer);
            }
        }
        self.fatal.take().map_or(Ok(()), Err)
    }

    /// Requests sent and not answered: the workers they occupy are not waited for.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight
    }

    fn finished(&self) -> bool {
        self.exhausted && self.groups.is_empty() && self.elsewhere.is_empty()
    }

    /// Creates waiting, or customers whose first listing has not come back.
    fn backlog(&self) -> usize {
        self.creates.len() + self.unlisted
    }

    /// Polls the groups whose time has come.
    fn fire_timers(&mut self, now: Instant) {
        for (&id, group) in &mut self.groups {
            if !group.listing && group.next_poll.is_some_and(|at| at <= now) {
                group.next_poll = None;
                group.listing = true;
                self.lists.push_back(list_job(id, group));
            }
        }
    }

    fn next_timer(&self) -> Option<Instant> {
        let polls = self.groups.values().filter_map(|g| g.next_poll);
        polls.chain(self.elsewhere.front().map(|(_, at)| *at)).min()
    }

    /// Sends work while the in-flight limit allows: listings first (they find the work),
    /// then creates, each after its intent is in the journal.
    fn dispatch(&mut self, jobs: &Sender<Job>) {
        while self.in_flight < self.pace.limit() {
            let job = if let Some(job) = self.lists.pop_front() {
                job
            } else if let Some((group, index)) = self.creates.pop_front() {
                // Once a run, before its first create: a signer whose key Cybrid cannot
                // verify it with would fail every record it makes.
                if !self.signer_checked {
                    if let Err(e) = self.book.client.check_signer(self.book.signer) {
                        self.fatal = Some(e);
                        return;
                    }
                    self.signer_checked = true;
                }
                let Some(customer) = self
                    .groups
                    .get_mut(&group)
                    .and_then(|g| g.customers.get_mut(index))
                else {
                    continue;
                };
                if let Some(journal) = self.book.journal {
                    let intent = JournalEntry::Intent {
                        customer_guid: customer.guid.clone(),
                        at: OffsetDateTime::now_utc(),
                    };
                    if let Err(e) = journal.append(&intent) {
                        self.fatal = Some(e);
                        return;
                    }
                }
                customer.phase = Phase::Creating;
                customer.created = true;
                customer.creates_left = customer.creates_left.saturating_sub(1);
                Job::Create {
                    group,
                    index,
                    customer: customer.guid.clone(),
                }
            } else {
                return;
            };
            if jobs.send(job).is_err() {
                return;
            }
            self.in_flight += 1;
        }
    }

    fn take(&mut self, reply: Reply) {
        self.in_flight -= 1;
        self.pace
            .finished(self.book.client.throttled_answers(), Instant::now());
        match reply {
            Reply::Listed {
                group,
                customers,
                sent,
                result,
            } => self.listed(group, &customers, sent, result),
            Reply::Created {
                group,
                index,
                result,
            } => {
                self.count_signing(&result);
                self.write_answer(group, index, &result);
                let now = Instant::now();
                let settle = self.book.options.settle;
                let step = self
                    .groups
                    .get_mut(&group)
                    .and_then(|g| g.customers.get_mut(index))
                    .map(|c| c.create_answered(result, now, settle));
                if let Some(step) = step {
                    self.after(group, index, step);
                }
                self.schedule(group, now);
            }
        }
    }

    fn listed(
        &mut self,
        id: u64,
        asked: &[String],
        sent: Instant,
        result: Result<Vec<IdentityRecord>, Error>,
    ) {
        let now = Instant::now();
        let Some(group) = self.groups.get_mut(&id) else {
            return;
        };
        group.listing = false;
        let records = match result {
            Ok(records) => {
                group.list_failures = 0;
                records
            }
            Err(e) => {
                group.list_failures += 1;
                if group.list_failures >= MAX_LIST_FAILURES {
                    self.fatal = Some(e);
                } else {
                    let pause = Duration::from_secs(1 << group.list_failures);
                    group.next_poll = Some(now.checked_add(pause).unwrap_or(now));
                }
                return;
            }
        };
        let mut by_customer: HashMap<String, Vec<IdentityRecord>> = HashMap::new();
        for record in records {
            let owner = record
                .customer_guid
                .as_deref()
                .unwrap_or("")
                .to_ascii_lowercase();
            by_customer.entry(owner).or_default().push(record);
        }
        let (wall, wait) = (OffsetDateTime::now_utc(), self.book.options.wait.timeout);
        let mut steps = Vec::new();
        // A customer that entered doubt or a wait after the listing was sent is not in it:
        // judging it by an empty answer would take "not asked" for "nothing there".
        let asked: std::collections::HashSet<&str> = asked.iter().map(String::as_str).collect();
        for (index, customer) in group.customers.iter_mut().enumerate() {
            if customer.is_listed() && asked.contains(customer.guid.as_str()) {
                if matches!(customer.phase, Phase::New) {
                    self.unlisted = self.unlisted.saturating_sub(1);
                }
                let mine = by_customer
                    .get(&customer.guid)
                    .map_or(&[][..], Vec::as_slice);
                steps.push((index, customer.listed(mine, sent, now, wall, wait)));
            }
        }
        group.interval = self.book.options.wait.next_interval(group.interval);
        for (index, step) in steps {
            self.after(id, index, step);
        }
        self.schedule(id, now);
    }

    /// A create answered with a record not yet final: written at once, so that a run
    /// stopped or killed before the record is final leaves "created", not "in doubt".
    fn write_answer(&mut self, group: u64, index: usize, result: &Result<IdentityRecord, Error>) {
        let (Some(journal), Ok(record)) = (self.book.journal, result) else {
            return;
        };
        if !super::assess::in_progress(record) {
            return;
        }
        let Some(customer) = self.groups.get(&group).and_then(|g| g.customers.get(index)) else {
            return;
        };
        if let Err(e) = journal.append(&super::report::answered(&customer.guid, record, true)) {
            self.fatal.get_or_insert(e);
        }
    }

    /// Acts on a customer's step: queue its create, report its outcome.
    fn after(&mut self, group: u64, index: usize, step: Step) {
        let Some(customer) = self
            .groups
            .get_mut(&group)
            .and_then(|g| g.customers.get_mut(index))
        else {
            return;
        };
        match step {
            Step::Continue if matches!(customer.phase, Phase::Queued) => {
                self.creates.push_back((group, index));
            }
            Step::Continue => {}
            Step::Changed(record) => self.book.options.wait.notify(&record),
            Step::Finished(result) => {
                let guid = customer.guid.clone();
                let created = customer.created;
                // The final state is a change too, as `Client::wait_for` reports it.
                if let Ok(record) = &result {
                    self.book.options.wait.notify(record);
                }
                self.finish(guid, result, created);
            }
        }
    }

    /// Sets the group's next poll, or retires the group when every customer is done.
    fn schedule(&mut self, id: u64, now: Instant) {
        let Some(group) = self.groups.get_mut(&id) else {
            return;
        };
        if group
            .customers
            .iter()
            .all(|c| matches!(c.phase, Phase::Done))
        {
            self.groups.remove(&id);
            return;
        }
        let doubt_ends = group
            .customers
            .iter()
            .filter_map(|c| match c.phase {
                Phase::InDoubt { until, .. } => Some(until),
                _ => None,
            })
            .min();
        let polled = group
            .customers
            .iter()
            .any(|c| matches!(c.phase, Phase::Watching { .. } | Phase::InDoubt { .. }));
        if group.listing || !polled {
            return;
        }
        let interval = self.book.options.wait.jittered(group.interval);
        let at = now.checked_add(interval).unwrap_or_else(|| far_future(now));
        // A doubt is decided by a listing sent once the settle period is over.
        let at = doubt_ends.map_or(at, |end| at.min(end.max(now)));
        group.next_poll = Some(group.next_poll.map_or(at, |t| t.min(at)));
    }

    fn finish(
        &mut self,
        customer_guid: String,
        result: Result<IdentityRecord, Error>,
        created: bool,
    ) {
        let held = self.held.remove(&customer_guid);
        let summary = &mut self.summary;
        summary.customers += 1;
        match &result {
            Ok(r) if r.state() == Some(&AttestationState::Verified) => summary.verified += 1,
            Ok(_) => summary.failed += 1,
            Err(e) => {
                summary.errors += 1;
                *summary.errors_by_kind.entry(e.kind()).or_default() += 1;
            }
        }
        // A create answered with a record counts, whatever came of the wait after it.
        let record_made = matches!(&result, Ok(_) | Err(Error::RecordWaitTimedOut { .. }));
        if created && record_made {
            summary.created += 1;
        }
        let outcome = Outcome {
            customer_guid,
            result: result.map(|record| Attested { record, created }),
        };
        if let Some(journal) = self.book.journal
            && let Err(e) = journal.append(&entry_of(&outcome, created, self.book.error_text))
        {
            self.fatal.get_or_insert(e);
        } else if let Some(journal) = self.book.journal.filter(|_| held) {
            // Its outcome is written: another run may take it now, and will adopt it.
            if let Err(e) = journal.release(&outcome.customer_guid) {
                log::warn!(target: "cybrid_identity", "{e}");
            }
        }
        self.publish_progress();
        (self.report)(outcome, &self.progress);
    }
}

pub(crate) fn list_job(id: u64, group: &Group) -> Job {
    Job::List {
        group: id,
        customers: group
            .customers
            .iter()
            .filter(|c| c.is_listed())
            .map(|c| c.guid.clone())
            .collect(),
    }
}

mod intake;
mod progress;
mod stops;
#[cfg(test)]
mod tests;
