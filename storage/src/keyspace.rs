//! The sharded keyspace and its locking model.
//!
//! Every database is split into a fixed, power-of-two number of shards. A
//! key's shard is chosen by the top bits of its 64-bit hash; each shard owns a
//! hash table, an index of the keys that carry a deadline, and counters, behind
//! its own mutex. A command locks every shard its keys live in, in ascending
//! `(db, shard)` order, runs, and unlocks: multi-key commands are atomic
//! against every other client on every thread, and the fixed order rules out
//! deadlock. Commands that need a whole database lock all of its shards, in the
//! same order. See docs/ARCHITECTURE.md.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hashbrown::hash_table::Entry as TableEntry;
use hashbrown::{DefaultHashBuilder, HashTable};
use indexmap::IndexMap;
use parking_lot::{Mutex, MutexGuard};
use rand::Rng;
use smallvec::SmallVec;

use crate::clock::Clock;
use crate::key::Key;
use crate::snapshot::Active;
use crate::value::Value;

/// One key and its value.
#[derive(Debug)]
pub struct Entry {
    pub key: Key,
    pub value: Value,
    /// Last access time in seconds (24-bit LRU clock, as Redis keeps it).
    pub lru: u32,
    /// Whether the key has a deadline in its shard's expiry index.
    has_expire: bool,
    /// Snapshot mark: equal to the running snapshot's epoch parity once the
    /// snapshot has captured this key (snapshot.rs).
    pub(crate) snap: bool,
}

/// Per-shard counters; INFO sums them.
#[derive(Debug, Default, Clone, Copy)]
pub struct ShardStats {
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
    /// Times a command locked the shard, and of those how many found it
    /// held by another thread and waited: the lock-contention figure
    /// (counted under the lock itself, so counting costs no shared writes).
    pub locks: u64,
    pub contended: u64,
}

/// One shard: a hash table of entries and the deadlines of its volatile keys.
#[derive(Debug, Default)]
pub struct Shard {
    /// Entries are boxed: the table then costs 9 bytes per bucket instead of
    /// a whole entry, which matters because hash tables double in size and
    /// spend much of their life half empty.
    table: HashTable<Box<Entry>>,
    /// Volatile keys and their deadlines (Unix ms). An index map so that
    /// active expiry can sample random keys in O(1).
    expires: IndexMap<Key, i64, DefaultHashBuilder>,
    pub stats: ShardStats,
    /// Clients blocked on keys of this shard (BLPOP, BZPOPMIN, ...), by
    /// waiter id, first come first served. Kept under the shard's lock so a
    /// push and the service of the clients it unblocks are one atomic step.
    blocked: hashbrown::HashMap<Key, std::collections::VecDeque<u64>, DefaultHashBuilder>,
    /// Epoch of the last snapshot whose walker finished this shard (see
    /// snapshot.rs).
    pub(crate) snap_epoch: u64,
    /// Counts insertions that may have moved entries between buckets (the
    /// table grew or rehashed in place): a snapshot walker that sees it
    /// change restarts the shard.
    pub(crate) moves: u64,
}

impl Shard {
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn volatile_len(&self) -> usize {
        self.expires.len()
    }

    pub(crate) fn table(&self) -> &HashTable<Box<Entry>> {
        &self.table
    }

    pub(crate) fn table_mut(&mut self) -> &mut HashTable<Box<Entry>> {
        &mut self.table
    }

    /// The deadline of `key` (Unix ms), if it has one.
    pub(crate) fn deadline(&self, key: &[u8]) -> Option<i64> {
        self.expires.get(key).copied()
    }
}

impl Entry {
    /// Whether the key has a deadline.
    pub(crate) fn has_expire(&self) -> bool {
        self.has_expire
    }
}

/// The 24-bit LRU clock Redis keeps in every object, in seconds.
pub fn lru_clock(now_ms: i64) -> u32 {
    ((now_ms / 1000) as u64 & 0xFF_FFFF) as u32
}

/// Seconds since `lru`, accounting for the 24-bit clock wrapping.
pub fn lru_idle_secs(lru: u32, now_ms: i64) -> u64 {
    let now = lru_clock(now_ms);
    if now >= lru {
        (now - lru) as u64
    } else {
        (now as u64 + 0xFF_FFFF) - lru as u64
    }
}

/// A database: a fixed array of shards.
#[derive(Debug)]
pub struct Db {
    shards: Box<[Mutex<Shard>]>,
}

/// Where a key lives: database and shard.
pub type Slot = (u32, u32);

