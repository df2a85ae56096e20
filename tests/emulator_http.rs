//! The emulator as an HTTP server, probed with raw sockets as an attacker would: limits,
//! framing, versions, methods, paths, faults, conformance details, and random bytes.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use cybrid_identity::emulator::Emulator;
use proptest::prelude::*;

const G: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";

/// Sends `raw`, then reads what comes back until the server closes or `wait` passes.
/// Returns the bytes and whether the server closed.
fn exchange(emu: &Emulator, raw: &[u8], half_close: bool, wait: Duration) -> (String, bool) {
    let mut stream = TcpStream::connect(("127.0.0.1", emu.port())).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let _ = stream.write_all(raw);
    if half_close {
        let _ = stream.shutdown(Shutdown::Write);
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    let closed = loop {
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break false;
            }
            Err(_) => break true,
        }
    };
    (String::from_utf8_lossy(&got).into_owned(), closed)
}

fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn token(emu: &Emulator) -> String {
    let body = format!(
        r#"{{"grant_type":"client_credentials","client_id":"{}","client_secret":"{}"}}"#,
        emu.client_id(),
        emu.client_secret()
    );
    let raw = format!(
        "POST /oauth/token HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let (answer, _) = exchange(emu, raw.as_bytes(), false, Duration::from_secs(2));
    let json: serde_json::Value =
        serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    json["access_token"].as_str().unwrap().to_owned()
}

fn get(emu: &Emulator, method: &str, path: &str, token: &str) -> String {
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {token}\r\nconnection: close\r\n\r\n"
    );
    exchange(emu, raw.as_bytes(), false, Duration::from_secs(2)).0
}

fn post(emu: &Emulator, path: &str, token: &str, body: &str) -> String {
    let raw = format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    exchange(emu, raw.as_bytes(), false, Duration::from_secs(2)).0
}

#[test]
fn paths_methods_and_head_answer_as_http_says() {
    let emu = Emulator::start().unwrap();
    let t = token(&emu);
    let answer = get(&emu, "DELETE", "/api/identity_records", &t);
    assert_eq!(status_of(&answer), 405);
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("\r\nallow: get, post, head\r\n"),
        "{answer}"
    );
    for unknown in [
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/api/identity_records/../../etc/passwd",
        "/_emulator/nothing",
    ] {
        assert_eq!(status_of(&get(&emu, "GET", unknown, &t)), 404, "{unknown}");
    }
    let full = get(&emu, "GET", "/api/bank_verification_keys", &t);
    let head = get(&emu, "HEAD", "/api/bank_verification_keys", &t);
    assert_eq!(status_of(&head), 200);
    let (full_head, full_body) = full.split_once("\r\n\r\n").unwrap();
    let length = |h: &str| {
        h.lines()
            .find(|l| l.starts_with("content-length:"))
            .map(str::to_owned)
    };
    assert!(head.ends_with("\r\n\r\n"), "HEAD carries no body: {head:?}");
    assert_eq!(
        length(&head),
        length(full_head),
        "HEAD says how long the body would be"
    );
    assert!(!full_body.is_empty());
}

#[test]
fn bodies_the_published_schema_refuses_are_400s() {
    let emu = Emulator::start().unwrap();
    let t = token(&emu);
    let padded = format!("../../etc/passwd{}", " ".repeat(16));
    for body in [
        serde_json::json!({"customer_guid": G, "attestation_details": {"token": "a.b.c"}}),
        serde_json::json!({"customer_guid": "é".repeat(32), "type": "attestation", "attestation_details": {"token": "a.b.c"}}),
        serde_json::json!({"customer_guid": padded, "type": "attestation", "attestation_details": {"token": "a.b.c"}}),
    ] {
        let answer = post(&emu, "/api/identity_records", &t, &body.to_string());
        assert_eq!(status_of(&answer), 400, "{body}: {answer}");
        assert!(
            answer.contains("\"message_code\":\"invalid_parameter\""),
            "{answer}"
        );
    }
    let key = serde_json::json!({"public_key": "AAAA", "nonce": "n", "signature": "AAAA", "type": "attestation"});
    assert_eq!(
        status_of(&post(
            &emu,
            "/api/bank_verification_keys",
            &t,
            &key.to_string()
        )),
        400,
        "algorithm is required"
    );
    assert_eq!(emu.stats().records, 0);
}

