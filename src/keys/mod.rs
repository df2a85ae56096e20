//! RSA keys: the private key that signs attestations and the public key Cybrid verifies with.

use std::fmt;

use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
use sha2::Sha512;

use zeroize::Zeroizing;

use crate::error::{Error, KeyErrorKind};

#[cfg(feature = "encrypted-keys")]
mod encrypted;
mod verifying;

pub use verifying::VerifyingKey;

/// The smallest modulus this crate signs or verifies with. NIST has deprecated anything
/// shorter, and a shorter key is what a mistaken test key usually is.
pub const MIN_KEY_BITS: usize = 2048;
/// The largest modulus accepted: larger keys are a denial-of-service lever for the verifier.
pub const MAX_KEY_BITS: usize = 8192;

/// The environment variable [`SigningKey::from_env`] reads.
pub const SIGNING_KEY_ENV: &str = "CYBRID_ATTESTATION_SIGNING_KEY";

/// The default attestation signing key of Cybrid's **sandbox**, as published in Cybrid's
/// identity-records reference. Everyone has it: it proves nothing outside the sandbox.
const SANDBOX_PEM: &str = include_str!("sandbox_key.pem");

/// An RSA private key that signs attestation JWTs (RS512) and verification-key nonces.
///
/// Its `Debug` output never shows key material.
///
/// # Examples
///
/// ```no_run
/// use cybrid_identity::SigningKey;
/// let key = SigningKey::from_pem(&std::fs::read_to_string("bank.pem").expect("the key"))?;
/// println!("{key:?}"); // SigningKey { bits: 2048, private: [redacted] }
/// # Ok::<_, cybrid_identity::Error>(())
/// ```
#[derive(Clone)]
pub struct SigningKey {
    inner: rsa::pkcs1v15::SigningKey<Sha512>,
    verifying: VerifyingKey,
}

