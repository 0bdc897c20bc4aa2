//! Property tests: reply encoding against the frame decoder, and chunking
//! independence and robustness of both parsers.

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::prelude::*;
use resp::{Frame, FrameDecoder, ParserConfig, Protocol, Reply, RequestParser};

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

fn arb_bytes(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn arb_double() -> impl Strategy<Value = f64> {
    prop_oneof![
        // NaN is left out only because NaN != NaN; it has its own unit tests.
        any::<f64>().prop_filter("not NaN", |d| !d.is_nan()),
        (-1_000_000i64..1_000_000, 0u32..6).prop_map(|(m, e)| m as f64 / 10f64.powi(e as i32)),
        Just(0.0),
        Just(-0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
    ]
}

fn arb_leaf() -> impl Strategy<Value = Reply> {
    prop_oneof![
        ".{0,20}".prop_map(|s: String| Reply::Simple(s.into())),
        ".{0,20}".prop_map(|s: String| Reply::Error(s.into())),
        any::<i64>().prop_map(Reply::Integer),
        arb_bytes(40).prop_map(Reply::Bulk),
        Just(Reply::Null),
        Just(Reply::NullArray),
        arb_double().prop_map(Reply::Double),
        any::<bool>().prop_map(Reply::Boolean),
        ("[a-z]{3}", arb_bytes(30)).prop_map(|(f, text)| {
            let f = f.as_bytes();
            Reply::Verbatim {
                format: [f[0], f[1], f[2]],
                text,
            }
        }),
        "-?[1-9][0-9]{0,40}".prop_map(|s| Reply::BigNumber(Bytes::from(s))),
    ]
}

fn arb_reply() -> impl Strategy<Value = Reply> {
    arb_leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Reply::Array),
            vec(inner.clone(), 0..6).prop_map(Reply::Set),
            vec(inner.clone(), 0..6).prop_map(Reply::Push),
            vec((inner.clone(), inner), 0..4).prop_map(Reply::Map),
        ]
    })
}

fn arb_protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![Just(Protocol::Resp2), Just(Protocol::Resp3)]
}

/// Cut points for splitting a buffer into chunks.
fn arb_cuts() -> impl Strategy<Value = Vec<usize>> {
    vec(0usize..4096, 0..24)
}

fn chunks(data: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    let mut last = 0;
    for p in points {
        out.push(data[last..p].to_vec());
        last = p;
    }
    out.push(data[last..].to_vec());
    out
}

// ---------------------------------------------------------------------------
// What a reply should decode to
// ---------------------------------------------------------------------------

/// Status and error lines cannot carry CR or LF; the encoder blanks them.
fn line_text(s: &[u8]) -> Bytes {
    Bytes::from(
        s.iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
            .collect::<Vec<_>>(),
    )
}

fn expected_frame(r: &Reply, proto: Protocol) -> Frame {
    let resp3 = proto == Protocol::Resp3;
    let list = |items: &[Reply]| {
        items
            .iter()
            .map(|i| expected_frame(i, proto))
            .collect::<Vec<_>>()
    };
    match r {
        Reply::Simple(s) => Frame::Simple(line_text(s.as_bytes())),
        Reply::Error(s) => Frame::Error(line_text(s.as_bytes())),
        Reply::Integer(n) => Frame::Integer(*n),
        Reply::Bulk(b) => Frame::Bulk(b.clone()),
        Reply::Null if resp3 => Frame::Null,
        Reply::Null => Frame::NullBulk,
        Reply::NullArray if resp3 => Frame::Null,
        Reply::NullArray => Frame::NullArray,
        Reply::Array(items) => Frame::Array(list(items)),
        Reply::Set(items) if resp3 => Frame::Set(list(items)),
        Reply::Push(items) if resp3 => Frame::Push(list(items)),
        Reply::Set(items) | Reply::Push(items) => Frame::Array(list(items)),
        Reply::Map(pairs) if resp3 => Frame::Map(
            pairs
                .iter()
                .map(|(k, v)| (expected_frame(k, proto), expected_frame(v, proto)))
                .collect(),
        ),
        Reply::Map(pairs) => Frame::Array(
            pairs
                .iter()
                .flat_map(|(k, v)| [expected_frame(k, proto), expected_frame(v, proto)])
                .collect(),
        ),
        Reply::Double(d) if resp3 => Frame::Double(*d),
        Reply::Double(d) => Frame::Bulk(Bytes::from(resp::double::double_to_string(*d))),
        Reply::Boolean(b) if resp3 => Frame::Boolean(*b),
        Reply::Boolean(b) => Frame::Integer(i64::from(*b)),
        Reply::Verbatim { format, text } if resp3 => Frame::Verbatim {
            format: *format,
            text: text.clone(),
        },
        Reply::Verbatim { text, .. } => Frame::Bulk(text.clone()),
        Reply::BigNumber(n) if resp3 => Frame::BigNumber(n.clone()),
        Reply::BigNumber(n) => Frame::Bulk(n.clone()),
    }
}

