//! `keys create|get|list`: the verification-key calls, with `Client::from_env()`.

use std::io::Write as _;
use std::process::ExitCode;

use std::time::Duration;

use cybrid_identity::emulator::new_guid;
use cybrid_identity::signer::Pkcs11Signer;
use cybrid_identity::{
    KeyListParams, PostVerificationKey, Signer as _, SigningKey, VerificationKeyState,
    VerifyingKey, WaitOptions,
};
use serde_json::json;

use super::key_source::with_signer_flags;
use super::key_source::{passphrase, pin, pkcs11_flags};
use super::{
    AWS_KMS_KEY, KEY, PAGE, PASSPHRASE_FILE, PER_PAGE, PKCS11_KEY, PKCS11_MODULE, PKCS11_TOKEN,
    SANDBOX, TIMEOUT_S, client, signer,
};
use crate::args::{Args, CliError, Command, Flag};
use crate::output::{out, print_json, print_key};

pub const CREATE: Command = Command {
    name: "keys create",
    summary: "register the signing key's public half, signed over a nonce",
    operand: None,
    flags: with_signer_flags!(
        [],
        [Flag::value(
            "nonce",
            "TEXT",
            "the text to sign (default: random)"
        ),]
    ),
    about: "",
    run: create,
};

pub const GENERATE: Command = Command {
    name: "keys generate",
    summary: "make a new RSA signing key (a PKCS#8 file, or in an HSM); prints its public half",
    operand: None,
    flags: &[
        Flag::value(
            "out",
            "FILE",
            "where the private key goes (mode 0600, never overwritten)",
        ),
        Flag::number("bits", 2048, 4096, "2048 (default), 3072 or 4096"),
        Flag::switch(
            "encrypt",
            "encrypt the file (scrypt, AES-256-CBC) with the passphrase",
        ),
        PASSPHRASE_FILE,
        PKCS11_MODULE,
        PKCS11_TOKEN,
        PKCS11_KEY,
    ],
    about: "Prints the public key (SubjectPublicKeyInfo, Base64) and its SHA-256 fingerprint.\n\
            --out FILE writes PKCS#8 PEM; with --encrypt, an ENCRYPTED PRIVATE KEY under the\n\
            passphrase of CYBRID_ATTESTATION_KEY_PASSPHRASE or --passphrase-file.\n\
            --pkcs11-module PATH --pkcs11-token LABEL --pkcs11-key LABEL makes the pair inside\n\
            the token instead (private key sensitive, never extractable, sign only; PIN from\n\
            CYBRID_PKCS11_PIN); a label already there is refused.\n\
            Register it with `keys register` and the same --key or --pkcs11-… flags.",
    run: generate,
};

pub const REGISTER: Command = Command {
    name: "keys register",
    summary: "register a key's public half, wait until verified, print its guid",
    operand: None,
    flags: with_signer_flags!(
        [],
        [
            Flag::value("nonce", "TEXT", "the text to sign (default: random)"),
            TIMEOUT_S,
        ]
    ),
    about: "Exit 0 with the key's guid once verified; exit 1 with the failure code if it failed.\n\
            A public key the bank already has verified is adopted (its guid printed), not\n\
            registered again. The signer's signature of the nonce is checked against its\n\
            public key before anything is sent.",
    run: register,
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
    let key = signer(args)?;
    let nonce = args
        .value("nonce")
        .map_or_else(|| format!("cybrid-identity {}", new_guid()), str::to_owned);
    let created = client()?.create_verification_key(&PostVerificationKey::new(&*key, nonce)?)?;
    print_key(&created, args.json);
    Ok(ExitCode::SUCCESS)
}

