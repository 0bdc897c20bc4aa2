//! State shared by every connection.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use dashmap::DashMap;
use storage::{Clock, Store};

use crate::client::ClientInfo;
use crate::config::{Config, Values};
use crate::registry::{registry, Registry};

/// Server-wide counters for INFO stats.
#[derive(Debug, Default)]
pub struct Stats {
    pub total_connections_received: AtomicU64,
    /// Bumped by every command on every thread: striped (crate::counter).
    pub total_commands_processed: crate::counter::Counter,
    pub rejected_connections: AtomicU64,
    pub total_net_input_bytes: crate::counter::Counter,
    pub total_net_output_bytes: crate::counter::Counter,
    pub total_error_replies: AtomicU64,
    pub unexpected_error_replies: AtomicU64,
    /// Changes to the dataset since start (striped: every write bumps it);
    /// `rdb_changes_since_last_save` is this minus `dirty_saved`.
    pub dirty: crate::counter::Counter,
    /// `dirty` as of the data in the last successful save.
    pub dirty_saved: AtomicU64,
    pub expired_keys_active: AtomicU64,
    /// Error replies by error code (`ERR`, `WRONGTYPE`, ...), for INFO
    /// errorstats; ordered by code as Redis lists them.
    pub errors: parking_lot::Mutex<std::collections::BTreeMap<String, u64>>,
    /// Highest `used_memory` INFO has seen (`used_memory_peak`).
    pub peak_memory: AtomicU64,
    /// INFO's instantaneous_* rates.
    pub instant: Instantaneous,
}

/// Redis's instantaneous metrics: every 100 ms the cron samples the rate of
/// commands and of bytes in and out since the previous sample; INFO shows
/// the mean of the last 16 samples (`trackInstantaneousMetric`).
#[derive(Debug, Default)]
pub struct Instantaneous {
    inner: parking_lot::Mutex<InstantSamples>,
}

#[derive(Debug, Default)]
struct InstantSamples {
    last_ms: i64,
    last: [u64; 3],
    rates: [[f64; 16]; 3],
    next: usize,
}

/// What [`Instantaneous`] tracks.
#[derive(Debug, Clone, Copy)]
pub enum Metric {
    Commands = 0,
    NetInput = 1,
    NetOutput = 2,
}

impl Instantaneous {
    /// Takes a sample if 100 ms have passed since the last one.
    pub fn sample(&self, now_ms: i64, commands: u64, net_in: u64, net_out: u64) {
        let mut s = self.inner.lock();
        let values = [commands, net_in, net_out];
        if s.last_ms == 0 {
            s.last_ms = now_ms;
            s.last = values;
            return;
        }
        let elapsed = now_ms - s.last_ms;
        if elapsed < 100 {
            return;
        }
        let i = s.next;
        let last = s.last;
        for ((rates, now), before) in s.rates.iter_mut().zip(values).zip(last) {
            rates[i] = now.saturating_sub(before) as f64 * 1000.0 / elapsed as f64;
        }
        s.next = (i + 1) % 16;
        s.last_ms = now_ms;
        s.last = values;
    }

    /// Mean per second over the last 16 samples.
    pub fn get(&self, m: Metric) -> f64 {
        let s = self.inner.lock();
        s.rates[m as usize].iter().sum::<f64>() / 16.0
    }
}

/// Redis stops tracking new error codes past this many distinct ones, so a
/// client inventing error texts cannot grow the table without bound.
const MAX_ERROR_CODES: usize = 128;

impl Stats {
    /// Counts an error reply under its code (the text before the first
    /// space) for INFO errorstats; other replies are ignored.
    pub fn count_error(&self, reply: &resp::Reply) {
        if let resp::Reply::Error(text) = reply {
            self.count_error_code(&String::from_utf8_lossy(text.code()));
        }
    }

    /// Counts one error reply with the given code.
    pub fn count_error_code(&self, code: &str) {
        let mut errors = self.errors.lock();
        if let Some(n) = errors.get_mut(code) {
            *n += 1;
        } else if errors.len() < MAX_ERROR_CODES {
            errors.insert(code.to_string(), 1);
        }
    }
}

impl Stats {
    /// Changes not in the last save (`rdb_changes_since_last_save`).
    pub fn changes_since_save(&self) -> u64 {
        self.dirty
            .get()
            .saturating_sub(self.dirty_saved.load(Ordering::Relaxed))
    }

    /// A save holding the changes up to `dirty_total` (a `dirty.get()`
    /// taken when its data was captured) succeeded.
    pub fn mark_saved(&self, dirty_total: u64) {
        self.dirty_saved.fetch_max(dirty_total, Ordering::Relaxed);
    }

    /// CONFIG RESETSTAT: clears what Redis clears.
    pub fn reset(&self) {
        for c in [
            &self.total_connections_received,
            &self.rejected_connections,
            &self.total_error_replies,
            &self.unexpected_error_replies,
            &self.expired_keys_active,
            &self.peak_memory,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.errors.lock().clear();
        self.total_commands_processed.reset();
        self.total_net_input_bytes.reset();
        self.total_net_output_bytes.reset();
    }
}

/// Allocator figures for INFO memory, supplied by the binary that owns the
/// allocator.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemoryStats {
    pub allocated: u64,
    pub resident: u64,
    pub active: u64,
    pub peak_allocated: u64,
}

