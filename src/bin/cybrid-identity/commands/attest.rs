//! `attest`: sign, create and wait for one customer's attestation.

use std::io::Write as _;
use std::process::ExitCode;

use cybrid_identity::signer::fingerprint;
use cybrid_identity::{AttestationSigner, Client, KycPath, Signer, VerificationKey};

use super::batch::{Plan, attest_book, plan, run_one};
use super::book_file::BookFile;
use super::key_source::with_signer_flags;
use super::kyc::require_path;
use super::{
    AWS_KMS_KEY, BANK, CUSTOMER, KEY, KID, PASSPHRASE_FILE, PKCS11_KEY, PKCS11_MODULE,
    PKCS11_TOKEN, SANDBOX, TIMEOUT_S, client_for, create_failed, exit_for, guid_of, signer,
    wait_options,
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
    about: "With --customer: a book of one (a record in force is adopted, one in progress\n\
            waited for, a record created only when there is none), each state change printed.\n\
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
            Without --kid, the bank's newest verified key whose public key is the signer's;\n\
            none, or a --kid or --bank the signer's tokens would fail against: exit 2, nothing\n\
            created. Without --bank, the key's bank.\n\
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
        for flag in ["concurrency", "shard", "progress-every"] {
            if args.value(flag).is_some() {
                return Err(CliError::usage(format!("--{flag} goes with --customers")));
            }
        }
    }
    let plan = if batch {
        plan(args)?
    } else {
        // One customer is a book of one: adopted if in force, never created twice, with
        // the journal and its locks when --journal is given.
        one_customer_plan(args, &args.required_guid("customer")?.to_ascii_lowercase())?
    };
    for flag in ["kid", "bank"] {
        if args.value(flag).is_some() {
            args.required_guid(flag)?;
        }
    }
    let key = signer(args)?;
    let client = client_for(plan.concurrency)?;
    let vk = match args.value("kid") {
        Some(kid) => named_key(&client, &kid.to_ascii_lowercase())?,
        None => signers_key(&client, &*key, args)?,
    };
    let kid = vk
        .guid
        .clone()
        .ok_or_else(|| CliError::runtime("the verification key has no guid"))?;
    let bank = match (args.value("bank"), &vk.bank_guid) {
        (Some(bank), _) => bank.to_ascii_lowercase(),
        (None, Some(bank)) => bank.clone(),
        (None, None) => return Err(CliError::usage("the key names no bank: pass --bank")),
    };
    // A bank on today's path only (no identity records) would refuse every create.
    match client.get_bank(&bank) {
        Ok(found) => require_path(&found, KycPath::AttestationIdentityRecords)?,
        // Not told (a token without banks:read, say): the creates will say it if so.
        Err(e) => log::warn!("bank {bank}: its features could not be read ({e})"),
    }
    let signer = AttestationSigner::new(key, bank, kid)?;
    // Not verified, another public key, another bank: every token would fail.
    signer.check_key(&vk)?;
    if batch {
        attest_book(args, plan, &client, &signer)
    } else {
        attest_one(args, plan, &client, &signer)
    }
}

/// The key `--kid` names; one that does not exist is a usage mistake (exit 2).
fn named_key(client: &Client, kid: &str) -> Result<VerificationKey, CliError> {
    match client.get_verification_key(kid) {
        Err(e) if e.status() == Some(404) => Err(CliError::input(format!(
            "--kid {kid}: the bank has no verification key of that guid; nothing was created \
             (list them with `cybrid-identity keys list`, or leave --kid out to use the signer's)"
        ))),
        other => Ok(other?),
    }
}

/// The bank's newest verified key whose public key is the signer's; none is exit 2, naming
/// the command that registers it with the same key flags.
fn signers_key(
    client: &Client,
    key: &dyn Signer,
    args: &Args,
) -> Result<VerificationKey, CliError> {
    if let Some(found) = client.verification_key_of(key)? {
        return Ok(found);
    }
    let flags = signer_flags(args);
    Err(CliError::input(format!(
        "the bank has no verified verification key whose public key is the signer's (SHA-256 \
         fingerprint {}): nothing was created; register it with `cybrid-identity keys register{}{flags}`, \
         then run this again",
        fingerprint(key.verifying_key()),
        if flags.is_empty() { "" } else { " " },
    )))
}

/// The signer's flags as given, to repeat in a suggested command.
fn signer_flags(args: &Args) -> String {
    let mut words = Vec::new();
    for flag in [
        "key",
        "passphrase-file",
        "pkcs11-module",
        "pkcs11-token",
        "pkcs11-key",
        "aws-kms-key",
    ] {
        if let Some(value) = args.value(flag) {
            words.push(format!("--{flag} {value}"));
        }
    }
    if args.has("sandbox") {
        words.push("--sandbox".to_owned());
    }
    words.join(" ")
}

/// A plan of one customer: `--journal` and `--settle-s` as a book's.
fn one_customer_plan(args: &Args, customer: &str) -> Result<Plan, CliError> {
    let mut guid = [0u8; 32];
    guid.copy_from_slice(customer.as_bytes());
    Plan::of(
        BookFile {
            guids: vec![guid],
            duplicates: 0,
        },
        args,
        1,
    )
}

/// One customer through the book: each state change printed as `records wait` prints it,
/// the record at the end; exit 0 verified, 1 otherwise.
fn attest_one(
    args: &Args,
    plan: Plan,
    client: &Client,
    signer: &AttestationSigner,
) -> Result<ExitCode, CliError> {
    let wait = wait_options(args.number("timeout-s")?, args.json);
    let (customer, result) = run_one(plan, client, signer, wait)?;
    let attested = result.map_err(|e| create_failed(e, &customer))?;
    let guid = guid_of(&attested.record)?;
    if !args.json {
        let kid = signer.verification_key_guid();
        if attested.created {
            out!("created identity record {guid} for customer {customer} (key {kid})");
        } else {
            out!(
                "customer {customer} already has identity record {guid}: adopted, nothing created"
            );
        }
    }
    print_record(&attested.record, args.json);
    Ok(exit_for(&attested.record))
}