/// All databases.
#[derive(Debug)]
pub struct Store {
    dbs: Box<[Db]>,
    shard_bits: u32,
    pub clock: Clock,
    /// Where the next active-expiry cycle resumes: a flat (db, shard) index.
    expire_cursor: AtomicUsize,
    /// Per shard (flat index): may hold keys with a deadline. Set under the
    /// shard's lock when a deadline is added, cleared by active expiry when
    /// it finds none, so the cycle skips idle shards without locking them
    /// (Redis likewise skips databases with no volatile keys).
    volatile: Box<[AtomicBool]>,
    /// Encoding thresholds of the collection types (CONFIG SET updates them).
    pub limits: crate::limits::Limits,
    /// The running point-in-time snapshot, if any (snapshot.rs).
    pub(crate) snapshots: crate::snapshot::Snapshots,
}

impl Store {
    /// `databases` databases of `1 << shard_bits` shards each.
    pub fn new(databases: usize, shard_bits: u32, clock: Clock) -> Store {
        assert!(databases >= 1);
        assert!((1..=16).contains(&shard_bits));
        let dbs = (0..databases)
            .map(|_| Db {
                shards: (0..1usize << shard_bits)
                    .map(|_| Mutex::new(Shard::default()))
                    .collect(),
            })
            .collect();
        Store {
            dbs,
            shard_bits,
            clock,
            expire_cursor: AtomicUsize::new(0),
            volatile: (0..databases << shard_bits)
                .map(|_| AtomicBool::new(false))
                .collect(),
            limits: crate::limits::Limits::default(),
            snapshots: Default::default(),
        }
    }

    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    pub fn shards_per_db(&self) -> usize {
        1 << self.shard_bits
    }

    /// The key's 64-bit hash; also its SCAN position.
    pub fn hash(&self, key: &[u8]) -> u64 {
        GLOBAL_HASHER.hash_one(key)
    }

    fn shard_of_hash(&self, h: u64) -> u32 {
        (h >> (64 - self.shard_bits)) as u32
    }

    /// The shard holding `key` in database `db`.
    pub fn slot(&self, db: usize, key: &[u8]) -> Slot {
        (db as u32, self.shard_of_hash(self.hash(key)))
    }

