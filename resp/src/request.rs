//! The server side: an incremental parser for client requests.
//!
//! Clients send either *multibulk* requests, an array of bulk strings
//! (`*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n`), or *inline* requests, a line of
//! space-separated words typed by a human over telnet (`GET key\r\n`). The
//! first byte decides: `*` starts a multibulk request, anything else an inline
//! one.
//!
//! The parser reproduces Redis 7.2's `processMultibulkBuffer()` and
//! `processInlineBuffer()` so that a Ferrum server accepts, rejects and
//! answers the same byte streams as Redis, with the same error texts. Some of
//! that behaviour is lenient on purpose and kept for compatibility:
//!
//! - the two bytes that follow a bulk argument, and the byte that follows the
//!   `\r` of a `*<n>` or `$<n>` line, are skipped without being checked;
//! - `*0` and negative counts such as `*-1` are no request at all, nor is an
//!   empty inline line: the parser skips them and goes on;
//! - numbers follow Redis's `string2ll()`: no sign other than a leading `-`,
//!   no leading zeros, no spaces.
//!
//! Where Redis's C string handling stops at a NUL byte while searching for a
//! line end (`strchr`), this parser searches the whole buffer (`memchr`), so a
//! NUL before the line end yields an error or an argument instead of a stall.
//! Inside an inline line, a NUL still ends the line as it does for
//! `sdssplitargs()`.
//!
//! Two helpers serve the client side: [`split_inline_args`] splits a typed
//! line like `redis-cli` does, and [`encode_command`] writes a multibulk
//! request.

use bytes::{Buf, Bytes, BytesMut};

use crate::reply::Reply;

/// Bulk arguments at least this long get room reserved for them in the input
/// buffer up front (Redis's `PROTO_MBULK_BIG_ARG`), so that a socket read can
/// fill them in place and the argument is split off without a copy.
const BIG_ARG: usize = 32 * 1024;

/// Vectors for argument lists are preallocated up to this many entries; a
/// larger count grows the vector as arguments really arrive, so that a bogus
/// `*1000000` costs nothing until the data follows.
const MAX_PREALLOC_ARGS: usize = 1024;

/// Limits applied while parsing; see Redis's `proto-max-bulk-len`.
#[derive(Clone, Debug)]
pub struct ParserConfig {
    /// Largest accepted bulk argument (`proto-max-bulk-len`, 512 MiB).
    ///
    /// Like Redis, the parser reserves buffer room for a bulk of 32 KiB or more
    /// as soon as its `$<n>` line arrives, so this is also how much memory a
    /// client can make the server reserve with one line. Later Redis releases
    /// cap it at 16 KiB (and the count at 10) until a client authenticates; a
    /// server can do the same with [`RequestParser::set_config`].
    pub max_bulk_len: usize,
    /// Largest inline request, and the longest `*<n>` or `$<n>` line the parser
    /// waits for before giving up (`PROTO_INLINE_MAX_SIZE`, 64 KiB).
    pub max_inline_len: usize,
    /// Largest accepted argument count of a multibulk request (`INT_MAX` in
    /// Redis 7.2; a server may lower it, e.g. for unauthenticated clients).
    pub max_multibulk_len: usize,
}

impl Default for ParserConfig {
    fn default() -> Self {
        ParserConfig {
            max_bulk_len: 512 * 1024 * 1024,
            max_inline_len: 64 * 1024,
            max_multibulk_len: i32::MAX as usize,
        }
    }
}

/// One parsed command: its arguments, the command name first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The arguments, never empty. Multibulk arguments share the memory of the
    /// input buffer.
    pub args: Vec<Bytes>,
    /// True when the request came as an inline line rather than a multibulk
    /// array. Redis treats the two slightly differently (e.g. a master must not
    /// send inline commands).
    pub inline: bool,
}

/// A malformed request. Redis answers with `-ERR <Display text>` and closes
/// the connection after the reply; the server should do the same, since the
/// parser cannot know where the next request starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// A `*<n>` count that is not a number, or is too large.
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// A `$<n>` length that is not a number, is negative, or is too large.
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// A line inside a multibulk request that does not start with `$`; holds
    /// the byte found instead.
    #[error("Protocol error: expected '$', got '{}'", char::from(*.0))]
    ExpectedDollar(u8),
    /// No `\r` within `max_inline_len` bytes after a `*`.
    #[error("Protocol error: too big mbulk count string")]
    TooBigMultibulkCount,
    /// No `\r` within `max_inline_len` bytes where a `$<n>` line was expected.
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCount,
    /// No `\n` within `max_inline_len` bytes of an inline request.
    #[error("Protocol error: too big inline request")]
    TooBigInline,
    /// An inline request with an unterminated quote, or a closing quote not
    /// followed by a space.
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
}

