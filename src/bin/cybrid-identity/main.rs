//! `cybrid-identity`: every part of the crate from a shell (feature `cli`).
//!
//! `args` declares and parses, `commands` and `demo` run, `output` prints.
// `deny`, not `forbid`: `signals` installs the SIGTERM handler, a call into the C library.
#![deny(unsafe_code)]

mod args;
mod commands;
mod demo;
mod failure;
mod output;
mod signals;
mod suggest;

use std::io::Write as _;
use std::process::ExitCode;

use args::{Command, Request};
use commands::{attest, completions, emulator, journal, jwt, keys, kyc, records};
use output::out;

/// Every command, in the order `--help` and the README list them.
const COMMANDS: &[Command] = &[
    demo::DEMO,
    emulator::EMULATOR,
    attest::ATTEST,
    jwt::SIGN,
    jwt::INSPECT,
    jwt::VERIFY,
    records::CREATE,
    records::GET,
    records::LIST,
    records::WAIT,
    keys::GENERATE,
    keys::REGISTER,
    keys::CREATE,
    keys::GET,
    keys::LIST,
    kyc::BANK_CMD,
    kyc::CUSTOMERS_CREATE,
    kyc::CUSTOMERS_GET,
    kyc::CUSTOMERS_LIST,
    kyc::VERIFICATIONS_CREATE,
    kyc::VERIFICATIONS_GET,
    kyc::VERIFICATIONS_LIST,
    kyc::VERIFICATIONS_WAIT,
    journal::SUMMARY,
    journal::UNFINISHED,
    completions::COMPLETIONS,
];

