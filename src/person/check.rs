//! A person's fields, checked before anything is sent: what `attested` requires, the codes
//! and the date, and bounded lengths. Every message names the field and never its value.
//!
//! The bounds are this crate's choice where Cybrid's document sets none (it bounds only the
//! country code, 2, and the subdivision, 1 to 3): names and cities 128 characters, streets
//! 256, postal codes 16, identification numbers 64, phone numbers 32, email addresses 254
//! (RFC 5321's path limit), at most 10 identification numbers (the document's `maxItems`).

use serde_json::Value;
use time::{Date, OffsetDateTime};
use zeroize::Zeroizing;

use super::countries::is_country;
use super::{IdNumber, Person};
use crate::error::Error;

/// The largest person file (or book line) read: far past any real person, and a bound on
/// what a hostile file makes us hold.
pub const MAX_PERSON_FILE_BYTES: usize = 16 * 1024 * 1024;

/// The longest value of each field, in characters (see the module docs for why these).
pub(crate) fn limits() -> &'static [(&'static str, usize)] {
    &[
        ("name.first", 128),
        ("name.middle", 128),
        ("name.last", 128),
        ("address.street", 256),
        ("address.street2", 256),
        ("address.city", 128),
        ("address.postal_code", 16),
        ("identification_numbers[].identification_number", 64),
        ("phone_number", 32),
        ("email_address", 254),
    ]
}

/// The identification number types Cybrid lists (`PostIdentificationNumber.type`).
const NUMBER_TYPES: [&str; 10] = [
    "drivers_license",
    "passport",
    "passport_card",
    "residence_card",
    "visa",
    "social_security_number",
    "tax_identification_number",
    "identification_card",
    "employer_identification_number",
    "business_registration_number",
];

/// The sandbox's expected behaviours (`PostIdentityVerification.expected_behaviours`).
const BEHAVIOURS: [&str; 3] = [
    "passed_immediately",
    "failed_immediately",
    "tax_id_not_checked",
];

/// What kind of JSON error, without the decoder's words (they may quote the input).
pub(super) fn category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "a syntax error",
        serde_json::error::Category::Data => "a value of the wrong type",
        serde_json::error::Category::Eof => "cut short",
    }
}

fn limit(field: &str) -> usize {
    limits()
        .iter()
        .find(|(name, _)| *name == field)
        .map_or(128, |(_, n)| *n)
}

impl Person {
    /// Reads one JSON object with Cybrid's field names: `name` {`first`, `middle`, `last`},
    /// `address` {`street`, `street2`, `city`, `subdivision`, `postal_code`, `country_code`},
    /// `date_of_birth` (`YYYY-MM-DD`), `identification_numbers` [{`type`,
    /// `issuing_country_code`, `identification_number`}], optional `phone_number` and
    /// `email_address`, and for the sandbox `expected_behaviours`. Other fields are ignored
    /// (a book's `label`, `customer_guid`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field (`name.first`, `address.country_code`,
    /// `identification_numbers[0].type`, …) and what is wrong, never the value: a field
    /// `attested` requires is missing, a country code is not ISO 3166 alpha-2, a
    /// subdivision is not ISO 3166-2's, the date of birth is not a calendar date or is in
    /// the future, a number's type is not one Cybrid lists, a value is longer than
    /// this crate allows (the guide "Two KYC paths" lists the bounds).
    pub fn from_json(json: &[u8]) -> Result<Person, Error> {
        if json.len() > MAX_PERSON_FILE_BYTES {
            return Err(Error::invalid(
                "person",
                format!("more than {MAX_PERSON_FILE_BYTES} bytes: not a person"),
            ));
        }
        // Parsed as a tree, then read by hand: a typed decoder's errors quote the values.
        let value: Value = serde_json::from_slice(json).map_err(|e| {
            Error::invalid(
                "person",
                format!(
                    "not JSON ({} at line {}, column {})",
                    category(&e),
                    e.line(),
                    e.column()
                ),
            )
        })?;
        let object = Value::Object(match value {
            Value::Object(map) => map,
            _ => return Err(Error::invalid("person", "not a JSON object")),
        });
        let result = person(&object);
        super::wipe(object);
        result
    }
}

/// The person in `value` (an object), every field checked; today by this machine's clock.
pub(super) fn person(value: &Value) -> Result<Person, Error> {
    person_on(value, OffsetDateTime::now_utc().date())
}

/// As [`person`], with the date of birth checked against `today`.
pub(super) fn person_on(value: &Value, today: Date) -> Result<Person, Error> {
    let numbers = match value.get("identification_numbers") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= 10 => items
            .iter()
            .enumerate()
            .map(|(i, item)| number(i, item))
            .collect::<Result<Vec<_>, _>>()?,
        Some(Value::Array(items)) if items.len() > 10 => {
            return Err(Error::invalid(
                "identification_numbers",
                "at most 10 identification numbers",
            ));
        }
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            return Err(Error::invalid(
                "identification_numbers",
                "required: at least one, with type, issuing_country_code and identification_number",
            ));
        }
        Some(_) => return Err(Error::invalid("identification_numbers", "not a list")),
    };
    let person = Person {
        first: required(value, "name", "first", "name.first")?,
        middle: optional(value, "name", "middle", "name.middle")?,
        last: required(value, "name", "last", "name.last")?,
        street: required(value, "address", "street", "address.street")?,
        street2: optional(value, "address", "street2", "address.street2")?,
        city: required(value, "address", "city", "address.city")?,
        subdivision: subdivision(value)?,
        postal_code: optional(value, "address", "postal_code", "address.postal_code")?,
        country_code: country(
            text_at(
                value,
                Some("address"),
                "country_code",
                "address.country_code",
            )?,
            "address.country_code",
        )?,
        date_of_birth: date_of_birth(value, today)?,
        numbers,
        phone_number: optional(value, "", "phone_number", "phone_number")?,
        email_address: email(value)?,
        expected_behaviours: behaviours(value)?,
    };
    Ok(person)
}

