//! A small blocking HTTP/1.1 server on std: one thread per connection, keep-alive, and the
//! raw control over the socket that faults need (closing without an answer, cutting a body).

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::sync::lock;

/// The largest request head read.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The largest request body read.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// An idle keep-alive connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A parsed request.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    /// Names lowercased.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A response to write.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn json(status: u16, value: &impl serde::Serialize) -> Self {
        Response {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            // The emulator's answers are maps of strings and numbers: they always serialize.
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    /// Cybrid's `ErrorResponse`: `{"status", "error_message", "message_code"}`.
    pub(crate) fn error(status: u16, code: &str, message: &str) -> Self {
        Response::json(
            status,
            &serde_json::json!({"status": status, "error_message": message, "message_code": code}),
        )
    }

    pub(crate) fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The status line and headers, with a Content-Length for the whole body.
    fn head(&self, close: bool) -> String {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if close {
            head.push_str("connection: close\r\n");
        }
        head.push_str("\r\n");
        head
    }
}

/// How a response is delivered.
pub(crate) enum Delivery {
    /// Whole.
    Whole(Response),
    /// Not at all: the connection is closed.
    Drop,
    /// The head and half the body, then the connection is closed.
    Truncated(Response),
}

/// What the server calls for each request.
pub(crate) trait Handler: Send + Sync + 'static {
    fn handle(&self, request: Request) -> Delivery;
    fn connection_accepted(&self);
}

/// A running server; dropping it stops it, closes its connections and frees the port.
pub(crate) struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<HashMap<u64, TcpStream>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    pub(crate) fn start(addr: SocketAddr, handler: Arc<dyn Handler>) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<HashMap<u64, TcpStream>>> = Arc::default();
        let (stop2, open2) = (stop.clone(), open.clone());
        let acceptor = thread::Builder::new()
            .name("cybrid-emulator-accept".into())
            .spawn(move || {
                let next_id = AtomicU64::new(0);
                for stream in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    handler.connection_accepted();
                    let id = next_id.fetch_add(1, Ordering::Relaxed);
                    if let Ok(clone) = stream.try_clone() {
                        lock(&open2).insert(id, clone);
                    }
                    let (handler, open) = (handler.clone(), open2.clone());
                    let spawned = thread::Builder::new()
                        .name("cybrid-emulator-conn".into())
                        .spawn(move || {
                            serve_connection(stream, &*handler);
                            lock(&open).remove(&id);
                        });
                    if spawned.is_err() {
                        lock(&open2).remove(&id);
                    }
                }
            })?;
        Ok(Server {
            addr,
            stop,
            open,
            acceptor: Some(acceptor),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag; it then drops the listener, freeing the port.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for (_, stream) in lock(&self.open).drain() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn serve_connection(stream: TcpStream, handler: &dyn Handler) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    loop {
        let request = match read_request(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(status) => {
                let response = Response::json(
                    status,
                    &serde_json::json!({"status": status, "error_message": reason(status), "message_code": "bad_request"}),
                );
                let _ = write_whole(&mut writer, &response, true);
                return;
            }
        };
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        match handler.handle(request) {
            Delivery::Whole(response) => {
                if write_whole(&mut writer, &response, close).is_err() || close {
                    return;
                }
            }
            Delivery::Drop => {
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Delivery::Truncated(response) => {
                let _ = writer.write_all(response.head(true).as_bytes());
                let _ = writer.write_all(&response.body[..response.body.len() / 2]);
                let _ = writer.flush();
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

fn write_whole(writer: &mut TcpStream, response: &Response, close: bool) -> io::Result<()> {
    let mut bytes = response.head(close).into_bytes();
    bytes.extend_from_slice(&response.body);
    writer.write_all(&bytes)?;
    writer.flush()
}

/// Reads one request; `Ok(None)` at a clean end of the connection, `Err(status)` for a
/// request that cannot be served.
fn read_request(reader: &mut impl BufRead) -> Result<Option<Request>, u16> {
    let mut head_bytes = 0usize;
    let mut line = String::new();
    // Tolerate blank lines between requests (RFC 9112 §2.2).
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => head_bytes += n,
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    if !version.starts_with("HTTP/1.") {
        return Err(505);
    }
    let (method, target) = (method.to_owned(), target.to_owned());
    let mut headers = Vec::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => head_bytes += n,
        }
        if head_bytes > MAX_HEAD_BYTES {
            return Err(431);
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').ok_or(400u16)?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    if headers.iter().any(|(k, _)| k == "transfer-encoding") {
        return Err(411);
    }
    let length = match headers.iter().find(|(k, _)| k == "content-length") {
        Some((_, v)) => v.parse::<usize>().map_err(|_| 400u16)?,
        None => 0,
    };
    if length > MAX_BODY_BYTES {
        return Err(413);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|_| 400u16)?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target, String::new()),
    };
    Ok(Some(Request {
        method,
        path,
        query,
        headers,
        body,
    }))
}

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

/// `a=1&b=x%2Cy` → pairs, percent-decoded (`+` as space, as forms use).
pub(crate) fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Percent-decoding with `+` as a space; invalid UTF-8 becomes U+FFFD.
pub(crate) fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Option<Request>, u16> {
        read_request(&mut BufReader::new(raw.as_bytes()))
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Cb+c"), "a,b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(
            form_pairs("customer_guid=a%2Cb&page=1&x"),
            vec![
                ("customer_guid".into(), "a,b".into()),
                ("page".into(), "1".into()),
                ("x".into(), String::new())
            ]
        );
    }

    #[test]
    fn parses_method_path_query_headers_body() {
        let r = parse(
            "POST /a/b?x=1&y=2 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nX-Y: z\r\n\r\nbody",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.query.as_str()),
            ("POST", "/a/b", "x=1&y=2")
        );
        assert_eq!(r.header("x-y"), Some("z"));
        assert_eq!(r.body, b"body");
    }

    #[test]
    fn refuses_what_it_cannot_serve() {
        assert_eq!(parse("").unwrap().map(|r| r.method), None);
        assert_eq!(parse("GARBAGE\r\n\r\n").unwrap_err(), 400);
        assert_eq!(parse("GET / HTTP/2\r\n\r\n").unwrap_err(), 505);
        assert_eq!(
            parse("POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n").unwrap_err(),
            411
        );
        assert_eq!(
            parse("POST / HTTP/1.1\r\ncontent-length: 99999999\r\n\r\n").unwrap_err(),
            413
        );
        assert_eq!(
            parse("POST / HTTP/1.1\r\ncontent-length: x\r\n\r\n").unwrap_err(),
            400
        );
        assert_eq!(
            parse("GET / HTTP/1.1\r\nno colon\r\n\r\n").unwrap_err(),
            400
        );
        let big = format!("GET / HTTP/1.1\r\nx: {}\r\n\r\n", "a".repeat(70_000));
        assert_eq!(parse(&big).unwrap_err(), 431);
    }
}
