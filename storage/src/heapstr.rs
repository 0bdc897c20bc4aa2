//! `HeapStr`: a string value's bytes in one allocation behind a thin pointer.
//!
//! Why not `Bytes` or `Box<[u8]>`: a value stored as a `Bytes` slice of the
//! request that carried it keeps that whole read buffer alive (a pipelined
//! SET of 200-byte values held ~130 extra bytes per key that way), and a
//! copied `Bytes` costs a separate 40-byte box plus a shared header once a
//! reply clones it. A fat `Box<[u8]>` would widen every value from 16 to 24
//! bytes. Here the pointer is 8 bytes, so `StrValue` stays 16, and the length,
//! the capacity (for amortized APPEND/SETRANGE, as Redis's sds keeps spare
//! room) and the `raw` flag live in a 16-byte header before the bytes, in the
//! same allocation: a 200-byte value costs one 224-byte jemalloc slot.
//!
//! The one place in the storage crate that needs `unsafe` (raw allocation
//! with a header); every block states why it holds, and a property test
//! checks it against `Vec<u8>`.
#![allow(unsafe_code)]

use std::alloc::{alloc, dealloc, handle_alloc_error, realloc, Layout};
use std::ptr::NonNull;

/// Header in front of the bytes.
#[repr(C)]
struct Header {
    len: usize,
    /// Capacity in bytes; the top bit is the `raw` flag.
    cap_raw: usize,
}

const RAW: usize = 1 << (usize::BITS - 1);
const HEADER: usize = std::mem::size_of::<Header>();

/// Growth stops doubling past this, as sds's SDS_MAX_PREALLOC.
const MAX_PREALLOC: usize = 1024 * 1024;

/// An owned, growable byte string with a thin pointer (see the module doc).
pub struct HeapStr {
    ptr: NonNull<Header>,
}

// SAFETY: HeapStr owns its allocation exclusively (no interior sharing), like
// a Box<[u8]>.
unsafe impl Send for HeapStr {}
// SAFETY: shared references only read.
unsafe impl Sync for HeapStr {}

fn layout(cap: usize) -> Layout {
    Layout::from_size_align(HEADER + cap, std::mem::align_of::<Header>())
        .expect("string size overflows the address space")
}

impl HeapStr {
    /// A copy of `b` with no spare room; `raw` is OBJECT ENCODING's answer.
    pub fn new(b: &[u8], raw: bool) -> HeapStr {
        let mut s = HeapStr::with_capacity(b.len(), raw);
        s.extend_from_slice(b);
        s
    }

    /// An empty string with room for `cap` bytes.
    pub fn with_capacity(cap: usize, raw: bool) -> HeapStr {
        assert!(cap < RAW, "string capacity too large");
        let l = layout(cap);
        // SAFETY: the layout has a non-zero size (the header).
        let p = unsafe { alloc(l) } as *mut Header;
        let Some(ptr) = NonNull::new(p) else {
            handle_alloc_error(l)
        };
        // SAFETY: freshly allocated, aligned for Header.
        unsafe {
            ptr.as_ptr().write(Header {
                len: 0,
                cap_raw: cap | if raw { RAW } else { 0 },
            })
        };
        HeapStr { ptr }
    }

    fn header(&self) -> &Header {
        // SAFETY: the pointer is valid for the life of self.
        unsafe { self.ptr.as_ref() }
    }

    fn header_mut(&mut self) -> &mut Header {
        // SAFETY: as above, and self is borrowed mutably.
        unsafe { self.ptr.as_mut() }
    }

    fn data(&self) -> *mut u8 {
        // SAFETY: the bytes start right after the header, inside the allocation.
        unsafe { (self.ptr.as_ptr() as *mut u8).add(HEADER) }
    }

    pub fn len(&self) -> usize {
        self.header().len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.header().cap_raw & !RAW
    }

    /// Whether Redis would report `raw` rather than `embstr`.
    pub fn is_raw(&self) -> bool {
        self.header().cap_raw & RAW != 0
    }

    pub fn set_raw(&mut self) {
        self.header_mut().cap_raw |= RAW;
    }

