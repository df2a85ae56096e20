//! `emulator`: Cybrid's identity API on loopback until the process is stopped.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use cybrid_identity::emulator::Emulator;

use super::flush;
use crate::args::{Args, CliError, Command, Flag};
use crate::output::out;

pub const EMULATOR: Command = Command {
    name: "emulator",
    summary: "serve Cybrid's identity API on loopback; one JSON line first",
    operand: None,
    flags: &[
        Flag::number("port", 0, 65_535, "the port (default: any free one)"),
        Flag::number(
            "transition-ms",
            0,
            3_600_000,
            "each lifecycle step's length (default 1000)",
        ),
        Flag::number(
            "token-ttl-s",
            1,
            31_536_000,
            "the tokens' lifetime (default 3600)",
        ),
        Flag::number(
            "latency-ms",
            0,
            60_000,
            "delay every answer by N ms, as a network would",
        ),
        Flag::switch(
            "with-pending",
            "add the pending step between storing and the final state",
        ),
        Flag::switch(
            "expiry-on-verify",
            "set a verified record's expired_at to its token's exp",
        ),
        Flag::value(
            "bank-features",
            "A,B",
            "the bank's features, comma separated (default: attestation_identity_records,kyc_identity_verifications)",
        ),
        Flag::number(
            "rate-limit",
            1,
            1_000_000,
            "N API requests a second (a bucket of N); past it 429 with Retry-After",
        ),
    ],
    about: "Prints one line of JSON (url, token_url, bank_guid, client_id, client_secret,\n\
            verification_key_guid), then serves until interrupted (Ctrl-C or SIGTERM).",
    run: serve,
};

fn serve(args: &Args) -> Result<ExitCode, CliError> {
    let mut builder = Emulator::builder()
        .transition(Duration::from_millis(
            args.number("transition-ms")?.unwrap_or(1000),
        ))
        .with_pending(args.has("with-pending"))
        .expiry_on_verify(args.has("expiry-on-verify"));
    if let Some(features) = args.value("bank-features") {
        let features: Vec<&str> = features.split(',').map(str::trim).collect();
        if features.iter().any(|f| {
            f.is_empty()
                || !f
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        }) {
            return Err(CliError::usage(
                "--bank-features takes feature names (lowercase words and _), comma separated",
            ));
        }
        builder = builder.bank_features(features);
    }
    if let Some(n) = args.number("rate-limit")? {
        // The flag's range fits a u32.
        builder = builder.rate_limit(u32::try_from(n).unwrap_or(u32::MAX));
    }
    if let Some(ms) = args.number("latency-ms")? {
        builder = builder.latency(Duration::from_millis(ms));
    }
    if let Some(port) = args.number("port")? {
        // The flag's range is that of a port.
        builder = builder.port(u16::try_from(port).unwrap_or(0));
    }
    if let Some(ttl) = args.number("token-ttl-s")? {
        builder = builder.token_ttl(Duration::from_secs(ttl));
    }
    let emu = builder.start()?;
    out!("{}", emu.connection_json());
    flush()?;
    // Serve until a signal ends the process. The emulator keeps nothing on disk, so the
    // default action of SIGINT and SIGTERM (end the process; the kernel closes the socket)
    // is a clean stop.
    loop {
        std::thread::park();
    }
}
