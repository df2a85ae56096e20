//! The chain's steps as data: a set of credentials, and where they come from.

use std::fmt;

use time::OffsetDateTime;
use zeroize::Zeroizing;

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

/// Where the credentials come from: the first step of the chain configured here.
pub(crate) enum Source {
    Static(Credentials),
    WebIdentity {
        token_file: String,
        role_arn: String,
        session_name: String,
        sts_endpoint: String,
    },
    /// A profile's `role_arn`, assumed with its `source_profile`'s credentials.
    AssumeRole {
        profile: String,
        source: Box<Source>,
        role: RoleRequest,
        sts_endpoint: String,
        region: String,
    },
    Process {
        profile: String,
        command: String,
    },
    Container {
        url: String,
        token: Option<String>,
        token_file: Option<String>,
    },
    Instance {
        endpoint: String,
    },
}

/// What `AssumeRole` asks for.
pub(crate) struct RoleRequest {
    pub(crate) role_arn: String,
    pub(crate) session_name: String,
    pub(crate) external_id: Option<String>,
    pub(crate) duration_seconds: Option<u32>,
}
