//! `keys create|get|list`: the verification-key calls, with `Client::from_env()`.

use std::io::Write as _;
use std::process::ExitCode;

use cybrid_identity::PostVerificationKey;
use cybrid_identity::emulator::new_guid;

use super::{KEY, PAGE, PER_PAGE, SANDBOX, client, signing_key};
use crate::args::{Args, CliError, Command, Flag};
use crate::output::{out, print_json, print_key};

pub const CREATE: Command = Command {
    name: "keys create",
    summary: "register the signing key's public half, signed over a nonce",
    operand: None,
    flags: &[
        KEY,
        SANDBOX,
        Flag::value("nonce", "TEXT", "the text to sign (default: random)"),
    ],
    about: "",
    run: create,
};

pub const GET: Command = Command {
    name: "keys get",
    summary: "one verification key",
    operand: Some("GUID"),
    flags: &[],
    about: "",
    run: get,
};

pub const LIST: Command = Command {
    name: "keys list",
    summary: "a page of verification keys",
    operand: None,
    flags: &[PAGE, PER_PAGE],
    about: "",
    run: list,
};

fn create(args: &Args) -> Result<ExitCode, CliError> {
    let key = signing_key(args)?;
    let nonce = args
        .value("nonce")
        .map_or_else(|| format!("cybrid-identity {}", new_guid()), str::to_owned);
    let created = client()?.create_verification_key(&PostVerificationKey::new(&key, nonce)?)?;
    print_key(&created, args.json);
    Ok(ExitCode::SUCCESS)
}

fn get(args: &Args) -> Result<ExitCode, CliError> {
    let guid = args.guid_operand()?;
    print_key(&client()?.get_verification_key(guid)?, args.json);
    Ok(ExitCode::SUCCESS)
}

fn list(args: &Args) -> Result<ExitCode, CliError> {
    let list = client()?.list_verification_keys(&super::list_params(args)?)?;
    if args.json {
        print_json(&list);
    } else {
        out!(
            "{} verification keys (page {}, {} per page)",
            list.total,
            list.page,
            list.per_page
        );
        list.objects.iter().for_each(|k| print_key(k, false));
    }
    Ok(ExitCode::SUCCESS)
}
