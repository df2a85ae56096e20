//! The [`Signer`] seam: anything that signs RS512 and knows its public key.
//!
//! Holding the bank's private key in this process ([`SigningKey`]) is one choice among
//! several: a key in a hardware security module (the `pkcs11` feature's
//! [`Pkcs11Signer`]), a cloud KMS, a signing service of the
//! bank's own. Everything in this crate that signs takes a `Signer`: [`crate::Attestation::sign`],
//! [`AttestationSigner::new`], [`crate::PostVerificationKey::new`], and through
//! `AttestationSigner`, [`crate::Client::ensure_attested`] and [`crate::Book`].
//!
//! ```
//! use cybrid_identity::signer::Signer;
//! use cybrid_identity::{Attestation, Error, SigningKey, VerifyingKey};
//!
//! /// A signer that asks another service (here: a key in memory) and counts its calls.
//! struct Remote { key: SigningKey, calls: std::sync::atomic::AtomicUsize }
//!
//! impl Signer for Remote {
//!     fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
//!         self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
//!         // A real one sends `message` (or its SHA-512) away, and maps a refusal to
//!         // `Error::Signing` with the service's words and no secret.
//!         self.key.sign_rs512(message)
//!     }
//!     fn verifying_key(&self) -> &VerifyingKey {
//!         self.key.verifying_key()
//!     }
//! }
//!
//! let remote = Remote { key: SigningKey::sandbox(), calls: Default::default() };
//! let token = Attestation::new("0f0e0d0c0b0a09080706050403020100", "c0ffee00c0ffee00c0ffee00c0ffee00", "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d")
//!     .sign(&remote)?;
//! assert_eq!(remote.calls.into_inner(), 1);
//! # let _ = token;
//! # Ok::<_, Error>(())
//! ```

mod attestations;
#[cfg(feature = "pkcs11")]
mod pkcs11;
mod registration;

use std::sync::Arc;

pub use crate::error::SignerKeyProblem;
pub use attestations::AttestationSigner;
#[cfg(feature = "pkcs11")]
#[cfg_attr(docsrs, doc(cfg(feature = "pkcs11")))]
pub use pkcs11::Pkcs11Signer;
pub use registration::fingerprint;
pub(crate) use registration::{names, newest_of_signer, problem};

use crate::error::Error;
use crate::keys::{SigningKey, VerifyingKey};

/// Signs RS512 (RSASSA-PKCS1-v1_5 with SHA-512) with a key whose public half it knows.
///
/// Object-safe and `Send + Sync`: a [`crate::Book`] signs from many threads at once through
/// one `Arc<dyn Signer>`. An implementation that is a device or a remote service keeps this
/// crate's habits: a failure is [`Error::Signing`] with the signer's words (a device gone, a
/// wrong PIN, a refusal) and never a secret; calls that are safe to repeat may be retried.
pub trait Signer: Send + Sync {
    /// The signature over `message`: as many bytes as the key's modulus.
    ///
    /// # Errors
    /// [`Error::Signing`] when the signer could not sign.
    fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, Error>;

    /// The public half of the signing key: what Cybrid stores as the verification key.
    fn verifying_key(&self) -> &VerifyingKey;
}

impl Signer for SigningKey {
    fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        SigningKey::sign_rs512(self, message)
    }

    fn verifying_key(&self) -> &VerifyingKey {
        SigningKey::verifying_key(self)
    }
}

impl<S: Signer + ?Sized> Signer for &S {
    fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        (**self).sign_rs512(message)
    }

    fn verifying_key(&self) -> &VerifyingKey {
        (**self).verifying_key()
    }
}

impl<S: Signer + ?Sized> Signer for Box<S> {
    fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        (**self).sign_rs512(message)
    }

    fn verifying_key(&self) -> &VerifyingKey {
        (**self).verifying_key()
    }
}

impl<S: Signer + ?Sized> Signer for Arc<S> {
    fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        (**self).sign_rs512(message)
    }

    fn verifying_key(&self) -> &VerifyingKey {
        (**self).verifying_key()
    }
}

/// Signs `message` and checks that the signature is as long as the key's modulus: a signer
/// that answers with anything else (a device's truncated buffer, another key) is caught here
/// rather than by the server's `invalid_signature`.
pub(crate) fn sign_checked<S: Signer + ?Sized>(
    signer: &S,
    message: &[u8],
) -> Result<Vec<u8>, Error> {
    let signature = signer.sign_rs512(message)?;
    let expected = signer.verifying_key().bits() / 8;
    if signature.len() != expected {
        return Err(Error::Signing(format!(
            "the signer returned {} bytes where its {}-bit key signs {expected}",
            signature.len(),
            signer.verifying_key().bits()
        )));
    }
    Ok(signature)
}
