//! The hash value type and its two encodings.
//!
//! - `listpack` ([`Hash::Packed`]): small hashes live in one packed byte
//!   buffer of length-prefixed strings, field then value, in insertion order,
//!   as Redis keeps them in a listpack. One allocation per hash; lookups scan
//!   it, which is fast at the sizes the thresholds allow.
//! - `hashtable` ([`Hash::Table`]): a `hashbrown` table whose every slot is one
//!   allocation holding the field and the value together, so a pair costs one
//!   pointer in the table plus its bytes.
//!
//! A hash converts from `listpack` to `hashtable` when it passes
//! `hash-max-listpack-entries` entries or stores a field or value longer than
//! `hash-max-listpack-value` bytes, and, as in Redis, never converts back.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use rand::Rng;

use crate::limits::LimitValues;

/// A hash value.
#[derive(Clone, Debug)]
pub enum Hash {
    /// `listpack`: `varint len, field, varint len, value` repeated.
    Packed(Box<[u8]>),
    /// `hashtable`: each slot holds `varint field len, field, value`.
    Table(Box<Table>),
}

/// The general encoding: fields hashed with a process-wide seeded hasher.
#[derive(Clone, Debug, Default)]
pub struct Table {
    map: HashTable<Box<[u8]>>,
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Packed(Box::default())
    }
}

static HASHER: std::sync::LazyLock<DefaultHashBuilder> =
    std::sync::LazyLock::new(DefaultHashBuilder::default);

fn hash_of(field: &[u8]) -> u64 {
    HASHER.hash_one(field)
}

/// Appends a LEB128 length.
fn put_len(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Reads a LEB128 length at `pos`; returns it and the position after it.
fn get_len(buf: &[u8], mut pos: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[pos];
        pos += 1;
        n |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            return (n, pos);
        }
        shift += 7;
    }
}

/// Splits a table slot into its field and value.
fn split_slot(slot: &[u8]) -> (&[u8], &[u8]) {
    let (flen, p) = get_len(slot, 0);
    (&slot[p..p + flen], &slot[p + flen..])
}

fn make_slot(field: &[u8], value: &[u8]) -> Box<[u8]> {
    let mut v = Vec::with_capacity(field.len() + value.len() + 3);
    put_len(&mut v, field.len());
    v.extend_from_slice(field);
    v.extend_from_slice(value);
    v.into_boxed_slice()
}

/// Iterates the pairs of a packed buffer.
#[derive(Clone)]
pub struct PackedIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> PackedIter<'a> {
    fn next_str(&mut self) -> &'a [u8] {
        let (n, p) = get_len(self.buf, self.pos);
        self.pos = p + n;
        &self.buf[p..p + n]
    }
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let f = self.next_str();
        let v = self.next_str();
        Some((f, v))
    }
}

/// Iterates the pairs of either encoding.
pub enum Iter<'a> {
    Packed(PackedIter<'a>),
    Table(hashbrown::hash_table::Iter<'a, Box<[u8]>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Packed(p) => p.next(),
            Iter::Table(t) => t.next().map(|s| split_slot(s)),
        }
    }
}

/// Where a pair sits in a packed buffer.
struct PackedPos {
    /// Start of the pair (the field's length prefix).
    start: usize,
    /// Start of the value's length prefix.
    value_prefix: usize,
    /// Start of the value's bytes.
    value: usize,
    /// End of the pair.
    end: usize,
}

/// Finds `field` in a packed buffer.
fn packed_find(buf: &[u8], field: &[u8]) -> Option<PackedPos> {
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let (flen, p) = get_len(buf, pos);
        let f = &buf[p..p + flen];
        let (vlen, vp) = get_len(buf, p + flen);
        let end = vp + vlen;
        if f == field {
            return Some(PackedPos {
                start,
                value_prefix: p + flen,
                value: vp,
                end,
            });
        }
        pos = end;
    }
    None
}

