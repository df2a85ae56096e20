//! [`Person`]: the personal data an attested identity verification sends to Cybrid (name,
//! address, date of birth, identification numbers), kept like a secret key: no value in
//! `Debug`, in an error or in a log record, wiped from memory when dropped, and checked
//! before anything is sent (an error names the field, never its value).

mod check;
mod countries;
#[cfg(test)]
mod tests;

use std::fmt;

use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

pub use check::MAX_PERSON_FILE_BYTES;

/// A secret text: a person's name, a number, a date.
type Text = Zeroizing<String>;

/// A person, as a bank attests them. Built from JSON with Cybrid's field names
/// ([`Person::from_json`]); every value is checked there.
///
/// ```
/// use cybrid_identity::Person;
/// let person = Person::from_json(br#"{
///   "name": {"first": "Ada", "last": "Lovelace"},
///   "address": {"street": "12 St James's Square", "city": "London", "country_code": "GB"},
///   "date_of_birth": "1985-12-10",
///   "identification_numbers": [{"type": "passport", "issuing_country_code": "GB", "identification_number": "P1815"}]
/// }"#)?;
/// assert_eq!(format!("{person:?}"), "Person { .. [redacted] }");
/// // A bad value is named by its field, never shown.
/// let err = Person::from_json(br#"{"name": {"first": "Ada", "last": "L"}, "address": {"street": "s", "city": "c", "country_code": "ZZ"},
///   "date_of_birth": "1985-12-10", "identification_numbers": [{"type": "passport", "issuing_country_code": "GB", "identification_number": "P1"}]}"#).unwrap_err();
/// assert!(err.to_string().contains("address.country_code"));
/// assert!(!err.to_string().contains("ZZ"));
/// # Ok::<_, cybrid_identity::Error>(())
/// ```
pub struct Person {
    pub(crate) first: Text,
    pub(crate) middle: Option<Text>,
    pub(crate) last: Text,
    pub(crate) street: Text,
    pub(crate) street2: Option<Text>,
    pub(crate) city: Text,
    pub(crate) subdivision: Option<Text>,
    pub(crate) postal_code: Option<Text>,
    pub(crate) country_code: Text,
    pub(crate) date_of_birth: Text,
    pub(crate) numbers: Vec<IdNumber>,
    pub(crate) phone_number: Option<Text>,
    pub(crate) email_address: Option<Text>,
    /// Sandbox only: `passed_immediately`, `failed_immediately`, `tax_id_not_checked`.
    pub(crate) expected_behaviours: Vec<String>,
}

/// One identification number.
pub(crate) struct IdNumber {
    pub(crate) kind: String,
    pub(crate) issuing_country_code: Text,
    pub(crate) number: Text,
}

impl fmt::Debug for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Person { .. [redacted] }")
    }
}

impl Person {
    /// The body of an attested KYC identity verification for `customer_guid`
    /// (`POST /api/identity_verifications`), wiped when dropped.
    pub(crate) fn verification_body(&self, customer_guid: &str) -> Zeroizing<Vec<u8>> {
        let mut body = Map::new();
        body.insert("type".into(), json!("kyc"));
        body.insert("method".into(), json!("attested"));
        body.insert("customer_guid".into(), json!(customer_guid));
        self.fill(&mut body, true);
        if !self.expected_behaviours.is_empty() {
            body.insert(
                "expected_behaviours".into(),
                json!(self.expected_behaviours),
            );
        }
        to_body(body)
    }

    /// The body of an individual customer for this person, with `labels`
    /// (`POST /api/customers`), wiped when dropped.
    pub(crate) fn customer_body(&self, labels: &[String]) -> Zeroizing<Vec<u8>> {
        let mut body = Map::new();
        body.insert("type".into(), json!("individual"));
        self.fill(&mut body, false);
        if !labels.is_empty() {
            body.insert("labels".into(), json!(labels));
        }
        to_body(body)
    }

    /// Every value of the person, to withhold from whatever a server echoes back.
    pub(crate) fn values(&self) -> Vec<&str> {
        let mut all: Vec<&str> = [
            Some(&self.first),
            self.middle.as_ref(),
            Some(&self.last),
            Some(&self.street),
            self.street2.as_ref(),
            Some(&self.city),
            self.postal_code.as_ref(),
            Some(&self.date_of_birth),
            self.phone_number.as_ref(),
            self.email_address.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(|t| t.as_str())
        .collect();
        all.extend(self.numbers.iter().map(|n| n.number.as_str()));
        // Two-letter codes are not a person's secret, and withholding them would blot out
        // every "US" in a message.
        all.retain(|v| v.chars().count() >= 3);
        all
    }

    fn fill(&self, body: &mut Map<String, Value>, numbers: bool) {
        let text = |t: &Text| Value::String(t.to_string());
        let mut name = Map::new();
        name.insert("first".into(), text(&self.first));
        if let Some(middle) = &self.middle {
            name.insert("middle".into(), text(middle));
        }
        name.insert("last".into(), text(&self.last));
        body.insert("name".into(), Value::Object(name));
        let mut address = Map::new();
        address.insert("street".into(), text(&self.street));
        for (key, value) in [
            ("street2", &self.street2),
            ("subdivision", &self.subdivision),
            ("postal_code", &self.postal_code),
        ] {
            if let Some(value) = value {
                address.insert(key.into(), text(value));
            }
        }
        address.insert("city".into(), text(&self.city));
        address.insert("country_code".into(), text(&self.country_code));
        body.insert("address".into(), Value::Object(address));
        body.insert("date_of_birth".into(), text(&self.date_of_birth));
        if numbers {
            let list: Vec<Value> = self
                .numbers
                .iter()
                .map(|n| {
                    json!({"type": n.kind, "issuing_country_code": n.issuing_country_code.as_str(),
                           "identification_number": n.number.as_str()})
                })
                .collect();
            body.insert("identification_numbers".into(), Value::Array(list));
        }
        for (key, value) in [
            ("phone_number", &self.phone_number),
            ("email_address", &self.email_address),
        ] {
            if let Some(value) = value {
                body.insert(key.into(), text(value));
            }
        }
    }
}

/// The body's bytes; the tree it came from wiped.
fn to_body(body: Map<String, Value>) -> Zeroizing<Vec<u8>> {
    let value = Value::Object(body);
    let bytes = Zeroizing::new(value.to_string().into_bytes());
    wipe(value);
    bytes
}

/// Overwrites every string of a JSON tree before it is freed.
pub(crate) fn wipe(value: Value) {
    use zeroize::Zeroize as _;
    match value {
        Value::String(mut s) => s.zeroize(),
        Value::Array(items) => items.into_iter().for_each(wipe),
        Value::Object(map) => {
            for (mut key, value) in map {
                key.zeroize();
                wipe(value);
            }
        }
        _ => {}
    }
}
