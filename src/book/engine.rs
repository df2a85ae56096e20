//! Running a [`Book`]: the workers started, the coordinator driven, the workers joined.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use super::coordinator::Run;
use super::report::{Outcome, Progress, Summary};
use super::setup::Book;
use super::workers::{Job, Reply, work};
use crate::error::Error;

impl Book<'_> {
    /// Attests every customer of `customers` (guids; lowercased, each once), calling
    /// `report` as each one finishes.
    ///
    /// # Errors
    /// A listing that kept failing, a journal that could not be written, ten signing failures
    /// in a row, or a stop asked for ([`Error::Stopped`], see [`Book::stop_when`]): the book
    /// stops (requests in flight are finished and reported first). Each customer's own
    /// failure is in its [`Outcome`], not here.
    pub fn run<I, S>(
        self,
        customers: I,
        report: impl FnMut(Outcome, &Progress),
    ) -> Result<Summary, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (reply_tx, reply_rx) = mpsc::channel::<Reply>();
        let jobs = Arc::new(Mutex::new(job_rx));
        let workers: Vec<_> = (0..self.options.concurrency.max(1))
            .map(|_| {
                let (jobs, replies) = (jobs.clone(), reply_tx.clone());
                let (client, signer) = (self.client.clone(), self.signer.clone());
                std::thread::spawn(move || work(&jobs, &replies, &client, &signer))
            })
            .collect();
        drop(reply_tx);
        let mut run = Run::new(&self, report);
        let mut customers = customers.into_iter().map(Into::into);
        let result = run.drive(&mut customers, &job_tx, &reply_rx);
        drop(job_tx);
        // A stopped book does not wait for requests it abandoned: their workers end when
        // the requests do, finding no one to answer.
        if run.in_flight() == 0 {
            for worker in workers {
                let _ = worker.join();
            }
        }
        result.map(|()| run.summary)
    }
}
