//! Argument parsing with Redis's rules and error replies.

use resp::Reply;
use storage::value::parse_canonical_i64;

use crate::error::{err, CmdResult, NOT_FLOAT, NOT_INTEGER};

/// An integer argument as Redis's `string2ll` reads it (no spaces, no `+`,
/// no leading zeros); `ERR value is not an integer or out of range` otherwise.
pub fn int(arg: &[u8]) -> CmdResult<i64> {
    parse_canonical_i64(arg).ok_or_else(|| err(NOT_INTEGER))
}

/// Like [`int`] with a custom error reply.
pub fn int_or(arg: &[u8], e: &'static str) -> CmdResult<i64> {
    parse_canonical_i64(arg).ok_or_else(|| Reply::error(e))
}

/// A SCAN-family cursor as Redis reads it with `strtoul` on a C string: the
/// argument ends at its first NUL byte; then an optional sign and digits; a
/// negative number wraps around, an empty text (so also one starting with
/// NUL) is 0, and a leading space, other characters or an overflow are
/// refused (the caller replies `ERR invalid cursor`).
pub fn scan_cursor(arg: &[u8]) -> Option<u64> {
    let arg = c_str(arg);
    let (neg, digits) = match arg.first() {
        None => return Some(0),
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        Some(_) => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// A double as Redis's `getDoubleFromObject` reads it: the whole argument must
/// be a number (`inf` and `-inf` allowed, NaN refused), no leading space.
pub fn float(arg: &[u8]) -> CmdResult<f64> {
    parse_float(arg).ok_or_else(|| err(NOT_FLOAT))
}

/// The parsing behind [`float`], without the error reply.
pub fn parse_float(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || arg[0].is_ascii_whitespace() {
        return None;
    }
    let s = std::str::from_utf8(arg).ok()?;
    let v: f64 = s.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    Some(v)
}

/// Case-insensitive comparison of an argument with an ASCII keyword.
#[inline]
pub fn eq(arg: &[u8], kw: &str) -> bool {
    arg.eq_ignore_ascii_case(kw.as_bytes())
}

/// The argument as text (lossy for binary), for values kept as strings
/// (configuration). Error texts echo arguments with [`echo_error`] instead.
pub fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

/// An argument as Redis prints it into an error text with C's `%s`: up to
/// its first NUL byte, every other byte raw.
pub fn c_str(arg: &[u8]) -> &[u8] {
    let end = arg.iter().position(|&c| c == 0).unwrap_or(arg.len());
    &arg[..end]
}

/// Like [`c_str`], and at most `max` bytes (C's `%.*s`).
pub fn c_str_max(arg: &[u8], max: usize) -> &[u8] {
    c_str(&arg[..arg.len().min(max)])
}

/// An error reply that echoes arguments: the parts concatenated, each
/// argument part passed through [`c_str`] (or [`c_str_max`]) by the caller,
/// e.g. `echo_error(&[b"ERR Unsupported option ", c_str(opt)])`. The text
/// stays binary-safe, as Redis's is.
pub fn echo_error(parts: &[&[u8]]) -> Reply {
    Reply::error(parts.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats() {
        assert_eq!(parse_float(b"1.5"), Some(1.5));
        assert_eq!(parse_float(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_float(b"1e3"), Some(1000.0));
        assert_eq!(parse_float(b"nan"), None);
        assert_eq!(parse_float(b" 1"), None);
        assert_eq!(parse_float(b"1 "), None);
        assert_eq!(parse_float(b""), None);
    }

    #[test]
    fn echoed_arguments_stop_at_nul() {
        assert_eq!(c_str(b"ab\0cd"), b"ab");
        assert_eq!(c_str(b"\0\x01\xff"), b"");
        assert_eq!(c_str(b"a\xffb"), b"a\xffb");
        assert_eq!(c_str_max(b"abcdef", 3), b"abc");
        assert_eq!(c_str_max(b"a\0bcdef", 3), b"a");
        assert_eq!(
            echo_error(&[b"ERR Unsupported option ", c_str(b"\xfe\0\x01")]),
            Reply::error(b"ERR Unsupported option \xfe".to_vec())
        );
    }

    #[test]
    fn cursors() {
        assert_eq!(scan_cursor(b"0"), Some(0));
        assert_eq!(scan_cursor(b""), Some(0));
        assert_eq!(scan_cursor(b"+5"), Some(5));
        assert_eq!(scan_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(scan_cursor(b"18446744073709551616"), None);
        assert_eq!(scan_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(scan_cursor(b" 1"), None);
        assert_eq!(scan_cursor(b"+"), None);
        assert_eq!(scan_cursor(b"\0\x01\xff"), Some(0));
        assert_eq!(scan_cursor(b"12\0x"), Some(12));
        assert_eq!(scan_cursor(b"-\0"), None);
    }
}
