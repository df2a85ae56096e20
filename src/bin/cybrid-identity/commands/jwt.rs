//! `jwt sign`, `jwt inspect`, `jwt verify`: attestation tokens without the network.

use std::io::Write as _;
use std::process::ExitCode;

use cybrid_identity::time::{Duration, OffsetDateTime};
use cybrid_identity::{Attestation, VerifyingKey, attestation, dangerous};
use serde_json::{Value, json};

use super::key_source::with_signer_flags;
use super::{
    AWS_KMS_KEY, BANK, CUSTOMER, KEY, KID, PASSPHRASE_FILE, PKCS11_KEY, PKCS11_MODULE,
    PKCS11_TOKEN, SANDBOX, signer, signing_key,
};
use crate::args::{Args, CliError, Command, Flag};
use crate::output::out;

const PUBLIC_KEY: Flag = Flag::value(
    "public-key",
    "BASE64",
    "the public key (SPKI, Base64) instead of a private one",
);

pub const SIGN: Command = Command {
    name: "jwt sign",
    summary: "print a signed attestation token",
    operand: None,
    flags: with_signer_flags!(
        [BANK.required(), CUSTOMER.required(), KID.required(),],
        [
            Flag::number("valid-days", 1, 3650, "days until it expires (default 365)"),
            Flag::value("jti", "ID", "the token's id (default: a random UUID)"),
        ]
    ),
    about: "",
    run: sign,
};

pub const INSPECT: Command = Command {
    name: "jwt inspect",
    summary: "a token's header and claims, NOT verified (said so)",
    operand: Some("TOKEN"),
    flags: &[],
    about: "",
    run: inspect,
};

pub const VERIFY: Command = Command {
    name: "jwt verify",
    summary: "check a token as Cybrid's server does: `valid`, or exit 1 with the failure code",
    operand: Some("TOKEN"),
    flags: &[
        BANK.required(),
        CUSTOMER.required(),
        KEY,
        SANDBOX,
        PUBLIC_KEY,
    ],
    about: "The key: --public-key, or the public half of --key FILE, --sandbox or\nCYBRID_ATTESTATION_SIGNING_KEY.",
    run: verify,
};

fn sign(args: &Args) -> Result<ExitCode, CliError> {
    let key = signer(args)?;
    let now = OffsetDateTime::now_utc();
    // The range of --valid-days keeps this far from the year 9999.
    let days = args.number("valid-days")?.unwrap_or(365);
    let expires = now
        .checked_add(Duration::days(i64::try_from(days).unwrap_or(i64::MAX)))
        .ok_or_else(|| CliError::usage("--valid-days reaches past the year 9999"))?;
    let mut builder = Attestation::new(
        args.required("bank")?,
        args.required("customer")?,
        args.required("kid")?,
    )
    .issued_at(now)
    .expires_at(expires);
    if let Some(jti) = args.value("jti") {
        builder = builder.jwt_id(jti);
    }
    let token = builder.sign(&*key)?;
    if args.json {
        out!("{}", json!({"token": token}));
    } else {
        out!("{token}");
    }
    Ok(ExitCode::SUCCESS)
}

fn inspect(args: &Args) -> Result<ExitCode, CliError> {
    let decoded = dangerous::decode_unverified(args.operand())?;
    if args.json {
        out!(
            "{}",
            json!({"verified": false, "header": decoded.header, "claims": decoded.claims})
        );
        return Ok(ExitCode::SUCCESS);
    }
    out!("NOT VERIFIED: this shows what the token says, not whether it is genuine.");
    out!("header: {}", Value::Object(decoded.header));
    out!("claims: {}", Value::Object(decoded.claims.clone()));
    for name in ["iat", "exp"] {
        if let Some(at) = decoded
            .claims
            .get(name)
            .and_then(Value::as_i64)
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        {
            out!("{name}: {at}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(args: &Args) -> Result<ExitCode, CliError> {
    let key: VerifyingKey = match args.value("public-key") {
        Some(_) if args.value("key").is_some() || args.has("sandbox") => {
            return Err(CliError::usage("--public-key excludes --key and --sandbox"));
        }
        Some(b64) => VerifyingKey::from_spki_base64(b64)?,
        // Only a key's public half is needed here: no HSM or KMS flag is taken.
        None if args.value("key").is_none()
            && !args.has("sandbox")
            && std::env::var_os("CYBRID_ATTESTATION_SIGNING_KEY").is_none() =>
        {
            return Err(CliError::usage(
                "no key to check the signature with: pass --public-key BASE64 (the registered public key), --key FILE or --sandbox, or set CYBRID_ATTESTATION_SIGNING_KEY",
            ));
        }
        None => signing_key(args)?.verifying_key().clone(),
    };
    let verdict = attestation::check(
        args.operand(),
        Some(&key),
        &attestation::Expected {
            bank_guid: args.required("bank")?,
            customer_guid: args.required("customer")?,
            now: OffsetDateTime::now_utc(),
        },
    );
    match (&verdict, args.json) {
        (Ok(claims), true) => out!(
            "{}",
            json!({"valid": true, "failure_code": null, "kid": claims.kid, "jti": claims.jti, "exp": claims.exp.unix_timestamp()})
        ),
        (Ok(claims), false) => out!(
            "valid: kid {}, jti {}, expires {}",
            claims.kid,
            claims.jti,
            claims.exp.unix_timestamp()
        ),
        (Err(code), true) => out!("{}", json!({"valid": false, "failure_code": code})),
        (Err(code), false) => out!("failed: {code}"),
    }
    Ok(if verdict.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
