//! A moto server (PyPI `moto[server]`, a loopback AWS) on a port of its own, for the KMS
//! and credential-chain tests; it skips, or under `CYBRID_REQUIRE_REAL=1` fails, without moto.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

// The test crate declares `mod real` (support/real.rs) beside this module.
use crate::real;

/// A moto server on a loopback port of its own, stopped when dropped.
pub struct Moto {
    child: Child,
    pub url: String,
}

impl Moto {
    /// Started with IAM authentication on after the first three requests (`auth`), or off.
    pub fn start(auth: bool) -> Option<Moto> {
        if !real::available(
            "moto (PyPI moto[server])",
            real::python_imports("moto.server"),
        ) {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Through `python3 -m`, not the `moto_server` script: a script pip just installed may
        // not be on PATH yet (pyenv's shims, a user's bin folder).
        let mut cmd = Command::new("python3");
        cmd.args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        if auth {
            cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", "3");
        }
        let moto = Moto {
            child: cmd.spawn().unwrap(),
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    /// What `tests/support/moto.py` made.
    pub fn setup(&self, mode: &str) -> Value {
        let out = Command::new("python3")
            .args(["tests/support/moto.py", &self.url, mode])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
