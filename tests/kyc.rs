//! Today's KYC path from the command line against the emulator: the bank and its features,
//! a customer from a person file, an attested verification passed or failed as the sandbox's
//! `expected_behaviours` say, the path a bank lacks refused before any create, bad person
//! files refused before any request, and a person's data in no output or file of a run.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use cybrid_identity::emulator::Emulator;
use serde_json::{Value, json};

#[path = "support/cli.rs"]
mod cli;
use cli::*;

const FIRST: &str = "Ottoline";
const LAST: &str = "Quennell";
const BIRTH: &str = "1983-07-21";
const NUMBER: &str = "X9402218837";

fn person() -> Value {
    json!({
        "name": {"first": FIRST, "last": LAST},
        "address": {"street": "4 Rue Lamarck", "city": "Paris", "postal_code": "75018", "country_code": "FR"},
        "date_of_birth": BIRTH,
        "identification_numbers": [{"type": "passport", "issuing_country_code": "FR", "identification_number": NUMBER}],
    })
}

fn write(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

fn emulator(features: Option<&[&str]>) -> Emulator {
    let mut builder = Emulator::builder().transition(Duration::from_millis(20));
    if let Some(features) = features {
        builder = builder.bank_features(features.iter().copied());
    }
    builder.start().unwrap()
}

fn requests(emu: &Emulator) -> u64 {
    emu.stats().requests.values().sum()
}

fn all(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

fn json_of(out: &str) -> Value {
    serde_json::from_str(out.lines().next().unwrap()).unwrap()
}

#[test]
fn a_customer_and_an_attested_verification_pass_and_the_customer_is_verified() {
    let emu = emulator(None);
    let dir = Scratch::new("kyc-pass");
    let file = write(&dir.path(""), "person.json", &person());
    let bank = json_of(&succeeds(&mut cli(&emu, &["bank", "--json"])));
    assert_eq!(
        bank["features"],
        json!(["attestation_identity_records", "kyc_identity_verifications"])
    );
    let words = succeeds(&mut cli(&emu, &["bank"]));
    assert!(
        words.contains("it attests with identity records"),
        "{words}"
    );
    let made = json_of(&succeeds(&mut cli(
        &emu,
        &[
            "customers",
            "create",
            "--person",
            &file,
            "--label",
            "bank-7",
            "--json",
        ],
    )));
    let customer = made["guid"].as_str().unwrap().to_owned();
    assert_eq!(made["labels"], json!(["bank-7"]));
    let v = json_of(&succeeds(&mut cli(
        &emu,
        &[
            "verifications",
            "create",
            "--customer",
            &customer,
            "--person",
            &file,
            "--json",
        ],
    )));
    assert_eq!(
        (v["type"].as_str(), v["method"].as_str()),
        (Some("kyc"), Some("attested"))
    );
    let guid = v["guid"].as_str().unwrap();
    let done = json_of(&succeeds(&mut cli(
        &emu,
        &["verifications", "wait", guid, "--json"],
    )));
    assert_eq!(
        (done["state"].as_str(), done["outcome"].as_str()),
        (Some("completed"), Some("passed"))
    );
    let c = json_of(&succeeds(&mut cli(
        &emu,
        &["customers", "get", &customer, "--json"],
    )));
    assert_eq!(c["state"], "verified");
    let listed = succeeds(&mut cli(&emu, &["customers", "list", "--label", "bank-7"]));
    assert!(listed.contains(&customer), "{listed}");
    let listed = succeeds(&mut cli(
        &emu,
        &["verifications", "list", "--customer", &customer],
    ));
    assert!(listed.contains(guid), "{listed}");
    // The sandbox's failed_immediately: failed with requested_failure, exit 1 on the wait.
    let mut failing = person();
    failing["expected_behaviours"] = json!(["failed_immediately"]);
    let file = write(&dir.path(""), "failing.json", &failing);
    let v = json_of(&succeeds(&mut cli(
        &emu,
        &[
            "verifications",
            "create",
            "--customer",
            &customer,
            "--person",
            &file,
            "--json",
        ],
    )));
    let out = run(&mut cli(
        &emu,
        &[
            "verifications",
            "wait",
            v["guid"].as_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(out.status.code(), Some(1), "{}", all(&out));
    let done = json_of(&text(&out.stdout));
    assert_eq!(done["outcome"], "failed");
    assert_eq!(done["failure_codes"], json!(["requested_failure"]));
}

#[test]
fn the_path_a_bank_lacks_is_refused_with_exit_2_before_any_create() {
    let emu = emulator(Some(&["kyc_identity_verifications"]));
    let out = run(&mut attest(
        &emu,
        &["--customer", "c0ffee00c0ffee00c0ffee00c0ffee00"],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert!(
        text(&out.stderr).contains("attestation_identity_records"),
        "{}",
        all(&out)
    );
    assert!(
        text(&out.stderr).contains("verifications create"),
        "{}",
        all(&out)
    );
    assert_eq!(emu.stats().count("POST /api/identity_records"), 0);
    let emu = emulator(Some(&["attestation_identity_records"]));
    let dir = Scratch::new("kyc-refused");
    let file = write(&dir.path(""), "person.json", &person());
    let made = json_of(&succeeds(&mut cli(
        &emu,
        &["customers", "create", "--person", &file, "--json"],
    )));
    let out = run(&mut cli(
        &emu,
        &[
            "verifications",
            "create",
            "--customer",
            made["guid"].as_str().unwrap(),
            "--person",
            &file,
        ],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert!(
        text(&out.stderr).contains("kyc_identity_verifications"),
        "{}",
        all(&out)
    );
    assert!(
        text(&out.stderr).contains("cybrid-identity attest"),
        "{}",
        all(&out)
    );
    assert_eq!(emu.stats().count("POST /api/identity_verifications"), 0);
    // The emulator refuses it too, for a client that does not ask first.
    let client = emu.client().unwrap();
    let p = cybrid_identity::Person::from_json(person().to_string().as_bytes()).unwrap();
    let err = client
        .create_identity_verification(made["guid"].as_str().unwrap(), &p)
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.is_permanent());
}

#[test]
fn bad_person_files_exit_2_naming_the_field_and_sending_nothing() {
    let emu = emulator(None);
    let dir = Scratch::new("kyc-bad");
    let huge = "N".repeat(10 * 1024 * 1024);
    let mut cases: Vec<(Value, &str, String)> = Vec::new();
    let mut missing = person();
    missing["name"].as_object_mut().unwrap().remove("last");
    cases.push((missing, "name.last", LAST.to_owned()));
    let mut date = person();
    date["date_of_birth"] = json!("2031-02-30");
    cases.push((date, "date_of_birth", "2031-02-30".to_owned()));
    let mut country = person();
    country["address"]["country_code"] = json!("ZZ");
    cases.push((country, "address.country_code", "\"ZZ\"".to_owned()));
    let mut big = person();
    big["name"]["first"] = json!(huge);
    cases.push((big, "name.first", "NNNNNNNN".to_owned()));
    for (i, (value, field, secret)) in cases.iter().enumerate() {
        let file = write(&dir.path(""), &format!("bad{i}.json"), value);
        for args in [
            vec!["customers", "create", "--person", file.as_str()],
            vec![
                "verifications",
                "create",
                "--customer",
                "c0ffee00c0ffee00c0ffee00c0ffee00",
                "--person",
                file.as_str(),
            ],
        ] {
            let out = run(&mut cli(&emu, &args));
            let said = all(&out);
            assert_eq!(out.status.code(), Some(2), "{field}: {said}");
            assert!(said.contains(field), "{field}: {said}");
            assert!(!said.contains(secret.as_str()), "{field}: {said}");
            assert!(!said.contains(FIRST) && !said.contains(NUMBER), "{said}");
        }
    }
    assert_eq!(requests(&emu), 0, "a bad person costs 0 requests");
}

#[test]
fn a_run_with_rust_log_trace_leaves_the_persons_data_in_no_output_or_file() {
    let emu = emulator(None);
    let dir = Scratch::new("kyc-trace");
    let file = write(&dir.path(""), "person.json", &person());
    let mut outputs = Vec::new();
    let mut go = |args: &[&str]| {
        let mut cmd = cli(&emu, args);
        cmd.env("RUST_LOG", "trace").current_dir(dir.path(""));
        let out = run(&mut cmd);
        assert!(out.status.success(), "{}", all(&out));
        outputs.push(all(&out));
        text(&out.stdout)
    };
    let made = json_of(&go(&[
        "customers",
        "create",
        "--person",
        &file,
        "--label",
        "b-1",
        "--json",
    ]));
    let customer = made["guid"].as_str().unwrap().to_owned();
    let v = json_of(&go(&[
        "verifications",
        "create",
        "--customer",
        &customer,
        "--person",
        &file,
        "--json",
    ]));
    go(&["verifications", "wait", v["guid"].as_str().unwrap()]);
    go(&["verifications", "list", "--customer", &customer, "--json"]);
    go(&["customers", "get", &customer, "--json"]);
    go(&["customers", "list", "--label", "b-1"]);
    // Every file the runs left (the person file aside), read whole.
    for entry in std::fs::read_dir(dir.path("")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n != "person.json") {
            outputs.push(String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned());
        }
    }
    let seen = outputs.join("\n");
    // Hex rows reassembled, as a reader of a wire dump would.
    let decoded = decode_hex_rows(&seen);
    for secret in [FIRST, LAST, BIRTH, NUMBER] {
        assert!(!seen.contains(secret), "{secret} in:\n{seen}");
        assert!(!decoded.contains(secret), "{secret} in a hex dump");
    }
}

/// Every 16-byte hex-dump row (`0a1b 2c3d …`) of `text`, decoded and joined.
fn decode_hex_rows(text: &str) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        let groups: Vec<&str> = line.split(' ').take(8).collect();
        if groups.len() == 8 && groups.iter().all(|g| g.len() == 4) {
            for pair in groups.iter().flat_map(|g| [&g[..2], &g[2..]]) {
                if let Ok(b) = u8::from_str_radix(pair, 16) {
                    out.push(b);
                }
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn a_verification_refused_by_the_server_never_shows_the_values_it_quotes() {
    use cybrid_identity::emulator::{Fault, FaultKind};
    let _ = (Fault::new(FaultKind::Drop), Command::new("true"));
    // The emulator's 422 names fields only; a server that quotes a value is held off by
    // the client's withholding (see tests/secrets.rs for the echoed token): a scripted 422
    // that quotes the date of birth and the number.
    #[path = "support/mod.rs"]
    mod support;
    let server = support::ScriptedServer::start(|req, _| match req.path() {
        "/oauth/token" => support::token("tok-123456789", 3600),
        _ => support::json(
            422,
            json!({"status": 422, "message_code": "invalid_parameter",
                   "error_message": format!("date_of_birth {BIRTH} and number {NUMBER} are not accepted")}),
        ),
    });
    let client = cybrid_identity::Client::builder()
        .base_url(server.url())
        .token_url(server.token_url())
        .client_credentials("id", "secret-secret")
        .max_retries(0)
        .build()
        .unwrap();
    let p = cybrid_identity::Person::from_json(person().to_string().as_bytes()).unwrap();
    let err = client
        .create_identity_verification("c0ffee00c0ffee00c0ffee00c0ffee00", &p)
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("[redacted]"), "{shown}");
    assert!(!shown.contains(BIRTH) && !shown.contains(NUMBER), "{shown}");
    assert_eq!(err.status(), Some(422));
}
