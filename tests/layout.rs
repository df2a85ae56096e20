//! The house rules, checked from the sources themselves: no file under `src/` over 450
//! lines, no function over 80, and every `crate::` or `super::` reference pointing down the
//! layers below (so no module imports one above it, and no two import each other).
//!
//! Test modules (`#[cfg(test)] mod tests` to the end of a file) and `src/properties.rs`
//! (test-only) may reach anywhere and are left out of the layer check.

use std::path::{Path, PathBuf};

/// Each module and its layer: a module may refer only to modules of a lower layer. A new
/// file must be placed here, which is the point: its place in the house is a decision.
const LAYERS: &[(&str, u32)] = &[
    // The pure core, bottom up.
    ("models::enums", 0),
    ("models::error_response", 0),
    ("models::list_params", 0),
    ("rand", 0),
    ("guide", 0),
    ("redact", 0),
    ("sync", 0),
    // Test-only: scratch folders removed when dropped.
    ("scratch", 1),
    ("models::identity_record", 1),
    ("models::verification_key", 1),
    ("models::kyc_enums", 0),
    ("models::kyc_params", 0),
    ("models::bank", 1),
    ("models::customer", 1),
    ("models::identity_verification", 1),
    ("models", 2),
    ("error::detail", 3),
    ("error", 4),
    ("error::kind", 5),
    ("error::display", 5),
    ("person::countries", 1),
    ("person::check", 7),
    ("person", 6),
    ("person::tests", 40),
    ("error::tests", 40),
    ("guid", 5),
    ("keys", 5),
    // The formats and the engines, beneath the keys that use them.
    ("keys::encoding", 5),
    ("keys::engine_rsa", 6),
    ("keys::engine_ring", 6),
    ("keys::engines_agree", 40),
    ("keys::encrypted", 6),
    ("keys::verifying", 6),
    ("jws", 5),
    ("retry", 5),
    ("attestation::check", 6),
    ("attestation", 7),
    ("auth", 6),
    ("dangerous", 8),
    ("signer", 6),
    ("signer::registration", 7),
    ("signer::attestations", 8),
    ("signer::pkcs11", 7),
    ("aws::sigv4", 5),
    ("aws::http", 5),
    ("aws::source", 5),
    ("aws::profile", 5),
    ("aws::signed", 6),
    ("aws::metadata", 6),
    ("aws::profile_step", 6),
    ("aws::process", 7),
    ("aws::sts", 7),
    ("aws::credentials", 8),
    ("aws::kms", 9),
    ("aws", 10),
    ("api::answer", 8),
    ("api", 9),
    ("api::kyc", 10),
    ("pages", 9),
    ("wait", 9),
    // The one door out.
    ("client::stage", 10),
    ("client::url", 10),
    ("client::proxy", 11),
    ("client::resolver", 11),
    ("client::transport", 12),
    ("client::network", 13),
    ("client::call", 14),
    ("client::builder", 15),
    ("client::session", 16),
    ("client", 17),
    ("client::keys", 18),
    ("client::kyc", 18),
    ("book::assess", 18),
    ("book::pace", 18),
    ("book::options", 18),
    ("book::entry", 17),
    ("book::hold", 17),
    ("book::journal", 18),
    ("book::report", 19),
    ("book::customer", 19),
    ("book::setup", 20),
    ("book::workers", 20),
    ("book::group", 20),
    ("book::coordinator", 21),
    // Taking customers in: part of the coordinator's state, in a file of its own.
    ("book::coordinator::intake", 22),
    ("book::coordinator::stops", 22),
    ("book::coordinator::progress", 22),
    // Tests of the coordinator's private bounds: test code, above everything it drives.
    ("book::coordinator::tests", 40),
    ("book::journal::tests", 40),
    ("book::engine", 22),
    ("book", 23),
    ("book::ensure", 24),
    // The extras.
    ("emulator::http", 26),
    ("emulator::limit", 26),
    ("emulator::paths", 26),
    ("emulator::read", 27),
    ("emulator::faults", 27),
    ("emulator::oauth", 27),
    ("emulator::state", 27),
    ("emulator::bodies", 27),
    ("emulator::kyc", 28),
    ("emulator::server", 28),
    ("emulator::routes", 29),
    ("emulator", 30),
    ("lib", 31),
    // The command line, a crate of its own.
    ("bin::suggest", 0),
    ("bin::failure", 0),
    ("bin::signals", 1),
    ("bin::args", 1),
    ("bin::output", 2),
    ("bin::commands", 3),
    ("bin::commands::book_file", 3),
    ("bin::commands::key_source", 3),
    ("bin::commands::progress_log", 3),
    ("bin::commands::batch", 4),
    ("bin::commands::attest", 5),
    ("bin::commands::emulator", 4),
    ("bin::commands::completions", 4),
    ("bin::commands::jwt", 4),
    ("bin::commands::journal", 4),
    ("bin::commands::keys", 4),
    ("bin::commands::kyc", 4),
    ("bin::commands::records", 4),
    ("bin::demo", 4),
    ("bin::main", 6),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// `src/client/mod.rs` → `client`; `src/bin/cybrid-identity/commands/jwt.rs` →
/// `bin::commands::jwt`.
fn module_of(path: &str) -> String {
    let inner = path.strip_prefix("src/").unwrap().trim_end_matches(".rs");
    let inner = match inner.strip_prefix("bin/cybrid-identity/") {
        Some(bin) => format!("bin/{bin}"),
        None => inner.to_owned(),
    };
    let inner = inner.strip_suffix("/mod").unwrap_or(&inner).to_owned();
    inner.replace('/', "::")
}

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// The code before the file's test module, without comments (a doc link to a module above
/// is documentation, not a dependency).
fn code_of(text: &str) -> String {
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules a file refers to through `crate::` and `super::`, resolved to the longest
/// known module path.
fn references(module: &str, code: &str) -> Vec<String> {
    let in_bin = module.starts_with("bin::");
    let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
    let mut found = Vec::new();
    for (prefix, base) in [
        ("crate::", if in_bin { "bin" } else { "" }),
        ("super::", parent),
    ] {
        for (at, _) in code.match_indices(prefix) {
            if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &code[at + prefix.len()..];
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            if !base.is_empty() {
                segments.insert(0, base);
            }
            // A name followed by `::` is a module: it must have a layer.
            let first_module = segments.len() - usize::from(!path.ends_with("::"));
            if first_module > usize::from(!base.is_empty()) {
                let named = segments[..=usize::from(!base.is_empty())].join("::");
                assert!(
                    layer(&named).is_some() || named.chars().any(char::is_uppercase),
                    "{module} refers to module {named}, which has no layer in tests/layout.rs"
                );
            }
            // The longest prefix that names a module; `super::{..}` names the parent itself.
            let target = (1..=segments.len())
                .rev()
                .map(|n| segments[..n].join("::"))
                .find(|m| layer(m).is_some())
                .unwrap_or_else(|| {
                    if base.is_empty() {
                        "lib".to_owned()
                    } else {
                        base.to_owned()
                    }
                });
            found.push(target);
        }
    }
    found
}

#[test]
fn no_file_over_450_lines() {
    for (path, text) in sources() {
        let lines = text.lines().count();
        assert!(
            lines <= 450,
            "{path} has {lines} lines: split it by concept"
        );
    }
}

/// Each function's first line (1-based) and length in lines, from its signature to the
/// brace that rustfmt puts at the signature's indentation. Declarations without a body
/// (trait methods) have no such brace before the next item and are skipped.
fn function_lengths(text: &str) -> Vec<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let signature = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "const fn ",
            "pub const fn ",
        ]
        .iter()
        .any(|p| trimmed.starts_with(p));
        // No body (a trait method) or an empty one on the signature's line: nothing to measure.
        if !signature || trimmed.ends_with(';') || trimmed.ends_with("{}") {
            continue;
        }
        let close = format!("{}}}", &line[..line.len() - trimmed.len()]);
        if let Some(end) = lines[i..].iter().position(|l| *l == close) {
            found.push((i + 1, end + 1));
        }
    }
    found
}

