//! The sorted set value type and its two encodings.
//!
//! A sorted set orders its members by `(score, member bytes)`. Small sets
//! (at most `zset-max-listpack-entries` members, none longer than
//! `zset-max-listpack-value` bytes) are kept in one packed buffer, as Redis
//! keeps them in a listpack, and report `listpack`; larger ones move to a
//! skiplist with spans plus a member → node hash table, and report
//! `skiplist`. There is no conversion back, except that a set built whole by
//! a store command (ZUNIONSTORE, ZRANGESTORE, ...) gets the encoding its size
//! calls for, as in Redis 7.2.
//!
//! Every range operation reduces to a span of ranks: score and lex bounds are
//! turned into `[first, end)` rank pairs by one descent of the skiplist, so
//! ranks, counts and range reads are O(log n) (plus the size of the output).
//!
//! Packed format, entry after entry, sorted: the member length as a LEB128
//! varint, the member bytes, then the score as 8 little-endian bytes of an
//! IEEE double. Reading is linear, which is what Redis does with its listpack
//! too: the set is small by construction.

use std::cmp::Ordering;
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use smallvec::{smallvec, SmallVec};

use crate::key::Key;
use crate::limits::LimitValues;

/// An interval of scores, each end inclusive or exclusive (`(` in Redis).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    /// Whether `s` is at or above the lower end.
    #[inline]
    pub fn gte_min(&self, s: f64) -> bool {
        if self.minex {
            s > self.min
        } else {
            s >= self.min
        }
    }

    /// Whether `s` is at or below the upper end.
    #[inline]
    pub fn lte_max(&self, s: f64) -> bool {
        if self.maxex {
            s < self.max
        } else {
            s <= self.max
        }
    }

    /// True when no score can fall inside.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lexicographic range: `-`, `+`, or a member with `[`/`(`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    /// `[member` (inclusive) or `(member` (exclusive).
    Value { member: Vec<u8>, exclusive: bool },
}

impl LexBound {
    fn exclusive(&self) -> bool {
        match self {
            // Redis marks `-` and `+` as exclusive, which makes `- -` and
            // `+ +` empty ranges.
            LexBound::Min | LexBound::Max => true,
            LexBound::Value { exclusive, .. } => *exclusive,
        }
    }

    /// Compares a member with this bound.
    fn cmp_member(&self, m: &[u8]) -> Ordering {
        match self {
            LexBound::Min => Ordering::Greater,
            LexBound::Max => Ordering::Less,
            LexBound::Value { member, .. } => m.cmp(member),
        }
    }
}

/// An interval of members, for sets whose members all share one score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    /// Whether `m` is at or above the lower end.
    pub fn gte_min(&self, m: &[u8]) -> bool {
        match self.min.cmp_member(m) {
            Ordering::Greater => true,
            Ordering::Equal => !self.min.exclusive(),
            Ordering::Less => false,
        }
    }

    /// Whether `m` is at or below the upper end.
    pub fn lte_max(&self, m: &[u8]) -> bool {
        match self.max.cmp_member(m) {
            Ordering::Less => true,
            Ordering::Equal => !self.max.exclusive(),
            Ordering::Greater => false,
        }
    }

    /// True when no member can fall inside.
    pub fn is_empty(&self) -> bool {
        let c = match (&self.min, &self.max) {
            (LexBound::Min, LexBound::Min) | (LexBound::Max, LexBound::Max) => Ordering::Equal,
            (LexBound::Min, _) | (_, LexBound::Max) => Ordering::Less,
            (LexBound::Max, _) | (_, LexBound::Min) => Ordering::Greater,
            (LexBound::Value { member: a, .. }, LexBound::Value { member: b, .. }) => a.cmp(b),
        };
        c == Ordering::Greater
            || (c == Ordering::Equal && (self.min.exclusive() || self.max.exclusive()))
    }
}

/// `(score, member)` order: the order of a sorted set.
#[inline]
fn entry_cmp(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    if s1 < s2 {
        Ordering::Less
    } else if s1 > s2 {
        Ordering::Greater
    } else {
        m1.cmp(m2)
    }
}

