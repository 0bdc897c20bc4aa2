//! The client side: a decoder for every RESP2 and RESP3 frame type.
//!
//! [`FrameDecoder`] turns the bytes a server sends into [`Frame`] values; it is
//! what a client (the mini `redis-cli`, the test suite, a replica reading its
//! master's replies) uses. Decoding is done in two passes: a cheap scan finds
//! out whether a whole frame has arrived, and only then the frame is built,
//! slicing its strings out of the buffer without copying. The scan is
//! resumable, so a large reply that trickles in over many reads is scanned
//! once, not once per read.

use std::fmt;

use bytes::{Bytes, BytesMut};

use crate::double::format_double;

/// One decoded RESP value.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// `+OK`
    Simple(Bytes),
    /// `-ERR message`, without the `-`.
    Error(Bytes),
    /// `:42`
    Integer(i64),
    /// `$3\r\nfoo`
    Bulk(Bytes),
    /// `$-1`, RESP2's null.
    NullBulk,
    /// `*-1`, RESP2's null array.
    NullArray,
    /// `_`, RESP3's null.
    Null,
    /// `*<n>`
    Array(Vec<Frame>),
    /// `%<n>`: n key/value pairs.
    Map(Vec<(Frame, Frame)>),
    /// `~<n>`
    Set(Vec<Frame>),
    /// `><n>`: out-of-band data such as pub/sub messages.
    Push(Vec<Frame>),
    /// `,1.5`
    Double(f64),
    /// `#t` / `#f`
    Boolean(bool),
    /// `(12345678901234567890`, kept as its decimal text.
    BigNumber(Bytes),
    /// `!<n>`: a binary-safe error.
    BlobError(Bytes),
    /// `=<n>\r\ntxt:...`: text with a three-letter format.
    Verbatim { format: [u8; 3], text: Bytes },
    /// `|<n>` attributes, together with the frame that follows and that they
    /// annotate.
    Attribute {
        attributes: Vec<(Frame, Frame)>,
        frame: Box<Frame>,
    },
}

/// A byte stream that is not valid RESP. The connection cannot be
/// resynchronised after one of these.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrameError {
    /// A frame starting with a byte that is no RESP type; worded as hiredis
    /// words it.
    #[error("Protocol error, got {} as reply type byte", repr_byte(*.0))]
    InvalidType(u8),
    /// A length or count that is not a number, or a negative one other than
    /// the `-1` of RESP2 nulls.
    #[error("Protocol error, invalid length or count")]
    InvalidLength,
    /// An `:` integer that does not fit an `i64`, or is no number.
    #[error("Protocol error, invalid integer")]
    InvalidInteger,
    /// A `,` double that does not parse.
    #[error("Protocol error, invalid double")]
    InvalidDouble,
    /// A `#` boolean other than `t` or `f`.
    #[error("Protocol error, invalid boolean")]
    InvalidBoolean,
    /// A `_` null with something on its line.
    #[error("Protocol error, invalid null")]
    InvalidNull,
    /// A `(` big number that is not an optionally signed run of digits.
    #[error("Protocol error, invalid big number")]
    InvalidBigNumber,
    /// A `=` verbatim string shorter than 4 bytes or without `:` after its
    /// format.
    #[error("Protocol error, invalid verbatim string")]
    InvalidVerbatim,
    /// Bulk data not followed by `\r\n`.
    #[error("Protocol error, bulk data not followed by CRLF")]
    ExpectedCrlf,
    /// Aggregates nested deeper than the decoder's limit.
    #[error("Protocol error, nesting deeper than {0} levels")]
    TooDeep(usize),
    /// A bulk, blob error or verbatim string longer than the decoder's limit.
    #[error("Protocol error, bulk length {len} exceeds the limit of {max}")]
    BulkTooLarge { len: u64, max: usize },
    /// A line that has not ended within the bulk length limit.
    #[error("Protocol error, line longer than {0} bytes")]
    LineTooLong(usize),
}

/// Incremental decoder for a stream of frames.
///
/// Between a call that returns `Ok(None)` and the next one, the caller may
/// only append to the buffer (the usual read loop): the decoder remembers how
/// far it has scanned.
#[derive(Debug)]
pub struct FrameDecoder {
    max_depth: usize,
    max_bulk_len: usize,
    scan: Scan,
}

/// Progress of the completeness scan over a frame not yet complete.
#[derive(Debug, Default)]
struct Scan {
    /// Offset up to which the buffer has been checked.
    pos: usize,
    /// For every open aggregate, how many elements it still needs.
    open: Vec<u64>,
}

impl Scan {
    /// Back to the start of a frame, keeping the stack's allocation.
    fn reset(&mut self) {
        self.pos = 0;
        self.open.clear();
    }
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new()
    }
}

