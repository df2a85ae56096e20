//! What the emulator remembers: tokens, verification keys, identity records, and the
//! lifecycle that moves them from `storing` to a final state as time passes.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::attestation;
use crate::keys::VerifyingKey;
use crate::models::{FailureCode, VerificationKeyFailureCode};
use crate::rand::{hex, hex_guid};

pub(crate) struct KeyEntry {
    pub(crate) guid: String,
    created: Instant,
    created_at: OffsetDateTime,
    /// The usable key, when the submitted one decoded and its signature verified.
    pub(crate) key: Option<VerifyingKey>,
    verdict: Result<(), VerificationKeyFailureCode>,
    fingerprint: String,
}

pub(crate) struct RecordEntry {
    pub(crate) guid: String,
    pub(crate) customer_guid: String,
    created: Instant,
    created_at: OffsetDateTime,
    verdict: Result<i64, FailureCode>,
}

/// The lifecycle's timing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lifecycle {
    pub(crate) transition: Duration,
    /// Whether records pass through `pending` (Cybrid's endpoint page) or go from `storing`
    /// straight to a final state (the published model).
    pub(crate) with_pending: bool,
    /// Whether a verified record shows its token's `exp` as `expired_at`, as a server
    /// reading "the datetime the record is expired at" that way would.
    pub(crate) expiry_on_verify: bool,
}

