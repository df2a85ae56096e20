//! The key formats, read and written without a cryptography engine: PKCS#8 and PKCS#1
//! private keys, SubjectPublicKeyInfo and PKCS#1 public keys, through the `pkcs8`, `pkcs1`
//! and `spki` crates. Whichever engine signs (`rsa` or `ring`), it is handed a PKCS#1 DER.

use pkcs8::PrivateKeyInfoRef;
use pkcs8::der::asn1::{AnyRef, BitStringRef, OctetStringRef};
use pkcs8::der::{Decode as _, Encode as _};
use pkcs8::spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

use crate::error::{Error, KeyErrorKind};

fn malformed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::key(
        KeyErrorKind::Malformed,
        format!("{what} could not be decoded ({e})"),
    )
}

/// rsaEncryption, with the NULL parameters RFC 8017 asks for.
fn rsa_algorithm() -> AlgorithmIdentifierRef<'static> {
    AlgorithmIdentifierRef {
        oid: pkcs1::ALGORITHM_OID,
        parameters: Some(AnyRef::NULL),
    }
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo`, refused when the key is not
/// RSA.
pub(super) fn pkcs1_of_pkcs8(pkcs8: &[u8]) -> Result<&[u8], Error> {
    let info =
        PrivateKeyInfoRef::from_der(pkcs8).map_err(|e| malformed("the private key (PKCS#8)", e))?;
    if info.algorithm.oid != pkcs1::ALGORITHM_OID {
        return Err(Error::key(
            KeyErrorKind::NotRsa,
            format!(
                "not an RSA private key (its algorithm is {}); Cybrid attestations are RS512",
                info.algorithm.oid
            ),
        ));
    }
    Ok(info.private_key.as_bytes())
}

/// A PKCS#1 `RSAPrivateKey` wrapped as PKCS#8, the one form kept.
pub(super) fn pkcs8_of_pkcs1(pkcs1: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    let key = OctetStringRef::new(pkcs1).map_err(|e| malformed("the PKCS#1 private key", e))?;
    let info = PrivateKeyInfoRef::new(rsa_algorithm(), key);
    info.to_der()
        .map(Zeroizing::new)
        .map_err(|e| malformed("the PKCS#1 private key", e))
}

/// The public half (PKCS#1 `RSAPublicKey` DER) of a PKCS#1 private key.
pub(super) fn public_of_private(pkcs1: &[u8]) -> Result<Vec<u8>, Error> {
    let key = pkcs1::RsaPrivateKeyRef::from_der(pkcs1)
        .map_err(|e| malformed("the PKCS#1 RSA private key", e))?;
    key.public_key()
        .to_der()
        .map_err(|e| malformed("the RSA public key", e))
}

/// The PKCS#1 `RSAPublicKey` inside a SubjectPublicKeyInfo, refused when it is not RSA.
pub(super) fn pkcs1_of_spki(spki: &[u8]) -> Result<&[u8], Error> {
    let info = SubjectPublicKeyInfoRef::from_der(spki)
        .map_err(|e| malformed("not a DER-encoded RSA SubjectPublicKeyInfo: it", e))?;
    if info.algorithm.oid != pkcs1::ALGORITHM_OID {
        return Err(Error::key(
            KeyErrorKind::NotRsa,
            format!(
                "not an RSA public key (its algorithm is {})",
                info.algorithm.oid
            ),
        ));
    }
    info.subject_public_key
        .as_bytes()
        .ok_or_else(|| malformed("the public key", "a bit string of unused bits"))
}

/// A PKCS#1 `RSAPublicKey` wrapped as a SubjectPublicKeyInfo.
pub(super) fn spki_of_pkcs1(pkcs1: &[u8]) -> Result<Vec<u8>, Error> {
    let key = BitStringRef::from_bytes(pkcs1).map_err(|e| malformed("the public key", e))?;
    SubjectPublicKeyInfoRef {
        algorithm: rsa_algorithm(),
        subject_public_key: key,
    }
    .to_der()
    .map_err(|e| malformed("the public key", e))
}

/// A PKCS#1 `RSAPublicKey` of a modulus and exponent (big-endian bytes).
pub(super) fn pkcs1_of_components(modulus: &[u8], exponent: &[u8]) -> Result<Vec<u8>, Error> {
    let uint = |bytes| {
        pkcs8::der::asn1::UintRef::new(bytes).map_err(|e| malformed("the RSA public key", e))
    };
    pkcs1::RsaPublicKey {
        modulus: uint(modulus)?,
        public_exponent: uint(exponent)?,
    }
    .to_der()
    .map_err(|e| malformed("the RSA public key", e))
}

/// The modulus's size in bits (its bytes, leading zeros aside, times eight: a 2048-bit key's
/// 256 bytes are 2048) and whether the exponent is one RSA signs with (odd, at least 3).
pub(super) fn public_size(pkcs1: &[u8]) -> Result<(usize, bool), Error> {
    let key =
        pkcs1::RsaPublicKeyRef::from_der(pkcs1).map_err(|e| malformed("the RSA public key", e))?;
    let exponent = key.public_exponent.as_bytes();
    let odd = exponent.last().is_some_and(|b| b & 1 == 1);
    let at_least_3 = exponent.len() > 1 || exponent.first().is_some_and(|b| *b >= 3);
    Ok((key.modulus.as_bytes().len() * 8, odd && at_least_3))
}
