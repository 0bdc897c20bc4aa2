//! The semantic reply type.
//!
//! Command handlers return a [`Reply`] that says *what* the answer is (a map, a
//! double, a null) rather than how it is spelled on the wire; the connection then
//! encodes it for the protocol it negotiated. This keeps handlers identical for
//! RESP2 and RESP3 clients, for MULTI/EXEC, for Lua and for replication.

use std::borrow::Cow;

use bytes::{BufMut, Bytes};

use crate::double::format_double;
use crate::Protocol;

/// Static or owned text, used for status lines.
pub type Text = Cow<'static, str>;

/// The text of an error line. Almost always UTF-8, but binary-safe: Redis
/// echoes arguments into its error texts as raw bytes (`ERR Unsupported
/// option \xff`), and so must Ferrum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorText(Cow<'static, [u8]>);

impl ErrorText {
    /// The raw bytes of the text.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text as UTF-8, with invalid sequences replaced (for logs and for
    /// texts built from other errors).
    pub fn to_str_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// The error code: the text up to the first space (`ERR`, `WRONGTYPE`).
    pub fn code(&self) -> &[u8] {
        let end = self
            .0
            .iter()
            .position(|&c| c == b' ')
            .unwrap_or(self.0.len());
        &self.0[..end]
    }
}

impl From<&'static str> for ErrorText {
    fn from(s: &'static str) -> Self {
        ErrorText(Cow::Borrowed(s.as_bytes()))
    }
}

impl From<String> for ErrorText {
    fn from(s: String) -> Self {
        ErrorText(Cow::Owned(s.into_bytes()))
    }
}

impl From<Text> for ErrorText {
    fn from(s: Text) -> Self {
        match s {
            Cow::Borrowed(b) => b.into(),
            Cow::Owned(o) => o.into(),
        }
    }
}

impl From<Vec<u8>> for ErrorText {
    fn from(b: Vec<u8>) -> Self {
        ErrorText(Cow::Owned(b))
    }
}

/// A reply to a command, independent of the protocol version.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// A status line: `+OK`.
    Simple(Text),
    /// An error line. The text starts with the error code (`ERR`, `WRONGTYPE`, ...)
    /// and carries no leading `-`.
    Error(ErrorText),
    /// `:42`.
    Integer(i64),
    /// A binary-safe string: `$3\r\nfoo`.
    Bulk(Bytes),
    /// A missing value: `$-1` in RESP2, `_` in RESP3.
    Null,
    /// A missing aggregate: `*-1` in RESP2, `_` in RESP3.
    NullArray,
    /// An ordered sequence.
    Array(Vec<Reply>),
    /// Key/value pairs: a `%` map in RESP3, a flat array in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// An unordered collection: `~` in RESP3, an array in RESP2.
    Set(Vec<Reply>),
    /// A floating point number: `,` in RESP3, a bulk string in RESP2.
    Double(f64),
    /// `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    Boolean(bool),
    /// Text with a three-letter format (`txt`, `mkd`): `=` in RESP3, bulk in RESP2.
    Verbatim { format: [u8; 3], text: Bytes },
    /// An arbitrary precision integer in decimal: `(` in RESP3, bulk in RESP2.
    BigNumber(Bytes),
    /// Out-of-band data (pub/sub, invalidation): `>` in RESP3, an array in RESP2.
    Push(Vec<Reply>),
}

impl Reply {
    /// `+OK`, the most common reply of all.
    pub const fn ok() -> Reply {
        Reply::Simple(Cow::Borrowed("OK"))
    }

    /// A status line from static text.
    pub const fn simple(s: &'static str) -> Reply {
        Reply::Simple(Cow::Borrowed(s))
    }

    /// An error from text that already starts with its code (`ERR ...`);
    /// raw bytes (`Vec<u8>`) are accepted for texts that echo arguments.
    pub fn error(s: impl Into<ErrorText>) -> Reply {
        Reply::Error(s.into())
    }

    /// A bulk string from anything that converts to [`Bytes`].
    pub fn bulk(b: impl Into<Bytes>) -> Reply {
        Reply::Bulk(b.into())
    }

