//! [`AwsKmsSigner`]: the bank's key in AWS KMS, signing without an async runtime: one
//! SigV4-signed `Sign` a token (`MessageType: DIGEST`, the SHA-512 of the JWT's signing
//! input, so the token never leaves and KMS's 4 KiB message limit never binds), and
//! `GetPublicKey` once.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha512};

use super::credentials::{LOOKED_AT, Provider, profile_region};
use super::http::{ATTEMPTS, Answer, Http, aws_error, backoff, is_transient};
use super::signed::{Service, signed_post};
use super::source::Credentials;
use super::sts::xml;
use crate::error::{Error, KeyErrorKind};
use crate::keys::{MIN_KEY_BITS, VerifyingKey};
use crate::signer::Signer;

const ALGORITHM: &str = "RSASSA_PKCS1_V1_5_SHA_512";

/// Signs RS512 with an asymmetric RSA key in AWS KMS (feature `aws-kms`). The key policy the
/// bank needs: `kms:Sign` and `kms:GetPublicKey` on that key, nothing else.
///
/// ```no_run
/// use cybrid_identity::AttestationSigner;
/// use cybrid_identity::aws::AwsKmsSigner;
/// // AWS_REGION and credentials (AWS_ACCESS_KEY_ID…, or EKS's web identity) from the environment.
/// let kms = AwsKmsSigner::from_env("alias/cybrid-attestation")?;
/// let signer = AttestationSigner::new(kms, "bank guid…", "verification key guid…");
/// # Ok::<_, cybrid_identity::Error>(())
/// ```
pub struct AwsKmsSigner {
    kms: Kms,
    verifying: VerifyingKey,
}

/// One KMS key, and how to reach it.
struct Kms {
    key_id: String,
    /// `MessageType: RAW` instead of `DIGEST` (`CYBRID_AWS_KMS_MESSAGE_TYPE=RAW`).
    raw: bool,
    region: String,
    endpoint: String,
    credentials: Provider,
    http: Http,
}

impl AwsKmsSigner {
    /// The key `key_id` (an id, an ARN or `alias/…`), with the region, the endpoints and the
    /// credentials the AWS SDKs would find in the environment; then `GetPublicKey`, checked.
    ///
    /// # Errors
    /// As [`AwsKmsSigner::from_vars`].
    pub fn from_env(key_id: &str) -> Result<Self, Error> {
        Self::from_vars(key_id, |name| std::env::var(name).ok())
    }

    /// As [`AwsKmsSigner::from_env`], with the variables looked up through `var`:
    /// `AWS_REGION` or `AWS_DEFAULT_REGION`; `AWS_ENDPOINT_URL_KMS` or `AWS_ENDPOINT_URL`
    /// (and `…_STS`); the credentials in the SDKs' order (see [`crate::aws`]).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when no region or no credentials are set (naming the variables
    /// looked at); [`Error::Signing`] when AWS refuses `GetPublicKey` (its error code and
    /// request id); [`Error::Key`] when the key is not an RSA signing key of 2048 bits or
    /// more that allows `RSASSA_PKCS1_V1_5_SHA_512`.
    pub fn from_vars(key_id: &str, var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        let region = match set("AWS_REGION").or_else(|| set("AWS_DEFAULT_REGION")) {
            Some(region) => region,
            None => profile_region(&|name| set(name))?.ok_or_else(|| {
                Error::invalid(
                    "aws_region",
                    "set AWS_REGION (or AWS_DEFAULT_REGION, or the profile's region) to the KMS key's region",
                )
            })?,
        };
        let endpoint = |service: &str| {
            set(&format!(
                "AWS_ENDPOINT_URL_{}",
                service.to_ascii_uppercase()
            ))
            .or_else(|| set("AWS_ENDPOINT_URL"))
            .unwrap_or_else(|| format!("https://{service}.{region}.amazonaws.com"))
        };
        let (endpoint, sts) = (endpoint("kms"), endpoint("sts"));
        let credentials = Provider::chain(&|name| set(name), sts)?.ok_or_else(|| {
            Error::invalid(
                "aws_credentials",
                format!("no AWS credentials found: looked at {LOOKED_AT}"),
            )
        })?;
        // AWS takes DIGEST; a stand-in that does not (moto 5.2 signs the digest as a message)
        // is told RAW, and gets the signing input itself (a token is far below 4 KiB).
        let raw = match set("CYBRID_AWS_KMS_MESSAGE_TYPE").as_deref() {
            None | Some("DIGEST") => false,
            Some("RAW") => true,
            Some(other) => {
                return Err(Error::invalid(
                    "CYBRID_AWS_KMS_MESSAGE_TYPE",
                    format!("DIGEST (the default) or RAW, got {other:?}"),
                ));
            }
        };
        let kms = Kms {
            key_id: key_id.to_owned(),
            raw,
            region,
            endpoint,
            credentials,
            http: Http::new(),
        };
        let verifying = kms.public_key()?;
        Ok(AwsKmsSigner { kms, verifying })
    }

