//! The reconciliation rules over one customer's records: what is in force, what is still
//! in progress, and when there is room for a new create. Pure: records and a clock in.

use time::OffsetDateTime;

use crate::models::{AttestationState, IdentityRecord};

/// What a customer's records say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found<'a> {
    /// A verified record that has not expired: adopt it, create nothing.
    InForce(&'a IdentityRecord),
    /// A record not yet final (`storing`, `pending`, or a state this crate does not know):
    /// wait for it, never duplicate it.
    InProgress(&'a IdentityRecord),
    /// Only failed or expired records, or none: a create may go out.
    Room,
}

/// Whether `record` is verified and not expired at `now`.
pub(crate) fn in_force(record: &IdentityRecord, now: OffsetDateTime) -> bool {
    record.state() == Some(&AttestationState::Verified)
        && record.expired_at.is_none_or(|at| at > now)
}

/// Whether `record` may still become verified: not final, or of a state we do not know
/// (which a newer server may use for "under review"). A record without a state is one we
/// cannot read, and is waited for rather than duplicated.
pub(crate) fn in_progress(record: &IdentityRecord) -> bool {
    match record.state() {
        None => true,
        Some(AttestationState::Verified | AttestationState::Failed | AttestationState::Expired) => {
            false
        }
        Some(_) => true,
    }
}

/// The rules, in order: in force first, then in progress, then room.
pub(crate) fn assess(records: &[IdentityRecord], now: OffsetDateTime) -> Found<'_> {
    if let Some(record) = records.iter().find(|r| in_force(r, now)) {
        return Found::InForce(record);
    }
    match records.iter().find(|r| in_progress(r)) {
        Some(record) => Found::InProgress(record),
        None => Found::Room,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn record(guid: &str, state: &str, expired_at: Option<OffsetDateTime>) -> IdentityRecord {
        let mut value = serde_json::json!({
            "guid": guid,
            "attestation_details": {"state": state},
        });
        if let Some(at) = expired_at {
            value["expired_at"] = serde_json::json!(
                at.format(&time::format_description::well_known::Rfc3339)
                    .unwrap()
            );
        }
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn verified_is_in_force_until_its_expiry_and_not_at_it() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        assert!(in_force(&record("a", "verified", None), now));
        assert!(in_force(
            &record("a", "verified", Some(now + Duration::seconds(1))),
            now
        ));
        assert!(!in_force(&record("a", "verified", Some(now)), now));
        assert!(!in_force(
            &record("a", "verified", Some(now - Duration::seconds(1))),
            now
        ));
        assert!(!in_force(&record("a", "pending", None), now));
    }

    #[test]
    fn unknown_states_are_waited_for_and_only_failed_or_expired_leave_room() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let reviewing = record("r", "reviewing", None);
        assert!(in_progress(&reviewing));
        for state in ["storing", "pending"] {
            assert!(in_progress(&record("s", state, None)), "{state}");
        }
        for state in ["verified", "failed", "expired"] {
            assert!(!in_progress(&record("s", state, None)), "{state}");
        }
        let stateless: IdentityRecord = serde_json::from_str(r#"{"guid":"x"}"#).unwrap();
        assert!(in_progress(&stateless));
        let failed = record("f", "failed", None);
        let expired = record("e", "expired", None);
        let lapsed = record("l", "verified", Some(now));
        assert_eq!(
            assess(&[failed.clone(), expired.clone(), lapsed.clone()], now),
            Found::Room
        );
        assert_eq!(assess(&[], now), Found::Room);
        let records = [failed.clone(), reviewing.clone()];
        assert_eq!(assess(&records, now), Found::InProgress(&records[1]));
        let later = record("v", "verified", Some(now + Duration::days(300)));
        let records = [reviewing, failed, later];
        assert_eq!(assess(&records, now), Found::InForce(&records[2]));
    }
}
