//! BGSAVE: an RDB snapshot written in the background while clients keep
//! reading and writing, without fork.
//!
//! `BGSAVE [SCHEDULE]` marks a save as running and wakes the server's cron
//! task, which starts a `bgsave` thread (the handler only has a borrowed
//! `Server`; the task owns an `Arc`). The thread takes a point-in-time
//! snapshot of the keyspace with [`storage::Store::snapshot`]: shards are
//! serialized one at a time, by the walker or by the first command that locks
//! a shard not yet captured, each into its own buffer of RDB records, which is
//! appended to `temp-bgsave-<pid>.rdb` under a file mutex (a leaf lock: no
//! shard lock is ever taken while holding it). Extra memory is therefore the
//! encoded shards in flight, at most one per thread capturing at that moment,
//! not a copy of the dataset or copy-on-write pages. The file is then
//! fsynced and renamed over `dbfilename`, as SAVE does.
//!
//! The same cron task starts a save when a `save <seconds> <changes>` point
//! is due, as Redis's serverCron does, retrying a failed save after 5 seconds.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use persistence::rdb;
use resp::Reply;
use storage::{ShardView, SnapshotSink};

use crate::command;
use crate::ctx::Ctx;
use crate::error::{err, SYNTAX};
use crate::parse::eq;
use crate::registry::Locking;
use crate::state::Server;

/// Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed save, automatic saves
/// wait this long before trying again.
const RETRY_DELAY_SECS: i64 = 5;

/// Background-save state for BGSAVE, the cron task and INFO persistence.
#[derive(Debug)]
pub struct Bgsave {
    /// A save was requested or is running (`rdb_bgsave_in_progress`). Set by
    /// the requester before the thread starts, so a second BGSAVE sees it.
    in_progress: AtomicBool,
    /// Requested and not yet started by the cron task.
    pending: AtomicBool,
    /// BGSAVE SCHEDULE asked for a save after the running one.
    scheduled: AtomicBool,
    /// Unix ms the running save started (`rdb_current_bgsave_time_sec`).
    started_ms: AtomicI64,
    /// Duration of the last save in seconds (`rdb_last_bgsave_time_sec`).
    last_time_sec: AtomicI64,
    /// Unix seconds of the last attempt, for the retry delay.
    last_try_secs: AtomicI64,
    /// Largest encoded bytes held in memory at once by the last save.
    pub last_peak_in_flight: AtomicU64,
    /// Wakes the cron task when BGSAVE asks for a save.
    pub wake: tokio::sync::Notify,
}

impl Default for Bgsave {
    fn default() -> Self {
        Bgsave {
            in_progress: AtomicBool::new(false),
            pending: AtomicBool::new(false),
            scheduled: AtomicBool::new(false),
            started_ms: AtomicI64::new(0),
            last_time_sec: AtomicI64::new(-1),
            last_try_secs: AtomicI64::new(0),
            last_peak_in_flight: AtomicU64::new(0),
            wake: tokio::sync::Notify::new(),
        }
    }
}

impl Bgsave {
    /// True while a background save is requested or running.
    pub fn in_progress(&self) -> bool {
        self.in_progress.load(Ordering::Acquire)
    }

    /// `rdb_current_bgsave_time_sec`: seconds the running save has taken, or -1.
    pub fn current_secs(&self, now_ms: i64) -> i64 {
        if self.in_progress() {
            (now_ms - self.started_ms.load(Ordering::Relaxed)).max(0) / 1000
        } else {
            -1
        }
    }

    /// `rdb_last_bgsave_time_sec`: seconds the last save took, or -1.
    pub fn last_secs(&self) -> i64 {
        self.last_time_sec.load(Ordering::Relaxed)
    }

    /// Claims the right to run a save; false if one is already running.
    /// The cron task starts it.
    pub fn request(&self) -> bool {
        if self
            .in_progress
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        self.started_ms
            .store(storage::clock::system_now_ms(), Ordering::Relaxed);
        self.pending.store(true, Ordering::Release);
        self.wake.notify_one();
        true
    }
}

command!(
    BGSAVE,
    "Asynchronously saves the database(s) to disk.",
    bgsave,
    Locking::None
);

