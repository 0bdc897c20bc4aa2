//! The set value type and its encodings.
//!
//! A set is kept in one of the three encodings Redis 7.2 uses, and moves
//! between them at the points Redis does, so that OBJECT ENCODING answers as
//! Redis would after the same commands:
//!
//! - `intset`: every member is an integer (as Redis's `string2ll` reads it)
//!   and there are at most `set-max-intset-entries` of them. A sorted array
//!   of 16, 32 or 64-bit little-endian integers, widened when a member needs
//!   it (never narrowed, as in Redis). Up to [`INLINE_INTSET`] bytes live
//!   inside the value itself: a set of ten small integers costs no allocation
//!   beyond the value's own box.
//! - `listpack`: at most `set-max-listpack-entries` members of at most
//!   `set-max-listpack-value` bytes. One packed buffer of length-prefixed
//!   members in insertion order; lookups are linear, as in Redis.
//! - `hashtable`: anything larger. An insertion-ordered hash set, so random
//!   members (SPOP, SRANDMEMBER) are O(1).
//!
//! Conversions only ever go from intset to listpack or hashtable and from
//! listpack to hashtable, except where a command rebuilds a set (SPOP with a
//! large count, SINTERSTORE of integers), exactly as in Redis.

use std::hash::BuildHasher;
use std::sync::LazyLock;

use bytes::Bytes;
use hashbrown::DefaultHashBuilder;
use indexmap::IndexSet;
use rand::Rng;

use crate::limits::LimitValues;
use crate::value::parse_canonical_i64;

/// Bytes of intset data kept inside the value (eleven 16-bit members).
pub const INLINE_INTSET: usize = 22;

/// Redis refuses to grow a listpack beyond 1 GB (`lpSafeToAdd`).
const LISTPACK_MAX_SAFE: usize = 1 << 30;

/// Redis caps intsets at 2^30 members whatever the configuration says.
const INTSET_MAX_CAP: usize = 1 << 30;

/// The hasher of hashtable-encoded sets. One process-wide seed, so that a
/// member's hash (its SSCAN position) is the same in every set and stays the
/// same while a client iterates.
static MEMBER_HASHER: LazyLock<DefaultHashBuilder> = LazyLock::new(DefaultHashBuilder::default);

/// [`BuildHasher`] over the process-wide member hasher.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemberHasher;

impl BuildHasher for MemberHasher {
    type Hasher = <DefaultHashBuilder as BuildHasher>::Hasher;

    fn build_hasher(&self) -> Self::Hasher {
        MEMBER_HASHER.build_hasher()
    }
}

/// A member's position in the SSCAN hash space.
fn scan_hash(m: &[u8]) -> u64 {
    MEMBER_HASHER.hash_one(m)
}

type Table = IndexSet<Box<[u8]>, MemberHasher>;

/// A set value.
#[derive(Clone, Debug)]
pub struct Set {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    Intset(Intset),
    Listpack(Listpack),
    Hashtable(Box<Table>),
}

impl Default for Set {
    fn default() -> Self {
        Set::new_intset()
    }
}

/// One member as an encoding holds it.
#[derive(Clone, Copy, Debug)]
enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Elem::Int(n) => f(itoa::Buffer::new().format(n).as_bytes()),
            Elem::Str(s) => f(s),
        }
    }

    fn to_bytes(self) -> Bytes {
        self.with_bytes(Bytes::copy_from_slice)
    }
}

impl Set {
    /// An empty intset (what SUNIONSTORE and SDIFFSTORE start from).
    pub fn new_intset() -> Set {
        Set {
            repr: Repr::Intset(Intset::new()),
        }
    }

    /// An empty listpack.
    pub fn new_listpack() -> Set {
        Set {
            repr: Repr::Listpack(Listpack::default()),
        }
    }

    /// An empty hashtable with room for `cap` members.
    pub fn new_hashtable(cap: usize) -> Set {
        Set {
            repr: Repr::Hashtable(Box::new(Table::with_capacity_and_hasher(
                cap.min(1 << 20),
                MemberHasher,
            ))),
        }
    }