#[test]
fn a_page_past_any_index_is_empty_never_page_0() {
    let emu = Emulator::start().unwrap();
    let t = token(&emu);
    let answer = get(
        &emu,
        "GET",
        "/api/bank_verification_keys?page=9223372036854775808&per_page=2",
        &t,
    );
    assert_eq!(status_of(&answer), 200, "{answer}");
    let json: serde_json::Value =
        serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(json["page"].as_u64(), Some(9223372036854775808));
    assert_eq!(json["objects"].as_array().map(Vec::len), Some(0));
    assert_eq!(json["total"], 1);
}

#[test]
fn framing_mistakes_are_refused_with_an_answer() {
    let emu = Emulator::start().unwrap();
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (b"POST /oauth/token HTTP/1.1\r\ncontent-length: 2\r\ncontent-length: 40\r\n\r\n{}GET /_emulator/stats HTTP/1.1\r\n\r\n".to_vec(), 400),
        (b"POST /oauth/token HTTP/1.1\r\nContent-Length : 2\r\n\r\n{}".to_vec(), 400),
        (b"POST /oauth/token HTTP/1.1\r\ncontent-length: +2\r\n\r\n{}".to_vec(), 400),
        (b"GET /api/identity_records/\xff\xfe HTTP/1.1\r\n\r\n".to_vec(), 400),
        (b"GET /_emulator/stats HTTP/1.1\r\nx-name: \xff\xfe\r\n\r\n".to_vec(), 400),
        (b"GET /_emulator/stats HTTP/1.9\r\n\r\n".to_vec(), 505),
        (format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(100_000)).into_bytes(), 414),
        (b"POST /oauth/token HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(), 411),
    ];
    for (raw, expected) in cases {
        let (answer, closed) = exchange(&emu, &raw, false, Duration::from_secs(2));
        assert_eq!(
            status_of(&answer),
            expected,
            "{:?}: {answer}",
            String::from_utf8_lossy(&raw[..raw.len().min(80)])
        );
        assert!(closed, "refused requests close the connection");
        let status_lines = answer
            .split("\r\n")
            .filter(|l| l.starts_with("HTTP/1.1 "))
            .count();
        assert_eq!(status_lines, 1, "nothing smuggled through: {answer}");
    }
}

#[test]
fn expect_continue_http_1_0_and_keep_alive() {
    let emu = Emulator::start().unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", emu.port())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    stream
        .write_all(
            b"POST /oauth/token HTTP/1.1\r\ncontent-length: 2\r\nexpect: 100-continue\r\n\r\n",
        )
        .unwrap();
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(b"{}").unwrap();
    let n = stream.read(&mut buf).unwrap();
    assert_eq!(status_of(&String::from_utf8_lossy(&buf[..n])), 400);

    let started = Instant::now();
    let (answer, closed) = exchange(
        &emu,
        b"GET /_emulator/stats HTTP/1.0\r\n\r\n",
        false,
        Duration::from_secs(5),
    );
    assert_eq!(status_of(&answer), 200);
    assert!(
        closed && started.elapsed() < Duration::from_secs(1),
        "HTTP/1.0 closes after its answer"
    );
    let (answer, closed) = exchange(&emu, b"GET /_emulator/stats HTTP/1.0\r\nconnection: keep-alive\r\n\r\nGET /_emulator/stats HTTP/1.0\r\n\r\n", false, Duration::from_secs(5));
    assert_eq!(answer.matches("HTTP/1.1 200").count(), 2, "{answer}");
    assert!(closed);
}

