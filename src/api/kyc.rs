//! Today's KYC calls as data: the bank, customers, identity verifications. A body that
//! carries a person's data is wiped when the request is dropped, and every value of the
//! person is withheld from whatever the server says back.

use zeroize::Zeroizing;

use super::{ApiRequest, Method, check_chars, check_guid};
use crate::error::Error;
use crate::models::{CustomerListParams, MAX_PER_PAGE, VerificationListParams};
use crate::person::Person;

pub(crate) const BANKS: &str = "/api/banks";
pub(crate) const CUSTOMERS: &str = "/api/customers";
pub(crate) const IDENTITY_VERIFICATIONS: &str = "/api/identity_verifications";

/// The most labels a customer carries, and their length (Cybrid's document).
pub(crate) const MAX_LABELS: usize = 8;
pub(crate) const MAX_LABEL_CHARS: usize = 64;

pub(crate) fn get_bank(guid: &str) -> Result<ApiRequest, Error> {
    check_guid("bank_guid", guid)?;
    Ok(ApiRequest::get(format!("{BANKS}/{guid}"), "Bank"))
}

/// The banks the token sees (a bank's own token: its bank).
pub(crate) fn list_banks() -> ApiRequest {
    ApiRequest::get(BANKS.to_owned(), "BankList")
}

pub(crate) fn create_customer(person: &Person, labels: &[String]) -> Result<ApiRequest, Error> {
    if labels.len() > MAX_LABELS {
        return Err(Error::invalid(
            "labels",
            format!("at most {MAX_LABELS}, got {}", labels.len()),
        ));
    }
    for label in labels {
        check_label(label)?;
    }
    let hint = match labels.first() {
        Some(label) => format!(
            "the customer may have been created: before trying again, list customers by its label ({label})"
        ),
        None => "the customer may have been created: before trying again, list the bank's customers (give customers a label to find them again)".to_owned(),
    };
    Ok(secret_post(
        CUSTOMERS,
        person.customer_body(labels),
        "Customer",
        hint,
        person,
    ))
}

/// A label: 1 to 64 characters, no comma (a listing sends labels comma separated).
pub(crate) fn check_label(label: &str) -> Result<(), Error> {
    check_chars("label", label, MAX_LABEL_CHARS)?;
    if label.contains(',') || label.chars().any(char::is_control) {
        return Err(Error::invalid(
            "label",
            "holds a comma or a control character",
        ));
    }
    Ok(())
}

pub(crate) fn get_customer(guid: &str) -> Result<ApiRequest, Error> {
    check_guid("customer_guid", guid)?;
    Ok(ApiRequest::get(format!("{CUSTOMERS}/{guid}"), "Customer"))
}

pub(crate) fn list_customers(params: &CustomerListParams) -> Result<ApiRequest, Error> {
    let mut request = ApiRequest::get(CUSTOMERS.to_owned(), "CustomerList");
    for guid in &params.guids {
        check_guid("guid", guid)?;
    }
    for label in &params.labels {
        check_label(label)?;
    }
    let mut query = Vec::new();
    if !params.guids.is_empty() {
        query.push(("guid", params.guids.join(",")));
    }
    if !params.labels.is_empty() {
        query.push(("label", params.labels.join(",")));
    }
    if let Some(kind) = &params.customer_type {
        query.push(("type", plain("type", kind)?));
    }
    page(&mut query, params.page, params.per_page)?;
    request.query = query;
    Ok(request)
}

pub(crate) fn create_identity_verification(
    customer_guid: &str,
    person: &Person,
) -> Result<ApiRequest, Error> {
    check_guid("customer_guid", customer_guid)?;
    let hint = format!(
        "the identity verification may have been created: before trying again, list the customer's verifications (customer_guid {customer_guid})"
    );
    Ok(secret_post(
        IDENTITY_VERIFICATIONS,
        person.verification_body(customer_guid),
        "IdentityVerification",
        hint,
        person,
    ))
}

pub(crate) fn get_identity_verification(guid: &str) -> Result<ApiRequest, Error> {
    check_guid("identity_verification_guid", guid)?;
    Ok(ApiRequest::get(
        format!("{IDENTITY_VERIFICATIONS}/{guid}"),
        "IdentityVerification",
    ))
}

pub(crate) fn list_identity_verifications(
    params: &VerificationListParams,
) -> Result<ApiRequest, Error> {
    let mut request = ApiRequest::get(
        IDENTITY_VERIFICATIONS.to_owned(),
        "IdentityVerificationList",
    );
    for guid in &params.customer_guids {
        check_guid("customer_guid", guid)?;
    }
    let mut query = Vec::new();
    if !params.customer_guids.is_empty() {
        query.push(("customer_guid", params.customer_guids.join(",")));
    }
    if let Some(state) = &params.state {
        query.push(("state", plain("state", state)?));
    }
    if let Some(kind) = &params.verification_type {
        query.push(("type", plain("type", kind)?));
    }
    page(&mut query, params.page, params.per_page)?;
    request.query = query;
    Ok(request)
}

/// A filter value: a lowercase word (`completed`, `kyc`), as Cybrid's enums are.
fn plain(field: &'static str, value: &str) -> Result<String, Error> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(Error::invalid(field, "a lowercase word (letters and _)"))
    }
}

fn page(
    query: &mut Vec<(&'static str, String)>,
    page: Option<u32>,
    per_page: Option<u32>,
) -> Result<(), Error> {
    if let Some(page) = page {
        query.push(("page", page.to_string()));
    }
    if let Some(per_page) = per_page {
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(Error::invalid(
                "per_page",
                format!("must be 1 to {MAX_PER_PAGE}, got {per_page}"),
            ));
        }
        query.push(("per_page", per_page.to_string()));
    }
    Ok(())
}

/// A create whose body is a person's data: wiped when dropped, and the person's values
/// withheld from any server text.
fn secret_post(
    path: &str,
    body: Zeroizing<Vec<u8>>,
    what: &'static str,
    hint: String,
    person: &Person,
) -> ApiRequest {
    ApiRequest {
        method: Method::Post,
        path: path.to_owned(),
        query: Vec::new(),
        body: Some(body),
        what,
        outcome_hint: Some(hint),
        withhold: person
            .values()
            .into_iter()
            .map(|v| Zeroizing::new(v.to_owned()))
            .collect(),
    }
}
