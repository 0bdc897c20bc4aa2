//! The compact blobs Redis stores inside RDB values: listpack (7.0+),
//! ziplist and zipmap (older files, read only) and intset.
//!
//! Decoders check every length against the blob's bounds and its header, so
//! a corrupt blob is an error, never a panic or a read out of bounds.

use storage::value::parse_canonical_i64;

/// A field and its value.
pub type Pair = (Vec<u8>, Vec<u8>);

/// Why a blob could not be decoded.
pub type BlobError = &'static str;

/// One element of a listpack or ziplist: Redis stores integers natively.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Int(i64),
    Str(Vec<u8>),
}

impl Item {
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Item::Int(n) => n.to_string().into_bytes(),
            Item::Str(s) => s,
        }
    }
}

fn take<'a>(b: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], BlobError> {
    let end = pos.checked_add(n).ok_or("length overflow")?;
    let s = b.get(*pos..end).ok_or("element past the blob's end")?;
    *pos = end;
    Ok(s)
}

fn le_int(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// Sign-extends the low `bits` bits of `v`.
fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

// ---------------------------------------------------------------------------
// listpack

/// Bytes the back-length field takes for an entry of `l` bytes.
fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16383 => 2,
        16384..=2097151 => 3,
        2097152..=268435455 => 4,
        _ => 5,
    }
}

/// Decodes a listpack: `u32 total bytes, u16 count, entries, 0xFF`, each entry
/// `encoding [data] backlen`.
pub fn listpack_items(b: &[u8]) -> Result<Vec<Item>, BlobError> {
    if b.len() < 7 {
        return Err("listpack shorter than its header");
    }
    let total = le_int(&b[0..4]) as usize;
    if total != b.len() {
        return Err("listpack size does not match its header");
    }
    let count = le_int(&b[4..6]) as usize;
    let mut pos = 6;
    let mut out = Vec::with_capacity(count.min(65535));
    loop {
        let start = pos;
        let &e = b.get(pos).ok_or("listpack without terminator")?;
        if e == 0xFF {
            if pos + 1 != b.len() {
                return Err("listpack terminator before its end");
            }
            break;
        }
        pos += 1;
        let item = if e & 0x80 == 0 {
            Item::Int(i64::from(e & 0x7f))
        } else if e & 0xC0 == 0x80 {
            Item::Str(take(b, &mut pos, (e & 0x3f) as usize)?.to_vec())
        } else if e & 0xE0 == 0xC0 {
            let lo = take(b, &mut pos, 1)?[0];
            let v = (u64::from(e & 0x1f) << 8) | u64::from(lo);
            Item::Int(sign_extend(v, 13))
        } else if e & 0xF0 == 0xE0 {
            let lo = take(b, &mut pos, 1)?[0];
            let len = ((e & 0x0f) as usize) << 8 | lo as usize;
            Item::Str(take(b, &mut pos, len)?.to_vec())
        } else {
            match e {
                0xF0 => {
                    let len = le_int(take(b, &mut pos, 4)?) as usize;
                    Item::Str(take(b, &mut pos, len)?.to_vec())
                }
                0xF1 => Item::Int(sign_extend(le_int(take(b, &mut pos, 2)?), 16)),
                0xF2 => Item::Int(sign_extend(le_int(take(b, &mut pos, 3)?), 24)),
                0xF3 => Item::Int(sign_extend(le_int(take(b, &mut pos, 4)?), 32)),
                0xF4 => Item::Int(le_int(take(b, &mut pos, 8)?) as i64),
                _ => return Err("invalid listpack entry encoding"),
            }
        };
        let entry_len = pos - start;
        take(b, &mut pos, backlen_size(entry_len))?;
        out.push(item);
    }
    if count != 65535 && count != out.len() {
        return Err("listpack element count does not match its header");
    }
    Ok(out)
}

/// Builds listpacks element by element.
#[derive(Debug)]
pub struct ListpackBuilder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for ListpackBuilder {
    fn default() -> Self {
        ListpackBuilder {
            buf: vec![0; 6],
            count: 0,
        }
    }
}

impl ListpackBuilder {
    /// Bytes the finished listpack would take.
    pub fn size(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Appends a string, stored as an integer when it is one in canonical
    /// form (as Redis's listpack does).
    pub fn push(&mut self, s: &[u8]) {
        match parse_canonical_i64(s) {
            Some(v) => self.push_int(v),
            None => self.push_str(s),
        }
    }

    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u64) & 0x1fff;
            self.buf.push(0xC0 | (u >> 8) as u8);
            self.buf.push(u as u8);
        } else {
            let (tag, n) = if (-32768..=32767).contains(&v) {
                (0xF1, 2)
            } else if (-8_388_608..=8_388_607).contains(&v) {
                (0xF2, 3)
            } else if i32::try_from(v).is_ok() {
                (0xF3, 4)
            } else {
                (0xF4, 8)
            };
            self.buf.push(tag);
            self.buf.extend_from_slice(&v.to_le_bytes()[..n]);
        }
        self.finish_entry(start);
    }

    fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf.push(0xE0 | (n >> 8) as u8);
            self.buf.push(n as u8);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        self.finish_entry(start);
    }

    /// Appends the back length: the entry's size in 7-bit groups, most
    /// significant first, every group but the first flagged with 0x80.
    fn finish_entry(&mut self, start: usize) {
        let l = self.buf.len() - start;
        let n = backlen_size(l);
        for k in (0..n).rev() {
            let group = ((l >> (7 * k)) & 0x7f) as u8;
            self.buf.push(if k == n - 1 { group } else { group | 0x80 });
        }
        self.count += 1;
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xFF);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let count = self.count.min(65535) as u16;
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

