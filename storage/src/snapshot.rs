//! Point-in-time snapshots of the whole keyspace without fork (BGSAVE).
//!
//! A threaded process cannot fork safely, and copying the keyspace would
//! double its memory. Instead a snapshot has an epoch, and every shard
//! remembers the epoch of the last snapshot that captured it. Once a snapshot
//! is active:
//!
//! - the walker ([`Store::snapshot`], on the caller's thread) visits every
//!   shard in ascending `(db, shard)` order, locks it, and captures it if it
//!   has not been captured yet;
//! - a command that locks a shard not captured yet captures it first, in the
//!   thread that locked it and while it holds the guards it already took
//!   (`Store::lock*` does this before handing out the [`crate::Locked`]), so a
//!   shard is always serialized as it was before any write made after the
//!   snapshot started. Active expiry does the same.
//!
//! Every shard is therefore captured exactly once, by whoever locks it first,
//! with the contents it had at the snapshot's start: the start point is the
//! moment the snapshot became active, plus the commands that already held
//! their locks then (they finish before anyone can capture their shards, and
//! every later command touching those shards is ordered after them), which
//! is a valid serial cut. Whole-keyspace commands (FLUSHALL, SWAPDB) lock
//! every shard and so capture every remaining one before they change
//! anything. Captures take no shard lock of their own, so they cannot break
//! the ascending lock order; the sink must not take shard locks either.
//!
//! The sink serializes a shard at capture time (the shard changes right
//! after), so memory overhead is the serialized bytes in flight, never a copy
//! of the keyspace. Read-only commands also capture: [`crate::Locked`] does
//! not know whether its command writes, and capturing on lock is what keeps
//! the hook to one place.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;

use crate::key::Key;
use crate::keyspace::Shard;
use crate::value::Value;
use crate::Store;

/// Receives the shards of a snapshot. Called from the walker's thread and
/// from any command thread that locks a shard first, possibly concurrently:
/// implementations serialize the entries before returning (the shard changes
/// as soon as the call returns) and must not lock shards of the store.
pub trait SnapshotSink: Send + Sync {
    /// One shard's contents as of the snapshot's start. Called exactly once
    /// per `(db, shard)`, with that shard locked.
    fn capture(&self, db: usize, shard: usize, view: ShardView<'_>);

    /// Called by the walker between two shards, holding no lock: a place to
    /// pace the save or, in tests, to pause it deterministically.
    fn between_shards(&self) {}
}

/// Read-only access to a locked shard's entries during a capture.
#[derive(Clone, Copy)]
pub struct ShardView<'s> {
    shard: &'s Shard,
}

impl<'s> ShardView<'s> {
    /// Number of keys (the RDB RESIZEDB hint).
    pub fn len(&self) -> usize {
        self.shard.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shard.is_empty()
    }

    /// Number of keys with a deadline.
    pub fn volatile_len(&self) -> usize {
        self.shard.volatile_len()
    }

    /// Every entry with its deadline (Unix ms), in table order. Keys whose
    /// deadline has passed are included: as for Redis's RDB, the loader
    /// drops them.
    pub fn iter(&self) -> impl Iterator<Item = (&'s Key, &'s Value, Option<i64>)> + 's {
        let shard = self.shard;
        shard.entries().map(move |e| {
            let at = if e.has_expire() {
                shard.deadline(&e.key)
            } else {
                None
            };
            (&e.key, &e.value, at)
        })
    }
}

/// A snapshot is already running (BGSAVE's "already in progress").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a snapshot is already in progress")]
pub struct SnapshotBusy;

/// What a finished snapshot did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotReport {
    /// Shards captured (every shard of every database).
    pub shards: usize,
    /// Of those, how many a command captured before writing.
    pub by_commands: usize,
    /// Keys passed to the sink (including stale ones).
    pub keys: u64,
    pub elapsed: Duration,
}

/// The running snapshot.
struct Active {
    epoch: u64,
    sink: Arc<dyn SnapshotSink>,
    by_commands: AtomicU64,
    keys: AtomicU64,
}

impl Active {
    /// Captures `shard` unless this snapshot already has; true if it did.
    fn capture(&self, db: usize, sh: usize, shard: &mut Shard) -> bool {
        if shard.snap_epoch >= self.epoch {
            return false;
        }
        self.keys.fetch_add(shard.len() as u64, Ordering::Relaxed);
        self.sink.capture(db, sh, ShardView { shard });
        shard.snap_epoch = self.epoch;
        true
    }
}