/// BGSAVE [SCHEDULE]
///
/// Replies `Background saving started` and saves in the background. With a
/// save already running it replies `ERR Background save already in
/// progress`; with SCHEDULE, when another snapshot holds the keyspace (an
/// AOF rewrite using the same mechanism), it replies `Background saving
/// scheduled` and the cron task saves once that ends, as Redis does.
fn bgsave(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let schedule = match args.len() {
        1 => false,
        2 if eq(&args[1], "schedule") => true,
        _ => return err(SYNTAX),
    };
    let b = &ctx.server.bgsave;
    if b.in_progress() {
        return err("ERR Background save already in progress");
    }
    if ctx.server.store.snapshot_in_progress() {
        if schedule {
            b.scheduled.store(true, Ordering::Relaxed);
            b.wake.notify_one();
            return Reply::simple("Background saving scheduled");
        }
        return err("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
    }
    if b.request() {
        Reply::simple("Background saving started")
    } else {
        err("ERR Background save already in progress")
    }
}

/// The cron hook, called `hz` times a second and whenever BGSAVE wakes it:
/// starts a requested save, a scheduled one, or one due by a `save` point.
pub fn cron(server: &Arc<Server>) {
    let b = &server.bgsave;
    if b.pending.swap(false, Ordering::AcqRel) {
        spawn(server.clone());
        return;
    }
    if b.in_progress() || server.store.snapshot_in_progress() {
        return;
    }
    let due = b.scheduled.load(Ordering::Relaxed) || save_point_due(server);
    if due && b.request() {
        b.scheduled.store(false, Ordering::Relaxed);
        b.pending.store(false, Ordering::Relaxed);
        spawn(server.clone());
    }
}

/// Whether a `save <seconds> <changes>` point is due: at least `changes`
/// changes and more than `seconds` since the last save, and the last attempt
/// succeeded or is at least 5 seconds old (Redis's serverCron rule).
fn save_point_due(server: &Server) -> bool {
    let points = server.config.read(|v| v.save_points());
    if points.is_empty() {
        return false;
    }
    let now = storage::clock::system_now_ms() / 1000;
    let dirty = server.stats.dirty.load(Ordering::Relaxed);
    let last_save = server.last_save.load(Ordering::Relaxed);
    let retry_ok = server.rdb.last_save_ok.load(Ordering::Relaxed)
        || now - server.bgsave.last_try_secs.load(Ordering::Relaxed) > RETRY_DELAY_SECS;
    retry_ok
        && points
            .iter()
            .any(|&(secs, changes)| dirty >= changes && now - last_save > secs as i64)
}

/// Starts the saving thread for a save already claimed with
/// [`Bgsave::request`].
fn spawn(server: Arc<Server>) {
    let s = server.clone();
    let started = std::thread::Builder::new()
        .name("bgsave".into())
        .spawn(move || {
            let result = save_snapshot(&s);
            finish(&s, result);
        });
    if let Err(e) = started {
        finish(&server, Err(format!("can't start the save thread: {e}")));
    }
}

/// Records the outcome of a save (INFO persistence, LASTSAVE) and frees the
/// slot for the next one.
fn finish(server: &Server, result: Result<SaveReport, String>) {
    let b = &server.bgsave;
    let now_ms = storage::clock::system_now_ms();
    b.last_time_sec.store(
        (now_ms - b.started_ms.load(Ordering::Relaxed)).max(0) / 1000,
        Ordering::Relaxed,
    );
    b.last_try_secs.store(now_ms / 1000, Ordering::Relaxed);
    match result {
        Ok(r) => {
            // Changes made while saving are not in the file: keep counting them.
            let _ = server
                .stats
                .dirty
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                    Some(d.saturating_sub(r.dirty_at_start))
                });
            server.last_save.store(now_ms / 1000, Ordering::Relaxed);
            server.rdb.saves.fetch_add(1, Ordering::Relaxed);
            server.rdb.last_save_ok.store(true, Ordering::Relaxed);
            b.last_peak_in_flight
                .store(r.peak_in_flight, Ordering::Relaxed);
            tracing::info!(
                "Background saving terminated with success ({} keys, {} bytes, {} of {} shards captured by commands, peak {} bytes in flight)",
                r.report.keys,
                r.bytes,
                r.report.by_commands,
                r.report.shards,
                r.peak_in_flight
            );
        }
        Err(e) => {
            server.rdb.last_save_ok.store(false, Ordering::Relaxed);
            tracing::warn!("Background saving error: {e}");
        }
    }
    b.in_progress.store(false, Ordering::Release);
    // A save scheduled meanwhile starts on the next cron tick.
    b.wake.notify_one();
}

/// What a finished background save did.
#[derive(Debug, Clone, Copy)]
pub struct SaveReport {
    pub report: storage::SnapshotReport,
    /// File size.
    pub bytes: u64,
    /// Largest encoded bytes held in memory at once.
    pub peak_in_flight: u64,
    /// The change counter when the snapshot started.
    pub dirty_at_start: u64,
}

