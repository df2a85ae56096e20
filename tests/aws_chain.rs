//! The AWS credential chain wherever AWS runs the program, against moto on loopback and a
//! small server of the test's own standing in for the ECS agent: instance metadata (IMDSv2)
//! signs a token with KMS; a profile's `role_arn` with `source_profile` assumes the role
//! through STS and registers a key; a profile's `credential_process` signs a token; the
//! container endpoint with its authorization token, refreshed before expiry and kept when a
//! refresh fails; and each misconfiguration named, with no secret in the output.
//!
//! No test here sends a packet to a link-local address: every run points the instance
//! metadata service at loopback or switches it off, and the container endpoint is a
//! loopback URI. Without moto these tests print why they skip; `.ci/run` installs it.

use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cybrid_identity::Signer as _;
use cybrid_identity::aws::AwsKmsSigner;
use cybrid_identity::emulator::Emulator;
use serde_json::json;

#[path = "support/cli.rs"]
mod cli;
#[path = "support/moto_server.rs"]
mod moto_server;
#[path = "support/real.rs"]
mod real;
#[path = "support/mod.rs"]
mod support;
use cli::{Scratch, text};
use moto_server::Moto;

const G: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
const SOURCE_SECRET: &str = "source-profile-secret-7d41a9";
const CONTAINER_TOKEN: &str = "container-auth-token-55e2c0";

/// `cybrid-identity ARGS` against `emu` and `moto`, with no AWS variable of this machine's
/// and the instance metadata service at `imds` (or off).
fn run(emu: &Emulator, moto: &Moto, args: &[&str], setup: impl FnOnce(&mut Command)) -> Output {
    let mut cmd = cli::cli(emu, args);
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_DEFAULT_REGION",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ENDPOINT_URL", &moto.url)
        // moto 5.2 does not implement MessageType DIGEST (see tests/aws_kms.rs).
        .env("CYBRID_AWS_KMS_MESSAGE_TYPE", "RAW");
    setup(&mut cmd);
    cmd.output().unwrap()
}

fn all(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

fn sign(key: &str) -> Vec<String> {
    [
        "jwt",
        "sign",
        "--bank",
        G,
        "--customer",
        G,
        "--kid",
        G,
        "--aws-kms-key",
        key,
    ]
    .map(str::to_owned)
    .to_vec()
}

fn args(words: &[String]) -> Vec<&str> {
    words.iter().map(String::as_str).collect()
}

#[test]
fn instance_metadata_from_moto_signs_a_token() {
    let Some(moto) = Moto::start(false) else {
        return;
    };
    let key = moto.setup("plain")["key_id"].as_str().unwrap().to_owned();
    let emu = Emulator::start().unwrap();
    let words = sign(&key);
    let out = run(&emu, &moto, &args(&words), |cmd| {
        cmd.env("AWS_REGION", "us-east-1")
            .env_remove("AWS_EC2_METADATA_DISABLED")
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &moto.url);
    });
    assert!(out.status.success(), "{}", all(&out));
    assert_eq!(text(&out.stdout).trim().split('.').count(), 3);
}