    /// A bulk string copied from a slice.
    pub fn bulk_copy(b: &[u8]) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(b))
    }

    /// A bulk string holding the decimal form of an integer.
    pub fn bulk_int(n: i64) -> Reply {
        let mut buf = itoa_buf();
        let s = fmt_i64(n, &mut buf);
        Reply::Bulk(Bytes::copy_from_slice(s))
    }

    /// True for [`Reply::Error`].
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// Appends the wire form of this reply for `proto` to `out`.
    pub fn encode<B: BufMut>(&self, proto: Protocol, out: &mut B) {
        let resp3 = proto == Protocol::Resp3;
        match self {
            Reply::Simple(s) => {
                out.put_u8(b'+');
                put_line_text(out, s.as_bytes());
            }
            Reply::Error(s) => {
                out.put_u8(b'-');
                put_line_text(out, s.as_bytes());
            }
            Reply::Integer(n) => put_int_line(out, b':', *n),
            Reply::Bulk(b) => put_bulk(out, b),
            Reply::Null => {
                if resp3 {
                    out.put_slice(b"_\r\n")
                } else {
                    out.put_slice(b"$-1\r\n")
                }
            }
            Reply::NullArray => {
                if resp3 {
                    out.put_slice(b"_\r\n")
                } else {
                    out.put_slice(b"*-1\r\n")
                }
            }
            Reply::Array(items) => {
                put_int_line(out, b'*', items.len() as i64);
                for item in items {
                    item.encode(proto, out);
                }
            }
            Reply::Set(items) => {
                put_int_line(out, if resp3 { b'~' } else { b'*' }, items.len() as i64);
                for item in items {
                    item.encode(proto, out);
                }
            }
            Reply::Push(items) => {
                put_int_line(out, if resp3 { b'>' } else { b'*' }, items.len() as i64);
                for item in items {
                    item.encode(proto, out);
                }
            }
            Reply::Map(pairs) => {
                if resp3 {
                    put_int_line(out, b'%', pairs.len() as i64);
                } else {
                    put_int_line(out, b'*', 2 * pairs.len() as i64);
                }
                for (k, v) in pairs {
                    k.encode(proto, out);
                    v.encode(proto, out);
                }
            }
            Reply::Double(d) => {
                let mut buf = [0u8; 40];
                let s = format_double(*d, &mut buf);
                if resp3 {
                    out.put_u8(b',');
                    out.put_slice(s);
                    out.put_slice(b"\r\n");
                } else {
                    put_bulk(out, s);
                }
            }
            Reply::Boolean(b) => {
                if resp3 {
                    out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" });
                } else {
                    out.put_slice(if *b { b":1\r\n" } else { b":0\r\n" });
                }
            }
            Reply::Verbatim { format, text } => {
                if resp3 {
                    put_int_line(out, b'=', text.len() as i64 + 4);
                    out.put_slice(format);
                    out.put_u8(b':');
                    out.put_slice(text);
                    out.put_slice(b"\r\n");
                } else {
                    put_bulk(out, text);
                }
            }
            Reply::BigNumber(n) => {
                if resp3 {
                    out.put_u8(b'(');
                    out.put_slice(n);
                    out.put_slice(b"\r\n");
                } else {
                    put_bulk(out, n);
                }
            }
        }
    }

    /// The wire form of this reply as a new vector; convenient in tests.
    pub fn to_vec(&self, proto: Protocol) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(proto, &mut v);
        v
    }
}

impl From<i64> for Reply {
    fn from(n: i64) -> Self {
        Reply::Integer(n)
    }
}

impl From<Bytes> for Reply {
    fn from(b: Bytes) -> Self {
        Reply::Bulk(b)
    }
}

impl From<Option<Bytes>> for Reply {
    fn from(b: Option<Bytes>) -> Self {
        b.map_or(Reply::Null, Reply::Bulk)
    }
}

/// A status or error line may not contain CR or LF; Redis replaces them with
/// spaces so that a reply can never break the framing.
fn put_line_text<B: BufMut>(out: &mut B, text: &[u8]) {
    if text.iter().any(|&c| c == b'\r' || c == b'\n') {
        for &c in text {
            out.put_u8(if c == b'\r' || c == b'\n' { b' ' } else { c });
        }
    } else {
        out.put_slice(text);
    }
    out.put_slice(b"\r\n");
}

fn put_bulk<B: BufMut>(out: &mut B, b: &[u8]) {
    put_int_line(out, b'$', b.len() as i64);
    out.put_slice(b);
    out.put_slice(b"\r\n");
}

type ItoaBuf = [u8; 20];

fn itoa_buf() -> ItoaBuf {
    [0u8; 20]
}

