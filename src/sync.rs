//! Locks that survive a panic elsewhere.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, taking the data even if another thread panicked while holding it: every
/// value this crate keeps under a lock (a token cache, counters, a fault list, the
/// emulator's store) stays valid between statements, so a poisoned lock is still usable, and
/// one panicking thread must not take the client or the emulator down with it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
