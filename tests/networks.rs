//! Production networks on loopback: each failure class with real sockets (a name that does
//! not resolve, a TLS server whose certificate the client does not trust, a proxy refusing
//! `CONNECT`, a server dropping after reading), trusted roots, proxies from the builder and
//! the environment, secrets echoed by a server, hostile numbers, and error chains.
//!
//! The TLS fixtures come from `tests/fixtures/tls/make.sh` (openssl, run once, committed).

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cybrid_identity::emulator::Emulator;
use cybrid_identity::{
    Attestation, Client, ClientBuilder, Error, KeyListParams, ListParams, PostIdentityRecord,
    SigningKey, TransportErrorKind, WaitOptions,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use support::{ScriptedServer, json};

const TLS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");
const G: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";

fn ca_pem() -> Vec<u8> {
    std::fs::read(format!("{TLS}/ca.pem")).unwrap()
}

fn post() -> PostIdentityRecord {
    PostIdentityRecord::attestation(G, "a.b.c")
}

/// A loopback TLS server presenting `cert` (signed by the test CA): it counts connections
/// and requests, and answers each request with one identity record.
struct TlsServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

impl TlsServer {
    fn start(cert: &str) -> Self {
        let chain: Vec<_> = CertificateDer::pem_file_iter(format!("{TLS}/{cert}"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let key = PrivateKeyDer::from_pem_file(format!("{TLS}/server.key")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (connections, requests) =
            (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (c, r) = (connections.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                c.fetch_add(1, Ordering::SeqCst);
                let (config, r) = (config.clone(), r.clone());
                std::thread::spawn(move || {
                    let mut conn = rustls::ServerConnection::new(config).unwrap();
                    let mut tls = rustls::Stream::new(&mut conn, &mut stream);
                    let mut reader = BufReader::new(&mut tls);
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                        if line == "\r\n" {
                            r.fetch_add(1, Ordering::SeqCst);
                            let body = format!(
                                r#"{{"guid":"{G}","customer_guid":"{G}","type":"attestation"}}"#
                            );
                            let head = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                                body.len()
                            );
                            let tls = reader.get_mut();
                            let _ = tls
                                .write_all(head.as_bytes())
                                .and_then(|()| tls.write_all(body.as_bytes()));
                            let _ = tls.flush();
                        }
                        line.clear();
                    }
                });
            }
        });
        TlsServer {
            port,
            connections,
            requests,
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    fn client(&self, roots: Option<Vec<u8>>) -> Client {
        let mut builder = Client::builder()
            .base_url(self.url())
            .bearer_token("t")
            .no_proxy();
        if let Some(pem) = roots {
            builder = builder.root_certificates_pem(pem);
        }
        builder.build().unwrap()
    }
}

/// A loopback proxy that answers every `CONNECT` with 403, counting them.
fn refusing_proxy() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connects = Arc::new(AtomicUsize::new(0));
    let seen = connects.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            // The whole head first: answering early would break the client's write instead.
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            if head.starts_with(b"CONNECT ") {
                seen.fetch_add(1, Ordering::SeqCst);
            }
            let _ = stream.write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
        }
    });
    (port, connects)
}

fn assert_never_left(err: &Error) {
    assert!(err.is_connect(), "{err:?}");
    assert!(!err.is_outcome_unknown(), "{err:?}");
}

#[test]
fn a_create_to_a_name_that_does_not_resolve_never_left() {
    let client = Client::builder()
        .base_url("https://no-such-host.invalid")
        .bearer_token("t")
        .no_proxy()
        .build()
        .unwrap();
    let err = client.create_identity_record(&post()).unwrap_err();
    assert_never_left(&err);
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind, TransportErrorKind::Resolve, "{err}");
    assert!(t.before_sending);
    assert_eq!(
        err.to_string(),
        "POST /api/identity_records failed: the host name did not resolve"
    );
}

#[test]
fn an_untrusted_certificate_is_named_at_once_and_never_retried() {
    let server = TlsServer::start("server.pem");
    let started = Instant::now();
    let err = server
        .client(None)
        .create_identity_record(&post())
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_never_left(&err);
    let message = err.to_string();
    assert!(
        message.contains("certificate") && message.contains("unknown issuer"),
        "{message}"
    );
    assert!(
        message.contains("root_certificates_pem") && message.contains("CYBRID_CA_BUNDLE"),
        "{message}"
    );
    assert!(
        elapsed < Duration::from_millis(400),
        "took {elapsed:?} under default retries"
    );
    // One handshake, refused; no request ever reached the server; no retry.
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);
    println!("untrusted: {message} ({elapsed:?}, 1 connection, 0 requests)");
    // A GET is not retried either: a certificate cannot heal.
    let err = server.client(None).get_identity_record(G).unwrap_err();
    assert!(
        matches!(&err, Error::Transport(t) if t.kind == TransportErrorKind::Tls),
        "{err:?}"
    );
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
}

