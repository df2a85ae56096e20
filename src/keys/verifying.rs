//! [`VerifyingKey`]: the public half, which verifies attestations and travels to Cybrid.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::pkcs8::{DecodePublicKey as _, EncodePublicKey as _};
use rsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use sha2::Sha512;

use super::{MAX_KEY_BITS, MIN_KEY_BITS};
use crate::error::{Error, KeyErrorKind};

/// An RSA public key: verifies attestation JWTs and travels to Cybrid as a verification key.
#[derive(Clone, PartialEq)]
pub struct VerifyingKey {
    inner: rsa::pkcs1v15::VerifyingKey<Sha512>,
}

impl VerifyingKey {
    pub(super) fn from_public_key(key: rsa::PublicKey) -> Result<Self, Error> {
        let bits = key.n().bits_precision() as usize;
        let bits = bits.min(key.size() * 8);
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
        Ok(VerifyingKey {
            inner: rsa::pkcs1v15::VerifyingKey::new(key),
        })
    }

    /// Reads a DER-encoded SubjectPublicKeyInfo (what `openssl pkey -pubout -outform DER` writes).
    ///
    /// # Errors
    /// [`Error::Key`] when the bytes are not an RSA SubjectPublicKeyInfo of 2048 to 8192 bits.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, Error> {
        let key = rsa::PublicKey::from_public_key_der(der).map_err(|e| {
            Error::key(
                KeyErrorKind::Malformed,
                format!("not a DER-encoded RSA SubjectPublicKeyInfo ({e})"),
            )
        })?;
        Self::from_public_key(key)
    }

    /// An RSA public key from its modulus and public exponent, big-endian bytes (as a
    /// PKCS#11 token shows them in `CKA_MODULUS` and `CKA_PUBLIC_EXPONENT`).
    ///
    /// # Errors
    /// [`Error::Key`] when they are not an RSA public key of 2048 to 8192 bits.
    pub fn from_rsa_components(modulus: &[u8], exponent: &[u8]) -> Result<Self, Error> {
        let n = rsa::BoxedUint::from_be_slice_vartime(modulus);
        let e = rsa::BoxedUint::from_be_slice_vartime(exponent);
        let key = rsa::PublicKey::new_with_size_limits(n, e, 1..=MAX_KEY_BITS).map_err(|e| {
            Error::key(
                KeyErrorKind::Malformed,
                format!("not an RSA public key ({e})"),
            )
        })?;
        Self::from_public_key(key)
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
        self.inner
            .as_ref()
            .to_public_key_der()
            .map(|doc| doc.as_bytes().to_vec())
            // Encoding a key we already hold in memory cannot fail short of allocation failure.
            .expect("an in-memory RSA public key encodes as DER")
    }

    /// Standard Base64 of the DER SubjectPublicKeyInfo, as `PostVerificationKey::public_key` wants.
    pub fn to_spki_base64(&self) -> String {
        BASE64.encode(self.to_spki_der())
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.inner.as_ref().size() * 8
    }

    /// Checks an RSASSA-PKCS1-v1_5 SHA-512 signature over `message`.
    pub fn verify_rs512(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = rsa::pkcs1v15::Signature::try_from(signature) else {
            return false;
        };
        self.inner.verify(message, &signature).is_ok()
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
