//! `cybrid-identity`: every part of the crate from a shell (feature `cli`).
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use cybrid_identity::emulator::Emulator;
use cybrid_identity::{
    Attestation, Client, Error, IdentityRecord, ListParams, PostIdentityRecord,
    PostVerificationKey, SigningKey, VerificationKey, VerifyingKey, WaitOptions, attestation,
    dangerous,
};
use serde_json::{Value, json};

/// `println!` that ends the program quietly when stdout is closed (`| head`), instead of
/// panicking on a broken pipe.
macro_rules! out {
    ($($arg:tt)*) => {{
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

const USAGE: &str = "\
cybrid-identity: attest customers' identities to Cybrid's Bank API

USAGE: cybrid-identity [--json] <COMMAND> ...

COMMANDS:
  demo                 the whole flow against an in-process emulator (or Cybrid's sandbox)
  emulator             serve Cybrid's identity API on loopback
  attest               sign, create and wait for a customer's attestation
  jwt sign|inspect|verify
  records create|get|list|wait
  keys create|get|list

Every command takes --help. --json prints machine-readable output.
records, keys and attest read CYBRID_ENVIRONMENT, CYBRID_BASE_URL, CYBRID_TOKEN_URL,
CYBRID_ACCESS_TOKEN, CYBRID_CLIENT_ID, CYBRID_CLIENT_SECRET and CYBRID_SCOPES.";

const HELP: &[(&str, &str)] = &[
    (
        "demo",
        "USAGE: cybrid-identity demo [--json]\n\nStarts an emulator in-process and runs what an integrator runs: token, verification\nkey, sign, create, wait, list; then one bad token to show a failed record and its code.\nWith CYBRID_CLIENT_ID and CYBRID_CLIENT_SECRET (or CYBRID_ACCESS_TOKEN) set, it runs against\nCybrid's sandbox instead, for the customer in CYBRID_CUSTOMER_GUID.",
    ),
    (
        "emulator",
        "USAGE: cybrid-identity emulator [--port N] [--transition-ms N] [--token-ttl-s N] [--skip-pending]\n\nPrints one line of JSON (url, token_url, bank_guid, client_id, client_secret,\nverification_key_guid), then serves until interrupted (Ctrl-C or SIGTERM).\nDefaults: any free port, 1000 ms per lifecycle step, tokens valid 3600 s.",
    ),
    (
        "attest",
        "USAGE: cybrid-identity attest --customer GUID [--kid GUID] [--bank GUID] [--key FILE | --sandbox] [--timeout-s N]\n\nSigns an attestation for the customer, creates the identity record and waits for a final\nstate, printing each state change. Without --kid, the bank's first verified key is used;\nwithout --bank, that key's bank. The key: --key FILE (PEM), --sandbox, or\nCYBRID_ATTESTATION_SIGNING_KEY.",
    ),
    (
        "jwt sign",
        "USAGE: cybrid-identity jwt sign --bank GUID --customer GUID --kid GUID [--key FILE | --sandbox] [--valid-days N] [--jti ID]\n\nPrints a signed attestation JWT. The key: --key FILE (PEM), --sandbox, or\nCYBRID_ATTESTATION_SIGNING_KEY. Default validity: 365 days.",
    ),
    (
        "jwt inspect",
        "USAGE: cybrid-identity jwt inspect TOKEN\n\nPrints the header and claims WITHOUT verifying anything.",
    ),
    (
        "jwt verify",
        "USAGE: cybrid-identity jwt verify TOKEN --bank GUID --customer GUID [--key FILE | --sandbox | --public-key BASE64]\n\nChecks the token as Cybrid's server does. Exit 0 and 'valid' when it passes; exit 1 and\nthe failure code Cybrid would record when it does not.",
    ),
    (
        "records create",
        "USAGE: cybrid-identity records create --customer GUID --token JWT",
    ),
    ("records get", "USAGE: cybrid-identity records get GUID"),
    (
        "records list",
        "USAGE: cybrid-identity records list [--customer GUID[,GUID...]] [--page N] [--per-page N] [--all]\n\n--all walks every page.",
    ),
    (
        "records wait",
        "USAGE: cybrid-identity records wait GUID [--timeout-s N]\n\nPolls until verified, failed or expired, printing each state change.",
    ),
    (
        "keys create",
        "USAGE: cybrid-identity keys create [--key FILE | --sandbox] [--nonce TEXT]\n\nRegisters the key's public half, signed over the nonce.",
    ),
    ("keys get", "USAGE: cybrid-identity keys get GUID"),
    (
        "keys list",
        "USAGE: cybrid-identity keys list [--page N] [--per-page N]",
    ),
];

const VALUE_FLAGS: &[&str] = &[
    "port",
    "transition-ms",
    "token-ttl-s",
    "bank",
    "customer",
    "kid",
    "key",
    "valid-days",
    "jti",
    "token",
    "page",
    "per-page",
    "timeout-s",
    "nonce",
    "public-key",
];
const BOOL_FLAGS: &[&str] = &["json", "help", "skip-pending", "sandbox", "all"];

/// A failure for the user: one line, and the exit code.
struct Fail {
    message: String,
    code: u8,
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail {
            message: e.to_string(),
            code: 1,
        }
    }
}

impl From<lexopt::Error> for Fail {
    fn from(e: lexopt::Error) -> Self {
        usage(e.to_string())
    }
}

fn usage(message: impl Into<String>) -> Fail {
    Fail {
        message: format!("{} (see --help)", message.into()),
        code: 2,
    }
}

fn fail(message: impl Into<String>) -> Fail {
    Fail {
        message: message.into(),
        code: 1,
    }
}

/// The parsed command line: words, flags with values, and switches.
struct Args {
    words: Vec<String>,
    values: HashMap<&'static str, String>,
    switches: Vec<&'static str>,
}

impl Args {
    fn parse(raw: impl IntoIterator<Item = OsString>) -> Result<Args, Fail> {
        use lexopt::prelude::*;
        let mut parser = lexopt::Parser::from_args(raw);
        let mut args = Args {
            words: Vec::new(),
            values: HashMap::new(),
            switches: Vec::new(),
        };
        while let Some(arg) = parser.next()? {
            match arg {
                Long(name) => {
                    if let Some(flag) = VALUE_FLAGS.iter().find(|f| **f == name) {
                        let value = parser.value()?.string()?;
                        // --customer may be repeated: the API takes a comma-separated list.
                        match args.values.get_mut(flag) {
                            Some(existing) if *flag == "customer" => {
                                existing.push(',');
                                existing.push_str(&value);
                            }
                            _ => {
                                args.values.insert(flag, value);
                            }
                        }
                    } else if let Some(flag) = BOOL_FLAGS.iter().find(|f| **f == name) {
                        args.switches.push(flag);
                    } else {
                        return Err(usage(format!("unknown option --{name}")));
                    }
                }
                Short('h') => args.switches.push("help"),
                Value(word) => args.words.push(word.string()?),
                other => return Err(other.unexpected().into()),
            }
        }
        Ok(args)
    }

    fn has(&self, switch: &str) -> bool {
        self.switches.contains(&switch)
    }

    fn value(&self, flag: &str) -> Option<&str> {
        self.values.get(flag).map(String::as_str)
    }

    fn required(&self, flag: &str) -> Result<&str, Fail> {
        self.value(flag)
            .ok_or_else(|| usage(format!("--{flag} is required")))
    }

    fn number<T: std::str::FromStr>(&self, flag: &str) -> Result<Option<T>, Fail> {
        self.value(flag)
            .map(|v| {
                v.parse::<T>()
                    .map_err(|_| usage(format!("--{flag} takes a number, got {v:?}")))
            })
            .transpose()
    }

    /// Refuses flags the command does not take, so a typo is not silently ignored.
    fn only(&self, allowed: &[&str]) -> Result<(), Fail> {
        let given = self
            .values
            .keys()
            .copied()
            .chain(self.switches.iter().copied());
        for flag in given {
            if !allowed.contains(&flag) && !["json", "help"].contains(&flag) {
                return Err(usage(format!("--{flag} does not apply to this command")));
            }
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(f) => return report(f),
    };
    match run(&args) {
        Ok(code) => code,
        Err(f) => report(f),
    }
}

fn report(f: Fail) -> ExitCode {
    eprintln!("error: {}", f.message.replace('\n', " "));
    ExitCode::from(f.code)
}

fn run(args: &Args) -> Result<ExitCode, Fail> {
    let words: Vec<&str> = args.words.iter().map(String::as_str).collect();
    let command = match words.as_slice() {
        [] => {
            out!("{USAGE}");
            return Ok(if args.has("help") {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            });
        }
        [group @ ("jwt" | "records" | "keys"), sub, ..] => format!("{group} {sub}"),
        [group @ ("jwt" | "records" | "keys")] => {
            if args.has("help") {
                out!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            return Err(usage(format!("{group} needs a subcommand")));
        }
        [first, ..] => (*first).to_owned(),
    };
    if args.has("help") {
        let text = HELP
            .iter()
            .find(|(c, _)| *c == command)
            .map(|(_, h)| *h)
            .ok_or_else(|| usage(format!("unknown command {command:?}")))?;
        out!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let rest: Vec<&str> = words
        .iter()
        .skip(command.split(' ').count())
        .copied()
        .collect();
    let json = args.has("json");
    match command.as_str() {
        "demo" => {
            args.only(&[])?;
            no_words(&rest)?;
            demo(json)
        }
        "emulator" => {
            args.only(&["port", "transition-ms", "token-ttl-s", "skip-pending"])?;
            no_words(&rest)?;
            serve_emulator(args)
        }
        "attest" => {
            args.only(&["customer", "kid", "bank", "key", "sandbox", "timeout-s"])?;
            no_words(&rest)?;
            attest(args, json)
        }
        "jwt sign" => {
            args.only(&[
                "bank",
                "customer",
                "kid",
                "key",
                "sandbox",
                "valid-days",
                "jti",
            ])?;
            no_words(&rest)?;
            jwt_sign(args, json)
        }
        "jwt inspect" => jwt_inspect(one_word(&rest, "TOKEN")?, json),
        "jwt verify" => {
            args.only(&["bank", "customer", "key", "sandbox", "public-key"])?;
            jwt_verify(args, one_word(&rest, "TOKEN")?, json)
        }
        "records create" => {
            args.only(&["customer", "token"])?;
            no_words(&rest)?;
            let client = Client::from_env()?;
            let post = PostIdentityRecord::attestation(
                args.required("customer")?,
                args.required("token")?,
            );
            print_record(&client.create_identity_record(&post)?, json);
            Ok(ExitCode::SUCCESS)
        }
        "records get" => {
            args.only(&[])?;
            print_record(
                &Client::from_env()?.get_identity_record(one_word(&rest, "GUID")?)?,
                json,
            );
            Ok(ExitCode::SUCCESS)
        }
        "records list" => {
            args.only(&["customer", "page", "per-page", "all"])?;
            no_words(&rest)?;
            records_list(args, json)
        }
        "records wait" => {
            args.only(&["timeout-s"])?;
            let client = Client::from_env()?;
            let done = wait(
                &client,
                one_word(&rest, "GUID")?,
                args.number("timeout-s")?,
                json,
            )?;
            print_record(&done, json);
            Ok(ExitCode::SUCCESS)
        }
        "keys create" => {
            args.only(&["key", "sandbox", "nonce"])?;
            no_words(&rest)?;
            let key = signing_key(args)?;
            let nonce = args.value("nonce").map_or_else(
                || format!("cybrid-identity {}", random_guid()),
                str::to_owned,
            );
            print_key(
                &Client::from_env()?
                    .create_verification_key(&PostVerificationKey::new(&key, nonce)?)?,
                json,
            );
            Ok(ExitCode::SUCCESS)
        }
        "keys get" => {
            args.only(&[])?;
            print_key(
                &Client::from_env()?.get_verification_key(one_word(&rest, "GUID")?)?,
                json,
            );
            Ok(ExitCode::SUCCESS)
        }
        "keys list" => {
            args.only(&["page", "per-page"])?;
            no_words(&rest)?;
            let list = Client::from_env()?.list_verification_keys(&list_params(args)?)?;
            if json {
                out!("{}", serde_json::to_string(&list).unwrap_or_default());
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
        other => Err(usage(format!("unknown command {other:?}"))),
    }
}

fn no_words(rest: &[&str]) -> Result<(), Fail> {
    match rest.first() {
        Some(extra) => Err(usage(format!("unexpected argument {extra:?}"))),
        None => Ok(()),
    }
}

fn one_word<'a>(rest: &[&'a str], name: &str) -> Result<&'a str, Fail> {
    match rest {
        [one] => Ok(one),
        [] => Err(usage(format!("{name} is required"))),
        [_, extra, ..] => Err(usage(format!("unexpected argument {extra:?}"))),
    }
}

fn signing_key(args: &Args) -> Result<SigningKey, Fail> {
    match (args.value("key"), args.has("sandbox")) {
        (Some(_), true) => Err(usage("--key and --sandbox exclude each other")),
        (Some(path), false) => {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| fail(format!("cannot read {path}: {e}")))?;
            SigningKey::from_pem(&pem).map_err(|e| fail(format!("{path}: {e}")))
        }
        (None, true) => Ok(SigningKey::sandbox()),
        (None, false) if std::env::var_os("CYBRID_ATTESTATION_SIGNING_KEY").is_some() => {
            Ok(SigningKey::from_env()?)
        }
        (None, false) => Err(usage(
            "no signing key: pass --key FILE or --sandbox, or set CYBRID_ATTESTATION_SIGNING_KEY",
        )),
    }
}

fn list_params(args: &Args) -> Result<ListParams, Fail> {
    let mut params = ListParams::new();
    if let Some(customers) = args.value("customer") {
        for c in customers.split(',').filter(|c| !c.is_empty()) {
            params = params.customer_guid(c);
        }
    }
    if let Some(page) = args.number::<i64>("page")? {
        params = params.page(page);
    }
    if let Some(per_page) = args.number::<i64>("per-page")? {
        params = params.per_page(per_page);
    }
    Ok(params)
}

fn serve_emulator(args: &Args) -> Result<ExitCode, Fail> {
    let mut builder = Emulator::builder()
        .transition(Duration::from_millis(
            args.number("transition-ms")?.unwrap_or(1000),
        ))
        .skip_pending(args.has("skip-pending"));
    if let Some(port) = args.number("port")? {
        builder = builder.port(port);
    }
    if let Some(ttl) = args.number("token-ttl-s")? {
        builder = builder.token_ttl(Duration::from_secs(ttl));
    }
    let emu = builder.start()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", emu.connection_json())
        .and_then(|()| out.flush())
        .map_err(|e| fail(format!("stdout: {e}")))?;
    drop(out);
    // Serve until a signal ends the process. The emulator keeps nothing on disk, so the
    // default action of SIGINT and SIGTERM (end the process; the kernel closes the socket)
    // is a clean stop.
    loop {
        std::thread::park();
    }
}

fn jwt_sign(args: &Args, json: bool) -> Result<ExitCode, Fail> {
    let key = signing_key(args)?;
    let now = time::OffsetDateTime::now_utc();
    let days: i64 = args.number("valid-days")?.unwrap_or(365);
    let mut builder = Attestation::new(
        args.required("bank")?,
        args.required("customer")?,
        args.required("kid")?,
    )
    .issued_at(now)
    .expires_at(now + time::Duration::days(days));
    if let Some(jti) = args.value("jti") {
        builder = builder.jwt_id(jti);
    }
    let token = builder.sign(&key)?;
    if json {
        out!("{}", json!({"token": token}));
    } else {
        out!("{token}");
    }
    Ok(ExitCode::SUCCESS)
}

fn jwt_inspect(token: &str, json: bool) -> Result<ExitCode, Fail> {
    let decoded = dangerous::decode_unverified(token)?;
    if json {
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
            .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        {
            out!("{name}: {at}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn jwt_verify(args: &Args, token: &str, json: bool) -> Result<ExitCode, Fail> {
    let key: VerifyingKey = match args.value("public-key") {
        Some(b64) => VerifyingKey::from_spki_base64(b64)?,
        None => signing_key(args)?.verifying_key().clone(),
    };
    let verdict = attestation::check(
        token,
        Some(&key),
        args.required("bank")?,
        args.required("customer")?,
        time::OffsetDateTime::now_utc(),
    );
    match (&verdict, json) {
        (Ok(claims), true) => out!(
            "{}",
            json!({"valid": true, "failure_code": null, "kid": claims.kid, "jti": claims.jti, "exp": claims.exp})
        ),
        (Ok(claims), false) => out!(
            "valid: kid {}, jti {}, expires {}",
            claims.kid,
            claims.jti,
            claims.exp
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

fn records_list(args: &Args, json: bool) -> Result<ExitCode, Fail> {
    let client = Client::from_env()?;
    let params = list_params(args)?;
    if args.has("all") {
        let mut count = 0;
        for record in client.identity_records(params) {
            print_record(&record?, json);
            count += 1;
        }
        if !json {
            out!("{count} identity records");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let list = client.list_identity_records(&params)?;
    if json {
        out!("{}", serde_json::to_string(&list).unwrap_or_default());
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

fn describe_record(r: &IdentityRecord) -> String {
    let mut line = format!(
        "identity record {}  customer {}  state {}",
        r.guid.as_deref().unwrap_or("?"),
        r.customer_guid.as_deref().unwrap_or("?"),
        r.state().map_or("?", |s| s.as_str())
    );
    if let Some(code) = r.failure_code() {
        let _ = write!(line, "  failure_code {code}");
    }
    line
}

fn print_record(r: &IdentityRecord, json: bool) {
    if json {
        out!("{}", serde_json::to_string(r).unwrap_or_default());
    } else {
        out!("{}", describe_record(r));
    }
}

fn print_key(k: &VerificationKey, json: bool) {
    if json {
        out!("{}", serde_json::to_string(k).unwrap_or_default());
    } else {
        let mut line = format!(
            "verification key {}  bank {}  state {}",
            k.guid.as_deref().unwrap_or("?"),
            k.bank_guid.as_deref().unwrap_or("?"),
            k.state.as_ref().map_or("?", |s| s.as_str())
        );
        if let Some(code) = &k.failure_code {
            let _ = write!(line, "  failure_code {code}");
        }
        out!("{line}");
    }
}

/// Waits for a final state, printing each state change (as JSON lines with --json).
fn wait(
    client: &Client,
    guid: &str,
    timeout_s: Option<u64>,
    json: bool,
) -> Result<IdentityRecord, Fail> {
    let started = Instant::now();
    let mut options = WaitOptions::default().on_change(move |r| {
        let state = r.state().map_or("?", |s| s.as_str());
        if json {
            out!(
                "{}",
                json!({"event": "state", "state": state, "after_ms": started.elapsed().as_millis()})
            );
        } else {
            out!(
                "  … {state} (after {:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
    });
    if let Some(secs) = timeout_s {
        options = options.timeout(Duration::from_secs(secs));
    }
    Ok(client.wait_for_identity_record(guid, &options)?)
}

/// Finds the bank's first verified verification key.
fn default_key(client: &Client) -> Result<VerificationKey, Fail> {
    client
        .list_verification_keys(&ListParams::new())?
        .objects
        .into_iter()
        .find(|k| k.state.as_ref().is_some_and(|s| s.as_str() == "verified"))
        .ok_or_else(|| {
            fail("the bank has no verified verification key: register one with `keys create`")
        })
}

fn attest(args: &Args, json: bool) -> Result<ExitCode, Fail> {
    let client = Client::from_env()?;
    let key = signing_key(args)?;
    let customer = args.required("customer")?;
    let vk = match args.value("kid") {
        Some(kid) => client.get_verification_key(kid)?,
        None => default_key(&client)?,
    };
    let kid = vk
        .guid
        .clone()
        .ok_or_else(|| fail("the verification key has no guid"))?;
    let bank = match (args.value("bank"), &vk.bank_guid) {
        (Some(bank), _) => bank.to_owned(),
        (None, Some(bank)) => bank.clone(),
        (None, None) => return Err(usage("the key names no bank: pass --bank")),
    };
    let token = Attestation::new(&bank, customer, &kid).sign(&key)?;
    let created =
        client.create_identity_record(&PostIdentityRecord::attestation(customer, token))?;
    let guid = created
        .guid
        .clone()
        .ok_or_else(|| fail("the created record has no guid"))?;
    if !json {
        out!("created identity record {guid} for customer {customer} (key {kid})");
    }
    let done = wait(&client, &guid, args.number("timeout-s")?, json)?;
    print_record(&done, json);
    Ok(if done.state().is_some_and(|s| s.as_str() == "verified") {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn random_guid() -> String {
    let mut bytes = [0u8; 16];
    // A clock-derived guid is good enough for a demo customer should the random source fail.
    if getrandom::fill(&mut bytes).is_err() {
        bytes = time::OffsetDateTime::now_utc()
            .unix_timestamp_nanos()
            .to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

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

fn demo(json: bool) -> Result<ExitCode, Fail> {
    let say = Narrator { json };
    let real = std::env::var_os("CYBRID_ACCESS_TOKEN").is_some()
        || std::env::var_os("CYBRID_CLIENT_ID").is_some();
    // Keep the emulator alive for the whole demo.
    let (_emulator, client, customer) = if real {
        let customer = std::env::var("CYBRID_CUSTOMER_GUID")
            .map_err(|_| usage("against Cybrid's sandbox the demo needs CYBRID_CUSTOMER_GUID: an existing customer's guid"))?;
        let client = Client::from_env()?;
        say.say(
            "start",
            &format!(
                "Using Cybrid at {} (credentials from the environment).",
                client.base_url()
            ),
            json!({"url": client.base_url()}),
        );
        (None, client, customer)
    } else {
        let emu = Emulator::builder()
            .transition(Duration::from_millis(500))
            .start()?;
        let client = emu.client()?;
        say.say(
            "start",
            &format!("Started an emulator of Cybrid's identity API at {} (bank {}); nothing leaves this machine.", emu.url(), emu.bank_guid()),
            json!({"url": emu.url(), "bank_guid": emu.bank_guid()}),
        );
        (Some(emu), client, random_guid())
    };

    client.authenticate()?;
    say.say(
        "token",
        "1. Exchanged the client id and secret for an access token (OAuth 2.0 client credentials).",
        json!({}),
    );

    let vk = default_key(&client)?;
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
        &bank,
        &customer,
        time::OffsetDateTime::now_utc(),
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
    let listed = client.list_identity_records(&ListParams::new().customer_guid(&customer))?;
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

    let wrong_bank = "00000000000000000000000000000000";
    let bad_token = Attestation::new(wrong_bank, &customer, &kid).sign(&key)?;
    let verdict = attestation::check(
        &bad_token,
        Some(key.verifying_key()),
        &bank,
        &customer,
        time::OffsetDateTime::now_utc(),
    );
    say.say(
        "bad_token",
        &format!(
            "6. Now a bad token: signed claiming bank {wrong_bank}. Pre-flight says it would fail with {}.",
            verdict.err().map_or_else(|| "nothing".to_owned(), |c| c.to_string())
        ),
        json!({}),
    );
    let bad = create_and_wait(&client, &say, "7", &customer, bad_token)?;

    let ok = good.state().is_some_and(|s| s.as_str() == "verified")
        && bad.state().is_some_and(|s| s.as_str() == "failed");
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
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn create_and_wait(
    client: &Client,
    say: &Narrator,
    step: &str,
    customer: &str,
    token: String,
) -> Result<IdentityRecord, Fail> {
    let created =
        client.create_identity_record(&PostIdentityRecord::attestation(customer, token))?;
    let guid = created.guid.clone().unwrap_or_default();
    say.say(
        "create",
        &format!("{step}. Created identity record {guid}; Cybrid answered {}. Waiting for a final state:", created.state().map_or("?", |s| s.as_str())),
        json!({"guid": guid}),
    );
    wait(client, &guid, None, say.json)
}
