//! Feeds arbitrary bytes to the request parser, split into chunks at points
//! chosen by the input itself, with small or default limits, and checks that
//! chunking never changes the parsed requests before the first error.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use resp::{ParserConfig, RequestParser};

type Outcome = (Vec<Vec<Vec<u8>>>, bool);

/// Parses `chunks` in order; returns the requests and whether an error ended
/// the stream.
fn run<'a>(config: &ParserConfig, chunks: impl Iterator<Item = &'a [u8]>) -> Outcome {
    let mut parser = RequestParser::new(config.clone());
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match parser.parse(&mut buf) {
                Ok(Some(req)) => {
                    assert!(!req.args.is_empty());
                    out.push(req.args.iter().map(|a| a.to_vec()).collect());
                }
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, data)) = input.split_first() else { return };
    let config = if control & 1 == 1 {
        ParserConfig { max_bulk_len: 64, max_inline_len: 32, max_multibulk_len: 16 }
    } else {
        ParserConfig::default()
    };
    let step = usize::from(control >> 1).max(1);

    let whole = run(&config, std::iter::once(data));
    let chunked = run(&config, data.chunks(step));
    // The size limits apply to what has arrived so far, so an unterminated
    // line may be rejected earlier when fed in pieces (as in Redis); without
    // errors on either side the results must agree exactly.
    if !whole.1 && !chunked.1 {
        assert_eq!(whole.0, chunked.0);
    }
    if !chunked.1 && whole.1 {
        panic!("whole input failed but chunked input did not");
    }
});
