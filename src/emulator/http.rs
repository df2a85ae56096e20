//! HTTP/1.1 as the emulator speaks it: a request as read, a response as written, how a
//! response is delivered (whole, dropped, cut short), and form and query decoding.

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
    /// A request for `target` (`/path?query`), header names lowercased.
    pub(crate) fn new(method: &str, target: &str, headers: Vec<(String, String)>) -> Self {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body: Vec::new(),
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers_named(name).next()
    }

    pub(crate) fn headers_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        let name = name.to_owned();
        self.headers
            .iter()
            .filter(move |(k, _)| *k == name)
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

    /// Whether a body may follow the head (RFC 9110 §6.4.1: never for 1xx, 204, 304).
    pub(crate) fn status_allows_body(status: u16) -> bool {
        !((100..200).contains(&status) || status == 204 || status == 304)
    }

    /// The whole answer on the wire; `head_only` for a `HEAD` request (its headers, with the
    /// length the body would have, and no body).
    pub(crate) fn to_bytes(&self, close: bool, head_only: bool) -> Vec<u8> {
        let mut bytes = self.head(close).into_bytes();
        if !head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }

    /// The status line and headers, with a Content-Length for the whole body.
    pub(crate) fn head(&self, close: bool) -> String {
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
    /// Whole, then the connection is closed (the handler failed).
    Failed(Response),
}

/// What the server calls for each request.
pub(crate) trait Handler: Send + Sync + 'static {
    fn handle(&self, request: Request) -> Delivery;
    fn connection_accepted(&self);
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
        408 => "Request Timeout",
        414 => "URI Too Long",
        417 => "Expectation Failed",
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
}
