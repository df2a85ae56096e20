//! Each command declared once, as data ([`Command`], [`Flag`]): parsing, the allowed-flag
//! check, `--help` and the README's command table all come from that declaration.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::process::ExitCode;

pub use crate::failure::{CliError, error_chain};
use crate::suggest::closest;

/// A flag a command takes.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// Without the leading `--`.
    pub name: &'static str,
    /// The value's placeholder (`GUID`, `N`, `FILE`), or `None` for a switch.
    pub value: Option<&'static str>,
    /// For numbers: the smallest and largest value taken.
    pub range: Option<(u64, u64)>,
    /// Shown bare in the usage line (the command cannot run without it) or in brackets.
    pub required: bool,
    /// May be given more than once (the values are joined with commas).
    pub repeats: bool,
    /// One line for `--help`.
    pub help: &'static str,
    /// The environment variable used when the flag is absent, shown in `--help`.
    pub env: Option<&'static str>,
}

impl Flag {
    /// An optional flag taking a value.
    pub const fn value(name: &'static str, placeholder: &'static str, help: &'static str) -> Self {
        Flag {
            name,
            value: Some(placeholder),
            range: None,
            required: false,
            repeats: false,
            help,
            env: None,
        }
    }

    /// An optional switch.
    pub const fn switch(name: &'static str, help: &'static str) -> Self {
        Flag {
            value: None,
            ..Flag::value(name, "", help)
        }
    }

    /// An optional number from `min` to `max`.
    pub const fn number(name: &'static str, min: u64, max: u64, help: &'static str) -> Self {
        Flag {
            range: Some((min, max)),
            ..Flag::value(name, "N", help)
        }
    }

    /// The same flag, required.
    pub const fn required(self) -> Self {
        Flag {
            required: true,
            ..self
        }
    }

    /// The same flag, falling back to the environment variable `var`.
    pub const fn env(self, var: &'static str) -> Self {
        Flag {
            env: Some(var),
            ..self
        }
    }

    /// The same flag, repeatable.
    pub const fn repeats(self) -> Self {
        Flag {
            repeats: true,
            ..self
        }
    }

    fn synopsis(&self) -> String {
        let bare = match self.value {
            Some(v) => format!("--{} {v}", self.name),
            None => format!("--{}", self.name),
        };
        let once = if self.required {
            bare
        } else {
            format!("[{bare}]")
        };
        if self.repeats { once + "..." } else { once }
    }
}

/// One command: its words, what it takes, and the function that runs it.
#[derive(Debug)]
pub struct Command {
    /// `demo`, or a group and a subcommand: `records list`.
    pub name: &'static str,
    /// One line for the command table and the group's `--help`.
    pub summary: &'static str,
    /// The positional argument it takes (`GUID`, `TOKEN`), if any.
    pub operand: Option<&'static str>,
    /// Its flags (besides the global `--json`, `--help`, `--version`).
    pub flags: &'static [Flag],
    /// More to say in `--help`, after the flags.
    pub about: &'static str,
    /// Runs it.
    pub run: fn(&Args) -> Result<ExitCode, CliError>,
}

impl Command {
    /// `cybrid-identity records list [--customer GUID] …`
    pub fn usage(&self) -> String {
        let mut line = format!("cybrid-identity {}", self.name);
        if let Some(operand) = self.operand {
            line.push(' ');
            line.push_str(operand);
        }
        for flag in self.flags {
            line.push(' ');
            line.push_str(&flag.synopsis());
        }
        line
    }

    /// The text of `--help`.
    pub fn help(&self) -> String {
        let mut text = format!("USAGE: {}\n\n{}\n", self.usage(), self.summary);
        if !self.flags.is_empty() {
            text.push_str("\nFLAGS:\n");
            for flag in self.flags {
                let _ = write!(text, "  {:<24} {}", flag.synopsis(), flag.help);
                if let Some(var) = flag.env {
                    let _ = write!(text, " [env: {var}]");
                }
                text.push('\n');
            }
        }
        text.push_str(
            "  [--json]                 machine-readable output (errors too, on stderr)\n",
        );
        if !self.about.is_empty() {
            let _ = write!(text, "\n{}\n", self.about);
        }
        text
    }
}

/// What the user asked for.
pub enum Request<'t> {
    /// Run this command.
    Run(&'t Command, Args),
    /// Print this text and exit 0.
    Print(String),
}