// ---------------------------------------------------------------------------
// The packed encoding
// ---------------------------------------------------------------------------

/// Entries in one buffer, in order; see the module documentation.
#[derive(Clone, Debug, Default)]
struct Packed {
    buf: Vec<u8>,
    len: usize,
}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

impl Packed {
    /// The entry at byte offset `o`: member, score and the next offset.
    #[inline]
    fn entry(&self, o: usize) -> (&[u8], f64, usize) {
        let mut n = 0usize;
        let mut shift = 0;
        let mut p = o;
        loop {
            let b = self.buf[p];
            p += 1;
            n |= ((b & 0x7f) as usize) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let member = &self.buf[p..p + n];
        let mut sb = [0u8; 8];
        sb.copy_from_slice(&self.buf[p + n..p + n + 8]);
        (member, f64::from_le_bytes(sb), p + n + 8)
    }

    fn find(&self, member: &[u8]) -> Option<(usize, usize, f64)> {
        let mut o = 0;
        let mut i = 0;
        while o < self.buf.len() {
            let (m, s, next) = self.entry(o);
            if m == member {
                return Some((o, i, s));
            }
            o = next;
            i += 1;
        }
        None
    }

    /// Byte offset of the entry with index `i` (or the end of the buffer).
    fn offset_of(&self, i: usize) -> usize {
        let mut o = 0;
        for _ in 0..i {
            if o >= self.buf.len() {
                break;
            }
            o = self.entry(o).2;
        }
        o
    }

    fn insert(&mut self, member: &[u8], score: f64) {
        // Redis's listpack stores -0 as 0 (its skiplist keeps the sign).
        let score = if score == 0.0 { 0.0 } else { score };
        let mut o = 0;
        while o < self.buf.len() {
            let (m, s, next) = self.entry(o);
            if entry_cmp(s, m, score, member) == Ordering::Greater {
                break;
            }
            o = next;
        }
        let mut enc = Vec::with_capacity(member.len() + 10);
        put_varint(&mut enc, member.len());
        enc.extend_from_slice(member);
        enc.extend_from_slice(&score.to_le_bytes());
        self.buf.splice(o..o, enc);
        self.len += 1;
    }

    fn remove_at(&mut self, o: usize) {
        let next = self.entry(o).2;
        self.buf.drain(o..next);
        self.len -= 1;
    }

    /// Number of leading entries for which `pred` holds.
    fn count_prefix(&self, mut pred: impl FnMut(&[u8], f64) -> bool) -> usize {
        let mut o = 0;
        let mut n = 0;
        while o < self.buf.len() {
            let (m, s, next) = self.entry(o);
            if !pred(m, s) {
                break;
            }
            n += 1;
            o = next;
        }
        n
    }
}

// ---------------------------------------------------------------------------
// The skiplist encoding
// ---------------------------------------------------------------------------

const NIL: u32 = u32::MAX;
const MAX_LEVEL: usize = 32;

#[derive(Clone, Copy, Debug)]
struct Lvl {
    next: u32,
    /// Number of level-0 steps this link covers (0 for a link to the end
    /// from the last node).
    span: u32,
}

#[derive(Clone, Debug)]
struct Node {
    member: Key,
    score: f64,
    back: u32,
    lv: SmallVec<[Lvl; 2]>,
}

/// A skiplist with spans in an arena of nodes (index 0 is the header), plus
/// a hash table from member to node for O(1) score lookups.
#[derive(Clone)]
struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
    tail: u32,
    len: usize,
    level: usize,
    rng: u64,
    map: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// Bytes of members stored on the heap, for memory accounting.
    heap: usize,
}

impl std::fmt::Debug for SkipList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkipList").field("len", &self.len).finish()
    }
}

