//! The coordinator's read-ahead bounds, exact: `refill` only reads the book and queues
//! listings, so it is driven here without a server.

use super::Run;
use super::intake::MAX_GROUPS;
use crate::book::options::{AttestOptions, GROUP_SIZE};
use crate::book::report::{Outcome, Progress};
use crate::book::setup::Book;
use crate::client::Client;
use crate::keys::SigningKey;
use crate::signer::AttestationSigner;

const BANK: &str = "b0000000000000000000000000000000";
const KEY: &str = "f0000000000000000000000000000000";

/// `n` distinct guids, counting how many the book has handed out.
fn book_of(n: usize, taken: &std::cell::Cell<usize>) -> impl Iterator<Item = String> + '_ {
    (0..n).map(move |i| {
        taken.set(taken.get() + 1);
        format!("{i:032x}")
    })
}

fn with_run(concurrency: usize, body: impl FnOnce(&mut Run<'_, '_, fn(Outcome, &Progress)>)) {
    let client = Client::builder().bearer_token("t").build().unwrap();
    let signer = AttestationSigner::new(SigningKey::sandbox(), BANK, KEY).unwrap();
    let book = Book::new(
        &client,
        &signer,
        AttestOptions::default().concurrency(concurrency),
    );
    let mut run = Run::new(&book, (|_, _| ()) as fn(Outcome, &Progress));
    body(&mut run);
}

#[test]
fn one_worker_reads_one_group_ahead_and_no_more() {
    with_run(1, |run| {
        let taken = std::cell::Cell::new(0);
        let mut customers = book_of(1000, &taken);
        run.refill(&mut customers);
        // One group waiting to be listed is work enough for one worker: the next is read
        // only once that listing has come back.
        assert_eq!(
            (run.groups.len(), run.unlisted, run.lists.len()),
            (1, GROUP_SIZE, 1)
        );
        assert_eq!(taken.get(), GROUP_SIZE);
        // Its listing is queued: nothing may schedule another before it comes back.
        assert!(run.groups.values().all(|g| g.listing));
        run.refill(&mut customers);
        assert_eq!(taken.get(), GROUP_SIZE, "read again with the backlog full");
    });
}

#[test]
fn a_quarter_of_the_workers_worth_of_groups_is_read_ahead() {
    with_run(8, |run| {
        let taken = std::cell::Cell::new(0);
        run.refill(&mut book_of(1000, &taken));
        assert_eq!((run.groups.len(), taken.get()), (2, 2 * GROUP_SIZE));
    });
}

#[test]
fn no_more_groups_are_held_than_the_bound_however_fast_listings_come_back() {
    with_run(1, |run| {
        let taken = std::cell::Cell::new(0);
        let mut customers = book_of((MAX_GROUPS + 2) * GROUP_SIZE, &taken);
        for _ in 0..MAX_GROUPS + 2 {
            // Each group listed and waiting on its records: none is backlog any more.
            run.unlisted = 0;
            run.refill(&mut customers);
        }
        assert_eq!(run.groups.len(), MAX_GROUPS);
        assert_eq!(taken.get(), MAX_GROUPS * GROUP_SIZE);
        assert!(!run.exhausted);
    });
}

#[test]
fn no_more_requests_are_sent_than_the_limit() {
    with_run(1, |run| {
        let taken = std::cell::Cell::new(0);
        let mut customers = book_of(1000, &taken);
        run.refill(&mut customers);
        run.unlisted = 0;
        run.refill(&mut customers);
        assert_eq!(run.lists.len(), 2);
        let (jobs, sent) = std::sync::mpsc::channel();
        run.dispatch(&jobs);
        assert_eq!((run.in_flight, sent.try_iter().count()), (1, 1));
        assert_eq!(
            run.lists.len(),
            1,
            "the second listing waits for a free slot"
        );
    });
}

/// The book's first group, listed once with `answer`, for customers `asked`.
fn answer_listing(
    run: &mut Run<'_, '_, fn(Outcome, &Progress)>,
    asked: &[String],
    answer: Result<Vec<crate::models::IdentityRecord>, crate::Error>,
) {
    run.listed(0, asked, std::time::Instant::now(), answer);
}