#[test]
fn no_function_over_80_lines() {
    let mut longest = (0, String::new());
    for (path, text) in sources() {
        for (line, length) in function_lengths(&text) {
            if length > longest.0 {
                longest = (length, format!("{path}:{line}"));
            }
            assert!(
                length <= 80,
                "{path}:{line} is a function of {length} lines: over 80"
            );
        }
    }
    println!("longest function: {} lines at {}", longest.0, longest.1);
}

#[test]
fn every_reference_points_down_the_layers() {
    let mut checked = 0;
    for (path, text) in sources() {
        if path == "src/properties.rs" {
            continue;
        }
        let module = module_of(&path);
        let own = layer(&module)
            .unwrap_or_else(|| panic!("{path}: module {module} has no layer in tests/layout.rs"));
        for target in references(&module, &code_of(&text)) {
            if target == module {
                continue;
            }
            let theirs = layer(&target).unwrap_or_else(|| panic!("{path}: {target} has no layer"));
            assert!(
                theirs < own,
                "{path} ({module}, layer {own}) refers to {target} (layer {theirs}): not below it"
            );
            checked += 1;
        }
    }
    println!("{checked} crate:: and super:: references, each pointing down");
    assert!(
        checked > 100,
        "the scan found only {checked} references: is it reading the sources?"
    );
}

