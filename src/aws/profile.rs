//! The AWS shared files, as the SDKs read them: `~/.aws/credentials` (sections `[name]`) and
//! `~/.aws/config` (`[default]`, `[profile name]`), or the files `AWS_SHARED_CREDENTIALS_FILE`
//! and `AWS_CONFIG_FILE` name; the profile `AWS_PROFILE` names, else `default`. A few dozen
//! lines of INI (`key = value`, `#` and `;` comments, indented sub-properties skipped) rather
//! than a crate: the default build's crates stay as they are.

use std::collections::HashMap;

use crate::error::Error;

/// The largest shared file read.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// A profile's settings, the credentials file's over the config file's.
#[derive(Default)]
pub(crate) struct Profile {
    pub(crate) name: String,
    settings: HashMap<String, String>,
}

impl Profile {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.settings
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Both shared files, parsed: profile name → settings.
#[derive(Default)]
pub(crate) struct SharedFiles {
    profiles: HashMap<String, HashMap<String, String>>,
}

impl SharedFiles {
    /// Reads the files the variables (or `HOME`) point at; a file that is not there is
    /// empty, one that cannot be read is an error naming it.
    pub(crate) fn read(var: &dyn Fn(&str) -> Option<String>) -> Result<SharedFiles, Error> {
        let home = var("HOME");
        let path = |override_var: &str, default: &str| {
            var(override_var).or_else(|| home.as_ref().map(|h| format!("{h}/.aws/{default}")))
        };
        let mut files = SharedFiles::default();
        if let Some(config) = path("AWS_CONFIG_FILE", "config") {
            files.merge(&read_file(&config)?, true);
        }
        if let Some(credentials) = path("AWS_SHARED_CREDENTIALS_FILE", "credentials") {
            files.merge(&read_file(&credentials)?, false);
        }
        Ok(files)
    }

    /// Adds a file's sections: in the config file `[profile name]` (and `[default]`), in the
    /// credentials file `[name]`; later files win.
    pub(crate) fn merge(&mut self, text: &str, config: bool) {
        let mut section: Option<String> = None;
        for line in text.lines() {
            if line.starts_with([' ', '\t']) {
                continue; // a sub-property (`s3 =` and its indented lines)
            }
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                let name = name.trim();
                section = match (config, name.strip_prefix("profile ")) {
                    (true, Some(profile)) => Some(profile.trim().to_owned()),
                    (true, None) if name == "default" => Some(name.to_owned()),
                    (true, None) => None, // `[sso-session …]`, `[services …]`: not profiles
                    (false, _) => Some(name.to_owned()),
                };
                continue;
            }
            let (Some(profile), Some((key, value))) = (&section, line.split_once('=')) else {
                continue;
            };
            self.profiles
                .entry(profile.clone())
                .or_default()
                .insert(key.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }

    /// The profile named `name`, if either file has it.
    pub(crate) fn profile(&self, name: &str) -> Option<Profile> {
        self.profiles.get(name).map(|settings| Profile {
            name: name.to_owned(),
            settings: settings.clone(),
        })
    }
}

fn read_file(path: &str) -> Result<String, Error> {
    use std::io::Read as _;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => {
            return Err(Error::config(format!(
                "AWS shared file {path} cannot be read: {e}"
            )));
        }
    };
    let mut text = String::new();
    file.take(MAX_FILE_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| Error::config(format!("AWS shared file {path} cannot be read: {e}")))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_files_are_read_as_the_sdks_read_them() {
        let mut files = SharedFiles::default();
        files.merge(
            "[default]\nregion = eu-west-1\n[profile ops]\nrole_arn = arn:aws:iam::1:role/r\n source_profile = nope\nsource_profile = base\n# a comment\n; another\n[sso-session x]\nsso_region = us-east-1\n[plain]\nregion = us-west-2\n",
            true,
        );
        files.merge(
            "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s3cret\n[default]\nregion = ignored-here? no: later wins\n",
            false,
        );
        let ops = files.profile("ops").unwrap();
        assert_eq!(ops.get("role_arn"), Some("arn:aws:iam::1:role/r"));
        assert_eq!(
            ops.get("source_profile"),
            Some("base"),
            "an indented line is skipped"
        );
        assert_eq!(
            files.profile("base").unwrap().get("aws_access_key_id"),
            Some("AKIDBASE")
        );
        // `[plain]` in the config file is not a profile (it would be `[profile plain]`).
        assert!(files.profile("plain").is_none());
        assert!(files.profile("x").is_none());
        assert_eq!(
            files.profile("default").unwrap().get("region"),
            Some("ignored-here? no: later wins")
        );
    }
}