impl Hash {
    /// An empty hash in the compact encoding.
    pub fn new() -> Hash {
        Hash::default()
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Packed(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Approximate heap bytes owned, for INFO and eviction.
    pub fn heap_size(&self) -> usize {
        match self {
            Hash::Packed(b) => b.len(),
            Hash::Table(t) => {
                t.map.capacity() * (std::mem::size_of::<Box<[u8]>>() + 1)
                    + t.map.iter().map(|s| s.len()).sum::<usize>()
            }
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Packed(b) => PackedIter { buf: b, pos: 0 }.count(),
            Hash::Table(t) => t.map.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Hash::Packed(b) => b.is_empty(),
            Hash::Table(t) => t.map.is_empty(),
        }
    }

    /// The pairs, in insertion order for `listpack`, table order otherwise.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Hash::Packed(b) => Iter::Packed(PackedIter { buf: b, pos: 0 }),
            Hash::Table(t) => Iter::Table(t.map.iter()),
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Packed(b) => packed_find(b, field).map(|p| &b[p.value..p.end]),
            Hash::Table(t) => t
                .map
                .find(hash_of(field), |s| split_slot(s).0 == field)
                .map(|s| split_slot(s).1),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Converts to `hashtable` (never the other way, as in Redis).
    pub fn convert_to_table(&mut self) {
        if let Hash::Packed(b) = self {
            let mut map = HashTable::with_capacity(PackedIter { buf: b, pos: 0 }.count());
            for (f, v) in (PackedIter { buf: b, pos: 0 }) {
                map.insert_unique(hash_of(f), make_slot(f, v), |s| hash_of(split_slot(s).0));
            }
            *self = Hash::Table(Box::new(Table { map }));
        }
    }

    /// What Redis checks before a write of several pairs (HSET, HMSET,
    /// HSETNX): more new pairs than the entry limit, or any argument longer
    /// than the value limit, converts the hash first. `args` are the fields
    /// and values, alternating.
    pub fn prepare_write(&mut self, args: &[&[u8]], limits: &LimitValues) {
        if !matches!(self, Hash::Packed(_)) {
            return;
        }
        if args.len() / 2 > limits.hash_max_listpack_entries
            || args
                .iter()
                .any(|a| a.len() > limits.hash_max_listpack_value)
        {
            self.convert_to_table();
        }
    }

    /// Sets `field` to `value`; true when the field is new. Converts when
    /// either is longer than the value limit or the hash grows past the
    /// entry limit.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &LimitValues) -> bool {
        if matches!(self, Hash::Packed(_))
            && (field.len() > limits.hash_max_listpack_value
                || value.len() > limits.hash_max_listpack_value)
        {
            self.convert_to_table();
        }
        match self {
            Hash::Packed(b) => {
                let mut out = Vec::with_capacity(b.len() + field.len() + value.len() + 4);
                let inserted = match packed_find(b, field) {
                    Some(p) => {
                        // Replaced in place: the pair keeps its position.
                        out.extend_from_slice(&b[..p.value_prefix]);
                        put_len(&mut out, value.len());
                        out.extend_from_slice(value);
                        out.extend_from_slice(&b[p.end..]);
                        false
                    }
                    None => {
                        out.extend_from_slice(b);
                        put_len(&mut out, field.len());
                        out.extend_from_slice(field);
                        put_len(&mut out, value.len());
                        out.extend_from_slice(value);
                        true
                    }
                };
                *b = out.into_boxed_slice();
                if inserted && self.len() > limits.hash_max_listpack_entries {
                    self.convert_to_table();
                }
                inserted
            }
            Hash::Table(t) => {
                let h = hash_of(field);
                match t.map.entry(
                    h,
                    |s| split_slot(s).0 == field,
                    |s| hash_of(split_slot(s).0),
                ) {
                    hashbrown::hash_table::Entry::Occupied(mut o) => {
                        *o.get_mut() = make_slot(field, value);
                        false
                    }
                    hashbrown::hash_table::Entry::Vacant(v) => {
                        v.insert(make_slot(field, value));
                        true
                    }
                }
            }
        }
    }

    /// Removes `field`; true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Packed(b) => match packed_find(b, field) {
                Some(p) => {
                    let mut out = Vec::with_capacity(b.len() - (p.end - p.start));
                    out.extend_from_slice(&b[..p.start]);
                    out.extend_from_slice(&b[p.end..]);
                    *b = out.into_boxed_slice();
                    true
                }
                None => false,
            },
            Hash::Table(t) => {
                match t
                    .map
                    .find_entry(hash_of(field), |s| split_slot(s).0 == field)
                {
                    Ok(o) => {
                        o.remove();
                        if t.map.len() * 8 < t.map.capacity() && t.map.capacity() > 64 {
                            t.map.shrink_to_fit(|s| hash_of(split_slot(s).0));
                        }
                        true
                    }
                    Err(_) => false,
                }
            }
        }
    }

    /// A uniformly random pair, or None when empty.
    pub fn random_pair<R: Rng>(&self, rng: &mut R) -> Option<(&[u8], &[u8])> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        self.iter().nth(rng.gen_range(0..n))
    }

    /// One HSCAN step. `listpack` hashes return every pair and cursor 0, as
    /// Redis does. For `hashtable` the cursor is a position in the 64-bit
    /// field-hash space: pairs whose hash is at least `cursor` are returned
    /// in hash order, so a pair present for the whole iteration is returned
    /// exactly once however the table grows or shrinks. Each step visits at
    /// least `count` pairs and at least a 32nd of the hash, which bounds a
    /// full iteration to a few dozen steps.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        let t = match self {
            Hash::Packed(_) => {
                for (k, v) in self.iter() {
                    f(k, v);
                }
                return 0;
            }
            Hash::Table(t) => t,
        };
        let want = count.max(1).max(t.map.len() / 32);
        let mut batch: Vec<(u64, &[u8])> = t
            .map
            .iter()
            .map(|s| (hash_of(split_slot(s).0), &s[..]))
            .filter(|(h, _)| *h >= cursor)
            .collect();
        if batch.len() <= want {
            batch.sort_unstable_by_key(|(h, _)| *h);
            for (_, s) in &batch {
                let (k, v) = split_slot(s);
                f(k, v);
            }
            return 0;
        }
        batch.select_nth_unstable_by_key(want - 1, |(h, _)| *h);
        let limit = batch[want - 1].0;
        batch.retain(|(h, _)| *h <= limit);
        batch.sort_unstable_by_key(|(h, _)| *h);
        for (_, s) in &batch {
            let (k, v) = split_slot(s);
            f(k, v);
        }
        if limit == u64::MAX {
            0
        } else {
            limit + 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(entries: usize, value: usize) -> LimitValues {
        LimitValues {
            hash_max_listpack_entries: entries,
            hash_max_listpack_value: value,
            ..LimitValues::default()
        }
    }

    fn pairs(h: &Hash) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut v: Vec<_> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        v.sort();
        v
    }

    #[test]
    fn packed_basics_keep_insertion_order() {
        let l = LimitValues::default();
        let mut h = Hash::new();
        assert!(h.is_empty());
        assert!(h.set(b"a", b"1", &l));
        assert!(h.set(b"b", b"2", &l));
        assert!(h.set(b"c", b"3", &l));
        assert!(!h.set(b"b", b"22", &l));
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.len(), 3);
        assert_eq!(h.get(b"b"), Some(&b"22"[..]));
        let order: Vec<&[u8]> = h.iter().map(|(f, _)| f).collect();
        assert_eq!(order, vec![&b"a"[..], b"b", b"c"]);
        assert!(h.remove(b"a"));
        assert!(!h.remove(b"a"));
        assert_eq!(h.get(b"a"), None);
        assert_eq!(h.len(), 2);
        assert!(h.remove(b"b"));
        assert!(h.remove(b"c"));
        assert!(h.is_empty());
    }

    #[test]
    fn packed_long_strings_and_updates() {
        let l = limits(1000, 100_000);
        let mut h = Hash::new();
        let big = vec![b'x'; 300];
        let bigger = vec![b'y'; 20_000];
        h.set(b"f1", &big, &l);
        h.set(&big, b"v", &l);
        h.set(b"f1", b"", &l);
        h.set(b"f1", &bigger, &l);
        h.set(b"", b"empty", &l);
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.get(b"f1"), Some(&bigger[..]));
        assert_eq!(h.get(&big), Some(&b"v"[..]));
        assert_eq!(h.get(b""), Some(&b"empty"[..]));
        h.set(b"f1", b"z", &l);
        assert_eq!(h.get(b"f1"), Some(&b"z"[..]));
        assert_eq!(h.get(&big), Some(&b"v"[..]));
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn converts_on_entry_count() {
        let l = limits(3, 64);
        let mut h = Hash::new();
        for f in [&b"a"[..], b"b", b"c"] {
            h.set(f, b"v", &l);
        }
        assert_eq!(h.encoding(), "listpack");
        h.set(b"a", b"w", &l);
        assert_eq!(h.encoding(), "listpack");
        h.set(b"d", b"v", &l);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 4);
        assert_eq!(h.get(b"a"), Some(&b"w"[..]));
        // Never converts back.
        h.remove(b"a");
        h.remove(b"b");
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(
            pairs(&h),
            vec![
                (b"c".to_vec(), b"v".to_vec()),
                (b"d".to_vec(), b"v".to_vec())
            ]
        );
    }

    #[test]
    fn converts_on_value_length() {
        let l = limits(128, 4);
        let mut h = Hash::new();
        h.set(b"f", b"1234", &l);
        assert_eq!(h.encoding(), "listpack");
        h.set(b"g", b"12345", &l);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.set(b"12345", b"v", &l);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn prepare_write_presizes() {
        let l = limits(2, 64);
        let mut h = Hash::new();
        h.prepare_write(&[b"a", b"1", b"a", b"1"], &l);
        assert_eq!(h.encoding(), "listpack");
        h.prepare_write(&[b"a", b"1", b"a", b"1", b"a", b"1"], &l);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.prepare_write(&[b"a", &[b'x'; 65]], &LimitValues::default());
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn table_operations() {
        let l = limits(0, 64);
        let mut h = Hash::new();
        for i in 0..1000 {
            assert!(h.set(format!("f{i}").as_bytes(), format!("{i}").as_bytes(), &l));
        }
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 1000);
        assert!(!h.set(b"f5", b"five", &l));
        assert_eq!(h.get(b"f5"), Some(&b"five"[..]));
        for i in 0..990 {
            assert!(h.remove(format!("f{i}").as_bytes()));
        }
        assert_eq!(h.len(), 10);
        assert_eq!(h.get(b"f995"), Some(&b"995"[..]));
        assert!(h.heap_size() > 0);
    }

    #[test]
    fn scan_covers_everything_once() {
        let l = limits(0, 64);
        let mut h = Hash::new();
        for i in 0..5000 {
            h.set(format!("f{i}").as_bytes(), b"v", &l);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut steps = 0;
        loop {
            cursor = h.scan(cursor, 10, |f, _| {
                assert!(seen.insert(f.to_vec()));
            });
            steps += 1;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 5000);
        assert!(steps <= 40, "{steps}");

        let mut p = Hash::new();
        p.set(b"a", b"1", &LimitValues::default());
        let mut n = 0;
        assert_eq!(p.scan(77, 1, |_, _| n += 1), 0);
        assert_eq!(n, 1);
    }

    #[test]
    fn random_pairs() {
        let mut rng = rand::thread_rng();
        assert!(Hash::new().random_pair(&mut rng).is_none());
        let mut h = Hash::new();
        h.set(b"a", b"1", &LimitValues::default());
        assert_eq!(h.random_pair(&mut rng), Some((&b"a"[..], &b"1"[..])));
    }

    #[test]
    fn small_hashes_stay_small() {
        assert!(std::mem::size_of::<Hash>() <= 24);
        let mut h = Hash::new();
        h.set(b"name", b"ferrum", &LimitValues::default());
        assert_eq!(h.heap_size(), 12);
    }
}