/// The store's snapshot state.
#[derive(Default)]
pub(crate) struct Snapshots {
    /// Fast check for the lock path: one relaxed-ish load per lock when idle.
    active_flag: AtomicBool,
    active: RwLock<Option<Arc<Active>>>,
    last_epoch: AtomicU64,
}

impl std::fmt::Debug for Snapshots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshots")
            .field("active", &self.active_flag.load(Ordering::Relaxed))
            .field("last_epoch", &self.last_epoch.load(Ordering::Relaxed))
            .finish()
    }
}

impl Snapshots {
    /// The running snapshot, if any; cheap when none is.
    #[inline]
    fn current(&self) -> Option<Arc<Active>> {
        if !self.active_flag.load(Ordering::Acquire) {
            return None;
        }
        self.active.read().clone()
    }
}

/// Clears the running snapshot when the walker ends, even by panic.
struct Deactivate<'a>(&'a Snapshots);

impl Drop for Deactivate<'_> {
    fn drop(&mut self) {
        let mut a = self.0.active.write();
        *a = None;
        self.0.active_flag.store(false, Ordering::Release);
    }
}

impl Store {
    /// Takes a point-in-time snapshot of every database into `sink` and
    /// returns when every shard has been captured. Runs the walk on the
    /// calling thread (BGSAVE calls it from a background thread); commands
    /// keep running and capture the shards they lock first. Only one
    /// snapshot runs at a time.
    pub fn snapshot(&self, sink: Arc<dyn SnapshotSink>) -> Result<SnapshotReport, SnapshotBusy> {
        let start = Instant::now();
        let active = {
            let mut slot = self.snapshots.active.write();
            if slot.is_some() {
                return Err(SnapshotBusy);
            }
            let epoch = self.snapshots.last_epoch.fetch_add(1, Ordering::Relaxed) + 1;
            let active = Arc::new(Active {
                epoch,
                sink,
                by_commands: AtomicU64::new(0),
                keys: AtomicU64::new(0),
            });
            *slot = Some(active.clone());
            self.snapshots.active_flag.store(true, Ordering::Release);
            active
        };
        let _done = Deactivate(&self.snapshots);
        let per_db = self.shards_per_db();
        let mut shards = 0;
        for db in 0..self.databases() {
            for sh in 0..per_db {
                {
                    let mut g = self.shard_mutex(db, sh).lock();
                    active.capture(db, sh, &mut g);
                }
                shards += 1;
                active.sink.between_shards();
            }
        }
        Ok(SnapshotReport {
            shards,
            by_commands: active.by_commands.load(Ordering::Relaxed) as usize,
            keys: active.keys.load(Ordering::Relaxed),
            elapsed: start.elapsed(),
        })
    }

    /// True while a snapshot is running.
    pub fn snapshot_in_progress(&self) -> bool {
        self.snapshots.active_flag.load(Ordering::Acquire)
    }

