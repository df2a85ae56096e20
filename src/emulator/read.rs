//! Reading one request off a connection with `httparse`, every limit enforced as the bytes
//! arrive: the head (64 KiB, 10 s, the request line's target 8 KiB), the body (1 MiB, 10 s),
//! one `Content-Length` (conflicting ones are refused: the shape of request smuggling).

use std::io::{self, Read as _, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::http::Request;

/// The largest request head read.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The longest request target (path and query).
pub(crate) const MAX_URI_BYTES: usize = 8 * 1024;
/// The largest request body read.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The most headers a request may carry.
const MAX_HEADERS: usize = 64;
/// The whole head must arrive within this of its first byte; so must each body.
pub(crate) const HEAD_DEADLINE: Duration = Duration::from_secs(10);
/// A keep-alive connection that sends nothing for this long is closed.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// What reading produced.
#[derive(Debug)]
pub(crate) enum Read {
    /// A whole request, and whether the connection stays open after its answer.
    Request(Request, KeepAlive),
    /// The peer closed, or stayed silent past a deadline: close without answering.
    Closed,
    /// A request that cannot be served: answer with this status and close.
    Refuse(u16, &'static str),
}

/// Whether the connection stays open after the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeepAlive {
    Yes,
    No,
}

/// A connection's bytes: what was read past the last request stays for the next one.
pub(crate) struct Conn {
    pub(crate) stream: TcpStream,
    pending: Vec<u8>,
}

impl Conn {
    pub(crate) fn new(stream: TcpStream) -> Self {
        Conn {
            stream,
            pending: Vec::new(),
        }
    }

    /// Reads more bytes before `deadline`; `false` when the peer closed or the time is up.
    fn fill(&mut self, deadline: Instant, limit: usize) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || self.stream.set_read_timeout(Some(left)).is_err() {
            return false;
        }
        let mut chunk = [0u8; 8192];
        let room = limit
            .saturating_sub(self.pending.len())
            .clamp(1, chunk.len());
        match self.stream.read(&mut chunk[..room]) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.pending.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Reads the next request.
    pub(crate) fn read_request(&mut self) -> Read {
        // Blank lines between requests are tolerated (RFC 9112 §2.2).
        let idle_until = Instant::now() + IDLE_TIMEOUT;
        loop {
            let blank = self
                .pending
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            self.pending.drain(..blank);
            if !self.pending.is_empty() {
                break;
            }
            if !self.fill(idle_until, MAX_HEAD_BYTES + 1) {
                return Read::Closed;
            }
        }
        let head_until = Instant::now() + HEAD_DEADLINE;
        let head_len = loop {
            if let Some(refusal) = oversized_start(&self.pending) {
                return refusal;
            }
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut request = httparse::Request::new(&mut headers);
            match request.parse(&self.pending) {
                Ok(httparse::Status::Complete(len)) => break len,
                Ok(httparse::Status::Partial) if self.pending.len() > MAX_HEAD_BYTES => {
                    return Read::Refuse(431, "the request head is over 64 KiB");
                }
                Ok(httparse::Status::Partial) => {
                    if !self.fill(head_until, MAX_HEAD_BYTES + 1) {
                        return Read::Closed;
                    }
                }
                Err(httparse::Error::Version) => {
                    return Read::Refuse(505, "only HTTP/1.0 and HTTP/1.1 are served");
                }
                Err(httparse::Error::TooManyHeaders) => {
                    return Read::Refuse(431, "more than 64 headers");
                }
                Err(_) => return Read::Refuse(400, "the request is not valid HTTP/1.1"),
            }
        };
        let head: Vec<u8> = self.pending.drain(..head_len).collect();
        match parse_head(&head) {
            Ok((mut request, length, keep_alive, expect)) => match self.read_body(length, expect) {
                Ok(body) => {
                    request.body = body;
                    Read::Request(request, keep_alive)
                }
                Err(read) => read,
            },
            Err(read) => read,
        }
    }

    fn read_body(&mut self, length: usize, expect_continue: bool) -> Result<Vec<u8>, Read> {
        if length > MAX_BODY_BYTES {
            return Err(Read::Refuse(413, "the request body is over 1 MiB"));
        }
        if expect_continue && length > 0 && self.pending.is_empty() {
            let sent = self
                .stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .and_then(|()| self.stream.flush());
            if sent.is_err() {
                return Err(Read::Closed);
            }
        }
        let body_until = Instant::now() + HEAD_DEADLINE;
        while self.pending.len() < length {
            if !self.fill(body_until, length) {
                return Err(Read::Closed);
            }
        }
        Ok(self.pending.drain(..length).collect())
    }
}

/// A request line whose target alone passes the limit: refused before the rest arrives.
fn oversized_start(pending: &[u8]) -> Option<Read> {
    let line_end = pending
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(pending.len());
    let line = &pending[..line_end];
    let target_start = line.iter().position(|b| *b == b' ').map_or(0, |p| p + 1);
    let target_len = line[target_start..]
        .iter()
        .position(|b| *b == b' ')
        .unwrap_or(line.len() - target_start);
    (target_len > MAX_URI_BYTES).then_some(Read::Refuse(414, "the request target is over 8 KiB"))
}

/// The request of a complete head, its body length, keep-alive, and `Expect: 100-continue`.
fn parse_head(head: &[u8]) -> Result<(Request, usize, KeepAlive, bool), Read> {
    let bad = |why: &'static str| Read::Refuse(400, why);
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut slots);
    parsed
        .parse(head)
        .map_err(|_| bad("the request is not valid HTTP/1.1"))?;
    let (Some(method), Some(target), Some(version)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err(bad("the request line is incomplete"));
    };
    if !target.is_ascii() || !target.starts_with('/') {
        return Err(bad("the request target is not an ASCII absolute path"));
    }
    let mut headers = Vec::with_capacity(parsed.headers.len());
    for header in parsed.headers.iter() {
        let value =
            std::str::from_utf8(header.value).map_err(|_| bad("a header value is not UTF-8"))?;
        headers.push((header.name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let request = Request::new(method, target, headers);
    if request.header("transfer-encoding").is_some() {
        return Err(Read::Refuse(
            411,
            "send a Content-Length; chunked bodies are not served",
        ));
    }
    let length = content_length(&request)?;
    let expect = match request.header("expect") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("100-continue") => true,
        Some(_) => return Err(Read::Refuse(417, "only Expect: 100-continue is understood")),
    };
    let connection = request.header("connection").map(str::to_ascii_lowercase);
    let keep_alive = match (version, connection.as_deref()) {
        (_, Some(c)) if c.split(',').any(|t| t.trim() == "close") => KeepAlive::No,
        (0, Some(c)) if c.split(',').any(|t| t.trim() == "keep-alive") => KeepAlive::Yes,
        (0, _) => KeepAlive::No,
        _ => KeepAlive::Yes,
    };
    Ok((request, length, keep_alive, expect))
}

/// The one `Content-Length`: digits only, and every copy of the header the same.
fn content_length(request: &Request) -> Result<usize, Read> {
    let mut length: Option<usize> = None;
    for value in request.headers_named("content-length") {
        let parsed = (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
            .then(|| value.parse::<usize>().ok())
            .flatten()
            .ok_or(Read::Refuse(400, "Content-Length is not a number"))?;
        if length.is_some_and(|l| l != parsed) {
            return Err(Read::Refuse(400, "conflicting Content-Length headers"));
        }
        length = Some(parsed);
    }
    Ok(length.unwrap_or(0))
}

/// Writes are small and whole; a peer that stops reading must not hold a thread forever.
pub(crate) fn prepare(stream: &TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(HEAD_DEADLINE))
}