    /// Locks the given slots in ascending order (duplicates allowed).
    pub fn lock(&self, mut slots: SmallVec<[Slot; 4]>) -> Locked<'_> {
        if let [(db, sh)] = slots[..] {
            // The common single-key case.
            let mut guards = Guards::new();
            guards.push((
                db,
                sh,
                lock_counted(&self.dbs[db as usize].shards[sh as usize]),
            ));
            return self.locked(guards);
        }
        slots.sort_unstable();
        slots.dedup();
        let guards = slots
            .into_iter()
            .map(|(db, sh)| {
                (
                    db,
                    sh,
                    lock_counted(&self.dbs[db as usize].shards[sh as usize]),
                )
            })
            .collect();
        self.locked(guards)
    }

    /// Locks every shard of the given databases (ascending, deduplicated).
    pub fn lock_dbs(&self, dbs: &[usize]) -> Locked<'_> {
        let mut dbs: SmallVec<[usize; 4]> = dbs.iter().copied().collect();
        dbs.sort_unstable();
        dbs.dedup();
        let mut guards = SmallVec::new();
        for db in dbs {
            for (i, sh) in self.dbs[db].shards.iter().enumerate() {
                guards.push((db as u32, i as u32, lock_counted(sh)));
            }
        }
        self.locked(guards)
    }

    /// Locks the whole keyspace.
    pub fn lock_all(&self) -> Locked<'_> {
        let all: Vec<usize> = (0..self.dbs.len()).collect();
        self.lock_dbs(&all)
    }

    /// A view holding no locks (for commands that do not touch keys).
    pub fn lock_none(&self) -> Locked<'_> {
        self.locked(SmallVec::new())
    }

    /// Notes that shard `sh` of `db` may hold keys with a deadline (call it
    /// holding the shard's lock, after adding one).
    fn mark_volatile(&self, db: usize, sh: usize) {
        let f = &self.volatile[(db << self.shard_bits) + sh];
        if !f.load(Ordering::Relaxed) {
            f.store(true, Ordering::Relaxed);
        }
    }

    /// The mutex of one shard.
    pub(crate) fn shard_mutex(&self, db: usize, shard: usize) -> &Mutex<Shard> {
        &self.dbs[db].shards[shard]
    }

    fn locked<'a>(&'a self, guards: Guards<'a>) -> Locked<'a> {
        // Which side of a running snapshot's cut this command is on is
        // decided here, with every lock it needs held (snapshot.rs).
        let latch = self.snapshots.latch();
        Locked {
            store: self,
            guards,
            snap: latch.active,
            epoch: latch.epoch,
            now: self.clock.now_ms(),
            expired: Vec::new(),
            ready: Vec::new(),
            touched: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Number of keys in `db`, read shard by shard. Exact when nothing else
    /// runs; under concurrent writes it is a moment-by-moment sum, as INFO's is.
    pub fn approx_len(&self, db: usize) -> (usize, usize) {
        let mut keys = 0;
        let mut volatile = 0;
        for sh in self.dbs[db].shards.iter() {
            let g = sh.lock();
            keys += g.len();
            volatile += g.volatile_len();
        }
        (keys, volatile)
    }

    /// Like [`Store::approx_len`] but never waits: shards another thread
    /// holds are skipped and the sum is scaled up (keys spread evenly over
    /// shards). For size hints taken by background work (BGSAVE's RESIZEDB).
    pub fn estimated_len(&self, db: usize) -> (usize, usize) {
        let (mut keys, mut volatile, mut seen) = (0, 0, 0);
        for sh in self.dbs[db].shards.iter() {
            if let Some(g) = sh.try_lock() {
                keys += g.len();
                volatile += g.volatile_len();
                seen += 1;
            }
        }
        let n = self.shards_per_db();
        if seen == 0 {
            return (0, 0);
        }
        (keys * n / seen, volatile * n / seen)
    }

    /// Sums every shard's counters.
    pub fn stats(&self) -> ShardStats {
        let mut s = ShardStats::default();
        for db in self.dbs.iter() {
            for sh in db.shards.iter() {
                let g = sh.lock();
                s.hits += g.stats.hits;
                s.misses += g.stats.misses;
                s.expired += g.stats.expired;
                s.locks += g.stats.locks;
                s.contended += g.stats.contended;
            }
        }
        s
    }

    /// Resets the counters INFO reports (CONFIG RESETSTAT).
    pub fn reset_stats(&self) {
        for db in self.dbs.iter() {
            for sh in db.shards.iter() {
                sh.lock().stats = ShardStats::default();
            }
        }
    }

    /// One active-expiry cycle, as Redis's `activeExpireCycle`: visit shards
    /// round-robin, sample up to 20 volatile keys per round, delete the stale
    /// ones, and sample the same shard again while more than a quarter of a
    /// sample was stale; stop when `budget` is spent. Each deleted key is
    /// passed to `on_expired` while its shard is still locked, so the deletion
    /// and its propagation stay in the same order as other writes to that key,
    /// with the snapshot epoch the deletion is ordered after (as
    /// [`Locked::epoch`]).
    /// Returns the number of keys deleted.
    pub fn active_expire_cycle(
        &self,
        budget: Duration,
        on_expired: &mut dyn FnMut(usize, &Key, u64),
    ) -> usize {
        const SAMPLE: usize = 20;
        let start = Instant::now();
        let per_db = self.shards_per_db();
        let total = self.dbs.len() * per_db;
        let mut deleted = 0;
        let mut rng = rand::thread_rng();
        let first = self.expire_cursor.load(Ordering::Relaxed) % total;
        let mut visited = 0;
        while visited < total {
            let idx = (first + visited) % total;
            visited += 1;
            let (db, sh) = (idx / per_db, idx % per_db);
            if !self.volatile[idx].load(Ordering::Relaxed) {
                continue;
            }
            // Only stale keys are deleted here: a running snapshot need not
            // capture them (snapshot.rs).
            let mut shard = self.dbs[db].shards[sh].lock();
            if shard.expires.is_empty() {
                self.volatile[idx].store(false, Ordering::Relaxed);
                continue;
            }
            let epoch = self.snapshots.latch().epoch;
            loop {
                if shard.expires.is_empty() {
                    break;
                }
                let now = self.clock.now_ms();
                let mut stale = 0;
                let n = shard.expires.len().min(SAMPLE);
                for _ in 0..n {
                    if shard.expires.is_empty() {
                        break;
                    }
                    let i = rng.gen_range(0..shard.expires.len());
                    let (key, &when) = shard.expires.get_index(i).expect("index in range");
                    if now > when {
                        let key = key.clone();
                        let h = self.hash(&key);
                        remove_from(&mut shard, h, &key);
                        shard.stats.expired += 1;
                        on_expired(db, &key, epoch);
                        stale += 1;
                    }
                }
                deleted += stale;
                if stale * 4 <= n || start.elapsed() >= budget {
                    break;
                }
            }
            drop(shard);
            if start.elapsed() >= budget {
                break;
            }
        }
        self.expire_cursor
            .store((first + visited) % total, Ordering::Relaxed);
        deleted
    }
}

/// Locks a shard for a command, counting the acquisition and whether it
/// had to wait.
#[inline]
fn lock_counted(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    let mut g = match m.try_lock() {
        Some(g) => g,
        None => {
            let mut g = m.lock();
            g.stats.contended += 1;
            g
        }
    };
    g.stats.locks += 1;
    g
}

/// Hash used inside a shard's table. The shard was chosen by the top bits of
/// the key hash, so those bits are the same for every key in the shard; the
/// multiplication spreads the varying low bits over the whole word, which the
/// table needs both for its bucket index (low bits) and its tag (top bits).
#[inline]
fn table_hash(h: u64) -> u64 {
    h.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn remove_from(shard: &mut Shard, h: u64, key: &[u8]) -> Option<Entry> {
    match shard
        .table
        .find_entry(table_hash(h), |e| e.key.as_bytes() == key)
    {
        Ok(occ) => {
            let (entry, _) = occ.remove();
            if entry.has_expire {
                shard.expires.swap_remove(key);
            }
            Some(*entry)
        }
        Err(_) => None,
    }
}

type Guards<'a> = SmallVec<[(u32, u32, MutexGuard<'a, Shard>); 4]>;

