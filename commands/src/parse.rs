//! Argument parsing with Redis's rules and error replies.

use bytes::Bytes;
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

/// C's `strtod` on the argument as a C string (up to its first NUL byte),
/// as Redis calls it on a command argument: the value and whether `errno`
/// would be `ERANGE` (an overflow to infinity, an underflow to zero or to a
/// subnormal), when the whole text was consumed; `None` when it was not.
/// Leading white space is skipped, an empty text reads as 0 (the end
/// pointer stays on the NUL), hexadecimal floats, `inf`, `infinity` and
/// `nan` are read (NaN comes back as a value: callers refuse it).
pub fn strtod(arg: &[u8]) -> Option<(f64, bool)> {
    // Fast path for plain integers of up to 15 digits (exact as doubles),
    // the usual scores and increments: what strtod would return.
    if arg.len() <= 15 {
        let (neg, digits) = match arg.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, arg),
        };
        if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
            let v = digits
                .iter()
                .fold(0u64, |v, &c| v * 10 + u64::from(c - b'0')) as f64;
            return Some((if neg { -v } else { v }, false));
        }
    }
    let s = c_str(arg);
    if s.is_empty() {
        return Some((0.0, false));
    }
    let start = s.iter().position(|&c| !is_c_space(c))?;
    let t = &s[start..];
    let (neg, body) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (v, erange) = if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        hex_float(&body[2..])?
    } else {
        let text = std::str::from_utf8(body).ok()?;
        if text.starts_with(['+', '-']) {
            return None;
        }
        let v: f64 = text.parse().ok()?;
        let literal_inf = text.bytes().any(|c| (c | 0x20) == b'i');
        let nonzero = text
            .bytes()
            .take_while(|c| !matches!(c, b'e' | b'E'))
            .any(|c| c.is_ascii_digit() && c != b'0');
        let overflow = v.is_infinite() && !literal_inf;
        let underflow = (v == 0.0 && nonzero) || (v != 0.0 && v.abs() < f64::MIN_POSITIVE);
        (v, overflow || underflow)
    };
    Some((if neg { -v } else { v }, erange))
}

/// C's `isspace` in the C locale.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// A C99 hexadecimal float after its `0x`: hex digits, an optional point
/// and fraction, an optional binary exponent `p[+-]digits`; the value and
/// whether it over- or underflowed.
fn hex_float(s: &[u8]) -> Option<(f64, bool)> {
    let mut i = 0;
    let mut mant = 0f64;
    let mut digits = 0;
    let mut exp: i64 = 0;
    while i < s.len() && s[i].is_ascii_hexdigit() {
        mant = mant * 16.0 + f64::from((s[i] as char).to_digit(16)?);
        digits += 1;
        i += 1;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && s[i].is_ascii_hexdigit() {
            mant = mant * 16.0 + f64::from((s[i] as char).to_digit(16)?);
            exp -= 4;
            digits += 1;
            i += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < s.len() && (s[i] | 0x20) == b'p' {
        i += 1;
        let mut eneg = false;
        if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
            eneg = s[i] == b'-';
            i += 1;
        }
        let estart = i;
        let mut e: i64 = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            e = (e * 10 + i64::from(s[i] - b'0')).min(100_000);
            i += 1;
        }
        if i == estart {
            return None;
        }
        exp += if eneg { -e } else { e };
    }
    if i != s.len() {
        return None;
    }
    let v = mant * 2f64.powi(exp.clamp(-5000, 5000) as i32);
    let erange = v.is_infinite() || (mant != 0.0 && v.abs() < f64::MIN_POSITIVE);
    Some((v, erange))
}

/// Case-insensitive comparison of an argument with an ASCII keyword.
#[inline]
pub fn eq(arg: &[u8], kw: &str) -> bool {
    arg.eq_ignore_ascii_case(kw.as_bytes())
}

/// [`eq`] on the argument as a C string, for the options Redis compares
/// with `strcasecmp`: `WITHSCORES\0x` is `WITHSCORES`.
#[inline]
pub fn eq_c(arg: &[u8], kw: &str) -> bool {
    eq(c_str(arg), kw)
}

/// The `[MATCH pattern] [COUNT count]` options of HSCAN, SSCAN and ZSCAN,
/// read from `args[from..]` as Redis reads them: keywords compared as C
/// strings, COUNT a positive integer, any other word a syntax error. A lone
/// `*` pattern matches everything and is returned as None (no matching).
pub fn scan_options(args: &[Bytes], from: usize) -> CmdResult<(usize, Option<&[u8]>)> {
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut i = from;
    while i < args.len() {
        let has_value = i + 1 < args.len();
        if eq_c(&args[i], "count") && has_value {
            count = int(&args[i + 1])?;
            if count < 1 {
                return Err(err(crate::error::SYNTAX));
            }
        } else if eq_c(&args[i], "match") && has_value {
            let p = &args[i + 1][..];
            pattern = if p == b"*" { None } else { Some(p) };
        } else {
            return Err(err(crate::error::SYNTAX));
        }
        i += 2;
    }
    Ok((count as usize, pattern))
}

