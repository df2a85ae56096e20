//! `completions bash|zsh|fish`: shell completion scripts, generated from the same command
//! declarations that parse the arguments, so they cannot name a flag that does not exist.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use crate::args::{Args, CliError, Command};
use crate::output::out;

pub const COMPLETIONS: Command = Command {
    name: "completions",
    summary: "print a shell completion script (bash, zsh or fish)",
    operand: Some("SHELL"),
    flags: &[],
    about: "bash:  cybrid-identity completions bash > ~/.local/share/bash-completion/completions/cybrid-identity\n\
            zsh:   cybrid-identity completions zsh > \"${fpath[1]}/_cybrid-identity\"\n\
            fish:  cybrid-identity completions fish > ~/.config/fish/completions/cybrid-identity.fish",
    run: completions,
};

fn completions(args: &Args) -> Result<ExitCode, CliError> {
    let commands = args.commands();
    let script = match args.operand() {
        "bash" => bash(commands),
        "zsh" => format!(
            "#compdef cybrid-identity\nautoload -U +X bashcompinit && bashcompinit\n{}",
            bash(commands)
        ),
        "fish" => fish(commands),
        other => {
            return Err(CliError::usage(format!(
                "SHELL is bash, zsh or fish, got {other:?}"
            )));
        }
    };
    out!("{}", script.trim_end());
    Ok(ExitCode::SUCCESS)
}

/// The first words (`demo`, `records`, …), each once, in declaration order.
fn first_words(commands: &[Command]) -> Vec<&'static str> {
    let mut words: Vec<&'static str> = Vec::new();
    for c in commands {
        let first = c.name.split(' ').next().unwrap_or(c.name);
        if !words.contains(&first) {
            words.push(first);
        }
    }
    words
}

fn flags_of(command: &Command) -> String {
    let mut flags: Vec<String> = command
        .flags
        .iter()
        .map(|f| format!("--{}", f.name))
        .collect();
    flags.extend(["--json", "--help"].map(String::from));
    flags.join(" ")
}

pub fn bash(commands: &[Command]) -> String {
    let mut s = String::from(
        "_cybrid_identity() {\n    local cur=${COMP_WORDS[COMP_CWORD]}\n    local words=\"${COMP_WORDS[*]:1:COMP_CWORD-1}\"\n    local choices\n    case \"$words\" in\n",
    );
    // Longest names first, so `records list --x` matches `records list*` before `records*`.
    let mut by_length: Vec<&Command> = commands.iter().collect();
    by_length.sort_by_key(|c| std::cmp::Reverse(c.name.len()));
    for c in by_length {
        let _ = writeln!(
            s,
            "        \"{0}\"|\"{0} \"*) choices=\"{1}\" ;;",
            c.name,
            flags_of(c)
        );
    }
    for group in first_words(commands) {
        let subs: Vec<&str> = commands
            .iter()
            .filter_map(|c| c.name.strip_prefix(group)?.strip_prefix(' '))
            .collect();
        if !subs.is_empty() {
            let _ = writeln!(s, "        \"{group}\") choices=\"{}\" ;;", subs.join(" "));
        }
    }
    let _ = writeln!(
        s,
        "        \"\") choices=\"{} --help --version\" ;;\n    esac\n    COMPREPLY=($(compgen -W \"$choices\" -- \"$cur\"))\n}}\ncomplete -F _cybrid_identity cybrid-identity",
        first_words(commands).join(" ")
    );
    s
}

fn fish(commands: &[Command]) -> String {
    let words = first_words(commands);
    let mut s = format!(
        "complete -c cybrid-identity -f\ncomplete -c cybrid-identity -n '__fish_use_subcommand' -a '{}'\n",
        words.join(" ")
    );
    for c in commands {
        let parts: Vec<&str> = c.name.split(' ').collect();
        let seen = format!("__fish_seen_subcommand_from {}", parts[0]);
        if let [_, sub] = parts[..] {
            let _ = writeln!(
                s,
                "complete -c cybrid-identity -n '{seen}; and not __fish_seen_subcommand_from {sub}' -a '{sub}'"
            );
        }
        let condition = parts
            .iter()
            .map(|p| format!("__fish_seen_subcommand_from {p}"))
            .collect::<Vec<_>>()
            .join("; and ");
        for f in c.flags {
            let _ = writeln!(
                s,
                "complete -c cybrid-identity -n '{condition}' -l {} -d '{}'",
                f.name,
                f.help.replace('\'', "\\'")
            );
        }
    }
    s
}
