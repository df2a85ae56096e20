#!/usr/bin/env bash
# Builds the same small job twice from clean, side by side in one run:
#   1. with cybrid-identity (default features), and
#   2. with reqwest (blocking, json) + jsonwebtoken, the usual alternative,
# and prints, for each: crates compiled, clean release build time, stripped binary size.
# The job: read URL and credentials from the environment, fetch an OAuth token, sign one
# RS512 attestation with the sandbox key, create one identity record.
#
# Usage: scripts/compare-build.sh [WORKDIR]   (needs crates.io; takes a few minutes)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
echo "workdir: $work"

mkdir -p "$work/with-cybrid-identity/src" "$work/with-reqwest/src"
cp "$repo/tests/fixtures/sandbox_pkcs8.pem" "$work/with-reqwest/src/sandbox.pem"

cat > "$work/with-cybrid-identity/Cargo.toml" <<TOML
[package]
name = "with-cybrid-identity"
version = "0.1.0"
edition = "2024"

[dependencies]
cybrid-identity = { path = "$repo" }

[profile.release]
strip = true
TOML
cat > "$work/with-cybrid-identity/src/main.rs" <<'RS'
use cybrid_identity::{Attestation, Client, PostIdentityRecord, SigningKey};

fn main() -> Result<(), cybrid_identity::Error> {
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let client = Client::from_env()?;
    let customer = env("CUSTOMER_GUID");
    let token = Attestation::new(env("BANK_GUID"), &customer, env("KEY_GUID")).sign(&SigningKey::sandbox())?;
    let record = client.create_identity_record(&PostIdentityRecord::attestation(&customer, token))?;
    println!("{:?}", record.state());
    Ok(())
}
RS

cat > "$work/with-reqwest/Cargo.toml" <<'TOML'
[package]
name = "with-reqwest"
version = "0.1.0"
edition = "2024"

[dependencies]
reqwest = { version = "0.13", features = ["blocking", "json"] }
jsonwebtoken = { version = "11", features = ["aws_lc_rs"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
uuid = { version = "1", features = ["v4"] }

[profile.release]
strip = true
TOML
cat > "$work/with-reqwest/src/main.rs" <<'RS'
use std::time::{SystemTime, UNIX_EPOCH};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let http = reqwest::blocking::Client::builder().timeout(std::time::Duration::from_secs(30)).build()?;
    let grant: serde_json::Value = http
        .post(env("CYBRID_TOKEN_URL"))
        .json(&serde_json::json!({"grant_type": "client_credentials", "client_id": env("CYBRID_CLIENT_ID"),
            "client_secret": env("CYBRID_CLIENT_SECRET"), "scope": "customers:read customers:write"}))
        .send()?
        .error_for_status()?
        .json()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let customer = env("CUSTOMER_GUID");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS512);
    header.kid = Some(env("KEY_GUID"));
    let claims = serde_json::json!({
        "iss": format!("http://api.cybrid.app/banks/{}", env("BANK_GUID")), "aud": "http://api.cybrid.app",
        "sub": format!("http://api.cybrid.app/customers/{customer}"), "iat": now, "exp": now + 365 * 86400,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!("sandbox.pem"))?;
    let token = jsonwebtoken::encode(&header, &claims, &key)?;
    let record: serde_json::Value = http
        .post(format!("{}/api/identity_records", env("CYBRID_BASE_URL")))
        .bearer_auth(grant["access_token"].as_str().unwrap_or_default())
        .json(&serde_json::json!({"customer_guid": customer, "type": "attestation", "attestation_details": {"token": token}}))
        .send()?
        .error_for_status()?
        .json()?;
    println!("{}", record["attestation_details"]["state"]);
    Ok(())
}
RS

# Downloads are not build time: fetch everything first.
for p in with-cybrid-identity with-reqwest; do (cd "$work/$p" && cargo fetch -q); done

measure() {
  local p="$1"
  cd "$work/$p"
  rm -rf target
  local start end
  start=$(date +%s.%N)
  cargo build --release 2> build.log
  end=$(date +%s.%N)
  local crates secs size
  crates=$(grep -c '^ *Compiling ' build.log)
  secs=$(python3 -c "print(f'{$end - $start:.1f}')")
  size=$(stat -c %s "target/release/$p")
  printf '%-22s crates compiled %4s   clean release build %6s s   stripped binary %9s bytes\n' "$p" "$crates" "$secs" "$size"
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(rustc --version)"
measure with-cybrid-identity
measure with-reqwest
