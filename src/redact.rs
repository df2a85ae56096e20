//! Server text made safe to show: secrets the server may echo removed from the whole text
//! before it is cut, a cut-off secret's first characters removed too, and control
//! characters escaped so that a terminal shows them instead of obeying them.

/// What stands in for a removed secret.
pub(crate) const REDACTED: &str = "[redacted]";
/// The shortest trailing fragment of a secret that is removed: shorter ones match too much
/// ordinary text to tell a reader anything.
const MIN_FRAGMENT: usize = 4;

/// `text` with every occurrence of each secret replaced.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if text.contains(secret) {
            text = text.replace(secret, REDACTED);
        }
    }
    text
}

/// Removes a trailing fragment of `text` (at least 4 characters) that is the start of a
/// secret: what is left of a secret when the text was cut inside it, by us or the server.
pub(crate) fn redact_tail(text: &mut String, secrets: &[&str]) {
    for secret in secrets.iter().filter(|s| s.len() >= MIN_FRAGMENT) {
        let longest = (MIN_FRAGMENT..secret.len())
            .rev()
            .filter(|n| secret.is_char_boundary(*n))
            .find(|n| text.ends_with(&secret[..*n]));
        if let Some(n) = longest {
            text.truncate(text.len() - n);
            text.push_str(REDACTED);
        }
    }
}

/// Redacts the whole of `text`, then cuts it to at most `limit` bytes (on a character
/// boundary), then redacts a secret's start left at the cut; `…` marks a cut.
pub(crate) fn redact_then_cut(text: &str, secrets: &[&str], limit: usize) -> String {
    let clean = redact(text.trim(), secrets);
    if clean.len() <= limit {
        return clean;
    }
    let mut end = limit;
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    let mut cut = clean[..end].to_owned();
    redact_tail(&mut cut, secrets);
    cut.push('…');
    cut
}

/// `text` with control characters written as escapes (`\u{1b}`, `\n`): safe to print.
pub(crate) fn escape_controls(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A decoder's message without the values it quotes: `invalid type: string "Bearer …",
/// expected u64` becomes `invalid type: string, expected u64`. Field names (after `field`)
/// are kept: they are the model's, and say where the body did not fit.
pub(crate) fn without_values(message: &str) -> String {
    // What follows "expected" is the model's own words: kept whole.
    let (head, tail) = match message.find(", expected") {
        Some(at) => message.split_at(at),
        None => (message, ""),
    };
    let mut out = String::with_capacity(message.len());
    let mut chars = head.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                // A JSON string as the decoder printed it, escapes included.
                let mut escaped = false;
                for d in chars.by_ref() {
                    match (escaped, d) {
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        _ => escaped = false,
                    }
                }
                trim_space(&mut out);
            }
            '`' if out.ends_with("field ") => {
                out.push('`');
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '`' {
                        break;
                    }
                }
            }
            '`' => {
                for d in chars.by_ref() {
                    if d == '`' {
                        break;
                    }
                }
                trim_space(&mut out);
            }
            _ => out.push(c),
        }
    }
    out.push_str(tail);
    out
}

fn trim_space(text: &mut String) {
    while text.ends_with(' ') {
        text.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "client-secret-9b2c7d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d";

    #[test]
    fn a_secret_across_the_cut_leaves_nothing_of_itself() {
        for start in 0..60 {
            let body = format!("{}{SECRET} and more", "x".repeat(start));
            let shown = redact_then_cut(&body, &[SECRET], 40);
            assert!(!shown.contains(&SECRET[..4]), "{start}: {shown}");
            assert!(
                shown.len() <= 40 + REDACTED.len() + '…'.len_utf8(),
                "{start}: {shown}"
            );
        }
        assert_eq!(redact_then_cut("short", &[SECRET], 40), "short");
        assert_eq!(
            redact_then_cut("  é  ", &[], 1),
            "…",
            "never inside a character"
        );
    }

    #[test]
    fn a_servers_own_truncated_echo_is_caught_from_four_characters() {
        let mut text = format!("you sent {}", &SECRET[..4]);
        redact_tail(&mut text, &[SECRET]);
        assert_eq!(text, "you sent [redacted]");
        let mut text = format!("you sent {}", &SECRET[..3]);
        redact_tail(&mut text, &[SECRET]);
        assert_eq!(text, "you sent cli", "three characters say nothing");
        let mut whole = "ends with abc".to_owned();
        redact_tail(&mut whole, &["", "abc"]);
        assert_eq!(
            whole, "ends with abc",
            "secrets under four characters are left alone"
        );
    }

    #[test]
    fn decoder_messages_keep_the_types_and_fields_and_lose_the_values() {
        assert_eq!(
            without_values(
                r#"invalid type: string "Bearer \"tok\" en", expected u64 at line 1 column 40"#
            ),
            "invalid type: string, expected u64 at line 1 column 40"
        );
        assert_eq!(
            without_values("invalid value: integer `-1`, expected u32"),
            "invalid value: integer, expected u32"
        );
        assert_eq!(
            without_values("unknown variant `Bearer tok`, expected `a` or `b`"),
            "unknown variant, expected `a` or `b`"
        );
        assert_eq!(
            without_values("missing field `guid`"),
            "missing field `guid`"
        );
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(escape_controls("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\\n");
        assert_eq!(escape_controls("plain é"), "plain é");
    }
}
