//! BGSAVE: an RDB snapshot written in the background while clients keep
//! reading and writing, without fork.
//!
//! `BGSAVE [SCHEDULE]` marks a save as running and wakes the server's cron
//! task, which starts a `bgsave` thread (the handler only has a borrowed
//! `Server`; the task owns an `Arc`). The thread takes a point-in-time
//! snapshot of the keyspace with [`storage::Store::snapshot`]: shards are
//! serialized one at a time, by the walker or by the first command that locks
//! a shard not yet captured, each into its own buffer of RDB records (in
//! the capturing thread, under that shard's lock: the shard changes right
//! after). The buffers go through a queue to a writer thread, the only one
//! doing file I/O, which appends them to `temp-bgsave-<pid>.rdb`; no thread
//! waits on the disk while holding a shard lock, so a slow disk (or the
//! kernel throttling dirty pages) never stalls commands. Extra memory is the
//! encoded bytes queued: the walker waits between shards, holding no lock,
//! while more than 16 MiB are queued; commands only past 256 MiB (whole-
//! keyspace commands like FLUSHALL capture everything left at once). No copy
//! of the dataset, no copy-on-write pages. The file is then
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
use parking_lot::{Condvar, Mutex};
use persistence::rdb;
use resp::Reply;
use storage::{SnapEntry, SnapshotSink};

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
    let dirty = server.stats.changes_since_save();
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
            background_priority();
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
            server.stats.mark_saved(r.dirty_at_start);
            server.last_save.store(now_ms / 1000, Ordering::Relaxed);
            server.rdb.saves.fetch_add(1, Ordering::Relaxed);
            server.rdb.last_save_ok.store(true, Ordering::Relaxed);
            b.last_peak_in_flight
                .store(r.peak_in_flight, Ordering::Relaxed);
            tracing::info!(
                "Background saving terminated with success ({} keys, {} bytes, {} keys captured by commands before changing them, peak {} bytes in flight)",
                r.report.keys,
                r.bytes,
                r.report.by_commands,
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
    let dirty_at_start = server.stats.dirty.get();
    let r = write_snapshot_file(
        server,
        tmp,
        SnapshotFormat::Rdb(rdb::default_aux(used, false)),
        |_| {},
    )?;
    std::fs::rename(tmp, path)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(SaveReport {
        report: r.report,
        bytes: r.bytes,
        peak_in_flight: r.peak_in_flight,
        dirty_at_start,
    })
}