impl FrameDecoder {
    /// A decoder allowing 128 levels of nesting and 512 MiB bulk strings.
    pub fn new() -> Self {
        FrameDecoder::with_limits(128, 512 * 1024 * 1024)
    }

    /// A decoder with the given nesting and bulk length limits.
    pub fn with_limits(max_depth: usize, max_bulk_len: usize) -> Self {
        FrameDecoder {
            max_depth,
            max_bulk_len,
            scan: Scan::default(),
        }
    }

    /// Decodes one complete frame from the front of `buf`, consuming it.
    ///
    /// `Ok(None)` means the frame is incomplete; `buf` is left untouched. On an
    /// error `buf` is left untouched too, and the decoder is reset.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        if buf.len() < self.scan.pos {
            // The caller replaced the buffer; start over.
            self.scan.reset();
        }
        let end = match self.scan_frame(buf) {
            Ok(Some(end)) => end,
            Ok(None) => return Ok(None),
            Err(e) => {
                self.scan.reset();
                return Err(e);
            }
        };
        self.scan.reset();
        let data = buf.split_to(end).freeze();
        let mut pos = 0;
        // The scan validated everything, so building cannot fail; an error here
        // would still be reported rather than panicking.
        build(&data, &mut pos).map(Some)
    }

    /// Advances the scan; returns the length of the first frame once complete.
    fn scan_frame(&mut self, buf: &[u8]) -> Result<Option<usize>, FrameError> {
        loop {
            let pos = self.scan.pos;
            let Some(&kind) = buf.get(pos) else {
                return Ok(None);
            };
            let Some(line_end) = find_crlf(buf, pos + 1) else {
                if buf.len() - pos > self.max_bulk_len.saturating_add(64) {
                    return Err(FrameError::LineTooLong(self.max_bulk_len));
                }
                if !is_type_byte(kind) {
                    return Err(FrameError::InvalidType(kind));
                }
                return Ok(None);
            };
            let line = &buf[pos + 1..line_end];
            let next = line_end + 2;
            match kind {
                b'+' | b'-' => self.element_done(next),
                b':' => {
                    parse_integer(line)?;
                    self.element_done(next)
                }
                b',' => {
                    parse_double(line)?;
                    self.element_done(next)
                }
                b'#' => {
                    parse_bool(line)?;
                    self.element_done(next)
                }
                b'_' => {
                    if !line.is_empty() {
                        return Err(FrameError::InvalidNull);
                    }
                    self.element_done(next)
                }
                b'(' => {
                    check_big_number(line)?;
                    self.element_done(next)
                }
                b'$' | b'!' | b'=' => match parse_length(line)? {
                    None if kind == b'$' => self.element_done(next),
                    None => return Err(FrameError::InvalidLength),
                    Some(len) => {
                        if len > self.max_bulk_len as u64 {
                            return Err(FrameError::BulkTooLarge {
                                len,
                                max: self.max_bulk_len,
                            });
                        }
                        let len = len as usize;
                        if kind == b'=' && len < 4 {
                            return Err(FrameError::InvalidVerbatim);
                        }
                        let data_end = next + len;
                        if buf.len() < data_end + 2 {
                            return Ok(None);
                        }
                        if &buf[data_end..data_end + 2] != b"\r\n" {
                            return Err(FrameError::ExpectedCrlf);
                        }
                        if kind == b'=' && buf[next + 3] != b':' {
                            return Err(FrameError::InvalidVerbatim);
                        }
                        self.element_done(data_end + 2)
                    }
                },
                b'*' | b'%' | b'~' | b'>' | b'|' => {
                    let count = match parse_length(line)? {
                        None if kind == b'*' => 0,
                        None => return Err(FrameError::InvalidLength),
                        Some(n) => n,
                    };
                    let elements = match kind {
                        b'%' => count.checked_mul(2),
                        // The attribute pairs, then the annotated frame.
                        b'|' => count.checked_mul(2).and_then(|n| n.checked_add(1)),
                        _ => Some(count),
                    }
                    .ok_or(FrameError::InvalidLength)?;
                    if self.scan.open.len() >= self.max_depth {
                        return Err(FrameError::TooDeep(self.max_depth));
                    }
                    if elements == 0 {
                        self.element_done(next);
                    } else {
                        self.scan.open.push(elements);
                        self.scan.pos = next;
                    }
                }
                other => return Err(FrameError::InvalidType(other)),
            }
            if let Some(end) = self.complete() {
                return Ok(Some(end));
            }
        }
    }

    /// Records that an element ended at `next`, closing every aggregate that
    /// this completes.
    fn element_done(&mut self, next: usize) {
        self.scan.pos = next;
        while let Some(top) = self.scan.open.last_mut() {
            *top -= 1;
            if *top > 0 {
                return;
            }
            self.scan.open.pop();
        }
    }

    /// The frame's end, once nothing is open any more.
    fn complete(&self) -> Option<usize> {
        (self.scan.open.is_empty() && self.scan.pos > 0).then_some(self.scan.pos)
    }
}

