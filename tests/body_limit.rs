//! A body ten times the limit: a clear error, and memory stays flat. Alone in its own test
//! binary so no other test's allocations blur the process's peak memory.

mod support;

use cybrid_identity::{Client, Error};
use support::{Reply, ScriptedServer};

/// The process's peak resident memory in KiB (Linux `VmHWM`).
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[test]
fn ten_times_the_body_limit_is_refused_without_buffering_it() {
    const LIMIT: u64 = 4 * 1024 * 1024;
    let s = ScriptedServer::start(|_, _| Reply::Huge { len: 10 * LIMIT });
    let client = Client::builder()
        .base_url(s.url())
        .bearer_token("t")
        .max_body_bytes(LIMIT)
        .build()
        .unwrap();
    let before = peak_kib();
    let err = client
        .get_identity_record("1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d")
        .unwrap_err();
    let after = peak_kib();
    assert!(
        matches!(err, Error::BodyTooLarge { limit: LIMIT, .. }),
        "{err:?}"
    );
    assert_eq!(s.count("GET", "/api/identity_records"), 1, "not retried");
    if let (Some(before), Some(after)) = (before, after) {
        // Reading stops at the limit: the peak grows by about the limit (and the vector's
        // doubling), never by the 40 MiB the server offered.
        let grown_mib = (after.saturating_sub(before)) / 1024;
        assert!(
            grown_mib < 16,
            "peak memory grew by {grown_mib} MiB for a 40 MiB body"
        );
    }
}