/// What [`write_snapshot_file`] writes.
pub enum SnapshotFormat {
    /// An RDB file with these auxiliary fields (BGSAVE, or an AOF base with
    /// the RDB preamble).
    Rdb(Vec<(&'static str, Vec<u8>)>),
    /// AOF commands rebuilding every key (an AOF base without preamble).
    Commands,
}

/// What [`write_snapshot_file`] did.
#[derive(Debug, Clone, Copy)]
pub struct FileReport {
    pub report: storage::SnapshotReport,
    /// File size.
    pub bytes: u64,
    /// Largest encoded bytes held in memory at once.
    pub peak_in_flight: u64,
}

/// Writes a point-in-time snapshot of the keyspace to `tmp` (created,
/// written, fsynced; the caller renames it), blocking: BGSAVE's file and the
/// AOF rewrite's base. `at_cut(epoch)` runs at the snapshot's cut (see
/// [`storage::Store::snapshot_with`]). Fails with "already in progress" if
/// another snapshot runs. An RDB file follows `rdbcompression` and
/// `rdbchecksum` as they are when the save starts.
pub fn write_snapshot_file(
    server: &Server,
    tmp: &std::path::Path,
    format: SnapshotFormat,
    at_cut: impl FnOnce(u64),
) -> io::Result<FileReport> {
    let save_opts = server.config.read(|v| v.rdb_save_options());
    let file = BufWriter::with_capacity(1 << 20, File::create(tmp)?);
    let (out, commands) = match format {
        SnapshotFormat::Rdb(aux) => {
            let mut w = rdb::Writer::new(file);
            w.set_options(save_opts);
            w.write_header(&aux)?;
            (Out::Rdb(w), false)
        }
        SnapshotFormat::Commands => (Out::Plain(file), true),
    };
    let limits = server.store.limits.get();
    let sink = Arc::new(FileSink {
        queue: Mutex::new(Queue::default()),
        cv: Condvar::new(),
        commands,
        compress: save_opts.compression,
        list_fill: limits.list_max_listpack_size,
        stale_before: storage::clock::system_now_ms(),
        sizes: (0..server.store.databases())
            .map(|db| {
                let (keys, volatile) = server.store.estimated_len(db);
                Mutex::new((keys > 0).then_some((keys as u64, volatile as u64)))
            })
            .collect(),
        peak_in_flight: AtomicU64::new(0),
    });
    // The file writer: the only thread doing file I/O, holding no lock
    // while it writes, so a slow disk never stalls a command.
    let writer = {
        let sink = sink.clone();
        std::thread::Builder::new()
            .name("snapshot-writer".into())
            .spawn(move || {
                background_priority();
                sink.drain(out)
            })?
    };
    let report = server.store.snapshot_with(sink.clone(), at_cut);
    {
        sink.queue.lock().closed = true;
        sink.cv.notify_all();
    }
    let (out, bytes) = writer
        .join()
        .map_err(|_| io::Error::other("the save's writer thread panicked"))??;
    let report = report.map_err(|e| io::Error::new(io::ErrorKind::ResourceBusy, e.to_string()))?;
    let f = match out {
        Out::Rdb(w) => w.finish()?,
        Out::Plain(mut w) => {
            std::io::Write::flush(&mut w)?;
            w
        }
    };
    let f = f.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    let bytes = f.metadata().map(|m| m.len()).unwrap_or(bytes);
    Ok(FileReport {
        report,
        bytes,
        peak_in_flight: sink.peak_in_flight.load(Ordering::Relaxed),
    })
}

/// The file a snapshot is written to.
enum Out {
    Rdb(rdb::Writer<BufWriter<File>>),
    Plain(BufWriter<File>),
}

impl Out {
    fn append(&mut self, chunk: &[u8]) -> io::Result<()> {
        match self {
            Out::Rdb(w) => w.write_raw(chunk),
            Out::Plain(w) => std::io::Write::write_all(w, chunk),
        }
    }
}

/// Lowers the calling thread's scheduling priority (nice 10), for the
/// threads that walk and write a snapshot: on a machine whose cores all
/// serve clients, the save then takes the time left over instead of
/// delaying requests (Redis's forked child competes at full priority).
/// Call it only on threads made for the save.
pub fn background_priority() {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    // SAFETY: gettid and setpriority take no pointers; a failure only leaves
    // the priority unchanged.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
    }
}

/// The walker waits before its next shard while more than this many encoded
/// bytes wait for the disk: the usual bound on the save's extra memory.
const WALKER_IN_FLIGHT: u64 = 16 << 20;

/// A command capturing a shard waits (holding its locks, but never on a
/// lock: the writer thread takes none) only past this much, which happens
/// only when whole-keyspace commands capture faster than the disk writes.
const COMMAND_IN_FLIGHT: u64 = 256 << 20;

/// Encoded chunks waiting for the writer thread.
#[derive(Default)]
struct Queue {
    /// Each chunk starts with a SELECTDB; `db` of the last one lets small
    /// captures of the same database join it.
    chunks: std::collections::VecDeque<Vec<u8>>,
    tail_db: Option<usize>,
    in_flight: u64,
    closed: bool,
    /// Set by the writer on an I/O error: captures then stop encoding.
    failed: bool,
}

/// A chunk still this small takes further captures of its database.
const JOIN_BELOW: usize = 64 << 10;

/// Encodes captured keys in the capturing thread (a walker chunk, a whole
/// shard, or a single key a command is about to change), as RDB records or
/// as AOF commands, and queues them for the writer thread. A database's keys
/// thus appear under several SELECTDB records (or SELECT commands), which
/// loaders (Redis's and ours) accept; in an RDB file the first chunk of each
/// database carries its RESIZEDB hint, estimated when the save started.
struct FileSink {
    queue: Mutex<Queue>,
    cv: Condvar,
    /// AOF commands instead of RDB records.
    commands: bool,
    /// `rdbcompression` for the records.
    compress: bool,
    list_fill: i64,
    /// Keys whose deadline passed before the snapshot started are left out,
    /// as SAVE leaves them out.
    stale_before: i64,
    /// Per database: (keys, volatile keys) when the save started, taken by
    /// the first chunk of the database.
    sizes: Vec<Mutex<Option<(u64, u64)>>>,
    peak_in_flight: AtomicU64,
}

impl FileSink {
    /// The records of `entries`, without a SELECTDB; None if all are stale.
    fn encode(&self, entries: &mut dyn Iterator<Item = SnapEntry<'_>>) -> Option<Vec<u8>> {
        let live = entries.filter(|(_, _, at)| !at.is_some_and(|at| at < self.stale_before));
        let mut any = false;
        if self.commands {
            let mut out = Vec::new();
            for (key, value, at) in live {
                persistence::aof::rewrite_entry(&mut out, key.as_bytes(), value, at);
                any = true;
            }
            return any.then_some(out);
        }
        let mut w = rdb::Writer::fragment(Vec::new());
        w.set_compression(self.compress);
        w.set_list_fill(self.list_fill);
        for (key, value, at) in live {
            // Encoding into a Vec cannot fail.
            let _ = w.write_entry(key.as_bytes(), value, at);
            any = true;
        }
        any.then(|| w.into_fragment())
    }

