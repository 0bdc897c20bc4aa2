//! The propagation stream: one total order of the writes, for the AOF (and
//! later replication).
//!
//! After a write command runs, and while it still holds its shard locks, its
//! effect is appended to the stream as RESP commands rewritten for
//! deterministic replay, as Redis's `propagate`/`alsoPropagate` do:
//!
//! - relative expiries become absolute: `SET k v EX 10` and `SETEX` become
//!   `SET k v PXAT <ms>`; `EXPIRE`, `PEXPIRE`, `EXPIREAT` and `GETEX EX`
//!   become `PEXPIREAT k <ms>` (or `DEL k` when the deadline is already past);
//! - keys deleted by lazy or active expiry become `DEL k`;
//! - blocking pops that were served become their non-blocking form (`BLPOP`
//!   → `LPOP k`, `BLMOVE` → `LMOVE`, `BZPOPMIN` → `ZPOPMIN k`, `[B]LMPOP` →
//!   `LPOP k n`, ...), and non-deterministic commands become what they did
//!   (`SPOP` → `SREM`, `INCRBYFLOAT` → `SET k v KEEPTTL`, `GETDEL` → `DEL`).
//!
//! A command may also replace its propagated form itself with
//! [`Ctx::propagate_as`]. Otherwise the original arguments are propagated when
//! the command has the `write` flag and reported a change ([`Ctx::dirty`] or
//! [`Ctx::modified`]); no-op writes propagate nothing.
//!
//! Records of one command (and of the blocked clients it served, and of every
//! command of a transaction) collect in a per-thread buffer while the
//! dispatcher runs synchronously; the dispatcher hands them to the sinks
//! before it releases its locks, so two writes that touch a common key reach
//! the stream in their execution order. A transaction is written as
//! `MULTI ... EXEC` in one piece. `SELECT` is the sinks' business: each emits
//! it when the database changes between records.
//!
//! All of this is skipped while no sink is attached: the cost is then one
//! relaxed atomic load per command.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::RwLock;
use resp::Reply;
use storage::Locked;

use crate::command;
use crate::ctx::Ctx;
use crate::meta::flags;
use crate::registry::{Entry, Locking};
use crate::state::Server;

/// One propagated command: the database it applies to and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub db: usize,
    pub args: Vec<Bytes>,
}

impl Record {
    fn new(db: usize, args: Vec<Bytes>) -> Record {
        Record { db, args }
    }
}

/// A future a sink returns for a durability wait.
pub type WaitFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// A consumer of the stream (the AOF; later a replication backlog).
pub trait Sink: Send + Sync {
    /// Appends `records`, in order, as one unit. Called with the writers'
    /// shard locks held: it must not block for long (buffer, do not fsync).
    /// `epoch` is the snapshot epoch of the view that ran them
    /// ([`storage::Locked::epoch`]), for a consumer that needs to know which
    /// side of a snapshot's cut they fall on (the AOF rewrite). Returns a
    /// ticket the client's reply must wait for (0: none).
    fn feed(&self, epoch: u64, records: &[Record]) -> u64;
    /// Resolves once `ticket` is as durable as the sink's policy promises
    /// before replying; an error means the write could not be made durable.
    fn wait(&self, ticket: u64) -> WaitFuture<'_>;
    /// The latest ticket handed out (a served blocked client waits for it).
    fn last_ticket(&self) -> u64;
    /// Set while writes must be refused (Redis's MISCONF), with the reason.
    fn write_error(&self) -> Option<String>;
}

