//! Server text, hostile: a secret echoed across the excerpt's cut, a token echoed in a 2xx
//! that does not fit, escape sequences in an error code. Read as a person would: the
//! error's Display, its Debug, and its whole chain of sources.

mod support;

use cybrid_identity::{Client, ListParams};
use support::{Reply, ScriptedServer, json, raw, token};

const TOKEN: &str = "live-access-token-5e1f3a9c8b7d6e5f4a3b2c1d0e9f8a7b6c5d";
const SECRET: &str = "client-secret-9b2c7d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d";

fn client(server: &ScriptedServer) -> Client {
    Client::builder()
        .base_url(server.url())
        .token_url(server.token_url())
        .client_credentials("id", SECRET)
        .max_retries(0)
        .build()
        .unwrap()
}

/// Everything a reader sees of an error: Display, Debug, and each source's Display.
fn shown(e: &cybrid_identity::Error) -> String {
    let mut text = format!("{e}\n{e:?}");
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push('\n');
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The longest piece (6 characters or more) of `secret` that `text` shows, if any.
fn leaked<'s>(text: &str, secret: &'s str) -> Option<&'s str> {
    (6..=secret.len())
        .rev()
        .flat_map(|n| (0..=secret.len() - n).map(move |i| &secret[i..i + n]))
        .find(|piece| text.contains(piece))
}

fn serve(api: impl Fn(&support::Recorded) -> Reply + Send + Sync + 'static) -> ScriptedServer {
    ScriptedServer::start(move |request, _| {
        if request.path() == "/oauth/token" {
            return token(TOKEN, 3600);
        }
        api(request)
    })
}

#[test]
fn a_secret_echoed_across_the_excerpts_cut_leaves_nothing_of_itself() {
    for offset in [480, 490, 500, 505, 509, 511] {
        let server = serve(move |_| {
            let body = format!(
                "{}you sent Bearer {TOKEN} and {SECRET} ok",
                "x".repeat(offset)
            );
            raw(502, "text/html", body.as_bytes())
        });
        let err = client(&server)
            .get_identity_record("c0ffee00c0ffee00c0ffee00c0ffee00")
            .unwrap_err();
        let text = shown(&err);
        for secret in [TOKEN, SECRET] {
            assert_eq!(leaked(&text, secret), None, "offset {offset}: {text}");
        }
        assert!(text.contains('…'), "the excerpt was cut: {text}");
    }
}

#[test]
fn a_2xx_that_echoes_the_token_where_a_number_belongs_keeps_the_field_not_the_value() {
    let server = serve(|request| {
        let echoed = request
            .header("authorization")
            .unwrap_or_default()
            .to_owned();
        json(
            200,
            serde_json::json!({"total": echoed, "page": 0, "per_page": 10, "objects": []}),
        )
    });
    let err = client(&server)
        .list_identity_records(ListParams::new())
        .unwrap_err();
    let text = shown(&err);
    assert_eq!(leaked(&text, TOKEN), None, "{text}");
    assert!(text.contains("at field `total`"), "{text}");
    assert!(
        text.contains("invalid type: string, expected u64"),
        "{text}"
    );
}

#[test]
fn escape_sequences_in_server_text_are_shown_not_obeyed() {
    let server = serve(|_| {
        json(
            400,
            serde_json::json!({"status": 400, "error_message": "\u{1b}[2J gone", "message_code": "\u{1b}[31mred"}),
        )
    });
    let err = client(&server)
        .get_identity_record("c0ffee00c0ffee00c0ffee00c0ffee00")
        .unwrap_err();
    let display = err.to_string();
    assert!(!display.contains('\u{1b}'), "{display:?}");
    assert!(
        display.contains("\\u{1b}[31mred: \\u{1b}[2J gone"),
        "{display}"
    );
    assert_eq!(
        err.error_response().unwrap().message_code,
        "\u{1b}[31mred",
        "the value itself is kept as sent, for programs"
    );
}

/// An AWS endpoint (or a proxy before it) that echoes what it was sent: the session token,
/// whole or cut in half, and the secret key. Read as a person would, the error shows no piece
/// of either.
#[cfg(feature = "aws-kms")]
#[test]
fn an_aws_answer_that_echoes_a_credential_is_withheld() {
    const SESSION: &str = "FwoGZXIvYXdzEAsaDLiveSessionToken0123456789abcdef";
    const AWS_SECRET: &str = "aws-secret-key-7f3e9a1b2c4d5e6f7a8b9c0d1e2f3a4b";
    for half in [false, true] {
        let server = ScriptedServer::start(move |request, _| {
            let token = request
                .header("x-amz-security-token")
                .unwrap_or("")
                .to_owned();
            let echoed = if half {
                token[..token.len() / 2].to_owned()
            } else {
                token
            };
            json(
                400,
                serde_json::json!({
                    "__type": "com.amazonaws.kms#ValidationException",
                    "message": format!("cannot use {echoed} with {AWS_SECRET}"),
                }),
            )
        });
        let url = server.url();
        let vars = move |name: &str| {
            match name {
                "AWS_REGION" => Some("eu-west-2"),
                "AWS_ENDPOINT_URL" => Some(url.as_str()),
                "AWS_ACCESS_KEY_ID" => Some("ASIAEXAMPLE"),
                "AWS_SECRET_ACCESS_KEY" => Some(AWS_SECRET),
                "AWS_SESSION_TOKEN" => Some(SESSION),
                _ => None,
            }
            .map(str::to_owned)
        };
        let err = cybrid_identity::aws::AwsKmsSigner::from_vars("alias/bank", vars).unwrap_err();
        let text = shown(&err);
        assert!(text.contains("ValidationException"), "{text}");
        assert!(text.contains("withheld"), "{text}");
        for secret in [SESSION, AWS_SECRET] {
            assert_eq!(leaked(&text, secret), None, "{text}");
        }
    }
}
