//! Point-in-time snapshots of the whole keyspace without fork (BGSAVE, the
//! AOF rewrite).
//!
//! A threaded process cannot fork safely, and copying the keyspace would
//! double its memory. Instead a snapshot has an epoch, and the keyspace
//! remembers, per key and per shard, whether the running snapshot has
//! captured it (Dragonfly's versioned snapshots, with one bit per key):
//!
//! - every entry carries a mark bit; between snapshots every entry's mark
//!   equals the parity of the last finished epoch, so for the next snapshot
//!   (opposite parity) every key is "not captured yet";
//! - the walker ([`Store::snapshot`], on the caller's thread) visits every
//!   shard in ascending `(db, shard)` order a chunk of buckets at a time,
//!   locking the shard only for one chunk, and passes the entries it finds
//!   unmarked to the sink, marking them;
//! - a command about to change or delete a key that is still unmarked in a
//!   shard the walker has not finished first passes that one key's old value
//!   to the sink and marks it ([`Locked::get`], `set`, `remove`, the expiry
//!   setters); keys it inserts are born marked, so the walker skips them.
//!   Commands that replace whole databases (FLUSHDB, FLUSHALL, SWAPDB)
//!   capture the affected shards whole first.
//!
//! Whether a command is before or after the snapshot's cut is decided once,
//! when its view is created with all its locks held ([`Snapshots::latch`]):
//! a command that latched "no snapshot" holds its shards from before the
//! activation, so the walker and every later command reach them only after
//! it, and its effects belong in the snapshot; a command that latched the
//! running snapshot preserves the old value of whatever it touches. This is
//! a valid serial cut, and a write costs at most one key's serialization
//! (never a whole shard's), on the writer's thread, while the shard is held.
//!
//! The walker may meet a table that grew (or rehashed in place) between two
//! of its chunks, which moves entries between buckets: each shard counts
//! such events and the walker then restarts the shard from bucket 0 (marked
//! keys are skipped), so no key is missed.
//!
//! Stale keys (past their deadline) may be deleted by lazy or active expiry
//! before the walker reaches them without being captured: an RDB loader
//! drops them anyway, as it would the stale key Redis's fork saw.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;

use crate::key::Key;
use crate::keyspace::{Entry, Shard};
use crate::value::Value;
use crate::Store;

/// One captured key: name, value, deadline (Unix ms) if any.
pub type SnapEntry<'a> = (&'a Key, &'a Value, Option<i64>);

/// Receives the keys of a snapshot. Called from the walker's thread and from
/// command threads (a key about to change, or whole shards before a FLUSHDB),
/// possibly concurrently, always with the keys' shard locked: implementations
/// serialize the entries before returning (they change as soon as the call
/// returns) and must not lock shards of the store.
pub trait SnapshotSink: Send + Sync {
    /// Keys of database `db` as they were at the snapshot's start. Every key
    /// is passed exactly once per snapshot.
    fn capture(&self, db: usize, entries: &mut dyn Iterator<Item = SnapEntry<'_>>);

    /// Called by the walker between two chunks, holding no lock: a place to
    /// pace the save or, in tests, to pause it deterministically.
    fn between_chunks(&self) {}
}

/// Buckets the walker visits per lock hold: a few thousand entries, so a
/// command waiting for the shard waits for at most one chunk's encoding.
const CHUNK_BUCKETS: usize = 1024;

/// A snapshot is already running (BGSAVE's "already in progress").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a snapshot is already in progress")]
pub struct SnapshotBusy;

/// What a finished snapshot did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotReport {
    /// Shards walked (every shard of every database).
    pub shards: usize,
    /// Keys a command captured before changing them (not by the walker).
    pub by_commands: u64,
    /// Keys passed to the sink (including stale ones).
    pub keys: u64,
    pub elapsed: Duration,
}

