//! RSA keys: the private key that signs attestations and the public key Cybrid verifies with.

use std::fmt;

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::error::{Error, KeyErrorKind};

mod encoding;
#[cfg(feature = "encrypted-keys")]
mod encrypted;
#[cfg(feature = "ring")]
mod engine_ring;
#[cfg(feature = "rsa")]
mod engine_rsa;
mod verifying;

#[cfg(all(test, feature = "rsa", feature = "ring"))]
mod engines_agree;

// The engine that signs and verifies: `ring` when its feature is on (it is faster, and
// the `rsa` crate is then only there to make keys), the `rsa` crate otherwise.
#[cfg(feature = "ring")]
use engine_ring as engine;
#[cfg(all(feature = "rsa", not(feature = "ring")))]
use engine_rsa as engine;

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
    private: engine::Private,
    /// The key as PKCS#8 DER, for writing it out again (plain or encrypted) whichever engine
    /// signs; wiped when the last clone is dropped.
    pkcs8: Arc<Zeroizing<Vec<u8>>>,
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
        let der = || {
            pkcs8::der::pem::decode_vec(pem.as_bytes())
                .map(|(_, der)| Zeroizing::new(der))
                .map_err(|e| {
                    Error::key(
                        KeyErrorKind::Malformed,
                        format!("the PEM block could not be decoded ({e})"),
                    )
                })
        };
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der()?),
            "RSA PRIVATE KEY" => {
                if pem.contains("Proc-Type: 4,ENCRYPTED") {
                    return Err(legacy_encrypted_error());
                }
                Self::from_pkcs8_der(&encoding::pkcs8_of_pkcs1(&der()?)?)
            }
            "ENCRYPTED PRIVATE KEY" => Err(encrypted_error()),
            "PUBLIC KEY" | "RSA PUBLIC KEY" => Err(Error::key(
                KeyErrorKind::NotPrivate,
                "this is a public key; signing needs the private key",
            )),
            "EC PRIVATE KEY" | "OPENSSH PRIVATE KEY" | "DSA PRIVATE KEY" => Err(Error::key(
                KeyErrorKind::NotRsa,
                format!("a '{label}' is not an RSA key; Cybrid attestations are RS512"),
            )),
            other => Err(Error::key(
                KeyErrorKind::NotPem,
                format!(
                    "unexpected PEM block '{other}'; expected 'PRIVATE KEY' or 'RSA PRIVATE KEY'"
                ),
            )),
        }
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
        match encoding::pkcs1_of_pkcs8(der) {
            Ok(_) => Self::from_pkcs8_der(der),
            // Not PKCS#8: PKCS#1, or the PKCS#8 error is the informative one (it names a
            // foreign algorithm).
            Err(pkcs8_error) => match encoding::pkcs8_of_pkcs1(der) {
                Ok(wrapped) if encoding::public_of_private(der).is_ok() => {
                    Self::from_pkcs8_der(&wrapped)
                }
                _ => Err(pkcs8_error),
            },
        }
    }

    /// Reads a PKCS#8 DER private key: the key every other form becomes.
    pub(crate) fn from_pkcs8_der(pkcs8: &[u8]) -> Result<Self, Error> {
        let pkcs1 = encoding::pkcs1_of_pkcs8(pkcs8)?;
        let verifying = VerifyingKey::from_pkcs1_der(&encoding::public_of_private(pkcs1)?)?;
        Ok(SigningKey {
            private: engine::Private::from_pkcs1_der(pkcs1, verifying.bits())?,
            pkcs8: Arc::new(Zeroizing::new(pkcs8.to_vec())),
            verifying,
        })
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
    /// source (feature `rsa`: `ring` makes no RSA keys; without it, make one with
    /// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`, or in an HSM). Register its public half with [`crate::PostVerificationKey::new`] and keep the
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
    #[cfg(feature = "rsa")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rsa")))]
    pub fn generate(bits: usize) -> Result<Self, Error> {
        if ![2048, 3072, 4096].contains(&bits) {
            return Err(Error::invalid(
                "bits",
                format!("a new key is 2048, 3072 or 4096 bits, got {bits}"),
            ));
        }
        Self::from_pkcs8_der(&engine_rsa::generate(bits)?)
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
        pkcs8::der::pem::encode_string("PRIVATE KEY", pkcs8::LineEnding::LF, &self.pkcs8)
            .map(Zeroizing::new)
            .map_err(|e| {
                Error::key(
                    KeyErrorKind::Malformed,
                    format!("cannot encode the key: {e}"),
                )
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
        self.private.sign(message)
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