impl Lifecycle {
    /// `storing`, `pending` or final, by age: each step takes one transition time.
    fn stage(&self, created: Instant, now: Instant) -> Stage {
        let age = now.saturating_duration_since(created);
        if age < self.transition {
            Stage::Storing
        } else if self.with_pending && age < self.transition.saturating_mul(2) {
            Stage::Pending
        } else {
            Stage::Final
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Storing,
    Pending,
    Final,
}

pub(crate) struct Store {
    pub(crate) bank_guid: String,
    pub(crate) lifecycle: Lifecycle,
    pub(crate) keys: Vec<KeyEntry>,
    pub(crate) records: Vec<RecordEntry>,
}

impl Store {
    /// A store whose bank owns one verified key: `default_key`, created before anything else.
    pub(crate) fn new(
        bank_guid: String,
        lifecycle: Lifecycle,
        default_key_guid: String,
        default_key: VerifyingKey,
    ) -> Self {
        let fingerprint = crate::signer::fingerprint(&default_key);
        let created = Instant::now()
            .checked_sub(lifecycle.transition * 3)
            .unwrap_or_else(Instant::now);
        Store {
            bank_guid,
            lifecycle,
            keys: vec![KeyEntry {
                guid: default_key_guid,
                created,
                created_at: now_millis(),
                key: Some(default_key),
                verdict: Ok(()),
                fingerprint,
            }],
            records: Vec::new(),
        }
    }

    /// Registers a key; its verdict is decided now and shown once its lifecycle is over.
    pub(crate) fn add_key(
        &mut self,
        public_key: &str,
        nonce: &str,
        signature: &str,
        algorithm: &str,
    ) -> Value {
        use base64::Engine as _;
        let decoded = VerifyingKey::from_spki_base64(public_key);
        let fingerprint = match &decoded {
            Ok(key) => crate::signer::fingerprint(key),
            Err(_) => hex(&Sha256::digest(public_key.as_bytes())),
        };
        let verdict = match &decoded {
            _ if algorithm != "RS512" => Err(VerificationKeyFailureCode::InvalidAlgorithm),
            Err(_) => Err(VerificationKeyFailureCode::InvalidPublicKey),
            Ok(key) => match base64::engine::general_purpose::STANDARD.decode(signature.trim()) {
                Ok(sig) if key.verify_rs512(nonce.as_bytes(), &sig) => Ok(()),
                _ => Err(VerificationKeyFailureCode::InvalidSignature),
            },
        };
        let entry = KeyEntry {
            guid: hex_guid(),
            created: Instant::now(),
            created_at: now_millis(),
            key: verdict.is_ok().then(|| decoded.ok()).flatten(),
            verdict,
            fingerprint,
        };
        let view = self.key_view(&entry, Instant::now());
        self.keys.push(entry);
        view
    }

    /// The key usable for verifying tokens right now, by guid.
    fn usable_key(&self, guid: &str, now: Instant) -> Option<&VerifyingKey> {
        let entry = self.keys.iter().find(|k| k.guid == guid)?;
        if self.lifecycle.stage(entry.created, now) != Stage::Final {
            return None;
        }
        entry.key.as_ref()
    }

    /// Stores a record and decides its verdict with the crate's own token check.
    pub(crate) fn add_record(&mut self, customer_guid: &str, token: &str) -> Value {
        let now = Instant::now();
        let kid = attestation::key_id(token);
        // Without a kid there is no key to look up; check with the bank's first usable key so
        // the token's other faults are still found, and `missing_keyid` comes last, as documented.
        let key = match &kid {
            Some(kid) => self.usable_key(kid, now),
            None => self.keys.iter().find_map(|k| self.usable_key(&k.guid, now)),
        };
        let verdict = attestation::check(
            token,
            key,
            &attestation::Expected {
                bank_guid: &self.bank_guid,
                customer_guid,
                now: OffsetDateTime::now_utc(),
            },
        )
        .map(|claims| claims.exp.unix_timestamp());
        let entry = RecordEntry {
            guid: hex_guid(),
            customer_guid: customer_guid.to_owned(),
            created: now,
            created_at: now_millis(),
            verdict,
        };
        let view = self.record_view(&entry, now);
        self.records.push(entry);
        view
    }

    pub(crate) fn record_view(&self, r: &RecordEntry, now: Instant) -> Value {
        let (state, failure_code, expired_at) =
            match (self.lifecycle.stage(r.created, now), &r.verdict) {
                (Stage::Storing, _) => ("storing", None, None),
                (Stage::Pending, _) => ("pending", None, None),
                (Stage::Final, Err(code)) => ("failed", Some(code.as_str().to_owned()), None),
                (Stage::Final, Ok(exp)) if *exp <= OffsetDateTime::now_utc().unix_timestamp() => (
                    "expired",
                    None,
                    OffsetDateTime::from_unix_timestamp(*exp).ok().map(rfc3339),
                ),
                (Stage::Final, Ok(exp)) if self.lifecycle.expiry_on_verify => (
                    "verified",
                    None,
                    OffsetDateTime::from_unix_timestamp(*exp).ok().map(rfc3339),
                ),
                (Stage::Final, Ok(_)) => ("verified", None, None),
            };
        json!({
            "guid": r.guid,
            "customer_guid": r.customer_guid,
            "type": "attestation",
            "attestation_details": {"state": state, "failure_code": failure_code},
            "created_at": rfc3339(r.created_at),
            "expired_at": expired_at,
        })
    }

    pub(crate) fn key_view(&self, k: &KeyEntry, now: Instant) -> Value {
        let (state, failure_code) = match (self.lifecycle.stage(k.created, now), &k.verdict) {
            (Stage::Storing, _) => ("storing", None),
            (Stage::Pending, _) => ("pending", None),
            (Stage::Final, Ok(())) => ("verified", None),
            (Stage::Final, Err(code)) => ("failed", Some(code.as_str().to_owned())),
        };
        json!({
            "guid": k.guid,
            "bank_guid": self.bank_guid,
            "type": "attestation",
            "state": state,
            "failure_code": failure_code,
            "algorithm": "RS512",
            "fingerprint": k.fingerprint,
            "created_at": rfc3339(k.created_at),
        })
    }
}

pub(crate) fn now_millis() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_millisecond(now.millisecond()).unwrap_or(now)
}

/// RFC 3339 with milliseconds and `Z`, as Cybrid sends (`2023-06-07T14:02:41.123Z`).
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_stages_by_age() {
        let l = Lifecycle {
            transition: Duration::from_millis(100),
            with_pending: true,
            expiry_on_verify: false,
        };
        let t0 = Instant::now();
        assert_eq!(l.stage(t0, t0), Stage::Storing);
        assert_eq!(l.stage(t0, t0 + Duration::from_millis(150)), Stage::Pending);
        assert_eq!(l.stage(t0, t0 + Duration::from_millis(200)), Stage::Final);
        let skip = Lifecycle {
            with_pending: false,
            ..l
        };
        assert_eq!(
            skip.stage(t0, t0 + Duration::from_millis(150)),
            Stage::Final
        );
    }

    #[test]
    fn timestamps_look_like_cybrids() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_686_146_561_123_456_789).unwrap();
        assert_eq!(rfc3339(at), "2023-06-07T14:02:41.123Z");
        assert_eq!(hex_guid().len(), 32);
    }
}
