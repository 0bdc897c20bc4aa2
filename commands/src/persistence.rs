//! RDB persistence commands: SAVE, LASTSAVE, DUMP, RESTORE, and the helpers
//! the server uses to load `dump.rdb` at start-up and to save on SHUTDOWN.
//!
//! A save writes `temp-<pid>.rdb` in `dir`, fsyncs it and renames it over
//! `dbfilename`, so a crash mid-save never leaves a half-written dump: the
//! previous file stays until the new one is complete on disk.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use persistence::rdb;
use resp::Reply;
use storage::Locked;

use crate::command;
use crate::ctx::Ctx;
use crate::error::{err, NOT_INTEGER, SYNTAX};
use crate::notify::class;
use crate::parse::eq;
use crate::registry::Locking;
use crate::state::Server;

/// RDB figures for INFO persistence.
#[derive(Debug)]
pub struct RdbState {
    /// Successful saves since start (`rdb_saves`).
    pub saves: AtomicU64,
    /// Whether the last save succeeded (`rdb_last_bgsave_status`).
    pub last_save_ok: AtomicBool,
    /// Keys loaded and keys skipped as expired by the start-up load.
    pub last_load_keys_loaded: AtomicU64,
    pub last_load_keys_expired: AtomicU64,
}

impl Default for RdbState {
    fn default() -> Self {
        RdbState {
            saves: AtomicU64::new(0),
            last_save_ok: AtomicBool::new(true),
            last_load_keys_loaded: AtomicU64::new(0),
            last_load_keys_expired: AtomicU64::new(0),
        }
    }
}

/// `dir`/`dbfilename`.
pub fn rdb_path(server: &Server) -> PathBuf {
    server
        .config
        .read(|v| PathBuf::from(&v.dir).join(&v.dbfilename))
}

/// Writes the whole keyspace to `dbfilename` in `dir`, following
/// `rdbcompression` and `rdbchecksum`. `locked` must hold
/// every shard of every database (SAVE's `Locking::AllDbs`, or
/// `Store::lock_all`). Resets the change counter and sets LASTSAVE on
/// success; returns the number of keys written.
pub fn save_locked(server: &Server, locked: &mut Locked<'_>) -> Result<u64, String> {
    let path = rdb_path(server);
    let dir = path.parent().map(PathBuf::from).unwrap_or_default();
    let tmp = dir.join(format!("temp-{}.rdb", std::process::id()));
    let used = (server.memory)().allocated;
    let opts = server.config.read(|v| v.rdb_save_options());
    let result = (|| -> std::io::Result<u64> {
        let f = std::fs::File::create(&tmp)?;
        let w = std::io::BufWriter::with_capacity(1 << 16, f);
        let (w, keys) = rdb::write_store(w, locked, &rdb::default_aux(used, false), opts)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &path)?;
        // Make the rename itself durable.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(keys)
    })();
    match result {
        Ok(keys) => {
            server.stats.mark_saved(server.stats.dirty.get());
            server
                .last_save
                .store(storage::clock::system_now_ms() / 1000, Ordering::Relaxed);
            server.rdb.saves.fetch_add(1, Ordering::Relaxed);
            server.rdb.last_save_ok.store(true, Ordering::Relaxed);
            tracing::info!("DB saved on disk ({keys} keys)");
            Ok(keys)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            server.rdb.last_save_ok.store(false, Ordering::Relaxed);
            let msg = format!("Failed saving the DB to {}: {e}", path.display());
            tracing::warn!("{msg}");
            Err(msg)
        }
    }
}

/// Saves holding every shard: what SHUTDOWN does before exiting.
pub fn save_now(server: &Server) -> Result<u64, String> {
    let mut locked = server.store.lock_all();
    save_locked(server, &mut locked)
}

/// Loads `dir`/`dbfilename` into the store if it exists: the start-up load.
/// `Ok(None)` when there is no file; an error names the file and the problem,
/// and the store is left untouched (the caller refuses to start).
pub fn load_on_start(server: &Server) -> Result<Option<rdb::LoadStats>, String> {
    let path = rdb_path(server);
    let f = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("can't open {}: {e}", path.display())),
    };
    let stats = rdb::load(f, &server.store)
        .map_err(|e| format!("error loading {}: {e}", path.display()))?;
    let loaded = stats.keys - stats.empty_skipped - stats.expired_skipped;
    server
        .rdb
        .last_load_keys_loaded
        .store(loaded, Ordering::Relaxed);
    server
        .rdb
        .last_load_keys_expired
        .store(stats.expired_skipped, Ordering::Relaxed);
    Ok(Some(stats))
}

// ---------------------------------------------------------------------------
// SAVE, LASTSAVE

command!(
    SAVE,
    "Writes the dataset to disk synchronously.",
    save,
    Locking::AllDbs
);

/// SAVE
///
/// Holds every shard for the whole write, so the file is an exact point in
/// time and no client runs meanwhile, as in Redis.
fn save(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if ctx.server.bgsave.in_progress() {
        return err("ERR Background save already in progress");
    }
    match save_locked(ctx.server, &mut ctx.ks) {
        Ok(_) => Reply::ok(),
        Err(_) => err("ERR"),
    }
}

command!(
    LASTSAVE,
    "Returns the Unix time of the last successful save.",
    lastsave,
    Locking::None
);

