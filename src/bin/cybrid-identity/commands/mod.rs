//! The commands, one file a group, and what several of them share: the signing key, list
//! parameters, waiting with progress, the bank's default key.

pub mod attest;
pub mod batch;
pub mod book_file;
pub mod completions;
pub mod emulator;
pub mod jwt;
pub mod keys;
pub mod records;

use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use cybrid_identity::{
    AttestationState, Client, Error, IdentityRecord, KeyListParams, ListParams, SigningKey,
    VerificationKey, VerificationKeyState, WaitOptions,
};
use serde_json::json;
use zeroize::Zeroizing;

use crate::args::{Args, CliError, Flag};
use crate::output::out;

/// The most a key file may hold: a 4096-bit PEM key is about 3.3 KB.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

pub const KEY: Flag = Flag::value(
    "key",
    "FILE",
    "the signing key: PEM or DER, PKCS#8 or PKCS#1",
)
.env("CYBRID_ATTESTATION_SIGNING_KEY");
pub const SANDBOX: Flag = Flag::switch("sandbox", "sign with the sandbox key Cybrid publishes");
pub const BANK: Flag = Flag::value("bank", "GUID", "the bank's guid (the token's iss)");
pub const CUSTOMER: Flag = Flag::value("customer", "GUID", "the customer's guid");
pub const KID: Flag = Flag::value("kid", "GUID", "the verification key's guid");
pub const TIMEOUT_S: Flag = Flag::number(
    "timeout-s",
    1,
    86_400,
    "give up waiting after N seconds (default 30)",
);
pub const PAGE: Flag = Flag::number("page", 0, u32::MAX as u64, "the page, from 0");
pub const PER_PAGE: Flag = Flag::number("per-page", 1, 100, "objects per page");

/// A client from the environment's variables.
pub fn client() -> Result<Client, CliError> {
    Ok(Client::from_env()?)
}

/// A client from the environment's variables whose pool keeps a connection for each of
/// `concurrency` threads (and the token's), so none is closed and reopened.
pub fn client_for(concurrency: usize) -> Result<Client, CliError> {
    let builder = cybrid_identity::ClientBuilder::from_vars(|name| std::env::var(name).ok())?;
    Ok(builder
        .max_idle_connections(
            concurrency
                .saturating_add(1)
                .max(cybrid_identity::DEFAULT_IDLE_CONNECTIONS),
        )
        .build()?)
}

/// The signing key: `--key FILE`, `--sandbox`, or `CYBRID_ATTESTATION_SIGNING_KEY`.
pub fn signing_key(args: &Args) -> Result<SigningKey, CliError> {
    match (args.value("key"), args.has("sandbox")) {
        (Some(_), true) => Err(CliError::usage("--key and --sandbox exclude each other")),
        (Some(path), false) => read_key_file(path),
        (None, true) => Ok(SigningKey::sandbox()),
        (None, false) if std::env::var_os("CYBRID_ATTESTATION_SIGNING_KEY").is_some() => {
            Ok(SigningKey::from_env()?)
        }
        (None, false) => Err(CliError::usage(
            "no signing key: pass --key FILE or --sandbox, or set CYBRID_ATTESTATION_SIGNING_KEY",
        )),
    }
}

/// Reads at most 64 KiB of `path` (`/dev/zero` and a 5 GB file alike) and takes PEM or DER
/// by content, not by extension.
fn read_key_file(path: &str) -> Result<SigningKey, CliError> {
    let cannot = |e: std::io::Error| CliError::runtime(format!("cannot read {path}: {e}"));
    let file = open_key_file(path).map_err(cannot)?;
    // Asked of the open file, not the path: what was checked is what is read.
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(CliError::usage(format!(
            "{path} is not a regular file (a FIFO, a device or a directory): pass the key file itself"
        )));
    }
    let bytes = read_limited(file, MAX_KEY_FILE_BYTES)
        .map_err(cannot)?
        .ok_or_else(|| {
            CliError::runtime(format!(
                "{path}: more than {MAX_KEY_FILE_BYTES} bytes: not a key file"
            ))
        })?;
    let key = match std::str::from_utf8(&bytes) {
        Ok(text) if text.trim_start().starts_with("-----BEGIN") => SigningKey::from_pem(text),
        _ => SigningKey::from_der(&bytes),
    };
    let key = key.map_err(|e| CliError::runtime(format!("{path}: {e}")))?;
    warn_if_shared(path, &meta);
    Ok(key)
}

/// Opens without blocking: a FIFO given as the key would otherwise wait forever for a
/// writer, before its type could be checked.
fn open_key_file(path: &str) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, 0o4000); // O_NONBLOCK
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, 0x0004); // O_NONBLOCK
    options.open(path)
}

/// A key others can read is used, as ssh would not, because Kubernetes mounts secrets 0644
/// by default; but never silently.
fn warn_if_shared(path: &str, meta: &std::fs::Metadata) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            eprintln!(
                "warning: {path} is readable by group or others (mode {mode:04o}): run `chmod 600 {path}`"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = (path, meta);
}