    /// The empty set a write creates for `first` when about `size_hint`
    /// members will be added (Redis's `setTypeCreate`): an intset if the
    /// first member is an integer and the hint fits one, else a listpack if
    /// the hint fits one, else a hashtable.
    pub fn create(first: &[u8], size_hint: usize, lim: &LimitValues) -> Set {
        if parse_canonical_i64(first).is_some() && size_hint <= lim.set_max_intset_entries {
            Set::new_intset()
        } else if size_hint <= lim.set_max_listpack_entries {
            Set::new_listpack()
        } else {
            Set::new_hashtable(size_hint)
        }
    }

    /// Before adding about `size_hint` members to an existing set: converts
    /// a compact encoding that the hint already overflows to a hashtable
    /// (Redis's `setTypeMaybeConvert`), even if some are duplicates.
    pub fn maybe_convert(&mut self, size_hint: usize, lim: &LimitValues) {
        let convert = match &self.repr {
            Repr::Listpack(_) => size_hint > lim.set_max_listpack_entries,
            Repr::Intset(_) => size_hint > lim.set_max_intset_entries,
            Repr::Hashtable(_) => false,
        };
        if convert {
            self.convert_to_hashtable(size_hint);
        }
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Intset(_) => "intset",
            Repr::Listpack(_) => "listpack",
            Repr::Hashtable(_) => "hashtable",
        }
    }

    /// Approximate heap bytes owned, for INFO and eviction.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Intset(is) => match &is.data {
                IntBuf::Inline { .. } => 0,
                IntBuf::Heap(b) => b.len(),
            },
            Repr::Listpack(lp) => lp.data.len(),
            // O(1), so callers may ask on every write: entries (hash and
            // boxed slice) and index slots, plus an assumed 16 bytes per
            // member string (the smallest allocation most members take).
            Repr::Hashtable(t) => {
                std::mem::size_of::<Table>() + t.capacity() * (24 + 9) + t.len() * 16
            }
        }
    }

    /// Number of members (SCARD).
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Intset(is) => is.len(),
            Repr::Listpack(lp) => lp.len as usize,
            Repr::Hashtable(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.repr {
            Repr::Intset(is) => parse_canonical_i64(m).is_some_and(|v| is.search(v).is_ok()),
            Repr::Listpack(lp) => lp.find(m).is_some(),
            Repr::Hashtable(t) => t.contains(m),
        }
    }

    /// Adds `m`; true if it was not a member. Converts the encoding when
    /// the new member does not fit it, as Redis's `setTypeAddAux` does.
    pub fn add(&mut self, m: &[u8], lim: &LimitValues) -> bool {
        match &mut self.repr {
            Repr::Hashtable(t) => {
                if t.contains(m) {
                    false
                } else {
                    t.insert(m.into())
                }
            }
            Repr::Listpack(lp) => {
                if lp.find(m).is_some() {
                    return false;
                }
                if (lp.len as usize) < lim.set_max_listpack_entries
                    && m.len() <= lim.set_max_listpack_value
                    && lp.data.len() + m.len() + 10 <= LISTPACK_MAX_SAFE
                {
                    lp.push(m);
                } else {
                    let n = lp.len as usize + 1;
                    self.convert_to_hashtable(n);
                    self.table_mut().insert(m.into());
                }
                true
            }
            Repr::Intset(is) => {
                if let Some(v) = parse_canonical_i64(m) {
                    if !is.insert(v) {
                        return false;
                    }
                    if is.len() > lim.set_max_intset_entries.min(INTSET_MAX_CAP) {
                        self.convert_to_hashtable(0);
                    }
                    return true;
                }
                // Not an integer: a listpack if every member would fit one
                // (judged by the widest of the smallest and largest
                // integers), else a hashtable.
                let n = is.len();
                let (maxlen, total) = if n == 0 {
                    (0, 0)
                } else {
                    let (lo, hi) = (is.get(0), is.get(n - 1));
                    let w = digits(lo).max(digits(hi));
                    (w, (w + 2) * n)
                };
                if n < lim.set_max_listpack_entries
                    && m.len() <= lim.set_max_listpack_value
                    && maxlen <= lim.set_max_listpack_value
                    && total + m.len() <= LISTPACK_MAX_SAFE
                {
                    self.convert_to_listpack();
                    if let Repr::Listpack(lp) = &mut self.repr {
                        lp.push(m);
                    }
                } else {
                    self.convert_to_hashtable(n + 1);
                    self.table_mut().insert(m.into());
                }
                true
            }
        }
    }

    /// Removes `m`; true if it was a member. Never changes the encoding.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Intset(is) => parse_canonical_i64(m).is_some_and(|v| is.remove(v)),
            Repr::Listpack(lp) => lp.remove(m),
            Repr::Hashtable(t) => {
                let gone = t.swap_remove(m);
                if gone {
                    shrink_table(t);
                }
                gone
            }
        }
    }

    /// Calls `f` with every member, in the encoding's order (ascending for
    /// an intset, insertion order for a listpack).
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        match &self.repr {
            Repr::Intset(is) => {
                let mut buf = itoa::Buffer::new();
                for v in is.iter() {
                    f(buf.format(v).as_bytes());
                }
            }
            Repr::Listpack(lp) => lp.iter().for_each(f),
            Repr::Hashtable(t) => t.iter().for_each(|m| f(m)),
        }
    }

    /// Every member, as bytes, in the encoding's order (read-only; for
    /// SORT, SMEMBERS and friends).
    pub fn members(&self) -> impl Iterator<Item = Bytes> + '_ {
        self.to_vec().into_iter()
    }

    /// Every member as owned bytes, in the encoding's order.
    pub fn to_vec(&self) -> Vec<Bytes> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|m| out.push(Bytes::copy_from_slice(m)));
        out
    }

    /// Positional access for sampling: O(1) per member, a listpack walked once.
    fn elems(&self) -> Vec<Elem<'_>> {
        match &self.repr {
            Repr::Intset(is) => is.iter().map(Elem::Int).collect(),
            Repr::Listpack(lp) => lp.iter().map(Elem::Str).collect(),
            Repr::Hashtable(t) => t.iter().map(|m| Elem::Str(m)).collect(),
        }
    }

    fn elem_at(&self, i: usize) -> Elem<'_> {
        match &self.repr {
            Repr::Intset(is) => Elem::Int(is.get(i)),
            Repr::Listpack(lp) => Elem::Str(lp.iter().nth(i).expect("index in range")),
            Repr::Hashtable(t) => Elem::Str(t.get_index(i).expect("index in range")),
        }
    }

    /// One uniformly random member of a non-empty set.
    pub fn random_member(&self, rng: &mut impl Rng) -> Bytes {
        let i = rng.gen_range(0..self.len());
        self.elem_at(i).to_bytes()
    }

    /// `count` random members, repeats allowed (SRANDMEMBER with a negative
    /// count). The set must not be empty.
    pub fn random_members(&self, count: usize, rng: &mut impl Rng) -> Vec<Bytes> {
        let n = self.len();
        match &self.repr {
            Repr::Listpack(_) => {
                let elems = self.elems();
                (0..count)
                    .map(|_| elems[rng.gen_range(0..n)].to_bytes())
                    .collect()
            }
            _ => (0..count)
                .map(|_| self.elem_at(rng.gen_range(0..n)).to_bytes())
                .collect(),
        }
    }

    /// `count` distinct random members, `count` below the size (SRANDMEMBER
    /// with a positive count).
    pub fn distinct_random_members(&self, count: usize, rng: &mut impl Rng) -> Vec<Bytes> {
        let count = count.min(self.len());
        let picks = rand::seq::index::sample(rng, self.len(), count);
        match &self.repr {
            Repr::Listpack(_) => {
                let elems = self.elems();
                picks.iter().map(|i| elems[i].to_bytes()).collect()
            }
            _ => picks.iter().map(|i| self.elem_at(i).to_bytes()).collect(),
        }
    }

    /// Removes and returns one random member of a non-empty set (SPOP).
    pub fn pop_random(&mut self, rng: &mut impl Rng) -> Bytes {
        let i = rng.gen_range(0..self.len());
        self.remove_at(i)
    }

    fn remove_at(&mut self, i: usize) -> Bytes {
        match &mut self.repr {
            Repr::Intset(is) => {
                let v = is.get(i);
                is.remove(v);
                Elem::Int(v).to_bytes()
            }
            Repr::Listpack(lp) => {
                let m = Bytes::copy_from_slice(lp.iter().nth(i).expect("index in range"));
                lp.remove(&m);
                m
            }
            Repr::Hashtable(t) => {
                let m = t.swap_remove_index(i).expect("index in range");
                shrink_table(t);
                Bytes::from(m.into_vec())
            }
        }
    }

    /// Removes and returns `count` distinct random members, `count` below
    /// the size (SPOP with a count). As in Redis, when few members remain
    /// (`remaining * 5 <= count`) the set is rebuilt from the members that
    /// stay: an intset stays an intset, anything else starts again as a
    /// listpack, which is how a large hashtable becomes a listpack again.
    pub fn pop_many(&mut self, count: usize, rng: &mut impl Rng, lim: &LimitValues) -> Vec<Bytes> {
        let size = self.len();
        debug_assert!(count < size);
        let remaining = size - count;
        if remaining * 5 > count {
            if let Repr::Listpack(_) = self.repr {
                let picks = rand::seq::index::sample(rng, size, count);
                let elems = self.elems();
                let popped: Vec<Bytes> = picks.iter().map(|i| elems[i].to_bytes()).collect();
                for m in &popped {
                    self.remove(m);
                }
                return popped;
            }
            return (0..count).map(|_| self.pop_random(rng)).collect();
        }
        let mut keep = vec![false; size];
        for i in rand::seq::index::sample(rng, size, remaining).iter() {
            keep[i] = true;
        }
        let mut newset = match self.repr {
            Repr::Intset(_) => Set::new_intset(),
            _ => Set::new_listpack(),
        };
        let mut popped = Vec::with_capacity(count);
        for (i, e) in self.elems().into_iter().enumerate() {
            if keep[i] {
                e.with_bytes(|b| newset.add(b, lim));
            } else {
                popped.push(e.to_bytes());
            }
        }
        *self = newset;
        popped
    }

    /// Converts a set whose members are all integers to an intset, if it is
    /// small enough (what SINTERSTORE does with an all-integer result).
    pub fn maybe_convert_to_intset(&mut self, lim: &LimitValues) {
        if matches!(self.repr, Repr::Intset(_))
            || self.len() > lim.set_max_intset_entries.min(INTSET_MAX_CAP)
        {
            return;
        }
        let mut is = Intset::new();
        let mut all_ints = true;
        self.for_each(|m| match parse_canonical_i64(m) {
            Some(v) => {
                is.insert(v);
            }
            None => all_ints = false,
        });
        if all_ints {
            self.repr = Repr::Intset(is);
        }
    }

    /// One SSCAN step. Compact encodings return every member and cursor 0,
    /// as Redis does. A hashtable is walked in the order of its members'
    /// hashes: the cursor is a position in that hash space, so a member
    /// present for the whole iteration is returned at least once however
    /// the set grows or shrinks in between. Each step returns at least
    /// `count` members (all those sharing the last hash) and at least a
    /// 64th of the set, so a full iteration costs a bounded number of passes.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8])) -> u64 {
        let t = match &self.repr {
            Repr::Hashtable(t) => t,
            _ => {
                self.for_each(f);
                return 0;
            }
        };
        let want = count.max(1).max(t.len() / 64);
        let mut batch: Vec<(u64, &[u8])> = t
            .iter()
            .map(|m| (scan_hash(m), &m[..]))
            .filter(|(h, _)| *h >= cursor)
            .collect();
        if batch.len() <= want {
            for (_, m) in batch {
                f(m);
            }
            return 0;
        }
        batch.select_nth_unstable_by_key(want - 1, |(h, _)| *h);
        let limit = batch[want - 1].0;
        for (h, m) in &batch {
            if *h <= limit {
                f(m);
            }
        }
        limit.wrapping_add(1)
    }

    fn table_mut(&mut self) -> &mut Table {
        match &mut self.repr {
            Repr::Hashtable(t) => t,
            _ => unreachable!("converted to a hashtable just before"),
        }
    }

    fn convert_to_hashtable(&mut self, cap: usize) {
        let mut t = Table::with_capacity_and_hasher(cap.max(self.len()).min(1 << 20), MemberHasher);
        self.for_each(|m| {
            t.insert(m.into());
        });
        self.repr = Repr::Hashtable(Box::new(t));
    }

    fn convert_to_listpack(&mut self) {
        let mut lp = Listpack::default();
        self.for_each(|m| lp.push(m));
        self.repr = Repr::Listpack(lp);
    }
}

