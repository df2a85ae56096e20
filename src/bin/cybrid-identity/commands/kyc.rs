//! Today's KYC path from a shell: `bank`, `customers create|get|list`, `verifications
//! create|get|list|wait`. A person's data is read from a file (`--person FILE`, or `-` for
//! standard input), never from a flag's value, which shell history and `ps` would show.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;
use std::time::Duration;

use cybrid_identity::{
    Bank, Client, Customer, CustomerListParams, IdentityVerification, KycPath, Person,
    VerificationListParams, WaitOptions,
};
use serde_json::json;
use zeroize::Zeroizing;

use super::key_source::open_key_file;
use super::{CUSTOMER, PAGE, PER_PAGE, TIMEOUT_S, client_with_scopes};
use crate::args::{Args, CliError, Command, Flag};
use crate::output::{out, print_json};

const PERSON: Flag = Flag::value(
    "person",
    "FILE",
    "the person: one JSON object with Cybrid's field names (name, address, date_of_birth, identification_numbers), or - for standard input",
);
const LABEL: Flag = Flag::value(
    "label",
    "L",
    "the bank's own id for the customer (1-64 characters)",
);
const BANK: Flag = Flag::value(
    "bank",
    "GUID",
    "the bank's guid (default: CYBRID_BANK_GUID, else the one bank the credentials see)",
)
.env("CYBRID_BANK_GUID");

pub const BANK_CMD: Command = Command {
    name: "bank",
    summary: "the bank's features, and which KYC path it attests with",
    operand: None,
    flags: &[BANK],
    about: "A bank with attestation_identity_records attests with JWTs signed by its key\n\
            (`attest`); one with kyc_identity_verifications sends the person's data in an\n\
            attested identity verification (`customers create`, `verifications create`).",
    run: bank,
};

pub const CUSTOMERS_CREATE: Command = Command {
    name: "customers create",
    summary: "create an individual customer from a person file",
    operand: None,
    flags: &[PERSON.required(), LABEL.repeats()],
    about: "The person is checked before anything is sent (exit 2 naming the field, never\n\
            its value). Prints the customer's guid; nothing of the person is printed.",
    run: customers_create,
};

pub const CUSTOMERS_GET: Command = Command {
    name: "customers get",
    summary: "one customer (no personal data is printed)",
    operand: Some("GUID"),
    flags: &[],
    about: "",
    run: customers_get,
};

pub const CUSTOMERS_LIST: Command = Command {
    name: "customers list",
    summary: "a page of customers, by label, or every page with --all",
    operand: None,
    flags: &[
        LABEL.repeats(),
        PAGE,
        PER_PAGE,
        Flag::switch("all", "walk every page"),
    ],
    about: "",
    run: customers_list,
};

pub const VERIFICATIONS_CREATE: Command = Command {
    name: "verifications create",
    summary: "create an attested KYC identity verification of a customer from a person file",
    operand: None,
    flags: &[CUSTOMER.required(), PERSON.required(), BANK],
    about: "type kyc, method attested. Refused with exit 2 before any create when the bank\n\
            lacks the kyc_identity_verifications feature. In the sandbox, the person file's\n\
            expected_behaviours ([\"failed_immediately\"]) chooses a failed outcome.",
    run: verifications_create,
};

pub const VERIFICATIONS_GET: Command = Command {
    name: "verifications get",
    summary: "one identity verification",
    operand: Some("GUID"),
    flags: &[],
    about: "",
    run: verifications_get,
};

pub const VERIFICATIONS_LIST: Command = Command {
    name: "verifications list",
    summary: "a page of identity verifications, by customer, or every page with --all",
    operand: None,
    flags: &[
        CUSTOMER.repeats(),
        PAGE,
        PER_PAGE,
        Flag::switch("all", "walk every page"),
    ],
    about: "",
    run: verifications_list,
};

pub const VERIFICATIONS_WAIT: Command = Command {
    name: "verifications wait",
    summary: "poll until completed or expired; exit 0 only when it passed",
    operand: Some("GUID"),
    flags: &[TIMEOUT_S],
    about: "",
    run: verifications_wait,
};

/// A client that asks for the scopes a command needs, and no more (unless CYBRID_SCOPES
/// says otherwise): a key granted only reads can still read.
fn kyc_client(scopes: &[&str]) -> Result<Client, CliError> {
    client_with_scopes(scopes)
}

