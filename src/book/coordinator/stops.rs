//! When a book stops short: asked to (a signal's flag), or because its signer is gone.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::Run;
use crate::book::report::{Outcome, Progress};
use crate::error::Error;
use crate::models::IdentityRecord;

/// Tokens in a row that could not be signed before the book stops.
const MAX_SIGNING_FAILURES: u32 = 10;

impl<R: FnMut(Outcome, &Progress)> Run<'_, '_, R> {
    /// Once the stop flag is up: nothing new is sent (as after a fatal error), and the book
    /// ends with [`Error::Stopped`] when what is in flight is done.
    pub(super) fn heed_stop(&mut self) {
        if self.stopping.is_some() || !self.book.stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            return;
        }
        self.stopping = Some(Instant::now());
        self.fatal.get_or_insert_with(|| {
            Error::Stopped(
                "asked to stop; every request in flight was finished and its outcome written"
                    .into(),
            )
        });
    }

    /// Counts creates in a row whose token could not be signed (nothing was sent for them):
    /// past [`MAX_SIGNING_FAILURES`] the signer is taken as gone, and the book stops rather
    /// than grind through the rest of the book against it.
    pub(super) fn count_signing(&mut self, result: &Result<IdentityRecord, Error>) {
        // A signer's refusal (`Key`: a PIN, a KMS policy) is as much a signer gone.
        let message = match result {
            Err(Error::Signing(message)) => message.clone(),
            Err(e @ Error::Key { .. }) => e.to_string(),
            _ => {
                self.signing_failures = 0;
                return;
            }
        };
        self.signing_failures += 1;
        if self.signing_failures >= MAX_SIGNING_FAILURES {
            self.fatal.get_or_insert_with(|| {
                Error::Signing(format!(
                    "{MAX_SIGNING_FAILURES} tokens in a row could not be signed, the book stops (the last: {message})"
                ))
            });
        }
    }
}