    /// The key's id, ARN or alias, as given.
    pub fn key_id(&self) -> &str {
        &self.kms.key_id
    }
}

impl Kms {
    /// `GetPublicKey`, and the checks that this is a key to sign attestations with.
    fn public_key(&self) -> Result<VerifyingKey, Error> {
        let answer = self.call("GetPublicKey", &json!({"KeyId": self.key_id}))?;
        let wrong = |what: String| {
            Error::key(
                KeyErrorKind::NotRsa,
                format!("KMS key {}: {what}", self.key_id),
            )
        };
        // `CustomerMasterKeySpec` is the name KMS used before `KeySpec` (and still sends).
        let spec = answer["KeySpec"]
            .as_str()
            .or_else(|| answer["CustomerMasterKeySpec"].as_str())
            .unwrap_or("?");
        if !spec.starts_with("RSA_") {
            return Err(wrong(format!(
                "{spec} is not an RSA key; Cybrid attestations are RS512"
            )));
        }
        let usage = answer["KeyUsage"].as_str().unwrap_or("?");
        if usage != "SIGN_VERIFY" {
            return Err(wrong(format!("its usage is {usage}, not SIGN_VERIFY")));
        }
        let allowed = answer["SigningAlgorithms"]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v == ALGORITHM));
        if !allowed {
            return Err(wrong(format!("it does not allow {ALGORITHM}")));
        }
        let der = answer["PublicKey"]
            .as_str()
            .and_then(|b64| BASE64.decode(b64).ok())
            .ok_or_else(|| wrong("GetPublicKey answered without a public key".into()))?;
        let key = VerifyingKey::from_spki_der(&der)?;
        if key.bits() < MIN_KEY_BITS {
            return Err(wrong(format!(
                "{} bits; at least {MIN_KEY_BITS} are required",
                key.bits()
            )));
        }
        Ok(key)
    }

    /// One KMS call (`TrentService.<action>`), signed afresh for each attempt, repeated after
    /// throttling, a 5xx or a failed connection: both calls used here are safe to repeat.
    fn call(&self, action: &str, body: &Value) -> Result<Value, Error> {
        let body = body.to_string();
        let mut last = None;
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                std::thread::sleep(backoff(attempt - 1));
            }
            let credentials = match self.credentials.current(&self.http) {
                Ok(credentials) => credentials,
                // Nothing configured, or configured wrongly: another try would say the same.
                Err(e) if e.is_permanent() => return Err(e),
                Err(e) => {
                    last = Some(e);
                    continue;
                }
            };
            let answer = match self.send(action, body.as_bytes(), &credentials) {
                Ok(answer) => answer,
                Err(e) => {
                    last = Some(e);
                    continue;
                }
            };
            let parsed: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
            if answer.status == 200 {
                return Ok(parsed);
            }
            // JSON from KMS; XML from what stands in front of it (an authorization layer).
            let text = String::from_utf8_lossy(&answer.body);
            let code = error_code(&parsed).or_else(|| xml(&text, "Code"));
            let message = parsed["message"]
                .as_str()
                .or_else(|| parsed["Message"].as_str())
                .map(str::to_owned)
                .or_else(|| xml(&text, "Message"))
                .map(|m| withhold_echoes(m, &credentials));
            let transient = is_transient(&answer, code.as_deref());
            let error = aws_error(&format!("AWS KMS {action}"), &answer, code, message);
            if !transient {
                return Err(error);
            }
            log::debug!(target: "cybrid_identity", "{error}; attempt {attempt} of {ATTEMPTS}");
            last = Some(error);
        }
        Err(last.unwrap_or_else(|| Error::Signing(format!("AWS KMS {action} failed"))))
    }

    fn send(&self, action: &str, body: &[u8], credentials: &Credentials) -> Result<Answer, Error> {
        let headers = vec![
            (
                "content-type".to_owned(),
                "application/x-amz-json-1.1".to_owned(),
            ),
            ("x-amz-target".to_owned(), format!("TrentService.{action}")),
        ];
        let service = Service {
            endpoint: &self.endpoint,
            region: &self.region,
            name: "kms",
        };
        signed_post(&self.http, &service, headers, body, credentials)
    }
}

