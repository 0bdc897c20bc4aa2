//! Values and their encodings.

use bytes::Bytes;

pub use crate::heapstr::HeapStr;

/// Strings up to this length are kept inside the value itself, which stays
/// 16 bytes wide: the common small value (a counter, a flag, a short token)
/// costs no allocation at all.
pub const INLINE_STR: usize = 14;

/// Redis reports `embstr` for strings up to this length and `raw` above it.
pub const EMBSTR_LIMIT: usize = 44;

/// The largest string value Redis accepts (`proto-max-bulk-len` default).
pub const MAX_STRING: usize = 512 * 1024 * 1024;

/// A string value in the most compact of three forms.
#[derive(Clone, Debug)]
pub enum StrValue {
    /// An integer, kept as such so INCR needs no parsing (OBJECT ENCODING `int`).
    Int(i64),
    /// A short string stored inline.
    Inline { len: u8, data: [u8; INLINE_STR] },
    /// A longer string on the heap behind a thin pointer, with the flag for
    /// OBJECT ENCODING: `raw` (modified in place, or longer than 44 bytes)
    /// rather than `embstr`.
    Heap(HeapStr),
}

impl StrValue {
    /// Builds a string the way SET does: integers in canonical form become
    /// `Int`, short strings go inline.
    pub fn from_bytes(b: &[u8]) -> StrValue {
        if let Some(n) = parse_canonical_i64(b) {
            return StrValue::Int(n);
        }
        Self::from_bytes_no_int(b)
    }

    fn from_bytes_no_int(b: &[u8]) -> StrValue {
        if b.len() <= INLINE_STR {
            let mut data = [0u8; INLINE_STR];
            data[..b.len()].copy_from_slice(b);
            StrValue::Inline {
                len: b.len() as u8,
                data,
            }
        } else {
            StrValue::Heap(HeapStr::new(b, b.len() > EMBSTR_LIMIT))
        }
    }

    /// The heap string of a value about to be modified in place (APPEND,
    /// SETRANGE, SETBIT), with room for `extra` more bytes: a short value
    /// moves to the heap first. Redis reports such strings as `raw`.
    pub fn make_mut(&mut self, extra: usize) -> &mut HeapStr {
        if !matches!(self, StrValue::Heap(_)) {
            let h = self.with_bytes(|b| {
                let mut h = HeapStr::with_capacity(b.len() + extra, true);
                h.extend_from_slice(b);
                h
            });
            *self = StrValue::Heap(h);
        }
        let StrValue::Heap(h) = self else {
            unreachable!("made a heap string above")
        };
        h.set_raw();
        h.reserve(extra);
        h
    }

    /// The value as bytes (a copy; replies own their data).
    pub fn to_bytes(&self) -> Bytes {
        match self {
            StrValue::Int(n) => {
                let mut buf = itoa::Buffer::new();
                Bytes::copy_from_slice(buf.format(*n).as_bytes())
            }
            StrValue::Inline { len, data } => Bytes::copy_from_slice(&data[..*len as usize]),
            StrValue::Heap(h) => Bytes::copy_from_slice(h),
        }
    }

    /// Calls `f` with the bytes of the value without copying when possible.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            StrValue::Int(n) => {
                let mut buf = itoa::Buffer::new();
                f(buf.format(*n).as_bytes())
            }
            StrValue::Inline { len, data } => f(&data[..*len as usize]),
            StrValue::Heap(h) => f(h),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(n) => {
                let mut buf = itoa::Buffer::new();
                buf.format(*n).len()
            }
            StrValue::Inline { len, .. } => *len as usize,
            StrValue::Heap(h) => h.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The integer this string holds, if it is one (as Redis's string2ll reads it).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            StrValue::Int(n) => Some(*n),
            other => other.with_bytes(parse_canonical_i64),
        }
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match self {
            StrValue::Int(_) => "int",
            StrValue::Inline { .. } => "embstr",
            StrValue::Heap(h) if h.is_raw() => "raw",
            StrValue::Heap(_) => "embstr",
        }
    }

    /// Heap bytes used beyond the value's own slot (for memory accounting).
    pub fn heap_size(&self) -> usize {
        match self {
            StrValue::Heap(h) => h.allocation_size(),
            _ => 0,
        }
    }
}

/// Parses an i64 the way Redis's `string2ll` does: no leading `+`, no leading
/// zeros, no spaces, `-0` rejected, at most 20 characters, no overflow.
pub fn parse_canonical_i64(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b.len() == 1 && b[0] == b'0' {
        return Some(0);
    }
    let (neg, digits) = if b[0] == b'-' {
        (true, &b[1..])
    } else {
        (false, b)
    };
    if digits.is_empty() || digits[0] < b'1' || digits[0] > b'9' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// A value stored under a key.
///
/// Collection types are added by their own modules as they land; each variant
/// knows its Redis type name and encoding.
#[derive(Clone, Debug)]
pub enum Value {
    Str(StrValue),
    List(Box<crate::list::List>),
    Hash(Box<crate::hash::Hash>),
    Set(Box<crate::set::Set>),
    ZSet(Box<crate::zset::ZSet>),
}

impl Value {
    /// TYPE's answer.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
        }
    }

    /// A string value built the way SET builds one.
    pub fn string(b: &[u8]) -> Value {
        Value::Str(StrValue::from_bytes(b))
    }

    pub fn as_str(&self) -> Option<&StrValue> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_str_mut(&mut self) -> Option<&mut StrValue> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Approximate heap bytes owned by the value, for INFO and eviction.
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_size(),
            Value::List(l) => std::mem::size_of::<crate::list::List>() + l.heap_size(),
            Value::Hash(h) => std::mem::size_of::<crate::hash::Hash>() + h.heap_size(),
            Value::Set(s) => std::mem::size_of::<crate::set::Set>() + s.heap_size(),
            Value::ZSet(z) => std::mem::size_of::<crate::zset::ZSet>() + z.heap_size(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers() {
        assert_eq!(parse_canonical_i64(b"0"), Some(0));
        assert_eq!(parse_canonical_i64(b"-1"), Some(-1));
        assert_eq!(parse_canonical_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_canonical_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_canonical_i64(b"9223372036854775808"), None);
        for bad in [&b"01"[..], b"-0", b"+1", b" 1", b"1 ", b"", b"-", b"1a"] {
            assert_eq!(parse_canonical_i64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(StrValue::from_bytes(b"123").encoding(), "int");
        assert_eq!(StrValue::from_bytes(b"0123").encoding(), "embstr");
        assert_eq!(StrValue::from_bytes(&[b'a'; 44]).encoding(), "embstr");
        assert_eq!(StrValue::from_bytes(&[b'a'; 45]).encoding(), "raw");
        let v = StrValue::from_bytes(&[b'x'; 30]);
        assert_eq!(v.to_bytes().len(), 30);
    }

    #[test]
    fn values_stay_small() {
        // The table entry's size decides the memory per key; keep it in check.
        assert_eq!(std::mem::size_of::<StrValue>(), 16);
        assert_eq!(std::mem::size_of::<Value>(), 16);
    }
}
