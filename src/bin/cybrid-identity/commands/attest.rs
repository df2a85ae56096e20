//! `attest`: sign, create and wait for one customer's attestation.

use std::io::Write as _;
use std::process::ExitCode;

use cybrid_identity::{
    Attestation, AttestationSigner, PostIdentityRecord, VerificationKey, VerificationKeyState,
};

use super::batch::{attest_book, plan};
use super::key_source::with_signer_flags;
use super::{
    AWS_KMS_KEY, BANK, CUSTOMER, KEY, KID, PASSPHRASE_FILE, PKCS11_KEY, PKCS11_MODULE,
    PKCS11_TOKEN, SANDBOX, TIMEOUT_S, client, client_for, create_failed, default_key, exit_for,
    guid_of, signer, wait,
};
use crate::args::{Args, CliError, Command, Flag};
use crate::output::{out, print_record};

pub const ATTEST: Command = Command {
    name: "attest",
    summary: "attest one customer (--customer) or a whole book (--customers FILE), to verified",
    operand: None,
    flags: with_signer_flags!(
        [
            CUSTOMER,
            Flag::value(
                "customers",
                "FILE",
                "a book: one guid a line, or - for standard input",
            ),
            Flag::number(
                "concurrency",
                1,
                256,
                "customers attested at once (default 8)",
            ),
            Flag::value(
                "journal",
                "FILE",
                "JSON Lines write-ahead log: an intent before each create, each outcome; a rerun skips the verified and waits out the in doubt",
            ),
            Flag::number(
                "settle-s",
                0,
                86_400,
                "how long a create of unknown outcome may still land (default 60)",
            ),
            Flag::value(
                "shard",
                "K/N",
                "only the customers of shard K (from 0) of N",
            ),
            Flag::number(
                "progress-every",
                0,
                86_400,
                "with stderr not a terminal: a progress line every N seconds (default 30; 0: none)",
            ),
            KID,
            BANK,
        ],
        [TIMEOUT_S,]
    ),
    about: "With --customer: signs, creates and waits, printing each state change.\n\
            With --customers: the book through the library's Book (a record in force is\n\
            adopted, one in progress waited for, never duplicated; 100 customers listed a\n\
            call), a summary line at the end. Progress on stderr: a line redrawn in place on\n\
            a terminal; elsewhere (a log) one logfmt line every --progress-every seconds\n\
            (done= total= verified= failed= errors= in_doubt= in_flight= rate=), a JSON\n\
            object with --json.\n\
            Guids are lowercased and attested in sorted order. Keep the journal: without it a\n\
            rerun within --settle-s of a killed run may duplicate the creates it had in flight.\n\
            Runs sharing a journal on one machine hold each customer with a lock on it: a\n\
            customer another run holds is set aside and adopted when that run is done.\n\
            Shards: FNV-1a 64 of the lowercase guid, modulo N.\n\
            Without --kid, the bank's first verified key is used; without --bank, that key's bank.\n\
            The key: --key FILE (PEM or DER; encrypted with its passphrase from\n\
            CYBRID_ATTESTATION_KEY_PASSPHRASE or --passphrase-file), --sandbox,\n\
            CYBRID_ATTESTATION_SIGNING_KEY, or an HSM: --pkcs11-module PATH --pkcs11-token LABEL\n\
            --pkcs11-key LABEL with the PIN in CYBRID_PKCS11_PIN.\n\
            Exit 0: every customer verified; 1: some failed or ended in an error (a rerun may\n\
            help); 2: bad input or usage (a rerun will not); 3: stopped before the end (the\n\
            journal unwritable, listings failing, the signer gone, SIGTERM or SIGINT): a rerun\n\
            with the same journal resumes. On SIGTERM/SIGINT nothing new is sent, what is in\n\
            flight gets 5 s, every outcome is written; a second signal exits at once.",
    run: attest,
};

fn attest(args: &Args) -> Result<ExitCode, CliError> {
    // Check every flag before the first request, so a bad value never leaves a record behind.
    let batch = match (args.value("customer"), args.value("customers")) {
        (Some(_), Some(_)) => {
            return Err(CliError::usage(
                "--customer and --customers exclude each other",
            ));
        }
        (None, None) => {
            return Err(CliError::usage(
                "--customer GUID or --customers FILE is required",
            ));
        }
        (_, customers) => customers.is_some(),
    };
    if !batch {
        for flag in [
            "concurrency",
            "journal",
            "shard",
            "settle-s",
            "progress-every",
        ] {
            if args.value(flag).is_some() {
                return Err(CliError::usage(format!("--{flag} goes with --customers")));
            }
        }
    }
    let plan = if batch { Some(plan(args)?) } else { None };
    let customer = if batch {
        ""
    } else {
        args.required_guid("customer")?
    };
    let timeout_s = args.number("timeout-s")?;
    for flag in ["kid", "bank"] {
        if args.value(flag).is_some() {
            args.required_guid(flag)?;
        }
    }
    let key = signer(args)?;
    let client = match &plan {
        Some(plan) => client_for(plan.concurrency)?,
        None => client()?,
    };
    let vk = match args.value("kid") {
        Some(kid) => client.get_verification_key(kid)?,
        None => default_key(&client)?,
    };
    let kid = vk
        .guid
        .clone()
        .ok_or_else(|| CliError::runtime("the verification key has no guid"))?;
    check_verified(&vk, &kid)?;
    let bank = match (args.value("bank"), &vk.bank_guid) {
        (Some(bank), _) => bank.to_owned(),
        (None, Some(bank)) => bank.clone(),
        (None, None) => return Err(CliError::usage("the key names no bank: pass --bank")),
    };
    if let Some(plan) = plan {
        let signer = AttestationSigner::new(key, bank, kid)?;
        return attest_book(args, plan, &client, &signer);
    }
    let token = Attestation::new(&bank, customer, &kid).sign(&*key)?;
    let created = client
        .create_identity_record(&PostIdentityRecord::attestation(customer, token))
        .map_err(|e| create_failed(e, customer))?;
    let guid = guid_of(&created)?;
    if !args.json {
        out!("created identity record {guid} for customer {customer} (key {kid})");
    }
    let done = wait(&client, &guid, timeout_s, args.json)?;
    print_record(&done, args.json);
    Ok(exit_for(&done))
}

/// A token naming a key that is not verified makes a failed record, every rerun: refused
/// before the first create.
fn check_verified(vk: &VerificationKey, kid: &str) -> Result<(), CliError> {
    if vk.state == Some(VerificationKeyState::Verified) {
        return Ok(());
    }
    let state = vk.state.as_ref().map_or("without a state", |s| s.as_str());
    let code = vk
        .failure_code
        .as_ref()
        .map(|c| format!(" (failure code {c})"))
        .unwrap_or_default();
    Err(CliError::runtime(format!(
        "verification key {kid} is {state}{code}, not verified: no record was created; \
         register a key with `cybrid-identity keys register` and pass its guid as --kid"
    )))
}