/// A byte quoted as hiredis quotes it in its error message.
fn repr_byte(b: u8) -> String {
    let mut s = String::new();
    quote_bytes(&[b], &mut s);
    s
}

fn is_type_byte(b: u8) -> bool {
    matches!(
        b,
        b'+' | b'-'
            | b':'
            | b'$'
            | b'*'
            | b'_'
            | b','
            | b'#'
            | b'('
            | b'!'
            | b'='
            | b'%'
            | b'~'
            | b'>'
            | b'|'
    )
}

/// Position of the first `\r\n` at or after `from`. A lone `\r` inside a line
/// is tolerated, as hiredis does.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 1 < buf.len() {
        match buf[i..buf.len() - 1].iter().position(|&b| b == b'\r') {
            None => return None,
            Some(off) => {
                let cr = i + off;
                if buf[cr + 1] == b'\n' {
                    return Some(cr);
                }
                i = cr + 1;
            }
        }
    }
    None
}

/// A `$`/`*` style length: `None` for `-1`, an error for other negatives.
fn parse_length(line: &[u8]) -> Result<Option<u64>, FrameError> {
    if line == b"-1" {
        return Ok(None);
    }
    if line.is_empty() || line.len() > 19 || !line.iter().all(u8::is_ascii_digit) {
        return Err(FrameError::InvalidLength);
    }
    Ok(Some(
        line.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')),
    ))
}

/// An integer with an optional sign; leading zeros are tolerated on the client
/// side.
fn parse_integer(line: &[u8]) -> Result<i64, FrameError> {
    let (neg, digits) = match line {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, line),
    };
    if digits.is_empty() {
        return Err(FrameError::InvalidInteger);
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(FrameError::InvalidInteger);
        }
        let d = i64::from(c - b'0');
        // Accumulate negatively so that i64::MIN fits.
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_sub(d))
            .ok_or(FrameError::InvalidInteger)?;
    }
    if neg {
        Ok(v)
    } else {
        v.checked_neg().ok_or(FrameError::InvalidInteger)
    }
}

/// `inf`, `-inf`, `nan` and anything Rust's float parser accepts, which covers
/// every spelling Redis produces (`1.5`, `1e+20`, `-0`).
fn parse_double(line: &[u8]) -> Result<f64, FrameError> {
    let s = std::str::from_utf8(line).map_err(|_| FrameError::InvalidDouble)?;
    if s.is_empty() {
        return Err(FrameError::InvalidDouble);
    }
    s.parse::<f64>().map_err(|_| FrameError::InvalidDouble)
}

fn parse_bool(line: &[u8]) -> Result<bool, FrameError> {
    match line {
        b"t" => Ok(true),
        b"f" => Ok(false),
        _ => Err(FrameError::InvalidBoolean),
    }
}

fn check_big_number(line: &[u8]) -> Result<(), FrameError> {
    let digits = match line {
        [b'-' | b'+', rest @ ..] => rest,
        _ => line,
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(FrameError::InvalidBigNumber);
    }
    Ok(())
}

/// Builds the frame starting at `*pos` from a buffer the scan validated,
/// advancing `*pos` past it. Recursion depth is bounded by the decoder's
/// `max_depth`, which the scan enforced.
fn build(data: &Bytes, pos: &mut usize) -> Result<Frame, FrameError> {
    let kind = data[*pos];
    let line_end = find_crlf(data, *pos + 1).ok_or(FrameError::InvalidLength)?;
    let line = &data[*pos + 1..line_end];
    let line_bytes = || data.slice(*pos + 1..line_end);
    let next = line_end + 2;
    let frame = match kind {
        b'+' => Frame::Simple(line_bytes()),
        b'-' => Frame::Error(line_bytes()),
        b':' => Frame::Integer(parse_integer(line)?),
        b',' => Frame::Double(parse_double(line)?),
        b'#' => Frame::Boolean(parse_bool(line)?),
        b'_' => Frame::Null,
        b'(' => Frame::BigNumber(line_bytes()),
        b'$' | b'!' | b'=' => match parse_length(line)? {
            None => {
                *pos = next;
                return Ok(Frame::NullBulk);
            }
            Some(len) => {
                let end = next + len as usize;
                let body = data.slice(next..end);
                *pos = end + 2;
                return Ok(match kind {
                    b'$' => Frame::Bulk(body),
                    b'!' => Frame::BlobError(body),
                    _ => {
                        let format = [body[0], body[1], body[2]];
                        Frame::Verbatim {
                            format,
                            text: body.slice(4..),
                        }
                    }
                });
            }
        },
        b'*' | b'%' | b'~' | b'>' | b'|' => {
            let Some(count) = parse_length(line)? else {
                *pos = next;
                return Ok(Frame::NullArray);
            };
            *pos = next;
            // Every element takes at least three bytes, and the scan saw all
            // of them, so this capacity is bounded by the buffer size.
            let count = count as usize;
            return Ok(match kind {
                b'*' | b'~' | b'>' => {
                    let mut items = Vec::with_capacity(count);
                    for _ in 0..count {
                        items.push(build(data, pos)?);
                    }
                    match kind {
                        b'*' => Frame::Array(items),
                        b'~' => Frame::Set(items),
                        _ => Frame::Push(items),
                    }
                }
                _ => {
                    let mut pairs = Vec::with_capacity(count);
                    for _ in 0..count {
                        let k = build(data, pos)?;
                        let v = build(data, pos)?;
                        pairs.push((k, v));
                    }
                    if kind == b'%' {
                        Frame::Map(pairs)
                    } else {
                        let frame = Box::new(build(data, pos)?);
                        Frame::Attribute {
                            attributes: pairs,
                            frame,
                        }
                    }
                }
            });
        }
        other => return Err(FrameError::InvalidType(other)),
    };
    *pos = next;
    Ok(frame)
}