/// AOF status and control as seen from the command layer (the persistence
/// crate implements it): BGREWRITEAOF, INFO persistence, CONFIG SET appendonly.
pub trait AofControl: Send + Sync {
    /// Starts a background rewrite; the reply BGREWRITEAOF sends.
    fn rewrite(&self, server: &Server) -> Result<&'static str, String>;
    /// The `aof_*` INFO persistence fields, in Redis's order.
    fn info(&self) -> Vec<(&'static str, String)>;
    /// CONFIG SET appendonly yes|no at runtime.
    fn set_enabled(&self, server: &Server, on: bool) -> Result<(), String>;
}

/// The server-wide stream and its sinks.
#[derive(Default)]
pub struct Propagation {
    active: AtomicBool,
    sinks: RwLock<Vec<Arc<dyn Sink>>>,
    control: RwLock<Option<Arc<dyn AofControl>>>,
}

impl std::fmt::Debug for Propagation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Propagation")
            .field("active", &self.is_active())
            .finish()
    }
}

impl Propagation {
    /// True while any sink consumes the stream.
    #[inline]
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// Attaches a sink. To start from a consistent point, attach it while
    /// holding every shard (`Store::lock_all`), as the AOF does.
    pub fn attach(&self, sink: Arc<dyn Sink>) {
        let mut sinks = self.sinks.write();
        sinks.push(sink);
        self.active.store(true, Ordering::Relaxed);
    }

    /// Detaches `sink` (compared by address).
    pub fn detach(&self, sink: &Arc<dyn Sink>) {
        let mut sinks = self.sinks.write();
        sinks.retain(|s| !Arc::ptr_eq(s, sink));
        self.active.store(!sinks.is_empty(), Ordering::Relaxed);
    }

    /// Installs the AOF's control (BGREWRITEAOF, INFO, CONFIG SET appendonly).
    pub fn set_control(&self, control: Arc<dyn AofControl>) {
        *self.control.write() = Some(control);
    }

    /// The AOF's control, when the persistence layer installed one.
    pub fn control(&self) -> Option<Arc<dyn AofControl>> {
        self.control.read().clone()
    }

    /// Hands `records` to every sink as one unit; returns the largest ticket.
    pub fn emit(&self, epoch: u64, records: &[Record]) -> u64 {
        if records.is_empty() {
            return 0;
        }
        let sinks = self.sinks.read();
        sinks
            .iter()
            .map(|s| s.feed(epoch, records))
            .max()
            .unwrap_or(0)
    }

    /// Waits until `ticket` is durable in every sink.
    pub async fn wait_durable(&self, ticket: u64) -> Result<(), String> {
        let sinks: Vec<Arc<dyn Sink>> = self.sinks.read().clone();
        for s in sinks {
            s.wait(ticket).await?;
        }
        Ok(())
    }

    /// The latest ticket of any sink.
    pub fn last_ticket(&self) -> u64 {
        if !self.is_active() {
            return 0;
        }
        let sinks = self.sinks.read();
        sinks.iter().map(|s| s.last_ticket()).max().unwrap_or(0)
    }

    /// The reason writes are refused, if a sink cannot write.
    pub fn write_error(&self) -> Option<String> {
        if !self.is_active() {
            return None;
        }
        let sinks = self.sinks.read();
        sinks.iter().find_map(|s| s.write_error())
    }
}

// ---------------------------------------------------------------------------
// The per-thread buffer of the command being run

#[derive(Default)]
struct Pending {
    /// Records of the current unit (command, or transaction), in order.
    records: Vec<Record>,
    /// Changes the current command reported.
    changed: u64,
    /// What the current command asked to propagate instead of its arguments.
    replaced: Option<Vec<Record>>,
    /// The largest ticket handed out on this thread since the connection
    /// last asked ([`take_ticket`]).
    ticket: u64,
}

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
}

/// Called before a handler runs.
#[inline]
pub(crate) fn begin(server: &Server) {
    if !server.propagation.is_active() {
        return;
    }
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        p.changed = 0;
        p.replaced = None;
    });
}

/// Counts changes the running command made (from `Ctx::dirty` and
/// `Ctx::modified`).
#[inline]
pub(crate) fn changed(server: &Server, n: u64) {
    if server.propagation.is_active() {
        PENDING.with(|p| p.borrow_mut().changed += n.max(1));
    }
}

