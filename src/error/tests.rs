//! The error type's own tests: every kind placed, and the waits named as timeouts.

use super::*;

#[test]
fn both_waits_are_timeouts() {
    let record = Error::RecordWaitTimedOut {
        last: Box::new(serde_json::from_str("{}").unwrap()),
    };
    let key = Error::KeyWaitTimedOut {
        last: Box::new(serde_json::from_str("{}").unwrap()),
    };
    assert!(record.is_timeout() && key.is_timeout());
    assert!(!Error::Pagination("x".into()).is_timeout());
    let alias: crate::Result<u8> = Err(record);
    assert!(alias.is_err());
}

fn api(status: u16) -> Error {
    Error::Api(Box::new(ApiError {
        status,
        response: None,
        request_id: None,
        body_excerpt: None,
        retry_after: None,
    }))
}

fn token(status: Option<u16>) -> Error {
    Error::Token(Box::new(TokenError {
        status,
        body_excerpt: String::new(),
    }))
}

/// Every kind of error, by whether a rerun unchanged may pass, with its `kind()`: a new
/// variant has to be placed here (the match in `is_permanent` has no catch-all).
#[test]
fn every_kind_is_permanent_or_not_and_has_a_name() {
    for (error, permanent, kind) in &every_kind() {
        assert_eq!(error.is_permanent(), *permanent, "{error:?}");
        assert_eq!(error.kind(), *kind, "{error:?}");
    }
}

/// One error of every variant (several statuses of the server's), whether it is
/// permanent, and its kind.
fn every_kind() -> Vec<(Error, bool, &'static str)> {
    let mut cases = vec![
        (Error::invalid("customer_guid", "x"), true, "invalid_input"),
        (Error::key(KeyErrorKind::WrongPassphrase, "x"), true, "key"),
        (Error::key(KeyErrorKind::Refused, "x"), true, "key"),
        (Error::key(KeyErrorKind::NotFound, "x"), true, "key"),
        (Error::config("bogus"), true, "config"),
        (
            Error::SignerKey {
                kid: "k".into(),
                problem: SignerKeyProblem::NotFound,
            },
            true,
            "signer_key",
        ),
    ];
    cases.extend(server_kinds());
    cases.extend(local_kinds());
    cases
}

/// The errors of answers: the API's statuses and the token endpoint's.
fn server_kinds() -> Vec<(Error, bool, &'static str)> {
    vec![
        (api(400), true, "api"),
        (api(401), true, "api"),
        (api(403), true, "api"),
        (api(404), true, "api"),
        (api(422), true, "api"),
        (api(409), false, "api"),
        (api(429), false, "api"),
        (api(500), false, "api"),
        (api(503), false, "api"),
        (token(Some(401)), true, "token"),
        (token(Some(400)), true, "token"),
        (token(Some(500)), false, "token"),
        (token(None), false, "token"),
    ]
}

/// The rest.
fn local_kinds() -> Vec<(Error, bool, &'static str)> {
    let record = || Box::new(serde_json::from_str("{}").unwrap());
    let key = || Box::new(serde_json::from_str("{}").unwrap());
    let transport = Error::Transport(Box::new(TransportError {
        kind: TransportErrorKind::Connect,
        before_sending: true,
        request: "GET x".into(),
        message: "refused".into(),
        source: None,
    }));
    let decode = serde_json::from_str::<u8>("x").unwrap_err();
    vec![
        (Error::Signing("device gone".into()), false, "signing"),
        (transport, false, "transport"),
        (
            Error::Decode {
                what: "X",
                field: None,
                source: DecodeError::from_serde(&decode),
            },
            false,
            "decode",
        ),
        (Error::BodyTooLarge { limit: 1 }, false, "body_too_large"),
        (Error::InvalidUtf8 { valid_up_to: 1 }, false, "invalid_utf8"),
        (
            Error::RecordWaitTimedOut { last: record() },
            false,
            "record_wait_timed_out",
        ),
        (
            Error::KeyWaitTimedOut { last: key() },
            false,
            "key_wait_timed_out",
        ),
        (
            Error::VerificationWaitTimedOut {
                last: Box::new(serde_json::from_str("{}").unwrap()),
            },
            false,
            "verification_wait_timed_out",
        ),
        (Error::Pagination("x".into()), false, "pagination"),
        (
            Error::OutcomeUnknown {
                hint: "h".into(),
                source: Box::new(api(500)),
            },
            false,
            "outcome_unknown",
        ),
        (
            Error::journal(std::path::Path::new("j"), "x".into(), None),
            false,
            "journal",
        ),
        (Error::Stopped("x".into()), false, "stopped"),
    ]
}
