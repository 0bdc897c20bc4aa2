//! The list value type and its two encodings.
//!
//! A small list is one packed byte buffer (OBJECT ENCODING `listpack`); a
//! big one is a chain of packed buffers, each bounded by
//! `list-max-listpack-size` (`quicklist`). Both give O(1) pushes and pops at
//! either end: a pop touches one bounded node only.
//!
//! Entries are packed in Ferrum's own format whose size classes equal those
//! of Redis's listpack (integers in 1, 2, 3, 4, 5 or 9 bytes, strings with a
//! 1, 2 or 5 byte header, then a 1 to 5 byte back length so the buffer can be
//! walked from either end). Because every entry costs what it costs in Redis,
//! the encoding decisions (which Redis 7.2 takes on the listpack's byte size)
//! and the node boundaries come out the same as in Redis, and so does the
//! memory a list needs.
//!
//! Redis 7.2's rules, kept here:
//! - A listpack becomes a quicklist before a write that would make it exceed
//!   the limit: its bytes plus the raw lengths of the elements being added
//!   over the size limit (negative fill), or its count over the count limit
//!   (positive fill; a size safety limit of 8 KB applies too). The listpack
//!   becomes the quicklist's first node.
//! - A quicklist becomes a listpack again after a shrinking write (pop, trim,
//!   LREM, LSET) only when it is down to one packed node that is at most half
//!   the limit, so that a list at the boundary does not flap.
//! - In a quicklist, an element larger than the node size limit gets a node
//!   of its own ("plain" node), and such a list never converts back.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::value::parse_canonical_i64;

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The left end (LPUSH, LPOP, index 0).
    Head,
    /// The right end (RPUSH, RPOP, index -1).
    Tail,
}

/// Node byte-size limits selected by negative `list-max-listpack-size`.
const SIZE_LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// With a count limit, a node may still not pass this many bytes.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// With a count limit, only elements above this size get a plain node.
const PACKED_THRESHOLD: usize = 1 << 30;
/// What a push is assumed to add beyond the element's bytes (header and
/// back length), when deciding whether a node can take it.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Redis's listpack framing (4-byte total, 2-byte count, end marker), which
/// its size limits include.
const FRAMING: usize = 7;

/// `(byte limit, count limit)` of a node for a fill setting.
fn node_limit(fill: i64) -> (usize, usize) {
    if fill >= 0 {
        (usize::MAX, fill.max(1) as usize)
    } else {
        let level = ((fill.unsigned_abs() - 1) as usize).min(SIZE_LEVELS.len() - 1);
        (SIZE_LEVELS[level], usize::MAX)
    }
}

/// Whether a node of `size` bytes and `count` entries is over the limit.
fn exceeds(fill: i64, size: usize, count: usize) -> bool {
    let (sz, cnt) = node_limit(fill);
    if sz != usize::MAX {
        size > sz
    } else {
        size > SIZE_SAFETY_LIMIT || count > cnt
    }
}

/// Whether an element of `len` bytes needs a node of its own.
fn is_large(fill: i64, len: usize) -> bool {
    if fill >= 0 {
        len > PACKED_THRESHOLD
    } else {
        len > node_limit(fill).0
    }
}

// ---------------------------------------------------------------------------
// Entry format
// ---------------------------------------------------------------------------

/// One element as stored: integers in canonical form are kept as numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Str(&'a [u8]),
    Int(i64),
}

impl Elem<'_> {
    /// The element's bytes, copied out.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Elem::Str(s) => Bytes::copy_from_slice(s),
            Elem::Int(n) => Bytes::copy_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        }
    }

    /// Calls `f` with the element's bytes, without allocating.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Elem::Str(s) => f(s),
            Elem::Int(n) => f(itoa::Buffer::new().format(*n).as_bytes()),
        }
    }

    /// True when the element reads as `b`.
    pub fn eq_bytes(&self, b: &[u8]) -> bool {
        match self {
            Elem::Str(s) => *s == b,
            Elem::Int(n) => itoa::Buffer::new().format(*n).as_bytes() == b,
        }
    }
}

/// Bytes the back length of an entry of `len` bytes takes.
fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16383 => 2,
        16384..=2097151 => 3,
        2097152..=268435455 => 4,
        _ => 5,
    }
}

/// Appends the packed form of `v` (header, data, back length) to `out`.
/// Inserts `bytes` at `at` with two memmoves (`Vec::splice` would copy an
/// iterator byte by byte).
fn insert_bytes(buf: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    let old = buf.len();
    let n = bytes.len();
    buf.resize(old + n, 0);
    buf.copy_within(at..old, at + n);
    buf[at..at + n].copy_from_slice(bytes);
}

