//! `attest`: sign, create and wait for one customer's attestation.

use std::io::Write as _;
use std::process::ExitCode;

use cybrid_identity::{Attestation, PostIdentityRecord};

use super::{
    BANK, CUSTOMER, KEY, KID, SANDBOX, TIMEOUT_S, client, create_failed, default_key, exit_for,
    guid_of, signing_key, wait,
};
use crate::args::{Args, CliError, Command};
use crate::output::{out, print_record};

pub const ATTEST: Command = Command {
    name: "attest",
    summary: "sign, create and wait for a customer's attestation, printing each state",
    operand: None,
    flags: &[CUSTOMER.required(), KID, BANK, KEY, SANDBOX, TIMEOUT_S],
    about: "Without --kid, the bank's first verified key is used; without --bank, that key's bank.\n\
            The key: --key FILE (PEM or DER), --sandbox, or CYBRID_ATTESTATION_SIGNING_KEY.\n\
            Exit 0 when the record is verified, 1 otherwise.",
    run: attest,
};

fn attest(args: &Args) -> Result<ExitCode, CliError> {
    // Check every flag before the first request, so a bad value never leaves a record behind.
    let customer = args.required_guid("customer")?;
    let timeout_s = args.number("timeout-s")?;
    let key = signing_key(args)?;
    let client = client()?;
    let vk = match args.value("kid") {
        Some(kid) => client.get_verification_key(kid)?,
        None => default_key(&client)?,
    };
    let kid = vk
        .guid
        .clone()
        .ok_or_else(|| CliError::runtime("the verification key has no guid"))?;
    let bank = match (args.value("bank"), &vk.bank_guid) {
        (Some(bank), _) => bank.to_owned(),
        (None, Some(bank)) => bank.clone(),
        (None, None) => return Err(CliError::usage("the key names no bank: pass --bank")),
    };
    let token = Attestation::new(&bank, customer, &kid).sign(&key)?;
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