impl SigningKey {
    /// Reads a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`, what Cybrid's key-generation example writes).
    ///
    /// # Errors
    /// [`Error::Key`] naming the problem: not PEM, encrypted, not RSA, malformed, or
    /// shorter than [`MIN_KEY_BITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use cybrid_identity::SigningKey;
    /// let pem = SigningKey::sandbox().to_pkcs8_pem()?; // or std::fs::read_to_string("bank.pem")?
    /// let key = SigningKey::from_pem(&pem)?;
    /// assert_eq!(key.bits(), 2048);
    /// assert!(SigningKey::from_pem("not a key").is_err());
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let label = pem_label(pem).ok_or_else(|| {
            Error::key(
                KeyErrorKind::NotPem,
                "expected a PEM block starting with '-----BEGIN PRIVATE KEY-----' or \
                 '-----BEGIN RSA PRIVATE KEY-----'",
            )
        })?;
        let key = match label {
            "PRIVATE KEY" => rsa::PrivateKey::from_pkcs8_pem(pem).map_err(pkcs8_error)?,
            "RSA PRIVATE KEY" => {
                if pem.contains("Proc-Type: 4,ENCRYPTED") {
                    return Err(legacy_encrypted_error());
                }
                rsa::PrivateKey::from_pkcs1_pem(pem).map_err(|e| {
                    Error::key(
                        KeyErrorKind::Malformed,
                        format!("the PKCS#1 RSA private key could not be decoded ({e})"),
                    )
                })?
            }
            "ENCRYPTED PRIVATE KEY" => return Err(encrypted_error()),
            "PUBLIC KEY" | "RSA PUBLIC KEY" => {
                return Err(Error::key(
                    KeyErrorKind::NotPrivate,
                    "this is a public key; signing needs the private key",
                ));
            }
            "EC PRIVATE KEY" | "OPENSSH PRIVATE KEY" | "DSA PRIVATE KEY" => {
                return Err(Error::key(
                    KeyErrorKind::NotRsa,
                    format!("a '{label}' is not an RSA key; Cybrid attestations are RS512"),
                ));
            }
            other => {
                return Err(Error::key(
                    KeyErrorKind::NotPem,
                    format!(
                        "unexpected PEM block '{other}'; expected 'PRIVATE KEY' or 'RSA PRIVATE KEY'"
                    ),
                ));
            }
        };
        Self::from_private_key(key)
    }

    /// Reads a DER private key, PKCS#8 or PKCS#1.
    ///
    /// # Errors
    /// As [`SigningKey::from_pem`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let der = std::fs::read("bank.der").expect("the key file");
    /// let key = cybrid_identity::SigningKey::from_der(&der)?;
    /// # let _ = key;
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let key = match rsa::PrivateKey::from_pkcs8_der(der) {
            Ok(key) => key,
            Err(pkcs8_err) => match rsa::PrivateKey::from_pkcs1_der(der) {
                Ok(key) => key,
                // The PKCS#8 error is the informative one (it names a foreign algorithm).
                Err(_) => return Err(pkcs8_error(pkcs8_err)),
            },
        };
        Self::from_private_key(key)
    }

    /// Reads a PEM private key from the environment variable `CYBRID_ATTESTATION_SIGNING_KEY`,
    /// the way Cybrid's reference suggests passing the key to an application.
    ///
    /// # Errors
    /// [`Error::Config`] when the variable is unset or not Unicode; otherwise as
    /// [`SigningKey::from_pem`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// // CYBRID_ATTESTATION_SIGNING_KEY holds the PEM text (from a secret store, not a file).
    /// let key = cybrid_identity::SigningKey::from_env()?;
    /// # let _ = key;
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        // The variable's copy is the process's; ours is wiped once read.
        let pem = std::env::var(SIGNING_KEY_ENV)
            .map(Zeroizing::new)
            .map_err(|e| {
                Error::config(format!(
                    "{SIGNING_KEY_ENV} is {}: set it to the PEM text of your RSA private key",
                    match e {
                        std::env::VarError::NotPresent => "not set",
                        std::env::VarError::NotUnicode(_) => "not valid Unicode",
                    }
                ))
            })?;
        Self::from_pem(&pem).map_err(|e| e.context(SIGNING_KEY_ENV))
    }

    /// The default signing key of Cybrid's sandbox, published in Cybrid's API reference.
    ///
    /// **Sandbox only.** Its private half is public knowledge, so a token signed with it
    /// proves nothing; production banks register and use their own key.
    ///
    /// # Examples
    ///
    /// ```
    /// let key = cybrid_identity::SigningKey::sandbox();
    /// assert_eq!(format!("{key:?}"), "SigningKey { bits: 2048, private: [redacted] }");
    /// ```
    pub fn sandbox() -> Self {
        // The embedded PEM is tested; failing here would be a build defect, not user input.
        Self::from_pem(SANDBOX_PEM).expect("the built-in sandbox key is a valid RSA key")
    }

    /// A new random key of `bits` (2048, 3072 or 4096), from the operating system's random
    /// source. Register its public half with [`crate::PostVerificationKey::new`] and keep the
    /// private half with [`SigningKey::to_pkcs8_pem`].
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for another size; [`Error::Signing`] if the random source fails.
    ///
    /// # Examples
    ///
    /// ```
    /// let key = cybrid_identity::SigningKey::generate(2048)?;
    /// let pem = key.to_pkcs8_pem()?; // store it; register key.verifying_key() with Cybrid
    /// assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn generate(bits: usize) -> Result<Self, Error> {
        if ![2048, 3072, 4096].contains(&bits) {
            return Err(Error::invalid(
                "bits",
                format!("a new key is 2048, 3072 or 4096 bits, got {bits}"),
            ));
        }
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, bits)
            .map_err(|e| Error::Signing(format!("generating a {bits}-bit key failed: {e}")))?;
        Self::from_private_key(key)
    }

    /// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), unencrypted: write it
    /// where only its owner can read it (the CLI's `keys generate` uses mode 0600).
    ///
    /// # Errors
    /// [`Error::Key`] if the key cannot be encoded (not expected for a key this crate holds).
    ///
    /// # Examples
    ///
    /// ```
    /// let pem = cybrid_identity::SigningKey::sandbox().to_pkcs8_pem()?;
    /// assert!(pem.ends_with("-----END PRIVATE KEY-----\n")); // wiped when `pem` is dropped
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, Error> {
        let key: &rsa::PrivateKey = self.inner.as_ref();
        key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .map(|pem| Zeroizing::new(pem.as_str().to_owned()))
            .map_err(|e| {
                Error::key(
                    KeyErrorKind::Malformed,
                    format!("cannot encode the key: {e}"),
                )
            })
    }

    fn from_private_key(key: rsa::PrivateKey) -> Result<Self, Error> {
        let public = key.to_public_key();
        let verifying = VerifyingKey::from_public_key(public)?;
        Ok(SigningKey {
            inner: rsa::pkcs1v15::SigningKey::new(key),
            verifying,
        })
    }

    /// The public half, which Cybrid stores as a verification key.
    ///
    /// # Examples
    ///
    /// ```
    /// let key = cybrid_identity::SigningKey::sandbox();
    /// let public = key.verifying_key().to_spki_base64(); // what PostVerificationKey sends
    /// assert!(public.starts_with("MIIBIjAN"));
    /// ```
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// The modulus size in bits (2048 for the sandbox key).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(cybrid_identity::SigningKey::sandbox().bits(), 2048);
    /// ```
    pub fn bits(&self) -> usize {
        self.verifying.bits()
    }

    /// RSASSA-PKCS1-v1_5 with SHA-512 over `message`, blinded with randomness from the
    /// operating system (`getrandom`), which defends against timing attacks on the key.
    ///
    /// # Errors
    /// [`Error::Signing`] if the operating system's random source fails.
    ///
    /// # Examples
    ///
    /// ```
    /// let key = cybrid_identity::SigningKey::sandbox();
    /// let signature = key.sign_rs512(b"nonce")?;
    /// assert!(key.verifying_key().verify_rs512(b"nonce", &signature));
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let signature = self
            .inner
            .try_sign_with_rng(&mut getrandom::SysRng, message)
            .map_err(|e| Error::Signing(e.to_string()))?;
        Ok(signature.to_vec())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SigningKey {{ bits: {}, private: [redacted] }}",
            self.bits()
        )
    }
}