fn encode(v: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    match parse_canonical_i64(v) {
        Some(n) if (0..=127).contains(&n) => out.push(n as u8),
        Some(n) if (-4096..=4095).contains(&n) => {
            let u = (n + 4096) as u16;
            out.push(0xC0 | (u >> 8) as u8);
            out.push(u as u8);
        }
        Some(n) if i16::try_from(n).is_ok() => {
            out.push(0xF1);
            out.extend_from_slice(&(n as i16).to_le_bytes());
        }
        Some(n) if (-(1 << 23)..(1 << 23)).contains(&n) => {
            out.push(0xF2);
            out.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
        }
        Some(n) if i32::try_from(n).is_ok() => {
            out.push(0xF3);
            out.extend_from_slice(&(n as i32).to_le_bytes());
        }
        Some(n) => {
            out.push(0xF4);
            out.extend_from_slice(&n.to_le_bytes());
        }
        None => {
            let len = v.len();
            if len < 64 {
                out.push(0x80 | len as u8);
            } else if len < 4096 {
                out.push(0xE0 | (len >> 8) as u8);
                out.push(len as u8);
            } else {
                out.push(0xF0);
                out.extend_from_slice(&(len as u32).to_le_bytes());
            }
            out.extend_from_slice(v);
        }
    }
    let body = out.len() - start;
    let n = backlen_size(body);
    for i in 0..n {
        let group = ((body >> (7 * (n - 1 - i))) & 127) as u8;
        out.push(if i > 0 { group | 128 } else { group });
    }
}

/// Decodes the entry starting at `off`: the element and the entry's total size.
fn decode(buf: &[u8], off: usize) -> (Elem<'_>, usize) {
    let tag = buf[off];
    let (elem, body) = match tag {
        0x00..=0x7F => (Elem::Int(tag as i64), 1),
        0x80..=0xBF => {
            let len = (tag & 0x3F) as usize;
            (Elem::Str(&buf[off + 1..off + 1 + len]), 1 + len)
        }
        0xC0..=0xDF => {
            let u = (((tag & 0x1F) as i64) << 8) | buf[off + 1] as i64;
            (Elem::Int(u - 4096), 2)
        }
        0xE0..=0xEF => {
            let len = (((tag & 0x0F) as usize) << 8) | buf[off + 1] as usize;
            (Elem::Str(&buf[off + 2..off + 2 + len]), 2 + len)
        }
        0xF0 => {
            let len =
                u32::from_le_bytes(buf[off + 1..off + 5].try_into().expect("4 bytes")) as usize;
            (Elem::Str(&buf[off + 5..off + 5 + len]), 5 + len)
        }
        0xF1 => {
            let n = i16::from_le_bytes([buf[off + 1], buf[off + 2]]);
            (Elem::Int(n as i64), 3)
        }
        0xF2 => {
            let b = [0, buf[off + 1], buf[off + 2], buf[off + 3]];
            (Elem::Int((i32::from_le_bytes(b) >> 8) as i64), 4)
        }
        0xF3 => {
            let n = i32::from_le_bytes(buf[off + 1..off + 5].try_into().expect("4 bytes"));
            (Elem::Int(n as i64), 5)
        }
        _ => {
            let n = i64::from_le_bytes(buf[off + 1..off + 9].try_into().expect("8 bytes"));
            (Elem::Int(n), 9)
        }
    };
    (elem, body + backlen_size(body))
}

/// The start of the entry that ends at `end`, read from its back length.
fn prev_start(buf: &[u8], end: usize) -> usize {
    let mut p = end - 1;
    let mut body = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[p];
        body |= ((b & 127) as usize) << shift;
        shift += 7;
        if b & 128 == 0 {
            break;
        }
        p -= 1;
    }
    end - backlen_size(body) - body
}

// ---------------------------------------------------------------------------
// A packed buffer of entries
// ---------------------------------------------------------------------------

/// Entries packed one after the other.
#[derive(Clone, Debug, Default)]
struct Pack {
    buf: Vec<u8>,
    count: u32,
}

impl Pack {
    fn len(&self) -> usize {
        self.count as usize
    }

    /// The size Redis's listpack of the same entries has.
    fn redis_size(&self) -> usize {
        self.buf.len() + FRAMING
    }

    /// Gives memory back after the buffer shrank a lot.
    fn trim_capacity(&mut self) {
        if self.buf.capacity() > 64 && self.buf.len() < self.buf.capacity() / 4 {
            self.buf.shrink_to(self.buf.len() * 2);
        }
    }

    fn push(&mut self, end: End, v: &[u8]) {
        match end {
            End::Tail => encode(v, &mut self.buf),
            End::Head => {
                let mut tmp = Vec::with_capacity(v.len() + 10);
                encode(v, &mut tmp);
                insert_bytes(&mut self.buf, 0, &tmp);
            }
        }
        self.count += 1;
    }

    fn insert_at(&mut self, off: usize, v: &[u8]) {
        let mut tmp = Vec::with_capacity(v.len() + 10);
        encode(v, &mut tmp);
        insert_bytes(&mut self.buf, off, &tmp);
        self.count += 1;
    }