/// Formats an integer without allocating.
pub(crate) fn fmt_i64(n: i64, buf: &mut ItoaBuf) -> &[u8] {
    let mut i = buf.len();
    let neg = n < 0;
    let mut u = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

fn put_int_line<B: BufMut>(out: &mut B, prefix: u8, n: i64) {
    let mut buf = itoa_buf();
    out.put_u8(prefix);
    out.put_slice(fmt_i64(n, &mut buf));
    out.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_differ_by_protocol() {
        assert_eq!(Reply::Null.to_vec(Protocol::Resp2), b"$-1\r\n");
        assert_eq!(Reply::NullArray.to_vec(Protocol::Resp2), b"*-1\r\n");
        assert_eq!(Reply::Null.to_vec(Protocol::Resp3), b"_\r\n");
        assert_eq!(Reply::NullArray.to_vec(Protocol::Resp3), b"_\r\n");
    }

    #[test]
    fn map_is_flat_array_in_resp2() {
        let r = Reply::Map(vec![(Reply::bulk("a"), Reply::Integer(1))]);
        assert_eq!(r.to_vec(Protocol::Resp2), b"*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(r.to_vec(Protocol::Resp3), b"%1\r\n$1\r\na\r\n:1\r\n");
    }

    #[test]
    fn integers_extremes() {
        assert_eq!(
            Reply::Integer(i64::MIN).to_vec(Protocol::Resp2),
            b":-9223372036854775808\r\n"
        );
        assert_eq!(Reply::Integer(0).to_vec(Protocol::Resp2), b":0\r\n");
    }

    #[test]
    fn error_texts_are_binary_safe() {
        let e = Reply::error(b"ERR Unsupported option \xff\x01".to_vec());
        assert_eq!(
            e.to_vec(Protocol::Resp2),
            b"-ERR Unsupported option \xff\x01\r\n"
        );
        let Reply::Error(t) = &e else { panic!() };
        assert_eq!(t.code(), b"ERR");
        assert_eq!(t.to_str_lossy(), "ERR Unsupported option \u{fffd}\u{1}");
        assert_eq!(Reply::error("NOAUTH x"), Reply::error(b"NOAUTH x".to_vec()));
    }

    #[test]
    fn error_lines_cannot_break_framing() {
        assert_eq!(
            Reply::error("ERR a\r\nb").to_vec(Protocol::Resp2),
            b"-ERR a  b\r\n"
        );
    }

    #[test]
    fn doubles_use_redis_formatting() {
        assert_eq!(Reply::Double(1.5).to_vec(Protocol::Resp3), b",1.5\r\n");
        assert_eq!(Reply::Double(1.5).to_vec(Protocol::Resp2), b"$3\r\n1.5\r\n");
        assert_eq!(Reply::Double(3.0).to_vec(Protocol::Resp3), b",3\r\n");
        assert_eq!(Reply::Double(1e20).to_vec(Protocol::Resp3), b",1e+20\r\n");
        assert_eq!(
            Reply::Double(f64::INFINITY).to_vec(Protocol::Resp2),
            b"$3\r\ninf\r\n"
        );
        assert_eq!(
            Reply::Double(f64::NEG_INFINITY).to_vec(Protocol::Resp3),
            b",-inf\r\n"
        );
        assert_eq!(Reply::Double(f64::NAN).to_vec(Protocol::Resp3), b",nan\r\n");
        assert_eq!(Reply::Double(-0.0).to_vec(Protocol::Resp3), b",-0\r\n");
    }

    #[test]
    fn resp3_types_degrade_in_resp2() {
        let cases: &[(Reply, &[u8], &[u8])] = &[
            (Reply::Boolean(true), b"#t\r\n", b":1\r\n"),
            (Reply::Boolean(false), b"#f\r\n", b":0\r\n"),
            (
                Reply::Verbatim {
                    format: *b"txt",
                    text: Bytes::from_static(b"hi"),
                },
                b"=6\r\ntxt:hi\r\n",
                b"$2\r\nhi\r\n",
            ),
            (
                Reply::BigNumber(Bytes::from_static(b"-123")),
                b"(-123\r\n",
                b"$4\r\n-123\r\n",
            ),
            (
                Reply::Set(vec![Reply::Integer(1)]),
                b"~1\r\n:1\r\n",
                b"*1\r\n:1\r\n",
            ),
            (
                Reply::Push(vec![Reply::simple("a")]),
                b">1\r\n+a\r\n",
                b"*1\r\n+a\r\n",
            ),
            (Reply::Map(vec![]), b"%0\r\n", b"*0\r\n"),
        ];
        for (reply, resp3, resp2) in cases {
            assert_eq!(reply.to_vec(Protocol::Resp3), *resp3, "{reply:?}");
            assert_eq!(reply.to_vec(Protocol::Resp2), *resp2, "{reply:?}");
        }
    }

    #[test]
    fn constructors() {
        assert_eq!(Reply::ok().to_vec(Protocol::Resp2), b"+OK\r\n");
        assert_eq!(Reply::simple("PONG").to_vec(Protocol::Resp3), b"+PONG\r\n");
        assert_eq!(Reply::bulk("foo").to_vec(Protocol::Resp2), b"$3\r\nfoo\r\n");
        assert_eq!(Reply::bulk_copy(b"").to_vec(Protocol::Resp2), b"$0\r\n\r\n");
        assert_eq!(
            Reply::bulk_int(-42),
            Reply::Bulk(Bytes::from_static(b"-42"))
        );
        assert_eq!(
            Reply::bulk_int(i64::MIN),
            Reply::Bulk(Bytes::from_static(b"-9223372036854775808"))
        );
        assert!(Reply::error("ERR x").is_error());
        assert!(!Reply::ok().is_error());
        assert_eq!(Reply::from(5), Reply::Integer(5));
        assert_eq!(Reply::from(None::<Bytes>), Reply::Null);
        assert_eq!(
            Reply::from(Some(Bytes::from_static(b"v"))),
            Reply::bulk("v")
        );
        assert_eq!(Reply::simple("a\rb").to_vec(Protocol::Resp2), b"+a b\r\n");
    }

    #[test]
    fn encodes_into_any_bufmut() {
        let mut out = bytes::BytesMut::new();
        Reply::Array(vec![Reply::Integer(1), Reply::Null]).encode(Protocol::Resp2, &mut out);
        assert_eq!(&out[..], b"*2\r\n:1\r\n$-1\r\n");
    }
}