impl SkipList {
    fn new() -> SkipList {
        let header = Node {
            member: Key::new(b""),
            score: 0.0,
            back: NIL,
            lv: smallvec![Lvl { next: NIL, span: 0 }; MAX_LEVEL],
        };
        SkipList {
            nodes: vec![header],
            free: Vec::new(),
            tail: NIL,
            len: 0,
            level: 1,
            rng: rand::random::<u64>() | 1,
            map: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            heap: 0,
        }
    }

    fn random_level(&mut self) -> usize {
        // xorshift64: cheap, and quality is irrelevant for level choice.
        let mut level = 1;
        loop {
            let mut x = self.rng;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.rng = x;
            // Probability 1/4 per extra level, as Redis's ZSKIPLIST_P.
            if level < MAX_LEVEL && x & 3 == 0 {
                level += 1;
            } else {
                return level;
            }
        }
    }

    #[inline]
    fn lv(&self, x: u32, i: usize) -> Lvl {
        self.nodes[x as usize].lv[i]
    }

    #[inline]
    fn node(&self, x: u32) -> &Node {
        &self.nodes[x as usize]
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let h = self.hasher.hash_one(member);
        self.map
            .find(h, |&i| self.nodes[i as usize].member.as_bytes() == member)
            .copied()
    }

    /// Predecessors at every level of the position of `(score, member)`.
    fn predecessors(&self, score: f64, member: &[u8]) -> ([u32; MAX_LEVEL], [u32; MAX_LEVEL]) {
        let mut update = [0u32; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = 0u32;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let l = self.lv(x, i);
                if l.next == NIL {
                    break;
                }
                let n = self.node(l.next);
                // Members are compared only on equal scores: the common
                // case never touches the member's bytes.
                let less = n.score < score || (n.score == score && n.member.as_bytes() < member);
                if less {
                    rank[i] += l.span;
                    x = l.next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        (update, rank)
    }

    /// Inserts a member known to be absent.
    fn insert(&mut self, member: &[u8], score: f64) {
        let (mut update, mut rank) = self.predecessors(score, member);
        let level = self.random_level();
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = 0;
                self.nodes[0].lv[i].span = self.len as u32;
            }
            self.level = level;
        }
        let node = Node {
            member: Key::new(member),
            score,
            back: NIL,
            lv: smallvec![Lvl { next: NIL, span: 0 }; level],
        };
        self.heap += node.member.heap_size();
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = node;
                id
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        for i in 0..level {
            let u = update[i] as usize;
            let ul = self.nodes[u].lv[i];
            let before = rank[0] - rank[i];
            self.nodes[id as usize].lv[i] = Lvl {
                next: ul.next,
                span: ul.span - before,
            };
            self.nodes[u].lv[i] = Lvl {
                next: id,
                span: before + 1,
            };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            self.nodes[u as usize].lv[i].span += 1;
        }
        self.nodes[id as usize].back = if update[0] == 0 { NIL } else { update[0] };
        let n0 = self.nodes[id as usize].lv[0].next;
        if n0 != NIL {
            self.nodes[n0 as usize].back = id;
        } else {
            self.tail = id;
        }
        self.len += 1;
        let h = self.hasher.hash_one(member);
        let (map, nodes, hasher) = (&mut self.map, &self.nodes, &self.hasher);
        map.insert_unique(h, id, |&i| {
            hasher.hash_one(nodes[i as usize].member.as_bytes())
        });
    }

