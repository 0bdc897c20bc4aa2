//! Thresholds at which compact encodings convert to their general forms.
//!
//! They are configuration (`hash-max-listpack-entries` and friends) but are
//! read on the hot path of every collection write, so the store keeps them in
//! atomics that CONFIG SET updates, rather than behind the configuration lock.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

/// Redis's encoding thresholds, with Redis's defaults.
#[derive(Debug)]
pub struct Limits {
    pub hash_max_listpack_entries: AtomicUsize,
    pub hash_max_listpack_value: AtomicUsize,
    pub set_max_intset_entries: AtomicUsize,
    pub set_max_listpack_entries: AtomicUsize,
    pub set_max_listpack_value: AtomicUsize,
    pub zset_max_listpack_entries: AtomicUsize,
    pub zset_max_listpack_value: AtomicUsize,
    /// Positive: entries per list node; negative: -1..-5 select 4..64 KB nodes.
    pub list_max_listpack_size: AtomicI64,
    /// Nodes at each end of a list left uncompressed (0 = no compression).
    pub list_compress_depth: AtomicUsize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            hash_max_listpack_entries: AtomicUsize::new(512),
            hash_max_listpack_value: AtomicUsize::new(64),
            set_max_intset_entries: AtomicUsize::new(512),
            set_max_listpack_entries: AtomicUsize::new(128),
            set_max_listpack_value: AtomicUsize::new(64),
            zset_max_listpack_entries: AtomicUsize::new(128),
            zset_max_listpack_value: AtomicUsize::new(64),
            list_max_listpack_size: AtomicI64::new(-2),
            list_compress_depth: AtomicUsize::new(0),
        }
    }
}

/// A plain copy of the limits, taken once per command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitValues {
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub set_max_listpack_entries: usize,
    pub set_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    pub list_max_listpack_size: i64,
    pub list_compress_depth: usize,
}

impl Default for LimitValues {
    fn default() -> Self {
        Limits::default().get()
    }
}

impl Limits {
    pub fn get(&self) -> LimitValues {
        let r = Ordering::Relaxed;
        LimitValues {
            hash_max_listpack_entries: self.hash_max_listpack_entries.load(r),
            hash_max_listpack_value: self.hash_max_listpack_value.load(r),
            set_max_intset_entries: self.set_max_intset_entries.load(r),
            set_max_listpack_entries: self.set_max_listpack_entries.load(r),
            set_max_listpack_value: self.set_max_listpack_value.load(r),
            zset_max_listpack_entries: self.zset_max_listpack_entries.load(r),
            zset_max_listpack_value: self.zset_max_listpack_value.load(r),
            list_max_listpack_size: self.list_max_listpack_size.load(r),
            list_compress_depth: self.list_compress_depth.load(r),
        }
    }

    pub fn set(&self, v: LimitValues) {
        let r = Ordering::Relaxed;
        self.hash_max_listpack_entries
            .store(v.hash_max_listpack_entries, r);
        self.hash_max_listpack_value
            .store(v.hash_max_listpack_value, r);
        self.set_max_intset_entries
            .store(v.set_max_intset_entries, r);
        self.set_max_listpack_entries
            .store(v.set_max_listpack_entries, r);
        self.set_max_listpack_value
            .store(v.set_max_listpack_value, r);
        self.zset_max_listpack_entries
            .store(v.zset_max_listpack_entries, r);
        self.zset_max_listpack_value
            .store(v.zset_max_listpack_value, r);
        self.list_max_listpack_size
            .store(v.list_max_listpack_size, r);
        self.list_compress_depth.store(v.list_compress_depth, r);
    }
}