    /// SELECTDB for a new chunk of `db`, with the size hint the first time
    /// (SELECT for AOF commands).
    fn chunk_head(&self, db: usize) -> Vec<u8> {
        if self.commands {
            let mut out = Vec::new();
            persistence::aof::encode_command(
                &mut out,
                &[Bytes::from_static(b"SELECT"), Bytes::from(db.to_string())],
            );
            return out;
        }
        let mut w = rdb::Writer::fragment(Vec::new());
        let _ = match self.sizes.get(db).and_then(|s| s.lock().take()) {
            Some((keys, volatile)) => w.select_db(db, keys, volatile),
            None => w.select_db_only(db),
        };
        w.into_fragment()
    }
}

impl FileSink {
    /// The writer thread: appends queued chunks to the file in order until
    /// the snapshot is over; returns the writer and the bytes written.
    fn drain(&self, mut w: Out) -> io::Result<(Out, u64)> {
        let mut bytes = 0u64;
        loop {
            let chunk = {
                let mut q = self.queue.lock();
                loop {
                    if let Some(c) = q.chunks.pop_front() {
                        break c;
                    }
                    if q.closed {
                        return Ok((w, bytes));
                    }
                    self.cv.wait(&mut q);
                }
            };
            let result = w.append(&chunk);
            let mut q = self.queue.lock();
            q.in_flight -= chunk.len() as u64;
            self.cv.notify_all();
            if let Err(e) = result {
                q.failed = true;
                q.chunks.clear();
                q.in_flight = 0;
                return Err(e);
            }
            bytes += chunk.len() as u64;
        }
    }

    /// Waits while more than `limit` bytes are queued (never for a lock).
    fn wait_below(&self, limit: u64) {
        let mut q = self.queue.lock();
        while q.in_flight > limit && !q.failed {
            self.cv.wait(&mut q);
        }
    }
}

impl SnapshotSink for FileSink {
    fn capture(&self, db: usize, entries: &mut dyn Iterator<Item = SnapEntry<'_>>) {
        if self.queue.lock().failed {
            return;
        }
        let Some(body) = self.encode(entries) else {
            return;
        };
        self.wait_below(COMMAND_IN_FLIGHT);
        let mut q = self.queue.lock();
        if q.failed {
            return;
        }
        q.in_flight += body.len() as u64;
        self.peak_in_flight
            .fetch_max(q.in_flight, Ordering::Relaxed);
        let joins = q.tail_db == Some(db) && q.chunks.back().is_some_and(|c| c.len() < JOIN_BELOW);
        if joins {
            q.chunks
                .back_mut()
                .expect("tail chunk")
                .extend_from_slice(&body);
        } else {
            drop(q);
            let mut chunk = self.chunk_head(db);
            chunk.extend_from_slice(&body);
            let mut q = self.queue.lock();
            q.in_flight += (chunk.len() - body.len()) as u64;
            q.chunks.push_back(chunk);
            q.tail_db = Some(db);
        }
        self.cv.notify_all();
    }

    fn between_chunks(&self) {
        self.wait_below(WALKER_IN_FLIGHT);
    }
}
