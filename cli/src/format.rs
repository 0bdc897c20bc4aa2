//! Rendering replies as `redis-cli` prints them.
//!
//! The terminal ("standard") form is [`resp::Frame`]'s `Display`: `"foo"`,
//! `(integer) 1`, `(nil)`, `(error) ...`, numbered nested aggregates, and the
//! RESP3 types (`(double) 1.5`, `(true)`, `1# "k" => "v"`, `1~ "m"`). The raw
//! form (`--raw`, or stdout not a terminal) prints strings as they are,
//! aggregates one element per line, and nothing for nil.

use resp::double::format_double;
use resp::Frame;

/// How replies are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputMode {
    /// `redis-cli`'s default on a terminal: types and quoting shown.
    Standard,
    /// `--raw`: strings as they are.
    Raw,
}

/// Delimiters of the raw form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawDelims {
    /// Between the elements of an aggregate (`-d`, default `\n`).
    pub multi_bulk: Vec<u8>,
    /// After each reply (`-D`, default `\n`).
    pub command: Vec<u8>,
}

impl Default for RawDelims {
    fn default() -> Self {
        RawDelims {
            multi_bulk: b"\n".to_vec(),
            command: b"\n".to_vec(),
        }
    }
}

/// The bytes `redis-cli` writes for one reply. `verbatim` is set for the
/// commands whose output is text meant to be read as is (`INFO`, `CLIENT
/// LIST`, ...): they are printed raw, without the delimiter after the reply,
/// whatever the mode.
pub fn format_reply(
    frame: &Frame,
    mode: OutputMode,
    delims: &RawDelims,
    verbatim: bool,
) -> Vec<u8> {
    if verbatim {
        let mut out = Vec::new();
        format_raw(frame, &delims.multi_bulk, &mut out);
        return out;
    }
    match mode {
        OutputMode::Standard => {
            let mut s = frame.to_string();
            s.push('\n');
            s.into_bytes()
        }
        OutputMode::Raw => {
            let mut out = Vec::new();
            format_raw(frame, &delims.multi_bulk, &mut out);
            out.extend_from_slice(&delims.command);
            out
        }
    }
}

/// `redis-cli`'s `cliFormatReplyRaw()`.
pub fn format_raw(frame: &Frame, delim: &[u8], out: &mut Vec<u8>) {
    match frame {
        Frame::Null | Frame::NullBulk | Frame::NullArray => {}
        Frame::Error(e) | Frame::BlobError(e) => {
            out.extend_from_slice(e);
            out.push(b'\n');
        }
        Frame::Simple(s) | Frame::Bulk(s) | Frame::BigNumber(s) => out.extend_from_slice(s),
        Frame::Verbatim { text, .. } => out.extend_from_slice(text),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"(true)" } else { b"(false)" }),
        Frame::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Frame::Double(d) => {
            let mut buf = [0u8; 40];
            out.extend_from_slice(format_double(*d, &mut buf));
        }
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(delim);
                }
                format_raw(item, delim, out);
            }
        }
        Frame::Map(pairs) => {
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(delim);
                }
                format_raw(k, delim, out);
                out.push(b' ');
                format_raw(v, delim, out);
            }
        }
        Frame::Attribute { frame, .. } => format_raw(frame, delim, out),
    }
}

/// The keys of a RESP3 `invalidate` push (client-side caching), when `frame`
/// is one: `redis-cli` prints those as `-> invalidate: 'k1', 'k2'`.
fn invalidated_keys(frame: &Frame) -> Option<&[Frame]> {
    match frame {
        Frame::Push(items) => match items.as_slice() {
            [Frame::Bulk(kind) | Frame::Simple(kind), Frame::Array(keys)]
                if kind.starts_with(b"invalidate") =>
            {
                Some(keys)
            }
            _ => None,
        },
        _ => None,
    }
}