    /// Byte range `(start, end)` of the entry at the given end.
    fn end_range(&self, end: End) -> Option<(usize, usize)> {
        if self.count == 0 {
            return None;
        }
        Some(match end {
            End::Head => (0, decode(&self.buf, 0).1),
            End::Tail => (prev_start(&self.buf, self.buf.len()), self.buf.len()),
        })
    }

    fn pop(&mut self, end: End) -> Option<Bytes> {
        let (s, e) = self.end_range(end)?;
        let v = decode(&self.buf, s).0.to_bytes();
        self.remove_bytes(s, e, 1);
        Some(v)
    }

    fn remove_bytes(&mut self, s: usize, e: usize, n: u32) {
        self.buf.drain(s..e);
        self.count -= n;
        self.trim_capacity();
    }

    /// Byte offset of entry `i` (`i <= len`; `len` gives the end).
    fn offset_of(&self, i: usize) -> usize {
        let n = self.len();
        if i >= n {
            return self.buf.len();
        }
        if i <= n / 2 {
            let mut off = 0;
            for _ in 0..i {
                off += decode(&self.buf, off).1;
            }
            off
        } else {
            let mut off = self.buf.len();
            for _ in i..n {
                off = prev_start(&self.buf, off);
            }
            off
        }
    }

    /// Removes `n` entries starting at entry `start`.
    fn delete_range(&mut self, start: usize, n: usize) {
        if n == 0 {
            return;
        }
        let s = self.offset_of(start);
        let mut e = s;
        for _ in 0..n {
            e += decode(&self.buf, e).1;
        }
        self.remove_bytes(s, e, n as u32);
    }

    fn replace_at(&mut self, off: usize, v: &[u8]) {
        let old = decode(&self.buf, off).1;
        let mut tmp = Vec::with_capacity(v.len() + 10);
        encode(v, &mut tmp);
        self.buf.splice(off..off + old, tmp);
        self.trim_capacity();
    }

    /// Splits off the entries from byte `off` on (entry index `idx`).
    fn split_off(&mut self, off: usize, idx: usize) -> Pack {
        let tail = self.buf.split_off(off);
        let right = Pack {
            buf: tail,
            count: self.count - idx as u32,
        };
        self.count = idx as u32;
        self.buf.shrink_to_fit();
        right
    }

    fn from_items<B: AsRef<[u8]>>(items: &[B]) -> Pack {
        let mut p = Pack::default();
        for it in items {
            p.push(End::Tail, it.as_ref());
        }
        p
    }
}

// ---------------------------------------------------------------------------
// The chain of nodes
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Node {
    pack: Pack,
    /// Holds one element too large for a packed node.
    plain: bool,
}

impl Node {
    fn new(pack: Pack, plain: bool) -> Node {
        Node { pack, plain }
    }

    /// Whether a push of `len` bytes may go into this node.
    fn allows(&self, fill: i64, len: usize) -> bool {
        if self.plain || is_large(fill, len) {
            return false;
        }
        let new = self.pack.redis_size() + len + SIZE_ESTIMATE_OVERHEAD;
        !exceeds(fill, new, self.pack.len() + 1)
    }
}

#[derive(Clone, Debug)]
struct Quick {
    nodes: VecDeque<Node>,
    count: usize,
    /// The fill in force when the list became a quicklist (as in Redis, a
    /// quicklist keeps the setting it was created with).
    fill: i64,
}

impl Quick {
    fn push(&mut self, end: End, v: &[u8]) {
        let fill = self.fill;
        self.count += 1;
        if is_large(fill, v.len()) {
            let node = Node::new(Pack::from_items(&[v]), true);
            match end {
                End::Head => self.nodes.push_front(node),
                End::Tail => self.nodes.push_back(node),
            }
            return;
        }
        let target = match end {
            End::Head => self.nodes.front_mut(),
            End::Tail => self.nodes.back_mut(),
        };
        match target {
            Some(n) if n.allows(fill, v.len()) => n.pack.push(end, v),
            _ => {
                let node = Node::new(Pack::from_items(&[v]), false);
                match end {
                    End::Head => self.nodes.push_front(node),
                    End::Tail => self.nodes.push_back(node),
                }
            }
        }
    }

    fn pop(&mut self, end: End) -> Option<Bytes> {
        let node = match end {
            End::Head => self.nodes.front_mut()?,
            End::Tail => self.nodes.back_mut()?,
        };
        let v = node.pack.pop(end)?;
        if node.pack.count == 0 {
            match end {
                End::Head => self.nodes.pop_front(),
                End::Tail => self.nodes.pop_back(),
            };
        }
        self.count -= 1;
        Some(v)
    }