/// The shards a command holds, and the operations it may perform on the keys
/// in them. Dropping it releases every lock.
pub struct Locked<'a> {
    store: &'a Store,
    guards: Guards<'a>,
    /// The snapshot running when the view was created: keys are captured
    /// before they change (snapshot.rs).
    snap: Option<Arc<Active>>,
    /// The snapshot epoch the view latched; inserted keys are born with its
    /// parity as their mark.
    epoch: u64,
    /// The time the command runs at, fixed for its whole duration as in Redis,
    /// so that a key cannot expire halfway through a command.
    pub now: i64,
    /// Keys deleted by lazy expiry while this view was held, for propagation
    /// and notifications.
    pub expired: Vec<(usize, Key)>,
    /// Keys written while this view was held that have blocked clients
    /// waiting on them; the dispatcher serves those clients before it
    /// releases the locks.
    pub ready: Vec<(usize, Key)>,
    /// Keys a command reported as modified (Redis's signalModifiedKey), for
    /// WATCH and client-side caching; filled only while someone observes.
    pub touched: Vec<(usize, Key)>,
    /// Keyspace events a command raised (Redis's notifyKeyspaceEvent), for
    /// keyspace notifications; filled only for enabled event classes.
    pub events: Vec<KeyEvent>,
}

/// One keyspace event: its class bit, its name (`set`, `lpush`, ...), and key.
#[derive(Debug, Clone)]
pub struct KeyEvent {
    pub class: u32,
    pub event: &'static str,
    pub db: usize,
    pub key: Key,
}