#[test]
fn the_function_scanner_measures_bodies() {
    let text = "fn a() {\n    x;\n}\n\nimpl T {\n    pub(crate) fn b(\n        y: u8,\n    ) {\n        if y {\n        }\n    }\n    fn c();\n}\n";
    assert_eq!(function_lengths(text), vec![(1, 3), (6, 6)]);
}

#[test]
fn the_scanner_resolves_paths_as_rust_does() {
    assert_eq!(module_of("src/client/mod.rs"), "client");
    assert_eq!(
        module_of("src/bin/cybrid-identity/commands/jwt.rs"),
        "bin::commands::jwt"
    );
    assert_eq!(module_of("src/bin/cybrid-identity/main.rs"), "bin::main");
    assert_eq!(
        references(
            "client::builder",
            "use super::call::SleepFn;\nuse crate::api::check;\nx.my_crate::y"
        ),
        vec!["api", "client::call"]
    );
    assert_eq!(
        references(
            "bin::commands::jwt",
            "use super::{BANK};\nuse crate::args::Flag;"
        ),
        vec!["bin::args", "bin::commands"]
    );
}

#[test]
#[should_panic(expected = "refers to module client::nothere, which has no layer")]
fn a_module_without_a_layer_is_refused() {
    references("client::builder", "use super::nothere::Thing;");
}

/// Every scratch folder of the suite goes through a guard that removes it (a run used to
/// leave about 150 behind): `temp_dir()` appears only in the guards, and in the one test
/// that mounts a tmpfs and removes it by hand.
#[test]
fn scratch_folders_are_made_only_by_guards_that_remove_them() {
    let allowed = [
        "src/scratch.rs",                                // ScratchFile, removed on drop
        "src/bin/cybrid-identity/commands/book_file.rs", // its test helper removes its folder
        "tests/support/cli.rs",                          // Scratch, removed on drop
        "tests/support/scratch.rs",                      // TempDir, removed on drop
        "tests/cli_usage.rs", // a tmpfs mount point, unmounted and removed
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    let mut outside = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if name == "tests/layout.rs" {
            continue;
        }
        if text.contains(&["temp", "_dir()"].concat()) && !allowed.contains(&name.as_str()) {
            outside.push(name);
        }
    }
    assert!(
        outside.is_empty(),
        "scratch folders made without a guard that removes them: {outside:?}"
    );
}