/// The running snapshot.
pub(crate) struct Active {
    pub(crate) epoch: u64,
    sink: Arc<dyn SnapshotSink>,
    by_commands: AtomicU64,
    keys: AtomicU64,
}

fn parity(epoch: u64) -> bool {
    epoch & 1 == 1
}

fn deadline_of(shard_expires: &Shard, e: &Entry) -> Option<i64> {
    if e.has_expire() {
        shard_expires.deadline(&e.key)
    } else {
        None
    }
}

impl Active {
    /// Marks the unmarked entries in buckets `range` of `shard` and returns
    /// copies of them, so that the walker encodes them after releasing the
    /// lock: a walker descheduled while holding a shard (it competes with
    /// the threads serving clients) would stall every command on it.
    fn copy_buckets(
        &self,
        shard: &mut Shard,
        range: std::ops::Range<usize>,
        out: &mut Vec<(Key, Value, Option<i64>)>,
    ) {
        let mark = parity(self.epoch);
        for i in range {
            let Some(e) = shard.table_mut().get_bucket_mut(i) else {
                continue;
            };
            if e.snap == mark {
                continue;
            }
            e.snap = mark;
            let e = shard.table().get_bucket(i).expect("bucket just read");
            out.push((e.key.clone(), e.value.clone(), deadline_of(shard, e)));
        }
        self.keys.fetch_add(out.len() as u64, Ordering::Relaxed);
    }

    /// Passes the unmarked entries in buckets `range` of `shard` to the sink
    /// and marks them. Marks first, then captures from a shared borrow.
    fn capture_buckets(
        &self,
        db: usize,
        shard: &mut Shard,
        range: std::ops::Range<usize>,
        picked: &mut Vec<usize>,
    ) {
        let mark = parity(self.epoch);
        picked.clear();
        for i in range {
            if let Some(e) = shard.table_mut().get_bucket_mut(i) {
                if e.snap != mark {
                    e.snap = mark;
                    picked.push(i);
                }
            }
        }
        if picked.is_empty() {
            return;
        }
        self.keys.fetch_add(picked.len() as u64, Ordering::Relaxed);
        let shard = &*shard;
        let mut it = picked.iter().filter_map(|&i| {
            let e = shard.table().get_bucket(i)?;
            Some((&e.key, &e.value, deadline_of(shard, e)))
        });
        self.sink.capture(db, &mut it);
    }

    /// Captures whatever `shard` still holds uncaptured and marks it done:
    /// before a command replaces the shard's contents wholesale.
    pub(crate) fn capture_shard(&self, db: usize, shard: &mut Shard) {
        if shard.snap_epoch >= self.epoch {
            return;
        }
        let n = shard.table().num_buckets();
        let mut picked = Vec::new();
        self.capture_buckets(db, shard, 0..n, &mut picked);
        shard.snap_epoch = self.epoch;
    }

    /// Captures one key before a command changes it, unless the walker is
    /// done with its shard or the key is captured (or new) already.
    pub(crate) fn capture_key(&self, db: usize, shard: &mut Shard, th: u64, key: &[u8]) {
        if shard.snap_epoch >= self.epoch {
            return;
        }
        let mark = parity(self.epoch);
        let Some(i) = shard
            .table()
            .find_bucket_index(th, |e| e.key.as_bytes() == key)
        else {
            return;
        };
        let e = shard
            .table_mut()
            .get_bucket_mut(i)
            .expect("bucket just found");
        if e.snap == mark {
            return;
        }
        e.snap = mark;
        self.keys.fetch_add(1, Ordering::Relaxed);
        self.by_commands.fetch_add(1, Ordering::Relaxed);
        let shard = &*shard;
        let e = shard.table().get_bucket(i).expect("bucket just found");
        let mut one = std::iter::once((&e.key, &e.value, deadline_of(shard, e)));
        self.sink.capture(db, &mut one);
    }
}

