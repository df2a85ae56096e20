//! The Client against the emulator, each figure beside a baseline measured in the same run.
//!
//! Run: `cargo bench --bench client --features emulator` (or plain `cargo bench`, which
//! enables it through the bench's required feature). Groups:
//! - client overhead: `get_identity_record` / `list_identity_records` through the Client,
//!   beside the same request with two bare `ureq::Agent`s, one without timeouts and one with
//!   the Client's (same emulator, in a child process; same connection reuse, same header, same
//!   decoding into the crate's model);
//! - connection reuse: TCP connections the emulator accepted for 1,000 sequential calls;
//! - batch attestation: customers signed and created by 1, 2, 4 threads sharing one Client;
//! - listing memory: peak RSS (`/usr/bin/time -v`) of a child process walking 10,000 records
//!   with `identity_records()`, beside one walking 100;
//! - cold start: a child process that builds a Client, signs one token and makes one call,
//!   spawn to exit, beside the same binary exiting at once.
//!
//! The child processes are this bench binary itself, run with `--child …`, so no other build
//! is needed; the emulator stays in the parent, out of the children's memory.

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{median, median_us};
use cybrid_identity::emulator::Emulator;
use cybrid_identity::{
    Attestation, Client, IdentityRecord, IdentityRecordList, ListParams, PostIdentityRecord,
    SigningKey,
};

fn customer(i: usize) -> String {
    format!("{i:032x}")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        child(&args[pos + 1..]);
        return;
    }
    common::print_machine();
    overhead();
    connection_reuse();
    batch();
    listing_memory();
    cold_start();
}

/// An emulator in a child process (this bench binary, `--child emulator`), as users meet a
/// server: its threads do not share the bench's cores' scheduler queue with the client's.
struct EmulatorChild {
    child: std::process::Child,
    line: serde_json::Value,
}

impl EmulatorChild {
    fn start() -> Self {
        use std::io::BufRead as _;
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--child", "emulator"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut raw = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut raw)
            .unwrap();
        EmulatorChild {
            child,
            line: serde_json::from_str(&raw).unwrap(),
        }
    }

    fn get(&self, field: &str) -> &str {
        self.line[field].as_str().unwrap()
    }

    fn client(&self) -> Client {
        Client::builder()
            .base_url(self.get("url"))
            .token_url(self.get("token_url"))
            .client_credentials(self.get("client_id"), self.get("client_secret"))
            .build()
            .unwrap()
    }
}

impl Drop for EmulatorChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Measures each of `fs` in alternating rounds so drift hits all alike; their medians.
fn interleaved(
    rounds: usize,
    budget: Duration,
    batch: u32,
    fs: &mut [&mut dyn FnMut()],
) -> Vec<f64> {
    let mut samples = vec![Vec::new(); fs.len()];
    for _ in 0..rounds {
        for (f, s) in fs.iter_mut().zip(samples.iter_mut()) {
            s.push(median_us(budget, batch, f));
        }
    }
    samples.into_iter().map(median).collect()
}

fn overhead() {
    let emu = EmulatorChild::start();
    let client = emu.client();
    let key = SigningKey::sandbox();
    let token = Attestation::new(
        emu.get("bank_guid"),
        customer(1),
        emu.get("verification_key_guid"),
    )
    .sign(&key)
    .unwrap();
    for _ in 0..25 {
        client
            .create_identity_record(&PostIdentityRecord::attestation(customer(1), token.clone()))
            .unwrap();
    }
    let guid = client
        .list_identity_records(ListParams::new())
        .unwrap()
        .objects[0]
        .guid
        .clone()
        .unwrap();

    // The bare baselines: one agent each, the same bearer token, the same decoding; one with
    // no timeouts (ureq's default), one with the timeouts the Client sets.
    let bearer = {
        let body = serde_json::json!({"grant_type": "client_credentials", "client_id": emu.get("client_id"), "client_secret": emu.get("client_secret")});
        let agent = ureq::Agent::new_with_defaults();
        let mut resp = agent
            .post(emu.get("token_url"))
            .content_type("application/json")
            .send(body.to_string())
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&resp.body_mut().read_to_vec().unwrap()).unwrap();
        format!("Bearer {}", v["access_token"].as_str().unwrap())
    };
    let plain: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let timed: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(cybrid_identity::DEFAULT_TIMEOUT))
        .timeout_connect(Some(cybrid_identity::DEFAULT_CONNECT_TIMEOUT))
        .build()
        .into();
    let get_url = format!("{}/api/identity_records/{guid}", emu.get("url"));
    let list_url = format!("{}/api/identity_records?page=0&per_page=25", emu.get("url"));
    let budget = Duration::from_millis(400);
    let get = interleaved(
        5,
        budget,
        50,
        &mut [
            &mut || {
                black_box(client.get_identity_record(&guid).unwrap());
            },
            &mut || {
                black_box(bare_call::<IdentityRecord>(&plain, &get_url, &bearer));
            },
            &mut || {
                black_box(bare_call::<IdentityRecord>(&timed, &get_url, &bearer));
            },
        ],
    );
    let params = ListParams::new().page(0).per_page(25);
    let list = interleaved(
        5,
        budget,
        20,
        &mut [
            &mut || {
                black_box(client.list_identity_records(&params).unwrap());
            },
            &mut || {
                black_box(bare_call::<IdentityRecordList>(&plain, &list_url, &bearer));
            },
            &mut || {
                black_box(bare_call::<IdentityRecordList>(&timed, &list_url, &bearer));
            },
        ],
    );
    println!(
        "\n[client overhead] median µs per call, emulator in a child process (same run, interleaved)"
    );
    println!(
        "call                         Client   bare, no timeouts   ratio   bare, same timeouts   ratio"
    );
    for (name, m) in [
        ("get_identity_record       ", &get),
        ("list_identity_records (25)", &list),
    ] {
        println!(
            "{name} {:>8.1}  {:>18.1}   {:.3}  {:>20.1}   {:.3}",
            m[0],
            m[1],
            m[0] / m[1],
            m[2],
            m[0] / m[2]
        );
    }
}