impl<'a> Locked<'a> {
    pub fn store(&self) -> &'a Store {
        self.store
    }

    /// The snapshot epoch this view is ordered after: views created before
    /// a snapshot's cut report an older epoch than the snapshot's, views
    /// created after it report its epoch or a newer one. Propagated writes
    /// carry it so the AOF rewrite can tell which side of its base they are.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Lets a running snapshot capture `key` before it changes.
    #[inline]
    fn before_change(&mut self, db: usize, h: u64, key: &[u8]) {
        if let Some(active) = self.snap.clone() {
            let shard = self.shard_mut(db, h);
            active.capture_key(db, shard, table_hash(h), key);
        }
    }

    /// Lets a running snapshot capture the locked shards of `db` whole before
    /// the command replaces them.
    fn before_db_change(&mut self, db: usize) {
        if let Some(active) = self.snap.clone() {
            for s in self.db_guards(db) {
                active.capture_shard(db, s);
            }
        }
    }

    /// True when the view holds the shard of `key` in `db`.
    pub fn holds(&self, db: usize, key: &[u8]) -> bool {
        let (d, s) = self.store.slot(db, key);
        self.guard_index(d, s).is_some()
    }

    #[inline]
    fn guard_index(&self, db: u32, shard: u32) -> Option<usize> {
        if let [(d, s, _)] = &self.guards[..] {
            return (*d == db && *s == shard).then_some(0);
        }
        if self.guards.len() <= 8 {
            self.guards
                .iter()
                .position(|(d, s, _)| *d == db && *s == shard)
        } else {
            self.guards
                .binary_search_by(|(d, s, _)| (*d, *s).cmp(&(db, shard)))
                .ok()
        }
    }

    /// The locked shard for a key hash. Touching a key whose shard the command
    /// did not lock is a bug in the command's key declaration: fail loudly
    /// rather than race.
    fn shard_mut(&mut self, db: usize, h: u64) -> &mut Shard {
        let sh = self.store.shard_of_hash(h);
        let i = self
            .guard_index(db as u32, sh)
            .unwrap_or_else(|| panic!("shard {sh} of db {db} accessed without its lock"));
        &mut self.guards[i].2
    }

    /// Looks a key up for writing or inspection, deleting it first if its
    /// deadline has passed. Does not count a hit or a miss.
    pub fn get(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let h = self.store.hash(key);
        self.note_write(db, h, key);
        self.before_change(db, h, key);
        self.lookup_hashed(db, key, h, false)
    }

    /// Records that `key` may have changed, if clients are blocked on it.
    /// Costs one emptiness check in the common case of no blocked clients.
    fn note_write(&mut self, db: usize, h: u64, key: &[u8]) {
        let shard = self.shard_mut(db, h);
        if shard.blocked.is_empty() || !shard.blocked.contains_key(key) {
            return;
        }
        if !self
            .ready
            .iter()
            .any(|(d, k)| *d == db && k.as_bytes() == key)
        {
            self.ready.push((db, Key::new(key)));
        }
    }

    /// Queues waiter `id` on `key` (at the back: first come, first served).
    pub fn add_waiter(&mut self, db: usize, key: &[u8], id: u64) {
        let h = self.store.hash(key);
        self.shard_mut(db, h)
            .blocked
            .entry(Key::new(key))
            .or_default()
            .push_back(id);
    }

    /// Removes waiter `id` from `key`'s queue, if it is there.
    pub fn remove_waiter(&mut self, db: usize, key: &[u8], id: u64) {
        let h = self.store.hash(key);
        let shard = self.shard_mut(db, h);
        if let Some(q) = shard.blocked.get_mut(key) {
            q.retain(|&w| w != id);
            if q.is_empty() {
                shard.blocked.remove(key);
            }
        }
    }

    /// The waiters queued on `key`, in the order they are to be served.
    pub fn waiters(&mut self, db: usize, key: &[u8]) -> Vec<u64> {
        let h = self.store.hash(key);
        self.shard_mut(db, h)
            .blocked
            .get(key)
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Looks a key up for reading: counts a keyspace hit or miss and updates
    /// the key's access time, as Redis's lookupKeyRead.
    pub fn get_read(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        self.lookup(db, key, true).map(|e| &*e)
    }

    /// [`Locked::get_read`] for reads that reshape a value's representation
    /// without changing what it holds (SORT converting a listpack sorted set,
    /// read paths of types whose readers take `&mut`). A running snapshot
    /// does not capture the key first, so the contents must not change.
    pub fn get_read_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(db, key, true)
    }

    /// True when a live key exists.
    pub fn contains(&mut self, db: usize, key: &[u8]) -> bool {
        self.lookup(db, key, false).is_some()
    }

    fn lookup(&mut self, db: usize, key: &[u8], read: bool) -> Option<&mut Entry> {
        let h = self.store.hash(key);
        self.lookup_hashed(db, key, h, read)
    }

    fn lookup_hashed(&mut self, db: usize, key: &[u8], h: u64, read: bool) -> Option<&mut Entry> {
        let now = self.now;
        let th = table_hash(h);
        let shard = self.shard_mut(db, h);
        let expired = match shard.table.find(th, |e| e.key.as_bytes() == key) {
            None => {
                if read {
                    shard.stats.misses += 1;
                }
                return None;
            }
            Some(e) => e.has_expire && shard.expires.get(key).is_some_and(|&when| now > when),
        };
        if expired {
            let entry = remove_from(shard, h, key).expect("entry just found");
            shard.stats.expired += 1;
            if read {
                shard.stats.misses += 1;
            }
            self.expired.push((db, entry.key));
            return None;
        }
        let shard = self.shard_mut(db, h);
        if read {
            shard.stats.hits += 1;
        }
        let e = shard
            .table
            .find_mut(th, |e| e.key.as_bytes() == key)
            .expect("entry just found");
        if read {
            e.lru = lru_clock(now);
        }
        Some(&mut **e)
    }

    /// Looks a key up without side effects on its access time or the
    /// counters (OBJECT, TYPE-free inspection); still honours expiry.
    pub fn peek(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        self.lookup(db, key, false).map(|e| &*e)
    }

    /// Stores `value` under `key`, replacing any previous value. Keeps the old
    /// deadline when `keep_ttl` is set, otherwise the key becomes persistent.
    /// Returns the previous value, if a live one existed.
    pub fn set(&mut self, db: usize, key: &[u8], value: Value, keep_ttl: bool) -> Option<Value> {
        // Resolve a stale previous entry first, so it is reported as expired
        // rather than silently overwritten.
        let h = self.store.hash(key);
        self.note_write(db, h, key);
        self.before_change(db, h, key);
        self.lookup_hashed(db, key, h, false);
        let now = self.now;
        let mark = self.epoch & 1 == 1;
        let shard = self.shard_mut(db, h);
        let th = table_hash(h);
        if shard.table.len() == shard.table.capacity() {
            // The insertion path may grow or rehash the table.
            shard.moves += 1;
        }
        match shard.table.entry(
            th,
            |e| e.key.as_bytes() == key,
            |e| table_hash(hash_with(&e.key)),
        ) {
            TableEntry::Occupied(mut occ) => {
                let e = occ.get_mut();
                let old = std::mem::replace(&mut e.value, value);
                e.lru = lru_clock(now);
                if e.has_expire && !keep_ttl {
                    e.has_expire = false;
                    shard.expires.swap_remove(key);
                }
                Some(old)
            }
            TableEntry::Vacant(vac) => {
                vac.insert(Box::new(Entry {
                    key: Key::new(key),
                    value,
                    lru: lru_clock(now),
                    has_expire: false,
                    snap: mark,
                }));
                None
            }
        }
    }

    /// Inserts a key with an optional deadline, replacing any previous value
    /// and deadline. Returns the previous live value.
    pub fn set_with_expire(
        &mut self,
        db: usize,
        key: &[u8],
        value: Value,
        expire_at: Option<i64>,
    ) -> Option<Value> {
        let old = self.set(db, key, value, false);
        if let Some(at) = expire_at {
            self.set_expire(db, key, at);
        }
        old
    }

    /// Deletes a key; returns its entry if it was live.
    pub fn remove(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        let h = self.store.hash(key);
        self.lookup_hashed(db, key, h, false)?;
        self.before_change(db, h, key);
        let shard = self.shard_mut(db, h);
        remove_from(shard, h, key)
    }

    /// The deadline of a live key, or None if it has none. Callers check that
    /// the key exists first.
    pub fn expire_at(&mut self, db: usize, key: &[u8]) -> Option<i64> {
        let has = self.lookup(db, key, false)?.has_expire;
        if !has {
            return None;
        }
        let h = self.store.hash(key);
        self.shard_mut(db, h).expires.get(key).copied()
    }

    /// Sets the deadline of a live key; false if the key does not exist.
    pub fn set_expire(&mut self, db: usize, key: &[u8], at: i64) -> bool {
        let h = self.store.hash(key);
        self.before_change(db, h, key);
        let Some(e) = self.lookup_hashed(db, key, h, false) else {
            return false;
        };
        e.has_expire = true;
        let k = e.key.clone();
        self.shard_mut(db, h).expires.insert(k, at);
        self.store
            .mark_volatile(db, self.store.shard_of_hash(h) as usize);
        true
    }

    /// Removes the deadline of a live key; true if it had one.
    pub fn persist(&mut self, db: usize, key: &[u8]) -> bool {
        let h = self.store.hash(key);
        self.before_change(db, h, key);
        let Some(e) = self.lookup_hashed(db, key, h, false) else {
            return false;
        };
        if !e.has_expire {
            return false;
        }
        e.has_expire = false;
        self.shard_mut(db, h).expires.swap_remove(key);
        true
    }

    /// Guards of `db`, in shard order; used by whole-database operations.
    fn db_guards(&mut self, db: usize) -> impl Iterator<Item = &mut Shard> + use<'_, 'a> {
        self.guards
            .iter_mut()
            .filter(move |(d, _, _)| *d as usize == db)
            .map(|(_, _, g)| &mut **g)
    }

    fn assert_whole_db(&self, db: usize) {
        let n = self
            .guards
            .iter()
            .filter(|(d, _, _)| *d as usize == db)
            .count();
        assert_eq!(
            n,
            self.store.shards_per_db(),
            "whole-database operation on db {db} without all its shards locked"
        );
    }

    /// Number of keys in `db`, including keys whose deadline passed but that
    /// no access has removed yet (as Redis's DBSIZE). Needs the whole db.
    pub fn db_len(&mut self, db: usize) -> usize {
        self.assert_whole_db(db);
        self.db_guards(db).map(|s| s.len()).sum()
    }

    /// Number of keys with a deadline in `db`. Needs the whole db.
    pub fn db_volatile_len(&mut self, db: usize) -> usize {
        self.assert_whole_db(db);
        self.db_guards(db).map(|s| s.volatile_len()).sum()
    }

    /// Deletes every key of `db`; returns how many there were.
    pub fn clear_db(&mut self, db: usize) -> usize {
        self.assert_whole_db(db);
        self.before_db_change(db);
        let mut n = 0;
        for s in self.db_guards(db) {
            n += s.table.len();
            s.table = HashTable::new();
            s.expires = IndexMap::default();
        }
        n
    }

    /// Exchanges the contents of two databases (SWAPDB). Needs both whole.
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        self.assert_whole_db(a);
        self.assert_whole_db(b);
        self.before_db_change(a);
        self.before_db_change(b);
        let per = self.store.shards_per_db();
        let ia = self
            .guards
            .iter()
            .position(|(d, _, _)| *d as usize == a)
            .unwrap();
        let ib = self
            .guards
            .iter()
            .position(|(d, _, _)| *d as usize == b)
            .unwrap();
        for i in 0..per {
            let (x, y) = (ia + i, ib + i);
            let (lo, hi) = if x < y { (x, y) } else { (y, x) };
            let (left, right) = self.guards.split_at_mut(hi);
            let sa: &mut Shard = &mut left[lo].2;
            let sb: &mut Shard = &mut right[0].2;
            // Counters describe the shard's history, not its contents: keep them.
            std::mem::swap(&mut sa.table, &mut sb.table);
            std::mem::swap(&mut sa.expires, &mut sb.expires);
        }
        for i in 0..per {
            self.store.mark_volatile(a, i);
            self.store.mark_volatile(b, i);
        }
    }

    /// Live keys of `db` in every locked shard of it, stale ones skipped (not
    /// deleted: KEYS does not delete in Redis either unless it touches them).
    pub fn for_each_key(&mut self, db: usize, mut f: impl FnMut(&Key)) {
        let now = self.now;
        for s in self.db_guards(db) {
            for e in s.table.iter() {
                if e.has_expire && s.expires.get(&e.key).is_some_and(|&w| now > w) {
                    continue;
                }
                f(&e.key);
            }
        }
    }

    /// Every live entry of `db` in the locked shards, with its deadline
    /// (Unix ms), stale ones skipped: what a snapshot (SAVE, BGSAVE, the AOF
    /// preamble) writes. Nothing is modified, not even access times.
    pub fn for_each_entry(&mut self, db: usize, mut f: impl FnMut(&Entry, Option<i64>)) {
        let now = self.now;
        for s in self.db_guards(db) {
            for e in s.table.iter() {
                let deadline = if e.has_expire {
                    s.expires.get(&e.key).copied()
                } else {
                    None
                };
                if deadline.is_some_and(|w| now > w) {
                    continue;
                }
                f(e, deadline);
            }
        }
    }

    /// One SCAN step over `db`: returns keys whose hash is at least `cursor`,
    /// in hash order, until at least `count` have been visited, and the cursor
    /// to continue from (0 when the whole hash space has been covered).
    ///
    /// The cursor is a position in the 64-bit hash space, so a key present for
    /// the whole iteration is returned exactly once however the tables grow.
    /// Stale keys are skipped. Needs the whole db.
    pub fn scan(&mut self, db: usize, cursor: u64, count: usize, f: impl FnMut(&Key)) -> u64 {
        self.scan_impl(db, cursor, count, true, f)
    }

    /// Like [`Locked::scan`], but stale keys (past their deadline, not yet
    /// deleted) are passed to `f` too: Redis's SCAN looks each candidate up
    /// after MATCH, which expires it lazily, and its TYPE filter sees such a
    /// key as `none`. The caller decides what to do with them.
    pub fn scan_with_stale(
        &mut self,
        db: usize,
        cursor: u64,
        count: usize,
        f: impl FnMut(&Key),
    ) -> u64 {
        self.scan_impl(db, cursor, count, false, f)
    }

    fn scan_impl(
        &mut self,
        db: usize,
        cursor: u64,
        count: usize,
        live_only: bool,
        mut f: impl FnMut(&Key),
    ) -> u64 {
        self.assert_whole_db(db);
        let count = count.max(1);
        let store = self.store;
        let now = self.now;
        let first_shard = store.shard_of_hash(cursor) as usize;
        let mut visited = 0usize;
        let mut batch: Vec<(u64, &Key)> = Vec::new();
        let shards: Vec<&mut Shard> = self.db_guards(db).collect();
        let nshards = shards.len();
        let shards: Vec<&Shard> = shards.into_iter().map(|s| &*s).collect();
        for (si, s) in shards.iter().enumerate().take(nshards).skip(first_shard) {
            batch.clear();
            for e in s.table.iter() {
                let h = store.hash(&e.key);
                if h < cursor {
                    continue;
                }
                batch.push((h, &e.key));
            }
            let need = count - visited;
            if batch.len() > need {
                // Take the `need` smallest hashes, plus any key sharing the
                // last hash so that equal positions are never split.
                batch.select_nth_unstable_by_key(need - 1, |(h, _)| *h);
                let limit = batch[need - 1].0;
                batch.retain(|(h, _)| *h <= limit);
                for (_, k) in &batch {
                    if !live_only || is_live(s, k, now) {
                        f(k);
                    }
                }
                return limit.wrapping_add(1);
            }
            visited += batch.len();
            for (_, k) in &batch {
                if !live_only || is_live(s, k, now) {
                    f(k);
                }
            }
            if visited >= count {
                return if si + 1 == nshards {
                    0
                } else {
                    ((si + 1) as u64) << (64 - store.shard_bits)
                };
            }
        }
        0
    }

    /// A uniformly random live key of `db`, or None when it is empty. Stale
    /// keys met on the way are deleted, as Redis's RANDOMKEY does. Needs the
    /// whole db.
    pub fn random_key(&mut self, db: usize) -> Option<Key> {
        self.assert_whole_db(db);
        let mut rng = rand::thread_rng();
        loop {
            let total: usize = self.db_guards(db).map(|s| s.len()).sum();
            if total == 0 {
                return None;
            }
            let mut pick = rng.gen_range(0..total);
            let mut found = None;
            for s in self.db_guards(db) {
                if pick < s.len() {
                    found = s.table.iter().nth(pick).map(|e| e.key.clone());
                    break;
                }
                pick -= s.len();
            }
            let key = found?;
            if self.lookup(db, &key, false).is_some() {
                return Some(key);
            }
        }
    }
}

