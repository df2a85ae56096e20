//! `demo`: what an integrator runs, narrated: token, verification key, sign, create, wait,
//! list; then a bad token, to show a failed record and its code.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use cybrid_identity::emulator::{Emulator, new_guid};
use cybrid_identity::time::OffsetDateTime;
use cybrid_identity::{
    Attestation, AttestationState, Client, Environment, IdentityRecord, KycPath, ListParams,
    Person, PostIdentityRecord, SigningKey, WaitOptions, attestation,
};
use serde_json::{Value, json};

use crate::args::{Args, CliError, Command};
use crate::commands::{guid_of, wait};
use crate::output::{describe_record, out};

pub const DEMO: Command = Command {
    name: "demo",
    summary: "the whole flow on an in-process emulator (or Cybrid's sandbox), then one bad token",
    operand: None,
    flags: &[],
    about: "Starts an emulator in-process and runs what an integrator runs: token, verification\n\
            key, sign, create, wait, list; then one bad token to show a failed record and its code;\n\
            then, when the bank has kyc_identity_verifications (the emulator's does), a customer\n\
            and an attested identity verification of a made-up person.\n\
            With CYBRID_CLIENT_ID and CYBRID_CLIENT_SECRET (or CYBRID_ACCESS_TOKEN) set, it runs against\n\
            Cybrid's sandbox instead, for the customer in CYBRID_CUSTOMER_GUID. Never production: it\n\
            signs with the sandbox key Cybrid publishes, which proves nothing there.",
    run: demo,
};

/// Prints a step of the demo: words for people, a JSON line for scripts.
struct Narrator {
    json: bool,
}

impl Narrator {
    fn say(&self, step: &str, text: &str, data: Value) {
        if self.json {
            out!("{}", json!({"step": step, "data": data}));
        } else {
            out!("{text}");
        }
    }
}

/// Where the demo runs: Cybrid's sandbox with the environment's credentials, or an emulator
/// kept alive for the whole demo.
struct Stage {
    _emulator: Option<Emulator>,
    client: Client,
    customer: String,
}

fn stage(say: &Narrator) -> Result<Stage, CliError> {
    let real = std::env::var_os("CYBRID_ACCESS_TOKEN").is_some()
        || std::env::var_os("CYBRID_CLIENT_ID").is_some();
    if !real {
        let emu = Emulator::builder()
            .transition(Duration::from_millis(500))
            .start()?;
        say.say(
            "start",
            &format!("Started an emulator of Cybrid's identity API at {} (bank {}); nothing leaves this machine.", emu.url(), emu.bank_guid()),
            json!({"url": emu.url(), "bank_guid": emu.bank_guid()}),
        );
        return Ok(Stage {
            client: emu.client()?,
            _emulator: Some(emu),
            customer: new_guid(),
        });
    }
    let production = std::env::var("CYBRID_ENVIRONMENT")
        .ok()
        .and_then(|v| v.parse::<Environment>().ok())
        == Some(Environment::Production);
    let client = Client::from_env()?;
    if production || client.base_url() == Environment::Production.base_url() {
        return Err(CliError::usage(
            "the demo does not run against production: it signs with the sandbox key that Cybrid \
             publishes, which proves nothing there (use CYBRID_ENVIRONMENT=sandbox, or unset the credentials for the emulator)",
        ));
    }
    let customer = std::env::var("CYBRID_CUSTOMER_GUID").map_err(|_| {
        CliError::usage("against Cybrid's sandbox the demo needs CYBRID_CUSTOMER_GUID: an existing customer's guid")
    })?;
    say.say(
        "start",
        &format!(
            "Using Cybrid at {} (credentials from the environment).",
            client.base_url()
        ),
        json!({"url": client.base_url()}),
    );
    Ok(Stage {
        _emulator: None,
        client,
        customer,
    })
}