fn decode_all(decoder: &mut FrameDecoder, buf: &mut BytesMut, out: &mut Vec<Frame>) {
    while let Some(f) = decoder.decode(buf).expect("valid RESP") {
        out.push(f);
    }
}

// ---------------------------------------------------------------------------
// Request streams
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Req {
    /// A multibulk request with arbitrary binary arguments.
    Multibulk(Vec<Vec<u8>>),
    /// An inline request; each argument written plain or double-quoted with
    /// escapes.
    Inline(Vec<(Vec<u8>, bool)>),
    /// Something that is no request: `*0`, `*-1`, a blank line.
    Nothing(&'static [u8]),
}

fn arb_req() -> impl Strategy<Value = Req> {
    prop_oneof![
        4 => vec(vec(any::<u8>(), 0..50), 1..6).prop_map(Req::Multibulk),
        1 => vec(vec(any::<u8>(), 40_000..40_100), 1..2).prop_map(Req::Multibulk),
        3 => vec(
            prop_oneof![
                "[a-zA-Z0-9_:.{}-]{1,12}".prop_map(|s| (s.into_bytes(), false)),
                vec(any::<u8>(), 0..20).prop_map(|b| (b, true)),
            ],
            1..6
        )
        .prop_map(Req::Inline),
        1 => prop_oneof![Just(&b"*0\r\n"[..]), Just(&b"*-1\r\n"[..]), Just(&b"\r\n"[..]), Just(&b"  \n"[..])]
            .prop_map(Req::Nothing),
    ]
}

fn encode_req(r: &Req, out: &mut Vec<u8>) {
    match r {
        Req::Multibulk(args) => {
            out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
            for a in args {
                out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                out.extend_from_slice(a);
                out.extend_from_slice(b"\r\n");
            }
        }
        Req::Inline(args) => {
            for (i, (a, quoted)) in args.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                if *quoted {
                    out.push(b'"');
                    for &c in a {
                        match c {
                            b'"' | b'\\' | 0 => {
                                out.extend_from_slice(format!("\\x{c:02x}").as_bytes())
                            }
                            b'\n' => out.extend_from_slice(b"\\n"),
                            0x21..=0x7e => out.push(c),
                            _ => out.extend_from_slice(format!("\\x{c:02X}").as_bytes()),
                        }
                    }
                    out.push(b'"');
                } else {
                    out.extend_from_slice(a);
                }
            }
            out.extend_from_slice(b"\r\n");
        }
        Req::Nothing(b) => out.extend_from_slice(b),
    }
}

fn expected_args(r: &Req) -> Option<Vec<Vec<u8>>> {
    match r {
        Req::Multibulk(args) => Some(args.clone()),
        Req::Inline(args) => Some(args.iter().map(|(a, _)| a.clone()).collect()),
        Req::Nothing(_) => None,
    }
}

