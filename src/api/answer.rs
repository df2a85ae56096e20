//! Reading an answer: the status decides between the model and an error, and every byte
//! from the server is treated as hostile (checked UTF-8, excerpts cut at a limit, a body
//! cut short told apart from a body that does not fit).

use std::time::Instant;

use crate::auth::{CachedToken, Secret, TokenResponse};
use crate::error::{ApiError, DecodeError, Error, TokenError};
use crate::models::ErrorResponse;
use crate::redact::redact_then_cut;
use crate::retry::{Progress, Setback};

/// How many bytes of a body that is not an `ErrorResponse` an error keeps.
pub(crate) const BODY_EXCERPT_BYTES: usize = 512;

/// A status, the headers that matter, and a body read within the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) request_id: Option<String>,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The setback of an answer with this status, keeping its `Retry-After`.
    fn status_setback(&self) -> Setback {
        Setback {
            progress: Progress::Status(self.status),
            retry_after: self.retry_after.clone(),
        }
    }
}

/// An answer that is not the value asked for: the error for the caller, and how far the
/// attempt got, for the retry policy.
pub(crate) type Unusable = (Error, Setback);

/// A Bank API answer as `T` (a 2xx), or as the error it stands for.
///
/// `secrets` (the token, the client secret) are removed from any server text kept, before it
/// is cut to an excerpt.
pub(crate) fn read_answer<T: serde::de::DeserializeOwned>(
    what: &'static str,
    answer: Answer,
    secrets: &[&str],
) -> Result<T, Unusable> {
    if !answer.is_success() {
        let setback = answer.status_setback();
        let error = Error::Api(Box::new(api_error(
            answer.status,
            answer.request_id,
            answer.retry_after,
            &answer.body,
            secrets,
        )));
        return Err((error, setback));
    }
    check_utf8(&answer.body)?;
    decode(what, &answer.body).map_err(|error| {
        // A body cut short is a broken answer (a GET may try again), not a different model.
        let progress = match &error {
            Error::Decode { source, .. } if source.is_eof() => Progress::MaybeSent,
            _ => Progress::AnswerWouldRepeat,
        };
        (error, Setback::new(progress))
    })
}

/// A token endpoint answer as a token to cache, or as the error it stands for. The client
/// secret is removed from any text kept, should the server echo it.
pub(crate) fn read_token_answer(
    answer: &Answer,
    secret: &Secret,
    received: Instant,
) -> Result<CachedToken, Unusable> {
    let redacted = || excerpt(&answer.body, &[secret.expose()]);
    if !answer.is_success() {
        let error = Error::Token(Box::new(TokenError {
            status: Some(answer.status),
            body_excerpt: redacted(),
        }));
        return Err((error, answer.status_setback()));
    }
    check_utf8(&answer.body)?;
    match serde_json::from_slice::<TokenResponse>(&answer.body) {
        Ok(token) if !token.access_token.is_empty() => Ok(CachedToken::new(
            Secret::new(token.access_token),
            token.expires_in,
            received,
        )),
        _ => Err((
            Error::Token(Box::new(TokenError {
                status: None,
                body_excerpt: format!(
                    "status {} but no access_token in the answer: {}",
                    answer.status,
                    redacted().replace(|c: char| c.is_control(), " ")
                ),
            })),
            Setback::new(Progress::AnswerWouldRepeat),
        )),
    }
}

/// JSON is UTF-8; a success body that is not would otherwise be mangled or misreported as a
/// model mismatch. (Error bodies keep their status instead: see [`excerpt`].)
fn check_utf8(body: &[u8]) -> Result<(), Unusable> {
    std::str::from_utf8(body).map(|_| ()).map_err(|e| {
        (
            Error::InvalidUtf8 {
                valid_up_to: e.valid_up_to(),
            },
            Setback::new(Progress::AnswerWouldRepeat),
        )
    })
}

/// The first bytes of a body, for an error message, with `secrets` removed from the whole
/// body before it is cut (so an echo across the cut leaves nothing of itself). Never lossy:
/// a body that is not UTF-8 shows its valid start, or is described, never mangled.
pub(crate) fn excerpt(body: &[u8], secrets: &[&str]) -> String {
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) if e.valid_up_to() > 0 => {
            std::str::from_utf8(&body[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return format!("({} bytes, not UTF-8)", body.len()),
    };
    redact_then_cut(text, secrets, BODY_EXCERPT_BYTES)
}

/// A non-success answer as an [`ApiError`]: its `ErrorResponse` when the body is one,
/// otherwise the first bytes of the body.
fn api_error(
    status: u16,
    request_id: Option<String>,
    retry_after: Option<String>,
    body: &[u8],
    secrets: &[&str],
) -> ApiError {
    let response = serde_json::from_slice::<ErrorResponse>(body).ok();
    let body_excerpt = if response.is_some() {
        None
    } else {
        Some(excerpt(body, secrets))
    };
    ApiError {
        status,
        response,
        request_id,
        body_excerpt,
        retry_after,
    }
}

/// Decodes a JSON body into `T`; `what` names the model in the error.
///
/// # Errors
/// [`Error::Decode`], whose message names the field that did not fit.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    what: &'static str,
    body: &[u8],
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|source| Error::Decode {
        what,
        field: field_near(body, &source),
        source: DecodeError::from_serde(&source),
    })
}

