//! Credentials from the machine the program runs on: an ECS or Fargate task's (and EKS Pod
//! Identity's) container endpoint, and an EC2 instance's metadata service (IMDSv2), each
//! answering the role's temporary credentials as JSON.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use super::http::Http;
use super::source::Credentials;
use crate::error::Error;

/// The ECS agent's address, for `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`.
pub(crate) const ECS_ENDPOINT: &str = "http://169.254.170.2";
/// The instance metadata service's address, unless `AWS_EC2_METADATA_SERVICE_ENDPOINT` says.
pub(crate) const IMDS_ENDPOINT: &str = "http://169.254.169.254";
/// IMDSv2 session tokens asked for: six hours, as the SDKs ask.
const IMDS_TOKEN_TTL: &str = "21600";

/// The container endpoint the variables name: the relative URI under the ECS agent's
/// address, or a full URI on loopback or the ECS/EKS link-local addresses (over `http`),
/// or any host over `https`, as the SDKs allow.
///
/// # Errors
/// [`Error::Config`] for a full URI the SDKs would refuse.
pub(crate) fn container_url(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, Error> {
    if let Some(relative) = var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
        let relative = if relative.starts_with('/') {
            relative
        } else {
            format!("/{relative}")
        };
        return Ok(Some(format!("{ECS_ENDPOINT}{relative}")));
    }
    let Some(full) = var("AWS_CONTAINER_CREDENTIALS_FULL_URI") else {
        return Ok(None);
    };
    let (scheme, rest) = full.split_once("://").unwrap_or(("", ""));
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let allowed = scheme == "https"
        || (scheme == "http"
            && (host == "localhost"
                || host == "::1"
                || host.starts_with("127.")
                || host == "169.254.170.2"
                || host == "169.254.170.23"
                || host.eq_ignore_ascii_case("fd00:ec2::23")));
    if allowed {
        Ok(Some(full))
    } else {
        Err(Error::config(format!(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI {full}: over http only loopback and the ECS/EKS addresses (169.254.170.2, 169.254.170.23, fd00:ec2::23) are allowed, as the AWS SDKs allow"
        )))
    }
}

/// The instance metadata service's address, or `None` when `AWS_EC2_METADATA_DISABLED` is
/// `true`.
pub(crate) fn imds_endpoint(var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if var("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return None;
    }
    Some(
        var("AWS_EC2_METADATA_SERVICE_ENDPOINT")
            .unwrap_or_else(|| IMDS_ENDPOINT.to_owned())
            .trim_end_matches('/')
            .to_owned(),
    )
}

/// The container endpoint's credentials; the authorization token, if any, read afresh (a
/// file the agent rotates).
pub(crate) fn container(
    http: &Http,
    url: &str,
    token: Option<&Zeroizing<String>>,
) -> Result<Credentials, Error> {
    let headers: Vec<(&str, &str)> = token
        .map(|t| vec![("authorization", t.trim())])
        .unwrap_or_default();
    let answer = http.request("GET", url, &headers, &[])?;
    if answer.status != 200 {
        return Err(Error::Signing(format!(
            "the container credentials endpoint {url} answered {}",
            answer.status
        )));
    }
    parse(&answer.body, "the container credentials endpoint")
}