/// Gives memory back when a hashtable has shrunk to an eighth of its room,
/// as Redis resizes a dict that falls below 10% use.
fn shrink_table(t: &mut Table) {
    if t.capacity() > 64 && t.len() * 8 < t.capacity() {
        t.shrink_to_fit();
    }
}

/// Characters of `v` in decimal, sign included (Redis's `sdigits10`).
fn digits(v: i64) -> usize {
    itoa::Buffer::new().format(v).len()
}

// ---------------------------------------------------------------------------
// intset

/// The bytes of an intset, inline while they fit.
#[derive(Clone, Debug)]
enum IntBuf {
    Inline { len: u8, buf: [u8; INLINE_INTSET] },
    Heap(Box<[u8]>),
}

impl IntBuf {
    fn as_slice(&self) -> &[u8] {
        match self {
            IntBuf::Inline { len, buf } => &buf[..*len as usize],
            IntBuf::Heap(b) => b,
        }
    }

    fn from_vec(v: Vec<u8>) -> IntBuf {
        if v.len() <= INLINE_INTSET {
            let mut buf = [0u8; INLINE_INTSET];
            buf[..v.len()].copy_from_slice(&v);
            IntBuf::Inline {
                len: v.len() as u8,
                buf,
            }
        } else {
            IntBuf::Heap(v.into_boxed_slice())
        }
    }
}

