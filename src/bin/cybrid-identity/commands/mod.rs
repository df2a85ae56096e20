//! The commands, one file a group, and what several of them share: the signing key, list
//! parameters, waiting with progress, the bank's default key.

pub mod attest;
pub mod batch;
pub mod book_file;
pub mod completions;
pub mod emulator;
pub mod journal;
pub mod jwt;
pub mod key_source;
pub mod keys;
pub mod kyc;
pub mod progress_log;
pub mod records;

use std::io::Write as _;
use std::time::{Duration, Instant};

use cybrid_identity::{AttestationState, Client, Error, IdentityRecord, ListParams, WaitOptions};
use serde_json::json;

pub use key_source::{
    AWS_KMS_KEY, KEY, PASSPHRASE_FILE, PKCS11_KEY, PKCS11_MODULE, PKCS11_TOKEN, SANDBOX, signer,
    signing_key,
};

use crate::args::{Args, CliError, Flag};
use crate::output::out;

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

/// A client from the environment's variables that asks for `scopes` (unless
/// `CYBRID_SCOPES` names its own): each command asks for what it needs.
pub fn client_with_scopes(scopes: &[&str]) -> Result<Client, CliError> {
    let builder = cybrid_identity::ClientBuilder::from_vars(|name| std::env::var(name).ok())?;
    let builder = if std::env::var_os("CYBRID_SCOPES").is_some() {
        builder
    } else {
        builder.scopes(scopes.iter().copied())
    };
    Ok(builder.build()?)
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

/// Waiting that prints each state change (as JSON lines with `--json`), to `timeout_s`.
pub fn wait_options(timeout_s: Option<u64>, json: bool) -> WaitOptions {
    let started = Instant::now();
    let options = WaitOptions::default().on_change(move |r| {
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
    match timeout_s {
        Some(secs) => options.timeout(Duration::from_secs(secs)),
        None => options,
    }
}

/// Waits for a final state, printing each state change (as JSON lines with `--json`).
pub fn wait(
    client: &Client,
    guid: &str,
    timeout_s: Option<u64>,
    json: bool,
) -> Result<IdentityRecord, CliError> {
    Ok(client.wait_for_identity_record(guid, &wait_options(timeout_s, json))?)
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