    /// The node holding element `i` and the index within it.
    fn locate(&self, i: usize) -> (usize, usize) {
        if i < self.count / 2 {
            let mut left = i;
            for (ni, n) in self.nodes.iter().enumerate() {
                if left < n.pack.len() {
                    return (ni, left);
                }
                left -= n.pack.len();
            }
        } else {
            let mut from_end = self.count - i;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                if from_end <= n.pack.len() {
                    return (ni, n.pack.len() - from_end);
                }
                from_end -= n.pack.len();
            }
        }
        unreachable!("index checked against the count")
    }

    fn drop_empty(&mut self) {
        self.nodes.retain(|n| n.pack.count > 0);
    }

    /// Deletes `n` elements from `start`, touching only the nodes that hold
    /// them (found from the nearer end): popping from either end of a long
    /// list costs O(1) nodes, not a walk over all of them.
    fn delete_range(&mut self, start: usize, n: usize) {
        if n == 0 {
            return;
        }
        let (first, mut off) = self.locate(start);
        let mut ni = first;
        let mut left = n;
        while left > 0 {
            let node = &mut self.nodes[ni];
            let len = node.pack.len();
            let take = (len - off).min(left);
            if off == 0 && take == len {
                node.pack = Pack::default();
            } else {
                node.pack.delete_range(off, take);
            }
            left -= take;
            ni += 1;
            off = 0;
        }
        self.count -= n;
        // Only nodes first..ni can have become empty.
        let empties = (first..ni)
            .filter(|&i| self.nodes[i].pack.count == 0)
            .count();
        if empties == ni - first {
            self.nodes.drain(first..ni);
        } else if empties > 0 {
            let mut i = first;
            let mut end = ni;
            while i < end {
                if self.nodes[i].pack.count == 0 {
                    self.nodes.remove(i);
                    end -= 1;
                } else {
                    i += 1;
                }
            }
        }
    }

    /// Inserts `v` at byte `off` (entry `idx`) of node `ni`, with Redis's
    /// choice of node: this one if it has room, else a neighbour when the
    /// position is at the node's edge, else a new node (splitting this one
    /// when the position is inside it).
    fn insert(&mut self, ni: usize, off: usize, idx: usize, v: &[u8]) {
        let fill = self.fill;
        self.count += 1;
        let large = is_large(fill, v.len());
        let node = &self.nodes[ni];
        if !large && node.allows(fill, v.len()) {
            self.nodes[ni].pack.insert_at(off, v);
            return;
        }
        let at_head = idx == 0;
        let at_tail = idx == node.pack.len();
        let new = || Node::new(Pack::from_items(&[v]), large);
        if at_tail {
            match self.nodes.get_mut(ni + 1) {
                Some(next) if !large && next.allows(fill, v.len()) => next.pack.push(End::Head, v),
                _ => self.nodes.insert(ni + 1, new()),
            }
        } else if at_head {
            match ni.checked_sub(1).and_then(|p| self.nodes.get_mut(p)) {
                Some(prev) if !large && prev.allows(fill, v.len()) => prev.pack.push(End::Tail, v),
                _ => self.nodes.insert(ni, new()),
            }
        } else {
            let right = self.nodes[ni].pack.split_off(off, idx);
            let left = &mut self.nodes[ni];
            if !large && left.allows(fill, v.len()) {
                left.pack.push(End::Tail, v);
                self.nodes.insert(ni + 1, Node::new(right, false));
            } else {
                self.nodes.insert(ni + 1, new());
                self.nodes.insert(ni + 2, Node::new(right, false));
            }
        }
    }

    /// Replaces element `i` with `v`, keeping nodes within their limits.
    fn replace(&mut self, i: usize, v: &[u8]) {
        let fill = self.fill;
        let (ni, idx) = self.locate(i);
        let large = is_large(fill, v.len());
        let node = &mut self.nodes[ni];
        if node.plain {
            node.pack = Pack::from_items(&[v]);
            node.plain = large;
            return;
        }
        let off = node.pack.offset_of(idx);
        if large {
            // The element moves to a node of its own between the two halves.
            let mut right = node.pack.split_off(off, idx);
            right.delete_range(0, 1);
            self.nodes
                .insert(ni + 1, Node::new(Pack::from_items(&[v]), true));
            self.nodes.insert(ni + 2, Node::new(right, false));
            self.drop_empty();
            return;
        }
        node.pack.replace_at(off, v);
        if node.pack.len() > 1 && exceeds(fill, node.pack.redis_size(), node.pack.len()) {
            let half = node.pack.len() / 2;
            let at = node.pack.offset_of(half);
            let right = node.pack.split_off(at, half);
            self.nodes.insert(ni + 1, Node::new(right, false));
        }
    }
}

// ---------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Repr {
    Packed(Pack),
    Quick(Box<Quick>),
}

/// A list value.
#[derive(Clone, Debug)]
pub struct List {
    repr: Repr,
}

impl Default for List {
    fn default() -> Self {
        List::new()
    }
}

impl List {
    /// An empty list in the compact encoding.
    pub fn new() -> List {
        List {
            repr: Repr::Packed(Pack::default()),
        }
    }