fn is_live(s: &Shard, k: &Key, now: i64) -> bool {
    match s.expires.get(k) {
        Some(&w) => now <= w,
        None => true,
    }
}

/// Rehashing during table growth needs the key hash without access to the
/// store, so the hasher (randomly seeded once) is process-wide.
fn hash_with(key: &Key) -> u64 {
    GLOBAL_HASHER.hash_one(key.as_bytes())
}

static GLOBAL_HASHER: std::sync::LazyLock<DefaultHashBuilder> =
    std::sync::LazyLock::new(DefaultHashBuilder::default);

impl Locked<'_> {
    /// Looks a key up for reading without updating its access time, counting
    /// a keyspace hit or miss: what Redis's LOOKUP_NOTOUCH reads do (EXISTS,
    /// TYPE, TTL, OBJECT, SCAN's TYPE filter), so that inspecting a key does
    /// not make it look recently used to eviction or OBJECT IDLETIME.
    pub fn get_read_notouch(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        let found = self.lookup(db, key, false).is_some();
        let h = self.store.hash(key);
        let shard = self.shard_mut(db, h);
        if !found {
            shard.stats.misses += 1;
            return None;
        }
        shard.stats.hits += 1;
        shard
            .table
            .find(table_hash(h), |e| e.key.as_bytes() == key)
            .map(|e| &**e)
    }
}

