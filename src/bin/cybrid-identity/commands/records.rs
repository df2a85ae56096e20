//! `records create|get|list|wait`: the identity-record calls, with `Client::from_env()`.

use std::io::Write as _;
use std::process::ExitCode;

use cybrid_identity::PostIdentityRecord;

use super::{
    CUSTOMER, PAGE, PER_PAGE, TIMEOUT_S, client, create_failed, exit_for, list_params, wait,
};
use crate::args::{Args, CliError, Command, Flag};
use crate::output::{out, print_json, print_record};

pub const CREATE: Command = Command {
    name: "records create",
    summary: "create an attestation identity record from a signed token",
    operand: None,
    flags: &[
        CUSTOMER.required(),
        Flag::value("token", "JWT", "the signed attestation").required(),
    ],
    about: "",
    run: create,
};

pub const GET: Command = Command {
    name: "records get",
    summary: "one identity record",
    operand: Some("GUID"),
    flags: &[],
    about: "",
    run: get,
};

pub const LIST: Command = Command {
    name: "records list",
    summary: "a page of identity records, or every page with --all",
    operand: None,
    flags: &[
        CUSTOMER.repeats(),
        PAGE,
        PER_PAGE,
        Flag::switch("all", "walk every page"),
    ],
    about: "",
    run: list,
};

pub const WAIT: Command = Command {
    name: "records wait",
    summary: "poll until verified, failed or expired, printing each state change",
    operand: Some("GUID"),
    flags: &[TIMEOUT_S],
    about: "",
    run: wait_for,
};

fn create(args: &Args) -> Result<ExitCode, CliError> {
    let customer = args.required_guid("customer")?;
    let post = PostIdentityRecord::attestation(customer, args.required("token")?);
    let record = client()?
        .create_identity_record(&post)
        .map_err(|e| create_failed(e, customer))?;
    print_record(&record, args.json);
    Ok(ExitCode::SUCCESS)
}

fn get(args: &Args) -> Result<ExitCode, CliError> {
    let guid = args.guid_operand()?;
    print_record(&client()?.get_identity_record(guid)?, args.json);
    Ok(ExitCode::SUCCESS)
}

fn list(args: &Args) -> Result<ExitCode, CliError> {
    let client = client()?;
    let params = list_params(args)?;
    if args.has("all") {
        let mut count = 0u64;
        for record in client.identity_records(&params) {
            print_record(&record?, args.json);
            count += 1;
        }
        if !args.json {
            out!("{count} identity records");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let list = client.list_identity_records(&params)?;
    if args.json {
        print_json(&list);
    } else {
        out!(
            "{} identity records (page {}, {} per page)",
            list.total,
            list.page,
            list.per_page
        );
        list.objects.iter().for_each(|r| print_record(r, false));
    }
    Ok(ExitCode::SUCCESS)
}

fn wait_for(args: &Args) -> Result<ExitCode, CliError> {
    // Every argument is checked before the client is built.
    let (guid, timeout_s) = (args.guid_operand()?, args.number("timeout-s")?);
    let done = wait(&client()?, guid, timeout_s, args.json)?;
    print_record(&done, args.json);
    // A final state other than verified is a failure here as in `attest`.
    Ok(exit_for(&done))
}