#[test]
fn a_profile_with_role_arn_and_source_profile_assumes_the_role_and_registers_a_key() {
    let Some(moto) = Moto::start(false) else {
        return;
    };
    let key = moto.setup("plain")["key_id"].as_str().unwrap().to_owned();
    let emu = Emulator::builder()
        .transition(std::time::Duration::from_millis(10))
        .start()
        .unwrap();
    let dir = Scratch::new("aws-profile");
    std::fs::write(
        dir.path("credentials"),
        format!("[base]\naws_access_key_id = testing\naws_secret_access_key = {SOURCE_SECRET}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path("config"),
        "[profile attest]\nrole_arn = arn:aws:iam::123456789012:role/cybrid-attest\nsource_profile = base\nexternal_id = bank-ext-42\nrole_session_name = attest-book-0\nduration_seconds = 3600\nregion = us-east-1\n",
    )
    .unwrap();
    let files = |cmd: &mut Command| {
        cmd.env("AWS_SHARED_CREDENTIALS_FILE", dir.path("credentials"))
            .env("AWS_CONFIG_FILE", dir.path("config"));
    };
    // The region from the profile: no AWS_REGION.
    let out = run(
        &emu,
        &moto,
        &["keys", "register", "--aws-kms-key", &key],
        |cmd| {
            files(cmd);
            cmd.env("AWS_PROFILE", "attest").env_remove("AWS_REGION");
        },
    );
    assert!(out.status.success(), "{}", all(&out));
    assert_eq!(text(&out.stdout).trim().len(), 32, "{}", all(&out));
    assert!(!all(&out).contains(SOURCE_SECRET));
}

#[test]
fn a_profile_with_credential_process_signs_a_token() {
    let Some(moto) = Moto::start(false) else {
        return;
    };
    let key = moto.setup("plain")["key_id"].as_str().unwrap().to_owned();
    let emu = Emulator::start().unwrap();
    let dir = Scratch::new("aws-process");
    let script = dir.path("creds.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'a secret on stderr: process-stderr-secret' >&2\nprintf '{\"Version\": 1, \"AccessKeyId\": \"testing\", \"SecretAccessKey\": \"process-secret-key-91\", \"SessionToken\": \"process-session-token-17\"}'\n",
    )
    .unwrap();
    std::fs::write(
        dir.path("config"),
        format!(
            "[profile dev]\ncredential_process = sh {}\nregion = us-east-1\n",
            script.display()
        ),
    )
    .unwrap();
    let words = sign(&key);
    let out = run(&emu, &moto, &args(&words), |cmd| {
        cmd.env("AWS_CONFIG_FILE", dir.path("config"))
            .env("AWS_PROFILE", "dev")
            .env_remove("AWS_REGION");
    });
    assert!(out.status.success(), "{}", all(&out));
    let said = all(&out);
    for secret in [
        "process-stderr-secret",
        "process-secret-key-91",
        "process-session-token-17",
    ] {
        assert!(!said.contains(secret), "{said}");
    }
}

/// A stand-in for the ECS agent: credentials for the authorization token only, valid for
/// two minutes (inside the refresh margin: each use asks again); after `good` answers, 500s.
fn container(good: usize) -> (support::ScriptedServer, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let server = support::ScriptedServer::start(move |req, _| {
        let n = counted.fetch_add(1, Ordering::SeqCst);
        if req.header("authorization") != Some(CONTAINER_TOKEN) {
            return support::json(401, json!({"message": "no token"}));
        }
        if n >= good {
            return support::json(500, json!({"message": "agent down"}));
        }
        let expires =
            cybrid_identity::time::OffsetDateTime::now_utc() + std::time::Duration::from_secs(120);
        let expires = expires
            .format(&cybrid_identity::time::format_description::well_known::Rfc3339)
            .unwrap();
        support::json(
            200,
            json!({"AccessKeyId": "testing", "SecretAccessKey": "container-secret-3c",
                   "Token": "container-session-9f", "Expiration": expires}),
        )
    });
    (server, calls)
}

#[test]
fn the_container_endpoint_is_refreshed_and_a_failed_refresh_keeps_valid_credentials() {
    let Some(moto) = Moto::start(false) else {
        return;
    };
    let key = moto.setup("plain")["key_id"].as_str().unwrap().to_owned();
    let dir = Scratch::new("aws-container");
    std::fs::write(dir.path("token"), format!("{CONTAINER_TOKEN}\n")).unwrap();
    // Two good answers, then the agent fails: the credentials (two minutes left) go on.
    let (server, calls) = container(2);
    let url = format!("{}/v2/credentials/task", server.url());
    let token_file = dir.path("token").display().to_string();
    let moto_url = moto.url.clone();
    let vars = move |name: &str| match name {
        "AWS_REGION" => Some("us-east-1".to_owned()),
        "AWS_ENDPOINT_URL" => Some(moto_url.clone()),
        "CYBRID_AWS_KMS_MESSAGE_TYPE" => Some("RAW".to_owned()),
        "AWS_CONTAINER_CREDENTIALS_FULL_URI" => Some(url.clone()),
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" => Some(token_file.clone()),
        "AWS_EC2_METADATA_DISABLED" => Some("true".to_owned()),
        _ => None,
    };
    let kms = AwsKmsSigner::from_vars(&key, vars).unwrap();
    for i in 0..4 {
        let signature = kms.sign_rs512(format!("message {i}").as_bytes()).unwrap();
        assert!(
            kms.verifying_key()
                .verify_rs512(format!("message {i}").as_bytes(), &signature)
        );
    }
    // GetPublicKey and four Signs: each asked for fresh credentials (inside the margin);
    // after the second answer the agent failed, and the valid ones were kept.
    assert!(
        calls.load(Ordering::SeqCst) >= 4,
        "{}",
        calls.load(Ordering::SeqCst)
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.header("authorization") == Some(CONTAINER_TOKEN))
    );
}