// ---------------------------------------------------------------------------
// ziplist (Redis up to 6.2)

/// Decodes a ziplist: `u32 bytes, u32 tail offset, u16 count, entries, 0xFF`,
/// each entry `prevlen encoding data`.
pub fn ziplist_items(b: &[u8]) -> Result<Vec<Item>, BlobError> {
    if b.len() < 11 {
        return Err("ziplist shorter than its header");
    }
    if le_int(&b[0..4]) as usize != b.len() {
        return Err("ziplist size does not match its header");
    }
    let count = le_int(&b[8..10]) as usize;
    let mut pos = 10;
    let mut out = Vec::with_capacity(count.min(65535));
    loop {
        let &first = b.get(pos).ok_or("ziplist without terminator")?;
        if first == 0xFF {
            if pos + 1 != b.len() {
                return Err("ziplist terminator before its end");
            }
            break;
        }
        // prevlen: one byte, or 0xFE and four bytes.
        pos += if first == 0xFE { 5 } else { 1 };
        let e = *b.get(pos).ok_or("ziplist entry past its end")?;
        pos += 1;
        let item = match e >> 6 {
            0 => Item::Str(take(b, &mut pos, (e & 0x3f) as usize)?.to_vec()),
            1 => {
                let lo = take(b, &mut pos, 1)?[0];
                let len = ((e & 0x3f) as usize) << 8 | lo as usize;
                Item::Str(take(b, &mut pos, len)?.to_vec())
            }
            2 => {
                let l = take(b, &mut pos, 4)?;
                let len = u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize;
                Item::Str(take(b, &mut pos, len)?.to_vec())
            }
            _ => match e {
                0xC0 => Item::Int(sign_extend(le_int(take(b, &mut pos, 2)?), 16)),
                0xD0 => Item::Int(sign_extend(le_int(take(b, &mut pos, 4)?), 32)),
                0xE0 => Item::Int(le_int(take(b, &mut pos, 8)?) as i64),
                0xF0 => Item::Int(sign_extend(le_int(take(b, &mut pos, 3)?), 24)),
                0xFE => Item::Int(sign_extend(le_int(take(b, &mut pos, 1)?), 8)),
                0xF1..=0xFD => Item::Int(i64::from(e & 0x0f) - 1),
                _ => return Err("invalid ziplist entry encoding"),
            },
        };
        out.push(item);
    }
    if count != 65535 && count != out.len() {
        return Err("ziplist element count does not match its header");
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// zipmap (hashes of Redis 2.x)

/// Decodes a zipmap: `u8 count, (len key len free value [free bytes])*, 0xFF`,
/// lengths one byte below 254 or 254 and a little-endian u32.
pub fn zipmap_pairs(b: &[u8]) -> Result<Vec<Pair>, BlobError> {
    let mut pos = 1;
    if b.is_empty() {
        return Err("empty zipmap");
    }
    let len = |pos: &mut usize| -> Result<Option<usize>, BlobError> {
        let &l = b.get(*pos).ok_or("zipmap past its end")?;
        *pos += 1;
        match l {
            255 => Ok(None),
            254 => Ok(Some(le_int(take(b, pos, 4)?) as usize)),
            n => Ok(Some(n as usize)),
        }
    };
    let mut out = Vec::new();
    while let Some(kl) = len(&mut pos)? {
        let k = take(b, &mut pos, kl)?.to_vec();
        let vl = len(&mut pos)?.ok_or("zipmap key without a value")?;
        let free = take(b, &mut pos, 1)?[0] as usize;
        let v = take(b, &mut pos, vl)?.to_vec();
        take(b, &mut pos, free)?;
        out.push((k, v));
    }
    if pos != b.len() {
        return Err("zipmap terminator before its end");
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// intset

/// Decodes an intset: `u32 width (2, 4 or 8), u32 count, sorted integers`.
pub fn intset_members(b: &[u8]) -> Result<Vec<i64>, BlobError> {
    if b.len() < 8 {
        return Err("intset shorter than its header");
    }
    let width = le_int(&b[0..4]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err("invalid intset encoding");
    }
    let count = le_int(&b[4..8]) as usize;
    if count.checked_mul(width) != Some(b.len() - 8) {
        return Err("intset size does not match its header");
    }
    let out: Vec<i64> = b[8..]
        .chunks_exact(width)
        .map(|c| sign_extend(le_int(c), 8 * width as u32))
        .collect();
    if out.windows(2).any(|w| w[0] >= w[1]) {
        return Err("intset members not sorted or duplicated");
    }
    Ok(out)
}

/// Encodes sorted, distinct integers as an intset of the narrowest width.
pub fn intset_encode(members: &[i64]) -> Vec<u8> {
    let width: usize = if members.iter().all(|&v| i16::try_from(v).is_ok()) {
        2
    } else if members.iter().all(|&v| i32::try_from(v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + width * members.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for v in members {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_round_trips_every_encoding() {
        let ints = [
            0i64,
            127,
            128,
            -1,
            4095,
            -4096,
            4096,
            32767,
            -32768,
            32768,
            8_388_607,
            -8_388_608,
            8_388_608,
            i32::MAX as i64,
            i32::MIN as i64,
            i64::MAX,
            i64::MIN,
        ];
        let strs: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"a".to_vec(),
            vec![b'x'; 63],
            vec![b'y'; 64],
            vec![b'z'; 4095],
            vec![b'w'; 4096],
            vec![b'v'; 70000],
            b"007".to_vec(),
        ];
        let mut lp = ListpackBuilder::default();
        for &i in &ints {
            lp.push_int(i);
        }
        for s in &strs {
            lp.push(s);
        }
        let blob = lp.finish();
        let items = listpack_items(&blob).unwrap();
        let want: Vec<Item> = ints
            .iter()
            .map(|&i| Item::Int(i))
            .chain(strs.iter().map(|s| Item::Str(s.clone())))
            .collect();
        assert_eq!(items, want);
    }

    #[test]
    fn listpack_backlen_is_reverse_readable() {
        let mut lp = ListpackBuilder::default();
        lp.push(&[b'q'; 200]);
        let blob = lp.finish();
        // Entry: 2-byte header + 200 bytes = 202 → backlen [1, 202-128 | 0x80].
        let n = blob.len();
        assert_eq!(&blob[n - 3..n - 1], &[0x01, (202 - 128) | 0x80]);
    }

    #[test]
    fn listpack_rejects_corruption() {
        let mut lp = ListpackBuilder::default();
        lp.push(b"hello");
        lp.push_int(1000);
        let blob = lp.finish();
        for cut in 0..blob.len() {
            assert!(listpack_items(&blob[..cut]).is_err());
        }
        let mut bad = blob.clone();
        bad[6] = 0x80 | 60; // string longer than the blob
        assert!(listpack_items(&bad).is_err());
        let mut bad = blob;
        bad[4] = 3; // wrong count
        assert!(listpack_items(&bad).is_err());
    }

    #[test]
    fn intset_round_trips_each_width() {
        for set in [
            vec![1i64, 2, 300],
            vec![-70000, 5],
            vec![i64::MIN, 0, i64::MAX],
        ] {
            let blob = intset_encode(&set);
            assert_eq!(intset_members(&blob).unwrap(), set);
        }
        assert_eq!(intset_encode(&[1, 2])[0], 2);
        assert_eq!(intset_encode(&[1, 70000])[0], 4);
        assert!(intset_members(&intset_encode(&[2, 1])).is_err());
    }

    #[test]
    fn decodes_a_hand_made_ziplist() {
        // "ab", 12 (immediate), -2 (int8), 1000 (int16)
        let mut body = vec![0, 0x02, b'a', b'b', 4, 0xFD, 2, 0xFE, 0xFE, 3];
        body.extend_from_slice(&[0xC0, 0xE8, 0x03, 0xFF]);
        let total = 10 + body.len();
        let mut zl = (total as u32).to_le_bytes().to_vec();
        zl.extend_from_slice(&0u32.to_le_bytes());
        zl.extend_from_slice(&4u16.to_le_bytes());
        zl.extend_from_slice(&body);
        let items = ziplist_items(&zl).unwrap();
        assert_eq!(
            items,
            vec![
                Item::Str(b"ab".to_vec()),
                Item::Int(12),
                Item::Int(-2),
                Item::Int(1000)
            ]
        );
        assert!(ziplist_items(&zl[..zl.len() - 1]).is_err());
    }

    #[test]
    fn decodes_a_hand_made_zipmap() {
        let zm = [
            2, 1, b'k', 2, 0, b'v', b'1', 2, b'k', b'2', 1, 1, b'x', 0, 0xFF,
        ];
        assert_eq!(
            zipmap_pairs(&zm).unwrap(),
            vec![
                (b"k".to_vec(), b"v1".to_vec()),
                (b"k2".to_vec(), b"x".to_vec())
            ]
        );
        assert!(zipmap_pairs(&zm[..8]).is_err());
    }
}