/// The parsed flags and operand of one command.
#[derive(Debug, Default)]
pub struct Args {
    pub json: bool,
    operand: Option<String>,
    values: HashMap<&'static str, String>,
    switches: Vec<&'static str>,
    flags: &'static [Flag],
    commands: &'static [Command],
}

impl Args {
    /// Every command the program declares (for `completions`).
    pub fn commands(&self) -> &'static [Command] {
        self.commands
    }

    pub fn has(&self, switch: &str) -> bool {
        self.switches.contains(&switch)
    }

    pub fn value(&self, flag: &str) -> Option<&str> {
        self.values.get(flag).map(String::as_str)
    }

    pub fn required(&self, flag: &str) -> Result<&str, CliError> {
        self.value(flag)
            .ok_or_else(|| CliError::usage(format!("--{flag} is required")))
    }

    /// The command's operand (checked present by the parser when the command takes one).
    pub fn operand(&self) -> &str {
        self.operand.as_deref().unwrap_or_default()
    }

    /// The operand as a guid, checked before any client is built or request sent.
    pub fn guid_operand(&self) -> Result<&str, CliError> {
        guid("GUID", self.operand())
    }

    /// A required flag holding a guid.
    pub fn required_guid(&self, flag: &str) -> Result<&str, CliError> {
        guid(&format!("--{flag}"), self.required(flag)?)
    }

    /// A number flag, checked against the range its declaration gives.
    pub fn number(&self, flag: &str) -> Result<Option<u64>, CliError> {
        let Some(text) = self.value(flag) else {
            return Ok(None);
        };
        let (min, max) = self
            .flags
            .iter()
            .find(|f| f.name == flag)
            .and_then(|f| f.range)
            .unwrap_or((0, u64::MAX));
        match text.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(CliError::usage(format!(
                "--{flag} takes a number from {min} to {max}, got {text:?}"
            ))),
        }
    }
}

/// `value`, if it is a guid; a usage error naming `what` otherwise.
fn guid<'v>(what: &str, value: &'v str) -> Result<&'v str, CliError> {
    if cybrid_identity::is_guid(value) {
        return Ok(value);
    }
    let shown: String = value.chars().take(40).collect();
    Err(CliError::usage(format!(
        "{what} takes a guid (32 ASCII letters or digits), got {shown:?}"
    )))
}

/// The top-level usage, from the table.
pub fn top_usage(commands: &[Command]) -> String {
    let mut text = String::from(
        "cybrid-identity: attest customers' identities to Cybrid's Bank API\n\n\
         USAGE: cybrid-identity [--json] <COMMAND> ...\n\nCOMMANDS:\n",
    );
    for c in commands {
        let _ = writeln!(text, "  {:<16} {}", c.name, c.summary);
    }
    text.push_str(
        "\nEvery command takes --help; --json prints machine-readable output; --version.\n\
         records, keys and attest read CYBRID_ENVIRONMENT, CYBRID_BASE_URL, CYBRID_TOKEN_URL,\n\
         CYBRID_ACCESS_TOKEN, CYBRID_CLIENT_ID, CYBRID_CLIENT_SECRET and CYBRID_SCOPES.",
    );
    text
}

/// The `--help` of a group: its subcommands, one line each.
fn group_help(commands: &[Command], group: &str) -> String {
    let mut text = format!("USAGE: cybrid-identity {group} <SUBCOMMAND> ...\n\nSUBCOMMANDS:\n");
    for c in commands
        .iter()
        .filter(|c| c.name.split(' ').next() == Some(group))
    {
        let sub = c.name.split(' ').nth(1).unwrap_or_default();
        let _ = writeln!(text, "  {sub:<10} {}", c.summary);
    }
    text.push_str("\nEach subcommand takes --help.");
    text
}

/// The README's command table (a test holds the README to it).
#[cfg(test)]
pub fn markdown_table(commands: &[Command]) -> String {
    let mut text = String::from("| command | what |\n|---|---|\n");
    for c in commands {
        let usage = c
            .usage()
            .replacen("cybrid-identity ", "", 1)
            .replace('|', "\\|");
        let _ = writeln!(text, "| `{usage}` | {} |", c.summary);
    }
    text
}

