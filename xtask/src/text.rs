//! Text forms: redis-cli's argument splitting (`sdssplitargs`), quoting an
//! argument back so that it splits the same way (`sdscatrepr`), and the
//! one-line escaped form of raw reply bytes used in `.expected` files.

use std::fmt::Write as _;

/// One argument of a line split as redis-cli splits it, and whether any
/// part of it was quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub bytes: Vec<u8>,
    pub quoted: bool,
}

/// Splits `line` into arguments exactly as redis-cli's `sdssplitargs` does:
///
/// - arguments are separated by whitespace (`isspace`);
/// - `"double quotes"` understand `\xHH` (two hex digits), `\n`, `\r`, `\t`,
///   `\b`, `\a`, and `\<any>` as `<any>`;
/// - `'single quotes'` understand only `\'`;
/// - a quote may start in the middle of a word (`a"b c"` is `ab c`), but a
///   closing quote must be followed by whitespace or the end of the line;
/// - an unterminated quote is an error.
pub fn split_args(line: &str) -> Result<Vec<Token>, String> {
    let p = line.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < p.len() && is_space(p[i]) {
            i += 1;
        }
        if i >= p.len() {
            return Ok(out);
        }
        let mut cur = Vec::new();
        let mut quoted = false;
        let mut inq = false;
        let mut insq = false;
        loop {
            if inq {
                if i >= p.len() {
                    return Err("unbalanced double quotes".into());
                }
                if p[i] == b'\\'
                    && i + 3 < p.len()
                    && p[i + 1] == b'x'
                    && p[i + 2].is_ascii_hexdigit()
                    && p[i + 3].is_ascii_hexdigit()
                {
                    cur.push(hex(p[i + 2]) * 16 + hex(p[i + 3]));
                    i += 3;
                } else if p[i] == b'\\' && i + 1 < p.len() {
                    i += 1;
                    cur.push(match p[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        c => c,
                    });
                } else if p[i] == b'"' {
                    // The closing quote must be followed by a space or nothing.
                    if i + 1 < p.len() && !is_space(p[i + 1]) {
                        return Err("closing quote must be followed by a space".into());
                    }
                    inq = false;
                    i += 1;
                    break;
                } else {
                    cur.push(p[i]);
                }
            } else if insq {
                if i >= p.len() {
                    return Err("unbalanced single quotes".into());
                }
                if p[i] == b'\\' && i + 1 < p.len() && p[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if p[i] == b'\'' {
                    if i + 1 < p.len() && !is_space(p[i + 1]) {
                        return Err("closing quote must be followed by a space".into());
                    }
                    insq = false;
                    i += 1;
                    break;
                } else {
                    cur.push(p[i]);
                }
            } else {
                if i >= p.len() {
                    break;
                }
                match p[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => {
                        inq = true;
                        quoted = true;
                    }
                    b'\'' => {
                        insq = true;
                        quoted = true;
                    }
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        debug_assert!(!inq && !insq);
        out.push(Token { bytes: cur, quoted });
    }
}

/// `isspace` in the C locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// An argument as it would be typed to redis-cli: bare when that splits back
/// to the same bytes, otherwise in double quotes with `sdscatrepr` escapes.
pub fn quote_arg(arg: &[u8]) -> String {
    let bare = !arg.is_empty()
        && arg
            .iter()
            .all(|&c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\')
        && !arg.starts_with(b"#");
    if bare {
        return String::from_utf8_lossy(arg).into_owned();
    }
    let mut s = String::with_capacity(arg.len() + 2);
    s.push('"');
    for &c in arg {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x07 => s.push_str("\\a"),
            0x08 => s.push_str("\\b"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s.push('"');
    s
}

/// A command line in redis-cli syntax.
pub fn command_line(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|a| quote_arg(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Raw bytes on one line: printable ASCII as is, except `\` (as `\\`) and
/// `<` (as `\x3c`, so that the `<closed>`-style markers of record files are
/// never ambiguous); `\r`, `\n`, `\t` as such; everything else as `\xHH`.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + bytes.len() / 4);
    for &c in bytes {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'<' => s.push_str("\\x3c"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s
}

/// The inverse of [`escape`].
pub fn unescape(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        match b.get(i + 1) {
            Some(b'\\') => out.push(b'\\'),
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'x') => {
                let (Some(&h), Some(&l)) = (b.get(i + 2), b.get(i + 3)) else {
                    return Err(format!("truncated \\x escape at column {}", i + 1));
                };
                if !h.is_ascii_hexdigit() || !l.is_ascii_hexdigit() {
                    return Err(format!("bad \\x escape at column {}", i + 1));
                }
                out.push(hex(h) * 16 + hex(l));
                i += 2;
            }
            _ => return Err(format!("bad escape at column {}", i + 1)),
        }
        i += 2;
    }
    Ok(out)
}

/// `s` cut to about `max` characters, with a note of how much was left out.
pub fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} more bytes)", &s[..end], s.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<Vec<u8>> {
        split_args(s)
            .unwrap()
            .into_iter()
            .map(|t| t.bytes)
            .collect()
    }

    #[test]
    fn splits_like_redis_cli() {
        assert_eq!(
            split("  set  foo bar "),
            vec![b"set".to_vec(), b"foo".to_vec(), b"bar".to_vec()]
        );
        assert_eq!(
            split(r#"set "a b" 'c d'"#)[1..],
            [b"a b".to_vec(), b"c d".to_vec()]
        );
        assert_eq!(split(r#""\x41\x4a\x4" "#), vec![b"AJx4".to_vec()]);
        assert_eq!(
            split(r#""\n\r\t\b\a\q\\\"""#),
            vec![b"\n\r\t\x08\x07q\\\"".to_vec()]
        );
        assert_eq!(
            split(r#"'it\'s' '\n'"#),
            vec![b"it's".to_vec(), b"\\n".to_vec()]
        );
        assert_eq!(split(r#"a"b c"  """#), vec![b"ab c".to_vec(), Vec::new()]);
        assert_eq!(split(""), Vec::<Vec<u8>>::new());
        assert!(split_args(r#""abc"#).is_err());
        assert!(split_args(r#"'abc"#).is_err());
        assert!(split_args(r#""a"b"#).is_err());
        assert!(split_args(r#"'a'b"#).is_err());
        let t = split_args(r#"a "b""#).unwrap();
        assert!(!t[0].quoted && t[1].quoted);
    }

    #[test]
    fn quoting_round_trips() {
        for arg in [
            &b"plain"[..],
            b"",
            b"a b",
            b"\x00\xff\r\n\t\x07\x08",
            b"q\"uo'te\\",
            b"#hash",
            "é".as_bytes(),
        ] {
            let q = quote_arg(arg);
            assert_eq!(split(&q), vec![arg.to_vec()], "{q}");
        }
        assert_eq!(quote_arg(b"foo"), "foo");
        assert_eq!(quote_arg(b""), "\"\"");
    }

    #[test]
    fn escape_round_trips() {
        let all: Vec<u8> = (0..=255u8).collect();
        let e = escape(&all);
        assert!(!e.contains('<') && !e.contains('\n'));
        assert_eq!(unescape(&e).unwrap(), all);
        assert_eq!(escape(b"+OK\r\n"), "+OK\\r\\n");
        assert!(unescape("\\q").is_err());
        assert!(unescape("\\x4").is_err());
    }
}