fn parse_stream(
    parser: &mut RequestParser,
    buf: &mut BytesMut,
    out: &mut Vec<(Vec<Vec<u8>>, bool)>,
) {
    while let Some(req) = parser.parse(buf).expect("valid requests") {
        out.push((req.args.iter().map(|a| a.to_vec()).collect(), req.inline));
    }
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// (a) Every reply encodes, in both protocols, to bytes the decoder reads
    /// back as the expected frame, and the frame encodes back to those bytes.
    #[test]
    fn replies_decode_to_expected_frames(reply in arb_reply(), proto in arb_protocol()) {
        let wire = reply.to_vec(proto);
        let mut buf = BytesMut::from(&wire[..]);
        let frame = FrameDecoder::new().decode(&mut buf).unwrap().expect("complete");
        prop_assert!(buf.is_empty());
        prop_assert_eq!(&frame, &expected_frame(&reply, proto));
        prop_assert_eq!(frame.to_vec(), wire);
    }

    /// (b) A request stream split anywhere parses to the same requests as when
    /// fed whole, and to the requests that were encoded.
    #[test]
    fn request_stream_is_chunking_independent(reqs in vec(arb_req(), 1..12), cuts in arb_cuts()) {
        let mut wire = Vec::new();
        for r in &reqs {
            encode_req(r, &mut wire);
        }
        let expected: Vec<Vec<Vec<u8>>> = reqs.iter().filter_map(expected_args).collect();

        let mut whole = Vec::new();
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::from(&wire[..]);
        parse_stream(&mut parser, &mut buf, &mut whole);
        prop_assert!(buf.is_empty());
        prop_assert!(!parser.is_partial());
        let whole_args: Vec<_> = whole.iter().map(|(a, _)| a.clone()).collect();
        prop_assert_eq!(&whole_args, &expected);

        let mut chunked = Vec::new();
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::new();
        for chunk in chunks(&wire, &cuts) {
            buf.extend_from_slice(&chunk);
            parse_stream(&mut parser, &mut buf, &mut chunked);
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(chunked, whole);
    }

    /// (c) The frame decoder gives the same frames however the stream is split.
    #[test]
    fn frame_stream_is_chunking_independent(
        replies in vec((arb_reply(), arb_protocol()), 1..6),
        cuts in arb_cuts(),
    ) {
        let mut wire = Vec::new();
        for (r, p) in &replies {
            r.encode(*p, &mut wire);
        }
        let mut whole = Vec::new();
        decode_all(&mut FrameDecoder::new(), &mut BytesMut::from(&wire[..]), &mut whole);
        let expected: Vec<Frame> = replies.iter().map(|(r, p)| expected_frame(r, *p)).collect();
        prop_assert_eq!(&whole, &expected);

        let mut chunked = Vec::new();
        let mut decoder = FrameDecoder::new();
        let mut buf = BytesMut::new();
        for chunk in chunks(&wire, &cuts) {
            buf.extend_from_slice(&chunk);
            decode_all(&mut decoder, &mut buf, &mut chunked);
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(chunked, whole);
    }

    /// (d) The request parser never panics, whatever the bytes, chunking and
    /// limits; it always makes progress or asks for more data.
    #[test]
    fn request_parser_never_panics(
        data in vec(any::<u8>(), 0..512),
        cuts in arb_cuts(),
        small in any::<bool>(),
    ) {
        let config = if small {
            ParserConfig { max_bulk_len: 16, max_inline_len: 8, max_multibulk_len: 4 }
        } else {
            ParserConfig::default()
        };
        let mut parser = RequestParser::new(config);
        let mut buf = BytesMut::new();
        'feed: for chunk in chunks(&data, &cuts) {
            buf.extend_from_slice(&chunk);
            loop {
                match parser.parse(&mut buf) {
                    Ok(Some(req)) => prop_assert!(!req.args.is_empty()),
                    Ok(None) => break,
                    Err(_) => break 'feed,
                }
            }
        }
    }

    /// Biased towards almost-valid input: protocol characters and digits.
    #[test]
    fn request_parser_never_panics_on_protocol_like_bytes(
        data in vec(prop::sample::select(&b"*$\r\n0123-9 \"'\\xaA\0"[..]), 0..256),
        cuts in arb_cuts(),
    ) {
        let mut parser = RequestParser::new(ParserConfig { max_bulk_len: 64, max_inline_len: 32, max_multibulk_len: 8 });
        let mut buf = BytesMut::new();
        for chunk in chunks(&data, &cuts) {
            buf.extend_from_slice(&chunk);
            while let Ok(Some(_)) = parser.parse(&mut buf) {}
        }
    }

    /// The frame decoder never panics either, and leaves the buffer untouched
    /// on errors and on incomplete input.
    #[test]
    fn frame_decoder_never_panics(
        data in vec(prop::sample::select(&b"+-:$*_,#(!=%~>|\r\n0123-9tfx.e"[..]), 0..256),
        cuts in arb_cuts(),
    ) {
        let mut decoder = FrameDecoder::with_limits(8, 64);
        let mut buf = BytesMut::new();
        'feed: for chunk in chunks(&data, &cuts) {
            buf.extend_from_slice(&chunk);
            loop {
                let before = buf.clone();
                match decoder.decode(&mut buf) {
                    Ok(Some(f)) => {
                        // Whatever decodes re-encodes and decodes to the same frame
                        // (doubles aside, whose spelling may be normalized).
                        let again = FrameDecoder::new().decode(&mut BytesMut::from(&f.to_vec()[..]));
                        prop_assert!(again.is_ok());
                    }
                    Ok(None) => {
                        prop_assert_eq!(&buf, &before);
                        break;
                    }
                    Err(_) => {
                        prop_assert_eq!(&buf, &before);
                        break 'feed;
                    }
                }
            }
        }
    }

    /// Mutating one byte of a valid encoding never makes the decoder panic.
    #[test]
    fn frame_decoder_survives_mutations(reply in arb_reply(), pos in any::<usize>(), byte in any::<u8>()) {
        let mut wire = reply.to_vec(Protocol::Resp3);
        let i = pos % wire.len();
        wire[i] = byte;
        let _ = FrameDecoder::new().decode(&mut BytesMut::from(&wire[..]));
    }
}