/// A SCAN-family reply: the next cursor as a bulk string, then the items.
pub fn scan_reply(next: u64, items: Vec<resp::Reply>) -> resp::Reply {
    let mut buf = itoa::Buffer::new();
    resp::Reply::Array(vec![
        resp::Reply::bulk_copy(buf.format(next).as_bytes()),
        resp::Reply::Array(items),
    ])
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

/// An array reply of bulk strings that share one buffer: `put` appends each
/// item's bytes, and the replies are slices of the result. One allocation
/// for all the bytes instead of one per element, for replies that list many
/// elements (LRANGE).
pub fn packed_bulks<T>(
    items: impl Iterator<Item = T>,
    mut put: impl FnMut(&mut Vec<u8>, T),
) -> Reply {
    let mut buf = Vec::new();
    let mut ends = Vec::with_capacity(items.size_hint().0);
    for it in items {
        put(&mut buf, it);
        ends.push(buf.len());
    }
    let all = Bytes::from(buf);
    let mut start = 0;
    Reply::Array(
        ends.into_iter()
            .map(|end| {
                let r = Reply::Bulk(all.slice(start..end));
                start = end;
                r
            })
            .collect(),
    )
}

/// A blocking command's timeout in seconds, read as Redis 7.2's
/// getTimeoutFromObjectOrReply reads it (a long double from strtold): no
/// leading space, hex floats and `inf` accepted, turned into milliseconds
/// rounded up; above the i64 range "out of range", below zero "negative";
/// a positive value too small even for a double (1e-400) still times out
/// (1 ms). Returns the deadline in Unix ms from `now`, or None for 0 (wait
/// forever). Shared by the list and sorted-set blocking commands.
pub fn blocking_timeout(arg: &[u8], now: i64) -> CmdResult<Option<i64>> {
    const NOT_A_FLOAT: &str = "ERR timeout is not a float or out of range";
    if arg.is_empty() || arg[0].is_ascii_whitespace() {
        return Err(err(NOT_A_FLOAT));
    }
    let (secs, underflow) = match strtod(arg) {
        Some((v, e)) if !v.is_nan() => (v, e),
        _ => return Err(err(NOT_A_FLOAT)),
    };
    let ms = secs * 1000.0;
    if ms > i64::MAX as f64 {
        return Err(err("ERR timeout is out of range"));
    }
    let ms = ms.ceil();
    if ms < 0.0 {
        return Err(err("ERR timeout is negative"));
    }
    let mut ms = ms as i64;
    if ms == 0 {
        if !(secs == 0.0 && underflow) {
            return Ok(None);
        }
        ms = 1;
    }
    if ms > i64::MAX - now {
        return Err(err("ERR timeout is out of range"));
    }
    Ok(Some(now + ms))
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
    fn strtod_like_c() {
        assert_eq!(strtod(b""), Some((0.0, false)));
        assert_eq!(strtod(b"\0\x01\xff"), Some((0.0, false)));
        assert_eq!(strtod(b"1.5"), Some((1.5, false)));
        assert_eq!(strtod(b"  -2"), Some((-2.0, false)));
        assert_eq!(strtod(b"+3"), Some((3.0, false)));
        assert_eq!(strtod(b"1e3"), Some((1000.0, false)));
        // The integer fast path agrees with the general one.
        for t in [
            "0",
            "-0",
            "7",
            "007",
            "-42",
            "123456789012345",
            "999999999999999",
        ] {
            let (v, e) = strtod(t.as_bytes()).unwrap();
            assert!(!e);
            assert_eq!(v.to_bits(), t.parse::<f64>().unwrap().to_bits(), "{t}");
        }
        assert_eq!(strtod(b"inf"), Some((f64::INFINITY, false)));
        assert_eq!(strtod(b"-Infinity"), Some((f64::NEG_INFINITY, false)));
        assert_eq!(strtod(b"0x10"), Some((16.0, false)));
        assert_eq!(strtod(b"0x1p-1"), Some((0.5, false)));
        assert_eq!(strtod(b"5\0junk"), Some((5.0, false)));
        assert_eq!(strtod(b"1e400"), Some((f64::INFINITY, true)));
        assert_eq!(strtod(b"-1e400"), Some((f64::NEG_INFINITY, true)));
        assert_eq!(strtod(b"1e-400"), Some((0.0, true)));
        assert_eq!(strtod(b"5e-324"), Some((5e-324, true)));
        assert_eq!(strtod(b"0x1p99999"), Some((f64::INFINITY, true)));
        assert!(strtod(b"nan").is_some_and(|(v, _)| v.is_nan()));
        for bad in [
            &b"abc"[..],
            b"1 ",
            b"   ",
            b"--1",
            b"+-1",
            b"0x",
            b"1e",
            b"0x1p",
            b"1\x01",
        ] {
            assert_eq!(strtod(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn c_string_keywords() {
        assert!(eq_c(b"WITHSCORES\0x", "withscores"));
        assert!(eq_c(b"count", "COUNT"));
        assert!(!eq_c(b"\0count", "count"));
        assert!(!eq_c(b"countx", "count"));
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

    #[test]
    fn blocking_timeouts_as_redis_7_2() {
        let t = |a: &[u8]| blocking_timeout(a, 1000);
        assert_eq!(t(b"0"), Ok(None));
        assert_eq!(t(b"1.5"), Ok(Some(2500)));
        assert_eq!(t(b"0.0001"), Ok(Some(1001)));
        assert_eq!(t(b"1e-400"), Ok(Some(1001)));
        assert_eq!(t(b"0e-400"), Ok(None));
        assert_eq!(t(b"-0.0001"), Ok(None));
        assert_eq!(t(b"0x10"), Ok(Some(17_000)));
        let e = |a: &[u8]| match t(a) {
            Err(Reply::Error(e)) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(e(b"-1"), "ERR timeout is negative");
        assert_eq!(e(b"-inf"), "ERR timeout is negative");
        assert_eq!(e(b"inf"), "ERR timeout is out of range");
        assert_eq!(e(b"1e300"), "ERR timeout is out of range");
        assert_eq!(e(b"x"), "ERR timeout is not a float or out of range");
        assert_eq!(e(b" 1"), "ERR timeout is not a float or out of range");
        assert_eq!(e(b""), "ERR timeout is not a float or out of range");
        assert_eq!(e(b"nan"), "ERR timeout is not a float or out of range");
    }
}
