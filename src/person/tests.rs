//! A person's checks, field by field: each refusal names the field and never quotes it.

use super::check::person_on;
use crate::error::Error;
use serde_json::Value;
use serde_json::json;
use time::Date;

fn ada() -> Value {
    json!({
        "name": {"first": "Ada", "middle": "King", "last": "Lovelace"},
        "address": {"street": "12 St James's Square", "city": "London", "subdivision": "LND",
                    "postal_code": "SW1Y 4JH", "country_code": "GB"},
        "date_of_birth": "1985-12-10",
        "identification_numbers": [{"type": "passport", "issuing_country_code": "GB", "identification_number": "P181512"}],
        "phone_number": "+442079460000", "email_address": "ada@example.org",
    })
}

const TODAY: Date = time::macros::date!(2026 - 12 - 08);

/// The field an error names, and that it does not quote `secret`.
fn refused(value: &Value, secret: &str) -> String {
    let err = person_on(value, TODAY).unwrap_err();
    let text = err.to_string();
    assert!(!text.contains(secret), "{text}");
    assert!(!format!("{err:?}").contains(secret), "{err:?}");
    match err {
        Error::InvalidInput { field, .. } => field.to_owned(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_whole_person_is_taken() {
    let person = person_on(&ada(), TODAY).unwrap();
    assert_eq!(person.first.as_str(), "Ada");
    assert_eq!(person.numbers[0].kind, "passport");
    assert_eq!(
        person.subdivision.as_deref().map(String::as_str),
        Some("LND")
    );
}

#[test]
fn each_bad_field_is_named_and_never_quoted() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("name.first", json!(null), ""),
        ("name.last", json!(""), ""),
        ("address.street", json!(12), ""),
        ("address.city", json!("C".repeat(129)), "CCCC"),
        ("address.country_code", json!("ZZ"), "ZZ"),
        ("address.subdivision", json!("US-NY"), "US-NY"),
        ("date_of_birth", json!("2031-02-30"), "2031-02-30"),
        ("date_of_birth", json!("2027-01-01"), "2027-01-01"),
        ("date_of_birth", json!("10/12/1815"), "10/12/1815"),
        ("email_address", json!("ada-at-example"), "ada-at-example"),
    ];
    for (field, bad, secret) in cases {
        let mut value = ada();
        let (object, key) = field.split_once('.').unwrap_or(("", field));
        if object.is_empty() {
            value[key] = bad;
        } else {
            value[object][key] = bad;
        }
        assert_eq!(
            refused(&value, if secret.is_empty() { "\u{0}" } else { secret }),
            field
        );
    }
    let mut value = ada();
    value["identification_numbers"][0]["type"] = json!("library_card");
    assert_eq!(
        refused(&value, "library_card"),
        "identification_numbers[].type"
    );
    value["identification_numbers"] = json!([]);
    assert_eq!(refused(&value, "\u{0}"), "identification_numbers");
    let mut value = ada();
    value["name"]["first"] = json!("A".repeat(10_000_000));
    assert_eq!(refused(&value, "AAAA"), "name.first");
    let mut value = ada();
    value["expected_behaviours"] = json!(["succeed_please"]);
    assert_eq!(refused(&value, "succeed_please"), "expected_behaviours");
}

#[test]
fn the_date_of_birth_may_be_today_not_tomorrow() {
    let mut value = ada();
    value["date_of_birth"] = json!("2026-12-08");
    assert!(person_on(&value, TODAY).is_ok());
    value["date_of_birth"] = json!("2026-12-09");
    assert!(person_on(&value, TODAY).is_err());
    value["date_of_birth"] = json!("2024-02-29");
    assert!(person_on(&value, TODAY).is_ok());
    value["date_of_birth"] = json!("2023-02-29");
    assert!(person_on(&value, TODAY).is_err());
}

#[test]
fn the_bodies_carry_cybrids_field_names_and_debug_carries_nothing() {
    let person = person_on(&ada(), TODAY).unwrap();
    let body: Value =
        serde_json::from_slice(&person.verification_body("c0ffee00c0ffee00c0ffee00c0ffee00"))
            .unwrap();
    assert_eq!(
        body,
        json!({
            "type": "kyc", "method": "attested", "customer_guid": "c0ffee00c0ffee00c0ffee00c0ffee00",
            "name": {"first": "Ada", "middle": "King", "last": "Lovelace"},
            "address": {"street": "12 St James's Square", "city": "London", "subdivision": "LND",
                        "postal_code": "SW1Y 4JH", "country_code": "GB"},
            "date_of_birth": "1985-12-10",
            "identification_numbers": [{"type": "passport", "issuing_country_code": "GB", "identification_number": "P181512"}],
            "phone_number": "+442079460000", "email_address": "ada@example.org",
        })
    );
    let customer: Value =
        serde_json::from_slice(&person.customer_body(&["bank-1".to_owned()])).unwrap();
    assert_eq!(customer["type"], "individual");
    assert_eq!(customer["labels"], json!(["bank-1"]));
    assert!(customer.get("identification_numbers").is_none());
    let debug = format!("{person:?}");
    assert_eq!(debug, "Person { .. [redacted] }");
    let values = person.values();
    for v in [
        "Ada",
        "Lovelace",
        "1985-12-10",
        "P181512",
        "ada@example.org",
    ] {
        assert!(values.contains(&v), "{v}");
    }
    assert!(!values.contains(&"GB"), "two-letter codes are not withheld");
}

#[test]
fn the_bounds_are_inclusive_and_each_refusal_says_which() {
    let reason = |value: &Value| match person_on(value, TODAY) {
        Err(Error::InvalidInput { reason, .. }) => reason,
        other => panic!("{other:?}"),
    };
    // 128 characters is a name; 129 is not.
    let mut value = ada();
    value["name"]["first"] = json!("A".repeat(128));
    assert!(person_on(&value, TODAY).is_ok());
    value["name"]["first"] = json!("A".repeat(129));
    assert_eq!(reason(&value), "longer than 128 characters");
    // 10 identification numbers are taken; 11 are too many; none is missing.
    let number =
        json!({"type": "passport", "issuing_country_code": "GB", "identification_number": "P1"});
    let mut value = ada();
    value["identification_numbers"] = json!(vec![number.clone(); 10]);
    assert_eq!(person_on(&value, TODAY).unwrap().numbers.len(), 10);
    value["identification_numbers"] = json!(vec![number; 11]);
    assert_eq!(reason(&value), "at most 10 identification numbers");
    value["identification_numbers"] = json!([]);
    assert!(reason(&value).starts_with("required"), "{}", reason(&value));
}

#[test]
fn codes_dates_numbers_and_emails_at_their_edges() {
    let field = |value: &Value| match person_on(value, TODAY) {
        Ok(_) => "taken".to_owned(),
        Err(Error::InvalidInput { field, reason }) => format!("{field}: {reason}"),
        Err(other) => panic!("{other:?}"),
    };
    let with = |object: &str, key: &str, v: Value| {
        let mut value = ada();
        if object.is_empty() {
            value[key] = v;
        } else {
            value[object][key] = v;
        }
        value
    };
    // A subdivision: 1 to 3 capitals or digits, both conditions.
    for ok in ["N", "NY", "LND", "01"] {
        assert_eq!(
            field(&with("address", "subdivision", json!(ok))),
            "taken",
            "{ok}"
        );
    }
    for bad in ["ny", "NYCX", "N-Y"] {
        assert!(
            field(&with("address", "subdivision", json!(bad))).starts_with("address.subdivision"),
            "{bad}"
        );
    }
    // Born 150 years ago is taken; 151 is not.
    assert_eq!(
        field(&with("", "date_of_birth", json!("1876-12-08"))),
        "taken"
    );
    assert_eq!(
        field(&with("", "date_of_birth", json!("1875-01-01"))),
        "date_of_birth: more than 150 years ago"
    );
    // A number of a type Cybrid does not list says so; a number without a type says that.
    let mut value = ada();
    value["identification_numbers"][0]["type"] = json!("library_card");
    assert!(
        field(&value).contains("not a type Cybrid lists"),
        "{}",
        field(&value)
    );
    value["identification_numbers"][0]["type"] = json!(7);
    assert!(field(&value).ends_with("required"), "{}", field(&value));
    // An email needs a local part and a dotted domain.
    for bad in ["@example.org", "ada@localhost", "ada"] {
        assert_eq!(
            field(&with("", "email_address", json!(bad))),
            "email_address: not an email address",
            "{bad}"
        );
    }
}

#[test]
fn the_sandboxs_expected_behaviours_are_taken_and_sent() {
    let mut value = ada();
    value["expected_behaviours"] = json!(["failed_immediately", "tax_id_not_checked"]);
    let person = person_on(&value, TODAY).unwrap();
    assert_eq!(
        person.expected_behaviours,
        ["failed_immediately", "tax_id_not_checked"]
    );
    let body: Value =
        serde_json::from_slice(&person.verification_body("c0ffee00c0ffee00c0ffee00c0ffee00"))
            .unwrap();
    assert_eq!(
        body["expected_behaviours"],
        json!(["failed_immediately", "tax_id_not_checked"])
    );
}

#[test]
fn at_most_fifty_expected_behaviours() {
    let mut value = ada();
    value["expected_behaviours"] = json!(vec!["passed_immediately"; 50]);
    assert_eq!(
        person_on(&value, TODAY).unwrap().expected_behaviours.len(),
        50
    );
    value["expected_behaviours"] = json!(vec!["passed_immediately"; 51]);
    match person_on(&value, TODAY) {
        Err(Error::InvalidInput { field, reason }) => {
            assert_eq!(
                (field, reason.as_str()),
                ("expected_behaviours", "a list of at most 50")
            );
        }
        other => panic!("{other:?}"),
    }
}
