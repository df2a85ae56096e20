//! AWS credentials as the AWS SDKs find them, in this order: `AWS_ACCESS_KEY_ID` /
//! `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`); web identity
//! (`AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`, as EKS gives a pod its role); the
//! profile of the shared files (static keys, `role_arn` with `source_profile`,
//! `credential_process`); the container endpoint (ECS, Fargate, EKS Pod Identity); the
//! instance metadata service (IMDSv2). Temporary credentials are refreshed five minutes
//! before they expire.

use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::http::Http;
use super::metadata;
use super::process;
use super::profile::SharedFiles;
use super::profile_step::{from_profile, session_name};
use super::source::{Credentials, Source};
use crate::error::Error;
use crate::sync::lock;

/// Refreshed this long before they expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// The credentials in use, fetched again when they near their end.
pub(crate) struct Provider {
    source: Source,
    /// Held while fetching: one refresh at a time for every thread of a book.
    cached: Mutex<Option<Credentials>>,
    metadata: Http,
}

/// The variables and places looked at, for the error that says none gave credentials.
pub(crate) const LOOKED_AT: &str = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN), AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, the profile (AWS_PROFILE or default) in ~/.aws/credentials and ~/.aws/config, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, and the instance metadata service (unless AWS_EC2_METADATA_DISABLED=true)";