impl ProtocolError {
    /// The error reply Redis sends before closing the connection:
    /// `-ERR Protocol error: ...`.
    pub fn to_reply(&self) -> Reply {
        Reply::error(format!("ERR {self}"))
    }

    /// The short reason Redis logs for this error (at verbose level), e.g.
    /// `invalid mbulk count`.
    pub fn log_reason(&self) -> &'static str {
        match self {
            ProtocolError::InvalidMultibulkLength => "invalid mbulk count",
            ProtocolError::InvalidBulkLength => "invalid bulk length",
            ProtocolError::ExpectedDollar(_) => "expected $ but got something else",
            ProtocolError::TooBigMultibulkCount => "too big mbulk count string",
            ProtocolError::TooBigBulkCount => "too big bulk count string",
            ProtocolError::TooBigInline => "too big inline request",
            ProtocolError::UnbalancedQuotes => "unbalanced quotes in inline request",
        }
    }
}

/// Incremental request parser; one per connection.
///
/// Feed it the connection's input buffer after every read. Arguments of a
/// multibulk request are split off the buffer as soon as each is complete, so
/// a request that arrives over many reads is never rescanned, and a large
/// argument is not copied.
#[derive(Debug)]
pub struct RequestParser {
    config: ParserConfig,
    /// Arguments still expected by the multibulk request in progress; zero
    /// when between requests.
    pending: usize,
    /// Length of the bulk argument whose `$<n>` line was consumed but whose
    /// data is not complete yet.
    bulk_len: Option<usize>,
    /// Arguments of the request in progress.
    args: Vec<Bytes>,
}

impl Default for RequestParser {
    fn default() -> Self {
        RequestParser::new(ParserConfig::default())
    }
}