fn main() -> ExitCode {
    let raw: Vec<_> = std::env::args_os().skip(1).collect();
    // Known before parsing, so that a parse error is reported in the form asked for.
    let json = raw.iter().any(|a| a == "--json");
    let result = args::parse(COMMANDS, raw).and_then(|request| match request {
        Request::Print(text) => {
            out!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Request::Run(command, args) => (command.run)(&args),
    });
    result.unwrap_or_else(|e| {
        output::report(&e, json);
        ExitCode::from(e.code)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_and_cli_guide_command_tables_are_the_declared_one() {
        let table = args::markdown_table(COMMANDS);
        for (name, text) in [
            ("README.md", include_str!("../../../README.md")),
            (
                "docs/guide/cli.md",
                include_str!("../../../docs/guide/cli.md"),
            ),
        ] {
            assert!(
                text.contains(&table),
                "{name}'s command table differs from the declarations; it should read:\n{table}"
            );
        }
    }

    #[test]
    fn the_kubernetes_example_runs_a_declared_command_line() {
        let manifest = include_str!("../../../examples/kubernetes/attest-book.yaml");
        let completions: u64 = manifest
            .lines()
            .find_map(|l| l.trim().strip_prefix("completions: "))
            .and_then(|n| n.parse().ok())
            .unwrap();
        // The Job controller sets the index; any index of the Job must parse.
        let last = (completions - 1).to_string();
        let parsed = manifest_command(&manifest.replace("$(JOB_COMPLETION_INDEX)", &last));
        let plan_flags = ["customers", "shard", "journal"];
        assert!(plan_flags.iter().all(|f| parsed.value(f).is_some()));
        assert_eq!(
            parsed.value("shard"),
            Some(format!("{last}/{completions}").as_str()),
            "--shard K/N with N the Job's completions"
        );
    }

    /// The first `command:` list of a manifest, parsed with the declared flags.
    fn manifest_command(manifest: &str) -> args::Args {
        let lines: Vec<&str> = manifest.lines().collect();
        let start = lines.iter().position(|l| l.trim() == "command:").unwrap() + 1;
        let words: Vec<std::ffi::OsString> = lines[start..]
            .iter()
            .map_while(|l| l.trim().strip_prefix("- "))
            .map(|w| w.trim_matches('"').into())
            .skip(1)
            .collect();
        let Ok(args::Request::Run(command, parsed)) = args::parse(COMMANDS, words) else {
            panic!("the manifest's command line does not parse");
        };
        assert_eq!(command.name, "attest");
        for flag in command.flags.iter().filter(|f| f.range.is_some()) {
            parsed.number(flag.name).map_err(|e| e.message).unwrap();
        }
        parsed
    }

    #[test]
    fn the_kubernetes_examples_act_on_the_exit_statuses_and_forbid_overlap() {
        for manifest in [
            include_str!("../../../examples/kubernetes/attest-book.yaml"),
            include_str!("../../../examples/kubernetes/nightly-book.yaml"),
        ] {
            // Exit 2 (usage) is not retried; 3 (stopped) is, as every status but 2 is.
            assert_eq!(args::CliError::usage("x").code, 2);
            assert_eq!(failure::STOPPED, 3);
            assert!(
                manifest
                    .contains("onExitCodes: {containerName: attest, operator: In, values: [2]}")
            );
            assert!(manifest.contains("restartPolicy: Never"));
            assert!(manifest.contains("CYBRID_ATTESTATION_KEY_PASSPHRASE"));
        }
        let eks = include_str!("../../../examples/kubernetes/attest-book-eks.yaml");
        assert!(eks.contains("onExitCodes: {containerName: attest, operator: In, values: [2]}"));
        assert!(eks.contains("serviceAccountName: cybrid-attest"));
        let parsed = manifest_command(&eks.replace("$(JOB_COMPLETION_INDEX)", "7"));
        assert_eq!(
            parsed.value("aws-kms-key"),
            Some("alias/cybrid-attestation")
        );
        assert_eq!(parsed.value("shard"), Some("7/8"));
        let nightly = include_str!("../../../examples/kubernetes/nightly-book.yaml");
        assert!(nightly.contains("concurrencyPolicy: Forbid"));
        let parsed = manifest_command(nightly);
        assert!(parsed.value("journal").is_some() && parsed.value("key").is_some());
        let book = include_str!("../../../examples/kubernetes/attest-book.yaml");
        assert!(book.contains("backoffLimitPerIndex:"));
    }

    #[test]
    fn the_bash_completions_name_every_command_and_flag_and_parse() {
        let script = commands::completions::bash(COMMANDS);
        for c in COMMANDS {
            for word in c.name.split(' ') {
                assert!(script.contains(word), "{}", c.name);
            }
            for f in c.flags {
                assert!(
                    script.contains(&format!("--{}", f.name)),
                    "{} --{}",
                    c.name,
                    f.name
                );
            }
        }
        let mut bash = std::process::Command::new("bash")
            .arg("-n")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(bash.stdin.as_mut().unwrap(), script.as_bytes()).unwrap();
        drop(bash.stdin.take());
        assert!(bash.wait().unwrap().success(), "bash -n refused:\n{script}");
    }

    #[test]
    fn mistyped_commands_and_flags_get_the_nearest_declared_name() {
        let raw = |words: &[&str]| {
            words
                .iter()
                .map(|w| (*w).into())
                .collect::<Vec<std::ffi::OsString>>()
        };
        let message = |words: &[&str]| match args::parse(COMMANDS, raw(words)) {
            Err(e) => e.message,
            Ok(_) => panic!("{words:?} parsed"),
        };
        assert_eq!(
            message(&["records", "lsit"]),
            "unknown command \"records lsit\"; did you mean `records list`? (see --help)"
        );
        assert_eq!(
            message(&["recrods"]),
            "unknown command \"recrods\"; did you mean `records`? (see --help)"
        );
        assert_eq!(
            message(&["records", "list", "--per-pag", "3"]),
            "unknown option --per-pag; did you mean `--per-page`? (see --help)"
        );
        assert_eq!(
            message(&["records", "list", "--zzz"]),
            "unknown option --zzz (see --help)"
        );
        let help = match args::parse(COMMANDS, raw(&["attest", "--help"])) {
            Ok(args::Request::Print(text)) => text,
            _ => panic!("attest --help"),
        };
        assert!(
            help.contains("PKCS#1 [env: CYBRID_ATTESTATION_SIGNING_KEY]"),
            "{help}"
        );
    }

    #[test]
    fn every_flag_is_declared_once_per_command() {
        for c in COMMANDS {
            for (i, f) in c.flags.iter().enumerate() {
                assert!(
                    !c.flags[i + 1..].iter().any(|g| g.name == f.name),
                    "{} --{}",
                    c.name,
                    f.name
                );
                assert!(
                    c.help().contains(&format!("--{}", f.name)),
                    "{} --{}",
                    c.name,
                    f.name
                );
            }
        }
    }
}