/// IMDSv2: a session token (`PUT /latest/api/token`), the role's name, its credentials.
/// `Ok(None)` when nothing answers at the address (not on EC2): the chain's end.
pub(crate) fn instance(http: &Http, endpoint: &str) -> Result<Option<Credentials>, Error> {
    let token_url = format!("{endpoint}/latest/api/token");
    let token = match http.request(
        "PUT",
        &token_url,
        &[("x-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL)],
        &[],
    ) {
        Ok(answer) if answer.status == 200 => {
            Zeroizing::new(String::from_utf8_lossy(&answer.body).trim().to_owned())
        }
        Ok(answer) => {
            return Err(Error::Signing(format!(
                "the instance metadata service at {endpoint} refused a session token ({}): IMDSv2 is required",
                answer.status
            )));
        }
        // No answer at all: not an EC2 instance.
        Err(_) => return Ok(None),
    };
    let header = [("x-aws-ec2-metadata-token", token.as_str())];
    let roles_url = format!("{endpoint}/latest/meta-data/iam/security-credentials/");
    let roles = http.request("GET", &roles_url, &header, &[])?;
    if roles.status == 404 {
        return Err(Error::config(format!(
            "the instance metadata service at {endpoint} has no role: attach an instance profile to the instance"
        )));
    }
    let text = String::from_utf8_lossy(&roles.body);
    let role = text.lines().next().unwrap_or_default().trim();
    if roles.status != 200 || role.is_empty() || role.contains('/') {
        return Err(Error::Signing(format!(
            "the instance metadata service at {endpoint} answered {} for the role's name",
            roles.status
        )));
    }
    let answer = http.request("GET", &format!("{roles_url}{role}"), &header, &[])?;
    if answer.status != 200 {
        return Err(Error::Signing(format!(
            "the instance metadata service at {endpoint} answered {} for role {role}'s credentials",
            answer.status
        )));
    }
    parse(&answer.body, "the instance metadata service").map(Some)
}

/// `{AccessKeyId, SecretAccessKey, Token, Expiration}`, as both endpoints answer.
pub(crate) fn parse(body: &[u8], from: &str) -> Result<Credentials, Error> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| Error::Signing(format!("{from} answered something that is not JSON")))?;
    let field = |name: &str| {
        value[name]
            .as_str()
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| Error::Signing(format!("{from} answered without {name}")))
    };
    let session_token = value["Token"]
        .as_str()
        .or_else(|| value["SessionToken"].as_str())
        .map(|t| Zeroizing::new(t.to_owned()));
    Ok(Credentials {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: Zeroizing::new(field("SecretAccessKey")?),
        session_token,
        expires_at: value["Expiration"]
            .as_str()
            .and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    /// The addresses the code would use, checked without sending a packet.
    #[test]
    fn the_default_addresses_are_the_sdks_and_only_allowed_hosts_are_taken() {
        assert_eq!(
            imds_endpoint(&vars(&[])).as_deref(),
            Some("http://169.254.169.254")
        );
        assert_eq!(
            imds_endpoint(&vars(&[("AWS_EC2_METADATA_DISABLED", "TRUE")])),
            None
        );
        assert_eq!(
            imds_endpoint(&vars(&[(
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                "http://127.0.0.1:9/"
            )]))
            .as_deref(),
            Some("http://127.0.0.1:9")
        );
        let relative = vars(&[(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "/v2/credentials/abc",
        )]);
        assert_eq!(
            container_url(&relative).unwrap().as_deref(),
            Some("http://169.254.170.2/v2/credentials/abc")
        );
        for ok in [
            "http://127.0.0.1:51679/creds",
            "http://localhost/creds",
            "http://[::1]:80/creds",
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]/v1/credentials",
            "https://creds.example.com/x",
        ] {
            let v = vars(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", ok)]);
            assert_eq!(container_url(&v).unwrap().as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/creds",
            "http://example.com/creds",
            "ftp://127.0.0.1/x",
        ] {
            let v = vars(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", bad)]);
            assert!(container_url(&v).is_err(), "{bad}");
        }
        assert_eq!(container_url(&vars(&[])).unwrap(), None);
    }

    #[test]
    fn an_answer_is_read_and_its_secret_never_shown() {
        let creds = parse(
            br#"{"Code":"Success","AccessKeyId":"ASIAX","SecretAccessKey":"sekrit-1234567890","Token":"tok-abcdefghij","Expiration":"2026-12-08T12:00:00Z"}"#,
            "x",
        )
        .unwrap();
        assert_eq!(creds.access_key_id, "ASIAX");
        assert!(creds.expires_at.is_some());
        let shown = format!("{creds:?}");
        assert!(
            !shown.contains("sekrit") && !shown.contains("tok-abc"),
            "{shown}"
        );
        let err = parse(br#"{"AccessKeyId":"A"}"#, "x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("SecretAccessKey"), "{err}");
    }
}
