//! Holding a customer across processes: a POSIX record lock on one byte of the journal file,
//! at an offset derived from the customer's guid, taken before the customer is listed and
//! released once its outcome is written. Two runs sharing a journal (a cron that fires while
//! the last run goes on, a second terminal, shards of one book) then never act on one
//! customer at once, and the kernel releases a killed run's locks with its file.
//!
//! On Linux the locks are open-file-description locks (`F_OFD_SETLK`): they belong to the
//! journal as opened, so two `Journal`s in one process exclude each other too, and closing
//! another descriptor of the file does not drop them. Other Unix systems get classic POSIX
//! locks (`F_SETLK`), which exclude other processes only. Elsewhere there is no lock.
//!
//! This is the crate's one `unsafe` module: `fcntl` has no safe wrapper in the standard
//! library or in a crate the default build already compiles.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::fs::File;

use sha2::{Digest as _, Sha256};

/// Where a customer's byte is: 1 + the first 62 bits of SHA-256 of its lowercase guid, far
/// past any journal's end (a lock may lie beyond the end of a file), and the same in every
/// process and version, so that any run sharing the journal agrees on it.
pub(crate) fn offset_of(customer_guid: &str) -> i64 {
    let digest = Sha256::digest(customer_guid.to_ascii_lowercase().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // 62 bits plus one is below i64::MAX: the cast cannot wrap.
    i64::try_from(u64::from_be_bytes(first) >> 2).unwrap_or(0) + 1
}

/// The bytes this process holds in one journal, counted: two customers whose guids share a
/// byte (one chance in 2^62 a pair) must not release each other's lock.
#[derive(Debug, Default)]
pub(crate) struct Holds {
    counts: HashMap<i64, usize>,
}

impl Holds {
    /// Takes the customer's byte if no other run holds it: `Ok(false)` when one does.
    pub(crate) fn try_take(&mut self, file: &File, customer_guid: &str) -> std::io::Result<bool> {
        let offset = offset_of(customer_guid);
        if let Some(count) = self.counts.get_mut(&offset) {
            *count += 1;
            return Ok(true);
        }
        if !lock(file, offset, true)? {
            return Ok(false);
        }
        self.counts.insert(offset, 1);
        Ok(true)
    }

    /// Releases the customer's byte (when no other customer of this process holds it).
    pub(crate) fn release(&mut self, file: &File, customer_guid: &str) -> std::io::Result<()> {
        let offset = offset_of(customer_guid);
        match self.counts.get_mut(&offset) {
            Some(count) if *count > 1 => *count -= 1,
            Some(_) => {
                self.counts.remove(&offset);
                lock(file, offset, false)?;
            }
            None => {}
        }
        Ok(())
    }
}

/// Sets (`take`) or clears a write lock on the byte at `offset`, without waiting: `Ok(false)`
/// when another holder has it.
#[cfg(unix)]
fn lock(file: &File, offset: i64, take: bool) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd as _;
    #[cfg(target_os = "linux")]
    const SET: libc::c_int = libc::F_OFD_SETLK;
    #[cfg(not(target_os = "linux"))]
    const SET: libc::c_int = libc::F_SETLK;
    // SAFETY: `flock` is a plain C struct of integers, for which all zeroes is a valid value
    // (and the required `l_pid` of 0 for open-file-description locks).
    let mut request: libc::flock = unsafe { std::mem::zeroed() };
    request.l_type = if take { libc::F_WRLCK } else { libc::F_UNLCK } as _;
    request.l_whence = libc::SEEK_SET as _;
    request.l_start = offset as libc::off_t;
    request.l_len = 1;
    // SAFETY: the descriptor is open for as long as `file` is borrowed, and `request` is a
    // valid `flock` that outlives the call, which only reads it for these commands.
    let answer = unsafe { libc::fcntl(file.as_raw_fd(), SET, &request) };
    if answer == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EAGAIN | libc::EACCES) if take => Ok(false),
        _ => Err(error),
    }
}

/// No record locks here: runs sharing a journal are not kept apart (the docs say so).
#[cfg(not(unix))]
fn lock(_file: &File, _offset: i64, _take: bool) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    fn scratch() -> crate::scratch::ScratchFile {
        crate::scratch::ScratchFile::new("hold", "journal.jsonl")
    }

    #[cfg(target_os = "linux")]
    fn open(path: &std::path::Path) -> File {
        std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .unwrap()
    }

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn offsets_are_fixed_case_blind_and_past_any_file() {
        // The first 62 bits of SHA-256 of A's 32 'a's, plus one (computed with Python's hashlib).
        assert_eq!(offset_of(A), 0x0ee8_fd7d_0ee4_980a);
        assert_eq!(offset_of(&A.to_uppercase()), offset_of(A));
        assert_ne!(offset_of(A), offset_of(B));
        assert!(offset_of(B) >= 1);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_held_customer_is_refused_to_another_opening_until_released() {
        let path = scratch();
        let (first, second) = (open(&path), open(&path));
        let (mut mine, mut theirs) = (Holds::default(), Holds::default());
        assert!(mine.try_take(&first, A).unwrap());
        assert!(!theirs.try_take(&second, A).unwrap(), "held by the first");
        assert!(
            theirs.try_take(&second, B).unwrap(),
            "another customer is free"
        );
        // Taken twice by one holder (a collision): one release keeps it held.
        assert!(mine.try_take(&first, A).unwrap());
        mine.release(&first, A).unwrap();
        assert!(!theirs.try_take(&second, A).unwrap());
        mine.release(&first, A).unwrap();
        assert!(theirs.try_take(&second, A).unwrap(), "released");
        // A closed file releases what it held: a killed run frees its customers.
        drop(second);
        let third = open(&path);
        assert!(Holds::default().try_take(&third, A).unwrap());
        assert!(Holds::default().try_take(&third, B).unwrap());
    }
}