    /// Unlinks node `x` given its predecessors (the hash table is untouched).
    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let u = u as usize;
            if self.nodes[u].lv[i].next == x {
                let xl = self.lv(x, i);
                // The sum first: a last node's span may be 0.
                self.nodes[u].lv[i].span = self.nodes[u].lv[i].span + xl.span - 1;
                self.nodes[u].lv[i].next = xl.next;
            } else {
                self.nodes[u].lv[i].span -= 1;
            }
        }
        let n0 = self.lv(x, 0).next;
        let back = self.node(x).back;
        if n0 != NIL {
            self.nodes[n0 as usize].back = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.nodes[0].lv[self.level - 1].next == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    /// Drops node `x` from the hash table and frees its slot.
    fn release(&mut self, x: u32) {
        let member = std::mem::replace(&mut self.nodes[x as usize].member, Key::new(b""));
        self.heap -= member.heap_size();
        let h = self.hasher.hash_one(member.as_bytes());
        if let Ok(e) = self.map.find_entry(h, |&i| i == x) {
            e.remove();
        }
        self.nodes[x as usize].lv = SmallVec::new();
        self.free.push(x);
    }

    fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let x = self.find(member)?;
        let score = self.node(x).score;
        let (update, _) = self.predecessors(score, member);
        debug_assert_eq!(self.lv(update[0], 0).next, x);
        self.unlink(x, &update);
        self.release(x);
        Some(score)
    }

    /// 0-based rank of a member present with `score`.
    fn rank_of(&self, score: f64, member: &[u8]) -> usize {
        let mut x = 0u32;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.next == NIL {
                    break;
                }
                let n = self.node(l.next);
                if entry_cmp(n.score, &n.member, score, member) != Ordering::Greater {
                    rank += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
        }
        rank - 1
    }

    /// The node with 0-based rank `r`.
    fn node_at(&self, r: usize) -> u32 {
        if r >= self.len {
            return NIL;
        }
        let target = r + 1;
        let mut x = 0u32;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.next != NIL && traversed + l.span as usize <= target {
                    traversed += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
            if traversed == target {
                return x;
            }
        }
        NIL
    }

    fn count_prefix(&self, mut pred: impl FnMut(&[u8], f64) -> bool) -> usize {
        let mut x = 0u32;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.next == NIL {
                    break;
                }
                let n = self.node(l.next);
                if pred(&n.member, n.score) {
                    traversed += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
        }
        traversed
    }

    /// Removes ranks `[start, end)`; returns how many were removed.
    fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        let mut update = [0u32; MAX_LEVEL];
        let mut traversed = 0usize;
        let mut x = 0u32;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.next != NIL && traversed + (l.span as usize) < start + 1 {
                    traversed += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let mut x = self.lv(x, 0).next;
        let mut removed = 0;
        let mut pos = start;
        while x != NIL && pos < end {
            let next = self.lv(x, 0).next;
            self.unlink(x, &update);
            self.release(x);
            removed += 1;
            pos += 1;
            x = next;
        }
        removed
    }

    fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + MAX_LEVEL * std::mem::size_of::<Lvl>()
            + self.free.capacity() * 4
            + self.map.capacity() * 5
            + self.heap
    }
}

// ---------------------------------------------------------------------------
// The sorted set
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Repr {
    Packed(Packed),
    Skip(Box<SkipList>),
}

/// A sorted set value.
#[derive(Clone, Debug)]
pub struct ZSet {
    repr: Repr,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet {
            repr: Repr::Packed(Packed::default()),
        }
    }
}

/// Whether a set of `n` members, the longest `max_len` bytes, fits the
/// packed encoding.
fn fits_packed(n: usize, max_len: usize, limits: &LimitValues) -> bool {
    n <= limits.zset_max_listpack_entries && max_len <= limits.zset_max_listpack_value
}

impl ZSet {
    /// An empty set in the encoding Redis chooses for one about to receive
    /// `size_hint` members, the longest `max_len` bytes (zsetTypeCreate).
    pub fn with_hint(size_hint: usize, max_len: usize, limits: &LimitValues) -> ZSet {
        if fits_packed(size_hint, max_len, limits) {
            ZSet::default()
        } else {
            ZSet {
                repr: Repr::Skip(Box::new(SkipList::new())),
            }
        }
    }