#[test]
fn a_failed_listing_is_sent_again_after_two_then_four_seconds_and_the_third_stops_the_book() {
    use std::time::{Duration, Instant};
    with_run(1, |run| {
        let taken = std::cell::Cell::new(0);
        run.refill(&mut book_of(GROUP_SIZE, &taken));
        let asked: Vec<String> = run.groups[&0]
            .customers
            .iter()
            .map(|c| c.guid.clone())
            .collect();
        let failed = || Err(crate::Error::invalid("x", "a listing that failed"));
        for (failures, pause) in [(1, 2), (2, 4)] {
            let before = Instant::now();
            answer_listing(run, &asked, failed());
            let group = &run.groups[&0];
            assert_eq!(group.list_failures, failures);
            let at = group.next_poll.unwrap();
            let pause = Duration::from_secs(pause);
            assert!(at >= before + pause && at <= Instant::now() + pause);
            assert!(run.fatal.is_none(), "stopped after {failures} failures");
        }
        // A listing that comes back resets the count; three in a row stop the book.
        answer_listing(run, &asked, Ok(vec![]));
        assert_eq!(run.groups[&0].list_failures, 0);
        for _ in 0..2 {
            answer_listing(run, &asked, failed());
        }
        assert!(run.fatal.is_none());
        answer_listing(run, &asked, failed());
        let fatal = run
            .fatal
            .take()
            .expect("the third failure in a row stops the book");
        assert!(
            fatal.to_string().contains("a listing that failed"),
            "{fatal}"
        );
    });
}

#[test]
fn a_listing_judges_only_the_customers_it_asked_about() {
    with_run(1, |run| {
        let taken = std::cell::Cell::new(0);
        run.refill(&mut book_of(GROUP_SIZE, &taken));
        let half: Vec<String> = run.groups[&0].customers[..GROUP_SIZE / 2]
            .iter()
            .map(|c| c.guid.clone())
            .collect();
        answer_listing(run, &half, Ok(vec![]));
        // The asked half has no record and is queued for a create; the rest is still new.
        assert_eq!(
            (run.creates.len(), run.unlisted),
            (GROUP_SIZE / 2, GROUP_SIZE / 2)
        );
        // No one waits on a record: nothing to poll until a create is answered.
        assert_eq!(run.groups[&0].next_poll, None);
    });
}

/// Group 0's first `waiting` customers watch a record and the next `in_doubt` are in doubt.
fn set_phases(run: &mut Run<'_, '_, fn(Outcome, &Progress)>, waiting: usize, in_doubt: usize) {
    use crate::book::customer::Phase;
    let now = std::time::Instant::now();
    let record: crate::models::IdentityRecord = serde_json::from_str("{}").unwrap();
    let customers = &mut run.groups.get_mut(&0).unwrap().customers;
    for (i, customer) in customers.iter_mut().enumerate() {
        customer.phase = if i < waiting {
            Phase::Watching {
                guid: format!("{i:032x}"),
                since: now,
                last: Box::new(record.clone()),
            }
        } else if i < waiting + in_doubt {
            Phase::InDoubt {
                seen: None,
                until: now,
            }
        } else {
            Phase::Queued
        };
    }
}

#[test]
fn progress_counts_the_customers_in_doubt_and_waiting_at_most_every_100_ms() {
    use std::time::{Duration, Instant};
    with_run(1, |run| {
        let taken = std::cell::Cell::new(0);
        run.refill(&mut book_of(GROUP_SIZE, &taken));
        set_phases(run, 3, 2);
        let expected = Progress {
            done: 0,
            in_flight: 0,
            limit: 1,
            in_doubt: 2,
            waiting: 3,
            held: GROUP_SIZE,
            elsewhere: 0,
        };
        assert_eq!(run.snapshot(), expected);
        let failed = || Err(crate::Error::invalid("x", "y"));
        // Counted a moment ago: the phases are not walked again.
        run.counted_at = Some(Instant::now() + Duration::from_secs(10));
        run.finish(format!("{:032x}", 99), failed(), false);
        assert_eq!((run.progress.done, run.progress.held), (1, GROUP_SIZE - 1));
        assert_eq!((run.progress.in_doubt, run.progress.waiting), (0, 0));
        // Counted over 100 ms ago: they are.
        run.counted_at = Instant::now().checked_sub(Duration::from_millis(150));
        run.finish(format!("{:032x}", 98), failed(), false);
        assert_eq!((run.progress.in_doubt, run.progress.waiting), (2, 3));
        assert_eq!(run.summary.errors, 2);
    });
}
