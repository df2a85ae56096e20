//! A book of 1,000 customers attested by `cybrid-identity attest --customers` against
//! `cybrid-identity emulator --latency-ms 20 --transition-ms 50`, both child processes, as a
//! bank runs it:
//!
//! - fresh books at concurrency 1, 8 and 32: seconds, customers per second, requests per
//!   customer, scaling efficiency (customers/s at N ÷ (N × customers/s at 1)), connections
//!   the emulator accepted; then a rerun of the last book with no journal;
//! - the same book at `--rate-limit 50`: customers per second against the target
//!   0.85 × 50 ÷ (requests per customer), the share of 429s, records per customer;
//! - 10 % of creates dropped after the emulator stored them: records per customer.
//!
//! With `BATCH_BASELINE_BIN` set to another build of the binary (`scripts/baseline-bin.sh`
//! builds the last commit before the `Book` engine), each run at concurrency 32 is repeated
//! with it on a fresh emulator, side by side in the same run.
//!
//! Run: `cargo bench --bench batch --features cli`. About two minutes on 2 cores, four with a
//! baseline.

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

/// One run of a book: what it took and what the emulator saw.
struct Run {
    seconds: f64,
    requests: u64,
    throttled: u64,
    connections: u64,
    records: u64,
    exit: Option<i32>,
}

impl Run {
    fn rate(&self) -> f64 {
        BOOK as f64 / self.seconds
    }
    fn per_customer(&self) -> f64 {
        self.requests as f64 / BOOK as f64
    }
}

impl Emulator {
    fn start(extra: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(["emulator", "--latency-ms", "20", "--transition-ms", "50"])
            .args(extra)
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

    /// `GET` or `POST` on the emulator's own routes; the JSON answer.
    fn own(&self, method: &str, path: &str, body: &str) -> serde_json::Value {
        let port = self.get("url").rsplit(':').next().unwrap();
        let mut stream = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap()
    }

    /// API requests (the token endpoint's and the emulator's own left out), 429s included.
    fn api_requests(stats: &serde_json::Value) -> u64 {
        stats["requests"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(route, _)| route.contains("/api/"))
            .map(|(_, n)| n.as_u64().unwrap())
            .sum()
    }

    fn attest(&self, bin: &str, book: &std::path::Path, concurrency: usize) -> Run {
        let before = self.own("GET", "/_emulator/stats", "");
        let started = Instant::now();
        let out = Command::new(bin)
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
        let after = self.own("GET", "/_emulator/stats", "");
        let delta =
            |field: &str| after[field].as_u64().unwrap_or(0) - before[field].as_u64().unwrap_or(0);
        Run {
            seconds,
            requests: Self::api_requests(&after) - Self::api_requests(&before),
            throttled: delta("throttled"),
            connections: delta("connections"),
            records: after["records"].as_u64().unwrap(),
            exit: out.status.code(),
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn book(tag: &str) -> std::path::PathBuf {
    let customers: Vec<String> = (0..BOOK).map(|i| format!("{tag}{i:0>28x}")).collect();
    let path = std::env::temp_dir().join(format!(
        "cybrid-bench-book-{tag}-{}.txt",
        std::process::id()
    ));
    std::fs::write(&path, customers.join("\n")).unwrap();
    path
}

fn row(label: &str, concurrency: usize, run: &Run, efficiency: Option<f64>) {
    let efficiency = efficiency.map_or("-".to_owned(), |e| format!("{e:.2}"));
    println!(
        "{label:<9} {concurrency:>11}   {:>7.1}   {:>11.1}   {:>17.3}   {efficiency:>10}   {:>11}   {:>4}",
        run.seconds,
        run.rate(),
        run.per_customer(),
        run.connections,
        run.exit.map_or("-".to_owned(), |c| c.to_string())
    );
}

fn main() {
    common::print_machine();
    let baseline = std::env::var("BATCH_BASELINE_BIN").ok();
    println!(
        "\n[batch] {BOOK} fresh customers, emulator --latency-ms 20 --transition-ms 50 (child processes)"
    );
    println!(
        "binary    concurrency   seconds   customers/s   requests/customer   efficiency   connections   exit"
    );
    let mut base = 0.0;
    let mut last = None;
    for (concurrency, tag) in [(1, "c001"), (8, "c008"), (32, "c032")] {
        // A fresh emulator and book each, so that listings stay as short as a first run's.
        let emu = Emulator::start(&[]);
        let path = book(tag);
        let run = emu.attest(BIN, &path, concurrency);
        if concurrency == 1 {
            base = run.rate();
        }
        row(
            "book",
            concurrency,
            &run,
            Some(run.rate() / (concurrency as f64 * base)),
        );
        if concurrency == 32 {
            last = Some((emu, path));
        }
    }
    let (emu, path) = last.unwrap();
    let rerun = emu.attest(BIN, &path, 32);
    println!(
        "\n[rerun] the concurrency-32 book again, no journal: {:.3} requests/customer, {:.2} s, exit {:?}",
        rerun.per_customer(),
        rerun.seconds,
        rerun.exit
    );
    drop(emu);
    if let Some(old) = &baseline {
        let emu = Emulator::start(&[]);
        let path = book("b032");
        let run = emu.attest(old, &path, 32);
        row("baseline", 32, &run, None);
        let again = emu.attest(old, &path, 32);
        println!(
            "[rerun] baseline, no journal: {:.3} requests/customer, {:.2} s",
            again.per_customer(),
            again.seconds
        );
    }

    println!("\n[rate limit] {BOOK} customers at concurrency 32, emulator --rate-limit 50");
    println!(
        "binary    customers/s   target   requests/customer   429s   429 share   records/customer   seconds   exit"
    );
    let mut binaries = vec![("book", BIN.to_owned())];
    if let Some(old) = &baseline {
        binaries.push(("baseline", old.clone()));
    }
    for (label, bin) in &binaries {
        let emu = Emulator::start(&["--rate-limit", "50"]);
        let path = book(if *label == "book" { "r032" } else { "rb32" });
        let run = emu.attest(bin, &path, 32);
        let target = 0.85 * 50.0 / run.per_customer();
        println!(
            "{label:<9} {:>11.1}   {target:>6.1}   {:>17.3}   {:>4}   {:>8.1} %   {:>16.3}   {:>7.1}   {:>4}",
            run.rate(),
            run.per_customer(),
            run.throttled,
            100.0 * run.throttled as f64 / run.requests.max(1) as f64,
            run.records as f64 / BOOK as f64,
            run.seconds,
            run.exit.map_or("-".to_owned(), |c| c.to_string())
        );
        let _ = std::fs::remove_file(path);
    }

    let emu = Emulator::start(&[]);
    emu.own(
        "POST",
        "/_emulator/faults",
        r#"{"method":"POST","path_prefix":"/api/identity_records","kind":"drop","rate":0.1}"#,
    );
    let path = book("d0e0");
    let run = emu.attest(BIN, &path, 32);
    let stats = emu.own("GET", "/_emulator/stats", "");
    let posts = stats["requests"]["POST /api/identity_records"]
        .as_u64()
        .unwrap();
    println!(
        "\n[batch under faults] {BOOK} customers at concurrency 32, 10 % of creates dropped after being stored"
    );
    println!(
        "seconds {:.1}; creates sent {posts}; records {}; records per customer {:.3}; requests per customer {:.3}",
        run.seconds,
        run.records,
        run.records as f64 / BOOK as f64,
        run.per_customer()
    );
    assert_eq!(
        run.records as usize, BOOK,
        "exactly one record per customer"
    );
    let _ = std::fs::remove_file(path);
}
