//! [`VerifyingKey`]: the public half, which verifies attestations and travels to Cybrid.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{MAX_KEY_BITS, MIN_KEY_BITS, encoding, engine};
use crate::error::{Error, KeyErrorKind};

/// An RSA public key: verifies attestation JWTs and travels to Cybrid as a verification key.
#[derive(Clone)]
pub struct VerifyingKey {
    public: engine::Public,
    /// The SubjectPublicKeyInfo DER: what Cybrid stores, and what two keys are compared by.
    spki: Arc<[u8]>,
    bits: usize,
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl VerifyingKey {
    /// From a PKCS#1 `RSAPublicKey`: 2048 to 8192 bits, an exponent RSA signs with.
    pub(super) fn from_pkcs1_der(pkcs1: &[u8]) -> Result<Self, Error> {
        let (bits, exponent_ok) = encoding::public_size(pkcs1)?;
        if bits < MIN_KEY_BITS {
            return Err(Error::key(
                KeyErrorKind::TooShort,
                format!("the RSA key has {bits} bits; at least {MIN_KEY_BITS} are required"),
            ));
        }
        if bits > MAX_KEY_BITS {
            return Err(Error::key(
                KeyErrorKind::TooLong,
                format!("the RSA key has {bits} bits; at most {MAX_KEY_BITS} are accepted"),
            ));
        }
        if !exponent_ok {
            return Err(Error::key(
                KeyErrorKind::Malformed,
                "the RSA key's public exponent is not an odd number of 3 or more",
            ));
        }
        Ok(VerifyingKey {
            public: engine::Public::from_pkcs1_der(pkcs1)?,
            spki: encoding::spki_of_pkcs1(pkcs1)?.into(),
            bits,
        })
    }

    /// Reads a DER-encoded SubjectPublicKeyInfo (what `openssl pkey -pubout -outform DER` writes).
    ///
    /// # Errors
    /// [`Error::Key`] when the bytes are not an RSA SubjectPublicKeyInfo of 2048 to 8192 bits.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, Error> {
        Self::from_pkcs1_der(encoding::pkcs1_of_spki(der)?)
    }

    /// An RSA public key from its modulus and public exponent, big-endian bytes (as a
    /// PKCS#11 token shows them in `CKA_MODULUS` and `CKA_PUBLIC_EXPONENT`).
    ///
    /// # Errors
    /// [`Error::Key`] when they are not an RSA public key of 2048 to 8192 bits.
    pub fn from_rsa_components(modulus: &[u8], exponent: &[u8]) -> Result<Self, Error> {
        Self::from_pkcs1_der(&encoding::pkcs1_of_components(modulus, exponent)?)
    }

    /// Reads standard Base64 of a DER SubjectPublicKeyInfo, the form of `PostVerificationKey::public_key`.
    ///
    /// # Errors
    /// [`Error::Key`] for bad Base64 or a bad key.
    pub fn from_spki_base64(b64: &str) -> Result<Self, Error> {
        let der = BASE64.decode(b64.trim()).map_err(|e| {
            Error::key(
                KeyErrorKind::Malformed,
                format!("the public key is not standard Base64 ({e})"),
            )
        })?;
        Self::from_spki_der(&der)
    }

    /// DER SubjectPublicKeyInfo bytes.
    pub fn to_spki_der(&self) -> Vec<u8> {
        self.spki.to_vec()
    }

    /// Standard Base64 of the DER SubjectPublicKeyInfo, as `PostVerificationKey::public_key` wants.
    pub fn to_spki_base64(&self) -> String {
        BASE64.encode(&self.spki)
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Checks an RSASSA-PKCS1-v1_5 SHA-512 signature over `message`.
    pub fn verify_rs512(&self, message: &[u8], signature: &[u8]) -> bool {
        signature.len() == self.bits / 8 && self.public.verify(message, signature)
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "VerifyingKey {{ bits: {}, spki: {} }}",
            self.bits(),
            self.to_spki_base64()
        )
    }
}