#[test]
fn a_trickling_head_is_cut_off_by_its_deadline() {
    let emu = Emulator::start().unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", emu.port())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let started = Instant::now();
    stream
        .write_all(b"GET /_emulator/stats HTTP/1.1\r\n")
        .unwrap();
    let mut buf = [0u8; 64];
    let closed = loop {
        // One header line every 2 s: the head never completes within its 10 s.
        let _ = stream.write_all(b"x-slow: 1\r\n");
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => break false,
            Err(_) if started.elapsed() < Duration::from_secs(14) => {
                std::thread::sleep(Duration::from_millis(1500))
            }
            Err(_) => break false,
        }
    };
    assert!(closed, "still open after {:?}", started.elapsed());
    assert!(
        started.elapsed() >= Duration::from_secs(9) && started.elapsed() < Duration::from_secs(13),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn faults_refuse_unknown_fields_zero_times_and_bodiless_statuses() {
    let emu = Emulator::start().unwrap();
    for fault in [
        r#"{"kind":"status","status":503,"path":"/api/identity_records"}"#,
        r#"{"kind":"drop","times":0}"#,
        r#"{"kind":"status","status":101}"#,
        r#"{"kind":"status","status":204}"#,
        r#"{"kind":"status","status":304}"#,
        r#"{"kind":"delay","ms":5,"status":500}"#,
    ] {
        let answer = post(&emu, "/_emulator/faults", "-", fault);
        assert_eq!(status_of(&answer), 400, "{fault}: {answer}");
    }
    assert_eq!(status_of(&get(&emu, "GET", "/_emulator/faults", "-")), 200);
    let listed = get(&emu, "GET", "/_emulator/faults", "-");
    assert!(listed.ends_with(r#"{"faults":[]}"#), "{listed}");
    // The token endpoint still answers: no fault took hold.
    assert!(!token(&emu).is_empty());
}

#[test]
fn a_token_lifetime_past_any_clock_answers_500_and_frees_the_client() {
    let emu = Emulator::builder()
        .token_ttl(Duration::MAX)
        .start()
        .unwrap();
    let body = format!(
        r#"{{"grant_type":"client_credentials","client_id":"{}","client_secret":"{}"}}"#,
        emu.client_id(),
        emu.client_secret()
    );
    let raw = format!(
        "POST /oauth/token HTTP/1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let started = Instant::now();
    let (answer, _) = exchange(&emu, raw.as_bytes(), false, Duration::from_secs(2));
    assert_eq!(status_of(&answer), 500, "{answer}");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn connections_past_the_limit_are_closed_and_service_goes_on() {
    let emu = Emulator::start().unwrap();
    let held: Vec<TcpStream> = (0..600)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", emu.port())).ok())
        .collect();
    assert!(held.len() >= 513, "only {} connected", held.len());
    // The server closes what it cannot serve: some of the late ones read EOF at once.
    std::thread::sleep(Duration::from_millis(300));
    let refused = held[512..]
        .iter()
        .filter(|s| {
            let mut s = *s;
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            // Closed: end of stream or a reset. A silent open connection times out instead,
            // and does not count.
            match s.read(&mut [0u8; 1]) {
                Ok(0) => true,
                Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
                Ok(_) => false,
            }
        })
        .count();
    println!(
        "{refused} of {} connections past the limit were closed at once",
        held.len() - 512
    );
    assert!(
        refused >= 80,
        "{refused} of {} past the limit were closed",
        held.len() - 512
    );
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(status_of(&get(&emu, "GET", "/_emulator/stats", "-")), 200);
    assert!(emu.stats().connections >= 600);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_get_an_answer_or_a_close_within_a_second(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..2048),
            (prop::sample::select(vec!["GET", "POST", "HEAD", "PUT", "DELETE", "BREW"]),
             prop::sample::select(vec!["/", "/api/identity_records", "/oauth/token", "/_emulator/stats", "/x?y=%zz"]),
             prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTX"]),
             prop::collection::vec("[a-zA-Z-]{1,12}: [ -~]{0,20}", 0..6),
             prop::collection::vec(any::<u8>(), 0..64))
                .prop_map(|(m, p, v, headers, body)| {
                    let mut raw = format!("{m} {p} {v}\r\n{}\r\n", headers.iter().map(|h| format!("{h}\r\n")).collect::<String>()).into_bytes();
                    raw.extend(body);
                    raw
                }),
        ]
    ) {
        let emu = EMU.with(|e| e.port());
        let mut stream = TcpStream::connect(("127.0.0.1", emu)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let started = Instant::now();
        let _ = stream.write_all(&bytes);
        let _ = stream.shutdown(Shutdown::Write);
        let mut sink = Vec::new();
        let ended = stream.read_to_end(&mut sink);
        // `read_to_end` is `Ok` only once the server closed; a server that kept the
        // connection open past the 1 s read timeout makes it an error.
        prop_assert!(ended.is_ok(), "no close within 1 s: {ended:?}");
        prop_assert!(started.elapsed() < Duration::from_millis(1100));
    }
}

thread_local! {
    static EMU: Emulator = Emulator::start().unwrap();
}

#[test]
fn after_random_bytes_a_normal_get_still_works() {
    let emu = Emulator::start().unwrap();
    for seed in 0..200u32 {
        let junk: Vec<u8> = (0..512)
            .map(|i| (seed.wrapping_mul(2_654_435_761).wrapping_add(i * 40_503) >> 13) as u8)
            .collect();
        let _ = exchange(&emu, &junk, true, Duration::from_millis(500));
    }
    let client = emu.client().unwrap();
    assert!(
        client
            .list_verification_keys(cybrid_identity::KeyListParams::new())
            .is_ok()
    );
}

/// A raw request with the given `Host` and `Content-Type`.
fn raw_request(
    emu: &Emulator,
    method: &str,
    path: &str,
    host: &str,
    content_type: &str,
    body: &str,
) -> String {
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    exchange(emu, raw.as_bytes(), false, Duration::from_secs(2)).0
}

#[test]
fn control_routes_take_json_only_and_answer_loopback_hosts_only() {
    let emu = Emulator::start().unwrap();
    let fault = r#"{"kind":"status","status":503}"#;
    // A form post from a web page: text/plain needs no preflight, so it is refused here.
    let form = raw_request(
        &emu,
        "POST",
        "/_emulator/faults",
        "localhost",
        "text/plain",
        fault,
    );
    assert_eq!(status_of(&form), 415, "{form}");
    let ok = raw_request(
        &emu,
        "POST",
        "/_emulator/faults",
        "localhost:8080",
        "application/json; charset=utf-8",
        fault,
    );
    assert_eq!(status_of(&ok), 201, "{ok}");
    // DNS rebinding: a page's own name resolved to 127.0.0.1.
    for host in [
        "evil.example",
        "evil.example:80",
        "10.0.0.1",
        "localhost.evil.example",
        "[::2]",
    ] {
        let answer = raw_request(
            &emu,
            "DELETE",
            "/_emulator/faults",
            host,
            "application/json",
            "",
        );
        assert_eq!(status_of(&answer), 403, "{host}: {answer}");
        let answer = raw_request(
            &emu,
            "GET",
            "/api/identity_records",
            host,
            "application/json",
            "",
        );
        assert_eq!(status_of(&answer), 403, "{host}: {answer}");
    }
    for host in [
        "localhost",
        "LOCALHOST:1",
        "app.localhost",
        "127.0.0.1:9",
        "127.1.2.3",
        "[::1]:80",
        "[::1]",
    ] {
        let answer = raw_request(
            &emu,
            "GET",
            "/_emulator/stats",
            host,
            "application/json",
            "",
        );
        assert_eq!(status_of(&answer), 200, "{host}: {answer}");
    }
    assert_eq!(
        emu.stats().count("POST /_emulator/faults"),
        2,
        "the fault was kept"
    );
}

#[test]
fn faults_are_capped_in_number_size_and_delay() {
    use cybrid_identity::emulator::{Fault, FaultKind, MAX_FAULTS};
    let emu = Emulator::start().unwrap();
    let post = |body: &str| {
        raw_request(
            &emu,
            "POST",
            "/_emulator/faults",
            "localhost",
            "application/json",
            body,
        )
    };
    let long = format!(r#"{{"kind":"drop","path_prefix":"/{}"}}"#, "x".repeat(1024));
    let answer = post(&long);
    assert_eq!(status_of(&answer), 400);
    assert!(
        answer.contains("path_prefix must be at most 1024 bytes"),
        "{answer}"
    );
    let long = format!(r#"{{"kind":"drop","method":"{}"}}"#, "G".repeat(1025));
    assert_eq!(status_of(&post(&long)), 400);
    let slow = post(r#"{"kind":"delay","ms":600001}"#);
    assert_eq!(status_of(&slow), 400);
    assert!(slow.contains("at most 600000 ms"), "{slow}");
    assert_eq!(
        status_of(&post(
            r#"{"kind":"delay","ms":600000,"path_prefix":"/nowhere"}"#
        )),
        201
    );
    for _ in 1..MAX_FAULTS {
        emu.add_fault(Fault::new(FaultKind::Drop).path_prefix("/nowhere"))
            .unwrap();
    }
    let full = post(r#"{"kind":"drop","path_prefix":"/nowhere"}"#);
    assert_eq!(status_of(&full), 400);
    assert!(full.contains("1000 faults are set already"), "{full}");
    assert!(emu.add_fault(Fault::new(FaultKind::Drop)).is_err());
}