    /// Bytes allocated for this string, header included (memory accounting).
    pub fn allocation_size(&self) -> usize {
        HEADER + self.capacity()
    }

    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: `len` bytes after the header are initialized.
        unsafe { std::slice::from_raw_parts(self.data(), self.len()) }
    }

    pub fn as_mut_bytes(&mut self) -> &mut [u8] {
        // SAFETY: as above, borrowed mutably.
        unsafe { std::slice::from_raw_parts_mut(self.data(), self.len()) }
    }

    pub fn as_ptr(&self) -> *const u8 {
        self.data()
    }

    /// Makes room for `extra` more bytes, growing as sds does: double the
    /// needed size below 1 MiB, add 1 MiB above, so a loop of appends costs
    /// amortized O(1) per byte.
    pub fn reserve(&mut self, extra: usize) {
        let need = self.len().checked_add(extra).expect("string too large");
        let cap = self.capacity();
        if need <= cap {
            return;
        }
        let new_cap = if need < MAX_PREALLOC {
            need * 2
        } else {
            need + MAX_PREALLOC
        };
        assert!(new_cap < RAW, "string capacity too large");
        let new_layout = layout(new_cap);
        // SAFETY: ptr was allocated with layout(cap); the new size is non-zero.
        let p = unsafe { realloc(self.ptr.as_ptr() as *mut u8, layout(cap), new_layout.size()) }
            as *mut Header;
        let Some(ptr) = NonNull::new(p) else {
            handle_alloc_error(new_layout)
        };
        self.ptr = ptr;
        let raw = self.header().cap_raw & RAW;
        self.header_mut().cap_raw = new_cap | raw;
    }

    pub fn extend_from_slice(&mut self, b: &[u8]) {
        self.reserve(b.len());
        let len = self.len();
        // SAFETY: reserve made room for b.len() bytes after len; b cannot
        // overlap our allocation (we are borrowed mutably).
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), self.data().add(len), b.len()) };
        self.header_mut().len = len + b.len();
    }

    /// Grows to `new_len` bytes, filling with zeros (SETRANGE, SETBIT past
    /// the end); never shrinks.
    pub fn grow_zeroed(&mut self, new_len: usize) {
        let len = self.len();
        if new_len <= len {
            return;
        }
        self.reserve(new_len - len);
        // SAFETY: reserve made room up to new_len.
        unsafe { std::ptr::write_bytes(self.data().add(len), 0, new_len - len) };
        self.header_mut().len = new_len;
    }
}

impl Drop for HeapStr {
    fn drop(&mut self) {
        let l = layout(self.capacity());
        // SAFETY: allocated with this layout by with_capacity/reserve.
        unsafe { dealloc(self.ptr.as_ptr() as *mut u8, l) };
    }
}

impl Clone for HeapStr {
    fn clone(&self) -> Self {
        HeapStr::new(self.as_bytes(), self.is_raw())
    }
}

impl std::ops::Deref for HeapStr {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::fmt::Debug for HeapStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeapStr")
            .field("data", &String::from_utf8_lossy(self.as_bytes()))
            .field("raw", &self.is_raw())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn thin_and_flagged() {
        assert_eq!(std::mem::size_of::<HeapStr>(), 8);
        let mut s = HeapStr::new(b"hello", false);
        assert_eq!(s.as_bytes(), b"hello");
        assert_eq!(s.capacity(), 5);
        assert!(!s.is_raw());
        s.set_raw();
        assert!(s.is_raw());
        assert_eq!(s.capacity(), 5);
        let c = s.clone();
        assert_eq!(c.as_bytes(), b"hello");
        assert!(c.is_raw());
        let e = HeapStr::new(b"", false);
        assert!(e.is_empty());
    }

    #[test]
    fn appends_are_amortized() {
        let mut s = HeapStr::new(&[b'x'; 100], true);
        let mut moves = 0;
        let mut last = s.as_ptr();
        for _ in 0..10_000 {
            s.extend_from_slice(b"y");
            if s.as_ptr() != last {
                moves += 1;
                last = s.as_ptr();
            }
        }
        assert_eq!(s.len(), 10_100);
        assert!(moves <= 10, "{moves} reallocations");
        assert!(s.as_bytes()[..100].iter().all(|&b| b == b'x'));
        assert!(s.as_bytes()[100..].iter().all(|&b| b == b'y'));
        assert!(s.is_raw(), "the flag survives reallocation");
    }

    proptest! {
        #[test]
        fn behaves_like_a_vec(ops in proptest::collection::vec(
            (0u8..3, proptest::collection::vec(any::<u8>(), 0..300), 0usize..2000), 0..40)
        ) {
            let mut s = HeapStr::new(b"", false);
            let mut v: Vec<u8> = Vec::new();
            for (op, bytes, n) in ops {
                match op {
                    0 => { s.extend_from_slice(&bytes); v.extend_from_slice(&bytes); }
                    1 => { s.grow_zeroed(n); if n > v.len() { v.resize(n, 0); } }
                    _ => {
                        if !v.is_empty() {
                            let i = n % v.len();
                            s.as_mut_bytes()[i] ^= 0x5a;
                            v[i] ^= 0x5a;
                        }
                    }
                }
                prop_assert_eq!(s.as_bytes(), &v[..]);
                prop_assert!(s.capacity() >= s.len());
            }
            let c = s.clone();
            prop_assert_eq!(c.as_bytes(), &v[..]);
        }
    }
}