/// Reads the command line against `commands`.
pub fn parse<'t>(
    commands: &'static [Command],
    raw: impl IntoIterator<Item = OsString>,
) -> Result<Request<'t>, CliError> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(raw);
    let mut words: Vec<String> = Vec::new();
    let mut command: Option<&Command> = None;
    let mut args = Args::default();
    let mut help = false;
    while let Some(arg) = parser.next()? {
        match arg {
            Long("json") => args.json = true,
            Long("help") | Short('h') => help = true,
            Long("version") | Short('V') => {
                return Ok(Request::Print(format!(
                    "cybrid-identity {}",
                    env!("CARGO_PKG_VERSION")
                )));
            }
            Long(name) => {
                let Some(c) = command else {
                    return Err(CliError::usage(format!("--{name} must follow a command")));
                };
                let name = name.to_owned();
                take_flag(commands, c, &mut args, &name, &mut parser)?;
            }
            Value(word) => {
                let word = word.string()?;
                match command {
                    Some(c) if c.operand.is_some() && args.operand.is_none() => {
                        args.operand = Some(word);
                    }
                    Some(_) => {
                        return Err(CliError::usage(format!("unexpected argument {word:?}")));
                    }
                    None => {
                        words.push(word);
                        command = resolve(commands, &words)?;
                    }
                }
            }
            other => return Err(other.unexpected().into()),
        }
    }
    let Some(command) = command else {
        return match words.first() {
            None if help => Ok(Request::Print(top_usage(commands))),
            None => Err(CliError::usage("a command is required")),
            Some(group) if help => Ok(Request::Print(group_help(commands, group))),
            Some(group) => Err(CliError::usage(format!("{group} needs a subcommand"))),
        };
    };
    if help {
        return Ok(Request::Print(command.help()));
    }
    if let (Some(name), None) = (command.operand, &args.operand) {
        return Err(CliError::usage(format!("{name} is required")));
    }
    args.flags = command.flags;
    args.commands = commands;
    Ok(Request::Run(command, args))
}

/// The command the words so far name, `None` while a group still needs its subcommand.
fn resolve<'t>(commands: &'t [Command], words: &[String]) -> Result<Option<&'t Command>, CliError> {
    let name = words.join(" ");
    if let Some(c) = commands.iter().find(|c| c.name == name) {
        return Ok(Some(c));
    }
    let is_group = commands
        .iter()
        .any(|c| c.name.split(' ').next() == Some(words[0].as_str()) && c.name.contains(' '));
    if is_group && words.len() == 1 {
        return Ok(None);
    }
    // The names a word in that place could have been: the group's subcommands, or every
    // command's first word.
    let (prefix, typed) = match words {
        [group, sub] => (format!("{group} "), sub.as_str()),
        _ => (String::new(), words[words.len() - 1].as_str()),
    };
    let names = commands.iter().filter_map(|c| {
        let rest = c.name.strip_prefix(prefix.as_str())?;
        Some(rest.split(' ').next().unwrap_or(rest))
    });
    let hint = closest(typed, names)
        .map(|n| format!("; did you mean `{prefix}{n}`?"))
        .unwrap_or_default();
    Err(CliError::usage(format!("unknown command {name:?}{hint}")))
}

fn take_flag(
    commands: &[Command],
    command: &Command,
    args: &mut Args,
    name: &str,
    parser: &mut lexopt::Parser,
) -> Result<(), CliError> {
    let Some(flag) = command.flags.iter().find(|f| f.name == name) else {
        let known = commands
            .iter()
            .flat_map(|c| c.flags)
            .any(|f| f.name == name);
        return Err(CliError::usage(if known {
            format!("--{name} does not apply to this command")
        } else {
            let hint = closest(name, command.flags.iter().map(|f| f.name))
                .map(|n| format!("; did you mean `--{n}`?"))
                .unwrap_or_default();
            format!("unknown option --{name}{hint}")
        }));
    };
    if flag.value.is_none() {
        args.switches.push(flag.name);
        return Ok(());
    }
    let value = lexopt::ValueExt::string(parser.value()?)?;
    match args.values.get_mut(flag.name) {
        Some(existing) if flag.repeats => {
            existing.push(',');
            existing.push_str(&value);
        }
        Some(_) => return Err(CliError::usage(format!("--{name} was given twice"))),
        None => {
            args.values.insert(flag.name, value);
        }
    }
    Ok(())
}
