//! Encrypted PKCS#8 keys (`BEGIN ENCRYPTED PRIVATE KEY`, PBES2), feature `encrypted-keys`:
//! what `openssl genpkey -aes-256-cbc`, `openssl pkcs8 -topk8 -v2 aes-256-cbc` (PBKDF2 with
//! HMAC-SHA256) and `openssl pkcs8 -topk8 -scrypt` write, read with a passphrase; and written
//! (scrypt, as OpenSSL 3 reads it) so that a key at rest is never plain.
//!
//! Cybrid's own reference warns that its unencrypted key example is not for production:
//! a key file that is stolen without its passphrase signs nothing.

use pkcs8::der::Decode as _;
use pkcs8::{EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use zeroize::Zeroizing;

use super::SigningKey;
use crate::error::{Error, KeyErrorKind};

impl SigningKey {
    /// Reads a PEM private key that may be encrypted: `BEGIN ENCRYPTED PRIVATE KEY` (PKCS#8
    /// with PBES2: PBKDF2-HMAC-SHA256 or scrypt, with AES-128/256-CBC) is decrypted with
    /// `passphrase`; a plain key is read as [`SigningKey::from_pem`] reads it.
    ///
    /// # Errors
    /// [`Error::Key`] of kind [`KeyErrorKind::WrongPassphrase`] when the passphrase does not
    /// decrypt the key; otherwise as [`SigningKey::from_pem`] (an OpenSSL "traditional"
    /// encrypted key, `Proc-Type: 4,ENCRYPTED`, is refused with the command that converts it).
    ///
    /// # Examples
    ///
    /// ```
    /// use cybrid_identity::SigningKey;
    /// let pem = SigningKey::sandbox().to_encrypted_pkcs8_pem(b"correct horse")?;
    /// assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    /// let key = SigningKey::from_pem_with_passphrase(&pem, b"correct horse")?;
    /// assert_eq!(key.verifying_key(), SigningKey::sandbox().verifying_key());
    /// assert!(SigningKey::from_pem_with_passphrase(&pem, b"wrong").is_err());
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn from_pem_with_passphrase(pem: &str, passphrase: &[u8]) -> Result<Self, Error> {
        if super::pem_label(pem) != Some("ENCRYPTED PRIVATE KEY") {
            return Self::from_pem(pem);
        }
        let (_, der) = pkcs8::der::pem::decode_vec(pem.as_bytes()).map_err(|e| {
            Error::key(
                KeyErrorKind::Malformed,
                format!("the encrypted key's PEM could not be decoded ({e})"),
            )
        })?;
        Self::from_encrypted_der(&der, passphrase)
    }

    /// Reads a DER `EncryptedPrivateKeyInfo` (PKCS#8 with PBES2), decrypting it with
    /// `passphrase`.
    ///
    /// ```
    /// use cybrid_identity::SigningKey;
    /// // The DER inside an encrypted PEM (as `openssl pkcs8 -topk8 -outform DER` writes it).
    /// let pem = SigningKey::sandbox().to_encrypted_pkcs8_pem(b"correct horse")?;
    /// let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    /// use base64::Engine as _;
    /// let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
    /// let key = SigningKey::from_encrypted_der(&der, b"correct horse")?;
    /// assert_eq!(key.verifying_key(), SigningKey::sandbox().verifying_key());
    /// assert!(SigningKey::from_encrypted_der(&der, b"wrong").is_err());
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`SigningKey::from_pem_with_passphrase`].
    pub fn from_encrypted_der(der: &[u8], passphrase: &[u8]) -> Result<Self, Error> {
        let info = EncryptedPrivateKeyInfoRef::from_der(der).map_err(|e| {
            Error::key(
                KeyErrorKind::Malformed,
                format!("not a PKCS#8 EncryptedPrivateKeyInfo ({e})"),
            )
        })?;
        // A wrong passphrase almost always fails the padding check; when it passes by chance
        // (about one time in 256) the bytes do not decode as a key: both say the same.
        let wrong = || {
            Error::key(
                KeyErrorKind::WrongPassphrase,
                "the passphrase does not decrypt this key (or the key file is damaged)",
            )
        };
        let plain = info.decrypt(passphrase).map_err(|e| match e {
            pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::DecryptFailed) => {
                wrong()
            }
            other => Error::key(
                KeyErrorKind::Malformed,
                format!("the key's encryption is not one this crate reads ({other}); PBES2 with PBKDF2-HMAC-SHA256 or scrypt and AES-CBC is"),
            ),
        })?;
        // Bytes that are not a key after decryption: the passphrase was wrong after all.
        PrivateKeyInfoRef::from_der(plain.as_bytes()).map_err(|_| wrong())?;
        Self::from_pkcs8_der(plain.as_bytes())
    }

    /// The private key as encrypted PKCS#8 PEM (`-----BEGIN ENCRYPTED PRIVATE KEY-----`):
    /// PBES2 with scrypt (N = 2^14, r = 8, p = 1) and AES-256-CBC, a random salt and IV, as
    /// OpenSSL 3 writes and reads it (`openssl pkey -in key.pem` asks for the passphrase).
    ///
    /// ```
    /// use cybrid_identity::SigningKey;
    /// let pem = SigningKey::sandbox().to_encrypted_pkcs8_pem(b"correct horse")?;
    /// assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    /// // A fresh salt and IV each time: the same key encrypts to other bytes.
    /// assert_ne!(*pem, *SigningKey::sandbox().to_encrypted_pkcs8_pem(b"correct horse")?);
    /// assert!(SigningKey::sandbox().to_encrypted_pkcs8_pem(b"").is_err());
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty passphrase; [`Error::Key`] if the key cannot be
    /// encoded or the random source fails.
    pub fn to_encrypted_pkcs8_pem(&self, passphrase: &[u8]) -> Result<Zeroizing<String>, Error> {
        if passphrase.is_empty() {
            return Err(Error::invalid(
                "passphrase",
                "an empty passphrase encrypts nothing",
            ));
        }
        let cannot = |e: &dyn std::fmt::Display| {
            Error::key(
                KeyErrorKind::Malformed,
                format!("cannot encrypt the key: {e}"),
            )
        };
        let info = PrivateKeyInfoRef::from_der(&self.pkcs8).map_err(|e| cannot(&e))?;
        let encrypted = info.encrypt(passphrase).map_err(|e| cannot(&e))?;
        encrypted
            .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
            .map_err(|e| cannot(&e))
    }
}