impl Frame {
    /// Appends the wire form of this frame. Frames decoded from Redis's output
    /// encode back to the same bytes; RESP3-only types use their RESP3
    /// spelling.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Frame::Simple(s) => put_line(out, b'+', s),
            Frame::Error(s) => put_line(out, b'-', s),
            Frame::Integer(n) => put_number(out, b':', *n),
            Frame::Bulk(b) => put_blob(out, b'$', b),
            Frame::NullBulk => out.extend_from_slice(b"$-1\r\n"),
            Frame::NullArray => out.extend_from_slice(b"*-1\r\n"),
            Frame::Null => out.extend_from_slice(b"_\r\n"),
            Frame::Array(items) => put_items(out, b'*', items),
            Frame::Set(items) => put_items(out, b'~', items),
            Frame::Push(items) => put_items(out, b'>', items),
            Frame::Map(pairs) => put_pairs(out, b'%', pairs),
            Frame::Double(d) => {
                let mut buf = [0u8; 40];
                put_line(out, b',', format_double(*d, &mut buf));
            }
            Frame::Boolean(b) => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            Frame::BigNumber(n) => put_line(out, b'(', n),
            Frame::BlobError(e) => put_blob(out, b'!', e),
            Frame::Verbatim { format, text } => {
                put_number(out, b'=', text.len() as i64 + 4);
                out.extend_from_slice(format);
                out.push(b':');
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Attribute { attributes, frame } => {
                put_pairs(out, b'|', attributes);
                frame.encode(out);
            }
        }
    }

    /// The wire form as a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }

    /// True for `-` errors and `!` blob errors.
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_) | Frame::BlobError(_))
    }

    /// True for the three null spellings.
    pub fn is_null(&self) -> bool {
        matches!(self, Frame::Null | Frame::NullBulk | Frame::NullArray)
    }
}

fn put_line(out: &mut Vec<u8>, prefix: u8, s: &[u8]) {
    out.push(prefix);
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

fn put_number(out: &mut Vec<u8>, prefix: u8, n: i64) {
    let mut buf = [0u8; 20];
    put_line(out, prefix, crate::reply::fmt_i64(n, &mut buf));
}

fn put_blob(out: &mut Vec<u8>, prefix: u8, b: &[u8]) {
    put_number(out, prefix, b.len() as i64);
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

fn put_items(out: &mut Vec<u8>, prefix: u8, items: &[Frame]) {
    put_number(out, prefix, items.len() as i64);
    for item in items {
        item.encode(out);
    }
}

fn put_pairs(out: &mut Vec<u8>, prefix: u8, pairs: &[(Frame, Frame)]) {
    put_number(out, prefix, pairs.len() as i64);
    for (k, v) in pairs {
        k.encode(out);
        v.encode(out);
    }
}

/// Renders the frame as `redis-cli` does on a terminal, without the final
/// newline: `"foo"`, `(integer) 1`, `(nil)`, `(error) ERR ...`, numbered and
/// indented aggregates (`1) `, `1~ ` for sets, `1# key => value` for maps).
/// Attributes are not shown, only the frame they annotate.
impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        format_tty(self, "", &mut out);
        if out.ends_with('\n') {
            out.pop();
        }
        f.write_str(&out)
    }
}

/// Appends `b` as `redis-cli`'s `sdscatrepr()` does: in double quotes, with
/// `\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b` escaped, other printable ASCII
/// as is and everything else as `\xHH`.
pub fn quote_bytes(b: &[u8], out: &mut String) {
    use fmt::Write;
    out.push('"');
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'\x07' => out.push_str("\\a"),
            b'\x08' => out.push_str("\\b"),
            0x20..=0x7e => out.push(char::from(c)),
            _ => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push('"');
}

