//! RS512 with the `rsa` crate (feature `rsa`, the default): pure Rust on constant-time
//! integers, every signature blinded. The one engine that also makes new keys.

use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Verifier as _};
use sha2::Sha512;
use zeroize::Zeroizing;

use crate::error::{Error, KeyErrorKind};

/// A private key, ready to sign.
#[derive(Clone)]
// With `ring` on, `ring` signs and verifies; this engine then only makes keys, and signs in
// the test that holds the two engines to the same bytes.
#[cfg_attr(feature = "ring", allow(dead_code))]
pub(crate) struct Private(rsa::pkcs1v15::SigningKey<Sha512>);

#[cfg_attr(feature = "ring", allow(dead_code))]
impl Private {
    /// From a PKCS#1 `RSAPrivateKey` (already checked for size).
    pub(crate) fn from_pkcs1_der(der: &[u8], _bits: usize) -> Result<Self, Error> {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        let key = rsa::PrivateKey::from_pkcs1_der(der).map_err(|e| {
            Error::key(
                KeyErrorKind::Malformed,
                format!("the RSA private key could not be decoded ({e})"),
            )
        })?;
        Ok(Private(rsa::pkcs1v15::SigningKey::new(key)))
    }

    /// RSASSA-PKCS1-v1_5 with SHA-512, blinded with the operating system's randomness.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let signature = self
            .0
            .try_sign_with_rng(&mut getrandom::SysRng, message)
            .map_err(|e| Error::Signing(e.to_string()))?;
        Ok(signature.to_vec())
    }
}

/// A public key, ready to verify.
#[derive(Clone)]
#[cfg_attr(feature = "ring", allow(dead_code))]
pub(crate) struct Public(rsa::pkcs1v15::VerifyingKey<Sha512>);

#[cfg_attr(feature = "ring", allow(dead_code))]
impl Public {
    /// From a PKCS#1 `RSAPublicKey` (already checked for size).
    pub(crate) fn from_pkcs1_der(der: &[u8]) -> Result<Self, Error> {
        use pkcs8::der::Decode as _;
        let malformed = |e: &dyn std::fmt::Display| {
            Error::key(
                KeyErrorKind::Malformed,
                format!("not an RSA public key ({e})"),
            )
        };
        let key = pkcs1::RsaPublicKeyRef::from_der(der).map_err(|e| malformed(&e))?;
        let n = rsa::BoxedUint::from_be_slice_vartime(key.modulus.as_bytes());
        let e = rsa::BoxedUint::from_be_slice_vartime(key.public_exponent.as_bytes());
        let key = rsa::PublicKey::new_with_size_limits(n, e, 1..=super::MAX_KEY_BITS)
            .map_err(|e| malformed(&e))?;
        Ok(Public(rsa::pkcs1v15::VerifyingKey::new(key)))
    }

    /// Whether `signature` is this key's RS512 signature over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        rsa::pkcs1v15::Signature::try_from(signature)
            .is_ok_and(|signature| self.0.verify(message, &signature).is_ok())
    }
}

/// A new key of `bits`, as PKCS#8 DER.
pub(crate) fn generate(bits: usize) -> Result<Zeroizing<Vec<u8>>, Error> {
    use rsa::pkcs8::EncodePrivateKey as _;
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, bits)
        .map_err(|e| Error::Signing(format!("generating a {bits}-bit key failed: {e}")))?;
    let der = key.to_pkcs8_der().map_err(|e| {
        Error::key(
            KeyErrorKind::Malformed,
            format!("cannot encode the key: {e}"),
        )
    })?;
    Ok(Zeroizing::new(der.as_bytes().to_vec()))
}