/// The store's snapshot state.
#[derive(Default)]
pub(crate) struct Snapshots {
    /// Fast check for the lock path: one load per lock when idle.
    active_flag: AtomicBool,
    active: RwLock<Option<Arc<Active>>>,
    /// Epoch of the last snapshot started.
    last_epoch: AtomicU64,
    /// Epoch of the last snapshot finished: outside a snapshot every entry's
    /// mark is its parity, and keys inserted then are born with it.
    settled_epoch: AtomicU64,
    /// A snapshot ended without walking everything (a panic): marks are
    /// mixed, and the next snapshot first resets them.
    unsettled: AtomicBool,
}

impl std::fmt::Debug for Snapshots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshots")
            .field("active", &self.active_flag.load(Ordering::Relaxed))
            .field("last_epoch", &self.last_epoch.load(Ordering::Relaxed))
            .finish()
    }
}

/// What a view latched when it was created: the running snapshot (if any),
/// and the epoch whose parity the keys it inserts are born with.
pub(crate) struct Latch {
    pub(crate) active: Option<Arc<Active>>,
    pub(crate) epoch: u64,
}

impl Snapshots {
    /// Decides, for a view that holds all its locks, which side of a
    /// snapshot's cut it is on. The flag is read before the settled epoch:
    /// a snapshot finishing stores its epoch before clearing the flag, so a
    /// view that sees no snapshot never takes an older epoch than the last
    /// finished one; and a snapshot that starts after the flag was read
    /// cannot finish while this view holds its shards.
    #[inline]
    pub(crate) fn latch(&self) -> Latch {
        if !self.active_flag.load(Ordering::Acquire) {
            return Latch {
                active: None,
                epoch: self.settled_epoch.load(Ordering::Acquire),
            };
        }
        self.latch_slow()
    }

    #[cold]
    fn latch_slow(&self) -> Latch {
        match self.active.read().clone() {
            Some(a) => Latch {
                epoch: a.epoch,
                active: Some(a),
            },
            None => Latch {
                active: None,
                epoch: self.settled_epoch.load(Ordering::Acquire),
            },
        }
    }
}

/// Ends the running snapshot when the walker returns, or on a panic.
struct Deactivate<'a> {
    snaps: &'a Snapshots,
    epoch: u64,
    walked_all: bool,
}

impl Drop for Deactivate<'_> {
    fn drop(&mut self) {
        let mut a = self.snaps.active.write();
        if self.walked_all {
            self.snaps
                .settled_epoch
                .store(self.epoch, Ordering::Release);
        } else {
            self.snaps.unsettled.store(true, Ordering::Release);
        }
        *a = None;
        self.snaps.active_flag.store(false, Ordering::Release);
    }
}

impl Store {
    /// Takes a point-in-time snapshot of every database into `sink` and
    /// returns when every key has been captured. Runs the walk on the
    /// calling thread (BGSAVE calls it from a background thread); commands
    /// keep running. Only one snapshot runs at a time.
    pub fn snapshot(&self, sink: Arc<dyn SnapshotSink>) -> Result<SnapshotReport, SnapshotBusy> {
        self.snapshot_with(sink, |_| {})
    }