impl Locked<'_> {
    /// Shared references to several entries at once, for commands that read
    /// many keys together (SINTER, SUNION, SDIFF, ...). Each key is first
    /// looked up as [`Locked::get_read`] does (expiry, hit or miss, access
    /// time), once per occurrence, as Redis looks each argument up.
    pub fn read_entries<'s>(&'s mut self, db: usize, keys: &[&[u8]]) -> Vec<Option<&'s Entry>> {
        for k in keys {
            self.lookup(db, k, true);
        }
        let this: &'s Self = self;
        keys.iter()
            .map(|k| {
                let h = this.store.hash(k);
                let sh = this.store.shard_of_hash(h);
                let i = this
                    .guard_index(db as u32, sh)
                    .unwrap_or_else(|| panic!("shard {sh} of db {db} accessed without its lock"));
                this.guards[i]
                    .2
                    .table
                    .find(table_hash(h), |e| e.key.as_bytes() == *k)
                    .map(|e| &**e)
            })
            .collect()
    }
}

impl Locked<'_> {
    /// Whether `key` is in `db`'s table, without side effects: None when it
    /// is absent, `Some(true)` when present but past its deadline (stale, not
    /// yet deleted), `Some(false)` when live. WATCH needs this distinction
    /// (Redis's keyIsExpired): a key stale when watched, then deleted by
    /// expiry, is no change; one that goes stale after WATCH is. The shard
    /// must be held.
    pub fn key_state(&self, db: usize, key: &[u8]) -> Option<bool> {
        let h = self.store.hash(key);
        let sh = self.store.shard_of_hash(h);
        let i = self
            .guard_index(db as u32, sh)
            .unwrap_or_else(|| panic!("shard {sh} of db {db} accessed without its lock"));
        let shard = &self.guards[i].2;
        let e = shard
            .table
            .find(table_hash(h), |e| e.key.as_bytes() == key)?;
        Some(e.has_expire && shard.expires.get(key).is_some_and(|&when| self.now > when))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_is_compact() {
        // One 48-byte allocation per key (a jemalloc size class): key inline
        // (24), value (16), access time and flags.
        assert_eq!(std::mem::size_of::<Entry>(), 48);
    }
}
