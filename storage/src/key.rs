//! Keys, stored inline when short.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Bytes kept inside the key itself up to this length: most real keys
/// (`user:1000:session`) fit, so they cost no allocation of their own.
pub const INLINE_KEY: usize = 22;

/// A binary-safe key of at most 24 bytes in the table.
///
/// Hash and order are those of its bytes, not of the enum: maps keyed by
/// `Key` are looked up with `&[u8]` through `Borrow`, which requires both to
/// agree (a derived `Hash` would also hash the variant and the padding).
#[derive(Clone, PartialEq, Eq)]
pub enum Key {
    Inline { len: u8, data: [u8; INLINE_KEY] },
    Heap(Box<[u8]>),
}

impl Key {
    pub fn new(b: &[u8]) -> Key {
        if b.len() <= INLINE_KEY {
            let mut data = [0u8; INLINE_KEY];
            data[..b.len()].copy_from_slice(b);
            Key::Inline {
                len: b.len() as u8,
                data,
            }
        } else {
            Key::Heap(b.into())
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, data } => &data[..*len as usize],
            Key::Heap(b) => b,
        }
    }

    /// Heap bytes owned by the key beyond its inline slot.
    pub fn heap_size(&self) -> usize {
        match self {
            Key::Inline { .. } => 0,
            Key::Heap(b) => b.len(),
        }
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Deref for Key {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<&[u8]> for Key {
    fn from(b: &[u8]) -> Self {
        Key::new(b)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:?})", String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_heap_round_trip() {
        for len in [0, 1, 21, 22, 23, 100] {
            let v: Vec<u8> = (0..len as u8).collect();
            let k = Key::new(&v);
            assert_eq!(k.as_bytes(), &v[..]);
            assert_eq!(matches!(k, Key::Inline { .. }), len <= INLINE_KEY);
        }
        assert_eq!(std::mem::size_of::<Key>(), 24);
    }

    #[test]
    fn hash_and_order_agree_with_the_borrowed_bytes() {
        use std::hash::BuildHasher;
        let h = std::collections::hash_map::RandomState::new();
        for len in [0, 5, 22, 23, 40] {
            let v: Vec<u8> = (0..len as u8).collect();
            let k = Key::new(&v);
            let borrowed: &[u8] = k.borrow();
            assert_eq!(h.hash_one(&k), h.hash_one(borrowed));
        }
        assert!(Key::new(b"b") > Key::new(&[b'a'; 30]));
    }
}