/// The baseline: a bare agent, the same headers, the body decoded into the same model.
fn bare_call<T: serde::de::DeserializeOwned>(agent: &ureq::Agent, url: &str, bearer: &str) -> T {
    let mut r = agent
        .get(url)
        .header("Authorization", bearer)
        .header("Accept", "application/json")
        .call()
        .unwrap();
    let body = r.body_mut().read_to_vec().unwrap();
    serde_json::from_slice(&body).unwrap()
}

fn connection_reuse() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(1))
        .start()
        .unwrap();
    let client = emu.client().unwrap();
    let key = SigningKey::sandbox();
    let token = Attestation::new(emu.bank_guid(), customer(1), emu.verification_key_guid())
        .sign(&key)
        .unwrap();
    let guid = client
        .create_identity_record(&PostIdentityRecord::attestation(customer(1), token))
        .unwrap()
        .guid
        .unwrap();
    let before = emu.stats().connections;
    let start = Instant::now();
    for _ in 0..1000 {
        black_box(client.get_identity_record(&guid).unwrap());
    }
    let elapsed = start.elapsed();
    let stats = emu.stats();
    println!("\n[connection reuse] 1,000 sequential get_identity_record calls");
    println!(
        "TCP connections accepted during the calls: {} (1 in all, token request included: {}); {:.0} calls/s",
        stats.connections - before,
        stats.connections,
        1000.0 / elapsed.as_secs_f64()
    );
}

fn batch() {
    const N: usize = 240;
    let key = SigningKey::sandbox();
    println!(
        "\n[batch attestation] {N} customers signed and created, T threads sharing one Client"
    );
    println!("threads   attestations/s   vs 1 thread");
    let mut one = 0.0;
    for threads in [1usize, 2, 4] {
        let emu = Emulator::builder()
            .transition(Duration::from_millis(1))
            .start()
            .unwrap();
        let client = emu.client().unwrap();
        client.authenticate().unwrap();
        let start = Instant::now();
        std::thread::scope(|s| {
            for t in 0..threads {
                let (client, key, emu) = (&client, &key, &emu);
                s.spawn(move || {
                    for i in (t..N).step_by(threads) {
                        let c = customer(i);
                        let token =
                            Attestation::new(emu.bank_guid(), &c, emu.verification_key_guid())
                                .sign(key)
                                .unwrap();
                        client
                            .create_identity_record(&PostIdentityRecord::attestation(c, token))
                            .unwrap();
                    }
                });
            }
        });
        let rate = N as f64 / start.elapsed().as_secs_f64();
        assert_eq!(emu.stats().records as usize, N);
        if threads == 1 {
            one = rate;
        }
        println!("{threads:>7}   {rate:>14.1}   {:.2}", rate / one);
    }
}

/// Peak RSS in KiB of `self --child args…`, from `/usr/bin/time -v`.
fn peak_rss_kib(args: &[&str], env: &[(&str, String)]) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(exe)
        .arg("--child")
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
}

fn emulator_env(emu: &Emulator) -> Vec<(&'static str, String)> {
    vec![
        ("CYBRID_BASE_URL", emu.url().to_owned()),
        ("CYBRID_TOKEN_URL", emu.token_url()),
        ("CYBRID_CLIENT_ID", emu.client_id().to_owned()),
        ("CYBRID_CLIENT_SECRET", emu.client_secret().to_owned()),
    ]
}

