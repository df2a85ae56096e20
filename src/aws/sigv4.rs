//! AWS Signature Version 4, for the requests this crate sends to AWS (KMS's JSON API): the
//! canonical request, the string to sign, the derived key, the `Authorization` header. Pure:
//! the time and the credentials come in, headers go out; checked against AWS's published
//! examples and against `botocore`'s signer in tests.

use hmac::{KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;

type HmacSha256 = hmac::Hmac<Sha256>;

/// What is signed: a request with its lowercase header names and values.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    /// The path, already URI-encoded (`/` for AWS's JSON APIs).
    pub(crate) path: &'a str,
    /// The canonical query string (empty for AWS's JSON APIs).
    pub(crate) query: &'a str,
    /// Header names lowercase, values trimmed; `host` among them.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: &'a [u8],
}

/// Where and as whom a request is signed.
pub(crate) struct Scope<'a> {
    pub(crate) access_key_id: &'a str,
    pub(crate) secret_access_key: &'a str,
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
}

/// `YYYYMMDD'T'HHMMSS'Z'`, as `x-amz-date` carries it.
pub(crate) fn amz_date(at: OffsetDateTime) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The canonical request: method, path, query, sorted headers, signed header names, and
/// the body's SHA-256.
pub(crate) fn canonical_request(request: &Request<'_>) -> (String, String) {
    let mut headers: Vec<&(String, String)> = request.headers.iter().collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{}\n", value.trim()))
        .collect();
    let signed: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
    let signed = signed.join(";");
    let text = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed}\n{}",
        request.method,
        request.path,
        request.query,
        hex(&Sha256::digest(request.body))
    );
    (text, signed)
}

/// The `Authorization` header's value for `request`, signed at `at`; the request's headers
/// must already hold `x-amz-date` for that time.
pub(crate) fn authorization(
    request: &Request<'_>,
    scope: &Scope<'_>,
    at: OffsetDateTime,
) -> String {
    let date = amz_date(at);
    let day = &date[..8];
    let (canonical, signed) = canonical_request(request);
    let credential_scope = format!("{day}/{}/{}/aws4_request", scope.region, scope.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{date}\n{credential_scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let secret = zeroize::Zeroizing::new(format!("AWS4{}", scope.secret_access_key));
    let key = hmac(secret.as_bytes(), day.as_bytes());
    let key = hmac(&key, scope.region.as_bytes());
    let key = hmac(&key, scope.service.as_bytes());
    let key = zeroize::Zeroizing::new(hmac(&key, b"aws4_request"));
    let signature = hex(&hmac(&key, string_to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{credential_scope}, SignedHeaders={signed}, Signature={signature}",
        scope.access_key_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
    }

    /// AWS's Signature Version 4 test suite, `get-vanilla`.
    #[test]
    fn the_test_suites_get_vanilla() {
        let when = at("2015-08-30T12:36:00Z");
        let request = Request {
            method: "GET",
            path: "/",
            query: "",
            headers: vec![
                ("host".into(), "example.amazonaws.com".into()),
                ("x-amz-date".into(), amz_date(when)),
            ],
            body: b"",
        };
        let scope = Scope {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "service",
        };
        assert_eq!(
            authorization(&request, &scope, when),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    /// The S3 `GET Object` example of AWS's Signature Version 4 documentation.
    #[test]
    fn the_documentations_get_object_example() {
        let when = at("2013-05-24T00:00:00Z");
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let request = Request {
            method: "GET",
            path: "/test.txt",
            query: "",
            headers: vec![
                ("host".into(), "examplebucket.s3.amazonaws.com".into()),
                ("range".into(), "bytes=0-9".into()),
                ("x-amz-content-sha256".into(), empty.into()),
                ("x-amz-date".into(), amz_date(when)),
            ],
            body: b"",
        };
        let scope = Scope {
            access_key_id: "AKIAIOSFODNN7EXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "s3",
        };
        assert!(
            authorization(&request, &scope, when)
                .ends_with("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        );
    }

    /// The same KMS request signed by `botocore` (the AWS SDK for Python), session token
    /// and all: the `Authorization` headers are equal. Needs `python3` with `botocore`
    /// (moto brings it); skipped without, unless `CYBRID_REQUIRE_REAL=1`.
    #[test]
    fn a_kms_request_is_signed_as_botocore_signs_it() {
        let script = r#"
import datetime, sys, unittest.mock as m
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
body = sys.stdin.buffer.read()
request = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=body, headers={
    "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.Sign"})
credentials = Credentials("ASIAEXAMPLE", "secret/with+chars", "FwoGZXIvYXdzEXAMPLE//token==")
with m.patch("botocore.auth.get_current_datetime", return_value=datetime.datetime(2026, 12, 7, 21, 0, 5)):
    SigV4Auth(credentials, "kms", "eu-west-2").add_auth(request)
print(request.headers["Authorization"])
"#;
        let body = br#"{"KeyId":"alias/bank","Message":"3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==","MessageType":"DIGEST","SigningAlgorithm":"RSASSA_PKCS1_V1_5_SHA_512"}"#;
        let child = std::process::Command::new("python3")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn();
        let out = child.and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().map(|mut i| i.write_all(body));
            child.wait_with_output()
        });
        let Some(out) = out.ok().filter(|o| o.status.success()) else {
            assert!(
                std::env::var("CYBRID_REQUIRE_REAL").as_deref() != Ok("1"),
                "python3 with botocore is required here"
            );
            eprintln!("skipped: python3 with botocore is not installed");
            return;
        };
        let theirs = String::from_utf8(out.stdout).unwrap();
        let when = at("2026-12-07T21:00:05Z");
        let request = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: vec![
                ("content-type".into(), "application/x-amz-json-1.1".into()),
                ("host".into(), "127.0.0.1:4566".into()),
                ("x-amz-date".into(), amz_date(when)),
                (
                    "x-amz-security-token".into(),
                    "FwoGZXIvYXdzEXAMPLE//token==".into(),
                ),
                ("x-amz-target".into(), "TrentService.Sign".into()),
            ],
            body,
        };
        let scope = Scope {
            access_key_id: "ASIAEXAMPLE",
            secret_access_key: "secret/with+chars",
            region: "eu-west-2",
            service: "kms",
        };
        assert_eq!(authorization(&request, &scope, when), theirs.trim());
    }
}
