//! The chain's profile step: a profile's `role_arn` with its `source_profile`, its static
//! keys, or its `credential_process`; what is missing named.

use super::profile::{Profile, SharedFiles};
use super::source::{Credentials, RoleRequest, Source};
use crate::error::Error;

pub(crate) fn session_name() -> String {
    format!("cybrid-identity-{}", crate::rand::hex_guid())
}

/// The profile step: `role_arn` with `source_profile`, static keys, `credential_process`.
/// `Ok(None)` when the profile is not there or holds nothing of the kind (unless it was
/// named by `AWS_PROFILE`, when that is an error).
pub(crate) fn from_profile(
    files: &SharedFiles,
    profile: Option<&Profile>,
    explicit: bool,
    sts_endpoint: &str,
    depth: u8,
) -> Result<Option<Source>, Error> {
    let Some(profile) = profile else {
        return Ok(None);
    };
    let name = &profile.name;
    if let Some(role_arn) = profile.get("role_arn") {
        return assume_role(files, profile, role_arn, sts_endpoint, depth).map(Some);
    }
    if let Some(keys) = static_keys(profile) {
        return Ok(Some(keys));
    }
    if let Some(command) = profile.get("credential_process") {
        return Ok(Some(Source::Process {
            profile: name.clone(),
            command: command.to_owned(),
        }));
    }
    if explicit {
        return Err(Error::config(format!(
            "profile {name} has no credentials: neither aws_access_key_id and aws_secret_access_key, role_arn with source_profile, nor credential_process"
        )));
    }
    Ok(None)
}

fn static_keys(profile: &Profile) -> Option<Source> {
    match (
        profile.get("aws_access_key_id"),
        profile.get("aws_secret_access_key"),
    ) {
        (Some(id), Some(secret)) => Some(Source::Static(Credentials::new(
            id,
            secret,
            profile.get("aws_session_token").map(str::to_owned),
        ))),
        _ => None,
    }
}

/// A profile's `role_arn`, to be assumed with its `source_profile`'s credentials.
fn assume_role(
    files: &SharedFiles,
    profile: &Profile,
    role_arn: &str,
    sts_endpoint: &str,
    depth: u8,
) -> Result<Source, Error> {
    let name = &profile.name;
    if depth >= 4 {
        return Err(Error::config(format!(
            "profile {name}: source_profile chains deeper than 4 (a loop?)"
        )));
    }
    let source_name = profile.get("source_profile").ok_or_else(|| {
        Error::config(format!(
            "profile {name} has role_arn but no source_profile (credential_source is not supported): name the profile whose keys assume the role"
        ))
    })?;
    let source_profile = files.profile(source_name).ok_or_else(|| {
        Error::config(format!(
            "profile {name}'s source_profile {source_name} is in neither ~/.aws/credentials nor ~/.aws/config"
        ))
    })?;
    // The source's own keys (a source with a role of its own assumes that first).
    let source = if source_name == name {
        static_keys(&source_profile)
    } else {
        from_profile(files, Some(&source_profile), true, sts_endpoint, depth + 1)?
    }
    .ok_or_else(|| {
        Error::config(format!(
            "profile {name}'s source_profile {source_name} has no credentials"
        ))
    })?;
    let duration_seconds = match profile.get("duration_seconds") {
        None => None,
        Some(text) => Some(
            text.parse::<u32>()
                .ok()
                .filter(|s| (900..=43_200).contains(s))
                .ok_or_else(|| {
                    Error::config(format!(
                        "profile {name}: duration_seconds is a number of seconds from 900 to 43200"
                    ))
                })?,
        ),
    };
    Ok(Source::AssumeRole {
        profile: name.clone(),
        source: Box::new(source),
        role: RoleRequest {
            role_arn: role_arn.to_owned(),
            session_name: profile
                .get("role_session_name")
                .map_or_else(session_name, str::to_owned),
            external_id: profile.get("external_id").map(str::to_owned),
            duration_seconds,
        },
        sts_endpoint: sts_endpoint.to_owned(),
        region: profile.get("region").unwrap_or("us-east-1").to_owned(),
    })
}