const BANKS_READ: &[&str] = &["banks:read"];
const CUSTOMERS_READ: &[&str] = &["customers:read"];
const CUSTOMERS_EXECUTE: &[&str] = &["customers:execute"];
const VERIFICATIONS_READ: &[&str] = &["identity_verifications:read"];
/// Creating a verification reads the bank's features first.
const VERIFICATIONS_EXECUTE: &[&str] = &["banks:read", "identity_verifications:execute"];

/// The bank: `--bank`/`CYBRID_BANK_GUID`, else the one the credentials see.
pub fn the_bank(client: &Client, given: Option<&str>) -> Result<Bank, CliError> {
    if let Some(guid) = given {
        return Ok(client.get_bank(&guid.to_ascii_lowercase())?);
    }
    let mut banks = client.list_banks()?;
    match banks.len() {
        1 => Ok(banks.remove(0)),
        n => Err(CliError::usage(format!(
            "the credentials see {n} banks: pass --bank GUID (or set CYBRID_BANK_GUID)"
        ))),
    }
}

/// Exit 2, before any create, when the bank's features lack `path`: naming the feature and
/// the command to use instead.
pub fn require_path(bank: &Bank, path: KycPath) -> Result<(), CliError> {
    if bank.allows(path) {
        return Ok(());
    }
    let instead = match path {
        KycPath::AttestationIdentityRecords => {
            "it attests with identity verifications: use `cybrid-identity customers create` and `cybrid-identity verifications create`"
        }
        _ => "it attests with identity records: use `cybrid-identity attest`",
    };
    Err(CliError::input(format!(
        "bank {} does not have the {} feature, so nothing was created; {instead}",
        bank.guid.as_deref().unwrap_or("?"),
        path.feature()
    )))
}

fn bank(args: &Args) -> Result<ExitCode, CliError> {
    let bank = the_bank(&kyc_client(BANKS_READ)?, args.value("bank"))?;
    let features: Vec<&str> = bank.features.iter().map(|f| f.as_str()).collect();
    let paths: Vec<&str> = bank.kyc_paths().iter().map(|p| p.feature()).collect();
    if args.json {
        out!(
            "{}",
            json!({"guid": bank.guid, "name": bank.name, "type": bank.bank_type,
                   "features": features, "kyc_paths": paths})
        );
        return Ok(ExitCode::SUCCESS);
    }
    out!(
        "bank {} ({}): features {}",
        bank.guid.as_deref().unwrap_or("?"),
        bank.name.as_deref().unwrap_or("?"),
        features.join(", ")
    );
    let words: Vec<&str> = bank
        .kyc_paths()
        .iter()
        .map(|p| match p {
            KycPath::AttestationIdentityRecords => {
                "identity records: JWTs signed with the bank's registered key (`cybrid-identity attest`)"
            }
            _ => "attested identity verifications: the person's data sent to Cybrid (`cybrid-identity verifications create`)",
        })
        .collect();
    if words.is_empty() {
        out!("it attests with neither KYC path: ask Cybrid to enable one");
    } else {
        out!("it attests with {}", words.join("; and "));
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads and checks the person file (exit 2 naming the field, never the value).
fn person(args: &Args) -> Result<Person, CliError> {
    let source = args.required("person")?;
    let limit = cybrid_identity::MAX_PERSON_FILE_BYTES as u64;
    let mut bytes = Zeroizing::new(Vec::new());
    let read = if source == "-" {
        std::io::stdin().take(limit + 1).read_to_end(&mut bytes)
    } else {
        let file = open_key_file(source)
            .map_err(|e| CliError::input(format!("cannot read {source}: {e}")))?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return Err(CliError::input(format!("{source} is not a regular file")));
        }
        file.take(limit + 1).read_to_end(&mut bytes)
    };
    read.map_err(|e| CliError::input(format!("cannot read {source}: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(CliError::input(format!(
            "{source}: more than {limit} bytes: not a person file"
        )));
    }
    Person::from_json(&bytes).map_err(|e| CliError::input(format!("{source}: {e}")))
}

