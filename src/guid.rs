//! Cybrid guids: exactly 32 ASCII letters or digits, checked before a guid goes into a URL
//! path, a query or a JWT claim, so nothing else can be smuggled there.

use crate::error::Error;

/// The length of every Cybrid guid.
pub(crate) const GUID_LEN: usize = 32;

/// Whether `value` is a Cybrid guid: exactly 32 ASCII letters or digits. Every call of this
/// crate checks its guids so before anything is sent; a program reading guids from a file or
/// a command line can check them itself, up front.
///
/// ```
/// assert!(cybrid_identity::is_guid("c0ffee00c0ffee00c0ffee00c0ffee00"));
/// assert!(!cybrid_identity::is_guid("../../etc/passwd"));
/// ```
pub fn is_guid(value: &str) -> bool {
    value.len() == GUID_LEN && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Checks that `value` is a Cybrid guid.
///
/// # Errors
/// [`Error::InvalidInput`] naming `field`, with the first characters of what it got.
pub(crate) fn check(field: &'static str, value: &str) -> Result<(), Error> {
    if is_guid(value) {
        return Ok(());
    }
    let shown: String = value.chars().take(40).collect();
    Err(Error::invalid(
        field,
        format!(
            "a guid is {GUID_LEN} ASCII letters or digits, got {} characters: {shown:?}",
            value.chars().count()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_names_the_field() {
        let e = check("customer_guid", "../etc").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid customer_guid: a guid is 32 ASCII letters or digits, got 6 characters: \"../etc\""
        );
    }
}
