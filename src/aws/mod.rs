//! AWS KMS as the bank's signer, without an async runtime (feature `aws-kms`): a blocking
//! [`AwsKmsSigner`] over `ureq`, AWS Signature Version 4 written here (with `hmac` beside the
//! crate's `sha2`), and credentials found as the AWS SDKs find them:
//!
//! 1. `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
//! 2. web identity: `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`
//!    (STS `AssumeRoleWithWebIdentity`, refreshed before it expires: how a pod on EKS gets
//!    its role).
//!
//! The region comes from `AWS_REGION` or `AWS_DEFAULT_REGION`; the endpoints may be set with
//! `AWS_ENDPOINT_URL_KMS`, `AWS_ENDPOINT_URL_STS` or `AWS_ENDPOINT_URL`. Not read: profiles
//! (`~/.aws/credentials`, `AWS_PROFILE`), container and instance metadata, SSO.
//!
//! The secret key and the session token are wiped on drop and appear in no `Debug`, error
//! or log.

mod credentials;
mod http;
mod kms;
mod metadata;
mod process;
mod profile;
mod profile_step;
mod signed;
mod sigv4;
mod source;
mod sts;

pub use kms::AwsKmsSigner;
pub use source::Credentials;