    /// [`Store::snapshot`], calling `at_cut(epoch)` at the instant the
    /// snapshot becomes active (no view can latch in between): views
    /// created before it report an older [`crate::Locked::epoch`], later ones
    /// this epoch or newer. The AOF rewrite switches its incremental file
    /// there.
    pub fn snapshot_with(
        &self,
        sink: Arc<dyn SnapshotSink>,
        at_cut: impl FnOnce(u64),
    ) -> Result<SnapshotReport, SnapshotBusy> {
        let start = Instant::now();
        if self.snapshots.unsettled.swap(false, Ordering::AcqRel) {
            self.settle_marks();
        }
        let active = {
            let mut slot = self.snapshots.active.write();
            if slot.is_some() {
                return Err(SnapshotBusy);
            }
            // The epoch's parity must differ from the settled one, so that
            // every key starts out uncaptured; and it must exceed every
            // shard's `snap_epoch`.
            let settled = self.snapshots.settled_epoch.load(Ordering::Acquire);
            let mut epoch = self.snapshots.last_epoch.load(Ordering::Relaxed) + 1;
            if parity(epoch) == parity(settled) {
                epoch += 1;
            }
            self.snapshots.last_epoch.store(epoch, Ordering::Relaxed);
            let active = Arc::new(Active {
                epoch,
                sink,
                by_commands: AtomicU64::new(0),
                keys: AtomicU64::new(0),
            });
            *slot = Some(active.clone());
            at_cut(epoch);
            self.snapshots.active_flag.store(true, Ordering::Release);
            active
        };
        let mut done = Deactivate {
            snaps: &self.snapshots,
            epoch: active.epoch,
            walked_all: false,
        };
        let per_db = self.shards_per_db();
        let mut shards = 0;
        let mut copies = Vec::new();
        for db in 0..self.databases() {
            for sh in 0..per_db {
                self.walk_shard(&active, db, sh, &mut copies);
                shards += 1;
            }
        }
        done.walked_all = true;
        drop(done);
        Ok(SnapshotReport {
            shards,
            by_commands: active.by_commands.load(Ordering::Relaxed),
            keys: active.keys.load(Ordering::Relaxed),
            elapsed: start.elapsed(),
        })
    }

    /// Walks one shard a chunk of buckets per lock hold: copies the chunk's
    /// uncaptured keys under the lock, encodes them after releasing it.
    fn walk_shard(
        &self,
        active: &Active,
        db: usize,
        sh: usize,
        copies: &mut Vec<(Key, Value, Option<i64>)>,
    ) {
        let mutex = self.shard_mutex(db, sh);
        let mut pos = 0;
        let mut moves = None;
        loop {
            copies.clear();
            let finished = {
                let mut g = mutex.lock();
                if g.snap_epoch >= active.epoch {
                    return;
                }
                if moves != Some(g.moves) {
                    // Entries may have changed buckets since the last chunk.
                    if moves.is_some() {
                        pos = 0;
                    }
                    moves = Some(g.moves);
                }
                let n = g.table().num_buckets();
                let end = (pos + CHUNK_BUCKETS).min(n);
                active.copy_buckets(&mut g, pos..end, copies);
                pos = end;
                if pos >= n {
                    g.snap_epoch = active.epoch;
                }
                pos >= n
            };
            if !copies.is_empty() {
                let mut it = copies.iter().map(|(k, v, at)| (k, v, *at));
                active.sink.capture(db, &mut it);
            }
            copies.clear();
            active.sink.between_chunks();
            if finished {
                return;
            }
        }
    }

    /// Resets every key's mark to the settled epoch's parity after a
    /// snapshot that did not finish.
    #[cold]
    fn settle_marks(&self) {
        let mark = parity(self.snapshots.settled_epoch.load(Ordering::Acquire));
        for db in 0..self.databases() {
            for sh in 0..self.shards_per_db() {
                let mut g = self.shard_mutex(db, sh).lock();
                for e in g.table_mut().iter_mut() {
                    e.snap = mark;
                }
            }
        }
    }

    /// True while a snapshot is running.
    pub fn snapshot_in_progress(&self) -> bool {
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

    /// Serializes each key to owned bytes at capture time, as the RDB sink
    /// does, and checks that no key is captured twice.
    #[derive(Default)]
    struct TestSink {
        keys: Mutex<Dump>,
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
            self.keys.lock().clone()
        }
    }

