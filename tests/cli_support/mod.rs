//! `cybrid-identity emulator` as a child process, for the tests that run the binary.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_cybrid-identity");

/// `cybrid-identity emulator …` as a child process, and its JSON line.
pub struct CliEmulator {
    pub child: Child,
    pub line: Value,
    pub raw: String,
}

impl CliEmulator {
    pub fn start(extra: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .arg("emulator")
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut raw = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut raw)
            .unwrap();
        let line: Value =
            serde_json::from_str(&raw).unwrap_or_else(|e| panic!("not JSON: {raw:?}: {e}"));
        CliEmulator {
            child,
            line,
            raw: raw.trim().to_owned(),
        }
    }

    pub fn get(&self, field: &str) -> &str {
        self.line[field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} in {}", self.raw))
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.get("url")
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap()
    }

    /// The environment a command needs to reach this emulator.
    pub fn env(&self, cmd: &mut Command) {
        cmd.env_remove("CYBRID_ACCESS_TOKEN")
            .env("CYBRID_BASE_URL", self.get("url"))
            .env("CYBRID_TOKEN_URL", self.get("token_url"))
            .env("CYBRID_CLIENT_ID", self.get("client_id"))
            .env("CYBRID_CLIENT_SECRET", self.get("client_secret"));
    }
}

impl Drop for CliEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
