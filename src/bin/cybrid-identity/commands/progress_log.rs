//! Progress for logs: with stderr not a terminal (Kubernetes, cron, CI), one line every
//! `--progress-every` seconds, logfmt or (with `--json`) a JSON object, written by a thread of
//! its own so that a long wait with no outcome still shows the run is alive.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cybrid_identity::book::Progress;
use serde_json::json;

/// Where the run stands, as the log line reports it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Counts {
    /// Customers finished: reported by the book, or skipped as verified in the journal.
    pub done: usize,
    pub verified: usize,
    pub failed: usize,
    pub errors: usize,
    pub in_doubt: usize,
    pub in_flight: usize,
    pub waiting: usize,
}

/// The counts, shared between the run and the thread that logs them.
pub type Shared = Arc<Mutex<Counts>>;

/// One line: logfmt (`progress done=… total=… …`) or a JSON object with the same names.
pub fn line(counts: &Counts, total: usize, elapsed: Duration, json: bool) -> String {
    let seconds = elapsed.as_secs_f64();
    // Customers a second since the start, to one decimal.
    let rate = (counts.done as f64 / seconds.max(0.001) * 10.0).round() / 10.0;
    if json {
        return json!({
            "event": "progress", "done": counts.done, "total": total,
            "verified": counts.verified, "failed": counts.failed, "errors": counts.errors,
            "in_doubt": counts.in_doubt, "in_flight": counts.in_flight,
            "waiting": counts.waiting, "rate": rate, "elapsed_s": seconds.round(),
        })
        .to_string();
    }
    format!(
        "progress done={} total={total} verified={} failed={} errors={} in_doubt={} in_flight={} waiting={} rate={rate:.1} elapsed_s={:.0}",
        counts.done,
        counts.verified,
        counts.failed,
        counts.errors,
        counts.in_doubt,
        counts.in_flight,
        counts.waiting,
        seconds
    )
}

/// The thread writing the lines; stopped (without a last line) when dropped.
pub struct Logger {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Logger {
    /// Writes a line to stderr every `every` from now on: the outcomes counted in `counts`,
    /// what is in flight, waiting and in doubt as the book last published it in `live`
    /// (current also before the first outcome).
    pub fn start(
        every: Duration,
        total: usize,
        json: bool,
        counts: Shared,
        live: Arc<Mutex<Progress>>,
    ) -> Logger {
        let (stop, stopped) = mpsc::channel::<()>();
        let started = Instant::now();
        let thread = std::thread::spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                let mut now = counts
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                let book = live.lock().unwrap_or_else(PoisonError::into_inner).clone();
                (now.in_doubt, now.in_flight, now.waiting) =
                    (book.in_doubt, book.in_flight, book.waiting);
                eprintln!("{}", line(&now, total, started.elapsed(), json));
            }
        });
        Logger {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Logger {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_every_count_in_logfmt_and_json() {
        let counts = Counts {
            done: 150,
            verified: 140,
            failed: 6,
            errors: 4,
            in_doubt: 2,
            in_flight: 16,
            waiting: 9,
        };
        let elapsed = Duration::from_millis(2500);
        assert_eq!(
            line(&counts, 2000, elapsed, false),
            "progress done=150 total=2000 verified=140 failed=6 errors=4 in_doubt=2 in_flight=16 waiting=9 rate=60.0 elapsed_s=2"
        );
        let value: serde_json::Value =
            serde_json::from_str(&line(&counts, 2000, elapsed, true)).unwrap();
        assert_eq!(value["done"], 150);
        assert_eq!(value["total"], 2000);
        assert_eq!(value["rate"], 60.0);
        assert_eq!(value["in_doubt"], 2);
    }
}