impl RequestParser {
    /// A parser with the given limits.
    pub fn new(config: ParserConfig) -> Self {
        RequestParser {
            config,
            pending: 0,
            bulk_len: None,
            args: Vec::new(),
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &ParserConfig {
        &self.config
    }

    /// Changes the limits (after `CONFIG SET proto-max-bulk-len`, or after
    /// authentication). They apply from the next line parsed.
    pub fn set_config(&mut self, c: ParserConfig) {
        self.config = c;
    }

    /// True while a multibulk request has been started but not completed.
    pub fn is_partial(&self) -> bool {
        self.pending > 0
    }

    /// Parses at most one complete request from the front of `buf`, consuming
    /// its bytes.
    ///
    /// `Ok(None)` means more data is needed; a partly received multibulk
    /// request is kept in the parser (its complete arguments already removed
    /// from `buf`) and resumed on the next call. Empty requests (`*0`, `*-1`,
    /// blank inline lines) are skipped. After an error the parser is reset, but
    /// the connection should be closed as Redis does: `buf` may have been
    /// partly consumed and there is no reliable way to resynchronise.
    pub fn parse(&mut self, buf: &mut BytesMut) -> Result<Option<Request>, ProtocolError> {
        let result = self.parse_inner(buf);
        if result.is_err() {
            self.reset();
        }
        result
    }

    /// Forgets any partial request.
    pub fn reset(&mut self) {
        self.pending = 0;
        self.bulk_len = None;
        self.args = Vec::new();
    }

    fn parse_inner(&mut self, buf: &mut BytesMut) -> Result<Option<Request>, ProtocolError> {
        loop {
            if self.pending == 0 {
                let Some(&first) = buf.first() else {
                    return Ok(None);
                };
                if first != b'*' {
                    match self.parse_inline(buf)? {
                        None => return Ok(None),
                        Some(args) if args.is_empty() => continue,
                        Some(args) => return Ok(Some(Request { args, inline: true })),
                    }
                }
                if let Some(req) = self.parse_whole(buf) {
                    return Ok(Some(req));
                }
                match self.parse_multibulk_count(buf)? {
                    None => return Ok(None),
                    Some(0) => continue,
                    Some(n) => {
                        self.pending = n;
                        self.args = Vec::with_capacity(n.min(MAX_PREALLOC_ARGS));
                    }
                }
            }
            return self.parse_bulk_args(buf);
        }
    }

    /// The fast path for the common case: a small multibulk request that is
    /// entirely in `buf` with nothing unusual about it. It only looks at the
    /// bytes and, when every argument is there, splits the whole request
    /// off at once and hands out slices of it; anything else (incomplete
    /// data, big or many arguments, anything malformed) returns None without
    /// consuming a byte, and the general parser below takes over, with its
    /// exact Redis behaviour and error texts.
    fn parse_whole(&self, buf: &mut BytesMut) -> Option<Request> {
        /// Longest `*<n>` / `$<n>` line the fast path reads.
        const LINE: usize = 24;
        /// Most arguments the fast path collects (a small array on the
        /// stack: it is not worth a memset of a big one per request).
        const ARGS: usize = 8;
        let b: &[u8] = buf;
        let line_end = |from: usize| -> Option<usize> {
            let end = b.len().min(from + LINE);
            let cr = from + b.get(from..end)?.iter().position(|&c| c == b'\r')?;
            // The byte after '\r' is skipped unchecked, as in Redis.
            (cr + 2 <= b.len()).then_some(cr)
        };
        let cr = line_end(1)?;
        let n = parse_i64(&b[1..cr])?;
        if n <= 0 || n as usize > ARGS || n as u64 > self.config.max_multibulk_len as u64 {
            return None;
        }
        let n = n as usize;
        let mut spans = [(0usize, 0usize); ARGS];
        let mut pos = cr + 2;
        for span in spans.iter_mut().take(n) {
            if *b.get(pos)? != b'$' {
                return None;
            }
            let cr = line_end(pos + 1)?;
            let len = parse_i64(&b[pos + 1..cr])?;
            if len < 0 || len as u64 > self.config.max_bulk_len as u64 || len as usize >= BIG_ARG {
                return None;
            }
            let start = cr + 2;
            let next = start + len as usize + 2;
            if next > b.len() {
                return None;
            }
            *span = (start, len as usize);
            pos = next;
        }
        let frame = buf.split_to(pos).freeze();
        let args = spans[..n]
            .iter()
            .map(|&(start, len)| frame.slice(start..start + len))
            .collect();
        Some(Request {
            args,
            inline: false,
        })
    }

    /// Reads `*<n>\r\n`. Returns the argument count, 0 for requests to skip.
    fn parse_multibulk_count(&self, buf: &mut BytesMut) -> Result<Option<usize>, ProtocolError> {
        let Some(cr) = memchr(b'\r', buf) else {
            if buf.len() > self.config.max_inline_len {
                return Err(ProtocolError::TooBigMultibulkCount);
            }
            return Ok(None);
        };
        // The byte after '\r' must have arrived too; it is skipped unchecked.
        if cr + 2 > buf.len() {
            return Ok(None);
        }
        let count = match parse_i64(&buf[1..cr]) {
            Some(n) if n <= 0 => 0,
            Some(n) if (n as u64) <= self.config.max_multibulk_len as u64 => n as usize,
            _ => return Err(ProtocolError::InvalidMultibulkLength),
        };
        buf.advance(cr + 2);
        Ok(Some(count))
    }

    /// Reads as many `$<n>\r\n<data>\r\n` arguments as are complete, returning
    /// the request once all have arrived.
    fn parse_bulk_args(&mut self, buf: &mut BytesMut) -> Result<Option<Request>, ProtocolError> {
        while self.pending > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    let Some(len) = self.parse_bulk_len(buf)? else {
                        return Ok(None);
                    };
                    self.bulk_len = Some(len);
                    len
                }
            };
            if buf.len() < len + 2 {
                if len >= BIG_ARG {
                    // Make room for the whole argument now, so that reads land
                    // in one allocation and split_to below is zero-copy.
                    buf.reserve(len + 2 - buf.len());
                }
                return Ok(None);
            }
            let arg = buf.split_to(len).freeze();
            // Redis skips the two bytes after the data without checking them.
            buf.advance(2);
            self.args.push(arg);
            self.bulk_len = None;
            self.pending -= 1;
        }
        let args = std::mem::take(&mut self.args);
        Ok(Some(Request {
            args,
            inline: false,
        }))
    }

    /// Reads `$<n>\r\n`, returning `n`.
    fn parse_bulk_len(&self, buf: &mut BytesMut) -> Result<Option<usize>, ProtocolError> {
        let Some(cr) = memchr(b'\r', buf) else {
            if buf.len() > self.config.max_inline_len {
                return Err(ProtocolError::TooBigBulkCount);
            }
            return Ok(None);
        };
        if cr + 2 > buf.len() {
            return Ok(None);
        }
        if buf[0] != b'$' {
            return Err(ProtocolError::ExpectedDollar(buf[0]));
        }
        let len = match parse_i64(&buf[1..cr]) {
            Some(n) if n >= 0 && (n as u64) <= self.config.max_bulk_len as u64 => n as usize,
            _ => return Err(ProtocolError::InvalidBulkLength),
        };
        buf.advance(cr + 2);
        Ok(Some(len))
    }

    /// Reads one inline line. Returns its arguments, possibly none.
    fn parse_inline(&self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let Some(nl) = memchr(b'\n', buf) else {
            if buf.len() > self.config.max_inline_len {
                return Err(ProtocolError::TooBigInline);
            }
            return Ok(None);
        };
        let end = if nl > 0 && buf[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        let line = buf.split_to(nl + 1).freeze();
        split_args(line.slice(..end)).map(Some)
    }
}