    /// Builds a set from distinct members in any order, in the encoding its
    /// final size calls for (what the store commands produce).
    pub fn from_members<'a>(
        members: impl IntoIterator<Item = (&'a [u8], f64)>,
        limits: &LimitValues,
    ) -> ZSet {
        let items: Vec<(&[u8], f64)> = members.into_iter().collect();
        let max_len = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        let mut z = ZSet::with_hint(items.len(), max_len, limits);
        match &mut z.repr {
            Repr::Packed(p) => {
                let mut sorted = items;
                sorted.sort_by(|a, b| entry_cmp(a.1, a.0, b.1, b.0));
                for (m, s) in sorted {
                    let s = if s == 0.0 { 0.0 } else { s };
                    put_varint(&mut p.buf, m.len());
                    p.buf.extend_from_slice(m);
                    p.buf.extend_from_slice(&s.to_le_bytes());
                    p.len += 1;
                }
            }
            Repr::Skip(sl) => {
                for (m, s) in items {
                    sl.insert(m, s);
                }
            }
        }
        z
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Packed(_) => "listpack",
            Repr::Skip(_) => "skiplist",
        }
    }

    /// Approximate heap bytes owned, for INFO and eviction.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.buf.capacity(),
            Repr::Skip(s) => std::mem::size_of::<SkipList>() + s.heap_size(),
        }
    }

    /// Number of members (ZCARD).
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.len,
            Repr::Skip(s) => s.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Packed(p) => p.find(member).map(|(_, _, s)| s),
            Repr::Skip(s) => s.find(member).map(|x| s.node(x).score),
        }
    }

    fn convert_to_skiplist(&mut self) {
        if let Repr::Packed(p) = &self.repr {
            let mut sl = SkipList::new();
            let mut o = 0;
            while o < p.buf.len() {
                let (m, s, next) = p.entry(o);
                sl.insert(m, s);
                o = next;
            }
            self.repr = Repr::Skip(Box::new(sl));
        }
    }

    /// Sets `member`'s score, adding the member if needed; converts to the
    /// skiplist when the set outgrows the packed limits. Returns the previous
    /// score. An equal score (including `-0` for `0`) changes nothing.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: &LimitValues) -> Option<f64> {
        if let Repr::Packed(p) = &mut self.repr {
            if let Some((o, _, old)) = p.find(member) {
                if old != score {
                    p.remove_at(o);
                    p.insert(member, score);
                }
                return Some(old);
            }
            if fits_packed(p.len + 1, member.len(), limits) {
                p.insert(member, score);
                return None;
            }
            self.convert_to_skiplist();
        }
        let Repr::Skip(sl) = &mut self.repr else {
            unreachable!("converted above")
        };
        match sl.find(member) {
            Some(x) => {
                let old = sl.node(x).score;
                if old != score {
                    sl.remove(member);
                    sl.insert(member, score);
                }
                Some(old)
            }
            None => {
                sl.insert(member, score);
                None
            }
        }
    }

    /// Removes `member`; returns its score if it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.repr {
            Repr::Packed(p) => {
                let (o, _, s) = p.find(member)?;
                p.remove_at(o);
                Some(s)
            }
            Repr::Skip(sl) => sl.remove(member),
        }
    }

    /// The 0-based ascending rank of `member` and its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match &self.repr {
            Repr::Packed(p) => p.find(member).map(|(_, i, s)| (i, s)),
            Repr::Skip(sl) => {
                let x = sl.find(member)?;
                let score = sl.node(x).score;
                Some((sl.rank_of(score, member), score))
            }
        }
    }

    /// The member with 0-based rank `r` and its score.
    pub fn get(&self, r: usize) -> Option<(&[u8], f64)> {
        if r >= self.len() {
            return None;
        }
        match &self.repr {
            Repr::Packed(p) => {
                let (m, s, _) = p.entry(p.offset_of(r));
                Some((m, s))
            }
            Repr::Skip(sl) => {
                let n = sl.node(sl.node_at(r));
                Some((n.member.as_bytes(), n.score))
            }
        }
    }

    /// Every member and its score, in ascending order (for SORT and the
    /// commands that read whole sets).
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0)
    }

    /// Ascending iteration starting at 0-based rank `r`.
    pub fn iter_from(&self, r: usize) -> Iter<'_> {
        match &self.repr {
            Repr::Packed(p) => Iter {
                inner: IterInner::Packed {
                    p,
                    o: p.offset_of(r),
                },
            },
            Repr::Skip(sl) => Iter {
                inner: IterInner::Skip {
                    sl,
                    x: sl.node_at(r),
                },
            },
        }
    }

    /// Calls `f` on ranks `start..=end` (ascending ranks, clamped), in
    /// ascending order, or descending when `rev`.
    pub fn for_ranks(&self, start: usize, end: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        let len = self.len();
        if start >= len || start > end {
            return;
        }
        let end = end.min(len - 1);
        let n = end - start + 1;
        if !rev {
            for (m, s) in self.iter_from(start).take(n) {
                f(m, s);
            }
            return;
        }
        match &self.repr {
            Repr::Packed(_) => {
                let items: Vec<(&[u8], f64)> = self.iter_from(start).take(n).collect();
                for (m, s) in items.into_iter().rev() {
                    f(m, s);
                }
            }
            Repr::Skip(sl) => {
                let mut x = sl.node_at(end);
                for _ in 0..n {
                    let node = sl.node(x);
                    f(node.member.as_bytes(), node.score);
                    x = node.back;
                }
            }
        }
    }

    /// Number of leading members for which `pred` holds; `pred` must hold
    /// for a prefix of the set's order.
    fn count_prefix(&self, pred: impl FnMut(&[u8], f64) -> bool) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.count_prefix(pred),
            Repr::Skip(sl) => sl.count_prefix(pred),
        }
    }

    /// The ranks `[first, end)` of the members whose score is in `r`.
    pub fn score_span(&self, r: &ScoreRange) -> (usize, usize) {
        if r.is_empty() {
            return (0, 0);
        }
        let first = self.count_prefix(|_, s| !r.gte_min(s));
        let end = self.count_prefix(|_, s| r.lte_max(s));
        (first, end.max(first))
    }

    /// The ranks `[first, end)` of the members in the lex range `r` (members
    /// are assumed to share one score, as Redis assumes).
    pub fn lex_span(&self, r: &LexRange) -> (usize, usize) {
        if r.is_empty() {
            return (0, 0);
        }
        let first = self.count_prefix(|m, _| !r.gte_min(m));
        let end = self.count_prefix(|m, _| r.lte_max(m));
        (first, end.max(first))
    }

    /// Removes the members of ranks `[start, end)`; returns how many.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match &mut self.repr {
            Repr::Packed(p) => {
                let a = p.offset_of(start);
                let b = p.offset_of(end);
                p.buf.drain(a..b);
                p.len -= end - start;
                end - start
            }
            Repr::Skip(sl) => sl.remove_ranks(start, end),
        }
    }
}

