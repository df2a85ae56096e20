//! `credential_process`: a profile's command that prints credentials as JSON (`Version` 1),
//! run with a timeout, its standard error not echoed (it may hold secrets).

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::metadata::parse;
use super::source::Credentials;
use crate::error::Error;

/// How long the command may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The most of its output read.
const MAX_OUTPUT: u64 = 64 * 1024;

/// Runs `command` (through `sh -c`, as the SDKs do on Unix) for `profile`.
///
/// # Errors
/// [`Error::Config`] naming the profile when the command cannot start, exits non-zero,
/// takes longer than 30 s, or prints no `Version` 1 credentials.
pub(crate) fn run(command: &str, profile: &str) -> Result<Credentials, Error> {
    let fail = |why: String| Error::config(format!("profile {profile}'s credential_process {why}"));
    let mut child = Command::new("sh")
        .args(["-c", command])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| fail(format!("could not start: {e}")))?;
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| fail("has no output".into()))?;
    // Read on a thread of its own, so a command that prints much cannot block the wait.
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut stdout).take(MAX_OUTPUT).read_to_end(&mut out);
        out
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| fail(format!("failed: {e}")))? {
            break status;
        }
        if started.elapsed() >= TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail(format!(
                "took longer than {} s and was stopped",
                TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = zeroize::Zeroizing::new(reader.join().unwrap_or_default());
    if !status.success() {
        return Err(fail(format!(
            "exited with {} (its standard error is not shown: it may hold secrets)",
            status
                .code()
                .map_or_else(|| "a signal".to_owned(), |c| c.to_string())
        )));
    }
    let version = serde_json::from_slice::<serde_json::Value>(&out)
        .ok()
        .and_then(|v| v["Version"].as_u64());
    if version != Some(1) {
        return Err(fail("printed no JSON with \"Version\": 1".into()));
    }
    parse(&out, &format!("profile {profile}'s credential_process"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_is_run_read_and_its_failures_name_the_profile() {
        let ok = run(
            r#"printf '{"Version": 1, "AccessKeyId": "AKIDP", "SecretAccessKey": "sec-0987654321"}'; echo leak-secret-on-stderr >&2"#,
            "dev",
        )
        .unwrap();
        assert_eq!(ok.access_key_id, "AKIDP");
        let err = run("echo sec-on-stderr-123 >&2; exit 3", "dev")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("profile dev") && err.contains("exited with 3"),
            "{err}"
        );
        assert!(!err.contains("sec-on-stderr"), "{err}");
        let err = run(r#"printf '{"Version": 2}'"#, "dev")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Version"), "{err}");
    }
}