/// The JSON key whose value the decoder stopped in, found by scanning back from the error's
/// position. serde_json names missing fields but not mistyped ones; this names both.
fn field_near(body: &[u8], error: &serde_json::Error) -> Option<String> {
    if error.line() == 0 {
        return None;
    }
    let mut offset = 0usize;
    for (index, line) in body.split(|b| *b == b'\n').enumerate() {
        if index + 1 == error.line() {
            offset += error.column().min(line.len());
            break;
        }
        offset += line.len() + 1;
    }
    let before = body.get(..offset.min(body.len()))?;
    // Walk back to the last `"key"` followed by optional spaces and a colon.
    let mut end = before.len();
    while end > 0 {
        end -= 1;
        if before[end] != b':' {
            continue;
        }
        let mut quote_end = end;
        while quote_end > 0 && before[quote_end - 1].is_ascii_whitespace() {
            quote_end -= 1;
        }
        if quote_end == 0 || before[quote_end - 1] != b'"' {
            continue;
        }
        let key_end = quote_end - 1;
        let key_start = before[..key_end].iter().rposition(|b| *b == b'"')? + 1;
        return std::str::from_utf8(&before[key_start..key_end])
            .ok()
            .map(str::to_owned);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::IdentityRecord;

    fn answer(status: u16, body: &[u8]) -> Answer {
        Answer {
            status,
            request_id: Some("req-1".into()),
            retry_after: Some("2".into()),
            body: body.to_vec(),
        }
    }

    #[test]
    fn error_bodies() {
        let e = api_error(
            400,
            None,
            None,
            br#"{"status":400,"error_message":"bad","message_code":"invalid_parameter","extra":1}"#,
            &[],
        );
        assert_eq!(e.response.unwrap().message_code, "invalid_parameter");
        let e = api_error(
            502,
            None,
            None,
            b"<html><body>Bad Gateway</body></html>",
            &[],
        );
        assert_eq!(
            e.body_excerpt.as_deref(),
            Some("<html><body>Bad Gateway</body></html>")
        );
        assert_eq!(excerpt(&[0xff, 0xfe, b'a'], &[]), "(3 bytes, not UTF-8)");
        let long = "é".repeat(600);
        let cut = excerpt(long.as_bytes(), &[]);
        assert!(
            cut.ends_with('…') && cut.chars().count() == 257,
            "{}",
            cut.chars().count()
        );
    }

    #[test]
    fn answers_are_sorted_by_status_and_body() {
        let (e, s) =
            read_answer::<IdentityRecord>("IdentityRecord", answer(503, b"busy"), &[]).unwrap_err();
        assert_eq!((e.status(), e.request_id()), (Some(503), Some("req-1")));
        assert_eq!(
            s,
            Setback {
                progress: Progress::Status(503),
                retry_after: Some("2".into())
            }
        );
        let (e, s) =
            read_answer::<IdentityRecord>("IdentityRecord", answer(200, br#"{"guid": 7}"#), &[])
                .unwrap_err();
        assert!(
            matches!(&e, Error::Decode { field: Some(f), .. } if f == "guid"),
            "{e}"
        );
        assert_eq!(s.progress, Progress::AnswerWouldRepeat);
        let (_, s) =
            read_answer::<IdentityRecord>("IdentityRecord", answer(200, br#"{"guid": "ab"#), &[])
                .unwrap_err();
        assert_eq!(
            s.progress,
            Progress::MaybeSent,
            "a body cut short may be asked for again"
        );
        let (e, _) = read_answer::<IdentityRecord>(
            "IdentityRecord",
            answer(200, b"{\"guid\": \"\xff\"}"),
            &[],
        )
        .unwrap_err();
        assert!(matches!(e, Error::InvalidUtf8 { valid_up_to: 10 }), "{e}");
        let ok: IdentityRecord =
            read_answer("IdentityRecord", answer(201, br#"{"guid":"g"}"#), &[]).unwrap();
        assert_eq!(ok.guid.as_deref(), Some("g"));
    }

    #[test]
    fn token_answers_never_keep_the_secret() {
        let secret = Secret::new("s3cr3t-value");
        let now = Instant::now();
        let (e, s) =
            read_token_answer(&answer(400, b"you sent s3cr3t-value"), &secret, now).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the token endpoint answered 400: you sent [redacted] (check the client id, secret and scopes)"
        );
        assert_eq!(s.progress, Progress::Status(400));
        let (e, s) =
            read_token_answer(&answer(200, b"{\"echo\":\"s3cr3t-value\"}\n"), &secret, now)
                .unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        assert_eq!(s.progress, Progress::AnswerWouldRepeat);
        let token = read_token_answer(
            &answer(200, br#"{"access_token":"tok","expires_in":60}"#),
            &secret,
            now,
        )
        .unwrap();
        assert_eq!(token.value.expose(), "tok");
    }
}
