//! Time, as the keyspace sees it.
//!
//! Expiry deadlines are absolute Unix times in milliseconds. The store reads the
//! time through [`Clock`] so tests can move it by hand instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch from the system clock.
pub fn system_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Microseconds since the Unix epoch from the system clock.
pub fn system_now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// The keyspace's clock: the system's, or one that tests set.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A clock that stands still at `ms` until told otherwise.
    pub fn manual(ms: i64) -> Clock {
        Clock {
            manual: Some(Arc::new(AtomicI64::new(ms))),
        }
    }

    pub fn now_ms(&self) -> i64 {
        match &self.manual {
            Some(t) => t.load(Ordering::Relaxed),
            None => system_now_ms(),
        }
    }

    /// Moves a manual clock forward; no effect on the system clock.
    pub fn advance(&self, ms: i64) {
        if let Some(t) = &self.manual {
            t.fetch_add(ms, Ordering::Relaxed);
        }
    }

    /// Sets a manual clock; no effect on the system clock.
    pub fn set(&self, ms: i64) {
        if let Some(t) = &self.manual {
            t.store(ms, Ordering::Relaxed);
        }
    }
}