/// The bytes printed for an out-of-band RESP3 push received while waiting
/// for a reply (`--show-pushes`).
pub fn format_push(frame: &Frame, mode: OutputMode, delims: &RawDelims) -> Vec<u8> {
    if mode == OutputMode::Standard {
        if let Some(keys) = invalidated_keys(frame) {
            let mut out = b"-> invalidate: ".to_vec();
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                out.push(b'\'');
                if let Frame::Bulk(k) | Frame::Simple(k) = key {
                    out.extend_from_slice(k);
                }
                out.push(b'\'');
            }
            out.push(b'\n');
            return out;
        }
    }
    format_reply(frame, mode, delims, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn tty(f: &Frame) -> String {
        String::from_utf8(format_reply(
            f,
            OutputMode::Standard,
            &RawDelims::default(),
            false,
        ))
        .unwrap()
    }

    fn raw(f: &Frame) -> String {
        String::from_utf8(format_reply(
            f,
            OutputMode::Raw,
            &RawDelims::default(),
            false,
        ))
        .unwrap()
    }

    #[test]
    fn tty_scalars() {
        assert_eq!(tty(&Frame::Simple(Bytes::from_static(b"OK"))), "OK\n");
        assert_eq!(tty(&bulk("a b")), "\"a b\"\n");
        assert_eq!(tty(&bulk("x\n\x01")), "\"x\\n\\x01\"\n");
        assert_eq!(tty(&Frame::Integer(-3)), "(integer) -3\n");
        assert_eq!(tty(&Frame::NullBulk), "(nil)\n");
        assert_eq!(tty(&Frame::Null), "(nil)\n");
        assert_eq!(
            tty(&Frame::Error(Bytes::from_static(
                b"ERR unknown command 'foo'"
            ))),
            "(error) ERR unknown command 'foo'\n"
        );
    }

    #[test]
    fn tty_resp3_scalars() {
        assert_eq!(tty(&Frame::Double(1.5)), "(double) 1.5\n");
        assert_eq!(tty(&Frame::Boolean(true)), "(true)\n");
        assert_eq!(tty(&Frame::Boolean(false)), "(false)\n");
        assert_eq!(
            tty(&Frame::BigNumber(Bytes::from_static(
                b"123456789012345678901"
            ))),
            "(big number) 123456789012345678901\n"
        );
    }

    #[test]
    fn tty_nested_arrays_are_numbered_and_indented() {
        let f = Frame::Array(vec![
            bulk("a"),
            Frame::Array(vec![Frame::Integer(1), bulk("b")]),
            Frame::Array(vec![]),
        ]);
        assert_eq!(
            tty(&f),
            "1) \"a\"\n2) 1) (integer) 1\n   2) \"b\"\n3) (empty array)\n"
        );
    }

    #[test]
    fn tty_index_width_grows() {
        let f = Frame::Array((0..10).map(Frame::Integer).collect());
        let out = tty(&f);
        assert!(out.starts_with(" 1) (integer) 0\n"), "{out}");
        assert!(out.ends_with("10) (integer) 9\n"), "{out}");
    }

    #[test]
    fn tty_maps_and_sets() {
        let m = Frame::Map(vec![
            (bulk("server"), bulk("ferrum")),
            (bulk("proto"), Frame::Integer(3)),
            (bulk("modules"), Frame::Array(vec![])),
        ]);
        assert_eq!(
            tty(&m),
            "1# \"server\" => \"ferrum\"\n2# \"proto\" => (integer) 3\n3# \"modules\" => (empty array)\n"
        );
        assert_eq!(tty(&Frame::Set(vec![bulk("m")])), "1~ \"m\"\n");
        assert_eq!(tty(&Frame::Set(vec![])), "(empty set)\n");
        assert_eq!(tty(&Frame::Map(vec![])), "(empty hash)\n");
    }

    #[test]
    fn raw_scalars() {
        assert_eq!(raw(&bulk("a b")), "a b\n");
        assert_eq!(raw(&Frame::Integer(7)), "7\n");
        assert_eq!(raw(&Frame::NullBulk), "\n");
        assert_eq!(raw(&Frame::Double(0.25)), "0.25\n");
        assert_eq!(raw(&Frame::Boolean(true)), "(true)\n");
        // Errors keep their own newline, then the reply delimiter follows.
        assert_eq!(
            raw(&Frame::Error(Bytes::from_static(b"ERR x"))),
            "ERR x\n\n"
        );
    }

    #[test]
    fn raw_aggregates() {
        let f = Frame::Array(vec![
            bulk("a"),
            Frame::Array(vec![bulk("b"), Frame::Integer(2)]),
            Frame::NullBulk,
        ]);
        assert_eq!(raw(&f), "a\nb\n2\n\n");
        let m = Frame::Map(vec![(bulk("k"), bulk("v")), (bulk("n"), Frame::Integer(1))]);
        assert_eq!(raw(&m), "k v\nn 1\n");
        assert_eq!(raw(&Frame::Array(vec![])), "\n");
    }

    #[test]
    fn raw_is_binary_safe() {
        let f = Frame::Bulk(Bytes::from_static(b"\x00\xff"));
        assert_eq!(
            format_reply(&f, OutputMode::Raw, &RawDelims::default(), false),
            b"\x00\xff\n"
        );
    }

    #[test]
    fn custom_delimiters() {
        let d = RawDelims {
            multi_bulk: b",".to_vec(),
            command: b";".to_vec(),
        };
        let f = Frame::Array(vec![bulk("a"), bulk("b")]);
        assert_eq!(format_reply(&f, OutputMode::Raw, &d, false), b"a,b;");
    }

    #[test]
    fn verbatim_commands_print_raw_without_delimiter() {
        let f = bulk("# Server\r\nredis_version:7.2.0\r\n");
        let out = format_reply(&f, OutputMode::Standard, &RawDelims::default(), true);
        assert_eq!(out, b"# Server\r\nredis_version:7.2.0\r\n");
    }

    #[test]
    fn invalidate_pushes() {
        let p = Frame::Push(vec![
            bulk("invalidate"),
            Frame::Array(vec![bulk("k1"), bulk("k2")]),
        ]);
        assert_eq!(
            format_push(&p, OutputMode::Standard, &RawDelims::default()),
            b"-> invalidate: 'k1', 'k2'\n"
        );
        assert_eq!(
            format_push(&p, OutputMode::Raw, &RawDelims::default()),
            b"invalidate\nk1\nk2\n"
        );
    }
}
