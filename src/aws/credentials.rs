//! AWS credentials as the AWS SDKs find them, in this order: `AWS_ACCESS_KEY_ID` /
//! `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`); then web identity
//! (`AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`, as EKS gives a pod its role): STS
//! `AssumeRoleWithWebIdentity`, refreshed five minutes before the credentials expire.
//! Profiles and instance metadata are not read.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use super::http::{Http, aws_error};
use crate::error::Error;
use crate::sync::lock;

/// Refreshed this long before they expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// A set of AWS credentials. The secret key and session token are wiped on drop and never
/// shown by `Debug`.
#[derive(Clone)]
pub struct Credentials {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: Zeroizing<String>,
    pub(crate) session_token: Option<Zeroizing<String>>,
    pub(crate) expires_at: Option<OffsetDateTime>,
}

impl Credentials {
    /// Long-term (or already temporary) credentials.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: Zeroizing::new(secret_access_key.into()),
            session_token: session_token.map(Zeroizing::new),
            expires_at: None,
        }
    }

    /// The access key id (not a secret: it names the key).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Where the credentials come from.
pub(crate) enum Source {
    Static(Credentials),
    WebIdentity {
        token_file: String,
        role_arn: String,
        session_name: String,
        sts_endpoint: String,
    },
}

/// The credentials in use, fetched again when they near their end.
pub(crate) struct Provider {
    source: Source,
    cached: Mutex<Option<Credentials>>,
}

/// The variables looked at, for the error that says none was set.
pub(crate) const LOOKED_AT: &str = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN), or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN";

impl Provider {
    /// The first source the variables name, or `None`.
    pub(crate) fn from_vars(
        var: &dyn Fn(&str) -> Option<String>,
        sts_endpoint: String,
    ) -> Option<Self> {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        let source = if let (Some(id), Some(secret)) =
            (set("AWS_ACCESS_KEY_ID"), set("AWS_SECRET_ACCESS_KEY"))
        {
            Source::Static(Credentials::new(id, secret, set("AWS_SESSION_TOKEN")))
        } else if let (Some(token_file), Some(role_arn)) =
            (set("AWS_WEB_IDENTITY_TOKEN_FILE"), set("AWS_ROLE_ARN"))
        {
            Source::WebIdentity {
                token_file,
                role_arn,
                session_name: set("AWS_ROLE_SESSION_NAME")
                    .unwrap_or_else(|| format!("cybrid-identity-{}", crate::rand::hex_guid())),
                sts_endpoint,
            }
        } else {
            return None;
        };
        Some(Provider {
            source,
            cached: Mutex::new(None),
        })
    }

    /// Credentials good for at least the refresh margin.
    pub(crate) fn current(&self, http: &Http) -> Result<Credentials, Error> {
        let (token_file, role_arn, session_name, sts_endpoint) = match &self.source {
            Source::Static(credentials) => return Ok(credentials.clone()),
            Source::WebIdentity {
                token_file,
                role_arn,
                session_name,
                sts_endpoint,
            } => (token_file, role_arn, session_name, sts_endpoint),
        };
        let mut cached = lock(&self.cached);
        let now = OffsetDateTime::now_utc();
        if let Some(credentials) = cached.as_ref()
            && credentials
                .expires_at
                .is_some_and(|end| end - REFRESH_MARGIN > now)
        {
            return Ok(credentials.clone());
        }
        let token = std::fs::read_to_string(token_file).map_err(|e| {
            Error::config(format!(
                "AWS_WEB_IDENTITY_TOKEN_FILE {token_file} cannot be read: {e}"
            ))
        })?;
        let fresh = assume_role_with_web_identity(
            http,
            sts_endpoint,
            role_arn,
            session_name,
            token.trim(),
        )?;
        *cached = Some(fresh.clone());
        Ok(fresh)
    }
}

/// STS `AssumeRoleWithWebIdentity` (a request STS takes unsigned: the token is the proof).
fn assume_role_with_web_identity(
    http: &Http,
    endpoint: &str,
    role_arn: &str,
    session_name: &str,
    token: &str,
) -> Result<Credentials, Error> {
    let encode = |v: &str| {
        percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
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
    let text = String::from_utf8_lossy(&answer.body);
    if answer.status != 200 {
        return Err(aws_error(
            "STS AssumeRoleWithWebIdentity",
            &answer,
            xml(&text, "Code"),
            xml(&text, "Message"),
        ));
    }
    let field = |name: &str| {
        xml(&text, name).ok_or_else(|| {
            Error::Signing(format!(
                "STS AssumeRoleWithWebIdentity answered without {name}"
            ))
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret_and_the_variables_are_read_in_the_sdks_order() {
        let credentials = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI-secret",
            Some("FwoGZ-token".into()),
        );
        let shown = format!("{credentials:?}");
        assert_eq!(
            shown,
            r#"Credentials { access_key_id: "AKIDEXAMPLE", secret_access_key: "[redacted]", session_token: Some("[redacted]"), expires_at: None }"#
        );
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let both: &[(&str, &str)] = &[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
            ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
        ];
        let provider = Provider::from_vars(&vars(both), String::new()).unwrap();
        assert!(matches!(provider.source, Source::Static(_)), "keys first");
        let web = Provider::from_vars(&vars(&both[2..]), String::new()).unwrap();
        assert!(matches!(web.source, Source::WebIdentity { .. }));
        assert!(
            Provider::from_vars(&vars(&[("AWS_ACCESS_KEY_ID", "AKID")]), String::new()).is_none()
        );
        assert_eq!(
            xml(
                "<R><Credentials><AccessKeyId> ASIA </AccessKeyId></Credentials></R>",
                "AccessKeyId"
            ),
            Some("ASIA".into())
        );
    }
}
