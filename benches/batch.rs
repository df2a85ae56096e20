//! A book of 1,000 customers attested by `cybrid-identity attest --customers` against
//! `cybrid-identity emulator --latency-ms 20 --transition-ms 50`, both child processes, as a
//! bank runs it: at concurrency 1, 8 and 32, customers per second, requests per customer and
//! scaling efficiency (customers/s at N ÷ (N × customers/s at 1)); then the same book with 10 %
//! of creates dropped after the emulator stored them, and the records per customer after.
//!
//! Run: `cargo bench --bench batch --features cli`. About four minutes on 2 cores.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_cybrid-identity");
const BOOK: usize = 1000;

struct Emulator {
    child: Child,
    line: serde_json::Value,
}

impl Emulator {
    fn start() -> Self {
        let mut child = Command::new(BIN)
            .args(["emulator", "--latency-ms", "20", "--transition-ms", "50"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut raw = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut raw)
            .unwrap();
        Emulator {
            child,
            line: serde_json::from_str(&raw).unwrap(),
        }
    }

    fn get(&self, field: &str) -> &str {
        self.line[field].as_str().unwrap()
    }

    /// `POST` or `GET` on the emulator's own routes; the JSON answer.
    fn own(&self, method: &str, path: &str, body: &str) -> serde_json::Value {
        let port = self.get("url").rsplit(':').next().unwrap();
        let mut stream = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap()
    }

    fn requests(&self) -> u64 {
        let stats = self.own("GET", "/_emulator/stats", "");
        stats["requests"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>()
            + stats["token_requests"].as_u64().unwrap()
    }

    fn attest(&self, book: &std::path::Path, concurrency: usize) -> f64 {
        let started = Instant::now();
        let out = Command::new(BIN)
            .args([
                "attest",
                "--sandbox",
                "--customers",
                book.to_str().unwrap(),
                "--concurrency",
                &concurrency.to_string(),
            ])
            .env_remove("CYBRID_ACCESS_TOKEN")
            .env("CYBRID_BASE_URL", self.get("url"))
            .env("CYBRID_TOKEN_URL", self.get("token_url"))
            .env("CYBRID_CLIENT_ID", self.get("client_id"))
            .env("CYBRID_CLIENT_SECRET", self.get("client_secret"))
            .output()
            .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        seconds
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn book(tag: &str) -> (std::path::PathBuf, Vec<String>) {
    let customers: Vec<String> = (0..BOOK).map(|i| format!("{tag}{i:0>28x}")).collect();
    let path = std::env::temp_dir().join(format!(
        "cybrid-bench-book-{tag}-{}.txt",
        std::process::id()
    ));
    std::fs::write(&path, customers.join("\n")).unwrap();
    (path, customers)
}

fn main() {
    common::print_machine();
    println!(
        "\n[batch] {BOOK} customers, emulator --latency-ms 20 --transition-ms 50 (child processes)"
    );
    println!("concurrency   seconds   customers/s   requests/customer   scaling efficiency");
    let mut base = 0.0;
    for (concurrency, tag) in [(1, "c001"), (8, "c008"), (32, "c032")] {
        // A fresh emulator and book each, so that listings stay as short as a first run's.
        let emu = Emulator::start();
        let (path, _) = book(tag);
        let before = emu.requests();
        let seconds = emu.attest(&path, concurrency);
        let per_customer = (emu.requests() - before) as f64 / BOOK as f64;
        let rate = BOOK as f64 / seconds;
        if concurrency == 1 {
            base = rate;
        }
        let efficiency = rate / (concurrency as f64 * base);
        println!(
            "{concurrency:>11}   {seconds:>7.1}   {rate:>11.1}   {per_customer:>17.2}   {efficiency:>18.2}"
        );
        let _ = std::fs::remove_file(path);
    }
    let emu = Emulator::start();
    emu.own(
        "POST",
        "/_emulator/faults",
        r#"{"method":"POST","path_prefix":"/api/identity_records","kind":"drop","rate":0.1}"#,
    );
    let (path, customers) = book("drop");
    let seconds = emu.attest(&path, 32);
    let stats = emu.own("GET", "/_emulator/stats", "");
    let posts = stats["requests"]["POST /api/identity_records"]
        .as_u64()
        .unwrap();
    let records = stats["records"].as_u64().unwrap();
    println!(
        "\n[batch under faults] {BOOK} customers at concurrency 32, 10 % of creates dropped after being stored"
    );
    println!(
        "seconds {seconds:.1}; creates sent {posts}; records {records}; records per customer {:.3}",
        records as f64 / customers.len() as f64
    );
    assert_eq!(
        records as usize,
        customers.len(),
        "exactly one record per customer"
    );
    let _ = std::fs::remove_file(path);
}