/// Text that `redis-cli` prints raw (status lines, errors, verbatim text).
/// Invalid UTF-8 is replaced, since the output is a Rust string.
fn push_raw(b: &[u8], out: &mut String) {
    out.push_str(&String::from_utf8_lossy(b));
}

/// Whether an aggregate spans several lines, in which case `redis-cli` starts a
/// map value on its own line so that it stays aligned.
fn is_multiline(frame: &Frame) -> bool {
    match frame {
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => match items.as_slice() {
            [] => false,
            [only] => is_multiline(only),
            _ => true,
        },
        Frame::Map(pairs) => match pairs.as_slice() {
            [] => false,
            [(_, v)] => is_multiline(v),
            _ => true,
        },
        Frame::Attribute { frame, .. } => is_multiline(frame),
        _ => false,
    }
}

/// `redis-cli`'s `cliFormatReplyTTY()`: every value ends with a newline, and
/// nested elements after the first of an aggregate are indented by `prefix`.
fn format_tty(frame: &Frame, prefix: &str, out: &mut String) {
    use fmt::Write;
    match frame {
        Frame::Error(s) | Frame::BlobError(s) => {
            out.push_str("(error) ");
            push_raw(s, out);
            out.push('\n');
        }
        Frame::Simple(s) => {
            push_raw(s, out);
            out.push('\n');
        }
        Frame::Integer(n) => {
            let _ = writeln!(out, "(integer) {n}");
        }
        Frame::Double(d) => {
            let mut buf = [0u8; 40];
            out.push_str("(double) ");
            push_raw(format_double(*d, &mut buf), out);
            out.push('\n');
        }
        Frame::BigNumber(n) => {
            out.push_str("(big number) ");
            push_raw(n, out);
            out.push('\n');
        }
        Frame::Bulk(b) => {
            quote_bytes(b, out);
            out.push('\n');
        }
        Frame::Verbatim { text, .. } => {
            push_raw(text, out);
            out.push('\n');
        }
        Frame::Null | Frame::NullBulk | Frame::NullArray => out.push_str("(nil)\n"),
        Frame::Boolean(b) => out.push_str(if *b { "(true)\n" } else { "(false)\n" }),
        Frame::Attribute { frame, .. } => format_tty(frame, prefix, out),
        Frame::Array(items) => format_list(items, ')', "(empty array)\n", prefix, out),
        Frame::Set(items) => format_list(items, '~', "(empty set)\n", prefix, out),
        Frame::Push(items) => format_list(items, ')', "(empty push)\n", prefix, out),
        Frame::Map(pairs) => {
            if pairs.is_empty() {
                out.push_str("(empty hash)\n");
                return;
            }
            let width = decimal_width(pairs.len());
            let nested = nested_prefix(prefix, width);
            for (i, (k, v)) in pairs.iter().enumerate() {
                let _ = write!(
                    out,
                    "{}{:>width$}# ",
                    if i == 0 { "" } else { prefix },
                    i + 1
                );
                format_tty(k, &nested, out);
                // Replace the key's newline with the arrow.
                out.pop();
                out.push_str(" => ");
                if is_multiline(v) {
                    out.push('\n');
                    out.push_str(&nested);
                }
                format_tty(v, &nested, out);
            }
        }
    }
}

fn format_list(items: &[Frame], sep: char, empty: &str, prefix: &str, out: &mut String) {
    use fmt::Write;
    if items.is_empty() {
        out.push_str(empty);
        return;
    }
    let width = decimal_width(items.len());
    let nested = nested_prefix(prefix, width);
    for (i, item) in items.iter().enumerate() {
        let _ = write!(
            out,
            "{}{:>width$}{sep} ",
            if i == 0 { "" } else { prefix },
            i + 1
        );
        format_tty(item, &nested, out);
    }
}

fn decimal_width(mut n: usize) -> usize {
    let mut w = 1;
    while n >= 10 {
        n /= 10;
        w += 1;
    }
    w
}

