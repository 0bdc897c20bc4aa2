//! Splitting an input line into arguments, as `redis-cli` does with
//! `sdssplitargs()`.
//!
//! Arguments are separated by whitespace. A double-quoted argument may contain
//! the escapes `\n`, `\r`, `\t`, `\b`, `\a`, `\xHH` and `\<any>` (the character
//! itself); a single-quoted one only `\'`. A closing quote must be followed by
//! whitespace or the end of the line, and an unterminated quote makes the
//! whole line invalid. Quotes may start in the middle of an argument
//! (`foo"bar baz"` is the single argument `foobar baz`).

/// C's `isspace()` in the "C" locale.
pub fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits `line` into arguments; `None` when the quoting is invalid
/// (`redis-cli` answers such a line with `Invalid argument(s)`). A line of
/// blanks gives no arguments. As in C, the line ends at a NUL byte.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = match line.iter().position(|&c| c == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let n = line.len();
    // The byte at `k`, or 0 past the end, like reading a C string.
    let at = |k: usize| if k < n { line[k] } else { 0 };
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut current = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        let mut done = false;
        while !done {
            let c = at(i);
            if in_double {
                let hex = (hex_value(at(i + 2)), hex_value(at(i + 3)));
                if let (b'\\', b'x', (Some(hi), Some(lo))) = (c, at(i + 1), hex) {
                    current.push(hi * 16 + lo);
                    i += 3;
                } else if c == b'\\' && at(i + 1) != 0 {
                    i += 1;
                    current.push(match at(i) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    // The closing quote must be followed by a space or nothing.
                    if at(i + 1) != 0 && !is_space(at(i + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None; // unterminated quotes
                } else {
                    current.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(i + 1) == b'\'' {
                    i += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if at(i + 1) != 0 && !is_space(at(i + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => current.push(c),
                }
            }
            if i < n {
                i += 1;
            }
        }
        args.push(current);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Option<Vec<String>> {
        split_args(s.as_bytes()).map(|v| {
            v.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
    }

    fn ok(s: &str) -> Vec<String> {
        split(s).unwrap_or_else(|| panic!("{s:?} should split"))
    }

    #[test]
    fn plain_words() {
        assert_eq!(ok("set foo bar"), ["set", "foo", "bar"]);
        assert_eq!(ok("  set\tfoo   bar  "), ["set", "foo", "bar"]);
        assert_eq!(ok("get\r\n"), ["get"]);
    }

    #[test]
    fn blank_lines_give_nothing() {
        assert!(ok("").is_empty());
        assert!(ok("   \t ").is_empty());
        assert!(ok("\x0b\x0c").is_empty());
    }

    #[test]
    fn double_quotes_and_escapes() {
        assert_eq!(ok(r#"set "foo bar" x"#), ["set", "foo bar", "x"]);
        assert_eq!(ok(r#""a\nb\r\t\"c\\""#), ["a\nb\r\t\"c\\"]);
        assert_eq!(ok(r#""\a\b""#), ["\x07\x08"]);
        assert_eq!(ok(r#""\x41\x62""#), ["Ab"]);
        // Not a valid hex escape: the backslash escapes the `x`.
        assert_eq!(ok(r#""\xZZ""#), ["xZZ"]);
        assert_eq!(ok(r#""\q""#), ["q"]);
        assert_eq!(ok(r#""""#), [""]);
        assert_eq!(ok(r#"x "" y"#), ["x", "", "y"]);
    }

    #[test]
    fn binary_hex_escapes() {
        let v = split_args(br#"set k "\x00\xff\xFE""#).unwrap();
        assert_eq!(v[2], vec![0x00, 0xff, 0xfe]);
    }

    #[test]
    fn single_quotes() {
        assert_eq!(ok(r"'foo bar'"), ["foo bar"]);
        assert_eq!(ok(r"'it\'s'"), ["it's"]);
        // Other escapes are kept literally.
        assert_eq!(ok(r"'a\nb'"), [r"a\nb"]);
        assert_eq!(ok(r#"'say "hi"'"#), [r#"say "hi""#]);
    }

    #[test]
    fn quotes_inside_a_word() {
        assert_eq!(ok(r#"foo"bar baz""#), ["foobar baz"]);
        assert_eq!(ok(r"a'b c'"), ["ab c"]);
    }

    #[test]
    fn invalid_quoting() {
        assert_eq!(split(r#"set "foo"#), None);
        assert_eq!(split(r"set 'foo"), None);
        assert_eq!(split(r#""foo"bar"#), None);
        assert_eq!(split(r"'foo'bar"), None);
        assert_eq!(split(r#""foo\"#), None);
    }

    #[test]
    fn closing_quote_followed_by_blank_or_end() {
        assert_eq!(ok("\"a\"\tb"), ["a", "b"]);
        assert_eq!(ok("'a'"), ["a"]);
    }

    #[test]
    fn line_ends_at_nul() {
        assert_eq!(
            split_args(b"get a\0b").unwrap(),
            vec![b"get".to_vec(), b"a".to_vec()]
        );
    }
}