/// `memchr` without the dependency; the compiler vectorises this well enough
/// for the short lines it scans.
fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// Redis's `string2ll()`: an optional `-`, then digits without leading zeros
/// (a lone `0` is fine, `-0` is not), fitting in an `i64`.
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [] => return None,
        [b'0'] => return Some(0),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// C's `isspace()` in the "C" locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// One argument being collected by [`split_args`]. As long as its bytes are a
/// contiguous run of the line it is just a range and becomes a zero-copy
/// slice; an escape sequence, or a quote in the middle, makes it owned.
enum Token {
    Range { start: usize, end: usize },
    Owned(Vec<u8>),
}

impl Token {
    fn new(at: usize) -> Self {
        Token::Range { start: at, end: at }
    }

    /// Appends `line[from..to]`.
    fn push_run(&mut self, line: &[u8], from: usize, to: usize) {
        if from == to {
            return;
        }
        match self {
            Token::Range { start, end } if *start == *end => {
                *start = from;
                *end = to;
            }
            Token::Range { end, .. } if *end == from => *end = to,
            Token::Range { start, end } => {
                let mut v = line[*start..*end].to_vec();
                v.extend_from_slice(&line[from..to]);
                *self = Token::Owned(v);
            }
            Token::Owned(v) => v.extend_from_slice(&line[from..to]),
        }
    }

    /// Appends a byte that is not in the line (the result of an escape).
    fn push_byte(&mut self, line: &[u8], b: u8) {
        match self {
            Token::Range { start, end } => {
                let mut v = line[*start..*end].to_vec();
                v.push(b);
                *self = Token::Owned(v);
            }
            Token::Owned(v) => v.push(b),
        }
    }

    fn finish(self, line: &Bytes) -> Bytes {
        match self {
            Token::Range { start, end } => line.slice(start..end),
            Token::Owned(v) => Bytes::from(v),
        }
    }
}

