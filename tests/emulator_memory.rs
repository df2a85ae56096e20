//! The emulator's memory stays bounded whatever clients send: measured on a `cybrid-identity
//! emulator` child process through `/proc/<pid>/status` (Linux).

mod cli_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use cli_support::CliEmulator;

const LIMIT_KB: u64 = 50 * 1024;

fn emulator() -> CliEmulator {
    CliEmulator::start(&[])
}

fn rss_kb(child: &CliEmulator) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.child.id())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn stats_body(child: &CliEmulator) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", child.port())).unwrap();
    stream
        .write_all(b"GET /_emulator/stats HTTP/1.1\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split_once("\r\n\r\n").unwrap().1.to_owned()
}

#[test]
fn a_300_mb_line_without_a_newline_is_cut_off() {
    let child = emulator();
    let mut stream = TcpStream::connect(("127.0.0.1", child.port())).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let chunk = vec![b'A'; 1 << 20];
    let mut sent = 0usize;
    while sent < 300 << 20 {
        match stream.write(&chunk) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    let rss = rss_kb(&child);
    println!(
        "sent {} KiB before the emulator closed; its resident memory {rss} KiB",
        sent >> 10
    );
    assert!(sent < 300 << 20, "the emulator read all 300 MB");
    assert!(rss < LIMIT_KB, "{rss} KiB");
}

#[test]
fn two_thousand_unique_60_kb_paths_leave_stats_small() {
    let child = emulator();
    for i in 0..2000 {
        let mut stream = TcpStream::connect(("127.0.0.1", child.port())).unwrap();
        let path = format!("/{i}{}", "p".repeat(60 * 1024));
        let _ = stream.write_all(format!("GET {path} HTTP/1.1\r\n\r\n").as_bytes());
        let _ = stream.read(&mut [0u8; 256]);
    }
    let stats = stats_body(&child);
    let rss = rss_kb(&child);
    println!("stats {} bytes, resident memory {rss} KiB", stats.len());
    assert!(stats.len() < 64 * 1024, "{} bytes", stats.len());
    assert!(rss < LIMIT_KB, "{rss} KiB");
    let parsed: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert!(parsed["connections"].as_u64().unwrap() >= 2000);
}

#[test]
fn a_hundred_thousand_token_requests_stay_bounded() {
    let child = emulator();
    let body = format!(
        r#"{{"grant_type":"client_credentials","client_id":"{}","client_secret":"{}"}}"#,
        child.get("client_id"),
        child.get("client_secret")
    );
    let request = format!(
        "POST /oauth/token HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(("127.0.0.1", child.port())).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    // Pipelined in batches of 100, so that the run takes seconds, not minutes.
    let batch = request.repeat(100);
    let mut answers = 0;
    for _ in 0..1000 {
        stream.write_all(batch.as_bytes()).unwrap();
        for _ in 0..100 {
            let mut length = 0usize;
            let mut line = String::new();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.strip_prefix("content-length: ") {
                    length = v.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).unwrap();
            answers += 1;
        }
    }
    let rss = rss_kb(&child);
    println!("{answers} tokens granted; resident memory {rss} KiB");
    assert_eq!(answers, 100_000);
    assert!(rss < LIMIT_KB, "{rss} KiB");
}
