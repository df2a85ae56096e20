//! [`Book`]: what a book attests with (client, signer, options, journal); its run is in
//! [`super::engine`].

use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::journal::Journal;
use super::options::AttestOptions;
use super::report::{Progress, chain_text};
use crate::client::Client;
use crate::error::Error;
use crate::signer::AttestationSigner;

/// How long a stopped book waits for the requests it has in flight (see [`Book::stop_when`]).
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// Attests a book of customers: each ends with exactly one attestation in force, or an
/// outcome that says why not. See the [module docs](crate::book) for the rules.
///
/// ```
/// # #[cfg(feature = "emulator")] {
/// use cybrid_identity::emulator::Emulator;
/// use cybrid_identity::{AttestOptions, AttestationSigner, Book, SigningKey};
/// use std::time::Duration;
///
/// let emu = Emulator::builder().transition(Duration::from_millis(20)).start()?;
/// let client = emu.client()?;
/// let signer = AttestationSigner::new(SigningKey::sandbox(), emu.bank_guid(), emu.verification_key_guid())?;
/// let customers = (0..5).map(|_| cybrid_identity::emulator::new_guid());
/// let summary = Book::new(&client, &signer, AttestOptions::default().concurrency(4))
///     .run(customers, |outcome, _progress| {
///         assert!(outcome.result.is_ok());
///     })?;
/// assert_eq!((summary.verified, summary.created), (5, 5));
/// # }
/// # Ok::<_, cybrid_identity::Error>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct Book<'a> {
    pub(crate) client: &'a Client,
    pub(crate) signer: &'a AttestationSigner,
    pub(crate) options: AttestOptions,
    pub(crate) journal: Option<&'a Journal>,
    pub(crate) error_text: fn(&Error, &str) -> String,
    pub(crate) stop: Option<&'a AtomicBool>,
    pub(crate) live: Option<&'a Mutex<Progress>>,
}

impl<'a> Book<'a> {
    /// A book that attests with `client` and signs with `signer`.
    pub fn new(client: &'a Client, signer: &'a AttestationSigner, options: AttestOptions) -> Self {
        Book {
            client,
            signer,
            options,
            journal: None,
            error_text: chain_text,
            stop: None,
            live: None,
        }
    }

    /// How a customer's error is written in the journal (default: the error and each of
    /// its sources, joined by `": "`); a command line names its own command to check with.
    pub fn error_text(mut self, text: fn(&Error, &str) -> String) -> Self {
        self.error_text = text;
        self
    }

    /// Stops the book once `stop` is true (a signal handler's flag, another thread's word):
    /// no new request is sent, requests in flight are given [`STOP_GRACE`] to finish and
    /// their outcomes written, and [`Book::run`] returns [`Error::Stopped`]. A create still
    /// in flight after that is abandoned with its intent in the journal, so the next run
    /// treats it as in doubt.
    pub fn stop_when(mut self, stop: &'a AtomicBool) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Keeps `live` current while the book runs: requests in flight, customers waiting and
    /// in doubt, taken at most 100 ms apart also when no customer finishes (a book whose
    /// creates are slow reports nothing for a while, yet has work in flight). For a
    /// progress line on a clock of its own (another thread reads `live`).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// use cybrid_identity::book::Progress;
    /// use cybrid_identity::emulator::{Emulator, new_guid};
    /// use cybrid_identity::{AttestOptions, AttestationSigner, Book, SigningKey};
    /// use std::sync::Mutex;
    ///
    /// let emu = Emulator::start()?;
    /// let client = emu.client()?;
    /// let signer = AttestationSigner::new(SigningKey::sandbox(), emu.bank_guid(), emu.verification_key_guid())?;
    /// let live = Mutex::new(Progress::default());
    /// Book::new(&client, &signer, AttestOptions::default())
    ///     .progress_to(&live)
    ///     .run((0..3).map(|_| new_guid()), |_, _| {})?;
    /// assert_eq!(live.lock().unwrap().done, 3);
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn progress_to(mut self, live: &'a Mutex<Progress>) -> Self {
        self.live = Some(live);
        self
    }

    /// Writes an intent before each create and each outcome to `journal`, and treats the
    /// customers whose last line there is an intent as in doubt since that intent.
    pub fn journal(mut self, journal: &'a Journal) -> Self {
        self.journal = Some(journal);
        self
    }
}