/// Keys lazy expiry deleted: each becomes `DEL key`, ahead of the records of
/// the command that found them stale.
pub(crate) fn expired_keys(server: &Server, keys: &[(usize, storage::Key)]) {
    if !server.propagation.is_active() {
        return;
    }
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        for (db, key) in keys {
            p.records.push(del(*db, key.as_bytes()));
        }
    });
}

/// Active expiry deleted `key` (called with its shard locked): propagated
/// as `DEL key` at once, as a unit of its own.
pub fn active_expired(server: &Server, db: usize, key: &[u8], epoch: u64) {
    if server.propagation.is_active() {
        server.propagation.emit(epoch, &[del(db, key)]);
    }
}

/// The largest durability ticket handed out on this thread since the last
/// call; the connection waits for it before writing its replies. Call it
/// right after `dispatch`, before any `.await` (the buffer is per thread).
pub fn take_ticket() -> u64 {
    PENDING.with(|p| std::mem::take(&mut p.borrow_mut().ticket))
}

fn del(db: usize, key: &[u8]) -> Record {
    Record::new(
        db,
        vec![Bytes::from_static(b"DEL"), Bytes::copy_from_slice(key)],
    )
}

/// Called after a handler ran, on the view it ran on: lazily expired keys
/// first, then the command's own records.
pub(crate) fn after_handler(
    server: &Server,
    db: usize,
    entry: &Entry,
    args: &[Bytes],
    reply: &Reply,
    ks: &mut Locked<'_>,
) {
    if !server.propagation.is_active() {
        return;
    }
    crate::observers::flush_expired(server, ks);
    let (changed, replaced) = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        (std::mem::take(&mut p.changed), p.replaced.take())
    });
    let records = match replaced {
        Some(r) => r,
        None if changed > 0 && entry.has(flags::WRITE) && !reply.is_error() => {
            rewrite(db, entry, args, reply, ks)
        }
        None => return,
    };
    PENDING.with(|p| p.borrow_mut().records.extend(records));
}

/// Hands the buffered records to the sinks; a transaction (`wrap`) with more
/// than one record is written as `MULTI ... EXEC`. Called before the locks
/// are released; `epoch` is the view's ([`storage::Locked::epoch`]).
pub(crate) fn flush(server: &Server, wrap: bool, epoch: u64) {
    if !server.propagation.is_active() {
        return;
    }
    let mut records = PENDING.with(|p| std::mem::take(&mut p.borrow_mut().records));
    if records.is_empty() {
        return;
    }
    if wrap && records.len() > 1 {
        let db = records[0].db;
        let last = records[records.len() - 1].db;
        records.insert(0, Record::new(db, vec![Bytes::from_static(b"MULTI")]));
        records.push(Record::new(last, vec![Bytes::from_static(b"EXEC")]));
    }
    let ticket = server.propagation.emit(epoch, &records);
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        p.ticket = p.ticket.max(ticket);
    });
}

/// Drops whatever a command that did not finish (a panicking handler) left
/// in the buffer.
pub(crate) fn discard_pending(server: &Server) {
    if !server.propagation.is_active() {
        return;
    }
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        p.records.clear();
        p.replaced = None;
        p.changed = 0;
    });
}

/// Redis's MISCONF refusal of write commands (and PING) while the AOF
/// cannot be written.
pub(crate) fn refuse_write(server: &Server, entry: &Entry) -> Option<Reply> {
    if !server.propagation.is_active() || !(entry.has(flags::WRITE) || entry.full_name == "ping") {
        return None;
    }
    let reason = server.propagation.write_error()?;
    Some(Reply::error(format!(
        "MISCONF Errors writing to the AOF file: {reason}"
    )))
}