    /// A list of `items`, head first, in the encoding Redis would pick for
    /// a list built at once (SORT ... STORE): a chain of nodes filled from
    /// the tail, made compact again if it fits in one node within the limit.
    pub fn from_items<B: AsRef<[u8]>>(items: &[B], fill: i64) -> List {
        let mut q = Quick {
            nodes: VecDeque::new(),
            count: 0,
            fill,
        };
        for it in items {
            q.push(End::Tail, it.as_ref());
        }
        let mut l = List {
            repr: Repr::Quick(Box::new(q)),
        };
        l.try_compact(fill, false);
        l
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Packed(_) => "listpack",
            Repr::Quick(_) => "quicklist",
        }
    }

    /// Approximate heap bytes owned, for INFO and eviction.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.buf.capacity(),
            Repr::Quick(q) => {
                std::mem::size_of::<Quick>()
                    + q.nodes.capacity() * std::mem::size_of::<Node>()
                    + q.nodes.iter().map(|n| n.pack.buf.capacity()).sum::<usize>()
            }
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.len(),
            Repr::Quick(q) => q.count,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Before a write adds `add_count` elements of `add_bytes` bytes in all:
    /// turns a compact list that would outgrow the limit into a chain of
    /// nodes (Redis's listTypeTryConversionAppend).
    pub fn will_grow(&mut self, add_bytes: usize, add_count: usize, fill: i64) {
        let Repr::Packed(p) = &mut self.repr else {
            return;
        };
        if !exceeds(fill, p.redis_size() + add_bytes, p.len() + add_count) {
            return;
        }
        let pack = std::mem::take(p);
        let count = pack.len();
        let mut nodes = VecDeque::new();
        if count > 0 {
            nodes.push_back(Node::new(pack, false));
        }
        self.repr = Repr::Quick(Box::new(Quick { nodes, count, fill }));
    }

    /// After a write removed or replaced elements: makes a chain of nodes
    /// compact again when one packed node at most half the limit is left.
    pub fn shrunk(&mut self, fill: i64) {
        self.try_compact(fill, true);
    }

    fn try_compact(&mut self, fill: i64, shrinking: bool) {
        let Repr::Quick(q) = &mut self.repr else {
            return;
        };
        if q.nodes.len() != 1 || q.nodes[0].plain {
            return;
        }
        let (mut sz, mut cnt) = node_limit(fill);
        if shrinking {
            sz /= 2;
            cnt /= 2;
        }
        let node = &q.nodes[0];
        if node.pack.redis_size() > sz || q.count > cnt {
            return;
        }
        let pack = std::mem::take(&mut q.nodes[0].pack);
        self.repr = Repr::Packed(pack);
    }

    /// Adds `v` at one end. Call [`List::will_grow`] first.
    pub fn push(&mut self, end: End, v: &[u8]) {
        match &mut self.repr {
            Repr::Packed(p) => p.push(end, v),
            Repr::Quick(q) => q.push(end, v),
        }
    }

    /// Removes and returns the element at one end.
    pub fn pop(&mut self, end: End) -> Option<Bytes> {
        match &mut self.repr {
            Repr::Packed(p) => p.pop(end),
            Repr::Quick(q) => q.pop(end),
        }
    }

    /// The element at `index` (negative counts from the tail).
    pub fn get(&self, index: i64) -> Option<Bytes> {
        let i = self.resolve(index)?;
        self.iter_from(i).next().map(|e| e.to_bytes())
    }

    fn resolve(&self, index: i64) -> Option<usize> {
        let len = self.len() as i64;
        let i = if index < 0 { len + index } else { index };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// Replaces the element at `index`; false when out of range. Call
    /// [`List::will_grow`] first and [`List::shrunk`] after.
    pub fn set(&mut self, index: i64, v: &[u8]) -> bool {
        let Some(i) = self.resolve(index) else {
            return false;
        };
        match &mut self.repr {
            Repr::Packed(p) => {
                let off = p.offset_of(i);
                p.replace_at(off, v);
            }
            Repr::Quick(q) => q.replace(i, v),
        }
        true
    }

    /// Inserts `v` before or after the first element equal to `pivot`;
    /// false when there is none. Call [`List::will_grow`] first.
    pub fn insert(&mut self, pivot: &[u8], v: &[u8], after: bool) -> bool {
        let Some((ni, off, idx)) = self.find(pivot) else {
            return false;
        };
        let (off, idx) = if after {
            let buf = &self.node(ni).buf;
            (off + decode(buf, off).1, idx + 1)
        } else {
            (off, idx)
        };
        match &mut self.repr {
            Repr::Packed(p) => p.insert_at(off, v),
            Repr::Quick(q) => q.insert(ni, off, idx, v),
        }
        true
    }

    /// The first element equal to `v`: node, byte offset, index in node.
    fn find(&self, v: &[u8]) -> Option<(usize, usize, usize)> {
        for ni in 0..self.node_count() {
            let buf = &self.node(ni).buf;
            let mut off = 0;
            let mut idx = 0;
            while off < buf.len() {
                let (e, n) = decode(buf, off);
                if e.eq_bytes(v) {
                    return Some((ni, off, idx));
                }
                off += n;
                idx += 1;
            }
        }
        None
    }

    /// Removes elements equal to `v`: the first `count` from the head
    /// (count > 0), the last `-count` from the tail (count < 0), or all
    /// (count = 0). Returns how many were removed (LREM).
    pub fn remove(&mut self, count: i64, v: &[u8]) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs().min(usize::MAX as u64) as usize
        };
        // Matches as (node, byte offset), in the order they are met.
        let mut hits: Vec<(usize, usize)> = Vec::new();
        let nodes = self.node_count();
        if count >= 0 {
            'outer: for ni in 0..nodes {
                let buf = &self.node(ni).buf;
                let mut off = 0;
                while off < buf.len() {
                    let (e, n) = decode(buf, off);
                    if e.eq_bytes(v) {
                        hits.push((ni, off));
                        if hits.len() == limit {
                            break 'outer;
                        }
                    }
                    off += n;
                }
            }
        } else {
            'outer: for ni in (0..nodes).rev() {
                let buf = &self.node(ni).buf;
                let mut end = buf.len();
                while end > 0 {
                    let s = prev_start(buf, end);
                    if decode(buf, s).0.eq_bytes(v) {
                        hits.push((ni, s));
                        if hits.len() == limit {
                            break 'outer;
                        }
                    }
                    end = s;
                }
            }
        }
        // Delete from the back of each node so earlier offsets stay valid.
        hits.sort_unstable_by(|a, b| b.cmp(a));
        for &(ni, off) in &hits {
            let p = self.node_mut(ni);
            let n = decode(&p.buf, off).1;
            p.buf.drain(off..off + n);
            p.count -= 1;
        }
        let removed = hits.len();
        match &mut self.repr {
            Repr::Packed(p) => p.trim_capacity(),
            Repr::Quick(q) => {
                q.count -= removed;
                for n in q.nodes.iter_mut() {
                    n.pack.trim_capacity();
                }
                q.drop_empty();
            }
        }
        removed
    }

    /// Removes `n` elements starting at index `start` (both within range).
    pub fn delete_range(&mut self, start: usize, n: usize) {
        let n = n.min(self.len().saturating_sub(start));
        if n == 0 {
            return;
        }
        match &mut self.repr {
            Repr::Packed(p) => p.delete_range(start, n),
            Repr::Quick(q) => q.delete_range(start, n),
        }
    }

    fn node_count(&self) -> usize {
        match &self.repr {
            Repr::Packed(_) => 1,
            Repr::Quick(q) => q.nodes.len(),
        }
    }

    fn node(&self, i: usize) -> &Pack {
        match &self.repr {
            Repr::Packed(p) => p,
            Repr::Quick(q) => &q.nodes[i].pack,
        }
    }

    fn node_mut(&mut self, i: usize) -> &mut Pack {
        match &mut self.repr {
            Repr::Packed(p) => p,
            Repr::Quick(q) => &mut q.nodes[i].pack,
        }
    }

    /// Node and byte offset of element `i` (`i < len`).
    fn seek(&self, i: usize) -> (usize, usize) {
        match &self.repr {
            Repr::Packed(p) => (0, p.offset_of(i)),
            Repr::Quick(q) => {
                let (ni, idx) = q.locate(i);
                (ni, q.nodes[ni].pack.offset_of(idx))
            }
        }
    }

    /// Every element, head to tail.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0)
    }

    /// The elements from index `start` towards the tail.
    pub fn iter_from(&self, start: usize) -> Iter<'_> {
        let left = self.len().saturating_sub(start);
        let (node, off) = if left == 0 { (0, 0) } else { self.seek(start) };
        Iter {
            list: self,
            node,
            off,
            left,
        }
    }

    /// The elements from index `start` towards the head (`start < len`, or
    /// an empty iterator).
    pub fn iter_rev_from(&self, start: usize) -> RevIter<'_> {
        if start >= self.len() {
            return RevIter {
                list: self,
                node: 0,
                end: 0,
                left: 0,
            };
        }
        let (node, off) = self.seek(start);
        let end = off + decode(&self.node(node).buf, off).1;
        RevIter {
            list: self,
            node,
            end,
            left: start + 1,
        }
    }

    /// Every element, tail to head.
    pub fn iter_rev(&self) -> RevIter<'_> {
        self.iter_rev_from(self.len().saturating_sub(1))
    }

    /// The elements as owned byte strings, head to tail.
    pub fn to_vec(&self) -> Vec<Bytes> {
        self.iter().map(|e| e.to_bytes()).collect()
    }

    /// Number of nodes in the chain (1 for the compact encoding).
    pub fn nodes(&self) -> usize {
        self.node_count()
    }
}