fn labels(args: &Args) -> Vec<String> {
    args.value("label")
        .map(|l| l.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

fn print_customer(c: &Customer, json: bool) {
    if json {
        print_json(c);
        return;
    }
    out!(
        "customer {}  state {}  labels {}",
        c.guid.as_deref().unwrap_or("?"),
        c.state.as_ref().map_or("?", |s| s.as_str()),
        c.labels.as_deref().unwrap_or_default().join(",")
    );
}

fn print_verification(v: &IdentityVerification, json: bool) {
    if json {
        print_json(v);
        return;
    }
    out!(
        "identity verification {}  customer {}  state {}  outcome {}  failure_codes [{}]",
        v.guid.as_deref().unwrap_or("?"),
        v.customer_guid.as_deref().unwrap_or("?"),
        v.state.as_ref().map_or("?", |s| s.as_str()),
        v.outcome.as_ref().map_or("none", |o| o.as_str()),
        v.failure_codes.as_deref().unwrap_or_default().join(", ")
    );
}

fn customers_create(args: &Args) -> Result<ExitCode, CliError> {
    // Every input checked before the client is made.
    let person = person(args)?;
    let labels = labels(args);
    let made = kyc_client(CUSTOMERS_EXECUTE)?.create_customer(&person, &labels)?;
    print_customer(&made, args.json);
    Ok(ExitCode::SUCCESS)
}

fn customers_get(args: &Args) -> Result<ExitCode, CliError> {
    let guid = args.guid_operand()?;
    print_customer(&kyc_client(CUSTOMERS_READ)?.get_customer(guid)?, args.json);
    Ok(ExitCode::SUCCESS)
}

fn customers_list(args: &Args) -> Result<ExitCode, CliError> {
    let mut params = CustomerListParams::new();
    for label in labels(args) {
        params = params.label(label);
    }
    let (page, per_page) = page_flags(args)?;
    let client = kyc_client(CUSTOMERS_READ)?;
    (params.page, params.per_page) = (page, per_page);
    if args.has("all") {
        // The library's pager: every page, a repeated page an error, never a loop.
        for customer in client.customers(&params) {
            print_customer(&customer?, args.json);
        }
    } else {
        let list = client.list_customers(&params)?;
        list.objects
            .iter()
            .for_each(|c| print_customer(c, args.json));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--page` and `--per-page` (their declared ranges fit a u32).
fn page_flags(args: &Args) -> Result<(Option<u32>, Option<u32>), CliError> {
    let narrow = |n: Option<u64>| n.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    Ok((
        narrow(args.number("page")?),
        narrow(args.number("per-page")?),
    ))
}

fn verifications_create(args: &Args) -> Result<ExitCode, CliError> {
    let customer = args.required_guid("customer")?.to_ascii_lowercase();
    let person = person(args)?;
    let client = kyc_client(VERIFICATIONS_EXECUTE)?;
    let bank = the_bank(&client, args.value("bank"))?;
    require_path(&bank, KycPath::AttestedIdentityVerifications)?;
    let made = client.create_identity_verification(&customer, &person)?;
    print_verification(&made, args.json);
    Ok(ExitCode::SUCCESS)
}

fn verifications_get(args: &Args) -> Result<ExitCode, CliError> {
    let guid = args.guid_operand()?;
    print_verification(
        &kyc_client(VERIFICATIONS_READ)?.get_identity_verification(guid)?,
        args.json,
    );
    Ok(ExitCode::SUCCESS)
}

fn verifications_list(args: &Args) -> Result<ExitCode, CliError> {
    let mut params = VerificationListParams::new();
    if let Some(customers) = args.value("customer") {
        for c in customers.split(',').filter(|c| !c.is_empty()) {
            params = params.customer_guid(c.to_ascii_lowercase());
        }
    }
    let (page, per_page) = page_flags(args)?;
    let client = kyc_client(VERIFICATIONS_READ)?;
    (params.page, params.per_page) = (page, per_page);
    if args.has("all") {
        for verification in client.identity_verifications(&params) {
            print_verification(&verification?, args.json);
        }
    } else {
        let list = client.list_identity_verifications(&params)?;
        list.objects
            .iter()
            .for_each(|v| print_verification(v, args.json));
    }
    Ok(ExitCode::SUCCESS)
}

fn verifications_wait(args: &Args) -> Result<ExitCode, CliError> {
    let guid = args.guid_operand()?;
    let mut options = WaitOptions::default();
    if let Some(secs) = args.number("timeout-s")? {
        options = options.timeout(Duration::from_secs(secs));
    }
    let done = kyc_client(VERIFICATIONS_READ)?.wait_for_identity_verification(guid, &options)?;
    print_verification(&done, args.json);
    Ok(if done.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
