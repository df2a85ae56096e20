//! One POST to an AWS service, signed with Signature Version 4 for `credentials`: what KMS's
//! calls and STS's `AssumeRole` send.

use time::OffsetDateTime;

use super::http::{Answer, Http};
use super::sigv4::{Request, Scope, amz_date, authorization};
use super::source::Credentials;
use crate::error::Error;

/// Where a signed request goes: the endpoint (`https://kms.eu-west-1.amazonaws.com`), the
/// region and service it is signed for.
pub(crate) struct Service<'a> {
    pub(crate) endpoint: &'a str,
    pub(crate) region: &'a str,
    pub(crate) name: &'a str,
}

impl Service<'_> {
    /// The endpoint's host, as the signature's `host` header.
    fn host(&self) -> &str {
        self.endpoint
            .split_once("://")
            .map_or(self.endpoint, |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or_default()
    }
}

/// POSTs `body` to the service's `/` with `headers` (lowercase names) and the signature's
/// own (`host`, `x-amz-date`, `x-amz-security-token`, `authorization`), signed now.
pub(crate) fn signed_post(
    http: &Http,
    service: &Service<'_>,
    mut headers: Vec<(String, String)>,
    body: &[u8],
    credentials: &Credentials,
) -> Result<Answer, Error> {
    let now = OffsetDateTime::now_utc();
    headers.push(("host".to_owned(), service.host().to_owned()));
    headers.push(("x-amz-date".to_owned(), amz_date(now)));
    if let Some(token) = &credentials.session_token {
        headers.push(("x-amz-security-token".to_owned(), token.to_string()));
    }
    let request = Request {
        method: "POST",
        path: "/",
        query: "",
        headers,
        body,
    };
    let scope = Scope {
        access_key_id: &credentials.access_key_id,
        secret_access_key: &credentials.secret_access_key,
        region: service.region,
        service: service.name,
    };
    let auth = authorization(&request, &scope, now);
    let mut sent: Vec<(&str, &str)> = request
        .headers
        .iter()
        .filter(|(name, _)| name != "host")
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    sent.push(("authorization", &auth));
    let url = format!("{}/", service.endpoint.trim_end_matches('/'));
    http.post(&url, &sent, body)
}