fn listing_memory() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(1))
        .start()
        .unwrap();
    let client = emu.client().unwrap();
    let key = SigningKey::sandbox();
    let small = customer(7);
    let token_small = Attestation::new(emu.bank_guid(), &small, emu.verification_key_guid())
        .sign(&key)
        .unwrap();
    let big = customer(8);
    let token_big = Attestation::new(emu.bank_guid(), &big, emu.verification_key_guid())
        .sign(&key)
        .unwrap();
    // 100 records of one customer, 10,000 of another; one token each (the emulator does not
    // require unique jti values).
    std::thread::scope(|s| {
        for t in 0..4 {
            let (client, small, big, ts, tb) = (&client, &small, &big, &token_small, &token_big);
            s.spawn(move || {
                for i in (t..10_100).step_by(4) {
                    let (c, tok) = if i < 100 { (small, ts) } else { (big, tb) };
                    client
                        .create_identity_record(&PostIdentityRecord::attestation(
                            c.clone(),
                            tok.clone(),
                        ))
                        .unwrap();
                }
            });
        }
    });
    let env = emulator_env(&emu);
    let mut rows = Vec::new();
    for (label, who) in [("100 records", &small), ("10,000 records", &big)] {
        let peaks: Vec<f64> = (0..3)
            .filter_map(|_| peak_rss_kib(&["walk", who], &env))
            .map(|k| k as f64)
            .collect();
        rows.push((label, median(peaks)));
    }
    println!(
        "\n[listing memory] peak RSS of a process walking identity_records() (100 per page), /usr/bin/time -v, median of 3"
    );
    println!("walk              peak KiB   vs 100");
    for (label, kib) in &rows {
        println!("{label:<15} {kib:>10.0}   {:.3}", kib / rows[0].1);
    }
}

fn cold_start() {
    let emu = Emulator::builder()
        .transition(Duration::from_millis(1))
        .start()
        .unwrap();
    let env = emulator_env(&emu);
    let exe = std::env::current_exe().unwrap();
    let run = |mode: &str| {
        let t = Instant::now();
        let status = Command::new(&exe)
            .args(["--child", mode])
            .envs(env.iter().map(|(k, v)| (*k, v)))
            .status()
            .unwrap();
        assert!(status.success());
        t.elapsed().as_secs_f64() * 1e3
    };
    let (mut full, mut noop) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        full.push(run("cold"));
        noop.push(run("noop"));
    }
    let (full, noop) = (median(full), median(noop));
    println!("\n[cold start] spawn to exit, median of 21");
    println!("process                                            ms");
    println!("build Client + sign one token + one create call {full:>6.1}");
    println!("same binary, exiting at once                    {noop:>6.1}");
}

/// The child processes.
fn child(args: &[String]) {
    match args.first().map(String::as_str) {
        Some("noop") => {}
        // `calls client|plain|timed N GUID`: N gets against the emulator named by the
        // CYBRID_* variables, for `strace -c -f` to count each one's system calls.
        Some("calls") => {
            let (how, n, guid) = (
                args[1].as_str(),
                args[2].parse::<usize>().unwrap(),
                &args[3],
            );
            let client = Client::from_env().unwrap();
            client.get_identity_record(guid).unwrap();
            let base = std::env::var("CYBRID_BASE_URL").unwrap();
            let url = format!("{base}/api/identity_records/{guid}");
            let bearer = format!("Bearer {}", std::env::var("CYBRID_ACCESS_TOKEN").unwrap());
            let builder = ureq::Agent::config_builder().http_status_as_error(false);
            let agent: ureq::Agent = match how {
                "timed" => builder
                    .timeout_global(Some(cybrid_identity::DEFAULT_TIMEOUT))
                    .timeout_connect(Some(cybrid_identity::DEFAULT_CONNECT_TIMEOUT))
                    .build()
                    .into(),
                _ => builder.build().into(),
            };
            bare_call::<IdentityRecord>(&agent, &url, &bearer);
            eprintln!("--- start");
            for _ in 0..n {
                match how {
                    "client" => drop(black_box(client.get_identity_record(guid).unwrap())),
                    _ => drop(black_box(bare_call::<IdentityRecord>(
                        &agent, &url, &bearer,
                    ))),
                }
            }
        }
        Some("emulator") => {
            use std::io::Write as _;
            let emu = Emulator::builder()
                .transition(Duration::from_millis(1))
                .start()
                .unwrap();
            let mut out = std::io::stdout();
            writeln!(out, "{}", emu.connection_json()).unwrap();
            out.flush().unwrap();
            loop {
                std::thread::park();
            }
        }
        Some("cold") => {
            let client = Client::from_env().unwrap();
            let key = SigningKey::sandbox();
            // Bank and key guids do not matter for the cost: the record is created either way.
            let token = Attestation::new(customer(1), customer(2), customer(3))
                .sign(&key)
                .unwrap();
            client
                .create_identity_record(&PostIdentityRecord::attestation(customer(2), token))
                .unwrap();
        }
        Some("walk") => {
            let who = &args[1];
            let client = Client::from_env().unwrap();
            let mut n = 0u64;
            for record in
                client.identity_records(ListParams::new().customer_guid(who).per_page(100))
            {
                black_box(record.unwrap());
                n += 1;
            }
            assert!(n == 100 || n == 10_000, "walked {n}");
        }
        other => panic!("unknown child mode {other:?}"),
    }
}
