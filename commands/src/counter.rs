//! Counters that every thread bumps on every command (commands processed,
//! per-command calls and time, bytes in and out), striped over cache lines.
//!
//! One `AtomicU64` written by every core is the classic scaling wall: each
//! increment moves the cache line to the writing core, so at 16 or 64 cores
//! the counter, not the command, sets the pace. A `Counter` has one cell per
//! stripe, each on its own cache line, and a thread always adds to the same
//! stripe (threads are assigned stripes round-robin when they first count);
//! reading sums the stripes, which only INFO does. With as many stripes as
//! cores (a power of two, at most 64), worker threads never share a line.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// One cell on its own cache line.
#[derive(Default)]
#[repr(align(64))]
struct Cell(AtomicU64);

/// A striped, relaxed event counter.
pub struct Counter {
    cells: Box<[Cell]>,
}

/// Stripes per counter: the core count rounded up to a power of two,
/// between 1 and 64.
fn stripes() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 64)
            .next_power_of_two()
    })
}

/// This thread's stripe (before masking).
#[inline]
fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static MINE: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    MINE.with(|m| *m)
}

impl Default for Counter {
    fn default() -> Self {
        Counter {
            cells: (0..stripes()).map(|_| Cell::default()).collect(),
        }
    }
}

impl Counter {
    #[inline]
    pub fn add(&self, n: u64) {
        let i = stripe() & (self.cells.len() - 1);
        self.cells[i].0.fetch_add(n, Ordering::Relaxed);
    }

    /// The sum over all stripes (a moment-by-moment sum under concurrent
    /// adds, as any relaxed counter read is).
    pub fn get(&self) -> u64 {
        self.cells
            .iter()
            .map(|c| c.0.load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
    }

    /// Sets the counter to zero (CONFIG RESETSTAT).
    pub fn reset(&self) {
        for c in self.cells.iter() {
            c.0.store(0, Ordering::Relaxed);
        }
    }
}

impl std::fmt::Debug for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_adds_from_many_threads() {
        let c = Counter::default();
        std::thread::scope(|s| {
            for t in 0..8 {
                let c = &c;
                s.spawn(move || {
                    for _ in 0..10_000 {
                        c.add(t + 1);
                    }
                });
            }
        });
        assert_eq!(c.get(), 10_000 * (1..=8).sum::<u64>());
        c.reset();
        assert_eq!(c.get(), 0);
        assert!(c.cells.len().is_power_of_two());
    }
}