fn generate(args: &Args) -> Result<ExitCode, CliError> {
    let bits = usize::try_from(args.number("bits")?.unwrap_or(2048)).unwrap_or(0);
    if let Some((module, token, label)) = pkcs11_flags(args)? {
        if args.value("out").is_some() || args.has("encrypt") {
            return Err(CliError::usage(
                "a key made in a token has no file: --pkcs11-… excludes --out and --encrypt",
            ));
        }
        let pin = pin()?;
        let hsm = Pkcs11Signer::generate(&module, &token, &label, &pin, bits)?;
        let made = format!(
            "made a {}-bit key pair {label:?} in token {token:?} (private key sensitive, never extractable)",
            hsm.verifying_key().bits()
        );
        print_public(
            args,
            &made,
            json!({"pkcs11_token": token, "pkcs11_key": label}),
            hsm.verifying_key(),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let out_path = args.value("out").ok_or_else(|| {
        CliError::usage("--out FILE (or --pkcs11-… to make the key in an HSM) is required")
    })?;
    // Refused before the (slow) generation: the file must not exist.
    if std::path::Path::new(out_path).exists() {
        return Err(CliError::usage(format!(
            "{out_path} exists: a key is never overwritten"
        )));
    }
    let pass = match (args.has("encrypt"), passphrase(args)?) {
        (true, None) => {
            return Err(CliError::usage(
                "--encrypt needs a passphrase: set CYBRID_ATTESTATION_KEY_PASSPHRASE or pass --passphrase-file FILE",
            ));
        }
        (encrypt, pass) => pass.filter(|_| encrypt),
    };
    let key = new_key(bits)?;
    let pem = match &pass {
        Some(pass) => key.to_encrypted_pkcs8_pem(pass)?,
        None => key.to_pkcs8_pem()?,
    };
    write_new_file(std::path::Path::new(out_path), pem.as_bytes())
        .map_err(|e| CliError::runtime(format!("cannot write {out_path}: {e}")))?;
    let kind = if pass.is_some() { "an encrypted" } else { "a" };
    let made = format!(
        "wrote {kind} {}-bit private key to {out_path} (mode 0600)",
        key.bits()
    );
    let fields = json!({"out": out_path, "encrypted": pass.is_some()});
    print_public(args, &made, fields, key.verifying_key());
    Ok(ExitCode::SUCCESS)
}

/// A new key of `bits`, made by the `rsa` crate.
#[cfg(feature = "rsa")]
fn new_key(bits: usize) -> Result<SigningKey, CliError> {
    Ok(SigningKey::generate(bits)?)
}

/// A build whose only engine is `ring` makes no RSA keys: what to use instead.
#[cfg(not(feature = "rsa"))]
fn new_key(_bits: usize) -> Result<SigningKey, CliError> {
    Err(CliError::usage(
        "this build signs with `ring`, which makes no RSA keys: make one with \
         `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes-256-cbc -out bank.pem`, \
         or in an HSM with `keys generate --pkcs11-module PATH --pkcs11-token LABEL --pkcs11-key LABEL`",
    ))
}

/// What `keys generate` made: a line, the public key and its SHA-256 fingerprint (with
/// `--json`, one object with `fields`, the bits, the key and the fingerprint).
fn print_public(args: &Args, made: &str, mut fields: serde_json::Value, key: &VerifyingKey) {
    let public_key = key.to_spki_base64();
    let fingerprint = cybrid_identity::signer::fingerprint(key);
    if args.json {
        fields["bits"] = key.bits().into();
        fields["public_key"] = public_key.into();
        fields["sha256_fingerprint"] = fingerprint.into();
        out!("{fields}");
    } else {
        out!("{made}");
        out!("public key: {public_key}");
        out!("SHA-256 fingerprint: {fingerprint}");
    }
}

fn register(args: &Args) -> Result<ExitCode, CliError> {
    let key = signer(args)?;
    let timeout_s = args.number("timeout-s")?;
    let nonce = args
        .value("nonce")
        .map_or_else(|| format!("cybrid-identity {}", new_guid()), str::to_owned);
    let client = client()?;
    // Registering is idempotent: the public key the bank already has verified is adopted,
    // not registered a second time.
    if let Some(known) = client.verification_key_of(&*key)? {
        if args.json {
            print_key(&known, true);
        } else {
            out!("{}", known.guid.as_deref().unwrap_or_default());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let created = client.create_verification_key(&PostVerificationKey::new(&*key, nonce)?)?;
    let guid = created
        .guid
        .clone()
        .ok_or_else(|| CliError::runtime("the server's verification key has no guid"))?;
    let mut options = WaitOptions::default();
    if let Some(secs) = timeout_s {
        options = options.timeout(Duration::from_secs(secs));
    }
    let done = client.wait_for_verification_key(&guid, &options)?;
    if done.state == Some(VerificationKeyState::Verified) {
        if args.json {
            print_key(&done, true);
        } else {
            out!("{guid}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let code = done
        .failure_code
        .as_ref()
        .map_or("none", |c| c.as_str())
        .to_owned();
    if args.json {
        print_key(&done, true);
    }
    Err(CliError::runtime(format!(
        "verification key {guid} failed with failure code {code}"
    )))
}

fn get(args: &Args) -> Result<ExitCode, CliError> {
    let guid = args.guid_operand()?;
    print_key(&client()?.get_verification_key(guid)?, args.json);
    Ok(ExitCode::SUCCESS)
}

fn list(args: &Args) -> Result<ExitCode, CliError> {
    let mut params = KeyListParams::new();
    if let Some(page) = args.number("page")? {
        // The flags' declared ranges are those of a u32.
        params = params.page(u32::try_from(page).unwrap_or(u32::MAX));
    }
    if let Some(per_page) = args.number("per-page")? {
        params = params.per_page(u32::try_from(per_page).unwrap_or(u32::MAX));
    }
    let list = client()?.list_verification_keys(params)?;
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

/// Writes `bytes` to a new file at `path`, mode 0600, all or nothing: into a temporary file
/// beside it first, then linked into place (which fails, rather than overwrite, if `path`
/// appeared meanwhile). A failure at any step leaves no file behind.
fn write_new_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy().into_owned());
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    let placed = written.and_then(|()| std::fs::hard_link(&temporary, path));
    let _ = std::fs::remove_file(&temporary);
    placed
}