/// Sorted distinct integers, each `width` bytes little-endian.
#[derive(Clone, Debug)]
struct Intset {
    width: u8,
    data: IntBuf,
}

/// The narrowest of 2, 4 and 8 bytes that holds `v`.
fn width_for(v: i64) -> u8 {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

fn read_int(b: &[u8], width: u8) -> i64 {
    match width {
        2 => i16::from_le_bytes([b[0], b[1]]) as i64,
        4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
        _ => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
    }
}

fn write_int(out: &mut Vec<u8>, v: i64, width: u8) {
    match width {
        2 => out.extend_from_slice(&(v as i16).to_le_bytes()),
        4 => out.extend_from_slice(&(v as i32).to_le_bytes()),
        _ => out.extend_from_slice(&v.to_le_bytes()),
    }
}

impl Intset {
    fn new() -> Intset {
        Intset {
            width: 2,
            data: IntBuf::from_vec(Vec::new()),
        }
    }

    fn len(&self) -> usize {
        self.data.as_slice().len() / self.width as usize
    }

    fn get(&self, i: usize) -> i64 {
        let w = self.width as usize;
        read_int(&self.data.as_slice()[i * w..(i + 1) * w], self.width)
    }

    fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        let w = self.width;
        self.data
            .as_slice()
            .chunks_exact(w as usize)
            .map(move |c| read_int(c, w))
    }

    fn search(&self, v: i64) -> Result<usize, usize> {
        if width_for(v) > self.width {
            // Outside the range the current width can hold.
            return Err(if v < 0 { 0 } else { self.len() });
        }
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// Inserts `v` in order, widening every member if `v` needs it.
    fn insert(&mut self, v: i64) -> bool {
        let pos = match self.search(v) {
            Ok(_) => return false,
            Err(p) => p,
        };
        let width = self.width.max(width_for(v));
        let n = self.len();
        let mut out = Vec::with_capacity((n + 1) * width as usize);
        if width == self.width {
            let w = width as usize;
            let old = self.data.as_slice();
            out.extend_from_slice(&old[..pos * w]);
            write_int(&mut out, v, width);
            out.extend_from_slice(&old[pos * w..]);
        } else {
            for (i, x) in self.iter().enumerate() {
                if i == pos {
                    write_int(&mut out, v, width);
                }
                write_int(&mut out, x, width);
            }
            if pos == n {
                write_int(&mut out, v, width);
            }
        }
        self.width = width;
        self.data = IntBuf::from_vec(out);
        true
    }

    fn remove(&mut self, v: i64) -> bool {
        let Ok(pos) = self.search(v) else {
            return false;
        };
        let w = self.width as usize;
        let old = self.data.as_slice();
        let mut out = Vec::with_capacity(old.len() - w);
        out.extend_from_slice(&old[..pos * w]);
        out.extend_from_slice(&old[(pos + 1) * w..]);
        self.data = IntBuf::from_vec(out);
        true
    }
}

// ---------------------------------------------------------------------------
// listpack

/// Members in insertion order, each a LEB128 length and its bytes, in one
/// exactly-sized buffer.
#[derive(Clone, Debug, Default)]
struct Listpack {
    len: u32,
    data: Box<[u8]>,
}

fn read_varint(b: &[u8]) -> (usize, usize) {
    let mut v = 0usize;
    let mut shift = 0;
    for (i, &c) in b.iter().enumerate() {
        v |= ((c & 0x7f) as usize) << shift;
        if c & 0x80 == 0 {
            return (v, i + 1);
        }
        shift += 7;
    }
    unreachable!("listpack lengths are well formed")
}

fn write_varint(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let c = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(c);
            return;
        }
        out.push(c | 0x80);
    }
}