/// Nested values line up after `<index><sep> `.
fn nested_prefix(prefix: &str, width: usize) -> String {
    let mut p = String::with_capacity(prefix.len() + width + 2);
    p.push_str(prefix);
    p.extend(std::iter::repeat_n(' ', width + 2));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_one(input: &[u8]) -> Result<Option<Frame>, FrameError> {
        let mut d = FrameDecoder::new();
        let mut buf = BytesMut::from(input);
        let r = d.decode(&mut buf);
        if let Ok(Some(_)) = r {
            assert!(buf.is_empty(), "left over: {buf:?}");
        }
        r
    }

    fn frame(input: &[u8]) -> Frame {
        decode_one(input).unwrap().unwrap()
    }

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn scalars() {
        assert_eq!(frame(b"+OK\r\n"), Frame::Simple(b("OK")));
        assert_eq!(frame(b"-ERR x\r\n"), Frame::Error(b("ERR x")));
        assert_eq!(frame(b":-42\r\n"), Frame::Integer(-42));
        assert_eq!(frame(b":+7\r\n"), Frame::Integer(7));
        assert_eq!(
            frame(b":-9223372036854775808\r\n"),
            Frame::Integer(i64::MIN)
        );
        assert_eq!(frame(b"$3\r\nfoo\r\n"), Frame::Bulk(b("foo")));
        assert_eq!(frame(b"$0\r\n\r\n"), Frame::Bulk(Bytes::new()));
        assert_eq!(frame(b"$4\r\na\r\nb\r\n"), Frame::Bulk(b("a\r\nb")));
        assert_eq!(frame(b"$-1\r\n"), Frame::NullBulk);
        assert_eq!(frame(b"*-1\r\n"), Frame::NullArray);
        assert_eq!(frame(b"_\r\n"), Frame::Null);
        assert_eq!(frame(b",1.5\r\n"), Frame::Double(1.5));
        assert_eq!(frame(b",inf\r\n"), Frame::Double(f64::INFINITY));
        assert_eq!(frame(b",-inf\r\n"), Frame::Double(f64::NEG_INFINITY));
        assert!(matches!(frame(b",nan\r\n"), Frame::Double(d) if d.is_nan()));
        assert_eq!(frame(b",1e+20\r\n"), Frame::Double(1e20));
        assert_eq!(frame(b"#t\r\n"), Frame::Boolean(true));
        assert_eq!(frame(b"#f\r\n"), Frame::Boolean(false));
        assert_eq!(
            frame(b"(-123456789012345678901234567890\r\n"),
            Frame::BigNumber(b("-123456789012345678901234567890"))
        );
        assert_eq!(frame(b"!5\r\nERR x\r\n"), Frame::BlobError(b("ERR x")));
        assert_eq!(
            frame(b"=8\r\ntxt:abcd\r\n"),
            Frame::Verbatim {
                format: *b"txt",
                text: b("abcd")
            }
        );
        assert_eq!(
            frame(b"=4\r\nmkd:\r\n"),
            Frame::Verbatim {
                format: *b"mkd",
                text: Bytes::new()
            }
        );
        assert_eq!(frame(b"+a\rb\r\n"), Frame::Simple(b("a\rb")));
    }

    #[test]
    fn aggregates() {
        assert_eq!(frame(b"*0\r\n"), Frame::Array(vec![]));
        assert_eq!(
            frame(b"*2\r\n:1\r\n*1\r\n$1\r\nx\r\n"),
            Frame::Array(vec![
                Frame::Integer(1),
                Frame::Array(vec![Frame::Bulk(b("x"))])
            ])
        );
        assert_eq!(
            frame(b"%2\r\n+a\r\n:1\r\n+b\r\n_\r\n"),
            Frame::Map(vec![
                (Frame::Simple(b("a")), Frame::Integer(1)),
                (Frame::Simple(b("b")), Frame::Null)
            ])
        );
        assert_eq!(
            frame(b"~1\r\n#t\r\n"),
            Frame::Set(vec![Frame::Boolean(true)])
        );
        assert_eq!(
            frame(b">2\r\n+message\r\n$1\r\nx\r\n"),
            Frame::Push(vec![Frame::Simple(b("message")), Frame::Bulk(b("x"))])
        );
        assert_eq!(frame(b"%0\r\n"), Frame::Map(vec![]));
    }

    #[test]
    fn attributes() {
        let f = frame(b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n*1\r\n:2\r\n");
        assert_eq!(
            f,
            Frame::Attribute {
                attributes: vec![(
                    Frame::Simple(b("key-popularity")),
                    Frame::Map(vec![(Frame::Bulk(b("a")), Frame::Double(0.1923))])
                )],
                frame: Box::new(Frame::Array(vec![Frame::Integer(2)])),
            }
        );
        // An attribute can annotate an element inside an aggregate.
        let f = frame(b"*2\r\n|0\r\n:1\r\n:2\r\n");
        assert_eq!(
            f,
            Frame::Array(vec![
                Frame::Attribute {
                    attributes: vec![],
                    frame: Box::new(Frame::Integer(1))
                },
                Frame::Integer(2)
            ])
        );
        assert_eq!(f.to_string(), "1) (integer) 1\n2) (integer) 2");
    }

    #[test]
    fn incomplete_frames_leave_the_buffer_alone() {
        for input in [
            &b""[..],
            b"+OK",
            b"+OK\r",
            b"$3\r\nfo",
            b"$3\r\nfoo\r",
            b"*2\r\n:1\r\n",
            b"%1\r\n+a\r\n",
            b"|1\r\n+a\r\n+b\r\n",
            b"=8\r\ntxt:",
        ] {
            let mut d = FrameDecoder::new();
            let mut buf = BytesMut::from(input);
            assert_eq!(d.decode(&mut buf).unwrap(), None, "{input:?}");
            assert_eq!(&buf[..], input);
        }
    }

    #[test]
    fn resumes_scanning() {
        let mut d = FrameDecoder::new();
        let mut buf = BytesMut::from(&b"*3\r\n:1\r\n:2"[..]);
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        assert_eq!(d.scan.pos, 8);
        buf.extend_from_slice(b"\r\n$1\r\nx\r\n+next\r\n");
        assert_eq!(
            d.decode(&mut buf).unwrap().unwrap(),
            Frame::Array(vec![
                Frame::Integer(1),
                Frame::Integer(2),
                Frame::Bulk(b("x"))
            ])
        );
        assert_eq!(
            d.decode(&mut buf).unwrap().unwrap(),
            Frame::Simple(b("next"))
        );
        assert_eq!(d.decode(&mut buf).unwrap(), None);
    }

    #[test]
    fn errors() {
        let cases: &[(&[u8], FrameError)] = &[
            (b"?x\r\n", FrameError::InvalidType(b'?')),
            (b"?", FrameError::InvalidType(b'?')),
            (b":abc\r\n", FrameError::InvalidInteger),
            (b":\r\n", FrameError::InvalidInteger),
            (b":9223372036854775808\r\n", FrameError::InvalidInteger),
            (b",\r\n", FrameError::InvalidDouble),
            (b",1.5x\r\n", FrameError::InvalidDouble),
            (b"#x\r\n", FrameError::InvalidBoolean),
            (b"_x\r\n", FrameError::InvalidNull),
            (b"(12a\r\n", FrameError::InvalidBigNumber),
            (b"(\r\n", FrameError::InvalidBigNumber),
            (b"$-2\r\n", FrameError::InvalidLength),
            (b"$x\r\n", FrameError::InvalidLength),
            (b"$?\r\n", FrameError::InvalidLength),
            (b"!-1\r\n", FrameError::InvalidLength),
            (b"%-1\r\n", FrameError::InvalidLength),
            (b"*-2\r\n", FrameError::InvalidLength),
            (b"$3\r\nfooXY", FrameError::ExpectedCrlf),
            (b"=3\r\ntxt\r\n", FrameError::InvalidVerbatim),
            (b"=5\r\ntxt-a\r\n", FrameError::InvalidVerbatim),
            (b"*1\r\n?\r\n", FrameError::InvalidType(b'?')),
        ];
        for (input, expected) in cases {
            let mut d = FrameDecoder::new();
            let mut buf = BytesMut::from(*input);
            assert_eq!(d.decode(&mut buf).unwrap_err(), *expected, "{input:?}");
            assert_eq!(&buf[..], *input, "buffer untouched on error");
        }
        assert_eq!(
            FrameError::InvalidType(b'|').to_string(),
            "Protocol error, got \"|\" as reply type byte"
        );
    }

    #[test]
    fn limits() {
        let mut d = FrameDecoder::with_limits(2, 10);
        let mut buf = BytesMut::from(&b"*1\r\n*1\r\n:1\r\n"[..]);
        assert!(d.decode(&mut buf).unwrap().is_some());
        let mut buf = BytesMut::from(&b"*1\r\n*1\r\n*0\r\n"[..]);
        assert_eq!(d.decode(&mut buf).unwrap_err(), FrameError::TooDeep(2));
        let mut buf = BytesMut::from(&b"$11\r\n"[..]);
        assert_eq!(
            d.decode(&mut buf).unwrap_err(),
            FrameError::BulkTooLarge { len: 11, max: 10 }
        );
        let mut buf = BytesMut::from(&b"$10\r\n0123456789\r\n"[..]);
        assert!(d.decode(&mut buf).unwrap().is_some());
        let mut buf = BytesMut::from(&vec![b'+'; 200][..]);
        assert_eq!(d.decode(&mut buf).unwrap_err(), FrameError::LineTooLong(10));

        // The default depth limit is 128.
        let mut deep = b"*1\r\n".repeat(128);
        deep.extend_from_slice(b":1\r\n");
        assert!(decode_one(&deep).unwrap().is_some());
        let mut deeper = b"*1\r\n".repeat(129);
        deeper.extend_from_slice(b":1\r\n");
        assert_eq!(decode_one(&deeper).unwrap_err(), FrameError::TooDeep(128));
    }

    #[test]
    fn huge_counts_do_not_allocate_up_front() {
        assert_eq!(decode_one(b"*9999999999999999999\r\n:1\r\n").unwrap(), None);
        assert_eq!(
            decode_one(b"%9999999999999999999\r\n").unwrap_err(),
            FrameError::InvalidLength
        );
    }

    #[test]
    fn encode_round_trips() {
        for input in [
            &b"+OK\r\n"[..],
            b"-ERR x\r\n",
            b":-1\r\n",
            b"$3\r\nfoo\r\n",
            b"$-1\r\n",
            b"*-1\r\n",
            b"_\r\n",
            b",1.5\r\n",
            b",-inf\r\n",
            b",nan\r\n",
            b"#t\r\n",
            b"(123\r\n",
            b"!3\r\nerr\r\n",
            b"=7\r\ntxt:abc\r\n",
            b"*2\r\n%1\r\n+a\r\n~1\r\n:1\r\n>1\r\n$0\r\n\r\n",
            b"|1\r\n+a\r\n+b\r\n:1\r\n",
        ] {
            assert_eq!(
                frame(input).to_vec(),
                input,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn display_like_redis_cli() {
        let cases: &[(&[u8], &str)] = &[
            (b"+OK\r\n", "OK"),
            (b"-ERR unknown command\r\n", "(error) ERR unknown command"),
            (b"!7\r\nERR bad\r\n", "(error) ERR bad"),
            (b":1\r\n", "(integer) 1"),
            (b"$3\r\nfoo\r\n", "\"foo\""),
            (
                b"$9\r\nx\"y\\z\x01\xff\t\n\r\n",
                "\"x\\\"y\\\\z\\x01\\xff\\t\\n\"",
            ),
            (b"$2\r\n\x07\x08\r\n", "\"\\a\\b\""),
            (b"$-1\r\n", "(nil)"),
            (b"*-1\r\n", "(nil)"),
            (b"_\r\n", "(nil)"),
            (b",3.141\r\n", "(double) 3.141"),
            (b",inf\r\n", "(double) inf"),
            (b"#t\r\n", "(true)"),
            (b"#f\r\n", "(false)"),
            (
                b"(1234567999999999999999999999999999999\r\n",
                "(big number) 1234567999999999999999999999999999999",
            ),
            (b"=22\r\ntxt:This is a verbatim\r\n", "This is a verbatim"),
            (b"*0\r\n", "(empty array)"),
            (b"%0\r\n", "(empty hash)"),
            (b"~0\r\n", "(empty set)"),
            (b">0\r\n", "(empty push)"),
            (
                b"*3\r\n:0\r\n:1\r\n:2\r\n",
                "1) (integer) 0\n2) (integer) 1\n3) (integer) 2",
            ),
            (b"~2\r\n:0\r\n:1\r\n", "1~ (integer) 0\n2~ (integer) 1"),
            (
                b"%2\r\n:0\r\n#f\r\n:1\r\n#t\r\n",
                "1# (integer) 0 => (false)\n2# (integer) 1 => (true)",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(frame(input).to_string(), *expected, "{input:?}");
        }
    }

    #[test]
    fn display_nested_like_redis_cli() {
        // redis-cli: EVAL "return {1,{2,{3,'x'}},{},'y'}" 0
        let f = frame(b"*4\r\n:1\r\n*2\r\n:2\r\n*2\r\n:3\r\n$1\r\nx\r\n*0\r\n$1\r\ny\r\n");
        assert_eq!(
            f.to_string(),
            "1) (integer) 1\n2) 1) (integer) 2\n   2) 1) (integer) 3\n      2) \"x\"\n3) (empty array)\n4) \"y\""
        );
        // Indices are right-aligned to the widest one.
        let items: Vec<Frame> = (0..10).map(Frame::Integer).collect();
        let s = Frame::Array(vec![Frame::Array(items)]).to_string();
        assert!(
            s.starts_with("1)  1) (integer) 0\n    2) (integer) 1\n"),
            "{s}"
        );
        assert!(s.ends_with("\n   10) (integer) 9"), "{s}");
    }

    #[test]
    fn display_map_with_multiline_values() {
        // redis-cli -3: COMMAND DOCS get (abridged)
        let f = frame(
            b"%1\r\n$3\r\nget\r\n%2\r\n$7\r\nsummary\r\n$3\r\nGet\r\n$9\r\narguments\r\n*1\r\n%2\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n",
        );
        assert_eq!(
            f.to_string(),
            "1# \"get\" => \n   1# \"summary\" => \"Get\"\n   2# \"arguments\" => \n      1) 1# \"name\" => \"key\"\n         2# \"type\" => \"key\""
        );
        // A single-element value stays on the arrow's line.
        let f = frame(b"%1\r\n$1\r\na\r\n*1\r\n:1\r\n");
        assert_eq!(f.to_string(), "1# \"a\" => 1) (integer) 1");
    }

    #[test]
    fn helpers() {
        assert!(frame(b"-E\r\n").is_error());
        assert!(frame(b"!1\r\nE\r\n").is_error());
        assert!(frame(b"_\r\n").is_null());
        assert!(!frame(b":0\r\n").is_null());
        let mut s = String::new();
        quote_bytes(b"a b", &mut s);
        assert_eq!(s, "\"a b\"");
    }
}
