//! SIGTERM and SIGINT as a request to stop: Kubernetes stops a pod with SIGTERM and kills it
//! 30 s later, so a book stops sending, finishes what is in flight and writes its outcomes
//! (see `Book::stop_when`). A second signal ends the process at once.
//!
//! The binary's one `unsafe` module: installing a signal handler is a call into the C
//! library, and the handler only stores to atomics (async-signal-safe). No crate is added:
//! `libc` is already compiled for the library.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use crate::failure::STOPPED;

static STOP: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Installs the handlers (once is enough; again is harmless) and returns the flag they
/// raise.
pub fn stop_on_signals() -> &'static AtomicBool {
    #[cfg(unix)]
    {
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: `on_signal` is an `extern "C"` function that only touches atomics and
        // calls `_exit`, both async-signal-safe; `signal` itself has no memory effects
        // on this process's Rust state.
        unsafe {
            libc::signal(libc::SIGTERM, handler);
            libc::signal(libc::SIGINT, handler);
        }
    }
    &STOP
}

/// The signal received, by name, if one was.
pub fn received() -> Option<&'static str> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        #[cfg(unix)]
        libc::SIGTERM => Some("SIGTERM"),
        #[cfg(unix)]
        libc::SIGINT => Some("SIGINT"),
        _ => Some("a signal"),
    }
}

#[cfg(unix)]
extern "C" fn on_signal(signal: libc::c_int) {
    if STOP.swap(true, Ordering::SeqCst) {
        // Asked twice: the operator means now. The journal tolerates a line cut short.
        // SAFETY: `_exit` is async-signal-safe and ends the process without unwinding.
        unsafe { libc::_exit(i32::from(STOPPED)) };
    }
    SIGNAL.store(signal, Ordering::SeqCst);
}
