//! [`AttestationSigner`]: a bank's key and guids, ready to sign an attestation for any
//! customer (a fresh `jti`, `iat` now), as a batch signs one per customer.

use std::fmt;
use std::sync::Arc;

use super::Signer;
use crate::attestation::Attestation;
use crate::error::Error;
use crate::guid;

/// Signs attestations for one bank and one of its verification keys.
///
/// ```
/// use cybrid_identity::{AttestationSigner, SigningKey};
/// let signer = AttestationSigner::new(
///     SigningKey::sandbox(),
///     "0f0e0d0c0b0a09080706050403020100",
///     "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d",
/// )?;
/// let token = signer.sign_for("c0ffee00c0ffee00c0ffee00c0ffee00")?;
/// assert_eq!(token.split('.').count(), 3);
/// assert!(format!("{signer:?}").contains("[redacted]"));
/// # Ok::<_, cybrid_identity::Error>(())
/// ```
#[derive(Clone)]
pub struct AttestationSigner {
    key: Arc<dyn Signer>,
    bank_guid: String,
    verification_key_guid: String,
}

impl AttestationSigner {
    /// A signer for `bank_guid` that signs with `key` (any [`Signer`]: a [`crate::SigningKey`],
    /// an HSM, a signing service), whose tokens name `verification_key_guid` as their `kid`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a guid that is not one.
    pub fn new(
        key: impl Signer + 'static,
        bank_guid: impl Into<String>,
        verification_key_guid: impl Into<String>,
    ) -> Result<Self, Error> {
        let (bank_guid, verification_key_guid) = (bank_guid.into(), verification_key_guid.into());
        guid::check("bank_guid", &bank_guid)?;
        guid::check("verification_key_guid", &verification_key_guid)?;
        Ok(AttestationSigner {
            key: Arc::new(key),
            bank_guid,
            verification_key_guid,
        })
    }

    /// A new attestation for `customer_guid`: `iat` now, `exp` a year on, a fresh `jti`.
    ///
    /// # Errors
    /// As [`Attestation::sign`].
    pub fn sign_for(&self, customer_guid: &str) -> Result<String, Error> {
        Attestation::new(&self.bank_guid, customer_guid, &self.verification_key_guid)
            .sign(&self.key)
    }

    /// The signer the tokens are signed with.
    pub fn signer(&self) -> &dyn Signer {
        &*self.key
    }

    /// The bank's guid.
    pub fn bank_guid(&self) -> &str {
        &self.bank_guid
    }

    /// The verification key's guid.
    pub fn verification_key_guid(&self) -> &str {
        &self.verification_key_guid
    }

    /// Checks `key` (as Cybrid returned it for this signer's `kid`) against this signer: it
    /// must be `verified`, of the signer's public key and of its bank. Pure; the
    /// network half is [`crate::Client::check_signer`].
    ///
    /// ```
    /// use cybrid_identity::{AttestationSigner, Error, SigningKey, VerificationKey};
    /// let signer = AttestationSigner::new(SigningKey::sandbox(), "0f0e0d0c0b0a09080706050403020100", "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d")?;
    /// let key: VerificationKey = serde_json::from_value(serde_json::json!({
    ///     "guid": "4b1d4b1d4b1d4b1d4b1d4b1d4b1d4b1d", "bank_guid": "0f0e0d0c0b0a09080706050403020100",
    ///     "state": "verified", "fingerprint": cybrid_identity::signer::fingerprint(SigningKey::sandbox().verifying_key()),
    /// })).unwrap();
    /// assert!(signer.check_key(&key).is_ok());
    /// # Ok::<_, Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::SignerKey`] saying what is wrong.
    pub fn check_key(&self, key: &crate::models::VerificationKey) -> Result<(), Error> {
        let kid = &self.verification_key_guid;
        match super::problem(key, &*self.key, &self.bank_guid) {
            Some(problem) => Err(Error::SignerKey {
                kid: kid.clone(),
                problem,
            }),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for AttestationSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttestationSigner")
            .field("bank_guid", &self.bank_guid)
            .field("verification_key_guid", &self.verification_key_guid)
            .field("key", &"[redacted]")
            .finish()
    }
}