/// The string at `object.key` (or `key` at the top when `object` is empty): `None` when
/// absent or null; an error when it is another type, empty, or too long.
fn text_at(
    value: &Value,
    object: Option<&str>,
    key: &str,
    field: &'static str,
) -> Result<Option<Zeroizing<String>>, Error> {
    let holder = match object {
        Some(name) if !name.is_empty() => match value.get(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(_)) => &value[name],
            Some(_) => {
                return Err(Error::invalid(field, format!("{name} is not an object")));
            }
        },
        _ => value,
    };
    match holder.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => {
            let chars = text.chars().count();
            if text.trim().is_empty() {
                return Err(Error::invalid(field, "empty"));
            }
            if chars > limit(field) {
                return Err(Error::invalid(
                    field,
                    format!("longer than {} characters", limit(field)),
                ));
            }
            if text.chars().any(char::is_control) {
                return Err(Error::invalid(field, "holds a control character"));
            }
            Ok(Some(Zeroizing::new(text.clone())))
        }
        Some(_) => Err(Error::invalid(field, "not a string")),
    }
}

fn required(
    value: &Value,
    object: &str,
    key: &str,
    field: &'static str,
) -> Result<Zeroizing<String>, Error> {
    text_at(value, Some(object), key, field)?
        .ok_or_else(|| Error::invalid(field, "required for an attested verification"))
}

fn optional(
    value: &Value,
    object: &str,
    key: &str,
    field: &'static str,
) -> Result<Option<Zeroizing<String>>, Error> {
    text_at(value, Some(object), key, field)
}

fn country(
    code: Option<Zeroizing<String>>,
    field: &'static str,
) -> Result<Zeroizing<String>, Error> {
    let code = code.ok_or_else(|| Error::invalid(field, "required"))?;
    if is_country(&code) {
        Ok(code)
    } else {
        Err(Error::invalid(
            field,
            "not an ISO 3166-1 alpha-2 country code (two capital letters, as US or GB)",
        ))
    }
}

fn subdivision(value: &Value) -> Result<Option<Zeroizing<String>>, Error> {
    let field = "address.subdivision";
    let Some(code) = text_at(value, Some("address"), "subdivision", field)? else {
        return Ok(None);
    };
    let ok = (1..=3).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if ok {
        Ok(Some(code))
    } else {
        Err(Error::invalid(
            field,
            "not an ISO 3166-2 subdivision code: 1 to 3 capital letters or digits, the part after the country's (CA for US-CA)",
        ))
    }
}

fn date_of_birth(value: &Value, today: Date) -> Result<Zeroizing<String>, Error> {
    let field = "date_of_birth";
    let text = text_at(value, None, "date_of_birth", field)?
        .ok_or_else(|| Error::invalid(field, "required for an attested verification"))?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = Date::parse(&text, &format).map_err(|_| {
        Error::invalid(
            field,
            "not a calendar date in the form YYYY-MM-DD (a real day of a real month)",
        )
    })?;
    if date > today {
        return Err(Error::invalid(field, "in the future"));
    }
    if today.year().saturating_sub(date.year()) > 150 {
        return Err(Error::invalid(field, "more than 150 years ago"));
    }
    Ok(text)
}

fn number(index: usize, item: &Value) -> Result<IdNumber, Error> {
    // Field names with the index would need a String; the index goes in the reason.
    let at = |reason: &str| format!("number {index} (from 0): {reason}");
    if !item.is_object() {
        return Err(Error::invalid(
            "identification_numbers",
            at("not an object"),
        ));
    }
    let kind = match item.get("type") {
        Some(Value::String(kind)) if NUMBER_TYPES.contains(&kind.as_str()) => kind.clone(),
        Some(Value::String(_)) => {
            return Err(Error::invalid(
                "identification_numbers[].type",
                at(&format!(
                    "not a type Cybrid lists ({})",
                    NUMBER_TYPES.join(", ")
                )),
            ));
        }
        _ => {
            return Err(Error::invalid(
                "identification_numbers[].type",
                at("required"),
            ));
        }
    };
    let issuer = text_at(
        item,
        None,
        "issuing_country_code",
        "identification_numbers[].issuing_country_code",
    )?;
    let issuing_country_code = country(issuer, "identification_numbers[].issuing_country_code")?;
    let number = text_at(
        item,
        None,
        "identification_number",
        "identification_numbers[].identification_number",
    )?
    .ok_or_else(|| {
        Error::invalid(
            "identification_numbers[].identification_number",
            at("required"),
        )
    })?;
    Ok(IdNumber {
        kind,
        issuing_country_code,
        number,
    })
}

fn email(value: &Value) -> Result<Option<Zeroizing<String>>, Error> {
    let field = "email_address";
    let Some(email) = text_at(value, None, "email_address", field)? else {
        return Ok(None);
    };
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() && domain.contains('.') => Ok(Some(email)),
        _ => Err(Error::invalid(field, "not an email address")),
    }
}

fn behaviours(value: &Value) -> Result<Vec<String>, Error> {
    let field = "expected_behaviours";
    match value.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() <= 50 => items
            .iter()
            .map(|item| match item.as_str() {
                Some(b) if BEHAVIOURS.contains(&b) => Ok(b.to_owned()),
                _ => Err(Error::invalid(
                    field,
                    format!("each is one of {}", BEHAVIOURS.join(", ")),
                )),
            })
            .collect(),
        Some(_) => Err(Error::invalid(field, "a list of at most 50")),
    }
}