#[test]
fn each_misconfiguration_is_named_with_exit_2_or_1_and_no_secret() {
    let Some(moto) = Moto::start(true) else {
        return;
    };
    let made = moto.setup("iam");
    let key = made["key_id"].as_str().unwrap().to_owned();
    let user_secret = made["secret_access_key"].as_str().unwrap().to_owned();
    let user_key = made["access_key_id"].as_str().unwrap().to_owned();
    let emu = Emulator::start().unwrap();
    let dir = Scratch::new("aws-misconfigured");
    std::fs::write(
        dir.path("credentials"),
        format!("[bank]\naws_access_key_id = {user_key}\naws_secret_access_key = {user_secret}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path("config"),
        "[profile orphan]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = nope\n[profile denied]\nrole_arn = arn:aws:iam::123456789012:role/not-allowed\nsource_profile = bank\nregion = us-east-1\n",
    )
    .unwrap();
    let words = sign(&key);
    let profile = |name: &str| {
        let name = name.to_owned();
        let dir = &dir;
        move |cmd: &mut Command| {
            cmd.env("AWS_SHARED_CREDENTIALS_FILE", dir.path("credentials"))
                .env("AWS_CONFIG_FILE", dir.path("config"))
                .env("AWS_PROFILE", name)
                .env("AWS_REGION", "us-east-1");
        }
    };
    let mut seen = String::new();
    // A profile that does not exist: exit 2, before any request.
    let out = run(&emu, &moto, &args(&words), profile("ghost"));
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert!(
        all(&out).contains("AWS_PROFILE names the profile ghost"),
        "{}",
        all(&out)
    );
    seen += &all(&out);
    // A source_profile that is not there: exit 2, naming both.
    let out = run(&emu, &moto, &args(&words), profile("orphan"));
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert!(
        all(&out).contains("profile orphan's source_profile nope"),
        "{}",
        all(&out)
    );
    seen += &all(&out);
    // AssumeRole refused (the user may use KMS, not STS): exit 1, the step named.
    let out = run(&emu, &moto, &args(&words), profile("denied"));
    assert_eq!(out.status.code(), Some(1), "{}", all(&out));
    assert!(
        all(&out).contains("profile denied (STS AssumeRole)"),
        "{}",
        all(&out)
    );
    seen += &all(&out);
    // A container endpoint that answers 500: exit 1, the step named.
    let (server, _) = container(0);
    let out = run(&emu, &moto, &args(&words), |cmd| {
        cmd.env("AWS_REGION", "us-east-1")
            .env(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                format!("{}/creds", server.url()),
            )
            .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_TOKEN);
    });
    assert_eq!(out.status.code(), Some(1), "{}", all(&out));
    assert!(all(&out).contains("container endpoint"), "{}", all(&out));
    seen += &all(&out);
    // A container URI the SDKs refuse (not loopback, over http): exit 2, nothing sent.
    let out = run(&emu, &moto, &args(&words), |cmd| {
        cmd.env("AWS_REGION", "us-east-1").env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://192.0.2.7/creds",
        );
    });
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    seen += &all(&out);
    for secret in [
        user_secret.as_str(),
        CONTAINER_TOKEN,
        "container-secret-3c",
        "container-session-9f",
    ] {
        assert!(!seen.contains(secret), "{secret} in:\n{seen}");
    }
    assert_eq!(
        emu.stats().requests.values().sum::<u64>(),
        0,
        "nothing reached Cybrid"
    );
}
