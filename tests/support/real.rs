//! Real components (the `openssl` command, SoftHSM2, moto): a test that needs one runs it
//! when it is there; without it the test prints why it skips, unless the environment says
//! `CYBRID_REQUIRE_REAL=1` (as `.ci/run` does), where a missing component fails the test.

#![allow(dead_code)]

use std::path::PathBuf;

/// Whether the test may go on with `what`; `found` says whether it is there.
pub fn available(what: &str, found: bool) -> bool {
    if found {
        return true;
    }
    assert!(
        std::env::var("CYBRID_REQUIRE_REAL").as_deref() != Ok("1"),
        "{what} is missing, and CYBRID_REQUIRE_REAL=1 says this run must use it"
    );
    eprintln!("skipped: {what} is not installed (CI installs it and runs this test)");
    false
}

/// Whether `program` is a file in one of `PATH`'s folders.
pub fn runs(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Whether `python3` imports `module`.
pub fn python_imports(module: &str) -> bool {
    std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The `openssl` command, when it is there (or the test is failed under CI).
pub fn openssl() -> bool {
    available("the openssl command", runs("openssl"))
}

/// SoftHSM2's PKCS#11 module, when it is installed (or the test is failed under CI).
pub fn softhsm_module() -> Option<PathBuf> {
    let candidates = [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/local/lib/softhsm/libsofthsm2.so",
    ];
    let found = candidates.iter().map(PathBuf::from).find(|p| p.exists());
    let ok = available(
        "SoftHSM2 (Debian's softhsm2: libsofthsm2.so and softhsm2-util)",
        found.is_some() && runs("softhsm2-util"),
    );
    if ok { found } else { None }
}