impl Ctx<'_, '_> {
    /// Propagates `args` (in the selected database) instead of the
    /// command's own arguments; may be called more than once to propagate
    /// several commands, in order (Redis's alsoPropagate). Costs nothing
    /// while nothing consumes the stream.
    pub fn propagate_as(&mut self, args: Vec<Bytes>) {
        if !self.server.propagation.is_active() {
            return;
        }
        let db = self.db();
        PENDING.with(|p| {
            p.borrow_mut()
                .replaced
                .get_or_insert_with(Vec::new)
                .push(Record::new(db, args))
        });
    }
}

// ---------------------------------------------------------------------------
// Rewrites for deterministic replay

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

fn num(n: i64) -> Bytes {
    Bytes::from(n.to_string())
}

fn bulk(r: &Reply) -> Option<Bytes> {
    match r {
        Reply::Bulk(b) => Some(b.clone()),
        _ => None,
    }
}

fn array(r: &Reply) -> Option<&[Reply]> {
    match r {
        Reply::Array(a) => Some(a),
        _ => None,
    }
}

fn int_arg(a: &[u8]) -> i64 {
    std::str::from_utf8(a)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The absolute deadline an `EX|PX|EXAT|PXAT n` option pair names, with `now`.
fn deadline(opt: &[u8], n: &[u8], now: i64) -> Option<i64> {
    let n = int_arg(n);
    let o = opt.to_ascii_lowercase();
    Some(match o.as_slice() {
        b"ex" => now.saturating_add(n.saturating_mul(1000)),
        b"px" => now.saturating_add(n),
        b"exat" => n.saturating_mul(1000),
        b"pxat" => n,
        _ => return None,
    })
}

/// `PEXPIREAT key <deadline>` from the key's state after the command, or
/// `DEL key` when the command deleted it (a deadline already past).
fn absolute_expiry(db: usize, key: &Bytes, ks: &mut Locked<'_>) -> Vec<Record> {
    if ks.key_state(db, key).is_none() {
        return vec![del(db, key)];
    }
    match ks.expire_at(db, key) {
        Some(at) => vec![Record::new(db, vec![b("PEXPIREAT"), key.clone(), num(at)])],
        None => vec![Record::new(db, vec![b("PERSIST"), key.clone()])],
    }
}

/// The records that replay what `entry` did, as Redis 7 rewrites them.
fn rewrite(
    db: usize,
    entry: &Entry,
    args: &[Bytes],
    reply: &Reply,
    ks: &mut Locked<'_>,
) -> Vec<Record> {
    let now = ks.now;
    let one = |a: Vec<Bytes>| vec![Record::new(db, a)];
    let name = entry.full_name.as_str();
    let rewritten = match name {
        "set" => (3..args.len().saturating_sub(1))
            .find_map(|i| {
                let o = args[i].to_ascii_lowercase();
                (o == b"ex" || o == b"px" || o == b"exat")
                    .then(|| deadline(&args[i], &args[i + 1], now))
                    .flatten()
            })
            .map(|at| {
                one(vec![
                    b("SET"),
                    args[1].clone(),
                    args[2].clone(),
                    b("PXAT"),
                    num(at),
                ])
            }),
        "setex" | "psetex" => {
            let unit: &[u8] = if name == "setex" { b"ex" } else { b"px" };
            deadline(unit, &args[2], now).map(|at| {
                one(vec![
                    b("SET"),
                    args[1].clone(),
                    args[3].clone(),
                    b("PXAT"),
                    num(at),
                ])
            })
        }
        "expire" | "pexpire" | "expireat" | "pexpireat" => Some(absolute_expiry(db, &args[1], ks)),
        "getex" => {
            let persist = args[2..].iter().any(|a| a.eq_ignore_ascii_case(b"persist"));
            if persist {
                Some(one(vec![b("PERSIST"), args[1].clone()]))
            } else {
                Some(absolute_expiry(db, &args[1], ks))
            }
        }
        "getdel" => Some(one(vec![b("DEL"), args[1].clone()])),
        "incrbyfloat" => bulk(reply).map(|v| one(vec![b("SET"), args[1].clone(), v, b("KEEPTTL")])),
        "hincrbyfloat" => {
            bulk(reply).map(|v| one(vec![b("HSET"), args[1].clone(), args[2].clone(), v]))
        }
        "spop" => {
            let members: Vec<Bytes> = match reply {
                Reply::Bulk(m) => vec![m.clone()],
                Reply::Array(a) | Reply::Set(a) => a.iter().filter_map(bulk).collect(),
                _ => Vec::new(),
            };
            if members.is_empty() {
                return Vec::new();
            }
            let mut a = vec![b("SREM"), args[1].clone()];
            a.extend(members);
            Some(one(a))
        }
        "blpop" | "brpop" => array(reply)
            .and_then(|a| a.first())
            .and_then(bulk)
            .map(|k| one(vec![b(if name == "blpop" { "LPOP" } else { "RPOP" }), k])),
        "brpoplpush" => Some(one(vec![b("RPOPLPUSH"), args[1].clone(), args[2].clone()])),
        "blmove" => Some(one(vec![
            b("LMOVE"),
            args[1].clone(),
            args[2].clone(),
            args[3].clone(),
            args[4].clone(),
        ])),
        "bzpopmin" | "bzpopmax" => array(reply)
            .and_then(|a| a.first())
            .and_then(bulk)
            .map(|k| {
                one(vec![
                    b(if name == "bzpopmin" {
                        "ZPOPMIN"
                    } else {
                        "ZPOPMAX"
                    }),
                    k,
                ])
            }),
        "lmpop" | "blmpop" | "zmpop" | "bzmpop" => {
            let a = array(reply).unwrap_or(&[]);
            match (a.first().and_then(bulk), a.get(1).and_then(array)) {
                (Some(key), Some(items)) => {
                    let list = name.ends_with("lmpop");
                    let left = args
                        .iter()
                        .any(|x| x.eq_ignore_ascii_case(b"left") || x.eq_ignore_ascii_case(b"min"));
                    let cmd = match (list, left) {
                        (true, true) => "LPOP",
                        (true, false) => "RPOP",
                        (false, true) => "ZPOPMIN",
                        (false, false) => "ZPOPMAX",
                    };
                    Some(one(vec![b(cmd), key, num(items.len() as i64)]))
                }
                _ => return Vec::new(),
            }
        }
        _ => None,
    };
    rewritten.unwrap_or_else(|| one(args.to_vec()))
}

// ---------------------------------------------------------------------------
// BGREWRITEAOF

command!(
    BGREWRITEAOF,
    "Rewrites the append-only file in the background.",
    bgrewriteaof,
    Locking::None
);

/// BGREWRITEAOF
///
/// Writes a new base file from a point-in-time view while new writes go to
/// a new incremental file, then switches the manifest.
fn bgrewriteaof(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let Some(control) = ctx.server.propagation.control() else {
        return Reply::error("ERR Background append only file rewriting is not available");
    };
    match control.rewrite(ctx.server) {
        Ok(text) => Reply::simple(text),
        Err(e) => Reply::error(e),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use parking_lot::Mutex;
    use resp::Protocol;
    use storage::Clock;

    use super::*;
    use crate::client::{Client, ClientInfo};
    use crate::config::Values;

    const T0: i64 = 1_700_000_000_000;

    #[derive(Default)]
    struct Capture(Mutex<Vec<Vec<String>>>);

    impl Sink for Capture {
        fn feed(&self, _epoch: u64, records: &[Record]) -> u64 {
            let mut v = self.0.lock();
            for r in records {
                let mut line = vec![r.db.to_string()];
                line.extend(
                    r.args
                        .iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned()),
                );
                v.push(line);
            }
            v.len() as u64
        }
        fn wait(&self, _ticket: u64) -> WaitFuture<'_> {
            Box::pin(async { Ok(()) })
        }
        fn last_ticket(&self) -> u64 {
            0
        }
        fn write_error(&self) -> Option<String> {
            None
        }
    }

    fn setup() -> (Server, Client, Arc<Capture>) {
        let server = Server::new(Values::default(), None, Clock::manual(T0));
        let cap = Arc::new(Capture::default());
        server.propagation.attach(cap.clone());
        let info = Arc::new(ClientInfo::new(1, "a".into(), "b".into(), 0, T0));
        (server, Client::new(info, true), cap)
    }

    fn run(server: &Server, client: &mut Client, cmd: &str) -> String {
        let args: Vec<Bytes> = cmd
            .split(' ')
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        let reply = crate::dispatch(server, client, &args).into_reply();
        String::from_utf8_lossy(&reply.to_vec(Protocol::Resp2)).into_owned()
    }

    fn taken(cap: &Capture) -> Vec<String> {
        std::mem::take(&mut *cap.0.lock())
            .into_iter()
            .map(|l| l.join(" "))
            .collect()
    }

    /// Relative expiries become absolute, non-deterministic commands become
    /// what they did, and no-op writes and reads propagate nothing.
    #[test]
    fn rewrites_for_deterministic_replay() {
        let (s, mut c, cap) = setup();
        run(&s, &mut c, "SET k v EX 10");
        run(&s, &mut c, "SETEX k2 5 v");
        run(&s, &mut c, "EXPIRE k 100");
        run(&s, &mut c, "GET k");
        run(&s, &mut c, "SET k v2 NX");
        run(&s, &mut c, "EXPIRE missing 10");
        run(&s, &mut c, "INCRBYFLOAT f 1.5");
        run(&s, &mut c, "GETDEL k2");
        run(&s, &mut c, "SADD s a");
        run(&s, &mut c, "SPOP s");
        run(&s, &mut c, "RPUSH l a b c");
        run(&s, &mut c, "LMPOP 1 l RIGHT COUNT 2");
        run(&s, &mut c, "EXPIRE l -1");
        assert_eq!(
            taken(&cap),
            vec![
                format!("0 SET k v PXAT {}", T0 + 10_000),
                format!("0 SET k2 v PXAT {}", T0 + 5_000),
                format!("0 PEXPIREAT k {}", T0 + 100_000),
                "0 SET f 1.5 KEEPTTL".to_string(),
                "0 DEL k2".to_string(),
                "0 SADD s a".to_string(),
                "0 SREM s a".to_string(),
                "0 RPUSH l a b c".to_string(),
                "0 RPOP l 2".to_string(),
                "0 DEL l".to_string(),
            ]
        );
    }

    /// A key lazy expiry deletes is propagated as DEL before the command
    /// that found it stale; a transaction is one MULTI ... EXEC unit with
    /// its database.
    #[test]
    fn lazy_expiry_and_transactions() {
        let (s, mut c, cap) = setup();
        run(&s, &mut c, "SET k v PX 10");
        s.store.clock.advance(20);
        assert_eq!(run(&s, &mut c, "GET k"), "$-1\r\n");
        run(&s, &mut c, "SELECT 3");
        run(&s, &mut c, "MULTI");
        run(&s, &mut c, "SET a 1");
        run(&s, &mut c, "INCR a");
        run(&s, &mut c, "GET a");
        assert_eq!(run(&s, &mut c, "EXEC"), "*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n");
        assert_eq!(
            taken(&cap),
            vec![
                format!("0 SET k v PXAT {}", T0 + 10),
                "0 DEL k".to_string(),
                "3 MULTI".to_string(),
                "3 SET a 1".to_string(),
                "3 INCR a".to_string(),
                "3 EXEC".to_string(),
            ]
        );
    }

    /// Nothing is recorded while no sink is attached.
    #[test]
    fn inactive_without_sinks() {
        let (s, mut c, cap) = setup();
        let sink: Arc<dyn Sink> = cap.clone();
        s.propagation.detach(&sink);
        assert!(!s.propagation.is_active());
        run(&s, &mut c, "SET k v");
        assert!(taken(&cap).is_empty());
        assert_eq!(take_ticket(), 0);
    }
}