/// Splits an inline request line into arguments the way Redis's
/// `sdssplitargs()` does:
///
/// - arguments are separated by whitespace (`isspace`); an unquoted argument
///   ends at a space, tab, CR, LF or NUL;
/// - `"..."` may contain `\n`, `\r`, `\t`, `\b`, `\a`, `\xHH` and `\<any>`
///   escapes; `'...'` only `\'`;
/// - a quote may start in the middle of an argument (`a"b c"` is `ab c`), but a
///   closing quote must be followed by whitespace or the end of the line;
/// - the line ends at the first NUL byte, as it does for a C string.
///
/// Plain arguments are slices of `line`; only escaped or quote-spliced ones are
/// copied. Runs of ordinary bytes are taken whole rather than byte by byte.
fn split_args(line: Bytes) -> Result<Vec<Bytes>, ProtocolError> {
    let s: &[u8] = match memchr(0, &line) {
        Some(nul) => &line[..nul],
        None => &line,
    };
    // End of the run of bytes from `p` on that `stop` does not match.
    let run_end = |p: usize, stop: &dyn Fn(u8) -> bool| {
        s[p..]
            .iter()
            .position(|&c| stop(c))
            .map_or(s.len(), |i| p + i)
    };
    let closes_cleanly = |p: usize| s.get(p + 1).is_none_or(|&n| is_space(n));

    let mut args = Vec::with_capacity(4);
    let mut p = 0;
    loop {
        while s.get(p).is_some_and(|&c| is_space(c)) {
            p += 1;
        }
        if p >= s.len() {
            return Ok(args);
        }
        let mut tok = Token::new(p);
        let mut quote = None;
        loop {
            match quote {
                None => {
                    let e = run_end(p, &|c| {
                        matches!(c, b' ' | b'\n' | b'\r' | b'\t' | b'"' | b'\'')
                    });
                    tok.push_run(s, p, e);
                    p = e;
                    match s.get(p) {
                        // Only space, tab, CR and LF end an unquoted argument;
                        // other whitespace (\v, \f) is part of it.
                        None => break,
                        Some(&q @ (b'"' | b'\'')) => {
                            quote = Some(q);
                            p += 1;
                        }
                        Some(_) => {
                            p += 1;
                            break;
                        }
                    }
                }
                Some(q) => {
                    let e = run_end(p, &|c| c == q || c == b'\\');
                    tok.push_run(s, p, e);
                    p = e;
                    match s.get(p) {
                        None => return Err(ProtocolError::UnbalancedQuotes),
                        Some(&c) if c == q => {
                            if !closes_cleanly(p) {
                                return Err(ProtocolError::UnbalancedQuotes);
                            }
                            p += 1;
                            break;
                        }
                        Some(_) if q == b'"' => p = unescape_double_quoted(s, p, &mut tok),
                        Some(_) => {
                            // In single quotes only \' is an escape.
                            if s.get(p + 1) == Some(&b'\'') {
                                tok.push_byte(s, b'\'');
                                p += 2;
                            } else {
                                tok.push_run(s, p, p + 1);
                                p += 1;
                            }
                        }
                    }
                }
            }
        }
        args.push(tok.finish(&line));
    }
}

/// Handles the backslash at `s[p]` inside double quotes; returns the position
/// after the escape sequence.
fn unescape_double_quoted(s: &[u8], p: usize, tok: &mut Token) -> usize {
    let hex = |i: usize| s.get(i).copied().and_then(hex_value);
    if s.get(p + 1) == Some(&b'x') {
        if let (Some(h), Some(l)) = (hex(p + 2), hex(p + 3)) {
            tok.push_byte(s, h * 16 + l);
            return p + 4;
        }
    }
    match s.get(p + 1) {
        Some(&e) => {
            let b = match e {
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'b' => b'\x08',
                b'a' => b'\x07',
                other => other,
            };
            tok.push_byte(s, b);
            p + 2
        }
        // A backslash ending the line is kept; the missing closing quote is
        // then reported by the caller.
        None => {
            tok.push_run(s, p, p + 1);
            p + 1
        }
    }
}

/// Splits a line typed by a user into arguments with the inline request
/// rules (`sdssplitargs()`), as `redis-cli` does with its input.
///
/// ```
/// let args = resp::request::split_inline_args(br#"SET "my key" 'it\'s'"#).unwrap();
/// assert_eq!(args, ["SET", "my key", "it's"]);
/// ```
pub fn split_inline_args(line: &[u8]) -> Result<Vec<Bytes>, ProtocolError> {
    split_args(Bytes::copy_from_slice(line))
}

