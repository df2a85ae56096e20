//! Whether a registered verification key is the signer's: the same public key, `verified`,
//! of the same bank. Pure: a key as Cybrid returns it and the signer in, the problem out.
//!
//! Cybrid's verification key carries no public key, only a `fingerprint` whose form its
//! documents leave open. This crate reads it as the SHA-256 of the key's DER
//! SubjectPublicKeyInfo (what the emulator sends and `keys generate` prints), in hex (any
//! case, colons allowed, a `SHA256:` prefix allowed) or Base64. A fingerprint in none of
//! these forms cannot be compared: it is taken as no evidence either way (a key named by its
//! guid is then used, with a warning; a key looked for among many is not picked).

use sha2::{Digest as _, Sha256};

use super::Signer;
use crate::error::SignerKeyProblem;
use crate::keys::VerifyingKey;
use crate::models::{VerificationKey, VerificationKeyState};

/// The SHA-256 fingerprint of `key`: its DER SubjectPublicKeyInfo hashed, lowercase hex.
///
/// ```
/// let key = cybrid_identity::SigningKey::sandbox();
/// let fingerprint = cybrid_identity::signer::fingerprint(key.verifying_key());
/// assert_eq!(fingerprint.len(), 64);
/// ```
pub fn fingerprint(key: &VerifyingKey) -> String {
    hex(&Sha256::digest(key.to_spki_der()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `registered` (a fingerprint as Cybrid sends it) names `key`: `None` when it is in
/// no form this crate can compare.
pub(crate) fn names(registered: &str, key: &VerifyingKey) -> Option<bool> {
    let digest = Sha256::digest(key.to_spki_der());
    let text = registered.trim();
    let text = text
        .strip_prefix("SHA256:")
        .or_else(|| text.strip_prefix("sha256:"))
        .unwrap_or(text);
    let digits: String = text.chars().filter(|c| *c != ':').collect();
    if digits.len() == 64 && digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Some(digits.eq_ignore_ascii_case(&hex(&digest)));
    }
    use base64::Engine as _;
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
    ];
    engines
        .iter()
        .find_map(|e| e.decode(text).ok().filter(|bytes| bytes.len() == 32))
        .map(|bytes| bytes.as_slice() == digest.as_slice())
}

/// What is wrong with signing for `bank_guid` under `key` with `signer`, if anything.
pub(crate) fn problem(
    key: &VerificationKey,
    signer: &dyn Signer,
    bank_guid: &str,
) -> Option<SignerKeyProblem> {
    if let Some(fp) = &key.fingerprint
        && names(fp, signer.verifying_key()) == Some(false)
    {
        return Some(SignerKeyProblem::OtherPublicKey {
            registered: fp.clone(),
            signer: fingerprint(signer.verifying_key()),
        });
    }
    if let Some(bank) = &key.bank_guid
        && !bank.eq_ignore_ascii_case(bank_guid)
    {
        return Some(SignerKeyProblem::OtherBank {
            registered: bank.clone(),
            signer: bank_guid.to_ascii_lowercase(),
        });
    }
    if key.state != Some(VerificationKeyState::Verified) {
        let state = key.state.as_ref().map_or("without a state", |s| s.as_str());
        return Some(SignerKeyProblem::NotVerified {
            state: state.to_owned(),
        });
    }
    None
}

/// Of `keys`, the newest `verified` one whose fingerprint names `signer`'s public key.
pub(crate) fn newest_of_signer<'k>(
    keys: &'k [VerificationKey],
    signer: &dyn Signer,
) -> Option<&'k VerificationKey> {
    keys.iter()
        .filter(|k| k.state == Some(VerificationKeyState::Verified))
        .filter(|k| {
            k.fingerprint
                .as_deref()
                .and_then(|fp| names(fp, signer.verifying_key()))
                == Some(true)
        })
        .max_by_key(|k| k.created_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SigningKey;

    fn key(fingerprint: &str, state: &str, bank: &str, at: i64) -> VerificationKey {
        serde_json::from_value(serde_json::json!({
            "guid": format!("{at:032x}"), "bank_guid": bank, "state": state,
            "fingerprint": fingerprint,
            "created_at": time::OffsetDateTime::from_unix_timestamp(at).unwrap()
                .format(&time::format_description::well_known::Rfc3339).unwrap(),
        }))
        .unwrap()
    }

    const BANK: &str = "0f0e0d0c0b0a09080706050403020100";

    #[test]
    fn a_fingerprint_is_read_in_hex_with_colons_or_base64_and_nothing_else() {
        let sandbox = SigningKey::sandbox();
        let vk = sandbox.verifying_key();
        let hex = fingerprint(vk);
        assert_eq!(names(&hex, vk), Some(true));
        assert_eq!(names(&hex.to_ascii_uppercase(), vk), Some(true));
        let colons: Vec<String> = hex
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        assert_eq!(names(&colons.join(":"), vk), Some(true));
        assert_eq!(names(&format!("SHA256:{hex}"), vk), Some(true));
        use base64::Engine as _;
        let digest = Sha256::digest(vk.to_spki_der());
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        assert_eq!(names(&b64, vk), Some(true));
        assert_eq!(names(b64.trim_end_matches('='), vk), Some(true));
        let other = "0".repeat(64);
        assert_eq!(names(&other, vk), Some(false));
        assert_eq!(names("fingerprint", vk), None);
        assert_eq!(names(&hex[..40], vk), None);
    }

    #[test]
    fn the_problem_is_the_key_then_the_bank_then_the_state() {
        let sandbox = SigningKey::sandbox();
        let mine = fingerprint(sandbox.verifying_key());
        let other = "ab".repeat(32);
        assert_eq!(
            problem(&key(&mine, "verified", BANK, 1), &sandbox, BANK),
            None
        );
        // Case does not make another bank.
        assert_eq!(
            problem(
                &key(&mine, "verified", BANK, 1),
                &sandbox,
                &BANK.to_ascii_uppercase()
            ),
            None
        );
        assert_eq!(
            problem(&key(&other, "failed", "aa", 1), &sandbox, BANK),
            Some(SignerKeyProblem::OtherPublicKey {
                registered: other.clone(),
                signer: mine.clone()
            })
        );
        assert_eq!(
            problem(&key(&mine, "failed", "aa", 1), &sandbox, BANK),
            Some(SignerKeyProblem::OtherBank {
                registered: "aa".into(),
                signer: BANK.into()
            })
        );
        assert_eq!(
            problem(&key(&mine, "pending", BANK, 1), &sandbox, BANK),
            Some(SignerKeyProblem::NotVerified {
                state: "pending".into()
            })
        );
        // A fingerprint that cannot be read is no evidence either way.
        assert_eq!(
            problem(&key("fingerprint", "verified", BANK, 1), &sandbox, BANK),
            None
        );
    }

    #[test]
    fn the_newest_verified_key_of_the_signer_is_picked() {
        let sandbox = SigningKey::sandbox();
        let mine = fingerprint(sandbox.verifying_key());
        let keys = [
            key(&mine, "verified", BANK, 10),
            key(&"cd".repeat(32), "verified", BANK, 40),
            key(&mine, "verified", BANK, 30),
            key(&mine, "failed", BANK, 50),
            key("unreadable", "verified", BANK, 60),
            key(&mine, "verified", BANK, 20),
        ];
        let picked = newest_of_signer(&keys, &sandbox).unwrap();
        assert_eq!(
            picked.guid.as_deref(),
            Some(format!("{:032x}", 30).as_str())
        );
        assert!(newest_of_signer(&keys[1..2], &sandbox).is_none());
    }
}
