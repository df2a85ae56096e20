//! A compact JWS taken apart: its three segments, and a segment as a JSON object whose keys
//! each appear once. Pure; nothing here verifies anything.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

/// The three segments of a compact JWS, still encoded.
pub(crate) struct Segments<'a> {
    /// `header.claims`: what the signature covers.
    pub(crate) signing_input: &'a str,
    pub(crate) header: &'a str,
    pub(crate) claims: &'a str,
    pub(crate) signature: &'a str,
}

/// Splits `token` at its two dots; `None` unless there are exactly three segments.
pub(crate) fn segments(token: &str) -> Option<Segments<'_>> {
    let mut parts = token.splitn(4, '.');
    let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some(Segments {
        signing_input: &token[..header.len() + 1 + claims.len()],
        header,
        claims,
        signature,
    })
}

/// A Base64url segment's bytes.
pub(crate) fn bytes(segment: &str) -> Option<Vec<u8>> {
    B64URL.decode(segment).ok()
}

/// A Base64url segment as a JSON object; `None` if it is not one, or if a key appears twice
/// (RFC 7515 §5.2: a parser must refuse duplicates or take the last, and taking the last
/// lets `{"alg":"none","alg":"RS512"}` mean two things to two readers).
pub(crate) fn object(segment: &str) -> Option<Map<String, Value>> {
    let bytes = bytes(segment)?;
    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    let object = deserializer.deserialize_map(OnceEach).ok()?;
    deserializer.end().ok()?;
    Some(object)
}

/// Reads a JSON object, refusing a key seen before.
struct OnceEach;

impl<'de> Visitor<'de> for OnceEach {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object whose keys each appear once")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = Map::new();
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom("a key appears twice"));
            }
            object.insert(key, value);
        }
        Ok(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(text: &str) -> String {
        B64URL.encode(text)
    }

    #[test]
    fn objects_refuse_repeated_keys_and_anything_else() {
        let one = object(&enc(r#"{"alg":"RS512","kid":"k","x":{"a":1,"a":2}}"#)).unwrap();
        assert_eq!(
            one["alg"], "RS512",
            "nested objects are not the header's keys"
        );
        assert!(object(&enc(r#"{"alg":"none","alg":"RS512"}"#)).is_none());
        assert!(object(&enc(r#"[1]"#)).is_none());
        assert!(object(&enc(r#"{"a":1} x"#)).is_none(), "trailing text");
        assert!(object("!!").is_none());
    }

    #[test]
    fn three_segments_and_no_more() {
        let s = segments("a.b.c").unwrap();
        assert_eq!(
            (s.signing_input, s.header, s.claims, s.signature),
            ("a.b", "a", "b", "c")
        );
        assert!(segments("a.b").is_none());
        assert!(segments("a.b.c.d").is_none());
    }
}