struct LpIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for LpIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let (len, hdr) = read_varint(self.rest);
        let m = &self.rest[hdr..hdr + len];
        self.rest = &self.rest[hdr + len..];
        Some(m)
    }
}

impl Listpack {
    fn iter(&self) -> LpIter<'_> {
        LpIter { rest: &self.data }
    }

    /// The byte range of `m`'s entry, if it is a member.
    fn find(&self, m: &[u8]) -> Option<(usize, usize)> {
        let mut at = 0;
        let d = &self.data[..];
        while at < d.len() {
            let (len, hdr) = read_varint(&d[at..]);
            let end = at + hdr + len;
            if &d[at + hdr..end] == m {
                return Some((at, end));
            }
            at = end;
        }
        None
    }

    fn push(&mut self, m: &[u8]) {
        let mut out = Vec::with_capacity(self.data.len() + m.len() + 2);
        out.extend_from_slice(&self.data);
        write_varint(&mut out, m.len());
        out.extend_from_slice(m);
        self.data = out.into_boxed_slice();
        self.len += 1;
    }

    fn remove(&mut self, m: &[u8]) -> bool {
        let Some((start, end)) = self.find(m) else {
            return false;
        };
        let mut out = Vec::with_capacity(self.data.len() - (end - start));
        out.extend_from_slice(&self.data[..start]);
        out.extend_from_slice(&self.data[end..]);
        self.data = out.into_boxed_slice();
        self.len -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> LimitValues {
        LimitValues::default()
    }

    fn build(members: &[&str]) -> Set {
        let l = lim();
        let mut s = Set::create(members[0].as_bytes(), members.len(), &l);
        s.maybe_convert(members.len(), &l);
        for m in members {
            s.add(m.as_bytes(), &l);
        }
        s
    }

    fn sorted(s: &Set) -> Vec<String> {
        let mut v: Vec<String> = s
            .members()
            .map(|b| String::from_utf8(b.to_vec()).unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn value_stays_small() {
        // One 32-byte allocation per set value (a jemalloc size class),
        // with small intsets inside it.
        assert!(
            std::mem::size_of::<Set>() <= 32,
            "{}",
            std::mem::size_of::<Set>()
        );
    }

    #[test]
    fn intset_basics_and_widths() {
        let l = lim();
        let mut s = Set::new_intset();
        assert!(s.add(b"5", &l));
        assert!(s.add(b"-3", &l));
        assert!(!s.add(b"5", &l));
        assert_eq!(s.encoding(), "intset");
        assert_eq!(s.heap_size(), 0, "small intsets live inline");
        // Widen to 32 then 64 bits; order is kept.
        assert!(s.add(b"100000", &l));
        assert!(s.add(b"-9223372036854775808", &l));
        assert!(s.add(b"9223372036854775807", &l));
        assert_eq!(s.encoding(), "intset");
        let v: Vec<Bytes> = s.members().collect();
        assert_eq!(
            v,
            vec![
                Bytes::from_static(b"-9223372036854775808"),
                Bytes::from_static(b"-3"),
                Bytes::from_static(b"5"),
                Bytes::from_static(b"100000"),
                Bytes::from_static(b"9223372036854775807"),
            ]
        );
        assert!(s.contains(b"100000"));
        assert!(!s.contains(b"0100000"));
        assert!(!s.contains(b"abc"));
        assert!(!s.contains(b"12345678901234567890"));
        assert!(s.remove(b"-3"));
        assert!(!s.remove(b"-3"));
        assert!(!s.remove(b"x"));
        assert_eq!(s.len(), 4);
        // Ten 16-bit members fit inline.
        let mut t = Set::new_intset();
        for i in 0..10 {
            t.add(i.to_string().as_bytes(), &l);
        }
        assert_eq!(t.heap_size(), 0);
        for i in 10..20 {
            t.add(i.to_string().as_bytes(), &l);
        }
        assert_eq!(t.len(), 20);
        assert_eq!(t.heap_size(), 40);
    }

    #[test]
    fn create_follows_the_first_member_and_hint() {
        let l = lim();
        assert_eq!(Set::create(b"1", 1, &l).encoding(), "intset");
        assert_eq!(Set::create(b"1", 512, &l).encoding(), "intset");
        assert_eq!(Set::create(b"1", 513, &l).encoding(), "hashtable");
        assert_eq!(Set::create(b"a", 128, &l).encoding(), "listpack");
        assert_eq!(Set::create(b"a", 129, &l).encoding(), "hashtable");
        assert_eq!(Set::create(b"01", 1, &l).encoding(), "listpack");
    }

    #[test]
    fn intset_converts_to_listpack_or_hashtable() {
        let l = lim();
        let mut s = build(&["1", "2", "3"]);
        assert!(s.add(b"a", &l));
        assert_eq!(s.encoding(), "listpack");
        assert_eq!(sorted(&s), ["1", "2", "3", "a"]);
        // 128 integers then a string: too many for a listpack.
        let mut s = Set::new_intset();
        for i in 0..128 {
            s.add(i.to_string().as_bytes(), &l);
        }
        assert_eq!(s.encoding(), "intset");
        s.add(b"x", &l);
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 129);
        // 127 integers then a string: fits.
        let mut s = Set::new_intset();
        for i in 0..127 {
            s.add(i.to_string().as_bytes(), &l);
        }
        s.add(b"x", &l);
        assert_eq!(s.encoding(), "listpack");
        assert_eq!(s.len(), 128);
        s.add(b"y", &l);
        assert_eq!(s.encoding(), "hashtable");
        // A long string goes straight to a hashtable.
        let mut s = build(&["1"]);
        s.add(&[b'z'; 65], &l);
        assert_eq!(s.encoding(), "hashtable");
        // Integers wider than set-max-listpack-value.
        let small = LimitValues {
            set_max_listpack_value: 3,
            ..lim()
        };
        let mut s = Set::new_intset();
        s.add(b"1234", &small);
        s.add(b"a", &small);
        assert_eq!(s.encoding(), "hashtable");
    }

    #[test]
    fn intset_overflow_goes_to_hashtable() {
        let l = LimitValues {
            set_max_intset_entries: 4,
            ..lim()
        };
        let mut s = Set::new_intset();
        for i in 0..4 {
            s.add(i.to_string().as_bytes(), &l);
        }
        assert_eq!(s.encoding(), "intset");
        s.add(b"4", &l);
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(sorted(&s), ["0", "1", "2", "3", "4"]);
    }

    #[test]
    fn listpack_basics_and_limits() {
        let l = lim();
        let mut s = Set::new_listpack();
        assert!(s.add(b"a", &l));
        assert!(s.add(b"", &l));
        assert!(s.add(b"1", &l));
        assert!(!s.add(b"a", &l));
        assert!(s.contains(b""));
        assert!(s.contains(b"1"));
        assert_eq!(
            s.to_vec(),
            vec![Bytes::from("a"), Bytes::from(""), Bytes::from("1")]
        );
        assert!(s.remove(b""));
        assert!(!s.contains(b""));
        assert_eq!(s.len(), 2);
        // Long members use multi-byte lengths.
        let long = vec![b'q'; 64];
        s.add(&long, &l);
        assert!(s.contains(&long));
        assert_eq!(s.encoding(), "listpack");
        s.add(&[b'q'; 65], &l);
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 4);
        // Entry count limit.
        let mut s = Set::new_listpack();
        for i in 0..128 {
            s.add(format!("m{i}").as_bytes(), &l);
        }
        assert_eq!(s.encoding(), "listpack");
        s.add(b"m0", &l);
        assert_eq!(s.encoding(), "listpack");
        s.add(b"extra", &l);
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 129);
    }

    #[test]
    fn maybe_convert_uses_the_hint() {
        let l = lim();
        let mut s = build(&["a"]);
        s.maybe_convert(128, &l);
        assert_eq!(s.encoding(), "listpack");
        s.maybe_convert(129, &l);
        assert_eq!(s.encoding(), "hashtable");
        let mut s = build(&["1"]);
        s.maybe_convert(513, &l);
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(sorted(&s), ["1"]);
    }

    #[test]
    fn hashtable_basics() {
        let l = lim();
        let mut s = Set::new_hashtable(0);
        for i in 0..1000 {
            assert!(s.add(format!("k{i}").as_bytes(), &l));
        }
        assert!(!s.add(b"k5", &l));
        assert_eq!(s.len(), 1000);
        for i in 0..990 {
            assert!(s.remove(format!("k{i}").as_bytes()));
        }
        assert_eq!(s.len(), 10);
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"k999"));
    }

    #[test]
    fn to_intset_when_all_integers() {
        let l = lim();
        let mut s = Set::new_listpack();
        s.add(b"3", &l);
        s.add(b"1", &l);
        s.maybe_convert_to_intset(&l);
        assert_eq!(s.encoding(), "intset");
        assert_eq!(sorted(&s), ["1", "3"]);
        let mut s = Set::new_hashtable(0);
        s.add(b"3", &l);
        s.add(b"x", &l);
        s.maybe_convert_to_intset(&l);
        assert_eq!(s.encoding(), "hashtable");
    }

    #[test]
    fn random_and_pops() {
        let l = lim();
        let mut rng = rand::thread_rng();
        for members in [
            (0..20).map(|i| i.to_string()).collect::<Vec<_>>(),
            (0..20).map(|i| format!("m{i}")).collect(),
            (0..300).map(|i| format!("m{i}")).collect(),
        ] {
            let refs: Vec<&str> = members.iter().map(String::as_str).collect();
            let s = build(&refs);
            let d = s.distinct_random_members(10, &mut rng);
            let mut u: Vec<_> = d.clone();
            u.sort();
            u.dedup();
            assert_eq!(u.len(), 10);
            assert!(d.iter().all(|m| s.contains(m)));
            let r = s.random_members(50, &mut rng);
            assert_eq!(r.len(), 50);
            assert!(r.iter().all(|m| s.contains(m)));
            // Small pop (case 2) keeps the encoding.
            let mut t = s.clone();
            let enc = t.encoding();
            let p = t.pop_many(2, &mut rng, &l);
            assert_eq!(p.len(), 2);
            assert_eq!(t.len(), refs.len() - 2);
            assert_eq!(t.encoding(), enc);
            assert!(p.iter().all(|m| !t.contains(m)));
            // Large pop (case 3) rebuilds.
            let mut t = s.clone();
            let p = t.pop_many(refs.len() - 3, &mut rng, &l);
            assert_eq!(p.len(), refs.len() - 3);
            assert_eq!(t.len(), 3);
            let want = if enc == "intset" {
                "intset"
            } else {
                "listpack"
            };
            assert_eq!(t.encoding(), want);
            let mut all: Vec<Bytes> = p.clone();
            all.extend(t.members());
            all.sort();
            all.dedup();
            assert_eq!(all.len(), refs.len());
            let mut t = s.clone();
            let one = t.pop_random(&mut rng);
            assert!(s.contains(&one) && !t.contains(&one));
        }
    }

    #[test]
    fn scan_covers_every_member() {
        let l = lim();
        let mut s = Set::new_hashtable(0);
        for i in 0..5000 {
            s.add(format!("m{i}").as_bytes(), &l);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut calls = 0;
        loop {
            cursor = s.scan(cursor, 10, |m| {
                seen.insert(m.to_vec());
            });
            calls += 1;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 5000);
        assert!(calls <= 70, "{calls}");
        let small = build(&["a", "b"]);
        let mut n = 0;
        assert_eq!(small.scan(12345, 1, |_| n += 1), 0);
        assert_eq!(n, 2);
    }
}
