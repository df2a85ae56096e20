//! AWS KMS as the bank's signer, without an async runtime (feature `aws-kms`): a blocking
//! [`AwsKmsSigner`] over `ureq`, AWS Signature Version 4 written here (with `hmac` beside the
//! crate's `sha2`), and credentials found as the AWS SDKs find them:
//!
//! 1. the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
//! 2. web identity: `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`
//!    (STS `AssumeRoleWithWebIdentity`: how a pod on EKS gets its role);
//! 3. the profile (`AWS_PROFILE`, else `default`) in `~/.aws/credentials` and
//!    `~/.aws/config` (or `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`): static keys,
//!    `role_arn` with `source_profile` (STS `AssumeRole`, with `external_id`,
//!    `role_session_name`, `duration_seconds`), or `credential_process` (run with a 30 s
//!    timeout, its standard error not shown); its `region` when no variable sets one;
//! 4. the container endpoint of an ECS or Fargate task, or EKS Pod Identity:
//!    `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (under `169.254.170.2`), or
//!    `AWS_CONTAINER_CREDENTIALS_FULL_URI` (over `http` only on loopback or the ECS/EKS
//!    addresses, as the SDKs allow) with `AWS_CONTAINER_AUTHORIZATION_TOKEN` or
//!    `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`;
//! 5. an EC2 instance's metadata service, IMDSv2 (a session token, then the role's
//!    credentials), with a 1 s connect timeout and one retry; `AWS_EC2_METADATA_DISABLED=true`
//!    skips it, `AWS_EC2_METADATA_SERVICE_ENDPOINT` moves it.
//!
//! A step is skipped only when it is not configured; one configured and failing is an error
//! naming it (an `AWS_PROFILE` that does not exist, a missing `source_profile`: a
//! configuration error; a refused `AssumeRole`, a container endpoint that fails: a signer's
//! failure). Temporary credentials are refreshed five minutes before they expire, one
//! refresh at a time for every thread of a book; a refresh that fails while the credentials
//! are still valid keeps them. The region comes from `AWS_REGION`, `AWS_DEFAULT_REGION` or
//! the profile; the endpoints may be set with `AWS_ENDPOINT_URL_KMS`, `AWS_ENDPOINT_URL_STS`
//! or `AWS_ENDPOINT_URL`. Not read: SSO, `credential_source`.
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
