//! A scripted HTTP/1.1 server on a real loopback socket: it records every request and
//! answers each from a handler. Std only; one thread per connection; keep-alive honoured.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Which connection (0-based, in accept order) carried it.
    pub connection: usize,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// What to answer.
pub enum Reply {
    /// A complete response with a Content-Length.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Close the connection without answering.
    Drop,
    /// Send the head with the full Content-Length, then only the first half of the body, then close.
    Truncate { status: u16, body: Vec<u8> },
    /// Send the head, then one body byte every `every`, `count` times.
    Trickle { every: Duration, count: usize },
    /// A head promising `len` bytes, then that many bytes of `x`, streamed.
    Huge { len: u64 },
}

pub fn json(status: u16, value: serde_json::Value) -> Reply {
    Reply::Http {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: value.to_string().into_bytes(),
    }
}

pub fn raw(status: u16, content_type: &str, body: &[u8]) -> Reply {
    Reply::Http {
        status,
        headers: vec![("content-type".into(), content_type.into())],
        body: body.to_vec(),
    }
}

pub fn with_header(reply: Reply, name: &str, value: &str) -> Reply {
    match reply {
        Reply::Http {
            status,
            mut headers,
            body,
        } => {
            headers.push((name.into(), value.into()));
            Reply::Http {
                status,
                headers,
                body,
            }
        }
        other => other,
    }
}

/// A loopback port with nothing listening on it (bound, then released).
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A token answer.
pub fn token(value: &str, expires_in: u64) -> Reply {
    json(
        200,
        serde_json::json!({"access_token": value, "token_type": "bearer", "expires_in": expires_in, "scope": "customers:read", "created_at": "2024-01-01T00:00:00.000Z"}),
    )
}

/// A `GET /api/bank_verification_keys/{kid}` answer: the sandbox key's public half,
/// verified, of `bank`, as a book checks before its first create.
pub fn sandbox_key(kid: &str, bank: &str) -> Reply {
    let key = cybrid_identity::SigningKey::sandbox();
    json(
        200,
        serde_json::json!({"guid": kid, "bank_guid": bank, "type": "attestation", "state": "verified",
                           "algorithm": "RS512", "failure_code": null,
                           "fingerprint": cybrid_identity::signer::fingerprint(key.verifying_key()),
                           "created_at": "2024-01-01T00:00:00.000Z"}),
    )
}

type Handler = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

pub struct ScriptedServer {
    port: u16,
    log: Arc<Mutex<Vec<Recorded>>>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl ScriptedServer {
    /// Starts a server; `handler` gets each request and its 0-based sequence number.
    pub fn start(handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_on(0, handler)
    }

    /// Starts on a given loopback port (0: any).
    pub fn start_on(
        port: u16,
        handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (log2, conns2, stop2) = (log.clone(), connections.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let id = conns2.fetch_add(1, Ordering::SeqCst);
                let (log, handler) = (log2.clone(), handler.clone());
                thread::spawn(move || serve(stream, id, &log, &*handler));
            }
        });
        ScriptedServer {
            port,
            log,
            connections,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.url())
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path().starts_with(path_prefix))
            .count()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(stream: TcpStream, connection: usize, log: &Mutex<Vec<Recorded>>, handler: &Handler) {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
        );
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let recorded = Recorded {
            method,
            target,
            headers,
            body,
            connection,
        };
        let seq = {
            let mut log = log.lock().unwrap();
            log.push(recorded.clone());
            log.len() - 1
        };
        match handler(&recorded, seq) {
            Reply::Http {
                status,
                headers,
                body,
            } => {
                let mut head = format!(
                    "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\n",
                    reason(status),
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                // One write, so the head and body never wait on each other's ACKs.
                let mut bytes = head.into_bytes();
                bytes.extend_from_slice(&body);
                if stream.write_all(&bytes).is_err() {
                    return;
                }
            }
            Reply::Drop => {
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
            Reply::Truncate { status, body } => {
                let head = format!(
                    "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    reason(status),
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body[..body.len() / 2]);
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
            Reply::Trickle { every, count } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {count}\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes());
                for _ in 0..count {
                    thread::sleep(every);
                    if stream.write_all(b" ").is_err() {
                        return;
                    }
                }
                return;
            }
            Reply::Huge { len } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes());
                let chunk = vec![b'x'; 64 * 1024];
                let mut sent = 0u64;
                while sent < len {
                    let n = chunk.len().min((len - sent) as usize);
                    if stream.write_all(&chunk[..n]).is_err() {
                        return;
                    }
                    sent += n as u64;
                }
                return;
            }
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Ends the whole test process with a failure if it is still running after 60 s: a test
/// that loops (sending creates again and again, never finishing a book) fails by its own
/// deadline instead of hanging until an outer timeout. Call it first in each test.
pub fn watchdog() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        thread::spawn(|| {
            thread::sleep(Duration::from_secs(60));
            eprintln!("watchdog: the tests did not finish within 60 s");
            std::process::exit(101);
        });
    });
}

/// A small tmpfs mounted on `dir` (a full disk on demand), unmounted when dropped. `None`
/// where mounting needs a root this process lacks; under CI (as root) that is a failure.
pub struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    pub fn mount(dir: &std::path::Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must be able to mount a tmpfs"
            );
            eprintln!("skipped: mounting a tmpfs needs root");
            return None;
        }
        Some(Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}