fn pem_label(pem: &str) -> Option<&str> {
    let start = pem.find("-----BEGIN ")? + "-----BEGIN ".len();
    let rest = &pem[start..];
    let end = rest.find("-----")?;
    Some(&rest[..end])
}

fn encrypted_error() -> Error {
    #[cfg(feature = "encrypted-keys")]
    const HOW: &str = "the private key is encrypted: read it with its passphrase \
         (SigningKey::from_pem_with_passphrase; the CLI takes CYBRID_ATTESTATION_KEY_PASSPHRASE \
         or --passphrase-file)";
    #[cfg(not(feature = "encrypted-keys"))]
    const HOW: &str = "the private key is encrypted: build with the `encrypted-keys` feature \
         and read it with SigningKey::from_pem_with_passphrase";
    Error::key(KeyErrorKind::Encrypted, HOW)
}

/// An OpenSSL "traditional" encrypted PEM (`Proc-Type: 4,ENCRYPTED`): MD5-based key
/// derivation, read by nothing here; the command that rewrites it as PKCS#8 with PBES2.
fn legacy_encrypted_error() -> Error {
    Error::key(
        KeyErrorKind::Encrypted,
        "the private key is encrypted the legacy OpenSSL way (Proc-Type: 4,ENCRYPTED); rewrite it as \
         PKCS#8 with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.pem -out key.pem`",
    )
}

fn pkcs8_error(e: rsa::pkcs8::Error) -> Error {
    match e {
        // An algorithm identifier other than rsaEncryption (EC, Ed25519, ...).
        rsa::pkcs8::Error::PublicKey(_) => Error::key(
            KeyErrorKind::NotRsa,
            format!("not an RSA private key ({e}); Cybrid attestations are RS512"),
        ),
        other => Error::key(
            KeyErrorKind::Malformed,
            format!("the private key could not be decoded ({other})"),
        ),
    }
}
