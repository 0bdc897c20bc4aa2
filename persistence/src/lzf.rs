//! LZF, the small and fast LZ77 variant Redis compresses long RDB strings with.
//!
//! A compressed stream is a sequence of chunks, each opened by a control byte:
//!
//! - `000LLLLL`: a literal run of `L + 1` bytes follows (1..=32).
//! - `LLLooooo oooooooo`: a back reference of `L + 2` bytes (3..=8) starting
//!   `o + 1` bytes before the output's end (1..=8192).
//! - `111ooooo LLLLLLLL oooooooo`: the same with length `L + 9` (9..=264).
//!
//! The compressor is ours (a hash of the next three bytes points at their last
//! occurrence); any stream of these chunks is valid, so Redis reads what we
//! write and we read what Redis writes.

const MAX_LIT: usize = 32;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);
const HASH_BITS: u32 = 14;

fn hash3(b: &[u8]) -> usize {
    let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
    (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
}

/// Compresses `input`; `None` when the result would not be shorter than
/// `max_out` bytes (Redis stores such strings uncompressed).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(max_out.min(input.len()));
    let mut table = vec![usize::MAX; 1 << HASH_BITS];
    let mut lit_start = 0;
    let mut i = 0;
    let flush_literals = |out: &mut Vec<u8>, from: usize, to: usize| {
        let mut s = from;
        while s < to {
            let n = (to - s).min(MAX_LIT);
            out.push((n - 1) as u8);
            out.extend_from_slice(&input[s..s + n]);
            s += n;
        }
    };
    while i + 2 < input.len() {
        let h = hash3(&input[i..]);
        let cand = table[h];
        table[h] = i;
        if cand != usize::MAX && i - cand <= MAX_OFF && input[cand..cand + 3] == input[i..i + 3] {
            let max_len = (input.len() - i).min(MAX_REF);
            let mut len = 3;
            while len < max_len && input[cand + len] == input[i + len] {
                len += 1;
            }
            flush_literals(&mut out, lit_start, i);
            let off = i - cand - 1;
            let l = len - 2;
            if l < 7 {
                out.push(((l as u8) << 5) | (off >> 8) as u8);
            } else {
                out.push((7 << 5) | (off >> 8) as u8);
                out.push((l - 7) as u8);
            }
            out.push(off as u8);
            // Index the positions the match covered so later data can refer
            // to them too.
            for p in i + 1..(i + len).min(input.len().saturating_sub(2)) {
                table[hash3(&input[p..])] = p;
            }
            i += len;
            lit_start = i;
            if out.len() >= max_out {
                return None;
            }
        } else {
            i += 1;
        }
    }
    flush_literals(&mut out, lit_start, input.len());
    (out.len() < max_out).then_some(out)
}

/// Decompresses `input`, which must expand to exactly `out_len` bytes.
pub fn decompress(input: &[u8], out_len: usize) -> Result<Vec<u8>, &'static str> {
    // A corrupt header may announce any length: reserve no more than the
    // input could expand to (a 3-byte reference yields at most 264 bytes).
    let mut out: Vec<u8> = Vec::with_capacity(out_len.min(input.len().saturating_mul(88) + 32));
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if i + n > input.len() {
                return Err("LZF literal run past the input's end");
            }
            if out.len() + n > out_len {
                return Err("LZF data longer than announced");
            }
            out.extend_from_slice(&input[i..i + n]);
            i += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                let Some(&b) = input.get(i) else {
                    return Err("LZF reference past the input's end");
                };
                len += b as usize;
                i += 1;
            }
            let Some(&lo) = input.get(i) else {
                return Err("LZF reference past the input's end");
            };
            i += 1;
            let back = ((ctrl & 0x1f) << 8) + lo as usize + 1;
            let len = len + 2;
            if back > out.len() {
                return Err("LZF back reference before the output's start");
            }
            if out.len() + len > out_len {
                return Err("LZF data longer than announced");
            }
            let start = out.len() - back;
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    if out.len() != out_len {
        return Err("LZF data shorter than announced");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn round_trips() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut inputs: Vec<Vec<u8>> = vec![
            b"a".repeat(1000),
            b"hello world hello world hello world hello world".to_vec(),
            (0..5000u32).flat_map(|i| (i % 251).to_le_bytes()).collect(),
        ];
        for _ in 0..50 {
            let n = rng.gen_range(0..20000);
            let alphabet = rng.gen_range(1..=255u8);
            inputs.push((0..n).map(|_| rng.gen_range(0..=alphabet)).collect());
        }
        for inp in inputs {
            if let Some(c) = compress(&inp, inp.len() + 64) {
                assert_eq!(decompress(&c, inp.len()).unwrap(), inp);
            }
        }
    }

    #[test]
    fn compresses_repetitive_data_and_declines_random_data() {
        let rep = b"abcabcabc".repeat(200);
        let c = compress(&rep, rep.len() - 4).expect("compressible");
        assert!(c.len() < rep.len() / 10, "{}", c.len());
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let random: Vec<u8> = (0..4096).map(|_| rng.gen()).collect();
        assert!(compress(&random, random.len() - 4).is_none());
    }

    #[test]
    fn decodes_a_hand_made_stream() {
        // literal "ab", then a reference 2 back of length 6: "ababab" + "ab".
        let stream = [0x01, b'a', b'b', (4 << 5), 0x01];
        assert_eq!(decompress(&stream, 8).unwrap(), b"abababab");
    }

    #[test]
    fn rejects_corrupt_streams() {
        assert!(decompress(&[0x05, b'a'], 6).is_err());
        assert!(decompress(&[0x00, b'a', 0x20, 0x05], 4).is_err());
        assert!(decompress(&[0x00, b'a'], 2).is_err());
        assert!(decompress(&[0x01, b'a', b'b'], 1).is_err());
    }
}
