//! Reading log records as a person would: ureq's wire layer writes bytes as hex-dump rows
//! (`0a1b 2c3d … ascii`, 16 bytes a row), so a secret split across rows is found only once
//! the rows are decoded and joined.

#![allow(dead_code)]

/// The records' texts in order: hex-dump rows decoded back to their bytes, any other text
/// as it is, each followed by a newline.
pub fn stream<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = Vec::new();
    for text in texts {
        match hex_row(text) {
            Some(bytes) => out.extend(bytes),
            None => {
                out.extend(text.as_bytes());
                out.push(b'\n');
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The bytes of one hex-dump row: eight groups of four hex digits (`--` past the end), a
/// space, and sixteen characters.
pub fn hex_row(text: &str) -> Option<Vec<u8>> {
    let groups: Vec<&str> = text.split(' ').take(8).collect();
    if groups.len() < 8 || groups.iter().any(|g| g.len() != 4) {
        return None;
    }
    let mut bytes = Vec::new();
    for pair in groups.iter().flat_map(|g| [&g[..2], &g[2..]]) {
        match pair {
            "--" => {}
            hex => bytes.push(u8::from_str_radix(hex, 16).ok()?),
        }
    }
    Some(bytes)
}