/// Why and how the server should stop.
#[derive(Debug, Default)]
pub struct Shutdown {
    requested: AtomicBool,
    notify: tokio::sync::Notify,
}

impl Shutdown {
    pub fn request(&self) {
        self.requested.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::Acquire)
    }

    /// Resolves once shutdown has been requested.
    pub async fn wait(&self) {
        loop {
            let n = self.notify.notified();
            if self.is_requested() {
                return;
            }
            n.await;
        }
    }
}

/// Everything shared by all connections.
pub struct Server {
    pub store: Store,
    pub config: Config,
    pub clients: DashMap<u64, Arc<ClientInfo>>,
    next_client_id: AtomicU64,
    pub stats: Stats,
    pub registry: &'static Registry,
    pub started: Instant,
    pub start_ms: i64,
    /// 40 hex characters, new on every start, as Redis's run_id.
    pub run_id: String,
    /// The replication id INFO reports (`master_replid`): 40 hex characters,
    /// new on every start and distinct from the run id, as in Redis.
    pub replid: String,
    pub shutdown: Shutdown,
    /// Unix time of the last successful save (LASTSAVE); start time until then.
    pub last_save: AtomicI64,
    /// RDB save and load figures (INFO persistence).
    pub rdb: crate::persistence::RdbState,
    /// The background save (BGSAVE, `save` points).
    pub bgsave: crate::bgsave::Bgsave,
    /// Reads the allocator's figures; set by the binary.
    pub memory: fn() -> MemoryStats,
    /// How many clients observe key modifications (WATCH, CLIENT TRACKING);
    /// while zero, commands record nothing for them.
    pub observers: AtomicU64,
    /// The enabled keyspace event classes (`notify-keyspace-events`).
    pub notify_flags: std::sync::atomic::AtomicU32,
    /// `proto-max-bulk-len`, mirrored for the connections' request parsers,
    /// which check it before every request so that CONFIG SET reaches the
    /// connections already open, as in Redis.
    pub proto_max_bulk_len: AtomicU64,
    /// Clients parked by blocking commands.
    pub blocking: crate::blocking::Blocking,
    /// WATCHed keys and the clients watching them.
    pub watches: crate::multi::Watches,
    /// Bound TCP port (after binding port 0, the real one).
    pub tcp_port: AtomicU64,
    /// Pub/Sub subscriptions and every connection's push queue.
    pub pubsub: crate::pubsub::PubSub,
    /// Client-side caching: tracking clients and the keys they read.
    pub tracking: crate::tracking::Tracking,
    /// The stream of writes for the AOF and replication.
    pub propagation: crate::propagate::Propagation,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("run_id", &self.run_id)
            .finish()
    }
}

impl Server {
    pub fn new(values: Values, file: Option<std::path::PathBuf>, clock: Clock) -> Server {
        let store = Store::new(values.databases, values.shard_bits, clock);
        store.limits.set(values.limits());
        let start_ms = store.clock.now_ms();
        let port = values.port as u64;
        let notify = values.notify_keyspace_events;
        let max_bulk = values.proto_max_bulk_len;
        let run_id: String = {
            use rand::Rng;
            let mut r = rand::thread_rng();
            (0..40)
                .map(|_| char::from_digit(r.gen_range(0..16), 16).unwrap())
                .collect()
        };
        let replid: String = {
            use rand::Rng;
            let mut r = rand::thread_rng();
            (0..40)
                .map(|_| char::from_digit(r.gen_range(0..16), 16).unwrap())
                .collect()
        };
        Server {
            store,
            config: Config::new(values, file),
            clients: DashMap::new(),
            next_client_id: AtomicU64::new(1),
            stats: Stats::default(),
            registry: registry(),
            started: Instant::now(),
            start_ms,
            run_id,
            replid,
            shutdown: Shutdown::default(),
            last_save: AtomicI64::new(start_ms / 1000),
            rdb: Default::default(),
            bgsave: Default::default(),
            memory: MemoryStats::default,
            blocking: Default::default(),
            watches: Default::default(),
            observers: AtomicU64::new(0),
            notify_flags: std::sync::atomic::AtomicU32::new(notify),
            proto_max_bulk_len: AtomicU64::new(max_bulk),
            tcp_port: AtomicU64::new(port),
            pubsub: Default::default(),
            tracking: Default::default(),
            propagation: Default::default(),
        }
    }

    /// True while any client watches keys or tracks them.
    #[inline]
    pub fn observers_active(&self) -> bool {
        self.observers.load(Ordering::Relaxed) > 0
    }

    /// The enabled keyspace event classes.
    #[inline]
    pub fn notify_flags(&self) -> u32 {
        self.notify_flags.load(Ordering::Relaxed)
    }

    /// A fresh client id (monotonic, never reused).
    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Seconds since start.
    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}
