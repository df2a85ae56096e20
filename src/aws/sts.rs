//! AWS STS, for the credentials of a role: `AssumeRoleWithWebIdentity` (unsigned: the
//! token is the proof) and `AssumeRole` (signed with the source profile's credentials).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use super::http::{Http, aws_error};
use super::signed::{Service, signed_post};
use super::source::{Credentials, RoleRequest};
use crate::error::Error;

fn encode(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// STS `AssumeRole` as `base`, for `role`.
pub(crate) fn assume_role(
    http: &Http,
    endpoint: &str,
    region: &str,
    base: &Credentials,
    role: &RoleRequest,
) -> Result<Credentials, Error> {
    let mut body = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName={}",
        encode(&role.role_arn),
        encode(&role.session_name)
    );
    if let Some(id) = &role.external_id {
        body.push_str(&format!("&ExternalId={}", encode(id)));
    }
    if let Some(seconds) = role.duration_seconds {
        body.push_str(&format!("&DurationSeconds={seconds}"));
    }
    let headers = vec![(
        "content-type".to_owned(),
        "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
    )];
    let service = Service {
        endpoint,
        region,
        name: "sts",
    };
    let answer = signed_post(http, &service, headers, body.as_bytes(), base)?;
    read_credentials("STS AssumeRole", &answer)
}

/// STS `AssumeRoleWithWebIdentity` (a request STS takes unsigned: the token is the proof).
pub(crate) fn assume_role_with_web_identity(
    http: &Http,
    endpoint: &str,
    role_arn: &str,
    session_name: &str,
    token: &str,
) -> Result<Credentials, Error> {
    let body = Zeroizing::new(format!(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName={}&WebIdentityToken={}",
        encode(role_arn),
        encode(session_name),
        encode(token)
    ));
    let answer = http.post(
        endpoint,
        &[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        body.as_bytes(),
    )?;
    read_credentials("STS AssumeRoleWithWebIdentity", &answer)
}

/// The credentials of an STS answer, or the error it stands for.
fn read_credentials(call: &str, answer: &super::http::Answer) -> Result<Credentials, Error> {
    let text = String::from_utf8_lossy(&answer.body);
    if answer.status != 200 {
        return Err(aws_error(
            call,
            answer,
            xml(&text, "Code"),
            xml(&text, "Message"),
        ));
    }
    let field = |name: &str| {
        xml(&text, name).ok_or_else(|| Error::Signing(format!("{call} answered without {name}")))
    };
    let expires_at = OffsetDateTime::parse(&field("Expiration")?, &Rfc3339).ok();
    Ok(Credentials {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: Zeroizing::new(field("SecretAccessKey")?),
        session_token: Some(Zeroizing::new(field("SessionToken")?)),
        expires_at,
    })
}

/// The text of the first `<name>…</name>` element: STS answers in a small, fixed XML.
pub(crate) fn xml(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&format!("</{name}>"))? + start;
    Some(text[start..end].trim().to_owned())
}