/// Writes a point-in-time snapshot to `dbfilename` in `dir` through a temp
/// file, fsync and rename; blocking. Runs on the `bgsave` thread (tests may
/// call it directly). Does not update INFO: [`cron`]'s thread does.
pub fn save_snapshot(server: &Server) -> Result<SaveReport, String> {
    let path = crate::persistence::rdb_path(server);
    let dir = path.parent().map(PathBuf::from).unwrap_or_default();
    let tmp = dir.join(format!("temp-bgsave-{}.rdb", std::process::id()));
    let result = write_snapshot(server, &tmp, &path, &dir);
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| format!("Failed saving the DB to {}: {e}", path.display()))
}

fn write_snapshot(
    server: &Server,
    tmp: &PathBuf,
    path: &PathBuf,
    dir: &PathBuf,
) -> io::Result<SaveReport> {
    let used = (server.memory)().allocated;
    let file = File::create(tmp)?;
    let mut w = rdb::Writer::new(BufWriter::with_capacity(1 << 20, file));
    w.write_header(&rdb::default_aux(used, false))?;
    let limits = server.store.limits.get();
    let dirty_at_start = server.stats.dirty.load(Ordering::Relaxed);
    let sink = Arc::new(RdbSink {
        out: Mutex::new(Out {
            writer: Some(w),
            error: None,
            bytes: 0,
        }),
        list_fill: limits.list_max_listpack_size,
        stale_before: storage::clock::system_now_ms(),
        in_flight: AtomicU64::new(0),
        peak_in_flight: AtomicU64::new(0),
    });
    let report = server
        .store
        .snapshot(sink.clone())
        .map_err(|e| io::Error::other(e.to_string()))?;
    let (writer, bytes) = {
        let mut out = sink.out.lock();
        if let Some(e) = out.error.take() {
            return Err(e);
        }
        (out.writer.take(), out.bytes)
    };
    let writer = writer.ok_or_else(|| io::Error::other("snapshot writer gone"))?;
    let f = writer.finish()?.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(tmp, path)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(SaveReport {
        report,
        bytes,
        peak_in_flight: sink.peak_in_flight.load(Ordering::Relaxed),
        dirty_at_start,
    })
}

/// The file being written and the first error met.
struct Out {
    writer: Option<rdb::Writer<BufWriter<File>>>,
    error: Option<io::Error>,
    bytes: u64,
}

/// Encodes each captured shard as RDB records (SELECTDB, RESIZEDB with the
/// shard's counts, its keys) into a buffer of its own, then appends the
/// buffer to the file. A database's keys may thus appear under several
/// SELECTDB records, which RDB loaders (Redis's and ours) accept.
struct RdbSink {
    out: Mutex<Out>,
    list_fill: i64,
    /// Keys whose deadline passed before the snapshot started are left out,
    /// as SAVE leaves them out.
    stale_before: i64,
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
}

impl RdbSink {
    fn encode(&self, db: usize, view: ShardView<'_>) -> io::Result<Vec<u8>> {
        let mut w = rdb::Writer::new(Vec::new());
        w.set_list_fill(self.list_fill);
        w.select_db(db, view.len() as u64, view.volatile_len() as u64)?;
        for (key, value, at) in view.iter() {
            if at.is_some_and(|at| at < self.stale_before) {
                continue;
            }
            w.write_entry(key.as_bytes(), value, at)?;
        }
        Ok(w.into_fragment())
    }
}

impl SnapshotSink for RdbSink {
    fn capture(&self, db: usize, _shard: usize, view: ShardView<'_>) {
        if view.is_empty() {
            return;
        }
        let buf = match self.encode(db, view) {
            Ok(b) => b,
            Err(e) => {
                self.out.lock().error.get_or_insert(e);
                return;
            }
        };
        let n = buf.len() as u64;
        let now = self.in_flight.fetch_add(n, Ordering::Relaxed) + n;
        self.peak_in_flight.fetch_max(now, Ordering::Relaxed);
        {
            let mut out = self.out.lock();
            if out.error.is_none() {
                if let Some(w) = out.writer.as_mut() {
                    match w.write_raw(&buf) {
                        Ok(()) => out.bytes += n,
                        Err(e) => out.error = Some(e),
                    }
                }
            }
        }
        self.in_flight.fetch_sub(n, Ordering::Relaxed);
    }
}