/// The body of a `Sign`: the SHA-512 of `message` with `MessageType: DIGEST`, so the message
/// itself never leaves and KMS's 4 KiB limit never binds; or, `raw`, the message itself.
fn sign_body(key_id: &str, message: &[u8], raw: bool) -> Result<Value, Error> {
    let (message, kind) = if raw {
        if message.len() > 4096 {
            return Err(Error::Signing(format!(
                "a RAW message to KMS is at most 4096 bytes, this one {}",
                message.len()
            )));
        }
        (BASE64.encode(message), "RAW")
    } else {
        (BASE64.encode(Sha512::digest(message)), "DIGEST")
    };
    Ok(json!({
        "KeyId": key_id,
        "Message": message,
        "MessageType": kind,
        "SigningAlgorithm": ALGORITHM,
    }))
}

/// The server's message, or a note that it was withheld when it holds a piece (12 characters
/// or more) of the secret key or the session token: a server (or a proxy) that echoes a
/// request must not put a credential into an error a person reads.
fn withhold_echoes(message: String, credentials: &Credentials) -> String {
    let secrets = [
        Some(&credentials.secret_access_key),
        credentials.session_token.as_ref(),
    ];
    let echoed = secrets.into_iter().flatten().any(|secret| {
        let secret = secret.as_bytes();
        secret.len() >= 12
            && secret
                .windows(12)
                .any(|piece| message.as_bytes().windows(12).any(|m| m == piece))
    });
    if echoed {
        "[the message echoed a credential and is withheld]".to_owned()
    } else {
        message
    }
}

/// The error code of a KMS answer: `__type`, without a namespace before `#`.
fn error_code(answer: &Value) -> Option<String> {
    let raw = answer["__type"]
        .as_str()
        .or_else(|| answer["code"].as_str())?;
    Some(raw.rsplit('#').next().unwrap_or(raw).to_owned())
}

impl Signer for AwsKmsSigner {
    fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let kms = &self.kms;
        let answer = kms.call("Sign", &sign_body(&kms.key_id, message, kms.raw)?)?;
        answer["Signature"]
            .as_str()
            .and_then(|b64| BASE64.decode(b64).ok())
            .ok_or_else(|| Error::Signing("AWS KMS Sign answered without a signature".into()))
    }

    fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }
}

impl fmt::Debug for AwsKmsSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKmsSigner")
            .field("key_id", &self.kms.key_id)
            .field("region", &self.kms.region)
            .field("endpoint", &self.kms.endpoint)
            .field("credentials", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_sends_the_sha512_digest_or_the_raw_message_with_its_type() {
        let body = sign_body("alias/bank", b"abc", false).unwrap();
        assert_eq!(body["MessageType"], "DIGEST");
        assert_eq!(body["SigningAlgorithm"], "RSASSA_PKCS1_V1_5_SHA_512");
        // SHA-512("abc"), FIPS 180-2's example: ddaf35a1…a54ca49f.
        let digest = BASE64.decode(body["Message"].as_str().unwrap()).unwrap();
        assert_eq!(digest.len(), 64);
        assert_eq!(&digest[..4], &[0xdd, 0xaf, 0x35, 0xa1]);
        assert_eq!(&digest[60..], &[0xa5, 0x4c, 0xa4, 0x9f]);
        let raw = sign_body("alias/bank", b"abc", true).unwrap();
        assert_eq!(
            (raw["MessageType"].as_str(), raw["Message"].as_str()),
            (Some("RAW"), Some("YWJj"))
        );
        assert!(sign_body("k", &[0; 4097], true).is_err());
        assert_eq!(
            error_code(&json!({"__type": "com.amazonaws.kms#ThrottlingException"})),
            Some("ThrottlingException".into())
        );
    }
}