    impl SnapshotSink for TestSink {
        fn capture(&self, db: usize, entries: &mut dyn Iterator<Item = SnapEntry<'_>>) {
            for (k, v, at) in entries {
                let v = match v {
                    Value::Str(s) => s.with_bytes(|b| String::from_utf8_lossy(b).into_owned()),
                    other => format!("{other:?}"),
                };
                let prev = self
                    .keys
                    .lock()
                    .insert((db, k.as_bytes().to_vec()), (v, at));
                assert!(prev.is_none(), "key {k:?} of db {db} captured twice");
            }
        }

        fn between_chunks(&self) {
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
        assert_eq!(s.snapshots.settled_epoch.load(Ordering::Relaxed) % 2, 1);
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
        // SWAPDB and FLUSHALL mid-snapshot: they capture what remains of
        // the databases they replace before changing anything.
        {
            let mut all = s.lock_all();
            all.swap_dbs(0, 1);
            all.clear_db(2);
        }
        sink.go();
        let report = walker.join().unwrap();
        assert_eq!(report.shards, 64);
        assert!(report.by_commands > 0, "writers captured keys first");
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
        let mut commands_captured = 0u64;
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

    #[test]
    fn walker_chunks_survive_table_growth() {
        // One database of two shards, thousands of keys each: several
        // chunks per shard. While the walker pauses between two chunks of
        // the first shard, keys are deleted and so many are added that every
        // table grows (moving entries between buckets); later writes also
        // change keys the walker has not reached yet.
        const NEW: usize = 3000;
        let s = Arc::new(Store::new(1, 1, Clock::system()));
        for i in 0..6000 {
            set(
                &s,
                0,
                format!("k{i}").as_bytes(),
                format!("v{i}").as_bytes(),
            );
        }
        let before = contents(&s);
        assert_eq!(before.len(), 6000);
        let sink = Arc::new(TestSink::pausing(1));
        let walker = {
            let (s, sink) = (s.clone(), sink.clone());
            std::thread::spawn(move || s.snapshot(sink).unwrap())
        };
        sink.wait_paused();
        for i in (0..6000).step_by(3) {
            del(&s, 0, format!("k{i}").as_bytes());
        }
        // Deleting leaves tombstones; inserting until the tables are full
        // again rehashes them in place (or grows them): entries move.
        for i in 0..NEW {
            set(&s, 0, format!("new{i}").as_bytes(), b"n");
        }
        for i in (1..6000).step_by(3) {
            set(&s, 0, format!("k{i}").as_bytes(), b"changed");
        }
        sink.go();
        let r = walker.join().unwrap();
        assert!(r.by_commands > 0);
        assert_eq!(
            sink.dump(),
            before,
            "the snapshot is the state at its start"
        );
        // The next snapshot sees the new state, every key once.
        let after = contents(&s);
        assert_eq!(after.len(), 6000 - 2000 + NEW);
        assert_eq!(after[&(0, b"k1".to_vec())].0, "changed");
    }

    #[test]
    fn unfinished_snapshot_leaves_marks_reset_for_the_next() {
        // A sink that panics mid-walk: the next snapshot must still see
        // every key once.
        struct Panicky(AtomicUsize);
        impl SnapshotSink for Panicky {
            fn capture(&self, _db: usize, entries: &mut dyn Iterator<Item = SnapEntry<'_>>) {
                for _ in entries {}
                if self.0.fetch_add(1, Ordering::Relaxed) == 5 {
                    panic!("sink failure (expected by the test)");
                }
            }
        }
        let s = Arc::new(store());
        fill(&s, 1000);
        let before = contents(&s);
        let s2 = s.clone();
        let r =
            std::thread::spawn(move || s2.snapshot(Arc::new(Panicky(AtomicUsize::new(0))))).join();
        assert!(r.is_err());
        assert!(!s.snapshot_in_progress());
        set(&s, 0, b"fresh", b"f");
        let mut want = before.clone();
        want.insert((0, b"fresh".to_vec()), ("f".into(), None));
        assert_eq!(contents(&s), want);
        assert_eq!(contents(&s), want);
    }
}