    /// The lock-path hook: captures every shard in `shards` that the running
    /// snapshot has not captured yet, before the caller modifies any of them.
    /// The caller holds all of their locks.
    pub(crate) fn capture_before_write<'g>(
        &self,
        shards: impl Iterator<Item = (usize, usize, &'g mut Shard)>,
    ) {
        let Some(active) = self.snapshots.current() else {
            return;
        };
        for (db, sh, shard) in shards {
            if active.capture(db, sh, shard) {
                active.by_commands.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Whether the lock path needs to call [`Store::capture_before_write`].
    #[inline]
    pub(crate) fn snapshot_active(&self) -> bool {
        self.snapshots.active_flag.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Clock;
    use parking_lot::{Condvar, Mutex};
    use smallvec::smallvec;
    use std::collections::BTreeMap;
    use std::sync::atomic::AtomicUsize;

    type Dump = BTreeMap<(usize, Vec<u8>), (String, Option<i64>)>;
    /// One captured shard: key, value rendered, deadline.
    type Captured = Vec<(Vec<u8>, String, Option<i64>)>;

    /// Serializes each shard to owned bytes at capture time, as the RDB sink
    /// does, and checks that no shard is captured twice.
    #[derive(Default)]
    struct TestSink {
        shards: Mutex<BTreeMap<(usize, usize), Captured>>,
        /// When set, the walker stops before its n-th pause point until `go`.
        pause_at: Option<usize>,
        pauses: AtomicUsize,
        gate: Mutex<(bool, bool)>, // (walker paused, go)
        cv: Condvar,
    }

    impl TestSink {
        fn pausing(at: usize) -> TestSink {
            TestSink {
                pause_at: Some(at),
                ..TestSink::default()
            }
        }

        fn wait_paused(&self) {
            let mut g = self.gate.lock();
            while !g.0 {
                self.cv.wait(&mut g);
            }
        }

        fn go(&self) {
            self.gate.lock().1 = true;
            self.cv.notify_all();
        }

        fn dump(&self) -> Dump {
            let mut out = Dump::new();
            for ((db, _), entries) in self.shards.lock().iter() {
                for (k, v, at) in entries {
                    assert!(
                        out.insert((*db, k.clone()), (v.clone(), *at)).is_none(),
                        "key captured twice"
                    );
                }
            }
            out
        }
    }

    impl SnapshotSink for TestSink {
        fn capture(&self, db: usize, shard: usize, view: ShardView<'_>) {
            let entries: Vec<_> = view
                .iter()
                .map(|(k, v, at)| {
                    let v = match v {
                        Value::Str(s) => s.with_bytes(|b| String::from_utf8_lossy(b).into_owned()),
                        other => format!("{other:?}"),
                    };
                    (k.as_bytes().to_vec(), v, at)
                })
                .collect();
            assert_eq!(entries.len(), view.len());
            let prev = self.shards.lock().insert((db, shard), entries);
            assert!(prev.is_none(), "shard ({db}, {shard}) captured twice");
        }

        fn between_shards(&self) {
            let n = self.pauses.fetch_add(1, Ordering::Relaxed);
            if Some(n) == self.pause_at {
                let mut g = self.gate.lock();
                g.0 = true;
                self.cv.notify_all();
                while !g.1 {
                    self.cv.wait(&mut g);
                }
            }
        }
    }

    fn store() -> Store {
        Store::new(4, 4, Clock::system())
    }

    fn set(store: &Store, db: usize, k: &[u8], v: &[u8]) {
        let mut l = store.lock(smallvec![store.slot(db, k)]);
        l.set(db, k, Value::string(b"x"), false);
        l.set(db, k, Value::string(v), false);
    }

    fn del(store: &Store, db: usize, k: &[u8]) {
        let mut l = store.lock(smallvec![store.slot(db, k)]);
        l.remove(db, k);
    }

    /// The store's current contents, in the sink's format.
    fn contents(store: &Store) -> Dump {
        let sink = Arc::new(TestSink::default());
        store.snapshot(sink.clone()).unwrap();
        sink.dump()
    }

    fn fill(store: &Store, n: usize) {
        for i in 0..n {
            let k = format!("key:{i}");
            set(
                store,
                i % store.databases(),
                k.as_bytes(),
                format!("v{i}").as_bytes(),
            );
            if i % 7 == 0 {
                let mut l = store.lock(smallvec![store.slot(i % store.databases(), k.as_bytes())]);
                l.set_expire(
                    i % store.databases(),
                    k.as_bytes(),
                    4_000_000_000_000 + i as i64,
                );
            }
        }
    }

    #[test]
    fn idle_snapshot_holds_everything_once() {
        let s = store();
        fill(&s, 2000);
        let sink = Arc::new(TestSink::default());
        let r = s.snapshot(sink.clone()).unwrap();
        assert_eq!(r.shards, 4 * 16);
        assert_eq!(r.by_commands, 0);
        assert_eq!(r.keys, 2000);
        let d = sink.dump();
        assert_eq!(d.len(), 2000);
        assert_eq!(d[&(1, b"key:1".to_vec())], ("v1".to_string(), None));
        assert_eq!(
            d[&(0, b"key:0".to_vec())],
            ("v0".to_string(), Some(4_000_000_000_000))
        );
        assert!(!s.snapshot_in_progress());
        // A second snapshot captures every shard again (new epoch).
        assert_eq!(contents(&s), d);
    }

    #[test]
    fn writes_after_start_are_not_captured() {
        let s = Arc::new(store());
        fill(&s, 3000);
        let before = contents(&s);
        // The walker captures shard (0, 0), then pauses holding no lock.
        let sink = Arc::new(TestSink::pausing(0));
        let walker = {
            let (s, sink) = (s.clone(), sink.clone());
            std::thread::spawn(move || s.snapshot(sink).unwrap())
        };
        sink.wait_paused();
        assert!(s.snapshot_in_progress());
        assert!(matches!(
            s.snapshot(Arc::new(TestSink::default())),
            Err(SnapshotBusy)
        ));
        // Eight threads modify, delete and add keys everywhere else.
        let writers: Vec<_> = (0..8)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for i in (t..3000).step_by(8) {
                        let db = i % 4;
                        let k = format!("key:{i}");
                        if s.slot(db, k.as_bytes()) == (0, 0) {
                            continue; // already captured; covered below
                        }
                        match i % 3 {
                            0 => set(&s, db, k.as_bytes(), b"changed"),
                            1 => del(&s, db, k.as_bytes()),
                            _ => set(&s, db, format!("new:{i}").as_bytes(), b"added"),
                        }
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        // Shard (0, 0) was captured before the pause: writes to it are later.
        for i in 0..200 {
            let k = format!("late:{i}");
            if s.slot(0, k.as_bytes()) == (0, 0) {
                set(&s, 0, k.as_bytes(), b"late");
            }
        }
        // SWAPDB and FLUSHALL mid-snapshot: they lock every shard and so
        // capture the rest before changing anything.
        {
            let mut all = s.lock_all();
            all.swap_dbs(0, 1);
            all.clear_db(2);
        }
        sink.go();
        let report = walker.join().unwrap();
        assert_eq!(report.shards, 64);
        assert_eq!(
            report.by_commands, 63,
            "every other shard captured by commands"
        );
        assert_eq!(sink.dump(), before);
        // And the store did change.
        let after = contents(&s);
        assert_ne!(after, before);
        assert!(after.keys().all(|(db, _)| *db != 2));
    }

    #[test]
    fn concurrent_writers_see_a_consistent_cut() {
        // Transfers move units between keys in different shards, two keys
        // under one lock, so the total is constant in every consistent cut.
        // A sequencer thread sets seq:0 .. seq:N-1 to round r, one key at a
        // time, then to r + 1, and so on: in a consistent cut the rounds
        // never increase along the sequence and span at most one step.
        const ACCOUNTS: usize = 256;
        const SEQ: usize = 512;
        const TOTAL: i64 = 1000 * ACCOUNTS as i64;
        let s = Arc::new(store());
        for a in 0..ACCOUNTS {
            set(&s, 0, format!("acct:{a}").as_bytes(), b"1000");
        }
        for i in 0..SEQ {
            set(&s, 1, format!("seq:{i}").as_bytes(), b"0");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for t in 0..8u64 {
            let (s, stop) = (s.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                let mut x = t.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                while !stop.load(Ordering::Relaxed) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let a = format!("acct:{}", x as usize % ACCOUNTS);
                    let b = format!("acct:{}", (x >> 20) as usize % ACCOUNTS);
                    if a == b {
                        continue;
                    }
                    let mut l = s.lock(smallvec![s.slot(0, a.as_bytes()), s.slot(0, b.as_bytes())]);
                    let get = |l: &mut crate::Locked<'_>, k: &str| {
                        l.get(0, k.as_bytes())
                            .unwrap()
                            .value
                            .as_str()
                            .unwrap()
                            .as_i64()
                            .unwrap()
                    };
                    let (va, vb) = (get(&mut l, &a), get(&mut l, &b));
                    let amount = (x >> 40) as i64 % 50;
                    let (na, nb) = ((va - amount).to_string(), (vb + amount).to_string());
                    l.set(0, a.as_bytes(), Value::string(na.as_bytes()), true);
                    l.set(0, b.as_bytes(), Value::string(nb.as_bytes()), true);
                }
            }));
        }
        {
            let (s, stop) = (s.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                let mut round = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    round += 1;
                    for i in 0..SEQ {
                        let r = round.to_string();
                        set(&s, 1, format!("seq:{i}").as_bytes(), r.as_bytes());
                    }
                }
            }));
        }
        let mut commands_captured = 0;
        for _ in 0..20 {
            let sink = Arc::new(TestSink::default());
            let r = s.snapshot(sink.clone()).unwrap();
            commands_captured += r.by_commands;
            let d = sink.dump();
            let total: i64 = d
                .iter()
                .filter(|((db, _), _)| *db == 0)
                .map(|(_, (v, _))| v.parse::<i64>().unwrap())
                .sum();
            assert_eq!(total, TOTAL, "transfers split by the snapshot");
            let rounds: Vec<u64> = (0..SEQ)
                .map(|i| d[&(1, format!("seq:{i}").into_bytes())].0.parse().unwrap())
                .collect();
            assert!(
                rounds.windows(2).all(|w| w[0] >= w[1]) && rounds[0] - rounds[SEQ - 1] <= 1,
                "sequence not a consistent cut: {rounds:?}"
            );
        }
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().unwrap();
        }
        assert!(commands_captured > 0, "writers never raced the walker");
    }
}