/// Iterator over `(member, score)` in ascending order.
pub struct Iter<'a> {
    inner: IterInner<'a>,
}

enum IterInner<'a> {
    Packed { p: &'a Packed, o: usize },
    Skip { sl: &'a SkipList, x: u32 },
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            IterInner::Packed { p, o } => {
                if *o >= p.buf.len() {
                    return None;
                }
                let (m, s, next) = p.entry(*o);
                *o = next;
                Some((m, s))
            }
            IterInner::Skip { sl, x } => {
                if *x == NIL {
                    return None;
                }
                let n = sl.node(*x);
                *x = n.lv[0].next;
                Some((n.member.as_bytes(), n.score))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn limits(entries: usize, value: usize) -> LimitValues {
        LimitValues {
            zset_max_listpack_entries: entries,
            zset_max_listpack_value: value,
            ..LimitValues::default()
        }
    }

    /// The naive model: a sorted vector of (score, member).
    fn model_sorted(m: &BTreeMap<Vec<u8>, f64>) -> Vec<(Vec<u8>, f64)> {
        let mut v: Vec<(Vec<u8>, f64)> = m.iter().map(|(k, s)| (k.clone(), *s)).collect();
        v.sort_by(|a, b| entry_cmp(a.1, &a.0, b.1, &b.0));
        v
    }

    fn contents(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
        z.iter().map(|(m, s)| (m.to_vec(), s)).collect()
    }

    #[test]
    fn packed_until_limits_then_skiplist() {
        let l = limits(3, 5);
        let mut z = ZSet::default();
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"a", 1.0, &l);
        z.insert(b"b", 2.0, &l);
        z.insert(b"c", 3.0, &l);
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"d", 0.5, &l);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(
            contents(&z),
            vec![
                (b"d".to_vec(), 0.5),
                (b"a".to_vec(), 1.0),
                (b"b".to_vec(), 2.0),
                (b"c".to_vec(), 3.0)
            ]
        );
        // No conversion back when it shrinks.
        z.remove(b"a");
        z.remove(b"b");
        assert_eq!(z.encoding(), "skiplist");

        let mut long = ZSet::default();
        long.insert(b"12345", 1.0, &l);
        assert_eq!(long.encoding(), "listpack");
        long.insert(b"123456", 1.0, &l);
        assert_eq!(long.encoding(), "skiplist");
        assert_eq!(long.len(), 2);
    }

    #[test]
    fn hints_and_built_sets_choose_their_encoding() {
        let l = limits(2, 10);
        assert_eq!(ZSet::with_hint(2, 10, &l).encoding(), "listpack");
        assert_eq!(ZSet::with_hint(3, 1, &l).encoding(), "skiplist");
        assert_eq!(ZSet::with_hint(1, 11, &l).encoding(), "skiplist");
        let z = ZSet::from_members([(&b"b"[..], 2.0), (&b"a"[..], 2.0)], &l);
        assert_eq!(z.encoding(), "listpack");
        assert_eq!(
            contents(&z),
            vec![(b"a".to_vec(), 2.0), (b"b".to_vec(), 2.0)]
        );
        let z = ZSet::from_members([(&b"b"[..], 2.0), (&b"a"[..], 2.0), (&b"c"[..], 0.0)], &l);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.rank(b"c"), Some((0, 0.0)));
    }

    #[test]
    fn equal_scores_order_by_member_and_negative_zero_is_zero() {
        let l = limits(128, 64);
        let mut z = ZSet::default();
        z.insert(b"b", 0.0, &l);
        z.insert(b"a", 0.0, &l);
        assert_eq!(z.insert(b"a", -0.0, &l), Some(0.0));
        assert_eq!(z.score(b"a").map(|s| s.is_sign_negative()), Some(false));
        assert_eq!(z.rank(b"b"), Some((1, 0.0)));
    }

    #[test]
    fn ranges_and_bounds() {
        let l = limits(128, 64);
        for entries in [128, 0] {
            let l2 = limits(entries, 64);
            let mut z = ZSet::with_hint(0, 0, &l2);
            for (i, m) in [b"a", b"b", b"c", b"d", b"e"].iter().enumerate() {
                z.insert(*m, i as f64, &l2);
            }
            let r = ScoreRange {
                min: 1.0,
                max: 3.0,
                minex: true,
                maxex: false,
            };
            assert_eq!(z.score_span(&r), (2, 4));
            let all = ScoreRange {
                min: f64::NEG_INFINITY,
                max: f64::INFINITY,
                minex: false,
                maxex: false,
            };
            assert_eq!(z.score_span(&all), (0, 5));
            let none = ScoreRange {
                min: 3.0,
                max: 3.0,
                minex: true,
                maxex: false,
            };
            assert_eq!(z.score_span(&none), (0, 0));
            let mut zl = ZSet::with_hint(0, 0, &l2);
            for m in [b"a", b"b", b"c", b"d", b"e"] {
                zl.insert(m, 0.0, &l);
            }
            let lr = LexRange {
                min: LexBound::Value {
                    member: b"b".to_vec(),
                    exclusive: false,
                },
                max: LexBound::Value {
                    member: b"d".to_vec(),
                    exclusive: true,
                },
            };
            assert_eq!(zl.lex_span(&lr), (1, 3));
            let full = LexRange {
                min: LexBound::Min,
                max: LexBound::Max,
            };
            assert_eq!(zl.lex_span(&full), (0, 5));
            for empty in [
                LexRange {
                    min: LexBound::Min,
                    max: LexBound::Min,
                },
                LexRange {
                    min: LexBound::Max,
                    max: LexBound::Max,
                },
                LexRange {
                    min: LexBound::Max,
                    max: LexBound::Min,
                },
            ] {
                assert!(empty.is_empty());
                assert_eq!(zl.lex_span(&empty), (0, 0));
            }
            let mut rev = Vec::new();
            zl.for_ranks(1, 3, true, |m, _| rev.push(m.to_vec()));
            assert_eq!(rev, vec![b"d".to_vec(), b"c".to_vec(), b"b".to_vec()]);
            assert_eq!(zl.remove_ranks(1, 3), 2);
            assert_eq!(
                contents(&zl).into_iter().map(|x| x.0).collect::<Vec<_>>(),
                vec![b"a".to_vec(), b"d".to_vec(), b"e".to_vec()]
            );
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, i8),
        Remove(u8),
        RemoveRanks(u8, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), any::<i8>()).prop_map(|(m, s)| Op::Insert(m, s)),
            2 => any::<u8>().prop_map(Op::Remove),
            1 => (any::<u8>(), 0u8..5).prop_map(|(a, n)| Op::RemoveRanks(a, n)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Both encodings (and the conversion between them) agree with a
        /// naive sorted model on contents, scores, ranks and spans.
        #[test]
        fn agrees_with_a_naive_model(ops in proptest::collection::vec(op(), 1..300), entries in 0usize..40) {
            let l = limits(entries, 64);
            let mut z = ZSet::default();
            let mut m: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Insert(k, s) => {
                        let key = format!("m{}", k % 64).into_bytes();
                        let s = s as f64 / 4.0;
                        let old = z.insert(&key, s, &l);
                        prop_assert_eq!(old, m.insert(key, s));
                    }
                    Op::Remove(k) => {
                        let key = format!("m{}", k % 64).into_bytes();
                        prop_assert_eq!(z.remove(&key), m.remove(&key));
                    }
                    Op::RemoveRanks(a, n) => {
                        let sorted = model_sorted(&m);
                        let start = a as usize % (sorted.len() + 1);
                        let end = (start + n as usize).min(sorted.len());
                        for (k, _) in &sorted[start..end] {
                            m.remove(k);
                        }
                        prop_assert_eq!(z.remove_ranks(start, start + n as usize), end - start);
                    }
                }
                prop_assert_eq!(z.len(), m.len());
            }
            let sorted = model_sorted(&m);
            prop_assert_eq!(contents(&z), sorted.clone());
            for (i, (k, s)) in sorted.iter().enumerate() {
                prop_assert_eq!(z.rank(k), Some((i, *s)));
                prop_assert_eq!(z.get(i), Some((&k[..], *s)));
                prop_assert_eq!(z.score(k), Some(*s));
            }
            prop_assert_eq!(z.get(sorted.len()), None);
            for lo in -33i32..33 {
                let r = ScoreRange { min: lo as f64 / 4.0, max: (lo + 7) as f64 / 4.0, minex: lo % 2 == 0, maxex: lo % 3 == 0 };
                let first = sorted.iter().position(|e| r.gte_min(e.1)).unwrap_or(sorted.len());
                let n = sorted.iter().filter(|e| r.gte_min(e.1) && r.lte_max(e.1)).count();
                let (a, b) = z.score_span(&r);
                prop_assert_eq!(b - a, n);
                if n > 0 {
                    prop_assert_eq!(a, first);
                }
            }
            let mut rev = Vec::new();
            z.for_ranks(0, usize::MAX, true, |k, s| rev.push((k.to_vec(), s)));
            let mut want = sorted;
            want.reverse();
            prop_assert_eq!(rev, want);
        }
    }
}