/// All of `reader` if it holds at most `limit` bytes, `None` if it holds more; never reads
/// more than `limit + 1` bytes.
fn read_limited(
    reader: impl std::io::Read,
    limit: u64,
) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
    // The whole limit up front: a growing buffer would free copies of the key unwiped.
    let room = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let mut bytes = Zeroizing::new(Vec::with_capacity(room));
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// `--customer` (repeatable), `--page`, `--per-page`.
pub fn list_params(args: &Args) -> Result<ListParams, CliError> {
    let mut params = ListParams::new();
    if let Some(customers) = args.value("customer") {
        for c in customers.split(',').filter(|c| !c.is_empty()) {
            params = params.customer_guid(c);
        }
    }
    if let Some(page) = args.number("page")? {
        // The flag's declared range is that of a u32.
        params = params.page(u32::try_from(page).unwrap_or(u32::MAX));
    }
    if let Some(per_page) = args.number("per-page")? {
        params = params.per_page(u32::try_from(per_page).unwrap_or(u32::MAX));
    }
    Ok(params)
}

/// Waits for a final state, printing each state change (as JSON lines with `--json`).
pub fn wait(
    client: &Client,
    guid: &str,
    timeout_s: Option<u64>,
    json: bool,
) -> Result<IdentityRecord, CliError> {
    let started = Instant::now();
    let mut options = WaitOptions::default().on_change(move |r| {
        let state = r.state().map_or("?", |s| s.as_str());
        let after = started.elapsed();
        if json {
            out!(
                "{}",
                json!({"event": "state", "state": state, "after_ms": after.as_millis()})
            );
        } else {
            out!("  … {state} (after {:.1} s)", after.as_secs_f64());
        }
    });
    if let Some(secs) = timeout_s {
        options = options.timeout(Duration::from_secs(secs));
    }
    Ok(client.wait_for_identity_record(guid, &options)?)
}

/// The bank's first verified verification key.
pub fn default_key(client: &Client) -> Result<VerificationKey, CliError> {
    client
        .list_verification_keys(KeyListParams::new())?
        .objects
        .into_iter()
        .find(|k| k.state == Some(VerificationKeyState::Verified))
        .ok_or_else(|| {
            CliError::runtime(
                "the bank has no verified verification key: register one with `keys create`",
            )
        })
}

/// The record's guid, which every record Cybrid returns carries.
pub fn guid_of(record: &IdentityRecord) -> Result<String, CliError> {
    record
        .guid
        .clone()
        .ok_or_else(|| CliError::runtime("the server's identity record has no guid"))
}

/// Exit 0 for a verified record, 1 otherwise.
pub fn exit_for(record: &IdentityRecord) -> std::process::ExitCode {
    if record.state() == Some(&AttestationState::Verified) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    }
}

/// A create's failure, with the CLI command that tells whether the record exists when the
/// library says it may (instead of the library's Rust hint).
pub fn create_failed(e: Error, customer: &str) -> CliError {
    let message = create_failed_text(&e, customer);
    let mut cli = match e {
        Error::OutcomeUnknown { source, .. } => CliError::from(*source),
        other => other.into(),
    };
    cli.message = message;
    cli
}

/// A create's error as the CLI says it: an unknown outcome names the command to check with.
pub fn create_failed_text(e: &Error, customer: &str) -> String {
    match e {
        Error::OutcomeUnknown { source, .. } => format!(
            "{}; the identity record may have been created: before trying again, check with \
             `cybrid-identity records list --customer {customer}`",
            crate::args::error_chain(source.as_ref())
        ),
        other => crate::args::error_chain(other),
    }
}

/// Flushes stdout, so a line is seen before the program blocks.
pub fn flush() -> Result<(), CliError> {
    std::io::stdout()
        .flush()
        .map_err(|e| CliError::runtime(format!("stdout: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// An endless source that counts what is taken from it.
    struct Endless(u64);

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(b'A');
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
    }

    #[test]
    fn an_endless_key_file_is_cut_off_at_the_limit() {
        let mut source = Endless(0);
        assert!(
            read_limited(&mut source, MAX_KEY_FILE_BYTES)
                .unwrap()
                .is_none()
        );
        assert!(
            source.0 <= MAX_KEY_FILE_BYTES + 1,
            "read {} bytes",
            source.0
        );
        let small = read_limited(&b"-----BEGIN"[..], MAX_KEY_FILE_BYTES).unwrap();
        assert_eq!(
            small.as_ref().map(|b| b.as_slice()),
            Some(&b"-----BEGIN"[..])
        );
        let exact = vec![0u8; 65_536];
        assert_eq!(
            read_limited(&exact[..], MAX_KEY_FILE_BYTES)
                .unwrap()
                .map(|b| b.len()),
            Some(65_536)
        );
    }
}