/// Iterates a list's elements towards the tail.
pub struct Iter<'a> {
    list: &'a List,
    node: usize,
    off: usize,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        if self.left == 0 {
            return None;
        }
        let list: &'a List = self.list;
        let mut buf = &list.node(self.node).buf;
        while self.off >= buf.len() {
            self.node += 1;
            self.off = 0;
            buf = &list.node(self.node).buf;
        }
        let (e, n) = decode(buf, self.off);
        self.off += n;
        self.left -= 1;
        Some(e)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// Iterates a list's elements towards the head.
pub struct RevIter<'a> {
    list: &'a List,
    node: usize,
    end: usize,
    left: usize,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        if self.left == 0 {
            return None;
        }
        let list: &'a List = self.list;
        while self.end == 0 {
            self.node -= 1;
            self.end = list.node(self.node).buf.len();
        }
        let buf = &list.node(self.node).buf;
        let s = prev_start(buf, self.end);
        self.end = s;
        self.left -= 1;
        Some(decode(buf, s).0)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for RevIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Header-plus-data size of `v` when packed.
    fn body_size(v: &[u8]) -> usize {
        match parse_canonical_i64(v) {
            Some(n) => int_body_size(n),
            None => match v.len() {
                0..=63 => 1 + v.len(),
                64..=4095 => 2 + v.len(),
                _ => 5 + v.len(),
            },
        }
    }

    fn int_body_size(n: i64) -> usize {
        if (0..=127).contains(&n) {
            1
        } else if (-4096..=4095).contains(&n) {
            2
        } else if i16::try_from(n).is_ok() {
            3
        } else if (-(1 << 23)..(1 << 23)).contains(&n) {
            4
        } else if i32::try_from(n).is_ok() {
            5
        } else {
            9
        }
    }

    fn push_all(l: &mut List, end: End, items: &[&[u8]], fill: i64) {
        let bytes: usize = items.iter().map(|i| i.len()).sum();
        l.will_grow(bytes, items.len(), fill);
        for it in items {
            l.push(end, it);
        }
    }

    fn strings(l: &List) -> Vec<String> {
        l.iter()
            .map(|e| String::from_utf8(e.to_bytes().to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn entries_round_trip_with_redis_sizes() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 100];
        let cases: Vec<(Vec<u8>, usize)> = vec![
            (b"0".to_vec(), 1),
            (b"127".to_vec(), 1),
            (b"128".to_vec(), 2),
            (b"-1".to_vec(), 2),
            (b"-4096".to_vec(), 2),
            (b"4096".to_vec(), 3),
            (b"-32768".to_vec(), 3),
            (b"8388607".to_vec(), 4),
            (b"-8388608".to_vec(), 4),
            (b"8388608".to_vec(), 5),
            (b"2147483647".to_vec(), 5),
            (b"2147483648".to_vec(), 9),
            (b"-9223372036854775808".to_vec(), 9),
            (b"007".to_vec(), 4),
            (b"".to_vec(), 1),
            (b"hello".to_vec(), 6),
            (mid.clone(), 102),
            (long.clone(), 5005),
        ];
        for (v, body) in cases {
            let mut buf = Vec::new();
            encode(&v, &mut buf);
            assert_eq!(body_size(&v), body, "{:?}", String::from_utf8_lossy(&v));
            assert_eq!(buf.len(), body + backlen_size(body));
            let (e, n) = decode(&buf, 0);
            assert_eq!(n, buf.len());
            assert_eq!(e.to_bytes(), Bytes::from(v.clone()));
            assert_eq!(prev_start(&buf, buf.len()), 0);
        }
    }

    #[test]
    fn push_pop_both_ends() {
        let mut l = List::new();
        push_all(&mut l, End::Tail, &[b"b", b"c"], -2);
        push_all(&mut l, End::Head, &[b"a", b"12"], -2);
        assert_eq!(strings(&l), ["12", "a", "b", "c"]);
        assert_eq!(l.pop(End::Head).unwrap(), "12");
        assert_eq!(l.pop(End::Tail).unwrap(), "c");
        assert_eq!(l.len(), 2);
        assert_eq!(l.get(-1).unwrap(), "b");
        assert_eq!(l.get(2), None);
        assert_eq!(l.encoding(), "listpack");
    }

    #[test]
    fn converts_on_count_limit_and_back_at_half() {
        let fill = 4;
        let mut l = List::new();
        for i in 0..4 {
            push_all(&mut l, End::Tail, &[i.to_string().as_bytes()], fill);
        }
        assert_eq!(l.encoding(), "listpack");
        push_all(&mut l, End::Tail, &[b"4"], fill);
        assert_eq!(l.encoding(), "quicklist");
        assert_eq!(l.nodes(), 2);
        // Two nodes: popping the second leaves one node of 4 > 4/2.
        l.pop(End::Tail);
        l.shrunk(fill);
        assert_eq!(l.encoding(), "quicklist");
        l.pop(End::Tail);
        l.shrunk(fill);
        assert_eq!(l.encoding(), "quicklist");
        l.pop(End::Tail);
        l.shrunk(fill);
        assert_eq!(l.encoding(), "listpack");
        assert_eq!(strings(&l), ["0", "1"]);
    }

    #[test]
    fn converts_on_size_limit() {
        let fill = -1; // 4 KB nodes
        let mut l = List::new();
        let v = vec![b'v'; 1000];
        for _ in 0..4 {
            push_all(&mut l, End::Tail, &[&v], fill);
        }
        // 4 entries of 1003 bytes + 7 = 4019; one more would pass 4096.
        assert_eq!(l.encoding(), "listpack");
        push_all(&mut l, End::Tail, &[&v], fill);
        assert_eq!(l.encoding(), "quicklist");
        assert_eq!(l.nodes(), 2);
        l.pop(End::Tail);
        l.pop(End::Tail);
        l.pop(End::Tail);
        l.shrunk(fill);
        // One node of 2 entries: 2013 bytes <= 2048.
        assert_eq!(l.encoding(), "listpack");
    }

    #[test]
    fn large_elements_get_plain_nodes() {
        let fill = -1;
        let mut l = List::new();
        let big = vec![b'b'; 5000];
        push_all(&mut l, End::Tail, &[b"a"], fill);
        push_all(&mut l, End::Tail, &[&big], fill);
        assert_eq!(l.encoding(), "quicklist");
        push_all(&mut l, End::Tail, &[b"c"], fill);
        assert_eq!(l.nodes(), 3);
        assert_eq!(l.get(1).unwrap().len(), 5000);
        assert_eq!(l.pop(End::Tail).unwrap(), "c");
        l.pop(End::Tail);
        l.shrunk(fill);
        assert_eq!(l.encoding(), "listpack");
        assert_eq!(strings(&l), ["a"]);
    }

    #[test]
    fn big_list_indexes_ranges_and_reverse() {
        let fill = -2;
        let mut l = List::new();
        let n = 20_000;
        for i in 0..n {
            let s = format!("item-{i}");
            push_all(&mut l, End::Tail, &[s.as_bytes()], fill);
        }
        assert_eq!(l.encoding(), "quicklist");
        assert!(l.nodes() > 10);
        assert_eq!(l.len(), n);
        for i in [0, 1, 5000, 12345, n - 1] {
            assert_eq!(l.get(i as i64).unwrap(), format!("item-{i}"));
        }
        let fwd: Vec<Bytes> = l.iter_from(9998).take(3).map(|e| e.to_bytes()).collect();
        assert_eq!(fwd, ["item-9998", "item-9999", "item-10000"]);
        let rev: Vec<Bytes> = l
            .iter_rev_from(10001)
            .take(3)
            .map(|e| e.to_bytes())
            .collect();
        assert_eq!(rev, ["item-10001", "item-10000", "item-9999"]);
        assert_eq!(l.iter_rev().count(), n);
        assert_eq!(l.iter().count(), n);
    }

    #[test]
    fn delete_range_remove_insert_set() {
        let fill = 3;
        let mut l = List::new();
        for i in 0..10 {
            push_all(&mut l, End::Tail, &[i.to_string().as_bytes()], fill);
        }
        assert_eq!(l.nodes(), 4);
        l.delete_range(2, 5);
        assert_eq!(strings(&l), ["0", "1", "7", "8", "9"]);
        assert!(l.insert(b"7", b"x", false));
        assert!(l.insert(b"9", b"y", true));
        assert!(!l.insert(b"nope", b"z", true));
        assert_eq!(strings(&l), ["0", "1", "x", "7", "8", "9", "y"]);
        assert!(l.set(-1, b"z"));
        assert!(!l.set(7, b"z"));
        assert_eq!(l.get(-1).unwrap(), "z");
        push_all(&mut l, End::Tail, &[b"x", b"x"], fill);
        assert_eq!(l.remove(-2, b"x"), 2);
        assert_eq!(strings(&l), ["0", "1", "x", "7", "8", "9", "z"]);
        assert_eq!(l.remove(0, b"x"), 1);
        assert_eq!(l.len(), 6);
        assert_eq!(strings(&l), ["0", "1", "7", "8", "9", "z"]);
    }

    #[test]
    fn from_items_picks_the_encoding() {
        let small = List::from_items(&["a", "b", "c"], -2);
        assert_eq!(small.encoding(), "listpack");
        assert_eq!(small.to_vec(), ["a", "b", "c"]);
        let many: Vec<String> = (0..200).map(|i| i.to_string()).collect();
        let big = List::from_items(&many, 128);
        assert_eq!(big.encoding(), "quicklist");
        assert_eq!(big.len(), 200);
        assert_eq!(List::from_items(&many[..128], 128).encoding(), "listpack");
    }

    #[test]
    fn stays_compact() {
        assert!(std::mem::size_of::<List>() <= 32);
        // A list of one-byte integers packs them in two bytes each.
        let mut l = List::new();
        for i in 0..1000 {
            let s = (i % 100).to_string();
            push_all(&mut l, End::Tail, &[s.as_bytes()], -2);
        }
        assert_eq!(l.encoding(), "listpack");
        assert!(l.heap_size() <= 4096);
    }
}