#[test]
fn a_name_mismatch_and_an_expired_certificate_say_which() {
    for (cert, words) in [
        ("wrong_name.pem", "name mismatch"),
        ("expired.pem", "has expired"),
    ] {
        let server = TlsServer::start(cert);
        let err = server
            .client(Some(ca_pem()))
            .get_identity_record(G)
            .unwrap_err();
        assert_never_left(&err);
        assert!(err.to_string().contains(words), "{cert}: {err}");
        assert_eq!(server.requests.load(Ordering::SeqCst), 0);
    }
}

#[test]
fn a_trusted_root_reaches_the_tls_server() {
    let server = TlsServer::start("server.pem");
    let record = server
        .client(Some(ca_pem()))
        .get_identity_record(G)
        .unwrap();
    assert_eq!(record.guid.as_deref(), Some(G));
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
    // A bundle without a certificate is refused when the client is built.
    let err = Client::builder()
        .bearer_token("t")
        .root_certificates_pem("no certificate here")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("holds no certificate"), "{err}");
    // Through CYBRID_CA_BUNDLE, as Client::from_env reads it (its own process: below).
    let vars = |name: &str| match name {
        "CYBRID_CA_BUNDLE" => Some(format!("{TLS}/ca.pem")),
        "CYBRID_BASE_URL" => Some(server.url()),
        "CYBRID_ACCESS_TOKEN" => Some("t".to_owned()),
        _ => None,
    };
    let client = ClientBuilder::from_vars(vars)
        .unwrap()
        .no_proxy()
        .build()
        .unwrap();
    assert_eq!(
        client.get_identity_record(G).unwrap().guid.as_deref(),
        Some(G)
    );
    let err = ClientBuilder::from_vars(|name| {
        (name == "CYBRID_CA_BUNDLE").then(|| "/nonexistent.pem".to_owned())
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("CYBRID_CA_BUNDLE /nonexistent.pem"),
        "{err}"
    );
}