impl Provider {
    /// The chain in the AWS SDKs' order: the environment's keys, web identity, the profile,
    /// the container endpoint, the instance metadata service. A step is skipped only when
    /// it is not configured here; one that is configured and wrong is an error naming it.
    /// `None` when no step is configured (the instance metadata service disabled).
    ///
    /// # Errors
    /// [`Error::Config`]: `AWS_PROFILE` names a profile neither file has, a profile names a
    /// missing `source_profile` or has nothing to give credentials with, a container URI
    /// the SDKs refuse, a shared file that cannot be read.
    pub(crate) fn chain(
        var: &dyn Fn(&str) -> Option<String>,
        sts_endpoint: String,
    ) -> Result<Option<Self>, Error> {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        let source = if let (Some(id), Some(secret)) =
            (set("AWS_ACCESS_KEY_ID"), set("AWS_SECRET_ACCESS_KEY"))
        {
            Some(Source::Static(Credentials::new(
                id,
                secret,
                set("AWS_SESSION_TOKEN"),
            )))
        } else if let (Some(token_file), Some(role_arn)) =
            (set("AWS_WEB_IDENTITY_TOKEN_FILE"), set("AWS_ROLE_ARN"))
        {
            Some(Source::WebIdentity {
                token_file,
                role_arn,
                session_name: set("AWS_ROLE_SESSION_NAME").unwrap_or_else(session_name),
                sts_endpoint: sts_endpoint.clone(),
            })
        } else if let Some(source) = profile_source(&set, &sts_endpoint)? {
            Some(source)
        } else if let Some(url) = metadata::container_url(&set)? {
            Some(Source::Container {
                url,
                token: set("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
                token_file: set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
            })
        } else {
            metadata::imds_endpoint(&set).map(|endpoint| Source::Instance { endpoint })
        };
        Ok(source.map(|source| Provider {
            source,
            cached: Mutex::new(None),
            metadata: Http::metadata(),
        }))
    }

    /// Credentials good for at least the refresh margin: static ones as they are, temporary
    /// ones from the cache or fetched afresh (one thread at a time). A refresh that fails
    /// while the cached credentials are still valid keeps them, with a warning.
    pub(crate) fn current(&self, http: &Http) -> Result<Credentials, Error> {
        if let Source::Static(credentials) = &self.source {
            return Ok(credentials.clone());
        }
        let mut cached = lock(&self.cached);
        let now = OffsetDateTime::now_utc();
        if let Some(credentials) = cached.as_ref()
            && fresh(credentials, now)
        {
            return Ok(credentials.clone());
        }
        match fetch(&self.source, http, &self.metadata) {
            Ok(credentials) => {
                *cached = Some(credentials.clone());
                Ok(credentials)
            }
            Err(e) => match cached.as_ref() {
                Some(old) if old.expires_at.is_some_and(|end| end > now) => {
                    log::warn!(target: "cybrid_identity", "AWS credentials could not be refreshed, the current ones are used until they expire: {e}");
                    Ok(old.clone())
                }
                _ => Err(e),
            },
        }
    }
}

/// The profile step, the shared files read only when the steps before found nothing: an
/// `AWS_PROFILE` that neither file has is an error, as the SDKs make it.
fn profile_source(
    set: &dyn Fn(&str) -> Option<String>,
    sts_endpoint: &str,
) -> Result<Option<Source>, Error> {
    let files = SharedFiles::read(set)?;
    let explicit = set("AWS_PROFILE");
    let name = explicit.clone().unwrap_or_else(|| "default".to_owned());
    let profile = files.profile(&name);
    if explicit.is_some() && profile.is_none() {
        return Err(Error::config(format!(
            "AWS_PROFILE names the profile {name}, which neither ~/.aws/credentials nor ~/.aws/config has (nor AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE)"
        )));
    }
    from_profile(
        &files,
        profile.as_ref(),
        explicit.is_some(),
        sts_endpoint,
        0,
    )
}

/// The `region` of the profile the chain would read (`AWS_PROFILE`, else `default`), for a
/// signer whose region no variable sets.
///
/// # Errors
/// [`Error::Config`] for a shared file that cannot be read.
pub(crate) fn profile_region(
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, Error> {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    let name = set("AWS_PROFILE").unwrap_or_else(|| "default".to_owned());
    let files = SharedFiles::read(&set)?;
    Ok(files
        .profile(&name)
        .and_then(|p| p.get("region").map(str::to_owned)))
}

/// Whether credentials are good for longer than the refresh margin (no expiry: for ever).
fn fresh(credentials: &Credentials, now: OffsetDateTime) -> bool {
    credentials.expires_at.is_none_or(|end| {
        end.checked_sub(time::Duration::seconds(REFRESH_MARGIN.as_secs() as i64))
            .is_some_and(|refresh_at| refresh_at > now)
    })
}

/// Fresh credentials from a source that gives temporary ones.
fn fetch(source: &Source, http: &Http, metadata: &Http) -> Result<Credentials, Error> {
    match source {
        Source::Static(credentials) => Ok(credentials.clone()),
        Source::WebIdentity {
            token_file,
            role_arn,
            session_name,
            sts_endpoint,
        } => {
            let token = Zeroizing::new(std::fs::read_to_string(token_file).map_err(|e| {
                Error::config(format!(
                    "AWS_WEB_IDENTITY_TOKEN_FILE {token_file} cannot be read: {e}"
                ))
            })?);
            super::sts::assume_role_with_web_identity(
                http,
                sts_endpoint,
                role_arn,
                session_name,
                token.trim(),
            )
        }
        Source::AssumeRole {
            profile,
            source,
            role,
            sts_endpoint,
            region,
        } => {
            let base = fetch(source, http, metadata)?;
            super::sts::assume_role(http, sts_endpoint, region, &base, role).map_err(|e| {
                Error::Signing(format!(
                    "AWS credentials, profile {profile} (STS AssumeRole): {e}"
                ))
            })
        }
        Source::Process { profile, command } => process::run(command, profile),
        Source::Container {
            url,
            token,
            token_file,
        } => {
            let token = match token_file {
                Some(path) => Some(Zeroizing::new(std::fs::read_to_string(path).map_err(
                    |e| {
                        Error::config(format!(
                            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {path} cannot be read: {e}"
                        ))
                    },
                )?)),
                None => token.clone().map(Zeroizing::new),
            };
            metadata::container(metadata, url, token.as_ref())
                .map_err(|e| Error::Signing(format!("AWS credentials, container endpoint: {e}")))
        }
        Source::Instance { endpoint } => {
            // One retry: the service may be slow to answer the first call after boot.
            let found = match metadata::instance(metadata, endpoint)? {
                Some(found) => Some(found),
                None => metadata::instance(metadata, endpoint)?,
            };
            found.ok_or_else(|| {
                Error::invalid(
                    "aws_credentials",
                    format!(
                        "no AWS credentials found: looked at {LOOKED_AT}; the instance metadata service at {endpoint} did not answer (not on EC2?)"
                    ),
                )
            })
        }
    }
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
        let chain = |pairs| Provider::chain(&vars(pairs), String::new()).unwrap();
        let provider = chain(both).unwrap();
        assert!(matches!(provider.source, Source::Static(_)), "keys first");
        let web = chain(&both[2..]).unwrap();
        assert!(matches!(web.source, Source::WebIdentity { .. }));
        // Half the keys, nothing else: the chain's end, the instance metadata service (at
        // its address; nothing is sent until credentials are asked for) or, disabled, none.
        let end = chain(&[("AWS_ACCESS_KEY_ID", "AKID")]).unwrap();
        assert!(
            matches!(&end.source, Source::Instance { endpoint } if endpoint == "http://169.254.169.254")
        );
        assert!(
            chain(&[
                ("AWS_ACCESS_KEY_ID", "AKID"),
                ("AWS_EC2_METADATA_DISABLED", "true")
            ])
            .is_none()
        );
        assert_eq!(
            super::super::sts::xml(
                "<R><Credentials><AccessKeyId> ASIA </AccessKeyId></Credentials></R>",
                "AccessKeyId"
            ),
            Some("ASIA".into())
        );
    }
}
