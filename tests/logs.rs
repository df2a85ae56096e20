//! Log records through the `log` facade: retries, token fetches and unknown outcomes are
//! visible under the `cybrid_identity` target, and no record of this crate, at any level,
//! carries a token, the client secret or a JWT, even reassembled. ureq's wire layer
//! (`ureq_proto`) writes request heads at `trace`, the bearer token included, in 16-byte hex
//! rows: the test shows it does, and that the README's filter (`ureq_proto=debug`) removes
//! them. One test, so that the process-wide logger sees only it.

#[path = "support/hexdump.rs"]
mod hexdump;
mod support;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use cybrid_identity::{Attestation, Client, ListParams, PostIdentityRecord, SigningKey};
use support::{Reply, ScriptedServer, json};

const G: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
const TOKEN: &str = "live-access-token-5e1f";
const SECRET: &str = "client-secret-9b2c";

/// Every record, at every level, from every crate.
struct Capture(Mutex<Vec<(log::Level, String, String)>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = (
            record.level(),
            record.target().to_owned(),
            record.args().to_string(),
        );
        self.0.lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

static LOGGER: Capture = Capture(Mutex::new(Vec::new()));

fn record(state: &str) -> Reply {
    json(
        200,
        serde_json::json!({"guid": G, "customer_guid": G, "attestation_details": {"state": state}}),
    )
}

#[test]
fn records_name_retries_and_fetches_and_never_a_secret() {
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let gets = AtomicUsize::new(0);
    let server = ScriptedServer::start(move |request, _| {
        match (request.method.as_str(), request.path()) {
            ("POST", "/oauth/token") => support::token(TOKEN, 3600),
            ("GET", "/api/identity_records") => json(
                200,
                serde_json::json!({"total": 0, "page": 0, "per_page": 10, "objects": []}),
            ),
            // A 503 first: one retry. Then a 401: one token renewal.
            ("GET", _) => match gets.fetch_add(1, Ordering::SeqCst) {
                0 => json(
                    503,
                    serde_json::json!({"status": 503, "error_message": "busy", "message_code": "unavailable"}),
                ),
                1 => json(
                    401,
                    serde_json::json!({"status": 401, "error_message": "expired", "message_code": "unauthorized"}),
                ),
                _ => record("verified"),
            },
            // A create whose answer is lost: the outcome is unknown.
            ("POST", _) => Reply::Drop,
            _ => json(404, serde_json::json!({})),
        }
    });
    let client = Client::builder()
        .base_url(server.url())
        .token_url(server.token_url())
        .client_credentials("id", SECRET)
        .retry_policy(cybrid_identity::RetryPolicy::default().with_jitter(|| 0.01))
        .build()
        .unwrap();
    let jwt = Attestation::new(G, G, G)
        .sign(&SigningKey::sandbox())
        .unwrap();
    assert!(client.get_identity_record(G).is_ok());
    let err = client
        .create_identity_record(&PostIdentityRecord::attestation(G, jwt.clone()))
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(client.list_identity_records(ListParams::new()).is_ok());

    let records = LOGGER.0.lock().unwrap().clone();
    let ours = |level: log::Level, words: &str| {
        records.iter().any(|(l, target, text)| {
            *l == level && target == "cybrid_identity" && text.contains(words)
        })
    };
    assert!(
        ours(
            log::Level::Info,
            &format!("retrying GET /api/identity_records/{G} (1 of 2)")
        ),
        "{records:#?}"
    );
    assert!(
        ours(log::Level::Info, "fetching an access token from"),
        "{records:#?}"
    );
    assert!(
        ours(log::Level::Info, "401, renewing the access token"),
        "{records:#?}"
    );
    assert!(
        ours(
            log::Level::Debug,
            &format!("GET /api/identity_records/{G}: 503 in")
        ),
        "{records:#?}"
    );
    assert!(
        ours(
            log::Level::Warn,
            "the identity record may have been created"
        ),
        "{records:#?}"
    );
    let signature = jwt.rsplit('.').next().unwrap();
    let secrets = [TOKEN, SECRET, jwt.as_str(), signature];
    // Read as a person would: every record of a target, its hex rows decoded back to bytes,
    // joined into one stream, then searched; and each record's text as it stands.
    let ours = stream(&records, |target, _| target == "cybrid_identity");
    for secret in secrets {
        assert_eq!(
            leaked(&ours, secret),
            None,
            "this crate's records hold a secret"
        );
    }
    // ureq's wire layer writes request heads at trace: the token is there, in 16-byte rows.
    let wire = stream(&records, |target, _| target.starts_with("ureq_proto"));
    assert!(
        wire.contains(&format!("authorization: Bearer {TOKEN}")),
        "ureq_proto at trace no longer writes request heads: update the README"
    );
    // The README's filter, `ureq_proto=debug` (trace records of ureq_proto dropped), leaves
    // no secret in any record of any crate.
    let filtered = stream(&records, |target, level| {
        !(target.starts_with("ureq_proto") && level == log::Level::Trace)
    });
    for secret in secrets {
        assert_eq!(
            leaked(&filtered, secret),
            None,
            "a record left by ureq_proto=debug holds a secret"
        );
    }
    println!(
        "{} records checked, {} from cybrid_identity",
        records.len(),
        records.iter().filter(|r| r.1 == "cybrid_identity").count()
    );
}

/// The records passing `keep`, in order, read as a person would (hex rows decoded).
fn stream(
    records: &[(log::Level, String, String)],
    keep: impl Fn(&str, log::Level) -> bool,
) -> String {
    hexdump::stream(
        records
            .iter()
            .filter(|(l, t, _)| keep(t, *l))
            .map(|(_, _, text)| text.as_str()),
    )
}

/// The longest piece (8 characters or more) of `secret` that `text` holds, if any.
fn leaked<'s>(text: &str, secret: &'s str) -> Option<&'s str> {
    let min = 8.min(secret.len());
    (min..=secret.len())
        .rev()
        .flat_map(|n| (0..=secret.len() - n).map(move |i| &secret[i..i + n]))
        .find(|piece| text.contains(piece))
}