#[test]
fn a_proxy_refusing_connect_stopped_the_create_before_it_left() {
    let (port, connects) = refusing_proxy();
    let client = Client::builder()
        .base_url("https://bank.example.invalid")
        .bearer_token("t")
        .proxy(format!("http://user:hunter2@127.0.0.1:{port}"))
        .retry_policy(
            cybrid_identity::RetryPolicy::default()
                .with_backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
        .build()
        .unwrap();
    assert!(!format!("{client:?}").contains("hunter2"), "{client:?}");
    let err = client.create_identity_record(&post()).unwrap_err();
    assert_never_left(&err);
    assert!(
        matches!(&err, Error::Transport(t) if t.kind == TransportErrorKind::Proxy),
        "{err:?}"
    );
    assert!(!err.to_string().contains("hunter2") && !format!("{err:?}").contains("hunter2"));
    // Refused before sending, so retried like any connect failure: 1 + 2 retries.
    assert_eq!(connects.load(Ordering::SeqCst), 3);
}

#[test]
fn a_server_dropping_after_reading_leaves_the_outcome_unknown() {
    let server = ScriptedServer::start(|_, _| support::Reply::Drop);
    let client = Client::builder()
        .base_url(server.url())
        .bearer_token("t")
        .build()
        .unwrap();
    let err = client.create_identity_record(&post()).unwrap_err();
    assert!(err.is_outcome_unknown() && !err.is_connect(), "{err:?}");
    assert_eq!(server.count("POST", "/api/identity_records"), 1);
}

#[test]
fn every_layer_of_an_error_chain_says_only_its_own_part() {
    let server = TlsServer::start("server.pem");
    for err in [
        server.client(None).get_identity_record(G).unwrap_err(),
        Client::builder()
            .base_url(format!("http://127.0.0.1:{}", support::closed_port()))
            .bearer_token("t")
            .max_retries(0)
            .build()
            .unwrap()
            .create_identity_record(&post())
            .unwrap_err(),
        ScriptedServer::start(|_, _| support::Reply::Drop).pipe(|s| {
            Client::builder()
                .base_url(s.url())
                .bearer_token("t")
                .build()
                .unwrap()
                .create_identity_record(&post())
                .unwrap_err()
        }),
    ] {
        let mut layers = vec![err.to_string()];
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            layers.push(cause.to_string());
            source = cause.source();
        }
        assert!(layers.len() >= 2, "{layers:?}");
        for (i, layer) in layers.iter().enumerate() {
            for later in &layers[i + 1..] {
                assert!(
                    !layer.contains(later.as_str()),
                    "{layer:?} repeats {later:?}"
                );
            }
        }
        println!("{}", layers.join("\n  caused by: "));
    }
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl<T> Pipe for T {}

/// A server that echoes what it was sent into its error messages.
fn echo_server() -> ScriptedServer {
    ScriptedServer::start(|request, _| {
        if request.path() == "/oauth/token" {
            return support::token("live-token-0123456789", 3600);
        }
        let sent = request
            .header("authorization")
            .unwrap_or_default()
            .to_owned();
        json(
            400,
            serde_json::json!({"status": 400, "error_message": format!("you sent {sent}"), "message_code": format!("echo {sent}")}),
        )
    })
}

#[test]
fn a_server_echoing_the_token_or_the_secret_never_gets_them_printed() {
    let server = echo_server();
    let client = Client::builder()
        .base_url(server.url())
        .token_url(server.token_url())
        .client_credentials("id", "the-client-secret")
        .build()
        .unwrap();
    let err = client.list_identity_records(ListParams::new()).unwrap_err();
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(
            !shown.contains("live-token-0123456789") && !shown.contains("the-client-secret"),
            "{shown}"
        );
        assert!(shown.contains("you sent Bearer [redacted]"), "{shown}");
    }
    // The token endpoint echoing the request body (the secret inside).
    let server = ScriptedServer::start(|request, _| {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        json(
            401,
            serde_json::json!({"error": "invalid_client", "error_description": body}),
        )
    });
    let client = Client::builder()
        .base_url(server.url())
        .token_url(server.token_url())
        .client_credentials("id", "the-client-secret")
        .build()
        .unwrap();
    let err = client.get_identity_record(G).unwrap_err();
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(
            !shown.contains("the-client-secret") && shown.contains("[redacted]"),
            "{shown}"
        );
    }
}

#[cfg(feature = "cli")]
#[test]
fn the_cli_never_prints_an_echoed_token_or_secret() {
    let server = echo_server();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cybrid-identity"))
        .args(["records", "list"])
        .env_remove("CYBRID_ACCESS_TOKEN")
        .env("CYBRID_BASE_URL", server.url())
        .env("CYBRID_TOKEN_URL", server.token_url())
        .env("CYBRID_CLIENT_ID", "id")
        .env("CYBRID_CLIENT_SECRET", "the-client-secret")
        .output()
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "refused: a rerun cannot fix it");
    assert!(printed.contains("you sent Bearer [redacted]"), "{printed}");
    assert!(
        !printed.contains("live-token-0123456789") && !printed.contains("the-client-secret"),
        "{printed}"
    );
}

#[test]
fn hostile_numbers_neither_panic_nor_fail_the_call() {
    let server = ScriptedServer::start(|request, _| {
        if request.path() == "/oauth/token" {
            return json(
                200,
                serde_json::json!({"access_token": "t", "expires_in": 18446744073709551615u64}),
            );
        }
        json(
            200,
            serde_json::json!({"guid": G, "attestation_details": {"state": "verified"}}),
        )
    });
    let client = Client::builder()
        .base_url(server.url())
        .token_url(server.token_url())
        .client_credentials("id", "s")
        .timeout(Duration::MAX)
        .connect_timeout(Duration::MAX)
        .build()
        .unwrap();
    assert!(client.get_identity_record(G).is_ok());
    let done = client
        .wait_for_identity_record(G, &WaitOptions::default().timeout(Duration::MAX))
        .unwrap();
    assert_eq!(done.guid.as_deref(), Some(G));
    assert_eq!(
        server.count("POST", "/oauth/token"),
        1,
        "a year-long token is cached"
    );
    // The same against the emulator, with a wait that has to poll.
    let emu = Emulator::builder()
        .transition(Duration::from_millis(20))
        .start()
        .unwrap();
    let client = emu.client_builder().timeout(Duration::MAX).build().unwrap();
    let token = Attestation::new(emu.bank_guid(), G, emu.verification_key_guid())
        .sign(&SigningKey::sandbox())
        .unwrap();
    let created = client
        .create_identity_record(&PostIdentityRecord::attestation(G, token))
        .unwrap();
    assert!(
        client
            .wait_for(&created, &WaitOptions::default().timeout(Duration::MAX))
            .unwrap()
            .is_final()
    );
}