/// Appends `args` as a multibulk request, the form clients send.
///
/// ```
/// let mut out = Vec::new();
/// resp::request::encode_command(&["GET", "k"], &mut out);
/// assert_eq!(out, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
/// ```
pub fn encode_command<A: AsRef<[u8]>>(args: &[A], out: &mut Vec<u8>) {
    let mut num = [0u8; 20];
    out.push(b'*');
    out.extend_from_slice(crate::reply::fmt_i64(args.len() as i64, &mut num));
    out.extend_from_slice(b"\r\n");
    for a in args {
        let a = a.as_ref();
        out.push(b'$');
        out.extend_from_slice(crate::reply::fmt_i64(a.len() as i64, &mut num));
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        parse_all_with(input, ParserConfig::default())
    }

    fn parse_all_with(input: &[u8], cfg: ParserConfig) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut p = RequestParser::new(cfg);
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(req) = p.parse(&mut buf)? {
            out.push(req.args.iter().map(|a| a.to_vec()).collect());
        }
        Ok(out)
    }

    fn one(input: &[u8]) -> Vec<Vec<u8>> {
        let mut all = parse_all(input).unwrap();
        assert_eq!(all.len(), 1, "{all:?}");
        all.pop().unwrap()
    }

    fn err(input: &[u8]) -> String {
        parse_all(input).unwrap_err().to_string()
    }

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_basic() {
        assert_eq!(
            one(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n"),
            v(&["SET", "k", "value"])
        );
        assert_eq!(one(b"*1\r\n$0\r\n\r\n"), v(&[""]));
    }

    #[test]
    fn multibulk_binary_arguments() {
        assert_eq!(
            one(b"*1\r\n$4\r\n\r\n\0\xff\r\n"),
            vec![b"\r\n\0\xff".to_vec()]
        );
    }

    #[test]
    fn multibulk_sets_inline_false() {
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPING\r\nPING\r\n"[..]);
        assert!(!p.parse(&mut buf).unwrap().unwrap().inline);
        assert!(p.parse(&mut buf).unwrap().unwrap().inline);
        assert!(buf.is_empty());
    }

    #[test]
    fn pipelined_requests_parse_one_at_a_time() {
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n"[..]);
        assert_eq!(
            p.parse(&mut buf).unwrap().unwrap().args,
            vec![Bytes::from("PING")]
        );
        assert_eq!(buf.len(), 22);
        let r = p.parse(&mut buf).unwrap().unwrap();
        assert_eq!(r.args, vec![Bytes::from("ECHO"), Bytes::from("hi")]);
        assert_eq!(p.parse(&mut buf).unwrap(), None);
    }

    #[test]
    fn empty_and_negative_counts_are_skipped() {
        assert_eq!(
            one(b"*0\r\n*-1\r\n*-10\r\n*1\r\n$4\r\nPING\r\n"),
            v(&["PING"])
        );
        assert_eq!(parse_all(b"*0\r\n").unwrap(), Vec::<Vec<Vec<u8>>>::new());
    }

    #[test]
    fn trailing_bytes_after_data_and_cr_are_not_checked() {
        // Redis skips two bytes after bulk data, and one after each '\r'.
        assert_eq!(
            parse_all(b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n")
                .unwrap()
                .len(),
            2
        );
        assert_eq!(one(b"*1\rX$4\r\nPING\r\n"), v(&["PING"]));
        assert_eq!(one(b"*1\r\n$4\rXPING\r\n"), v(&["PING"]));
    }

    #[test]
    fn invalid_multibulk_length() {
        for input in [
            &b"*01\r\n"[..],
            b"*+1\r\n",
            b"*-0\r\n",
            b"*\r\n",
            b"*1x\r\n",
            b"* 1\r\n",
            b"*3000000000\r\n",
            b"*99999999999999999999\r\n",
        ] {
            assert_eq!(
                err(input),
                "Protocol error: invalid multibulk length",
                "{input:?}"
            );
        }
        // INT_MAX itself is accepted, and then waits for data.
        assert_eq!(parse_all(b"*2147483647\r\n").unwrap().len(), 0);
    }

    #[test]
    fn multibulk_limit_is_configurable() {
        let cfg = ParserConfig {
            max_multibulk_len: 2,
            ..ParserConfig::default()
        };
        assert!(parse_all_with(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", cfg.clone()).is_ok());
        assert_eq!(
            parse_all_with(b"*3\r\n", cfg).unwrap_err(),
            ProtocolError::InvalidMultibulkLength
        );
    }

    #[test]
    fn invalid_bulk_length() {
        for input in [
            &b"*1\r\n$-1\r\n"[..],
            b"*1\r\n$04\r\nPING\r\n",
            b"*1\r\n$\r\n",
            b"*1\r\n$+4\r\n",
            b"*1\r\n$4 \r\n",
            b"*1\r\n$536870913\r\n",
        ] {
            assert_eq!(
                err(input),
                "Protocol error: invalid bulk length",
                "{input:?}"
            );
        }
        // Exactly proto-max-bulk-len is fine.
        assert_eq!(parse_all(b"*1\r\n$536870912\r\n").unwrap().len(), 0);
        let cfg = ParserConfig {
            max_bulk_len: 3,
            ..ParserConfig::default()
        };
        assert_eq!(
            parse_all_with(b"*1\r\n$4\r\nPING\r\n", cfg).unwrap_err(),
            ProtocolError::InvalidBulkLength
        );
    }

    #[test]
    fn expected_dollar() {
        assert_eq!(
            err(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"),
            "Protocol error: expected '$', got 'f'"
        );
        assert_eq!(
            err(b"*1\r\n\x01foo\r\n"),
            "Protocol error: expected '$', got '\x01'"
        );
        // The check waits until the whole line is there.
        assert_eq!(parse_all(b"*1\r\nfoo").unwrap().len(), 0);
        assert_eq!(
            ProtocolError::ExpectedDollar(b'\r')
                .to_reply()
                .to_vec(crate::Protocol::Resp2),
            b"-ERR Protocol error: expected '$', got ' '\r\n"
        );
    }

    #[test]
    fn too_big_count_strings() {
        let mut big = b"*".to_vec();
        big.extend(std::iter::repeat_n(b'1', 64 * 1024));
        assert_eq!(err(&big), "Protocol error: too big mbulk count string");
        // Exactly the limit still waits.
        assert_eq!(parse_all(&big[..64 * 1024]).unwrap().len(), 0);

        let mut big = b"*1\r\n$".to_vec();
        big.extend(std::iter::repeat_n(b'1', 64 * 1024));
        assert_eq!(err(&big), "Protocol error: too big bulk count string");
    }

    #[test]
    fn too_big_inline() {
        let big = vec![b'a'; 64 * 1024 + 1];
        assert_eq!(err(&big), "Protocol error: too big inline request");
        assert_eq!(parse_all(&big[..64 * 1024]).unwrap().len(), 0);
        // A long line is fine once its newline has arrived.
        let mut line = vec![b'a'; 100 * 1024];
        line.push(b'\n');
        assert_eq!(one(&line)[0].len(), 100 * 1024);
        let cfg = ParserConfig {
            max_inline_len: 4,
            ..ParserConfig::default()
        };
        assert_eq!(
            parse_all_with(b"PING ", cfg).unwrap_err(),
            ProtocolError::TooBigInline
        );
    }

    #[test]
    fn inline_basic() {
        assert_eq!(one(b"SET k v\r\n"), v(&["SET", "k", "v"]));
        assert_eq!(one(b"PING\n"), v(&["PING"]));
        assert_eq!(one(b"  GET \t  k  \r\n"), v(&["GET", "k"]));
        assert_eq!(one(b"ECHO a\x0bb\r\n"), v(&["ECHO", "a\x0bb"]));
        assert_eq!(one(b"ECHO a\rb\r\n"), v(&["ECHO", "a", "b"]));
        assert_eq!(parse_all(b"PING").unwrap().len(), 0);
    }

    #[test]
    fn inline_empty_lines_are_skipped() {
        assert_eq!(one(b"\r\n\n  \r\n\t\nPING\n"), v(&["PING"]));
        assert_eq!(parse_all(b"\r\n").unwrap().len(), 0);
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(&b"\r\n\r\n"[..]);
        assert_eq!(p.parse(&mut buf).unwrap(), None);
        assert!(buf.is_empty());
    }

    #[test]
    fn inline_quotes_and_escapes() {
        assert_eq!(one(b"ECHO \"a\\x41\\n\"\r\n"), v(&["ECHO", "aA\n"]));
        assert_eq!(
            one(b"ECHO \"\\r\\t\\b\\a\\\\\\\"\\q\"\r\n"),
            v(&["ECHO", "\r\t\x08\x07\\\"q"])
        );
        assert_eq!(one(b"ECHO \"\\xzz\"\r\n"), v(&["ECHO", "xzz"]));
        assert_eq!(
            one(b"ECHO \"\\xfF\"\r\n"),
            vec![b"ECHO".to_vec(), vec![0xff]]
        );
        assert_eq!(one(b"ECHO 'a\\'b'\r\n"), v(&["ECHO", "a'b"]));
        assert_eq!(one(b"ECHO 'a\\nb'\r\n"), v(&["ECHO", "a\\nb"]));
        assert_eq!(one(b"ECHO \"\"\r\n"), v(&["ECHO", ""]));
        assert_eq!(one(b"ECHO\t\"x\"\t\r\n"), v(&["ECHO", "x"]));
        assert_eq!(one(b"ECHO \"x\"\x0by\r\n"), v(&["ECHO", "x", "y"]));
        assert_eq!(one(b"SET a\"b c\" d\r\n"), v(&["SET", "ab c", "d"]));
        assert_eq!(one(b"SET \"a b\"\n"), v(&["SET", "a b"]));
    }

    #[test]
    fn inline_unbalanced_quotes() {
        for input in [
            &b"ECHO \"abc\"def\r\n"[..],
            b"ECHO 'abc\r\n",
            b"ECHO \"abc\r\n",
            b"ECHO a\"b c\"d\r\n",
            b"ECHO 'a'b\r\n",
            b"ECHO \"a\\\"\r\n",
        ] {
            assert_eq!(
                err(input),
                "Protocol error: unbalanced quotes in request",
                "{input:?}"
            );
        }
    }

    #[test]
    fn inline_nul_ends_the_line() {
        assert_eq!(one(b"ECHO a\0b c\r\n"), v(&["ECHO", "a"]));
        assert_eq!(
            err(b"ECHO \"a\0b\"\r\n"),
            "Protocol error: unbalanced quotes in request"
        );
    }

    #[test]
    fn inline_plain_arguments_are_zero_copy() {
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(&b"SET key \"val ue\" x\"y\"\r\n"[..]);
        let base = buf.as_ptr() as usize;
        let r = p.parse(&mut buf).unwrap().unwrap();
        assert_eq!(r.args[1].as_ptr() as usize, base + 4);
        assert_eq!(r.args[2], Bytes::from("val ue"));
        assert_eq!(r.args[2].as_ptr() as usize, base + 9);
        assert_eq!(r.args[3], Bytes::from("xy"));
    }

    #[test]
    fn partial_state_is_kept_between_calls() {
        let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
        let mut p = RequestParser::default();
        let mut buf = BytesMut::new();
        let mut got = None;
        for (i, &b) in input.iter().enumerate() {
            buf.extend_from_slice(&[b]);
            let r = p.parse(&mut buf).unwrap();
            if i + 1 < input.len() {
                assert_eq!(r, None, "at byte {i}");
            } else {
                got = r;
            }
        }
        assert_eq!(
            got.unwrap().args,
            vec![Bytes::from("SET"), Bytes::from("key"), Bytes::from("value")]
        );
        assert!(!p.is_partial());
    }

    #[test]
    fn complete_arguments_are_consumed_early() {
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$3\r\nk"[..]);
        assert_eq!(p.parse(&mut buf).unwrap(), None);
        assert!(p.is_partial());
        // "GET" and the "$3" header are gone; only the partial data remains.
        assert_eq!(&buf[..], b"k");
        buf.extend_from_slice(b"ey\r\n");
        assert_eq!(p.parse(&mut buf).unwrap().unwrap().args.len(), 2);
    }

    #[test]
    fn big_argument_reserves_room_and_is_not_copied() {
        let len = 1024 * 1024;
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(format!("*2\r\n$3\r\nSET\r\n${len}\r\nabc").as_bytes());
        assert_eq!(p.parse(&mut buf).unwrap(), None);
        assert!(buf.capacity() >= len + 2);
        let start = buf.as_ptr() as usize;
        buf.extend_from_slice(&vec![b'x'; len - 3]);
        buf.extend_from_slice(b"\r\n");
        assert_eq!(
            buf.as_ptr() as usize,
            start,
            "no reallocation while filling"
        );
        let r = p.parse(&mut buf).unwrap().unwrap();
        assert_eq!(r.args[1].len(), len);
        assert_eq!(r.args[1].as_ptr() as usize, start);
    }

    #[test]
    fn error_resets_the_parser() {
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\nxx\r\n"[..]);
        assert!(p.parse(&mut buf).is_err());
        assert!(!p.is_partial());
        let mut buf = BytesMut::from(&b"PING\r\n"[..]);
        assert_eq!(
            p.parse(&mut buf).unwrap().unwrap().args,
            vec![Bytes::from("PING")]
        );
    }

    #[test]
    fn error_replies_and_reasons() {
        let all = [
            ProtocolError::InvalidMultibulkLength,
            ProtocolError::InvalidBulkLength,
            ProtocolError::ExpectedDollar(b'x'),
            ProtocolError::TooBigMultibulkCount,
            ProtocolError::TooBigBulkCount,
            ProtocolError::TooBigInline,
            ProtocolError::UnbalancedQuotes,
        ];
        for e in all {
            let wire = e.to_reply().to_vec(crate::Protocol::Resp3);
            assert!(wire.starts_with(b"-ERR Protocol error: "), "{wire:?}");
            assert!(!e.log_reason().is_empty());
        }
    }

    #[test]
    fn string2ll_rules() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"1a",
        ] {
            assert_eq!(parse_i64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn set_config_applies() {
        let mut p = RequestParser::default();
        assert_eq!(p.config().max_inline_len, 64 * 1024);
        p.set_config(ParserConfig {
            max_inline_len: 1,
            ..ParserConfig::default()
        });
        let mut buf = BytesMut::from(&b"PI"[..]);
        assert_eq!(p.parse(&mut buf), Err(ProtocolError::TooBigInline));
    }
}
