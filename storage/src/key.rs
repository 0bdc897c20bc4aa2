//! Keys, stored inline when short.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

/// Bytes kept inside the key itself up to this length: most real keys
/// (`user:1000:session`) fit, so they cost no allocation of their own.
pub const INLINE_KEY: usize = 22;

/// A binary-safe key of at most 24 bytes in the table.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
}