/// LASTSAVE
fn lastsave(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Integer(ctx.server.last_save.load(Ordering::Relaxed))
}

// ---------------------------------------------------------------------------
// DUMP, RESTORE

command!(
    DUMP,
    "Serializes a key's value in Redis's DUMP format.",
    dump
);

/// DUMP key
///
/// The payload is the value's RDB encoding, the RDB version (11) and a
/// CRC-64, byte-compatible with Redis 7.2. Long strings are LZF-compressed
/// only with `rdbcompression yes`, as in Redis; the CRC is always there
/// (`rdbchecksum` is about files).
fn dump(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let compress = ctx.server.config.read(|v| v.rdbcompression);
    match ctx.ks.get_read(db, &args[1]) {
        Some(e) => Reply::bulk(rdb::dump_payload_with(&e.value, rdb::RDB_VERSION, compress)),
        None => Reply::Null,
    }
}

command!(RESTORE, "Creates a key from a DUMP payload.", restore);

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
/// [FREQ frequency]
///
/// `ttl` is milliseconds (0: no deadline), or a Unix time in ms with ABSTTL;
/// a deadline already past deletes the key (under REPLACE) and stores
/// nothing. IDLETIME sets the access time OBJECT IDLETIME reports; FREQ is
/// checked and accepted (Ferrum keeps no LFU counter). Checks run in Redis's
/// order: options, BUSYKEY, TTL, payload checksum, payload contents.
fn restore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (mut replace, mut absttl) = (false, false);
    let mut idle: Option<i64> = None;
    let mut freq: Option<i64> = None;
    let mut i = 4;
    while i < args.len() {
        let a = &args[i];
        let more = i + 1 < args.len();
        if eq(a, "replace") {
            replace = true;
        } else if eq(a, "absttl") {
            absttl = true;
        } else if eq(a, "idletime") && more && freq.is_none() {
            match storage::value::parse_canonical_i64(&args[i + 1]) {
                Some(n) if n >= 0 => idle = Some(n),
                Some(_) => return err("ERR Invalid IDLETIME value, must be >= 0"),
                None => return err(NOT_INTEGER),
            }
            i += 1;
        } else if eq(a, "freq") && more && idle.is_none() {
            match storage::value::parse_canonical_i64(&args[i + 1]) {
                Some(n) if (0..=255).contains(&n) => freq = Some(n),
                Some(_) => return err("ERR Invalid FREQ value, must be >= 0 and <= 255"),
                None => return err(NOT_INTEGER),
            }
            i += 1;
        } else {
            return err(SYNTAX);
        }
        i += 1;
    }
    let db = ctx.db();
    let key = &args[1];
    if !replace && ctx.ks.get(db, key).is_some() {
        return err("BUSYKEY Target key name already exists.");
    }
    let ttl = match storage::value::parse_canonical_i64(&args[2]) {
        Some(n) if n >= 0 => n,
        Some(_) => return err("ERR Invalid TTL value, must be >= 0"),
        None => return err(NOT_INTEGER),
    };
    let limits = ctx.server.store.limits.get();
    let value = match rdb::restore_payload_with(&args[3], &limits) {
        Ok(v) => v,
        Err(rdb::RdbError::BadPayload) => {
            return err("ERR DUMP payload version or checksum are wrong")
        }
        Err(_) => return err("ERR Bad data format"),
    };
    let now = ctx.now();
    let deadline = match ttl {
        0 => None,
        t if absttl => Some(t),
        t => Some(t.saturating_add(now)),
    };
    let deleted = replace && ctx.ks.remove(db, key).is_some();
    if deadline.is_some_and(|at| at <= now) {
        // Already expired: Redis stores nothing, and a replaced key is gone.
        if deleted {
            ctx.signal(class::GENERIC, "del", key);
            ctx.dirty(1);
        }
        return Reply::ok();
    }
    ctx.ks.set_with_expire(db, key, value, deadline);
    if let Some(idle) = idle {
        if let Some(e) = ctx.ks.get(db, key) {
            let at = now.saturating_sub(idle.saturating_mul(1000));
            e.lru = storage::keyspace::lru_clock(at);
        }
    }
    let _ = freq;
    if !deleted {
        ctx.created(db, key);
    }
    ctx.signal(class::GENERIC, "restore", key);
    ctx.dirty(1);
    Reply::ok()
}

/// Parses `save`'s value: `<seconds> <changes>` pairs separated by spaces,
/// or nothing (no automatic saves).
pub fn parse_save_points(s: &str) -> Result<Vec<(u64, u64)>, String> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if !parts.len().is_multiple_of(2) {
        return Err("Invalid save parameters".into());
    }
    parts
        .chunks(2)
        .map(|p| match (p[0].parse::<u64>(), p[1].parse::<u64>()) {
            (Ok(secs), Ok(changes)) if secs <= i32::MAX as u64 && changes <= i32::MAX as u64 => {
                Ok((secs, changes))
            }
            _ => Err("Invalid save parameters".into()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_points_parse_as_redis_reads_them() {
        assert_eq!(parse_save_points("").unwrap(), vec![]);
        assert_eq!(
            parse_save_points("3600 1 300 100 60 10000").unwrap(),
            vec![(3600, 1), (300, 100), (60, 10000)]
        );
        assert!(parse_save_points("3600").is_err());
        assert!(parse_save_points("a 1").is_err());
        assert!(parse_save_points("-1 1").is_err());
    }
}