/// Proxies from the environment, in a child process of this test binary (the environment is
/// the process's).
#[test]
fn the_environments_proxies_skip_loopback_and_no_proxy_ignores_them() {
    let dead = format!("http://127.0.0.1:{}", support::closed_port());
    let (port, connects) = refusing_proxy();
    let refusing = format!("http://127.0.0.1:{port}");
    let exe = std::env::current_exe().unwrap();
    let run = |http: &str, https: &str| {
        let out = std::process::Command::new(&exe)
            .args(["--exact", "proxy_child", "--nocapture", "--include-ignored"])
            .env("HTTP_PROXY", http)
            .env("HTTPS_PROXY", https)
            .env("ALL_PROXY", http)
            .env("http_proxy", http)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = run(&dead, &dead);
    assert!(
        out.contains("EMULATOR=ok") && out.contains("LOOPBACK=ok"),
        "{out}"
    );
    let out = run(&dead, &refusing);
    assert!(
        out.contains("ENV_PROXY=Proxy"),
        "the environment's proxy was used: {out}"
    );
    assert!(
        out.contains("NO_PROXY=Resolve"),
        "no_proxy() went direct: {out}"
    );
    assert_eq!(
        connects.load(Ordering::SeqCst),
        1,
        "only the environment's proxy saw a CONNECT"
    );
}

#[test]
#[ignore = "run by the_environments_proxies_skip_loopback_and_no_proxy_ignores_them in a child process"]
fn proxy_child() {
    let emu = Emulator::start().unwrap();
    let ok = |r: Result<cybrid_identity::VerificationKeyList, Error>| {
        r.map_or_else(|e| format!("err {e}"), |_| "ok".to_owned())
    };
    println!(
        "EMULATOR={}",
        ok(emu
            .client()
            .unwrap()
            .list_verification_keys(KeyListParams::new()))
    );
    let loopback = emu
        .client_builder()
        .base_url(emu.url().replace("127.0.0.1", "localhost"))
        .build()
        .unwrap();
    println!(
        "LOOPBACK={}",
        ok(loopback.list_verification_keys(KeyListParams::new()))
    );
    let kind = |builder: ClientBuilder| {
        let client = builder
            .base_url("https://bank.example.invalid")
            .bearer_token("t")
            .max_retries(0)
            .build()
            .unwrap();
        match client.get_identity_record(G) {
            Err(Error::Transport(t)) => format!("{:?}", t.kind),
            other => format!("{other:?}"),
        }
    };
    println!("ENV_PROXY={}", kind(Client::builder()));
    println!("NO_PROXY={}", kind(Client::builder().no_proxy()));
}

/// `Client::from_env` with `CYBRID_CA_BUNDLE`, in a child process of this test binary.
#[test]
fn client_from_env_trusts_cybrid_ca_bundle() {
    let server = TlsServer::start("server.pem");
    let exe = std::env::current_exe().unwrap();
    let run = |bundle: &str| {
        let out = std::process::Command::new(&exe)
            .args([
                "--exact",
                "ca_bundle_child",
                "--nocapture",
                "--include-ignored",
            ])
            .env("CYBRID_CA_BUNDLE", bundle)
            .env("CYBRID_BASE_URL", server.url())
            .env("CYBRID_ACCESS_TOKEN", "t")
            .env_remove("HTTPS_PROXY")
            .env_remove("ALL_PROXY")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(run(&format!("{TLS}/ca.pem")).contains(&format!("FROM_ENV=ok {G}")));
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
    // Without the bundle's root the same server is refused (the child trusts the defaults).
    let out = run(&format!("{TLS}/server.key"));
    assert!(out.contains("FROM_ENV=build configuration error: root_certificates_pem: the bundle holds no certificate"), "{out}");
}

#[test]
#[ignore = "run by client_from_env_trusts_cybrid_ca_bundle in a child process"]
fn ca_bundle_child() {
    match Client::from_env() {
        Ok(client) => match client.get_identity_record(G) {
            Ok(record) => println!("FROM_ENV=ok {}", record.guid.unwrap_or_default()),
            Err(e) => println!("FROM_ENV=err {e}"),
        },
        Err(e) => println!("FROM_ENV=build {e}"),
    }
}

#[test]
fn the_closed_port_helper_refuses() {
    assert!(TcpStream::connect(("127.0.0.1", support::closed_port())).is_err());
}