fn demo(args: &Args) -> Result<ExitCode, CliError> {
    let say = Narrator { json: args.json };
    let Stage {
        _emulator,
        client,
        customer,
    } = stage(&say)?;
    client.authenticate()?;
    say.say(
        "token",
        "1. Exchanged the client id and secret for an access token (OAuth 2.0 client credentials).",
        json!({}),
    );

    // The key registered for the sandbox key's public half (not merely the first listed).
    let vk = client.verification_key_of(&SigningKey::sandbox())?.ok_or_else(|| {
        CliError::input(
            "the bank has no verified verification key for the sandbox key: register it with `cybrid-identity keys register --sandbox`",
        )
    })?;
    let (kid, bank) = (
        vk.guid.clone().unwrap_or_default(),
        vk.bank_guid.clone().unwrap_or_default(),
    );
    say.say(
        "verification_key",
        &format!("2. The bank's verification key is {kid}, state verified: the public half of the sandbox signing key."),
        json!({"guid": kid, "bank_guid": bank}),
    );

    let key = SigningKey::sandbox();
    let token = Attestation::new(&bank, &customer, &kid).sign(&key)?;
    let preflight = attestation::check(
        &token,
        Some(key.verifying_key()),
        &attestation::Expected {
            bank_guid: &bank,
            customer_guid: &customer,
            now: OffsetDateTime::now_utc(),
        },
    );
    say.say(
        "sign",
        &format!(
            "3. Signed an RS512 attestation JWT for customer {customer} ({} characters); pre-flight check: {}.",
            token.len(),
            preflight.as_ref().map_or_else(|c| format!("would fail with {c}"), |_| "passes".to_owned())
        ),
        json!({"customer_guid": customer, "token_chars": token.len()}),
    );

    let good = create_and_wait(&client, &say, "4", &customer, token)?;
    let listed = client.list_identity_records(ListParams::new().customer_guid(&customer))?;
    say.say(
        "list",
        &format!(
            "5. Listed the customer's identity records: {} in all, the newest {}.",
            listed.total,
            listed
                .objects
                .first()
                .map_or_else(|| "missing".to_owned(), describe_record)
        ),
        json!({"total": listed.total}),
    );
    let bad = bad_token(&client, &say, &customer, &bank, &kid, &key)?;
    let attested = finish(&say, &good, &bad);
    // The other path, when the bank has it: a customer and an attested verification.
    let verified = match client.get_bank(&bank) {
        Ok(found) if found.allows(KycPath::AttestedIdentityVerifications) => {
            verification_steps(&client, &say)?
        }
        _ => true,
    };
    Ok(if attested && verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A made-up person of the sandbox's: never a real one's data in a demo.
const DEMO_PERSON: &[u8] = br#"{"name": {"first": "Demo", "last": "Person"},
  "address": {"street": "1 Sandbox Street", "city": "Toronto", "subdivision": "ON", "country_code": "CA"},
  "date_of_birth": "1990-01-01",
  "identification_numbers": [{"type": "passport", "issuing_country_code": "CA", "identification_number": "DEMO0001"}]}"#;

/// Steps 8 and 9: today's path, a customer and an attested identity verification.
fn verification_steps(client: &Client, say: &Narrator) -> Result<bool, CliError> {
    let person = Person::from_json(DEMO_PERSON)?;
    let customer = client.create_customer(&person, &[])?;
    let guid = customer.guid.clone().unwrap_or_default();
    say.say(
        "customer",
        &format!("8. The bank has kyc_identity_verifications too: created customer {guid} (a made-up person)."),
        json!({"guid": guid}),
    );
    let made = client.create_identity_verification(&guid, &person)?;
    let done = client.wait_for_identity_verification(
        made.guid.as_deref().unwrap_or_default(),
        &WaitOptions::default(),
    )?;
    say.say(
        "verification",
        &format!(
            "9. Created an attested identity verification: {}, outcome {}.",
            done.state.as_ref().map_or("?", |s| s.as_str()),
            done.outcome.as_ref().map_or("none", |o| o.as_str())
        ),
        json!({"guid": done.guid, "state": done.state, "outcome": done.outcome}),
    );
    Ok(done.passed())
}

/// Steps 6 and 7: a token that claims another bank, pre-flighted, then sent.
fn bad_token(
    client: &Client,
    say: &Narrator,
    customer: &str,
    bank: &str,
    kid: &str,
    key: &SigningKey,
) -> Result<IdentityRecord, CliError> {
    let wrong_bank = "00000000000000000000000000000000";
    let bad_token = Attestation::new(wrong_bank, customer, kid).sign(key)?;
    let verdict = attestation::check(
        &bad_token,
        Some(key.verifying_key()),
        &attestation::Expected {
            bank_guid: bank,
            customer_guid: customer,
            now: OffsetDateTime::now_utc(),
        },
    );
    say.say(
        "bad_token",
        &format!(
            "6. Now a bad token: signed claiming bank {wrong_bank}. Pre-flight says it would fail with {}.",
            verdict.err().map_or_else(|| "nothing".to_owned(), |c| c.to_string())
        ),
        json!({}),
    );
    create_and_wait(client, say, "7", customer, bad_token)
}

fn finish(say: &Narrator, good: &IdentityRecord, bad: &IdentityRecord) -> bool {
    let ok = good.state() == Some(&AttestationState::Verified)
        && bad.state() == Some(&AttestationState::Failed);
    say.say(
        "done",
        &format!(
            "Done: the good record is {}, the bad one {} with failure code {}.",
            good.state().map_or("?", |s| s.as_str()),
            bad.state().map_or("?", |s| s.as_str()),
            bad.failure_code().map_or("none", |c| c.as_str())
        ),
        json!({"good": good, "bad": bad}),
    );
    ok
}

fn create_and_wait(
    client: &Client,
    say: &Narrator,
    step: &str,
    customer: &str,
    token: String,
) -> Result<IdentityRecord, CliError> {
    let created =
        client.create_identity_record(&PostIdentityRecord::attestation(customer, token))?;
    let guid = guid_of(&created)?;
    say.say(
        "create",
        &format!(
            "{step}. Created identity record {guid}; Cybrid answered {}. Waiting for a final state:",
            created.state().map_or("?", |s| s.as_str())
        ),
        json!({"guid": guid}),
    );
    wait(client, &guid, None, say.json)
}
