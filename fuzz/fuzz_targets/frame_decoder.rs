//! Feeds arbitrary bytes to the frame decoder, whole and in chunks, and checks
//! that decoded frames are the same both ways and re-encode to decodable
//! bytes, and that incomplete or invalid input leaves the buffer untouched.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use resp::{Frame, FrameDecoder};

fn run<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> (Vec<Frame>, bool) {
    let mut decoder = FrameDecoder::with_limits(16, 1024);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            let before = buf.clone();
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => out.push(frame),
                Ok(None) => {
                    assert_eq!(buf, before);
                    break;
                }
                Err(_) => {
                    assert_eq!(buf, before);
                    return (out, true);
                }
            }
        }
    }
    (out, false)
}

/// Equality that treats NaN doubles as equal, via the wire form.
fn same(a: &[Frame], b: &[Frame]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_vec() == y.to_vec())
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, data)) = input.split_first() else { return };
    let step = usize::from(control).max(1);
    let whole = run(std::iter::once(data));
    let chunked = run(data.chunks(step));
    if !whole.1 && !chunked.1 {
        assert!(same(&whole.0, &chunked.0));
    }
    for frame in &whole.0 {
        let wire = frame.to_vec();
        let mut buf = BytesMut::from(&wire[..]);
        let again = FrameDecoder::with_limits(16, 1024).decode(&mut buf).expect("re-encoded frame decodes");
        let again = again.expect("re-encoded frame is complete");
        assert!(buf.is_empty());
        assert_eq!(again.to_vec(), wire);
        let _ = frame.to_string();
    }
});
