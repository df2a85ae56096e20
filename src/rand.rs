//! Randomness from the operating system, in the three shapes the crate needs: a fraction
//! (backoff jitter, fault rates), a 32-character hex guid (the emulator, the CLI), and a
//! UUID v4 (an attestation's `jti`).

/// Lowercase hexadecimal of `bytes`, two digits a byte.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// 16 random bytes, or `None` if the random source fails.
fn random_bytes() -> Option<[u8; 16]> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes)
}

/// A uniformly random fraction in `[0, 1)`, or `None` if the random source fails.
pub(crate) fn fraction() -> Option<f64> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).ok()?;
    // The top 53 bits, the precision of an f64 mantissa.
    Some((u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64)
}

#[cfg_attr(not(feature = "emulator"), allow(dead_code))]
/// A fresh 32-character lowercase hex guid, as Cybrid's look. Used for test objects and demo
/// customers, never for secrets: should the random source fail, the clock stands in.
pub(crate) fn hex_guid() -> String {
    let bytes = random_bytes().unwrap_or_else(|| {
        time::OffsetDateTime::now_utc()
            .unix_timestamp_nanos()
            .to_le_bytes()
    });
    hex(&bytes)
}

/// A random UUID v4 in its canonical lowercase form, or `None` if the random source fails.
pub(crate) fn uuid_v4() -> Option<String> {
    random_bytes().map(format_uuid_v4)
}

fn format_uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_is_in_range() {
        for _ in 0..1000 {
            let f = fraction().unwrap();
            assert!((0.0..1.0).contains(&f));
        }
    }

    #[test]
    fn uuid_v4_has_version_and_variant_bits() {
        assert_eq!(
            format_uuid_v4([0xff; 16]),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        assert_eq!(
            format_uuid_v4([0; 16]),
            "00000000-0000-4000-8000-000000000000"
        );
        assert_eq!(uuid_v4().unwrap().len(), 36);
    }

    #[test]
    fn hex_guids_are_guids() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        let g = hex_guid();
        assert!(crate::guid::check("guid", &g).is_ok(), "{g}");
        assert_ne!(g, hex_guid());
    }
}
