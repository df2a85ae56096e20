//! RS512 with `ring` (feature `ring`): the engine rustls already compiles under ureq, about
//! three times as fast as the `rsa` crate, blinded, and free of RUSTSEC-2023-0071. It signs
//! with keys of 2048 to 4096 bits and makes no keys.

use std::sync::Arc;

use ring::rand::SystemRandom;
use ring::signature::{
    RSA_PKCS1_2048_8192_SHA512, RSA_PKCS1_SHA512, RsaKeyPair, UnparsedPublicKey,
};

use crate::error::{Error, KeyErrorKind};

/// The largest modulus `ring` signs with.
const RING_MAX_SIGNING_BITS: usize = 4096;

/// A private key, ready to sign.
#[derive(Clone)]
pub(crate) struct Private(Arc<RsaKeyPair>);

impl Private {
    /// From a PKCS#1 `RSAPrivateKey` of `bits` (already checked for the crate's bounds).
    pub(crate) fn from_pkcs1_der(der: &[u8], bits: usize) -> Result<Self, Error> {
        if bits > RING_MAX_SIGNING_BITS {
            return Err(Error::key(
                KeyErrorKind::TooLong,
                format!(
                    "the RSA key has {bits} bits; the ring engine signs with {RING_MAX_SIGNING_BITS} at most \
                     (build with the `rsa` feature instead, or use a key of 2048 to 4096 bits)"
                ),
            ));
        }
        RsaKeyPair::from_der(der)
            .map(|pair| Private(Arc::new(pair)))
            .map_err(|e| {
                Error::key(
                    KeyErrorKind::Malformed,
                    format!("the RSA private key was refused ({e})"),
                )
            })
    }

    /// RSASSA-PKCS1-v1_5 with SHA-512, blinded with the operating system's randomness.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let mut signature = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA512,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| Error::Signing("the random source failed".into()))?;
        Ok(signature)
    }
}

/// A public key, ready to verify: its PKCS#1 DER, parsed by `ring` at each check.
#[derive(Clone)]
pub(crate) struct Public(Arc<[u8]>);

impl Public {
    /// From a PKCS#1 `RSAPublicKey` (already checked for size).
    pub(crate) fn from_pkcs1_der(der: &[u8]) -> Result<Self, Error> {
        Ok(Public(der.into()))
    }

    /// Whether `signature` is this key's RS512 signature over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA512, &self.0)
            .verify(message, signature)
            .is_ok()
    }
}
